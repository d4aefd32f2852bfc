"""Reads of the health capability. Every function takes the workspace (or an account) explicitly."""

import datetime as dt
import json
from typing import NamedTuple

from django.db.models import Count, F, Min, OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from accounts.models import Account, AccountStatus, HealthBand
from workspaces import owners

from .definition import MEASURE_KINDS
from .filtersets import HealthAlertFilterSet
from .models import (
    AlertOutcome,
    AlertStatus,
    HealthAlert,
    HealthSettings,
    HealthSnapshot,
    Scorecard,
    SentimentRating,
    week_of,
)


def health_settings(*, workspace):
    """The workspace's health settings (created with the workspace: see ensure_defaults)."""
    return HealthSettings.objects.for_workspace(workspace).get()


def key_features(*, workspace):
    """The workspace's key features (event names), as the health settings list them."""
    row = HealthSettings.objects.for_workspace(workspace).first()
    return list(row.key_features or []) if row else []


def default_scorecard(*, workspace):
    return Scorecard.objects.for_workspace(workspace).get(is_default=True)


def latest_version(scorecard):
    return scorecard.versions.order_by("-number").first()


def active_scorecards(*, workspace):
    """[(Scorecard, latest ScorecardVersion)], the default included."""
    cards = list(Scorecard.objects.for_workspace(workspace).prefetch_related("versions"))
    result = []
    for card in cards:
        versions = sorted(card.versions.all(), key=lambda v: v.number)
        if versions:
            result.append((card, versions[-1]))
    return result


def group_labels(*, workspace):
    """{group key: its label} over the workspace's scorecards: an alert's `reason` is the key of the
    group that pulled the score down, and people read its label ("利用状況", not "usage")."""
    labels = {}
    for _card, version in active_scorecards(workspace=workspace):
        for group in (version.definition or {}).get("groups", []):
            labels.setdefault(group.get("key"), group.get("label") or group.get("key"))
    return labels


def scorecards(*, workspace):
    return Scorecard.objects.for_workspace(workspace).prefetch_related("versions")


def account_snapshots(*, account):
    """The account's snapshots. `account` comes from a workspace-scoped query, and so do they.

    Filtered on the account alone, not the workspace too: with both, PostgreSQL may combine a
    workspace-wide index into the plan when its statistics lag behind the nightly inserts (seen at
    100,000 accounts: 0.6 s, where the unique (account, day) index alone takes a millisecond).
    Hence `all_workspaces`: the account, already in scope, is the scope.
    """
    return HealthSnapshot.all_workspaces.filter(account=account)


class TrendPoint(NamedTuple):
    day: dt.date
    total: float | None
    version_id: int
    version_number: int


def account_trend(*, account, days=90):
    """The account's daily totals of the `days` days up to its latest snapshot, oldest first.

    Plain rows, not snapshots: a 90-day history with every measure's JSON (and the scorecard's
    definition on every row) cost more than the rest of the account page.
    """
    newest = list(
        account_snapshots(account=account)
        .order_by("-day")  # one row a day at most: the newest `days` rows cover the window
        .values_list("day", "total", "version_id", "version__number")[:days]
    )
    if not newest:
        return []
    start = newest[0][0] - dt.timedelta(days=days)
    return [TrendPoint(*row) for row in reversed(newest) if row[0] > start]


