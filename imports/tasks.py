"""Background imports. Tasks take ids, load the job and call the service."""

from celery import shared_task

from . import services


# No result: the job row holds the outcome, and enqueueing with one would wait on the result store
# when Redis is down.
@shared_task(acks_late=True, ignore_result=True)
def process_import_job(job_id):
    """Check (and, if asked, write) one uploaded file.

    Deliberately not retried: a failed import writes nothing and records why on the job, and the
    user re-runs it from the page once the cause is fixed. A redelivered message is harmless
    because the job is claimed with a conditional update before any work.
    """
    job = services.process_job(job_id=job_id)
    return {"job": job_id, "status": job.status if job else None}


@shared_task(ignore_result=True)
def sweep_queued_imports():
    """Beat entry, every few minutes: send again the jobs still queued (see services.requeue_queued_jobs).

    Nothing is lost while the broker is down: a queued job is a row in the database, only late.
    """
    return services.requeue_queued_jobs()
