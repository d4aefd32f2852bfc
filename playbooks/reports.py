"""Did it work? The playbook report: runs, tasks on time, and what happened to enrolled accounts next
to those that matched the same trigger but were held back (docs/playbooks-report.md).

Every figure reads rows of the workspace only, and a figure about a past day reads what was stored
for that day: health from the snapshot of that day (or the latest of the 7 days before it), coverage
from the coverage snapshot of that day, churn from the churn date. Today's score never stands in for
a past day's. Shares and averages come with the count they rest on, and none is given on fewer than
MIN_N enrolments.
"""

import datetime as dt
from collections import defaultdict

from django import forms
from django.db.models import Count, F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, AccountStatus
from coverage.selectors import covered_on
from healthscore.selectors import totals_on_or_before
from renewals.selectors import renewal_days
from workspaces.models import Membership

from .models import (
    OPEN_STATUSES,
    HoldReason,
    Playbook,
    PlaybookHold,
    PlaybookRun,
    RunStatus,
    Task,
    TaskStatus,
)

DEFAULT_DAYS = 90
MAX_DAYS = 1096  # three years: a longer period is a slower page and no clearer answer
HORIZONS = (30, 90)
# The days before a day whose health snapshot may stand for it (a night that did not run).
SNAPSHOT_LOOKBACK_DAYS = 7
# No share or average on fewer enrolments: one account more or less would swing it.
MIN_N = 5
FINISHED_STATUSES = (RunStatus.COMPLETED, RunStatus.EXITED, RunStatus.CANCELLED)
COMPARISON_REASONS = (HoldReason.LIMIT, HoldReason.COOLDOWN)


class ReportQueryForm(forms.Form):
    """The report's question: a period [start, end) and optionally one playbook of the workspace.

    The page, its downloads and the API read it alike; an error names the field."""

    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("Until (not included)"), required=False)
    playbook = forms.ModelChoiceField(label=gettext_lazy("Playbook"), queryset=Playbook.objects.none(),
                                      required=False, empty_label=gettext_lazy("All"))

    def __init__(self, data=None, *, workspace, **kwargs):
        super().__init__(data, **kwargs)
        self.workspace = workspace
        self.fields["playbook"].queryset = Playbook.objects.for_workspace(workspace)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = default_period(workspace=self.workspace, start=cleaned.get("start"), end=cleaned.get("end"))
        if start >= end:
            self.add_error("end", _("The end must be after the start."))
        elif (end - start).days > MAX_DAYS:
            self.add_error("end", _("A period is at most %(days)s days.") % {"days": MAX_DAYS})
        cleaned["start"], cleaned["end"] = start, end
        return cleaned


def default_period(*, workspace, start=None, end=None):
    """(start, end), end excluded: by default the last 90 days, today included."""
    end = end or (start + dt.timedelta(days=DEFAULT_DAYS) if start else workspace.today() + dt.timedelta(days=1))
    return start or end - dt.timedelta(days=DEFAULT_DAYS), end


def share(part, whole):
    """part / whole, or None when it rests on fewer than MIN_N."""
    return part / whole if whole >= MIN_N else None


def _rate(part, whole):
    return part / whole if whole else None


# --- runs and tasks ----------------------------------------------------------------------------------
def run_counts(*, workspace, start, end, playbook=None):
    """{playbook_id: {"started", "active", "completed", "exited", "cancelled", "finished"}} of the runs
    started in [start, end); their status is today's."""
    runs = PlaybookRun.objects.for_workspace(workspace).filter(started_on__gte=start, started_on__lt=end)
    if playbook is not None:
        runs = runs.filter(playbook=playbook)
    result = defaultdict(lambda: dict.fromkeys(["started", "finished", *RunStatus.values], 0))
    for playbook_id, status, n in runs.order_by().values_list("playbook_id", "status").annotate(n=Count("id")):
        counts = result[playbook_id]
        counts[status] += n
        counts["started"] += n
        if status in FINISHED_STATUSES:
            counts["finished"] += n
    return dict(result)


def _task_counts(rows):
    """Task counts added up over `rows` (dicts of counts), with done, rated and the on-time rate."""
    counts = {"due": 0, "on_time": 0, "late": 0, "open_overdue": 0, "open_not_due": 0, "cancelled": 0}
    for row in rows:
        for key in counts:
            counts[key] += row.get(key, 0)
    counts["done"] = counts["on_time"] + counts["late"]
    counts["rated"] = counts["done"] + counts["open_overdue"]
    counts["on_time_rate"] = _rate(counts["on_time"], counts["rated"])
    return counts


