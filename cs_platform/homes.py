"""The home pages: what a member sees first. They read every capability, so they live on the top floor.

- `team_home`: a manager's morning page. The team's KPIs, this period against the one before, each
  with its trend over the last `TREND_POINTS` periods from stored history (coverage rollups, health
  snapshots, stage changes), and one row per CSM.
- `book`: a CSM's morning page ("My book"). One list of the accounts that need something today —
  due touches, red or falling health, renewals, open alerts — each account once with its reasons,
  ordered by `priority_score`, each reason with the action that resolves it.

Both read set-wise: a fixed handful of queries whatever the number of CSMs or accounts.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, AccountStatus, HealthBand, LifecycleStage, StageChange
from coverage.selectors import coverage_report, coverage_trend, due_list, latest_day
from coverage.views import log_link
from healthscore.selectors import band_counts, group_labels, latest_snapshot_day, open_alerts
from playbooks.selectors import open_tasks_for_book
from workspaces import owners
from workspaces.models import Membership, Role

# A period is a week or four weeks: four weeks rather than a calendar month, so that every point of a
# trend falls on the same weekday (touch habits are weekly) and "the last period" is as long as this one.
PERIODS = {"week": 7, "month": 28}
PERIOD_LABELS = {"week": gettext_lazy("Week"), "month": gettext_lazy("4 weeks")}
DEFAULT_PERIOD = "week"
TREND_POINTS = 12
RENEWAL_DAYS = 90  # renewal work starts three months ahead (two proved too late)
RISK_DROP = 10  # a 30-day fall of this many points makes an account "falling"
BANDS = [HealthBand.GREEN, HealthBand.YELLOW, HealthBand.RED]
AT_RISK = Q(health_band=HealthBand.RED) | Q(health_change_30d__lte=-RISK_DROP)  # red or falling


def renewing_soon(accounts, today):
    """The accounts of `accounts` renewing from today to RENEWAL_DAYS ahead."""
    return accounts.filter(renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=RENEWAL_DAYS))


def period_length(period):
    return PERIODS.get(period, PERIODS[DEFAULT_PERIOD])


def _change(now, before, digits=1):
    if now is None or before is None:
        return None
    return round(now - before, digits)


def _share(part, whole):
    return round(part * 100 / whole, 1) if whole else None


# --- the manager's home ---------------------------------------------------------------------------
class TeamReads:
    """The stored figures the team home's cards share, each read once (cached) for all of them."""

    def __init__(self, *, workspace, today, length):
        self.workspace, self.today, self.length = workspace, today, length

    @cached_property
    def coverage_day(self):
        return latest_day(workspace=self.workspace, on_or_before=self.today)

    @cached_property
    def coverage(self):
        """Overall and per-CSM coverage on the newest day, each against one period before."""
        if self.coverage_day is None:
            return None
        return coverage_report(workspace=self.workspace, day=self.coverage_day, group_by="csm",
                               compare_days=self.length)

    @cached_property
    def coverage_trend(self):
        """The weekly coverage trend, one point per period, oldest first (one query)."""
        if self.coverage_day is None:
            return None
        step = self.length // 7
        trend = coverage_trend(workspace=self.workspace, day=self.coverage_day, weeks=(TREND_POINTS - 1) * step + 1)
        keep = range(0, len(trend["days"]), step)
        return {
            "days": [trend["days"][i] for i in keep], "labels": [trend["labels"][i] for i in keep],
            "series": {s["key"]: [s["points"][i] for i in keep] for s in trend["series"]},
        }

    @cached_property
    def health_day(self):
        return latest_snapshot_day(workspace=self.workspace, on_or_before=self.today)

    @cached_property
    def health_days(self):
        if self.health_day is None:
            return []
        return [self.health_day - dt.timedelta(days=self.length * back) for back in range(TREND_POINTS - 1, -1, -1)]

    @cached_property
    def bands(self):
        """{day: {band: accounts}} of the health snapshots of each period's last day."""
        return band_counts(workspace=self.workspace, days=self.health_days) if self.health_days else {}

    @cached_property
    def active(self):
        return Account.objects.for_workspace(self.workspace).filter(status=AccountStatus.ACTIVE)


