"""Write keys: the workspace's keys for the tracking API (the SDKs' `write_key`), kept hashed."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.policy import acting_member, authorize

from ..models import WriteKey
from ..selectors import ingest_settings


@transaction.atomic
def create_write_key(*, workspace, name, actor):
    """Create a write key; returns (write_key, plaintext). The plaintext is never stored."""
    authorize(actor, "usage.manage")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the key a name, e.g. the app that sends events."), field="name")
    plaintext = WriteKey.generate_key()
    key = WriteKey(
        workspace=workspace, name=name[:100], key_hash=WriteKey.hash_key(plaintext),
        key_hint=plaintext[:10], created_by=acting_member(actor),
    )
    key.full_clean()
    key.save()
    record_audit(workspace=workspace, actor=actor, action="write_key.created", obj=key)
    return key, plaintext


@transaction.atomic
def revoke_write_key(*, write_key, actor):
    authorize(actor, "usage.manage", write_key)
    if write_key.revoked_at is None:
        write_key.revoked_at = timezone.now()
        write_key.save(update_fields=["revoked_at"])
        record_audit(workspace=write_key.workspace, actor=actor, action="write_key.revoked", obj=write_key)
    return write_key


@transaction.atomic
def rotate_write_key(*, write_key, actor):
    """A new key with the same name. The old one keeps working until revoked: no downtime."""
    authorize(actor, "usage.manage", write_key)
    if write_key.revoked_at is not None:
        raise DomainError(_("This key is already revoked; create a new one."), field="write_key")
    new_key, plaintext = create_write_key(workspace=write_key.workspace, name=write_key.name, actor=actor)
    record_audit(
        workspace=write_key.workspace, actor=actor, action="write_key.rotated", obj=write_key,
        changes={"replacement": new_key.key_hint},
    )
    return new_key, plaintext


def authenticate_write_key(*, key):
    """(write_key, ingest settings) for an active key, else None.

    Read from the database on every request, on purpose: the in-process cache this replaced let a
    revoked key work for seconds more in every other web process. A shared cache (Redis) would
    cost a network round trip per request, as much as the two indexed lookups it would save, and
    could keep a revoked key alive if Redis missed the invalidation. So: no cache, and revocation
    takes effect at once in every process.
    """
    if not key or len(key) > 200:
        return None
    # The key is what tells the workspace: looked up across all of them, by its hash.
    found = WriteKey.all_workspaces.active().select_related("workspace").filter(key_hash=WriteKey.hash_key(key)).first()
    return (found, ingest_settings(workspace=found.workspace)) if found else None


def note_key_used(*, write_key, at):
    """Keep `last_used_at` roughly current without a write per request."""
    if write_key.last_used_at is None or at - write_key.last_used_at > dt.timedelta(minutes=1):
        WriteKey.objects.for_workspace(write_key.workspace_id).filter(pk=write_key.pk).update(last_used_at=at)
        write_key.last_used_at = at
