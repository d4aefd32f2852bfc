from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets

from .ordering import StrictOrderingFilter
from .permissions import IsWorkspaceMember


class WorkspaceScopedMixin:
    """The one place API querysets are scoped. Subclasses declare `queryset` as usual.

    `get_queryset()` narrows it to the caller's workspace, so a row of another workspace is a 404
    and never counts; `perform_create()` stamps new rows with the caller's workspace.
    Object-level role rules go in `can_change(membership, obj)` (see IsWorkspaceMember).
    """

    permission_classes = [IsWorkspaceMember]
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation inspects the view without a caller, hence without a workspace.
            return super().get_queryset().none()
        return super().get_queryset().for_workspace(self.request.workspace)

    def perform_create(self, serializer):
        serializer.save(workspace=self.request.workspace)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["workspace"] = getattr(self.request, "workspace", None)
        context["membership"] = getattr(self.request, "membership", None)
        return context


class WorkspaceViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    pass


class WorkspaceReadOnlyViewSet(WorkspaceScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass
