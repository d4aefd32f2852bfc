"""Set-based health computation: a few aggregates over all accounts into one DataFrame, then
vectorised rules per measure and weighted means with "not available" renormalisation.

`compute_scores(workspace=, as_of=)` works for any past day from raw data; the nightly step stores
its result, so recomputing a stored day gives the stored rows back (the tests hold us to it).
Every input is read as it was on the day, never as it is now: ARR, seats, renewal date, contract
start, owner and custom attributes through `accounts.selectors.attributes_as_of` (contract lines,
else the accounts' change log), usage, touches, ratings and survey answers up to the end of the day.
An input nothing was known of on the day makes its measure "not available" (its weight goes to the
rest of its group) and is flagged in the result's `h:KEY` columns (`history_gaps`).
"""

import datetime as dt
import math

import numpy as np
import pandas as pd
from django.db.models import Count, Max, Q

from accounts.models import (
    MEETING_CHANNELS,
    ONE_TO_MANY_CHANNELS,
    Account,
    AccountStatus,
    Contact,
    ContactRole,
    HealthBand,
    Touchpoint,
)
from accounts.selectors import attributes_as_of
from coverage.selectors import tiers_as_of
from segments.selectors import segment_ids_as_of
from success.selectors import gaps_as_of
from usage.selectors import distinct_users_and_features, usage_per_account
from voice.selectors import latest_nps

from .definition import NPS_WITHIN_DAYS, apply_rule
from .models import SentimentRating
from .selectors import active_scorecards, health_settings

WINDOW_DAYS = 30
# The account values read as of the day (accounts.selectors.attributes_as_of).
AS_OF_INPUTS = ("arr", "licensed_seats", "renewal_date", "contract_start", "owner_id", "attributes")
# Which of them each measure kind needs: without it on the day the measure is not available for
# lack of history (h:KEY). The touch measures need the contract start only for never-touched accounts.
HISTORY_INPUTS = {"active_users_per_seat": "licensed_seats", "days_to_renewal": "renewal_date",
                  "custom_attribute": "attributes", "days_since_last_touch": "contract_start"}


def scored_accounts(*, workspace, as_of):
    """Accounts that were customers on `as_of`: started by then and not churned before it."""
    return (
        Account.objects.for_workspace(workspace)
        .filter(Q(status=AccountStatus.ACTIVE) | Q(churned_on__gt=as_of))
        .filter(Q(contract_start__isnull=True) | Q(contract_start__lte=as_of))
    )


