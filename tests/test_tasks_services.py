"""Task services: who may write what, completing with the touch that did it (coverage follows),
snooze and the night's wake-up, all-or-nothing reassignment, the audit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Touchpoint
from coverage.computation import compute_coverage
from coverage.models import CoverageSnapshot
from coverage.services import assign_tiers
from playbooks import tasks as services
from playbooks.models import Task, TaskStatus
from workspaces.errors import DomainError, NotAllowed
from workspaces.models import AuditEvent

from .factories import AccountFactory, TouchpointFactory
from .tasks_data import make_task

pytestmark = pytest.mark.django_db


def test_a_csm_creates_a_task_for_themselves_by_default_and_it_is_audited(ws, csm, account):
    task = services.create_task(workspace=ws, actor=csm, account=account, title=" Kick-off call ",
                                due_on=ws.today())
    assert (task.assignee, task.source, task.title, task.status, task.created_by) == (
        csm, "manual", "Kick-off call", "open", csm)
    assert AuditEvent.objects.for_workspace(ws).filter(action="task.created", object_id=str(task.pk)).exists()


def test_a_csm_cannot_give_a_task_on_someone_elses_account_to_someone_else(ws, csm, csm2):
    theirs = AccountFactory(workspace=ws, owner=csm2)
    with pytest.raises(NotAllowed):
        services.create_task(workspace=ws, actor=csm, account=theirs, assignee=csm2, title="X", due_on=ws.today())
    # For themselves, on any account: allowed.
    assert services.create_task(workspace=ws, actor=csm, account=theirs, title="X", due_on=ws.today()).pk


def test_what_a_task_names_must_be_of_its_workspace(ws, manager, account, other_account, outsider, viewer, csm):
    with pytest.raises(DomainError) as err:
        services.create_task(workspace=ws, actor=manager, account=other_account, title="X", due_on=ws.today())
    assert err.value.field == "account"
    with pytest.raises(DomainError) as err:
        services.create_task(workspace=ws, actor=manager, account=account, assignee=outsider, title="X",
                             due_on=ws.today())
    assert err.value.field == "assignee"
    csm.is_active = False
    csm.save()
    with pytest.raises(DomainError) as err:
        services.create_task(workspace=ws, actor=manager, account=account, assignee=csm, title="X", due_on=ws.today())
    assert err.value.field == "assignee"
    with pytest.raises(DomainError) as err:
        services.create_task(workspace=ws, actor=manager, account=account, title=" ", due_on=ws.today())
    assert err.value.field == "title"
    with pytest.raises(NotAllowed):
        services.create_task(workspace=ws, actor=viewer, account=account, title="X", due_on=ws.today())
    assert not Task.all_workspaces.exists()


@pytest.fixture
def gap(ws, csm):
    """Computed today: "Gap KK" (high touch, never touched) breaks coverage."""
    gap = AccountFactory(workspace=ws, owner=csm, name="Gap KK", arr=Decimal("20000000"))
    fine = AccountFactory(workspace=ws, owner=csm, name="Fine KK", arr=Decimal("2000000"))
    TouchpointFactory(account=fine, author=csm, occurred_at=timezone.now() - dt.timedelta(days=3))
    assign_tiers(workspace=ws, as_of=ws.today())
    compute_coverage(workspace=ws, day=ws.today())
    return gap


def test_completing_a_call_with_its_touch_logs_it_links_it_and_covers_the_account_today(ws, csm, gap):
    row = CoverageSnapshot.objects.for_workspace(ws).get(account=gap, day=ws.today())
    assert not row.covered
    task = make_task(gap, csm, days=-2, type="call")
    services.complete_task(task=task, actor=csm, outcome="Renewal agreed",
                           touch={"channel": "phone", "summary": "Renewal call"})
    task.refresh_from_db()
    touch = Touchpoint.objects.for_workspace(ws).get(account=gap)
    assert (task.status, task.touchpoint, task.outcome, task.completed_on, task.completed_by) == (
        "done", touch, "Renewal agreed", ws.today(), csm)
    assert (touch.channel, touch.summary, touch.author) == ("phone", "Renewal call", csm)
    row = CoverageSnapshot.objects.for_workspace(ws).get(account=gap, day=ws.today())  # rewritten: read anew
    assert row.covered and row.last_touch_on == ws.today()
    assert AuditEvent.objects.for_workspace(ws).filter(action="task.completed").count() == 1


def test_a_refused_touch_leaves_the_task_open_and_nothing_logged(ws, csm, csm2, account):
    task = make_task(account, csm)
    with pytest.raises(DomainError) as err:
        services.complete_task(task=task, actor=csm, touch={"summary": "no channel"})
    assert err.value.field == "channel"
    with pytest.raises(Exception):  # noqa: B017 - the touchpoint writer's own validation error
        services.complete_task(task=task, actor=csm, touch={"channel": "carrier pigeon"})
    task.refresh_from_db()
    assert task.status == "open" and task.touchpoint is None
    assert not Touchpoint.objects.for_workspace(ws).exists()
    with pytest.raises(NotAllowed):
        services.complete_task(task=task, actor=csm2)  # not theirs, not their account


def test_a_closed_task_cannot_be_closed_again_but_can_be_reopened(ws, csm, account):
    task = services.complete_task(task=make_task(account, csm), actor=csm)
    with pytest.raises(DomainError) as err:
        services.cancel_task(task=task, actor=csm)
    assert err.value.field == "status"
    services.reopen_task(task=task, actor=csm)
    task.refresh_from_db()
    assert (task.status, task.completed_on, task.completed_by) == ("open", None, None)


def test_snooze_needs_a_day_after_today_and_the_night_wakes_it(ws, csm, account):
    task = make_task(account, csm)
    with pytest.raises(DomainError) as err:
        services.snooze_task(task=task, actor=csm, until=ws.today())
    assert err.value.field == "until"
    tomorrow = ws.today() + dt.timedelta(days=1)
    services.snooze_task(task=task, actor=csm, until=tomorrow)
    task.refresh_from_db()
    assert (task.status, task.snoozed_until) == ("snoozed", tomorrow)
    assert services.wake_snoozed_tasks(workspace=ws, as_of=ws.today()) == 0
    assert services.wake_snoozed_tasks(workspace=ws, as_of=tomorrow) == 1
    task.refresh_from_db()
    assert (task.status, task.snoozed_until) == ("open", None)


def test_wake_touches_only_its_own_workspace(ws, csm, account, other_account, outsider):
    tomorrow = ws.today() + dt.timedelta(days=1)
    mine = make_task(account, csm, status=TaskStatus.SNOOZED, snoozed_until=tomorrow)
    theirs = make_task(other_account, outsider, status=TaskStatus.SNOOZED, snoozed_until=tomorrow)
    assert services.wake_snoozed_tasks(workspace=ws, as_of=tomorrow) == 1
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("open", "snoozed")


def test_reassigning_is_all_or_nothing(ws, manager, csm, csm2, account):
    theirs = AccountFactory(workspace=ws, owner=csm2)
    mine, other = make_task(account, csm), make_task(theirs, csm2)
    with pytest.raises(NotAllowed):
        services.reassign_tasks(workspace=ws, actor=csm, tasks=[mine, other], assignee=csm)
    assert list(Task.all_workspaces.order_by("pk").values_list("assignee", flat=True)) == [csm.pk, csm2.pk]
    csm2.is_active = False
    csm2.save()
    with pytest.raises(DomainError) as err:
        services.reassign_tasks(workspace=ws, actor=manager, tasks=[mine], assignee=csm2)
    assert err.value.field == "assignee"
    assert services.reassign_tasks(workspace=ws, actor=manager, tasks=[mine, other], assignee=csm) == 1
    assert set(Task.all_workspaces.values_list("assignee", flat=True)) == {csm.pk}
    assert AuditEvent.objects.for_workspace(ws).filter(action="task.reassigned").count() == 1


def test_reassigning_another_workspaces_task_or_to_its_member_is_refused(ws, manager, account, other_account,
                                                                        outsider):
    task, foreign = make_task(account, manager), make_task(other_account, outsider)
    with pytest.raises(DomainError) as err:
        services.reassign_tasks(workspace=ws, actor=manager, tasks=[foreign], assignee=manager)
    assert err.value.field == "ids"
    with pytest.raises(DomainError):
        services.reassign_tasks(workspace=ws, actor=manager, tasks=[task], assignee=outsider)
    foreign.refresh_from_db()
    assert foreign.assignee == outsider


def test_a_csm_cannot_move_a_task_out_of_their_reach_by_editing_it(ws, csm, csm2, account):
    theirs = AccountFactory(workspace=ws, owner=csm2)
    task = make_task(account, csm)
    with pytest.raises(NotAllowed):
        services.update_task(task=task, actor=csm, account=theirs, assignee=csm2)
    task = Task.all_workspaces.get(pk=task.pk)
    services.update_task(task=task, actor=csm, title="New title", priority=4)
    task.refresh_from_db()
    assert (task.title, task.priority, task.account, task.assignee) == ("New title", 4, account, csm)
