"""Operations turned into change lines: one catalog value old -> new each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from listing_sync.adapters.money import MINOR_UNITS, quantum
from listing_sync.syncer import limits
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.changes.model import (
    WANTED,
    ChangeLine,
    ChangeRefused,
    _bulk,
    _chunks,
    _text,
)
from listing_sync.syncer.models import (
    Channel,
    ChannelListing,
)
from listing_sync.syncer.rules import decimal_places
from listing_sync.syncer.types import Amount
from sqlalchemy import select, type_coerce
from sqlalchemy.orm import Session


class _Amounts:
    """Reads Amount columns raw and converts each distinct raw value once (prices repeat a lot; the
    column type's own conversion is the cost of a bulk preview otherwise)."""

    def __init__(self, session: Session) -> None:
        self.dialect = session.get_bind().dialect
        self.impl = _AMOUNT.load_dialect_impl(self.dialect)
        self.cache: dict[Any, Decimal | None] = {None: None}

    def column(self, column: Any) -> Any:
        return type_coerce(column, self.impl).label(column.key)

    def __call__(self, raw: Any) -> Decimal | None:
        try:
            return self.cache[raw]
        except KeyError:
            value = self.cache[raw] = _AMOUNT.process_result_value(raw, self.dialect)
            return value

    def required(self, raw: Any) -> Decimal:
        """The amount of a NOT NULL column."""
        value = self(raw)
        if value is None:
            raise ValueError("a required amount is NULL")
        return value


_AMOUNT = Amount()


def _by_ids(session: Session, query: Any, column: Any, ids: Sequence[int], index: int) -> Iterable[tuple[Any, ...]]:
    """Rows (plain tuples) of ``query`` whose ``column`` (at position ``index``) is in ``ids``, looked up
    through its index in chunked IN lists (never a scan of the table: 50,000 SKUs of a 1M catalog are a
    twentieth of its rows)."""
    connection = session.connection()
    out: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(set(ids))):
        out.extend(connection.execute(query.where(column.in_(chunk))).all())
    return out


def _fetch_by_ids(session: Session, sql: str, ids: Sequence[int], *params: Any) -> list[tuple[Any, ...]]:
    """Plain tuples of the raw ``sql`` for ``ids``, straight from the driver's cursor (no row processing:
    the cost of a 300,000-listing preview otherwise). In ``sql``, ``{0}`` is a parameter mark (``params``,
    in order) and ``{ids}`` the test on the ids: ``= ANY(array)`` on PostgreSQL, chunked IN lists on
    SQLite (both through the column's index)."""
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            cursor.execute(sql.format("%s", ids="= ANY(%s)"), [*params, list(ids)])
            return list(cursor.fetchall())
        out: list[tuple[Any, ...]] = []
        for chunk in _chunks(list(ids)):
            cursor.execute(sql.format("?", ids=f"IN ({','.join('?' * len(chunk))})"), [*params, *chunk])
            out.extend(cursor.fetchall())
        return out
    finally:
        cursor.close()


@dataclass(slots=True)
class _SkuRow:
    id: int
    sku: str
    base_price: Decimal
    cost: Decimal | None
    currency: str
    active: bool
    product_id: int | None = None


def _sku_rows(session: Session, sku_ids: Sequence[int]) -> dict[int, _SkuRow]:
    amount = _Amounts(session)
    sql = "SELECT id, sku, base_price, cost, currency, active, product_id FROM skus WHERE id {ids}"
    return {
        sid: _SkuRow(sid, sku, amount.required(price), amount(cost), currency, bool(active), product)
        for sid, sku, price, cost, currency, active, product in _fetch_by_ids(session, sql, sorted(set(sku_ids)))
    }


def _channel_id(session: Session, name: str) -> int:
    channel_id = session.scalar(select(Channel.id).where(Channel.name == name))
    if channel_id is None:
        raise ChangeRefused(f"no channel {name!r} in the database")
    return channel_id


