"""Reads of the usage app. Every function takes the workspace: nothing here crosses tenants."""

import datetime as dt

from django.db import connection, transaction
from django.db.models import Case, Count, DateTimeField, Exists, F, Max, Min, Q, Sum, Value, When

from .models import (
    DailyAccountUsage,
    DirtyUsageDay,
    HistoryImport,
    IngestSettings,
    RejectedMessage,
    UsageEvent,
    WriteKey,
)


def ingest_settings(*, workspace):
    """The workspace's tracking-API settings (created with the workspace: see services.ensure_defaults)."""
    return IngestSettings.objects.for_workspace(workspace).get()


def write_keys(*, workspace):
    return WriteKey.objects.for_workspace(workspace).select_related("created_by__user")


# Times Python can read and show in any time zone. Ingestion keeps events within 2000 and a day
# ahead, but rows stored before it checked may hold anything (PostgreSQL even took year 10000).
READABLE_FROM = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
READABLE_UNTIL = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)


def recent_events(*, workspace, limit=20):
    """The last events received, with `shown_occurred_at`: their time, or None when it is out of
    range. The stored column itself is never read here, so that no stored value can fail the page."""
    readable = Q(occurred_at__gte=READABLE_FROM, occurred_at__lte=READABLE_UNTIL)
    return (
        UsageEvent.objects.for_workspace(workspace).select_related("account").defer("occurred_at", "properties")
        .annotate(shown_occurred_at=Case(When(readable, then=F("occurred_at")), default=Value(None),
                                         output_field=DateTimeField()))
        .order_by("-id")[:limit]
    )


def set_aside_messages(*, workspace, limit=50):
    return RejectedMessage.objects.for_workspace(workspace).order_by("-received_at", "-id")[:limit]


def unmatched_groups(*, workspace, limit=50):
    """Events still waiting for their account, by groupId (empty = the message named no group)."""
    return (
        UsageEvent.objects.for_workspace(workspace).filter(account__isnull=True)
        .values("group_id").annotate(events=Count("id"), last_received=Max("received_at"))
        .order_by("-events", "group_id")[:limit]
    )


def usage_per_account(*, workspace, up_to, window_from, previous_from):
    """Per account, from the daily rollups up to `up_to`: first day with usage, last active day,
    active days, events since `window_from`, events from `previous_from` until then, and the
    busiest day's active users in the window. One aggregate query; accounts without usage are absent."""
    return list(
        DailyAccountUsage.objects.for_workspace(workspace).filter(day__lte=up_to).values("account_id").annotate(
            first_day=Min("day"),
            last_active=Max("day", filter=Q(events__gt=0)),
            days_active=Count("id", filter=Q(day__gte=window_from, events__gt=0)),
            events_now=Sum("events", filter=Q(day__gte=window_from)),
            events_before=Sum("events", filter=Q(day__gte=previous_from, day__lt=window_from)),
            peak_users=Max("active_users", filter=Q(day__gte=window_from)),
        )
    )


def distinct_users_and_features(*, workspace, first_day, last_day, key_features):
    """({account: distinct product users}, {account: distinct key features used}) over the workspace
    days `first_day` to `last_day`; accounts without events in them are absent. From the days'
    rollups where they hold their users (window_users), else from the raw events (then both are
    empty where retention pruned them)."""
    users = window_users(workspace=workspace, first_day=first_day, last_day=last_day)
    if not key_features:
        return users, {}
    if users.from_rollups:
        return users, _rollup_distinct_counts(workspace, first_day, last_day, source="event_counts",
                                              only=key_features)
    events = _window_events(workspace, first_day, last_day)
    return users, distinct_per_account(events.filter(event__in=key_features), "event")


class WindowUsers(dict):
    """{account_id: distinct users}; `from_rollups` says which source counted them."""

    from_rollups = False


