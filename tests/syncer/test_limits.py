"""The documented bounds of amounts, counts, percentages and rates, and the one cell guard of every writer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from listing_sync.syncer import limits
from listing_sync.syncer.tabular import FORMULA_PREFIXES, PLAIN_NUMBER, safe_cell, unescape_cell


@pytest.mark.parametrize(
    ("value", "currency", "ok"),
    [
        (Decimal("9999999999.99"), "CNY", True),
        (Decimal("10000000000"), "CNY", False),
        (Decimal("999999999999"), "JPY", True),
        (Decimal("1000000000000"), "JPY", False),
        (Decimal("999999999.999"), "KWD", True),
        (Decimal("1E+30"), None, False),
        (Decimal("-1"), "CNY", False),
        (Decimal("0.0000001"), "CNY", False),
    ],
)
def test_amounts_are_below_ten_to_the_twelve_minor_units(value: Decimal, currency: str | None, ok: bool) -> None:
    assert (limits.amount_problem(value, currency) is None) is ok


def test_signed_amounts_and_quantities() -> None:
    assert limits.amount_problem(Decimal(-5), signed=True) is None
    assert limits.quantity_problem(-5, signed=True) is None
    assert limits.quantity_problem(-5) == "-5 must not be negative"
    assert limits.quantity_problem(10**9) is None and limits.quantity_problem(10**9 + 1) is not None


@pytest.mark.parametrize(
    ("text", "value", "problem"),
    [
        (" 12 ", 12, None),
        ("+3", 3, None),
        ("1_000", None, "'1_000' is not a whole number"),
        ("1.5", None, "'1.5' is not a whole number"),
        ("9" * 5000, None, "is too large"),
        ("-1", None, "must not be negative"),
    ],
)
def test_parse_quantity(text: str, value: int | None, problem: str | None) -> None:
    got, why = limits.parse_quantity(text)
    assert got == value
    assert (why is None) if problem is None else (problem in (why or ""))


def test_percentages_and_rates() -> None:
    assert limits.percent_problem(Decimal(1000)) is None and limits.percent_problem(Decimal("-99.9")) is None
    for bad in ("-100", "1000.1", "1E+30", "NaN"):
        assert limits.percent_problem(Decimal(bad)) is not None
    assert limits.rate_problem(Decimal("7.123456")) is None
    for bad in ("0", "-1", "1E+9", "0.0000001"):
        assert limits.rate_problem(Decimal(bad)) is not None


def test_text_problem_names_the_character_and_its_position() -> None:
    assert limits.text_problem("tab\tand\r\nnewlines") is None
    assert "U+0000 at position 4" in (limits.text_problem("abc\x00") or "")
    assert "U+007F" in (limits.text_problem("\x7f") or "")


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-5", "-5"),
        ("+1.5e3", "+1.5e3"),
        ("tea\x00pot", "tea\ufffdpot"),
        (Decimal("-5"), Decimal("-5")),
        (7, 7),
        (None, None),
    ],
)
def test_safe_cell(cell: object, written: object) -> None:
    assert safe_cell(cell) == written


@given(st.text())
def test_a_guarded_cell_is_never_a_formula_and_reads_back_as_it_was(text: str) -> None:
    written = safe_cell(text)
    assert not written.startswith(FORMULA_PREFIXES) or PLAIN_NUMBER.fullmatch(written)
    assert not limits.CONTROL.search(written)
    if not limits.CONTROL.search(text) and not (text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES)):
        assert unescape_cell(written) == text