def _check_places(value: Decimal, currency: str, what: str) -> str | None:
    if decimal_places(value) > MINOR_UNITS.get(currency, 2):
        return f"{what} {value} has more decimal places than {currency} allows"
    return None


@_bulk
def plan_price(
    session: Session,
    sku_ids: Sequence[int],
    *,
    percent: Decimal | None = None,
    amount: Decimal | None = None,
    set_to: Decimal | None = None,
    channel: str | None = None,
    channel_currency: str | None = None,
) -> list[ChangeLine]:
    """Plan a base-price (or, with ``channel``, a per-channel override) change for the SKUs.

    Without ``channel``, ``set_to`` and ``amount`` are in each SKU's own currency. With ``channel`` they
    are in the channel's currency (``channel_currency``): the override is entered and stored in it, and a
    percent or amount starts from the current override, or from what the channel shows now where the
    listing has none; SKUs not listed on that channel are skipped. Results are rounded half-up to the
    currency's minor units."""
    if sum(x is not None for x in (percent, amount, set_to)) != 1:
        raise ValueError("give exactly one of percent, amount or a new price")
    if channel is not None and channel_currency is None:
        raise ValueError("a channel price needs the channel's currency")
    _check_price_change(percent, amount, set_to)
    listed = _channel_prices(session, sku_ids, channel) if channel is not None else {}
    skus = _sku_rows(session, sku_ids)
    lines: list[ChangeLine] = []
    problems: list[str] = []
    factor = None if percent is None else 1 + percent / 100
    for sku in sorted(skus.values(), key=lambda s: s.sku):
        if channel is not None and sku.id not in listed:
            continue  # not listed on that channel
        currency = channel_currency if channel is not None else sku.currency
        assert currency is not None  # checked above
        current, shown = listed[sku.id] if channel is not None else (sku.base_price, sku.base_price)
        start = current if current is not None else shown
        if set_to is not None:
            problem = _check_places(set_to, currency, "price")
            if problem:
                problems.append(f"{sku.sku}: {problem}")
                continue
            new = set_to
        elif start is None:
            problems.append(f"{sku.sku}: {channel} shows no price yet (is its FX rate missing?): use price set")
            continue
        elif factor is not None:
            new = start * factor
        else:
            assert amount is not None  # exactly one of the three is given (checked above)
            new = start + amount
        if new < 0:
            problems.append(f"{sku.sku}: the new price {new.quantize(quantum(currency))} {currency} would be negative")
            continue
        out_of_bounds = limits.amount_problem(new, currency)
        if out_of_bounds and "decimal places" not in out_of_bounds:
            problems.append(f"{sku.sku}: the new price {out_of_bounds}")
            continue
        new = new.quantize(quantum(currency), rounding=ROUND_HALF_UP)
        if current is not None and new == current:
            continue
        lines.append(
            ChangeLine(
                sku.id,
                sku.sku,
                "price_override" if channel else "base_price",
                _text(current),
                str(new),
                channel,
            )
        )
    if problems:
        raise ChangeRefused(_problem_text(problems))
    return lines


def _channel_prices(
    session: Session, sku_ids: Sequence[int], channel: str
) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """SKU id -> (price override, desired price) of its listing on ``channel``, both in its currency."""
    channel_id = _channel_id(session, channel)
    out: dict[int, tuple[Decimal | None, Decimal | None]] = {}
    for chunk in _chunks(sorted(set(sku_ids))):
        query = select(ChannelListing.sku_id, ChannelListing.price_override, ChannelListing.desired_price).where(
            ChannelListing.channel_id == channel_id, ChannelListing.sku_id.in_(chunk)
        )
        for sku_id, override, desired in session.execute(query):
            out[sku_id] = (override, desired)
    return out


def skus_not_in_currency(session: Session, sku_ids: Sequence[int], currency: str) -> list[tuple[str, str]]:
    """(SKU, its currency) of the SKUs whose base price is not in ``currency``."""
    rows = _sku_rows(session, sku_ids).values()
    return sorted((row.sku, row.currency) for row in rows if row.currency != currency)


