"""Writes of the usage app: write keys, ingestion of tracking-API batches, rollups, retention."""

from django.db import transaction

from workspaces.services import DomainError, record_audit

from .models import WriteKey


def _require_admin(actor):
    if actor is not None and not actor.is_admin:
        raise DomainError("Only a workspace admin manages write keys.", field="name")


@transaction.atomic
def create_write_key(*, workspace, name, actor=None):
    """Create a write key; returns (write_key, plaintext). The plaintext is never stored."""
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the key a name, e.g. the app that sends events.", field="name")
    plaintext = WriteKey.generate_key()
    key = WriteKey(
        workspace=workspace, name=name[:100], key_hash=WriteKey.hash_key(plaintext),
        key_hint=plaintext[:10], created_by=actor,
    )
    key.full_clean()
    key.save()
    record_audit(workspace=workspace, actor=actor, action="write_key.created", obj=key)
    return key, plaintext
