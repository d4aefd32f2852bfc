"""Churn reasons: each workspace's own list, and churning requires one of them, whichever door the
write comes in by (service, API, import, page). Tenancy: B's reasons are invisible and unusable in A."""

import importlib
import json

import pytest
from django.apps import apps
from django.urls import reverse

from accounts import services
from accounts.models import Account, ChurnReasonCategory
from accounts.selectors import churn_reason_choices, churn_reason_names, onboarding_failure_codes
from workspaces.errors import DomainError, NotAllowed
from workspaces.models import AuditEvent

from .factories import AccountFactory, ChurnReasonFactory, WorkspaceFactory
from .imports_helpers import csv_bytes, run_import

pytestmark = pytest.mark.django_db

DEFAULT_CODES = ["onboarding_failure", "low_usage", "champion_left", "budget", "price", "competitor", "product_gap",
                 "support", "business_closed", "other"]
REASONS = reverse("accounts:churn_reasons")


def reasons_of(ws):
    return ChurnReasonCategory.objects.for_workspace(ws)


@pytest.fixture
def archived(ws):
    return ChurnReasonFactory(workspace=ws, code="legacy_pricing", name="Old pricing model", archived=True)


@pytest.fixture
def theirs(other_ws):
    """A reason only workspace B has."""
    return ChurnReasonFactory(workspace=other_ws, code="b_only", name="Only in B")


# --- defaults, provisioning and the data migration ------------------------------------------------
def test_a_new_workspace_gets_the_ten_reasons_and_onboarding_failure_is_marked(ws):
    assert list(reasons_of(ws).values_list("code", flat=True)) == DEFAULT_CODES
    assert onboarding_failure_codes(ws) == {"onboarding_failure"}
    assert churn_reason_names(ws)["budget"] == "Budget cut"
    assert not reasons_of(ws).filter(archived=True).exists()


def test_a_japanese_workspace_gets_japanese_names():
    nihon = WorkspaceFactory(slug="nihon", language="ja")
    names = churn_reason_names(nihon)
    assert names["onboarding_failure"] == "オンボーディング失敗"
    assert names["competitor"] == "競合への乗り換え"
    assert names["other"] == "その他"


def test_provisioning_twice_adds_nothing(ws):
    services.ensure_defaults(workspace=ws)
    assert reasons_of(ws).count() == 10


def test_the_migration_gives_older_workspaces_the_reasons_and_accounts_keep_their_codes(ws, other_ws):
    migration = importlib.import_module("accounts.migrations.0006_churn_reason_categories")
    nihon = WorkspaceFactory(slug="nihon", language="ja")
    gone = AccountFactory(workspace=ws, status="churned", churned_on=ws.today(), churn_reason="competitor")
    odd = AccountFactory(workspace=ws, status="churned", churned_on=ws.today(), churn_reason="merged")
    ChurnReasonCategory.all_workspaces.all().delete()  # as before the migration

    migration.create_reasons(apps, None)
    migration.create_reasons(apps, None)  # idempotent

    assert list(reasons_of(ws).values_list("code", flat=True)) == [*DEFAULT_CODES, "merged"]
    assert list(reasons_of(other_ws).values_list("code", flat=True)) == DEFAULT_CODES
    merged = reasons_of(ws).get(code="merged")
    assert merged.archived and merged.name == "merged"  # history still names it
    assert churn_reason_names(ws)["onboarding_failure"] == "Onboarding failure"
    assert churn_reason_names(nihon)["onboarding_failure"] == "オンボーディング失敗"
    assert onboarding_failure_codes(nihon) == {"onboarding_failure"}
    assert [a.churn_reason for a in Account.all_workspaces.filter(pk__in=[gone.pk, odd.pk]).order_by("pk")] == [
        "competitor", "merged"]


# --- selectors ---------------------------------------------------------------------------------------
def test_names_include_archived_reasons_but_choices_do_not_unless_current(ws, archived, theirs):
    assert churn_reason_names(ws)["legacy_pricing"] == "Old pricing model"
    assert "b_only" not in churn_reason_names(ws)
    codes = [code for code, _name in churn_reason_choices(ws)]
    assert codes == DEFAULT_CODES
    assert [code for code, _n in churn_reason_choices(ws, current="legacy_pricing")][-1] == "legacy_pricing"
    assert "b_only" not in [code for code, _n in churn_reason_choices(ws, current="b_only")]


