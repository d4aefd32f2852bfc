"""Feature requests and survey responses: services and selectors, with hand-computed figures."""

import datetime as dt
from decimal import Decimal

import pytest

from segments.services import save_segment
from voice import selectors, services
from voice.models import FeatureRequest, FeatureRequestEvidence, SurveyResponse
from workspaces.errors import DomainError, NotAllowed, RowErrors
from workspaces.models import AuditEvent
from workspaces.policy import SYSTEM

from .factories import AccountFactory, ContactFactory, FeatureRequestEvidenceFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 15)


@pytest.fixture
def book(ws, csm, csm2):
    """Three accounts: Alpha (ARR 100k, high touch, CSM), Beta (50k, low, CSM2), Gamma (20k, low, CSM)."""
    return {
        "alpha": AccountFactory(workspace=ws, owner=csm, name="Alpha", arr=Decimal("100000"), touch_tier="high"),
        "beta": AccountFactory(workspace=ws, owner=csm2, name="Beta", arr=Decimal("50000"), touch_tier="low"),
        "gamma": AccountFactory(workspace=ws, owner=csm, name="Gamma", arr=Decimal("20000"), touch_tier="low"),
    }


def test_ranking_by_distinct_arr_and_count(ws, csm, manager, book):
    sso = services.file_request(workspace=ws, actor=csm, title="SSO")
    export = services.file_request(workspace=ws, actor=csm, title="Export to Excel")
    # Alpha asks twice for SSO: its ARR counts once. SSO: Alpha + Beta = 150k, 2 accounts, 3 pieces.
    services.add_evidence(request=sso, actor=csm, account=book["alpha"], date=DAY, quote="Need SSO")
    services.add_evidence(request=sso, actor=csm, account=book["alpha"], date=DAY + dt.timedelta(days=1))
    services.add_evidence(request=sso, actor=manager, account=book["beta"], date=DAY - dt.timedelta(days=3))
    # Export: Beta + Gamma = 70k, 2 accounts.
    services.add_evidence(request=export, actor=manager, account=book["beta"], date=DAY)
    services.add_evidence(request=export, actor=csm, account=book["gamma"], date=DAY)
    ranked = list(selectors.request_ranking(workspace=ws))
    assert [(r.title, r.asking_arr, r.account_count, r.evidence_count) for r in ranked] == [
        ("SSO", Decimal("150000"), 2, 3), ("Export to Excel", Decimal("70000"), 2, 2)]
    assert ranked[0].last_heard == DAY + dt.timedelta(days=1)
    # Low touch only: SSO has Beta (50k), Export Beta + Gamma (70k): Export first.
    low = list(selectors.request_ranking(workspace=ws, filters={"tier": "low"}))
    assert [(r.title, r.asking_arr, r.account_count) for r in low] == [
        ("Export to Excel", Decimal("70000"), 2), ("SSO", Decimal("50000"), 1)]
    high = list(selectors.request_ranking(workspace=ws, filters={"tier": "high"}))
    assert [(r.title, r.asking_arr) for r in high] == [("SSO", Decimal("100000"))]
    by_count = list(selectors.request_ranking(workspace=ws, ranking="count"))
    assert [r.title for r in by_count] == ["SSO", "Export to Excel"]  # 2 = 2, then ARR


