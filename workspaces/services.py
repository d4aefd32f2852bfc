from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, AuditEvent, Membership, Role


class DomainError(Exception):
    """A business rule said no. Pages show `message`; the API answers 400 naming `field`."""

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


def record_audit(*, workspace, actor, action, obj=None, object_type=None, changes=None):
    return AuditEvent.objects.create(
        workspace=workspace,
        actor=actor,
        action=action,
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
    )


def model_changes(instance, data):
    """{field: [old, new]} for the fields in `data` whose value differs; values as strings for JSON."""
    changes = {}
    for field, new in data.items():
        old = getattr(instance, field, None)
        if old != new:
            changes[field] = [None if old is None else str(old), None if new is None else str(new)]
    return changes


@transaction.atomic
def add_member(*, workspace, user, role=Role.CSM, actor=None):
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
    if actor is not None and not actor.is_admin:
        raise DomainError("Only a workspace admin manages members.", field="role")
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _other_admin_exists(membership):
        raise DomainError("A workspace needs at least one admin.", field="role")
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
    if actor is not None and not actor.is_admin:
        raise DomainError("Only a workspace admin manages members.")
    if membership.role == Role.ADMIN and not _other_admin_exists(membership):
        raise DomainError("A workspace needs at least one admin.")
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    membership.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    record_audit(workspace=membership.workspace, actor=actor, action="member.deactivated", obj=membership)


def _other_admin_exists(membership):
    return (
        Membership.objects.for_workspace(membership.workspace)
        .filter(role=Role.ADMIN, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )


def create_user_with_membership(*, workspace, username, password, role, first_name="", last_name="", email="",
                                actor=None):
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username)
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.set_password(password)
    user.save()
    return add_member(workspace=workspace, user=user, role=role, actor=actor)


def issue_token(*, membership, name):
    """Create a token and return (token, key). The key is shown once; only its hash is kept."""
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        membership=membership, name=name, key_hash=ApiToken.hash_key(key), key_hint=key[:10]
    )
    record_audit(workspace=membership.workspace, actor=membership, action="token.issued", obj=token)
    return token, key


def revoke_token(*, token, actor):
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_audit(workspace=token.membership.workspace, actor=actor, action="token.revoked", obj=token)
    return token
