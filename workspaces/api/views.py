from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ..models import ApiToken, Membership
from .schema import SingleObjectListSchema
from .serializers import MembershipSerializer, MeSerializer
from .viewsets import WorkspaceAPIViewSet, WorkspaceReadOnlyViewSet


class MemberViewSet(WorkspaceReadOnlyViewSet):
    """The members of the caller's workspace (managed on the workspace's members page)."""

    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipSerializer
    filterset_fields = ["role", "is_active"]
    ordering_fields = ["id", "role", "created_at"]


class MeViewSet(WorkspaceAPIViewSet):
    """`GET /api/v1/me/`: the caller's membership, role rules and workspace."""

    schema = SingleObjectListSchema()

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def list(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response(MeSerializer(request.membership, context={"request": request, "token": token}).data)
