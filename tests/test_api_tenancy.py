"""Tenancy through the API: workspace B's member reads, changes and counts nothing of workspace A.

Also authentication: token and session both act in exactly one workspace; bad tokens are 401s.
"""

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, Contact, LifecycleStage, Touchpoint
from accounts.services import update_account
from workspaces.policy import SYSTEM
from workspaces.services import issue_token, revoke_token

from .factories import ContactFactory, ContractFactory, TouchpointFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_data(ws, csm, account):
    """Workspace A's rows, one of each kind."""
    update_account(account=account, actor=SYSTEM, tags=["secret-tag"])
    contact = ContactFactory(account=account, name="Secret Contact", external_id="crm-c-1")
    touchpoint = TouchpointFactory(account=account, author=csm, summary="Secret summary", external_id="crm-t-1")
    contract = ContractFactory(account=account, product="Secret Product", external_id="crm-k-1")
    return {"accounts": account, "contacts": contact, "touchpoints": touchpoint, "contracts": contract}


SECRETS = ["Sakura", "Secret", "secret-tag", "Kenji", "crm-sakura", "acme"]


def assert_no_leak(response):
    text = response.content.decode()
    for secret in SECRETS:
        assert secret not in text, (secret, text[:500])


@pytest.mark.parametrize("path", ["accounts", "contacts", "touchpoints", "contracts", "tags", "members", "stages"])
def test_lists_count_nothing_of_another_workspace(api_for, outsider, a_data, path):
    response = api_for(outsider).get(f"/api/v1/{path}/")
    assert response.status_code == 200
    assert_no_leak(response)
    if path in ("accounts", "contacts", "touchpoints", "contracts", "tags"):
        assert response.json()["count"] == 0


@pytest.mark.parametrize("kind", ["accounts", "contacts", "touchpoints", "contracts"])
def test_detail_update_delete_are_404(api_for, outsider, a_data, kind):
    api = api_for(outsider)
    obj = a_data[kind]
    url = f"/api/v1/{kind}/{obj.pk}/"
    for response in (api.get(url), api.patch(url, {"name": "Hacked", "summary": "Hacked"}),
                     api.put(url, {"name": "Hacked"}), api.delete(url)):
        assert response.status_code == 404
        assert_no_leak(response)
    assert type(obj).all_workspaces.filter(pk=obj.pk).exists()
    assert not Account.all_workspaces.filter(name="Hacked").exists()


def test_stage_and_member_details_are_404(api_for, outsider, ws, csm):
    api = api_for(outsider)
    stage = LifecycleStage.objects.for_workspace(ws).first()
    assert api.get(f"/api/v1/stages/{stage.pk}/").status_code == 404
    assert api.patch(f"/api/v1/stages/{stage.pk}/", {"name": "Hacked"}).status_code == 404
    assert api.get(f"/api/v1/members/{csm.pk}/").status_code == 404


def test_filters_naming_another_workspace_ids_leak_nothing(api_for, outsider, ws, csm, account, a_data):
    api = api_for(outsider)
    stage = LifecycleStage.objects.for_workspace(ws).first()
    for path in [
        f"accounts/?owner={csm.pk}", f"accounts/?stage={stage.pk}", f"contacts/?account={account.pk}",
        f"touchpoints/?account={account.pk}", f"touchpoints/?author={csm.pk}", f"contracts/?account={account.pk}",
    ]:
        response = api.get(f"/api/v1/{path}")
        # A's id is "not a valid choice" here, exactly like an id that does not exist anywhere.
        assert response.status_code == 400, path
        assert_no_leak(response)
    for path in ["accounts/?q=Sakura", "accounts/?external_id=crm-sakura", "contacts/?q=Secret",
                 "contacts/?external_id=crm-c-1", "touchpoints/?q=Secret", "contracts/?product=Secret",
                 "tags/?name=secret-tag"]:
        response = api.get(f"/api/v1/{path}")
        assert response.status_code == 200 and response.json()["count"] == 0, path


def test_nonexistent_and_foreign_ids_get_the_same_answer(api_for, outsider, account):
    api = api_for(outsider)
    foreign = api.get(f"/api/v1/contacts/?account={account.pk}").json()
    missing = api.get("/api/v1/contacts/?account=987654").json()
    assert foreign == missing
    foreign = api.post("/api/v1/contacts/", {"account": account.pk, "name": "X"}).json()
    missing = api.post("/api/v1/contacts/", {"account": 987654, "name": "X"}).json()
    assert foreign["account"][0].replace(str(account.pk), "N") == missing["account"][0].replace("987654", "N")


