"""Imports: check a sheet (dry run), write it in one transaction, and run it as a background job.

Pages, the Celery task and the `import_data` command all call these functions.
"""

import logging
import os
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from workspaces.audit import record_audit
from workspaces.errors import DomainError, NotAllowed
from workspaces.locks import advisory_lock
from workspaces.policy import allows, authorize

from .columns import OBJECT_TYPES, normalise_header
from .importers import IMPORTERS
from .models import ImportJob, ImportMapping, ImportStatus
from .readers import FileError, read_file, read_head

logger = logging.getLogger(__name__)

# Errors kept on a job and shown on the page; the count is always exact.
MAX_ERRORS = 1000
MAX_UPLOAD_BYTES = getattr(settings, "IMPORTS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
# Rows a page reads from an upload: enough to count a small file, few enough to stay quick on a big one.
HEAD_ROWS = 1000


@dataclass
class ImportResult:
    object_type: str
    total_rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    error_rows: int = 0
    errors: list = field(default_factory=list)
    mapping_errors: list = field(default_factory=list)
    committed: bool = False

    @property
    def is_valid(self):
        return not self.mapping_errors and not self.error_rows

    def summary(self):
        return {
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "skipped": self.skipped, "error_rows": self.error_rows, "committed": self.committed,
            "mapping_errors": self.mapping_errors,
        }


def can_import(actor, object_type):
    """Loading a book of business is a manager's act; CSMs may load touchpoints (workspaces.policy)."""
    return object_type in OBJECT_TYPES and allows(actor, f"imports.{object_type}")


def check_can_import(actor, object_type):
    if object_type not in OBJECT_TYPES:
        raise DomainError(_("Unknown object type “%(value)s”.") % {"value": object_type}, field="object_type")
    authorize(actor, f"imports.{object_type}")


def mapping_from_headers(*, headers, columns_by_header):
    """{column index: canonical name} from {header as written: canonical name} (used by scripts)."""
    wanted = {normalise_header(header): name for header, name in columns_by_header.items()}
    return {index: wanted[normalise_header(header)] for index, header in enumerate(headers)
            if normalise_header(header) in wanted}


def import_sheet(*, workspace, actor, object_type, sheet, mapping, commit=False, valid_only=False,
                 progress=None, job=None, filename=""):
    """Check every row of `sheet`; with `commit`, write the file in one transaction.

    Nothing is written unless every row is valid, or `valid_only` says to skip the invalid ones.
    `mapping` is {column index: canonical column name}. Returns an ImportResult.
    """
    check_can_import(actor, object_type)
    importer = IMPORTERS[object_type](workspace=workspace, actor=actor, headers=sheet.headers, mapping=mapping)
    result = ImportResult(object_type=object_type, total_rows=len(sheet))
    result.mapping_errors = importer.mapping_errors()
    if result.mapping_errors:
        return result
    plans = importer.run(sheet, progress=progress)
    result.errors = sorted(importer.errors, key=lambda error: error["row"])
    result.error_rows = len(importer.error_rows)
    effective = [plan for plan in plans if plan.has_effect]
    result.created = sum(plan.created for plan in effective)
    result.updated = len(effective) - result.created
    result.unchanged = len(plans) - len(effective)
    if commit and (result.error_rows == 0 or valid_only):
        result.skipped = result.error_rows
        # Rows were checked against what the database held a moment ago; a concurrent writer that
        # takes the same external ID makes the insert fail here, and the whole file rolls back.
        with transaction.atomic():
            importer.write(effective)
            record_audit(
                workspace=workspace, actor=actor, action=f"import.{object_type}", obj=job,
                object_type=None if job else "import",
                changes={"file": filename or (job.filename if job else ""), "created": result.created,
                         "updated": result.updated, "skipped_rows": result.skipped},
            )
        result.committed = True
    return result


# --- saved mappings ------------------------------------------------------------------------------
def save_mapping(*, workspace, object_type, headers, mapping):
    """Remember each header's choice (an empty string for "ignore") for the next file of this type."""
    saved, _created = ImportMapping.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, object_type=object_type)
    columns = dict(saved.columns)
    chosen = {int(index): name for index, name in mapping.items()}
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if key:
            columns[key] = chosen.get(index, "")
    saved.columns = columns
    saved.save()
    return saved


