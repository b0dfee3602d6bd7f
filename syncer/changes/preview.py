"""What every affected channel will show, how many listings and API calls, and the price guard."""

from __future__ import annotations

import json
import json.scanner
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
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
from listing_sync.syncer.changes.plans import _Amounts, _fetch_by_ids, _sku_rows, _SkuRow
from listing_sync.syncer.models import (
    ZEROED,
    Channel,
    ChannelListing,
    Sku,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

CallCounter = Callable[[ChannelConfig, Operation, list[Any]], int]


class _CallItem:
    """What an adapter's ``chunks`` and ``estimate_calls`` look at: the SKU, where it lives (parsed only
    if looked at) and its product (``group``: one publish draft per product)."""

    __slots__ = ("sku", "_raw", "_ref", "group")

    def __init__(self, sku: str, raw: str | None, group: int | None = None) -> None:
        self.sku, self._raw, self.group = sku, raw, group
        self._ref: ListingRef | None = None

    @property
    def ref(self) -> ListingRef | None:
        if self._ref is None and self._raw:
            self._ref = _listing_ref(_parse(self._raw), self.sku)
        return self._ref


_scan_once = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # a decoder is its context


def _parse(raw: str) -> Any:
    """``json.loads(raw)``, without its per-call wrappers (a third of a preview's call count at 300,000
    listings): the same scanner on a document that starts at its first character and ends at its last,
    ``json.loads`` itself for anything else (whitespace around it, errors)."""
    try:
        value, end = _scan_once(raw, 0)
    except StopIteration:
        return json.loads(raw)
    return value if end == len(raw) else json.loads(raw)


def limits_counter(adapters: dict[str, ChannelAdapter] | None = None) -> CallCounter:
    """Count calls with the channel's adapter's own estimate (``ChannelAdapter.estimate_calls``, the one the
    sync plan uses) where given, else its kind's declared batch maximum."""

    def count(channel: ChannelConfig, op: Operation, items: list[Any]) -> int:
        if not items:
            return 0
        adapter = (adapters or {}).get(channel.name)
        if adapter is not None:
            return adapter.estimate_calls(op, items)
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
    plan.sku_currency = {sku_id: row.currency for sku_id, row in skus.items()}
    plan.channel_currency = {config.name: config.currency for config in channels}
    warehouses = ledger.warehouses_by_code(session)
    new = _NewValues.of(lines, warehouses)
    levels = ledger.levels(session, new.stock_skus) if new.stock_skus else {}
    channel_ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    guard = None if guard_percent is None else Decimal(str(guard_percent))
    context = _Context(session, plan, new, skus, warehouses, levels, guard, day)
    by_channel: dict[str, dict[Operation, list[_CallItem]]] = defaultdict(lambda: defaultdict(list))
    for config in channels:
        if config.name in channel_ids:
            _ChannelPreview(context, config, channel_ids[config.name], by_channel[config.name]).run()
    if guard is not None:
        _guard_unlisted(plan, lines, skus)
    _count_calls(plan, channels, by_channel, counter)
    return plan


@dataclass(slots=True)
class _NewValues:
    """The values the change lines set, keyed the way the preview looks them up."""

    base: dict[int, Decimal] = field(default_factory=dict)  # sku id -> base price
    override: dict[tuple[str | None, int], Decimal | None] = field(default_factory=dict)  # (channel, sku id)
    on_hand: dict[tuple[int, int], int] = field(default_factory=dict)  # (sku id, warehouse id)
    wanted: dict[tuple[str | None, int], str | None] = field(default_factory=dict)  # (channel, sku id)
    stock_codes: set[str] = field(default_factory=set)  # the warehouses whose stock changes
    stock_skus: list[int] = field(default_factory=list)  # the SKUs whose stock changes, sorted

    @classmethod
    def of(cls, lines: Sequence[ChangeLine], warehouses: dict[str, int]) -> _NewValues:
        new = cls()
        for line in lines:
            if line.field == "base_price":
                new.base[line.sku_id] = Decimal(line.set_to)
            elif line.field == "price_override":
                new.override[(line.channel, line.sku_id)] = None if line.new is None else Decimal(line.new)
            elif line.field.startswith("stock:"):
                code = line.field.split(":", 1)[1]
                new.stock_codes.add(code)
                new.on_hand[(line.sku_id, warehouses[code])] = int(line.set_to)
            elif line.field == WANTED:
                new.wanted[(line.channel, line.sku_id)] = line.new
        new.stock_skus = sorted({sku_id for sku_id, _ in new.on_hand})
        return new


@dataclass(slots=True)
class _Context:
    """What every channel's part of one preview shares: the plan it fills and what it was planned from."""

    session: Session
    plan: ChangePlan
    new: _NewValues
    skus: dict[int, _SkuRow]
    warehouses: dict[str, int]
    levels: dict[tuple[int, int], tuple[int, int]]  # (sku id, warehouse id) -> (on hand, reserved)
    guard: Decimal | None
    day: date


class _ChannelPreview:
    """One channel's part of a preview: the effects on the listings there, the price guard's refusals
    and the API calls the next sync of that channel makes."""

    def __init__(
        self, context: _Context, config: ChannelConfig, channel_id: int, calls: dict[Operation, list[_CallItem]]
    ) -> None:
        self.context, self.config, self.channel_id, self.calls = context, config, channel_id, calls
        self.plan, self.name, self.guard = context.plan, config.name, context.guard
        self.new_base, self.new_override = context.new.base, context.new.override
        self.feeds = {context.warehouses[c] for c in config.warehouses if c in context.warehouses}
        self.rates: dict[str, Decimal | None] = {}  # SKU currency -> rate into the channel's (None: missing)
        self.missing: dict[str, str] = {}  # SKU currency -> why there is no rate into the channel's
        self.unfloored: dict[tuple[Any, ...], Decimal] = {}  # (base, override, rate) -> the price before a floor
        self.floors: dict[tuple[Any, ...], Decimal | None] = {}  # (cost, rate) -> the cost floor
        self.floored: dict[tuple[Any, ...], Decimal] = {}  # (base, override, cost, rate) -> a price a floor lifts

    def run(self) -> None:
        new, name = self.context.new, self.config.name
        wanted_here = {sid for (channel, sid) in new.wanted if channel == name}
        override_here = {sid for (channel, sid) in new.override if channel == name}
        stock_here = new.stock_codes & set(self.config.warehouses)
        prices_here = set(new.base) | override_here
        stock_skus_here = set(new.stock_skus) if stock_here else set()
        relevant = prices_here | wanted_here | stock_skus_here
        if not relevant:
            return
        rows = _listing_rows(self.context.session, self.channel_id, sorted(relevant))
        for sku_id in sorted(wanted_here):
            self.listing_state(rows.get(sku_id), sku_id, new.wanted[(name, sku_id)])
        rule = registry.delist_sku_as(self.config)
        if wanted_here and (rule == "zero_stock" or not registry.delists_single_skus(self.config)):
            self.whole_items(rows, wanted_here, rule)
        skus, desired, read = self.context.skus, self.plan.desired, self.plan.read
        for sku_id in sorted(relevant - wanted_here):  # each listing's new price and quantity
            row = rows.get(sku_id)
            if row is None:
                continue
            sku = skus[sku_id]
            pushable = row.wanted == "active" and _has_ref(row.ref)
            old_price, old_qty = row.desired_price, row.desired_quantity
            new_price, new_qty = old_price, old_qty
            if old_price is not None and sku_id in prices_here:
                new_price = self.price(row, sku, old_price, pushable)
            if sku.active and sku_id in stock_skus_here:
                new_qty = self.quantity(row, sku, old_qty, pushable)
            if new_price != old_price or new_qty != old_qty:
                desired[row.id] = (new_price, new_qty)
                read[row.id] = (old_price, old_qty)

    def listing_state(self, row: _ListingRow | None, sku_id: int, want: str | None) -> None:
        """A listing to publish, relist or delist (or a state already pending)."""
        sku = self.context.skus[sku_id]
        op = _wanted_op(row, want)
        old = row.wanted if row else None
        self.plan.effects.append(
            Effect(row.id if row else None, self.config.name, sku_id, sku.sku, "listing", old, want, op)
        )
        if op is not None:
            self.calls[op].append(_CallItem(sku.sku, row.ref if row is not None else None, sku.product_id))
        if op in (Operation.PUBLISH, Operation.RELIST):
            self.require_rate(sku)

    def require_rate(self, sku: _SkuRow) -> None:
        """A listing put on sale needs a rate from its SKU's currency into the channel's: without one the
        sync parks it (``fx_rate_missing``), so the preview refuses it, as the publish dry run reports it."""
        if sku.currency not in self.rates:
            self.look_up_rate(sku.currency)
        if self.rates[sku.currency] is None:
            self.refuse(sku, f"{self.missing[sku.currency]} (the sync would park it fx_rate_missing)")

    def price(self, row: _ListingRow, sku: _SkuRow, old: Decimal, pushable: bool) -> Decimal:
        """The price the channel will show (the old one while the FX rate is missing), guarded; exactly as
        :func:`syncer.reconcile.compute_desired` computes it (``rules.channel_price`` only ever lifts a price
        below the cost floor, so the price and the floor are computed, and cached, apart)."""
        rates = self.rates
        if sku.currency not in rates:
            self.look_up_rate(sku.currency)
        rate = rates[sku.currency]
        if rate is None:
            return old
        config = self.config
        base = self.new_base.get(sku.id, sku.base_price)
        override = self.new_override.get((self.name, sku.id), row.price_override)
        key = (base, override, rate)
        new = self.unfloored.get(key)
        if new is None:
            new = self.unfloored[key] = rules.channel_price(
                base, config.price, currency=config.currency, fx_rate=rate, override=override
            )
        guard = self.guard
        cost = sku.cost
        if cost is not None:
            floor_key = (cost, rate)
            if floor_key in self.floors:
                floor = self.floors[floor_key]
            else:
                floor = self.floors[floor_key] = rules.price_floor(cost, config.price, rate, config.currency)
            if floor is not None and new < floor:
                unfloored, lifted = new, (base, override, cost, rate)
                new = self.floored.get(lifted) or self.floored.setdefault(
                    lifted,
                    rules.channel_price(
                        base, config.price, currency=config.currency, fx_rate=rate, cost=cost, override=override
                    ),
                )
                if guard is not None:
                    self.refuse(
                        sku,
                        f"price {unfloored} {config.currency} is below the cost floor {floor}"
                        f" (the channel would show {new})",
                    )
        if new != old:
            self.effect(row, sku, "price", old, new, Operation.PRICE if pushable else None)
            # |new - old| / old * 100 > guard, without a division per listing
            if guard is not None and old > 0 and abs(new - old) * 100 > guard * old:
                moved = (new - old) / old * 100
                self.refuse(sku, f"price {old} -> {new} {config.currency} is {moved:+.1f}% (limit {guard}%)")
        return new

    def look_up_rate(self, currency: str) -> None:
        """The rate from a SKU currency into the channel's (None, with a note, when it is missing)."""
        try:
            self.rates[currency] = fx.rate(self.context.session, currency, self.config.currency, self.context.day)
        except fx.MissingRate as exc:
            self.rates[currency] = None
            self.missing[currency] = str(exc)
            self.plan.notes.append(f"{self.name}: {exc}; its listings keep waiting for the rate")

    def quantity(self, row: _ListingRow, sku: _SkuRow, old: int | None, pushable: bool) -> int:
        """The quantity the channel will show from its warehouses' new on-hand counts."""
        levels, on_hand = self.context.levels, self.context.new.on_hand
        pool = []
        for wid in self.feeds:
            current, reserved = levels.get((sku.id, wid), (0, 0))
            pool.append((on_hand.get((sku.id, wid), current), reserved))
        new = rules.channel_quantity(pool, self.config.stock)
        if new != old:
            self.effect(row, sku, "quantity", old, new, Operation.STOCK if pushable else None)
        return new

    def whole_items(self, rows: dict[int, _ListingRow], wanted_here: set[int], rule: str) -> None:
        """Delisting (or relisting) some SKUs of an item while its other SKUs stay as they are: under the
        channel's ``delist_sku_as = "zero_stock"`` a delist is a stock push of 0 (said in a note);
        otherwise, on a channel that delists whole items only, it is refused (the sync would park it
        ``unsupported``)."""
        skus, new = self.context.skus, self.context.new
        moving: dict[int, set[int]] = defaultdict(set)  # product id -> SKU ids delisted or relisted
        for sku_id in wanted_here:
            row = rows.get(sku_id)
            product_id = skus[sku_id].product_id
            if (
                row is not None
                and product_id is not None
                and _wanted_op(row, new.wanted[(self.name, sku_id)])
                in (
                    DELIST,
                    RELIST,
                )
            ):
                moving[product_id].add(sku_id)
        if not moving:
            return
        query = (
            select(Sku.id, Sku.sku, Sku.product_id, ChannelListing.wanted)
            .join(ChannelListing, ChannelListing.sku_id == Sku.id)
            .where(ChannelListing.channel_id == self.channel_id, Sku.product_id.in_(sorted(moving)))
        )
        siblings: dict[int, dict[int, tuple[str, str]]] = defaultdict(dict)
        for sku_id, sku, product_id, wanted in self.context.session.execute(query):
            siblings[product_id][sku_id] = (sku, wanted)
        zeroed: list[str] = []
        for product_id, ids in moving.items():
            target = new.wanted[(self.name, next(iter(ids)))]
            staying = sorted(
                name for sid, (name, wanted) in siblings[product_id].items() if sid not in ids and wanted != target
            )
            if not staying:
                continue
            if rule == "zero_stock" and target == "delisted":
                zeroed += self.as_zero_stock(ids)
                continue
            shown = ", ".join(staying[:5]) + (" ..." if len(staying) > 5 else "")
            for sku_id in sorted(ids):
                self.refuse(
                    skus[sku_id],
                    f"{self.config.kind} delists whole items only: this SKU's item also holds {shown}. Delist "
                    f"the item (select all its SKUs), or stop selling this SKU here by its stock "
                    f"(`syncer stock set 0 --sku {skus[sku_id].sku} --warehouse WH`)",
                )

        if zeroed:
            shown = ", ".join(sorted(zeroed)[:5]) + (f" and {len(zeroed) - 5} more" if len(zeroed) > 5 else "")
            self.plan.notes.append(
                f"{self.name}: {len(zeroed)} SKU(s) whose item stays on sale ({shown}) are taken off sale as "
                f'stock 0 and stay listed (delist_sku_as = "zero_stock"); delisting every SKU of an item takes '
                "the item down"
            )

    def as_zero_stock(self, ids: set[int]) -> list[str]:
        """These SKUs' delists become stock pushes of 0 (for the call count); their SKU codes."""
        names = {self.context.skus[sku_id].sku for sku_id in ids}
        moved = [item for item in self.calls[DELIST] if item.sku in names]
        self.calls[DELIST] = [item for item in self.calls[DELIST] if item.sku not in names]
        self.calls[Operation.STOCK] += moved
        return sorted(names)

    def effect(self, row: _ListingRow, sku: _SkuRow, name: str, old: Any, new: Any, op: Operation | None) -> None:
        self.plan.effects.append(Effect(row.id, self.name, sku.id, sku.sku, name, old, new, op))
        if op is not None:
            self.calls[op].append(_CallItem(sku.sku, row.ref, sku.product_id))

    def refuse(self, sku: _SkuRow, message: str) -> None:
        self.plan.violations.append(Violation(sku.sku, self.name, message))


def _guard_unlisted(plan: ChangePlan, lines: Sequence[ChangeLine], skus: dict[int, _SkuRow]) -> None:
    """A SKU listed nowhere still must not be priced below its cost."""
    listed = {e.sku_id for e in plan.effects if e.field == "price"}
    for line in lines:
        if line.field == "base_price" and line.sku_id not in listed:
            cost = skus[line.sku_id].cost
            if cost is not None and Decimal(line.set_to) < cost:
                plan.violations.append(Violation(line.sku, None, f"new base price {line.new} is below cost {cost}"))


def _count_calls(
    plan: ChangePlan,
    channels: Sequence[ChannelConfig],
    by_channel: dict[str, dict[Operation, list[_CallItem]]],
    counter: CallCounter,
) -> None:
    for config in channels:
        ops = by_channel.get(config.name)
        if ops:
            plan.calls[config.name] = {op.value: counter(config, op, items) for op, items in ops.items() if items}


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
    sql = (
        "SELECT id, sku_id, price_override, desired_price, desired_quantity, wanted, CAST(ref AS TEXT),"
        " pushed_state FROM channel_listings WHERE channel_id = {0} AND sku_id {ids}"
    )
    return {
        sku_id: _ListingRow(lid, sku_id, amount(override), amount(desired), qty, wanted, ref, pushed)
        for lid, sku_id, override, desired, qty, wanted, ref, pushed in _fetch_by_ids(
            session, sql, sorted(set(sku_ids)), channel_id
        )
    }


DELIST, RELIST = Operation.DELIST, Operation.RELIST


def _has_ref(raw: str | None) -> bool:
    if not raw:
        return False
    return ":" in raw or raw.replace(" ", "") not in ("{}", "null")  # a key: not empty (the common case)


def _wanted_op(row: _ListingRow | None, want: str | None) -> Operation | None:
    if want == "active":
        if row is None or not _has_ref(row.ref):
            return Operation.PUBLISH
        if row.pushed_state == "delisted":
            return Operation.RELIST
        return Operation.STOCK if row.pushed_state == ZEROED else None  # its quantity goes back up
    if row is not None and _has_ref(row.ref) and row.pushed_state not in ("delisted", ZEROED):
        return Operation.DELIST
    return None