# --- explanations --------------------------------------------------------------------------------
def _num(value, digits=0):
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def measure_sentence(key, entry, label):
    """What the measure saw, in plain words: "Active users 4 of 20 seats"."""
    value, kind = entry.get("value"), entry.get("kind")
    if value is None:
        if entry.get("no_history"):
            return _("%(label)s: not available (nothing was recorded about the account on that day)") % {
                "label": label}
        return _("%(label)s: not available") % {"label": label}
    detail = entry.get("detail") or {}
    if kind == "active_users_per_seat" and detail.get("seats"):
        return _("Active users %(users)s of %(seats)s seats") % {
            "users": _num(detail.get("users")), "seats": _num(detail.get("seats"))}
    if kind == "days_active_30":
        return _("Active on %(days)s of the last 30 days") % {"days": _num(value)}
    if kind == "key_feature_adoption":
        return _("Key features used: %(pct)s%%") % {"pct": _num(value * 100)}
    if kind == "usage_trend":
        return _("Usage %(change)s%% vs the 30 days before") % {"change": ("+" if value >= 0 else "") + _num(value * 100)}
    if kind == "days_since_last_activity":
        return _("Last activity %(days)s days ago") % {"days": _num(value)}
    if kind == "days_since_last_touch":
        if detail.get("since") == "contract_start":
            return _("No touch logged; %(days)s days since the contract start") % {"days": _num(value)}
        return _("Last qualifying touch %(days)s days ago") % {"days": _num(value)}
    if kind == "key_person_reached_90":
        return _("Key person reached in the last 90 days") if value else _("Key person not reached in 90 days")
    if kind == "decision_maker_met_180":
        return _("Decision maker met in the last 180 days") if value else _("Decision maker not met in 180 days")
    if kind == "csm_sentiment":
        return _("CSM sentiment %(rating)s of 5") % {"rating": _num(value)}
    if kind == "latest_nps":
        if detail.get("days_ago") is not None:
            return _("Latest NPS answer %(score)s, %(days)s days ago") % {"score": _num(value),
                                                                        "days": _num(detail["days_ago"])}
        return _("Latest NPS answer %(score)s") % {"score": _num(value)}
    if kind == "success_plan_gap":
        if value == 0:
            return _("Success plan: every objective achieved")
        return _("Success plan %(gap)s levels short of its objectives") % {"gap": _num(value)}
    if kind == "days_to_renewal":
        if value < 0:
            return _("Renewal date passed %(days)s days ago") % {"days": _num(-value)}
        return _("Renewal in %(days)s days") % {"days": _num(value)}
    return _("%(label)s = %(value)s") % {"label": label, "value": _num(value, 2)}


def explain_snapshot(snapshot):
    """Every measure's contribution in plain words, and the one pulling the score down most."""
    definition = snapshot.version.definition
    lines, weakest = [], None
    for group in definition["groups"]:
        for m in group["measures"]:
            entry = snapshot.measures.get(m["key"])
            if entry is None:
                continue
            label = m.get("label") or str(MEASURE_KINDS[m["kind"]][0])
            sentence = measure_sentence(m["key"], entry, label)
            points, share = entry.get("points"), entry.get("weight_used") or 0
            if points is None:
                text = _("%(what)s — its weight went to the rest of its group") % {"what": sentence}
            else:
                text = _("%(what)s: %(points)s/100, weight %(weight)s%%") % {
                    "what": sentence, "points": _num(points), "weight": _num(share * 100)}
            loss = None if points is None else share * (100 - points)
            line = {"key": m["key"], "label": label, "group": group.get("label") or group["key"],
                    "text": text, "points": points, "weight_pct": share * 100, "loss": loss,
                    "contribution": None if points is None else share * points, "available": points is not None}
            lines.append(line)
            if loss is not None and loss > 0 and (weakest is None or loss > weakest["loss"]):
                weakest = line
    return {"lines": lines, "weakest": weakest}


def what_moved(current, earlier):
    """The measures whose contribution to the total changed most between two snapshots."""
    if current is None or earlier is None:
        return []
    moves = []
    for key, entry in current.measures.items():
        before = earlier.measures.get(key) or {}
        now_c = (entry.get("points") or 0) * (entry.get("weight_used") or 0)
        then_c = (before.get("points") or 0) * (before.get("weight_used") or 0)
        if abs(now_c - then_c) >= 0.5:
            definition = current.version.definition
            label = next((m.get("label") or str(MEASURE_KINDS[m["kind"]][0])
                          for g in definition["groups"] for m in g["measures"] if m["key"] == key), key)
            moves.append({"key": key, "label": label, "change": round(now_c - then_c, 1),
                          "before": measure_sentence(key, before, label) if before else "—",
                          "now": measure_sentence(key, entry, label)})
    return sorted(moves, key=lambda m: -abs(m["change"]))[:5]


