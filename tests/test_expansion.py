"""Expansion toss-ups: the status rules, who may log and move them, the KPI per CSM against numbers
worked out by hand, the API (upsert, 400s naming the field, tenancy) and the pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from expansion.models import Opportunity
from expansion.periods import PeriodKind, period_bounds, previous_period
from expansion.selectors import pipeline_kpis
from expansion.services import change_status, create_opportunity, delete_opportunity, update_opportunity
from workspaces.errors import DomainError, NotAllowed
from workspaces.models import AuditEvent
from workspaces.policy import SYSTEM

from .factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def log(ws, actor, account, **fields):
    fields.setdefault("estimated_mrr", Decimal("30000"))
    fields.setdefault("handed_to_name", "Ken Sales")
    return create_opportunity(workspace=ws, actor=actor, account=account, **fields)


# --- services: transitions, the won MRR rule, permissions ---------------------------------------------
def test_a_csm_logs_a_toss_up_on_their_account_credited_to_themselves(ws, csm, account):
    opp = log(ws, csm, account, kind="more_seats", note="Two more teams want seats")
    assert (opp.raised_by, opp.created_by, opp.status) == (csm, csm, "handed_over")
    assert opp.handed_over_on == ws.today()
    event = AuditEvent.objects.for_workspace(ws).get(action="opportunity.created")
    assert (event.actor, event.object_id) == (csm, str(opp.pk))


def test_status_moves_forward_and_won_needs_its_won_mrr(ws, csm, account):
    opp = log(ws, csm, account)
    change_status(opportunity=opp, actor=csm, status="qualified")
    with pytest.raises(DomainError) as error:
        change_status(opportunity=opp, actor=csm, status="won")
    assert error.value.field == "won_mrr"
    assert Opportunity.objects.for_workspace(ws).get().status == "qualified"  # nothing saved
    change_status(opportunity=opp, actor=csm, status="won", won_mrr=Decimal("25000"))
    opp.refresh_from_db()
    assert (opp.status, opp.won_mrr, opp.closed_on) == ("won", Decimal("25000"), ws.today())
    with pytest.raises(DomainError, match="won toss-up is closed") as error:
        change_status(opportunity=opp, actor=csm, status="lost")
    assert error.value.field == "status"
    assert AuditEvent.objects.for_workspace(ws).filter(action="opportunity.status_changed").count() == 2


def test_invalid_transitions_are_refused_with_the_states_named(ws, csm, account):
    opp = log(ws, csm, account)
    change_status(opportunity=opp, actor=csm, status="qualified")
    with pytest.raises(DomainError, match="cannot go from Qualified to Handed over"):
        update_opportunity(opportunity=opp, actor=csm, status="handed_over")
    change_status(opportunity=opp, actor=csm, status="lost", lost_reason="Budget frozen")
    opp.refresh_from_db()
    assert (opp.closed_on, opp.lost_reason) == (ws.today(), "Budget frozen")
    change_status(opportunity=opp, actor=csm, status="qualified")  # the AE reopened it
    opp.refresh_from_db()
    assert (opp.status, opp.closed_on, opp.lost_reason) == ("qualified", None, "")


def test_rules_of_the_fields_name_the_field(ws, csm, account):
    cases = [
        ({"estimated_mrr": Decimal("-1")}, "estimated_mrr"),
        ({"handed_to_name": "  "}, "handed_to"),
        ({"won_mrr": Decimal("10")}, "won_mrr"),
        ({"status": "won"}, "won_mrr"),
        ({"handed_over_on": ws.today() + dt.timedelta(days=3)}, "handed_over_on"),
        ({"kind": "merger"}, "kind"),
        ({"status": "lost", "handed_over_on": ws.today(), "closed_on": ws.today() - dt.timedelta(days=2)},
         "closed_on"),
    ]
    for fields, field in cases:
        with pytest.raises(DomainError) as error:
            log(ws, csm, account, **fields)
        assert error.value.field == field, fields
    log(ws, csm, account, external_id="opp-1")
    with pytest.raises(DomainError) as error:
        log(ws, csm, account, external_id="opp-1")
    assert error.value.field == "external_id"


def test_who_may_log_and_move_toss_ups(ws, csm, csm2, manager, viewer, account):
    theirs = AccountFactory(workspace=ws, owner=csm2)
    with pytest.raises(NotAllowed) as refused:
        log(ws, csm, theirs)  # a CSM logs on the accounts they own
    assert refused.value.field == "account"
    with pytest.raises(NotAllowed):
        log(ws, viewer, account)
    with pytest.raises(NotAllowed) as refused:
        log(ws, csm, account, raised_by=csm2)  # crediting someone else is a manager's
    assert refused.value.field == "raised_by"
    by_manager = log(ws, manager, theirs, raised_by=csm2)  # managers log on every account, for anyone
    assert by_manager.raised_by == csm2
    mine = log(ws, csm, account)
    with pytest.raises(NotAllowed):
        change_status(opportunity=mine, actor=csm2, status="qualified")  # not the raiser
    change_status(opportunity=by_manager, actor=csm2, status="qualified")  # the raiser
    change_status(opportunity=mine, actor=manager, status="qualified")  # a manager
    with pytest.raises(NotAllowed):
        delete_opportunity(opportunity=mine, actor=viewer)
    delete_opportunity(opportunity=mine, actor=csm)
    assert AuditEvent.objects.for_workspace(ws).filter(action="opportunity.deleted").count() == 1


def test_an_account_of_another_workspace_is_refused(ws, csm, manager, other_account):
    with pytest.raises((DomainError, NotAllowed)):
        log(ws, manager, other_account)


# --- the KPI, worked out by hand ------------------------------------------------------------------------
def test_periods():
    day = dt.date(2026, 5, 17)
    assert period_bounds(PeriodKind.MONTH, day) == (dt.date(2026, 5, 1), dt.date(2026, 6, 1))
    assert period_bounds(PeriodKind.QUARTER, day) == (dt.date(2026, 4, 1), dt.date(2026, 7, 1))
    assert period_bounds(PeriodKind.QUARTER, dt.date(2026, 12, 31)) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert period_bounds(PeriodKind.CUSTOM, day, start=dt.date(2026, 1, 10), end=dt.date(2026, 1, 20)) == (
        dt.date(2026, 1, 10), dt.date(2026, 1, 21))
    assert previous_period(PeriodKind.QUARTER, dt.date(2026, 1, 1), dt.date(2026, 4, 1)) == (
        dt.date(2025, 10, 1), dt.date(2026, 1, 1))
    assert previous_period(PeriodKind.CUSTOM, dt.date(2026, 1, 10), dt.date(2026, 1, 21)) == (
        dt.date(2025, 12, 30), dt.date(2026, 1, 10))


def test_kpi_per_csm_against_hand_computed_numbers(ws, csm, csm2, manager, other_ws, outsider):
    mine, theirs = AccountFactory(workspace=ws, owner=csm), AccountFactory(workspace=ws, owner=csm2)
    q1 = dt.date(2026, 1, 1)

    def opp(account, day, mrr, status="handed_over", won=None, raised_by=None):
        return OpportunityFactory(account=account, handed_over_on=day, estimated_mrr=Decimal(mrr), status=status,
                                  won_mrr=None if won is None else Decimal(won), raised_by=raised_by or account.owner,
                                  closed_on=day if status in ("won", "lost") else None)

    # csm: three in Q1 (10k open, 20k won at 15k, 30k lost) and one on 1 April (Q2: not counted).
    opp(mine, q1, "10000")
    opp(mine, dt.date(2026, 2, 14), "20000", "won", "15000")
    opp(mine, dt.date(2026, 3, 31), "30000", "lost")
    opp(mine, dt.date(2026, 4, 1), "99000")
    # csm2: two in Q1 (5k won at 8k, 7k qualified), one the day before the quarter (not counted).
    opp(theirs, dt.date(2026, 1, 20), "5000", "won", "8000")
    opp(theirs, dt.date(2026, 3, 1), "7000", "qualified")
    opp(theirs, dt.date(2025, 12, 31), "50000")
    # Another workspace's toss-ups never count.
    OpportunityFactory(account=AccountFactory(workspace=other_ws, owner=outsider), handed_over_on=q1,
                       estimated_mrr=Decimal("777777"))

    kpis = pipeline_kpis(workspace=ws, start=q1, end=dt.date(2026, 4, 1))
    rows = {row["member"]: row for row in kpis["rows"]}
    assert [row["member"] for row in kpis["rows"]] == [csm, csm2]  # biggest pipeline first; managers raised none
    assert (rows[csm]["count"], rows[csm]["amount"]) == (3, Decimal("60000"))
    assert (rows[csm]["won_count"], rows[csm]["won_amount"], rows[csm]["lost_count"], rows[csm]["open_count"]) == (
        1, Decimal("15000"), 1, 1)
    assert rows[csm]["win_rate"] == 0.5
    assert (rows[csm2]["count"], rows[csm2]["amount"], rows[csm2]["won_amount"]) == (2, Decimal("12000"),
                                                                                     Decimal("8000"))
    assert rows[csm2]["win_rate"] == 1.0  # one won, none lost; the qualified one is not decided
    total = kpis["total"]
    assert (total["count"], total["amount"], total["won_count"], total["won_amount"]) == (
        5, Decimal("72000"), 2, Decimal("23000"))
    assert total["win_rate"] == pytest.approx(2 / 3)
    # A month: only csm's February toss-up; csm2 still has a row, with zeros.
    feb = pipeline_kpis(workspace=ws, start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 1))
    rows = {row["member"]: row for row in feb["rows"]}
    assert (rows[csm]["count"], rows[csm]["amount"], rows[csm2]["count"], rows[csm2]["amount"]) == (
        1, Decimal("20000"), 0, 0)
    assert rows[csm2]["win_rate"] is None


# --- API ------------------------------------------------------------------------------------------------
def test_api_upsert_twice_is_one_row_and_keeps_status_in_sync(ws, manager, csm, account, api_for):
    api = api_for(manager)
    body = {"account_external_id": "crm-sakura", "kind": "cross_sell", "estimated_mrr": "40000",
            "raised_by": csm.pk, "handed_to_name": "Ken Sales"}
    first = api.put("/api/v1/opportunities/by-external-id/sf-opp-1/", body, format="json")
    assert first.status_code == 201, first.content
    again = api.put("/api/v1/opportunities/by-external-id/sf-opp-1/", body, format="json")
    assert again.status_code == 200
    assert Opportunity.objects.for_workspace(ws).count() == 1
    assert AuditEvent.objects.for_workspace(ws).filter(action__startswith="opportunity.").count() == 1
    won = api.put("/api/v1/opportunities/by-external-id/sf-opp-1/", {"status": "won", "won_mrr": "35000"},
                  format="json")
    assert won.status_code == 200, won.content
    assert (won.json()["status"], won.json()["won_mrr"], won.json()["raised_by"]["id"]) == ("won", "35000.00", csm.pk)
    bulk = api.post("/api/v1/opportunities/bulk-upsert/", [
        {"external_id": "sf-opp-1", "won_mrr": "36000"},
        {"external_id": "sf-opp-2", "account": account.pk, "estimated_mrr": "1000", "handed_to_name": "Ken"}],
        format="json")
    assert bulk.status_code == 200, bulk.content
    assert (bulk.json()["created"], bulk.json()["updated"]) == (1, 1)


def test_api_400s_name_the_field(ws, manager, account, api_for):
    api = api_for(manager)
    cases = [
        ({"account": account.pk, "handed_to_name": "Ken"}, "estimated_mrr"),
        ({"estimated_mrr": "10", "handed_to_name": "Ken"}, "account"),
        ({"account": account.pk, "estimated_mrr": "-5", "handed_to_name": "Ken"}, "estimated_mrr"),
        ({"account": account.pk, "estimated_mrr": "10"}, "handed_to"),
        ({"account": account.pk, "estimated_mrr": "10", "handed_to_name": "Ken", "status": "won"}, "won_mrr"),
        ({"account": account.pk, "estimated_mrr": "10", "handed_to_name": "Ken", "kind": "merger"}, "kind"),
        ({"account": account.pk, "estimated_mrr": "10", "handed_to_email": "nobody@example.com"}, "handed_to_email"),
    ]
    for body, field in cases:
        response = api.post("/api/v1/opportunities/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json(), (body, response.json())
    opp = OpportunityFactory(account=account, status="won", won_mrr=Decimal("1"), closed_on=ws.today())
    response = api.patch(f"/api/v1/opportunities/{opp.pk}/", {"status": "lost"}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    assert api.get("/api/v1/opportunities/kpi/?period=custom&start=2026-01-05").status_code == 400


def test_api_tenancy_another_workspace_is_invisible_and_uncountable(ws, manager, account, other_account, outsider,
                                                                    api_for):
    mine = OpportunityFactory(account=account, external_id="x-1")
    hidden = OpportunityFactory(account=other_account, external_id="x-1", estimated_mrr=Decimal("999999"))
    api = api_for(manager)
    listed = api.get("/api/v1/opportunities/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == mine.pk
    assert api.get(f"/api/v1/opportunities/{hidden.pk}/").status_code == 404
    assert api.patch(f"/api/v1/opportunities/{hidden.pk}/", {"note": "x"}, format="json").status_code == 404
    assert api.get(f"/api/v1/opportunities/?account={other_account.pk}").status_code == 400
    created = api.post("/api/v1/opportunities/", {"account": other_account.pk, "estimated_mrr": "1",
                                                   "handed_to_name": "Ken"}, format="json")
    assert created.status_code == 400 and "account" in created.json()
    kpi = api.get("/api/v1/opportunities/kpi/?period=month").json()
    assert kpi["total"]["count"] == 1 and Decimal(kpi["total"]["amount"]) == Decimal("50000")
    upsert = api.put("/api/v1/opportunities/by-external-id/x-1/", {"note": "ours"}, format="json")
    assert upsert.status_code == 200 and upsert.json()["id"] == mine.pk
    hidden.refresh_from_db()
    assert hidden.note == ""


def test_api_a_csm_cannot_move_someone_elses_toss_up(ws, csm, csm2, account, api_for):
    opp = OpportunityFactory(account=account, raised_by=csm2)
    response = api_for(csm).patch(f"/api/v1/opportunities/{opp.pk}/", {"status": "qualified"}, format="json")
    assert response.status_code == 403


# --- pages -----------------------------------------------------------------------------------------------
def test_pages_render_and_the_empty_state(ws, csm, account, login):
    client = login(csm)
    empty = client.get(reverse("expansion:list"))
    assert empty.status_code == 200 and "No toss-ups yet" in empty.content.decode()
    assert client.get(reverse("expansion:kpi")).status_code == 200
    form = client.get(reverse("expansion:create") + f"?account={account.pk}")
    assert form.status_code == 200 and f'<option value="{account.pk}" selected' in form.content.decode()
    detail = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert reverse("expansion:create") + f"?account={account.pk}" in detail


def test_log_a_toss_up_then_win_it_through_the_pages(ws, csm, account, login):
    client = login(csm)
    response = client.post(reverse("expansion:create"), {
        "account": account.pk, "kind": "upsell", "estimated_mrr": "12000", "handed_to_name": "Ken Sales",
        "handed_over_on": ws.today().isoformat(), "raised_by": csm.pk, "note": "", "external_id": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    opp = Opportunity.objects.for_workspace(ws).get()
    refused = client.post(reverse("expansion:status", args=[opp.pk]), {"status": "won"})
    assert refused.status_code == 400 and "won" in refused.content.decode().lower()
    done = client.post(reverse("expansion:status", args=[opp.pk]), {"status": "won", "won_mrr": "11000"})
    assert done.status_code == 302
    opp.refresh_from_db()
    assert opp.won_mrr == Decimal("11000")
    listed = client.get(reverse("expansion:list")).content.decode()
    assert account.name in listed
    kpi = client.get(reverse("expansion:kpi") + "?period=quarter").content.decode()
    assert "<svg" in kpi
    export = client.get(reverse("expansion:export") + "?status=won")
    assert export.status_code == 200 and account.name in export.content.decode()


def test_pages_in_japanese(ws, csm, account, login, settings):
    OpportunityFactory(account=account)
    client = login(csm)
    for url in (reverse("expansion:list"), reverse("expansion:kpi")):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        assert response.status_code == 200
        assert 'lang="ja"' in response.content.decode()


def test_the_system_credits_the_accounts_owner(ws, csm, account):
    opp = log(ws, SYSTEM, account)
    assert opp.raised_by == csm and opp.created_by is None


def test_list_filters_sorts_and_pages_without_a_query_per_row(ws, csm, csm2, manager, account, login,
                                                                django_assert_max_num_queries):
    theirs = AccountFactory(workspace=ws, owner=csm2, name="Aoi Foods KK")
    for i in range(60):
        OpportunityFactory(account=account if i % 2 else theirs, estimated_mrr=Decimal(1000 + i),
                           raised_by=None if i == 0 else (csm if i % 2 else csm2))
    client = login(manager)
    with django_assert_max_num_queries(25):
        page = client.get(reverse("expansion:list") + "?sort=-estimated_mrr")
    html = page.content.decode()
    assert page.status_code == 200 and "60" in html and html.index("1,059") < html.index("1,057")
    nobody = client.get(reverse("expansion:list") + "?raised_by=none").context["opportunities"]
    assert [o.estimated_mrr for o in nobody] == [Decimal(1000)]
    second = client.get(reverse("expansion:list") + "?page=2")
    assert second.status_code == 200 and len(second.context["opportunities"]) == 10
    mine = client.get(reverse("expansion:list") + f"?raised_by={csm.pk}&kind=upsell").context["paginator"].count
    assert mine == 30
    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/opportunities/?ordering=-estimated_mrr").status_code == 200


def test_the_raiser_edits_a_toss_up_on_an_account_since_reassigned(ws, csm, csm2, account, login):
    opp = OpportunityFactory(account=account, raised_by=csm)
    account.owner = csm2
    account.save()
    client = login(csm)
    response = client.post(reverse("expansion:edit", args=[opp.pk]), {
        "kind": "cross_sell", "estimated_mrr": "70000", "handed_to_name": "Ken Sales",
        "handed_over_on": opp.handed_over_on.isoformat(), "note": "Bigger", "external_id": ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    opp.refresh_from_db()
    assert (opp.kind, opp.estimated_mrr, opp.raised_by) == ("cross_sell", Decimal("70000"), csm)
    status_page = client.get(reverse("expansion:status", args=[opp.pk])).content.decode()
    assert 'value="qualified"' in status_page and 'value="handed_over"' in status_page
