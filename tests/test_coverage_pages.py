"""Coverage pages: the manager report and drill-down (with CSV), the CSM due list, the matrix, the
account panel, recompute, role rules and tenancy."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from coverage.computation import compute_coverage
from coverage.models import CoverageSnapshot, TouchModel
from coverage.services import assign_tiers
from tests.factories import AccountFactory, TouchpointFactory


@pytest.fixture
def book(ws, csm, csm2):
    """Four accounts on the workspace's today: two covered, two breaking coverage."""
    today = ws.today()
    start = today - dt.timedelta(days=200)
    accounts = {
        "big_gap": AccountFactory(workspace=ws, owner=csm, name="Big Gap KK", arr=Decimal("30000000"),
                                  contract_start=start, licensed_seats=25, active_users_30d=25),
        "small_gap": AccountFactory(workspace=ws, owner=csm, name="Small Gap KK", arr=Decimal("2000000"),
                                    contract_start=start, licensed_seats=8, active_users_30d=8),
        "covered": AccountFactory(workspace=ws, owner=csm, name="Covered KK", arr=Decimal("2000000"),
                                  contract_start=start, licensed_seats=8, active_users_30d=8),
        "other_csm": AccountFactory(workspace=ws, owner=csm2, name="Yui Account KK", arr=Decimal("500000"),
                                    contract_start=start, licensed_seats=3, active_users_30d=3),
    }
    TouchpointFactory(account=accounts["covered"], occurred_at=_local_noon(ws, today - dt.timedelta(days=3)))
    TouchpointFactory(account=accounts["other_csm"], occurred_at=_local_noon(ws, today - dt.timedelta(days=3)),
                      channel="newsletter")
    TouchpointFactory(account=accounts["small_gap"], occurred_at=_local_noon(ws, today - dt.timedelta(days=100)))
    assign_tiers(workspace=ws, as_of=today)
    compute_coverage(workspace=ws, day=today)
    return accounts


def _local_noon(ws, day):
    return dt.datetime.combine(day, dt.time(12), tzinfo=ws.tz)


@pytest.mark.django_db
def test_manager_report_shows_rates_per_csm_and_tier(login, manager, book):
    response = login(manager).get(reverse("coverage:report"))
    assert response.status_code == 200
    report = response.context["report"]["total"]
    assert (report["in_scope"], report["covered"], report["rate"]) == (4, 2, 50.0)
    by_csm = {g["label"]: g["rate"] for g in response.context["by_csm"]}
    assert by_csm == {"Kenji Test": pytest.approx(33.3), "Yui Test": 100.0}
    tiers = {g["key"]: (g["in_scope"], g["covered"]) for g in response.context["by_tier"]}
    assert tiers == {"high": (1, 0), "low": (2, 1), "tech": (1, 1)}
    assert b"<svg" in response.content  # the 12-week trend chart
    breaking = [r.account.name for r in response.context["breaking"]]
    assert breaking == ["Big Gap KK", "Small Gap KK"]  # largest ARR first