def _task_sums(*, workspace, start, end, playbook, by):
    """Per value of `by`: the playbook tasks due in [start, end), by how they stand today.

    On time: done on or before the due day. Late: done after it (or done with no completion day:
    it cannot be shown to be on time). Open overdue: open or snoozed, due before today."""
    today = workspace.today()
    tasks = Task.objects.for_workspace(workspace).filter(run__isnull=False, due_on__gte=start, due_on__lt=end)
    if playbook is not None:
        tasks = tasks.filter(run__playbook=playbook)
    done = Q(status=TaskStatus.DONE)
    on_time = done & Q(completed_on__isnull=False, completed_on__lte=F("due_on"))
    # A task is one of: on time, late, open overdue, open not yet due, cancelled.
    is_open = Q(status__in=OPEN_STATUSES)
    rows = tasks.order_by().values(by).annotate(
        due=Count("id"),
        on_time=Count("id", filter=on_time),
        late=Count("id", filter=done & ~on_time),
        open_overdue=Count("id", filter=is_open & Q(due_on__lt=today)),
        open_not_due=Count("id", filter=is_open & Q(due_on__gte=today)),
        cancelled=Count("id", filter=Q(status=TaskStatus.CANCELLED)),
    )
    return {row[by]: _task_counts([row]) for row in rows}


def task_counts(*, workspace, start, end, playbook=None):
    """{playbook_id: task counts} of the playbook tasks due in [start, end)."""
    return _task_sums(workspace=workspace, start=start, end=end, playbook=playbook, by="run__playbook_id")


def csm_task_counts(*, workspace, start, end, playbook=None):
    """Per assignee (a member, or None for unassigned tasks): the playbook tasks due in [start, end),
    as a list of {"member_id", "name", counts...} sorted by name, and the total."""
    sums = _task_sums(workspace=workspace, start=start, end=end, playbook=playbook, by="assignee_id")
    members = {m.pk: m for m in Membership.objects.for_workspace(workspace).filter(pk__in=[k for k in sums if k])
               .select_related("user")}
    rows = []
    for member_id, counts in sums.items():
        member = members.get(member_id)
        name = _member_name(member) if member else _("Unassigned")
        rows.append({"member_id": member_id, "name": name, **counts})
    rows.sort(key=lambda r: (r["member_id"] is None, r["name"].lower(), r["member_id"] or 0))
    return rows, _task_counts(rows)


def _member_name(member):
    user = member.user
    return " ".join(filter(None, [user.first_name, user.last_name])) or user.username


# --- outcomes ----------------------------------------------------------------------------------------
def _cohorts(*, workspace, start, end, playbook):
    """{playbook_id: {"enrolled": [(account_id, day 0)], "comparison": [(account_id, day 0)]}}: the runs
    started in [start, end), and the holds (limit or cooldown) first seen in it."""
    cohorts = defaultdict(lambda: {"enrolled": [], "comparison": []})
    runs = PlaybookRun.objects.for_workspace(workspace).filter(started_on__gte=start, started_on__lt=end)
    holds = PlaybookHold.objects.for_workspace(workspace).filter(
        first_on__gte=start, first_on__lt=end, held_because__in=COMPARISON_REASONS)
    if playbook is not None:
        runs, holds = runs.filter(playbook=playbook), holds.filter(playbook=playbook)
    for playbook_id, account_id, day in runs.order_by("id").values_list("playbook_id", "account_id", "started_on"):
        cohorts[playbook_id]["enrolled"].append((account_id, day))
    for playbook_id, account_id, day in holds.order_by("id").values_list("playbook_id", "account_id", "first_on"):
        cohorts[playbook_id]["comparison"].append((account_id, day))
    return cohorts


def _outcome(members, horizon, *, today, totals, coverage, churned_on, renewed_on=None):
    """The outcome at +horizon days of one group's (account, day 0) members whose day +horizon has come.

    Renewed: a renewal outcome "renewed" (flat, with expansion or contraction) recorded for one of the
    account's contract lines due on a day in [day 0, day +horizon] (renewals.selectors.renewal_days)."""
    renewed_on = renewed_on or {}
    due = [(account_id, day) for account_id, day in members if day + dt.timedelta(days=horizon) <= today]
    changes, covered, in_scope, churned, renewed = [], 0, 0, 0, 0
    for account_id, day in due:
        later = day + dt.timedelta(days=horizon)
        before, after = totals.get((account_id, day)), totals.get((account_id, later))
        if before is not None and after is not None:
            changes.append(after - before)
        if (account_id, later) in coverage:
            in_scope += 1
            covered += coverage[(account_id, later)]
        gone = churned_on.get(account_id)
        if gone is not None and gone <= later:
            churned += 1
        if any(day <= renewal <= later for renewal in renewed_on.get(account_id, ())):
            renewed += 1
    n = len(due)
    return {
        "horizon": horizon,
        "n": n,
        "not_yet": len(members) - n,
        "health_n": len(changes),
        "health_missing": n - len(changes),
        "health_change": sum(changes) / len(changes) if len(changes) >= MIN_N else None,
        "coverage_n": in_scope,
        "covered": covered,
        "covered_share": share(covered, in_scope),
        "churned": churned,
        "churned_share": share(churned, n),
        "renewed": renewed,
        "renewed_share": share(renewed, n),
    }


