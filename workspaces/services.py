"""Writes of the tenant layer: members, their roles, invitations and API tokens."""

import datetime as dt
import logging
import smtplib

from axes.utils import reset as reset_sign_in_attempts
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .audit import record_audit
from .errors import DomainError, NotAllowed
from .models import ApiToken, Invitation, Membership, Role, UserPreference
from .policy import SystemActor, acting_member, authorize

logger = logging.getLogger(__name__)


@transaction.atomic
def add_member(*, workspace, user, role=Role.CSM, actor):
    authorize(actor, "members.manage")
    membership, created = Membership.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    if not created and (membership.role != role or not membership.is_active):
        membership.role = role
        membership.is_active = True
        membership.save(update_fields=["role", "is_active"])
    record_audit(workspace=workspace, actor=actor, action="member.added", obj=membership, changes={"role": role})
    return membership


@transaction.atomic
def change_member_role(*, membership, role, actor):
    authorize(actor, "members.manage", membership)
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _other_admin_exists(membership):
        raise DomainError(_("A workspace needs at least one admin."), field="role")
    old = membership.role
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    record_audit(
        workspace=membership.workspace, actor=actor, action="member.role_changed", obj=membership,
        changes={"role": [old, role]},
    )
    return membership


@transaction.atomic
def deactivate_member(*, membership, actor):
    authorize(actor, "members.manage", membership)
    if membership.role == Role.ADMIN and not _other_admin_exists(membership):
        raise DomainError(_("A workspace needs at least one admin."))
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    record_audit(workspace=membership.workspace, actor=actor, action="member.deactivated", obj=membership)
    for token in membership.api_tokens.filter(revoked_at__isnull=True):
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_audit(workspace=membership.workspace, actor=actor, action="token.revoked", obj=token,
                     changes={"reason": "member deactivated"})


def unlock_member(*, membership, actor):
    """Lift the member's sign-in lockout (from every address): after a forgotten password was found."""
    authorize(actor, "members.manage", membership)
    cleared = reset_sign_in_attempts(username=membership.user.get_username())
    record_audit(workspace=membership.workspace, actor=actor, action="member.unlocked", obj=membership,
                 changes={"attempts_cleared": cleared})
    return cleared


