"""Revenue from contract lines: MRR on a day, monthly movements, window metrics and their breakdowns.

Definitions (docs/revenue.md has them with a worked example):

- An account's MRR on a day is the sum of the MRR of its lines active that day: start_date <= day and
  (end_date is empty or day < end_date). The end is exclusive. ARR on the revenue screens is 12 × that
  MRR, never the account's ARR field (which the CRM sets).
- Movements compare each account's MRR on two boundaries (the first of each month, and the window's
  own start and end): 0 → >0 is *new* when the account never had MRR on any day before the earlier
  boundary, else *reactivation*; >0 → 0 is *churn*; a rise is *expansion*, a fall *contraction*.
  What happens between two boundaries is not seen: a churn and return inside one month is nothing.
  Amounts are positive numbers; contraction and churn are subtracted on the waterfall.
- Window metrics for [start, end): start MRR, NRR, logo churn, MRR churn including downsell and GRR,
  exactly as in the issue (see `metrics_from`). Ratios are Decimals, None when start MRR is 0.

Everything is computed from a handful of aggregate queries (one per boundary day), never one per account.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import F, Min, Q, Sum
from django.utils.translation import gettext as _

from accounts.models import Account, Contract, TouchTier
from accounts.selectors import churn_reason_names, onboarding_failure_codes
from segments.selectors import segment_ids_as_of, segment_names

ZERO = Decimal("0")
ONE = Decimal("1")
KINDS = ("new", "expansion", "reactivation", "contraction", "churn")
GAINS = ("new", "expansion", "reactivation")
LOSSES = ("contraction", "churn")
BREAKDOWNS = ("segment", "tier", "csm", "cohort")
MAX_DAYS = 366 * 5  # a window is at most five years (61 month boundaries)
NO_GROUP = ""  # the key of "no segment / no tier / no CSM"


# --- MRR on a day -----------------------------------------------------------------------------------

def active_lines_on(workspace, day):
    """The workspace's contract lines active on `day` (start <= day < end, or no end)."""
    return Contract.objects.for_workspace(workspace).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=day), start_date__lte=day)


def mrr_by_account_on(workspace, day):
    """{account_id: MRR (Decimal)} of the accounts with MRR > 0 on `day`. One query."""
    rows = (active_lines_on(workspace, day).values("account_id").annotate(total=Sum("mrr"))
            .filter(total__gt=0).values_list("account_id", "total"))
    return {account_id: Decimal(total) for account_id, total in rows}