def account_health(*, account):
    """Everything the account page and API show about health, from stored snapshots."""
    trend = account_trend(account=account, days=90)
    result = {"current": None, "explanation": None, "moved": [], "week_ago": None, "chart": None,
              "sentiment": latest_sentiment(account=account)}
    if not trend:
        return result
    latest = trend[-1].day
    week_ago = next((p.day for p in reversed(trend) if p.day <= latest - dt.timedelta(days=7)), None)
    # Only these two are explained, so only these two are read in full.
    full = {
        snapshot.day: snapshot
        for snapshot in account_snapshots(account=account)
        .filter(day__in=[day for day in (latest, week_ago) if day is not None])
        .select_related("version__scorecard")
    }
    current = result["current"] = full.get(latest)
    if current is None:  # replaced by a nightly run between the two reads
        return result
    result["week_ago"] = full.get(week_ago)
    result["explanation"] = explain_snapshot(current)
    result["moved"] = what_moved(current, result["week_ago"])
    result["chart"] = trend_chart(trend)
    return result


def trend_chart(snapshots):
    """A daily series (gaps as None) with a marker wherever the scorecard version changed.

    `snapshots`: HealthSnapshot objects or TrendPoint rows, oldest first.
    """
    if not snapshots:
        return None
    first, last = snapshots[0].day, snapshots[-1].day
    by_day = {s.day: s for s in snapshots}
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    points = [by_day[d].total if d in by_day else None for d in days]
    markers, previous = [], None
    for index, day in enumerate(days):
        snap = by_day.get(day)
        if snap is None:
            continue
        if previous is not None and snap.version_id != previous:
            number = snap.version_number if isinstance(snap, TrendPoint) else snap.version.number
            markers.append({"index": index, "label": f"v{number}"})
        previous = snap.version_id
    return {"series": [{"name": _("Health score"), "points": points}],
            "labels": [d.strftime("%m-%d") for d in days], "markers": markers}


# --- sentiment -----------------------------------------------------------------------------------
def latest_sentiment(*, account, as_of=None):
    rating = SentimentRating.objects.for_workspace(account.workspace).filter(account=account).select_related(
        "rated_by__user").first()
    if rating is None:
        return None
    stale_days = health_settings(workspace=account.workspace).sentiment_stale_days
    today = as_of or account.workspace.today()
    age = (today - rating.rated_at.astimezone(account.workspace.tz).date()).days
    return {"rating": rating, "age_days": age, "stale": age >= stale_days, "stale_days": stale_days}


def sentiment_disagreements(*, workspace, gap=2):
    """Accounts where a fresh CSM rating and the computed band disagree (e.g. 5/5 but red).

    A rating of 4-5 against a red band, or 1-2 against a green one.
    """
    stale_days = health_settings(workspace=workspace).sentiment_stale_days
    since = workspace.day_start(workspace.today() - dt.timedelta(days=stale_days - 1))
    ratings = (SentimentRating.objects.for_workspace(workspace).filter(rated_at__gte=since)
               .order_by("account_id", "-rated_at", "-id").values("account_id", "rating", "rated_at"))
    latest = {}
    for row in ratings:
        latest.setdefault(row["account_id"], row)
    accounts = Account.objects.for_workspace(workspace).filter(pk__in=list(latest), status=AccountStatus.ACTIVE)
    result = []
    for account in accounts.select_related("owner__user"):
        rating = latest[account.pk]["rating"]
        if (rating >= 4 and account.health_band == HealthBand.RED) or (rating <= 2 and account.health_band == HealthBand.GREEN):
            result.append({"account": account, "rating": rating, "rated_at": latest[account.pk]["rated_at"]})
    return sorted(result, key=lambda r: (r["account"].health_score or 0))


# --- alerts --------------------------------------------------------------------------------------
def alerts(*, workspace, filters=None, request=None):
    qs = HealthAlert.objects.for_workspace(workspace).select_related("account", "owner__user")
    if filters is not None:
        qs = HealthAlertFilterSet(filters, queryset=qs, request=request).qs
    return qs


def my_alerts(*, membership, week=None):
    """(pushed, digest): this week's pushed open alerts of the CSM, and the rest of their open ones."""
    return open_alerts(workspace=membership.workspace, owner=membership, week=week)


def open_alerts(*, workspace, owner, week=None):
    """(pushed, digest, week) of the open alerts of `owner`: a member, None for the accounts nobody
    owns, or workspaces.owners.ALL for the whole team's."""
    week = week or week_of(workspace.today())
    mine = alerts(workspace=workspace).filter(status=AlertStatus.OPEN)
    if owner != owners.ALL:
        mine = mine.filter(owner=owner)
    pushed = mine.filter(pushed=True).order_by("-priority", "-id")
    digest = mine.filter(pushed=False).order_by("-priority", "-id")
    return pushed, digest, week


