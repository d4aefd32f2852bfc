"""Coverage follows a touch at once: a touch logged, edited or deleted through the services, the
account page, the API or an import rewrites the account's row of today and the day's rollup,
in the same transaction; a rolled-back or refused write leaves coverage as it was."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Touchpoint
from accounts.services import delete_touchpoint, log_touchpoint, update_touchpoint
from coverage.computation import compute_coverage
from coverage.models import CadencePolicy, CadenceRule, CoverageRollup, CoverageSnapshot
from coverage.services import assign_tiers

from .factories import AccountFactory, ContactFactory, TouchpointFactory
from .imports_helpers import csv_bytes, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(ws, csm):
    """Computed today: "Gap KK" (high touch, never touched) breaks coverage; "Fine KK" is covered."""
    gap = AccountFactory(workspace=ws, owner=csm, name="Gap KK", external_id="crm-gap", arr=Decimal("20000000"))
    fine = AccountFactory(workspace=ws, owner=csm, name="Fine KK", external_id="crm-fine", arr=Decimal("2000000"))
    TouchpointFactory(account=fine, author=csm, occurred_at=timezone.now() - dt.timedelta(days=3))
    assign_tiers(workspace=ws, as_of=ws.today())
    compute_coverage(workspace=ws, day=ws.today())
    return {"gap": gap, "fine": fine}


def _row(ws, account):
    return CoverageSnapshot.objects.for_workspace(ws).get(account=account, day=ws.today())


def _state(ws):
    """Today's rows and rollup, as comparable values."""
    day = ws.today()
    rows = sorted(CoverageSnapshot.objects.for_workspace(ws).filter(day=day).values_list(
        "account_id", "owner_id", "tier", "cell", "in_scope", "covered", "last_touch_on", "due_date",
        "overdue_days", "broken_rule", "broken_rules"))
    rollup = sorted(CoverageRollup.objects.for_workspace(ws).filter(day=day).values_list(
        "owner_id", "tier", "cell", "in_scope_count", "covered_count", "in_scope_arr", "covered_arr"))
    return rows, rollup


def _as_the_night_computes_it(ws):
    """What a full recomputation of today writes, for comparison (it rewrites the day)."""
    compute_coverage(workspace=ws, day=ws.today())
    return _state(ws)


# --- Service level ----------------------------------------------------------------------------------
def test_a_logged_touch_covers_the_account_today_and_the_rollup_agrees_with_a_full_run(ws, csm, book):
    assert _row(ws, book["gap"]).broken_rule == "never"
    log_touchpoint(account=book["gap"], actor=csm, channel="phone", summary="Renewal call")
    row = _row(ws, book["gap"])
    assert (row.covered, row.last_touch_on, row.broken_rules) == (True, ws.today(), [])
    assert row.due_date == ws.today() + dt.timedelta(days=30)  # high touch: every 30 days
    live = _state(ws)
    assert [(tier, n, covered) for _owner, tier, _cell, n, covered, _arr, _arr_covered in live[1]] == [
        ("high", 1, 1), ("low", 1, 1)]
    assert live == _as_the_night_computes_it(ws)


def test_deleting_or_moving_the_touch_back_uncovers_the_account(ws, csm, book):
    touch = log_touchpoint(account=book["gap"], actor=csm, channel="phone")
    assert _row(ws, book["gap"]).covered
    update_touchpoint(touchpoint=touch, actor=csm, occurred_at=timezone.now() - dt.timedelta(days=45))
    assert (_row(ws, book["gap"]).covered, _row(ws, book["gap"]).broken_rule) == (False, "cadence")
    assert _state(ws) == _as_the_night_computes_it(ws)
    delete_touchpoint(touchpoint=Touchpoint.all_workspaces.get(pk=touch.pk), actor=csm)
    assert _row(ws, book["gap"]).broken_rule == "never"
    assert _state(ws) == _as_the_night_computes_it(ws)


def test_a_rolled_back_touch_takes_its_coverage_with_it(ws, csm, book):
    before = _state(ws)
    with pytest.raises(RuntimeError), transaction.atomic():
        log_touchpoint(account=book["gap"], actor=csm, channel="phone")
        assert _row(ws, book["gap"]).covered  # inside the transaction the row followed…
        raise RuntimeError("the request failed after the write")
    assert _state(ws) == before  # …and went back with it
    assert not Touchpoint.all_workspaces.filter(account=book["gap"]).exists()


def test_before_today_is_computed_a_touch_writes_no_row(ws, csm):
    account = AccountFactory(workspace=ws, owner=csm)
    yesterday = ws.today() - dt.timedelta(days=1)
    compute_coverage(workspace=ws, day=yesterday)
    log_touchpoint(account=account, actor=csm, channel="phone")
    assert list(CoverageSnapshot.objects.for_workspace(ws).values_list("day", flat=True)) == [yesterday]


def test_an_account_created_after_the_night_gets_its_row_with_its_first_touch(ws, csm, book):
    newcomer = AccountFactory(workspace=ws, owner=csm, name="New KK", arr=Decimal("500000"))
    log_touchpoint(account=newcomer, actor=csm, channel="email")
    assert _row(ws, newcomer).covered
    assert _state(ws) == _as_the_night_computes_it(ws)