def first_mrr_days(workspace):
    """{account_id: the first day the account had MRR > 0}: the earliest start of a line with MRR > 0
    that runs at least one day. One query."""
    rows = (Contract.objects.for_workspace(workspace).filter(mrr__gt=0)
            .filter(Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")))
            .values("account_id").annotate(first=Min("start_date")).values_list("account_id", "first"))
    return dict(rows)


# --- windows and boundaries -------------------------------------------------------------------------

def month_start(day):
    return day.replace(day=1)


def next_month(day):
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def boundaries(start, end):
    """The days movements compare: `start`, every first of a month strictly between, and `end`."""
    days = [start]
    day = next_month(start)
    while day < end:
        days.append(day)
        day = next_month(day)
    days.append(end)
    return days


def previous_window(start, end):
    """The window of equal length just before [start, end): as many months before when both ends are
    firsts of a month (the quarter before a quarter), else as many days before."""
    if start.day == 1 and end.day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month
        index = start.year * 12 + start.month - 1 - months
        return dt.date(index // 12, index % 12 + 1, 1), start
    return start - (end - start), start


def quarter_of(day):
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def window_presets(today):
    """The windows the page offers: {key: (label, start, end)}, end excluded."""
    this_quarter = quarter_of(today)
    last_quarter = quarter_of(this_quarter - dt.timedelta(days=1))
    this_month = month_start(today)
    twelve = dt.date(this_month.year - 1, this_month.month, 1)
    return {
        "this_quarter": (_("This quarter"), this_quarter, next_month(next_month(next_month(this_quarter)))),
        "last_quarter": (_("Last quarter"), last_quarter, this_quarter),
        "last_12_months": (_("Last 12 months"), twelve, this_month),
        "this_year": (_("This year"), dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)),
        "last_year": (_("Last year"), dt.date(today.year - 1, 1, 1), dt.date(today.year, 1, 1)),
    }


# --- movements --------------------------------------------------------------------------------------

def classify(before, after, first_day, boundary):
    """(kind, amount) of one account between two boundaries; None when nothing moved.

    `before`/`after`: MRR on the earlier and the later boundary (0 when none); `first_day`: the first
    day the account ever had MRR; `boundary`: the earlier boundary."""
    if before == after:
        return None
    if before == 0:
        kind = "reactivation" if first_day is not None and first_day < boundary else "new"
        return kind, after
    if after == 0:
        return "churn", before
    return ("expansion", after - before) if after > before else ("contraction", before - after)


def _empty_totals():
    return {**{kind: ZERO for kind in KINDS}, **{f"{kind}_count": 0 for kind in KINDS}}


def movements(workspace, start, end):
    """Monthly movements in [start, end): one step per pair of consecutive boundaries.

    Returns {"start", "end", "steps": [{"start", "end", "start_mrr", "end_mrr", <kind>: amount,
    <kind>_count: n}], "total": the same for the whole window (sums of the steps, which add up from
    start MRR to end MRR), "rows": [{"start", "end", "account_id", "kind", "amount", "before", "after"}]}.
    """
    days = boundaries(start, end)
    mrr = {day: mrr_by_account_on(workspace, day) for day in days}
    first = first_mrr_days(workspace)
    steps, rows = [], []
    for before_day, after_day in zip(days, days[1:], strict=False):
        before, after = mrr[before_day], mrr[after_day]
        step = {"start": before_day, "end": after_day, "start_mrr": sum(before.values(), ZERO),
                "end_mrr": sum(after.values(), ZERO), **_empty_totals()}
        for account_id in sorted(before.keys() | after.keys()):
            moved = classify(before.get(account_id, ZERO), after.get(account_id, ZERO), first.get(account_id),
                             before_day)
            if moved is None:
                continue
            kind, amount = moved
            step[kind] += amount
            step[f"{kind}_count"] += 1
            rows.append({"start": before_day, "end": after_day, "account_id": account_id, "kind": kind,
                         "amount": amount, "before": before.get(account_id, ZERO),
                         "after": after.get(account_id, ZERO)})
        steps.append(step)
    total = {"start": start, "end": end, "start_mrr": steps[0]["start_mrr"], "end_mrr": steps[-1]["end_mrr"],
             **_empty_totals()}
    for step in steps:
        for key in total.keys() - {"start", "end", "start_mrr", "end_mrr"}:
            total[key] += step[key]
    return {"start": start, "end": end, "steps": steps, "total": total, "rows": rows}


def movement_rows(workspace, start, end, *, kind=None, step_start=None):
    """The accounts of the movements in [start, end) (of one kind, of one month step when given), with
    what a drill-down shows: name, owner, churn reason and note. Two queries plus the movements'."""
    found = movements(workspace, start, end)["rows"]
    rows = [row for row in found if (kind is None or row["kind"] == kind)
            and (step_start is None or row["start"] == step_start)]
    info = _account_info(workspace, {row["account_id"] for row in rows})
    names = churn_reason_names(workspace)
    for row in rows:
        account = info.get(row["account_id"], {})
        row.update(account_name=account.get("name", ""), owner_name=account.get("owner_name", ""),
                   status=account.get("status", ""), churned_on=account.get("churned_on"),
                   churn_reason=account.get("churn_reason", ""),
                   churn_reason_name=names.get(account.get("churn_reason", ""), account.get("churn_reason", "")),
                   churn_note=account.get("churn_note", ""))
    rows.sort(key=lambda row: (row["start"], KINDS.index(row["kind"]), -row["amount"], row["account_name"]))
    return rows


def _member_name(first_name, last_name, username):
    return f"{first_name} {last_name}".strip() or username


def _account_info(workspace, ids):
    rows = (Account.objects.for_workspace(workspace).filter(pk__in=list(ids))
            .values("pk", "name", "status", "churned_on", "churn_reason", "churn_note", "touch_tier", "owner_id",
                    "owner__user__first_name", "owner__user__last_name", "owner__user__username"))
    info = {}
    for row in rows:
        owner = (_member_name(row["owner__user__first_name"], row["owner__user__last_name"],
                              row["owner__user__username"]) if row["owner_id"] else "")
        info[row["pk"]] = {**row, "owner_name": owner}
    return info


# --- window metrics ---------------------------------------------------------------------------------

def _ratio(part, whole):
    return part / whole if whole else None


def metrics_from(start_mrr_map, end_mrr_map, ids=None):
    """The window metrics of the accounts `ids` (all when None) from their MRR on start and on end.

    start MRR = Σ MRR on start of accounts with MRR > 0 on start (the "start accounts");
    NRR = Σ MRR on end of the start accounts / start MRR;
    logo churn = start accounts with no MRR on end / start accounts;
    MRR churn incl. downsell = (Σ start MRR of those churned + Σ decrease of start accounts whose MRR
    fell but stayed > 0) / start MRR;  GRR = 1 − MRR churn incl. downsell (never above 1)."""
    if ids is None:
        starting, ending = start_mrr_map, end_mrr_map
    else:
        starting = {a: m for a, m in start_mrr_map.items() if a in ids}
        ending = {a: m for a, m in end_mrr_map.items() if a in ids}
    start_mrr = sum(starting.values(), ZERO)
    retained = churned_mrr = downsell = expansion = ZERO
    churned = downsold = expanded = 0
    for account_id, before in starting.items():
        after = ending.get(account_id, ZERO)
        retained += after
        if after == 0:
            churned += 1
            churned_mrr += before
        elif after < before:
            downsold += 1
            downsell += before - after
        elif after > before:
            expanded += 1
            expansion += after - before
    new = {a: m for a, m in ending.items() if a not in starting}
    lost = churned_mrr + downsell
    mrr_churn = _ratio(lost, start_mrr)
    return {
        "start_mrr": start_mrr, "end_mrr": sum(ending.values(), ZERO), "start_arr": start_mrr * 12,
        "end_arr": sum(ending.values(), ZERO) * 12,
        "start_logos": len(starting), "end_logos": len(ending), "retained_mrr": retained,
        "churned_logos": churned, "churned_mrr": churned_mrr, "downsell_logos": downsold, "downsell_mrr": downsell,
        "expanded_logos": expanded, "expansion_mrr": expansion, "new_logos": len(new),
        "new_mrr": sum(new.values(), ZERO),
        "nrr": _ratio(retained, start_mrr), "logo_churn": _ratio(Decimal(churned), Decimal(len(starting))),
        "mrr_churn": mrr_churn, "grr": None if mrr_churn is None else min(ONE, ONE - mrr_churn),
    }


def window_metrics(workspace, start, end):
    """The window metrics of [start, end) for the whole workspace. Two queries."""
    return {"start": start, "end": end,
            **metrics_from(mrr_by_account_on(workspace, start), mrr_by_account_on(workspace, end))}


def window_report(workspace, start, end):
    """The window's metrics next to the preceding window of equal length (period over period)."""
    before_start, before_end = previous_window(start, end)
    return {"current": window_metrics(workspace, start, end),
            "previous": window_metrics(workspace, before_start, before_end)}


# --- breakdowns -------------------------------------------------------------------------------------

def _quarter_label(day):
    return _("%(year)s Q%(quarter)s") % {"year": day.year, "quarter": (day.month - 1) // 3 + 1}


def _groups(workspace, by, start, end, start_map, end_map):
    """({account_id: [group keys]}, {key: label}) for the accounts of the window."""
    ids = start_map.keys() | end_map.keys()
    if by == "segment":
        # Membership from the segments' history: on `start` for the accounts with MRR then, on the
        # window's last day for the others (accounts that came in during the window).
        on_start = segment_ids_as_of(workspace=workspace, day=start)
        on_end = segment_ids_as_of(workspace=workspace, day=end - dt.timedelta(days=1))
        groups = {a: (on_start.get(a, []) if a in start_map else on_end.get(a, [])) or [NO_GROUP] for a in ids}
        labels = segment_names(workspace=workspace, ids={k for keys in groups.values() for k in keys} - {NO_GROUP})
        labels[NO_GROUP] = _("No segment")
        return groups, labels
    if by == "cohort":
        first = first_mrr_days(workspace)
        groups, labels = {}, {}
        for a in ids:
            key = quarter_of(first[a]).isoformat() if a in first else NO_GROUP
            groups[a] = [key]
            labels[key] = _quarter_label(quarter_of(first[a])) if a in first else _("Unknown")
        return groups, labels
    info = _account_info(workspace, ids)
    if by == "tier":
        tiers = dict(TouchTier.choices)
        groups = {a: [info.get(a, {}).get("touch_tier") or NO_GROUP] for a in ids}
        labels = {key: tiers.get(key, key) for keys in groups.values() for key in keys}
        labels[NO_GROUP] = _("No tier")
        return groups, labels
    if by == "csm":
        groups = {a: [info.get(a, {}).get("owner_id") or NO_GROUP] for a in ids}
        labels = {info[a]["owner_id"]: info[a]["owner_name"] for a in ids if a in info and info[a]["owner_id"]}
        labels[NO_GROUP] = _("No CSM")
        return groups, labels
    raise ValueError(f"Unknown breakdown {by!r}: one of {', '.join(BREAKDOWNS)}.")


def breakdown(workspace, start, end, by):
    """The window metrics per segment, tier, CSM or cohort: [{"key", "label", <metrics>}], by start MRR,
    largest first. Segment membership is historical (see `_groups`); tier and CSM are the accounts'
    current values (no history is kept of them); cohort is the quarter of the account's first MRR day.
    An account in several segments counts in each."""
    start_map, end_map = mrr_by_account_on(workspace, start), mrr_by_account_on(workspace, end)
    groups, labels = _groups(workspace, by, start, end, start_map, end_map)
    members = defaultdict(set)
    for account_id, keys in groups.items():
        for key in keys:
            members[key].add(account_id)
    rows = [{"key": key, "label": labels.get(key, str(key)), **metrics_from(start_map, end_map, ids)}
            for key, ids in members.items()]
    rows.sort(key=lambda row: (-row["start_mrr"], -row["end_mrr"], str(row["label"])))
    return rows


def breakdowns(workspace, start, end):
    return {by: breakdown(workspace, start, end, by) for by in BREAKDOWNS}


# --- churn by reason --------------------------------------------------------------------------------

def churn_by_reason(workspace, start, end, *, moved=None):
    """MRR and logos lost by churn movements in [start, end), per churn-reason category (the account's
    reason), with the share of churned MRR and logos whose reason is onboarding failure.

    {"rows": [{"code", "name", "mrr", "logos", "onboarding"}], "mrr", "logos", "onboarding_mrr",
    "onboarding_logos", "onboarding_mrr_share", "onboarding_logo_share"}. A churn without a reason
    (e.g. an account that came back) is under code "" ("No reason recorded")."""
    moved = moved if moved is not None else movements(workspace, start, end)
    churns = [row for row in moved["rows"] if row["kind"] == "churn"]
    reasons = dict(Account.objects.for_workspace(workspace).filter(pk__in={row["account_id"] for row in churns})
                   .values_list("pk", "churn_reason"))
    names = churn_reason_names(workspace)
    onboarding = onboarding_failure_codes(workspace)
    per = {}
    for row in churns:
        code = reasons.get(row["account_id"]) or ""
        entry = per.setdefault(code, {"code": code, "name": names.get(code, code) if code else _("No reason recorded"),
                                      "mrr": ZERO, "logos": 0, "onboarding": code in onboarding})
        entry["mrr"] += row["amount"]
        entry["logos"] += 1
    rows = sorted(per.values(), key=lambda entry: (-entry["mrr"], -entry["logos"], str(entry["name"])))
    total_mrr = sum((entry["mrr"] for entry in rows), ZERO)
    total_logos = sum(entry["logos"] for entry in rows)
    onboarding_mrr = sum((entry["mrr"] for entry in rows if entry["onboarding"]), ZERO)
    onboarding_logos = sum(entry["logos"] for entry in rows if entry["onboarding"])
    return {"start": start, "end": end, "rows": rows, "mrr": total_mrr, "logos": total_logos,
            "onboarding_mrr": onboarding_mrr, "onboarding_logos": onboarding_logos,
            "onboarding_mrr_share": _ratio(onboarding_mrr, total_mrr),
            "onboarding_logo_share": _ratio(Decimal(onboarding_logos), Decimal(total_logos))}

