"""Comparable back-tests, direction, "not separating", calibrated thresholds and suggested weights, on a
synthetic workspace whose churners' activity fades in the 60 days before they churn."""

import datetime as dt
import json
import random

import numpy as np
import pandas as pd
import pytest

from accounts.history import record_current_values
from accounts.models import Account
from healthscore.backtest import default_period, measure_rows, observation_days, report
from healthscore.calibration import calibrate, proposed_rule
from healthscore.learning import MIN_CHURNS, hanley_mcneil, score_points, split_days, suggest_weights
from healthscore.selectors import default_scorecard, latest_version
from healthscore.services import accept_suggested_weights, save_scorecard
from usage.models import DailyAccountUsage
from workspaces.errors import DomainError
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db

SIGNAL_DEFINITION = {
    "bands": {"red": 40, "green": 70},
    "min_available_weight": 0.5,
    "groups": [
        {"key": "usage", "label": "Usage", "weight": 50, "measures": [
            {"key": "days", "kind": "days_active_30", "weight": 50,
             "rule": {"type": "linear", "low": 0, "high": 20}},
            # Full points to whoever was active in the last 30 days: nearly everyone, every day.
            {"key": "last_activity", "kind": "days_since_last_activity", "weight": 50,
             "rule": {"type": "thresholds", "direction": "lower", "steps": [{"at": 30, "points": 100}],
                      "above": 0}},
        ]},
        {"key": "custom", "label": "Custom", "weight": 50, "measures": [
            {"key": "shoe_size", "kind": "custom_attribute", "weight": 100, "params": {"attribute": "shoe_size"},
             "rule": {"type": "linear", "low": 20, "high": 30}},
        ]},
    ],
}


def make_history(ws, *, accounts=160, churners=48, seed=15, fade_days=60, leak_attribute=False,
                 renewal_date=None, attributes=None):
    """Accounts active on ~60% of days; churners' activity drops to ~8% in the `fade_days` before their
    churn day, spread over the default back-test period (nine months ending 90 days ago) and its horizon.

    `leak_attribute` sets an attribute `at_risk` = 1 on churned accounts (as a CRM would on the churn day,
    with no history): the look-ahead the history helper deals with; nothing here asserts on it.
    Returns (start, end, {account_id: churned_on}).
    """
    rng = random.Random(seed)
    start, end = default_period(workspace=ws)
    first = start - dt.timedelta(days=60)
    last = ws.today()
    created = Account.all_workspaces.bulk_create(
        Account(workspace=ws, name=f"Synthetic {i}", licensed_seats=10, arr=1_000_000, renewal_date=renewal_date,
                contract_start=first - dt.timedelta(days=365),
                attributes={"shoe_size": rng.uniform(20, 30), **(attributes or {})})
        for i in range(accounts))
    # Created outside the writers: their values are on record from their contract start.
    record_current_values(workspace=ws, accounts=created, source="test", day=first - dt.timedelta(days=365))
    churn_days = {}
    days = observation_days(start, end)  # every churn falls within 90 days after one of them
    for account in rng.sample(created, churners):
        churn_days[account.pk] = days[0] + dt.timedelta(days=rng.randint(1, (days[-1] - days[0]).days + 90))
    rows = []
    for account in created:
        churned_on = churn_days.get(account.pk)
        day = first
        stop = churned_on or last
        while day < stop:
            fading = churned_on is not None and (churned_on - day).days <= fade_days
            if rng.random() < (0.08 if fading else 0.6):
                rows.append(DailyAccountUsage(workspace=ws, account=account, day=day, events=5, active_users=2))
            day += dt.timedelta(days=1)
    DailyAccountUsage.all_workspaces.bulk_create(rows, batch_size=5000)
    for pk, churned_on in churn_days.items():
        Account.all_workspaces.filter(pk=pk).update(status="churned", churned_on=churned_on)
        if leak_attribute:
            account = Account.all_workspaces.get(pk=pk)
            account.attributes = {**account.attributes, "at_risk": 1}
            account.save(update_fields=["attributes"])
    return start, end, churn_days


@pytest.fixture
def signal_card(ws, manager):
    card = default_scorecard(workspace=ws)
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=SIGNAL_DEFINITION)
    return card


