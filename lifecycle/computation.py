"""What level each account is at on a day, from that day's data only (no look-ahead).

Set-based: a handful of queries for the whole workspace whatever the number of accounts: the daily
rollups (usage.selectors.usage_per_account), the raw events' distinct users and key features, the
seats as of the day (accounts.selectors.attributes_as_of) and the accounts active that day.
"""

import datetime as dt

from accounts.models import Account
from accounts.selectors import attributes_as_of
from healthscore.selectors import health_settings
from usage.selectors import distinct_users_and_features, usage_per_account

from .rules import level_of
from .selectors import active_on

WINDOW = 30


def key_features_of(workspace):
    try:
        features = health_settings(workspace=workspace).key_features or []
    except Exception:  # noqa: BLE001 - a workspace without health settings has no key features
        return []
    return [str(f) for f in features if str(f).strip()]


def signals_as_of(*, workspace, day, account_ids):
    """{account_id: {"days_active", "active_users", "users_per_seat", "key_features"}} for the 30 days up
    to `day` (None where the signal is unknown)."""
    account_ids = list(account_ids)
    if not account_ids:
        return {}
    window_from = day - dt.timedelta(days=WINDOW - 1)
    rollups = {row["account_id"]: row for row in usage_per_account(
        workspace=workspace, up_to=day, window_from=window_from, previous_from=window_from)}
    features = key_features_of(workspace)
    users, used = distinct_users_and_features(workspace=workspace, first_day=window_from, last_day=day,
                                              key_features=features)
    seats = attributes_as_of(workspace=workspace, day=day, account_ids=account_ids)["licensed_seats"].to_dict()
    out = {}
    for pk in account_ids:
        row = rollups.get(pk) or {}
        people = users.get(pk)
        if people is None:
            people = row.get("peak_users") or 0
        seat_count = seats.get(pk)
        per_seat = (people / seat_count) if seat_count and seat_count == seat_count and seat_count > 0 else None
        out[pk] = {"days_active": row.get("days_active") or 0, "active_users": people,
                   "users_per_seat": per_seat, "key_features": used.get(pk, 0) if features else 0}
    return out


def levels_on(*, workspace, day, definitions, account_ids=None):
    """{account_id: level} of the accounts active on `day` (of `account_ids` when given).
    `definitions` is {number: rules}."""
    active = active_on(workspace=workspace, days=[day])[day]
    if account_ids is not None:
        active &= set(account_ids)
    signals = signals_as_of(workspace=workspace, day=day, account_ids=sorted(active))
    return {pk: level_of(definitions, s) for pk, s in signals.items()}


def accounts_exist(workspace):
    return Account.objects.for_workspace(workspace).exists()
