"""`manage.py import_data --workspace SLUG --type accounts FILE [--commit] [--valid-only] [--mapping JSON]`

Checks the file (a dry run) and prints every error by row and column; with --commit, imports it.
Exits with status 1 when the file has errors and nothing was written.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imports import selectors, services
from imports.columns import OBJECT_TYPES, suggest_mapping
from imports.readers import FileError, read_file
from workspaces.models import Workspace
from workspaces.policy import SystemActor


class Command(BaseCommand):
    help = "Import accounts, contacts, touchpoints or contracts from a CSV or XLSX file (dry run unless --commit)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--type", required=True, choices=list(OBJECT_TYPES), dest="object_type")
        parser.add_argument("--commit", action="store_true", help="Write the rows (default: check only).")
        parser.add_argument("--valid-only", action="store_true", help="With --commit, skip rows with errors.")
        parser.add_argument(
            "--mapping",
            help='JSON object {"header in the file": "canonical column"}; other headers are matched by their '
            "aliases and the workspace's saved mapping.",
        )

    def handle(self, *args, **options):
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with slug {options['workspace']!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            sheet = read_file(path.read_bytes(), filename=path.name)
        except FileError as exc:
            raise CommandError(exc.message) from None
        object_type = options["object_type"]
        saved = selectors.saved_mapping(workspace=workspace, object_type=object_type)
        mapping = suggest_mapping(object_type, sheet.headers, saved)
        if options["mapping"]:
            try:
                explicit = json.loads(options["mapping"])
            except ValueError:
                raise CommandError("--mapping must be a JSON object.") from None
            if not isinstance(explicit, dict):
                raise CommandError("--mapping must be a JSON object.")
            forced = services.mapping_from_headers(headers=sheet.headers, columns_by_header=explicit)
            mapping = {index: name for index, name in mapping.items() if name not in forced.values()}
            mapping.update(forced)
        result = services.import_sheet(
            workspace=workspace, actor=SystemActor("import_data command"), object_type=object_type, sheet=sheet, mapping=mapping,
            commit=options["commit"], valid_only=options["valid_only"], filename=path.name,
        )
        for problem in result.mapping_errors:
            self.stderr.write(f"Mapping: {problem}")
        for error in result.errors:
            column = f", column {error['column']}" if error["column"] else ""
            self.stderr.write(f"Row {error['row']}{column}: {error['message']}")
        verb = "Imported" if result.committed else "Dry run"
        self.stdout.write(
            f"{verb}: {result.total_rows} rows, {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.error_rows} with errors"
            + (f", {result.skipped} skipped" if result.committed else "")
        )
        if not result.is_valid and not result.committed:
            raise CommandError("The file has errors; nothing was written.", returncode=1)
