"""Writing tables as CSV (UTF-8 with a BOM, so that Excel opens Japanese text correctly) or XLSX.

Every download of the platform goes through here, so that every one has the same guard against
formula injection. Dates stay dates in XLSX; date-times are written as ISO text with their offset
so that a round trip keeps them to the microsecond.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# What a spreadsheet may take for the start of a formula; a tab or carriage return first is skipped
# by some (OWASP's list for CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        # Spreadsheets would run "=…" as a formula (CSV injection). The import strips this quote.
        return "'" + value
    return str(value)


def write_csv(headers, rows):
    buffer = io.StringIO(newline="")
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _xlsx_cell(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal | int | float | bool | dt.date) or value is None:
        return value
    return str(value)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_xlsx(headers, rows, *, title="Export"):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            value = _xlsx_cell(value)
            if isinstance(value, dt.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            elif isinstance(value, str) and value.startswith("="):
                # Stored as text, never as a formula that Excel would run.
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def spreadsheet_response(headers, rows, *, filename, file_format="csv", title="Export"):
    """An attachment download of the table: `file_format` "csv" or "xlsx"; `filename` without extension."""
    from django.http import HttpResponse

    if file_format == "xlsx":
        body, media_type = write_xlsx(headers, rows, title=title), XLSX_MEDIA_TYPE
    else:
        body, media_type = write_csv(headers, rows), f"{CSV_MEDIA_TYPE}; charset=utf-8"
    response = HttpResponse(body, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    return response
