"""Writes of the health capability: settings, scorecards and their versions, sentiment ratings,
the nightly snapshot step, alerts and their outcomes."""

import datetime as dt
import logging

import pandas as pd
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2.extras import Json, execute_values

from accounts.models import AccountStatus, HealthBand
from accounts.services import copy_nightly_values
from segments.selectors import segment_names
from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.policy import acting_member, authorize

from .definition import default_definition, validate_definition
from .models import (
    AlertKind,
    AlertOutcome,
    AlertStatus,
    HealthAlert,
    HealthSettings,
    HealthSnapshot,
    Scorecard,
    ScorecardVersion,
    SentimentRating,
    SentimentReason,
    week_of,
)
from .scoring import compute_scores, snapshot_payload
from .selectors import default_scorecard, health_settings, latest_version

logger = logging.getLogger(__name__)
CHUNK = 2000
ALERT_WINDOW_DAYS = 30
CHURN_LOOKAHEAD_DAYS = 90


# --- defaults, settings and scorecards -----------------------------------------------------------
@transaction.atomic
def ensure_defaults(*, workspace):
    """The settings and the default scorecard (version 1) of a new workspace; idempotent. Called by
    provisioning, so that everything else only reads them."""
    HealthSettings.objects.for_workspace(workspace).get_or_create(workspace=workspace)
    card, created = Scorecard.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, is_default=True, defaults={"name": _("Default scorecard"), "priority": 1000}
    )
    if created:
        ScorecardVersion.objects.create(
            workspace=workspace, scorecard=card, number=1, definition=validate_definition(default_definition()),
            note=_("Default measures and weights"),
        )


@transaction.atomic
def update_settings(*, workspace, actor, **fields):
    authorize(actor, "health.manage")
    settings = health_settings(workspace=workspace)
    if "key_features" in fields:
        features = fields["key_features"]
        if isinstance(features, str):
            features = [f.strip() for f in features.replace("\n", ",").split(",")]
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise DomainError(_("Key features are a list of event names."), field="key_features")
        fields["key_features"] = sorted({f.strip() for f in features if f.strip()})
    for field, value in fields.items():
        setattr(settings, field, value)
    settings.full_clean()
    settings.save()
    record_audit(workspace=workspace, actor=actor, action="health.settings_updated", obj=settings,
                 changes={k: str(v) for k, v in fields.items()})
    return settings


@transaction.atomic
def save_scorecard(*, workspace, actor, scorecard=None, definition=None, note="", **fields):
    """Create or edit a scorecard. A changed definition becomes a new immutable version.

    `fields` may hold name, priority, tiers and segments (list of ids); the default scorecard
    always applies last and to everyone else.
    """
    authorize(actor, "health.manage")
    created = scorecard is None
    if created:
        base = latest_version(default_scorecard(workspace=workspace)).definition
        scorecard = Scorecard(workspace=workspace)
        definition = definition if definition is not None else base
    if scorecard.workspace_id != workspace.pk:
        raise DomainError(_("Not found in this workspace."), field="scorecard")
    tiers = fields.get("tiers")
    if tiers is not None:
        from accounts.models import TouchTier

        if not isinstance(tiers, list) or any(t not in TouchTier.values for t in tiers):
            raise DomainError(_("Tiers are a list of high, low and tech."), field="tiers")
    segments = fields.get("segments")
    if segments is not None:
        if not isinstance(segments, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in segments):
            raise DomainError(_("Segments are a list of segment IDs."), field="segments")
        _check_segments(workspace, segments)
    for field, value in fields.items():
        setattr(scorecard, field, value)
    if not created and scorecard.is_default and (scorecard.tiers or scorecard.segments):
        raise DomainError(_("The default scorecard applies to every account no other scorecard takes."),
                          field="tiers")
    scorecard.full_clean()
    scorecard.save()
    version = latest_version(scorecard)
    if definition is not None:
        clean = validate_definition(definition)
        if version is None or version.definition != clean:
            version = ScorecardVersion.objects.create(
                workspace=workspace, scorecard=scorecard, number=(version.number + 1) if version else 1,
                definition=clean, note=note[:300], created_by=acting_member(actor),
            )
            record_audit(workspace=workspace, actor=actor, action="health.scorecard_version", obj=scorecard,
                         changes={"version": version.number, "note": note[:300]})
    return scorecard, version


def _check_segments(workspace, segment_ids):
    if segment_ids and set(segment_names(workspace=workspace, ids=segment_ids)) != set(segment_ids):
        raise DomainError(_("Not found in this workspace."), field="segments")


@transaction.atomic
def delete_scorecard(*, scorecard, actor):
    authorize(actor, "health.manage", scorecard)
    if scorecard.is_default:
        raise DomainError(_("The default scorecard cannot be deleted."), field="scorecard")
    if HealthSnapshot.objects.for_workspace(scorecard.workspace).filter(version__scorecard=scorecard).exists():
        raise DomainError(_("Snapshots were computed with this scorecard; keep it for their history."),
                          field="scorecard")
    record_audit(workspace=scorecard.workspace, actor=actor, action="health.scorecard_deleted", obj=scorecard)
    scorecard.delete()


