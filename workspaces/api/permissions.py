from rest_framework import permissions

from ..errors import NotAllowed
from ..policy import authorize


class IsWorkspaceMember(permissions.BasePermission):
    """Every API call acts inside one workspace: the caller's (set by the base views, see viewsets).

    What a member may change is the services' question (workspaces.policy); this only turns away
    callers who belong to no workspace.
    """

    message = "You are not a member of any workspace."

    def has_permission(self, request, view):
        return getattr(request, "membership", None) is not None


def may(action):
    """A permission class for views that need one policy action whatever they do (e.g. a report)."""

    class Allowed(IsWorkspaceMember):
        def has_permission(self, request, view):
            if not super().has_permission(request, view):
                return False
            try:
                authorize(request.membership, action)
            except NotAllowed as exc:
                self.message = exc.message  # the policy's reason, not "not a member"
                return False
            return True

    Allowed.__name__ = f"May({action})"
    return Allowed
