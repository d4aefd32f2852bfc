"""Rows stored before times were checked (far-future and ancient events, their rollups and dirty
marks): the Usage data page still answers, the rollups still run, and retention removes them."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from usage.models import DailyAccountUsage, DirtyUsageDay, ProductUser, UsageEvent
from usage.nightly import step as nightly_usage_step
from usage.services import insert_events, rollup_dirty_days

from .factories import AccountFactory

UTC = dt.UTC


def legacy_event(ws, message_id, occurred_at, account=None):
    """Insert an event the way ingestion stored it before the fix (no check of its time)."""
    insert_events([(ws.pk, message_id, account.pk if account else None, "crm-sakura" if account else "acct-x",
                    "u1", "track", "Report Exported", occurred_at, timezone.now(), {})])


def extremes():
    moments = [dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), dt.datetime(9999, 12, 31, 14, 0, tzinfo=UTC),
               dt.datetime(1, 1, 1, tzinfo=UTC), dt.datetime(1970, 1, 1, tzinfo=UTC)]
    if connection.vendor == "postgresql":
        # PostgreSQL took "9999-12-31T23:00-05:00" as year 10000 in UTC, which Python cannot even read.
        moments.append(dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    return moments


@pytest.fixture
def legacy_rows(ws, account):
    for n, moment in enumerate(extremes()):
        legacy_event(ws, f"legacy-{n}", moment, account=account if n % 2 else None)
        legacy_event(ws, f"legacy-waiting-{n}", moment)  # attached by the night: its account now exists
    AccountFactory(workspace=ws, external_id="acct-x")
    legacy_event(ws, "normal", timezone.now() - dt.timedelta(hours=1), account=account)
    far = dt.date(9999, 12, 31)
    DailyAccountUsage.all_workspaces.create(workspace=ws, account=account, day=far, events=1, active_users=1,
                                            event_counts={"Report Exported": 1})
    DirtyUsageDay.all_workspaces.create(workspace=ws, day=far)
    DirtyUsageDay.all_workspaces.create(workspace=ws, day=dt.date(1, 1, 1))
    ProductUser.all_workspaces.create(workspace=ws, user_id="u1", first_seen_at=dt.datetime(1, 1, 1, tzinfo=UTC),
                                      last_seen_at=dt.datetime(9999, 12, 31, 23, 0, tzinfo=UTC))


def test_the_usage_data_page_answers_whatever_times_are_stored(login, admin, legacy_rows):
    response = login(admin).get("/usage/settings/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "1970-01-01" in body  # a time that is merely old is shown as it is
    assert "out of range" in body


def test_rollups_skip_days_that_cannot_be_and_clear_their_marks(ws, account, legacy_rows):
    rollup_dirty_days(workspace=ws)
    assert not DirtyUsageDay.all_workspaces.filter(workspace=ws).exists()


def test_retention_removes_far_future_and_ancient_rows_stored_before_the_fix(ws, account, legacy_rows):
    nightly_usage_step(workspace=ws, as_of=ws.today())
    assert list(UsageEvent.all_workspaces.filter(workspace=ws).values_list("message_id", flat=True)) == ["normal"]
    assert nightly_usage_step(workspace=ws, as_of=ws.today()) is None  # and again: nothing left to trip on
    days = set(DailyAccountUsage.all_workspaces.filter(workspace=ws).values_list("day", flat=True))
    assert len(days) == 1 and days <= {ws.today(), ws.today() - dt.timedelta(days=1)}  # the normal event's day
    user = ProductUser.all_workspaces.get(workspace=ws, user_id="u1")
    assert user.last_seen_at is None and user.first_seen_at is None
