"""Health alerts of the nightly step: entering red and sharp drops, never duplicated, within each
CSM's weekly budget ("alerts that fire so often that nobody acts" is the failure to avoid)."""

import datetime as dt

import pandas as pd
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, AccountStatus, HealthBand
from webhooks.events import emit_many

from .models import AlertKind, AlertOutcome, AlertStatus, HealthAlert, HealthSnapshot, week_of
from .selectors import health_settings

ALERT_WINDOW_DAYS = 30
CHURN_LOOKAHEAD_DAYS = 90


def _none(value):
    return None if value is None or pd.isna(value) else float(value)


def evaluate_alerts(*, workspace, as_of, frame, signals, history):
    """Open or update alerts for accounts entering red or dropping, within each CSM's weekly budget.

    An open alert with the same (account, kind, reason) is updated, never duplicated (the database
    enforces it too); one closed less than 30 days ago is not reopened, so a dismissal sticks.
    """
    settings = health_settings(workspace=workspace)
    if frame.empty:
        return
    scored = frame[frame["total"].notna()]
    previous = history.drop_duplicates("account_id", keep="last").set_index("account_id")
    peaks = history.dropna(subset=["total"])
    peak_rows = peaks.loc[peaks.groupby("account_id")["total"].idxmax()].set_index("account_id") if len(peaks) else peaks
    candidates = []
    dropped = []  # (index in candidates, account id, day of its peak, its groups now)
    for account_id, row in _rows(scored):
        version = row["version"]
        groups = {g["key"]: row.get(f"g:{g['key']}") for g in version.definition["groups"]}
        prev_band = previous["band"].get(account_id) if len(previous) else None
        if row["band"] == HealthBand.RED and prev_band is not None and prev_band != HealthBand.RED:
            weakest = min((k for k, v in groups.items() if pd.notna(v)), key=lambda k: groups[k], default="")
            prev_total = previous["total"].get(account_id)
            drop = max(float(prev_total) - float(row["total"]), 0.0) if pd.notna(prev_total) else 0.0
            candidates.append((account_id, AlertKind.ENTERED_RED, weakest, _none(prev_total), drop))
        if len(peak_rows) and account_id in peak_rows.index:
            peak = peak_rows.loc[account_id]
            drop = float(peak["total"]) - float(row["total"])
            if drop >= settings.alert_drop_points:
                dropped.append((len(candidates), account_id, peak["day"], groups))
                candidates.append((account_id, AlertKind.DROP, "", float(peak["total"]), drop))
    # The reason of a drop: the group that fell most since the peak, from the peak snapshot's groups,
    # read only for the accounts that dropped (the history comes without groups: a month of every
    # account's groups would be the night's largest memory).
    peak_groups = _groups_of(workspace=workspace, snapshots={(account_id, day) for _i, account_id, day, _g in dropped})
    for index, account_id, day, groups in dropped:
        before = peak_groups.get((account_id, day)) or {}
        fell = {k: (before.get(k) or {}).get("score") - v for k, v in groups.items()
                if pd.notna(v) and (before.get(k) or {}).get("score") is not None}
        if fell:
            candidates[index] = (account_id, AlertKind.DROP, max(fell, key=fell.get), *candidates[index][3:])
    if not candidates:
        return
    account_ids = {c[0] for c in candidates}
    existing = {
        (a.account_id, a.kind, a.reason): a
        for a in HealthAlert.objects.for_workspace(workspace).filter(account_id__in=account_ids).filter(
            status=AlertStatus.OPEN)
    }
    recently_closed = set(
        HealthAlert.objects.for_workspace(workspace)
        .filter(account_id__in=account_ids, status=AlertStatus.CLOSED,
                opened_on__gte=as_of - dt.timedelta(days=ALERT_WINDOW_DAYS))
        .values_list("account_id", "kind", "reason")
    )
    updated, new = [], []
    for account_id, kind, reason, previous_score, drop in candidates:
        arr = signals.at[account_id, "arr"]
        arr = 0.0 if pd.isna(arr) else float(arr)  # unknown on the day (no history): nothing at risk to rank by
        priority = round(arr * max(drop, 1.0), 2)
        score = float(scored.at[account_id, "total"])
        alert = existing.get((account_id, kind, reason))
        if alert is not None:
            alert.last_seen_on = max(alert.last_seen_on, as_of)
            alert.score, alert.previous_score, alert.drop = score, previous_score, round(drop, 2)
            alert.arr_at_risk, alert.priority = arr, priority
            updated.append(alert)
        elif (account_id, kind, reason) not in recently_closed:
            owner = signals.at[account_id, "owner_id"]
            new.append(HealthAlert(
                workspace=workspace, account_id=account_id, owner_id=None if pd.isna(owner) else int(owner),
                kind=kind, reason=reason, opened_on=as_of, last_seen_on=as_of, score=score,
                previous_score=previous_score, drop=round(drop, 2), arr_at_risk=arr, priority=priority,
                week=week_of(as_of),
            ))
    if updated:
        HealthAlert.objects.for_workspace(workspace).bulk_update(
            updated, ["last_seen_on", "score", "previous_score", "drop", "arr_at_risk", "priority"], batch_size=1000)
    _apply_budget(workspace=workspace, as_of=as_of, alerts=new, budget=settings.alert_weekly_budget)
    # ignore_conflicts: a concurrent run that opened the same alert first wins; ours is dropped.
    HealthAlert.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    _emit_opened(workspace=workspace, as_of=as_of, alerts=new)


