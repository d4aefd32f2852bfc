"""Reads of the lifecycle capability: stage distribution against targets over time, stuck accounts,
usage levels, per-level churn and Lv2+ by month of tenure. Every figure about a past day reads only
what existed that day: stage moves (accounts.StageChange), the status log (accounts.AccountChange)
and the level history (AccountLevel). A few queries per report, never one per account or per week.
"""

import bisect
import datetime as dt
from collections import defaultdict

from django.db.models import Count, OuterRef, Subquery

from accounts.models import Account, AccountChange, AccountStatus, LifecycleStage, StageChange

from .models import LEVELS, AccountLevel, CurrentLevel, UsageLevel

DEFAULT_WEEKS = 12
MAX_WEEKS = 104
CHURN_WINDOW = 90
MIN_ACCOUNTS = 10
TENURE_MONTHS = 12  # the last bucket is "12 months or more"


# --- who was active on a day ---------------------------------------------------------------------
def active_on(*, workspace, days):
    """{day: set of account ids active on that day} from the status log (the latest logged status on or
    before the day). An account without a logged status by then counts from its creation day until
    its churn date (accounts created before the log existed). Two queries whatever the number of days."""
    accounts = list(Account.objects.for_workspace(workspace).order_by()
                    .values_list("pk", "created_at", "churned_on", "status"))
    log = defaultdict(list)
    for pk, valid_from, value in (AccountChange.objects.for_workspace(workspace).filter(field="status")
                                  .order_by("account_id", "valid_from", "id")
                                  .values_list("account_id", "valid_from", "value")):
        log[pk].append((valid_from, value))
    out = {}
    for day in days:
        active = set()
        for pk, created_at, churned_on, status in accounts:
            rows = log.get(pk)
            if rows:
                i = bisect.bisect_right([r[0] for r in rows], day)
                if i:
                    if rows[i - 1][1] == AccountStatus.ACTIVE:
                        active.add(pk)
                    continue
            if workspace.local_day(created_at) <= day and (churned_on is None or churned_on > day) and (
                    status == AccountStatus.ACTIVE or churned_on is not None):
                active.add(pk)
        out[day] = active
    return out


# --- lifecycle stages ----------------------------------------------------------------------------
def stages(*, workspace):
    return list(LifecycleStage.objects.for_workspace(workspace).order_by("position", "id"))


def week_days(today, weeks):
    """The weekly points, oldest first, the last one today."""
    return [today - dt.timedelta(days=7 * k) for k in reversed(range(weeks))]


def stage_on(workspace, days):
    """{day: {account_id: stage_id}} from the stage moves: the stage the account's latest move on or
    before the day went to; before its first move, the stage that move left (else its stage now)."""
    moves = defaultdict(list)
    for pk, changed_at, from_id, to_id in (StageChange.objects.for_workspace(workspace).order_by("changed_at", "id")
                                           .values_list("account_id", "changed_at", "from_stage_id", "to_stage_id")):
        moves[pk].append((workspace.local_day(changed_at), from_id, to_id))
    now = dict(Account.objects.for_workspace(workspace).order_by().values_list("pk", "stage_id"))
    out = {}
    for day in days:
        on = {}
        for pk, stage_id in now.items():
            rows = moves.get(pk)
            if not rows:
                on[pk] = stage_id
                continue
            i = bisect.bisect_right([r[0] for r in rows], day)
            on[pk] = rows[i - 1][2] if i else rows[0][1]
        out[day] = on
    return out


def stage_distribution(*, workspace, today, weeks=DEFAULT_WEEKS):
    """The share of active accounts per stage at weekly points (percent, one decimal) against the
    stage's target: {"days", "rows": [{"stage", "target", "points": [{"day", "count", "share"}]}],
    "totals": [active accounts per point]}. Accounts without a stage count in the denominator."""
    days = week_days(today, weeks)
    active = active_on(workspace=workspace, days=days)
    on = stage_on(workspace, days)
    all_stages = stages(workspace=workspace)
    totals, counts = [], []
    for day in days:
        per = defaultdict(int)
        for pk in active[day]:
            per[on[day].get(pk)] += 1
        totals.append(len(active[day]))
        counts.append(per)
    rows = []
    for stage in all_stages:
        points = []
        for day, total, per in zip(days, totals, counts, strict=True):
            n = per.get(stage.pk, 0)
            points.append({"day": day, "count": n, "share": round(100 * n / total, 1) if total else None})
        target = float(stage.target_share) if stage.target_share is not None else None
        latest = points[-1]["share"] if points else None
        rows.append({"stage": stage, "target": target, "points": points, "latest": latest,
                     "gap": round(latest - target, 1) if latest is not None and target is not None else None})
    no_stage = [per.get(None, 0) for per in counts]
    return {"days": days, "rows": rows, "totals": totals, "no_stage": no_stage, "weeks": weeks}


