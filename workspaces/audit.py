"""The audit log: who changed what. Every service that changes a record writes one row per record.

`actor` is what services receive (see workspaces.policy): a member, a member through an API token
(the membership carries it), or a SystemActor.

The log is append-only (see AuditEvent): rows are inserted here and never updated or deleted by
the application, and on PostgreSQL a trigger refuses it even to raw SQL. The one exception is the
deletion of a whole workspace, whose log goes with it (a tenant's offboarding), and the demo
workspace's reset, which regenerates that workspace from scratch: both go through
`erase_workspace_audit`.
"""

from .models import AuditEvent, Membership, audit_erasure


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
