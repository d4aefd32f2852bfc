"""Usage tasks. They take ids, load rows and call a service."""

from celery import shared_task
from django.core.cache import cache

from workspaces.models import Workspace


@shared_task(bind=True, acks_late=True)
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
