"""Reads: coverage reports, trends, the matrix and the due list — all from stored snapshot rows.

Every page and API endpoint counts an account the same way because they all read the same
`CoverageSnapshot` rows through these functions: directly, or through their per-day sums
(`CoverageRollup`) when no filter needs more than those keep. Either way one query sums the same
four measures (models.SNAPSHOT_MEASURES / ROLLUP_MEASURES) per day and group, and every figure is
computed from those sums by the same code (`_sums` and below).
"""

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Max, Q
from django.utils.translation import gettext as _
from django_filters.constants import EMPTY_VALUES

from accounts.models import TouchTier
from segments.selectors import segment_names
from workspaces import owners
from workspaces.models import Membership

from .filtersets import CoverageSnapshotFilterSet
from .models import (
    ROLLUP_MEASURES,
    SNAPSHOT_MEASURES,
    CadencePolicy,
    CoverageRollup,
    CoverageSnapshot,
    TierChange,
    TierPin,
    TouchModel,
)

ONE_DECIMAL = Decimal("0.1")
GROUPS = ("csm", "tier", "segment", "cell")
TIER_LABELS = dict(TouchTier.choices)
# The snapshot column each group is keyed by (segments are a list per row: see _segment_sums).
GROUP_COLUMNS = {"csm": "owner_id", "tier": "tier", "cell": "cell"}
# The filters that only narrow by what a rollup row keeps; any other one needs the snapshot rows.
# (A method filter is named after the one column it narrows by: the segment filter's segment_keys.)
ROLLUP_FILTERS = frozenset(
    name for name, f in CoverageSnapshotFilterSet.base_filters.items() if f.field_name in CoverageRollup.DIMENSIONS
)


def touch_model_of(*, workspace):
    """The workspace's touch model (created with the workspace: see services.ensure_defaults)."""
    return TouchModel.objects.for_workspace(workspace).get()


def tiers_as_of(*, workspace, day):
    """{account_id: touch tier on `day`}, from the forward-only tier history (`TierChange`).

    The one reader of past tiers: coverage and health both use it, so they agree on an account's
    tier on any day. The rule: the latest change on or before `day`; for a day before the account's
    first recorded change, that first recorded tier (the earliest truth there is). Accounts with no
    history at all are absent: callers fall back to the current `Account.touch_tier`. A past day's
    coverage and segment rules read `recorded_tiers` instead, which never looks past the day.
    """
    on_day, first = {}, {}
    rows = (TierChange.objects.for_workspace(workspace).order_by("account_id", "day")
            .values_list("account_id", "day", "tier"))
    for account_id, changed_on, tier in rows.iterator(chunk_size=5000):
        first.setdefault(account_id, tier)
        if changed_on <= day:
            on_day[account_id] = tier
    return {**first, **on_day}


def recorded_tiers(*, workspace, day):
    """{account_id: the touch tier recorded on or before `day`} (`TierChange`: the latest change on or
    before the day). Unlike `tiers_as_of`, a day before an account's first recorded change has no tier
    here: accounts with nothing recorded by then are absent (their tier that day is not on record).
    What segments and a past day's coverage read. One query."""
    on_day = {}
    rows = (TierChange.objects.for_workspace(workspace).filter(day__lte=day).order_by("account_id", "day")
            .values_list("account_id", "tier"))
    for account_id, tier in rows.iterator(chunk_size=5000):
        on_day[account_id] = tier
    return on_day


def latest_day(*, workspace, on_or_before=None):
    """The newest day with a snapshot (not after `on_or_before`), or None before the first run."""
    rows = CoverageSnapshot.objects.for_workspace(workspace)
    if on_or_before:
        rows = rows.filter(day__lte=on_or_before)
    return rows.aggregate(day=Max("day"))["day"]


def _exact_rate(part, whole):
    """The rate in percent, unrounded (a Decimal), or None without a whole."""
    if not whole:
        return None
    return Decimal(part) * 100 / Decimal(whole)


def _half_up(value):
    """One decimal, rounded half up (not to even, not through a binary float's error)."""
    return None if value is None else float(value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP))


