"""Alerts: entering red and drops, dedup of open alerts, the weekly per-CSM budget, outcomes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.services import update_account
from healthscore.models import HealthAlert, HealthSettings, week_of
from healthscore.nightly import step as nightly_health
from healthscore.selectors import alert_precision, default_scorecard, my_alerts
from healthscore.services import rate_sentiment, record_alert_outcome, save_scorecard
from tests.factories import AccountFactory
from workspaces.errors import DomainError, NotAllowed

from .health_data import at_noon, known_since

pytestmark = pytest.mark.django_db

SENTIMENT_ONLY = {
    "bands": {"red": 40, "green": 70},
    "min_available_weight": 0.5,
    "groups": [{"key": "relationship", "label": "Relationship", "weight": 1, "measures": [
        {"key": "sentiment", "kind": "csm_sentiment", "weight": 1, "rule": {"type": "linear", "low": 1, "high": 5}},
    ]}],
}


@pytest.fixture
def sentiment_card(ws, manager):
    card = default_scorecard(workspace=ws)
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=SENTIMENT_ONLY)
    return card


def monday(ws):
    """A Monday a few weeks back, so that a test's days share one week."""
    day = ws.today() - dt.timedelta(days=21)
    return week_of(day)


def rate(account, actor, rating, day):
    rate_sentiment(account=account, actor=actor, rating=rating, rated_at=at_noon(account, day))


def test_entering_red_opens_one_alert_updated_on_reruns(ws, csm, account, sentiment_card):
    day = monday(ws)
    known_since(day - dt.timedelta(days=30), account)  # its owner, on record then (the alert is theirs)
    rate(account, csm, 4, day)  # 75: green
    nightly_health(workspace=ws, as_of=day)
    assert not HealthAlert.all_workspaces.exists()
    rate(account, csm, 2, day + dt.timedelta(days=1))  # 25: red, a drop of 50
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=1))
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=1))
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=2))
    alerts = {a.kind: a for a in HealthAlert.all_workspaces.all()}
    assert set(alerts) == {"entered_red", "drop"}
    assert alerts["drop"].drop == 50 and alerts["drop"].reason == "relationship"
    assert alerts["drop"].last_seen_on == day + dt.timedelta(days=2)
    assert alerts["entered_red"].pushed and alerts["drop"].pushed


def test_open_alerts_are_unique_in_the_database(ws, account):
    fields = {"workspace": ws, "account": account, "kind": "drop", "reason": "usage", "opened_on": ws.today(),
              "last_seen_on": ws.today(), "week": week_of(ws.today())}
    HealthAlert.all_workspaces.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        HealthAlert.all_workspaces.create(**fields)
    HealthAlert.all_workspaces.create(**fields | {"status": "closed"})  # closed ones are history


def test_weekly_budget_pushes_the_biggest_risks_and_digests_the_rest(ws, csm, csm2, sentiment_card):
    HealthSettings.all_workspaces.update_or_create(workspace=ws, defaults={"alert_weekly_budget": 3})
    day = monday(ws)
    mine = [AccountFactory(workspace=ws, owner=csm, arr=Decimal(1_000_000 * (i + 1))) for i in range(5)]
    theirs = AccountFactory(workspace=ws, owner=csm2, arr=Decimal(100))
    known_since(day - dt.timedelta(days=30), *mine, theirs)  # their ARR and owner, on record then
    for account in mine + [theirs]:
        rate(account, csm if account.owner == csm else csm2, 5, day)
    nightly_health(workspace=ws, as_of=day)
    for account in mine + [theirs]:
        rate(account, csm if account.owner == csm else csm2, 3, day + dt.timedelta(days=1))  # 100 → 50: drop
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=1))
    pushed, digest, _week = my_alerts(membership=csm, week=day)
    assert [a.account for a in pushed] == [mine[4], mine[3], mine[2]]  # ARR x drop, largest first
    assert {a.account for a in digest} == {mine[0], mine[1]}
    assert HealthAlert.all_workspaces.get(account=theirs).pushed  # csm2 has a budget of their own
    # Later the same week: the budget is spent, so new alerts go to the digest.
    late = AccountFactory(workspace=ws, owner=csm, arr=Decimal(9_000_000))
    known_since(day - dt.timedelta(days=30), late)
    rate(late, csm, 5, day + dt.timedelta(days=1))
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=1))
    rate(late, csm, 3, day + dt.timedelta(days=2))
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=2))
    assert not HealthAlert.all_workspaces.get(account=late).pushed
    # A new week, a new budget.
    rate(late, csm, 1, day + dt.timedelta(days=7))
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=7))
    red = HealthAlert.all_workspaces.get(account=late, kind="entered_red")
    assert red.pushed and red.week == day + dt.timedelta(days=7)
    assert HealthAlert.all_workspaces.filter(account=late, kind="drop").count() == 1  # updated, not duplicated


def test_outcomes_and_precision(ws, csm, csm2, manager, sentiment_card):
    day = monday(ws)
    acted, dismissed, lost = (AccountFactory(workspace=ws, owner=csm) for _ in range(3))
    known_since(day - dt.timedelta(days=30), acted, dismissed, lost)  # their owner, on record then
    for account in (acted, dismissed, lost):
        rate(account, csm, 5, day)
    nightly_health(workspace=ws, as_of=day)
    for account in (acted, dismissed, lost):
        rate(account, csm, 3, day + dt.timedelta(days=1))
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=1))
    alert = HealthAlert.all_workspaces.get(account=acted)
    with pytest.raises(NotAllowed):
        record_alert_outcome(alert=alert, actor=csm2, outcome="acted_on")  # not their account
    record_alert_outcome(alert=alert, actor=csm, outcome="acted_on")
    with pytest.raises(DomainError) as error:
        record_alert_outcome(alert=HealthAlert.all_workspaces.get(account=dismissed), actor=csm, outcome="dismissed")
    assert error.value.field == "outcome_reason"
    record_alert_outcome(alert=HealthAlert.all_workspaces.get(account=dismissed), actor=manager, outcome="dismissed",
                         reason="Known seasonal dip")
    update_account(account=lost, actor=manager, status="churned", churned_on=day + dt.timedelta(days=20),
                   churn_reason="budget")
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=2))
    lost_alert = HealthAlert.all_workspaces.get(account=lost)
    assert lost_alert.outcome == "churned" and lost_alert.status == "closed" and lost_alert.preceded_churn
    # A closed alert is not reopened by the next night.
    nightly_health(workspace=ws, as_of=day + dt.timedelta(days=3))
    assert HealthAlert.all_workspaces.filter(account=acted).count() == 1
    rows, totals = alert_precision(workspace=ws)
    assert totals["total"] == 3 and totals["acted"] == 1 and totals["churned"] == 1
    assert totals["acted_share"] == pytest.approx(1 / 3)
