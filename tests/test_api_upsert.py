"""CRM sync: upsert by external_id, one row at a time and in bulk (all or nothing)."""

from decimal import Decimal

import pytest

from accounts import services
from accounts.models import Account, Contact, Contract, Touchpoint
from workspaces.errors import RowErrors
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_put_by_external_id_creates_then_updates(api_for, manager, csm):
    api = api_for(manager)
    payload = {"name": "Fuji Foods", "arr": "3600000", "owner_email": "csm@example.com", "tags": ["a", "b"]}
    first = api.put("/api/v1/accounts/by-external-id/sf-001/", payload)
    assert first.status_code == 201, first.json()
    second = api.put("/api/v1/accounts/by-external-id/sf-001/", payload)
    assert second.status_code == 200
    assert Account.all_workspaces.filter(external_id="sf-001").count() == 1
    assert first.json()["id"] == second.json()["id"]
    assert {k: v for k, v in first.json().items() if k != "updated_at"} == {
        k: v for k, v in second.json().items() if k != "updated_at"
    }
    # the second, identical call changed nothing worth recording
    assert not AuditEvent.all_workspaces.filter(action="account.updated").exists()


def test_put_by_external_id_keeps_fields_left_out(api_for, manager):
    api = api_for(manager)
    api.put("/api/v1/accounts/by-external-id/sf-002/", {"name": "Kobe Steel Parts", "plan": "Gold"})
    response = api.put("/api/v1/accounts/by-external-id/sf-002/", {"arr": "500000"})
    assert response.status_code == 200
    account = Account.all_workspaces.get(external_id="sf-002")
    assert (account.name, account.plan, account.arr) == ("Kobe Steel Parts", "Gold", Decimal("500000"))


def test_put_by_external_id_validation(api_for, manager, account):
    api = api_for(manager)
    response = api.put("/api/v1/accounts/by-external-id/sf-003/", {"arr": "1"})
    assert response.status_code == 400 and "name" in response.json()  # a new account needs a name
    response = api.put("/api/v1/accounts/by-external-id/sf-003/", {"name": "X", "external_id": "other"})
    assert response.status_code == 400 and "external_id" in response.json()
    response = api.put("/api/v1/accounts/by-external-id/sf-003/", {"name": "X", "stage_name": "Nope"})
    assert response.status_code == 400 and "stage_name" in response.json()
    assert not Account.all_workspaces.filter(external_id="sf-003").exists()


def test_get_by_external_id(api_for, viewer, account):
    api = api_for(viewer)
    assert api.get("/api/v1/accounts/by-external-id/crm-sakura/").json()["id"] == account.pk
    assert api.get("/api/v1/accounts/by-external-id/unknown/").status_code == 404
    assert api.put("/api/v1/accounts/by-external-id/crm-sakura/", {"plan": "X"}).status_code == 403


def test_csm_upserts_only_accounts_they_own(api_for, csm, csm2, account):
    api = api_for(csm)
    assert api.put("/api/v1/accounts/by-external-id/crm-sakura/", {"plan": "Gold"}).status_code == 200
    refused = api.put("/api/v1/accounts/by-external-id/for-yui/", {"name": "New", "owner": csm2.pk})
    assert refused.status_code == 403
    assert not Account.all_workspaces.filter(external_id="for-yui").exists()
    # A new account the CSM creates is theirs.
    assert api.put("/api/v1/accounts/by-external-id/brand-new/", {"name": "New"}).status_code == 201
    assert Account.all_workspaces.get(external_id="brand-new").owner == csm


def rows(n, **extra):
    return [{"external_id": f"sf-{i:03d}", "name": f"Company {i} KK", "arr": str(100000 * (i + 1)), **extra}
            for i in range(n)]


def test_bulk_upsert_is_idempotent(api_for, manager):
    api = api_for(manager)
    first = api.post("/api/v1/accounts/bulk-upsert/", rows(5, stage_name="Adoption", tags=["crm"]))
    assert first.status_code == 200, first.json()
    assert (first.json()["created"], first.json()["updated"]) == (5, 0)
    assert [r["external_id"] for r in first.json()["results"]] == [f"sf-{i:03d}" for i in range(5)]
    second = api.post("/api/v1/accounts/bulk-upsert/", rows(5, stage_name="Adoption", tags=["crm"]))
    assert (second.json()["created"], second.json()["updated"]) == (0, 5)
    assert Account.all_workspaces.count() == 5
    assert [r["id"] for r in first.json()["results"]] == [r["id"] for r in second.json()["results"]]