def coverage_card(reads):
    return _coverage_card(reads, key="all", title=_("Coverage rate"), rate="rate", before="rate_before",
                          change="change", detail=_("%(covered)s of %(total)s active accounts covered"))


def arr_coverage_card(reads):
    return _coverage_card(reads, key="arr", title=_("ARR-weighted coverage"), rate="arr_rate",
                          before="arr_rate_before", change="arr_change",
                          detail=_("Share of the in-scope ARR whose account is covered"))


def _coverage_card(reads, *, key, title, rate, before, change, detail):
    report = reads.coverage
    card = {"key": f"coverage-{key}", "title": title, "template": "homes/cards/rate.html",
            "link": reverse("coverage:report"), "link_label": _("Coverage report"), "as_of": reads.coverage_day}
    if report is None:
        return {**card, "empty": _("Coverage has not been computed yet.")}
    total = report["total"]
    trend = reads.coverage_trend
    return {
        **card, "value": total[rate], "before": total[before], "change": total[change],
        "detail": detail % {"covered": total["covered"], "total": total["in_scope"]},
        "chart": {"series": [{"name": str(title), "points": trend["series"][key]}], "labels": trend["labels"]},
    }


def health_card(reads):
    card = {"key": "health", "title": _("Health distribution"), "template": "homes/cards/health.html",
            "link": reverse("health:overview"), "link_label": _("Health overview"), "as_of": reads.health_day}
    if reads.health_day is None:
        return {**card, "empty": _("No health score has been computed yet.")}
    days = reads.health_days
    now, before = reads.bands.get(days[-1], {}), reads.bands.get(days[-2], {}) if len(days) > 1 else {}
    total_now, total_before = sum(now.values()), sum(before.values())
    rows = []
    for band in BANDS:
        share, share_before = _share(now.get(band, 0), total_now), _share(before.get(band, 0), total_before)
        rows.append({"band": band.value, "label": band.label, "count": now.get(band, 0),
                     "count_change": now.get(band, 0) - before.get(band, 0) if before else None,
                     "share": share, "share_change": _change(share, share_before)})
    unscored = now.get(HealthBand.NA, 0)
    series = []
    for band in BANDS:
        points = []
        for day in days:
            counts = reads.bands.get(day)
            points.append(_share(counts.get(band, 0), sum(counts.values())) if counts else None)
        series.append({"name": str(band.label), "points": points, "band": band.value})
    return {**card, "rows": rows, "total": total_now, "unscored": unscored,
            "red": rows[-1], "chart": {"series": series, "labels": [d.strftime("%m/%d") for d in days]}}


def stage_card(reads):
    """Active accounts per lifecycle stage against the stage's target share, and the moves of the period.

    The period's change is what the stored stage changes say moved in and out; accounts that were
    created or churned in the period change the counts without a move.
    """
    workspace = reads.workspace
    stages = list(LifecycleStage.objects.for_workspace(workspace))
    counts = dict(reads.active.order_by().values_list("stage_id").annotate(n=Count("id")))
    since = workspace.day_start(reads.today - dt.timedelta(days=reads.length - 1))
    moves = StageChange.objects.for_workspace(workspace).filter(changed_at__gte=since).order_by()
    moved_in = dict(moves.values_list("to_stage_id").annotate(n=Count("id")))
    moved_out = dict(moves.values_list("from_stage_id").annotate(n=Count("id")))
    total = sum(counts.values())
    accounts = reverse("accounts:list")
    rows = []
    for stage in stages:
        n = counts.get(stage.pk, 0)
        share = _share(n, total)
        target = float(stage.target_share) if stage.target_share is not None else None
        rows.append({"name": stage.name, "count": n, "share": share, "target": target,
                     "gap": _change(share, target), "net_moves": moved_in.get(stage.pk, 0) - moved_out.get(stage.pk, 0),
                     "link": f"{accounts}?status=active&stage={stage.pk}"})
    if counts.get(None):
        rows.append({"name": _("No stage"), "count": counts[None], "share": _share(counts[None], total),
                     "target": None, "gap": None, "net_moves": None, "link": None})
    return {"key": "stages", "title": _("Lifecycle stages"), "template": "homes/cards/stages.html",
            "link": f"{accounts}?status=active", "link_label": _("Accounts"), "rows": rows, "total": total,
            "has_targets": any(r["target"] is not None for r in rows),
            "bars": [{"label": r["name"], "value": r["count"]} for r in rows]}


