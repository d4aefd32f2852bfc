"""Import jobs (an uploaded file, its mapping, progress and outcome) and saved column mappings."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from workspaces.models import Membership, WorkspaceOwned

from .columns import OBJECT_TYPES


class ImportMapping(WorkspaceOwned):
    """The last mapping a workspace used for an object type: {normalised header: canonical column}.

    An empty string means "ignore this column", so a deliberate choice to skip a column is
    remembered too.
    """

    object_type = models.CharField(_("object type"), max_length=20, choices=list(OBJECT_TYPES.items()))
    columns = models.JSONField(_("columns"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "object_type"], name="import_mapping_unique_per_type")
        ]

    def __str__(self):
        return f"{self.object_type} mapping"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded, waiting for the column mapping")
    QUEUED = "queued", _("Queued")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


RUNNING_STATUSES = (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.IMPORTING)


def upload_path(job, filename):
    return f"imports/{job.workspace_id}/{filename}"


class ImportJob(WorkspaceOwned):
    object_type = models.CharField(_("object type"), max_length=20, choices=list(OBJECT_TYPES.items()))
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(_("file"), upload_to=upload_path)
    filename = models.CharField(_("file name"), max_length=255)
    # {"column index as string": canonical column name}, as chosen on the mapping step.
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    commit_requested = models.BooleanField(default=False)
    valid_only = models.BooleanField(_("import valid rows only"), default=False)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # {"created": n, "updated": n, "unchanged": n, "skipped": n, "error_rows": n, "committed": bool}
    summary = models.JSONField(default=dict, blank=True)
    # [{"row": 5, "column": "ARR", "field": "arr", "message": "…"}, …] (capped; see services.MAX_ERRORS)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "created_at"])]

    def __str__(self):
        return f"{self.get_object_type_display()} · {self.filename}"

    @property
    def is_running(self):
        return self.status in RUNNING_STATUSES

    @property
    def progress_percent(self):
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