def test_an_account_breaking_several_rules_lists_them_all(ws, csm, book):
    policy = CadencePolicy.objects.for_workspace(ws).get(tier="high")
    CadenceRule.objects.create(workspace=ws, policy=policy, name="Decision-maker meeting",
                               channels=["onsite_meeting"], contact_role="decision_maker", max_gap_days=180)
    CadenceRule.objects.create(workspace=ws, policy=policy, name="Phone follow-up", channels=["phone"],
                               max_gap_days=90)
    # A meeting 40 days ago with someone who is not a decision maker: the cadence is overdue, the
    # decision-maker meeting was never held, and no phone call ever.
    contact = ContactFactory(account=book["gap"], role="end_user")
    log_touchpoint(account=book["gap"], actor=csm, channel="onsite_meeting", contacts=[contact],
                   occurred_at=timezone.now() - dt.timedelta(days=40))
    row = _row(ws, book["gap"])
    assert row.broken_rules == ["cadence", "Decision-maker meeting", "Phone follow-up"]
    assert row.broken_rule == "cadence"
    # A rule never met has no due date: the account is due now, whatever the others say.
    assert (row.due_date, row.overdue_days) == (None, None)
    assert row.last_touch_on == ws.today() - dt.timedelta(days=40)

    # A meeting today with the decision maker (the rule reads who was met: the contacts are linked
    # before coverage looks) and a call: everything is met at once.
    boss = ContactFactory(account=book["gap"], role="decision_maker")
    log_touchpoint(account=book["gap"], actor=csm, channel="onsite_meeting", contacts=[boss])
    assert _row(ws, book["gap"]).broken_rules == ["Phone follow-up"]
    log_touchpoint(account=book["gap"], actor=csm, channel="phone")
    row = _row(ws, book["gap"])
    assert (row.covered, row.broken_rules, row.due_date) == (True, [], ws.today() + dt.timedelta(days=30))


# --- Page, API, import ------------------------------------------------------------------------------
def test_a_touch_logged_on_the_account_page_leaves_the_due_list_and_lifts_the_rate(login, ws, csm, book):
    client = login(csm)
    due = client.get(reverse("coverage:due"))
    assert [r.account.name for r in due.context["rows"]] == ["Gap KK"]
    assert client.get(reverse("coverage:report")).context["report"]["total"]["rate"] == 50.0
    now = timezone.localtime(timezone.now(), ws.tz).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("accounts:log_touchpoint", args=[book["gap"].pk]), {
        "channel": "phone", "occurred_at": now, "summary": "Called the project lead", "sentiment": "neutral",
    })
    assert response.status_code == 302
    assert client.get(reverse("coverage:due")).context["rows"] == []
    assert client.get(reverse("coverage:report")).context["report"]["total"]["rate"] == 100.0
    panel = client.get(reverse("accounts:detail", args=[book["gap"].pk])).content.decode()
    assert "Never touched" not in panel


def test_a_touch_posted_to_the_api_changes_the_coverage_endpoints(api_for, ws, csm, book):
    api = api_for(csm)
    assert api.get("/api/v1/coverage/report/").json()["total"]["rate"] == 50.0
    uncovered = api.get("/api/v1/coverage/", {"covered": "false", "in_scope": "true"}).json()
    assert [r["account"]["id"] for r in uncovered["results"]] == [book["gap"].pk]
    response = api.post("/api/v1/touchpoints/", {"account": book["gap"].pk, "channel": "video_meeting"})
    assert response.status_code == 201, response.json()
    assert api.get("/api/v1/coverage/report/").json()["total"]["rate"] == 100.0
    assert api.get("/api/v1/coverage/", {"covered": "false", "in_scope": "true"}).json()["results"] == []
    assert api.delete(f"/api/v1/touchpoints/{response.json()['id']}/").status_code == 204
    assert api.get("/api/v1/coverage/report/").json()["total"]["rate"] == 50.0


def test_an_import_of_touchpoints_changes_coverage_and_a_refused_one_does_not(ws, csm, book):
    today = timezone.localtime(timezone.now(), ws.tz).strftime("%Y-%m-%d %H:%M")
    refused = csv_bytes([["account_external_id", "occurred_at", "channel", "summary"],
                         ["crm-gap", today, "phone", "Call"],
                         ["crm-gap", today, "carrier pigeon", "Not a channel"]])
    before = _state(ws)
    result = run_import(refused, workspace=ws, actor=csm, object_type="touchpoints")
    assert not result.committed and result.error_rows == 1
    assert _state(ws) == before

    good = csv_bytes([["account_external_id", "occurred_at", "channel", "summary"],
                      ["crm-gap", today, "phone", "Call"]])
    result = run_import(good, workspace=ws, actor=csm, object_type="touchpoints")
    assert result.committed and result.created == 1, result.errors
    assert _row(ws, book["gap"]).covered
    assert _state(ws) == _as_the_night_computes_it(ws)


def test_an_import_rolled_back_after_writing_leaves_coverage_as_it_was(ws, csm, book):
    """The import writes in a transaction; whatever fails after its rows went in (here the caller's
    own transaction) undoes its touches and the coverage they changed alike."""
    today = timezone.localtime(timezone.now(), ws.tz).strftime("%Y-%m-%d %H:%M")
    data = csv_bytes([["account_external_id", "occurred_at", "channel"], ["crm-gap", today, "phone"]])
    before = _state(ws)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert run_import(data, workspace=ws, actor=csm, object_type="touchpoints").committed
        assert _row(ws, book["gap"]).covered
        raise RuntimeError("the job failed before it was marked done")
    assert _state(ws) == before
