"""The usage step of the nightly pipeline (first: levels, segments, coverage and health read it)."""

import datetime as dt

from .services import attach_unmatched_events, enforce_retention, refresh_active_users, rollup_dirty_days
from .services.rollups import summarize_event_ranges


def step(*, workspace, as_of):
    """Summarize the event time index's new block ranges (for this step's reads too), attach events
    whose account appeared, roll up yesterday and today, apply retention, and copy each account's
    30-day active users onto it."""
    summarize_event_ranges()
    days = attach_unmatched_events(workspace=workspace)
    days |= {as_of - dt.timedelta(days=1), as_of}
    rollup_dirty_days(workspace=workspace, extra_days=days)
    enforce_retention(workspace=workspace, as_of=as_of)
    refresh_active_users(workspace=workspace, as_of=as_of)
