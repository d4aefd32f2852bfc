import os

from django.core.management.base import BaseCommand, CommandError

from cs_platform.portability.services import export_workspace
from workspaces.models import Workspace


class Command(BaseCommand):
    help = ("Write one workspace's whole data to a versioned archive (a zip file), for a backup or a move "
            "to another deployment. See docs/portability.md.")

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The workspace's slug")
        parser.add_argument("path", help="The archive to write, e.g. acme-2026-01-31.zip")
        parser.add_argument("--force", action="store_true", help="Replace the file if it exists")

    def handle(self, *args, slug, path, force=False, **options):
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(f"No workspace with slug {slug!r}.")
        if os.path.exists(path) and not force:
            raise CommandError(f"{path} exists; pass --force to replace it.")
        verbose = options["verbosity"] >= 1

        def progress(part, table, rows):
            if verbose:
                self.stdout.write(f"  {part}/{table}: {rows} rows")

        if verbose:
            self.stdout.write(f"Exporting {workspace.name} ({workspace.slug}) to {path}")
        try:
            manifest = export_workspace(workspace=workspace, path=path, progress=progress)
        except OSError as error:
            raise CommandError(f"Could not write {path}: {error}") from error
        rows = sum(t["rows"] for part in manifest["parts"] for t in part["tables"])
        tables = sum(len(part["tables"]) for part in manifest["parts"])
        self.stdout.write(self.style.SUCCESS(
            f"Exported {rows} rows in {tables} tables and {len(manifest['files'])} files "
            f"(format version {manifest['format_version']}) to {path} ({os.path.getsize(path)} bytes)."
        ))
