"""The values accounts hold when the change log arrives, known from that day only: their past stays
unknown (recording them as of their contract start would claim today's renewal date, seats or
attributes were true then — the look-ahead the log exists to prevent)."""

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

TRACKED_FIELDS = ("arr", "licensed_seats", "contract_start", "renewal_date", "owner", "status", "churned_on", "plan")


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def backfill(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    Account = apps.get_model("accounts", "Account")
    AccountChange = apps.get_model("accounts", "AccountChange")
    now = timezone.now()
    for workspace in Workspace._default_manager.all().iterator():
        day = now.astimezone(zoneinfo.ZoneInfo(workspace.time_zone)).date()
        rows = []
        for account in Account._default_manager.filter(workspace=workspace).iterator(chunk_size=2000):
            for field in TRACKED_FIELDS:
                if field == "owner":
                    rows.append(AccountChange(workspace_id=workspace.pk, account_id=account.pk, field="owner",
                                              owner_id=account.owner_id, valid_from=day, changed_at=now,
                                              source="migration"))
                else:
                    rows.append(AccountChange(workspace_id=workspace.pk, account_id=account.pk, field=field,
                                              value=_json(getattr(account, field)), valid_from=day, changed_at=now,
                                              source="migration"))
            for key, value in sorted((account.attributes or {}).items()):
                rows.append(AccountChange(workspace_id=workspace.pk, account_id=account.pk, field=f"attr:{key}",
                                          value=value, valid_from=day, changed_at=now, source="migration"))
            if len(rows) >= 5000:
                AccountChange._default_manager.bulk_create(rows, batch_size=2000)
                rows = []
        AccountChange._default_manager.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_account_changes"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