def alert_precision(*, workspace):
    """Per owner: alerts, share with an outcome acted on, share that preceded churn within 90 days."""
    rows = (HealthAlert.objects.for_workspace(workspace).values("owner_id", "owner__user__username",
                                                                "owner__user__first_name", "owner__user__last_name")
            .annotate(total=Count("id"), acted=Count("id", filter=Q(outcome=AlertOutcome.ACTED_ON)),
                      dismissed=Count("id", filter=Q(outcome=AlertOutcome.DISMISSED)),
                      churned=Count("id", filter=Q(preceded_churn=True)),
                      pushed=Count("id", filter=Q(pushed=True)),
                      open=Count("id", filter=Q(status=AlertStatus.OPEN)))
            .order_by("owner__user__first_name", "owner_id"))
    result = []
    totals = {"total": 0, "acted": 0, "dismissed": 0, "churned": 0, "pushed": 0, "open": 0}
    for row in rows:
        name = " ".join(filter(None, [row["owner__user__first_name"], row["owner__user__last_name"]])) or (
            row["owner__user__username"] or _("Unassigned"))
        result.append({"owner": name, **{k: row[k] for k in totals},
                       "acted_share": row["acted"] / row["total"] if row["total"] else None,
                       "churn_share": row["churned"] / row["total"] if row["total"] else None})
        for k in totals:
            totals[k] += row[k]
    totals["acted_share"] = totals["acted"] / totals["total"] if totals["total"] else None
    totals["churn_share"] = totals["churned"] / totals["total"] if totals["total"] else None
    return result, totals


def health_overview(*, workspace):
    """Band counts of active accounts (from the account rows the nightly step keeps current)."""
    counts = dict(
        Account.objects.for_workspace(workspace).filter(status=AccountStatus.ACTIVE)
        .values_list("health_band").annotate(n=Count("id")).values_list("health_band", "n")
    )
    return {band: counts.get(band, 0) for band in [b.value for b in HealthBand]} | {"unscored": counts.get("", 0)}


def band_counts(*, workspace, days):
    """{day: {band: accounts}} from the stored snapshots of `days`: what each day's nightly run scored
    then (a past day never reads today's scores). Days without a snapshot are absent. One query."""
    counts = {}
    rows = (HealthSnapshot.objects.for_workspace(workspace).filter(day__in=list(days))
            .order_by().values_list("day", "band").annotate(n=Count("id")))
    for day, band, n in rows:
        counts.setdefault(day, {})[band] = n
    return counts


def latest_snapshot_day(*, workspace, on_or_before):
    """The newest day with health snapshots, not after `on_or_before`; None before the first run."""
    return (HealthSnapshot.objects.for_workspace(workspace).filter(day__lte=on_or_before)
            .order_by("-day").values_list("day", flat=True).first())


def totals_on_or_before(*, workspace, account_days, within_days=7):
    """{(account_id, day): total} for each asked (account, day): the total of the account's snapshot of
    that day, or else of its latest snapshot in the `within_days` days before it (a night that did not
    run). Missing when there is none, or when that snapshot had no total ("not enough data").

    History only: a past day reads the snapshot stored for it, never today's score. Accounts are read
    in chunks, each over the one span of days the asked days need.
    """
    wanted = {}
    for account_id, day in account_days:
        wanted.setdefault(account_id, set()).add(day)
    result = {}
    ids = sorted(wanted)
    for offset in range(0, len(ids), 1000):
        chunk = ids[offset:offset + 1000]
        days = {day for account_id in chunk for day in wanted[account_id]}
        rows = (HealthSnapshot.objects.for_workspace(workspace)
                .filter(account_id__in=chunk, day__gte=min(days) - dt.timedelta(days=within_days),
                        day__lte=max(days))
                .order_by().values_list("account_id", "day", "total"))
        stored = {}
        for account_id, day, total in rows.iterator(chunk_size=5000):
            stored.setdefault(account_id, {})[day] = total
        for account_id in chunk:
            by_day = stored.get(account_id, {})
            for day in wanted[account_id]:
                found = next((by_day[d] for d in (day - dt.timedelta(days=back) for back in range(within_days + 1))
                              if d in by_day), None)
                if found is not None:
                    result[(account_id, day)] = found
    return result
