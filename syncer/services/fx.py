"""Exchange rates used for channel prices and reports: set one, import a file, list them. A rate that
changes reprices the listings (they become dirty for the next sync)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from listing_sync.syncer import fx, reconcile
from listing_sync.syncer.context import Context
from listing_sync.syncer.services.common import InvalidRequest, configured_channels, prepare


@dataclass(frozen=True, slots=True)
class RateSet:
    """1 ``base`` = ``rate`` ``quote`` from ``day``; ``repriced`` listings became dirty."""

    base: str
    quote: str
    rate: Decimal
    day: date
    changed: bool
    repriced: int


def set_rate(context: Context, base: str, quote: str, rate: Decimal, day: date | None = None) -> RateSet:
    """Set an exchange rate, used from ``day`` (default today, UTC) until a newer one."""
    prepare(context)
    base, quote = base.upper(), quote.upper()
    day = day or datetime.now(UTC).date()
    try:
        with context.session() as session:
            changed = fx.set_rate(session, base, quote, rate, day)
            repriced = reconcile.refresh(session, context.channels, None) if changed else 0
    except ValueError as exc:  # an unknown currency, the same currency twice, a rate not above 0
        raise InvalidRequest(str(exc)) from None
    return RateSet(base, quote, rate, day, changed, repriced)


@dataclass(frozen=True, slots=True)
class RatesImported:
    changed: int
    unchanged: int
    repriced: int


def import_rates(context: Context, path: Path) -> RatesImported:
    """Import rates from a CSV or XLSX file (date, base, quote, rate): validated whole, every bad row and
    column listed, nothing applied on error."""
    # listings are repriced as `set_rate` does; without a channels file there is nothing to reprice
    channels = configured_channels(context)
    if channels:
        prepare(context)
    with context.session() as session:
        changed, unchanged = fx.import_rates(session, path)
        repriced = reconcile.refresh(session, channels, None) if changed and channels else 0
    return RatesImported(changed, unchanged, repriced)


@dataclass(frozen=True, slots=True)
class Rate:
    day: date
    base: str
    quote: str
    rate: Decimal


def list_rates(context: Context, *, base: str | None = None, quote: str | None = None) -> list[Rate]:
    """The stored rates (1 BASE = RATE QUOTE from DAY), by pair and day."""
    from listing_sync.syncer.models import FxRate
    from sqlalchemy import select

    query = select(FxRate).order_by(FxRate.base, FxRate.quote, FxRate.day)
    if base:
        query = query.where(FxRate.base == base.upper())
    if quote:
        query = query.where(FxRate.quote == quote.upper())
    with context.session() as session:
        return [Rate(r.day, r.base, r.quote, r.rate) for r in session.scalars(query)]