def _rate(part, whole):
    return _half_up(_exact_rate(part, whole))


def _totals(n, covered, arr, arr_covered):
    arr, arr_covered = arr or 0, arr_covered or 0
    return {
        "in_scope": n, "covered": covered, "uncovered": n - covered, "rate": _rate(covered, n),
        "arr": arr, "arr_covered": arr_covered, "arr_uncovered": arr - arr_covered, "arr_rate": _rate(arr_covered, arr),
    }


def _in_scope(*, workspace, days, filters=None, request=None):
    """The in-scope coverage of `days` narrowed by `filters`, and the measures that sum it.

    The rollup when the filters narrow by nothing it does not keep (the usual, unfiltered case),
    else the snapshot rows. One FilterSet narrows either: a rollup row has the same owner, tier,
    cell and segment_keys fields.
    """
    rollup = CoverageRollup.objects.for_workspace(workspace).filter(day__in=days)
    if filters is None:
        return rollup, ROLLUP_MEASURES
    filterset = CoverageSnapshotFilterSet(filters, queryset=rollup, request=request)
    filterset.is_valid()  # invalid values are left out of cleaned_data, and so ignored, on both
    used = {name for name, value in filterset.form.cleaned_data.items() if value not in EMPTY_VALUES}
    if used <= ROLLUP_FILTERS:
        return filterset.qs, ROLLUP_MEASURES
    return _snapshot_in_scope(workspace=workspace, days=days, filters=filters, request=request), SNAPSHOT_MEASURES


def _snapshot_in_scope(*, workspace, days, filters=None, request=None):
    rows = CoverageSnapshot.objects.for_workspace(workspace).filter(day__in=days, in_scope=True)
    if filters is not None:
        rows = CoverageSnapshotFilterSet(filters, queryset=rows, request=request).qs
    return rows


def _sums(*, workspace, days, by=None, filters=None, request=None):
    """{(day, key): (n, covered, arr, arr covered)} of the in-scope rows of `days`, per day and per
    value of the `by` column (key None when `by` is None).

    One query whichever group is asked; a day's totals are the sum of its groups (see _per_day).
    Grouping stays in the database: it adds up thousands of rows faster than Python can read them.
    """
    rows, measures = _in_scope(workspace=workspace, days=days, filters=filters, request=request)
    columns = ["day", by] if by else ["day"]
    return {
        (r["day"], r[by] if by else None): (r["n"], r["c"], r["a"] or 0, r["ac"] or 0)
        for r in rows.order_by().values(*columns).annotate(**measures)
    }


def _per_day(sums):
    """{day: (n, covered, arr, arr covered)}: the groups of each day added up."""
    days = defaultdict(lambda: (0, 0, 0, 0))
    for (day, _key), measures in sums.items():
        days[day] = tuple(a + b for a, b in zip(days[day], measures, strict=True))
    return days


def _segment_sums(*, workspace, days, filters=None, request=None):
    """{(day, segment id): measures}: a row counts once in each segment it was in.

    The database sums the rollup (or, for a filter it cannot serve, the rows) per day and
    combination of segments (`segment_keys`: a few hundred distinct values where there are 100,000
    rows), and each combination's sums are added to each of its segments here.
    """
    groups = defaultdict(lambda: (0, 0, 0, 0))
    rows, measures = _in_scope(workspace=workspace, days=days, filters=filters, request=request)
    combinations = rows.exclude(segment_keys="").order_by().values("day", "segment_keys").annotate(**measures)
    for r in combinations:
        measures = (r["n"], r["c"], r["a"] or 0, r["ac"] or 0)
        for segment_id in [int(s) for s in r["segment_keys"].strip(",").split(",") if s]:
            groups[r["day"], segment_id] = tuple(a + b for a, b in zip(groups[r["day"], segment_id], measures,
                                                                          strict=True))
    return dict(groups)


