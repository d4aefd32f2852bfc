"""Background imports. Tasks take ids, load the job and call the service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def process_import_job(job_id):
    """Check (and, if asked, write) one uploaded file.

    Deliberately not retried: a failed import writes nothing and records why on the job, and the
    user re-runs it from the page once the cause is fixed. A redelivered message is harmless
    because the job is claimed with a conditional update before any work.
    """
    job = services.process_job(job_id=job_id)
    return {"job": job_id, "status": job.status if job else None}
