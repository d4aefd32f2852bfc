"""Nightly work. Tasks take ids and ISO dates, never objects, and hold a per-workspace lock."""

import datetime as dt
import logging

from celery import shared_task
from django.core.cache import cache

from workspaces.models import Workspace

from .nightly import run_nightly

logger = logging.getLogger(__name__)

LOCK_SECONDS = 60 * 60


@shared_task(acks_late=True)
def recompute_workspace(workspace_id, as_of=None, only=None):
    """Run the nightly pipeline for one workspace and day.

    Deliberately not retried: every step is idempotent, so tomorrow's run (or a manual
    re-run) repairs a failed night, and a retry loop could pile up behind a long outage.
    """
    workspace = Workspace.objects.get(pk=workspace_id)
    day = dt.date.fromisoformat(as_of) if as_of else workspace.today()
    lock = f"nightly-lock:{workspace_id}:{day.isoformat()}"
    if not cache.add(lock, "1", LOCK_SECONDS):
        # Another worker is computing the same workspace and day; its rows will be the same as ours.
        logger.info("nightly for workspace %s on %s already running; skipped", workspace.slug, day)
        return {"skipped": True}
    try:
        ran = run_nightly(workspace=workspace, as_of=day, only=only)
    finally:
        cache.delete(lock)
    logger.info("nightly for workspace %s on %s: %s", workspace.slug, day, ", ".join(ran) or "no steps")
    return {"workspace": workspace.slug, "as_of": day.isoformat(), "steps": ran}


@shared_task
def schedule_nightly():
    """Beat entry: one task per workspace, each for *its* today (time zones differ)."""
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        recompute_workspace.delay(workspace_id)
