"""What of the imports capability travels in a workspace archive: saved mappings and the jobs.

A job's row travels whole (file name, mapping, outcome, errors). Its uploaded file travels only
while the job can still be started (uploaded, checked or failed); an imported file is never read
again. A job that was running when the archive was made cannot resume elsewhere: it arrives
failed, with its file, and can be started again.
"""

import os
from types import SimpleNamespace

from django.core.files import File
from django.utils.translation import gettext as _

from workspaces.transfer import Part, Table

from .models import RUNNING_STATUSES, ImportJob, ImportMapping, ImportStatus, upload_path

FILE_FIELD = ImportJob._meta.get_field("file")


def _attach_file(row, context):
    name = row["file"]
    row["file"] = ""
    if name and row["status"] != ImportStatus.DONE and FILE_FIELD.storage.exists(name):
        row["file"] = f"files/imports/{row['id']}/{os.path.basename(name)}"
        context.add_file(row["file"], FILE_FIELD.storage, name)
    return row


def _restore_file(values, context):
    archived = values.get("file") or ""
    values["file"] = ""
    handle = context.open_file(archived) if archived else None
    if handle is not None:
        with handle:
            target = upload_path(SimpleNamespace(workspace_id=context.workspace.pk), os.path.basename(archived))
            values["file"] = FILE_FIELD.storage.save(target, File(handle))
        context.stored_files.append((FILE_FIELD.storage, values["file"]))
    if values.get("status") in RUNNING_STATUSES:
        values["status"] = ImportStatus.FAILED
        values["failure"] = _("This import was running when the workspace was exported; start it again.")
        values["finished_at"] = context.now
    return values


PART = Part("imports", [
    Table(ImportMapping),
    Table(ImportJob, out=_attach_file, into=_restore_file),
])
