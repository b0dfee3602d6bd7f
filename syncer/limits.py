"""The bounds every amount, count and text taken from a user must respect, and the checks that say why a
value is out of them. Importers and services call these before anything reaches arithmetic or the
database, so a huge or odd value is a clear message, never an overflow.

Bounds (documented in README, "Limits"):

- quantities (on-hand, stock counts, weights in grams): whole numbers 0 .. 1,000,000,000; a signed change
  (``stock adjust --by``) -1,000,000,000 .. 1,000,000,000
- amounts (prices, costs, ``price adjust --amount``): fewer than 10^12 minor units of their currency
  (CNY/USD < 10,000,000,000.00; JPY < 1,000,000,000,000), at most 6 decimal places
- percentages (``price adjust --percent``): -100 (exclusive) .. 1000
- exchange rates: above 0 and below 1,000,000,000, at most 6 decimal places
- text cells: no control characters (U+0000-U+001F except tab, line feed and carriage return; U+007F-U+009F;
  U+FFFE, U+FFFF): they break spreadsheets and marketplace APIs alike
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from listing_sync.adapters.money import MINOR_UNITS
from listing_sync.syncer.tabular import CONTROL, Problem

MAX_QUANTITY = 1_000_000_000
MAX_MINOR_UNITS = 10**12
MIN_PERCENT, MAX_PERCENT = Decimal(-100), Decimal(1000)
MAX_PLACES = 6  # what the database keeps (syncer.types.Amount)
MAX_RATE = Decimal(1_000_000_000)


def max_amount(currency: str | None) -> Decimal:
    """The first amount that is too large in ``currency`` (2 minor units when the currency is unknown)."""
    return Decimal(MAX_MINOR_UNITS).scaleb(-MINOR_UNITS.get(currency or "", 2))


def amount_problem(value: Decimal, currency: str | None = None, *, signed: bool = False) -> str | None:
    """Why ``value`` is not an acceptable amount (None when it is)."""
    if not value.is_finite():
        return f"{value} is not a finite number"
    if value < 0 and not signed:
        return f"{value} must not be negative"
    limit = max_amount(currency)
    if abs(value) >= limit:
        return f"{_short(value)} is too large (amounts must be below {limit:,}{' ' + currency if currency else ''})"
    if value != value.quantize(Decimal(1).scaleb(-MAX_PLACES)):
        return f"{value} has more than {MAX_PLACES} decimal places"
    return None


def quantity_problem(value: int, *, signed: bool = False) -> str | None:
    """Why ``value`` is not an acceptable count (None when it is)."""
    if value < 0 and not signed:
        return f"{_short(value)} must not be negative"
    if abs(value) > MAX_QUANTITY:
        return f"{_short(value)} is too large (at most {MAX_QUANTITY:,})"
    return None


def percent_problem(value: Decimal) -> str | None:
    """Why ``value`` is not an acceptable percentage change (None when it is)."""
    if not value.is_finite() or not MIN_PERCENT < value <= MAX_PERCENT:
        return f"{_short(value)} is out of range (a percentage above {MIN_PERCENT} and at most {MAX_PERCENT})"
    return None


def rate_problem(value: Decimal) -> str | None:
    """Why ``value`` is not an acceptable exchange rate (None when it is)."""
    if not value.is_finite() or value <= 0:
        return f"rate must be positive, not {_short(value)}"
    if value >= MAX_RATE:
        return f"rate {_short(value)} is too large (below {MAX_RATE:,})"
    if value != value.quantize(Decimal(1).scaleb(-MAX_PLACES)):
        return f"{_short(value)} has more than {MAX_PLACES} decimal places"
    return None


def parse_quantity(text: str, *, signed: bool = False) -> tuple[int | None, str | None]:
    """A whole number from cell or option text: (value, None), or (None, why not)."""
    raw = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,30}", raw):
        shown = raw if len(raw) <= 40 else raw[:37] + "..."
        if re.fullmatch(r"[+-]?\d+", raw):
            return None, f"{shown} is too large (at most {MAX_QUANTITY:,})"
        return None, f"{shown!r} is not a whole number"
    value = int(raw)
    problem = quantity_problem(value, signed=signed)
    return (None, problem) if problem else (value, None)


def text_problem(text: str) -> str | None:
    """Why a text cell cannot be taken (a control character), naming the character and its position."""
    match = CONTROL.search(text)
    if match is None:
        return None
    return (
        f"contains the control character U+{ord(match.group()):04X} at position {match.start() + 1}; "
        "remove it (control characters break spreadsheets and marketplace APIs)"
    )


def control_problems(number: int, cells: Mapping[str, str]) -> list[Problem]:
    """A problem (row ``number``, its column) for every cell of a file row that holds a control character."""
    if not CONTROL.search("".join(cells.values())):  # the common case: one scan of the whole row
        return []
    problems = []
    for column, value in cells.items():
        problem = text_problem(value) if value else None
        if problem:
            problems.append(Problem(number, column, problem))
    return problems


def _short(value: Decimal | int) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} digits)"
