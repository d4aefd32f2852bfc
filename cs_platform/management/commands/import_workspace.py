from django.core.management.base import BaseCommand, CommandError

from cs_platform.portability.archive import ArchiveError
from cs_platform.portability.services import import_workspace


class Command(BaseCommand):
    help = ("Create a new workspace from an archive written by export_workspace (of this deployment or "
            "another). Checks the whole archive first; writes everything or nothing. See docs/portability.md.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="The archive to read")
        parser.add_argument("--slug", required=True, help="The new workspace's slug (must not exist yet)")
        parser.add_argument("--name", help="The new workspace's name (default: the archived workspace's)")
        parser.add_argument("--dry-run", action="store_true",
                            help="Import and check everything, then roll it back: nothing is kept")

    def handle(self, *args, path, slug, name=None, dry_run=False, **options):
        verbose = options["verbosity"] >= 1

        def progress(part, table, rows):
            if verbose:
                self.stdout.write(f"  {part}/{table}: {rows} rows")

        if verbose:
            self.stdout.write(f"Importing {path} as {slug}{' (dry run)' if dry_run else ''}")
        try:
            result = import_workspace(path=path, slug=slug, name=name, dry_run=dry_run, progress=progress)
        except ArchiveError as error:
            raise CommandError(str(error)) from error
        for note in result.notes:
            self.stdout.write(self.style.WARNING(f"Note: {note}"))
        rows = sum(rows for _part, _table, rows in result.tables)
        if dry_run:
            self.stdout.write(self.style.SUCCESS(
                f"Dry run: the archive imports cleanly ({rows} rows in {len(result.tables)} tables); nothing was kept."))
        else:
            ws = result.workspace
            self.stdout.write(self.style.SUCCESS(
                f"Imported {rows} rows in {len(result.tables)} tables as workspace {ws.name} ({ws.slug})."))
