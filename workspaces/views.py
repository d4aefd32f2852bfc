"""Pages of the tenant layer: switching workspace, members, invitations and roles, my API tokens."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from . import services
from .errors import DomainError
from .forms import InvitationSignUpForm, InviteForm, ProfileForm, RoleForm, TokenForm
from .language import remember_in_session, remember_language, saved_language
from .middleware import SESSION_KEY
from .models import ApiToken, Invitation, Membership, Role
from .pages import WorkspaceMixin, show_on_form
from .policy import allows
from .selectors import (
    invitation_for_token,
    locked_out_usernames,
    memberships_of,
    pending_invitations,
    tokens_of,
)


@require_POST
@login_required
def switch_workspace(request):
    """Point the session at another of the user's workspaces (never one they are not in)."""
    membership = memberships_of(request.user).filter(workspace_id=request.POST.get("workspace")).first()
    if membership is None:
        raise Http404(_("You are not a member of that workspace."))
    request.session[SESSION_KEY] = membership.workspace_id
    return redirect("home")


# --- A person's language and profile ------------------------------------------------------------
def _activate(request, language):
    """The rest of this request (the message we leave, the page we render) in the new language."""
    translation.activate(language or translation.get_language_from_request(request))
    request.LANGUAGE_CODE = translation.get_language()


@require_POST
def set_language(request):
    """The nav's language switcher: saves the choice (signed in) and the cookie, then goes back."""
    language = request.POST.get("language", "")
    known = language == "" or language in dict(settings.LANGUAGES)
    if known and request.user.is_authenticated:
        services.set_user_language(user=request.user, language=language)
        remember_in_session(request, language)
    target = request.POST.get("next") or request.headers.get("referer") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("home")
    return remember_language(redirect(target), language) if known else redirect(target)


class ProfileView(LoginRequiredMixin, View):
    """A person's own settings, whatever workspace they are in: the language of pages."""

    template_name = "workspaces/profile.html"

    def render_page(self, form, status=200):
        return render(self.request, self.template_name, {"form": form}, status=status)

    def get(self, request):
        return self.render_page(ProfileForm(initial={"language": saved_language(request.user)}))

    def post(self, request):
        form = ProfileForm(request.POST)
        if not form.is_valid():
            return self.render_page(form, status=400)
        language = form.cleaned_data["language"]
        services.set_user_language(user=request.user, language=language)
        remember_in_session(request, language)
        _activate(request, language)
        messages.success(request, _("Your profile is saved."))
        return remember_language(redirect("workspaces:profile"), language)


# --- Members and API tokens ----------------------------------------------------------------------
class MembersView(WorkspaceMixin, View):
    """Everyone sees who is in the workspace; only admins invite, re-role and deactivate members."""

    model = Membership
    template_name = "workspaces/members.html"

    def get_members(self):
        return self.get_queryset().select_related("user").order_by(
            "-is_active", "user__first_name", "user__last_name", "user__username"
        )

    def render_page(self, invite_form=None, invited=None, status=200):
        can_manage = allows(self.actor, "members.manage")
        members = list(self.get_members())
        context = {"members": members, "roles": Role.choices, "can_manage": can_manage, "locked_out": set()}
        if can_manage:
            context["locked_out"] = locked_out_usernames(m.user.get_username() for m in members)
            context["invite_form"] = invite_form or InviteForm()
            context["invitations"] = pending_invitations(workspace=self.workspace)
            context["invited"] = invited
        response = render(self.request, self.template_name, context, status=status)
        if invited:
            response["Cache-Control"] = "no-store"  # the page shows an invitation link, once
        return response

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


