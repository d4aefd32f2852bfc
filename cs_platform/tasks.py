"""Nightly work. Tasks take ids and ISO dates, never objects; a workspace's night holds its lock."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from workspaces.models import Membership, Workspace

from .nightly import NIGHTLY, mark_night_done, night_done, run_nightly, workspace_lock, workspaces_due

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def recompute_workspace(workspace_id, as_of=None, only=None, requested_by=None, nightly=False):
    """Run the nightly pipeline for one workspace and day (default: the workspace's today).

    `nightly`: queued by the beat; a night already done is not run again (a task queued twice), and
    a night run to its end is marked done, so that the beat queues it again only if it was lost.

    Deliberately not retried: every step is idempotent, so the beat (for a lost night), tomorrow's
    run or a manual re-run repairs a failed night, and a retry loop could pile up behind an outage.
    """
    workspace = Workspace.objects.get(pk=workspace_id)
    day = dt.date.fromisoformat(as_of) if as_of else workspace.today()
    if nightly and night_done(workspace, day):
        logger.info("nightly for workspace %s on %s: already done; skipped", workspace.slug, day)
        return {"workspace": workspace.slug, "as_of": day.isoformat(), "skipped": True, "steps": []}
    with workspace_lock(workspace) as acquired:
        if not acquired:
            # Another run of this workspace (the night, a recompute) is in progress: it would write
            # the same rows, or its own day's; running both at once would only contend.
            logger.info("nightly for workspace %s on %s: another run holds the workspace; skipped", workspace.slug, day)
            return {"workspace": workspace.slug, "as_of": day.isoformat(), "skipped": True, "steps": []}
        # "Recompute now" names the member who asked (their membership's id); the beat, the platform.
        requester = Membership.objects.for_workspace(workspace).filter(pk=requested_by).first() if requested_by else None
        ran = run_nightly(workspace=workspace, as_of=day, only=only, actor=requester or NIGHTLY)
        if nightly and not only:
            mark_night_done(workspace, day)
    logger.info("nightly for workspace %s on %s: %s", workspace.slug, day, ", ".join(ran) or "no steps")
    return {"workspace": workspace.slug, "as_of": day.isoformat(), "skipped": False, "steps": ran}


@shared_task
def schedule_nightly(now=None):
    """Beat entry, hourly: start the night of every workspace whose local time reached its hour.

    `now` (ISO 8601, default: now) is for running the beat's logic as of another moment. A night
    that cannot be queued (the broker went away) stays claimed and not done: a later beat queues it.
    """
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    for workspace, day in workspaces_due(now=moment):
        try:
            recompute_workspace.delay(workspace.pk, day.isoformat(), nightly=True)
        except BrokerUnavailable:
            logger.warning("nightly for workspace %s on %s not queued: the broker is unavailable; a later beat will",
                           workspace.slug, day, exc_info=True)
