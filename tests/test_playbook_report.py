"""The playbook report's figures ("did it work?"), each against a hand computation in the test.

Rows are built by hand on exact days (runs, holds, tasks, health and coverage snapshots); each
figure's expected value is worked out in the comment beside it. Boundaries: a task done on its due
day is on time; a run whose +30 day is today counts, tomorrow's does not; the period's end is not
included. Workspace B's rows, built alike, never count in A.
"""

import datetime as dt
import itertools

import pytest

from coverage.models import CoverageSnapshot
from healthscore.models import HealthSnapshot, Scorecard
from playbooks.models import Playbook, PlaybookHold, PlaybookRun, PlaybookVersion, Task, TaskSource
from playbooks.reports import playbook_report

from .factories import AccountFactory

pytestmark = pytest.mark.django_db

_reasons = itertools.count(1)
DEFINITION = {"trigger": {"kind": "manual"}, "steps": [{"kind": "task", "title": "Call {account}"}]}


def playbook(ws, name):
    book = Playbook.objects.create(workspace=ws, name=name, trigger_kind="manual")
    PlaybookVersion.objects.create(workspace=ws, playbook=book, number=1, definition=DEFINITION)
    return book


def account(ws, owner=None, **fields):
    # Today's score on the account is far from every snapshot: a figure that read it would show.
    return AccountFactory(workspace=ws, owner=owner, health_score=99, health_band="green", **fields)


def run(book, acct, started_on, status="active", **fields):
    return PlaybookRun.objects.create(
        workspace=book.workspace, playbook=book, version=book.versions.get(), account=acct,
        reason_key=f"test:{next(_reasons)}", started_on=started_on, status=status,
        ended_on=None if status == "active" else started_on, **fields)


def hold(book, acct, first_on, held_because="limit"):
    return PlaybookHold.objects.create(workspace=book.workspace, playbook=book, account=acct,
                                       reason_key=f"test:{next(_reasons)}", held_because=held_because,
                                       first_on=first_on, last_on=first_on)


def task(the_run, due_on, *, status="open", completed_on=None, assignee=None, **fields):
    step = Task.all_workspaces.filter(run=the_run).count() if the_run else None
    if status == "snoozed":
        fields.setdefault("snoozed_until", due_on + dt.timedelta(days=30))
    acct = the_run.account if the_run else fields.pop("account")
    return Task.objects.create(
        workspace=acct.workspace, account=acct, run=the_run, step_index=step, title="Call", due_on=due_on,
        status=status, completed_on=completed_on, assignee=assignee,
        source=TaskSource.PLAYBOOK if the_run else TaskSource.MANUAL, **fields)


def health(acct, day, total):
    version = Scorecard.objects.for_workspace(acct.workspace).get(is_default=True).versions.order_by("-number").first()
    return HealthSnapshot.objects.create(workspace=acct.workspace, account=acct, day=day, version=version,
                                         total=total, band="yellow")


def coverage(acct, day, *, covered, in_scope=True):
    return CoverageSnapshot.objects.create(workspace=acct.workspace, account=acct, day=day, in_scope=in_scope,
                                           covered=covered)


def churn(acct, on):
    acct.status, acct.churned_on = "churned", on
    acct.save(update_fields=["status", "churned_on"])


def days_ago(ws, n):
    return ws.today() - dt.timedelta(days=n)


def item_of(report, book):
    return next(item for item in report["playbooks"] if item["playbook"] == book)


