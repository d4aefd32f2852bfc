from rest_framework import permissions

from ..models import ApiToken


def resolve_membership(request):
    """The membership an API request acts as: the token's, or the session's current one."""
    if isinstance(request.auth, ApiToken):
        return request.auth.membership
    return getattr(request._request, "membership", None)


class IsWorkspaceMember(permissions.BasePermission):
    """Every API call acts inside one workspace. Viewers read only; object rules live in `can_change`."""

    message = "You are not a member of any workspace."

    def has_permission(self, request, view):
        membership = resolve_membership(request)
        if membership is None:
            return False
        request.membership = membership
        request.workspace = membership.workspace
        if request.method in permissions.SAFE_METHODS:
            return True
        required = getattr(view, "write_permission", "can_edit")
        return bool(getattr(membership, required))

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        check = getattr(view, "can_change", None)
        return check(request.membership, obj) if check else True


class IsWorkspaceManager(IsWorkspaceMember):
    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.membership.is_manager


class IsWorkspaceAdmin(IsWorkspaceMember):
    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.membership.is_admin
