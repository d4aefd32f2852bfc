import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workspaces.models import Workspace
from workspaces.policy import SystemActor

from ...services.history import HistoryError, start_import, start_rebuild

COMMAND = SystemActor("command usage_history")


class Command(BaseCommand):
    help = ("Load historical usage events from a CSV or NDJSON file (then rebuild the rollups of their days), "
            "or only rebuild the daily rollups of a range of days.")

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug")
        parser.add_argument("--file", help="CSV or NDJSON file to load")
        parser.add_argument("--rebuild", nargs=2, metavar=("FROM", "TO"), help="Only rebuild these days (YYYY-MM-DD)")

    def handle(self, *args, workspace, file=None, rebuild=None, **options):
        ws = Workspace.objects.filter(slug=workspace).first()
        if ws is None:
            raise CommandError(f"No workspace with slug {workspace!r}.")
        if bool(file) == bool(rebuild):
            raise CommandError("Give --file or --rebuild FROM TO.")
        if file:
            path = Path(file)
            try:
                with path.open("rb") as fh:
                    job = start_import(workspace=ws, actor=COMMAND, chunks=iter(lambda: fh.read(1 << 20), b""),
                                       filename=path.name)
            except HistoryError as exc:
                for error in exc.errors:
                    self.stderr.write(f"line {error['line']}, {error['field']}: {error['message']}")
                raise CommandError("The file was not loaded (nothing was written).") from None
        else:
            try:
                first, last = (dt.date.fromisoformat(d) for d in rebuild)
            except ValueError:
                raise CommandError("--rebuild takes two dates, YYYY-MM-DD.") from None
            job = start_rebuild(workspace=ws, actor=COMMAND, first=first, last=last)
        job.refresh_from_db()
        summary = job.summary
        self.stdout.write(f"{ws.slug}: {job.kind} {job.status}: {summary}")
        gone = summary.get("days_without_events") or []
        if gone:
            self.stdout.write(self.style.WARNING(
                f"raw events of {len(gone)} day(s) are gone (older than the retention): their rollups were left as "
                f"they were: {', '.join(gone[:10])}{' …' if len(gone) > 10 else ''}"))
        if job.status == job.Status.FAILED:
            raise CommandError(job.failure)
