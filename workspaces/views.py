from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .middleware import SESSION_KEY
from .selectors import memberships_of


class WorkspaceMixin(LoginRequiredMixin):
    """The one place page views are scoped to the current workspace.

    `get_queryset()` narrows `model`'s rows to the workspace, so another workspace's object is
    a 404. `required_role_check` names a Membership property that must be true for the view
    (e.g. "is_manager"); write views set it to "can_edit" at least.
    """

    required_role_check = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.membership is None:
            raise Http404(_("You are not a member of any workspace."))
        self.workspace = request.workspace
        self.membership = request.membership
        if self.required_role_check and not getattr(self.membership, self.required_role_check):
            raise PermissionDenied(_("Your role does not allow this."))
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.model.objects.for_workspace(self.workspace)


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("accounts:list")


@require_POST
@login_required
def switch_workspace(request):
    """Point the session at another of the user's workspaces (never one they are not in)."""
    membership = memberships_of(request.user).filter(workspace_id=request.POST.get("workspace")).first()
    if membership is None:
        raise Http404(_("You are not a member of that workspace."))
    request.session[SESSION_KEY] = membership.workspace_id
    return redirect("home")
