"""Days are counted in the workspace's time zone: a touch at 23:30 UTC is the next day in Tokyo."""

def local_day(workspace, moment):
    return moment.astimezone(workspace.tz).date()
