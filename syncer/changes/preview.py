"""What every affected channel will show, how many listings and API calls, and the price guard."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from listing_sync.adapters import registry
from listing_sync.adapters.base import ChannelAdapter, ListingRef, Operation
from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import fx, rules
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.changes.model import (
    WANTED,
    ChangeLine,
    ChangePlan,
    Effect,
    Violation,
    _bulk,
    now_utc,
)
from listing_sync.syncer.changes.plans import _Amounts, _by_ids, _sku_rows
from listing_sync.syncer.models import (
    Channel,
    ChannelListing,
)
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

CallCounter = Callable[[ChannelConfig, Operation, list[Any]], int]


class _CallItem:
    """What an adapter's ``chunks`` looks at: the SKU and where it lives (parsed only if looked at)."""

    __slots__ = ("sku", "_raw", "_ref")

    def __init__(self, sku: str, raw: str | None) -> None:
        self.sku, self._raw, self._ref = sku, raw, None

    @property
    def ref(self) -> ListingRef | None:
        if self._ref is None and self._raw:
            self._ref = _listing_ref(json.loads(self._raw), self.sku)
        return self._ref


def limits_counter(adapters: dict[str, ChannelAdapter] | None = None) -> CallCounter:
    """Count calls with the channel's adapter's own chunking where given, else its kind's declared batch maximum."""

    def count(channel: ChannelConfig, op: Operation, items: list[Any]) -> int:
        if not items:
            return 0
        adapter = (adapters or {}).get(channel.name)
        if adapter is not None:
            return adapter.count_calls(op, items)
        return registry.estimate_calls(channel.kind, op, len(items))

    return count


def _listing_ref(ref: dict[str, Any] | None, sku: str) -> ListingRef | None:
    if not ref:
        return None
    return ListingRef(ref.get("sku") or sku, ref.get("external_id"), ref.get("ids") or {})


@_bulk
def preview(
    session: Session,
    channels: Sequence[ChannelConfig],
    lines: Sequence[ChangeLine],
    *,
    guard_percent: float | Decimal | None = None,
    counter: CallCounter | None = None,
    today: datetime | None = None,
) -> ChangePlan:
    """What the lines will do to every listing (channel prices and quantities, listing states), the
    API calls that causes, and what the price guard refuses (``guard_percent`` None = no guard)."""
    plan = ChangePlan(list(lines))
    counter = counter or limits_counter()
    day = (today or now_utc()).date()
    sku_ids = sorted({line.sku_id for line in lines})
    if not sku_ids:
        return plan
    skus = _sku_rows(session, sku_ids)
    warehouses = ledger.warehouses_by_code(session)
    new_base: dict[int, Decimal] = {}
    new_override: dict[tuple[str, int], Decimal | None] = {}
    new_on_hand: dict[tuple[int, int], int] = {}
    new_wanted: dict[tuple[str, int], str] = {}
    stock_codes: set[str] = set()
    for line in lines:
        if line.field == "base_price":
            new_base[line.sku_id] = Decimal(line.new)
        elif line.field == "price_override":
            new_override[(line.channel, line.sku_id)] = None if line.new is None else Decimal(line.new)
        elif line.field.startswith("stock:"):
            code = line.field.split(":", 1)[1]
            stock_codes.add(code)
            new_on_hand[(line.sku_id, warehouses[code])] = int(line.new)
        elif line.field == WANTED:
            new_wanted[(line.channel, line.sku_id)] = line.new
    stock_skus = sorted({sku_id for sku_id, _ in new_on_hand})
    levels = ledger.levels(session, stock_skus) if stock_skus else {}
    channel_ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    guard = None if guard_percent is None else Decimal(str(guard_percent))
    by_channel: dict[str, dict[Operation, list[_CallItem]]] = defaultdict(lambda: defaultdict(list))
    for config in channels:
        if config.name not in channel_ids:
            continue
        wanted_here = {sid for (name, sid) in new_wanted if name == config.name}
        override_here = {sid for (name, sid) in new_override if name == config.name}
        feeds = {warehouses[c] for c in config.warehouses if c in warehouses}
        stock_here = stock_codes & set(config.warehouses)
        relevant = set(new_base) | override_here | wanted_here | (set(stock_skus) if stock_here else set())
        if not relevant:
            continue
        rows = _listing_rows(session, channel_ids[config.name], sorted(relevant))
        rates: dict[str, Any] = {}
        price_cache: dict[tuple[Any, ...], tuple[Decimal, Decimal, Decimal | None]] = {}
        calls = by_channel[config.name]
        for sku_id in sorted(wanted_here):
            row = rows.get(sku_id)
            sku = skus[sku_id]
            want = new_wanted[(config.name, sku_id)]
            op = _wanted_op(row, want)
            plan.effects.append(
                Effect(
                    row.id if row else None,
                    config.name,
                    sku_id,
                    sku.sku,
                    "listing",
                    row.wanted if row else None,
                    want,
                    op,
                )
            )
            if op is not None:
                calls[op].append(_CallItem(sku.sku, row.ref if row is not None else None))
        prices_here = set(new_base) | override_here
        stock_skus_here = set(stock_skus) if stock_here else set()
        for sku_id in sorted(relevant - wanted_here):
            row = rows.get(sku_id)
            if row is None:
                continue
            sku = skus[sku_id]
            pushable = row.wanted == "active" and _has_ref(row.ref)
            old_price, old_qty = row.desired_price, row.desired_quantity
            new_price, new_qty = old_price, old_qty
            if sku_id in prices_here and old_price is not None:
                rate = rates.get(sku.currency, False)
                if rate is False:
                    try:
                        rate = fx.rate(session, sku.currency, config.currency, day)
                    except fx.MissingRate as exc:
                        rate = None
                        plan.notes.append(f"{config.name}: {exc}; its listings keep waiting for the rate")
                    rates[sku.currency] = rate
                if rate is not None:
                    base = new_base.get(sku_id, sku.base_price)
                    override = new_override.get((config.name, sku_id), row.price_override)
                    key = (base, override, sku.cost, rate)
                    cached = price_cache.get(key)
                    if cached is None:
                        cached = price_cache[key] = _channel_prices(base, override, sku.cost, config, rate)
                    new_price, unfloored, floor = cached
                    if guard is not None and floor is not None and unfloored < floor:
                        plan.violations.append(
                            Violation(
                                sku.sku,
                                config.name,
                                f"price {unfloored} {config.currency} is below the cost floor {floor}"
                                f" (the channel would show {new_price})",
                            )
                        )
                    if new_price != old_price:
                        op = Operation.PRICE if pushable else None
                        plan.effects.append(
                            Effect(row.id, config.name, sku_id, sku.sku, "price", old_price, new_price, op)
                        )
                        if op is not None:
                            calls[op].append(_CallItem(sku.sku, row.ref))
                        if guard is not None and old_price > 0:
                            moved = (new_price - old_price) / old_price * 100
                            if abs(moved) > guard:
                                plan.violations.append(
                                    Violation(
                                        sku.sku,
                                        config.name,
                                        f"price {old_price} -> {new_price} {config.currency} is {moved:+.1f}%"
                                        f" (limit {guard}%)",
                                    )
                                )
            if sku_id in stock_skus_here and sku.active:
                pool = []
                for wid in feeds:
                    on_hand, reserved = levels.get((sku_id, wid), (0, 0))
                    pool.append((new_on_hand.get((sku_id, wid), on_hand), reserved))
                new_qty = rules.channel_quantity(pool, config.stock)
                if new_qty != old_qty:
                    op = Operation.STOCK if pushable else None
                    plan.effects.append(Effect(row.id, config.name, sku_id, sku.sku, "quantity", old_qty, new_qty, op))
                    if op is not None:
                        calls[op].append(_CallItem(sku.sku, row.ref))
            if new_price != old_price or new_qty != old_qty:
                plan.desired[row.id] = (new_price, new_qty)
    if guard is not None:
        # a SKU listed nowhere still must not be priced below its cost
        listed = {e.sku_id for e in plan.effects if e.field == "price"}
        for line in lines:
            if line.field == "base_price" and line.sku_id not in listed:
                cost = skus[line.sku_id].cost
                if cost is not None and Decimal(line.new) < cost:
                    plan.violations.append(Violation(line.sku, None, f"new base price {line.new} is below cost {cost}"))
    for config in channels:
        ops = by_channel.get(config.name)
        if ops:
            plan.calls[config.name] = {op.value: counter(config, op, items) for op, items in ops.items() if items}
    return plan


