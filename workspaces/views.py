"""Pages of the tenant layer: switching workspace, members and roles, my API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from . import services
from .errors import DomainError
from .forms import AddMemberForm, NewUserForm, RoleForm, TokenForm
from .middleware import SESSION_KEY
from .models import ApiToken, Membership, Role
from .pages import WorkspaceMixin, show_on_form
from .policy import allows
from .selectors import memberships_of, tokens_of


@require_POST
@login_required
def switch_workspace(request):
    """Point the session at another of the user's workspaces (never one they are not in)."""
    membership = memberships_of(request.user).filter(workspace_id=request.POST.get("workspace")).first()
    if membership is None:
        raise Http404(_("You are not a member of that workspace."))
    request.session[SESSION_KEY] = membership.workspace_id
    return redirect("home")


# --- Members and API tokens ----------------------------------------------------------------------
class MembersView(WorkspaceMixin, View):
    """Everyone sees who is in the workspace; only admins add, re-role and deactivate members."""

    model = Membership
    template_name = "workspaces/members.html"

    def get_members(self):
        return self.get_queryset().select_related("user").order_by(
            "-is_active", "user__first_name", "user__last_name", "user__username"
        )

    def render_page(self, add_form=None, new_form=None, status=200):
        can_manage = allows(self.actor, "members.manage")
        context = {"members": self.get_members(), "roles": Role.choices, "can_manage": can_manage}
        if can_manage:
            context["add_form"] = add_form or AddMemberForm(workspace=self.workspace, prefix="add")
            context["new_form"] = new_form or NewUserForm(prefix="new")
        return render(self.request, self.template_name, context, status=status)

    def get(self, request):
        return self.render_page()


class AdminMemberActionView(MembersView):
    required_action = "members.manage"

    def get(self, request, **kwargs):
        if "pk" in kwargs:
            self.get_object()  # another workspace's member is a 404 here too, not a redirect
        return redirect("workspaces:members")

    def done(self, message):
        messages.success(self.request, message)
        return redirect("workspaces:members")

    def failed(self, exc):
        messages.error(self.request, exc.message if isinstance(exc, DomainError) else "; ".join(exc.messages))
        return redirect("workspaces:members")


class AddMemberView(AdminMemberActionView):
    def post(self, request):
        form = AddMemberForm(request.POST, workspace=self.workspace, prefix="add")
        if not form.is_valid():
            return self.render_page(add_form=form, status=400)
        member = services.add_member(
            workspace=self.workspace, user=form.user, role=form.cleaned_data["role"], actor=self.actor
        )
        return self.done(_("%(name)s added.") % {"name": member.display_name})


class NewUserView(AdminMemberActionView):
    def post(self, request):
        form = NewUserForm(request.POST, prefix="new")
        if form.is_valid():
            try:
                member = services.create_user_with_membership(workspace=self.workspace, actor=self.actor,
                                                              **form.cleaned_data)
            except DomainError as exc:
                show_on_form(form, exc)
            else:
                return self.done(_("%(name)s can now log in.") % {"name": member.display_name})
        return self.render_page(new_form=form, status=400)


class ChangeRoleView(AdminMemberActionView):
    def post(self, request, pk):
        member = self.get_object()
        form = RoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a valid role."))
            return redirect("workspaces:members")
        try:
            services.change_member_role(membership=member, role=form.cleaned_data["role"], actor=self.actor)
        except (DomainError, ValidationError) as exc:
            return self.failed(exc)
        return self.done(_("%(name)s is now %(role)s.") % {"name": member.display_name,
                                                            "role": member.get_role_display()})


class DeactivateMemberView(AdminMemberActionView):
    def post(self, request, pk):
        member = self.get_object()
        try:
            services.deactivate_member(membership=member, actor=self.actor)
        except DomainError as exc:
            return self.failed(exc)
        return self.done(_("%(name)s was deactivated and their API tokens revoked.") % {"name": member.display_name})


class ReactivateMemberView(AdminMemberActionView):
    def post(self, request, pk):
        member = self.get_object()
        services.add_member(workspace=self.workspace, user=member.user, role=member.role, actor=self.actor)
        return self.done(_("%(name)s was reactivated.") % {"name": member.display_name})


class TokensView(WorkspaceMixin, View):
    """My personal API tokens in this workspace. A new key is shown once, in the response that made it."""

    template_name = "workspaces/tokens.html"
    policy_actions = {"post": None}  # every member issues their own tokens, which act with their role

    def render_page(self, form=None, new_key=None, new_token=None, status=200):
        context = {
            "tokens": tokens_of(self.membership),
            "form": form or TokenForm(),
            "new_key": new_key,
            "new_token": new_token,
        }
        response = render(self.request, self.template_name, context, status=status)
        if new_key:
            response["Cache-Control"] = "no-store"
        return response

    def get(self, request):
        return self.render_page()

    def post(self, request):
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self.render_page(form=form, status=400)
        token, key = services.issue_token(membership=self.membership, name=form.cleaned_data["name"])
        return self.render_page(new_key=key, new_token=token)


class RevokeTokenView(WorkspaceMixin, View):
    model = ApiToken
    required_action = "tokens.revoke"

    def get_queryset(self):
        # Only my own tokens: anyone else's (or another workspace's) is a 404.
        return tokens_of(self.membership)

    def post(self, request, pk):
        token = self.get_object()
        services.revoke_token(token=token, actor=self.actor)
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
        return redirect("workspaces:tokens")
