"""The currency table config owns: ISO 4217 codes and their minor units, shared with adapters.money."""

from __future__ import annotations

import pytest
from listing_sync.adapters import money
from listing_sync.config import currencies
from listing_sync.config.currencies import MINOR_UNITS, UnknownCurrency, require_currency


@pytest.mark.parametrize(("code", "places"), [("JPY", 0), ("CLP", 0), ("USD", 2), ("CNY", 2), ("KWD", 3), ("BHD", 3)])
def test_minor_units_per_iso_code(code: str, places: int) -> None:
    assert MINOR_UNITS[code] == places
    assert require_currency(code) == code


@pytest.mark.parametrize("code", ["XXX", "usd", "", "EURO"])
def test_an_unknown_code_is_refused_with_what_to_use(code: str) -> None:
    with pytest.raises(UnknownCurrency) as info:
        require_currency(code)
    assert isinstance(info.value, ValueError)  # pydantic validators turn it into a field problem
    assert repr(code) in str(info.value) and "ISO 4217" in str(info.value)


def test_money_uses_configs_table_not_a_copy() -> None:
    assert money.MINOR_UNITS is currencies.MINOR_UNITS
    assert money.require_currency is currencies.require_currency
    assert money.UnknownCurrency is currencies.UnknownCurrency
