"""Revenue from contract lines, against hand-computed figures (tests/revenue_case.py, docs/revenue.md)."""

import datetime as dt
from decimal import Decimal

import pytest

from revenue.selectors import (
    boundaries,
    breakdown,
    churn_by_reason,
    classify,
    movement_rows,
    movements,
    mrr_by_account_on,
    window_metrics,
    window_report,
)

from .factories import AccountFactory, contract_line
from .revenue_case import END, START, build_case

pytestmark = pytest.mark.django_db
d = dt.date
D = Decimal


@pytest.fixture
def case(ws, csm, csm2):
    return build_case(ws, csm=csm, csm2=csm2)


def by_name(case, mapping):
    names = {acc.pk: key for key, acc in case.items() if key != "big"}
    return {names[pk]: value for pk, value in mapping.items()}


def test_mrr_on_a_day_sums_the_active_lines_with_exclusive_ends(ws, case):
    assert by_name(case, mrr_by_account_on(ws, START)) == {
        "A": D(1000), "B": D(2000), "C": D(3000), "D": D(700), "F": D(600), "H": D(600)}  # E ended on start
    assert by_name(case, mrr_by_account_on(ws, END)) == {
        "A": D(1500), "B": D(1200), "D": D(900), "G": D(250), "H": D(600), "I": D(800)}  # F ended on end
    assert by_name(case, mrr_by_account_on(ws, d(2026, 3, 1))) == {  # B's lines hand over on one day
        "A": D(1500), "B": D(1200), "F": D(600), "G": D(250), "H": D(600)}
    assert by_name(case, mrr_by_account_on(ws, d(2025, 12, 31)))["E"] == D(400)  # the last day E ran


def test_window_metrics_follow_the_definitions(ws, case):
    m = window_metrics(ws, START, END)
    assert m["start_mrr"] == D(7900) and m["start_logos"] == 6
    assert m["end_mrr"] == D(5250) and m["end_logos"] == 6
    assert m["retained_mrr"] == D(4200)  # A 1,500 + B 1,200 + D 900 + H 600; C and F none
    assert m["nrr"] == D(4200) / D(7900)
    assert m["churned_logos"] == 2 and m["logo_churn"] == D(2) / D(6)  # C and F; D came back
    assert m["churned_mrr"] == D(3600) and m["downsell_mrr"] == D(800)
    assert m["mrr_churn"] == D(4400) / D(7900)
    assert m["grr"] == 1 - D(4400) / D(7900)
    assert m["expansion_mrr"] == D(700)  # A +500, D +200 (churned and returned inside the window)
    assert m["new_logos"] == 2 and m["new_mrr"] == D(1050)  # G, and I whose line starts on `end`
    assert m["start_arr"] == D(7900 * 12)


def test_period_over_period_is_the_window_of_equal_length_before(ws, case):
    report = window_report(ws, START, END)
    previous = report["previous"]
    assert (previous["start"], previous["end"]) == (d(2025, 10, 1), START)  # the quarter before
    assert previous["start_mrr"] == D(8300)  # E's 400 was still running
    assert previous["retained_mrr"] == D(7900) and previous["churned_logos"] == 1
    assert previous["grr"] == D(7900) / D(8300)
    assert window_report(ws, d(2026, 1, 10), d(2026, 1, 20))["previous"]["start"] == d(2025, 12, 31)  # 10 days


def test_ratios_are_none_without_start_mrr(ws):
    m = window_metrics(ws, START, END)
    assert m["start_mrr"] == 0 and m["nrr"] is None and m["grr"] is None and m["logo_churn"] is None


def test_grr_is_never_above_one_even_with_only_growth(ws):
    account = AccountFactory(workspace=ws)
    contract_line(account, 100, d(2025, 1, 1))
    contract_line(account, 900, d(2026, 2, 1))
    m = window_metrics(ws, START, END)
    assert m["grr"] == 1 and m["nrr"] == 10 and m["mrr_churn"] == 0


def test_monthly_movements_classify_and_add_up(ws, case):
    moved = movements(ws, START, END)
    assert [(s["start"], s["end"]) for s in moved["steps"]] == [
        (d(2026, 1, 1), d(2026, 2, 1)), (d(2026, 2, 1), d(2026, 3, 1)), (d(2026, 3, 1), d(2026, 4, 1))]
    rows = {(r["start"].month, by_name(case, {r["account_id"]: 0}).popitem()[0]): (r["kind"], r["amount"])
            for r in moved["rows"]}
    assert rows == {
        (1, "D"): ("churn", D(700)), (1, "G"): ("new", D(250)),  # G's second line ended on Feb 1
        (2, "A"): ("expansion", D(500)), (2, "B"): ("contraction", D(800)), (2, "C"): ("churn", D(3000)),
        (3, "F"): ("churn", D(600)), (3, "D"): ("reactivation", D(900)), (3, "I"): ("new", D(800)),
    }
    jan, feb, mar = moved["steps"]
    assert (jan["start_mrr"], jan["end_mrr"], feb["end_mrr"], mar["end_mrr"]) == (D(7900), D(7450), D(4150), D(5250))
    total = moved["total"]
    assert (total["new"], total["expansion"], total["reactivation"], total["contraction"], total["churn"]) == (
        D(1050), D(500), D(900), D(800), D(4300))
    assert total["churn_count"] == 3 and total["new_count"] == 2
    for step in [*moved["steps"], total]:  # the waterfall closes
        assert step["start_mrr"] + step["new"] + step["expansion"] + step["reactivation"] - step["contraction"] \
            - step["churn"] == step["end_mrr"]