# --- sentiment -----------------------------------------------------------------------------------
@transaction.atomic
def rate_sentiment(*, account, actor, rating, reasons=(), note="", rated_at=None):
    authorize(actor, "health.rate_sentiment", account)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise DomainError(_("A rating is between 1 and 5."), field="rating") from None
    if not 1 <= rating <= 5:
        raise DomainError(_("A rating is between 1 and 5."), field="rating")
    reasons = list(reasons or [])
    unknown = [r for r in reasons if r not in SentimentReason.values]
    if unknown:
        raise DomainError(_("Unknown reason code: %(code)s.") % {"code": unknown[0]}, field="reasons")
    entry = SentimentRating(
        workspace=account.workspace, account=account, rating=rating, reasons=sorted(set(reasons)), note=note,
        rated_by=acting_member(actor), rated_at=rated_at or timezone.now(),
    )
    entry.full_clean()
    entry.save()
    return entry


# --- the nightly step ----------------------------------------------------------------------------
def nightly_health(*, workspace, as_of):
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
    """Upsert one snapshot per (account, day); rows of accounts no longer scored that day go."""
    rows = []
    for account_id, row in frame.to_dict("index").items():
        version = row["version"]
        groups, measures = snapshot_payload(row, version.definition)
        total = None if pd.isna(row["total"]) else float(row["total"])
        rows.append((int(account_id), version.pk, total, row["band"], float(row["available_weight"]), groups, measures))
    HealthSnapshot.objects.for_workspace(workspace).filter(day=as_of).exclude(
        account_id__in=list(frame.index)).delete()
    if connection.vendor == "postgresql":
        _upsert_snapshots_with_values(workspace=workspace, as_of=as_of, rows=rows)
        return
    for start in range(0, len(rows), CHUNK):
        HealthSnapshot.objects.bulk_create(
            [HealthSnapshot(workspace=workspace, account_id=account_id, day=as_of, version_id=version_id, total=total,
                            band=band, available_weight=weight, groups=groups, measures=measures)
             for account_id, version_id, total, band, weight, groups, measures in rows[start:start + CHUNK]],
            update_conflicts=True, unique_fields=["account", "day"],
            update_fields=["version", "total", "band", "available_weight", "groups", "measures"],
        )


def _upsert_snapshots_with_values(*, workspace, as_of, rows):
    """The same upsert as multi-row VALUES lists: at 100k accounts, preparing model instances and
    values one by one in bulk_create cost more than the database's own work."""
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
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, values, page_size=CHUNK)


def _recent_history(*, workspace, as_of):
    """Snapshots of the 30 days before `as_of` (one query), for the 30-day change and alerts."""
    return pd.DataFrame.from_records(list(
        HealthSnapshot.objects.for_workspace(workspace)
        .filter(day__gte=as_of - dt.timedelta(days=ALERT_WINDOW_DAYS), day__lt=as_of)
        .order_by("account_id", "day").values("account_id", "day", "total", "band", "groups")
    ), columns=["account_id", "day", "total", "band", "groups"])


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


def _none(value):
    return None if value is None or pd.isna(value) else float(value)


# --- alerts --------------------------------------------------------------------------------------

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
    for account_id, row in scored.to_dict("index").items():
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
                before = peak["groups"] or {}
                fell = {k: (before.get(k) or {}).get("score") - v for k, v in groups.items()
                        if pd.notna(v) and (before.get(k) or {}).get("score") is not None}
                reason = max(fell, key=fell.get) if fell else ""
                candidates.append((account_id, AlertKind.DROP, reason, float(peak["total"]), drop))
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
        arr = float(signals.at[account_id, "arr"] or 0)
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


@transaction.atomic
def record_alert_outcome(*, alert, actor, outcome, reason=""):
    authorize(actor, "health.record_outcome", alert)
    if outcome not in (AlertOutcome.ACTED_ON, AlertOutcome.DISMISSED):
        raise DomainError(_("Choose acted on or dismissed."), field="outcome")
    reason = (reason or "").strip()
    if outcome == AlertOutcome.DISMISSED and not reason:
        raise DomainError(_("Say why the alert is dismissed."), field="outcome_reason")
    alert.outcome, alert.outcome_reason = outcome, reason[:300]
    alert.outcome_at, alert.outcome_by = timezone.now(), acting_member(actor)
    alert.status = AlertStatus.CLOSED
    alert.save(update_fields=["outcome", "outcome_reason", "outcome_at", "outcome_by", "status"])
    record_audit(workspace=alert.workspace, actor=actor, action="health.alert_outcome", obj=alert,
                 changes={"outcome": outcome, "reason": reason[:300]})
    return alert


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

