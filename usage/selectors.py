"""Reads of the usage app. Every function takes the workspace: nothing here crosses tenants."""

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
