"""Coverage arithmetic against hand-computed expectations (see coverage/computation.py for the rules)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.models import AccountChange, Contact, ContactRole
from coverage.computation import compute_coverage
from coverage.models import CoverageSnapshot, TierChange
from coverage.selectors import coverage_report
from coverage.services import assign_tiers, pin_tier, save_cadence_policy
from tests.factories import AccountFactory, TouchpointFactory, WorkspaceFactory
from tests.health_data import known_since

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = dt.date(2026, 3, 31)
START = dt.date(2025, 1, 1)

HIGH_ARR = Decimal("20000000")  # >= 10M: high touch, 30 days
LOW_ARR = Decimal("5000000")  # >= 1M: low touch, 90 days
TECH_ARR = Decimal("300000")  # tech touch, 180 days


def at_noon(day, tz=TOKYO):
    return dt.datetime.combine(day, dt.time(12), tzinfo=tz)


def make(ws, arr, **fields):
    fields.setdefault("contract_start", START)
    account = AccountFactory(workspace=ws, arr=arr, **fields)
    known_since(START, account)  # its ARR, owner and seats on record since then (DAY is in the past)
    return account


def touch(account, day, channel="phone", **fields):
    return TouchpointFactory(account=account, occurred_at=at_noon(day, account.workspace.tz), channel=channel, **fields)


def row(account, day=DAY):
    return CoverageSnapshot.all_workspaces.get(account=account, day=day)


def run(ws, day=DAY):
    assign_tiers(workspace=ws, as_of=day)
    return compute_coverage(workspace=ws, day=day)


@pytest.mark.django_db
def test_touch_exactly_on_the_window_boundary_still_covers(ws):
    on_edge = make(ws, LOW_ARR, name="On the edge")
    past_edge = make(ws, LOW_ARR, name="One day past")
    touch(on_edge, DAY - dt.timedelta(days=90))
    touch(past_edge, DAY - dt.timedelta(days=91))
    result = run(ws)

    edge = row(on_edge)
    assert (edge.tier, edge.covered, edge.days_since_last_touch) == ("low", True, 90)
    assert edge.due_date == DAY and edge.overdue_days is None and edge.broken_rule == ""

    late = row(past_edge)
    assert (late.covered, late.days_since_last_touch, late.overdue_days) == (False, 91, 1)
    assert late.due_date == DAY - dt.timedelta(days=1)
    assert late.broken_rule == "cadence"
    assert (result["in_scope"], result["covered"]) == (2, 1)


@pytest.mark.django_db
def test_one_to_many_touch_counts_only_for_tech_touch(ws):
    tech = make(ws, TECH_ARR)
    high = make(ws, HIGH_ARR)
    touch(tech, DAY - dt.timedelta(days=10), channel="webinar")
    touch(high, DAY - dt.timedelta(days=10), channel="webinar")
    run(ws)

    assert row(tech).tier == "tech" and row(tech).covered is True
    assert row(tech).due_date == DAY - dt.timedelta(days=10) + dt.timedelta(days=180)
    high_row = row(high)
    assert high_row.tier == "high" and high_row.covered is False
    assert high_row.broken_rule == "never" and high_row.last_touch_on is None
    assert high_row.fix_channel == "phone"


@pytest.mark.django_db
def test_account_changing_tier_mid_window(ws):
    day0 = dt.date(2026, 1, 1)
    account = make(ws, LOW_ARR)
    assign_tiers(workspace=ws, as_of=day0)
    touch(account, day0 + dt.timedelta(days=5))
    account.arr = HIGH_ARR
    account.save()
    change_day = day0 + dt.timedelta(days=20)
    # The ARR changed that day (the change log dates the edit; a past day reads the ARR it had then).
    AccountChange.all_workspaces.filter(account=account, field="arr", valid_from__gt=START).update(
        valid_from=change_day)
    assign_tiers(workspace=ws, as_of=change_day)
    assert list(TierChange.all_workspaces.filter(account=account).values_list("day", "tier")) == [
        (day0, "low"), (change_day, "high"),
    ]

    before, after = change_day - dt.timedelta(days=1), day0 + dt.timedelta(days=40)
    compute_coverage(workspace=ws, day=after)
    compute_coverage(workspace=ws, day=before)
    # Day 19: still low touch (90 days), touched 14 days ago → covered.
    assert (row(account, before).tier, row(account, before).covered) == ("low", True)
    assert row(account, before).due_date == day0 + dt.timedelta(days=95)
    # Day 40: high touch since day 20 (30 days); the touch of day 5 is 35 days old → overdue by 5.
    late = row(account, after)
    assert (late.tier, late.covered, late.days_since_last_touch, late.overdue_days) == ("high", False, 35, 5)


@pytest.mark.django_db
def test_churned_and_not_yet_started_accounts_are_out_of_scope(ws):
    covered = make(ws, LOW_ARR)
    churned = make(ws, LOW_ARR, status="churned", churned_on=DAY - dt.timedelta(days=5))
    future = make(ws, LOW_ARR, contract_start=DAY + dt.timedelta(days=10))
    starts_today = make(ws, LOW_ARR, contract_start=DAY)
    touch(covered, DAY - dt.timedelta(days=3))
    result = run(ws)

    assert row(churned).in_scope is False
    assert row(future).in_scope is False
    assert row(starts_today).in_scope is True and row(starts_today).covered is False
    assert (result["in_scope"], result["covered"]) == (2, 1)
    report = coverage_report(workspace=ws, day=DAY)
    assert report["total"]["rate"] == 50.0
    # Before its churn date the churned account was a customer like any other.
    compute_coverage(workspace=ws, day=DAY - dt.timedelta(days=10))
    assert row(churned, DAY - dt.timedelta(days=10)).in_scope is True


@pytest.mark.django_db
def test_day_boundary_in_tokyo_versus_utc():
    tokyo = WorkspaceFactory(time_zone="Asia/Tokyo")
    utc = WorkspaceFactory(time_zone="UTC")
    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 2026-03-02 08:30 in Tokyo
    in_tokyo = make(tokyo, HIGH_ARR)
    in_utc = make(utc, HIGH_ARR)
    TouchpointFactory(account=in_tokyo, occurred_at=moment)
    TouchpointFactory(account=in_utc, occurred_at=moment)

    for ws in (tokyo, utc):
        for day in (dt.date(2026, 3, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 1)):
            run(ws, day)

    assert row(in_tokyo, dt.date(2026, 3, 31)).last_touch_on == dt.date(2026, 3, 2)
    assert row(in_utc, dt.date(2026, 3, 31)).last_touch_on == dt.date(2026, 3, 1)
    # On 1 March the touch has not happened yet in Tokyo (it is 2 March there), but has in UTC.
    assert row(in_tokyo, dt.date(2026, 3, 1)).covered is False
    assert row(in_utc, dt.date(2026, 3, 1)).covered is True
    # 30 days later: due 1 April in Tokyo (still covered), 31 March in UTC (overdue on 1 April).
    assert (row(in_tokyo, dt.date(2026, 4, 1)).covered, row(in_tokyo, dt.date(2026, 4, 1)).due_date) == (
        True, dt.date(2026, 4, 1))
    assert (row(in_utc, dt.date(2026, 4, 1)).covered, row(in_utc, dt.date(2026, 4, 1)).overdue_days) == (False, 1)


def _rows(ws, day):
    return list(
        CoverageSnapshot.all_workspaces.filter(workspace=ws, day=day).order_by("account_id")
        .values_list("account_id", "tier", "in_scope", "covered", "last_touch_on", "days_since_last_touch",
                     "due_date", "overdue_days", "broken_rule", "cell", "arr", "owner_id", "segment_keys")
    )


@pytest.mark.django_db
def test_rerunning_a_past_date_gives_identical_rows(ws, csm, manager):
    past = DAY - dt.timedelta(days=20)
    a = make(ws, HIGH_ARR, owner=csm)
    b = make(ws, TECH_ARR)
    make(ws, LOW_ARR)
    touch(a, past - dt.timedelta(days=3))
    touch(b, past - dt.timedelta(days=100), channel="newsletter")
    run(ws, past)
    first = _rows(ws, past)
    assert len(first) == 3

    # Life goes on: later touches, a tier pin, later nights, then the past day again.
    touch(a, past + dt.timedelta(days=2))
    touch(b, past + dt.timedelta(days=1), channel="phone")
    pin_tier(account=b, actor=manager, tier="high", reason="Strategic logo")
    run(ws, DAY)
    assert TierChange.all_workspaces.filter(account=b).count() == 2
    compute_coverage(workspace=ws, day=past)
    compute_coverage(workspace=ws, day=past)
    assert _rows(ws, past) == first
    assert CoverageSnapshot.all_workspaces.filter(workspace=ws, day=past).count() == 3


@pytest.mark.django_db
def test_two_workspaces_never_mix(ws, other_ws):
    mine = make(ws, LOW_ARR)
    make(ws, LOW_ARR)
    theirs = make(other_ws, LOW_ARR)
    touch(mine, DAY - dt.timedelta(days=1))
    touch(theirs, DAY - dt.timedelta(days=1))
    make(other_ws, LOW_ARR)
    make(other_ws, LOW_ARR)
    run(ws)
    run(other_ws)

    assert set(CoverageSnapshot.all_workspaces.filter(workspace=ws).values_list("account__workspace", flat=True)) == {ws.pk}
    assert coverage_report(workspace=ws, day=DAY)["total"]["in_scope"] == 2
    assert coverage_report(workspace=ws, day=DAY)["total"]["rate"] == 50.0
    assert coverage_report(workspace=other_ws, day=DAY)["total"]["in_scope"] == 3
    # Recomputing one workspace leaves the other's rows alone.
    compute_coverage(workspace=ws, day=DAY)
    assert CoverageSnapshot.all_workspaces.filter(workspace=other_ws, day=DAY).count() == 3


@pytest.mark.django_db
def test_arr_weighted_rate_and_change_vs_last_week(ws):
    big = make(ws, Decimal("30000000"))
    small = make(ws, Decimal("2000000"))
    touch(big, DAY - dt.timedelta(days=2))
    run(ws, DAY - dt.timedelta(days=7))  # neither was touched yet a week ago
    run(ws, DAY)
    total = coverage_report(workspace=ws, day=DAY)["total"]
    assert (total["in_scope"], total["covered"], total["rate"]) == (2, 1, 50.0)
    assert total["arr_rate"] == 93.8  # 30M / 32M
    assert (total["rate_before"], total["change"]) == (0.0, 50.0)
    by_tier = {g["key"]: g for g in coverage_report(workspace=ws, day=DAY, group_by="tier")["groups"]}
    assert (by_tier["high"]["rate"], by_tier["low"]["rate"]) == (100.0, 0.0)
    assert small.pk in [r.account_id for r in CoverageSnapshot.all_workspaces.filter(day=DAY, covered=False)]


@pytest.mark.django_db
def test_role_rule_breaks_coverage_until_met(ws, manager):
    policy = ws_policy(ws, "high")
    save_cadence_policy(
        workspace=ws, actor=manager, policy=policy, name=policy.name, tier="high", max_gap_days=30,
        channels=policy.channels,
        rules=[{"name": "Decision-maker meeting", "channels": ["video_meeting", "onsite_meeting"],
                "contact_role": "decision_maker", "max_gap_days": 180}],
    )
    account = make(ws, HIGH_ARR)
    touch(account, DAY - dt.timedelta(days=5))
    # A meeting without the decision maker does not satisfy the rule.
    touch(account, DAY - dt.timedelta(days=50), channel="video_meeting")
    run(ws)
    broken = row(account)
    assert (broken.covered, broken.broken_rule, broken.fix_channel) == (False, "Decision-maker meeting", "video_meeting")
    assert broken.due_date is None and broken.days_since_last_touch == 5

    boss = Contact.all_workspaces.create(workspace=ws, account=account, name="Boss", role=ContactRole.DECISION_MAKER)
    meeting = touch(account, DAY - dt.timedelta(days=100), channel="onsite_meeting")
    meeting.contacts.add(boss)
    compute_coverage(workspace=ws, day=DAY)
    fixed = row(account)
    assert (fixed.covered, fixed.broken_rule) == (True, "")
    # The earliest due date of the cadence (5+30 → day+25) and the rule (100 → day+80).
    assert fixed.due_date == DAY + dt.timedelta(days=25)


def ws_policy(ws, tier):
    from coverage.models import CadencePolicy

    return CadencePolicy.all_workspaces.get(workspace=ws, tier=tier)


@pytest.mark.django_db
def test_a_segments_policy_wins_over_the_tier(ws, manager):
    from segments.services import materialize_segment, save_segment

    vip = make(ws, LOW_ARR, name="VIP", licensed_seats=50)
    plain = make(ws, LOW_ARR, name="Plain", licensed_seats=5)
    for account in (vip, plain):
        touch(account, DAY - dt.timedelta(days=20))
    segment = save_segment(workspace=ws, actor=manager, name="Large", materialize=False,
                           rules={"conditions": [{"field": "seats", "op": "gte", "value": 21}]})
    materialize_segment(segment=segment, as_of=DAY)
    save_cadence_policy(workspace=ws, actor=manager, name="Large: every 14 days", segment=segment, priority=1,
                        max_gap_days=14, channels=["phone"])
    run(ws)
    assert (row(vip).policy_name, row(vip).covered, row(vip).overdue_days) == ("Large: every 14 days", False, 6)
    assert row(vip).segment_ids == [segment.pk]
    assert (row(plain).policy_name, row(plain).covered) == ("Low touch: every 90 days", True)