def test_segment_filter_counts_only_its_accounts(ws, csm, manager, book):
    segment = save_segment(workspace=ws, actor=SYSTEM, name="Big", rules={
        "op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 40000}]})
    sso = services.file_request(workspace=ws, actor=csm, title="SSO")
    services.add_evidence(request=sso, actor=manager, account=book["gamma"], date=DAY)
    services.add_evidence(request=sso, actor=manager, account=book["beta"], date=DAY)
    rows = list(selectors.request_ranking(workspace=ws, filters={"segment": segment.pk}))
    assert [(r.title, r.asking_arr, r.account_count) for r in rows] == [("SSO", Decimal("50000"), 1)]


def test_evidence_policy_and_audit(ws, csm, csm2, viewer, manager, book):
    sso = services.file_request(workspace=ws, actor=csm, title="SSO")
    with pytest.raises(NotAllowed):  # Beta is CSM2's
        services.add_evidence(request=sso, actor=csm, account=book["beta"])
    with pytest.raises(NotAllowed):
        services.file_request(workspace=ws, actor=viewer, title="Nope")
    with pytest.raises(NotAllowed):
        services.update_request(request=sso, actor=csm, status="planned")
    services.update_request(request=sso, actor=manager, status="planned")
    contact = ContactFactory(account=book["beta"])
    with pytest.raises(DomainError) as exc:
        services.add_evidence(request=sso, actor=manager, account=book["alpha"], contact=contact)
    assert exc.value.field == "contact"
    actions = list(AuditEvent.objects.for_workspace(ws).values_list("action", flat=True).order_by("id"))
    assert actions == ["feature_request.created", "feature_request.updated"]


def test_merge_moves_evidence_and_deletes_the_duplicate(ws, csm, manager, book):
    sso = services.file_request(workspace=ws, actor=csm, title="SSO")
    saml = services.file_request(workspace=ws, actor=csm, title="SAML login")
    services.add_evidence(request=saml, actor=csm, account=book["gamma"], date=DAY)
    with pytest.raises(NotAllowed):
        services.merge_requests(duplicate=saml, into=sso, actor=csm)
    services.merge_requests(duplicate=saml, into=sso, actor=manager)
    assert list(FeatureRequest.objects.for_workspace(ws).values_list("title", flat=True)) == ["SSO"]
    assert FeatureRequestEvidence.objects.for_workspace(ws).get().request == sso


def _nps_world(ws, book):
    alpha = ContactFactory(account=book["alpha"])
    beta = ContactFactory(account=book["beta"])
    # June: Alpha 10, 9, 7; Beta 6, 0 -> 2 promoters, 1 passive, 2 detractors of 5: NPS 0.
    for contact, score, day in ((alpha, 10, 1), (alpha, 9, 2), (alpha, 7, 3), (beta, 6, 4), (beta, 0, 5)):
        SurveyResponseFactory(contact=contact, score=score, responded_on=dt.date(2026, 6, day))
    # July: Alpha 9, Beta 8, 8 -> 1 promoter of 3: NPS 33.3.
    for contact, score in ((alpha, 9), (beta, 8), (beta, 8)):
        SurveyResponseFactory(contact=contact, score=score, responded_on=dt.date(2026, 7, 10))
    # A CSAT answer never counts in NPS.
    SurveyResponseFactory(contact=alpha, kind="csat", score=2, responded_on=dt.date(2026, 6, 20))
    return alpha, beta


def test_nps_per_month_quarter_and_tier(ws, book):
    _nps_world(ws, book)
    trend = selectors.nps_trend(workspace=ws, start=dt.date(2026, 5, 1), end=dt.date(2026, 7, 31))
    assert [(r["period"], r["responses"], r["promoters"], r["passives"], r["detractors"], r["nps"])
            for r in trend] == [(dt.date(2026, 5, 1), 0, 0, 0, 0, None), (dt.date(2026, 6, 1), 5, 2, 1, 2, 0.0),
                                (dt.date(2026, 7, 1), 3, 1, 2, 0, 33.3)]
    quarter = selectors.nps_trend(workspace=ws, start=dt.date(2026, 4, 1), end=dt.date(2026, 9, 30),
                                  period="quarter")
    # Q2: the 5 of June; Q3: the 3 of July.
    assert [(r["period"], r["nps"]) for r in quarter] == [(dt.date(2026, 4, 1), 0.0), (dt.date(2026, 7, 1), 33.3)]
    total = selectors.nps_total(workspace=ws, start=dt.date(2026, 6, 1), end=dt.date(2026, 7, 31))
    # 3 promoters, 3 passives, 2 detractors of 8: 100 * (3 - 2) / 8 = 12.5.
    assert (total["responses"], total["nps"]) == (8, 12.5)
    tiers = selectors.nps_by_group(workspace=ws, start=dt.date(2026, 6, 1), end=dt.date(2026, 7, 31),
                                   group_by="tier")
    # High (Alpha): 10, 9, 7, 9 -> 3 promoters of 4 = 75; low (Beta): 6, 0, 8, 8 -> -50.
    assert [(r["key"], r["responses"], r["nps"]) for r in tiers] == [("high", 4, 75.0), ("low", 4, -50.0)]
    csat = selectors.nps_total(workspace=ws, start=dt.date(2026, 6, 1), end=dt.date(2026, 7, 31), kind="csat")
    assert (csat["responses"], csat["csat"], csat["average"]) == (1, 0.0, 2.0)


def test_latest_nps_and_detractors_as_of(ws, book):
    _nps_world(ws, book)
    alpha, beta = book["alpha"].pk, book["beta"].pk
    assert selectors.latest_nps(workspace=ws, as_of=dt.date(2026, 6, 4)) == {
        alpha: (7, dt.date(2026, 6, 3)), beta: (6, dt.date(2026, 6, 4))}
    assert selectors.latest_nps(workspace=ws, as_of=dt.date(2026, 5, 31)) == {}
    found = selectors.detractor_responses(workspace=ws, as_of=dt.date(2026, 6, 5), within_days=30)
    assert list(found) == [beta] and found[beta]["score"] == 0
    # Window of 2 days up to June 5: June 4 and 5. Up to June 6 with 2 days: June 5 and 6 -> still the 0.
    assert selectors.detractor_responses(workspace=ws, as_of=dt.date(2026, 6, 7), within_days=2) == {}


def test_bulk_upsert_twice_is_one_row_and_bad_rows_write_nothing(ws, manager, csm, book):
    contact = ContactFactory(account=book["alpha"])
    rows = [{"external_id": "r-1", "contact": contact, "score": 3, "responded_on": DAY}]
    first = services.bulk_upsert_responses(workspace=ws, actor=manager, rows=rows)
    second = services.bulk_upsert_responses(workspace=ws, actor=manager, rows=rows)
    assert (first["created"], second["created"], second["updated"]) == (1, 0, 1)
    assert SurveyResponse.objects.for_workspace(ws).get().account == book["alpha"]
    assert AuditEvent.objects.for_workspace(ws).filter(action__startswith="survey_response").count() == 1
    with pytest.raises(RowErrors) as exc:
        services.bulk_upsert_responses(workspace=ws, actor=manager, rows=[
            {"external_id": "r-2", "contact": contact, "score": 7, "responded_on": DAY},
            {"external_id": "r-3", "contact": contact, "kind": "csat", "score": 7, "responded_on": DAY}])
    assert exc.value.errors[0]["index"] == 1 and "score" in exc.value.errors[0]["errors"]
    assert SurveyResponse.objects.for_workspace(ws).count() == 1
    with pytest.raises(NotAllowed):
        services.bulk_upsert_responses(workspace=ws, actor=csm, rows=rows)


def test_csv_upload_names_row_and_field(ws, manager, book):
    contact = ContactFactory(account=book["alpha"], email="hanako@alpha.example", external_id="c-9")
    good = "external_id,contact,score,responded_on,comment\nx-1,hanako@alpha.example,9,2026/6/1,よい\n"
    result = services.import_responses(workspace=ws, actor=manager, data=good.encode(), filename="n.csv")
    assert result["created"] == 1
    assert SurveyResponse.objects.for_workspace(ws).get().contact == contact
    bad = ("回答ID,コンタクト,スコア,回答日\nx-2,c-9,11,2026-06-02\nx-3,nobody@x.example,5,2026-06-02\n"
           "x-4,c-9,5,tomorrow\n")
    with pytest.raises(services.UploadErrors) as exc:
        services.import_responses(workspace=ws, actor=manager, data=bad.encode(), filename="n.csv")
    assert [(e["row"], e["field"]) for e in exc.value.errors] == [(2, "score"), (3, "contact"), (4, "responded_on")]
    assert "0 to 10" in exc.value.errors[0]["message"]
    assert SurveyResponse.objects.for_workspace(ws).count() == 1
    with pytest.raises(services.UploadErrors) as exc:
        services.import_responses(workspace=ws, actor=manager, data=b"contact,score\nc-9,5\n", filename="n.csv")
    assert exc.value.errors[0]["field"] == "responded_on"


def test_tenancy_of_reads(ws, other_ws, book):
    FeatureRequestEvidenceFactory(request__workspace=other_ws, account=AccountFactory(workspace=other_ws))
    assert list(selectors.request_ranking(workspace=ws)) == []