def _labels(workspace, key, keys):
    if key == "csm":
        names = {m.pk: m.display_name for m in
                 Membership.objects.for_workspace(workspace).filter(pk__in=[k for k in keys if k]).select_related("user")}
        return {k: names.get(k, _("Unassigned")) if k else _("Unassigned") for k in keys}
    if key == "tier":
        return {k: str(TIER_LABELS.get(k, k or _("No tier"))) for k in keys}
    if key == "segment":
        names = segment_names(workspace=workspace, ids=keys)
        return {k: names.get(k, _("(deleted segment)")) for k in keys}
    if key == "cell":
        return {k: k or _("Unbanded") for k in keys}
    return {k: _("All accounts") for k in keys}


def _change(now, before, *, arr=False):
    """Percentage points between two measures (n, covered, arr, arr covered): the difference of
    the unrounded rates, rounded half up, so a change is not the difference of two roundings."""
    if now is None or before is None:
        return None
    part, whole = (3, 2) if arr else (1, 0)  # (covered ARR, ARR) or (covered, accounts)
    a, b = _exact_rate(now[part], now[whole]), _exact_rate(before[part], before[whole])
    if a is None or b is None:
        return None
    return _half_up(a - b)


def coverage_report(*, workspace, day, group_by=None, filters=None, request=None, compare_days=7):
    """Rates for `day` overall and per group, each with the change against `compare_days` earlier."""
    if group_by not in (None, *GROUPS):
        raise ValueError(group_by)
    before_day = day - dt.timedelta(days=compare_days)
    scope = {"workspace": workspace, "days": [day, before_day], "filters": filters, "request": request}
    sums = _sums(**scope, by=GROUP_COLUMNS.get(group_by))
    per_day = _per_day(sums)
    measures_now, measures_before = per_day.get(day, (0, 0, 0, 0)), per_day.get(before_day, (0, 0, 0, 0))
    total, total_before = _totals(*measures_now), _totals(*measures_before)
    report = {
        "day": day, "compared_with": before_day, "group_by": group_by,
        "total": {**total, "rate_before": total_before["rate"], "change": _change(measures_now, measures_before),
                  "arr_rate_before": total_before["arr_rate"],
                  "arr_change": _change(measures_now, measures_before, arr=True)},
        "groups": [],
    }
    if group_by:
        if group_by == "segment":
            sums = _segment_sums(**scope)
        now = {key: measures for (on, key), measures in sums.items() if on == day}
        then = {key: measures for (on, key), measures in sums.items() if on == before_day}
        labels = _labels(workspace, group_by, list(now))
        for key, measures in now.items():
            prev = then.get(key)
            report["groups"].append({
                "key": key, "label": labels[key], **_totals(*measures),
                "rate_before": _totals(*prev)["rate"] if prev else None, "change": _change(measures, prev),
                "arr_change": _change(measures, prev, arr=True),
            })
        report["groups"].sort(key=lambda g: (g["rate"] if g["rate"] is not None else 101, str(g["label"])))
    return report