def test_bulk_upsert_is_all_or_nothing_with_errors_per_row(api_for, manager):
    api = api_for(manager)
    payload = rows(4)
    payload[1]["arr"] = "-1"
    payload[2]["stage_name"] = "Nirvana"
    payload[3] = {"external_id": "sf-new", "arr": "5"}  # new, without a name
    response = api.post("/api/v1/accounts/bulk-upsert/", payload)
    assert response.status_code == 400
    body = response.json()
    assert "nothing was saved" in body["detail"]
    errors = {e["index"]: e for e in body["errors"]}
    assert set(errors) == {1, 2, 3}
    assert "arr" in errors[1]["errors"]
    assert "stage_name" in errors[2]["errors"]
    assert "name" in errors[3]["errors"] and errors[3]["external_id"] == "sf-new"
    assert Account.all_workspaces.count() == 0  # not even the valid row 0


def test_bulk_failure_inside_the_service_rolls_back_earlier_rows(api_for, manager, csm2):
    # The serializer accepts csm2's id (same workspace); the service refuses an inactive owner.
    csm2.is_active = False
    csm2.save()
    payload = rows(3)
    payload[2]["owner"] = csm2.pk
    response = api_for(manager).post("/api/v1/accounts/bulk-upsert/", payload)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 2, "external_id": "sf-002", "errors": {"owner": [
            "The owner must be an active member of the workspace."
        ]}}
    ]
    assert Account.all_workspaces.count() == 0


def test_bulk_rejects_duplicates_bad_shapes_and_too_many_rows(api_for, manager):
    api = api_for(manager)
    response = api.post("/api/v1/accounts/bulk-upsert/", rows(2) + rows(1))
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 2 and "external_id" in response.json()["errors"][0]["errors"]
    response = api.post("/api/v1/accounts/bulk-upsert/", [{"name": "No id"}, "not an object"])
    assert [e["index"] for e in response.json()["errors"]] == [0, 1]
    response = api.post("/api/v1/accounts/bulk-upsert/", {"external_id": "x", "name": "not a list"})
    assert response.status_code == 400 and "non_field_errors" in response.json()
    response = api.post("/api/v1/accounts/bulk-upsert/", [{"external_id": f"x{i}"} for i in range(1001)])
    assert response.status_code == 400 and "1000" in response.json()["non_field_errors"][0]
    assert Account.all_workspaces.count() == 0


def test_bulk_upsert_applies_role_rules_per_row(api_for, csm, csm2, ws, account):
    from .factories import AccountFactory

    AccountFactory(workspace=ws, owner=csm2, external_id="theirs")
    response = api_for(csm).post("/api/v1/accounts/bulk-upsert/", [
        {"external_id": "crm-sakura", "plan": "Gold"},
        {"external_id": "theirs", "plan": "Gold"},
        {"external_id": "new-one", "name": "New", "owner": csm2.pk},
    ])
    assert response.status_code == 400
    assert [e["index"] for e in response.json()["errors"]] == [1, 2]
    account.refresh_from_db()
    assert account.plan == ""


def test_bulk_upsert_contacts_links_by_account_external_id(api_for, manager, account):
    api = api_for(manager)
    payload = [
        {"external_id": "c-1", "account_external_id": "crm-sakura", "name": "Hana", "role": "champion"},
        {"external_id": "c-2", "account_external_id": "crm-sakura", "name": "Taro", "email": "taro@x.jp"},
    ]
    assert api.post("/api/v1/contacts/bulk-upsert/", payload).json()["created"] == 2
    again = api.post("/api/v1/contacts/bulk-upsert/", payload).json()
    assert (again["created"], again["updated"]) == (0, 2)
    assert set(account.contacts.values_list("name", flat=True)) == {"Hana", "Taro"}
    # an update may leave the account out; a new contact may not
    response = api.post("/api/v1/contacts/bulk-upsert/", [{"external_id": "c-1", "title": "CTO"},
                                                          {"external_id": "c-3", "name": "Orphan"}])
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 1, "external_id": "c-3", "errors": {
        "account": ["Give account (an id) or account_external_id."]}}]
    assert Contact.all_workspaces.get(external_id="c-1").title == ""