# --- the write path: service level ---------------------------------------------------------------------
def churn(account, actor, **fields):
    return services.update_account(account=account, actor=actor, status="churned", **fields)


def test_churning_requires_a_reason(manager, account):
    with pytest.raises(DomainError) as error:
        churn(account, manager)
    assert error.value.field == "churn_reason" and "needs a churn reason" in error.value.message
    account.refresh_from_db()  # a refused write leaves the instance as planned, not as stored
    with pytest.raises(DomainError):
        churn(account, manager, churn_reason="  ")
    account.refresh_from_db()
    assert account.status == "active"
    churn(account, manager, churn_reason="budget", churn_note="Their budget moved to AI tools.")
    account.refresh_from_db()
    assert (account.status, account.churn_reason, account.churned_on) == ("churned", "budget", account.workspace.today())


def test_unknown_archived_and_other_workspace_codes_are_refused(ws, manager, account, archived, theirs):
    for code, says in (("nope", "not a churn reason"), ("legacy_pricing", "archived"), ("b_only", "not a churn reason")):
        with pytest.raises(DomainError) as error:
            churn(account, manager, churn_reason=code)
        assert error.value.field == "churn_reason" and says in error.value.message
        account.refresh_from_db()
    with pytest.raises(DomainError):
        services.create_account(workspace=ws, actor=manager, name="Born churned", status="churned")


def test_an_account_keeps_its_archived_reason_and_an_old_churn_without_reason_stays_editable(ws, manager, archived):
    kept = AccountFactory(workspace=ws, status="churned", churned_on=ws.today(), churn_reason="legacy_pricing")
    services.update_account(account=kept, actor=manager, plan="Legacy")  # the reason does not change
    old = AccountFactory(workspace=ws, status="churned", churned_on=ws.today())
    Account.objects.for_workspace(ws).filter(pk=old.pk).update(churn_reason="")  # churned before reasons were required
    old.refresh_from_db()
    services.update_account(account=old, actor=manager, plan="Basic")
    with pytest.raises(DomainError):
        services.update_account(account=kept, actor=manager, churn_reason="")  # clearing it is a change
    reactivated = services.update_account(account=kept, actor=manager, status="active")
    assert (reactivated.churn_reason, reactivated.churned_on) == ("", None)


# --- managing the reasons ---------------------------------------------------------------------------------
def test_managers_add_rename_archive_and_delete_reasons_audited(ws, manager, csm):
    added = services.save_churn_reason(workspace=ws, actor=manager, name="Merged into a group contract",
                                       counts_as_onboarding_failure=False, position=20)
    assert added.code == "merged_into_a_group_cont"  # the name's slug, at most 24 characters
    japanese = services.save_churn_reason(workspace=ws, actor=manager, name="グループ契約に統合")
    assert japanese.code == "reason"
    services.save_churn_reason(workspace=ws, actor=manager, reason=added, name="Group contract", archived=True)
    added.refresh_from_db()
    assert (added.name, added.archived) == ("Group contract", True)
    event = AuditEvent.objects.for_workspace(ws).get(action="churn_reason.updated")
    assert event.changes == {"name": ["Merged into a group contract", "Group contract"], "archived": ["False", "True"]}
    with pytest.raises(DomainError) as error:
        services.save_churn_reason(workspace=ws, actor=manager, reason=added, code="group")
    assert error.value.field == "code"
    with pytest.raises(DomainError) as error:
        services.save_churn_reason(workspace=ws, actor=manager, name="budget cut")
    assert error.value.field == "name"
    with pytest.raises(NotAllowed):
        services.save_churn_reason(workspace=ws, actor=csm, name="Mine")
    services.delete_churn_reason(reason=japanese, actor=manager)
    assert AuditEvent.objects.for_workspace(ws).filter(action__startswith="churn_reason.").count() == 4


def test_a_reason_in_use_cannot_be_deleted(ws, manager):
    AccountFactory(workspace=ws, status="churned", churned_on=ws.today(), churn_reason="price")
    price = reasons_of(ws).get(code="price")
    with pytest.raises(DomainError, match="archive the reason instead"):
        services.delete_churn_reason(reason=price, actor=manager)
    assert reasons_of(ws).filter(code="price").exists()