def coverage_trend(*, workspace, day, weeks=12, group_by=None, filters=None, request=None):
    """One point per week ending on `day` (same weekday), oldest first: overall and per group."""
    days = [day - dt.timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    by = GROUP_COLUMNS.get(group_by)
    sums = _sums(workspace=workspace, days=days, by=by, filters=filters, request=request)
    overall = {on: _totals(*measures) for on, measures in _per_day(sums).items()}
    series = [
        {"name": _("Coverage"), "key": "all", "points": [overall.get(d, {}).get("rate") for d in days]},
        {"name": _("ARR-weighted"), "key": "arr", "points": [overall.get(d, {}).get("arr_rate") for d in days]},
    ]
    if by:
        per = defaultdict(dict)
        for (on, key), (n, c, _a, _ac) in sums.items():
            per[key][on] = _rate(c, n)
        labels = _labels(workspace, group_by, list(per))
        series += [{"name": str(labels[k]), "key": k, "points": [per[k].get(d) for d in days]} for k in per]
    return {"days": days, "labels": [d.strftime("%m/%d") for d in days], "series": series}


def breaking_accounts(*, workspace, day, filters=None, request=None):
    """In-scope accounts not covered on `day`: largest ARR first, then the longest overdue."""
    rows = _snapshot_in_scope(workspace=workspace, days=[day], filters=filters, request=request)
    return (
        rows.filter(covered=False)
        .select_related("account", "owner__user")
        .order_by(F("arr").desc(), F("overdue_days").desc(nulls_first=True), "account__name", "account_id")
    )


def due_list(*, workspace, owner, day, horizon_days=14):
    """The owner's in-scope accounts that are overdue, or fall due within `horizon_days` of `day`.

    `owner`: a member, None for the accounts nobody owns, or workspaces.owners.ALL for everyone's.
    """
    rows = CoverageSnapshot.objects.for_workspace(workspace).filter(day=day, in_scope=True)
    if owner != owners.ALL:
        rows = rows.filter(owner=owner)
    due_soon = Q(covered=False) | Q(due_date__lte=day + dt.timedelta(days=horizon_days))
    return (
        rows.filter(due_soon).select_related("account", "owner__user")
        .order_by(F("due_date").asc(nulls_first=True), F("arr").desc(), "account_id")
    )


def band_ranges(bands, unit=""):
    """[{"label", "min", "max", "range"}] of bands, lowest minimum first: "11–20", "≥ 21" (a band
    reaches up to the next band's minimum less one; the top band is open)."""
    ordered = sorted(bands, key=lambda b: b["min"])
    out = []
    for band, above in zip(ordered, [*ordered[1:], None], strict=True):
        top = above["min"] - 1 if above else None
        text = f"≥ {band['min']}" if top is None else (f"{band['min']}–{top}" if top > band["min"] else f"{top}")
        out.append({"label": band["label"], "min": band["min"], "max": top,
                    "range": f"{text} {unit}".strip()})
    return out


# Heat of a cell by its coverage rate: the lowest rate each step starts at, and its words.
HEAT_STEPS = ((90, "heat-4"), (75, "heat-3"), (50, "heat-2"), (25, "heat-1"), (0, "heat-0"))


def heat_of(rate):
    if rate is None:
        return "heat-none"
    return next(name for floor, name in HEAT_STEPS if rate >= floor)


def heat_legend():
    tops = [100, *[floor - 0.1 for floor, _name in HEAT_STEPS[:-1]]]
    return [{"class": name, "range": f"{floor}–{top:g}%" if top != 100 else f"≥ {floor}%"}
            for (floor, name), top in zip(HEAT_STEPS, tops, strict=True)]


def matrix(*, workspace, day, filters=None, request=None):
    """The priority matrix on `day`: per cell counts, ARR, coverage and change vs yesterday / last
    week, of the accounts the filters select (the report's filters: a CSM's own book, a segment…)."""
    touch_model = touch_model_of(workspace=workspace)
    seat_ranges = band_ranges(touch_model.seat_bands)[::-1]  # the largest accounts on top
    tenure_ranges = band_ranges(touch_model.tenure_bands, unit=_("months"))
    seat_labels = [b["label"] for b in seat_ranges]
    tenure_labels = [b["label"] for b in tenure_ranges]
    compare = {"yesterday": day - dt.timedelta(days=1), "last_week": day - dt.timedelta(days=7)}
    on_days = {"now": day, **compare}
    sums = _sums(workspace=workspace, days=list(on_days.values()), by="cell", filters=filters, request=request)
    stats = {name: {key: measures for (d, key), measures in sums.items() if d == on}
             for name, on in on_days.items()}
    must = set(touch_model.must_not_lose)
    rows = []
    for seat in seat_labels:
        cells = []
        for tenure in tenure_labels:
            key = f"{seat}-{tenure}"
            now = stats["now"].get(key, (0, 0, 0, 0))
            cell = {"key": key, "must_not_lose": key in must, **_totals(*now)}
            cell["heat"] = heat_of(cell["rate"])
            for name in compare:
                then = stats[name].get(key)
                cell[f"count_change_{name}"] = now[0] - then[0] if then else None
                cell[f"rate_change_{name}"] = _change(now, then) if then else None
            cells.append(cell)
        rows.append({"band": seat, "range": seat_ranges[seat_labels.index(seat)]["range"], "cells": cells})
    unbanded = _totals(*stats["now"].get("", (0, 0, 0, 0)))
    return {
        "day": day, "seat_bands": seat_labels, "tenure_bands": tenure_labels, "rows": rows,
        "seat_ranges": seat_ranges, "tenure_ranges": tenure_ranges, "users": touch_model.matrix_users,
        "users_label": str(touch_model.get_matrix_users_display()), "legend": heat_legend(),
        "unbanded": unbanded, "must_not_lose": sorted(must),
        "has_yesterday": bool(stats["yesterday"]), "has_last_week": bool(stats["last_week"]),
    }


def cadence_policies(*, workspace):
    return (
        CadencePolicy.objects.for_workspace(workspace).select_related("segment").prefetch_related("rules")
        .order_by(F("segment_id").asc(nulls_first=True), "priority", "tier", "id")
    )


def tier_pins(*, workspace):
    return TierPin.objects.for_workspace(workspace).select_related("account", "pinned_by__user")


def tier_counts(*, workspace):
    from accounts.models import Account

    counts = dict(
        Account.objects.for_workspace(workspace).active().order_by().values_list("touch_tier").annotate(n=Count("id"))
    )
    return [{"tier": t, "label": label, "count": counts.get(t, 0)} for t, label in TouchTier.choices]


def account_coverage(*, account):
    """The account's latest snapshot row, for the panel on its page."""
    return (
        CoverageSnapshot.objects.for_workspace(account.workspace).filter(account=account)
        .order_by("-day").first()
    )


def covered_on(*, workspace, account_days):
    """{(account_id, day): covered} for each asked (account, day) whose snapshot of exactly that day
    was in scope: what that day's nightly run found, never today's coverage. Missing otherwise."""
    wanted = {}
    for account_id, day in account_days:
        wanted.setdefault(account_id, set()).add(day)
    result = {}
    ids = sorted(wanted)
    for offset in range(0, len(ids), 1000):
        chunk = ids[offset:offset + 1000]
        days = {day for account_id in chunk for day in wanted[account_id]}
        rows = (CoverageSnapshot.objects.for_workspace(workspace)
                .filter(account_id__in=chunk, day__in=days, in_scope=True)
                .order_by().values_list("account_id", "day", "covered"))
        for account_id, day, covered in rows.iterator(chunk_size=5000):
            if day in wanted[account_id]:
                result[(account_id, day)] = covered
    return result
def uncovered_accounts(*, workspace, on_or_before, tiers=None, min_overdue_days=0):
    """{account_id: {"day", "due_date", "overdue_days", "broken_rule"}} of the in-scope accounts not
    covered in the newest snapshot up to `on_or_before` (none before the first run), optionally of
    some tiers only and at least `min_overdue_days` overdue (an account never touched always is).
    One query after the day's."""
    day = latest_day(workspace=workspace, on_or_before=on_or_before)
    if day is None:
        return {}
    rows = CoverageSnapshot.objects.for_workspace(workspace).filter(day=day, in_scope=True, covered=False)
    if tiers:
        rows = rows.filter(tier__in=list(tiers))
    if min_overdue_days:
        rows = rows.filter(Q(overdue_days__isnull=True) | Q(overdue_days__gte=min_overdue_days))
    return {
        account_id: {"day": day, "due_date": due_date, "overdue_days": overdue, "broken_rule": broken}
        for account_id, due_date, overdue, broken in rows.values_list(
            "account_id", "due_date", "overdue_days", "broken_rule").iterator(chunk_size=5000)
    }


def last_qualifying_touches(*, workspace, on_or_before):
    """{account_id: (its last qualifying touch's day or None, days since it or None)} of the in-scope
    accounts in the newest snapshot up to `on_or_before`. One query after the day's."""
    day = latest_day(workspace=workspace, on_or_before=on_or_before)
    if day is None:
        return {}
    rows = CoverageSnapshot.objects.for_workspace(workspace).filter(day=day, in_scope=True)
    return {account_id: (last, since) for account_id, last, since in rows.values_list(
        "account_id", "last_touch_on", "days_since_last_touch").iterator(chunk_size=5000)}
