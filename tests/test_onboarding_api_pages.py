"""Onboarding through the API and the pages: handoff upsert by id or external ID (400s naming the
field), bulk all-or-nothing, milestones, the report; permissions (viewer, CSM of another account,
manager-only pages); tenancy (workspace A never reads, changes or counts B); pages and CSV exports."""

import datetime as dt

import pytest
from django.urls import reverse

from onboarding import services
from onboarding.models import AccountMilestone, Handoff
from tests.factories import AccountFactory, ContactFactory
from tests.imports_helpers import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(ws, account):
    return ContactFactory(workspace=ws, account=account, name="Suzuki", external_id="crm-c-1",
                          email="suzuki@sakura.example")


def test_upsert_by_external_id_then_by_id(ws, manager, account, contact, api_for):
    api = api_for(manager)
    response = api.post("/api/v1/handoffs/", {"account_external_id": "crm-sakura", "why_bought": "Manual reports",
                                              "objectives": "Weekly report in 10 minutes"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["complete"] is False
    response = api.post("/api/v1/handoffs/", {"account": account.pk, "decision_maker": contact.pk}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["complete"] is True and body["why_bought"] == "Manual reports"
    assert body["decision_maker"]["id"] == contact.pk
    assert Handoff.objects.for_workspace(ws).count() == 1
    listed = api.get("/api/v1/handoffs/").json()
    assert listed["count"] == 1 if isinstance(listed, dict) else len(listed) == 1


def test_api_400s_name_the_field(ws, manager, account, other_account, api_for):
    api = api_for(manager)
    stranger = ContactFactory(workspace=other_account.workspace, account=other_account)
    cases = [
        ({"why_bought": "x"}, "account"),
        ({"account_external_id": "nope"}, "account_external_id"),
        ({"account": other_account.pk}, "account"),
        ({"account": account.pk, "decision_maker": stranger.pk}, "decision_maker"),
        ({"account": account.pk, "risks": "x" * 5001}, "risks"),
    ]
    for payload, field in cases:
        response = api.post("/api/v1/handoffs/", payload, format="json")
        assert response.status_code == 400, payload
        assert field in response.json(), (payload, response.json())
    response = api.post("/api/v1/onboarding/milestones/", {"rows": [
        {"account": account.pk, "milestone": "kickoff", "done_on": "2020-01-01"},
        {"account": account.pk, "milestone": "nope", "done_on": "2020-01-01"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 1, "errors": {"milestone": [
        "Not a milestone of this workspace's onboarding plan."]}}]
    assert not AccountMilestone.objects.for_workspace(ws).exists()  # all or nothing
    assert api.get("/api/v1/onboarding/milestones/?account=abc").status_code == 400
    assert api.get("/api/v1/onboarding/report/?months=99").status_code == 400


def test_bulk_is_all_or_nothing(ws, csm, csm2, account, contact, api_for):
    theirs = AccountFactory(workspace=ws, owner=csm2, external_id="crm-theirs")
    response = api_for(csm).post("/api/v1/handoffs/bulk/", {"rows": [
        {"account": account.pk, "why_bought": "Ok"}, {"account": theirs.pk, "why_bought": "Not mine"}]},
        format="json")
    assert response.status_code == 403  # a row of someone else's account refuses the batch
    assert not Handoff.objects.for_workspace(ws).exists()
    response = api_for(csm).post("/api/v1/handoffs/bulk/", {"rows": [
        {"account": account.pk, "why_bought": "Ok"}, {"account": account.pk, "risks": "Twice"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 1, "errors": {"account": ["This account is in the file twice."]}}]
    assert not Handoff.objects.for_workspace(ws).exists()
    response = api_for(csm).post("/api/v1/handoffs/bulk/", {"rows": [{"account": account.pk, "why_bought": "Ok"}]},
                                 format="json")
    assert response.status_code == 200


def test_permissions(ws, viewer, csm, csm2, manager, account, api_for, login):
    assert api_for(viewer).post("/api/v1/handoffs/", {"account": account.pk, "why_bought": "x"},
                                format="json").status_code == 403
    assert api_for(csm2).post("/api/v1/handoffs/", {"account": account.pk, "why_bought": "x"},
                              format="json").status_code == 403
    assert api_for(csm).post("/api/v1/handoffs/", {"account": account.pk, "why_bought": "x"},
                             format="json").status_code == 201
    assert api_for(viewer).post("/api/v1/onboarding/milestones/", {"rows": []}, format="json").status_code == 403
    assert api_for(csm).get("/api/v1/onboarding/report/").status_code == 403
    assert api_for(manager).get("/api/v1/onboarding/report/").status_code == 200
    page = reverse("onboarding:handoff", args=[account.pk])
    assert login(viewer).post(page, {"why_bought": "x"}).status_code == 403
    assert login(csm2).post(page, {"why_bought": "x"}).status_code == 403
    assert login(csm).post(page, {"why_bought": "Because"}).status_code == 302
    assert login(csm).get(reverse("onboarding:report")).status_code == 403
    assert login(csm).post(reverse("onboarding:settings"), {"handoff_gates_stage": ""}).status_code == 403
    done = reverse("onboarding:milestone_done", args=[account.pk])
    assert login(viewer).post(done, {"key": "kickoff", "done_on": "2026-01-01"}).status_code == 403


def test_tenancy(ws, manager, account, other_account, outsider, api_for, login):
    services.save_handoff(workspace=other_account.workspace, actor=outsider, account=other_account,
                          why_bought="Secret")
    api = api_for(manager)
    body = api.get("/api/v1/handoffs/").json()
    assert "Secret" not in str(body)
    hidden = Handoff.objects.for_workspace(other_account.workspace).get()
    assert api.get(f"/api/v1/handoffs/{hidden.pk}/").status_code == 404
    assert api.get(f"/api/v1/onboarding/milestones/?account={other_account.pk}").status_code == 400
    response = api.post("/api/v1/onboarding/milestones/", {"rows": [
        {"account": other_account.pk, "milestone": "kickoff", "done_on": "2026-01-01"}]}, format="json")
    assert response.status_code == 400
    report = api.get("/api/v1/onboarding/report/").json()
    assert sum(row["accounts"] for row in report["cohorts"]) <= 1  # only A's account could count
    client = login(manager)
    assert client.get(reverse("onboarding:handoff", args=[other_account.pk])).status_code == 404
    assert "Hidden Other Corp" not in client.get(reverse("onboarding:incomplete")).content.decode()


def test_pages_render_with_empty_states_and_exports(ws, manager, csm, account, login, contact):
    client = login(manager)
    response = client.get(reverse("onboarding:incomplete"))
    assert response.status_code == 200 and "Sakura Logistics KK" in response.content.decode()
    response = client.get(reverse("onboarding:late"))
    assert response.status_code == 200 and "No late onboarding milestones." in response.content.decode()
    for name in ("report", "settings", "upload"):
        assert client.get(reverse(f"onboarding:{name}")).status_code == 200
    for table in ("cohorts", "tiers", "csms"):
        response = client.get(reverse("onboarding:report_export", args=[table]))
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    detail = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert 'id="onboarding"' in detail and "No handoff from sales yet." in detail
    response = client.post(reverse("onboarding:handoff", args=[account.pk]), {
        "why_bought": "Reports", "objectives": "Faster", "decision_maker": contact.pk})
    assert response.status_code == 302
    assert Handoff.objects.for_workspace(ws).get().completed_at is not None
    assert "Sakura Logistics KK" not in client.get(reverse("onboarding:incomplete")).content.decode()
    response = client.post(reverse("onboarding:milestone_done", args=[account.pk]),
                           {"key": "kickoff", "done_on": ws.today().isoformat()})
    assert response.status_code == 302
    assert AccountMilestone.objects.for_workspace(ws).get().done_on == ws.today()
    ja = client.get(reverse("onboarding:incomplete"), HTTP_ACCEPT_LANGUAGE="ja")
    assert ja.status_code == 200


def test_csv_import_with_row_errors_and_dry_run(ws, manager, account, contact):
    good = csv_bytes([["account", "why_bought", "objectives", "decision_maker"],
                      ["crm-sakura", "Reports", "Faster", "suzuki@sakura.example"]])
    assert len(services.import_handoffs(workspace=ws, actor=manager, data=good, dry_run=True)) == 1
    assert not Handoff.objects.for_workspace(ws).exists()  # a dry run keeps nothing
    bad = csv_bytes([["account", "why_bought", "decision_maker"],
                     ["crm-sakura", "Reports", "nobody@x.example"], ["crm-unknown", "x", ""]])
    with pytest.raises(services.UploadErrors) as exc:
        services.import_handoffs(workspace=ws, actor=manager, data=bad)
    assert {(e["row"], e["field"]) for e in exc.value.errors} == {(2, "decision_maker"), (3, "account")}
    saved = services.import_handoffs(workspace=ws, actor=manager, data=good)
    assert saved[0].completed_at is not None
    missing = csv_bytes([["why_bought"], ["x"]])
    with pytest.raises(services.UploadErrors) as exc:
        services.import_handoffs(workspace=ws, actor=manager, data=missing)
    assert exc.value.errors[0]["field"] == "account"
    milestones = csv_bytes([["account", "milestone", "done_on"], ["crm-sakura", "Kickoff", "2026/04/05"],
                            ["crm-sakura", "first_success", "not a date"]])
    with pytest.raises(services.UploadErrors) as exc:
        services.import_milestones(workspace=ws, actor=manager, data=milestones)
    assert [(e["row"], e["field"]) for e in exc.value.errors] == [(3, "done_on")]
    ok = csv_bytes([["account", "milestone", "done_on"], ["crm-sakura", "Kickoff", "2026/04/05"]])
    services.import_milestones(workspace=ws, actor=manager, data=ok)
    assert AccountMilestone.objects.for_workspace(ws).get().done_on == dt.date(2026, 4, 5)


def test_upload_page_shows_row_errors(ws, manager, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = csv_bytes([["account", "why_bought"], ["crm-nope", "x"]])
    response = login(manager).post(reverse("onboarding:upload"), {
        "kind": "handoffs", "file": SimpleUploadedFile("h.csv", data, content_type="text/csv")})
    assert response.status_code == 400
    assert "No account with this external ID or name." in response.content.decode()


def test_a_viewer_reads_the_handoff_without_a_form(ws, viewer, manager, account, contact, login):
    services.save_handoff(workspace=ws, actor=manager, account=account, why_bought="Reports", decision_maker=contact)
    page = login(viewer).get(reverse("onboarding:handoff", args=[account.pk])).content.decode()
    assert "Reports" in page and "Suzuki" in page and "Save the handoff" not in page
