"""Test data for health scores: usage rows, touches and ratings written straight into the tables."""

import datetime as dt
import uuid

from django.utils import timezone

from usage.models import DailyAccountUsage, UsageEvent


def add_usage(account, day, users=("u1",), events_per_user=1, names=("login",)):
    """Raw events on `day` (noon, workspace time) and the matching daily rollup row."""
    ws = account.workspace
    at = ws.day_start(day) + dt.timedelta(hours=12)
    counts = {}
    rows = []
    for user in users:
        for i in range(events_per_user):
            name = names[i % len(names)]
            counts[name] = counts.get(name, 0) + 1
            rows.append(UsageEvent(workspace=ws, account=account, message_id=uuid.uuid4().hex, user_id=user,
                                   event=name, occurred_at=at, received_at=at))
    UsageEvent.all_workspaces.bulk_create(rows)
    DailyAccountUsage.all_workspaces.update_or_create(
        account=account, day=day,
        defaults={"workspace": ws, "events": len(rows), "active_users": len(users), "event_counts": counts},
    )


def at_noon(account, day):
    return account.workspace.day_start(day) + dt.timedelta(hours=12)


def today(ws):
    return ws.today()


def now():
    return timezone.now()


def small_definition(**overrides):
    """Two groups, three measures: easy to compute by hand."""
    definition = {
        "bands": {"red": 40, "green": 70},
        "min_available_weight": 0.5,
        "groups": [
            {"key": "usage", "label": "Usage", "weight": 60, "measures": [
                {"key": "seats", "kind": "active_users_per_seat", "weight": 3,
                 "rule": {"type": "linear", "low": 0, "high": 0.8}},
                {"key": "days", "kind": "days_active_30", "weight": 1,
                 "rule": {"type": "thresholds", "direction": "higher",
                          "steps": [{"at": 4, "points": 40}, {"at": 10, "points": 70}, {"at": 18, "points": 100}]}},
            ]},
            {"key": "relationship", "label": "Relationship", "weight": 40, "measures": [
                {"key": "sentiment", "kind": "csm_sentiment", "weight": 1,
                 "rule": {"type": "linear", "low": 1, "high": 5}},
            ]},
        ],
    }
    definition.update(overrides)
    return definition


def known_since(day, *accounts):
    """The accounts' tracked values (ARR, seats, renewal, owner, attributes…) and their contract lines
    were known from `day`: their change-log rows and the open versions of their lines, written when
    they were created today, are dated back to it."""
    from accounts.models import AccountChange, ContractVersion

    ids = [a.pk for a in accounts]
    AccountChange.all_workspaces.filter(account__in=ids).update(valid_from=day)
    ContractVersion.all_workspaces.filter(account__in=ids, valid_to__isnull=True).update(valid_from=day)
