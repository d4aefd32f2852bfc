"""Cell parsers and header normalisation: the formats Japanese and English sheets use."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from imports.columns import normalise_header, suggest_mapping
from imports.readers import FileError, read_file
from imports.values import (
    CellError,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_tags,
)

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("raw, expected", [
    ("2024-04-01", dt.date(2024, 4, 1)), ("2024/4/1", dt.date(2024, 4, 1)), ("2024年4月1日", dt.date(2024, 4, 1)),
    ("２０２４／０４／０１", dt.date(2024, 4, 1)), ("2024/04/01 0:00:00", dt.date(2024, 4, 1)),
    ("20240401", dt.date(2024, 4, 1)), (45383, dt.date(2024, 4, 1)), ("45383", dt.date(2024, 4, 1)),
    (dt.datetime(2024, 4, 1, 9, 0), dt.date(2024, 4, 1)),
])
def test_dates(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2024-02-30", "next week", "4/1/2024", "2024-13-01"])
def test_bad_dates_say_so(raw):
    with pytest.raises(CellError, match="not a date"):
        parse_date(raw)


def test_datetimes_are_in_the_workspace_time_zone_unless_they_say_otherwise():
    assert parse_datetime("2024/05/01 14:30", tz=TOKYO) == dt.datetime(2024, 5, 1, 14, 30, tzinfo=TOKYO)
    assert parse_datetime("2024年5月1日 9時5分", tz=TOKYO) == dt.datetime(2024, 5, 1, 9, 5, tzinfo=TOKYO)
    assert parse_datetime("2024-05-01T05:30:00+00:00", tz=TOKYO) == dt.datetime(2024, 5, 1, 14, 30, tzinfo=TOKYO)
    assert parse_datetime("2024-05-01", tz=TOKYO) == dt.datetime(2024, 5, 1, tzinfo=TOKYO)


@pytest.mark.parametrize("raw, expected", [
    ("1,200,000", Decimal("1200000")), ("￥1,200,000", Decimal("1200000")), ("¥ 980", Decimal("980")),
    ("360,000円", Decimal("360000")), ("１２３．５", Decimal("123.5")), (1200.5, Decimal("1200.5")),
    ("JPY 5,000", Decimal("5000")),
])
def test_numbers(raw, expected):
    assert parse_decimal(raw) == expected


def test_bad_numbers():
    with pytest.raises(CellError, match="not a number"):
        parse_decimal("約100万")
    with pytest.raises(CellError, match="whole number"):
        parse_int("2.5")
    assert parse_int("２０") == 20


def test_booleans_and_tags():
    assert [parse_bool(v) for v in ("はい", "TRUE", "○", "いいえ", "false", "×")] == [True] * 3 + [False] * 3
    assert parse_tags("製造、重要, 製造 ;VIP") == ["VIP", "製造", "重要"]


def test_header_normalisation_and_aliases():
    assert normalise_header("  Contract_Start ") == normalise_header("contract start") == "contractstart"
    assert normalise_header("ＡＲＲ") == "arr"
    headers = ["会社名", "企業名", "担当者", "契約開始日", "更新日", "ライセンス数", "年間契約金額", "ステータス", "謎"]
    assert suggest_mapping("accounts", headers) == {
        0: "name", 2: "owner", 3: "contract_start", 4: "renewal_date", 5: "licensed_seats", 6: "arr", 7: "status"
    }  # 企業名 would map to name again: left for the user; unknown headers stay unmapped
    assert suggest_mapping("contacts", ["会社名", "氏名", "メール", "役職"]) == {
        0: "account", 1: "name", 2: "email", 3: "title"
    }
    assert suggest_mapping("accounts", ["Kundenname"], saved={"kundenname": "name"}) == {0: "name"}


def test_unreadable_files_are_refused_in_plain_words():
    with pytest.raises(FileError):
        read_file(b"", filename="empty.csv")
    with pytest.raises(FileError, match="xlsx"):
        read_file(b"PK\x03\x04 not really a workbook", filename="broken.xlsx")
    with pytest.raises(FileError, match=".xls"):
        read_file(b"\xd0\xcf\x11\xe0", filename="old.xls")


def test_shift_jis_and_tab_separated_files_are_detected():
    sheet = read_file("会社名\t担当者\r\nさくら\t山田\r\n".encode("cp932"), filename="x.txt")
    assert sheet.headers == ["会社名", "担当者"] and sheet.rows == [(2, ["さくら", "山田"])]
    sheet = read_file("会社名\n\nさくら\n".encode("utf-16"), filename="x.csv")
    assert sheet.rows == [(3, ["さくら"])]  # blank rows still count, as in the sheet
