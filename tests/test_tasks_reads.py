"""Reads of tasks: each CSM's load against a hand count, My book's task reasons, the filters."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.test import RequestFactory

from cs_platform.homes import book
from playbooks.filtersets import TaskFilterSet
from playbooks.models import Task, TaskStatus
from playbooks.selectors import task_load
from workspaces import owners

from .factories import AccountFactory
from .tasks_data import make_task, playbook_run

pytestmark = pytest.mark.django_db


def _done(task, *, on):
    task.status, task.completed_on = TaskStatus.DONE, on
    task.save()
    return task


def test_each_csms_load_matches_a_hand_count(ws, manager, csm, csm2, account, other_account, outsider):
    T = ws.today()
    day = lambda n: T + dt.timedelta(days=n)  # noqa: E731
    theirs = AccountFactory(workspace=ws, owner=csm2)
    # Kenji: 3 open (one due yesterday, one due today, one snoozed until yesterday: awake, due in 5 days),
    # one snoozed until next week (not open), done: 2 in the window (one on time, one late), 1 before it.
    make_task(account, csm, days=-1)
    make_task(account, csm, days=0)
    make_task(account, csm, days=5, status="snoozed", snoozed_until=day(-1))
    make_task(account, csm, days=-3, status="snoozed", snoozed_until=day(7))
    _done(make_task(account, csm, days=-2), on=day(-3))   # early: on time
    _done(make_task(account, csm, days=-10), on=day(-4))  # 6 days late
    _done(make_task(account, csm, days=-40), on=day(-30))  # done 30 days ago: outside the 30-day window
    # Yui: 1 overdue open, 1 done on its due day, 1 cancelled (neither open nor done).
    make_task(theirs, csm2, days=-8)
    _done(make_task(theirs, csm2, days=-1), on=day(-1))
    make_task(theirs, csm2, days=-1, status="cancelled")
    # Nobody's: one open, not yet due. Another workspace's tasks never count.
    make_task(account, None, days=3)
    make_task(other_account, outsider, days=-5)

    load = task_load(workspace=ws, today=T)
    rows = {(r["member"].display_name if r["member"] else None): r for r in load["rows"]}
    figures = {name: (r["open"], r["overdue"], r["done"], r["on_time"], r["on_time_rate"]) for name, r in rows.items()}
    assert figures == {"Kenji Test": (3, 1, 2, 1, 50.0), "Yui Test": (1, 1, 1, 1, 100.0),
                       None: (1, 0, 0, 0, None)}
    assert load["totals"] == {"open": 5, "overdue": 2, "done": 3, "on_time": 2}
    assert "Mei Test" not in rows  # a manager without tasks is not a row


def test_my_book_lists_my_open_tasks_overdue_first_with_complete_as_the_action(ws, csm, csm2):
    quiet = AccountFactory(workspace=ws, owner=csm, name="Quiet KK", arr=Decimal("1000000"), health_band="green",
                           renewal_date=ws.today() + dt.timedelta(days=300))
    other = AccountFactory(workspace=ws, owner=csm2, name="Other KK", arr=Decimal("1000000"), health_band="green",
                           renewal_date=ws.today() + dt.timedelta(days=300))
    late = make_task(other, csm, days=-14, title="QBR prep")  # assigned to me on a colleague's account
    soon = make_task(quiet, csm, days=2, title="Send the deck")
    make_task(quiet, csm, days=9, title="Later task", status="snoozed", snoozed_until=ws.today() + dt.timedelta(days=3))
    make_task(quiet, csm2, days=-1, title="Not mine")

    result = book(workspace=ws, owner=csm)
    rows = {r.account.name: r for r in result["rows"]}
    assert list(rows) == ["Other KK", "Quiet KK"]  # same ARR and risk: 14 days overdue weighs 1 + 14/7 = 3
    assert rows["Other KK"].score == pytest.approx(1_000_000 * 1 * 3)
    assert rows["Quiet KK"].score == pytest.approx(1_000_000 * 1 * 1)
    reason = rows["Other KK"].action
    assert (reason.kind, reason.text, reason.overdue_days) == ("task", "Task overdue 14 days: QBR prep", 14)
    assert reason.action_url == f"/tasks/{late.pk}/complete/?next=/my-book/"
    assert rows["Quiet KK"].action.text == f"Task due {soon.due_on.isoformat()}: Send the deck"
    assert result["counts"]["task"] == 2

    team = book(workspace=ws, owner=owners.ALL)
    assert {r.account.name for r in team["rows"]} == {"Other KK", "Quiet KK"}
    assert book(workspace=ws, owner=None)["rows"] == []


def _filter(ws, member, query):
    request = RequestFactory().get("/tasks/")
    request.workspace, request.membership = ws, member
    return TaskFilterSet(QueryDict(query), queryset=Task.objects.for_workspace(ws), request=request)


def test_the_filters_select_by_assignee_status_due_window_playbook_and_account_fields(ws, manager, csm, csm2, account):
    T = ws.today()
    red = AccountFactory(workspace=ws, owner=csm2, name="Red KK", health_band="red", touch_tier="high")
    overdue = make_task(account, csm, days=-2)
    today = make_task(account, csm, days=0)
    later = make_task(red, csm2, days=20, run=playbook_run(red), source="playbook")
    woken = make_task(red, None, days=1, status="snoozed", snoozed_until=T)
    asleep = make_task(red, csm, days=1, status="snoozed", snoozed_until=T + dt.timedelta(days=2))
    done = _done(make_task(account, csm, days=-5), on=T)

    def ids(query, member=csm):
        filterset = _filter(ws, member, query)
        assert filterset.is_valid(), filterset.errors
        return set(filterset.qs.values_list("pk", flat=True))

    assert ids("assignee=me") == {overdue.pk, today.pk, asleep.pk, done.pk}
    assert ids("assignee=none") == {woken.pk}
    assert ids(f"assignee={csm2.pk}") == {later.pk}
    assert ids("status=open") == {overdue.pk, today.pk, later.pk, woken.pk}
    assert ids("status=snoozed") == {asleep.pk}
    assert ids("status=done") == {done.pk}
    assert ids("due=overdue") == {overdue.pk}
    assert ids("due=today") == {today.pk}
    assert ids("due=next_14_days&status=open") == {today.pk, woken.pk}
    assert ids(f"due_from={T.isoformat()}&due_to={(T + dt.timedelta(days=1)).isoformat()}") == {
        today.pk, woken.pk, asleep.pk}
    assert ids(f"playbook={later.run.playbook_id}") == {later.pk}
    assert ids("source=playbook") == {later.pk}
    assert ids("health_band=red&tier=high") == {later.pk, woken.pk, asleep.pk}
    assert ids(f"account_owner={csm.pk}") == {overdue.pk, today.pk, done.pk}
    assert ids("q=red kk") == {later.pk, woken.pk, asleep.pk}


def test_a_filter_naming_another_workspaces_row_or_nonsense_is_invalid(ws, csm, other_account, outsider):
    for query in (f"assignee={outsider.pk}", f"account={other_account.pk}", "due=someday", "due_from=not-a-date",
                  "status=sleeping", f"account_owner={outsider.pk}", "due_to=1066-10-14"):
        filterset = _filter(ws, csm, query)
        assert not filterset.is_valid(), query
        assert set(filterset.errors) == {query.split("=")[0]}


def test_the_assignee_choices_are_the_requests_even_once_the_shared_field_was_built(ws, csm):
    TaskFilterSet.base_filters["assignee"].field  # noqa: B018 - what the API schema's generation does
    assert _filter(ws, csm, "assignee=me").is_valid()
    assert _filter(ws, csm, f"assignee={csm.pk}").is_valid()
