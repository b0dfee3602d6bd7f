"""ISO 4217 currencies the service knows and their minor units (a leaf: both config and adapters use it)."""

from __future__ import annotations

# ISO 4217 minor units for the currencies a cross-border seller meets. Extend as markets are added.
MINOR_UNITS: dict[str, int] = {
    "AED": 2,
    "AUD": 2,
    "BGN": 2,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "ISK": 0,
    "JPY": 0,
    "KRW": 0,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "PHP": 2,
    "PLN": 2,
    "RON": 2,
    "RUB": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TRY": 2,
    "TWD": 2,
    "UAH": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
    "KWD": 3,
    "BHD": 3,
}


class UnknownCurrency(ValueError):
    """A currency code that is not ISO 4217 (or not one we know)."""


def require_currency(code: str) -> str:
    """Return ``code`` if it is a known ISO 4217 code, else raise ``UnknownCurrency``."""
    if code not in MINOR_UNITS:
        raise UnknownCurrency(f"unknown currency {code!r}: use an ISO 4217 code such as CNY, USD, EUR")
    return code