def window_users(*, workspace, first_day, last_day):
    """{account_id: distinct non-empty user ids with events from `first_day` to `last_day`} (workspace
    days; 0 for an account whose events there name no user; absent: no events).

    A night reads this three times (the accounts' 30-day active users, health, usage levels). From
    the days' rollups it costs 30 small rows an account, not every raw event of the window, and it
    stays exact after retention pruned those events. The rollups answer only when they are complete
    for the window: every row holds its users (rows rolled up before they were kept, or written by
    hand, hold none) and no day of it waits to be rolled up again (every event writer marks the days
    it touched, or rebuilds them itself). Otherwise the raw events do, as before.
    """
    rollups = DailyAccountUsage.objects.for_workspace(workspace).filter(day__gte=first_day, day__lte=last_day)
    dirty = DirtyUsageDay.objects.for_workspace(workspace).filter(day__gte=first_day, day__lte=last_day)
    complete = IngestSettings.objects.for_workspace(workspace).annotate(
        has_rows=Exists(rollups), rows_without_users=Exists(rollups.filter(user_ids__isnull=True)),
        days_to_roll=Exists(dirty)).values_list("has_rows", "rows_without_users", "days_to_roll").first()
    if complete == (True, False, False):
        counts = WindowUsers(_rollup_distinct_counts(workspace, first_day, last_day, source="user_ids"))
        counts.from_rollups = True
        return counts
    return WindowUsers(distinct_per_account(_window_events(workspace, first_day, last_day), "user_id"))


def _window_events(workspace, first_day, last_day):
    return UsageEvent.objects.for_workspace(workspace).filter(
        account__isnull=False, occurred_at__gte=workspace.day_start(first_day),
        occurred_at__lt=workspace.day_start(last_day + dt.timedelta(days=1)))


def _rollup_distinct_counts(workspace, first_day, last_day, *, source, only=None):
    """{account_id: distinct values} of the rollups' JSON `source` over the days: the elements of
    the user lists, or the keys of the events per name (`only` those). Accounts with rows but no
    value count 0, unless `only` is given (then they are absent, as with the raw events)."""
    table = DailyAccountUsage._meta.db_table
    ops = connection.ops
    params = [workspace.pk, ops.adapt_datefield_value(first_day), ops.adapt_datefield_value(last_day)]
    if connection.vendor == "postgresql":
        elements = {"user_ids": "jsonb_array_elements_text(r.user_ids)",
                    "event_counts": "jsonb_object_keys(r.event_counts)"}[source]
        values, value = f"LEFT JOIN LATERAL {elements} AS v(value) ON true", "v.value"
    else:
        values, value = f"LEFT JOIN json_each(r.{source}) AS v", ("v.value" if source == "user_ids" else "v.key")
    wanted = ""
    if only is not None:
        wanted = f" AND {value} IN ({', '.join(['%s'] * len(only))})"
        params += list(only)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A month of 100,000 accounts' lists is millions of pairs: hashed in memory rather than
            # spilled in batches (0.9 s of 4.9 s at that size).
            cursor.execute("SET LOCAL work_mem = '256MB'")
        # Distinct (account, value) pairs hashed first, then a plain count (see distinct_per_account).
        cursor.execute(
            f"SELECT pairs.account_id, count(pairs.value) FROM (SELECT DISTINCT r.account_id, {value} AS value "
            f"FROM {table} r {values} WHERE r.workspace_id = %s AND r.day >= %s AND r.day <= %s{wanted}) pairs "
            "GROUP BY pairs.account_id", params)
        return dict(cursor.fetchall())


def distinct_per_account(events, column):
    """{account_id: number of distinct non-empty `column` values} over the `events` queryset;
    an account whose events all have an empty value counts 0 (it had events, unlike a missing one).

    The distinct (account, value) pairs in a subquery, then a plain count per account: the
    database hashes the pairs (in parallel on PostgreSQL) instead of sorting every account's
    events once per COUNT(DISTINCT …). On 10M events in the window that was 20 s instead of 59 s.
    """
    pairs_sql, params = events.order_by().values("account_id", column).distinct().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pairs.account_id, count(*) FILTER (WHERE pairs.{column} <> '') "
                       f"FROM ({pairs_sql}) pairs GROUP BY pairs.account_id", params)
        return dict(cursor.fetchall())


