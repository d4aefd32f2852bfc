"""A window's distinct users and key features from the daily rollups' user lists (usage.selectors.window_users),
checked against the raw events they summarise, and the cases where the raw events must answer instead."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from usage.ingest import parse_batch
from usage.models import DailyAccountUsage, DirtyUsageDay, UsageEvent
from usage.selectors import (
    active_users_on,
    distinct_per_account,
    distinct_users_and_features,
    ingest_settings,
    window_users,
)
from usage.services import enforce_retention, ingest_batch, rollup_dirty_days, update_ingest_settings
from usage.services.history import rebuild_rollups
from workspaces.policy import SYSTEM

from .factories import AccountFactory

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def send(ws, messages):
    received_at = timezone.now()
    settings = ingest_settings(workspace=ws)
    parsed = parse_batch(messages, received_at=received_at, mapping=settings.trait_mapping)
    return ingest_batch(workspace=ws, settings=settings, parsed=parsed, received_at=received_at)


def event(message_id, day, *, user, group, name="Login", hour=10):
    at = dt.datetime.combine(day, dt.time(hour), tzinfo=TOKYO)
    return {"type": "track", "messageId": message_id, "userId": user, "event": name,
            "context": {"groupId": group}, "timestamp": at.isoformat()}


@pytest.fixture
def book(ws):
    """Three accounts over ten days: users who come back on several days, one account whose events
    name no user, one with none at all."""
    today = ws.today()
    a = AccountFactory(workspace=ws, external_id="crm-a")
    b = AccountFactory(workspace=ws, external_id="crm-b")
    c = AccountFactory(workspace=ws, external_id="crm-c")
    AccountFactory(workspace=ws, external_id="crm-idle")
    messages = []
    for back in range(10):
        day = today - dt.timedelta(days=back)
        messages += [event(f"a{back}-1", day, user="u1", group="crm-a"),
                     event(f"a{back}-2", day, user=f"u{back % 3 + 1}", group="crm-a", name="Report Exported"),
                     event(f"b{back}", day, user=f"b{back}", group="crm-b", name="Invite Sent")]
    send(ws, messages)
    # An event of nobody (stored before ingestion required an id): c has 0 users, not none.
    UsageEvent.objects.create(workspace=ws, account=c, message_id="c0", user_id="", event="Login",
                              occurred_at=ws.day_start(today) + dt.timedelta(hours=10), received_at=timezone.now())
    DirtyUsageDay.objects.create(workspace=ws, day=today)
    rollup_dirty_days(workspace=ws, extra_days={today - dt.timedelta(days=n) for n in range(10)})
    return {"a": a, "b": b, "c": c, "today": today}


def raw_users(ws, first, last):
    events = UsageEvent.objects.for_workspace(ws).filter(
        account__isnull=False, occurred_at__gte=ws.day_start(first), occurred_at__lt=ws.day_start(last + dt.timedelta(days=1)))
    return distinct_per_account(events, "user_id")


def test_rollups_keep_each_days_distinct_users_sorted(ws, book):
    row = DailyAccountUsage.objects.for_workspace(ws).get(account=book["a"], day=book["today"])
    assert row.user_ids == ["u1"]
    yesterday = DailyAccountUsage.objects.for_workspace(ws).get(account=book["a"], day=book["today"] - dt.timedelta(days=1))
    assert yesterday.user_ids == ["u1", "u2"]
    assert DailyAccountUsage.objects.for_workspace(ws).get(account=book["c"]).user_ids == []


def test_window_users_from_the_rollups_equal_the_raw_events(ws, book):
    today = book["today"]
    for first, last in [(today - dt.timedelta(days=29), today), (today - dt.timedelta(days=3), today - dt.timedelta(days=1))]:
        users = window_users(workspace=ws, first_day=first, last_day=last)
        assert users.from_rollups
        assert dict(users) == raw_users(ws, first, last)
    # By hand: a has u1, u2, u3 over ten days; b a new user each day; c events of nobody.
    month = window_users(workspace=ws, first_day=today - dt.timedelta(days=29), last_day=today)
    assert month == {book["a"].pk: 3, book["b"].pk: 10, book["c"].pk: 0}
    three = window_users(workspace=ws, first_day=today - dt.timedelta(days=3), last_day=today - dt.timedelta(days=1))
    assert three == {book["a"].pk: 3, book["b"].pk: 3}


def test_key_features_from_the_rollups_equal_the_raw_events(ws, book):
    today = book["today"]
    users, features = distinct_users_and_features(workspace=ws, first_day=today - dt.timedelta(days=29), last_day=today,
                                                  key_features=["Report Exported", "Invite Sent", "Never Used"])
    assert users.from_rollups
    assert features == {book["a"].pk: 1, book["b"].pk: 1}
    DailyAccountUsage.objects.for_workspace(ws).filter(day=today).update(user_ids=None)  # forces the raw events
    raw_users_, raw_features = distinct_users_and_features(
        workspace=ws, first_day=today - dt.timedelta(days=29), last_day=today,
        key_features=["Report Exported", "Invite Sent", "Never Used"])
    assert not raw_users_.from_rollups
    assert (dict(raw_users_), raw_features) == (dict(users), features)


def test_a_day_waiting_to_be_rolled_up_makes_the_raw_events_answer(ws, book):
    today = book["today"]
    send(ws, [event("late", today, user="u9", group="crm-a")])  # marks today dirty; not rolled up yet
    users = window_users(workspace=ws, first_day=today - dt.timedelta(days=29), last_day=today)
    assert not users.from_rollups
    assert users[book["a"].pk] == 4
    rollup_dirty_days(workspace=ws)
    users = window_users(workspace=ws, first_day=today - dt.timedelta(days=29), last_day=today)
    assert users.from_rollups and users[book["a"].pk] == 4


def test_rows_rolled_up_before_users_were_kept_make_the_raw_events_answer(ws, book):
    today = book["today"]
    DailyAccountUsage.objects.for_workspace(ws).filter(day=today - dt.timedelta(days=5)).update(user_ids=None)
    users = window_users(workspace=ws, first_day=today - dt.timedelta(days=29), last_day=today)
    assert not users.from_rollups
    assert dict(users) == raw_users(ws, today - dt.timedelta(days=29), today)
    # Outside that day the rollups answer again.
    assert window_users(workspace=ws, first_day=today - dt.timedelta(days=4), last_day=today).from_rollups


def test_after_retention_the_rollups_still_count_exactly(ws, book):
    """Raw events pruned: the busiest day's users stood in (1 for b, a new user each day); the lists say 2."""
    today = book["today"]
    update_ingest_settings(workspace=ws, actor=SYSTEM, retention_days=7)
    enforce_retention(workspace=ws, as_of=today)
    assert not UsageEvent.objects.for_workspace(ws).filter(occurred_at__lt=ws.day_start(today - dt.timedelta(days=7))).exists()
    old_window = (today - dt.timedelta(days=9), today - dt.timedelta(days=8))
    assert raw_users(ws, *old_window) == {}
    assert window_users(workspace=ws, first_day=old_window[0], last_day=old_window[1]) == {book["a"].pk: 2, book["b"].pk: 2}
    assert active_users_on(workspace=ws, day=today - dt.timedelta(days=8), days=2) == {book["a"].pk: 2, book["b"].pk: 2}


def test_a_rebuilt_range_keeps_the_same_user_lists(ws, book):
    today = book["today"]
    before = sorted(DailyAccountUsage.objects.for_workspace(ws).values_list("account_id", "day", "active_users", "user_ids"))
    rebuild_rollups(workspace=ws, first=today - dt.timedelta(days=9), last=today)
    after = sorted(DailyAccountUsage.objects.for_workspace(ws).values_list("account_id", "day", "active_users", "user_ids"))
    assert after == before
    assert all(len(ids) == users for _a, _d, users, ids in after)


def test_another_workspaces_rollups_are_never_read(ws, other_ws, book):
    other = AccountFactory(workspace=other_ws, external_id="crm-a")
    send(other_ws, [event("x1", other_ws.today(), user="z1", group="crm-a")])
    rollup_dirty_days(workspace=other_ws)
    today = book["today"]
    assert other.pk not in window_users(workspace=ws, first_day=today - dt.timedelta(days=29), last_day=today)
    assert window_users(workspace=other_ws, first_day=today - dt.timedelta(days=29), last_day=today) == {other.pk: 1}


def test_the_nightly_usage_step_summarizes_the_time_indexs_new_ranges(ws, book):
    """Block ranges a BRIN index has not summarized match every time window: the night leaves none
    complete and unsummarized."""
    from django.db import connection

    from usage.nightly import step as nightly_usage_step

    if connection.vendor != "postgresql":
        pytest.skip("BRIN indexes: PostgreSQL")
    # Enough events for several whole ranges of 128 pages, which stay unsummarized until something
    # summarizes them: without the step, the check below would summarize them and count them.
    at = ws.day_start(book["today"]) + dt.timedelta(hours=9)
    UsageEvent.objects.bulk_create([
        UsageEvent(workspace=ws, account=book["a"], message_id=f"bulk-{n}", user_id=f"m{n % 50}", event="Login",
                   occurred_at=at, received_at=at) for n in range(30_000)], batch_size=5_000)
    DirtyUsageDay.objects.create(workspace=ws, day=book["today"])
    nightly_usage_step(workspace=ws, as_of=book["today"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size('usage_usageevent') / current_setting('block_size')::int")
        assert cursor.fetchone()[0] > 2 * 128
        cursor.execute("SELECT brin_summarize_new_values('usage_event_time_brin'::regclass)")
        assert cursor.fetchone()[0] == 0
