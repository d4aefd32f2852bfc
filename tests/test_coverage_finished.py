"""Coverage, finished: the per-segment report, the matrix with the report's filters and its
reading aids (heat, band ranges, must-not-lose marks, the IDs setting), invalid filters as
errors, changes from unrounded rates, `recompute --history` with yesterday, and every broken rule."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from coverage import selectors
from coverage.computation import compute_coverage
from coverage.models import CadencePolicy, CadenceRule, CoverageSnapshot, MatrixUsers, TouchModel
from coverage.services import assign_tiers, set_must_not_lose, update_touch_model
from segments.services import save_segment

from .factories import AccountFactory, TouchpointFactory
from .health_data import add_usage, known_since

pytestmark = pytest.mark.django_db


def _noon(ws, day):
    return dt.datetime.combine(day, dt.time(12), tzinfo=ws.tz)


def _compute(ws, *days):
    for day in days:
        assign_tiers(workspace=ws, as_of=day)
        compute_coverage(workspace=ws, day=day)


@pytest.fixture
def segmented(ws, manager, csm, csm2):
    """Huge (30M, covered, in "Big" and "Huge"), Mid (8M, never touched, in "Big"), Small (0.5M,
    covered, in no segment); Small is csm2's. Computed today."""
    today = ws.today()
    huge = AccountFactory(workspace=ws, owner=csm, name="Huge KK", arr=Decimal("30000000"), active_users_30d=25)
    mid = AccountFactory(workspace=ws, owner=csm, name="Mid KK", arr=Decimal("8000000"), active_users_30d=8)
    small = AccountFactory(workspace=ws, owner=csm2, name="Small KK", arr=Decimal("500000"), active_users_30d=3)
    TouchpointFactory(account=huge, occurred_at=_noon(ws, today - dt.timedelta(days=3)))
    TouchpointFactory(account=small, occurred_at=_noon(ws, today - dt.timedelta(days=3)))
    big = save_segment(workspace=ws, actor=manager, name="Big", rules={
        "op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 5000000}]})
    top = save_segment(workspace=ws, actor=manager, name="Huge", rules={
        "op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 20000000}]})
    _compute(ws, today)
    return {"huge": huge, "mid": mid, "small": small, "big": big, "top": top}


# --- 2. Per segment ---------------------------------------------------------------------------------
def test_the_report_per_segment_counts_an_account_once_in_each_of_its_segments(ws, segmented, login, manager):
    report = selectors.coverage_report(workspace=ws, day=ws.today(), group_by="segment")
    groups = {g["label"]: (g["in_scope"], g["covered"], g["rate"], g["arr"], g["arr_rate"]) for g in report["groups"]}
    # By hand: Big = Huge + Mid: 1 of 2 covered, 30M of 38M ARR = 78.947…%; Huge = Huge KK alone.
    assert groups == {
        "Big": (2, 1, 50.0, Decimal("38000000.00"), 78.9),
        "Huge": (1, 1, 100.0, Decimal("30000000.00"), 100.0),
    }
    # Huge KK counts in both, Small KK in neither: the rows are not a partition of the total.
    assert (report["total"]["in_scope"], report["total"]["covered"]) == (3, 2)

    response = login(manager).get(reverse("coverage:report"))
    assert [(g["label"], g["rate"]) for g in response.context["by_segment"]] == [("Big", 50.0), ("Huge", 100.0)]
    html = response.content.decode()
    assert 'id="per-segment"' in html and "counts once in each of them" in html
    assert f"segment={segmented['big'].pk}" in html  # drills down into the segment's gaps


# --- 3. The matrix takes the report's filters -------------------------------------------------------
def test_the_matrix_of_one_csm_counts_only_their_book(ws, segmented, login, api_for, csm, csm2):
    def counts(matrix):
        return {c["key"]: c["in_scope"] for row in matrix["rows"] for c in row["cells"] if c["in_scope"]}

    everyone = selectors.matrix(workspace=ws, day=ws.today())
    assert counts(everyone) == {"A-d": 1, "C-d": 1, "D-d": 1}
    request = RequestFactory().get("/")
    request.workspace = ws
    mine = selectors.matrix(workspace=ws, day=ws.today(), filters=QueryDict(f"owner={csm2.pk}"), request=request)
    assert counts(mine) == {"D-d": 1}

    page = login(csm).get(reverse("coverage:matrix"), {"owner": csm2.pk})
    assert counts(page.context["matrix"]) == {"D-d": 1}
    assert f"owner={csm2.pk}" in page.content.decode()  # a cell drills into the same book
    api = api_for(csm).get("/api/v1/coverage/matrix/", {"owner": csm.pk, "segment": segmented["big"].pk})
    assert counts(api.json()) == {"A-d": 1, "C-d": 1}


def test_the_csm_filter_offers_all_and_unassigned(ws, segmented, login, api_for, manager):
    unowned = AccountFactory(workspace=ws, owner=None, name="Nobody KK", arr=Decimal("2000000"))
    _compute(ws, ws.today())
    client = login(manager)
    page = client.get(reverse("coverage:report"))
    html = page.content.decode()
    assert '<option value="" selected>All</option>' in html and '<option value="none">Unassigned</option>' in html
    assert page.context["report"]["total"]["in_scope"] == 4  # all: the default
    nobody = client.get(reverse("coverage:report"), {"owner": "none"})
    assert nobody.context["report"]["total"]["in_scope"] == 1
    assert [row.account_id for row in client.get(reverse("coverage:accounts"), {"owner": "none"}).context["rows"]] \
        == [unowned.pk]
    api = api_for(manager).get("/api/v1/coverage/report/", {"owner": "none"})
    assert api.status_code == 200 and api.json()["total"]["in_scope"] == 1


# --- 4. Invalid filters are errors ------------------------------------------------------------------
BAD_FILTERS = [("segment", "999999"), ("owner", "{outsider}"), ("tier", "platinum")]


@pytest.mark.parametrize(("field", "value"), BAD_FILTERS)
@pytest.mark.parametrize("page", ["coverage:report", "coverage:accounts", "coverage:matrix"])
def test_a_page_refuses_an_invalid_filter_with_the_form_and_no_figures(ws, segmented, login, manager, outsider,
                                                                         page, field, value):
    response = login(manager).get(reverse(page), {field: value.format(outsider=outsider.pk)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "filter-errors" in html and "nothing is shown until they are corrected" in html
    assert response.context["filter_form"].errors.keys() == {field}
    assert "Huge KK" not in html and "Mid KK" not in html
    assert not response.context.get("report") and not response.context.get("matrix")
    assert not response.context.get("rows")


def test_the_csv_of_gaps_refuses_an_invalid_filter(ws, segmented, login, manager):
    response = login(manager).get(reverse("coverage:accounts"), {"segment": "999999", "format": "csv"})
    assert response.status_code == 400
    assert "Segment" in response.content.decode()


def test_a_deleted_segment_is_an_error_not_the_whole_workspace(ws, segmented, login, api_for, manager):
    gone = segmented["top"].pk
    segmented["top"].delete()
    assert login(manager).get(reverse("coverage:report"), {"segment": gone}).status_code == 400
    response = api_for(manager).get("/api/v1/coverage/report/", {"segment": gone})
    assert response.status_code == 400 and "segment" in response.json()


@pytest.mark.parametrize(("field", "value"), BAD_FILTERS)
@pytest.mark.parametrize("path", ["/api/v1/coverage/", "/api/v1/coverage/report/", "/api/v1/coverage/history/",
                                  "/api/v1/coverage/matrix/"])
def test_the_api_answers_400_naming_the_invalid_filter(ws, segmented, api_for, manager, outsider, path, field,
                                                       value):
    response = api_for(manager).get(path, {field: value.format(outsider=outsider.pk)})
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_due_api_refuses_an_owner_outside_the_workspace(ws, segmented, api_for, manager, outsider):
    for owner in (str(outsider.pk), "999999", "me"):
        response = api_for(manager).get("/api/v1/coverage/due/", {"owner": owner})
        assert response.status_code == 400 and list(response.json()) == ["owner"]


def test_valid_filters_still_answer(ws, segmented, login, api_for, manager, csm):
    assert login(manager).get(reverse("coverage:report"), {"owner": csm.pk, "tier": "high"}).status_code == 200
    response = api_for(manager).get("/api/v1/coverage/report/", {"segment": segmented["big"].pk})
    assert response.status_code == 200 and response.json()["total"]["in_scope"] == 2


# --- 5. Changes from unrounded rates; recompute --history has yesterday -----------------------------
@pytest.fixture
def two_of_three(ws, csm):
    """Yesterday 1 of 3 covered (33.33…%), today 2 of 3 (66.66…%): the change is 33.33… → 33.3,
    where rounding each rate first (66.7 - 33.3) would say 33.4."""
    today = ws.today()
    always, today_only, never = (AccountFactory(workspace=ws, owner=csm, arr=Decimal("2000000"), active_users_30d=25)
                                 for _ in range(3))
    known_since(today - dt.timedelta(days=30), always, today_only, never)  # yesterday's ARR (its tier) on record
    for account in (always, today_only, never):  # 25 active users yesterday too (the matrix's "A" band)
        add_usage(account, today - dt.timedelta(days=5), users=[f"u{i}" for i in range(25)])
    TouchpointFactory(account=always, occurred_at=_noon(ws, today - dt.timedelta(days=10)))
    TouchpointFactory(account=today_only, occurred_at=_noon(ws, today) - dt.timedelta(hours=3))
    _compute(ws, today - dt.timedelta(days=1), today)
    return today


def test_a_change_is_the_difference_of_unrounded_rates_rounded_half_up(ws, two_of_three, login, manager):
    report = selectors.coverage_report(workspace=ws, day=two_of_three, compare_days=1)
    assert (report["total"]["rate"], report["total"]["rate_before"]) == (66.7, 33.3)
    assert report["total"]["change"] == 33.3
    cell = next(c for row in selectors.matrix(workspace=ws, day=two_of_three)["rows"] for c in row["cells"]
                if c["key"] == "A-d")
    assert (cell["rate"], cell["rate_change_yesterday"], cell["count_change_yesterday"]) == (66.7, 33.3, 0)
    html = login(manager).get(reverse("coverage:matrix")).content.decode()
    assert "+33.3pt" in html and "+33.4" not in html


def test_a_rate_is_rounded_half_up():
    assert selectors._rate(1, 16) == 6.3  # 6.25: half up, not to even (6.2)
    assert selectors._rate(1, 3) == 33.3 and selectors._rate(0, 0) is None


def test_recompute_history_computes_yesterday_so_the_matrix_compares_from_the_first_run(ws, csm):
    known_since(ws.today() - dt.timedelta(days=400),  # on record before the history's first day
                AccountFactory(workspace=ws, owner=csm, arr=Decimal("2000000"), active_users_30d=25))
    call_command("recompute", "--workspace", ws.slug, "--history", "--only", "tiers", "segments", "coverage",
                 stdout=open("/dev/null", "w"))  # noqa: SIM115
    today = ws.today()
    days = set(CoverageSnapshot.objects.for_workspace(ws).values_list("day", flat=True))
    assert today - dt.timedelta(days=1) in days and today - dt.timedelta(days=7) in days
    matrix = selectors.matrix(workspace=ws, day=today)
    assert matrix["has_yesterday"] and matrix["has_last_week"]


# --- 6. The matrix reads at a glance ----------------------------------------------------------------
def test_the_matrix_page_shows_heat_band_ranges_a_legend_and_marked_cells(ws, segmented, login, manager):
    set_must_not_lose(workspace=ws, actor=manager, cell="A-d", must_not_lose=True)
    response = login(manager).get(reverse("coverage:matrix"))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("≥ 21", "11–20", "6–10", "1–5", "0–3 months", "4–7 months", "≥ 12 months"):
        assert text in html, text
    cells = {c["key"]: c for row in response.context["matrix"]["rows"] for c in row["cells"]}
    assert (cells["A-d"]["heat"], cells["C-d"]["heat"], cells["B-a"]["heat"]) == ("heat-4", "heat-0", "heat-none")
    assert 'class="matrix-cell heat-4 must-not-lose" data-cell="A-d"' in html
    assert html.count("must-not-lose-flag") == 1  # the mark is words and an icon, not colour alone
    assert 'class="matrix-legend' in html and "≥ 90%" in html and "0–24.9%" in html
    assert "Active users (30 days)" in html


def test_the_ids_axis_counts_active_users_or_seats_as_the_touch_model_says(ws, manager, csm, login, api_for):
    assert TouchModel.objects.for_workspace(ws).get().matrix_users == MatrixUsers.ACTIVE_USERS  # the default
    assert "Active users (30 days)" in login(csm).get(reverse("coverage:touch_model")).content.decode()
    account = AccountFactory(workspace=ws, owner=csm, licensed_seats=50, active_users_30d=4)
    _compute(ws, ws.today())
    assert CoverageSnapshot.objects.for_workspace(ws).get(account=account).cell == "D-d"

    response = login(manager).post(reverse("coverage:touch_model"), {
        "high_min_arr": "10000000", "low_min_arr": "1000000", "seat_bands": "A:21, B:11, C:6, D:1",
        "tenure_bands": "a:0, b:4, c:8, d:12", "matrix_users": "seats"})
    assert response.status_code == 302
    _compute(ws, ws.today())
    assert CoverageSnapshot.objects.for_workspace(ws).get(account=account).cell == "A-d"

    api = api_for(manager)
    assert api.get("/api/v1/touch-model/current/").json()["matrix_users"] == "seats"
    assert api.patch("/api/v1/touch-model/current/", {"matrix_users": "active_users"}, format="json").status_code == 200
    bad = api.patch("/api/v1/touch-model/current/", {"matrix_users": "logins"}, format="json")
    assert bad.status_code == 400 and "matrix_users" in bad.json()
    with pytest.raises(Exception):  # noqa: B017 - the model refuses what the choices do not name
        update_touch_model(workspace=ws, actor=manager, matrix_users="logins")


# --- 7. Every broken rule is shown ------------------------------------------------------------------
def test_the_breaking_table_and_the_account_panel_name_every_broken_rule(ws, csm, manager, login):
    account = AccountFactory(workspace=ws, owner=csm, name="Several KK", arr=Decimal("20000000"))
    policy = CadencePolicy.objects.for_workspace(ws).get(tier="high")
    CadenceRule.objects.create(workspace=ws, policy=policy, name="Phone follow-up", channels=["phone"],
                               max_gap_days=90)
    TouchpointFactory(account=account, channel="email", occurred_at=timezone.now() - dt.timedelta(days=40))
    _compute(ws, ws.today())
    row = CoverageSnapshot.objects.for_workspace(ws).get(account=account)
    assert row.broken_rules == ["cadence", "Phone follow-up"] and row.due_date is None

    client = login(manager)
    table = client.get(reverse("coverage:accounts")).content.decode()
    assert "Cadence overdue" in table and "Phone follow-up" in table
    panel = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Cadence overdue" in panel and "Phone follow-up" in panel
    assert "A rule was never met" in panel  # the due date is "now", and the page says why
    due = client.get(reverse("coverage:due"), {"owner": csm.pk}).content.decode()
    assert "Cadence overdue · Phone follow-up" in due
