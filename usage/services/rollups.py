"""Daily rollups of raw events, retention of raw events, and the accounts' 30-day active users.

These feed the nightly steps and the pages; the usage step of the night (usage/nightly.py) runs them.
"""

import datetime as dt

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from accounts.services import copy_nightly_values

from ..messages import EARLIEST, FUTURE_ALLOWANCE
from ..models import (
    BrinOnPostgres,
    DailyAccountUsage,
    DirtyUsageDay,
    IngestSettings,
    ProcessedMessage,
    ProductUser,
    RejectedMessage,
    UsageEvent,
)
from ..selectors import ingest_settings, window_users


def retention_start(*, workspace, settings, today):
    """The first day whose raw events are kept. Days before it are never rolled up again."""
    return today - dt.timedelta(days=settings.retention_days)


def rollup_days(*, workspace, days):
    """Recompute DailyAccountUsage of these days from raw events: delete-then-insert per day.

    Rollups of one workspace are serialised by a row lock on its settings row, so two runs at
    once (the incremental task and the night) write one after the other, never interleaved.
    """
    settings = ingest_settings(workspace=workspace)
    today = workspace.today()
    first_kept = retention_start(workspace=workspace, settings=settings, today=today)
    # Ingestion takes events up to a day ahead; a later day was marked before it checked times
    # (year 9999 has no next day to end it) and has no events any more after retention.
    last = today + dt.timedelta(days=1)
    done = []
    for day in sorted(d for d in set(days) if first_kept <= d <= last):
        start, end = workspace.day_start(day), workspace.day_start(day + dt.timedelta(days=1))
        with transaction.atomic():
            list(IngestSettings.objects.for_workspace(workspace).select_for_update().filter(pk=settings.pk)
                 .values_list("pk", flat=True))
            DailyAccountUsage.objects.for_workspace(workspace).filter(day=day).delete()
            _insert_rollup(workspace=workspace, day=day, start=start, end=end)
        done.append(day)
    return done


# One INSERT … SELECT per day, computed where the events are: at 100k accounts building the rows
# in Python took half a minute a day. The same statement on both databases but for the name of
# the JSON object aggregate.
ROLLUP_SQL = """
INSERT INTO {rollups} (workspace_id, account_id, day, events, active_users, event_counts, user_ids)
SELECT %(ws)s, per_event.account_id, %(day)s, sum(per_event.n), coalesce(people.users, 0),
       {object_agg}(per_event.event, per_event.n), coalesce(people.user_ids, {empty_list})
FROM (
    SELECT account_id, event, count(*) AS n FROM {events}
    WHERE workspace_id = %(ws)s AND account_id IS NOT NULL AND occurred_at >= %(start)s AND occurred_at < %(end)s
    GROUP BY account_id, event
) per_event
LEFT JOIN (
    SELECT pairs.account_id, count(*) FILTER (WHERE pairs.user_id <> '') AS users,
           {user_list} AS user_ids
    FROM (
        SELECT DISTINCT account_id, user_id FROM {events}
        WHERE workspace_id = %(ws)s AND account_id IS NOT NULL AND occurred_at >= %(start)s AND occurred_at < %(end)s
        {pairs_order}
    ) pairs
    GROUP BY pairs.account_id
) people ON people.account_id = per_event.account_id
GROUP BY per_event.account_id, people.users, people.user_ids
"""


def rollup_sql_parts(*, pairs_order):
    """The database's spelling of the rollups' JSON aggregates: events per name, and the day's
    distinct non-empty user ids, sorted (a re-run writes the same list). `pairs_order` sorts the
    distinct pairs where the aggregate cannot: SQLite aggregates rows in the order they come."""
    if connection.vendor == "postgresql":
        return {"object_agg": "jsonb_object_agg", "empty_list": "'[]'::jsonb", "pairs_order": "",
                "user_list": "jsonb_agg(pairs.user_id ORDER BY pairs.user_id) FILTER (WHERE pairs.user_id <> '')"}
    return {"object_agg": "json_group_object", "empty_list": "'[]'", "pairs_order": pairs_order,
            "user_list": "json_group_array(pairs.user_id) FILTER (WHERE pairs.user_id <> '')"}


def _insert_rollup(*, workspace, day, start, end):
    sql = ROLLUP_SQL.format(rollups=DailyAccountUsage._meta.db_table, events=UsageEvent._meta.db_table,
                            **rollup_sql_parts(pairs_order="ORDER BY 1, 2"))
    with connection.cursor() as cursor:
        ops = connection.ops  # raw SQL: store-format the values as the ORM would (SQLite keeps UTC text)
        cursor.execute(sql, {"ws": workspace.pk, "day": ops.adapt_datefield_value(day),
                             "start": ops.adapt_datetimefield_value(start), "end": ops.adapt_datetimefield_value(end)})