def _rows(frame, chunk=2000):
    """(account_id, row as a dict) of `frame`, a chunk at a time (all rows as dicts at once would be
    the night's memory peak)."""
    for start in range(0, len(frame), chunk):
        yield from frame.iloc[start:start + chunk].to_dict("index").items()


def _groups_of(*, workspace, snapshots):
    """{(account_id, day): groups} of these snapshots; a few queries by account, whatever the days."""
    wanted = set(snapshots)
    account_ids = sorted({account_id for account_id, _day in wanted})
    found = {}
    for start in range(0, len(account_ids), 500):
        rows = (HealthSnapshot.objects.for_workspace(workspace)
                .filter(account_id__in=account_ids[start:start + 500], day__in={day for _a, day in wanted})
                .values_list("account_id", "day", "groups"))
        found.update({(account_id, day): groups for account_id, day, groups in rows if (account_id, day) in wanted})
    return found


def _emit_opened(*, workspace, as_of, alerts):
    """The "alert.opened" webhook of each alert this run opened, read back for its id (the bulk
    insert that ignores conflicts returns none)."""
    if not alerts:
        return
    keys = {(a.account_id, a.kind, a.reason) for a in alerts}
    opened = [a for a in HealthAlert.objects.for_workspace(workspace).filter(
        account_id__in={k[0] for k in keys}, opened_on=as_of, status=AlertStatus.OPEN)
        if (a.account_id, a.kind, a.reason) in keys]
    if not opened:
        return
    accounts = {pk: (name, ext) for pk, name, ext in Account.objects.for_workspace(workspace).filter(
        pk__in={a.account_id for a in opened}).values_list("pk", "name", "external_id")}
    emit_many(workspace=workspace, event="alert.opened", payloads=[{
        "alert": {"id": a.pk, "kind": a.kind, "reason": a.reason, "score": a.score,
                  "previous_score": a.previous_score, "drop": a.drop, "opened_on": a.opened_on.isoformat()},
        "account": {"id": a.account_id, "name": accounts[a.account_id][0], "external_id": accounts[a.account_id][1]},
    } for a in sorted(opened, key=lambda a: a.pk)])


def _apply_budget(*, workspace, as_of, alerts, budget):
    """Push the most important new alerts, up to `budget` accounts per CSM and week; the rest go
    to the digest. A second alert of an account already pushed this week costs nothing more."""
    this_week = HealthAlert.objects.for_workspace(workspace).filter(
        week=week_of(as_of), pushed=True, owner__isnull=False)
    pushed_accounts = {}
    for owner_id, account_id in this_week.values_list("owner_id", "account_id").distinct():
        pushed_accounts.setdefault(owner_id, set()).add(account_id)
    for alert in sorted(alerts, key=lambda a: (-a.priority, a.account_id, a.kind)):
        if alert.owner_id is None:
            continue  # nobody to push to: the digest shows it to managers
        accounts = pushed_accounts.setdefault(alert.owner_id, set())
        if alert.account_id in accounts or len(accounts) < budget:
            alert.pushed = True
            accounts.add(alert.account_id)


def mark_churned_alerts(*, workspace):
    """Alerts of churned accounts: closed with outcome "churned" unless someone recorded one, and
    flagged when they preceded the churn by at most 90 days (the precision a manager reads)."""
    rows = list(
        HealthAlert.objects.for_workspace(workspace)
        .filter(account__status=AccountStatus.CHURNED)
        .filter(Q(outcome="") | Q(preceded_churn=False))
        .values_list("id", "opened_on", "account__churned_on", "outcome")
    )
    preceded = [i for i, opened, churned, _o in rows
                if churned and churned - dt.timedelta(days=CHURN_LOOKAHEAD_DAYS) <= opened <= churned]
    no_outcome = [i for i, _op, _ch, outcome in rows if not outcome]
    HealthAlert.objects.for_workspace(workspace).filter(pk__in=no_outcome).update(
        outcome=AlertOutcome.CHURNED, status=AlertStatus.CLOSED, outcome_at=timezone.now())
    HealthAlert.objects.for_workspace(workspace).filter(pk__in=preceded).update(preceded_churn=True)

