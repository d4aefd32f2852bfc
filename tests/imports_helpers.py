"""Helpers for the import/export tests: build sheets in memory and run them through the services."""

import csv
import io

from imports.columns import suggest_mapping
from imports.readers import read_file
from imports.selectors import export_table
from imports.services import import_sheet
from ui.spreadsheets import write_csv, write_xlsx


def csv_bytes(rows, encoding="utf-8"):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def run_import(data, *, workspace, actor, object_type="accounts", filename="file.csv", commit=True,
               valid_only=False, mapping=None):
    sheet = read_file(data, filename=filename)
    mapping = mapping if mapping is not None else suggest_mapping(object_type, sheet.headers)
    return import_sheet(workspace=workspace, actor=actor, object_type=object_type, sheet=sheet, mapping=mapping,
                        commit=commit, valid_only=valid_only)


def export_bytes(*, workspace, object_type, file_format="csv", filters=None):
    headers, rows = export_table(workspace=workspace, object_type=object_type, filters=filters)
    return write_xlsx(headers, rows) if file_format == "xlsx" else write_csv(headers, rows)
