"""Survey answers in the health score (the latest NPS answer, as of a day) and the NPS detractor trigger."""

import datetime as dt

import pytest

from healthscore.definition import validate_definition
from healthscore.scoring import compute_scores
from healthscore.selectors import measure_sentence
from playbooks.triggers import trigger_matches
from workspaces.errors import DomainError

from .factories import AccountFactory, ContactFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 30)


def nps_card(within_days=None):
    params = {} if within_days is None else {"within_days": within_days}
    return validate_definition({"min_available_weight": 0.1, "groups": [
        {"key": "voice", "weight": 100, "measures": [
            {"key": "nps", "kind": "latest_nps", "weight": 1, "params": params,
             "rule": {"type": "linear", "low": 0, "high": 10}}]}]})


def test_latest_nps_measure_as_of_the_day_by_hand(ws):
    answered, stale, silent = (AccountFactory(workspace=ws, contract_start=DAY - dt.timedelta(days=400))
                               for _ in range(3))
    a, b = ContactFactory(account=answered), ContactFactory(account=stale)
    SurveyResponseFactory(contact=a, score=4, responded_on=DAY - dt.timedelta(days=20))
    SurveyResponseFactory(contact=a, score=8, responded_on=DAY - dt.timedelta(days=2))
    SurveyResponseFactory(contact=a, score=0, responded_on=DAY + dt.timedelta(days=1))  # after the day: unseen
    SurveyResponseFactory(contact=b, score=10, responded_on=DAY - dt.timedelta(days=200))
    SurveyResponseFactory(contact=b, kind="csat", score=5, responded_on=DAY)  # CSAT is not NPS
    frame, _signals = compute_scores(workspace=ws, as_of=DAY, definition=nps_card())
    # Latest on or before the day: 8 → 8/10 of the line = 80 points. 200 days old > 180: not available.
    assert frame.loc[answered.pk, "v:nps"] == 8 and frame.loc[answered.pk, "p:nps"] == 80
    assert frame.loc[answered.pk, "total"] == 80
    assert frame.loc[stale.pk, "p:nps"] != frame.loc[stale.pk, "p:nps"]  # NaN
    assert frame.loc[silent.pk, "total"] != frame.loc[silent.pk, "total"]  # not enough data
    # A window of 201 days sees the 10: 100 points. As of 21 days earlier (answer of 4 only, 1 day old): 40.
    wide, _ = compute_scores(workspace=ws, as_of=DAY, definition=nps_card(within_days=201))
    assert wide.loc[stale.pk, "p:nps"] == 100
    earlier, _ = compute_scores(workspace=ws, as_of=DAY - dt.timedelta(days=19), definition=nps_card())
    assert earlier.loc[answered.pk, "p:nps"] == 40 and earlier.loc[answered.pk, "x:latest_nps_age"] == 1
    # A window of one day is the day itself: an answer given that day counts.
    edge, _ = compute_scores(workspace=ws, as_of=DAY - dt.timedelta(days=20), definition=nps_card(within_days=1))
    assert edge.loc[answered.pk, "p:nps"] == 40


def test_measure_validation_and_sentence():
    with pytest.raises(DomainError) as exc:
        nps_card(within_days=0)
    assert exc.value.field == "groups[0].measures[0].params.within_days"
    entry = {"kind": "latest_nps", "value": 9.0, "detail": {"days_ago": 12.0}}
    assert measure_sentence("nps", entry, "NPS") == "Latest NPS answer 9, 12 days ago"


def test_detractor_trigger_from_survey_answers_score_6_vs_7(ws):
    six, seven, old, churned = (AccountFactory(workspace=ws) for _ in range(4))
    churned.status, churned.churned_on = "churned", DAY
    churned.save()
    r6 = SurveyResponseFactory(contact=ContactFactory(account=six), score=6, responded_on=DAY - dt.timedelta(days=3))
    SurveyResponseFactory(contact=ContactFactory(account=seven), score=7, responded_on=DAY)
    SurveyResponseFactory(contact=ContactFactory(account=old), score=2, responded_on=DAY - dt.timedelta(days=30))
    SurveyResponseFactory(contact=ContactFactory(account=churned), score=0, responded_on=DAY)
    SurveyResponseFactory(contact=ContactFactory(account=seven), score=1, responded_on=DAY + dt.timedelta(days=1))
    trigger = {"kind": "nps_detractor", "source": "responses", "max": 6, "within_days": 30}
    matches = trigger_matches(workspace=ws, trigger=trigger, as_of=DAY)
    # 6 is a detractor, 7 is not; 30 days before the day is outside a 30-day window; a churned account
    # never matches; an answer after the day is not seen yet.
    assert set(matches) == {six.pk}
    assert matches[six.pk].reason_key == f"nps_response:{r6.pk}"
    assert matches[six.pk].values["score"] == 6
    wider = trigger_matches(workspace=ws, trigger={**trigger, "within_days": 31}, as_of=DAY)
    assert set(wider) == {six.pk, old.pk}
    # A second detractor answer is a new occurrence: its own reason key.
    r6b = SurveyResponseFactory(contact=ContactFactory(account=six), score=3, responded_on=DAY)
    assert trigger_matches(workspace=ws, trigger=trigger, as_of=DAY)[six.pk].reason_key == f"nps_response:{r6b.pk}"


def test_a_detractor_answer_enrols_once_and_the_run_is_not_ended_by_the_window(ws, csm):
    from playbooks.engine import evaluate_playbooks
    from playbooks.models import PlaybookRun

    from .playbook_engine_helpers import make_playbook

    account = AccountFactory(workspace=ws, owner=csm)
    contact = ContactFactory(account=account)
    answer = SurveyResponseFactory(contact=contact, score=5, responded_on=DAY)
    playbook = make_playbook(ws, {"trigger": {"kind": "nps_detractor", "within_days": 7},
                                  "steps": [{"title": "Call {account} back", "due_days": 30}]}, name="Detractor")
    assert playbook.versions.get().definition["exit"]["when_trigger_clears"] is False
    for day in (DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=10)):
        evaluate_playbooks(workspace=ws, as_of=day)
    run = PlaybookRun.objects.for_workspace(ws).get()
    assert run.reason_key == f"nps_response:{answer.pk}" and run.status == "active"  # window passed: still going
