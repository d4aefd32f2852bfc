"""Segment rules (validation and compilation), membership history, tiers and matrix bands."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.history import record_current_values
from accounts.models import Account
from accounts.services import update_account
from coverage.computation import band_for, matrix_cell, tenure_months
from coverage.models import TierChange, TouchModel
from coverage.services import assign_tiers, parse_bands, pin_tier, unpin_tier, update_touch_model
from segments.models import SegmentMembership, SegmentMembershipEvent
from segments.rules import segment_accounts, subtract_months, validate_rules
from segments.services import materialize_segment, save_segment
from tests.factories import AccountFactory
from tests.health_data import known_since
from usage.models import UsageEvent
from usage.services import refresh_active_users
from workspaces.errors import DomainError
from workspaces.policy import SYSTEM

DAY = dt.date(2026, 3, 31)


def names(ws, rules, as_of=DAY):
    rules = validate_rules(rules, workspace=ws)
    return sorted(segment_accounts(workspace=ws, rules=rules, as_of=as_of).values_list("name", flat=True))


def cond(field, op, value=None):
    c = {"field": field, "op": op}
    if value is not None:
        c["value"] = value
    return c


@pytest.fixture
def accounts(ws, csm, csm2):
    a = AccountFactory(workspace=ws, name="A", arr=Decimal("12000000"), licensed_seats=30, owner=csm,
                       contract_start=dt.date(2025, 3, 31))  # 12 months on DAY
    b = AccountFactory(workspace=ws, name="B", arr=Decimal("3000000"), licensed_seats=8, owner=csm2,
                       contract_start=dt.date(2026, 1, 1))  # 2 months
    c = AccountFactory(workspace=ws, name="C", arr=Decimal("400000"), licensed_seats=None, owner=None,
                       contract_start=None, health_band="red")
    d = AccountFactory(workspace=ws, name="D", arr=Decimal("3000000"), licensed_seats=15, owner=csm,
                       contract_start=dt.date(2025, 4, 1), status="churned", churned_on=dt.date(2026, 2, 1))
    update_account(account=a, actor=SYSTEM, tags=["enterprise", "jp"])
    update_account(account=b, actor=SYSTEM, tags=["jp"])
    known_since(dt.date(2025, 1, 1), a, b, c, d)  # tiers of DAY read that day's ARR
    return {"a": a, "b": b, "c": c, "d": d}


@pytest.mark.django_db
def test_conditions_compile_to_the_expected_accounts(ws, csm, accounts):
    assert names(ws, {"op": "and", "conditions": [cond("arr", "gte", 3000000)]}) == ["A", "B", "D"]
    assert names(ws, {"op": "and", "conditions": [cond("arr", "between", [1000000, 5000000]),
                                                  cond("status", "in", ["active"])]}) == ["B"]
    assert names(ws, {"conditions": [cond("seats", "is_empty")]}) == ["C"]
    assert names(ws, {"conditions": [cond("seats", "gt", 10)]}) == ["A", "D"]
    assert names(ws, {"conditions": [cond("tenure_months", "gte", 12)]}) == ["A"]  # D is 11 months on DAY
    assert names(ws, {"conditions": [cond("tenure_months", "lte", 3)]}) == ["B"]
    assert names(ws, {"conditions": [cond("tenure_months", "eq", 11)]}) == ["D"]
    assert names(ws, {"conditions": [cond("tags", "any", ["enterprise", "nope"])]}) == ["A"]
    assert names(ws, {"conditions": [cond("tags", "all", ["enterprise", "jp"])]}) == ["A"]
    assert names(ws, {"conditions": [cond("tags", "none", ["jp"])]}) == ["C", "D"]
    assert names(ws, {"conditions": [cond("owner", "in", [csm.pk])]}) == ["A", "D"]
    assert names(ws, {"conditions": [cond("owner", "is_empty")]}) == ["C"]
    # Today's band is the account's column; a past day's is the day's snapshot (test_segments_as_of).
    assert names(ws, {"conditions": [cond("health_band", "in", ["red"])]}, as_of=ws.today()) == ["C"]
    assert names(ws, {"conditions": [cond("health_band", "is_empty")]}, as_of=ws.today()) == ["A", "B", "D"]
    assert names(ws, {"op": "and", "conditions": []}) == ["A", "B", "C", "D"]


@pytest.mark.django_db
def test_nested_and_or_groups(ws, accounts):
    rules = {"op": "and", "conditions": [
        cond("status", "in", ["active"]),
        {"op": "or", "conditions": [cond("tags", "any", ["enterprise"]), cond("seats", "is_empty")]},
    ]}
    assert names(ws, rules) == ["A", "C"]
    rules["conditions"][1]["op"] = "and"
    assert names(ws, rules) == []


@pytest.mark.django_db
def test_tenure_in_segments_agrees_with_the_account_and_matrix():
    # subtract_months clamps to the month's end, as tenure counting does.
    assert subtract_months(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert subtract_months(dt.date(2026, 1, 15), 13) == dt.date(2024, 12, 15)
    for start in (dt.date(2025, 3, 31), dt.date(2025, 4, 1), dt.date(2025, 12, 31), dt.date(2026, 2, 28)):
        months = tenure_months(start, DAY)
        assert start <= subtract_months(DAY, months) and start > subtract_months(DAY, months + 1)


@pytest.mark.django_db
def test_active_users_are_counted_by_the_usage_step_and_read_in_one_query(ws, accounts):
    start = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    for i, user in enumerate(["u1", "u2", "u2", "u3"]):
        UsageEvent.all_workspaces.create(workspace=ws, account=accounts["a"], message_id=f"m{i}", user_id=user, event="x",
                                  occurred_at=start, received_at=start)
    # Outside the 30-day window: does not count.
    old = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    UsageEvent.all_workspaces.create(workspace=ws, account=accounts["b"], message_id="old", user_id="u9", event="x",
                              occurred_at=old, received_at=old)
    # Anonymous events (no userId) count as activity but not as a person.
    UsageEvent.all_workspaces.create(workspace=ws, account=accounts["c"], message_id="anon", user_id="", event="x",
                              occurred_at=start, received_at=start)
    refresh_active_users(workspace=ws, as_of=DAY)
    assert dict(Account.objects.for_workspace(ws).values_list("name", "active_users_30d")) == {
        "A": 3, "B": 0, "C": 0, "D": 0}
    rules = validate_rules({"conditions": [cond("active_users", "gte", 3)]}, workspace=ws)
    with CaptureQueriesContext(connection) as queries:  # today: the column, in one query
        found = list(segment_accounts(workspace=ws, rules=rules, as_of=ws.today()).values_list("name", flat=True))
    assert found == ["A"] and len(queries) == 1
    # DAY, a past day: the events of the 30 days up to it (the same counts as the column of that night).
    assert names(ws, {"conditions": [cond("active_users", "gte", 3)]}) == ["A"]
    assert names(ws, {"conditions": [cond("active_users", "eq", 0)]}) == ["B", "C", "D"]


@pytest.mark.django_db
@pytest.mark.parametrize("rules, message", [
    ({"op": "xor", "conditions": []}, "rules: a group's op must be"),
    ({"conditions": [cond("revenue", "gte", 1)]}, "rules.conditions[0]: unknown field 'revenue'"),
    ({"conditions": [cond("arr", "in", [1])]}, "rules.conditions[0]: arr does not support op 'in'"),
    ({"conditions": [cond("arr", "gte", "lots")]}, "rules.conditions[0] (arr gte): the value must be a number"),
    ({"conditions": [cond("arr", "gte", -5)]}, "zero or more"),
    ({"conditions": [cond("seats", "between", [10, 2])]}, "between needs from <= to"),
    ({"conditions": [cond("seats", "gte", 2.5)]}, "whole number"),
    ({"conditions": [{"op": "or", "conditions": [cond("status", "in", ["gone"])]}]},
     "rules.conditions[0].conditions[0] (status in): ['gone'] is not one of active, churned"),
    ({"conditions": [cond("stage", "in", [999999])]}, "unknown lifecycle stage [999999]"),
    ({"conditions": [cond("tags", "any", [])]}, "non-empty list"),
    ({"conditions": [{"field": "arr", "op": "gte", "value": 1, "extra": 1}]}, "unknown key(s) ['extra']"),
    ({"conditions": "arr > 1"}, "\"conditions\" must be a list"),
])
def test_bad_rules_are_refused_naming_the_condition(ws, rules, message):
    with pytest.raises(DomainError) as error:
        validate_rules(rules, workspace=ws)
    assert message in error.value.message and error.value.field == "rules"


@pytest.mark.django_db
def test_another_workspaces_stage_or_member_is_unknown(ws, other_ws, outsider):
    from accounts.models import LifecycleStage

    theirs = LifecycleStage.objects.for_workspace(other_ws).first()
    with pytest.raises(DomainError, match="unknown lifecycle stage"):
        validate_rules({"conditions": [cond("stage", "in", [theirs.pk])]}, workspace=ws)
    with pytest.raises(DomainError, match="unknown member"):
        validate_rules({"conditions": [cond("owner", "in", [outsider.pk])]}, workspace=ws)


@pytest.mark.django_db
def test_membership_history_records_who_entered_and_left(ws, manager, accounts):
    segment = save_segment(workspace=ws, actor=manager, name="Big", materialize=False,
                           rules={"conditions": [cond("arr", "gte", 3000000)]})
    day1, day2 = DAY, DAY + dt.timedelta(days=1)
    assert materialize_segment(segment=segment, as_of=day1) == {"segment": segment.pk, "entered": 3, "left": 0,
                                                                "members": 3}
    # Same day again: nothing changes.
    assert materialize_segment(segment=segment, as_of=day1)["entered"] == 0
    Account.all_workspaces.filter(pk=accounts["b"].pk).update(arr=Decimal("100"))
    Account.all_workspaces.filter(pk=accounts["c"].pk).update(arr=Decimal("5000000"))
    # DAY is a past day: its values are the change log's, so the edits are recorded as known from day2.
    record_current_values(workspace=ws, accounts=Account.objects.for_workspace(ws).filter(
        pk__in=[accounts["b"].pk, accounts["c"].pk]), source="test", day=day2)
    assert materialize_segment(segment=segment, as_of=day2) == {"segment": segment.pk, "entered": 1, "left": 1,
                                                                "members": 3}
    assert set(SegmentMembership.all_workspaces.filter(segment=segment).values_list("account__name", flat=True)) == {"A", "C", "D"}
    events = list(SegmentMembershipEvent.all_workspaces.filter(segment=segment).order_by("day", "account__name")
                  .values_list("day", "account__name", "kind"))
    assert events == [(day1, "A", "entered"), (day1, "B", "entered"), (day1, "D", "entered"),
                      (day2, "B", "left"), (day2, "C", "entered")]
    # A past day is not rewritten.
    assert materialize_segment(segment=segment, as_of=day1)["skipped"] is True


@pytest.mark.django_db
def test_only_managers_edit_segments_and_tiers(ws, csm, viewer, accounts):
    for actor in (csm, viewer):
        with pytest.raises(PermissionDenied):
            save_segment(workspace=ws, actor=actor, name="Mine", rules={})
        with pytest.raises(PermissionDenied):
            pin_tier(account=accounts["a"], actor=actor, tier="low", reason="no")
        with pytest.raises(PermissionDenied):
            update_touch_model(workspace=ws, actor=actor, high_min_arr=1)


@pytest.mark.django_db
def test_tiers_follow_thresholds_and_pins_win(ws, manager, accounts):
    assign_tiers(workspace=ws, as_of=DAY)
    tiers = dict(Account.all_workspaces.filter(workspace=ws).values_list("name", "touch_tier"))
    # D is churned: it keeps the tier it had (none was ever set here).
    assert tiers == {"A": "high", "B": "low", "C": "tech", "D": ""}
    pin_tier(account=accounts["c"], actor=manager, tier="high", reason="Reference customer")
    update_touch_model(workspace=ws, actor=manager, high_min_arr=Decimal("50000000"))
    later = ws.today() + dt.timedelta(days=1)
    assign_tiers(workspace=ws, as_of=later)
    tiers = dict(Account.all_workspaces.filter(workspace=ws).values_list("name", "touch_tier"))
    assert tiers == {"A": "low", "B": "low", "C": "high", "D": ""}
    assert TierChange.all_workspaces.filter(account=accounts["c"]).latest("day").pinned is True
    unpin_tier(account=accounts["c"], actor=manager)
    assert Account.all_workspaces.get(pk=accounts["c"].pk).touch_tier == "tech"


@pytest.mark.django_db
def test_matrix_bands_default_and_configurable(ws, manager):
    model = TouchModel.all_workspaces.get_or_create(workspace=ws)[0]
    assert [band_for(n, model.seat_bands) for n in (0, 1, 5, 6, 10, 11, 20, 21, 500)] == [
        "", "D", "D", "C", "C", "B", "B", "A", "A"]
    assert [band_for(n, model.tenure_bands) for n in (0, 3, 4, 7, 8, 11, 12, 40)] == [
        "a", "a", "b", "b", "c", "c", "d", "d"]
    # IDs are active users by default; seats when the touch model says so.
    cell = matrix_cell(seats=3, active_users=21, contract_start=dt.date(2025, 3, 31), day=DAY, touch_model=model)
    assert cell == ("A", "d", "A-d")
    assert matrix_cell(seats=21, active_users=None, contract_start=dt.date(2025, 3, 31), day=DAY,
                       touch_model=model)[2] == ""
    model.matrix_users = "seats"
    assert matrix_cell(seats=21, active_users=3, contract_start=dt.date(2025, 3, 31), day=DAY,
                       touch_model=model)[2] == "A-d"
    model.matrix_users = "active_users"
    update_touch_model(workspace=ws, actor=manager, seat_bands=parse_bands("S:1, M:50, L:200", "seat_bands"))
    model.refresh_from_db()
    assert [b["label"] for b in model.seat_bands] == ["L", "M", "S"]
    assert band_for(60, model.seat_bands) == "M"
    with pytest.raises(DomainError, match="different"):
        parse_bands("A:1, B:1", "seat_bands")
    with pytest.raises(DomainError, match="label:min"):
        parse_bands("A-1", "seat_bands")
