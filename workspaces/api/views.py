from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ..models import ApiToken, Membership
from .schema import SingleObjectListSchema
from .serializers import MembershipSerializer, MeSerializer
from .viewsets import WorkspaceAPIViewSet, WorkspaceReadOnlyViewSet


@extend_schema(description=_(
    "The members of the caller's workspace (managed on the workspace's members page)."
))
class MemberViewSet(WorkspaceReadOnlyViewSet):
    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipSerializer
    filterset_fields = ["role", "is_active"]
    ordering_fields = ["id", "role", "created_at"]


@extend_schema(description=_("`GET /api/v1/me/`: the caller's membership, role rules and workspace."))
class MeViewSet(WorkspaceAPIViewSet):
    schema = SingleObjectListSchema()

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def list(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response(MeSerializer(request.membership, context={"request": request, "token": token}).data)
