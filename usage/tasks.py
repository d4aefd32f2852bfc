"""Usage tasks. They take ids, load rows and call a service."""

from celery import shared_task
from django.core.cache import cache

from workspaces.models import Workspace

from .models import DirtyUsageDay


# No result: nothing reads it, and enqueueing one would wait on the result store when Redis is down.
@shared_task(bind=True, acks_late=True, ignore_result=True)
def rollup_usage(self, workspace_id):
    """Roll up the days batches marked dirty. Not retried: the marks stay until a run covers them,
    so the next batch's task or the nightly step repairs a failed run."""
    from .services import rollup_dirty_days, rollup_pending_key

    if not self.request.is_eager:
        # Cleared first: a batch committed from now on enqueues a fresh run (see schedule_rollup).
        # Run in-process (no broker), the flag instead expires after the debounce window, so
        # that a burst of batches does not recompute the day once per batch in the request.
        cache.delete(rollup_pending_key(workspace_id))
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return []
    return [d.isoformat() for d in rollup_dirty_days(workspace=workspace)]


@shared_task(ignore_result=True)
def sweep_usage_rollups():
    """Beat entry, every few minutes: enqueue the rollup of every workspace that has days still marked.

    Batches enqueue their own rollup; this catches up the ones they could not (the broker or the
    cache was down, or a restarted Redis lost the queued task), even when no batch follows. The
    marks are rows in the database, so nothing is lost meanwhile: only late.
    """
    from .services import schedule_rollup

    # The marks of every workspace, on purpose: the sweep is the platform's, not a tenant's.
    workspace_ids = DirtyUsageDay.all_workspaces.order_by("workspace_id").values_list("workspace_id", flat=True)
    return sum(schedule_rollup(workspace_id, countdown=0, force=True) for workspace_id in workspace_ids.distinct())


@shared_task(acks_late=True, ignore_result=True)
def run_history_job(job_id):
    """Load a checked history file and rebuild the rollups of its days (or only rebuild a range).

    Not retried: a failed job records why; loading again is harmless (events deduplicate by id)."""
    from .services.history import run_job

    job = run_job(job_id=job_id)
    return {"job": job_id, "status": job.status if job else None}