def test_a_churn_and_return_inside_one_month_is_no_movement(ws):
    account = AccountFactory(workspace=ws)
    contract_line(account, 100, d(2025, 1, 1), d(2026, 1, 10))
    contract_line(account, 100, d(2026, 1, 20))
    assert movements(ws, START, d(2026, 2, 1))["rows"] == []


def test_reactivation_needs_mrr_before_the_step_and_new_does_not():
    assert classify(D(0), D(5), d(2025, 1, 1), d(2026, 1, 1)) == ("reactivation", D(5))
    assert classify(D(0), D(5), d(2026, 1, 3), d(2026, 1, 1)) == ("new", D(5))
    assert classify(D(0), D(5), None, d(2026, 1, 1)) == ("new", D(5))
    assert classify(D(5), D(0), d(2025, 1, 1), d(2026, 1, 1)) == ("churn", D(5))
    assert classify(D(5), D(5), d(2025, 1, 1), d(2026, 1, 1)) is None


def test_boundaries_of_a_window_not_on_months():
    assert boundaries(d(2026, 1, 15), d(2026, 3, 10)) == [d(2026, 1, 15), d(2026, 2, 1), d(2026, 3, 1),
                                                        d(2026, 3, 10)]


def test_drill_down_rows_name_the_churn_reason(ws, case):
    rows = movement_rows(ws, START, END, kind="churn")
    assert [(r["account_name"], r["amount"], r["churn_reason_name"], r["churn_note"]) for r in rows] == [
        ("D Corp", D(700), "", ""),
        ("C Corp", D(3000), "Onboarding failure", "Never went live."),
        ("F Corp", D(600), "Price", "Cheaper tool."),
    ]
    assert [r["account_name"] for r in movement_rows(ws, START, END, step_start=d(2026, 3, 1))] == [
        "I Corp", "D Corp", "F Corp"]  # new, reactivation, churn


def test_churn_by_reason_and_the_onboarding_share(ws, case):
    report = churn_by_reason(ws, START, END)
    assert [(r["code"], r["mrr"], r["logos"]) for r in report["rows"]] == [
        ("onboarding_failure", D(3000), 1), ("", D(700), 1), ("price", D(600), 1)]
    assert report["mrr"] == D(4300) and report["logos"] == 3
    assert report["onboarding_mrr_share"] == D(3000) / D(4300)
    assert report["onboarding_logo_share"] == D(1) / D(3)


def test_breakdown_by_tier_csm_cohort_and_segment(ws, case, csm, csm2):
    tiers = {row["key"]: row for row in breakdown(ws, START, END, "tier")}
    assert tiers["high"]["start_mrr"] == D(6000) and tiers["high"]["retained_mrr"] == D(2700)
    assert tiers["high"]["logo_churn"] == D(1) / D(3)
    assert tiers["low"]["start_mrr"] == D(1300) and tiers["low"]["mrr_churn"] == D(600) / D(1300)
    assert tiers[""]["start_mrr"] == D(0) and tiers[""]["new_mrr"] == D(800) and tiers[""]["nrr"] is None
    owners = {row["key"]: row for row in breakdown(ws, START, END, "csm")}
    assert owners[csm.pk]["start_mrr"] == D(6000) and owners[csm2.pk]["nrr"] == D(900) / D(700)
    assert owners[""]["start_mrr"] == D(1200)  # F and H
    cohorts = {row["label"]: row for row in breakdown(ws, START, END, "cohort")}
    assert cohorts["2025 Q1"]["start_mrr"] == D(5700)  # B, C, D (E ended on start)
    assert cohorts["2026 Q1"]["new_mrr"] == D(250) and cohorts["2026 Q2"]["new_mrr"] == D(800)
    segments = {row["label"]: row for row in breakdown(ws, START, END, "segment")}
    assert segments["Big"]["start_mrr"] == D(6000)  # A, B, C on the window's start
    assert segments["Big"]["end_mrr"] == D(2950)  # A 1,500 + B 1,200 + G 250 (joined during the window)
    assert segments["No segment"]["start_mrr"] == D(1900)


def test_another_workspace_lines_never_count(ws, other_ws, case):
    other = AccountFactory(workspace=other_ws)
    contract_line(other, 99999, d(2020, 1, 1))
    assert window_metrics(ws, START, END)["start_mrr"] == D(7900)
    assert window_metrics(other_ws, START, END)["start_mrr"] == D(99999)