@pytest.mark.django_db
def test_drill_down_filters_and_exports_csv(login, manager, csm, book):
    client = login(manager)
    page = client.get(reverse("coverage:accounts"), {"owner": csm.pk})
    assert [r.account.name for r in page.context["rows"]] == ["Big Gap KK", "Small Gap KK"]
    assert '?channel=phone#quicklog-title' in page.content.decode()
    export = client.get(reverse("coverage:accounts"), {"owner": csm.pk, "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [(r["account"], r["broken_rule"], r["overdue_days"]) for r in rows] == [
        ("Big Gap KK", "never", ""), ("Small Gap KK", "cadence", "10"),
    ]
    tier_only = client.get(reverse("coverage:accounts"), {"tier": "high"})
    assert [r.account.name for r in tier_only.context["rows"]] == ["Big Gap KK"]


@pytest.mark.django_db
def test_csm_due_list_shows_only_my_accounts(login, csm, csm2, book):
    response = login(csm).get(reverse("coverage:due"))
    assert response.status_code == 200
    names = [r.account.name for r in response.context["rows"]]
    assert names == ["Big Gap KK", "Small Gap KK"]  # never touched first, then by due date
    html = response.content.decode()
    assert reverse("accounts:detail", args=[book["big_gap"].pk]) + "?channel=phone#quicklog-title" in html
    assert "Yui Account KK" not in html
    # A CSM cannot look at another CSM's list by URL.
    other = login(csm).get(reverse("coverage:due"), {"owner": csm2.pk})
    assert [r.account.name for r in other.context["rows"]] == names


@pytest.mark.django_db
def test_manager_can_view_any_csms_due_list(login, manager, csm, csm2, book):
    kenji = login(manager).get(reverse("coverage:due"), {"owner": csm.pk})
    assert [r.account.name for r in kenji.context["rows"]] == ["Big Gap KK", "Small Gap KK"]
    # Yui's only account is covered and not due for months: nothing on her list.
    assert login(manager).get(reverse("coverage:due"), {"owner": csm2.pk}).context["rows"] == []


@pytest.mark.django_db
def test_matrix_page_and_must_not_lose_marks(login, manager, csm, ws, book):
    response = login(manager).get(reverse("coverage:matrix"))
    assert response.status_code == 200
    cells = {c["key"]: c for row in response.context["matrix"]["rows"] for c in row["cells"]}
    # 25 seats and 6 months → A-b; 8 seats → C-b (two accounts); 3 seats → D-b.
    assert (cells["A-b"]["in_scope"], cells["C-b"]["in_scope"], cells["D-b"]["in_scope"]) == (1, 2, 1)
    assert cells["C-b"]["rate"] == 50.0
    marked = login(manager).post(reverse("coverage:matrix"), {"cell": "A-b", "must_not_lose": "1"})
    assert marked.status_code == 302
    assert TouchModel.all_workspaces.get(workspace=ws).must_not_lose == ["A-b"]
    assert login(csm).post(reverse("coverage:matrix"), {"cell": "C-b", "must_not_lose": "1"}).status_code == 403
    assert TouchModel.all_workspaces.get(workspace=ws).must_not_lose == ["A-b"]


@pytest.mark.django_db
def test_account_page_shows_the_coverage_panel(login, csm, book):
    response = login(csm).get(reverse("accounts:detail", args=[book["small_gap"].pk]))
    html = response.content.decode()
    assert 'id="coverage"' in html and "Cadence overdue" in html and "10 days overdue" in html


@pytest.mark.django_db
def test_recompute_now_is_for_managers(login, manager, csm, ws, book):
    assert login(csm).post(reverse("recompute")).status_code == 403
    TouchpointFactory(account=book["big_gap"], occurred_at=_local_noon(ws, ws.today()))
    response = login(manager).post(reverse("recompute"), {"next": reverse("coverage:report")})
    assert response.status_code == 302
    assert CoverageSnapshot.all_workspaces.get(account=book["big_gap"], day=ws.today()).covered is True


@pytest.mark.django_db
def test_settings_pages_are_read_only_for_csms(login, manager, csm, ws):
    assert login(csm).get(reverse("coverage:touch_model")).status_code == 200
    assert login(csm).post(reverse("coverage:touch_model"), {}).status_code == 403
    assert login(csm).get(reverse("segments:create")).status_code == 403
    assert login(csm).get(reverse("coverage:policy_create")).status_code == 403
    saved = login(manager).post(reverse("coverage:touch_model"), {
        "high_min_arr": "20000000", "low_min_arr": "2000000", "seat_bands": "A:50, B:10, C:1",
        "tenure_bands": "new:0, old:12",
    })
    assert saved.status_code == 302
    model = TouchModel.all_workspaces.get(workspace=ws)
    assert model.high_min_arr == 20_000_000 and [b["label"] for b in model.seat_bands] == ["A", "B", "C"]
    bad = login(manager).post(reverse("coverage:touch_model"), {
        "high_min_arr": "1", "low_min_arr": "2", "seat_bands": "A:1", "tenure_bands": "a:0"})
    assert bad.status_code == 400 and "must not be below" in bad.content.decode()


@pytest.mark.django_db
def test_policy_page_saves_rules(login, manager, ws):
    from coverage.models import CadencePolicy

    login(manager).get(reverse("coverage:touch_model"))
    high = CadencePolicy.all_workspaces.get(workspace=ws, tier="high")
    response = login(manager).post(reverse("coverage:policy_edit", args=[high.pk]), {
        "name": "High touch", "max_gap_days": "30", "channels": ["phone", "video_meeting"],
        "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0",
        "rules-0-name": "Decision-maker meeting", "rules-0-channels": ["video_meeting"],
        "rules-0-contact_role": "decision_maker", "rules-0-max_gap_days": "180",
    })
    assert response.status_code == 302
    high.refresh_from_db()
    assert high.channels == ["phone", "video_meeting"]
    assert [(r.name, r.max_gap_days) for r in high.rules.all()] == [("Decision-maker meeting", 180)]


@pytest.mark.django_db
def test_pages_never_show_another_workspaces_data(login, outsider, other_account, ws, book):
    client = login(outsider)
    report = client.get(reverse("coverage:report"))
    assert report.status_code == 200 and report.context["day"] is None
    assert b"Big Gap" not in report.content
    assert client.get(reverse("coverage:accounts"), {"as_of": ws.today().isoformat()}).context[
        "page_obj"].paginator.count == 0
    csv_export = client.get(reverse("coverage:accounts"), {"as_of": ws.today().isoformat(), "format": "csv"})
    assert b"Big Gap" not in csv_export.content
    assert client.post(reverse("coverage:pin", args=[book["big_gap"].pk]), {"tier": "high", "reason": "x"}).status_code == 404


@pytest.mark.django_db
def test_the_gaps_csv_guards_names_that_a_spreadsheet_would_run(login, manager, ws, book):
    """The coverage CSV goes through the one writer of downloads, with its formula guard."""
    book["big_gap"].name = '=HYPERLINK("http://evil.example","Click")'
    book["big_gap"].save()
    export = login(manager).get(reverse("coverage:accounts"), {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0]["account"] == "'" + book["big_gap"].name


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "http:/x"])
def test_recompute_never_redirects_off_the_site(login, manager, book, target):
    response = login(manager).post(reverse("recompute"), {"next": target})
    assert response.status_code == 302 and response.url == reverse("coverage:report")
    response = login(manager).post(reverse("recompute"), {"next": reverse("coverage:matrix")})
    assert response.url == reverse("coverage:matrix")
