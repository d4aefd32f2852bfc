import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from cs_platform.nightly import NIGHTLY_STEPS
from cs_platform.tasks import recompute_workspace
from usage.selectors import raw_events_gone
from workspaces.models import Workspace


class Command(BaseCommand):
    help = "Run the nightly recomputation (usage, segments, coverage, health…) now, for one or all workspaces."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="Workspace slug (default: all workspaces)")
        parser.add_argument("--as-of", help="Day to compute, YYYY-MM-DD (default: today in the workspace)")
        parser.add_argument("--days", type=int, default=1, help="Also recompute this many days back, oldest first")
        parser.add_argument("--only", nargs="*", choices=[step.name for step in NIGHTLY_STEPS],
                            help="Run only these steps")
        parser.add_argument(
            "--history", action="store_true",
            help="Also fill the past that reports compare with: yesterday, 12 weekly points and the day 30 days back",
        )

    def handle(self, *args, workspace=None, as_of=None, days=1, only=None, history=False, **options):
        workspaces = Workspace.objects.all()
        if workspace:
            workspaces = workspaces.filter(slug=workspace)
            if not workspaces.exists():
                raise CommandError(f"No workspace with slug {workspace!r}.")
        for ws in workspaces:
            end = dt.date.fromisoformat(as_of) if as_of else ws.today()
            for day in days_to_compute(end, days=days, history=history):
                # Run in-process: the command is the "on demand" path and should report when done.
                result = recompute_workspace.apply(args=[ws.pk, day.isoformat(), only]).get()
                if result["skipped"]:
                    self.stdout.write(f"{ws.slug} {day}: skipped, another run of this workspace is in progress")
                else:
                    self.stdout.write(f"{ws.slug} {day}: {', '.join(result['steps'])}")
                    if "usage" in result["steps"] and raw_events_gone(workspace=ws, days=[day]):
                        # The usage step rolls up the day; before the retention line
                        # their raw events are gone, so nothing was rebuilt: say so, never "success".
                        self.stdout.write(self.style.WARNING(
                            f"{ws.slug} {day}: raw usage events of this day are gone (older than the workspace "
                            "keeps them): its usage rollups were left as they were, not recomputed"))


def days_to_compute(end, *, days=1, history=False):
    """The days to run, oldest first: the last `days` days, plus with `history` the points that
    trend charts (weekly, 12 weeks), "vs yesterday" (the matrix), "vs last week" and "30-day
    change" read."""
    wanted = {end - dt.timedelta(days=back) for back in range(days)}
    if history:
        wanted.add(end - dt.timedelta(days=1))
        wanted |= {end - dt.timedelta(weeks=week) for week in range(13)}
        wanted.add(end - dt.timedelta(days=30))
    return sorted(wanted)