# --- pure parts, by hand -----------------------------------------------------------------------------
def test_calendar_month_steps_and_day_steps():
    assert observation_days(dt.date(2025, 11, 15), dt.date(2026, 3, 1)) == [
        dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    assert observation_days(dt.date(2026, 1, 1), dt.date(2026, 1, 31)) == [dt.date(2026, 1, 1)]
    assert observation_days(dt.date(2026, 1, 1), dt.date(2026, 1, 21), 10) == [
        dt.date(2026, 1, 1), dt.date(2026, 1, 11), dt.date(2026, 1, 21)]


def test_direction_shares_and_unavailable_by_hand():
    # Stayers have 1 and 2 seats' worth of use, churners 3 and 4 (and one without data): churners used MORE.
    data = pd.DataFrame({
        "churned": [False, False, True, True, True],
        "v:seats": [1, 2, 3, 4, np.nan], "p:seats": [100, 100, 100, 0, np.nan],
    })
    (row,) = measure_rows(data, {"seats": "active users per seat"})
    assert row["value_auc"] == 0.0 and row["direction"] == "higher"
    assert row["sentence"] == "Accounts that churned had higher “active users per seat” than those that stayed."
    assert row["full_share"] == pytest.approx(0.75) and row["zero_share"] == pytest.approx(0.25)
    assert row["unavailable_share"] == pytest.approx(0.2) and row["unavailable_flag"]
    assert not row["not_separating"]  # 75% got the same points: below 85%
    data["p:seats"] = [100, 100, 100, 100, np.nan]
    (row,) = measure_rows(data, {})
    assert row["not_separating"] and row["top_share"] == 1.0


def test_percentile_proposal_by_hand():
    values = np.array([1, 2, 3, 4, 5, 6, 7, 8, np.nan])
    # numpy's linear interpolation over 1..8: p25 = 1 + 0.25*7 = 2.75, p50 = 4.5, p75 = 6.25.
    rule, cuts = proposed_rule(values, "higher")
    assert cuts == {25: 2.75, 50: 4.5, 75: 6.25}
    assert rule == {"type": "thresholds", "direction": "higher", "below": 0.0, "steps": [
        {"at": 2.75, "points": 25.0}, {"at": 4.5, "points": 50.0}, {"at": 6.25, "points": 100.0}]}
    rule, _cuts = proposed_rule(values, "lower")
    assert rule["steps"] == [{"at": 2.75, "points": 100.0}, {"at": 4.5, "points": 50.0},
                             {"at": 6.25, "points": 25.0}] and rule["above"] == 0.0
    assert proposed_rule(np.array([3, 3, 3, 3]), "higher")[0] is None  # no spread, no proposal


def test_hanley_mcneil_and_split_by_hand():
    # A = 0.8, 10 churners, 40 stayers: Q1 = 0.8/1.2, Q2 = 1.28/1.8.
    q1, q2 = 0.8 / 1.2, 1.28 / 1.8
    se = ((0.8 * 0.2 + 9 * (q1 - 0.64) + 39 * (q2 - 0.64)) / 400) ** 0.5
    low, high = hanley_mcneil(0.8, 10, 40)
    assert low == pytest.approx(0.8 - 1.959964 * se) and high == pytest.approx(0.8 + 1.959964 * se)
    days = [dt.date(2026, m, 1) for m in range(1, 6)]
    assert split_days(days) == (days[:2], days[2:])


# --- on the database ---------------------------------------------------------------------------------
def test_horizon_changes_labels_as_counted_by_hand(ws):
    day = dt.date(ws.today().year - 1, ws.today().month, 1)
    for i, after in enumerate((20, 50, 80, 120)):
        Account.all_workspaces.create(workspace=ws, name=f"H{i}", status="churned",
                                      churned_on=day + dt.timedelta(days=after),
                                      contract_start=day - dt.timedelta(days=400))
    Account.all_workspaces.create(workspace=ws, name="Stays", contract_start=day - dt.timedelta(days=400))
    counts = {h: report(workspace=ws, start=day, end=day, horizon_days=h) for h in (30, 60, 90)}
    assert {h: r["observations"] for h, r in counts.items()} == {30: 5, 60: 5, 90: 5}
    assert {h: r["churned"] for h, r in counts.items()} == {30: 1, 60: 2, 90: 3}


def test_backtest_recovers_the_planted_signal(ws, signal_card):
    start, end, _churns = make_history(ws)
    result = report(workspace=ws, start=start, end=end, labels={"days": "Days active"})
    assert len(result["days"]) >= 8 and all(d.day == 1 for d in result["days"])
    by_key = {m["key"]: m for m in result["measures"]}
    assert by_key["days"]["auc"] > 0.75 and by_key["days"]["value_auc"] > 0.75
    assert by_key["days"]["direction"] == "lower"
    assert by_key["days"]["sentence"] == "Accounts that churned had lower “Days active” than those that stayed."
    assert not by_key["days"]["not_separating"]
    assert by_key["last_activity"]["not_separating"] and by_key["last_activity"]["full_share"] > 0.85
    assert 0.4 < by_key["shoe_size"]["auc"] < 0.6


def test_suggested_weights_favour_the_signal_and_beat_flat_weights_out_of_time(ws, signal_card):
    start, end, _churns = make_history(ws, leak_attribute=True)
    definition = latest_version(signal_card).definition
    proposal = suggest_weights(workspace=ws, definition=definition, start=start, end=end)
    assert proposal["refused"] is None and proposal["churns"] >= MIN_CHURNS
    assert max(proposal["train_days"]) < min(proposal["test_days"])
    effective = {m["key"]: m["suggested_weight"] / 100 * next(
        g["suggested_weight"] for g in proposal["groups"] if g["key"] == m["group"]) for m in proposal["measures"]}
    assert max(effective, key=effective.get) == "days"
    flat = {**definition, "groups": [{**g, "weight": 1, "measures": [{**m, "weight": 1} for m in g["measures"]]}
                                     for g in definition["groups"]]}
    from healthscore.backtest import observations
    from healthscore.learning import evaluate

    data = observations(workspace=ws, start=start, end=end, definition=definition)
    flat_auc = evaluate(data, flat, proposal["test_days"])["auc"]
    assert proposal["suggested"]["auc"] >= flat_auc
    assert proposal["suggested"]["ci"][0] < proposal["suggested"]["auc"] < proposal["suggested"]["ci"][1]
    # The scorecard's own arithmetic: the current weights' total on the test half is the stored total's AUC.
    test = data[data["day"].isin(proposal["test_days"])]
    # (the stored points are rounded to 2 decimals, the total is computed before rounding them)
    assert np.allclose(score_points(test, definition), test["total"].astype(float), atol=0.011)


def test_refuses_below_thirty_churns(ws, signal_card):
    start, end, _churns = make_history(ws, accounts=60, churners=20)
    proposal = suggest_weights(workspace=ws, definition=latest_version(signal_card).definition, start=start,
                               end=end)
    assert proposal["churns"] == 20 and "30" in proposal["refused"] and "definition" not in proposal


def test_accept_creates_an_audited_version_and_refuses_other_changes(ws, manager, csm, signal_card):
    current = latest_version(signal_card)
    proposed = json.loads(json.dumps(current.definition))
    proposed["groups"][0]["weight"] = 80
    with pytest.raises(Exception):  # noqa: B017  (NotAllowed: only managers)
        accept_suggested_weights(workspace=ws, actor=csm, scorecard=signal_card, definition=proposed)
    changed_rule = json.loads(json.dumps(proposed))
    changed_rule["bands"]["red"] = 10
    with pytest.raises(DomainError):
        accept_suggested_weights(workspace=ws, actor=manager, scorecard=signal_card, definition=changed_rule)
    version = accept_suggested_weights(workspace=ws, actor=manager, scorecard=signal_card, definition=proposed,
                                       summary={"current_auc": 0.61, "suggested_auc": 0.74, "churns": 40})
    assert version.number == current.number + 1 and version.definition["groups"][0]["weight"] == 80
    assert "0.61 → 0.74" in version.note
    assert AuditEvent.all_workspaces.filter(workspace=ws, action="health.suggested_weights_accepted").count() == 1


def test_calibration_proposes_percentiles_of_our_own_values(ws, manager):
    card = default_scorecard(workspace=ws)
    definition = {**SIGNAL_DEFINITION, "groups": SIGNAL_DEFINITION["groups"][:1]}
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=definition)
    today = ws.today()
    last_first = dt.date(today.year, today.month, 1)
    for i, active in enumerate((2, 4, 6, 8)):
        account = Account.all_workspaces.create(workspace=ws, name=f"C{i}",
                                                contract_start=last_first - dt.timedelta(days=400))
        DailyAccountUsage.all_workspaces.bulk_create(
            DailyAccountUsage(workspace=ws, account=account, day=last_first - dt.timedelta(days=back), events=1)
            for back in range(active))
    result = calibrate(workspace=ws, definition=latest_version(card).definition)
    rows = {r["key"]: r for r in result["rows"]}
    # Only the latest first-of-month sees usage: days active 2, 4, 6, 8 → p25 3.5, p50 5, p75 6.5.
    assert rows["days"]["n"] == 4 and rows["days"]["percentiles"] == {25: 3.5, 50: 5.0, 75: 6.5}
    assert rows["days"]["proposed"]["steps"] == [{"at": 3.5, "points": 25.0}, {"at": 5.0, "points": 50.0},
                                                 {"at": 6.5, "points": 100.0}]
    # Days since last activity: 0 for all four (active on the day itself): no spread, no proposal.
    assert rows["last_activity"]["proposed"] is None
    assert latest_version(card).definition == latest_version(card).definition  # nothing saved
    assert card.versions.count() == 2