def renewals_card(reads):
    """Accounts renewing in the next 90 days whose health is red or falling: count and ARR, by month.

    No trend: renewal dates are kept as they are now (a renewed account's date moves on), so a past
    day's figure cannot be read back. The chart splits the ARR at risk by how soon it renews.
    """
    today = reads.today
    window = renewing_soon(reads.active, today)
    buckets = [(0, 30), (31, 60), (61, RENEWAL_DAYS)]
    sums = window.aggregate(
        n=Count("id"), total_arr=Sum("arr"), risk_n=Count("id", filter=AT_RISK), risk_arr=Sum("arr", filter=AT_RISK),
        **{f"b{i}": Sum("arr", filter=AT_RISK & Q(renewal_date__gte=today + dt.timedelta(days=lo),
                                                   renewal_date__lte=today + dt.timedelta(days=hi)))
           for i, (lo, hi) in enumerate(buckets)},
    )
    labels = [_("0-30 days"), _("31-60 days"), _("61-90 days")]
    return {
        "key": "renewals", "title": _("Renewals at risk"), "template": "homes/cards/renewals.html",
        "link": f"{reverse('accounts:list')}?status=active&renewal_before={today + dt.timedelta(days=RENEWAL_DAYS)}"
                "&sort=renewal_date",
        "link_label": _("Renewals in 90 days"), "count": sums["risk_n"], "arr": sums["risk_arr"] or Decimal(0),
        "window_count": sums["n"], "window_arr": sums["total_arr"] or Decimal(0),
        "bars": [{"label": str(label), "value": float(sums[f"b{i}"] or 0)} for i, label in enumerate(labels)],
    }


# The cards of the team home, in order. Each takes the shared `TeamReads` and returns a card (a dict
# naming its template). NRR/GRR and churn (revenue), pipeline generated (toss-ups) and overdue tasks
# (playbooks) are KPIs of the same page, but their capabilities do not exist yet: each joins this list
# with its capability, so that the page never shows an empty placeholder for them.
KPI_CARDS = [coverage_card, arr_coverage_card, health_card, stage_card, renewals_card]


def team_table(reads, *, sort="name"):
    """One row per CSM (and per other member who owns accounts) plus "Unassigned": active accounts,
    their ARR, coverage and red accounts. Three queries whatever the size of the team."""
    workspace = reads.workspace
    per_owner = {
        row["owner_id"]: row for row in reads.active.order_by().values("owner_id").annotate(
            n=Count("id"), total_arr=Sum("arr"), red=Count("id", filter=Q(health_band=HealthBand.RED)))
    }
    coverage = {g["key"]: g for g in (reads.coverage or {}).get("groups", [])}
    members = Membership.objects.for_workspace(workspace).select_related("user")
    due, accounts, book = reverse("coverage:due"), reverse("accounts:list"), reverse("my_book")
    report, matrix = reverse("coverage:report"), reverse("coverage:matrix")
    rows = []
    for member in members:
        if member.pk not in per_owner and not (member.is_active and member.role == Role.CSM):
            continue
        rows.append(_team_row(member.display_name, per_owner.get(member.pk), coverage.get(member.pk), member=member,
                              links={"due": f"{due}?owner={member.pk}", "book": f"{book}?owner={member.pk}",
                                     "coverage": f"{report}?owner={member.pk}",
                                     "matrix": f"{matrix}?owner={member.pk}",
                                     "accounts": f"{accounts}?status=active&owner={member.pk}",
                                     "red": f"{accounts}?status=active&health_band=red&owner={member.pk}"}))
    keys = {"name": lambda r: str(r["name"]).lower(), "accounts": lambda r: r["accounts"],
            "arr": lambda r: r["arr"], "red": lambda r: r["red"],
            "rate": lambda r: -1 if r["rate"] is None else r["rate"]}
    key = sort.lstrip("-") if sort.lstrip("-") in keys else "name"
    rows.sort(key=keys[key], reverse=sort.startswith("-"))
    if None in per_owner or None in coverage:
        rows.append(_team_row(_("Unassigned"), per_owner.get(None), coverage.get(None), unassigned=True,
                              links={"due": f"{due}?owner={owners.UNASSIGNED}",
                                     "coverage": f"{report}?owner={owners.UNASSIGNED}",
                                     "matrix": f"{matrix}?owner={owners.UNASSIGNED}",
                                     "book": f"{book}?owner={owners.UNASSIGNED}",
                                     "accounts": f"{accounts}?status=active&unowned=true",
                                     "red": f"{accounts}?status=active&health_band=red&unowned=true"}))
    total = reads.coverage["total"] if reads.coverage else {}
    totals = {"accounts": sum(r["accounts"] for r in rows), "arr": sum((r["arr"] for r in rows), Decimal(0)),
              "red": sum(r["red"] for r in rows), "rate": total.get("rate"), "change": total.get("change")}
    return {"rows": rows, "totals": totals, "sort": sort if sort.lstrip("-") in keys else "name"}


