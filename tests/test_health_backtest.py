"""Back-testing on synthetic data where churn is generated from a known usage signal."""

import datetime as dt
import random

import pandas as pd
import pytest

from accounts.history import record_current_values
from accounts.models import Account
from healthscore.backtest import auc, report
from healthscore.nightly import step as nightly_health
from healthscore.selectors import default_scorecard
from healthscore.services import save_scorecard
from usage.models import DailyAccountUsage

pytestmark = pytest.mark.django_db

SIGNAL_AND_NOISE = {
    "bands": {"red": 40, "green": 70},
    "min_available_weight": 0.5,
    "groups": [{"key": "usage", "label": "Usage", "weight": 1, "measures": [
        {"key": "days", "kind": "days_active_30", "weight": 1, "rule": {"type": "linear", "low": 0, "high": 20}},
        {"key": "shoe_size", "kind": "custom_attribute", "weight": 1, "params": {"attribute": "shoe_size"},
         "rule": {"type": "linear", "low": 20, "high": 30}},
    ]}],
}


def test_auc_by_hand():
    # Stayers 3, 4; churners 1, 3: pairs (3>1, 3=3 half, 4>1, 4>3) → 3.5 / 4.
    assert auc(pd.Series([3, 4, 1, 3]), pd.Series([False, False, True, True])) == pytest.approx(0.875)
    assert auc(pd.Series([1, 2]), pd.Series([False, False])) is None


@pytest.fixture
def synthetic(ws, manager):
    """200 accounts observed on day D: low activity churns within 90 days far more often."""
    card = default_scorecard(workspace=ws)
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=SIGNAL_AND_NOISE)
    rng = random.Random(7)
    observed = ws.today() - dt.timedelta(days=120)
    accounts = Account.all_workspaces.bulk_create(
        Account(workspace=ws, name=f"Synthetic {i}", licensed_seats=10, arr=1_000_000,
                contract_start=observed - dt.timedelta(days=400), attributes={"shoe_size": rng.uniform(20, 30)})
        for i in range(200)
    )
    # Created outside the writers: their values (the shoe size among them) are on record since the start.
    record_current_values(workspace=ws, accounts=accounts, source="test", day=observed - dt.timedelta(days=400))
    rows, churned = [], []
    for account in accounts:
        active_days = rng.randint(0, 20)
        # Everyone used the product once before the window, so zero recent days is a real zero.
        rows.append(DailyAccountUsage(workspace=ws, account=account, day=observed - dt.timedelta(days=50), events=3))
        for back in rng.sample(range(30), active_days):
            rows.append(DailyAccountUsage(workspace=ws, account=account, day=observed - dt.timedelta(days=back),
                                          events=5, active_users=2))
        if rng.random() < (0.7 if active_days < 7 else 0.08):
            churned.append(account.pk)
    DailyAccountUsage.all_workspaces.bulk_create(rows)
    Account.all_workspaces.filter(pk__in=churned).update(status="churned", churned_on=observed + dt.timedelta(days=45))
    return observed, len(churned)


def test_backtest_finds_the_usage_signal_and_not_the_noise(ws, synthetic):
    observed, n_churned = synthetic
    result = report(workspace=ws, start=observed, end=observed, step=30)
    assert result["observations"] == 200 and result["churned"] == n_churned
    assert result["recomputed_days"] == [observed]  # no snapshots that day: computed as of it
    assert result["auc"] > 0.75
    by_key = {m["key"]: m for m in result["measures"]}
    assert by_key["days"]["auc"] > 0.8
    assert 0.38 < by_key["shoe_size"]["auc"] < 0.62
    assert result["measures"][0]["key"] == "days"  # ranked by distance from chance
    bands = {b["band"]: b for b in result["bands"]}
    assert bands["red"]["rate"] > bands["green"]["rate"]
    assert all(row["churned_on"] > row["day"] for row in result["churned_while_green"])


def test_backtest_reads_stored_snapshots_when_the_day_has_them(ws, synthetic):
    observed, _ = synthetic
    recomputed = report(workspace=ws, start=observed, end=observed, step=30)
    nightly_health(workspace=ws, as_of=observed)
    stored = report(workspace=ws, start=observed, end=observed, step=30)
    assert stored["recomputed_days"] == []
    assert stored["auc"] == pytest.approx(recomputed["auc"])


def test_what_if_definition_is_back_tested_without_saving(ws, synthetic):
    observed, _ = synthetic
    noise_only = {**SIGNAL_AND_NOISE, "groups": [{**SIGNAL_AND_NOISE["groups"][0], "measures": [
        {**SIGNAL_AND_NOISE["groups"][0]["measures"][0], "weight": 0},
        SIGNAL_AND_NOISE["groups"][0]["measures"][1],
    ]}]}
    result = report(workspace=ws, start=observed, end=observed, step=30, definition=noise_only)
    assert 0.38 < result["auc"] < 0.62
    assert default_scorecard(workspace=ws).versions.count() == 2  # nothing saved