class InviteView(AdminMemberActionView):
    """Invite an e-mail address: the link is e-mailed and shown here, once, to copy."""

    def post(self, request):
        form = InviteForm(request.POST)
        if not form.is_valid():
            return self.render_page(invite_form=form, status=400)
        try:
            invitation, token = services.invite_member(workspace=self.workspace, actor=self.actor,
                                                       **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            show_on_form(form, exc)
            return self.render_page(invite_form=form, status=400)
        link = request.build_absolute_uri(reverse("workspaces:join", args=[token]))
        sent = services.send_invitation(invitation=invitation, link=link)
        return self.render_page(invited={"invitation": invitation, "link": link, "sent": sent})


class RevokeInvitationView(AdminMemberActionView):
    model = Invitation

    def post(self, request, pk):
        invitation = self.get_object()
        services.revoke_invitation(invitation=invitation, actor=self.actor)
        return self.done(_("The invitation of %(email)s was withdrawn.") % {"email": invitation.email})


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


class UnlockMemberView(AdminMemberActionView):
    def post(self, request, pk):
        member = self.get_object()
        services.unlock_member(membership=member, actor=self.actor)
        return self.done(_("%(name)s can sign in again.") % {"name": member.display_name})


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


# --- Joining by invitation (the invitee, who is not a member yet) ---------------------------------------
class JoinView(View):
    """The page an invitation link opens. Signed in: accept. Not signed in: log in, or create a login,
    and accept. A link that was used, withdrawn or has expired says which; an unknown link says only
    that it is not valid. Whether the invited address has a login is never shown."""

    template_name = "workspaces/join.html"

    def dispatch(self, request, token):
        self.invitation = invitation_for_token(token)
        if self.invitation is None:
            return self.render_page(problem=_("This invitation link is not valid. Check that you copied "
                                              "the whole link."), status=404)
        if self.invitation.status != Invitation.PENDING:
            return self.unusable(services.InvitationUnusable(self.invitation))
        return super().dispatch(request, token)

    def render_page(self, problem=None, sign_in_form=None, register_form=None, error=None, status=200):
        context = {"invitation": self.invitation, "problem": problem, "error": error}
        if problem is None and not self.request.user.is_authenticated:
            context["sign_in_form"] = sign_in_form or self.sign_in_form()
            context["register_form"] = register_form or self.register_form()
        return render(self.request, self.template_name, context, status=status)

    # Two forms on one page, both with a username: ids of their own, so that each label finds its field.
    def sign_in_form(self, data=None):
        return AuthenticationForm(self.request, data=data, auto_id="sign_in_%s")

    def register_form(self, data=None):
        return InvitationSignUpForm(data, email=self.invitation.email, auto_id="register_%s")

    def unusable(self, exc):
        return self.render_page(problem=exc.message, status=410)

    def get(self, request, token):
        return self.render_page()

    def post(self, request, token):
        action = request.POST.get("action")
        if action == "accept" and request.user.is_authenticated:
            return self.accept(request.user)
        if action == "sign_in" and not request.user.is_authenticated:
            # Through authenticate(): failed attempts count toward the sign-in lockout like the login page's.
            form = self.sign_in_form(request.POST)
            if not form.is_valid():
                return self.render_page(sign_in_form=form, status=400)
            login(request, form.get_user())
            return self.accept(form.get_user())
        if action == "register" and not request.user.is_authenticated:
            return self.register(self.register_form(request.POST))
        return self.render_page(error=_("Choose one of the buttons below."), status=400)

    def register(self, form):
        if form.is_valid():
            data = form.cleaned_data
            try:
                user, membership = services.register_from_invitation(
                    invitation=self.invitation, username=data["username"], password=data["password1"],
                    first_name=data["first_name"], last_name=data["last_name"])
            except services.InvitationUnusable as exc:
                return self.unusable(exc)
            except (DomainError, ValidationError) as exc:
                show_on_form(form, exc)
            else:
                login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
                return self.joined(membership)
        return self.render_page(register_form=form, status=400)

    def accept(self, user):
        try:
            membership = services.accept_invitation(invitation=self.invitation, user=user)
        except services.InvitationUnusable as exc:
            return self.unusable(exc)
        except DomainError as exc:
            return self.render_page(error=exc.message, status=400)
        return self.joined(membership)

    def joined(self, membership):
        self.request.session[SESSION_KEY] = membership.workspace_id
        messages.success(self.request, _("Welcome to %(workspace)s.") % {"workspace": membership.workspace.name})
        return redirect("home")