def usage_falls(*, workspace, up_to, share, days=30):
    """{account_id: the share its events fell by} for the accounts whose events in the `days` days up
    to `up_to` are at least `share` (0-1) below the `days` days before; accounts without usage before
    are absent (nothing to fall from). One aggregate query over the daily rollups."""
    window_from = up_to - dt.timedelta(days=days - 1)
    previous_from = window_from - dt.timedelta(days=days)
    rows = (
        DailyAccountUsage.objects.for_workspace(workspace).filter(day__gte=previous_from, day__lte=up_to)
        .values("account_id").annotate(
            now=Sum("events", filter=Q(day__gte=window_from)),
            before=Sum("events", filter=Q(day__lt=window_from)))
    )
    falls = {}
    for row in rows:
        before, now = row["before"] or 0, row["now"] or 0
        if before > 0 and now <= before * (1 - share):
            falls[row["account_id"]] = round((before - now) / before, 3)
    return falls


def first_usage_day(*, workspace):
    """The earliest day with a daily usage rollup in the workspace, or None (no usage data yet)."""
    return DailyAccountUsage.objects.for_workspace(workspace).aggregate(first=Min("day"))["first"]


def raw_events_gone(*, workspace, days):
    """Of `days`, those before the retention line (counted from today) that hold no raw events any
    more: a recompute of them cannot rebuild their rollups (they are kept as they were)."""
    settings = ingest_settings(workspace=workspace)
    first_kept = workspace.today() - dt.timedelta(days=settings.retention_days)
    old = sorted(d for d in set(days) if d < first_kept)
    if not old:
        return []
    events = UsageEvent.objects.for_workspace(workspace).filter(account__isnull=False)
    if not events.filter(occurred_at__lt=workspace.day_start(first_kept)).exists():
        return old  # the usual case after the retention ran: one query, however many days were asked
    return [d for d in old if not events.filter(occurred_at__gte=workspace.day_start(d),
                                                occurred_at__lt=workspace.day_start(d + dt.timedelta(days=1))).exists()]


def history_imports(*, workspace, limit=20):
    return HistoryImport.objects.for_workspace(workspace).select_related("created_by__user").order_by("-id")[:limit]


def account_daily_usage(*, workspace, account_id, start, end):
    """The account's daily rollups from `start` to `end` (local days, inclusive), oldest first:
    [{day, events, active_users, event_counts}]. Days without a rollup are absent."""
    return list(DailyAccountUsage.objects.for_workspace(workspace).filter(
        account_id=account_id, day__gte=start, day__lte=end).order_by("day")
        .values("day", "events", "active_users", "event_counts"))


def active_users_on(*, workspace, day, days=30):
    """{account_id: distinct product users with events in the `days` days up to `day`} (workspace
    days), as the nightly usage step would have copied onto the account that night
    (`active_users_30d`). Where the window's raw events are gone (retention) and its daily rollups
    do not hold their users, the busiest day's active users stand in (as in health scoring).
    Accounts without events in the window are absent (0 users)."""
    start = day - dt.timedelta(days=days - 1)
    users = window_users(workspace=workspace, first_day=start, last_day=day)
    if users.from_rollups:
        return dict(users)
    peaks = (DailyAccountUsage.objects.for_workspace(workspace).filter(day__gte=start, day__lte=day, events__gt=0)
             .values("account_id").annotate(peak=Max("active_users")).values_list("account_id", "peak"))
    for account_id, peak in peaks:
        users.setdefault(account_id, peak)
    return dict(users)