def stuck_accounts(*, workspace, today, stage_id=None):
    """Active accounts in a stage for its "stuck after" days or more (entered on or before today - N):
    [{"account", "stage", "owner", "entered", "days", "threshold"}], longest first."""
    thresholds = {s.pk: s for s in stages(workspace=workspace) if s.stuck_after_days}
    if stage_id is not None:
        thresholds = {k: v for k, v in thresholds.items() if k == stage_id}
    if not thresholds:
        return []
    accounts = (Account.objects.for_workspace(workspace).filter(status=AccountStatus.ACTIVE,
                                                                 stage_id__in=list(thresholds),
                                                                 stage_entered_at__isnull=False)
                .select_related("owner__user").order_by("stage_entered_at", "pk"))
    rows = []
    for account in accounts:
        stage = thresholds[account.stage_id]
        entered = workspace.local_day(account.stage_entered_at)
        days = (today - entered).days
        if days >= stage.stuck_after_days:
            rows.append({"account": account, "stage": stage, "owner": account.owner, "entered": entered,
                         "days": days, "threshold": stage.stuck_after_days})
    return rows


# --- usage levels --------------------------------------------------------------------------------
def level_definitions(*, workspace):
    """The workspace's levels by number (Lv1 to Lv4; created with the workspace)."""
    return list(UsageLevel.objects.for_workspace(workspace).order_by("number"))


def rules_by_number(workspace):
    return {level.number: level.rules or {} for level in level_definitions(workspace=workspace)}


def level_names(workspace):
    names = {n: f"Lv{n}" for n in LEVELS}
    names.update({level.number: f"Lv{level.number} {level.name}" for level in level_definitions(workspace=workspace)})
    return names


def current_level_counts(*, workspace):
    """{level: active accounts at it now} from the current-level table."""
    return dict(CurrentLevel.objects.for_workspace(workspace).filter(account__status=AccountStatus.ACTIVE)
                .order_by().values_list("level").annotate(n=Count("id")))


def account_level(*, account):
    """The account's level now and its name: one query (the name read in a subquery)."""
    name = UsageLevel.objects.for_workspace(account.workspace).filter(number=OuterRef("level")).values("name")[:1]
    row = (CurrentLevel.objects.for_workspace(account.workspace).filter(account=account)
           .annotate(level_name=Subquery(name)).values("level", "since", "level_name").first())
    if row is None:
        return None
    label = f"Lv{row['level']} {row['level_name']}" if row["level_name"] else f"Lv{row['level']}"
    return {"level": row["level"], "name": label, "since": row["since"]}


def month_starts(first, last):
    """The first days of the months from `first`'s month to `last` (inclusive, when `last` is one)."""
    if first is None or last is None or first > last:
        return []
    day = first.replace(day=1)
    if day < first:
        day = (day + dt.timedelta(days=32)).replace(day=1)
    out = []
    while day <= last:
        out.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


def _history(workspace):
    return list(AccountLevel.objects.for_workspace(workspace).order_by("account_id", "valid_from")
                .values_list("account_id", "level", "valid_from", "valid_to"))


def _observations(history, days):
    """(account, day, level) for each day of `days` covered by a history row (the account was active
    and at that level that day)."""
    out = []
    for pk, level, start, end in history:
        i = bisect.bisect_left(days, start)
        while i < len(days) and (end is None or days[i] < end):
            out.append((pk, days[i], level))
            i += 1
    return out


