"""Numbers from outside (tracking traits, import cells, segment rule values) are bounded before they
are converted: a value like "1e1000000" is refused in microseconds instead of building a
million-digit integer (25 s of CPU in the worker that tried)."""

import time
from decimal import Decimal

import pytest

from accounts.models import Account
from imports.values import CellError, parse_decimal, parse_int
from segments.rules import validate_rules
from workspaces.errors import DomainError
from workspaces.values import NumberError, to_decimal, to_int

from .imports_helpers import csv_bytes, run_import

HUGE = ["1e1000000", "-1e1000000", "9" * 5000, "1e999999999999999999", "1" + "0" * 200 + ".5", "1e-1000000"]


class Stopwatch:
    """Elapsed wall time of a block: a guard against minutes-long stalls, not a benchmark."""

    def __enter__(self):
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.monotonic() - self.start


def short_id(value):
    return repr(value)[:30] if not isinstance(value, int) else f"int of {value.bit_length()} bits"


@pytest.mark.parametrize("raw", HUGE + [10 ** 5000, -(10 ** 5000), Decimal("1e1000000"), 1e308], ids=short_id)
def test_the_converter_refuses_what_no_column_holds_without_building_it(raw):
    with Stopwatch() as watch, pytest.raises(NumberError) as caught:
        to_int(raw, min_value=0, max_value=2_147_483_647)
    assert watch.elapsed < 0.1
    assert caught.value.code in {"too_long", "out_of_range", "not_whole"}


@pytest.mark.parametrize("raw, expected", [
    ("42", 42), (42, 42), (42.0, 42), ("4.2e1", 42), (Decimal("42.000"), 42), (" 7 ", 7), ("2147483647", 2147483647),
])
def test_the_converter_keeps_ordinary_whole_numbers(raw, expected):
    assert to_int(raw, min_value=0, max_value=2_147_483_647) == expected


@pytest.mark.parametrize("raw, code", [
    ("2147483648", "out_of_range"), ("-1", "out_of_range"), ("2.5", "not_whole"), ("abc", "not_a_number"),
    ("NaN", "not_a_number"), ("Infinity", "not_a_number"), (float("nan"), "not_a_number"), (True, "not_a_number"),
    (None, "not_a_number"), ([1], "not_a_number"), ("", "not_a_number"),
])
def test_the_converter_names_what_is_wrong(raw, code):
    with pytest.raises(NumberError) as caught:
        to_int(raw, min_value=0, max_value=2_147_483_647)
    assert caught.value.code == code and str(caught.value)


def test_decimals_keep_to_the_columns_digits():
    assert to_decimal("1234.565", max_digits=16, decimal_places=2) == Decimal("1234.56")  # banker's rounding
    assert to_decimal("99999999999999.99", max_digits=16, decimal_places=2) == Decimal("99999999999999.99")
    for raw in ("100000000000000", "1e14", "1e1000000", "99999999999999.995", "-1e1000000"):
        with pytest.raises(NumberError, match="at most"):
            to_decimal(raw, max_digits=16, decimal_places=2)
    with pytest.raises(NumberError, match="longer than"):
        to_decimal("9" * 200, max_digits=16, decimal_places=2)
    assert to_decimal("1e-1000000", max_digits=16, decimal_places=2) == Decimal("0.00")


# --- Where the converter serves --------------------------------------------------------------------

@pytest.mark.parametrize("raw", HUGE, ids=short_id)
def test_import_cells_with_huge_numbers_are_cell_errors_not_stalls(raw):
    with Stopwatch() as watch:
        with pytest.raises(CellError):
            parse_int(raw)
        if raw != "1e-1000000":  # tiny but a real number: a decimal column takes it as 0
            with pytest.raises(CellError):
                parse_decimal(raw)
    assert watch.elapsed < 0.5


def test_an_import_row_with_a_huge_seat_count_is_a_row_error(ws, manager):
    data = csv_bytes([["name", "licensed_seats", "arr"], ["Good", "12", "100"], ["Huge seats", "1e1000000", "1"],
                      ["Huge ARR", "3", "1e1000000"]])
    with Stopwatch() as watch:
        result = run_import(data, workspace=ws, actor=manager, valid_only=True)
    assert watch.elapsed < 1
    assert [(e["row"], e["field"]) for e in result.errors] == [(3, "licensed_seats"), (4, "arr")]
    assert list(Account.all_workspaces.filter(workspace=ws).values_list("name", "licensed_seats")) == [("Good", 12)]


@pytest.mark.parametrize("condition", [
    {"field": "seats", "op": "gte", "value": "1e1000000"},
    {"field": "seats", "op": "between", "value": [1, "1e1000000"]},
    {"field": "active_users", "op": "eq", "value": "9" * 5000},
    {"field": "tenure_months", "op": "gte", "value": "1e9"},
    {"field": "arr", "op": "gte", "value": "1e1000000"},
    {"field": "seats", "op": "lte", "value": 2_147_483_648},
])
def test_segment_rule_values_are_bounded_by_their_column(ws, condition):
    with Stopwatch() as watch, pytest.raises(DomainError) as caught:
        validate_rules({"conditions": [condition]}, workspace=ws)
    assert watch.elapsed < 0.5
    assert "rules.conditions[0]" in caught.value.message


def test_segment_api_answers_400_for_a_huge_rule_value(api_for, manager):
    with Stopwatch() as watch:
        response = api_for(manager).post("/api/v1/segments/", {
            "name": "Huge", "rules": {"conditions": [{"field": "seats", "op": "gte", "value": "1e1000000"}]},
        })
    assert watch.elapsed < 1
    assert response.status_code == 400 and "rules.conditions[0]" in response.json()["rules"][0]
    ok = api_for(manager).post("/api/v1/segments/", {
        "name": "Big enough", "rules": {"conditions": [{"field": "tenure_months", "op": "lte", "value": 1200},
                                                       {"field": "arr", "op": "gte", "value": "1e13"}]},
    })
    assert ok.status_code == 201, ok.content
