"""Writes of the tenant layer: members, their roles and their API tokens."""

from axes.utils import reset as reset_sign_in_attempts
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import record_audit
from .errors import DomainError
from .models import ApiToken, Membership, Role
from .policy import SystemActor, authorize


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
    membership.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    record_audit(workspace=membership.workspace, actor=actor, action="member.deactivated", obj=membership)


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
    """A new login and its membership. An existing username is refused: a workspace admin must never
    set the password of a user who may belong to other workspaces. Only the platform itself (the
    demo seeder) refreshes its own users this way."""
    authorize(actor, "members.manage")
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username)
    elif not isinstance(actor, SystemActor):
        raise DomainError(_("This username is taken. To add an existing user, use “Add existing user”."),
                          field="username")
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.set_password(password)
    user.save()
    return add_member(workspace=workspace, user=user, role=role, actor=actor)


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
