"""The homes as services: the team's KPI figures against hand computation, the priority score, My book."""

import datetime as dt
from decimal import Decimal

import pytest

from cs_platform.homes import book, priority_score, team_home
from workspaces import owners

from .homes_data import team

pytestmark = pytest.mark.django_db


def card(home, key):
    return next(c for c in home["cards"] if c["key"] == key)


# --- the priority score ---------------------------------------------------------------------------
def test_priority_score_is_arr_times_risk_times_urgency():
    # red (3) + fell 15 points (1.5) = 4.5; 1 + 14/7 overdue + (90-30)/30 renewal + 1 alert = 6
    assert priority_score(arr=Decimal("1000000"), band="red", change_30d=-15, overdue_days=14, days_to_renewal=30,
                          open_alert=True) == pytest.approx(27_000_000)
    # yellow (2), no fall, renewal in 80 days: 1 + 10/30
    assert priority_score(arr=2_000_000, band="yellow", change_30d=0, days_to_renewal=80) == pytest.approx(
        2_000_000 * 2 * (1 + 10 / 30))
    # green, rising, a touch due soon (not overdue): risk 1, urgency 1
    assert priority_score(arr=500_000, band="green", change_30d=8, overdue_days=0) == pytest.approx(500_000)
    # not scored (1.5); a renewal beyond 90 days or already past adds nothing; no ARR counts as 1
    assert priority_score(arr=0, band="", days_to_renewal=120) == pytest.approx(1.5)
    assert priority_score(arr=100, band="na", days_to_renewal=-3) == pytest.approx(150)
    # renewing today adds 3
    assert priority_score(arr=10, band="green", days_to_renewal=0) == pytest.approx(40)


def test_a_bigger_risk_outranks_a_bigger_account_only_when_the_product_says_so():
    small_red_overdue = priority_score(arr=1_000_000, band="red", overdue_days=7)  # 1M × 3 × 2
    big_green = priority_score(arr=5_000_000, band="green")  # 5M × 1 × 1
    assert small_red_overdue == pytest.approx(6_000_000) and small_red_overdue > big_green


# --- the team home --------------------------------------------------------------------------------
def test_coverage_cards_match_the_rollups_this_week_against_last(ws, csm, csm2):
    team(ws, csm, csm2)
    home = team_home(workspace=ws, period="week")

    rate = card(home, "coverage-all")
    assert (rate["value"], rate["before"], rate["change"]) == (60.0, 40.0, 20.0)  # 3/5 vs 2/5
    assert rate["chart"]["series"][0]["points"][-2:] == [40.0, 60.0]
    assert len(rate["chart"]["series"][0]["points"]) == 12
    arr = card(home, "coverage-arr")
    # 5.5M of 6.9M = 79.7%; a week ago 3.4M of 6.9M = 49.3%
    assert (arr["value"], arr["before"], arr["change"]) == (79.7, 49.3, 30.4)


def test_health_card_counts_bands_from_the_snapshots_of_each_period_end(ws, csm, csm2):
    team(ws, csm, csm2)
    health = card(team_home(workspace=ws, period="week"), "health")

    rows = {r["band"]: r for r in health["rows"]}
    assert {b: (r["count"], r["count_change"], r["share"], r["share_change"]) for b, r in rows.items()} == {
        "green": (2, -1, 40.0, -20.0), "yellow": (1, 0, 20.0, 0.0), "red": (2, 1, 40.0, 20.0)}
    # The all-red snapshots of T-3 are no period's end: no point reads them.
    red = next(s for s in health["chart"]["series"] if s["band"] == "red")
    assert red["points"][-2:] == [20.0, 40.0] and red["points"][:-2] == [None] * 10


def test_month_periods_are_four_weeks_and_read_only_what_existed_then(ws, csm, csm2):
    data = team(ws, csm, csm2)
    home = team_home(workspace=ws, period="month")
    assert home["period_days"] == 28
    rate = card(home, "coverage-all")
    assert rate["value"] == 60.0 and rate["before"] is None and rate["change"] is None  # nothing 28 days ago
    assert rate["chart"]["series"][0]["points"][-1] == 60.0 and len(rate["chart"]["series"][0]["points"]) == 12
    health = card(home, "health")
    assert {r["band"]: r["count_change"] for r in health["rows"]} == {"green": None, "yellow": None, "red": None}
    # A past period's end, computed before today's run, keeps its own figures.
    earlier = team_home(workspace=ws, period="week", today=data.today - dt.timedelta(days=1))
    assert card(earlier, "coverage-all")["value"] == 40.0
    assert {r["band"]: r["count"] for r in card(earlier, "health")["rows"]} == {"green": 0, "yellow": 0, "red": 5}


