"""Outbound events: what the platform tells the workspace's registered HTTPS endpoints.

Any app calls `emit(workspace=…, event=…, payload=…)` inside its writing transaction; the
deliveries are queued when that transaction commits (nothing is sent for a write that rolled back).
The delivery itself (signing, retries, the log) is in this app's services and tasks.
"""

from django.utils.translation import gettext_lazy as _

EVENTS = {
    "task.created": _("Task created"),
    "task.completed": _("Task completed"),
    "alert.opened": _("Health alert opened"),
    "playbook.run_started": _("Playbook run started"),
    "playbook.run_ended": _("Playbook run ended"),
    "playbook.step": _("Playbook webhook step"),
    "account.stage_changed": _("Account changed lifecycle stage"),
    "account.churned": _("Account churned"),
}
# The test event an admin sends from the endpoint's page; nobody subscribes to it.
PING = "ping"


def emit(*, workspace, event, payload):
    """Queue `event` with `payload` (JSON-able) for every enabled endpoint of `workspace` that
    subscribed to it, once the current transaction commits."""
    return emit_many(workspace=workspace, event=event, payloads=[payload])


def emit_many(*, workspace, event, payloads):
    """`emit` for many payloads of one event at once (a batch write): two queries whatever their number."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}.")
    from .services import queue_deliveries

    return queue_deliveries(workspace=workspace, event=event, payloads=payloads)