# --- runs ----------------------------------------------------------------------------------------------
def test_runs_started_in_the_period_and_how_many_finished(ws, csm):
    p, q = playbook(ws, "Renewal"), playbook(ws, "Onboarding push")
    run(p, account(ws, csm), days_ago(ws, 30), "active")  # on the start: in
    run(p, account(ws, csm), days_ago(ws, 10), "completed")
    run(p, account(ws, csm), days_ago(ws, 5), "exited")
    run(p, account(ws, csm), days_ago(ws, 0), "cancelled")  # today, the last day in: in
    run(p, account(ws, csm), days_ago(ws, 31), "completed")  # the day before the start: out
    run(q, account(ws, csm), days_ago(ws, 2), "active")

    report = playbook_report(workspace=ws, start=days_ago(ws, 30), end=days_ago(ws, -1))
    runs = item_of(report, p)["runs"]
    # 4 started; finished = completed 1 + exited 1 + cancelled 1 = 3; 1 still running.
    assert (runs["started"], runs["finished"], runs["active"]) == (4, 3, 1)
    assert (runs["completed"], runs["exited"], runs["cancelled"]) == (1, 1, 1)
    assert item_of(report, q)["runs"]["started"] == 1

    # The end is not included: a period ending today leaves today's cancelled run out.
    runs = item_of(playbook_report(workspace=ws, start=days_ago(ws, 30), end=days_ago(ws, 0)), p)["runs"]
    assert (runs["started"], runs["finished"], runs["cancelled"]) == (3, 2, 0)

    only_q = playbook_report(workspace=ws, start=days_ago(ws, 30), end=days_ago(ws, -1), playbook=q)
    assert [item["playbook"] for item in only_q["playbooks"]] == [q]


# --- tasks ---------------------------------------------------------------------------------------------
@pytest.fixture
def tasks_world(ws, csm, csm2):
    p, q = playbook(ws, "Renewal"), playbook(ws, "Onboarding push")
    acct = account(ws, csm)
    rp, rq = run(p, acct, days_ago(ws, 40)), run(q, acct, days_ago(ws, 40))
    task(rp, days_ago(ws, 10), status="done", completed_on=days_ago(ws, 10), assignee=csm)  # on its due day: on time
    task(rp, days_ago(ws, 10), status="done", completed_on=days_ago(ws, 12), assignee=csm)  # early: on time
    task(rp, days_ago(ws, 10), status="done", completed_on=days_ago(ws, 9), assignee=csm)  # a day after: late
    task(rp, days_ago(ws, 1), status="open", assignee=csm2)  # due yesterday: open overdue
    task(rp, days_ago(ws, 0), status="open", assignee=csm2)  # due today: open, not yet overdue
    task(rp, days_ago(ws, 5), status="snoozed", assignee=csm2)  # snoozed past its due day: open overdue
    task(rp, days_ago(ws, 3), status="cancelled")  # nobody's
    task(rp, days_ago(ws, 40), status="done", completed_on=days_ago(ws, 30), assignee=csm)  # due before: out
    task(rp, days_ago(ws, -1), status="open", assignee=csm)  # due tomorrow, the excluded end: out
    task(None, days_ago(ws, 2), account=acct, assignee=csm)  # a manual task: not a playbook's
    task(rq, days_ago(ws, 2), status="done", completed_on=days_ago(ws, 2), assignee=csm)  # Onboarding, on time
    return p, q


def test_tasks_done_on_time_late_overdue_and_cancelled_per_playbook(ws, tasks_world):
    p, q = tasks_world
    report = playbook_report(workspace=ws, start=days_ago(ws, 30), end=days_ago(ws, -1))
    tasks = item_of(report, p)["tasks"]
    # Renewal: 7 due; on time 2, late 1 (done 3); open overdue 2 (yesterday, snoozed); not yet due 1;
    # cancelled 1. On-time rate = 2 / (3 done + 2 overdue) = 0.4.
    assert {k: tasks[k] for k in ("due", "on_time", "late", "done", "open_overdue", "open_not_due", "cancelled",
                                  "rated")} == {"due": 7, "on_time": 2, "late": 1, "done": 3, "open_overdue": 2,
                                                "open_not_due": 1, "cancelled": 1, "rated": 5}
    assert tasks["on_time_rate"] == pytest.approx(2 / 5)
    assert item_of(report, q)["tasks"]["on_time_rate"] == 1.0  # 1 of 1