def test_stage_card_counts_active_accounts_against_targets_and_the_moves_of_the_period(ws, csm, csm2):
    data = team(ws, csm, csm2)
    stages = card(team_home(workspace=ws), "stages")

    rows = {r["name"]: r for r in stages["rows"]}
    first, second = rows[data.first.name], rows[data.second.name]
    assert stages["total"] == 5  # the churned account is not counted
    target = float(data.first.target_share)  # the default stages come with target shares
    assert (first["count"], first["share"], first["target"], first["gap"], first["net_moves"]) == (
        4, 80.0, target, round(80.0 - target, 1), -1)
    assert (second["count"], second["share"], second["target"], second["gap"], second["net_moves"]) == (
        1, 20.0, 30.0, -10.0, 1)
    assert second["link"].endswith(f"?status=active&stage={data.second.pk}")
    assert stages["has_targets"]


def test_renewals_at_risk_are_red_or_falling_within_90_days(ws, csm, csm2):
    team(ws, csm, csm2)
    renewals = card(team_home(workspace=ws), "renewals")
    # A1 (red, T+30) and B1 (fell 12, T+60); U1 renews but is healthy; B2 is red but renews later;
    # the churned C1 renews in 5 days but is no customer any more.
    assert (renewals["count"], renewals["arr"]) == (2, Decimal("1500000"))
    assert (renewals["window_count"], renewals["window_arr"]) == (3, Decimal("1900000"))
    assert [b["value"] for b in renewals["bars"]] == [1_000_000, 500_000, 0]


def test_no_card_for_capabilities_that_do_not_exist_yet(ws, csm, csm2):
    team(ws, csm, csm2)
    keys = [c["key"] for c in team_home(workspace=ws)["cards"]]
    assert keys == ["coverage-all", "coverage-arr", "health", "stages", "renewals"]


def test_team_table_has_one_row_per_csm_and_unassigned(ws, manager, csm, csm2):
    team(ws, csm, csm2)
    table = team_home(workspace=ws)["team"]

    rows = {r["name"]: r for r in table["rows"]}
    assert list(rows) == ["Kenji Test", "Yui Test", "Unassigned"]  # the manager owns nothing: no row
    assert {n: (r["accounts"], r["arr"], r["rate"], r["change"], r["red"]) for n, r in rows.items()} == {
        "Kenji Test": (2, Decimal("3000000"), 50.0, 50.0, 1),
        "Yui Test": (2, Decimal("3500000"), 100.0, 50.0, 1),
        "Unassigned": (1, Decimal("400000"), 0.0, -100.0, 0),
    }
    assert rows["Kenji Test"]["links"]["due"] == f"/coverage/due/?owner={csm.pk}"
    assert rows["Unassigned"]["links"]["accounts"] == "/accounts/?status=active&unowned=true"
    assert table["totals"]["accounts"] == 5 and table["totals"]["rate"] == 60.0

    by_red = team_home(workspace=ws, sort="-arr")["team"]["rows"]
    assert [r["name"] for r in by_red] == ["Yui Test", "Kenji Test", "Unassigned"]  # Unassigned stays last


def test_the_team_home_reads_nothing_of_another_workspace(ws, other_ws, csm, csm2, outsider):
    from .factories import MembershipFactory, UserFactory

    other_csm = MembershipFactory(workspace=other_ws, user=UserFactory(username="b-csm", first_name="Bea"))
    other_csm2 = MembershipFactory(workspace=other_ws, user=UserFactory(username="b-csm2", first_name="Bo"))
    team(other_ws, other_csm, other_csm2)
    team(ws, csm, csm2)
    home = team_home(workspace=ws)
    assert card(home, "coverage-all")["value"] == 60.0 and card(home, "renewals")["count"] == 2
    assert card(home, "stages")["total"] == 5
    assert {r["band"]: r["count"] for r in card(home, "health")["rows"]} == {"green": 2, "yellow": 1, "red": 2}
    assert [r["name"] for r in home["team"]["rows"]] == ["Kenji Test", "Yui Test", "Unassigned"]
    assert book(workspace=ws, owner=owners.ALL)["total"] == 4


