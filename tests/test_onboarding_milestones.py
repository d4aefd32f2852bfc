"""Milestone lateness, tier overrides, TTV and the report by hand (Asia/Tokyo days, done times near
midnight), and the playbook triggers: a milestone late (boundary: the target day itself is not
late) and the handoff received (enrols at once)."""

import datetime as dt

import pytest
from django.utils import translation
from django.utils.translation import pgettext

from accounts.models import TouchTier
from onboarding import selectors, services
from onboarding.models import AccountMilestone, MilestoneTemplate
from playbooks.models import PlaybookRun
from playbooks.triggers import describe_why, trigger_matches
from tests.factories import AccountFactory, ContactFactory
from tests.playbook_engine_helpers import make_playbook
from workspaces.errors import DomainError

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def today(ws):
    return ws.today()


def ago(today, days):
    return today - dt.timedelta(days=days)


def test_default_plan_in_the_workspace_language(ws, other_ws):
    rows = list(MilestoneTemplate.objects.for_workspace(ws).values_list("key", "name", "target_day"))
    assert rows == [("kickoff", "Kickoff", 7), ("hearing_sheet", "Hearing sheet", 14),
                    ("operational_design", "Operational design", 30), ("first_success", "First success", 60),
                    ("report_card", "Report card", 90)]
    from cs_platform.provisioning import create_workspace

    japanese = create_workspace(name="日本", slug="nihon", language="ja")
    names = list(MilestoneTemplate.objects.for_workspace(japanese).values_list("name", flat=True))
    with translation.override("ja"):  # the workspace's language names them (its catalogue: キックオフ…)
        assert names == [pgettext("onboarding milestone", n) for n in (
            "Kickoff", "Hearing sheet", "Operational design", "First success", "Report card")]
    assert selectors.settings_of(japanese).handoff_gates_stage is True


def test_late_is_past_the_target_day_and_not_done(ws, csm, today):
    boundary = AccountFactory(workspace=ws, owner=csm, contract_start=ago(today, 7))  # kickoff due today
    late = AccountFactory(workspace=ws, owner=csm, contract_start=ago(today, 8))  # kickoff due yesterday
    found = selectors.late_milestones(workspace=ws, as_of=today)
    assert boundary.pk not in found
    assert [(m["key"], m["target_on"], m["days_late"]) for m in found[late.pk]] == [
        ("kickoff", ago(today, 1), 1)]
    # Done on its target day (or any day up to as_of): not late. A day after as_of is not done yet.
    services.record_milestone(workspace=ws, actor=csm, account=late, key="kickoff", done_on=ago(today, 1))
    assert late.pk not in selectors.late_milestones(workspace=ws, as_of=today)
    assert selectors.late_milestones(workspace=ws, as_of=ago(today, 1)) == {}  # due that day: not late yet
    # Done today: as of today not late; as of yesterday (its target day) not late either.
    services.record_milestone(workspace=ws, actor=csm, account=late, key="kickoff", done_on=today)
    assert selectors.late_milestones(workspace=ws, as_of=today) == {}
    old = AccountFactory(workspace=ws, owner=csm, contract_start=ago(today, 400))
    assert old.pk not in selectors.late_milestones(workspace=ws, as_of=today)  # beyond the first year


def test_a_tier_row_overrides_the_target_day_for_that_tier(ws, manager, csm, today):
    services.save_template(workspace=ws, actor=manager, key="kickoff", name="Kickoff (high touch)", target_day=3,
                           tier=TouchTier.HIGH, position=1)
    high = AccountFactory(workspace=ws, owner=csm, contract_start=ago(today, 4), touch_tier=TouchTier.HIGH)
    low = AccountFactory(workspace=ws, owner=csm, contract_start=ago(today, 4), touch_tier=TouchTier.LOW)
    found = selectors.late_milestones(workspace=ws, as_of=today)
    assert [m["name"] for m in found[high.pk]] == ["Kickoff (high touch)"]
    assert low.pk not in found
    plan = selectors.account_milestones(workspace=ws, account=high, as_of=today)
    assert [(m["key"], m["target_on"]) for m in plan][:2] == [("kickoff", ago(today, 1)),
                                                              ("hearing_sheet", ago(today, -10))]
    with pytest.raises(DomainError) as exc:
        services.save_template(workspace=ws, actor=manager, key="kickoff", name="Again", target_day=5,
                               tier=TouchTier.HIGH)
    assert exc.value.field == "key"