def test_tasks_per_csm(ws, csm, csm2, tasks_world):
    p, _q = tasks_world
    report = playbook_report(workspace=ws, start=days_ago(ws, 30), end=days_ago(ws, -1))
    rows = {row["member_id"]: row for row in report["csm"]}
    # csm: 3 Renewal tasks (2 on time, 1 late) + the Onboarding one on time: 4 due, 3 of 4 on time.
    assert (rows[csm.pk]["due"], rows[csm.pk]["on_time"], rows[csm.pk]["late"]) == (4, 3, 1)
    assert rows[csm.pk]["on_time_rate"] == pytest.approx(3 / 4)
    assert rows[csm.pk]["name"] == "Kenji Test"
    # csm2: yesterday's and the snoozed one overdue, today's not yet due: 0 of 2 on time.
    assert (rows[csm2.pk]["due"], rows[csm2.pk]["open_overdue"], rows[csm2.pk]["open_not_due"]) == (3, 2, 1)
    assert rows[csm2.pk]["on_time_rate"] == 0
    # Nobody's: the cancelled task, which no rate counts.
    assert (rows[None]["due"], rows[None]["cancelled"], rows[None]["on_time_rate"]) == (1, 1, None)
    total = report["csm_total"]
    # 8 due; on time 3, late 1, overdue 2: 3 / 6.
    assert (total["due"], total["rated"], total["on_time_rate"]) == (8, 6, 0.5)

    only_p = playbook_report(workspace=ws, start=days_ago(ws, 30), end=days_ago(ws, -1), playbook=p)
    rows = {row["member_id"]: row for row in only_p["csm"]}
    assert (rows[csm.pk]["due"], rows[csm.pk]["on_time_rate"]) == (3, pytest.approx(2 / 3))


