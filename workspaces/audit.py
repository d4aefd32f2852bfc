"""The audit log: who changed what. Every service that changes a record writes one row per record.

`actor` is what services receive (see workspaces.policy): a member, a member through an API token
(the membership carries it), or a SystemActor.

The log is append-only (see AuditEvent): rows are inserted here and never updated or deleted by
the application, and on PostgreSQL a trigger refuses it even to raw SQL. The one exception is the
deletion of a whole workspace, whose log goes with it (a tenant's offboarding), and the demo
workspace's reset, which regenerates that workspace from scratch: both go through
`erase_workspace_audit`.
"""

from django.utils import timezone

from .models import AuditEvent, Membership, audit_erasure
from .sql import copy_rows


def actor_fields(actor):
    """The AuditEvent columns that say who acted."""
    if isinstance(actor, Membership):
        return {"actor": actor, "token": actor.api_token, "system_actor": ""}
    return {"actor": None, "token": None, "system_actor": str(actor)[:80]}


def audit_event(*, workspace, actor, action, obj=None, object_type=None, changes=None):
    """An unsaved AuditEvent, for services that write many records at once (bulk_create them)."""
    return AuditEvent(
        workspace=workspace,
        action=action,
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
        **actor_fields(actor),
    )


def record_audit_rows(*, workspace, actor, action, object_type, rows):
    """One audit event per (object id, object repr, changes) of `rows`, inserted as plain rows: what a
    night does to tens of thousands of records of one type, without a model instance per event."""
    who = actor_fields(actor)
    actor_id = who["actor"].pk if who["actor"] is not None else None
    token_id = who["token"].pk if who["token"] is not None else None
    at = timezone.now()
    return copy_rows(AuditEvent, ["workspace_id", "actor_id", "token_id", "system_actor", "action", "object_type",
                                    "object_id", "object_repr", "changes", "at"],
                       [(workspace.pk, actor_id, token_id, who["system_actor"], action, object_type, str(object_id),
                         str(object_repr)[:200], changes or {}, at) for object_id, object_repr, changes in rows])


def record_audit(*, workspace, actor, action, obj=None, object_type=None, changes=None):
    event = audit_event(workspace=workspace, actor=actor, action=action, obj=obj, object_type=object_type,
                        changes=changes)
    event.save()
    return event


def model_changes(instance, data):
    """{field: [old, new]} for the fields in `data` whose value differs; values as strings for JSON."""
    changes = {}
    for field, new in data.items():
        old = getattr(instance, field, None)
        if old != new:
            changes[field] = [None if old is None else str(old), None if new is None else str(new)]
    return changes


def erase_workspace_audit(*, workspace):
    """Delete the whole audit log of `workspace`. For a workspace that is deleted or regenerated
    (the demo) only: nothing else may delete audit rows."""
    with audit_erasure():
        # The base manager's plain delete: AuditEvent's own querysets refuse to delete.
        return AuditEvent._base_manager.filter(workspace=workspace).delete()
