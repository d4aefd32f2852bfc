"""The contract lines as they are when versions arrive, known from that day only: their past stays
unknown (recording them as of their start would claim that today's MRR, seats, end or renewal date
were what the line said all along — the look-ahead versions exist to prevent). Before that day, the
values of a day come from the accounts' change log, as before."""

import zoneinfo

from django.db import migrations
from django.utils import timezone

FIELDS = ("account_id", "product", "mrr", "quantity", "unit", "start_date", "end_date", "renewal_date")


def backfill(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    Contract = apps.get_model("accounts", "Contract")
    ContractVersion = apps.get_model("accounts", "ContractVersion")
    now = timezone.now()
    for workspace in Workspace._default_manager.all().iterator():
        day = now.astimezone(zoneinfo.ZoneInfo(workspace.time_zone)).date()
        rows = []
        for line in Contract._default_manager.filter(workspace=workspace).iterator(chunk_size=2000):
            rows.append(ContractVersion(workspace_id=workspace.pk, line_id=line.pk, valid_from=day, changed_at=now,
                                        source="migration", **{name: getattr(line, name) for name in FIELDS}))
            if len(rows) >= 5000:
                ContractVersion._default_manager.bulk_create(rows, batch_size=2000)
                rows = []
        ContractVersion._default_manager.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_contract_versions"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
