"""The health step of the nightly pipeline: score every account as of the day, store the day's
snapshots, copy the current score onto the accounts, and open or update alerts.

It reads usage rollups, tiers, segment membership and touches, so it runs last (cs_platform/nightly.py).
"""

import datetime as dt

import pandas as pd
from django.db import connection, transaction

from accounts.services import copy_nightly_values

from .alerts import ALERT_WINDOW_DAYS, evaluate_alerts, mark_churned_alerts
from .models import HealthSnapshot
from .scoring import compute_scores, snapshot_payload

CHUNK = 2000


def step(*, workspace, as_of):
    """Score every account, store the day's snapshots, refresh the account rows and alerts."""
    frame, signals = compute_scores(workspace=workspace, as_of=as_of)
    with transaction.atomic():
        store_snapshots(workspace=workspace, as_of=as_of, frame=frame)
        newest = not HealthSnapshot.objects.for_workspace(workspace).filter(day__gt=as_of).exists()
        history = _recent_history(workspace=workspace, as_of=as_of)
        if newest:
            _copy_onto_accounts(workspace=workspace, as_of=as_of, frame=frame, history=history)
        evaluate_alerts(workspace=workspace, as_of=as_of, frame=frame, signals=signals, history=history)
        mark_churned_alerts(workspace=workspace)
    return {"accounts": len(frame)}


def store_snapshots(*, workspace, as_of, frame):
    """Upsert one snapshot per (account, day); rows of accounts no longer scored that day go.

    A chunk of accounts at a time: a row as a Python dict with its groups and measures costs a few
    kilobytes, and 100,000 of them at once were most of the night's peak memory."""
    HealthSnapshot.objects.for_workspace(workspace).filter(day=as_of).exclude(
        account_id__in=list(frame.index)).delete()
    for start in range(0, len(frame), CHUNK):
        rows = []
        for account_id, row in frame.iloc[start:start + CHUNK].to_dict("index").items():
            version = row["version"]
            groups, measures = snapshot_payload(row, version.definition)
            total = None if pd.isna(row["total"]) else float(row["total"])
            rows.append((int(account_id), version.pk, total, row["band"], float(row["available_weight"]), groups,
                         measures))
        if connection.vendor == "postgresql":
            _upsert_snapshots_with_values(workspace=workspace, as_of=as_of, rows=rows)
            continue
        HealthSnapshot.objects.bulk_create(
            [HealthSnapshot(workspace=workspace, account_id=account_id, day=as_of, version_id=version_id, total=total,
                            band=band, available_weight=weight, groups=groups, measures=measures)
             for account_id, version_id, total, band, weight, groups, measures in rows],
            update_conflicts=True, unique_fields=["account", "day"],
            update_fields=["version", "total", "band", "available_weight", "groups", "measures"],
        )


def _upsert_snapshots_with_values(*, workspace, as_of, rows):
    """The same upsert as multi-row VALUES lists: at 100k accounts, preparing model instances and
    values one by one in bulk_create cost more than the database's own work."""
    from psycopg2.extras import Json, execute_values  # the PostgreSQL driver, on PostgreSQL only

    table = HealthSnapshot._meta.db_table
    sql = f"""
        INSERT INTO {table} (workspace_id, day, account_id, version_id, total, band, available_weight, groups, measures)
        VALUES %s
        ON CONFLICT (account_id, day) DO UPDATE SET
            version_id = EXCLUDED.version_id, total = EXCLUDED.total, band = EXCLUDED.band,
            available_weight = EXCLUDED.available_weight, groups = EXCLUDED.groups, measures = EXCLUDED.measures
    """
    values = [(workspace.pk, as_of, account_id, version_id, total, band, weight, Json(groups), Json(measures))
              for account_id, version_id, total, band, weight, groups, measures in rows]
    # The driver's cursor, with Django's error translation (and its note that the connection broke).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        execute_values(cursor.cursor, sql, values, page_size=CHUNK)


def _recent_history(*, workspace, as_of):
    """Snapshots of the 30 days before `as_of` (one query), for the 30-day change and alerts: day,
    total and band only (the alerts read the groups of the few snapshots they need; a month of every
    account's groups would be the night's largest memory)."""
    rows = (HealthSnapshot.objects.for_workspace(workspace)
            .filter(day__gte=as_of - dt.timedelta(days=ALERT_WINDOW_DAYS), day__lt=as_of)
            .order_by("account_id", "day").values_list("account_id", "day", "total", "band"))
    return pd.DataFrame.from_records(rows.iterator(chunk_size=10000), columns=["account_id", "day", "total", "band"])


def _copy_onto_accounts(*, workspace, as_of, frame, history):
    # Lists filter and sort on the account row (see the performance notes), so the current score
    # lives there too.
    reference = history[history["day"] == as_of - dt.timedelta(days=ALERT_WINDOW_DAYS)].set_index("account_id")
    change = (frame["total"] - reference["total"].reindex(frame.index).astype(float)).round(2)
    # Whole columns at once: reading 100k cells one by one with .at took half a minute.
    rows = list(zip(
        (int(pk) for pk in frame.index), _nullable(frame["total"]), frame["band"].tolist(),
        _nullable(change.reindex(frame.index)), strict=True,
    ))
    copy_nightly_values(workspace=workspace, fields=["health_score", "health_band", "health_change_30d"], rows=rows)


def _nullable(series):
    """The Series as Python floats, with None where it is missing."""
    return [None if pd.isna(v) else float(v) for v in series.tolist()]
