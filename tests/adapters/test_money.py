"""Money: exact Decimal amounts in one ISO 4217 currency, rounded in its minor units."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from listing_sync.adapters.money import (
    Money,
    UnknownCurrency,
    minor_units,
    parse_decimal,
    require_currency,
    round_money,
)


@pytest.mark.parametrize(
    ("amount", "currency", "wire", "minor"),
    [
        ("1200.4", "JPY", "1200", 1200),
        ("1200.5", "JPY", "1201", 1201),
        ("12.5", "USD", "12.50", 1250),
        ("0.015", "CNY", "0.02", 2),
        ("199", "CNY", "199.00", 19900),
        ("1.2345", "KWD", "1.235", 1235),
        ("0.1", "KWD", "0.100", 100),
        ("-3.333", "EUR", "-3.33", -333),
        ("1E+3", "USD", "1000.00", 100000),
        ("-0.001", "USD", "0.00", 0),
        ("-0.4", "JPY", "0", 0),
    ],
)
def test_wire_and_minor_units(amount: str, currency: str, wire: str, minor: int) -> None:
    money = Money.of(amount, currency)
    assert money.wire() == wire
    assert money.minor() == minor
    assert str(money) == f"{wire} {currency}"


@pytest.mark.parametrize(("currency", "places"), [("JPY", 0), ("KRW", 0), ("USD", 2), ("CNY", 2), ("KWD", 3)])
def test_minor_units_table(currency: str, places: int) -> None:
    assert minor_units(currency) == places
    assert round_money(Decimal("1.23456"), currency).as_tuple().exponent == -places


def test_amount_stays_exact_until_wired() -> None:
    money = Money.of("0.1", "USD") + Money.of("0.2", "USD")
    assert money == Money.of("0.3", "USD")
    assert (Money.of("10", "USD") * Decimal("0.333")).amount == Decimal("3.330")
    assert (Money.of("10", "USD") * 3 - Money.of("0.01", "USD")).wire() == "29.99"
    assert Money.of("2.675", "USD").rounded() == Money.of("2.68", "USD")


def test_float_is_refused_everywhere() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="never float"):
        Money.of(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of("1", "USD") * 1.5  # type: ignore[operator]
    with pytest.raises(ValueError):
        parse_decimal(0.1)  # type: ignore[arg-type]


def test_currency_mixing_is_refused() -> None:
    usd, eur = Money.of("1", "USD"), Money.of("1", "EUR")
    with pytest.raises(ValueError, match="cannot combine USD with EUR"):
        usd + eur
    with pytest.raises(ValueError):
        usd - eur


@pytest.mark.parametrize("code", ["XXX", "usd", "", "US"])
def test_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(UnknownCurrency, match="ISO 4217"):
        Money.of("1", code)
    with pytest.raises(ValueError):
        require_currency(code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12.50", Decimal("12.50")), (" 7 ", Decimal(7)), ("1,234.5", Decimal("1234.5")), (3, Decimal(3))],
)
def test_parse_decimal(text: str | int, expected: Decimal) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "abc", "1.2.3", "12,50 EUR", "NaN", "Infinity", "-inf", True, None])
def test_parse_decimal_refuses_bad_input(text) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)


def test_money_is_immutable() -> None:
    money = Money.of("1", "USD")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = Decimal(2)  # type: ignore[misc]
    assert {money, Money.of("1.00", "USD")} == {money}  # hashable, and equal amounts are equal
