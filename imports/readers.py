"""Reading an uploaded CSV or XLSX file into a header and numbered rows.

Row numbers are the ones the user sees in the sheet: the header is row 1, the first data row is
row 2, and blank rows still count, so that "row 57" is row 57 in Excel.

The limits below bound what one file can cost. Pages read only the head of a file (its header and
a few rows, `read_head`), so that a request never waits on a big sheet; the background job reads it
whole (`read_file`) and refuses, as a whole, a file over the row limit.
"""

import csv
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

# Excel's own limit for one cell; a longer cell is a row error (OversizeCell), never stored.
MAX_CELL_CHARS = 32_767
MAX_COLUMNS = getattr(settings, "IMPORTS_MAX_COLUMNS", 200)
MAX_ROWS = getattr(settings, "IMPORTS_MAX_ROWS", 100_000)
# What the parts of an .xlsx may unpack to: a real sheet of MAX_ROWS rows is far below this; a
# "zip bomb" of a few kilobytes that unpacks to gigabytes is refused before anything is unpacked.
MAX_XLSX_UNPACKED_BYTES = getattr(settings, "IMPORTS_MAX_XLSX_UNPACKED_BYTES", 400 * 1024 * 1024)
# A cell is capped at MAX_CELL_CHARS after reading; the csv module must first be able to read it.
csv.field_size_limit(64 * 1024 * 1024)


class FileError(Exception):
    """The file as a whole cannot be read; nothing row-level to report."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class OversizeCell:
    """Stands for a cell longer than MAX_CELL_CHARS: its length, not its text."""

    def __init__(self, length):
        self.length = length

    def __str__(self):
        return _("(%(count)s characters)") % {"count": number_format(self.length, force_grouping=True)}

    def __eq__(self, other):
        return isinstance(other, OversizeCell) and other.length == self.length

    def __hash__(self):
        return hash((OversizeCell, self.length))


@dataclass
class Sheet:
    headers: list
    rows: list  # [(row number, [cell, ...]), ...] without blank rows
    complete: bool = True  # False for a head: more rows may follow

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


def _csv_records(data):
    try:
        text = decode_csv_bytes(data)
    except UnicodeDecodeError:
        raise FileError(_("The file's text encoding is not recognised. Save it as “CSV UTF-8”.")) from None
    first_line = text.split("\n", 1)[0]
    if "\x00" in first_line:
        # Binary files and UTF-16 saved without its byte-order mark look like this.
        raise FileError(_("The first row (the column headers) contains NUL characters: this is not a CSV text "
                          "file. Save it as “CSV UTF-8” and upload it again."))
    delimiter = max(",\t;", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        raise FileError(_("The CSV file is malformed: %(error)s") % {"error": exc}) from None


def _check_zip(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileError(_("The Excel file could not be opened. Save it as .xlsx and upload it again.")) from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise FileError(_("The Excel file unpacks to more than %(mb)s MB. Save the sheet as CSV, or split it, "
                          "and upload it again.") % {"mb": MAX_XLSX_UNPACKED_BYTES // (1024 * 1024)})


def _size_from_the_head_of_the_sheet(worksheet):
    """A read-only sheet's <dimension>, found in the head of its XML.

    openpyxl looks for it with "end" events, and a sheet without one (files not made by Excel, our
    own exports) has no end event before its whole <sheetData> is parsed: opening a 100,000-row
    sheet to show its first rows took seconds. The dimension comes before the data, so "start"
    events find it, or its absence, at once.
    """
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG, SheetDimension, iterparse

    source = worksheet._get_source()
    try:
        for _event, element in iterparse(source, events=("start",)):
            if element.tag == DIMENSION_TAG:
                boundaries = SheetDimension(ref=element.get("ref")).boundaries
                worksheet._min_column, worksheet._min_row, worksheet._max_column, worksheet._max_row = boundaries
                return
            if element.tag == DATA_TAG:
                return
    finally:
        source.close()


def _xlsx_records(data):
    from openpyxl import load_workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    ReadOnlyWorksheet._get_size = _size_from_the_head_of_the_sheet
    _check_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign file
        raise FileError(_("The Excel file could not be opened. Save it as .xlsx and upload it again.")) from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    except FileError:
        raise
    except Exception:  # a sheet that opens but whose cells are damaged
        raise FileError(_("The Excel file could not be opened. Save it as .xlsx and upload it again.")) from None
    finally:
        workbook.close()


def _cell(value):
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return OversizeCell(len(value))
    return value


def _to_sheet(records, *, limit=None):
    """A Sheet from an iterator of records; `limit` data rows at most (a head), else all of them,
    refusing a file of more than MAX_ROWS rows."""
    records = iter(records)
    first = next(records, None)
    if first is None or not any(cell not in (None, "") for cell in first):
        raise FileError(_("The file is empty or its first row (the column headers) is blank."))
    headers = [("" if cell is None else str(cell).strip()) for cell in first]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    if width > MAX_COLUMNS:
        raise FileError(_("The file has %(count)s columns; at most %(max)s can be imported. Remove the columns "
                          "you do not import and upload it again.") % {"count": width, "max": MAX_COLUMNS})
    for number, header in enumerate(headers, start=1):
        if "\x00" in header:
            raise FileError(_("Column %(number)s's header contains a NUL character. Remove it and upload the file "
                              "again.") % {"number": number})
        if len(header) > 200:
            raise FileError(_("Column %(number)s's header is longer than 200 characters. Is the first row the "
                              "column headers?") % {"number": number})
    rows = []
    for index, record in enumerate(records, start=2):
        cells = [_cell(cell) for cell in record[:width]] + [None] * (width - len(record))
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            continue
        if limit is not None and len(rows) >= limit:
            return Sheet(headers=headers, rows=rows, complete=False)
        if limit is None and len(rows) >= MAX_ROWS:
            raise FileError(_("The file has more than %(max)s rows. Split it into files of at most %(max)s rows "
                              "and import them one after the other.")
                            % {"max": number_format(MAX_ROWS, force_grouping=True)})
        rows.append((index, cells))
    return Sheet(headers=headers, rows=rows)


def _records(data, filename):
    if not data:
        raise FileError(_("The file is empty."))
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx_records(data)
    if filename.lower().endswith(".xls"):
        raise FileError(_("Old .xls files are not supported. Save the sheet as .xlsx or CSV."))
    return _csv_records(data)


def read_file(data, *, filename=""):
    """A Sheet from the bytes of a CSV or XLSX file (recognised by content, then by name)."""
    return _to_sheet(_records(data, filename))


def read_head(data, *, filename="", rows=5):
    """The header and the first `rows` data rows, without reading the rest of the file."""
    return _to_sheet(_records(data, filename), limit=rows)