def outcomes(*, workspace, start, end, playbook=None):
    """{playbook_id: {"enrolled": [outcome at +30, at +90], "comparison": [...], "comparison_size"}}."""
    today = workspace.today()
    cohorts = _cohorts(workspace=workspace, start=start, end=end, playbook=playbook)
    wanted_health, wanted_coverage, accounts = set(), set(), set()
    for groups in cohorts.values():
        for members in groups.values():
            for account_id, day in members:
                accounts.add(account_id)
                for horizon in HORIZONS:
                    later = day + dt.timedelta(days=horizon)
                    if later <= today:
                        wanted_health.update({(account_id, day), (account_id, later)})
                        wanted_coverage.add((account_id, later))
    totals = totals_on_or_before(workspace=workspace, account_days=wanted_health, within_days=SNAPSHOT_LOOKBACK_DAYS)
    coverage = covered_on(workspace=workspace, account_days=wanted_coverage)
    churned_on = dict(Account.objects.for_workspace(workspace)
                      .filter(pk__in=accounts, status=AccountStatus.CHURNED).values_list("pk", "churned_on"))
    days = [day for groups in cohorts.values() for members in groups.values() for _a, day in members]
    renewed_on = renewal_days(workspace=workspace, account_ids=accounts, start=min(days),
                              end=max(days) + dt.timedelta(days=max(HORIZONS) + 1)) if days else {}
    context = {"today": today, "totals": totals, "coverage": coverage, "churned_on": churned_on,
               "renewed_on": renewed_on}
    return {
        playbook_id: {
            group: [_outcome(members, horizon, **context) for horizon in HORIZONS]
            for group, members in groups.items()
        } | {"comparison_size": len(groups["comparison"])}
        for playbook_id, groups in cohorts.items()
    }


# --- the report --------------------------------------------------------------------------------------
def playbook_report(*, workspace, start, end, playbook=None):
    """Everything the page, the downloads and the API show, for [start, end) and one or all playbooks.

    {"start", "end", "today", "playbooks": [{"playbook", "runs", "tasks", "outcomes"}], "csm": [...],
    "csm_total": {...}}. A playbook shows when it had runs, tasks due or holds in the period (or
    when it is the one asked for)."""
    runs = run_counts(workspace=workspace, start=start, end=end, playbook=playbook)
    tasks = task_counts(workspace=workspace, start=start, end=end, playbook=playbook)
    results = outcomes(workspace=workspace, start=start, end=end, playbook=playbook)
    ids = set(runs) | set(tasks) | set(results) | ({playbook.pk} if playbook is not None else set())
    today = workspace.today()
    empty_runs = dict.fromkeys(["started", "finished", *RunStatus.values], 0)
    empty_outcomes = {group: [_outcome([], h, today=today, totals={}, coverage={}, churned_on={}) for h in HORIZONS]
                      for group in ("enrolled", "comparison")} | {"comparison_size": 0}
    rows = []
    for book in Playbook.objects.for_workspace(workspace).filter(pk__in=ids).order_by("name", "id"):
        rows.append({
            "playbook": book,
            "runs": runs.get(book.pk, empty_runs),
            "tasks": tasks.get(book.pk) or _task_counts([]),
            "outcomes": results.get(book.pk, empty_outcomes),
        })
    csm, csm_total = csm_task_counts(workspace=workspace, start=start, end=end, playbook=playbook)
    return {"start": start, "end": end, "today": today, "playbook": playbook, "playbooks": rows,
            "csm": csm, "csm_total": csm_total}