def test_another_workspaces_reason_is_refused_to_its_managers(manager, theirs):
    with pytest.raises(NotAllowed):
        services.save_churn_reason(workspace=manager.workspace, actor=manager, reason=theirs, name="Hijacked")
    with pytest.raises(NotAllowed):
        services.delete_churn_reason(reason=theirs, actor=manager)


# --- API -------------------------------------------------------------------------------------------------
def test_api_lists_reasons_to_every_member_and_lets_managers_write(api_for, ws, manager, csm, viewer, theirs):
    listed = api_for(viewer).get("/api/v1/churn-reasons/?page_size=100").json()["results"]
    assert [r["code"] for r in listed] == DEFAULT_CODES
    assert listed[0] == {"id": listed[0]["id"], "code": "onboarding_failure", "name": "Onboarding failure",
                         "description": "Never went live, or never reached the first value.",
                         "counts_as_onboarding_failure": True, "position": 0, "archived": False}
    assert api_for(csm).post("/api/v1/churn-reasons/", {"name": "Mine"}).status_code == 403
    created = api_for(manager).post("/api/v1/churn-reasons/", {"code": "merged", "name": "Merged", "position": 11})
    assert created.status_code == 201 and created.json()["code"] == "merged"
    pk = created.json()["id"]
    assert api_for(manager).patch(f"/api/v1/churn-reasons/{pk}/", {"archived": True}).json()["archived"] is True
    refused = api_for(manager).patch(f"/api/v1/churn-reasons/{pk}/", {"code": "other_code"})
    assert refused.status_code == 400 and "code" in refused.json()
    assert api_for(manager).post("/api/v1/churn-reasons/", {"code": "merged", "name": "Again"}).status_code == 400
    active = api_for(manager).get("/api/v1/churn-reasons/?archived=false&page_size=100").json()["results"]
    assert "merged" not in [r["code"] for r in active]
    # B's reason is not there for A: not listed, not readable, not writable.
    assert api_for(manager).get(f"/api/v1/churn-reasons/{theirs.pk}/").status_code == 404
    assert api_for(manager).patch(f"/api/v1/churn-reasons/{theirs.pk}/", {"name": "x"}).status_code == 404
    assert api_for(manager).delete(f"/api/v1/churn-reasons/{pk}/").status_code == 204


def test_api_refuses_to_delete_a_reason_in_use(api_for, ws, manager):
    AccountFactory(workspace=ws, status="churned", churned_on=ws.today(), churn_reason="support")
    support = reasons_of(ws).get(code="support")
    response = api_for(manager).delete(f"/api/v1/churn-reasons/{support.pk}/")
    assert response.status_code == 400 and "archive" in str(response.json())


def test_api_account_churn_needs_a_known_current_reason(api_for, ws, manager, account, archived, theirs):
    api = api_for(manager)
    url = f"/api/v1/accounts/{account.pk}/"
    missing = api.patch(url, {"status": "churned"}, format="json")
    assert missing.status_code == 400 and list(missing.json()) == ["churn_reason"]
    for code in ("nope", "legacy_pricing", "b_only"):
        response = api.patch(url, {"status": "churned", "churn_reason": code}, format="json")
        assert response.status_code == 400 and list(response.json()) == ["churn_reason"], code
    ok = api.patch(url, {"status": "churned", "churn_reason": "competitor", "churn_note": "Went to X"}, format="json")
    assert ok.status_code == 200 and ok.json()["churn_reason"] == "competitor"
    bulk = api.post("/api/v1/accounts/bulk-upsert/", [
        {"external_id": "n-1", "name": "One", "status": "churned", "churn_reason": "price"},
        {"external_id": "n-2", "name": "Two", "status": "churned"},
    ], format="json")
    assert bulk.status_code == 400 and "churn_reason" in str(bulk.json()) and "1" in str(bulk.json())
    assert not Account.objects.for_workspace(ws).filter(external_id__in=["n-1", "n-2"]).exists()


def test_the_schema_documents_churn_reason_as_a_string(api_for, manager):
    schema = api_for(manager).get("/api/schema/?format=json").json()
    field = schema["components"]["schemas"]["Account"]["properties"]["churn_reason"]
    assert field["type"] == "string" and "enum" not in field and "churn-reasons" in field["description"]
    assert "ChurnReasonEnum" not in schema["components"]["schemas"]
    assert "/api/v1/churn-reasons/" in schema["paths"]