# --- pages and API -----------------------------------------------------------------------------------
def test_api_rejects_bad_horizon_and_step(api_for, manager):
    api = api_for(manager)
    for query in ("horizon_days=45", "horizon_days=x", "step=abc", "step=0", "step=400", "step_days=0"):
        answer = api.get(f"/api/v1/health/backtest/?{query}")
        assert answer.status_code == 400, query
        assert query.split("=")[0] in answer.json(), answer.json()
    ok = api.get("/api/v1/health/backtest/?start=2020-01-01&end=2020-03-01&horizon_days=30&step=month")
    assert ok.status_code == 200 and ok.json()["horizon_days"] == 30 and ok.json()["step"] == "month"
    bad = api.post("/api/v1/health/backtest/suggest-weights/", {"horizon_days": 45}, format="json")
    assert bad.status_code == 400 and "horizon_days" in bad.json()


def test_page_rejects_bad_horizon_and_step(login, manager):
    client = login(manager)
    assert client.get("/health/backtest/?horizon_days=45").status_code == 400
    assert client.get("/health/backtest/?step=days&step_days=abc").status_code == 400
    page = client.get("/health/backtest/?start=2020-01-01&end=2020-03-01&horizon_days=60")
    assert page.status_code == 200


def test_suggest_and_accept_through_api_and_page(ws, api_for, login, manager, csm, signal_card):
    start, end, _churns = make_history(ws, accounts=60, churners=20)
    api = api_for(manager)
    refused = api.post("/api/v1/health/backtest/suggest-weights/", {}, format="json").json()
    assert refused["churns"] == 20 and refused["refused"]
    assert api_for(csm).post("/api/v1/health/backtest/suggest-weights/", {}, format="json").status_code == 403
    proposed = json.loads(json.dumps(latest_version(signal_card).definition))
    proposed["groups"][1]["weight"] = 10
    body = {"scorecard": signal_card.pk, "definition": proposed, "current_auc": 0.6, "suggested_auc": 0.7,
            "churns": 31}
    assert api_for(csm).post("/api/v1/health/backtest/accept-weights/", body, format="json").status_code == 403
    created = api.post("/api/v1/health/backtest/accept-weights/", body, format="json")
    assert created.status_code == 201 and created.json()["number"] == 3
    client = login(manager)
    page = client.post("/health/backtest/suggest-weights/", {"scorecard": signal_card.pk})
    assert page.status_code == 200 and "30" in page.content.decode()
    proposed["groups"][1]["weight"] = 20
    answer = client.post("/health/backtest/accept-weights/", {"scorecard": signal_card.pk,
                                                              "definition": json.dumps(proposed)})
    assert answer.status_code == 302 and latest_version(signal_card).number == 4


