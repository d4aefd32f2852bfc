"""Voice pages and API: ranked list, request page, evidence from an account, CSV export, NPS page and
upload; the API's upsert, 400s and tenancy."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from voice import services
from voice.models import FeatureRequest, FeatureRequestEvidence, SurveyResponse

from .factories import AccountFactory, ContactFactory, FeatureRequestEvidenceFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(ws, csm, manager):
    alpha = AccountFactory(workspace=ws, owner=csm, name="Alpha KK", arr=Decimal("100000"))
    sso = services.file_request(workspace=ws, actor=csm, title="Single sign-on")
    services.add_evidence(request=sso, actor=csm, account=alpha, quote="We need SAML", date=ws.today())
    return {"alpha": alpha, "sso": sso}


def test_empty_states(ws, csm, login):
    client = login(csm)
    page = client.get(reverse("voice:requests")).content.decode()
    assert "No feature requests yet" in page
    page = client.get(reverse("voice:nps")).content.decode()
    assert "No survey answers in this period yet" in page


def test_ranked_list_detail_and_export(ws, csm, asked, login):
    client = login(csm)
    page = client.get(reverse("voice:requests")).content.decode()
    assert "Single sign-on" in page and "100,000" in page
    page = client.get(reverse("voice:request_detail", args=[asked["sso"].pk])).content.decode()
    assert "We need SAML" in page and "Alpha KK" in page
    response = client.get(reverse("voice:export") + "?tier=")
    body = response.content.decode("utf-8-sig")
    assert response.status_code == 200 and "Single sign-on" in body and "Alpha KK" in body
    assert body.splitlines()[0].startswith("id,title,status")
    assert client.get(reverse("voice:requests") + "?segment=999999").status_code == 200  # the error is shown
    assert "No feature request matches" not in client.get(reverse("voice:requests") + "?q=sign").content.decode()


def test_evidence_from_an_account_page(ws, csm, csm2, asked, login):
    client = login(csm)
    url = reverse("voice:evidence_add", args=[asked["alpha"].pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"new_title": "Export to Excel", "quote": "Monthly report", "date": "2026-01-05",
                                 "source": "meeting"})
    assert response.status_code == 302
    assert FeatureRequestEvidence.objects.for_workspace(ws).filter(request__title="Export to Excel").count() == 1
    response = client.post(url, {"quote": "x", "date": "2026-01-05", "source": "call"})
    assert response.status_code == 400 and "Choose a feature request or name a new one" in response.content.decode()
    other = AccountFactory(workspace=ws, owner=csm2)
    assert client.get(reverse("voice:evidence_add", args=[other.pk])).status_code == 403
    assert "Log a feature request" in client.get(reverse("accounts:detail", args=[asked["alpha"].pk])).content.decode()


def test_status_merge_are_managers(ws, csm, manager, asked, login):
    sso = asked["sso"]
    assert login(csm).post(reverse("voice:request_edit", args=[sso.pk]), {"status": "planned"}).status_code == 403
    client = login(manager)
    assert client.post(reverse("voice:request_edit", args=[sso.pk]), {"status": "planned"}).status_code == 302
    sso.refresh_from_db()
    assert sso.status == "planned"
    dup = services.file_request(workspace=ws, actor=manager, title="SAML")
    assert client.post(reverse("voice:request_merge", args=[dup.pk]), {"into": sso.pk}).status_code == 302
    assert not FeatureRequest.objects.for_workspace(ws).filter(pk=dup.pk).exists()


def test_nps_page_and_upload(ws, manager, csm, login):
    contact = ContactFactory(account=AccountFactory(workspace=ws), email="taro@example.jp")
    SurveyResponseFactory(contact=contact, score=3, responded_on=ws.today(), comment="遅い")
    client = login(manager)
    page = client.get(reverse("voice:nps")).content.decode()
    assert "<svg" in page and "遅い" in page and "-100.0" in page
    assert client.get(reverse("voice:nps") + "?period=quarter&kind=csat").status_code == 200
    bad_query = client.get(reverse("voice:nps") + "?start=2026-05-01&end=2026-01-01").content.decode()
    assert "The first day must not be after the last." in bad_query
    bad = SimpleUploadedFile("n.csv", b"contact,score,responded_on\ntaro@example.jp,12,2026-01-01\n")
    response = client.post(reverse("voice:upload"), {"file": bad})
    assert response.status_code == 400 and "0 to 10" in response.content.decode()
    good = SimpleUploadedFile("n.csv", b"contact,score,responded_on\ntaro@example.jp,10,2026-01-01\n")
    assert client.post(reverse("voice:upload"), {"file": good}).status_code == 302
    assert SurveyResponse.objects.for_workspace(ws).count() == 2
    assert login(csm).get(reverse("voice:upload")).status_code == 403


def test_japanese_renders(ws, csm, asked, login):
    client = login(csm)
    for url in (reverse("voice:requests"), reverse("voice:nps"),
                reverse("voice:request_detail", args=[asked["sso"].pk])):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        assert response.status_code == 200 and 'lang="ja"' in response.content.decode()


# --- API -------------------------------------------------------------------------------------------------
def test_api_feature_requests_ranked_and_evidence(ws, csm, manager, asked, api_for):
    api = api_for(csm)
    rows = api.get("/api/v1/feature-requests/").json()["results"]
    assert [(r["title"], r["asking_arr"], r["account_count"]) for r in rows] == [("Single sign-on", "100000.00", 1)]
    assert api.get("/api/v1/feature-requests/?tier=nope").status_code == 400
    assert api.get("/api/v1/feature-requests/?segment=999999").status_code == 400
    created = api.post("/api/v1/feature-requests/", {"title": "Audit log"}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "new"
    assert api.patch(f"/api/v1/feature-requests/{created.json()['id']}/", {"status": "shipped"},
                     format="json").status_code == 403
    assert api_for(manager).patch(f"/api/v1/feature-requests/{created.json()['id']}/", {"status": "shipped"},
                                  format="json").json()["status"] == "shipped"
    evidence = api.post("/api/v1/feature-request-evidence/", {
        "request": created.json()["id"], "account": asked["alpha"].pk, "quote": "Need it", "source": "email"},
        format="json")
    assert evidence.status_code == 201, evidence.content
    assert api.get(f"/api/v1/feature-request-evidence/?request={created.json()['id']}").json()["count"] == 1
    assert api.post("/api/v1/feature-request-evidence/", {"request": created.json()["id"], "account": 999999},
                    format="json").status_code == 400


def test_api_survey_upsert_twice_is_one_row(ws, manager, csm, api_for):
    contact = ContactFactory(account=AccountFactory(workspace=ws))
    api = api_for(manager)
    row = {"external_id": "typeform-1", "contact": contact.pk, "kind": "nps", "score": 4,
           "responded_on": "2026-03-01", "comment": "Slow"}
    first = api.post("/api/v1/survey-responses/bulk-upsert/", [row], format="json")
    second = api.post("/api/v1/survey-responses/bulk-upsert/", [row], format="json")
    assert (first.json()["created"], second.json()["created"], second.json()["updated"]) == (1, 0, 1)
    assert SurveyResponse.objects.for_workspace(ws).count() == 1
    put = api.put("/api/v1/survey-responses/by-external-id/typeform-1/", {"score": 5}, format="json")
    assert put.status_code == 200 and put.json()["score"] == 5
    bad = api.post("/api/v1/survey-responses/bulk-upsert/", [{**row, "external_id": "t-2", "kind": "csat",
                                                              "score": 9}], format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["errors"].keys() == {"score"}
    assert api.post("/api/v1/survey-responses/", {**row, "external_id": "", "score": 11},
                    format="json").status_code == 400
    assert api.post("/api/v1/survey-responses/", {**row, "external_id": "", "responded_on": "2999-01-01"},
                    format="json").status_code == 400
    assert api_for(csm).post("/api/v1/survey-responses/bulk-upsert/", [row], format="json").status_code == 403
    report = api.get("/api/v1/nps/?period=quarter&start=2026-01-01&end=2026-06-30").json()
    assert report["total"]["responses"] == 1 and report["total"]["nps"] == -100.0
    assert [p["period"] for p in report["periods"]] == ["2026-01-01", "2026-04-01"]
    assert api.get("/api/v1/nps/?kind=xyz").status_code == 400


def test_api_tenancy(ws, other_ws, manager, outsider, api_for, asked):
    contact = ContactFactory(account=asked["alpha"])
    SurveyResponseFactory(contact=contact, external_id="a-1")
    api = api_for(outsider)
    assert api.get("/api/v1/feature-requests/").json()["count"] == 0
    assert api.get(f"/api/v1/feature-requests/{asked['sso'].pk}/").status_code == 404
    assert api.get("/api/v1/survey-responses/").json()["count"] == 0
    assert api.get("/api/v1/survey-responses/by-external-id/a-1/").status_code == 404
    assert api.get("/api/v1/nps/").json()["total"]["responses"] == 0
    # Naming A's contact or account from B is "not found".
    assert api.post("/api/v1/survey-responses/bulk-upsert/", [{"external_id": "a-1", "contact": contact.pk,
                                                               "score": 1, "responded_on": "2026-01-01"}],
                    format="json").status_code == 400
    assert api.post("/api/v1/feature-request-evidence/", {"request": asked["sso"].pk, "account": asked["alpha"].pk},
                    format="json").status_code == 400
    assert SurveyResponse.objects.for_workspace(ws).get().score == 9
    FeatureRequestEvidenceFactory(request__workspace=other_ws, account=AccountFactory(workspace=other_ws))
    assert api_for(manager).get("/api/v1/feature-request-evidence/").json()["count"] == 1