# --- My book --------------------------------------------------------------------------------------
def test_my_book_merges_every_reason_once_per_account_in_priority_order(ws, csm, csm2):
    from .factories import AccountFactory

    data = team(ws, csm, csm2)
    a3 = AccountFactory(workspace=ws, owner=csm, name="A3 Renewing Yellow KK", arr=Decimal("2000000"),
                        health_band="yellow", health_score=50, health_change_30d=0,
                        renewal_date=data.today + dt.timedelta(days=80))
    result = book(workspace=ws, owner=csm)

    assert [r.account.name for r in result["rows"]] == ["A1 Red Renewing KK", "A3 Renewing Yellow KK"]
    a1, third = result["rows"]
    assert [r.kind for r in a1.reasons] == ["touch", "alert", "health", "renewal"]
    assert a1.score == pytest.approx(27_000_000)
    assert third.score == pytest.approx(2_000_000 * 2 * (1 + 10 / 30))
    assert a1.action.action_url == f"/accounts/{data.a1.pk}/?channel=video_meeting#quicklog-title"
    assert a1.reasons[1].action_url == f"/health/alerts/?owner={csm.pk}"
    assert third.action.action_url == f"/accounts/{a3.pk}/"
    assert result["counts"] == {"touch": 1, "overdue": 1, "alert": 1, "health": 1, "renewal": 2}
    assert result["book_size"] == 3  # A1, A2, A3 (C1 churned)


def test_the_team_book_and_the_unassigned_book(ws, csm, csm2):
    data = team(ws, csm, csm2)
    everyone = book(workspace=ws, owner=owners.ALL)
    # A1 27M; B2 3M × red 3 × 1 = 9M; B1 0.5M × (yellow 2 + fell 12: 1.2) × (1 + renewal (90-60)/30) = 3.2M;
    # U1 0.4M × green 1 × (1 + never touched 7/7 + (90-10)/30) = 1.8667M. A2 needs nothing.
    assert [(r.account.name, round(r.score)) for r in everyone["rows"]] == [
        ("A1 Red Renewing KK", 27_000_000), ("B2 Big Red KK", 9_000_000), ("B1 Falling KK", 3_200_000),
        ("U1 Nobody's KK", 1_866_667)]
    assert [r.kind for r in everyone["rows"][2].reasons] == ["touch", "health", "renewal"]
    assert {r.account.name: r.owner_name for r in everyone["rows"]}["U1 Nobody's KK"] == ""

    nobody = book(workspace=ws, owner=None)
    assert [r.account.name for r in nobody["rows"]] == ["U1 Nobody's KK"]
    u1 = nobody["rows"][0]
    assert [r.kind for r in u1.reasons] == ["touch", "renewal"]
    assert u1.reasons[0].text == "Never touched" and u1.reasons[0].overdue_days == 7
    assert u1.action.action_url == f"/accounts/{data.u1.pk}/?channel=email#quicklog-title"


def test_a_large_book_reads_the_largest_accounts_of_each_kind_and_says_so(ws, csm, csm2, monkeypatch):
    from cs_platform import homes

    team(ws, csm, csm2)
    assert not book(workspace=ws, owner=owners.ALL)["capped"]
    monkeypatch.setattr(homes, "SOURCE_LIMIT", 1)  # a workspace far larger than this fixture
    result = book(workspace=ws, owner=owners.ALL)
    assert result["capped"]
    # The biggest due touch (B2 is covered and not due; A1's 1M beats B1's 0.5M and U1's 0.4M), the
    # biggest red or falling account (B2, 3M) and the biggest renewal (A1, 1M) are kept.
    assert {r.account.name: [x.kind for x in r.reasons] for r in result["rows"]} == {
        "A1 Red Renewing KK": ["touch", "alert", "renewal"], "B2 Big Red KK": ["health"]}