# --- import ----------------------------------------------------------------------------------------------
def test_import_takes_a_code_or_a_name_in_either_language(ws, manager, archived):
    data = csv_bytes([["name", "status", "churn_reason"],
                      ["A", "churned", "budget"], ["B", "churned", "Budget cut"], ["C", "解約", "競合への乗り換え"],
                      ["D", "churned", "オンボーディング失敗"], ["E", "churned", "old pricing model"]])
    result = run_import(data, workspace=ws, actor=manager, valid_only=True)
    assert dict(Account.objects.for_workspace(ws).values_list("name", "churn_reason")) == {
        "A": "budget", "B": "budget", "C": "competitor", "D": "onboarding_failure"}
    assert [(e["row"], e["field"]) for e in result.errors] == [(6, "churn_reason")]
    assert "archived" in result.errors[0]["message"]


def test_import_names_the_row_and_field_of_a_missing_or_unknown_reason(ws, manager, theirs):
    data = csv_bytes([["name", "status", "churn_reason"],
                      ["A", "churned", ""], ["B", "churned", "Only in B"], ["C", "churned", "Aliens"],
                      ["D", "active", ""]])
    result = run_import(data, workspace=ws, actor=manager)
    assert not result.committed
    assert [(e["row"], e["field"]) for e in result.errors] == [(2, "churn_reason"), (3, "churn_reason"),
                                                                (4, "churn_reason")]
    assert "needs a churn reason" in result.errors[0]["message"]
    assert "“Aliens” is not a churn reason of this workspace" in result.errors[2]["message"]


def test_a_japanese_workspace_imports_english_names(manager):
    nihon = WorkspaceFactory(slug="nihon", language="ja")
    from workspaces.models import Membership, Role

    boss = Membership.objects.create(workspace=nihon, user=manager.user, role=Role.MANAGER)
    data = csv_bytes([["name", "status", "churn_reason"], ["A", "churned", "Moved to a competitor"],
                      ["B", "churned", "価格"]])
    assert run_import(data, workspace=nihon, actor=boss).committed
    assert dict(Account.objects.for_workspace(nihon).values_list("name", "churn_reason")) == {
        "A": "competitor", "B": "price"}


def test_export_writes_the_code_and_imports_back(ws, manager):
    from .imports_helpers import export_bytes

    AccountFactory(workspace=ws, name="Gone KK", status="churned", churned_on=ws.today(), churn_reason="support")
    text = export_bytes(workspace=ws, object_type="accounts").decode("utf-8-sig")
    assert ",support," in text


# --- pages -----------------------------------------------------------------------------------------------
def test_the_page_lists_renames_adds_and_archives(login, ws, manager):
    AccountFactory(workspace=ws, status="churned", churned_on=ws.today(), churn_reason="price")
    client = login(manager)
    page = client.get(REASONS)
    assert page.status_code == 200 and "Onboarding failure" in page.content.decode()
    formset = page.context["formset"]
    data = {"reasons-TOTAL_FORMS": str(len(formset.forms)), "reasons-INITIAL_FORMS": "10",
            "reasons-MIN_NUM_FORMS": "0", "reasons-MAX_NUM_FORMS": "1000"}
    for i, form in enumerate(formset.forms):
        reason = form.instance
        if reason.pk:
            data.update({f"reasons-{i}-id": str(reason.pk), f"reasons-{i}-name": reason.name,
                         f"reasons-{i}-description": reason.description, f"reasons-{i}-position": str(reason.position)})
            if reason.counts_as_onboarding_failure:
                data[f"reasons-{i}-counts_as_onboarding_failure"] = "on"
    data["reasons-4-name"] = "Too expensive"  # price
    data["reasons-7-archived"] = "on"  # support
    data.update({"reasons-10-code": "", "reasons-10-name": "Merged", "reasons-10-position": "10"})
    response = client.post(REASONS, data)
    assert response.status_code == 302, response.context["formset"].errors
    assert churn_reason_names(ws)["price"] == "Too expensive"
    assert reasons_of(ws).get(code="support").archived
    assert reasons_of(ws).get(code="merged").name == "Merged"
    data["reasons-4-DELETE"] = "on"  # price is in use
    refused = client.post(REASONS, data)
    assert refused.status_code == 400 and "archive the reason instead" in refused.content.decode()


def test_the_page_is_for_managers(login, csm):
    assert login(csm).get(REASONS).status_code == 403


