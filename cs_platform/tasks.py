"""Nightly work. Tasks take ids and ISO dates, never objects; a workspace's night holds its lock."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from workspaces.models import Membership, Workspace

from .nightly import NIGHTLY, run_nightly, workspace_lock, workspaces_due

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def recompute_workspace(workspace_id, as_of=None, only=None, requested_by=None):
    """Run the nightly pipeline for one workspace and day (default: the workspace's today).

    Deliberately not retried: every step is idempotent, so tomorrow's run (or a manual
    re-run) repairs a failed night, and a retry loop could pile up behind a long outage.
    """
    workspace = Workspace.objects.get(pk=workspace_id)
    day = dt.date.fromisoformat(as_of) if as_of else workspace.today()
    with workspace_lock(workspace) as acquired:
        if not acquired:
            # Another run of this workspace (the night, a recompute) is in progress: it would write
            # the same rows, or its own day's; running both at once would only contend.
            logger.info("nightly for workspace %s on %s: another run holds the workspace; skipped", workspace.slug, day)
            return {"workspace": workspace.slug, "as_of": day.isoformat(), "skipped": True, "steps": []}
        # "Recompute now" names the member who asked (their membership's id); the beat, the platform.
        requester = Membership.objects.for_workspace(workspace).filter(pk=requested_by).first() if requested_by else None
        ran = run_nightly(workspace=workspace, as_of=day, only=only, actor=requester or NIGHTLY)
    logger.info("nightly for workspace %s on %s: %s", workspace.slug, day, ", ".join(ran) or "no steps")
    return {"workspace": workspace.slug, "as_of": day.isoformat(), "skipped": False, "steps": ran}


@shared_task
def schedule_nightly():
    """Beat entry, hourly: start the night of every workspace whose local time reached its hour."""
    for workspace, day in workspaces_due(now=timezone.now()):
        recompute_workspace.delay(workspace.pk, day.isoformat())