def _check_price_change(percent: Decimal | None, amount: Decimal | None, set_to: Decimal | None) -> None:
    """Refuse a percentage, amount or price out of bounds (:mod:`..limits`) before any arithmetic."""
    problem = None
    if percent is not None:
        problem = limits.percent_problem(percent)
        what = "--percent"
    elif amount is not None:
        problem = limits.amount_problem(amount, signed=True)
        what = "--amount"
    elif set_to is not None:
        problem = limits.amount_problem(set_to)
        what = "the price"
    if problem:
        raise ChangeRefused(f"{what}: {problem}")


def _problem_text(problems: Sequence[str]) -> str:
    shown = "\n".join(f"  {p}" for p in problems[:50])
    more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
    return f"{len(problems)} problem(s); nothing was applied:\n{shown}{more}"


def _warehouse_id(session: Session, code: str) -> int:
    warehouses = ledger.warehouses_by_code(session)
    if code not in warehouses:
        known = ", ".join(sorted(warehouses)) or "none"
        raise ChangeRefused(f"no warehouse {code!r} (known: {known})")
    return warehouses[code]


@_bulk
def plan_stock(
    session: Session, sku_ids: Sequence[int], warehouse: str, *, set_to: int | None = None, by: int | None = None
) -> list[ChangeLine]:
    """Plan on-hand stock in one warehouse: set to ``set_to`` or change by ``by`` (signed)."""
    if (set_to is None) == (by is None):
        raise ValueError("give exactly one of set_to or by")
    problem = limits.quantity_problem(set_to) if set_to is not None else limits.quantity_problem(by or 0, signed=True)
    if problem:
        raise ChangeRefused(f"{'the quantity' if set_to is not None else '--by'}: {problem}")
    wh_id = _warehouse_id(session, warehouse)
    skus = _sku_rows(session, sku_ids)
    levels = ledger.levels(session, list(skus))
    lines, problems = [], []
    for sku in sorted(skus.values(), key=lambda s: s.sku):
        on_hand, reserved = levels.get((sku.id, wh_id), (0, 0))
        new = set_to if set_to is not None else on_hand + (by or 0)
        if new < 0:
            problems.append(f"{sku.sku}: on-hand in {warehouse} would be {new} (now {on_hand})")
            continue
        if new > limits.MAX_QUANTITY:
            problems.append(f"{sku.sku}: on-hand in {warehouse} would be {new}, above {limits.MAX_QUANTITY:,}")
            continue
        if new != on_hand:
            lines.append(ChangeLine(sku.id, sku.sku, f"stock:{warehouse}", str(on_hand), str(new)))
    if problems:
        raise ChangeRefused(_problem_text(problems))
    return lines


def plan_wanted(
    session: Session, sku_ids: Sequence[int], channels: Sequence[str], wanted: str, *, create: bool = True
) -> list[ChangeLine]:
    """Plan listing states: ``active`` (publish; relist with ``create=False``) or ``delisted`` on each
    channel. Delisting, or relisting, a SKU that has no listing on a channel does nothing there."""
    skus = _sku_rows(session, sku_ids)
    lines = []
    for name in channels:
        channel_id = _channel_id(session, name)
        current: dict[int, str] = {}
        for chunk in _chunks(sorted(skus)):
            current.update(
                session.execute(
                    select(ChannelListing.sku_id, ChannelListing.wanted).where(
                        ChannelListing.channel_id == channel_id, ChannelListing.sku_id.in_(chunk)
                    )
                ).all()
            )
        for sku in sorted(skus.values(), key=lambda s: s.sku):
            old = current.get(sku.id)
            if old == wanted or (old is None and (wanted == "delisted" or not create)):
                continue
            lines.append(ChangeLine(sku.id, sku.sku, WANTED, old, wanted, name))
    return lines