def test_the_account_form_requires_a_reason_and_offers_current_ones(login, ws, manager, account, archived):
    from .test_account_pages import account_form_data

    client = login(manager)
    form = client.get(reverse("accounts:edit", args=[account.pk])).context["form"]
    assert [code for code, _n in form.fields["churn_reason"].choices][1:] == DEFAULT_CODES
    url = reverse("accounts:edit", args=[account.pk])
    response = client.post(url, account_form_data(account, status="churned"))
    assert response.status_code == 400 and response.context["form"].errors["churn_reason"]
    response = client.post(url, account_form_data(account, status="churned", churn_reason="legacy_pricing"))
    assert response.status_code == 400 and "churn_reason" in response.context["form"].errors
    response = client.post(url, account_form_data(account, status="churned", churn_reason="low_usage"))
    assert response.status_code == 302
    detail = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Low usage / no value seen" in detail


def test_the_pages_in_japanese(client):
    from workspaces.models import Membership, Role

    from .factories import UserFactory

    nihon = WorkspaceFactory(slug="nihon", language="ja")
    boss = Membership.objects.create(workspace=nihon, user=UserFactory(username="bucho"), role=Role.MANAGER)
    gone = AccountFactory(workspace=nihon, status="churned", churned_on=nihon.today(), churn_reason="budget",
                          name="解約済KK")
    client.force_login(boss.user)
    session = client.session
    session["workspace_id"] = nihon.pk
    session.save()
    page = client.get(REASONS, HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'lang="ja"' in text and "オンボーディング失敗" in text and "競合への乗り換え" in text
    detail = client.get(reverse("accounts:detail", args=[gone.pk]), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "解約理由" in detail and "予算削減" in detail


# --- portability -----------------------------------------------------------------------------------------
@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_reasons_travel_with_the_workspace(ws, manager, media, tmp_path, archived):
    from cs_platform.portability.services import export_workspace, import_workspace

    services.save_churn_reason(workspace=ws, actor=manager, reason=reasons_of(ws).get(code="price"), name="Too dear")
    AccountFactory(workspace=ws, name="Gone KK", status="churned", churned_on=ws.today(),
                   churn_reason="legacy_pricing")
    path = tmp_path / "ws.zip"
    export_workspace(workspace=ws, path=str(path))
    restored = import_workspace(path=str(path), slug="restored").workspace
    fields = ("code", "name", "description", "counts_as_onboarding_failure", "position", "archived")
    assert list(reasons_of(restored).values_list(*fields)) == list(reasons_of(ws).values_list(*fields))
    assert Account.objects.for_workspace(restored).get(name="Gone KK").churn_reason == "legacy_pricing"


def test_an_archive_from_before_reasons_gets_the_defaults(ws, media, tmp_path):
    from cs_platform.portability.archive import MANIFEST
    from cs_platform.portability.services import export_workspace, import_workspace

    from .test_portability_archive import read_archive, write_archive

    path = tmp_path / "ws.zip"
    export_workspace(workspace=ws, path=str(path))
    members = read_archive(path)
    manifest = json.loads(members[MANIFEST])
    for part in manifest["parts"]:
        part["tables"] = [t for t in part["tables"] if t["name"] != "accounts.churnreasoncategory"]
    members = {name: data for name, data in members.items() if "churnreasoncategory" not in name}
    older = write_archive(tmp_path / "older.zip", {**members, MANIFEST: json.dumps(manifest).encode()})
    restored = import_workspace(path=str(older), slug="restored").workspace
    assert list(reasons_of(restored).values_list("code", flat=True)) == DEFAULT_CODES


# --- demo ------------------------------------------------------------------------------------------------
def test_the_demo_churns_with_reasons_notes_and_an_archived_reason_of_its_own():
    from cs_platform.demo import seed_demo

    ws = seed_demo(slug="demo", accounts=60, seed=7).workspace
    churned = Account.objects.for_workspace(ws).filter(status="churned")
    known = set(churn_reason_names(ws))
    assert churned.exists() and set(churned.values_list("churn_reason", flat=True)) <= known
    own = reasons_of(ws).get(code="merged_group_contract")
    assert own.archived and own.name == "グループ契約へ統合"
    assert churned.filter(churn_reason=own.code).count() == 2
    assert churned.exclude(churn_note="").exists()
    again = seed_demo(slug="demo", accounts=60, seed=7).workspace  # a refresh: the same, no second reason
    assert reasons_of(again).filter(code__startswith="merged_group_contract").count() == 1