def _team_row(name, sums, coverage, *, links, member=None, unassigned=False):
    sums, coverage = sums or {}, coverage or {}
    return {"name": name, "member": member, "unassigned": unassigned, "accounts": sums.get("n", 0),
            "arr": sums.get("total_arr") or Decimal(0), "red": sums.get("red", 0), "rate": coverage.get("rate"),
            "change": coverage.get("change"), "in_scope": coverage.get("in_scope", 0), "links": links}


def team_home(*, workspace, period=DEFAULT_PERIOD, sort="name", today=None):
    """Everything the manager's home shows: the KPI cards and the team table."""
    period = period if period in PERIODS else DEFAULT_PERIOD
    reads = TeamReads(workspace=workspace, today=today or workspace.today(), length=period_length(period))
    return {
        "today": reads.today, "period": period, "period_days": reads.length,
        "periods": [{"key": k, "label": v} for k, v in PERIOD_LABELS.items()],
        "cards": [card for build in KPI_CARDS if (card := build(reads)) is not None],
        "team": team_table(reads, sort=sort),
    }


# --- the CSM's home: My book ----------------------------------------------------------------------
# Each source reads at most this many rows, the largest ARR first: a CSM's book is far smaller; the
# whole team's book of a large workspace then lists what matters most and says it was cut.
SOURCE_LIMIT = 500
NEVER_TOUCHED_OVERDUE = 7  # an account never touched weighs as a week overdue
BAND_RISK = {HealthBand.RED: 3.0, HealthBand.YELLOW: 2.0, HealthBand.GREEN: 1.0}
UNSCORED_RISK = 1.5


def priority_score(*, arr, band="", change_30d=None, overdue_days=None, days_to_renewal=None, open_alert=False):
    """How urgently an account of the book needs its CSM: ARR × risk × urgency (higher first).

    risk    = the health band's weight (red 3, yellow 2, green 1, not scored 1.5)
              + the 30-day fall in points / 10 (a fall of 10 points weighs one band; a rise adds 0)
    urgency = 1
              + days overdue / 7 (a touch a week overdue doubles it; one due soon adds 0)
              + (90 − days to renewal) / 30 for a renewal within 90 days (renewing today adds 3)
              + 1 for an open health alert
    ARR counts at least 1, so that accounts without ARR still rank among themselves.

    E.g. ARR 1,000,000, red, fell 15 points, 14 days overdue, renewing in 30 days, an open alert:
    risk 3 + 1.5 = 4.5, urgency 1 + 2 + 2 + 1 = 6, score 27,000,000.
    """
    risk = BAND_RISK.get(band, UNSCORED_RISK) + max(0.0, -(change_30d or 0)) / RISK_DROP
    urgency = 1.0 + max(0, overdue_days or 0) / 7
    if days_to_renewal is not None and 0 <= days_to_renewal <= RENEWAL_DAYS:
        urgency += (RENEWAL_DAYS - days_to_renewal) / 30
    if open_alert:
        urgency += 1
    return max(float(arr or 0), 1.0) * risk * urgency


