"""Reads of the usage app. Every function takes the workspace: nothing here crosses tenants."""

from django.db import connection
from django.db.models import Count, Max

from .models import DailyAccountUsage, RejectedMessage, UsageEvent, WriteKey


def write_keys(*, workspace):
    return WriteKey.objects.for_workspace(workspace).select_related("created_by__user")


def recent_events(*, workspace, limit=20):
    return UsageEvent.objects.for_workspace(workspace).select_related("account").order_by("-id")[:limit]


def set_aside_messages(*, workspace, limit=50):
    return RejectedMessage.objects.for_workspace(workspace).order_by("-received_at", "-id")[:limit]


def unmatched_groups(*, workspace, limit=50):
    """Events still waiting for their account, by groupId (empty = the message named no group)."""
    return (
        UsageEvent.objects.for_workspace(workspace).filter(account__isnull=True)
        .values("group_id").annotate(events=Count("id"), last_received=Max("received_at"))
        .order_by("-events", "group_id")[:limit]
    )


def daily_usage(*, workspace, account=None, since=None, until=None):
    rows = DailyAccountUsage.objects.for_workspace(workspace)
    if account is not None:
        rows = rows.filter(account=account)
    if since is not None:
        rows = rows.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    return rows


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
