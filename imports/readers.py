"""Reading an uploaded CSV or XLSX file into a header and numbered rows.

Row numbers are the ones the user sees in the sheet: the header is row 1, the first data row is
row 2, and blank rows still count, so that "row 57" is row 57 in Excel.
"""

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _


class FileError(Exception):
    """The file as a whole cannot be read; nothing row-level to report."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class Sheet:
    headers: list
    rows: list  # [(row number, [cell, ...]), ...] without blank rows

    def __len__(self):
        return len(self.rows)


XLSX_MAGIC = b"PK\x03\x04"


def decode_csv_bytes(data):
    """Text of a CSV export: UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text"), or
    Shift_JIS/cp932, which Japanese Excel writes by default. Strict decoding decides: a cp932 file
    is almost never valid UTF-8, so UTF-8 is tried first."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileError(_("The file's text encoding is not recognised. Save it as “CSV UTF-8” and upload it again."))


def read_csv(data):
    try:
        text = decode_csv_bytes(data)
    except UnicodeDecodeError:
        raise FileError(_("The file's text encoding is not recognised. Save it as “CSV UTF-8”.")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise FileError(_("The CSV file is malformed: %(error)s") % {"error": exc}) from None
    return _to_sheet(records)


def read_xlsx(data):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign file
        raise FileError(_("The Excel file could not be opened. Save it as .xlsx and upload it again.")) from None
    try:
        sheet = workbook.worksheets[0]
        records = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    return _to_sheet(records)


def _to_sheet(records):
    if not records or not any(cell not in (None, "") for cell in records[0]):
        raise FileError(_("The file is empty or its first row (the column headers) is blank."))
    headers = [("" if cell is None else str(cell).strip()) for cell in records[0]]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    rows = []
    for index, record in enumerate(records[1:], start=2):
        cells = list(record[:width]) + [None] * (width - len(record))
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            continue
        rows.append((index, cells))
    return Sheet(headers=headers, rows=rows)


def read_file(data, *, filename=""):
    """A Sheet from the bytes of a CSV or XLSX file (recognised by content, then by name)."""
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        return read_xlsx(data)
    if filename.lower().endswith(".xls"):
        raise FileError(_("Old .xls files are not supported. Save the sheet as .xlsx or CSV."))
    return read_csv(data)
