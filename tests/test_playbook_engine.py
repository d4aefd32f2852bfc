"""The playbook engine: each trigger at its boundary, the enrolment rules, steps, exits, versions,
idempotent nights and tenancy. Hand-built data; the evaluation is the one the night runs."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, ContactRole, HealthBand, LifecycleStage
from accounts.services import create_account, save_contact, update_account
from cs_platform.nightly import run_nightly
from onboarding.models import OnboardingSettings
from playbooks.definition import validate_definition
from playbooks.engine import advance_run, end_run, enrol_accounts, evaluate_playbooks, preview_playbook
from playbooks.models import (
    Playbook,
    PlaybookHold,
    PlaybookRun,
    RunAction,
    RunStatus,
    Task,
    TaskSource,
    TaskStatus,
)
from workspaces.errors import DomainError, NotAllowed
from workspaces.policy import SYSTEM

from .factories import AccountFactory, ContactFactory
from .playbook_engine_helpers import make_playbook, new_version, set_account

pytestmark = pytest.mark.django_db

RENEWAL = {"trigger": {"kind": "renewal_within", "days": 120},
           "steps": [{"kind": "task", "day": 0, "due_days": 7, "title": "Renewal call with {account}",
                      "description": "Renews on {renewal_date}. Owner {owner}, ARR {arr}."}]}


@pytest.fixture
def today(ws):
    return ws.today()


def runs(ws, playbook=None):
    rows = PlaybookRun.objects.for_workspace(ws)
    return rows.filter(playbook=playbook) if playbook else rows


# --- renewal: the 120-day boundary, the task, idempotent nights ------------------------------------


def test_renewal_exactly_120_days_out_enrols_and_121_does_not(ws, csm, today):
    inside = AccountFactory(workspace=ws, owner=csm, name="Inside KK", renewal_date=today + dt.timedelta(days=120),
                            arr=Decimal("1200000"))
    AccountFactory(workspace=ws, owner=csm, name="Outside KK", renewal_date=today + dt.timedelta(days=121))
    AccountFactory(workspace=ws, owner=csm, name="Passed KK", renewal_date=today - dt.timedelta(days=1))
    playbook = make_playbook(ws, RENEWAL)

    summary = evaluate_playbooks(workspace=ws, as_of=today)

    run = runs(ws).get()
    assert run.account == inside and run.status == RunStatus.ACTIVE and run.started_on == today
    assert run.reason_key == f"renewal:{inside.renewal_date.isoformat()}"
    assert run.why["trigger"] == "renewal_within" and run.why["values"]["days_left"] == 120
    assert run.version == playbook.versions.get()
    task = Task.objects.for_workspace(ws).get()
    assert (task.source, task.run, task.step_index, task.assignee) == (TaskSource.PLAYBOOK, run, 0, csm)
    assert task.title == "Renewal call with Inside KK"
    assert task.description == f"Renews on {inside.renewal_date.isoformat()}. Owner Kenji Test, ARR 1,200,000."
    assert task.due_on == today + dt.timedelta(days=7)
    assert summary["enrolled"] == 1 and summary["tasks"] == 1 and summary["matched"] == 1


@pytest.mark.parametrize("many", [False, True], ids=["few accounts", "many accounts"])
def test_a_night_run_twice_creates_nothing_twice(ws, csm, today, many, monkeypatch):
    if many:  # the whole-workspace reads a large night takes instead of IN lists
        from playbooks import engine

        monkeypatch.setattr(engine, "MANY_ACCOUNTS", 0)
    AccountFactory.create_batch(3, workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=30))
    make_playbook(ws, {**RENEWAL, "condition": {"op": "and", "conditions": [
        {"field": "arr", "op": "gte", "value": 5000000}]}}, name="Big renewals")
    make_playbook(ws, RENEWAL, name="Renewals")
    first = evaluate_playbooks(workspace=ws, as_of=today)
    shape = (runs(ws).count(), Task.objects.for_workspace(ws).count(), PlaybookHold.objects.for_workspace(ws).count())
    second = evaluate_playbooks(workspace=ws, as_of=today)
    assert shape == (3, 3, 3)
    assert (runs(ws).count(), Task.objects.for_workspace(ws).count(),
            PlaybookHold.objects.for_workspace(ws).count()) == shape
    assert first["enrolled"] == 3 and second["enrolled"] == 0 and second["tasks"] == 0


def test_a_night_announces_each_run_and_task_it_created_to_a_listening_endpoint(ws, csm, today):
    from webhooks.models import Delivery, Endpoint

    accounts = AccountFactory.create_batch(3, workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=30))
    make_playbook(ws, RENEWAL)
    Endpoint.all_workspaces.create(workspace=ws, url="https://hooks.example.com/cs", secret="s" * 32,
                                   events=["task.created", "playbook.run_started"])
    evaluate_playbooks(workspace=ws, as_of=today)
    evaluate_playbooks(workspace=ws, as_of=today)  # creates nothing, announces nothing
    sent = {(d.event, d.payload["account"]): d.payload for d in Delivery.objects.for_workspace(ws)}
    assert len(sent) == 6 and Delivery.objects.for_workspace(ws).count() == 6
    for account in accounts:
        task = Task.objects.for_workspace(ws).get(account=account)
        run = runs(ws).get(account=account)
        assert sent[("task.created", account.pk)] == {
            "task": task.pk, "account": account.pk, "run": run.pk, "step_index": 0, "title": task.title,
            "type": task.type, "due_on": task.due_on.isoformat(), "assignee": csm.pk, "source": "playbook"}
        started = sent[("playbook.run_started", account.pk)]
        assert (started["run"], started["status"], started["started_on"]) == (run.pk, "active", today.isoformat())


def test_the_nightly_pipeline_runs_the_playbooks_step_last(ws, csm, today):
    AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=10))
    make_playbook(ws, RENEWAL)
    assert run_nightly(workspace=ws, as_of=today)[-3:] == ["health", "lifecycle", "playbooks"]
    assert runs(ws).count() == 1


# --- each trigger --------------------------------------------------------------------------------------


def test_stage_time_matches_from_the_day_the_threshold_is_crossed(ws, csm, today):
    stage = LifecycleStage.objects.for_workspace(ws).order_by("position")[1]
    account = AccountFactory(workspace=ws, owner=csm, stage=stage)
    entered = today - dt.timedelta(days=30)
    set_account(account, stage_entered_at=ws.day_start(entered) + dt.timedelta(hours=23))
    make_playbook(ws, {"trigger": {"kind": "stage_time", "stage": stage.pk, "days": 30},
                       "steps": [{"title": "Unstick {account} from {stage}"}]})
    evaluate_playbooks(workspace=ws, as_of=today - dt.timedelta(days=1))
    assert not runs(ws).exists()
    evaluate_playbooks(workspace=ws, as_of=today)
    run = runs(ws).get()
    assert run.reason_key == f"stage:{stage.pk}:{entered.isoformat()}" and run.why["values"]["days"] == 30
    assert Task.objects.for_workspace(ws).get().title == f"Unstick {account.name} from {stage.name}"


def test_health_red_keys_the_red_streak_and_exits_when_health_is_back_to_yellow(ws, csm, today):
    account = AccountFactory(workspace=ws, owner=csm)
    set_account(account, health_band=HealthBand.RED, health_score=31.0)
    make_playbook(ws, {"trigger": {"kind": "health_red"}, "steps": [{"title": "Save {account}"}],
                       "exit": {"open_tasks": "cancel"}})
    evaluate_playbooks(workspace=ws, as_of=today)
    run = runs(ws).get()
    assert run.reason_key == f"red:{today.isoformat()}"
    task = Task.objects.for_workspace(ws).get()

    set_account(account, health_band=HealthBand.YELLOW, health_score=55.0)
    summary = evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=1))
    run.refresh_from_db()
    task.refresh_from_db()
    assert summary["exited"] == 1
    assert (run.status, run.ended_on) == (RunStatus.EXITED, today + dt.timedelta(days=1))
    assert task.status == TaskStatus.CANCELLED


def test_an_exit_that_keeps_open_tasks_leaves_them_open(ws, csm, today):
    account = AccountFactory(workspace=ws, owner=csm)
    set_account(account, health_band=HealthBand.RED)
    make_playbook(ws, {"trigger": {"kind": "health_red"}, "steps": [{"title": "Save {account}"}],
                       "exit": {"open_tasks": "keep"}})
    evaluate_playbooks(workspace=ws, as_of=today)
    set_account(account, health_band=HealthBand.GREEN)
    evaluate_playbooks(workspace=ws, as_of=today)
    assert runs(ws).get().status == RunStatus.EXITED
    assert Task.objects.for_workspace(ws).get().status == TaskStatus.OPEN


def test_an_event_trigger_does_not_exit_when_its_state_changes(ws, csm, today):
    account = AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=10))
    make_playbook(ws, {"trigger": {"kind": "schedule", "every_days": 90}, "steps": [{"title": "Review"}]})
    set_account(account, contract_start=today - dt.timedelta(days=90))
    evaluate_playbooks(workspace=ws, as_of=today)
    set_account(account, contract_start=today - dt.timedelta(days=10))  # no longer in a period
    evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=1))
    assert runs(ws).get().status == RunStatus.ACTIVE


def test_health_drop_and_usage_below_keep_their_episode_key_while_held(ws, csm, today):
    account = AccountFactory(workspace=ws, owner=csm)
    set_account(account, health_change_30d=-20.0, active_users_30d=0)
    AccountFactory(workspace=ws, owner=csm, name="Steady KK")  # change unknown, 0 users -> usage only
    drop = make_playbook(ws, {"trigger": {"kind": "health_drop", "points": 15}, "steps": [{"title": "Drop"}]},
                         name="Drop")
    usage = make_playbook(ws, {"trigger": {"kind": "usage_below", "active_users": 1},
                               "enrolment": {"limit": "once_per_reason", "cooldown_days": 30},
                               "steps": [{"title": "Usage"}]}, name="Usage")
    evaluate_playbooks(workspace=ws, as_of=today)
    assert list(runs(ws, drop).values_list("account", "reason_key")) == [(account.pk, f"drop:{today}")]
    assert runs(ws, usage).count() == 2
    # The run ends (all done); the state holds on: a new episode, held by the cooldown, keeps its key.
    for run in runs(ws, usage).filter(account=account):
        Task.objects.for_workspace(ws).filter(run=run).update(status=TaskStatus.DONE, completed_on=today)
        advance_run(run, as_of=today)
        assert PlaybookRun.all_workspaces.get(pk=run.pk).status == RunStatus.COMPLETED
    for day in (1, 2):
        evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=day))
    hold = PlaybookHold.objects.for_workspace(ws).get(playbook=usage)
    assert (hold.account, hold.held_because, hold.reason_key) == (account, "cooldown", f"usage_below:{today + dt.timedelta(days=1)}")
    assert (hold.first_on, hold.last_on) == (today + dt.timedelta(days=1), today + dt.timedelta(days=2))


def test_a_health_drop_held_by_its_cooldown_keeps_the_day_it_was_first_held(ws, csm, today):
    account = AccountFactory(workspace=ws, owner=csm)
    set_account(account, health_change_30d=-20.0)
    drop = make_playbook(ws, {"trigger": {"kind": "health_drop", "points": 15},
                              "enrolment": {"limit": "once_per_reason", "cooldown_days": 30},
                              "steps": [{"title": "Drop"}]}, name="Drop")
    evaluate_playbooks(workspace=ws, as_of=today)
    run = runs(ws, drop).get()
    Task.objects.for_workspace(ws).filter(run=run).update(status=TaskStatus.DONE, completed_on=today)
    advance_run(run, as_of=today)
    for day in (1, 2, 3):
        evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=day))
    # One hold for the episode, from the day it was first held: not a new occurrence every day.
    hold = PlaybookHold.objects.for_workspace(ws).get(playbook=drop)
    assert (hold.held_because, hold.reason_key) == ("cooldown", f"drop:{today + dt.timedelta(days=1)}")
    assert (hold.first_on, hold.last_on) == (today + dt.timedelta(days=1), today + dt.timedelta(days=3))


def test_segment_entered_keys_the_day_the_account_entered(ws, csm, today):
    from segments.models import Segment, SegmentMembership

    account = AccountFactory(workspace=ws, owner=csm)
    AccountFactory(workspace=ws, owner=csm, name="Not a member KK")
    segment = Segment.all_workspaces.create(workspace=ws, name="Watch", rules={})
    SegmentMembership.all_workspaces.create(workspace=ws, segment=segment, account=account,
                                            since=today - dt.timedelta(days=2))
    make_playbook(ws, {"trigger": {"kind": "segment_entered", "segment": segment.pk}, "steps": [{"title": "Hi"}]})
    evaluate_playbooks(workspace=ws, as_of=today)
    run = runs(ws).get()
    assert run.account == account and run.reason_key == f"segment:{segment.pk}:{today - dt.timedelta(days=2)}"


def test_coverage_broken_and_silent_read_the_coverage_snapshot(ws, csm, today):
    from coverage.models import CoverageSnapshot
    from usage.models import DailyAccountUsage

    broken = AccountFactory(workspace=ws, owner=csm, name="Broken KK")
    covered = AccountFactory(workspace=ws, owner=csm, name="Covered KK")
    CoverageSnapshot.all_workspaces.create(workspace=ws, day=today, account=broken, in_scope=True, covered=False,
                                           due_date=today - dt.timedelta(days=5), overdue_days=5,
                                           days_since_last_touch=65, broken_rule="cadence", tier="low")
    CoverageSnapshot.all_workspaces.create(workspace=ws, day=today, account=covered, in_scope=True, covered=True,
                                           days_since_last_touch=3, tier="low")
    for account in (broken, covered):
        DailyAccountUsage.all_workspaces.create(workspace=ws, account=account, day=today - dt.timedelta(days=40),
                                                events=100)
        DailyAccountUsage.all_workspaces.create(workspace=ws, account=account, day=today - dt.timedelta(days=5),
                                                events=50)
    coverage = make_playbook(ws, {"trigger": {"kind": "coverage_broken", "min_overdue_days": 5},
                                  "steps": [{"title": "Touch"}]}, name="Coverage")
    late = make_playbook(ws, {"trigger": {"kind": "coverage_broken", "min_overdue_days": 6},
                              "steps": [{"title": "Touch"}]}, name="Coverage late")
    silent = make_playbook(ws, {"trigger": {"kind": "silent", "days": 60, "drop": 0.5},
                                "steps": [{"title": "Check in"}]}, name="Silent")
    evaluate_playbooks(workspace=ws, as_of=today)
    assert list(runs(ws, coverage).values_list("account", "reason_key")) == [
        (broken.pk, f"coverage:{today - dt.timedelta(days=5)}")]
    assert not runs(ws, late).exists()
    run = runs(ws, silent).get()
    assert run.account == broken and run.why["values"]["usage_fell"] == 0.5


def test_contacts_champions_onboarding_new_accounts_nps_and_schedules(ws, csm, today):
    first, second = LifecycleStage.objects.for_workspace(ws).order_by("position")[:2]
    championed = AccountFactory(workspace=ws, owner=csm, name="Championed KK", stage=second,
                                contract_start=today - dt.timedelta(days=100))
    ContactFactory(workspace=ws, account=championed, role=ContactRole.CHAMPION)
    lonely = AccountFactory(workspace=ws, owner=csm, name="Lonely KK", stage=first,
                            contract_start=today - dt.timedelta(days=90), attributes={"nps": 6})
    left = ContactFactory(workspace=ws, account=lonely, role=ContactRole.CHAMPION, left_on=today - dt.timedelta(days=3))
    set_account(championed, attributes={"nps": 7}, created_at=ws.day_start(today - dt.timedelta(days=30)))
    set_account(lonely, created_at=ws.day_start(today - dt.timedelta(days=14)))
    kinds = {
        "left": {"kind": "key_contact_left", "within_days": 30},
        "vacant": {"kind": "champion_vacant"},
        "onboarding": {"kind": "onboarding_late", "days": 90},
        "new": {"kind": "new_account", "within_days": 14},
        "nps": {"kind": "nps_detractor", "source": "attribute"},
        "schedule": {"kind": "schedule", "every_days": 50},
    }
    playbooks = {name: make_playbook(ws, {"trigger": trigger, "steps": [{"title": name}]}, name=name)
                 for name, trigger in kinds.items()}
    evaluate_playbooks(workspace=ws, as_of=today)
    keys = {name: list(runs(ws, pb).values_list("account__name", "reason_key")) for name, pb in playbooks.items()}
    assert keys["left"] == [("Lonely KK", f"contact_left:{left.pk}")]
    assert keys["vacant"] == [("Lonely KK", f"champion_vacant:{today}")]
    # A milestone 90 days or more past its target (onboarding's plan: kickoff on day 7): only the account
    # 100 days in (93 days late); the reason names the milestone and its target day.
    assert keys["onboarding"] == [("Championed KK", f"onboarding:kickoff:{today - dt.timedelta(days=93)}")]
    assert keys["new"] == [("Lonely KK", f"new:{today - dt.timedelta(days=14)}")]
    assert keys["nps"] == [("Lonely KK", f"nps_detractor:{today}")]
    # Periods count from the contract start: 100 days in, the second 50-day period starts today.
    assert sorted(keys["schedule"]) == [("Championed KK", f"schedule:{today}"),
                                        ("Lonely KK", f"schedule:{today - dt.timedelta(days=40)}")]


# --- enrolment rules -------------------------------------------------------------------------------


def _ended_run(ws, playbook, account, *, key, started, ended=None):
    return PlaybookRun.all_workspaces.create(
        workspace=ws, playbook=playbook, version=playbook.versions.get(), account=account, reason_key=key,
        status=RunStatus.COMPLETED, started_on=started, ended_on=ended or started)


@pytest.mark.parametrize("enrolment, past, held", [
    ({"limit": "once_ever"}, [400], "limit"),
    ({"limit": "times", "times": 2}, [400], None),
    ({"limit": "times", "times": 2}, [400, 800], "limit"),
    ({"limit": "times_per_days", "times": 1, "per_days": 365}, [364], "limit"),
    ({"limit": "times_per_days", "times": 1, "per_days": 365}, [365], None),
    ({"limit": "once_per_reason", "cooldown_days": 30}, [59], "cooldown"),  # ended 29 days ago
    ({"limit": "once_per_reason", "cooldown_days": 30}, [60], None),  # ended 30 days ago: over
])
def test_limits_and_cooldown_hold_back_and_are_remembered(ws, csm, today, enrolment, past, held):
    account = AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=60))
    playbook = make_playbook(ws, {**RENEWAL, "enrolment": enrolment})
    for n, days in enumerate(past):
        # Each earlier run ended 30 days after it started: the cooldown counts from that end.
        _ended_run(ws, playbook, account, key=f"renewal:old-{n}", started=today - dt.timedelta(days=days),
                   ended=today - dt.timedelta(days=days - 30))
    preview = preview_playbook(workspace=ws, definition=playbook.versions.get().definition, playbook=playbook)
    evaluate_playbooks(workspace=ws, as_of=today)
    active = runs(ws).filter(status=RunStatus.ACTIVE)
    if held:
        assert not active.exists()
        hold = PlaybookHold.objects.for_workspace(ws).get()
        assert (hold.held_because, hold.reason_key, hold.first_on) == (held, f"renewal:{account.renewal_date}", today)
        assert preview["count"] == 0 and preview["held"][held] == 1
    else:
        assert active.get().account == account and not PlaybookHold.objects.for_workspace(ws).exists()
        assert preview["count"] == 1


def test_a_condition_holds_back_the_accounts_it_does_not_select(ws, csm, today):
    small = AccountFactory(workspace=ws, owner=csm, arr=Decimal("100"), renewal_date=today + dt.timedelta(days=5))
    big = AccountFactory(workspace=ws, owner=csm, arr=Decimal("9000000"), renewal_date=today + dt.timedelta(days=5))
    make_playbook(ws, {**RENEWAL, "condition": {"op": "and", "conditions": [
        {"field": "arr", "op": "gte", "value": 1000000}]}})
    evaluate_playbooks(workspace=ws, as_of=today)
    assert runs(ws).get().account == big
    hold = PlaybookHold.objects.for_workspace(ws).get()
    assert (hold.account, hold.held_because) == (small, "condition")


def test_one_run_per_occurrence_and_one_active_run(ws, csm, today):
    account = AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=5))
    playbook = make_playbook(ws, RENEWAL)
    evaluate_playbooks(workspace=ws, as_of=today)
    run = runs(ws).get()
    end_run(run=run, actor=SYSTEM, why="done early", open_tasks="cancel")
    # Same renewal date: the occurrence already had its run.
    evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=1))
    assert runs(ws).count() == 1
    # A new renewal date is a new occurrence.
    set_account(account, renewal_date=today + dt.timedelta(days=6))
    evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=1))
    assert runs(ws).filter(status=RunStatus.ACTIVE).get().reason_key == f"renewal:{today + dt.timedelta(days=6)}"
    # While that run is active another occurrence waits.
    set_account(account, renewal_date=today + dt.timedelta(days=7))
    preview = preview_playbook(workspace=ws, definition=playbook.versions.get().definition, playbook=playbook,
                               as_of=today + dt.timedelta(days=1))
    evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=1))
    assert runs(ws).count() == 2 and preview["held"]["active"] == 1 and preview["count"] == 0


def test_evaluating_twice_with_a_run_inserted_in_between_duplicates_nothing(ws, csm, today):
    """What a concurrent evaluation does to the other: its run is there first; the insert skips it."""
    account = AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=5))
    playbook = make_playbook(ws, RENEWAL)
    PlaybookRun.all_workspaces.create(workspace=ws, playbook=playbook, version=playbook.versions.get(),
                                      account=account, reason_key=f"renewal:{account.renewal_date}",
                                      started_on=today, why={"by": "other"})
    summary = evaluate_playbooks(workspace=ws, as_of=today)
    assert summary["enrolled"] == 0 and runs(ws).count() == 1
    assert Task.objects.for_workspace(ws).count() == 1  # the other's run still gets its step once


# --- steps -----------------------------------------------------------------------------------------


def test_steps_from_the_previous_completion_actions_once_and_completion(ws, csm, today):
    account = AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=5))
    make_playbook(ws, {"trigger": {"kind": "renewal_within"}, "steps": [
        {"kind": "task", "title": "First", "due_days": 3},
        {"kind": "add_tag", "tag": "renewal-watch"},
        {"kind": "set_field", "field": "attribute", "name": "renewal_flag", "value": "on"},
        {"kind": "webhook", "note": "tell the CRM"},
        {"kind": "task", "from": "previous", "day": 2, "title": "Second", "due_days": 1},
    ], "exit": {"when_trigger_clears": False}})
    evaluate_playbooks(workspace=ws, as_of=today)
    run = runs(ws).get()
    assert list(RunAction.objects.for_workspace(ws).values_list("step_index", flat=True)) == [1, 2, 3]
    account.refresh_from_db()
    assert list(account.tags.values_list("name", flat=True)) == ["renewal-watch"]
    assert account.attributes["renewal_flag"] == "on"
    # The webhook step (index 3) is done today; step 4 counts 2 days from it.
    evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=1))
    assert Task.objects.for_workspace(ws).count() == 1
    evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=2))
    second = Task.objects.for_workspace(ws).get(step_index=4)
    assert second.due_on == today + dt.timedelta(days=3)
    assert RunAction.objects.for_workspace(ws).count() == 3
    Task.objects.for_workspace(ws).update(status=TaskStatus.DONE, completed_on=today + dt.timedelta(days=2))
    assert advance_run(run, as_of=today + dt.timedelta(days=2))["completed"] == 1
    run.refresh_from_db()
    assert (run.status, run.ended_on) == (RunStatus.COMPLETED, today + dt.timedelta(days=2))


def test_a_step_from_the_previous_waits_for_its_task(ws, csm, today):
    AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=5))
    make_playbook(ws, {"trigger": {"kind": "renewal_within"}, "steps": [
        {"title": "First"}, {"from": "previous", "day": 0, "title": "Then"}],
        "exit": {"when_trigger_clears": False}})
    evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=0))
    evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=9))
    assert list(Task.objects.for_workspace(ws).values_list("title", flat=True)) == ["First"]
    first = Task.objects.for_workspace(ws).get()
    first.status, first.completed_on = TaskStatus.DONE, today + dt.timedelta(days=3)
    first.save()
    advance_run(first.run, as_of=today + dt.timedelta(days=3))
    then = Task.objects.for_workspace(ws).get(title="Then")
    assert then.due_on == today + dt.timedelta(days=3 + 7)


# --- assignees ----------------------------------------------------------------------------------------


def test_assignee_rules(ws, csm, csm2, manager, admin, today):
    owned = AccountFactory(workspace=ws, owner=csm, name="A Owned KK", renewal_date=today + dt.timedelta(days=5))
    AccountFactory(workspace=ws, owner=None, name="B Unowned KK", renewal_date=today + dt.timedelta(days=5))
    AccountFactory(workspace=ws, owner=csm, name="C Owned KK", renewal_date=today + dt.timedelta(days=5))
    # The manager already has an open task: the unowned account's owner-rule task goes to the admin.
    Task.all_workspaces.create(workspace=ws, account=owned, assignee=manager, title="busy", due_on=today)
    Task.all_workspaces.create(workspace=ws, account=owned, assignee=csm, title="busy", due_on=today)
    rules = {"owner": {"rule": "owner"}, "role": {"rule": "role", "role": "csm"},
             "robin": {"rule": "round_robin", "role": "csm"}, "fewest": {"rule": "fewest_open", "role": "csm"}}
    playbooks = {name: make_playbook(ws, {**RENEWAL, "steps": [{"title": name, "assignee": rule}]}, name=name)
                 for name, rule in rules.items()}
    evaluate_playbooks(workspace=ws, as_of=today)

    def given(name):
        return list(Task.objects.for_workspace(ws).filter(run__playbook=playbooks[name])
                    .order_by("account__name").values_list("assignee__user__username", flat=True))

    assert given("owner") == ["csm", "admin", "csm"]
    assert sorted(given("robin")) == ["csm", "csm2", "csm2"] or sorted(given("robin")) == ["csm", "csm", "csm2"]
    assert given("robin").count("csm2") >= 1 and given("robin").count("csm") >= 1
    # Fewest open: csm had one open task before the night; csm2 gets at least as many as csm.
    assert given("role").count("csm2") >= given("role").count("csm")
    assert set(given("fewest")) <= {"csm", "csm2"}


def test_an_inactive_owner_falls_back_to_a_manager(ws, csm, manager, today):
    AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=5))
    csm.is_active = False
    csm.save()
    make_playbook(ws, RENEWAL)
    evaluate_playbooks(workspace=ws, as_of=today)
    assert Task.objects.for_workspace(ws).get().assignee == manager


# --- versions --------------------------------------------------------------------------------------


def test_a_running_run_keeps_its_version(ws, csm, today):
    AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=5))
    playbook = make_playbook(ws, {"trigger": {"kind": "renewal_within"}, "steps": [
        {"title": "Old first"}, {"day": 3, "title": "Old second"}]})
    evaluate_playbooks(workspace=ws, as_of=today)
    new_version(playbook, {"trigger": {"kind": "renewal_within"}, "steps": [
        {"title": "New first"}, {"day": 3, "title": "New second"}]})
    evaluate_playbooks(workspace=ws, as_of=today + dt.timedelta(days=3))
    run = runs(ws).get()
    assert run.version.number == 1
    assert list(Task.objects.for_workspace(ws).order_by("step_index").values_list("title", flat=True)) == [
        "Old first", "Old second"]


# --- manual enrolment, ending by hand ----------------------------------------------------------------


def test_manual_enrolment_follows_the_policy_and_the_limits(ws, csm, csm2, viewer, today):
    mine = AccountFactory(workspace=ws, owner=csm, name="Mine KK")
    theirs = AccountFactory(workspace=ws, owner=csm2, name="Theirs KK")
    playbook = make_playbook(ws, {"trigger": {"kind": "manual"}, "steps": [{"title": "Kick-off with {account}"}]})
    result = enrol_accounts(playbook=playbook, accounts=[mine, theirs], actor=csm)
    run = runs(ws).get()
    assert result["enrolled"] == [run.pk] and run.account == mine and run.reason_key == f"manual:{today}"
    assert run.started_by == csm and run.why == {"trigger": "manual", "values": {}, "by": csm.pk,
                                                 "batch": run.why["batch"]}
    assert [s["account"] for s in result["skipped"]] == [theirs.pk]
    assert Task.objects.for_workspace(ws).get().title == "Kick-off with Mine KK"
    again = enrol_accounts(playbook=playbook, accounts=[mine], actor=csm)
    assert again["enrolled"] == [] and again["skipped"][0]["account"] == mine.pk
    with pytest.raises(NotAllowed):
        enrol_accounts(playbook=playbook, accounts=[mine], actor=viewer)
    # The night never enrols a manual playbook, but advances its runs.
    assert evaluate_playbooks(workspace=ws, as_of=today)["enrolled"] == 0


def test_end_run_by_hand_keeps_or_cancels_tasks(ws, csm, csm2, today):
    account = AccountFactory(workspace=ws, owner=csm)
    playbook = make_playbook(ws, {"trigger": {"kind": "manual"}, "steps": [{"title": "Call"}]})
    run = PlaybookRun.all_workspaces.get(pk=enrol_accounts(playbook=playbook, accounts=[account], actor=csm)["enrolled"][0])
    with pytest.raises(NotAllowed):
        end_run(run=run, actor=csm2, why="not mine")
    with pytest.raises(DomainError):
        end_run(run=run, actor=csm, why="x", open_tasks="delete")
    end_run(run=run, actor=csm, why="Customer asked to pause", open_tasks="keep")
    run.refresh_from_db()
    assert (run.status, run.ended_why) == (RunStatus.CANCELLED, "Customer asked to pause")
    assert Task.objects.for_workspace(ws).get().status == TaskStatus.OPEN
    with pytest.raises(DomainError):
        end_run(run=run, actor=csm, why="again")


# --- events enrol at once ----------------------------------------------------------------------------


def test_event_triggers_enrol_in_the_writing_transaction(ws, csm, manager, today):
    OnboardingSettings.objects.for_workspace(ws).update(handoff_gates_stage=False)  # not the handoff gate's test
    new = make_playbook(ws, {"trigger": {"kind": "new_account"}, "steps": [{"title": "Welcome {account}"}]},
                        name="New")
    left = make_playbook(ws, {"trigger": {"kind": "key_contact_left"}, "steps": [{"title": "Who now?"}]},
                         name="Left")
    stage = LifecycleStage.objects.for_workspace(ws).order_by("position")[0]
    stuck = make_playbook(ws, {"trigger": {"kind": "stage_time", "stage": stage.pk, "days": 1},
                               "steps": [{"title": "Unstick"}]}, name="Stuck")
    account = create_account(workspace=ws, actor=manager, name="Fresh KK", owner=csm, stage=stage)
    assert runs(ws, new).get().account == account
    assert Task.objects.for_workspace(ws).get(run__playbook=new).title == "Welcome Fresh KK"

    contact = save_contact(workspace=ws, actor=manager, account=account, name="Hana", role=ContactRole.CHAMPION)
    save_contact(workspace=ws, actor=manager, contact=contact, account=account, left_on=today)
    assert runs(ws, left).get().reason_key == f"contact_left:{contact.pk}"

    set_account(account, stage_entered_at=ws.day_start(today - dt.timedelta(days=5)))
    evaluate_playbooks(workspace=ws, as_of=today)
    run = runs(ws, stuck).get()
    update_account(account=Account.all_workspaces.get(pk=account.pk), actor=manager,
                   stage=LifecycleStage.objects.for_workspace(ws).order_by("position")[1])
    run.refresh_from_db()
    assert run.status == RunStatus.EXITED  # the stage move ended it at once


# --- preview, tenancy ---------------------------------------------------------------------------------


def test_preview_counts_and_samples_without_writing(ws, csm, today):
    for n in range(3):
        AccountFactory(workspace=ws, owner=csm, name=f"Renewing {n} KK", arr=Decimal(1000 * (n + 1)),
                       renewal_date=today + dt.timedelta(days=10 + n))
    AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=300))
    definition = validate_definition({**RENEWAL, "condition": {"op": "and", "conditions": [
        {"field": "arr", "op": "gte", "value": 2000}]}})
    preview = preview_playbook(workspace=ws, definition=definition, sample=1)
    assert (preview["count"], preview["matching"], preview["held"]) == (
        2, 3, {"limit": 0, "cooldown": 0, "condition": 1, "active": 0})
    assert len(preview["sample"]) == 1 and preview["sample"][0]["why"].startswith("Renews on ")
    assert not PlaybookRun.objects.for_workspace(ws).exists() and not PlaybookHold.objects.for_workspace(ws).exists()
    with pytest.raises(DomainError):
        preview_playbook(workspace=ws, definition={**definition, "condition": {"op": "and", "conditions": [
            {"field": "no_such_field", "op": "eq", "value": 1}]}})


def test_evaluation_of_one_workspace_never_touches_another(ws, other_ws, csm, outsider, today):
    AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=5))
    theirs = AccountFactory(workspace=other_ws, owner=outsider, renewal_date=today + dt.timedelta(days=5))
    set_account(theirs, health_band=HealthBand.RED)
    make_playbook(ws, RENEWAL)
    make_playbook(ws, {"trigger": {"kind": "health_red"}, "steps": [{"title": "Red"}]}, name="Red")
    summary = evaluate_playbooks(workspace=ws, as_of=today)
    assert summary["matched"] == 1
    assert not PlaybookRun.objects.for_workspace(other_ws).exists()
    assert not Task.objects.for_workspace(other_ws).exists()
    assert not PlaybookHold.objects.for_workspace(other_ws).exists()
    assert preview_playbook(workspace=ws, definition=validate_definition(RENEWAL))["matching"] == 1
    # The other workspace's own night, with no playbook enabled (its library switched off), writes
    # nothing either.
    Playbook.all_workspaces.filter(workspace=other_ws).update(enabled=False)
    assert evaluate_playbooks(workspace=other_ws, as_of=today)["enrolled"] == 0
    run = PlaybookRun.objects.for_workspace(ws).first()
    with pytest.raises(NotAllowed):
        enrol_accounts(playbook=run.playbook, accounts=[theirs], actor=outsider)
    with pytest.raises(NotAllowed):
        end_run(run=run, actor=outsider, why="not ours")
    assert PlaybookRun.objects.for_workspace(ws).get(pk=run.pk).status == RunStatus.ACTIVE


def test_a_condition_that_no_longer_compiles_holds_everyone_and_the_night_goes_on(ws, csm, today):
    AccountFactory(workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=5))
    make_playbook(ws, {**RENEWAL, "condition": {"op": "and", "conditions": [
        {"field": "stage", "op": "in", "value": [2 ** 62]}]}})
    make_playbook(ws, RENEWAL, name="Plain renewals")
    summary = evaluate_playbooks(workspace=ws, as_of=today)
    assert summary["enrolled"] == 1 and summary["held"] == 1
    assert PlaybookHold.objects.for_workspace(ws).get().held_because == "condition"


def test_the_red_streak_and_the_health_reason_come_from_the_snapshots(ws, csm, today):
    from healthscore.models import HealthSnapshot
    from healthscore.selectors import default_scorecard, latest_version

    account = AccountFactory(workspace=ws, owner=csm)
    set_account(account, health_band=HealthBand.RED, health_score=30.0)
    version = latest_version(default_scorecard(workspace=ws))
    groups = {"usage": {"score": 10.0, "weight": 50, "weight_used": 0.5},
              "relationship": {"score": 50.0, "weight": 30, "weight_used": 0.3}}
    for back, band in ((4, "red"), (3, "yellow"), (2, "red"), (1, "red"), (0, "red")):
        HealthSnapshot.all_workspaces.create(workspace=ws, account=account, day=today - dt.timedelta(days=back),
                                             version=version, total=30.0, band=band, groups=groups)
    make_playbook(ws, {"trigger": {"kind": "health_red"},
                       "steps": [{"title": "Save {account}", "description": "Weakest: {health_reason}."}]})
    evaluate_playbooks(workspace=ws, as_of=today)
    assert runs(ws).get().reason_key == f"red:{today - dt.timedelta(days=2)}"
    assert Task.objects.for_workspace(ws).get().description == "Weakest: Usage."


def test_why_reads_as_a_sentence():
    from playbooks.triggers import describe_why

    assert describe_why({"trigger": "renewal_within", "values": {"renewal_date": "2027-03-31", "days_left": 120}}) == (
        "Renews on 2027-03-31, in 120 days.")
    assert describe_why({"trigger": "health_red", "values": {"since": "2026-11-02", "score": None}}) == (
        "Health red since 2026-11-02 (score —).")
    assert describe_why({"trigger": "renewal_within", "values": {}}) == "Renewal within N days"
    assert describe_why({}) == ""


def test_the_health_reason_is_the_same_read_for_few_or_many_accounts_and_from_an_older_snapshot(ws, csm, today,
                                                                                              monkeypatch):
    from healthscore import selectors
    from healthscore.models import HealthSnapshot
    from healthscore.selectors import default_scorecard, latest_version, weakest_groups

    version = latest_version(default_scorecard(workspace=ws))
    usage_weakest = {"usage": {"score": 10.0, "weight": 50, "weight_used": 0.5},
                     "relationship": {"score": 50.0, "weight": 30, "weight_used": 0.3}}
    relationship_weakest = {"usage": {"score": 90.0, "weight": 50, "weight_used": 0.5},
                            "relationship": {"score": 0.0, "weight": 30, "weight_used": 0.3}}
    nothing_lost = {"usage": {"score": 100.0, "weight": 50, "weight_used": 0.5}}
    today_usage, older_relationship, perfect, unscored, other_day_only = (
        AccountFactory(workspace=ws, owner=csm) for _ in range(5))
    for account, day, groups in ((today_usage, today, usage_weakest),
                                 (today_usage, today - dt.timedelta(days=1), relationship_weakest),
                                 (older_relationship, today - dt.timedelta(days=3), relationship_weakest),
                                 (older_relationship, today - dt.timedelta(days=9), usage_weakest),
                                 (perfect, today, nothing_lost),
                                 (other_day_only, today + dt.timedelta(days=1), usage_weakest)):
        HealthSnapshot.all_workspaces.create(workspace=ws, account=account, day=day, version=version, total=50.0,
                                             band="yellow", groups=groups)
    ids = [a.pk for a in (today_usage, older_relationship, perfect, unscored, other_day_only)]
    expected = {today_usage.pk: "Usage", older_relationship.pk: "Relationship"}
    assert weakest_groups(workspace=ws, account_ids=ids, on_or_before=today) == expected
    monkeypatch.setattr(selectors, "MANY_ACCOUNTS", 2)  # the whole-day read of a large night
    assert weakest_groups(workspace=ws, account_ids=ids, on_or_before=today) == expected
    assert weakest_groups(workspace=ws, account_ids=ids[:1], on_or_before=today - dt.timedelta(days=1)) == {
        today_usage.pk: "Relationship"}