@dataclass
class Reason:
    """Why an account is in the book, and the action that resolves it."""

    kind: str  # "task", "touch", "health", "renewal", "alert"
    text: str
    action_url: str
    action_label: str
    overdue_days: int | None = None
    open_alert: bool = False


@dataclass
class BookRow:
    account: Account
    reasons: list = field(default_factory=list)
    score: float = 0.0
    owner_name: str = ""

    @property
    def action(self):
        """The first reason's action: reasons are kept in the order task, touch, alert, health, renewal."""
        return self.reasons[0]


@dataclass
class BookContext:
    workspace: object
    owner: object  # a Membership, None (nobody's accounts) or owners.ALL
    today: dt.date
    coverage_day: dt.date | None
    alerts_link: str
    group_labels: dict

    capped: set = field(default_factory=set)

    def biggest(self, rows, kind):
        """The first SOURCE_LIMIT of `rows`, noting when there were more (the team's book at scale)."""
        rows = list(rows[:SOURCE_LIMIT + 1])
        if len(rows) > SOURCE_LIMIT:
            self.capped.add(kind)
        return rows[:SOURCE_LIMIT]

    @property
    def accounts(self):
        accounts = Account.objects.for_workspace(self.workspace).filter(status=AccountStatus.ACTIVE)
        return accounts if self.owner == owners.ALL else accounts.filter(owner=self.owner)


def _open_tasks(ctx):
    """The owner's open tasks (the team's for owners.ALL, nobody's for None), overdue ones first: a
    task is what someone decided must happen, so its "complete" is the account's first action, and
    the days it is overdue are its urgency (a task a week late doubles it, as a touch does)."""
    tasks = open_tasks_for_book(workspace=ctx.workspace, assignee=None if ctx.owner == owners.ALL else ctx.owner,
                                today=ctx.today, all_members=ctx.owner == owners.ALL)
    book_link = reverse("my_book")
    for task in ctx.biggest(tasks, "task"):
        overdue = (ctx.today - task.due_on).days
        if overdue > 0:
            text = _("Task overdue %(days)s days: %(title)s") % {"days": overdue, "title": task.title}
        else:
            text = _("Task due %(date)s: %(title)s") % {"date": task.due_on.isoformat(), "title": task.title}
        yield task.account, Reason("task", text, f"{reverse('tasks:complete', args=[task.pk])}?next={book_link}",
                                   _("Complete the task"), overdue_days=max(0, overdue))


def _due_touches(ctx):
    if ctx.coverage_day is None:
        return
    rows = due_list(workspace=ctx.workspace, owner=ctx.owner, day=ctx.coverage_day)
    for row in ctx.biggest(rows.order_by("-arr", "account_id"), "touch"):
        channel = row.fix_channel_label or _("touch")
        if row.covered:
            text, overdue = _("Touch due %(date)s") % {"date": row.due_date.isoformat()}, 0
        elif row.broken_rule == "never":
            text, overdue = _("Never touched"), NEVER_TOUCHED_OVERDUE
        elif row.overdue_days:
            text, overdue = _("Touch overdue %(days)s days") % {"days": row.overdue_days}, row.overdue_days
        else:
            text, overdue = _("Breaks coverage: %(rule)s") % {"rule": row.broken_rule}, 1
        yield row.account, Reason("touch", text, log_link(row.account_id, row.fix_channel),
                                  _("Log %(channel)s") % {"channel": channel}, overdue_days=overdue)


def _open_alerts(ctx):
    pushed, digest, _week = open_alerts(workspace=ctx.workspace, owner=ctx.owner)
    for alert in [*ctx.biggest(pushed, "alert"), *ctx.biggest(digest, "alert")]:
        if alert.account.status != AccountStatus.ACTIVE:
            continue
        text = _("Alert: %(kind)s") % {"kind": alert.get_kind_display()}
        if alert.reason:
            text = f"{text} · {ctx.group_labels.get(alert.reason, alert.reason)}"
        yield alert.account, Reason("alert", text, ctx.alerts_link, _("Open alert"), open_alert=True)


