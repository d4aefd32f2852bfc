"""REST API v1 for segments, on the workspace-scoped bases.

Everyone in the workspace reads; only managers write (the services say so: workspaces.policy).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from workspaces.api.viewsets import WorkspaceViewSet

from .. import selectors, services
from ..filtersets import SegmentFilterSet, SegmentMembershipFilterSet
from ..models import Segment
from .serializers import (
    AccountIdsSerializer,
    AdditionResultSerializer,
    PreviewRequestSerializer,
    PreviewResultSerializer,
    SegmentAdditionSerializer,
    SegmentEventSerializer,
    SegmentMemberSerializer,
    SegmentSerializer,
)


@extend_schema(description=_("Segments: named rules that select accounts. Everyone reads; managers write."))
class SegmentViewSet(WorkspaceViewSet):
    queryset = Segment.objects.all()
    serializer_class = SegmentSerializer
    policy_actions = {action: "segments.manage" for action in (
        "create", "update", "partial_update", "destroy", "preview", "recompute", "add_accounts",
        "remove_accounts")}
    filterset_class = SegmentFilterSet
    ordering_fields = ["name", "member_count", "updated_at"]

    def perform_create(self, serializer):
        serializer.instance = services.save_segment(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data
        )

    def perform_update(self, serializer):
        segment = serializer.instance
        data = {"name": segment.name, "description": segment.description, "rules": segment.rules,
                **serializer.validated_data}
        serializer.instance = services.save_segment(
            workspace=self.request.workspace, actor=self.request.actor, segment=segment, **data
        )

    def perform_destroy(self, instance):
        services.delete_segment(segment=instance, actor=self.request.actor)

    @extend_schema(responses=SegmentMemberSerializer(many=True))
    @action(detail=True, methods=["get"])
    def members(self, request, pk=None):
        segment = self.get_object()
        members = SegmentMembershipFilterSet(
            request.query_params, queryset=selectors.segment_members(segment=segment), request=request
        ).qs
        page = self.paginate_queryset(members)
        return self.get_paginated_response(SegmentMemberSerializer(page, many=True).data)

    @extend_schema(responses=SegmentEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        segment = self.get_object()
        events = selectors.segment_history(segment=segment, limit=None)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(SegmentEventSerializer(page, many=True).data)

    @extend_schema(request=PreviewRequestSerializer, responses=PreviewResultSerializer, description=_(
        "Count (and the first names) of the accounts the rules would select today, without saving."
    ))
    @action(detail=False, methods=["post"])
    def preview(self, request):
        serializer = PreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.preview_segment(workspace=request.workspace, actor=request.actor,
                                                 rules=serializer.validated_data["rules"]))

    @action(detail=True, methods=["post"])
    def recompute(self, request, pk=None):
        segment = self.get_object()
        return Response(services.recompute_segment(segment=segment, actor=request.actor))

    @extend_schema(responses=SegmentAdditionSerializer(many=True), description=_(
        "The accounts added to the segment by hand or by a playbook (members where its rules say \"added: yes\")."))
    @action(detail=True, methods=["get"])
    def additions(self, request, pk=None):
        segment = self.get_object()
        page = self.paginate_queryset(selectors.segment_additions(segment=segment))
        return self.get_paginated_response(SegmentAdditionSerializer(page, many=True).data)

    @extend_schema(request=AccountIdsSerializer, responses=AdditionResultSerializer, description=_(
        "Add accounts to a segment whose rules count additions (the condition \"added: yes\"); they are members "
        "at once. Adding an account twice adds it once."))
    @action(detail=True, methods=["post"], url_path="add-accounts")
    def add_accounts(self, request, pk=None):
        segment = self.get_object()
        serializer = AccountIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.add_to_segment(segment=segment, account_ids=serializer.validated_data["accounts"],
                                                actor=request.actor))

    @extend_schema(request=AccountIdsSerializer, responses=AdditionResultSerializer, description=_(
        "Take accounts added by hand or by a playbook back out of the segment."))
    @action(detail=True, methods=["post"], url_path="remove-accounts")
    def remove_accounts(self, request, pk=None):
        segment = self.get_object()
        serializer = AccountIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.remove_from_segment(
            segment=segment, account_ids=serializer.validated_data["accounts"], actor=request.actor))