# --- jobs ------------------------------------------------------------------------------------------
def create_job(*, workspace, actor, object_type, upload):
    """Store an uploaded file as a job waiting for its mapping. Unreadable files are refused here."""
    check_can_import(actor, object_type)
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError(_("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
                          field="file")
    data = upload.read()
    try:
        # The head only: a request never waits on a big sheet; the dry run reads (and counts) it all.
        head = read_head(data, filename=upload.name, rows=HEAD_ROWS)
    except FileError as exc:
        raise DomainError(exc.message, field="file") from None
    if not head.rows:
        raise DomainError(_("The file has column headers but no rows under them."), field="file")
    filename = os.path.basename(upload.name)[:200].replace("\x00", "")
    job = ImportJob(workspace=workspace, created_by=actor, object_type=object_type, filename=filename,
                    total_rows=len(head) if head.complete else 0)
    job.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{get_valid_filename(filename) or 'upload'}", ContentFile(data),
                  save=False)
    job.save()
    return job


def job_sheet(job):
    """The whole sheet of a job (for the background job: it may take seconds)."""
    with job.file.open("rb") as handle:
        return read_file(handle.read(), filename=job.filename)


def job_head(job, *, rows=HEAD_ROWS):
    """The header and first rows of a job's file (for pages). `complete` says whether that is all of it."""
    with job.file.open("rb") as handle:
        return read_head(handle.read(), filename=job.filename, rows=rows)


@transaction.atomic
def start_job(*, job, actor, mapping=None, commit=False, valid_only=False):
    """Queue the dry run (or, with `commit`, the import) of a job; the worker picks it up after commit."""
    check_can_import(actor, job.object_type)
    job = ImportJob.objects.for_workspace(job.workspace).select_for_update().get(pk=job.pk)
    if job.is_running:
        raise DomainError(_("This import is already running."))
    if job.status == ImportStatus.DONE:
        raise DomainError(_("This file has already been imported. Upload it again to re-import it."))
    if mapping is not None:
        job.mapping = {str(index): name for index, name in mapping.items() if name}
        save_mapping(workspace=job.workspace, object_type=job.object_type, headers=job_head(job, rows=0).headers,
                     mapping=mapping)
    job.status = ImportStatus.QUEUED
    job.commit_requested = commit
    job.valid_only = valid_only and commit
    job.processed_rows = 0
    job.failure = ""
    job.save()
    job.enqueued = None  # known once committed: see enqueue_job

    def send():
        job.enqueued = enqueue_job(job.pk)

    transaction.on_commit(send)
    return job


# Enqueueing happens in the page's request, once the job is saved: with the broker down it must cost
# the request nothing (one try, no reconnect loop, no result to wait for) and lose nothing: the job
# stays queued in the database, and the beat's sweep (imports.tasks.sweep_queued_imports) sends it
# again once the broker is back. A job sent twice runs once (process_job claims it).
ENQUEUE_ONCE = {"max_retries": 0, "interval_start": 0, "interval_step": 0, "interval_max": 0}


def enqueue_job(job_id):
    """Send a queued job to the workers (in-process without a broker). Never raises; returns whether
    the broker took it."""
    from kombu.exceptions import OperationalError as BrokerUnavailable

    from .tasks import process_import_job

    try:
        process_import_job.apply_async((job_id,), retry_policy=ENQUEUE_ONCE)
    except BrokerUnavailable:
        logger.warning("import job %s not enqueued (broker unavailable); it stays queued for the sweep", job_id,
                       exc_info=True)
        return False
    return True


