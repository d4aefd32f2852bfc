"""REST API v1 on accounts, contacts, touchpoints, contracts, stages, tags, members and me: shapes,
role rules, validation messages, pagination, filters, ordering and query counts."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, Contact, LifecycleStage, Touchpoint
from accounts.services import update_account
from onboarding.models import OnboardingSettings
from workspaces.models import AuditEvent
from workspaces.policy import SYSTEM

from .factories import AccountFactory, ContactFactory, ContractFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


# --- Shapes -----------------------------------------------------------------------------------------
def test_account_list_has_brief_nested_forms_and_health_fields(api_for, viewer, csm, account):
    update_account(account=account, actor=SYSTEM, tags=["vip"])
    Account.all_workspaces.filter(pk=account.pk).update(health_score=72.5, health_band="green", touch_tier="high")
    response = api_for(viewer).get("/api/v1/accounts/")
    assert response.status_code == 200
    row = response.json()["results"][0]
    assert row["owner"] == {"id": csm.pk, "name": "Kenji Test"}
    assert row["stage"] == {"id": account.stage_id, "name": "Onboarding"}
    assert row["tags"] == ["vip"]
    assert (row["health_score"], row["health_band"], row["touch_tier"]) == (72.5, "green", "high")
    assert "health_change_30d" in row


def test_create_account_with_owner_email_stage_name_and_tags(api_for, manager, csm):
    response = api_for(manager).post("/api/v1/accounts/", {
        "name": "Fuji Foods", "external_id": "crm-fuji", "arr": "3600000", "owner_email": "CSM@example.com",
        "stage_name": "adoption", "tags": ["enterprise", "kanto"],
    })
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"]["id"] == csm.pk
    assert body["stage"]["name"] == "Adoption"
    assert sorted(body["tags"]) == ["enterprise", "kanto"]
    account = Account.all_workspaces.get(external_id="crm-fuji")
    assert account.stage_changes.count() == 1  # the service recorded the stage entry
    assert AuditEvent.all_workspaces.filter(action="account.created", object_id=str(account.pk)).exists()


def test_read_only_health_fields_cannot_be_written(api_for, manager, account):
    response = api_for(manager).patch(f"/api/v1/accounts/{account.pk}/", {"health_score": 99, "touch_tier": "high"})
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.health_score is None and account.touch_tier == ""


def test_owner_by_membership_id_and_unassign(api_for, manager, csm2, account):
    api = api_for(manager)
    assert api.patch(f"/api/v1/accounts/{account.pk}/", {"owner": csm2.pk}).json()["owner"]["id"] == csm2.pk
    assert api.patch(f"/api/v1/accounts/{account.pk}/", {"owner": None}).json()["owner"] is None


def test_stage_change_through_api_is_recorded(api_for, manager, ws, account):
    OnboardingSettings.objects.for_workspace(ws).update(handoff_gates_stage=False)  # not the handoff gate's test
    expansion = LifecycleStage.objects.for_workspace(ws).get(name="Expansion")
    response = api_for(manager).patch(f"/api/v1/accounts/{account.pk}/", {"stage": expansion.pk})
    assert response.json()["stage"] == {"id": expansion.pk, "name": "Expansion"}
    assert account.stage_changes.filter(to_stage=expansion).exists()


# --- Validation messages name the field ---------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "arr": "-5"}, "arr"),
        ({"name": "X", "arr": "lots"}, "arr"),
        ({"name": ""}, "name"),
        ({"arr": "10"}, "name"),
        ({"name": "X", "stage_name": "Nirvana"}, "stage_name"),
        ({"name": "X", "owner_email": "nobody@example.com"}, "owner_email"),
        ({"name": "X", "owner": 999999}, "owner"),
        ({"name": "X", "owner": "abc"}, "owner"),
        ({"name": "X", "stage": 999999}, "stage"),
        ({"name": "X", "status": "paused"}, "status"),
        ({"name": "X", "renewal_date": "next spring"}, "renewal_date"),
        ({"name": "X", "attributes": [1, 2]}, "attributes"),
        ({"name": "X", "tags": "vip"}, "tags"),
        ({"name": "X", "external_id": "crm-sakura"}, "external_id"),
    ],
)
def test_account_validation_names_the_field(api_for, manager, account, payload, field):
    response = api_for(manager).post("/api/v1/accounts/", payload)
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_inactive_owner_is_a_400_naming_owner(api_for, manager, csm2, account):
    csm2.is_active = False
    csm2.save()
    response = api_for(manager).patch(f"/api/v1/accounts/{account.pk}/", {"owner": csm2.pk})
    assert response.status_code == 400
    assert "owner" in response.json()


# --- Role rules ------------------------------------------------------------------------------------
def test_viewer_reads_but_cannot_write(api_for, viewer, account):
    api = api_for(viewer)
    assert api.get(f"/api/v1/accounts/{account.pk}/").status_code == 200
    assert api.patch(f"/api/v1/accounts/{account.pk}/", {"plan": "Gold"}).status_code == 403
    assert api.post("/api/v1/accounts/", {"name": "New"}).status_code == 403
    assert api.delete(f"/api/v1/accounts/{account.pk}/").status_code == 403
    assert api.post("/api/v1/touchpoints/", {"account": account.pk, "channel": "phone"}).status_code == 403
    assert api.post("/api/v1/contacts/", {"account": account.pk, "name": "A"}).status_code == 403
    account.refresh_from_db()
    assert account.plan == ""


def test_csm_updates_own_account_only(api_for, csm, csm2, account, ws):
    others = AccountFactory(workspace=ws, owner=csm2)
    api = api_for(csm)
    assert api.patch(f"/api/v1/accounts/{account.pk}/", {"plan": "Gold"}).status_code == 200
    assert api.patch(f"/api/v1/accounts/{others.pk}/", {"plan": "Gold"}).status_code == 403
    others.refresh_from_db()
    assert others.plan == ""


def test_csm_cannot_reassign_owner(api_for, csm, csm2, account):
    response = api_for(csm).patch(f"/api/v1/accounts/{account.pk}/", {"owner": csm2.pk})
    assert response.status_code == 403
    assert "owner" in response.json()
    account.refresh_from_db()
    assert account.owner == csm
    # sending their own id back is not a reassignment
    assert api_for(csm).patch(f"/api/v1/accounts/{account.pk}/", {"owner": csm.pk}).status_code == 200


def test_csm_creates_only_accounts_they_own_and_cannot_delete(api_for, csm, csm2, account):
    api = api_for(csm)
    refused = api.post("/api/v1/accounts/", {"name": "For someone else", "owner": csm2.pk})
    assert refused.status_code == 403 and "owner" in refused.json()
    created = api.post("/api/v1/accounts/", {"name": "Mine"})
    assert created.status_code == 201
    assert Account.all_workspaces.get(pk=created.json()["id"]).owner == csm
    assert api.delete(f"/api/v1/accounts/{account.pk}/").status_code == 403
    assert Account.all_workspaces.filter(pk=account.pk).exists()


def test_manager_and_admin_change_everything(api_for, manager, admin, csm2, account):
    assert api_for(manager).patch(f"/api/v1/accounts/{account.pk}/", {"owner": csm2.pk}).status_code == 200
    assert api_for(admin).patch(f"/api/v1/accounts/{account.pk}/", {"plan": "Gold"}).status_code == 200
    assert api_for(admin).delete(f"/api/v1/accounts/{account.pk}/").status_code == 204
    assert not Account.all_workspaces.filter(pk=account.pk).exists()


def test_csm_logs_and_edits_touchpoints_on_any_account(api_for, csm, csm2, ws):
    others = AccountFactory(workspace=ws, owner=csm2)
    api = api_for(csm)
    response = api.post("/api/v1/touchpoints/", {
        "account": others.pk, "channel": "phone", "summary": "Renewal call", "sentiment": "positive",
    })
    assert response.status_code == 201, response.json()
    assert response.json()["author"] == {"id": csm.pk, "name": "Kenji Test"}
    by_someone_else = TouchpointFactory(account=others, author=csm2)
    response = api.patch(f"/api/v1/touchpoints/{by_someone_else.pk}/", {"summary": "Fixed a typo"})
    assert response.status_code == 200
    assert Touchpoint.all_workspaces.get(pk=by_someone_else.pk).summary == "Fixed a typo"


def test_csm_cannot_log_for_someone_else_or_delete_others_touchpoints(api_for, csm, csm2, account):
    api = api_for(csm)
    response = api.post("/api/v1/touchpoints/", {"account": account.pk, "channel": "phone", "author": csm2.pk})
    assert response.status_code == 403
    assert "author" in response.json()
    theirs = TouchpointFactory(account=account, author=csm2)
    assert api.delete(f"/api/v1/touchpoints/{theirs.pk}/").status_code == 403
    mine = TouchpointFactory(account=account, author=csm)
    assert api.delete(f"/api/v1/touchpoints/{mine.pk}/").status_code == 204


def test_touchpoint_contacts_must_belong_to_the_account(api_for, csm, ws, account):
    stranger = ContactFactory(account=AccountFactory(workspace=ws))
    own = ContactFactory(account=account)
    api = api_for(csm)
    response = api.post("/api/v1/touchpoints/", {"account": account.pk, "channel": "email", "contacts": [stranger.pk]})
    assert response.status_code == 400 and "contacts" in response.json()
    response = api.post("/api/v1/touchpoints/", {"account": account.pk, "channel": "email", "contacts": [own.pk]})
    assert response.status_code == 201
    assert response.json()["contacts"] == [{"id": own.pk, "name": own.name, "email": own.email}]


def test_touchpoint_validation_names_the_field(api_for, csm, account):
    api = api_for(csm)
    assert "channel" in api.post("/api/v1/touchpoints/", {"account": account.pk, "channel": "fax"}).json()
    assert "account" in api.post("/api/v1/touchpoints/", {"channel": "phone"}).json()
    response = api.post("/api/v1/touchpoints/", {"account": account.pk, "channel": "phone", "occurred_at": "soon"})
    assert "occurred_at" in response.json()


def test_csm_writes_contacts_only_on_own_accounts(api_for, csm, csm2, ws, account):
    others = AccountFactory(workspace=ws, owner=csm2)
    api = api_for(csm)
    response = api.post("/api/v1/contacts/", {"account": account.pk, "name": "Hana", "role": "champion"})
    assert response.status_code == 201, response.json()
    assert response.json()["account"]["id"] == account.pk
    response = api.post("/api/v1/contacts/", {"account": others.pk, "name": "Taro"})
    assert response.status_code == 403 and "account" in response.json()
    theirs = ContactFactory(account=others)
    assert api.patch(f"/api/v1/contacts/{theirs.pk}/", {"title": "CTO"}).status_code == 403
    mine = ContactFactory(account=account)
    # moving one's own contact to someone else's account is a write on that account
    assert api.patch(f"/api/v1/contacts/{mine.pk}/", {"account": others.pk}).status_code == 403
    assert api_for(csm2).patch(f"/api/v1/contacts/{theirs.pk}/", {"title": "CTO"}).status_code == 200


def test_contact_by_account_external_id_and_validation(api_for, manager, account):
    api = api_for(manager)
    response = api.post("/api/v1/contacts/", {"account_external_id": "crm-sakura", "name": "Ken", "email": "ken@x.jp"})
    assert response.status_code == 201
    assert Contact.all_workspaces.get(email="ken@x.jp").account == account
    assert "account_external_id" in api.post(
        "/api/v1/contacts/", {"account_external_id": "nope", "name": "Ken"}
    ).json()
    assert "email" in api.post("/api/v1/contacts/", {"account": account.pk, "name": "K", "email": "bad"}).json()
    assert "role" in api.post("/api/v1/contacts/", {"account": account.pk, "name": "K", "role": "boss"}).json()


def test_contracts_follow_account_rules_and_validate_dates(api_for, csm, csm2, ws, account):
    api = api_for(csm)
    payload = {"account": account.pk, "product": "Core", "mrr": "100000", "start_date": "2026-01-01"}
    response = api.post("/api/v1/contracts/", payload)
    assert response.status_code == 201, response.json()
    assert Decimal(response.json()["arr"]) == Decimal("1200000")
    response = api.post("/api/v1/contracts/", {**payload, "end_date": "2025-01-01"})
    assert response.status_code == 400 and "end_date" in response.json()
    others = AccountFactory(workspace=ws, owner=csm2)
    assert api.post("/api/v1/contracts/", {**payload, "account": others.pk}).status_code == 403


def test_stages_are_read_by_all_and_written_by_managers(api_for, csm, manager, ws):
    assert [s["name"] for s in api_for(csm).get("/api/v1/stages/").json()["results"]] == [
        "Onboarding", "Adoption", "Established", "Expansion", "Renewal"
    ]
    assert api_for(csm).post("/api/v1/stages/", {"name": "Churn risk", "position": 9}).status_code == 403
    assert api_for(manager).post("/api/v1/stages/", {"name": "Churn risk", "position": 9}).status_code == 201
    response = api_for(manager).post("/api/v1/stages/", {"name": "adoption", "position": 9})
    assert response.status_code == 400 and "name" in response.json()
    stage = LifecycleStage.objects.for_workspace(ws).first()
    assert api_for(manager).delete(f"/api/v1/stages/{stage.pk}/").status_code == 405


def test_tags_are_read_only(api_for, manager, account):
    update_account(account=account, actor=SYSTEM, tags=["vip", "kanto"])
    api = api_for(manager)
    assert [t["name"] for t in api.get("/api/v1/tags/").json()["results"]] == ["kanto", "vip"]
    assert api.post("/api/v1/tags/", {"name": "new"}).status_code == 405


def test_members_and_me(api_for, csm, admin, viewer):
    members = api_for(viewer).get("/api/v1/members/").json()["results"]
    assert {m["email"] for m in members} == {"csm@example.com", "admin@example.com", "viewer@example.com"}
    assert set(members[0]) >= {"id", "name", "email", "role"}
    detail = api_for(viewer).get(f"/api/v1/members/{csm.pk}/").json()
    assert (detail["name"], detail["role"]) == ("Kenji Test", "csm")
    me = api_for(csm).get("/api/v1/me/").json()
    assert me["membership"]["id"] == csm.pk
    assert me["workspace"]["slug"] == "acme-cs"
    assert me["permissions"]["can_edit"] and not me["permissions"]["is_manager"]
    assert me["authenticated_by"] == "token"


# --- Pagination, filters, ordering -----------------------------------------------------------------
@pytest.fixture
def book(ws, csm, csm2):
    stages = list(LifecycleStage.objects.for_workspace(ws))
    today = dt.date(2026, 6, 1)
    rows = [
        ("Alpha KK", csm, 100_000, stages[0], "active", 80.0),
        ("Beta KK", csm, 5_000_000, stages[1], "active", 40.0),
        ("Gamma KK", csm2, 900_000, stages[1], "active", None),
        ("Delta KK", csm2, 20_000_000, stages[2], "churned", 10.0),
        ("Epsilon KK", None, 300_000, stages[3], "active", 60.0),
    ]
    return [
        AccountFactory(
            workspace=ws, name=name, owner=owner, arr=Decimal(arr), stage=stage, status=status,
            churned_on=today if status == "churned" else None, health_score=score,
            renewal_date=today + dt.timedelta(days=30 * i),
        )
        for i, (name, owner, arr, stage, status, score) in enumerate(rows)
    ]


def names(response):
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


def test_pagination(api_for, manager, book):
    api = api_for(manager)
    first = api.get("/api/v1/accounts/?page_size=2").json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"]
    assert names(api.get("/api/v1/accounts/?page_size=2&page=3")) == ["Gamma KK"]
    assert api.get("/api/v1/accounts/?page_size=2&page=4").status_code == 404
    assert len(api.get("/api/v1/accounts/?page_size=100000").json()["results"]) == 5  # capped at 500


def test_filters_are_the_page_filters(api_for, manager, csm, csm2, ws, book):
    api = api_for(manager)
    adoption = LifecycleStage.objects.for_workspace(ws).get(name="Adoption")
    assert names(api.get(f"/api/v1/accounts/?owner={csm.pk}")) == ["Alpha KK", "Beta KK"]
    assert names(api.get("/api/v1/accounts/?unowned=true")) == ["Epsilon KK"]
    assert names(api.get(f"/api/v1/accounts/?stage={adoption.pk}")) == ["Beta KK", "Gamma KK"]
    assert names(api.get("/api/v1/accounts/?status=churned")) == ["Delta KK"]
    assert names(api.get("/api/v1/accounts/?arr_min=500000&arr_max=6000000")) == ["Beta KK", "Gamma KK"]
    assert names(api.get("/api/v1/accounts/?q=eps")) == ["Epsilon KK"]
    assert api.get(f"/api/v1/accounts/?owner={csm2.pk}&status=active").json()["count"] == 1


def test_bad_filter_values_name_the_parameter(api_for, manager, book):
    api = api_for(manager)
    for query, field in [("status=paused", "status"), ("arr_min=lots", "arr_min"), ("owner=99999", "owner"),
                         ("renewal_before=someday", "renewal_before")]:
        response = api.get(f"/api/v1/accounts/?{query}")
        assert response.status_code == 400 and field in response.json(), query


def test_ordering_allow_list(api_for, manager, book):
    api = api_for(manager)
    assert names(api.get("/api/v1/accounts/?ordering=-arr"))[:2] == ["Delta KK", "Beta KK"]
    assert names(api.get("/api/v1/accounts/?ordering=arr"))[0] == "Alpha KK"
    assert names(api.get("/api/v1/accounts/?ordering=renewal_date"))[0] == "Alpha KK"
    assert names(api.get("/api/v1/accounts/?ordering=-health_score,name"))[0] in ("Alpha KK", "Gamma KK")
    assert names(api.get("/api/v1/accounts/?ordering=-updated_at"))
    response = api.get("/api/v1/accounts/?ordering=owner__user__password")
    assert response.status_code == 400 and "ordering" in response.json()


def test_touchpoint_and_contact_filters(api_for, csm, csm2, account, ws):
    other = AccountFactory(workspace=ws, owner=csm2)
    TouchpointFactory(account=account, author=csm, channel="phone", summary="Quarterly call")
    TouchpointFactory(account=other, author=csm2, channel="webinar", summary="Webinar")
    ContactFactory(account=account, name="Hana", is_key_person=True)
    ContactFactory(account=other, name="Taro")
    api = api_for(csm)
    rows = api.get(f"/api/v1/touchpoints/?account={account.pk}").json()["results"]
    assert [r["summary"] for r in rows] == ["Quarterly call"]
    assert api.get("/api/v1/touchpoints/?channel=webinar&channel=seminar").json()["count"] == 1
    assert api.get(f"/api/v1/touchpoints/?author={csm2.pk}").json()["count"] == 1
    assert names(api.get("/api/v1/contacts/?is_key_person=true")) == ["Hana"]
    assert names(api.get(f"/api/v1/contacts/?account={other.pk}")) == ["Taro"]


# --- Query counts: list endpoints must not grow with the number of rows ---------------------------
@pytest.mark.parametrize("path", ["accounts", "contacts", "touchpoints", "contracts", "members", "stages"])
def test_list_query_count_is_constant(api_for, manager, ws, csm, django_assert_max_num_queries, path):
    for i in range(12):
        account = AccountFactory(workspace=ws, owner=csm)
        update_account(account=account, actor=SYSTEM, tags=[f"t{i}", "shared"])
        contact = ContactFactory(account=account)
        touchpoint = TouchpointFactory(account=account, author=csm)
        touchpoint.contacts.set([contact])
        ContractFactory(account=account)
    api = api_for(manager)
    api.get("/api/v1/me/")  # the token's first use writes last_used_at; keep that out of the count
    with django_assert_max_num_queries(6):
        response = api.get(f"/api/v1/{path}/?page_size=100")
    assert response.status_code == 200


def test_model_wide_errors_become_non_field_errors():
    from django.core.exceptions import ValidationError

    from workspaces.api.exceptions import api_exception_handler

    response = api_exception_handler(ValidationError({"__all__": ["A churned account needs a churn date."]}), {})
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["A churned account needs a churn date."]}
