"""The renewals API: upcoming renewals with the page's filters, outcomes recorded by POST, 400s naming
the field, roles, and tenancy (workspace A's member never reads, counts or changes B's rows)."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, Contract
from renewals.models import RenewalOutcome

from .factories import AccountFactory, ContractFactory, RenewalOutcomeFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
LIST, OUTCOMES = "/api/v1/renewals/", "/api/v1/renewal-outcomes/"


@pytest.fixture
def lines(ws, csm, account):
    today = ws.today()
    Account.objects.for_workspace(ws).filter(pk=account.pk).update(health_score=80, health_band="green")
    red = AccountFactory(workspace=ws, owner=csm, name="Red KK", health_score=20, health_band="red")
    return {
        "soon": ContractFactory(account=account, start_date=today - 300 * DAY, end_date=today + 30 * DAY,
                                mrr=Decimal("100000"), product="Core", external_id="L-1"),
        "red": ContractFactory(account=red, start_date=today - 300 * DAY, end_date=today + 200 * DAY,
                               mrr=Decimal("50000"), product="Core"),
        "past": ContractFactory(account=account, start_date=today - 400 * DAY, end_date=today - 3 * DAY,
                                mrr=Decimal("9000"), product="Add-on"),
        "far": ContractFactory(account=account, start_date=today - 10 * DAY, end_date=today + 400 * DAY,
                               product="Later"),
    }


def test_list_upcoming_with_filters(ws, csm, api_for, lines):
    api = api_for(csm)
    body = api.get(LIST).json()
    assert [row["id"] for row in body["results"]] == [lines["past"].pk, lines["soon"].pk, lines["red"].pk]
    soon = body["results"][1]
    assert (soon["renews_on"], soon["days_to_renewal"], soon["arr"], soon["has_outcome"]) == (
        (ws.today() + 30 * DAY).isoformat(), 30, "1200000.00", False)
    assert body["results"][0]["days_to_renewal"] == -3
    assert [r["id"] for r in api.get(LIST, {"at_risk": "true"}).json()["results"]] == [lines["red"].pk]
    assert [r["id"] for r in api.get(LIST, {"health_band": "red"}).json()["results"]] == [lines["red"].pk]
    far = api.get(LIST, {"due_from": (ws.today() + 300 * DAY).isoformat()}).json()["results"]
    assert [r["id"] for r in far] == [lines["far"].pk]
    assert [r["id"] for r in api.get(LIST, {"ordering": "-mrr"}).json()["results"]][0] == lines["soon"].pk


@pytest.mark.parametrize(("query", "field"), [
    ({"due_from": "soon"}, "due_from"), ({"due_to": "3000-01-01"}, "due_to"), ({"health_band": "blue"}, "health_band"),
    ({"owner": "999999"}, "owner"), ({"ordering": "password"}, "ordering"),
])
def test_bad_filters_are_400_naming_the_field(csm, api_for, lines, query, field):
    response = api_for(csm).get(LIST, query)
    assert response.status_code == 400 and field in response.json()


def test_post_renewed_and_churned(ws, csm, api_for, lines, account):
    api = api_for(csm)
    response = api.post(OUTCOMES, {"line": lines["soon"].pk, "outcome": "expanded", "new_mrr": "120000",
                                   "note": "More seats"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["outcome"], body["previous_mrr"], body["new_mrr"], body["due_on"]) == (
        "expanded", "100000.00", "120000.00", (ws.today() + 30 * DAY).isoformat())
    successor = Contract.objects.for_workspace(ws).get(pk=body["successor"]["id"])
    assert (successor.start_date, successor.mrr) == (ws.today() + 30 * DAY, Decimal("120000"))
    # The list shows it recorded (no longer open), past due first still.
    assert api.get(LIST).json()["results"][1]["has_outcome"] is True
    response = api.post(OUTCOMES, {"line": lines["past"].pk, "outcome": "churned", "churn_reason": "budget"},
                        format="json")
    assert response.status_code == 201
    account.refresh_from_db()
    assert account.status == "active"  # the successor and the far line run on
    assert api.get(OUTCOMES).json()["count"] == 2
    assert api.get(OUTCOMES, {"outcome": "churned"}).json()["count"] == 1


@pytest.mark.parametrize(("payload", "field"), [
    ({"outcome": "renewed"}, "new_mrr"),
    ({"outcome": "renewed", "new_mrr": "0"}, "new_mrr"),
    ({"outcome": "renewed", "new_mrr": "-1"}, "new_mrr"),
    ({"outcome": "renewed", "new_mrr": "1e30"}, "new_mrr"),
    ({"outcome": "contracted", "new_mrr": "150000"}, "new_mrr"),
    ({"outcome": "churned"}, "churn_reason"),
    ({"outcome": "churned", "churn_reason": "boredom"}, "churn_reason"),
    ({"outcome": "perhaps"}, "outcome"),
    ({"outcome": "renewed", "new_mrr": "100000", "quantity": -2}, "quantity"),
])
def test_bad_outcomes_are_400_naming_the_field(ws, csm, api_for, lines, payload, field):
    response = api_for(csm).post(OUTCOMES, {"line": lines["soon"].pk, **payload}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not RenewalOutcome.objects.for_workspace(ws).exists()


def test_missing_or_foreign_line_is_400_on_line(csm, api_for, other_account):
    foreign = ContractFactory(account=other_account, end_date=dt.date(2030, 1, 1))
    for payload in ({"outcome": "churned", "churn_reason": "price"},
                    {"line": foreign.pk, "outcome": "churned", "churn_reason": "price"},
                    {"line": "x", "outcome": "churned", "churn_reason": "price"}):
        response = api_for(csm).post(OUTCOMES, payload, format="json")
        assert response.status_code == 400 and "line" in response.json()
    assert Contract.all_workspaces.get(pk=foreign.pk).end_date == dt.date(2030, 1, 1)


def test_twice_is_400(csm, api_for, lines):
    api = api_for(csm)
    payload = {"line": lines["soon"].pk, "outcome": "renewed", "new_mrr": "100000"}
    assert api.post(OUTCOMES, payload, format="json").status_code == 201
    response = api.post(OUTCOMES, payload, format="json")
    assert response.status_code == 400 and "line" in response.json()


def test_roles(csm2, viewer, manager, api_for, lines):
    payload = {"line": lines["soon"].pk, "outcome": "renewed", "new_mrr": "100000"}
    assert api_for(viewer).post(OUTCOMES, payload, format="json").status_code == 403
    assert api_for(csm2).post(OUTCOMES, payload, format="json").status_code == 403  # not their account
    assert api_for(viewer).get(LIST).status_code == 200
    assert api_for(manager).post(OUTCOMES, payload, format="json").status_code == 201


def test_tenancy(ws, outsider, api_for, lines, other_account):
    RenewalOutcomeFactory(line=ContractFactory(account=lines["soon"].account, start_date=dt.date(2025, 1, 1),
                                               end_date=dt.date(2026, 1, 1), product="Old"))
    ContractFactory(account=other_account, start_date=other_account.workspace.today() - 10 * DAY,
                    end_date=other_account.workspace.today() + 10 * DAY)
    api = api_for(outsider)
    listed = api.get(LIST).json()
    assert listed["count"] == 1 and listed["results"][0]["account"]["id"] == other_account.pk
    assert api.get(OUTCOMES).json()["count"] == 0
    mine = RenewalOutcome.objects.for_workspace(ws).get()
    assert api.get(f"{OUTCOMES}{mine.pk}/").status_code == 404
    response = api.post(OUTCOMES, {"line": lines["soon"].pk, "outcome": "churned", "churn_reason": "price"},
                        format="json")
    assert response.status_code == 400 and "line" in response.json()
    assert Account.objects.for_workspace(ws).filter(status="churned").count() == 0
