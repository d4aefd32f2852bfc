"""Issue's "done means": on a synthetic workspace with a real churn signal (activity fades before churn)
and a current-value leak (a CRM sets the renewal date to the churn day and flags the account, through
the normal write path, after the fact), the back-test recovers the signal and ignores the leak."""

import datetime as dt

import pytest

from accounts.models import Account, AccountChange
from accounts.services import update_account
from healthscore.backtest import report

from .test_health_learning import make_history

pytestmark = pytest.mark.django_db

SIGNAL_AND_LEAK = {
    "bands": {"red": 40, "green": 70},
    "min_available_weight": 0.3,
    "groups": [
        {"key": "usage", "label": "Usage", "weight": 50, "measures": [
            {"key": "days", "kind": "days_active_30", "weight": 100,
             "rule": {"type": "linear", "low": 0, "high": 20}},
        ]},
        {"key": "commercial", "label": "Commercial", "weight": 50, "measures": [
            # Near renewal scores low: with today's renewal date (= the churn day) on past days, this
            # measure alone would separate churners almost perfectly.
            {"key": "renewal", "kind": "days_to_renewal", "weight": 50,
             "rule": {"type": "linear", "low": 0, "high": 365}},
            {"key": "flag", "kind": "custom_attribute", "weight": 50, "params": {"attribute": "at_risk"},
             "rule": {"type": "linear", "low": 1, "high": 0}},
        ]},
    ],
}


def leak(ws, manager, churn_days):
    """Today the CRM writes each churn into the account: its renewal date becomes the churn day and
    it is flagged at risk (through the normal write path, as every integration does)."""
    for account in Account.objects.for_workspace(ws).filter(pk__in=list(churn_days)):
        update_account(account=account, actor=manager, renewal_date=churn_days[account.pk],
                       attributes={**account.attributes, "at_risk": 1})


def test_the_backtest_recovers_the_signal_and_ignores_the_leak(ws, manager):
    # On record from their contract start: a renewal a year from now, not flagged.
    start, end, churn_days = make_history(ws, renewal_date=ws.today() + dt.timedelta(days=365),
                                          attributes={"at_risk": 0})
    leak(ws, manager, churn_days)
    # Today, the leak is there for everyone to see: every churner is flagged, its renewal "due".
    churners = Account.objects.for_workspace(ws).filter(pk__in=list(churn_days))
    assert {a.attributes["at_risk"] for a in churners} == {1}

    result = report(workspace=ws, start=start, end=end, definition=SIGNAL_AND_LEAK)
    measures = {m["key"]: m for m in result["measures"]}
    assert result["churned"] >= 30
    # The signal: churners had fewer active days, and the back-test says so.
    assert measures["days"]["value_auc"] > 0.75 and measures["days"]["direction"] == "lower"
    # The leak: on each past day the renewal was a year out and nobody was flagged, for churners and
    # stayers alike, so neither measure separates them (as of the day, not as of today).
    for key in ("renewal", "flag"):
        assert measures[key]["auc"] == pytest.approx(0.5, abs=0.05), key
    # And the total is no better than the usage signal alone: the leak added nothing.
    usage_only = {**SIGNAL_AND_LEAK, "groups": SIGNAL_AND_LEAK["groups"][:1]}
    signal_alone = report(workspace=ws, start=start, end=end, definition=usage_only)
    assert result["auc"] == pytest.approx(signal_alone["auc"], abs=0.02)
    assert result["auc"] > 0.75


def test_a_measure_whose_input_was_not_on_record_is_counted_so(ws):
    """Accounts put on record only today (their usage came with a history import): on every past day
    "days to renewal" is not available for lack of history (counted, never read from today's date)."""
    start, end, _churn_days = make_history(ws, accounts=40, churners=12,
                                           renewal_date=ws.today() + dt.timedelta(days=30))
    AccountChange.all_workspaces.filter(workspace=ws).update(valid_from=ws.today())
    result = report(workspace=ws, start=start, end=end, definition=SIGNAL_AND_LEAK)
    measures = {m["key"]: m for m in result["measures"]}
    assert measures["renewal"]["no_history_share"] == 1.0 and measures["renewal"]["unavailable_share"] == 1.0
    assert measures["renewal"]["auc"] is None and measures["renewal"]["unavailable_flag"]
    assert measures["days"]["no_history_share"] == 0.0