def _other_admin_exists(membership):
    return (
        Membership.objects.for_workspace(membership.workspace)
        .filter(role=Role.ADMIN, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def create_user_with_membership(*, workspace, username, password, role, actor, first_name="", last_name="",
                                email=""):
    """A login and its membership, made by the platform itself (the demo seeder refreshes its own users
    this way). People join by invitation (invite_member); no member creates or adds logins."""
    if not isinstance(actor, SystemActor):
        raise NotAllowed(_("Members join by invitation."))
    User = get_user_model()
    user = User.objects.filter(username=username).first() or User(username=username)
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.set_password(password)
    user.save()
    return add_member(workspace=workspace, user=user, role=role, actor=actor)


# --- Invitations -----------------------------------------------------------------------------------
class InvitationUnusable(DomainError):
    """The invitation was used, withdrawn or has expired: the invitee is told which."""

    MESSAGES = {
        Invitation.ACCEPTED: gettext_lazy("This invitation has already been used."),
        Invitation.REVOKED: gettext_lazy("This invitation was withdrawn by the workspace admin."),
        Invitation.EXPIRED: gettext_lazy("This invitation has expired. Ask the workspace admin for a new one."),
    }

    def __init__(self, invitation):
        self.status = invitation.status
        super().__init__(str(self.MESSAGES[self.status]))


@transaction.atomic
def invite_member(*, workspace, email, role, actor):
    """Invite an e-mail address with a role; returns (invitation, token).

    The token goes into the link and is not kept (only its hash): the admin sees the link once, the
    invitee gets it by e-mail. An earlier pending invitation of the same address is revoked, so only
    the newest link works. Nothing here looks at whether the address has a login.
    """
    authorize(actor, "members.manage")
    email = email.strip().lower()
    for earlier in Invitation.objects.for_workspace(workspace).pending().filter(email=email):
        revoke_invitation(invitation=earlier, actor=actor)
    token = Invitation.generate_token()
    invitation = Invitation(
        workspace=workspace, email=email, role=role, invited_by=acting_member(actor),
        token_hash=Invitation.hash_token(token),
        expires_at=timezone.now() + dt.timedelta(days=settings.INVITATION_EXPIRY_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    record_audit(workspace=workspace, actor=actor, action="invitation.created", obj=invitation,
                 changes={"role": role})
    return invitation, token


def send_invitation(*, invitation, link):
    """E-mail the link to the invitee. False when the mail could not be handed over: the admin's page
    shows the link, to pass on another way.

    The e-mail speaks the language active when it is sent, the inviter's: they write to a colleague,
    who most likely reads what they read (the invitee has no language of their own here yet)."""
    context = {"invitation": invitation, "link": link, "workspace": invitation.workspace,
               "inviter": invitation.invited_by.display_name if invitation.invited_by else ""}
    subject = _("Invitation to %(workspace)s") % {"workspace": invitation.workspace.name}
    try:
        send_mail(subject, render_to_string("workspaces/invitation_email.txt", context), None, [invitation.email])
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Invitation %s: e-mail not sent (%s)", invitation.pk, exc)
        return False
    return True


@transaction.atomic
def revoke_invitation(*, invitation, actor):
    authorize(actor, "members.manage", invitation)
    if invitation.status == Invitation.PENDING:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record_audit(workspace=invitation.workspace, actor=actor, action="invitation.revoked", obj=invitation)
    return invitation


@transaction.atomic
def accept_invitation(*, invitation, user):
    """`user` joins the workspace with the invited role: the invitee's own act, audited as theirs."""
    invitation = Invitation.all_workspaces.select_for_update().select_related("workspace").get(pk=invitation.pk)
    if invitation.status != Invitation.PENDING:
        raise InvitationUnusable(invitation)  # e.g. someone else used the link a moment ago
    workspace = invitation.workspace
    membership, created = Membership.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, user=user, defaults={"role": invitation.role}
    )
    if not created:
        if membership.is_active:
            raise DomainError(_("You are already a member of this workspace."))
        membership.role, membership.is_active = invitation.role, True
        membership.save(update_fields=["role", "is_active"])
    invitation.accepted_at, invitation.accepted_by = timezone.now(), membership
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record_audit(workspace=workspace, actor=membership, action="invitation.accepted", obj=invitation)
    record_audit(workspace=workspace, actor=membership, action="member.joined", obj=membership,
                 changes={"role": invitation.role, "invitation": invitation.pk})
    return membership


@transaction.atomic
def register_from_invitation(*, invitation, username, password, first_name="", last_name=""):
    """A new login for the invitee (with the invited e-mail address), then it accepts. Returns
    (user, membership). Nothing is created when the invitation can no longer be used."""
    if invitation.status != Invitation.PENDING:
        raise InvitationUnusable(invitation)
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise DomainError(_("This username is taken. Choose another one."), field="username")
    user = User(username=username, email=invitation.email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password2": exc.messages}) from None
    user.set_password(password)
    user.save()
    return user, accept_invitation(invitation=invitation, user=user)


def issue_token(*, membership, name):
    """Create a token and return (token, key). The key is shown once; only its hash is kept.

    Every member issues tokens for themselves only: the token acts with the member's own role.
    """
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        membership=membership, name=name, key_hash=ApiToken.hash_key(key), key_hint=key[:10]
    )
    record_audit(workspace=membership.workspace, actor=membership, action="token.issued", obj=token)
    return token, key


def revoke_token(*, token, actor):
    authorize(actor, "tokens.revoke", token)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_audit(workspace=token.membership.workspace, actor=actor, action="token.revoked", obj=token)
    return token


# --- A person's own settings -----------------------------------------------------------------------
def set_user_language(*, user, language):
    """Save the language `user` reads pages in ("" follows the browser). Anyone may set only their own.

    Not in the audit log: the log is each workspace's record of changes to its data, and a person's
    page language belongs to no workspace and changes nothing anyone else sees.
    """
    if language not in dict(settings.LANGUAGES) and language != "":
        raise DomainError(_("Choose one of the offered languages."), field="language")
    preference, _created = UserPreference.objects.update_or_create(user=user, defaults={"language": language})
    return preference
