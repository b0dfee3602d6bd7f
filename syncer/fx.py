"""FX rates: 1 unit of ``base`` = ``rate`` units of ``quote`` on a day; lookups use the nearest earlier day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.money import require_currency
from syncer.models import FxRate


class MissingRate(LookupError):
    """No rate for a currency pair on or before a day."""

    def __init__(self, base: str, quote: str, day: date):
        self.base, self.quote, self.day = base, quote, day
        super().__init__(
            f"no FX rate {base}->{quote} on or before {day.isoformat()}: add one with "
            f"`syncer fx set {base} {quote} RATE --date {day.isoformat()}`"
        )


def set_rate(session: Session, base: str, quote: str, rate: Decimal, day: date) -> bool:
    """Insert or replace one rate; returns True when it changed anything."""
    require_currency(base), require_currency(quote)
    if base == quote:
        raise ValueError("base and quote currency are the same")
    if rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}")
    row = session.scalar(select(FxRate).where(FxRate.base == base, FxRate.quote == quote, FxRate.day == day))
    if row is None:
        session.add(FxRate(base=base, quote=quote, day=day, rate=rate))
        return True
    if row.rate == rate:
        return False
    row.rate = rate
    return True


def rate(session: Session, base: str, quote: str, day: date) -> Decimal:
    """The rate base->quote on ``day`` or the nearest earlier day; the inverse pair is used if only it exists."""
    if base == quote:
        return Decimal(1)
    direct = session.scalar(
        select(FxRate.rate)
        .where(FxRate.base == base, FxRate.quote == quote, FxRate.day <= day)
        .order_by(FxRate.day.desc())
        .limit(1)
    )
    if direct is not None:
        return direct
    inverse = session.scalar(
        select(FxRate.rate)
        .where(FxRate.base == quote, FxRate.quote == base, FxRate.day <= day)
        .order_by(FxRate.day.desc())
        .limit(1)
    )
    if inverse is not None:
        return (Decimal(1) / inverse).quantize(Decimal("0.000001"))
    raise MissingRate(base, quote, day)