# --- outcomes ------------------------------------------------------------------------------------------
@pytest.fixture
def outcome_world(ws, csm):
    """Renewal: 7 runs, 5 comparison holds (and 3 holds that are not comparisons), snapshots on exact days."""
    p, q = playbook(ws, "Renewal"), playbook(ws, "Onboarding push")
    d = days_ago(ws, 60)
    a = {name: account(ws, csm, name=f"Enrolled {name}") for name in ("a1", "a2", "a3", "a4", "a5", "a6", "a7")}
    for name in ("a1", "a2", "a3", "a4", "a5"):
        run(p, a[name], d)
    run(p, a["a6"], days_ago(ws, 30))  # its +30 day is today: counts
    run(p, a["a7"], days_ago(ws, 29))  # its +30 day is tomorrow: not yet
    later = d + dt.timedelta(days=30)
    health(a["a1"], d, 50), health(a["a1"], later, 62)  # +12
    health(a["a2"], d, 70), health(a["a2"], later, 65)  # -5
    health(a["a3"], d - dt.timedelta(days=3), 40), health(a["a3"], later, 46)  # day 0 from 3 days before: +6
    # No snapshot on +30 nor in the 7 days before it (the one of 8 days before is too old, the one
    # after is later than the day): not available.
    health(a["a4"], d, 55), health(a["a4"], later - dt.timedelta(days=8), 80), health(a["a4"], later + dt.timedelta(days=1), 99)
    health(a["a5"], d, 30), health(a["a5"], later, 30)  # 0
    health(a["a6"], days_ago(ws, 30), 20), health(a["a6"], days_ago(ws, 0), 35)  # +15
    health(a["a7"], days_ago(ws, 29), 10), health(a["a7"], days_ago(ws, 0), 90)  # not yet: not counted
    health(a["a1"], later + dt.timedelta(days=1), 0)  # the day after +30: never read for +30
    coverage(a["a1"], later, covered=True)
    coverage(a["a2"], later, covered=False)
    coverage(a["a3"], later, covered=True)
    coverage(a["a4"], later, covered=True, in_scope=False)  # out of scope that day: not counted
    coverage(a["a5"], later - dt.timedelta(days=1), covered=True)  # the day before: not counted
    coverage(a["a6"], days_ago(ws, 0), covered=True)
    churn(a["a2"], later)  # churned on its +30 day: churned by +30
    churn(a["a3"], later + dt.timedelta(days=1))  # the day after: not churned by +30

    c = {name: account(ws, csm, name=f"Held {name}") for name in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8")}
    for name in ("c1", "c2", "c3", "c4"):
        hold(p, c[name], d, "limit")
    hold(p, c["c5"], d, "cooldown")
    hold(p, c["c6"], d, "condition")  # did not match the condition: not comparable
    hold(q, c["c7"], d, "limit")  # another playbook's
    hold(p, c["c8"], days_ago(ws, 130), "limit")  # first seen before the period
    for name, before, after in (("c1", 60, 50), ("c2", 40, 40), ("c3", 50, 45), ("c4", 70, 71), ("c5", 30, 28),
                                ("c6", 0, 100), ("c7", 0, 100)):
        health(c[name], d, before), health(c[name], later, after)
        coverage(c[name], later, covered=name in ("c1", "c2", "c6", "c7"))
    churn(c["c4"], d + dt.timedelta(days=5))
    return p, q


def test_outcomes_at_30_days_enrolled_and_comparison(ws, outcome_world):
    p, _q = outcome_world
    report = playbook_report(workspace=ws, start=days_ago(ws, 120), end=days_ago(ws, -1))
    outcomes = item_of(report, p)["outcomes"]
    enrolled, comparison = outcomes["enrolled"][0], outcomes["comparison"][0]
    assert enrolled["horizon"] == 30
    # a1..a6 have reached +30 (a6 today); a7 not yet.
    assert (enrolled["n"], enrolled["not_yet"]) == (6, 1)
    # a1 +12, a2 -5, a3 +6, a5 0, a6 +15: (12 - 5 + 6 + 0 + 15) / 5 = 5.6; a4 not available.
    assert (enrolled["health_n"], enrolled["health_missing"]) == (5, 1)
    assert enrolled["health_change"] == pytest.approx(5.6)
    # In scope on +30: a1, a2, a3, a6; covered a1, a3, a6 = 3 of 4: fewer than 5, no share.
    assert (enrolled["coverage_n"], enrolled["covered"], enrolled["covered_share"]) == (4, 3, None)
    # Churned by +30: a2 only, 1 of 6.
    assert enrolled["churned"] == 1 and enrolled["churned_share"] == pytest.approx(1 / 6)

    # Comparison: c1..c4 (limit) and c5 (cooldown).
    assert outcomes["comparison_size"] == 5
    assert (comparison["n"], comparison["health_n"], comparison["health_missing"]) == (5, 5, 0)
    # (-10 + 0 - 5 + 1 - 2) / 5 = -3.2
    assert comparison["health_change"] == pytest.approx(-3.2)
    assert (comparison["coverage_n"], comparison["covered"], comparison["covered_share"]) == (5, 2, 0.4)
    assert (comparison["churned"], comparison["churned_share"]) == (1, 0.2)


def test_outcomes_at_90_days_wait_for_their_day(ws, outcome_world):
    p, _q = outcome_world
    outcomes = item_of(playbook_report(workspace=ws, start=days_ago(ws, 120), end=days_ago(ws, -1)), p)["outcomes"]
    at_90 = outcomes["enrolled"][1]
    # Every run started 60 days ago or later: none has reached +90.
    assert (at_90["horizon"], at_90["n"], at_90["not_yet"], at_90["health_change"]) == (90, 0, 7, None)


def test_outcomes_at_90_days(ws, csm):
    p = playbook(ws, "Renewal")
    d = days_ago(ws, 90)  # +90 is today: counts
    changes = [4, -2, 10, 3, 0]
    for i, change in enumerate(changes):
        acct = account(ws, csm)
        run(p, acct, d)
        health(acct, d, 50)
        health(acct, d + dt.timedelta(days=90), 50 + change)
        health(acct, d + dt.timedelta(days=30), 0)  # the +30 snapshot does not stand in for +90
        coverage(acct, d + dt.timedelta(days=90), covered=i < 4)
    late = account(ws, csm)
    run(p, late, days_ago(ws, 89))  # +90 tomorrow
    outcomes = item_of(playbook_report(workspace=ws, start=days_ago(ws, 100), end=days_ago(ws, -1)), p)["outcomes"]
    at_90 = outcomes["enrolled"][1]
    # (4 - 2 + 10 + 3 + 0) / 5 = 3.0; covered 4 of 5 = 0.8.
    assert (at_90["n"], at_90["not_yet"], at_90["health_n"]) == (5, 1, 5)
    assert at_90["health_change"] == pytest.approx(3.0)
    assert at_90["covered_share"] == pytest.approx(0.8)
    # No holds at all: the comparison is empty, and says so.
    assert outcomes["comparison_size"] == 0 and outcomes["comparison"][1]["n"] == 0


def test_a_health_change_on_fewer_than_five_is_not_given(ws, csm):
    p = playbook(ws, "Renewal")
    d = days_ago(ws, 40)
    for _ in range(4):
        acct = account(ws, csm)
        run(p, acct, d)
        health(acct, d, 50), health(acct, d + dt.timedelta(days=30), 70)
    enrolled = item_of(playbook_report(workspace=ws, start=days_ago(ws, 60), end=days_ago(ws, -1)), p)[
        "outcomes"]["enrolled"][0]
    assert (enrolled["n"], enrolled["health_n"], enrolled["health_change"], enrolled["churned_share"]) == (
        4, 4, None, None)


def test_a_snapshot_without_a_total_is_not_available(ws, csm):
    """A snapshot of "not enough data" has no total: it is not a zero, and the one before it does not
    stand in for it either (that day's score was unknown)."""
    p = playbook(ws, "Renewal")
    d = days_ago(ws, 40)
    acct = account(ws, csm)
    run(p, acct, d)
    health(acct, d, 50), health(acct, d + dt.timedelta(days=29), 60), health(acct, d + dt.timedelta(days=30), None)
    enrolled = item_of(playbook_report(workspace=ws, start=days_ago(ws, 60), end=days_ago(ws, -1)), p)[
        "outcomes"]["enrolled"][0]
    assert (enrolled["health_n"], enrolled["health_missing"]) == (0, 1)


# --- tenancy -------------------------------------------------------------------------------------------
def test_workspace_b_never_counts(ws, other_ws, csm, outsider, outcome_world):
    p, _q = outcome_world
    before = playbook_report(workspace=ws, start=days_ago(ws, 120), end=days_ago(ws, -1))
    # Workspace B: a playbook of the same name, runs, holds, tasks and snapshots on the same days.
    b = playbook(other_ws, "Renewal")
    d = days_ago(ws, 60)
    for _ in range(6):
        acct = account(other_ws, outsider)
        the_run = run(b, acct, d, "completed")
        hold(b, account(other_ws, outsider), d)
        health(acct, d, 0), health(acct, d + dt.timedelta(days=30), 100)
        coverage(acct, d + dt.timedelta(days=30), covered=True)
        task(the_run, days_ago(ws, 5), status="done", completed_on=days_ago(ws, 9), assignee=outsider)
    after = playbook_report(workspace=ws, start=days_ago(ws, 120), end=days_ago(ws, -1))
    assert [item["playbook"] for item in after["playbooks"]] == [item["playbook"] for item in before["playbooks"]]
    assert item_of(after, p) == item_of(before, p)
    assert after["csm"] == before["csm"]
    b_report = playbook_report(workspace=other_ws, start=days_ago(ws, 120), end=days_ago(ws, -1))
    assert [item["playbook"] for item in b_report["playbooks"]] == [b]
    assert item_of(b_report, b)["outcomes"]["enrolled"][0]["health_change"] == 100
    assert item_of(b_report, b)["runs"]["started"] == 6


def test_the_worked_example_of_the_docs(ws, csm):
    """docs/playbooks-report.md, "Worked example", with its dates counted back from today."""
    p = playbook(ws, "Renewal")
    d, later = days_ago(ws, 40), days_ago(ws, 10)
    e = [account(ws, csm) for _ in range(7)]
    for acct in e[:5]:
        run(p, acct, d)
    run(p, e[5], days_ago(ws, 30)), run(p, e[6], days_ago(ws, 29))
    for acct, after in zip(e[:4], (60, 60, 60, 45), strict=True):
        health(acct, d if acct is not e[2] else d - dt.timedelta(days=3), 50), health(acct, later, after)
        coverage(acct, later, covered=after > 50)
    health(e[4], d, 50), health(e[4], later - dt.timedelta(days=8), 70)
    coverage(e[4], later, covered=True, in_scope=False)
    health(e[5], days_ago(ws, 30), 20), health(e[5], days_ago(ws, 0), 35), coverage(e[5], days_ago(ws, 0), covered=True)
    churn(e[3], later)
    for i in range(5):
        acct = account(ws, csm)
        hold(p, acct, d, "limit" if i % 2 else "cooldown")
        health(acct, d, 60), health(acct, later, 58), coverage(acct, later, covered=i < 2)
        if i == 4:
            churn(acct, d + dt.timedelta(days=5))
    rp = run(p, account(ws, csm), days_ago(ws, 95))  # started before the period: its tasks count, it does not
    for due, status, done in ((20, "done", 20), (20, "done", 25), (15, "done", 16), (12, "done", 10),
                              (3, "open", None), (1, "snoozed", None), (0, "open", None), (5, "cancelled", None)):
        task(rp, days_ago(ws, due), status=status, completed_on=done if done is None else days_ago(ws, done),
             assignee=csm)

    item = item_of(playbook_report(workspace=ws, start=days_ago(ws, 89), end=days_ago(ws, -1)), p)
    enrolled, comparison = item["outcomes"]["enrolled"][0], item["outcomes"]["comparison"][0]
    assert (enrolled["n"], enrolled["not_yet"], enrolled["health_n"], enrolled["health_missing"]) == (6, 1, 5, 1)
    assert enrolled["health_change"] == pytest.approx(8.0)  # (10 + 10 + 10 - 5 + 15) / 5
    assert (enrolled["covered"], enrolled["coverage_n"], enrolled["covered_share"]) == (4, 5, 0.8)
    assert (enrolled["churned"], enrolled["churned_share"]) == (1, pytest.approx(1 / 6))
    assert comparison["health_change"] == pytest.approx(-2.0)
    assert (comparison["covered_share"], comparison["churned_share"]) == (0.4, 0.2)
    assert item["outcomes"]["enrolled"][1]["n"] == 0
    tasks = item["tasks"]
    # In days ago: due 20 done 20 (its due day), due 20 done 25 and due 15 done 16 (early): on time 3;
    # due 12 done 10: late; due 3 open and due 1 snoozed: overdue; due today: not yet; 1 cancelled.
    assert (tasks["on_time"], tasks["late"], tasks["open_overdue"], tasks["open_not_due"], tasks["cancelled"]) == (
        3, 1, 2, 1, 1)
    assert tasks["on_time_rate"] == pytest.approx(0.5)  # 3 / (4 + 2)


@pytest.mark.parametrize("given, expected", [
    ({}, (89, -1)),
    ({"start": 200}, (200, 110)),
    ({"end": 10}, (100, 10)),
])
def test_the_default_period(ws, given, expected):
    from playbooks.reports import default_period

    dates = {key: days_ago(ws, value) for key, value in given.items()}
    assert default_period(workspace=ws, **dates) == tuple(days_ago(ws, n) for n in expected)
