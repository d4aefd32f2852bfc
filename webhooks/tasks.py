"""Webhook tasks. They take ids, load rows and call a service."""

import logging

from celery import shared_task

from .services import attempt_delivery, due_deliveries, enqueue, purge_old_deliveries

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def deliver_webhook(self, delivery_id, manual=False):
    """One attempt; a failure is tried again later (1 min, 5, 30, 2 h; five attempts).

    Run in-process (no broker), the task cannot wait: the failed delivery keeps its next attempt's
    time, and the beat's `retry_due_deliveries` (or the page's "Retry") tries it again.
    """
    outcome = attempt_delivery(delivery_id, manual=manual)
    if outcome is not None and outcome.retry_in and not self.request.is_eager:
        raise self.retry(args=(delivery_id,), kwargs={"manual": False}, countdown=outcome.retry_in)
    return outcome.status if outcome else None


@shared_task(ignore_result=True)
def retry_due_deliveries():
    """Beat entry, every few minutes: queue the deliveries whose attempt is overdue."""
    ids = due_deliveries()
    for delivery_id in ids:
        enqueue(delivery_id)
    return len(ids)


@shared_task(ignore_result=True)
def purge_webhook_deliveries():
    """Beat entry, daily: deliveries older than the retention, in every workspace."""
    return purge_old_deliveries()
