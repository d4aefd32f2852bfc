"""The plan's gap as a health measure (read as of a past day from the plan's history) and as a playbook
trigger (matches, reason key naming the plan, validation, describe sentence)."""

import datetime as dt

import pytest

from healthscore.definition import validate_definition
from healthscore.scoring import compute_scores
from playbooks.definition import validate_definition as validate_playbook
from playbooks.describe import describe_trigger
from playbooks.triggers import describe_why, trigger_matches
from success import services
from success.models import PlanEvent
from success.selectors import gaps_as_of
from tests.factories import AccountFactory
from workspaces.errors import DomainError


def _date_events(ws, plan, since_id, day):
    PlanEvent.objects.for_workspace(ws).filter(plan=plan, pk__gt=since_id).update(
        occurred_at=ws.day_start(day) + dt.timedelta(hours=10))
    return PlanEvent.objects.for_workspace(ws).order_by("-pk").values_list("pk", flat=True).first()


@pytest.fixture
def story(ws, csm, account):
    """Day -10: plan with objectives 3/1 and 4/2 (gap 2 + 2 = 4). Day -3: achievement 3 on the first
    (gap 0 + 2 = 2). Today: the second reaches 4 (gap 0)."""
    today = ws.today()
    plan = services.create_plan(workspace=ws, actor=csm, account=account)
    first = services.save_objective(plan=plan, actor=csm, text="One", objective_level=3, achievement_level=1)
    second = services.save_objective(plan=plan, actor=csm, text="Two", objective_level=4, achievement_level=2)
    mark = _date_events(ws, plan, 0, today - dt.timedelta(days=10))
    services.save_objective(plan=plan, actor=csm, objective=first, achievement_level=3)
    mark = _date_events(ws, plan, mark, today - dt.timedelta(days=3))
    services.save_objective(plan=plan, actor=csm, objective=second, achievement_level=4)
    return {"today": today, "plan": plan}


def test_gap_as_of_reads_history_not_todays_objectives(ws, account, story):
    today = story["today"]
    assert gaps_as_of(workspace=ws, day=today - dt.timedelta(days=11)) == {}  # no plan yet: not available
    assert gaps_as_of(workspace=ws, day=today - dt.timedelta(days=10)) == {account.pk: 4}
    assert gaps_as_of(workspace=ws, day=today - dt.timedelta(days=4)) == {account.pk: 4}
    assert gaps_as_of(workspace=ws, day=today - dt.timedelta(days=3)) == {account.pk: 2}
    assert gaps_as_of(workspace=ws, day=today) == {account.pk: 0}


def test_plan_without_objectives_is_not_available(ws, csm):
    other = AccountFactory(workspace=ws, owner=csm)
    services.create_plan(workspace=ws, actor=csm, account=other)
    assert other.pk not in gaps_as_of(workspace=ws, day=ws.today())


def gap_definition():
    return validate_definition({"bands": {"red": 40, "green": 70}, "min_available_weight": 0.1, "groups": [
        {"key": "relationship", "label": "Relationship", "weight": 100, "measures": [
            {"key": "plan_gap", "kind": "success_plan_gap", "weight": 1,
             "rule": {"type": "linear", "low": 4, "high": 0}}]}]})


def test_health_measure_as_of_a_past_day_is_not_changed_by_a_later_edit(ws, account, story):
    today = story["today"]
    past = today - dt.timedelta(days=5)
    frame, _ = compute_scores(workspace=ws, as_of=past, definition=gap_definition())
    assert frame.loc[account.pk, "v:plan_gap"] == 4
    assert frame.loc[account.pk, "p:plan_gap"] == 0  # 4 levels short: 0 points
    frame, _ = compute_scores(workspace=ws, as_of=today - dt.timedelta(days=3), definition=gap_definition())
    assert frame.loc[account.pk, "v:plan_gap"] == 2
    assert frame.loc[account.pk, "p:plan_gap"] == 50  # linear 4 → 0, 0 → 100: 2 is half way
    frame, _ = compute_scores(workspace=ws, as_of=today, definition=gap_definition())
    assert frame.loc[account.pk, "v:plan_gap"] == 0
    # A later edit does not change the past day's value.
    frame, _ = compute_scores(workspace=ws, as_of=past, definition=gap_definition())
    assert frame.loc[account.pk, "v:plan_gap"] == 4


def test_health_measure_not_available_without_a_plan(ws, account, story):
    import math

    frame, _ = compute_scores(workspace=ws, as_of=story["today"] - dt.timedelta(days=20), definition=gap_definition())
    assert math.isnan(frame.loc[account.pk, "v:plan_gap"])


def test_trigger_matches_accounts_at_or_above_min_gap(ws, account, story):
    today = story["today"]
    past = today - dt.timedelta(days=5)
    matches = trigger_matches(workspace=ws, trigger={"kind": "plan_gap", "min_gap": 3}, as_of=past)
    plan = story["plan"]
    assert matches[account.pk].reason_key == f"plan_gap:{plan.pk}:{past.isoformat()}"
    assert matches[account.pk].values["gap"] == 4
    assert trigger_matches(workspace=ws, trigger={"kind": "plan_gap", "min_gap": 3},
                           as_of=today - dt.timedelta(days=3)) == {}
    assert account.pk in trigger_matches(workspace=ws, trigger={"kind": "plan_gap", "min_gap": 2},
                                         as_of=today - dt.timedelta(days=3))
    assert trigger_matches(workspace=ws, trigger={"kind": "plan_gap"}, as_of=today) == {}
    sentence = describe_why({"trigger": "plan_gap", "values": matches[account.pk].values})
    assert "4 levels short" in sentence


def test_trigger_definition_validation_and_description():
    base = {"condition": None, "enrolment": {"limit": "once_per_reason"},
            "steps": [{"kind": "add_tag", "day": 0, "tag": "plan-gap"}],
            "exit": {"when_trigger_clears": True, "open_tasks": "cancel"}}
    clean = validate_playbook({**base, "trigger": {"kind": "plan_gap", "min_gap": 2}})
    assert clean["trigger"] == {"kind": "plan_gap", "min_gap": 2}
    with pytest.raises(DomainError):
        validate_playbook({**base, "trigger": {"kind": "plan_gap", "min_gap": 0}})
    with pytest.raises(DomainError):
        validate_playbook({**base, "trigger": {"kind": "plan_gap", "min_gap": "two"}})
    assert "2 or more levels short" in describe_trigger({"kind": "plan_gap", "min_gap": 2})


def test_tenancy_of_gaps(ws, account, story, other_ws, outsider, other_account):
    assert gaps_as_of(workspace=other_ws, day=story["today"]) == {}
    assert trigger_matches(workspace=other_ws, trigger={"kind": "plan_gap", "min_gap": 1},
                           as_of=story["today"] - dt.timedelta(days=5)) == {}