def test_writes_cannot_point_at_another_workspace(api_for, outsider, other_account, ws, csm, account, a_data):
    api = api_for(outsider)
    stage = LifecycleStage.objects.for_workspace(ws).first()
    cases = [
        ("contacts", {"account": account.pk, "name": "X"}, "account"),
        ("contacts", {"account_external_id": "crm-sakura", "name": "X"}, "account_external_id"),
        ("touchpoints", {"account": account.pk, "channel": "phone"}, "account"),
        ("touchpoints", {"account": other_account.pk, "channel": "phone", "contacts": [a_data["contacts"].pk]},
         "contacts"),
        ("touchpoints", {"account": other_account.pk, "channel": "phone", "author": csm.pk}, "author"),
        ("contracts", {"account": account.pk, "product": "X", "mrr": "1", "start_date": "2026-01-01"}, "account"),
        ("accounts", {"name": "X", "owner": csm.pk}, "owner"),
        ("accounts", {"name": "X", "owner_email": "csm@example.com"}, "owner_email"),
        ("accounts", {"name": "X", "stage": stage.pk}, "stage"),
    ]
    for path, payload, field in cases:
        response = api.post(f"/api/v1/{path}/", payload)
        assert response.status_code == 400, (path, payload, response.json())
        assert field in response.json()
        assert "not found" in str(response.json()[field]).lower() or "no " in str(response.json()[field]).lower()
    assert Contact.objects.for_workspace(account.workspace).count() == 1
    assert Touchpoint.all_workspaces.filter(account=account).count() == 1


def test_upsert_by_external_id_never_reaches_another_workspace(api_for, outsider, account, a_data):
    api = api_for(outsider)
    assert api.get("/api/v1/accounts/by-external-id/crm-sakura/").status_code == 404
    response = api.put("/api/v1/accounts/by-external-id/crm-sakura/", {"name": "Namesake in B"})
    assert response.status_code == 201  # a new row of B with the same CRM id
    account.refresh_from_db()
    assert account.name == "Sakura Logistics KK"
    assert Account.all_workspaces.filter(external_id="crm-sakura").count() == 2
    response = api.post("/api/v1/contacts/bulk-upsert/", [{"external_id": "crm-c-1", "name": "X",
                                                           "account_external_id": "crm-sakura"}])
    assert response.status_code == 200  # links to B's namesake account, not A's
    assert Contact.all_workspaces.get(pk=a_data["contacts"].pk).name == "Secret Contact"
    assert Contact.all_workspaces.get(workspace=outsider.workspace, external_id="crm-c-1").account.name == "Namesake in B"


# --- Authentication --------------------------------------------------------------------------------
def test_no_credentials_is_401():
    response = APIClient().get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_invalid_token_is_401(account):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token csp_not-a-real-key")
    assert api.get("/api/v1/accounts/").status_code == 401


def test_revoked_token_is_401(csm, account):
    token, key = issue_token(membership=csm, name="crm")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/accounts/").status_code == 200
    revoke_token(token=token, actor=csm)
    assert api.get("/api/v1/accounts/").status_code == 401


def test_token_of_b_sees_only_b(api_for, outsider, account, other_account):
    rows = api_for(outsider).get("/api/v1/accounts/").json()["results"]
    assert [r["name"] for r in rows] == ["Hidden Other Corp"]


def test_token_acts_in_its_own_workspace_even_for_a_user_in_both(api_for, csm, other_ws, account, other_account):
    from workspaces.services import add_member

    in_b = add_member(workspace=other_ws, user=csm.user, role="viewer", actor=SYSTEM)
    assert [r["name"] for r in api_for(in_b).get("/api/v1/accounts/").json()["results"]] == ["Hidden Other Corp"]
    assert [r["name"] for r in api_for(csm).get("/api/v1/accounts/").json()["results"]] == ["Sakura Logistics KK"]
    # and B's viewer role applies in B, although the same user is a CSM in A
    assert api_for(in_b).patch(f"/api/v1/accounts/{other_account.pk}/", {"plan": "X"}).status_code == 403


def test_session_auth_works(login, csm, account, other_account):
    client = login(csm)
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["results"]] == ["Sakura Logistics KK"]
    assert client.get("/api/v1/me/").json()["authenticated_by"] == "session"
    assert client.get(f"/api/v1/accounts/{other_account.pk}/").status_code == 404


def test_session_writes_need_csrf(csm, account):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(csm.user)
    response = client.patch(f"/api/v1/accounts/{account.pk}/", {"plan": "X"}, content_type="application/json")
    assert response.status_code == 403


def test_signed_in_user_without_workspace_is_403(client, db):
    user = UserFactory(username="loner")
    client.force_login(user)
    assert client.get("/api/v1/accounts/").status_code == 403


def test_deactivated_member_token_is_401(csm, account):
    _, key = issue_token(membership=csm, name="crm")
    csm.is_active = False
    csm.save()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/accounts/").status_code == 401
