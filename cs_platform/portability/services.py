"""Export one workspace to an archive; import an archive as a new workspace.

Export reads one consistent moment of the workspace (a single read transaction: on PostgreSQL a
repeatable-read snapshot), every part's tables streamed in turn. Import checks the archive whole
first (format, version, every checksum and count), then writes everything in one transaction:
a failure at any row leaves nothing behind, not even the workspace.
"""

import os
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workspaces.audit import record_audit
from workspaces.models import Workspace
from workspaces.policy import SystemActor
from workspaces.transfer import ExportContext, ImportContext, TransferError, stored_timestamps

from .archive import ArchiveError, ArchiveReader, ArchiveWriter
from .parts import PARTS, part_named

EXPORTER, IMPORTER = SystemActor("export_workspace"), SystemActor("import_workspace")
# The workspace's own settings travel; its slug is the importer's to choose, and the night it last
# queued is this deployment's bookkeeping.
WORKSPACE_SKIPPED = {"id", "slug", "nightly_queued_on"}


def _workspace_fields():
    return [f for f in Workspace._meta.concrete_fields if f.name not in WORKSPACE_SKIPPED]


@dataclass
class ImportResult:
    workspace: Workspace | None
    tables: list = field(default_factory=list)  # [(part, table, rows)]
    notes: list = field(default_factory=list)
    dry_run: bool = False


def _no_progress(part, table, rows):
    pass


# --- export ----------------------------------------------------------------------------------------
def export_workspace(*, workspace, path, progress=_no_progress):
    """Write `workspace` to a new archive at `path`; returns the manifest."""
    writer = ArchiveWriter(path)
    # SET TRANSACTION must be the transaction's first statement: not possible inside a caller's.
    outer = connection.in_atomic_block
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql" and not outer:
                with connection.cursor() as cursor:  # every table read as of one moment
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            context = ExportContext(workspace=workspace)
            for part in PARTS:
                for table in part.tables:
                    rows = writer.write_table(part.name, table.name, table.export_rows(workspace, context))
                    progress(part.name, table.name, rows)
            for archive_name, storage, storage_name in context.files:
                with storage.open(storage_name, "rb") as handle:
                    writer.write_file(archive_name, handle)
            settings = {f.attname: getattr(workspace, f.attname) for f in _workspace_fields()}
            manifest = writer.finish(parts=[part.name for part in PARTS], workspace=settings,
                                     created_at=timezone.now().isoformat(), source_slug=workspace.slug)
    except BaseException:
        writer.abort()
        raise
    # Who took the whole data out, and when: after the read-only transaction, in the log it did not read.
    record_audit(workspace=workspace, actor=EXPORTER, action="workspace.exported", changes={
        "file": os.path.basename(path), "rows": _rows(manifest), "format_version": manifest["format_version"]})
    return manifest


def _rows(manifest):
    return sum(table["rows"] for part in manifest["parts"] for table in part["tables"])


# --- import ----------------------------------------------------------------------------------------
class _DryRun(Exception):
    pass


def import_workspace(*, path, slug, name=None, dry_run=False, progress=_no_progress):
    """Create the workspace `slug` from the archive at `path`. Raises ArchiveError, naming the
    problem, before or instead of writing anything. With `dry_run`, everything is imported and
    checked, then rolled back."""
    archive = ArchiveReader(path)
    try:
        archive.verify()
        _check_parts(archive)
        if Workspace.objects.filter(slug=slug).exists():
            raise ArchiveError(_("A workspace with the slug %(slug)s exists already: import into a new one.")
                               % {"slug": slug})
        context = ImportContext(workspace=None, now=timezone.now(), open_file=archive.open_file)
        result = ImportResult(workspace=None, dry_run=dry_run)
        try:
            with transaction.atomic():
                result.workspace = context.workspace = _create_workspace(archive.manifest["workspace"], slug, name)
                _import_parts(archive, context, result, progress)
                result.notes = context.notes
                record_audit(workspace=result.workspace, actor=IMPORTER, action="workspace.imported", changes={
                    "file": os.path.basename(path), "rows": _rows(archive.manifest),
                    "exported_at": archive.manifest.get("created_at"), "from": archive.manifest.get("source_slug")})
                if dry_run:
                    raise _DryRun
        except _DryRun:
            _remove_files(context)
            result.workspace = None  # rolled back: it does not exist
        except (TransferError, DatabaseError, ValidationError) as error:
            _remove_files(context)
            raise ArchiveError(_("The archive could not be imported, and nothing was written: %(error)s")
                               % {"error": _message(error)}) from error
        except BaseException:
            _remove_files(context)
            raise
        return result
    finally:
        archive.close()


def _check_parts(archive):
    for part_name, table in archive.tables():
        part = part_named(part_name)
        if part is None or part.table(table["name"]) is None:
            raise ArchiveError(
                _("The archive holds %(table)s, which this deployment does not know (an archive of a newer "
                  "version of the platform?): importing it would lose those rows.") % {"table": table["file"]})


def _create_workspace(settings, slug, name):
    values = {}
    by_attname = {f.attname: f for f in _workspace_fields()}
    for attname, value in settings.items():
        if attname not in by_attname:
            raise TransferError(f"workspace: unknown setting {attname!r}.")
        values[attname] = value if value is None else by_attname[attname].to_python(value)
    workspace = Workspace(**values, slug=slug)
    if name:
        workspace.name = name
    workspace.full_clean()
    with stored_timestamps(Workspace):  # the original's creation date, not today's
        workspace.save()
    return workspace


def _import_parts(archive, context, result, progress):
    in_archive = {}
    for part_name, table in archive.tables():
        in_archive.setdefault(part_name, {})[table["name"]] = table
    for part in PARTS:
        tables = in_archive.get(part.name)
        if tables is None:
            # An archive made before this part existed: the workspace gets the part's defaults.
            if part.defaults is not None:
                part.defaults(workspace=context.workspace)
            continue
        missing = False
        for table in part.tables:
            entry = tables.get(table.name)
            if entry is None:
                missing = True
                continue  # a table added since the archive was made: it had no rows then
            rows = table.import_rows(context.workspace, archive.rows(entry), context)
            if rows != entry["rows"]:
                raise TransferError(f"{table.name}: imported {rows} rows, the manifest says {entry['rows']}.")
            result.tables.append((part.name, table.name, rows))
            progress(part.name, table.name, rows)
        if missing and part.defaults is not None:
            # Defaults of a table added since (e.g. churn reasons); idempotent, so what the archive
            # brought stays as it is.
            part.defaults(workspace=context.workspace)


def _remove_files(context):
    for storage, name in context.stored_files:
        storage.delete(name)
    context.stored_files.clear()


def _message(error):
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)