def rollup_dirty_days(*, workspace, extra_days=()):
    """Roll up every day marked dirty (plus `extra_days`), then delete the marks it read."""
    marks = list(DirtyUsageDay.objects.for_workspace(workspace).values_list("id", "day"))
    done = rollup_days(workspace=workspace, days={day for _id, day in marks} | set(extra_days))
    ids = [mark_id for mark_id, _day in marks]
    for start in range(0, len(ids), 1000):
        # Only the marks read above: one committed meanwhile names events this run may not have seen.
        DirtyUsageDay.objects.for_workspace(workspace).filter(pk__in=ids[start:start + 1000]).delete()
    return done


def enforce_retention(*, workspace, as_of, chunk=5_000):
    """Delete raw events (and dedup/set-aside records) older than the workspace keeps them, and
    what lies beyond the day ahead that ingestion accepts (stored before it checked times: a year
    9999 event is never "older than" anything, and broke every page and rollup that read it)."""
    settings = ingest_settings(workspace=workspace)
    # Counted from today, never from `as_of`: a recompute of a past day (or of a year of history,
    # oldest day first) must not move the line, which only the calendar does. `as_of` is kept for
    # the callers' signature (the nightly step passes the day it computes).
    first_kept = retention_start(workspace=workspace, settings=settings, today=workspace.today())
    cutoff = workspace.day_start(first_kept)
    # From the clock, not `as_of`: a recompute of a past day must keep the events after that day.
    horizon = timezone.now() + FUTURE_ALLOWANCE
    deleted = 0
    for model, outside in ((UsageEvent, Q(occurred_at__lt=cutoff)), (UsageEvent, Q(occurred_at__gt=horizon)),
                           (ProcessedMessage, Q(received_at__lt=cutoff)), (RejectedMessage, Q(received_at__lt=cutoff))):
        old = model.objects.for_workspace(workspace).filter(outside)
        while True:
            ids = list(old.order_by("pk").values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            model.objects.for_workspace(workspace).filter(pk__in=ids).delete()
            if model is UsageEvent:
                deleted += len(ids)
    # Rollups are kept for good, but not of days that cannot have had events yet.
    DailyAccountUsage.objects.for_workspace(workspace).filter(day__gt=workspace.today() + dt.timedelta(days=1)).delete()
    users = ProductUser.objects.for_workspace(workspace)
    users.filter(Q(first_seen_at__lt=EARLIEST) | Q(first_seen_at__gt=horizon)).update(first_seen_at=None)
    users.filter(Q(last_seen_at__lt=EARLIEST) | Q(last_seen_at__gt=horizon)).update(last_seen_at=None)
    return deleted


def summarize_event_ranges():
    """Summarize the block ranges of the event table filled since the last time, in its BRIN index
    on time. A range not summarized matches every time window: after a history import (old events
    at the table's end) each night's 30-day read would scan them all again. Autovacuum does this
    too where it runs, but it may be off or behind. Only the new ranges are read. Returns how many
    were summarized (0 on other databases)."""
    if connection.vendor != "postgresql":
        return 0
    summarized = 0
    with connection.cursor() as cursor:
        for index in UsageEvent._meta.indexes:
            if isinstance(index, BrinOnPostgres):
                cursor.execute("SELECT brin_summarize_new_values(%s::regclass)", [index.name])
                summarized += cursor.fetchone()[0]
    return summarized


ACTIVE_USER_DAYS = 30


def refresh_active_users(*, workspace, as_of):
    """Copy onto each account its distinct product users with events in the 30 days up to `as_of`
    (workspace days). Segment rules and lists read this column: one pass over the window a night
    instead of one per segment, or per account.

    A recompute of a past day leaves the column alone once a later day has been written.
    """
    settings = ingest_settings(workspace=workspace)
    if settings.active_users_on and as_of < settings.active_users_on:
        return 0
    counts = window_users(workspace=workspace, first_day=as_of - dt.timedelta(days=ACTIVE_USER_DAYS - 1),
                          last_day=as_of)
    current = Account.objects.for_workspace(workspace).values_list("id", "active_users_30d")
    changed = [(pk, counts.get(pk, 0)) for pk, now in current.iterator(chunk_size=20_000) if counts.get(pk, 0) != now]
    with transaction.atomic():
        copy_nightly_values(workspace=workspace, fields=["active_users_30d"], rows=changed)
        IngestSettings.objects.for_workspace(workspace).filter(pk=settings.pk).update(active_users_on=as_of)
    return len(changed)
