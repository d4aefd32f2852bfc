from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets

from ..models import ApiToken
from .ordering import StrictOrderingFilter
from .permissions import IsWorkspaceMember


def resolve_membership(request):
    """The membership an API request acts as: the token's, or the session's current one."""
    if isinstance(request.auth, ApiToken):
        membership = request.auth.membership
        membership.api_token = request.auth  # so that what the request changes is audited as the token's
        return membership
    return getattr(request._request, "membership", None)


class WorkspaceAPIMixin:
    """The base of every API view: `request.membership`, `request.workspace` and `request.actor`
    are set here, once the caller is authenticated and before any permission is checked."""

    permission_classes = [IsWorkspaceMember]

    def perform_authentication(self, request):
        super().perform_authentication(request)
        membership = resolve_membership(request)
        request.membership = membership
        request.workspace = membership.workspace if membership is not None else None
        request.actor = membership

    def check_permissions(self, request):
        # Throttles before permissions (DRF checks them after): a caller turned away for having no or
        # a wrong credential still counts against its address's limit.
        super().check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        pass  # done in check_permissions, which every request passes first

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["workspace"] = getattr(self.request, "workspace", None)
        context["membership"] = getattr(self.request, "membership", None)
        return context


class WorkspaceScopedMixin(WorkspaceAPIMixin):
    """The one place API querysets are scoped. Subclasses declare `queryset` as usual.

    `get_queryset()` narrows it to the caller's workspace, so a row of another workspace is a 404
    and never counts; `perform_create()` stamps new rows with the caller's workspace. What a member
    may change is checked by the services the viewsets call (workspaces.policy).
    """

    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation inspects the view without a caller, hence without a workspace.
            return super().get_queryset().none()
        return super().get_queryset().for_workspace(self.request.workspace)

    def perform_create(self, serializer):
        serializer.save(workspace=self.request.workspace)


class WorkspaceViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    pass


class WorkspaceReadOnlyViewSet(WorkspaceScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class WorkspaceAPIViewSet(WorkspaceAPIMixin, viewsets.ViewSet):
    """A viewset without a model queryset (reports, exports): it passes `request.workspace` to
    selectors and services that take the workspace as a required argument."""

    pass