def collect_signals(*, workspace, as_of, settings, accounts=None):
    """One row per account with every built-in signal's raw value (NaN = not available)."""
    given = accounts is not None
    if accounts is None:
        accounts = scored_accounts(workspace=workspace, as_of=as_of)
    base = pd.DataFrame.from_records(list(accounts.values("id", "touch_tier", "name")),
                                     columns=["id", "touch_tier", "name"]).set_index("id")
    if base.empty:
        return base
    # The commercial values and attributes as they were on the day (never today's on a past day).
    subset = list(base.index) if given and len(base) <= 5000 else None
    known = attributes_as_of(workspace=workspace, day=as_of, account_ids=subset).reindex(base.index)
    for column in AS_OF_INPUTS:
        base[column] = known[column]
        base[f"known_{column}"] = known[f"known_{column}"].fillna(False).astype(bool)
    end = workspace.day_start(as_of + dt.timedelta(days=1))
    w0 = as_of - dt.timedelta(days=WINDOW_DAYS - 1)
    p0 = w0 - dt.timedelta(days=WINDOW_DAYS)

    # 1. Daily rollups: activity days, volume now and before, first and last active day.
    daily = pd.DataFrame.from_records(
        usage_per_account(workspace=workspace, up_to=as_of, window_from=w0, previous_from=p0),
        columns=["account_id", "first_day", "last_active", "days_active", "events_now", "events_before", "peak_users"],
    )
    daily = daily.set_index("account_id").reindex(base.index)

    # 2. Raw events in the window: distinct people, distinct key features.
    key_features = [str(f) for f in (settings.key_features or []) if str(f).strip()]
    users, features = distinct_users_and_features(
        workspace=workspace, first_day=w0, last_day=as_of, key_features=key_features
    )
    people = pd.DataFrame({
        "users": pd.Series(users, dtype=float), "features": pd.Series(features, dtype=float),
    }).reindex(base.index)
    # An account with events but no key feature used has adopted none of them (0, not unknown).
    people.loc[people["users"].notna() | people["features"].notna(), "features"] = people["features"].fillna(0)

    # 3. Touches before the end of the day: last qualifying one, and last of any channel.
    logged = pd.DataFrame.from_records(list(
        Touchpoint.objects.for_workspace(workspace).filter(occurred_at__lt=end).values("account_id").annotate(
            last_direct=Max("occurred_at", filter=~Q(channel__in=ONE_TO_MANY_CHANNELS)),
            last_any=Max("occurred_at"),
        )
    ), columns=["account_id", "last_direct", "last_any"]).set_index("account_id")
    touches = logged.reindex(base.index)  # `logged` keeps every account's: did the workspace log any?

    # 4. People we know and whether we reached them: key persons (90 days), decision makers met (180).
    present = Q(left_on__isnull=True) | Q(left_on__gt=as_of)
    known = pd.DataFrame.from_records(list(
        Contact.objects.for_workspace(workspace).filter(present).values("account_id").annotate(
            key_people=Count("id", filter=Q(is_key_person=True)),
            decision_makers=Count("id", filter=Q(role=ContactRole.DECISION_MAKER)),
        )
    ), columns=["account_id", "key_people", "decision_makers"]).set_index("account_id").reindex(base.index)
    link = Touchpoint.contacts.through.objects.filter(
        touchpoint__workspace=workspace, touchpoint__occurred_at__lt=end,
        touchpoint__occurred_at__gte=workspace.day_start(as_of - dt.timedelta(days=179)),
    )
    reached = pd.DataFrame.from_records(list(
        link.values("touchpoint__account_id").annotate(
            key_reached=Count("id", filter=Q(
                contact__is_key_person=True,
                touchpoint__occurred_at__gte=workspace.day_start(as_of - dt.timedelta(days=89)),
            ) & ~Q(touchpoint__channel__in=ONE_TO_MANY_CHANNELS)),
            dm_met=Count("id", filter=Q(contact__role=ContactRole.DECISION_MAKER,
                                        touchpoint__channel__in=MEETING_CHANNELS)),
        )
    ), columns=["touchpoint__account_id", "key_reached", "dm_met"]).set_index("touchpoint__account_id")
    reached = reached.reindex(base.index)

    # 5. CSM sentiment: the latest rating that is not stale yet.
    fresh_from = workspace.day_start(as_of - dt.timedelta(days=settings.sentiment_stale_days - 1))
    ratings = pd.DataFrame.from_records(list(
        SentimentRating.objects.for_workspace(workspace)
        .filter(rated_at__gte=fresh_from, rated_at__lt=end)
        .order_by("account_id", "rated_at", "id").values("account_id", "rating")
    ), columns=["account_id", "rating"]).drop_duplicates("account_id", keep="last").set_index("account_id")
    ratings = ratings.reindex(base.index)

    # 6. The latest NPS answer on or before the day, and how old it was then (voice.selectors).
    nps = pd.DataFrame.from_records(
        [(account_id, score, day) for account_id, (score, day) in latest_nps(workspace=workspace, as_of=as_of).items()],
        columns=["account_id", "score", "day"]).set_index("account_id").reindex(base.index)

    # 7. The success plan's gap as recorded by the end of the day (success.selectors: its history).
    plan_gaps = pd.Series(gaps_as_of(workspace=workspace, day=as_of), dtype=float).reindex(base.index)

    signals = pd.DataFrame(index=base.index)
    for column in ("name", "owner_id", "touch_tier", "attributes"):
        signals[column] = base[column]
    for column in AS_OF_INPUTS:
        signals[f"known_{column}"] = base[f"known_{column}"]
    signals["arr"] = pd.to_numeric(base["arr"], errors="coerce").astype(float)
    has_usage = daily["first_day"].notna()
    seats = pd.to_numeric(base["licensed_seats"], errors="coerce").astype(float)
    # Raw events older than the retention window are gone while their rollups stay: then the
    # busiest day's active users stand in for distinct users, and key-feature adoption is unknown.
    raw_kept = people["users"].notna() | (daily["events_now"].fillna(0) == 0)
    users = people["users"].astype(float).where(raw_kept, daily["peak_users"].astype(float))
    users = users.fillna(0).where(has_usage)
    signals["active_users"] = users
    signals["licensed_seats"] = seats
    signals["active_users_per_seat"] = (users / seats.where(seats > 0)).round(4)
    signals["days_active_30"] = daily["days_active"].fillna(0).astype(float).where(has_usage)
    if key_features:
        adoption = people["features"].fillna(0).astype(float) / len(key_features)
        signals["key_feature_adoption"] = adoption.where(has_usage & raw_kept).round(4)
    else:
        signals["key_feature_adoption"] = np.nan
    signals["key_features_used"] = people["features"].fillna(0).astype(float).where(has_usage)
    now = daily["events_now"].fillna(0).astype(float)
    before = daily["events_before"].fillna(0).astype(float)
    # No baseline (nothing in the 30 days before) means no trend, not an infinite one.
    signals["usage_trend"] = (now / before.where(before > 0) - 1).where(has_usage).round(4)
    signals["days_since_last_activity"] = _days_between(daily["last_active"], as_of)

    # Never touched in a workspace that logs touches: count from the contract start, the longest it
    # can have been (the explanation says so). A workspace that had logged no touch of the kind by
    # the end of the day (none at all, or none yet) tells nothing: not available.
    started = pd.to_datetime(base["contract_start"])
    for column, source in (("days_since_last_touch", "last_direct"), ("days_since_any_touch", "last_any")):
        # The touch's day where the team works (vectorised: 100k accounts, no per-row Python).
        last_day = pd.to_datetime(touches[source], utc=True).dt.tz_convert(workspace.tz).dt.tz_localize(None)
        last_day = last_day.dt.normalize()
        untouched = last_day.isna()
        logs_touches = bool(logged[source].notna().any())
        last_day = last_day.fillna(started) if logs_touches else last_day
        signals[column] = _days_between(last_day, as_of)
        signals[f"never:{column}"] = untouched  # no touch of the kind by the end of the day
    signals["key_person_reached_90"] = (reached["key_reached"].fillna(0) > 0).astype(float).where(
        known["key_people"].fillna(0) > 0)
    signals["decision_maker_met_180"] = (reached["dm_met"].fillna(0) > 0).astype(float).where(
        known["decision_makers"].fillna(0) > 0)
    signals["csm_sentiment"] = ratings["rating"].astype(float)
    signals["days_to_renewal"] = -_days_between(base["renewal_date"], as_of)
    signals["latest_nps"] = pd.to_numeric(nps["score"], errors="coerce").astype(float)
    signals["latest_nps_age"] = _days_between(nps["day"], as_of)
    signals["success_plan_gap"] = plan_gaps.astype(float)
    return signals