# --- flat tables (downloads and the API) -------------------------------------------------------------
def _outcome_columns():
    columns = []
    for group, group_label in (("enrolled", _("enrolled")), ("comparison", _("comparison"))):
        for horizon in HORIZONS:
            prefix = f"{group}_{horizon}d"
            label = _("%(group)s +%(days)s days") % {"group": group_label, "days": horizon}
            columns += [
                (f"{prefix}_n", _("%(what)s: accounts") % {"what": label}),
                (f"{prefix}_health_n", _("%(what)s: with health") % {"what": label}),
                (f"{prefix}_health_missing", _("%(what)s: health not available") % {"what": label}),
                (f"{prefix}_health_change", _("%(what)s: average health change") % {"what": label}),
                (f"{prefix}_coverage_n", _("%(what)s: in coverage scope") % {"what": label}),
                (f"{prefix}_covered", _("%(what)s: covered") % {"what": label}),
                (f"{prefix}_churned", _("%(what)s: churned") % {"what": label}),
                (f"{prefix}_renewed", _("%(what)s: renewed") % {"what": label}),
            ]
    return columns


def playbook_columns():
    """[(key, header)] of the per-playbook table, in the order of the download."""
    return [
        ("playbook_id", _("Playbook ID")), ("playbook", _("Playbook")),
        ("start", _("From")), ("end", _("Until (not included)")),
        ("runs_started", _("Runs started")), ("runs_finished", _("Runs finished")),
        ("runs_completed", _("Completed")), ("runs_exited", _("Exited")), ("runs_cancelled", _("Cancelled")),
        ("runs_active", _("Still running")),
        ("tasks_due", _("Tasks due")), ("tasks_on_time", _("Done on time")), ("tasks_late", _("Done late")),
        ("tasks_open_overdue", _("Open, overdue")), ("tasks_open_not_due", _("Open, not yet due")),
        ("tasks_cancelled", _("Tasks cancelled")), ("on_time_rate", _("On-time rate")),
        ("comparison_size", _("Comparison accounts")),
        *_outcome_columns(),
    ]


def _round(value, digits=3):
    return None if value is None else round(value, digits)


def playbook_rows(report):
    """The per-playbook table as dicts keyed by playbook_columns()."""
    rows = []
    for item in report["playbooks"]:
        runs, tasks, results = item["runs"], item["tasks"], item["outcomes"]
        row = {
            "playbook_id": item["playbook"].pk, "playbook": item["playbook"].name,
            "start": report["start"], "end": report["end"],
            "runs_started": runs["started"], "runs_finished": runs["finished"],
            "runs_completed": runs[RunStatus.COMPLETED], "runs_exited": runs[RunStatus.EXITED],
            "runs_cancelled": runs[RunStatus.CANCELLED], "runs_active": runs[RunStatus.ACTIVE],
            "tasks_due": tasks["due"], "tasks_on_time": tasks["on_time"], "tasks_late": tasks["late"],
            "tasks_open_overdue": tasks["open_overdue"], "tasks_open_not_due": tasks["open_not_due"],
            "tasks_cancelled": tasks["cancelled"], "on_time_rate": _round(tasks["on_time_rate"]),
            "comparison_size": results["comparison_size"],
        }
        for group in ("enrolled", "comparison"):
            for outcome in results[group]:
                prefix = f"{group}_{outcome['horizon']}d"
                row.update({
                    f"{prefix}_n": outcome["n"], f"{prefix}_health_n": outcome["health_n"],
                    f"{prefix}_health_missing": outcome["health_missing"],
                    f"{prefix}_health_change": _round(outcome["health_change"], 2),
                    f"{prefix}_coverage_n": outcome["coverage_n"], f"{prefix}_covered": outcome["covered"],
                    f"{prefix}_churned": outcome["churned"], f"{prefix}_renewed": outcome["renewed"],
                })
        rows.append(row)
    return rows


def csm_columns():
    return [
        ("member_id", _("Member ID")), ("csm", _("CSM")), ("start", _("From")), ("end", _("Until (not included)")),
        ("tasks_due", _("Tasks due")), ("tasks_on_time", _("Done on time")), ("tasks_late", _("Done late")),
        ("tasks_open_overdue", _("Open, overdue")), ("tasks_open_not_due", _("Open, not yet due")),
        ("tasks_cancelled", _("Tasks cancelled")), ("on_time_rate", _("On-time rate")),
    ]


def csm_rows(report):
    return [{
        "member_id": row["member_id"], "csm": row["name"], "start": report["start"], "end": report["end"],
        "tasks_due": row["due"], "tasks_on_time": row["on_time"], "tasks_late": row["late"],
        "tasks_open_overdue": row["open_overdue"], "tasks_open_not_due": row["open_not_due"],
        "tasks_cancelled": row["cancelled"], "on_time_rate": _round(row["on_time_rate"]),
    } for row in report["csm"]]
