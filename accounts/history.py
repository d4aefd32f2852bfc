"""The change log of accounts' tracked fields (AccountChange): what is written, and how values read back.

Every path that creates or changes an account records here, in the same transaction, the tracked
fields (models.TRACKED_FIELDS, and each custom attribute's key as "attr:<key>") that it set, known
from the workspace's day of the write. A new account records all of them (empty ones too: "known to
be empty" is not "unknown"). Values are JSON: money as a decimal string, dates as ISO days; the
owner is the `owner` column.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from .models import ATTRIBUTE_PREFIX, TRACKED_FIELDS, AccountChange

CHUNK = 1000


def to_json(field, value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if field in ("status", "plan"):
        return str(value)
    return value


def _row(workspace, account, field, value, *, day, source, now):
    if field == "owner":
        owner_id = getattr(account, "owner_id", None) if value is account else value
        return AccountChange(workspace=workspace, account_id=account.pk, field="owner", owner_id=owner_id,
                             valid_from=day, changed_at=now, source=source)
    return AccountChange(workspace=workspace, account_id=account.pk, field=field, value=to_json(field, value),
                         valid_from=day, changed_at=now, source=source)


def current_rows(workspace, account, *, day, source, now=None):
    """Rows recording every tracked value `account` holds, known from `day`."""
    now = now or timezone.now()
    rows = [_row(workspace, account, field, account if field == "owner" else getattr(account, field),
                 day=day, source=source, now=now) for field in TRACKED_FIELDS]
    for key, value in sorted((account.attributes or {}).items()):
        rows.append(_row(workspace, account, ATTRIBUTE_PREFIX + str(key), value, day=day, source=source, now=now))
    return rows


def changed_rows(workspace, account, changed, *, day, source, now=None):
    """Rows for the tracked fields of `account` named in `changed` ({field: old value}); for
    `attributes`, one row per key whose value differs from the old dict (None for a removed key)."""
    now = now or timezone.now()
    rows = []
    for field in TRACKED_FIELDS:
        if field in changed:
            rows.append(_row(workspace, account, field, account if field == "owner" else getattr(account, field),
                             day=day, source=source, now=now))
    if "attributes" in changed:
        old, new = changed["attributes"] or {}, account.attributes or {}
        for key in sorted(set(old) | set(new), key=str):
            if key not in new:
                rows.append(_row(workspace, account, ATTRIBUTE_PREFIX + str(key), None, day=day, source=source,
                                 now=now))
            elif key not in old or old[key] != new[key]:
                rows.append(_row(workspace, account, ATTRIBUTE_PREFIX + str(key), new[key], day=day, source=source,
                                 now=now))
    return rows


def save_rows(rows):
    AccountChange.objects.bulk_create(rows, batch_size=CHUNK)


def record_current_values(*, workspace, accounts, source, day=None):
    """Record every tracked value of `accounts` (created outside the writers, e.g. the demo), known
    from `day` (the workspace's today unless given)."""
    day = day or workspace.today()
    rows = []
    for account in accounts:
        rows.extend(current_rows(workspace, account, day=day(account) if callable(day) else day, source=source))
    save_rows(rows)
    return len(rows)


def record_save(account, before):
    """After `Account.save()`: every tracked value of a new account (`before` None), else those that
    differ from `before` (the row's values read just before the save)."""
    workspace, day = account.workspace, account.workspace.today()
    if before is None:
        save_rows(current_rows(workspace, account, day=day, source="save"))
        return
    changed = {}
    for field in TRACKED_FIELDS:
        column = "owner_id" if field == "owner" else field
        if before[column] != getattr(account, column):
            changed[field] = before[column]
    if (before["attributes"] or {}) != (account.attributes or {}):
        changed["attributes"] = before["attributes"] or {}
    save_rows(changed_rows(workspace, account, changed, day=day, source="save"))
