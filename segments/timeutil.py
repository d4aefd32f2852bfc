"""Days are counted in the workspace's time zone: a touch at 23:30 UTC is the next day in Tokyo."""

import datetime as dt


def day_start(workspace, day):
    """The aware datetime at which `day` begins in the workspace's time zone."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=workspace.tz)


def local_day(workspace, moment):
    return moment.astimezone(workspace.tz).date()
