"""The revenue API: the hand-computed figures, 400s naming the field, roles, tenancy."""

import datetime as dt

import pytest

from .factories import AccountFactory, contract_line
from .revenue_case import build_case

pytestmark = pytest.mark.django_db
Q1 = {"start": "2026-01-01", "end": "2026-04-01"}


@pytest.fixture
def case(ws, csm, csm2):
    return build_case(ws, csm=csm, csm2=csm2)


def test_metrics_with_previous_window_and_breakdown(api_for, manager, case):
    body = api_for(manager).get("/api/v1/revenue/metrics/", {**Q1, "by": "tier"}).json()
    assert body["current"]["start_mrr"] == "7900.00" and body["current"]["end_mrr"] == "5250.00"
    assert body["current"]["nrr"] == "0.531646" and body["current"]["grr"] == "0.443038"
    assert body["current"]["logo_churn"] == "0.333333"
    assert body["previous"]["start"] == "2025-10-01" and body["previous"]["start_mrr"] == "8300.00"
    groups = {g["key"]: g for g in body["groups"]}
    assert groups["high"]["start_mrr"] == "6000.00" and groups["high"]["label"] == "High touch"


def test_movements_and_the_churn_rows(api_for, manager, case):
    body = api_for(manager).get("/api/v1/revenue/movements/", {**Q1, "kind": "churn"}).json()
    assert body["total"]["churn"] == "4300.00" and body["total"]["reactivation"] == "900.00"
    assert len(body["steps"]) == 3
    assert [(r["account_name"], r["churn_reason"]) for r in body["rows"]] == [
        ("D Corp", ""), ("C Corp", "onboarding_failure"), ("F Corp", "price")]


def test_churn_reasons(api_for, manager, case):
    body = api_for(manager).get("/api/v1/revenue/churn-reasons/", Q1).json()
    assert body["mrr"] == "4300.00" and body["logos"] == 3
    assert body["onboarding_mrr_share"] == "0.697674"
    assert body["rows"][0] == {"code": "onboarding_failure", "name": "Onboarding failure", "mrr": "3000.00",
                               "logos": 1, "onboarding": True}


@pytest.mark.parametrize("url", ["/api/v1/revenue/metrics/", "/api/v1/revenue/movements/",
                                 "/api/v1/revenue/churn-reasons/"])
@pytest.mark.parametrize("params, field", [
    ({"start": "2026-13-01", "end": "2026-04-01"}, "start"),
    ({"start": "2026-01-01", "end": "tomorrow"}, "end"),
    ({"start": "2026-04-01", "end": "2026-04-01"}, "end"),
    ({"start": "2026-04-01", "end": "2026-01-01"}, "end"),
    ({"start": "2026-04-01"}, "end"),
    ({"start": "2000-01-01", "end": "2026-01-01"}, "end"),
    ({"preset": "someday"}, "preset"),
])
def test_bad_input_is_a_400_naming_the_field(api_for, manager, url, params, field):
    response = api_for(manager).get(url, params)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_bad_kind_and_breakdown(api_for, manager):
    assert "kind" in api_for(manager).get("/api/v1/revenue/movements/", {**Q1, "kind": "x"}).json()
    assert "by" in api_for(manager).get("/api/v1/revenue/metrics/", {**Q1, "by": "x"}).json()


@pytest.mark.parametrize("role", ["csm", "viewer"])
def test_only_managers_and_admins_read_revenue(api_for, request, role, admin):
    member = request.getfixturevalue(role)
    assert api_for(member).get("/api/v1/revenue/metrics/").status_code == 403
    assert api_for(admin).get("/api/v1/revenue/metrics/").status_code == 200


def test_workspace_b_lines_are_never_counted(api_for, manager, outsider, case, other_ws):
    hidden = AccountFactory(workspace=other_ws, name="Hidden Other Corp")
    contract_line(hidden, 50000, dt.date(2025, 1, 1), dt.date(2026, 2, 1))
    body = api_for(manager).get("/api/v1/revenue/movements/", {**Q1, "kind": "churn"}).json()
    assert "Hidden Other Corp" not in str(body) and body["total"]["churn"] == "4300.00"
    assert api_for(manager).get("/api/v1/revenue/metrics/", Q1).json()["current"]["start_mrr"] == "7900.00"
    other = api_for(outsider).get("/api/v1/revenue/metrics/", Q1).json()["current"]
    assert other["start_mrr"] == "50000.00" and other["end_mrr"] == "0.00"