def _days_between(days, as_of):
    """as_of - day in whole days, for a Series of dates (NaN where the date is missing)."""
    days = pd.to_datetime(days, errors="coerce")
    return ((pd.Timestamp(as_of) - days).dt.days).astype(float)


def measure_values(signals, measure):
    kind = measure["kind"]
    params = measure.get("params") or {}
    if kind == "custom_attribute":
        name = params["attribute"]
        return signals["attributes"].map(lambda attrs: _numeric((attrs or {}).get(name)))
    if kind == "latest_nps":
        # Answered in the `within_days` days up to and including the day (age 0 = that day).
        within = params.get("within_days") or NPS_WITHIN_DAYS
        return signals["latest_nps"].where(signals["latest_nps_age"] < within)
    if kind == "days_since_last_touch" and params.get("include_one_to_many"):
        return signals["days_since_any_touch"]
    return signals[kind]


def lacks_history(signals, measure):
    """True where the input the measure needs from an account's history was unknown on the day."""
    kind = measure["kind"]
    needed = HISTORY_INPUTS.get(kind)
    if needed is None or f"known_{needed}" not in signals:
        return pd.Series(False, index=signals.index)
    unknown = ~signals[f"known_{needed}"].astype(bool)
    if kind == "days_since_last_touch":
        column = "days_since_any_touch" if (measure.get("params") or {}).get("include_one_to_many") \
            else "days_since_last_touch"
        # Only a never-touched account falls back on the contract start.
        return unknown & signals[f"never:{column}"].astype(bool)
    return unknown


def history_gaps(frame):
    """{measure key: number of accounts} whose measure was not available for lack of history on the
    day (an input — seats, renewal date, contract start, a custom attribute — nothing was known of
    then), from a frame of `compute_scores`/`score_frame` (its `h:KEY` columns)."""
    return {column[2:]: int(frame[column].fillna(False).astype(bool).sum())
            for column in frame.columns if isinstance(column, str) and column.startswith("h:")}


def _numeric(value):
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    try:
        number = float(str(value))
        return number if math.isfinite(number) else np.nan
    except (TypeError, ValueError):
        return np.nan


