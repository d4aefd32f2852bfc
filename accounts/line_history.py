"""The versions of contract lines (ContractVersion): what is written, and when.

Every path that creates, changes or deletes a line records here, in the same transaction, what the
line says from the workspace's day of the write: a new line opens a version; an edit of any of
models.LINE_FIELDS closes the open version on that day and opens one with the new values; a deletion
closes it. The past of a line is therefore never rewritten: a day before the write keeps reading the
version that was open then (accounts.selectors.lines_known_on).
"""

from django.utils import timezone

from .models import LINE_FIELDS, ContractVersion

CHUNK = 1000


def version_of(line, *, day, source, now=None):
    """The unsaved version opening `line`'s current values from `day`."""
    return ContractVersion(
        workspace_id=line.workspace_id, line_id=line.pk, account_id=line.account_id, product=line.product,
        mrr=line.mrr, quantity=line.quantity, unit=line.unit, start_date=line.start_date, end_date=line.end_date,
        renewal_date=line.renewal_date, valid_from=day, changed_at=now or timezone.now(), source=source)


def close(workspace, line_ids, *, day):
    """Close the open versions of these lines on `day` (they no longer say what the line is)."""
    scoped = ContractVersion.objects.for_workspace(workspace).filter(valid_to__isnull=True)
    line_ids = [pk for pk in line_ids if pk is not None]
    for first in range(0, len(line_ids), CHUNK):
        scoped.filter(line_id__in=line_ids[first:first + CHUNK]).update(valid_to=day)


def record(workspace, *, opened=(), changed=(), deleted_ids=(), source, day=None):
    """One write of lines: versions for the new lines `opened`, a new version for each changed line
    of `changed` (its open one closed), and the open versions of `deleted_ids` closed; from `day`,
    the workspace's today unless given. A few queries per thousand lines."""
    day = day or workspace.today()
    now = timezone.now()
    close(workspace, [line.pk for line in changed] + list(deleted_ids), day=day)
    versions = [version_of(line, day=day, source=source, now=now) for line in (*opened, *changed)]
    ContractVersion.objects.bulk_create(versions, batch_size=CHUNK)


def versioned_change(changed):
    """Whether a writer's {field: old value} touches what a version keeps."""
    return any(name in changed for name in LINE_FIELDS)


def record_saved(line, *, created):
    """After `Contract.save()` (a save outside the writers): a version for a new line, else a new
    one when its values differ from its open version."""
    workspace = line.workspace
    if created:
        record(workspace, opened=[line], source="save")
        return
    current = (ContractVersion.objects.for_workspace(workspace).filter(line_id=line.pk, valid_to__isnull=True)
               .order_by("-valid_from", "-id").first())
    columns = [f"{name}_id" if name == "account" else name for name in LINE_FIELDS]
    same = current is not None and all(getattr(current, c) == getattr(line, c) for c in columns)
    if not same:
        record(workspace, changed=[line], source="save")


def record_deleted(workspace, line_ids):
    """Before lines are deleted: their open versions close today; the rows stay (the past keeps them)."""
    close(workspace, list(line_ids), day=workspace.today())


def record_current_lines(*, workspace, lines, source, day=None):
    """Versions of `lines` (created outside the writers, e.g. the demo) known from `day` (the
    workspace's today unless given; a callable of the line for a day per line)."""
    day = day or workspace.today()
    now = timezone.now()
    versions = [version_of(line, day=day(line) if callable(day) else day, source=source, now=now) for line in lines]
    ContractVersion.objects.bulk_create(versions, batch_size=CHUNK)
    return len(versions)