def level_churn(*, workspace, today, window=CHURN_WINDOW, min_accounts=MIN_ACCOUNTS):
    """Per level, the share of observations that churned within `window` days: an observation is an
    (account, month-start day) where the level history has the account at the level (only days whose
    window has passed: day + window <= today); it churned when the account's churn date is in
    (day, day + window]. A rate rests on at least `min_accounts` distinct accounts, else it is None."""
    history = _history(workspace)
    first = min((row[2] for row in history), default=None)
    days = month_starts(first, today - dt.timedelta(days=window))
    churned_on = dict(Account.objects.for_workspace(workspace).filter(churned_on__isnull=False)
                      .values_list("pk", "churned_on"))
    per = {n: {"observations": 0, "churned": 0, "accounts": set()} for n in LEVELS}
    for pk, day, level in _observations(history, days):
        bucket = per.setdefault(level, {"observations": 0, "churned": 0, "accounts": set()})
        bucket["observations"] += 1
        bucket["accounts"].add(pk)
        churn = churned_on.get(pk)
        if churn is not None and day < churn <= day + dt.timedelta(days=window):
            bucket["churned"] += 1
    names = level_names(workspace)
    rows = []
    for level in sorted(per):
        b = per[level]
        enough = len(b["accounts"]) >= min_accounts
        rows.append({"level": level, "name": names.get(level, f"Lv{level}"), "observations": b["observations"],
                     "accounts": len(b["accounts"]), "churned": b["churned"], "enough": enough,
                     "rate": round(100 * b["churned"] / b["observations"], 1) if enough and b["observations"]
                     else None})
    return {"rows": rows, "days": days, "window": window, "min_accounts": min_accounts}


def tenure_months(start, day):
    months = (day.year - start.year) * 12 + day.month - start.month - (1 if day.day < start.day else 0)
    return months


def lv2_by_tenure(*, workspace, today, min_accounts=MIN_ACCOUNTS):
    """Per month of tenure (months since contract start on the observed day; 0..11 and 12+), the share of
    observations (account, month-start day, from the level history) at Lv2 or above."""
    history = _history(workspace)
    first = min((row[2] for row in history), default=None)
    days = month_starts(first, today)
    starts = dict(Account.objects.for_workspace(workspace).filter(contract_start__isnull=False)
                  .values_list("pk", "contract_start"))
    per = {m: {"observations": 0, "lv2": 0, "accounts": set()} for m in range(TENURE_MONTHS + 1)}
    for pk, day, level in _observations(history, days):
        start = starts.get(pk)
        if start is None or start > day:
            continue
        bucket = per[min(tenure_months(start, day), TENURE_MONTHS)]
        bucket["observations"] += 1
        bucket["accounts"].add(pk)
        if level >= 2:
            bucket["lv2"] += 1
    rows = []
    for month, b in per.items():
        enough = len(b["accounts"]) >= min_accounts
        rows.append({"month": month, "label": f"{month}+" if month == TENURE_MONTHS else str(month),
                     "observations": b["observations"], "accounts": len(b["accounts"]), "lv2": b["lv2"],
                     "enough": enough,
                     "share": round(100 * b["lv2"] / b["observations"], 1) if enough and b["observations"] else None})
    return {"rows": rows, "min_accounts": min_accounts}


def level_changes(*, workspace, as_of, within_days=7, account_ids=None):
    """{account_id: {"from", "to", "day"}}: the latest level change of each active account with its day in
    (as_of - within_days, as_of]; a change is a history row that starts where the account's previous
    row ended (a first level is no change)."""
    since = as_of - dt.timedelta(days=within_days - 1)
    starts = AccountLevel.objects.for_workspace(workspace).filter(
        valid_from__gte=since, valid_from__lte=as_of, account__status=AccountStatus.ACTIVE)
    if account_ids is not None:
        starts = starts.filter(account_id__in=list(account_ids))
    starts = list(starts.order_by("account_id", "valid_from").values_list("account_id", "level", "valid_from"))
    if not starts:
        return {}
    before = {(pk, end): level for pk, level, end in AccountLevel.objects.for_workspace(workspace).filter(
        account_id__in={s[0] for s in starts}, valid_to__gte=since, valid_to__lte=as_of)
        .values_list("account_id", "level", "valid_to")}
    out = {}
    for pk, level, day in starts:
        previous = before.get((pk, day))
        if previous is not None and previous != level:
            out[pk] = {"from": previous, "to": level, "day": day}
    return out
