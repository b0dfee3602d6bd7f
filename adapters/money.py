"""Money: ``Decimal`` amounts with an ISO 4217 currency, rounded in that currency's minor units."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# the currency table is config's (it validates channel and base currencies); money re-exports it
from listing_sync.config.currencies import MINOR_UNITS, UnknownCurrency, require_currency

__all__ = [
    "MINOR_UNITS",
    "Money",
    "UnknownCurrency",
    "minor_units",
    "parse_decimal",
    "quantum",
    "require_currency",
    "round_money",
]


def minor_units(currency: str) -> int:
    return MINOR_UNITS[require_currency(currency)]


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to the currency's minor units (JPY 0 places, USD 2, KWD 3)."""
    return amount.quantize(quantum(currency), rounding=rounding)


def parse_decimal(text: str | int | Decimal) -> Decimal:
    """Parse a decimal from text without ever passing through float; raise ValueError if invalid."""
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, bool):
        raise ValueError(f"{text!r} is not an amount")
    elif isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, str):
        try:
            value = Decimal(text.strip().replace(",", "")) if text.strip() else Decimal("NaN")
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a number") from None
    else:
        raise ValueError(f"{text!r} must be text or Decimal, never float")
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Arithmetic across currencies is refused."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float):
            raise TypeError("Money amounts are Decimal, never float")
        object.__setattr__(self, "amount", parse_decimal(self.amount))
        require_currency(self.currency)

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        return cls(parse_decimal(amount), currency)

    def rounded(self) -> Money:
        return Money(round_money(self.amount, self.currency), self.currency)

    def wire(self) -> str:
        """The amount as a string with exactly the currency's minor units (e.g. ``"12.50"``, ``"1200"``)."""
        value = round_money(self.amount, self.currency)
        return str(abs(value) if value.is_zero() else value)  # never "-0.00" on the wire

    def minor(self) -> int:
        """The amount in integer minor units (cents, fen); for APIs that want integers."""
        return int(round_money(self.amount, self.currency).scaleb(minor_units(self.currency)))

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply Money by int or Decimal, never float")
        return Money(self.amount * factor, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.wire()} {self.currency}"
