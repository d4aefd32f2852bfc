"""REST API v1 for webhooks: endpoints and their delivery log. Workspace admins only, reads too."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from workspaces.api.viewsets import WorkspaceReadOnlyViewSet, WorkspaceViewSet

from .. import services
from ..filtersets import DeliveryFilterSet
from ..models import Delivery, Endpoint
from .serializers import DeliverySerializer, EndpointSerializer, NewEndpointSerializer, SecretSerializer

MANAGE = "webhooks.manage"


@extend_schema(description=_("Webhook endpoints: HTTPS URLs that receive the workspace's events, signed. "
                             "Admins only."))
class WebhookEndpointViewSet(WorkspaceViewSet):
    queryset = Endpoint.objects.all()
    serializer_class = EndpointSerializer
    policy_actions = {name: MANAGE for name in (
        "list", "retrieve", "create", "update", "partial_update", "destroy", "rotate_secret", "ping")}
    ordering_fields = ["url", "created_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("created_by__user")

    @extend_schema(responses={201: NewEndpointSerializer}, description=_(
        "Register an endpoint. The answer carries its signing secret, which is never shown again."))
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint, secret = services.register_endpoint(
            workspace=request.workspace, actor=request.actor, url=data["url"], events=data["events"],
            description=data.get("description", ""))
        if data.get("enabled") is False:
            services.update_endpoint(endpoint=endpoint, actor=request.actor, enabled=False)
        body = NewEndpointSerializer(endpoint, context={**self.get_serializer_context(), "secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = services.update_endpoint(endpoint=serializer.instance, actor=self.request.actor,
                                                       **serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_endpoint(endpoint=instance, actor=self.request.actor)

    @extend_schema(request=None, responses=SecretSerializer, description=_(
        "A new signing secret, effective for the next attempt; shown only in this answer."))
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        secret = services.rotate_secret(endpoint=self.get_object(), actor=request.actor)
        return Response({"secret": secret})

    @extend_schema(request=None, responses={202: DeliverySerializer}, description=_(
        "Send a test event (\"ping\") to the endpoint, enabled or not. Tried once; see the delivery."))
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        delivery = services.send_ping(endpoint=self.get_object(), actor=request.actor)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(description=_("The delivery log of the workspace's webhooks (kept 30 days). Admins only."))
class WebhookDeliveryViewSet(WorkspaceReadOnlyViewSet):
    queryset = Delivery.objects.all()
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    policy_actions = {"list": MANAGE, "retrieve": MANAGE, "retry": MANAGE}
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("endpoint").order_by("-created_at", "-id")

    @extend_schema(request=None, responses={202: DeliverySerializer}, description=_(
        "Try the delivery again now, whatever its schedule."))
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        delivery = services.retry_delivery(delivery=self.get_object(), actor=request.actor)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