def test_backtest_page_shows_direction_and_flags(ws, login, manager, signal_card):
    make_history(ws, accounts=60, churners=20)
    page = login(manager).get("/health/backtest/?horizon_days=60&step=days&step_days=20")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Accounts that churned had lower “Days active in the last 30” than those that stayed." in html
    assert "not-separating" in html and 'value="60" selected' in html
    assert page.context["result"]["horizon_days"] == 60 and page.context["result"]["step"] == 20


def test_scorecard_page_shows_calibrated_thresholds_without_saving(ws, login, manager):
    card = default_scorecard(workspace=ws)
    definition = {**SIGNAL_DEFINITION, "groups": SIGNAL_DEFINITION["groups"][:1]}
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=definition)
    last_first = dt.date(ws.today().year, ws.today().month, 1)
    for i, active in enumerate((2, 4, 6, 8)):
        account = Account.all_workspaces.create(workspace=ws, name=f"C{i}",
                                                contract_start=last_first - dt.timedelta(days=400))
        DailyAccountUsage.all_workspaces.bulk_create(
            DailyAccountUsage(workspace=ws, account=account, day=last_first - dt.timedelta(days=back), events=1)
            for back in range(active))
    form = {"bands.red": "40", "bands.green": "70", "min_available_weight": "50", "group.usage.weight": "50",
            "measure.days.weight": "50", "measure.days.type": "linear", "measure.days.low": "0",
            "measure.days.high": "20", "measure.last_activity.weight": "50",
            "measure.last_activity.type": "thresholds", "measure.last_activity.direction": "lower",
            "measure.last_activity.steps": "30:100", "measure.last_activity.otherwise": "0", "action": "calibrate"}
    page = login(manager).post(f"/health/scorecards/{card.pk}/", form)
    html = page.content.decode()
    assert page.status_code == 200 and "health-calibration" in html and "health-preview" in html
    assert 'name="measure.days.steps" value="3.5:25, 5:50, 6.5:100"' in html
    assert card.versions.count() == 2  # shown, not saved


