"""The beat's clock in tests: a night starts only once the workspace's local time reached its hour."""

from django.utils import timezone


def past_nightly_hour(workspace):
    """Now, or today's nightly hour where the workspace works if that is still to come (between local
    midnight and that hour nothing is due, and a test of the beat would see nothing queued)."""
    local = timezone.now().astimezone(workspace.tz)
    return max(local, local.replace(hour=workspace.nightly_hour, minute=30, second=0, microsecond=0))
