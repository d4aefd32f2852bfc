from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from ..policy import authorize, authorize_role, needs_object


class IsWorkspaceMember(permissions.BasePermission):
    """Every API call acts inside one workspace: the caller's (set by the base views, see viewsets)."""

    message = _("You are not a member of any workspace.")

    def has_permission(self, request, view):
        return getattr(request, "membership", None) is not None


class FollowsPolicy(IsWorkspaceMember):
    """The policy action the view declares for the request (`policy_actions`, see viewsets), checked
    before the handler runs: the role first, then, once the view looks its object up, the object
    (a CSM changes the contacts of the accounts they own). Services check again what the body adds
    (a new row's owner or account). A refusal is NotAllowed: a 403 naming the rule."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        action = self.action_of(request, view)
        if action is not None:
            authorize_role(request.actor, action)
        return True

    def has_object_permission(self, request, view, obj):
        action = self.action_of(request, view)
        if action is not None and needs_object(action):
            authorize(request.actor, action, obj)
        return True

    @staticmethod
    def action_of(request, view):
        if getattr(view, "action", None) is None or request.method.lower() not in view.http_method_names:
            return None  # OPTIONS (the metadata), or a method the view does not take: a 405 follows
        return view.declared_action(view.action, request.method)