def test_calibration_api_answers_what_the_page_proposes_to_managers_only(ws, api_for, manager, csm, other_ws):
    from tests.conftest import _member
    from workspaces.models import Role

    card = default_scorecard(workspace=ws)
    definition = {**SIGNAL_DEFINITION, "groups": SIGNAL_DEFINITION["groups"][:1]}
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=definition)
    last_first = dt.date(ws.today().year, ws.today().month, 1)
    for i, active in enumerate((2, 4, 6, 8)):
        account = Account.all_workspaces.create(workspace=ws, name=f"C{i}",
                                                contract_start=last_first - dt.timedelta(days=400))
        DailyAccountUsage.all_workspaces.bulk_create(
            DailyAccountUsage(workspace=ws, account=account, day=last_first - dt.timedelta(days=back), events=1)
            for back in range(active))
    url = f"/api/v1/health/scorecards/{card.pk}/calibration/"
    answer = api_for(manager).get(url)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["scorecard"], body["version"], body["changed"]) == (card.pk, 2, True)
    assert body["days"][-1] == last_first.isoformat() and len(body["days"]) == 6
    rows = {m["key"]: m for m in body["measures"]}
    # Days active 2, 4, 6, 8 on the latest first of the month: p25 3.5, p50 5, p75 6.5 (by hand).
    assert (rows["days"]["p25"], rows["days"]["p50"], rows["days"]["p75"], rows["days"]["n"]) == (3.5, 5.0, 6.5, 4)
    assert rows["days"]["direction"] == "higher" and rows["days"]["current"]["type"] == "linear"
    assert rows["days"]["proposed"]["steps"] == [{"at": 3.5, "points": 25.0}, {"at": 5.0, "points": 50.0},
                                                 {"at": 6.5, "points": 100.0}]
    assert rows["last_activity"]["proposed"] is None  # 0 for all four: no spread
    days_rule = body["definition"]["groups"][0]["measures"][0]
    assert days_rule["key"] == "days" and days_rule["rule"] == rows["days"]["proposed"]
    assert card.versions.count() == 2  # read only: nothing saved
    # A CSM is refused, as on the page; another workspace's manager finds no such scorecard.
    assert api_for(csm).get(url).status_code == 403
    stranger = _member(other_ws, "stranger", Role.MANAGER, "Rin")
    assert api_for(stranger).get(url).status_code == 404
    schema = api_for(manager).get("/api/schema/")
    assert "/api/v1/health/scorecards/{id}/calibration/" in schema.content.decode()