def score_frame(signals, definition):
    """Vectorised scoring of every account in `signals` with one definition.

    Returns a DataFrame indexed by account with `total`, `band`, `available_weight`, and for each
    measure `v:KEY` (raw value), `p:KEY` (points), `w:KEY` (share of the total weight it carried),
    for each group `g:KEY` (score) and `gw:KEY` (share of the total weight).
    """
    out = pd.DataFrame(index=signals.index)
    group_scores, group_weights = {}, {}
    configured_total = sum(g["weight"] for g in definition["groups"] if any(m["weight"] > 0 for m in g["measures"]))
    for group in definition["groups"]:
        measures = [m for m in group["measures"] if m["weight"] > 0]
        for m in group["measures"]:
            values = measure_values(signals, m).astype(float)
            out[f"v:{m['key']}"] = values
            out[f"p:{m['key']}"] = apply_rule(m["rule"], values)
            out[f"h:{m['key']}"] = values.isna() & lacks_history(signals, m)
        if not measures or group["weight"] <= 0:
            continue
        weighted = pd.Series(0.0, index=signals.index)
        available = pd.Series(0.0, index=signals.index)
        for m in measures:
            points = out[f"p:{m['key']}"]
            weighted += points.fillna(0) * m["weight"]
            available += points.notna() * m["weight"]
        group_total = sum(m["weight"] for m in measures)
        # A missing measure's weight is spread over the rest of its group.
        score = (weighted / available.where(available > 0))
        group_scores[group["key"]] = score
        group_weights[group["key"]] = (group["weight"], available / group_total)

    weighted = pd.Series(0.0, index=signals.index)
    used = pd.Series(0.0, index=signals.index)
    # "Enough data" is judged on the share of the configured weight that had data.
    coverage = pd.Series(0.0, index=signals.index)
    for key, score in group_scores.items():
        weight, share_available = group_weights[key]
        weighted += score.fillna(0) * weight
        used += score.notna() * weight
        coverage += share_available * weight
    total = weighted / used.where(used > 0)
    available_weight = coverage / configured_total if configured_total else coverage
    enough = available_weight >= definition["min_available_weight"] - 1e-9
    out["total"] = total.where(enough).round(2)
    out["available_weight"] = available_weight.round(4)
    for group in definition["groups"]:
        key = group["key"]
        if key in group_scores:
            out[f"g:{key}"] = group_scores[key].round(2)
            gshare = (group_scores[key].notna() * group["weight"]) / used.where(used > 0)
            out[f"gw:{key}"] = gshare.round(4)
            available = sum(out[f"p:{m['key']}"].notna() * m["weight"] for m in group["measures"] if m["weight"] > 0)
            for m in group["measures"]:
                if m["weight"] > 0:
                    share = (out[f"p:{m['key']}"].notna() * m["weight"]) / available.where(available > 0)
                    out[f"w:{m['key']}"] = (share.fillna(0) * out[f"gw:{key}"].fillna(0)).round(4)
                else:
                    out[f"w:{m['key']}"] = 0.0
        else:
            out[f"g:{key}"] = np.nan
            out[f"gw:{key}"] = 0.0
            for m in group["measures"]:
                out[f"w:{m['key']}"] = 0.0
        for m in group["measures"]:
            out[f"p:{m['key']}"] = out[f"p:{m['key']}"].round(2)
            out[f"v:{m['key']}"] = out[f"v:{m['key']}"].round(4)
    out["band"] = band_of(out["total"], definition["bands"])
    return out


def band_of(total, bands):
    band = pd.Series(HealthBand.NA.value, index=total.index, dtype=object)
    band = band.mask(total.notna() & (total < bands["red"]), HealthBand.RED.value)
    band = band.mask(total.notna() & (total >= bands["red"]) & (total < bands["green"]), HealthBand.YELLOW.value)
    band = band.mask(total.notna() & (total >= bands["green"]), HealthBand.GREEN.value)
    return band


