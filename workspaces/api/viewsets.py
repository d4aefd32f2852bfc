from rest_framework import viewsets

from .permissions import IsWorkspaceMember


class WorkspaceScopedMixin:
    """The one place API querysets are scoped. Subclasses declare `queryset` as usual.

    `get_queryset()` narrows it to the caller's workspace, so a row of another workspace is a 404
    and never counts; `perform_create()` stamps new rows with the caller's workspace.
    """

    permission_classes = [IsWorkspaceMember]

    def get_queryset(self):
        return super().get_queryset().for_workspace(self.request.workspace)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["workspace"] = getattr(self.request, "workspace", None)
        context["membership"] = getattr(self.request, "membership", None)
        return context


class WorkspaceViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    pass


class WorkspaceReadOnlyViewSet(WorkspaceScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass
