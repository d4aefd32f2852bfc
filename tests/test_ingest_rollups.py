"""Daily rollups, the nightly usage step, late-arriving accounts and retention (services level)."""

import datetime as dt
import zoneinfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Account
from usage.ingest import parse_batch
from usage.models import DailyAccountUsage, DirtyUsageDay, UsageEvent
from usage.nightly import step as nightly_usage_step
from usage.selectors import ingest_settings
from usage.services import ingest_batch, rollup_pending_key, update_ingest_settings
from usage.tasks import rollup_usage
from workspaces.policy import SYSTEM

from .factories import AccountFactory

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def send(ws, messages, received_at=None):
    received_at = received_at or timezone.now()
    settings = ingest_settings(workspace=ws)
    parsed = parse_batch(messages, received_at=received_at, mapping=settings.trait_mapping)
    return ingest_batch(workspace=ws, settings=settings, parsed=parsed, received_at=received_at)


def event(message_id, at, *, user="u1", group="crm-sakura", name="Report Exported"):
    return {"type": "track", "messageId": message_id, "userId": user, "event": name,
            "context": {"groupId": group} if group else {}, "timestamp": at.isoformat()}


def rows(ws):
    return sorted(
        (r.account_id, r.day, r.events, r.active_users, r.event_counts)
        for r in DailyAccountUsage.all_workspaces.filter(workspace=ws)
    )


@pytest.fixture
def today(ws):
    return ws.today()


def at(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TOKYO)


def test_rollup_counts_events_users_and_names_per_workspace_day(ws, account, today):
    other = AccountFactory(workspace=ws, external_id="crm-other")
    yesterday = today - dt.timedelta(days=1)
    send(ws, [
        event("a", at(yesterday, 0, 5), user="u1"),  # 15:05 UTC the day before: still "yesterday" in Tokyo
        event("b", at(yesterday, 23, 59), user="u2", name="Dashboard Viewed"),
        event("c", at(yesterday, 12), user="u1"),
        event("d", at(today, 0, 0), user="u1"),
        event("e", at(today, 9), user="", group="crm-other"),
        {"type": "track", "messageId": "f", "anonymousId": "anon-1", "event": "Report Exported",
         "context": {"groupId": "crm-other"}, "timestamp": at(today, 10).isoformat()},
    ])
    nightly_usage_step(workspace=ws, as_of=today)
    assert rows(ws) == sorted([
        (account.pk, yesterday, 3, 2, {"Dashboard Viewed": 1, "Report Exported": 2}),
        (account.pk, today, 1, 1, {"Report Exported": 1}),
        (other.pk, today, 1, 1, {"Report Exported": 1}),  # the anonymous user counts, the message without any id was refused
    ])


def test_the_nightly_step_is_idempotent(ws, account, today):
    send(ws, [event(str(n), at(today, 8, n)) for n in range(5)])
    nightly_usage_step(workspace=ws, as_of=today)
    first = rows(ws)
    nightly_usage_step(workspace=ws, as_of=today)
    assert rows(ws) == first
    assert first[0][2] == 5


def test_events_wait_for_their_account_and_the_night_attaches_them(ws, today):
    send(ws, [event("1", at(today, 9), group="acct-late"), event("2", at(today, 10), group="acct-late")])
    assert UsageEvent.all_workspaces.filter(workspace=ws, account__isnull=True).count() == 2
    late = AccountFactory(workspace=ws, external_id="acct-late")  # created by the CRM, not by a group call
    nightly_usage_step(workspace=ws, as_of=today)
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=late).count() == 2
    assert DailyAccountUsage.all_workspaces.get(account=late, day=today).events == 2


def test_retention_deletes_old_raw_events_and_keeps_rollups(ws, account, today):
    update_ingest_settings(workspace=ws, actor=SYSTEM, retention_days=30)
    old_day = today - dt.timedelta(days=40)
    send(ws, [event("old", at(old_day, 9)), event("new", at(today, 9))])
    DailyAccountUsage.all_workspaces.create(workspace=ws, account=account, day=old_day, events=7, active_users=2,
                                     event_counts={"Report Exported": 7})
    nightly_usage_step(workspace=ws, as_of=today)
    assert list(UsageEvent.all_workspaces.filter(workspace=ws).values_list("message_id", flat=True)) == ["new"]
    assert DailyAccountUsage.all_workspaces.get(account=account, day=old_day).events == 7
    nightly_usage_step(workspace=ws, as_of=today)
    assert DailyAccountUsage.all_workspaces.get(account=account, day=old_day).events == 7


def test_batches_mark_days_and_one_task_rolls_them_all_up(ws, account, today, django_capture_on_commit_callbacks):
    # A rollup is already queued: the next batches only mark their days, they enqueue nothing.
    cache.set(rollup_pending_key(ws.pk), 1)
    with django_capture_on_commit_callbacks(execute=True):
        send(ws, [event("1", at(today, 9))])
        send(ws, [event("2", at(today - dt.timedelta(days=3), 9))])
    assert DailyAccountUsage.all_workspaces.filter(workspace=ws).count() == 0
    assert DirtyUsageDay.all_workspaces.filter(workspace=ws).count() == 2
    rollup_usage(ws.pk)
    assert DirtyUsageDay.all_workspaces.filter(workspace=ws).count() == 0
    assert sorted(DailyAccountUsage.all_workspaces.filter(workspace=ws).values_list("day", "events")) == [
        (today - dt.timedelta(days=3), 1), (today, 1)]
    assert cache.get(rollup_pending_key(ws.pk)) is None


def test_without_a_pending_run_a_batch_enqueues_the_rollup(ws, account, today, django_capture_on_commit_callbacks):
    cache.delete(rollup_pending_key(ws.pk))
    with django_capture_on_commit_callbacks(execute=True):
        send(ws, [event("1", at(today, 9))])
    assert DailyAccountUsage.all_workspaces.get(account=account, day=today).events == 1


def test_rollups_and_attachment_never_cross_workspaces(ws, other_ws, account, today):
    AccountFactory(workspace=other_ws, external_id="crm-sakura")  # same external id in B
    send(ws, [event("1", at(today, 9))])
    send(other_ws, [event("1", at(today, 9), group="acct-b")])  # same messageId in B is its own message
    AccountFactory(workspace=other_ws, external_id="acct-b")
    nightly_usage_step(workspace=ws, as_of=today)
    assert UsageEvent.all_workspaces.get(workspace=other_ws).account is None
    nightly_usage_step(workspace=other_ws, as_of=today)
    b_event = UsageEvent.all_workspaces.get(workspace=other_ws)
    assert b_event.account.workspace_id == other_ws.pk
    assert DailyAccountUsage.all_workspaces.get(workspace=ws).account == account
    assert Account.all_workspaces.filter(workspace=ws).count() == 1
