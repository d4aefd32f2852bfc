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


def emit(*, workspace, event, payload):
    """Queue `event` with `payload` (JSON-able) for every enabled endpoint of `workspace` that
    subscribed to it, once the current transaction commits."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}.")
    # Delivery is added by the webhooks services (see services.queue_deliveries).