def _health_risks(ctx):
    at_risk = ctx.accounts.filter(AT_RISK)
    for account in ctx.biggest(at_risk.order_by("-arr", "id"), "health"):
        parts = []
        if account.health_band == HealthBand.RED:
            parts.append(_("Health red (%(score)s)") % {"score": _points(account.health_score)})
        if account.health_change_30d is not None and account.health_change_30d <= -RISK_DROP:
            parts.append(_("Fell %(points)s points in 30 days") % {"points": _points(-account.health_change_30d)})
        yield account, Reason("health", " · ".join(parts), reverse("accounts:detail", args=[account.pk]),
                              _("Open account"))


def _renewals(ctx):
    for account in ctx.biggest(renewing_soon(ctx.accounts, ctx.today).order_by("-arr", "id"), "renewal"):
        days = (account.renewal_date - ctx.today).days
        yield account, Reason("renewal", _("Renews in %(days)s days (%(date)s)") % {
            "days": days, "date": account.renewal_date.isoformat()},
            reverse("accounts:detail", args=[account.pk]), _("Prepare the renewal"))


def _points(value):
    return "—" if value is None else f"{value:.0f}"


# Where the book's reasons come from, in the order an account's reasons (and so its first action)
# are listed. Each yields (account, Reason) for the context's owner, set-wise (one query or two).
# Tasks come first: the owner's open tasks, each with the task as its action and its overdue days as urgency.
BOOK_SOURCES = [_open_tasks, _due_touches, _open_alerts, _health_risks, _renewals]


def book(*, workspace, owner, today=None, limit=50):
    """My book: the accounts of `owner` (a member, None for nobody's, owners.ALL for the team's)
    that need something, each once with every reason, highest `priority_score` first."""
    today = today or workspace.today()
    alerts_link = reverse("health:alerts")
    if owner != owners.ALL:
        alerts_link += f"?owner={owner.pk if owner is not None else owners.UNASSIGNED}"
    ctx = BookContext(workspace=workspace, owner=owner, today=today, alerts_link=alerts_link,
                      group_labels=group_labels(workspace=workspace),
                      coverage_day=latest_day(workspace=workspace, on_or_before=today))
    rows = {}
    counts = {"touch": 0, "overdue": 0, "alert": 0, "health": 0, "renewal": 0}
    for source in BOOK_SOURCES:
        for account, reason in source(ctx):
            row = rows.setdefault(account.pk, BookRow(account))
            if any(r.kind == reason.kind for r in row.reasons):
                continue  # e.g. two open alerts of one account: one reason, one action
            row.reasons.append(reason)
            counts[reason.kind] = counts.get(reason.kind, 0) + 1  # "task" only once there is one
            counts["overdue"] += reason.kind == "touch" and bool(reason.overdue_days)
    for row in rows.values():
        account = row.account
        renewal = (account.renewal_date - today).days if account.renewal_date else None
        row.score = priority_score(
            arr=account.arr, band=account.health_band, change_30d=account.health_change_30d,
            overdue_days=max((r.overdue_days or 0 for r in row.reasons), default=0),
            days_to_renewal=renewal, open_alert=any(r.open_alert for r in row.reasons),
        )
    ordered = sorted(rows.values(), key=lambda r: (-r.score, r.account.name, r.account.pk))[:limit]
    if owner == owners.ALL:  # the team's book names each account's owner: one query for all of them
        names = {m.pk: m.display_name for m in Membership.objects.for_workspace(workspace).filter(
            pk__in={r.account.owner_id for r in ordered}).select_related("user")}
        for row in ordered:
            row.owner_name = names.get(row.account.owner_id, "")
    return {"today": today, "coverage_day": ctx.coverage_day, "rows": ordered, "total": len(rows),
            "counts": counts, "book_size": ctx.accounts.count(), "capped": bool(ctx.capped)}
