"""Renderers for export tables: `ExportTable` → CSV or XLSX. Errors (plain dicts) render as a
two-column table so that a 400 or 403 still reads sensibly in the requested format."""

from rest_framework.renderers import BaseRenderer

from ui.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, write_csv, write_xlsx


class ExportTable:
    def __init__(self, headers, rows, *, title="export"):
        self.headers, self.rows, self.title = headers, rows, title


def _as_table(data):
    if isinstance(data, ExportTable):
        return data.headers, data.rows
    if isinstance(data, dict):
        return ["field", "message"], [[key, " ".join(map(str, value)) if isinstance(value, list) else value]
                                      for key, value in data.items()]
    return ["message"], [[str(data)]]


class CSVRenderer(BaseRenderer):
    media_type = CSV_MEDIA_TYPE
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return write_csv(*_as_table(data))


class XLSXRenderer(BaseRenderer):
    media_type = XLSX_MEDIA_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        headers, rows = _as_table(data)
        return write_xlsx(headers, rows, title=getattr(data, "title", "export"))