def test_put_contact_and_contract_by_external_id(api_for, manager, account):
    api = api_for(manager)
    body = {"account_external_id": "crm-sakura", "name": "Hana"}
    assert api.put("/api/v1/contacts/by-external-id/c-9/", body).status_code == 201
    assert api.put("/api/v1/contacts/by-external-id/c-9/", body).status_code == 200
    assert Contact.all_workspaces.filter(external_id="c-9").count() == 1
    body = {"account_external_id": "crm-sakura", "product": "Core", "mrr": "50000", "start_date": "2026-04-01"}
    assert api.put("/api/v1/contracts/by-external-id/k-1/", body).status_code == 201
    assert api.put("/api/v1/contracts/by-external-id/k-1/", {"mrr": "60000"}).status_code == 200
    assert Contract.all_workspaces.get(external_id="k-1").mrr == Decimal("60000")


def test_bulk_upsert_touchpoints(api_for, csm, account):
    api = api_for(csm)
    payload = [
        {"external_id": "act-1", "account_external_id": "crm-sakura", "channel": "phone", "summary": "Call"},
        {"external_id": "act-2", "account_external_id": "crm-sakura", "channel": "webinar"},
    ]
    assert api.post("/api/v1/touchpoints/bulk-upsert/", payload).json()["created"] == 2
    assert api.post("/api/v1/touchpoints/bulk-upsert/", payload).json()["created"] == 0
    assert Touchpoint.all_workspaces.filter(account=account).count() == 2
    assert Touchpoint.all_workspaces.get(external_id="act-1").author == csm
    bad = api.post("/api/v1/touchpoints/bulk-upsert/", [{**payload[0], "channel": "pigeon"}])
    assert bad.status_code == 400 and "channel" in bad.json()["errors"][0]["errors"]


def test_a_new_child_without_its_account_is_a_400_naming_the_field(api_for, csm):
    api = api_for(csm)
    for kind, body in (("contacts", {"name": "Aiko"}), ("contracts", {"product": "Pro", "start_date": "2026-01-01", "mrr": "100"}),
                       ("touchpoints", {"channel": "phone", "summary": "Call"})):
        response = api.put(f"/api/v1/{kind}/by-external-id/new-1/", body)
        assert response.status_code == 400, (kind, response.content)
        assert "account" in response.json(), (kind, response.json())
        bulk = api.post(f"/api/v1/{kind}/bulk-upsert/", [{"external_id": "new-2", **body}])
        assert bulk.status_code == 400 and "account" in bulk.json()["errors"][0]["errors"], (kind, bulk.json())


# --- Service level: the single write path the API calls ------------------------------------------
def test_bulk_upsert_service_all_or_nothing(ws, manager, csm2):
    csm2.is_active = False
    csm2.save()
    with pytest.raises(RowErrors) as caught:
        services.bulk_upsert_accounts(workspace=ws, actor=manager, rows=[
            {"external_id": "ok", "name": "Fine"},
            {"external_id": "bad", "name": "Bad", "owner": csm2},
            {"external_id": "", "name": "No id"},
        ])
    assert [e["index"] for e in caught.value.errors] == [1, 2]
    assert caught.value.errors[1]["errors"] == {"external_id": ["external_id is required to upsert."]}
    assert not Account.all_workspaces.exists()


def test_upsert_account_service_is_idempotent(ws, manager):
    first, created = services.upsert_account(workspace=ws, actor=manager, external_id="x", name="X", tags=["a"])
    second, created_again = services.upsert_account(workspace=ws, actor=manager, external_id="x", name="X",
                                                    tags=["a"])
    assert (created, created_again) == (True, False)
    assert first.pk == second.pk and Account.all_workspaces.count() == 1
