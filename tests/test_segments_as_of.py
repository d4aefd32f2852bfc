"""Segment rules and coverage on a past day read the values of that day, never today's: a stored past
day equals its recomputation after later edits, field family by field family."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, LifecycleStage, StageChange
from accounts.services import update_account
from coverage.computation import compute_coverage
from coverage.models import CoverageSnapshot, TierChange
from coverage.services import assign_tiers, pin_tier
from healthscore.models import HealthSnapshot
from healthscore.selectors import default_scorecard, latest_version
from segments.rules import segment_accounts, validate_rules
from segments.selectors import segment_ids_as_of
from segments.services import add_to_segment, materialize_segment, save_segment

from .factories import AccountFactory, ContractFactory
from .health_data import add_usage, known_since

pytestmark = pytest.mark.django_db


def cond(field, op, value=None):
    return {"field": field, "op": op, **({"value": value} if value is not None else {})}


def members(ws, rules, day, segment_id=None):
    rules = validate_rules(rules, workspace=ws)
    return sorted(segment_accounts(workspace=ws, rules=rules, as_of=day, segment_id=segment_id)
                  .values_list("name", flat=True))


def scored(account, day, band):
    """A stored health snapshot of `account` on `day` with `band`."""
    version = latest_version(default_scorecard(workspace=account.workspace))
    HealthSnapshot.objects.create(workspace=account.workspace, account=account, day=day, version=version,
                                  total=50, band=band)


def test_a_stored_past_day_equals_its_recomputation_after_later_edits(ws, manager, csm, csm2):
    today = ws.today()
    past = today - dt.timedelta(days=20)
    big = AccountFactory(workspace=ws, name="Big", arr=Decimal("30000000"), licensed_seats=40, owner=csm,
                         attributes={"region": "kanto"})
    small = AccountFactory(workspace=ws, name="Small", arr=Decimal("500000"), licensed_seats=5, owner=csm2)
    lined = AccountFactory(workspace=ws, name="Lined", arr=Decimal("1"), licensed_seats=1, owner=csm)
    # Its line says ARR 12,000,000 and 25 seats on every day since 300 days ago (the row's 1 is wrong).
    ContractFactory(account=lined, mrr=Decimal("1000000"), quantity=25, unit="seats",
                    start_date=today - dt.timedelta(days=300))
    known_since(today - dt.timedelta(days=400), big, small, lined)
    scored(big, past - dt.timedelta(days=1), "red")  # the previous night's band
    scored(lined, past - dt.timedelta(days=3), "red")  # nights since without a score: the column kept it
    scored(small, past - dt.timedelta(days=1), "green")
    assign_tiers(workspace=ws, as_of=past)  # by that day's ARR: Big and Lined high, Small tech
    rules = {"op": "and", "conditions": [
        cond("arr", "gte", 10000000), cond("owner", "in", [csm.pk]), cond("touch_tier", "in", ["high"]),
        cond("health_band", "in", ["red"]), cond("seats", "gte", 20)]}
    stored = save_segment(workspace=ws, actor=manager, name="Stored", rules=rules, materialize=False)
    materialize_segment(segment=stored, as_of=past)
    assert members(ws, rules, past) == ["Big", "Lined"]

    # Everything the rules read changes afterwards, through the normal write paths.
    update_account(account=big, actor=manager, arr=Decimal("100000"), owner=csm2, licensed_seats=2,
                   attributes={"region": "kansai"})
    update_account(account=small, actor=manager, arr=Decimal("50000000"), owner=csm, licensed_seats=50)
    scored(big, past, "green")  # scored on the day itself: that night's segments ran before it
    for account, band in ((big, "green"), (small, "red"), (lined, "green")):
        scored(account, today - dt.timedelta(days=1), band)
        Account.objects.for_workspace(ws).filter(pk=account.pk).update(health_band=band)
    assign_tiers(workspace=ws, as_of=today)  # Big tech, Small high from today
    pin_tier(account=lined, actor=manager, tier="tech", reason="pooled team")
    Account.objects.for_workspace(ws).filter(pk=lined.pk).update(arr=Decimal("5"), licensed_seats=1)

    # Recomputed: a segment with the same rules built for that day, and the rules read again.
    again = save_segment(workspace=ws, actor=manager, name="Again", rules=rules, materialize=False)
    materialize_segment(segment=again, as_of=past)
    on_day = segment_ids_as_of(workspace=ws, day=past)
    assert sorted(pk for pk, ids in on_day.items() if stored.pk in ids) == sorted([big.pk, lined.pk])
    assert sorted(pk for pk, ids in on_day.items() if again.pk in ids) == sorted([big.pk, lined.pk])
    assert members(ws, rules, past) == ["Big", "Lined"]
    assert members(ws, rules, today) == ["Small"]  # today reads today's columns


def test_account_values_of_the_day_from_lines_and_the_change_log(ws, manager, csm, csm2):
    today = ws.today()
    past = today - dt.timedelta(days=30)
    logged = AccountFactory(workspace=ws, name="Logged", arr=Decimal("2000000"), licensed_seats=None, owner=csm,
                            contract_start=today - dt.timedelta(days=200))
    lined = AccountFactory(workspace=ws, name="Lined", arr=Decimal("99"), owner=None, contract_start=None)
    ContractFactory(account=lined, mrr=Decimal("250000"), quantity=8, unit="ID",
                    start_date=past - dt.timedelta(days=100))  # tenure 3 months on the day; 3,000,000 ARR
    ContractFactory(account=lined, mrr=Decimal("1000000"), quantity=50, unit="ID",
                    start_date=past + dt.timedelta(days=1))  # starts after the day: not counted
    known_since(today - dt.timedelta(days=365), logged, lined)
    update_account(account=logged, actor=manager, arr=Decimal("9000000"), licensed_seats=12, owner=csm2,
                   status="churned", churned_on=today, churn_reason="other")
    newcomer = AccountFactory(workspace=ws, name="Newcomer", arr=Decimal("2000000"), owner=None)  # from today only

    assert members(ws, {"conditions": [cond("arr", "between", [1000000, 3000000])]}, past) == ["Lined", "Logged"]
    assert members(ws, {"conditions": [cond("arr", "eq", 3000000)]}, past) == ["Lined"]
    assert members(ws, {"conditions": [cond("seats", "is_empty")]}, past) == ["Logged"]  # known to be empty
    assert members(ws, {"conditions": [cond("seats", "eq", 8)]}, past) == ["Lined"]
    assert members(ws, {"conditions": [cond("owner", "in", [csm.pk])]}, past) == ["Logged"]
    assert members(ws, {"conditions": [cond("owner", "is_empty")]}, past) == ["Lined"]
    assert members(ws, {"conditions": [cond("owner", "not_in", [csm2.pk])]}, past) == ["Lined", "Logged"]
    assert members(ws, {"conditions": [cond("status", "in", ["active"])]}, past) == ["Lined", "Logged"]
    # 200 - 30 = 170 days on the day: 5 months; the line's start, 100 days: 3 months.
    assert members(ws, {"conditions": [cond("tenure_months", "eq", 5)]}, past) == ["Logged"]
    assert members(ws, {"conditions": [cond("tenure_months", "lte", 3)]}, past) == ["Lined"]
    # Newcomer was not on record that day: in no segment, not even "everyone" or "owner is empty".
    assert members(ws, {"op": "and", "conditions": []}, past) == ["Lined", "Logged"]
    assert members(ws, {"conditions": [cond("owner", "is_empty")]}, today) == ["Lined", "Newcomer"]
    assert newcomer.pk  # today it is there


def test_a_value_not_on_record_matches_no_condition(ws, csm):
    today = ws.today()
    past = today - dt.timedelta(days=10)
    account = AccountFactory(workspace=ws, name="Old", owner=csm, licensed_seats=3)
    Account.objects.for_workspace(ws).filter(pk=account.pk).update(created_at=ws.day_start(past - dt.timedelta(days=5)))
    # Created before the day but its values are on record from today only (e.g. the log's backfill).
    for rule in (cond("owner", "in", [csm.pk]), cond("owner", "not_in", [csm.pk]), cond("owner", "is_empty"),
                 cond("owner", "is_not_empty"), cond("seats", "ne", 1), cond("seats", "is_empty"),
                 cond("health_band", "not_in", ["red"]), cond("health_band", "is_empty"),
                 cond("touch_tier", "not_in", ["high"]), cond("touch_tier", "is_empty")):
        assert members(ws, {"conditions": [rule]}, past) == [], rule
    assert members(ws, {"op": "and", "conditions": []}, past) == ["Old"]  # it existed
    assert members(ws, {"conditions": [cond("owner", "in", [csm.pk])]}, today) == ["Old"]


def test_stage_of_the_day_from_the_stage_moves(ws):
    today = ws.today()
    past = today - dt.timedelta(days=10)
    onboarding, adoption = list(LifecycleStage.objects.for_workspace(ws).order_by("position"))[:2]
    moved = AccountFactory(workspace=ws, name="Moved", stage=adoption)
    stayed = AccountFactory(workspace=ws, name="Stayed", stage=onboarding)
    earlier = AccountFactory(workspace=ws, name="Earlier", stage=adoption)
    known_since(today - dt.timedelta(days=100), moved, stayed, earlier)
    StageChange.objects.create(workspace=ws, account=moved, from_stage=onboarding, to_stage=adoption,
                               changed_at=ws.day_start(today))  # after the day: it was in onboarding
    StageChange.objects.create(workspace=ws, account=earlier, from_stage=onboarding, to_stage=adoption,
                               changed_at=ws.day_start(past))  # on the day: in adoption
    assert members(ws, {"conditions": [cond("stage", "in", [onboarding.pk])]}, past) == ["Moved", "Stayed"]
    assert members(ws, {"conditions": [cond("stage", "in", [adoption.pk])]}, past) == ["Earlier"]
    assert members(ws, {"conditions": [cond("stage", "in", [adoption.pk])]}, today) == ["Earlier", "Moved"]


def test_active_users_of_the_day_from_the_events(ws):
    today = ws.today()
    past = today - dt.timedelta(days=40)
    busy = AccountFactory(workspace=ws, name="Busy", active_users_30d=0)
    quiet = AccountFactory(workspace=ws, name="Quiet", active_users_30d=9)  # today's column
    known_since(today - dt.timedelta(days=400), busy, quiet)
    add_usage(busy, past - dt.timedelta(days=29), users=["a", "b"])  # first day of the window
    add_usage(busy, past, users=["b", "c"])  # a, b, c: 3 distinct people
    add_usage(quiet, past - dt.timedelta(days=30), users=["x"])  # one day before the window
    add_usage(quiet, past + dt.timedelta(days=1), users=["y", "z"])  # after the day
    assert members(ws, {"conditions": [cond("active_users", "eq", 3)]}, past) == ["Busy"]
    assert members(ws, {"conditions": [cond("active_users", "eq", 0)]}, past) == ["Quiet"]
    assert members(ws, {"conditions": [cond("active_users", "eq", 9)]}, today) == ["Quiet"]


def test_health_band_is_the_previous_nights_and_tier_the_recorded_one(ws, manager):
    today = ws.today()
    past = today - dt.timedelta(days=10)
    a, b, c = (AccountFactory(workspace=ws, name=name, health_band="green", touch_tier="high") for name in "ABC")
    known_since(today - dt.timedelta(days=100), a, b, c)
    scored(a, past - dt.timedelta(days=5), "red")
    scored(a, past, "yellow")  # the day's own score: stored after that night's segments
    scored(b, past + dt.timedelta(days=1), "red")  # later: not seen
    TierChange.objects.create(workspace=ws, account=a, day=past - dt.timedelta(days=50), tier="low")
    TierChange.objects.create(workspace=ws, account=b, day=past, tier="tech")
    TierChange.objects.create(workspace=ws, account=c, day=past + dt.timedelta(days=1), tier="low")
    assert members(ws, {"conditions": [cond("health_band", "in", ["red"])]}, past) == ["A"]
    assert members(ws, {"conditions": [cond("health_band", "not_in", ["green"])]}, past) == ["A"]  # B, C: none yet
    assert members(ws, {"conditions": [cond("health_band", "is_not_empty")]}, past) == ["A"]
    assert members(ws, {"conditions": [cond("touch_tier", "in", ["low"])]}, past) == ["A"]  # C's is later
    assert members(ws, {"conditions": [cond("touch_tier", "in", ["tech"])]}, past) == ["B"]
    assert members(ws, {"conditions": [cond("touch_tier", "in", ["high"])]}, past) == []  # today's column
    assert members(ws, {"conditions": [cond("touch_tier", "in", ["high"])]}, today) == ["A", "B", "C"]


def test_tags_are_todays_and_additions_count_from_their_day(ws, manager):
    today = ws.today()
    past = today - dt.timedelta(days=10)
    a, b = AccountFactory(workspace=ws, name="A"), AccountFactory(workspace=ws, name="B")
    known_since(today - dt.timedelta(days=100), a, b)
    update_account(account=a, actor=manager, tags=["vip"])
    assert members(ws, {"conditions": [cond("tags", "any", ["vip"])]}, past) == ["A"]  # tags keep no history
    assert members(ws, {"conditions": [cond("tags", "none", ["vip"])]}, past) == ["B"]
    segment = save_segment(workspace=ws, actor=manager, name="Watch", rules={"conditions": [cond("added", "yes")]})
    add_to_segment(segment=segment, account_ids=[b.pk], actor=manager)
    assert members(ws, segment.rules, past, segment_id=segment.pk) == []  # added today, not then
    assert members(ws, segment.rules, today, segment_id=segment.pk) == ["B"]


def test_past_rules_take_a_fixed_number_of_queries(ws, django_assert_max_num_queries):
    accounts = [AccountFactory(workspace=ws) for _ in range(25)]
    known_since(ws.today() - dt.timedelta(days=100), *accounts)
    past = ws.today() - dt.timedelta(days=5)
    rules = {"op": "or", "conditions": [
        cond("arr", "gte", 1), cond("stage", "is_empty"), cond("tags", "any", ["x"]), cond("active_users", "gte", 1),
        cond("health_band", "in", ["red"]), cond("touch_tier", "in", ["high"]), cond("owner", "is_empty")]}
    rules = validate_rules(rules, workspace=ws)
    with django_assert_max_num_queries(12):  # accounts, 3 of the values of the day, stage, tags, 3 usage,
        found = list(segment_accounts(workspace=ws, rules=rules, as_of=past).values_list("pk", flat=True))
    assert len(found) == 25  # health band, tiers, and the accounts by id


# --- coverage -----------------------------------------------------------------------------------
COVERAGE_COLUMNS = ["account_id", "owner_id", "tier", "segment_keys", "policy_name", "seat_band", "tenure_band",
                    "cell", "arr", "in_scope", "covered", "last_touch_on", "due_date", "broken_rules"]


def coverage_rows(ws, day):
    return sorted(CoverageSnapshot.objects.for_workspace(ws).filter(day=day).values_list(*COVERAGE_COLUMNS))


def test_a_stored_coverage_day_equals_its_recomputation_after_later_edits(ws, manager, csm, csm2):
    today = ws.today()
    past = today - dt.timedelta(days=15)
    big = AccountFactory(workspace=ws, name="Big", arr=Decimal("30000000"), licensed_seats=40, owner=csm,
                         active_users_30d=0, contract_start=today - dt.timedelta(days=500), attributes={"x": 1})
    small = AccountFactory(workspace=ws, name="Small", arr=Decimal("500000"), licensed_seats=5, owner=csm2,
                           active_users_30d=30, contract_start=today - dt.timedelta(days=100))
    known_since(today - dt.timedelta(days=600), big, small)
    add_usage(big, past - dt.timedelta(days=3), users=[f"u{i}" for i in range(22)])  # 22 people: band A
    add_usage(small, past - dt.timedelta(days=2), users=["a", "b"])  # 2: band D (today's column says 30)
    compute_coverage(workspace=ws, day=past)  # no tier recorded yet: the tier of that day's ARR
    before = coverage_rows(ws, past)
    by_name = {row[0]: row for row in before}
    assert by_name[big.pk][2:8] == ("high", "", by_name[big.pk][4], "A", "d", "A-d")
    assert by_name[small.pk][2] == "tech" and by_name[small.pk][5:8] == ("D", "a", "D-a")  # 85 days: 2 months
    assert by_name[big.pk][1] == csm.pk and by_name[big.pk][8] == Decimal("30000000")

    update_account(account=big, actor=manager, arr=Decimal("100000"), owner=csm2, licensed_seats=2,
                   attributes={"x": 2})
    update_account(account=small, actor=manager, arr=Decimal("50000000"), owner=csm)
    assign_tiers(workspace=ws, as_of=today)  # tiers recorded from today: after the day
    pin_tier(account=big, actor=manager, tier="low", reason="pooled")
    Account.objects.for_workspace(ws).filter(pk__in=[big.pk, small.pk]).update(active_users_30d=99,
                                                                              health_band="red")
    compute_coverage(workspace=ws, day=past)
    assert coverage_rows(ws, past) == before
    # Today reads today's: the pinned tier, the column's users.
    compute_coverage(workspace=ws, day=today)
    now = {row[0]: row for row in coverage_rows(ws, today)}
    assert now[big.pk][2] == "low" and now[big.pk][7] == "A-d" and now[small.pk][2] == "high"


def test_a_past_coverage_day_leaves_out_an_account_without_a_tier_on_record(ws, csm):
    today = ws.today()
    past = today - dt.timedelta(days=5)
    unknown = AccountFactory(workspace=ws, owner=csm, touch_tier="high", arr=Decimal("30000000"))
    recorded = AccountFactory(workspace=ws, owner=csm, touch_tier="high", arr=Decimal("30000000"))
    TierChange.objects.create(workspace=ws, account=recorded, day=past - dt.timedelta(days=1), tier="low")
    compute_coverage(workspace=ws, day=past)
    rows = {r.account_id: r for r in CoverageSnapshot.objects.for_workspace(ws).filter(day=past)}
    # No tier recorded by then and no ARR on record (values known from today): not counted that day.
    assert (rows[unknown.pk].tier, rows[unknown.pk].in_scope, rows[unknown.pk].policy_name) == ("", False, "")
    assert rows[recorded.pk].tier == "low"  # the recorded one, not today's column
