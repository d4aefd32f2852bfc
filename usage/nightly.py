"""The usage step of the nightly pipeline (first: levels, segments, coverage and health read it)."""

import datetime as dt

from .services import attach_unmatched_events, enforce_retention, refresh_active_users, rollup_dirty_days


def step(*, workspace, as_of):
    """Attach events whose account appeared, roll up yesterday and today, apply retention, and copy
    each account's 30-day active users onto it."""
    days = attach_unmatched_events(workspace=workspace)
    days |= {as_of - dt.timedelta(days=1), as_of}
    rollup_dirty_days(workspace=workspace, extra_days=days)
    enforce_retention(workspace=workspace, as_of=as_of)
    refresh_active_users(workspace=workspace, as_of=as_of)
