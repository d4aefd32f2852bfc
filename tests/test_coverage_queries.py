"""Coverage reads at scale: the per-day rollup the reports read sums exactly the snapshot rows the
filtered reports read, and the report pages and API make a fixed number of queries."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import delete_account
from coverage import selectors
from coverage.computation import compute_coverage, rollup_coverage
from coverage.models import CoverageRollup, CoverageSnapshot
from coverage.services import assign_tiers
from segments.services import materialize_segment, save_segment
from tests.factories import AccountFactory, MembershipFactory, TouchpointFactory, UserFactory
from tests.health_data import add_usage, known_since

# A filter that keeps every in-scope row but is not one a rollup row can answer: the same
# question, asked of the snapshot rows.
SNAPSHOT_PATH = "in_scope=true"


def _noon(ws, day):
    return dt.datetime.combine(day, dt.time(12), tzinfo=ws.tz)


def _recompute(ws, days):
    for day in sorted(days):
        assign_tiers(workspace=ws, as_of=day)
        compute_coverage(workspace=ws, day=day)


@pytest.fixture
def history(ws, manager, csm, csm2):
    """Three CSMs' and unowned accounts in every tier and several matrix cells, computed on four
    days, with touches that make coverage change between them and a segment on the last day."""
    today = ws.today()
    old, new = today - dt.timedelta(days=400), today - dt.timedelta(days=60)
    # owner, ARR, seats, contract start, days before today of the last touch (None: never)
    specs = [
        (csm, "30000000", 25, old, 3), (csm, "30000000", 25, new, None), (csm, "5000000", 8, old, 20),
        (csm, "5000000", 8, old, 95), (csm2, "2000000", 3, new, 10), (csm2, "300000", 1, old, 200),
        (csm2, "300000", 0, old, 2), (None, "300000", 12, old, 5), (None, "12000000", 40, None, 40),
        (manager, "1500000", 15, old, 9),
    ]
    accounts = []
    for owner, arr, seats, start, touched in specs:
        account = AccountFactory(workspace=ws, owner=owner, arr=Decimal(arr), licensed_seats=seats, active_users_30d=seats,
                                 contract_start=start)
        if touched is not None:
            TouchpointFactory(account=account, occurred_at=_noon(ws, today - dt.timedelta(days=touched)))
        accounts.append(account)
    known_since(today - dt.timedelta(days=400), *accounts)  # the past days read their values (and tiers)
    for account, (_owner, _arr, seats, _start, _touched) in zip(accounts, specs, strict=True):
        if seats:  # the matrix's users: on every computed day, that many in the 30 days up to it
            add_usage(account, today - dt.timedelta(days=15), users=[f"u{i}" for i in range(seats)])
    days = [today - dt.timedelta(days=back) for back in (14, 7, 1, 0)]
    _recompute(ws, days[:-1])
    segment = save_segment(workspace=ws, actor=manager, name="Big", rules={
        "op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 5000000}]})
    materialize_segment(segment=segment, as_of=today)
    _recompute(ws, days[-1:])
    return {"accounts": accounts, "days": days, "segment": segment}


def _request(ws, query=""):
    request = RequestFactory().get("/?" + query)
    request.workspace = ws
    return request


def _reports(ws, query):
    """Every figure the report pages and API show, for the filters of `query`."""
    request, filters, day = _request(ws, query), QueryDict(query), ws.today()
    out = {}
    for group_by in (None, *selectors.GROUPS):
        for on in (day, day - dt.timedelta(days=1)):
            report = selectors.coverage_report(workspace=ws, day=on, group_by=group_by, filters=filters,
                                               request=request)
            report["groups"] = sorted(report["groups"], key=lambda g: str(g["key"]))
            out["report", group_by, on] = report
    for group_by in (None, "csm", "tier", "cell"):
        trend = selectors.coverage_trend(workspace=ws, day=day, weeks=3, group_by=group_by, filters=filters,
                                         request=request)
        trend["series"] = sorted(trend["series"], key=lambda s: str(s["key"]))
        out["trend", group_by] = trend
    return out


def _reads(ws, query, call):
    """The coverage tables `call` reads."""
    with CaptureQueriesContext(connection) as queries:
        call(ws, query)
    sql = " ".join(q["sql"] for q in queries)
    return {table for table in ("coverage_coveragerollup", "coverage_coveragesnapshot") if table in sql}


def _group_count(ws, day):
    rows = CoverageSnapshot.all_workspaces.filter(workspace=ws, day=day, in_scope=True)
    return rows.values_list("owner_id", "tier", "cell", "segment_keys").distinct().count()


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "tier=low", "cell=C-d", "unowned=true", "unowned=false", "owner={csm}",
                                   "owner={csm}&tier=high", "tier=planet", "owner=999999", "segment={segment}",
                                   "segment={segment}&owner={csm}", "segment=999999"])
def test_rollup_and_snapshot_rows_give_the_same_figures(ws, csm, history, query):
    query = query.format(csm=csm.pk, segment=history["segment"].pk)
    for group_by in (None, "segment"):
        assert _reads(ws, query, lambda w, q, group_by=group_by: selectors.coverage_report(
            workspace=w, day=w.today(), group_by=group_by, filters=QueryDict(q), request=_request(w, q))
        ) == {"coverage_coveragerollup"}
    snapshot_query = f"{query}&{SNAPSHOT_PATH}" if query else SNAPSHOT_PATH
    assert "coverage_coveragerollup" not in _reads(ws, snapshot_query, lambda w, q: selectors.coverage_report(
        workspace=w, day=w.today(), filters=QueryDict(q), request=_request(w, q)))

    assert _reports(ws, query) == _reports(ws, snapshot_query)


@pytest.mark.django_db
def test_the_figures_are_the_ones_of_the_rows(ws, csm, csm2, history):
    report = selectors.coverage_report(workspace=ws, day=ws.today(), group_by="csm")
    rows = CoverageSnapshot.all_workspaces.filter(workspace=ws, day=ws.today(), in_scope=True)
    assert report["total"]["in_scope"] == rows.count()
    assert report["total"]["covered"] == rows.filter(covered=True).count()
    assert report["total"]["arr"] == sum(r.arr for r in rows)
    kenji = next(g for g in report["groups"] if g["key"] == csm.pk)
    assert (kenji["in_scope"], kenji["covered"]) == (4, rows.filter(owner=csm, covered=True).count())
    assert report["total"]["change"] is not None  # a week earlier was computed too
    by_segment = selectors.coverage_report(workspace=ws, day=ws.today(), group_by="segment")["groups"]
    assert [(g["key"], g["in_scope"]) for g in by_segment] == [(history["segment"].pk, 5)]


@pytest.mark.django_db
def test_the_matrix_counts_what_the_cell_report_counts(ws, history):
    matrix = selectors.matrix(workspace=ws, day=ws.today())
    cells = {c["key"]: c for row in matrix["rows"] for c in row["cells"] if c["in_scope"]}
    report = selectors.coverage_report(workspace=ws, day=ws.today(), group_by="cell",
                                       filters=QueryDict(SNAPSHOT_PATH), request=_request(ws))
    groups = {g["key"]: g for g in report["groups"]}
    assert {k: (c["in_scope"], c["covered"], c["rate"], c["arr"]) for k, c in cells.items()} == {
        k: (g["in_scope"], g["covered"], g["rate"], g["arr"]) for k, g in groups.items() if k}
    assert matrix["unbanded"]["in_scope"] == groups[""]["in_scope"]
    assert matrix["has_yesterday"] and matrix["has_last_week"]
    assert any(c["rate_change_last_week"] is not None for c in cells.values())


@pytest.mark.django_db
def test_rollup_is_rewritten_not_added_to(ws, history):
    today = ws.today()
    before = list(CoverageRollup.all_workspaces.filter(workspace=ws, day=today).values_list(
        "owner_id", "tier", "cell", "segment_keys", "in_scope_count", "covered_count", "in_scope_arr",
        "covered_arr"))
    compute_coverage(workspace=ws, day=today)
    rollup_coverage(workspace=ws, day=today)
    after = list(CoverageRollup.all_workspaces.filter(workspace=ws, day=today).values_list(
        "owner_id", "tier", "cell", "segment_keys", "in_scope_count", "covered_count", "in_scope_arr",
        "covered_arr"))
    assert sorted(after, key=str) == sorted(before, key=str)
    assert len(after) == _group_count(ws, today)  # one row per owner, tier, cell and segments


@pytest.mark.django_db
def test_the_migrations_backfill_sums_like_the_nightly_run(ws, history):
    # The latest rewrite of the rollups from the rows (the one that added the segments).
    statements = importlib.import_module("coverage.migrations.0007_rollup_by_segment").REWRITE
    columns = ("workspace_id", "day", "owner_id", "tier", "cell", "segment_keys", "in_scope_count", "covered_count",
               "in_scope_arr", "covered_arr")
    written = sorted(CoverageRollup.all_workspaces.values_list(*columns), key=str)
    assert any(row[5] for row in written)  # the history has a segment: some groups are keyed by it
    CoverageRollup.all_workspaces.all().delete()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    assert sorted(CoverageRollup.all_workspaces.values_list(*columns), key=str) == written


@pytest.mark.django_db
def test_deleted_members_and_accounts_leave_both_paths_agreeing(ws, manager, csm, history):
    csm.delete()  # its accounts' rows lose their owner: the snapshot's and the rollup's alike
    assert _reports(ws, "") == _reports(ws, SNAPSHOT_PATH)

    gone, unowned_too = history["accounts"][0], history["accounts"][7]
    delete_account_with_coverage(gone, manager)
    delete_account_with_coverage(unowned_too, manager)
    assert not CoverageSnapshot.all_workspaces.filter(account_id__in=[gone.pk, unowned_too.pk]).exists()
    assert _reports(ws, "") == _reports(ws, SNAPSHOT_PATH)
    assert _reports(ws, "unowned=true") == _reports(ws, f"unowned=true&{SNAPSHOT_PATH}")
    for day in history["days"]:
        sums = CoverageRollup.all_workspaces.filter(workspace=ws, day=day)
        assert all(r.in_scope_count > 0 for r in sums)  # emptied groups are gone, as in the rows


def delete_account_with_coverage(account, actor):
    # The account's service tells coverage (accounts.signals.account_deleting) in its transaction.
    delete_account(account=account, actor=actor)


# --- Query counts: none per CSM, cell or row -------------------------------------------------------


def _more_csms(ws, n):
    for i in range(n):
        member = MembershipFactory(workspace=ws, user=UserFactory(username=f"extra{i}", first_name=f"Extra{i}"))
        AccountFactory(workspace=ws, owner=member, arr=Decimal("2000000"), licensed_seats=5 + i)
        AccountFactory(workspace=ws, owner=member, arr=Decimal("20000000"), licensed_seats=30)
    _recompute(ws, [ws.today()])


def _count(client, path):
    client.get(path)  # warm: sessions, the touch model
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_coverage_page_queries_do_not_grow_with_csms_or_rows(login, manager, ws, history,
                                                              django_assert_max_num_queries):
    client = login(manager)
    path = reverse("coverage:report")
    before = _count(client, path)
    _more_csms(ws, 6)
    assert _count(client, path) == before
    with django_assert_max_num_queries(16):  # the per-segment table: its sums and its names
        response = client.get(path)
    assert len(response.context["by_csm"]) == 10  # 3 CSMs, the manager, no owner and 6 more
    # A filter the rollup cannot answer reads the rows, still without a query per group.
    assert _count(client, f"{path}?q=Customer") == before


@pytest.mark.django_db
def test_matrix_page_and_api_queries_are_fixed(login, api_for, manager, ws, history, django_assert_max_num_queries):
    client, api = login(manager), api_for(manager)
    page, matrix, report = reverse("coverage:matrix"), "/api/v1/coverage/matrix/", "/api/v1/coverage/report/"
    counts = {path: _count(c, path) for c, path in ((client, page), (api, matrix), (api, report))}
    _more_csms(ws, 6)
    assert {path: _count(c, path) for c, path in ((client, page), (api, matrix), (api, report))} == counts
    with django_assert_max_num_queries(10):
        client.get(page)
    with django_assert_max_num_queries(6):
        api.get(matrix)
    with django_assert_max_num_queries(5):
        api.get(report, {"group_by": "csm"})