def _clean(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _flag(value):
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and bool(value)


def snapshot_payload(row, definition):
    """The JSON stored per snapshot: every group and measure, NaN as null."""
    groups, measures = {}, {}
    for group in definition["groups"]:
        key = group["key"]
        groups[key] = {"score": _clean(row.get(f"g:{key}")), "weight": group["weight"],
                       "weight_used": _clean(row.get(f"gw:{key}")) or 0.0}
        for m in group["measures"]:
            measures[m["key"]] = {
                "group": key, "kind": m["kind"], "value": _clean(row.get(f"v:{m['key']}")),
                "points": _clean(row.get(f"p:{m['key']}")), "weight": m["weight"],
                "weight_used": _clean(row.get(f"w:{m['key']}")) or 0.0,
            }
            if m["kind"] == "active_users_per_seat":
                measures[m["key"]]["detail"] = {"users": _clean(row.get("x:active_users")),
                                                "seats": _clean(row.get("x:licensed_seats"))}
            elif m["kind"] == "key_feature_adoption":
                measures[m["key"]]["detail"] = {"used": _clean(row.get("x:key_features_used"))}
            elif m["kind"] == "latest_nps":
                measures[m["key"]]["detail"] = {"days_ago": _clean(row.get("x:latest_nps_age"))}
            elif m["kind"] == "days_since_last_touch":
                column = "days_since_any_touch" if (m.get("params") or {}).get("include_one_to_many") \
                    else "days_since_last_touch"
                if _flag(row.get(f"x:never:{column}")) and measures[m["key"]]["value"] is not None:
                    # No touch logged: the days are counted from the contract start (the explanation says so).
                    measures[m["key"]]["detail"] = {"since": "contract_start"}
            if _flag(row.get(f"h:{m['key']}")):
                measures[m["key"]]["no_history"] = True
    return groups, measures


def assign_versions(*, workspace, as_of, signals, scorecards):
    """Series account → ScorecardVersion: the first matching scorecard by priority, else the default.

    `scorecards` is a list of (Scorecard, ScorecardVersion) with the default among them.
    """
    default = next(version for card, version in scorecards if card.is_default)
    assigned = pd.Series([default] * len(signals), index=signals.index, dtype=object)
    specific = sorted(((c, v) for c, v in scorecards if not c.is_default), key=lambda cv: (cv[0].priority, cv[0].pk))
    if not specific:
        return assigned
    # As they were on the day: the same readers coverage uses, so both agree on an account's tier.
    tier_of = tiers_as_of(workspace=workspace, day=as_of)
    segment_ids = segment_ids_as_of(workspace=workspace, day=as_of)
    tiers = pd.Series({aid: tier_of.get(aid) for aid in signals.index}, dtype=object)
    tiers = tiers.where(tiers.notna(), signals["touch_tier"])
    segments = pd.Series({aid: set(segment_ids.get(aid, ())) for aid in signals.index}, dtype=object)
    decided = pd.Series(False, index=signals.index)
    for card, version in specific:
        wanted_segments = {int(s) for s in (card.segments or [])}
        match = tiers.isin(card.tiers or []) | segments.map(lambda s, w=wanted_segments: bool(s & w))
        match &= ~decided
        assigned[match] = version
        decided |= match
    return assigned


def compute_scores(*, workspace, as_of, definition=None, accounts=None):
    """Score every account as of `as_of` from raw data. Nothing is written.

    With `definition`, every account is scored with it (a what-if); otherwise each account with
    the latest version of the scorecard that applies to it. Returns (frame, signals): `frame`
    has the columns of `score_frame` plus `version` (ScorecardVersion or None).
    """
    settings = health_settings(workspace=workspace)
    signals = collect_signals(workspace=workspace, as_of=as_of, settings=settings, accounts=accounts)
    if signals.empty:
        return pd.DataFrame(columns=["total", "band", "available_weight", "version"]), signals
    if definition is not None:
        frame = score_frame(signals, definition)
        frame["version"] = None
        return _with_details(frame, signals), signals
    assigned = assign_versions(workspace=workspace, as_of=as_of, signals=signals,
                               scorecards=active_scorecards(workspace=workspace))
    parts = []
    for version_id in sorted({v.pk for v in assigned}):
        version = next(v for v in assigned if v.pk == version_id)
        subset = signals[assigned.map(lambda v, pk=version_id: v.pk == pk)]
        frame = score_frame(subset, version.definition)
        frame["version"] = [version] * len(frame)
        parts.append(frame)
    frame = pd.concat(parts) if len(parts) > 1 else parts[0]
    return _with_details(frame.reindex(signals.index), signals), signals


DETAIL_COLUMNS = ["active_users", "licensed_seats", "key_features_used", "latest_nps_age",
                  "never:days_since_last_touch", "never:days_since_any_touch"]


def _with_details(frame, signals):
    """Counts behind ratios, kept so that explanations can say "4 of 20 seats"."""
    for column in DETAIL_COLUMNS:
        if column in signals:
            frame[f"x:{column}"] = signals[column]
    return frame