@dataclass(slots=True)
class _ListingRow:
    id: int
    sku_id: int
    price_override: Decimal | None
    desired_price: Decimal | None
    desired_quantity: int | None
    wanted: str
    ref: str | None
    pushed_state: str | None


def _listing_rows(session: Session, channel_id: int, sku_ids: Sequence[int]) -> dict[int, _ListingRow]:
    amount = _Amounts(session)
    query = select(
        ChannelListing.id,
        ChannelListing.sku_id,
        amount.column(ChannelListing.price_override),
        amount.column(ChannelListing.desired_price),
        ChannelListing.desired_quantity,
        ChannelListing.wanted,
        cast(ChannelListing.ref, Text).label("ref"),
        ChannelListing.pushed_state,
    ).where(ChannelListing.channel_id == channel_id)
    return {
        sku_id: _ListingRow(lid, sku_id, amount(override), amount(desired), qty, wanted, ref, pushed)
        for lid, sku_id, override, desired, qty, wanted, ref, pushed in _by_ids(
            session, query, ChannelListing.sku_id, sku_ids, 1
        )
    }


def _has_ref(raw: str | None) -> bool:
    return bool(raw) and raw.replace(" ", "") not in ("{}", "null")


def _wanted_op(row: Any, want: str) -> Operation | None:
    if want == "active":
        if row is None or not _has_ref(row.ref):
            return Operation.PUBLISH
        return Operation.RELIST if row.pushed_state == "delisted" else None
    if row is not None and _has_ref(row.ref) and row.pushed_state != "delisted":
        return Operation.DELIST
    return None


def _channel_prices(
    base: Decimal, override: Decimal | None, cost: Decimal | None, config: ChannelConfig, rate: Decimal
) -> tuple[Decimal, Decimal, Decimal | None]:
    """(the price the channel will show, the price before the cost floor lifts it, the floor): exactly
    as :func:`syncer.reconcile.compute_desired` computes it (``rules.channel_price`` only ever lifts a
    price that is below the floor, so the floored price is computed only then)."""
    unfloored = rules.channel_price(base, config.price, currency=config.currency, fx_rate=rate, override=override)
    floor = rules.price_floor(cost, config.price, rate, config.currency)
    if floor is None or unfloored >= floor:
        return unfloored, unfloored, floor
    price = rules.channel_price(
        base, config.price, currency=config.currency, fx_rate=rate, cost=cost, override=override
    )
    return price, unfloored, floor