def test_done_days_cannot_be_in_the_future_nor_of_unknown_milestones(ws, csm, account, today):
    with pytest.raises(DomainError) as exc:
        services.record_milestone(workspace=ws, actor=csm, account=account, key="kickoff",
                                  done_on=today + dt.timedelta(days=1))
    assert exc.value.field == "done_on"
    with pytest.raises(DomainError) as exc:
        services.record_milestone(workspace=ws, actor=csm, account=account, key="nope", done_on=today)
    assert exc.value.field == "milestone"


def _report_book(ws, csm, api_for, manager):
    """The book of the report test; done days pushed through the API with times near midnight."""
    a = AccountFactory(workspace=ws, owner=csm, name="A", contract_start=D(2026, 4, 1), touch_tier=TouchTier.HIGH)
    b = AccountFactory(workspace=ws, owner=csm, name="B", contract_start=D(2026, 4, 10), touch_tier=TouchTier.LOW)
    c = AccountFactory(workspace=ws, owner=csm, name="C", contract_start=D(2026, 4, 20), touch_tier="")
    d = AccountFactory(workspace=ws, owner=csm, name="D", contract_start=D(2026, 5, 15), touch_tier=TouchTier.HIGH)
    e = AccountFactory(workspace=ws, owner=csm, name="E", contract_start=D(2026, 3, 31), touch_tier=TouchTier.HIGH)
    rows = [
        {"account": a.pk, "milestone": "kickoff", "done_on": "2026-04-05"},
        {"account": a.pk, "milestone": "hearing_sheet", "done_on": "2026-04-10"},
        {"account": a.pk, "milestone": "operational_design", "done_on": "2026-04-20"},
        # 15:30 UTC on 30 April is 00:30 on 1 May in Tokyo: the first success is 1 May (30 days).
        {"account": a.pk, "milestone": "first_success", "done_at": "2026-04-30T15:30:00Z"},
        {"account": a.pk, "milestone": "report_card", "done_on": "2026-06-01"},
        {"account": b.pk, "milestone": "first_success", "done_on": "2026-06-19"},  # 70 days
        {"account": c.pk, "milestone": "first_success", "done_on": "2026-07-20"},  # after as_of: not yet
        # 14:59 UTC on 4 June is 23:59 on 4 June in Tokyo: 20 days.
        {"account": d.pk, "milestone": "first_success", "done_at": "2026-06-04T14:59:00Z"},
        {"account": e.pk, "milestone": "first_success", "done_on": "2026-04-10"},  # March cohort: outside
    ]
    response = api_for(manager).post("/api/v1/onboarding/milestones/", {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    return a, b, c, d, e


def test_ttv_and_on_time_share_by_hand(ws, csm, manager, api_for):
    a, _b, _c, d, _e = _report_book(ws, csm, api_for, manager)
    assert AccountMilestone.objects.for_workspace(ws).get(account=a, key="first_success").done_on == D(2026, 5, 1)
    assert AccountMilestone.objects.for_workspace(ws).get(account=d, key="first_success").done_on == D(2026, 6, 4)
    report = selectors.onboarding_report(workspace=ws, as_of=D(2026, 7, 15), months=4)
    cohorts = {row["month"]: row for row in report["cohorts"]}
    assert list(cohorts) == [D(2026, 4, 1), D(2026, 5, 1), D(2026, 6, 1), D(2026, 7, 1)]
    april = cohorts[D(2026, 4, 1)]
    # A (30) and B (70) reached; C's first success came after as_of. Due: A and B (last targets 30 June
    # and 9 July, before 15 July), C not (19 July). On time: A only.
    assert (april["accounts"], april["reached"], april["median"], april["mean"]) == (3, 2, 50.0, 50.0)
    assert (april["due"], april["on_time"], april["on_time_share"]) == (2, 1, 50.0)
    may = cohorts[D(2026, 5, 1)]
    assert (may["accounts"], may["reached"], may["median"], may["due"], may["on_time_share"]) == (1, 1, 20.0, 0, None)
    assert cohorts[D(2026, 6, 1)]["accounts"] == 0 and cohorts[D(2026, 6, 1)]["median"] is None
    tiers = {row["tier"]: row for row in report["tiers"]}
    assert (tiers["high"]["accounts"], tiers["high"]["median"], tiers["high"]["mean"]) == (2, 25.0, 25.0)
    assert (tiers["high"]["due"], tiers["high"]["on_time_share"]) == (1, 100.0)
    assert (tiers["low"]["median"], tiers["low"]["on_time_share"]) == (70.0, 0.0)
    assert (tiers[""]["reached"], tiers[""]["median"]) == (0, None)
    # A year on, C's first success (20 July) counts: April's TTVs 30, 70, 91 → median 70, mean 63.7.
    later = selectors.onboarding_report(workspace=ws, as_of=D(2026, 8, 31), months=5)
    april = later["cohorts"][0]
    assert (april["reached"], april["median"], april["mean"]) == (3, 70.0, 63.7)


def test_late_milestones_per_csm_by_hand(ws, csm, csm2, today):
    AccountFactory(workspace=ws, owner=csm, contract_start=ago(today, 20))  # kickoff and hearing sheet late
    AccountFactory(workspace=ws, owner=csm, contract_start=ago(today, 7))  # nothing late (due today)
    AccountFactory(workspace=ws, owner=csm2, contract_start=ago(today, 8))  # kickoff late
    AccountFactory(workspace=ws, owner=csm2, contract_start=ago(today, 400))  # beyond the first year
    rows = {r["owner_id"]: r for r in selectors.late_by_csm(workspace=ws, as_of=today)}
    assert (rows[csm.pk]["accounts"], rows[csm.pk]["late_milestones"], rows[csm.pk]["late_accounts"]) == (2, 2, 1)
    assert (rows[csm2.pk]["accounts"], rows[csm2.pk]["late_milestones"], rows[csm2.pk]["late_accounts"]) == (1, 1, 1)


def test_the_late_trigger_matches_from_the_day_after_the_target(ws, csm, today):
    boundary = AccountFactory(workspace=ws, owner=csm, contract_start=ago(today, 7))
    late = AccountFactory(workspace=ws, owner=csm, contract_start=ago(today, 8))
    matches = trigger_matches(workspace=ws, trigger={"kind": "onboarding_late", "milestone": None, "days": 1},
                              as_of=today)
    assert set(matches) == {late.pk}
    assert matches[late.pk].reason_key == f"onboarding:kickoff:{ago(today, 1)}"
    why = {"trigger": "onboarding_late", "values": matches[late.pk].values}
    assert describe_why(why) == f"Onboarding milestone “Kickoff” not done 1 days after its target day ({ago(today, 1)})."
    # days: late by at least that many days; a named milestone only.
    assert trigger_matches(workspace=ws, trigger={"kind": "onboarding_late", "milestone": None, "days": 2},
                           as_of=today) == {}
    assert trigger_matches(workspace=ws, trigger={"kind": "onboarding_late", "milestone": "first_success",
                                                  "days": 1}, as_of=today) == {}
    assert set(trigger_matches(workspace=ws, trigger={"kind": "onboarding_late", "milestone": "kickoff", "days": 1},
                               as_of=ago(today, -1))) == {boundary.pk, late.pk}


def test_a_completed_handoff_enrols_the_handoff_received_playbook_at_once(ws, manager, csm, today):
    account = AccountFactory(workspace=ws, owner=csm)
    playbook = make_playbook(ws, {"trigger": {"kind": "new_account", "on": "handoff"},
                                  "steps": [{"title": "Kickoff with {account}"}]}, name="Handoff received")
    services.save_handoff(workspace=ws, actor=csm, account=account, why_bought="Reporting")
    assert not PlaybookRun.objects.for_workspace(ws).filter(playbook=playbook).exists()  # incomplete
    contact = ContactFactory(workspace=ws, account=account)
    services.save_handoff(workspace=ws, actor=csm, account=account, objectives="Close faster",
                          decision_maker=contact)
    run = PlaybookRun.objects.for_workspace(ws).get(playbook=playbook)
    assert run.account == account and run.reason_key == f"handoff:{today}"
    assert describe_why(run.why) == f"Sales handoff received on {today}."
    # A new account created without a handoff does not match the handoff option.
    other = AccountFactory(workspace=ws, owner=csm)
    matches = trigger_matches(workspace=ws, trigger={"kind": "new_account", "on": "handoff", "within_days": 14},
                              as_of=today)
    assert set(matches) == {account.pk} and other.pk not in matches