def requeue_queued_jobs():
    """Send every job still marked queued again (all workspaces: the sweep is the platform's).

    Catches up the jobs whose enqueueing failed (broker down) or whose message was lost (a Redis
    restarted without persistence), and first puts back in the queue the jobs whose worker died
    (requeue_abandoned_jobs). A job whose message is still waiting gets a second one, which finds it
    claimed and does nothing.
    """
    requeue_abandoned_jobs()
    queued = ImportJob.all_workspaces.filter(status=ImportStatus.QUEUED).order_by("pk").values_list("pk", flat=True)
    return sum(enqueue_job(job_id) for job_id in queued)


# A running job holds this advisory lock (workspaces.locks) from before it is claimed until it is
# finished; the database releases it when the worker dies.
JOB_LOCK_NAMESPACE = 0x696D7074  # "impt"


def requeue_abandoned_jobs():
    """Jobs marked as checking whose worker died (killed, out of memory, its machine gone) back to
    queued; returns how many.

    Such a job wrote nothing (a job writes in one transaction, which died with its session), and
    its message is gone or finds the job claimed. A job is abandoned when nobody holds its lock: a
    running job holds it from before its claim to after its outcome is recorded.
    """
    abandoned = 0
    checking = ImportJob.all_workspaces.filter(status=ImportStatus.CHECKING).values_list("pk", flat=True)
    for job_id in checking:
        with job_lock(job_id) as nobody_runs_it:
            if nobody_runs_it and ImportJob.all_workspaces.filter(pk=job_id, status=ImportStatus.CHECKING).update(
                    status=ImportStatus.QUEUED, processed_rows=0):
                logger.warning("import job %s was abandoned by its worker; queued again", job_id)
                abandoned += 1
    return abandoned


def job_lock(job_id):
    return advisory_lock(JOB_LOCK_NAMESPACE, job_id)


def process_job(*, job_id):
    """Run a queued job: check every row and, if asked, write. Records the outcome on the job."""
    with job_lock(job_id) as mine:
        if not mine:
            logger.info("import job %s is running elsewhere; skipped", job_id)
            return None
        return _process_claimed_job(job_id)


def _process_claimed_job(job_id):
    # The task carries only the job's id; the job row names its workspace, which scopes all that follows.
    claimed = ImportJob.all_workspaces.filter(pk=job_id, status=ImportStatus.QUEUED).update(status=ImportStatus.CHECKING)
    if not claimed:
        # Already done by another worker (a redelivered message), or cancelled: nothing to do.
        logger.info("import job %s is not queued; skipped", job_id)
        return None
    job = ImportJob.all_workspaces.select_related("workspace", "created_by__user").get(pk=job_id)

    def progress(done):
        ImportJob.objects.for_workspace(job.workspace).filter(pk=job_id).update(processed_rows=done)

    if job.created_by is None:
        # A job runs with the rights of the member who started it; that member is gone.
        _finish(job, status=ImportStatus.FAILED,
                failure=_("The member who started this import no longer exists; upload the file again."))
        return job
    try:
        sheet = job_sheet(job)
        ImportJob.objects.for_workspace(job.workspace).filter(pk=job_id).update(total_rows=len(sheet))
        job.total_rows = len(sheet)
        result = import_sheet(
            workspace=job.workspace, actor=job.created_by, object_type=job.object_type, sheet=sheet,
            mapping=job.mapping, commit=job.commit_requested, valid_only=job.valid_only, progress=progress, job=job,
        )
    except (DomainError, NotAllowed, FileError) as exc:
        _finish(job, status=ImportStatus.FAILED, failure=exc.message)
        return job
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        _finish(job, status=ImportStatus.FAILED,
                failure=_("The import failed and nothing was written (%(error)s).") % {"error": exc.__class__.__name__})
        return job
    job.summary = result.summary()
    job.errors = result.errors[:MAX_ERRORS]
    job.error_count = len(result.errors)
    job.total_rows = result.total_rows
    _finish(job, status=ImportStatus.DONE if result.committed else ImportStatus.CHECKED)
    return job


def _finish(job, *, status, failure=""):
    job.status = status
    job.failure = failure
    job.processed_rows = job.total_rows
    job.finished_at = timezone.now()
    job.save()