def red_since(*, workspace, account_ids, on_or_before):
    """{account_id: the first day of its current red streak} for these accounts, from the stored
    snapshots up to `on_or_before` (the day after its last non-red snapshot). Accounts with no red
    snapshot are absent. One query: each red row is compared with its account's last other band."""
    last_not_red = (
        HealthSnapshot.all_workspaces.filter(account=OuterRef("account"), day__lte=on_or_before)
        .exclude(band=HealthBand.RED).order_by("-day").values("day")[:1]
    )
    rows = (
        HealthSnapshot.objects.for_workspace(workspace)
        .filter(account_id__in=list(account_ids), band=HealthBand.RED, day__lte=on_or_before)
        .annotate(last_ok=Subquery(last_not_red))
        .filter(Q(last_ok__isnull=True) | Q(day__gt=F("last_ok")))
        .order_by().values("account_id").annotate(since=Min("day")).values_list("account_id", "since")
    )
    return dict(rows)


MANY_ACCOUNTS = 1000


def _note_weakest(weakest, account_id, groups, labels):
    """weakest[account_id] = the label of the group that cost `groups` the most points, if any did."""
    losses = [((g.get("weight_used") or 0) * (100 - g["score"]), key)
              for key, g in (groups or {}).items() if isinstance(g, dict) and g.get("score") is not None]
    losses = [(loss, key) for loss, key in losses if loss > 0]
    if losses:
        key = max(losses)[1]
        weakest[account_id] = labels.get(key) or key


def weakest_groups(*, workspace, account_ids, on_or_before):
    """{account_id: the label of the scorecard group that cost its latest score the most points}, from
    each account's newest snapshot up to `on_or_before`; absent when nothing cost points. One query."""
    ids = list(account_ids)
    if not ids:
        return {}
    # Most accounts were scored on the day itself (the night's health step runs first): read those
    # directly, and look for an older newest snapshot only for the rest.
    # For many accounts, the whole day is read at once and filtered here: one pass over the day's
    # index instead of one per list of ids.
    snapshots = HealthSnapshot.objects.for_workspace(workspace)
    wanted = set(ids)
    of_the_day = snapshots.filter(day=on_or_before)
    if len(wanted) <= MANY_ACCOUNTS:
        of_the_day = of_the_day.filter(account_id__in=ids)
    # The groups come as text and only the wanted accounts' are decoded, one at a time into its
    # weakest group: on a large night most of the day's rows are someone else's, and tens of
    # thousands of decoded snapshots held at once were the playbooks step's peak memory.
    labels = group_labels(workspace=workspace)
    weakest, seen = {}, set()
    for account_id, groups in of_the_day.values_list("account_id", Cast("groups", TextField())).iterator(
            chunk_size=5000):
        if account_id in wanted:
            seen.add(account_id)
            _note_weakest(weakest, account_id, json.loads(groups) if groups else None, labels)
    rest = wanted - seen
    if rest:
        newest_day = (HealthSnapshot.all_workspaces.filter(account=OuterRef("account"), day__lte=on_or_before)
                      .order_by("-day").values("day")[:1])
        rest = sorted(rest)
        for start in range(0, len(rest), 500):
            for account_id, groups in (snapshots.filter(account_id__in=rest[start:start + 500], day=Subquery(newest_day))
                                       .values_list("account_id", "groups")):
                _note_weakest(weakest, account_id, groups, labels)
    return weakest


def bands_seen_on(*, workspace, day):
    """{account_id: the health band a night of `day` saw on the account}: the band of the account's
    latest snapshot dated *before* `day` (the night runs segments before health, so on night D the
    account's band is the one the previous night stored). Accounts never scored before `day` are
    absent (not on record). One query: per account, the newest earlier snapshot through the unique
    (account, day) index (the account is already of the workspace, so the subquery names no workspace
    and the planner has only that index to use)."""
    latest = (HealthSnapshot.all_workspaces.filter(account_id=OuterRef("pk"), day__lt=day)
              .order_by("-day").values("band")[:1])
    rows = Account.objects.for_workspace(workspace).order_by().annotate(seen=Subquery(latest)).values_list("pk", "seen")
    return {pk: band for pk, band in rows if band is not None}
