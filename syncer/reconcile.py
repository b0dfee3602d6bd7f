"""Dirty tracking, push plans and result write-back: the central catalog flowing into every channel.

* :func:`refresh` recomputes the desired price, quantity and content of exactly the listings a change
  can affect and marks those that differ dirty with a new ``version``.
* :func:`build_plan` groups a channel's dirty listings by operation (delist, stock, publish, relist,
  price) and chunks them by the adapter's declared batch maxima.
* :func:`push_channel` executes a plan; each batch's results are written back in their own
  transaction. A listing becomes clean only if its version is still the one that was pushed, so a
  change made during a push stays dirty. Retryable failures back off; permanent ones are parked with
  their message until the listing changes again.
* Stock first: while a push works through price, publish or delist batches (a bulk change can be hours
  of calls), its stock lane (:class:`_StockLane`, a thread under the same lease, adapter and rate budget)
  looks every ``stock_lane_seconds`` for quantity pushes that came up since (orders, stock changes) and
  sends them ahead of the backlog (``adapter.priority()``), so the oversell window does not grow with it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from listing_sync.adapters import registry
from listing_sync.adapters.base import (
    AuthError,
    ChannelAdapter,
    ChannelError,
    ConfigurationError,
    DelistRequest,
    ItemResult,
    ListingRef,
    Money,
    Operation,
    PriceUpdate,
    RemoteListing,
    SaleWindow,
    StockUpdate,
)
from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import content, fx, leases, recompute, rules
from listing_sync.syncer.models import (
    ZEROED,
    Channel,
    ChannelListing,
    NativeSale,
    Product,
    Sku,
    StockLevel,
    SyncResult,
    SyncRun,
    Warehouse,
    table_of,
)
from sqlalchemy import ColumnElement, Table, Update, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

Desired = recompute.Desired

log = logging.getLogger("syncer.reconcile")

PENDING = ("new", "dirty", "retry")
QUANTITY_OPS = (Operation.STOCK, Operation.PUBLISH, Operation.RELIST)
#: the order of a plan's operations: stock first (after take-downs), then the rest; a quantity RAISED on a
#: listing whose new price is still to be pushed waits behind the prices (a restock must not sell at the
#: old price: Amazon's selling-partner-api-models#4901), kept apart as ``LATE_STOCK`` while planning
OP_ORDER = (Operation.DELIST, Operation.STOCK, Operation.PUBLISH, Operation.RELIST, Operation.PRICE)
MAX_BACKOFF = timedelta(hours=1)
#: revisions kept in reserve on marketplaces with a per-listing daily cap, for a quantity-to-zero
REVISION_RESERVE = 2


def now_utc() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------ desired state
def _chunks(values: Sequence[Any], size: int = 2000) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def compute_desired(
    session: Session, channel: ChannelConfig, listings: Sequence[ChannelListing], today: datetime | None = None
) -> dict[int, Desired]:
    """Desired values for the given listings of one channel, keyed by listing id."""
    day = (today or now_utc()).date()
    sku_ids = sorted({row.sku_id for row in listings})
    skus: dict[int, tuple[Sku, Product]] = {}
    for chunk in _chunks(sku_ids):
        for sku, product in session.execute(
            select(Sku, Product).join(Product, Sku.product_id == Product.id).where(Sku.id.in_(chunk))
        ):
            skus[sku.id] = (sku, product)
    warehouse_ids = {
        wid for wid, code in session.execute(select(Warehouse.id, Warehouse.code)) if code in channel.warehouses
    }
    levels: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for chunk in _chunks(sku_ids):
        for sku_id, wid, on_hand, reserved in session.execute(
            select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved).where(
                StockLevel.sku_id.in_(chunk)
            )
        ):
            if wid in warehouse_ids:
                levels[sku_id].append((on_hand, reserved))
    rates: dict[str, Decimal | fx.MissingRate] = {}
    texts = content.ContentContext.load(session, channel, {p.id for _, p in skus.values()}, sku_ids)
    out: dict[int, Desired] = {}
    for listing in listings:
        sku, product = skus[listing.sku_id]
        quantity = rules.channel_quantity(levels.get(sku.id, []), channel.stock) if sku.active else 0
        digest = content.content_hash(product, sku, channel, texts)
        if sku.currency not in rates:
            try:
                rates[sku.currency] = fx.rate(session, sku.currency, channel.currency, day)
            except fx.MissingRate as exc:
                rates[sku.currency] = exc
        rate = rates[sku.currency]
        if isinstance(rate, fx.MissingRate):
            out[listing.id] = Desired(None, quantity, digest, str(rate))
            continue
        price = rules.channel_price(
            sku.base_price,
            channel.price,
            currency=channel.currency,
            fx_rate=rate,
            cost=sku.cost,
            override=listing.price_override,
        )
        out[listing.id] = recompute.bounded(price, channel.currency, quantity, digest)
    return out


def refresh(
    session: Session,
    channels: Sequence[ChannelConfig],
    sku_ids: Iterable[int] | None = None,
    *,
    channel_names: Iterable[str] | None = None,
) -> int:
    """Recompute desired values of the listings of ``sku_ids`` (all listings when None: the full
    recompute for rule changes and the nightly safety net). Returns how many became dirty."""
    ids = None if sku_ids is None else sorted(set(sku_ids))
    if ids is not None and not ids:
        return 0
    wanted_channels = set(channel_names) if channel_names is not None else None
    channel_rows: dict[str, int] = {name: cid for name, cid in session.execute(select(Channel.name, Channel.id))}
    selected = [
        (config, channel_rows[config.name])
        for config in channels
        if config.name in channel_rows and (wanted_channels is None or config.name in wanted_channels)
    ]
    session.flush()  # the pass reads with Core: pending ORM changes first
    lock_listings_of(session, ids, [channel_id for _, channel_id in selected])
    now = now_utc()
    return recompute.refresh_channels(session, selected, ids, now.date(), now)


def ensure_listings(
    session: Session, channel: ChannelConfig, sku_ids: Iterable[int], *, wanted: str = "active"
) -> tuple[int, int]:
    """Create (or re-want) listings of SKUs on a channel and compute their desired values.
    Returns (created, changed)."""
    channel_id = session.scalar(select(Channel.id).where(Channel.name == channel.name))
    if channel_id is None:
        raise ConfigurationError(f"channel {channel.name!r} is not in the database yet: run `syncer init`")
    ids = sorted(set(sku_ids))
    existing: dict[int, ChannelListing] = {}
    for chunk in _chunks(ids):
        for found in session.scalars(
            select(ChannelListing).where(ChannelListing.channel_id == channel_id, ChannelListing.sku_id.in_(chunk))
        ):
            existing[found.sku_id] = found
    created = changed = 0
    for sku_id in ids:
        row = existing.get(sku_id)
        if row is None:
            if wanted != "active":
                continue
            session.add(ChannelListing(channel_id=channel_id, sku_id=sku_id, wanted="active", status="new", version=1))
            created += 1
        elif row.wanted != wanted:
            row.wanted = wanted
            row.version += 1
            row.status, row.attempts, row.next_try_at = "dirty", 0, None
            changed += 1
    session.flush()
    refresh(session, [channel], ids, channel_names=[channel.name])
    return created, changed


# ---------------------------------------------------------------------------------------------- plan
@dataclass(slots=True)
class PlannedItem:
    listing_id: int
    sku_id: int
    sku: str
    version: int
    op: Operation
    value: Any  # the value pushed: price Decimal, quantity int, content hash, or wanted state
    payload: Any  # the adapter's input (draft, update or request)
    group: tuple[int, ...] = ()  # listing ids a publish draft covers (its variations)
    sale: tuple[int, str] | None = None  # a native sale's id and the state a success moves it to


@dataclass(frozen=True, slots=True)
class StockState:
    """A stock push that also moves the listing's state: a SKU delisted as quantity 0 (``zeroed``),
    or one back on sale from there (``active``)."""

    quantity: int
    state: str

    def __str__(self) -> str:  # as the history shows a quantity pushed
        return str(self.quantity)


def _quantity(value: Any) -> int:
    """The quantity a stock item pushes."""
    return value.quantity if isinstance(value, StockState) else int(value or 0)


@dataclass(slots=True)
class Plan:
    channel: str
    batches: list[tuple[Operation, list[PlannedItem]]] = field(default_factory=list)
    deferred: list[tuple[str, str]] = field(default_factory=list)  # (sku, why)
    refused: list[tuple[int, str, str, str]] = field(default_factory=list)  # (listing id, sku, code, why)
    estimate: dict[str, int] = field(default_factory=dict)  # operation -> API calls (adapter.estimate_calls)
    notes: list[str] = field(default_factory=list)  # how batches are written and why (adapter.write_path)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for op, items in self.batches:
            out[op.value] += len(items)
        return dict(out)

    def calls(self) -> dict[str, int]:
        """API calls per operation, as the adapter estimates each batch (``ChannelAdapter.estimate_calls``,
        the one estimate previews and the bench use too); order pulls and token calls not included."""
        return dict(self.estimate)

    @property
    def items(self) -> int:
        return sum(len(items) for _, items in self.batches)


def _ref(listing: Any) -> ListingRef | None:
    if not listing.ref:
        return None
    return ListingRef(listing.ref.get("sku") or "", listing.ref.get("external_id"), listing.ref.get("ids") or {})


def _ref_json(ref: ListingRef | None, sku: str) -> dict[str, Any]:
    if ref is None:
        return {}
    return {"sku": ref.sku or sku, "external_id": ref.external_id, "ids": dict(ref.ids)}


def due_count(session: Session, channel: str, now: datetime | None = None) -> int:
    """Listings of the channel a push would take now (new, dirty, or a retry whose time has come)."""
    now = now or now_utc()
    return int(
        session.scalar(
            select(func.count())
            .select_from(ChannelListing)
            .join(Channel, Channel.id == ChannelListing.channel_id)
            .where(
                Channel.name == channel,
                ChannelListing.status.in_(PENDING),
                or_(ChannelListing.next_try_at.is_(None), ChannelListing.next_try_at <= now),
            )
        )
        or 0
    )


def revisions_used_today(session: Session, channel_id: int, timezone: str, now: datetime) -> dict[str, int]:
    """Successful pushes per SKU on this channel since the start of the marketplace's day (each one is a
    revision of that listing), from the recorded sync results."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    start = datetime.combine(local.date(), datetime.min.time(), tzinfo=zone).astimezone(UTC)
    query = (
        select(Sku.sku, func.count())
        .select_from(SyncResult)
        .join(ChannelListing, ChannelListing.id == SyncResult.listing_id)
        .join(Sku, Sku.id == ChannelListing.sku_id)
        .where(ChannelListing.channel_id == channel_id, SyncResult.ok.is_(True), SyncResult.created_at >= start)
        .group_by(Sku.sku)
    )
    return dict(session.execute(query).all())


def build_plan(
    session: Session,
    channel: ChannelConfig,
    adapter: ChannelAdapter,
    *,
    now: datetime | None = None,
    only_skus: Iterable[int] | None = None,
    only_listings: Iterable[int] | None = None,
    stock_only: bool = False,
) -> Plan:
    """Group the channel's due dirty listings by operation and chunk them by the adapter's limits.

    ``stock_only``: only the quantity pushes that may go first (see :func:`stock_first`) of listings on
    sale, whatever else they wait for: the stock lane's plan."""
    now = now or now_utc()
    plan = Plan(channel.name)
    channel_id = session.scalar(select(Channel.id).where(Channel.name == channel.name))
    if channel_id is None:
        return plan
    query = (
        select(*_PLAN_COLUMNS, Sku.id.label("sku_pk"), Sku.sku.label("sku_code"), Sku.product_id.label("product_pk"))
        .join(Sku, ChannelListing.sku_id == Sku.id)
        .join(Product, Sku.product_id == Product.id)
        .where(*_due(channel_id, now))
        .order_by(Product.key, Sku.sku)
    )
    if only_skus is not None:
        query = query.where(ChannelListing.sku_id.in_(list(only_skus)))
    if only_listings is not None:
        query = query.where(ChannelListing.id.in_(list(only_listings)))
    if stock_only:
        query = query.where(*_QUANTITY_DUE)
    if adapter.limits.daily_revisions or adapter.daily_call_budget is not None:
        adapter.seed_revisions(revisions_used_today(session, channel_id, adapter.revision_timezone, now))
    planner = _Planner(plan, channel, adapter, now=now, sales=_native_sales(session, channel_id))
    # narrow Core rows (no ORM result processing); ORM objects only for the drafts of content changes
    for row in session.connection().execute(query).all():
        key = _SkuKey(row.sku_pk, row.sku_code, row.product_pk)
        if not stock_only:
            planner.add(row, key)
        elif (ref := _ref(row)) is not None and stock_first(row):
            planner.stock(row, key, ref, adapter.revision_budget(key.sku))
    planner.delists(session, channel_id)
    planner.drafts(session)
    planner.batches()
    return plan


def _due(channel_id: int, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The channel's listings a push takes now: pending, and not waiting for a retry."""
    return (
        ChannelListing.channel_id == channel_id,
        ChannelListing.status.in_(PENDING),
        or_(ChannelListing.next_try_at.is_(None), ChannelListing.next_try_at <= now),
    )


#: a due listing whose quantity alone can be pushed: on sale (published, wanted, a price) and its quantity off
_QUANTITY_DUE = (
    ChannelListing.wanted == "active",
    ChannelListing.pushed_state == "active",
    ChannelListing.desired_price.is_not(None),
    ChannelListing.desired_quantity.is_not(None),
    ChannelListing.desired_quantity.is_distinct_from(ChannelListing.pushed_quantity),
)


def quantity_due(session: Session, channel: str, now: datetime | None = None) -> list[tuple[int, int]]:
    """(listing id, version) of the channel's due quantity pushes that the stock lane may send (one query
    on the channel's pending listings: what the lane asks every ``stock_lane_seconds``)."""
    channel_id = session.scalar(select(Channel.id).where(Channel.name == channel))
    if channel_id is None:
        return []
    query = select(
        ChannelListing.id,
        ChannelListing.version,
        ChannelListing.desired_quantity,
        ChannelListing.pushed_quantity,
        ChannelListing.desired_price,
        ChannelListing.pushed_price,
    ).where(*_due(channel_id, now or now_utc()), *_QUANTITY_DUE)
    return [(row.id, row.version) for row in session.execute(query) if stock_first(row)]


#: what planning reads of a listing (a row of these columns stands for the listing in :class:`_Planner`)
_PLAN_COLUMNS = (
    ChannelListing.id,
    ChannelListing.wanted,
    ChannelListing.ref,
    ChannelListing.version,
    ChannelListing.desired_price,
    ChannelListing.desired_quantity,
    ChannelListing.desired_content_hash,
    ChannelListing.pushed_price,
    ChannelListing.pushed_quantity,
    ChannelListing.pushed_content_hash,
    ChannelListing.pushed_state,
)


@dataclass(frozen=True, slots=True)
class _SkuKey:
    """What planning needs of a SKU; the full SKU and product are read only for a publish draft."""

    id: int
    sku: str
    product_id: int


def _native_sales(session: Session, channel_id: int) -> dict[int, NativeSale]:
    """The channel's native sales still to send, on the marketplace, or to clear, by listing id (the
    latest one per listing)."""
    query = (
        select(NativeSale)
        .join(ChannelListing, ChannelListing.id == NativeSale.listing_id)
        # channel_id + 0 is no index term: the join goes from the few live sales (their state index) to
        # their listings, not from each of the channel's listings to its sales (1M probes at 1M SKUs)
        .where((ChannelListing.channel_id + 0) == channel_id, NativeSale.state.in_(("pending", "on", "ended", "clear")))
        .order_by(NativeSale.id)
    )
    return {sale.listing_id: sale for sale in session.scalars(query)}


def sale_price_update(
    sku: str, ref: ListingRef | None, desired: Decimal, currency: str, sale: NativeSale | None, now: datetime
) -> tuple[PriceUpdate, str | None]:
    """The price push of a listing that may carry a native sale, and the state a success moves the sale to.

    Dated: the regular price with the sale and its dates while the listing's price is the regular or the
    promotion's one and the window has not ended (the marketplace switches; the start and the end only
    send it again); once it ended, the regular price and the sale cleared. Compare-at: the promotion's price
    with the regular one struck through. A price other than both (changed by hand, or the start planned a
    different one) clears the sale: the later change wins, as the end's revert does."""
    money = lambda amount: Money(amount, currency)  # noqa: E731
    if sale is None:
        return PriceUpdate(sku, money(desired), ref), None
    regular, promo = sale.regular_price, sale.sale_price
    if sale.state != "clear" and desired in (regular, promo):
        if sale.kind == "dated":
            if sale.state != "ended" and now < sale.ends_at:
                window = SaleWindow(money(promo), sale.starts_at, sale.ends_at)
                return PriceUpdate(sku, money(regular), ref, sale=window), "on"
            # ended (on the marketplace, or our worker ran its end): keep the regular price, never push the
            # promotion's as regular
            return PriceUpdate(sku, money(regular), ref, clear_sale=True), sale.state if desired == promo else "off"
        if desired == promo:
            return PriceUpdate(sku, money(promo), ref, list_price=money(regular)), "on"
        if now < sale.starts_at:
            return PriceUpdate(sku, money(desired), ref), None
    return PriceUpdate(sku, money(desired), ref, clear_sale=True), "off"


class _Planner:
    """Sorts one channel's due listings into operations: delist, publish (one draft per product),
    relist, price, stock, or a clean-up without an API call; then batches them by the adapter's limits."""

    def __init__(
        self,
        plan: Plan,
        channel: ChannelConfig,
        adapter: ChannelAdapter,
        *,
        now: datetime,
        sales: Mapping[int, NativeSale] | None = None,
    ) -> None:
        self.plan, self.channel, self.adapter = plan, channel, adapter
        self.now, self.sales = now, dict(sales or {})
        self.ops: dict[Operation, list[PlannedItem]] = defaultdict(list)
        self.late_stock: list[PlannedItem] = []  # quantities raised while their new price is pending
        self.publish_groups: dict[int, list[tuple[Any, _SkuKey]]] = defaultdict(list)
        self.zero_stock = registry.delist_sku_as(channel) == "zero_stock"
        self.delisted: list[tuple[Any, _SkuKey]] = []  # under zero_stock: sorted by item in delists()

    def add(self, listing: Any, sku: _SkuKey) -> None:
        """Plan one due listing (a row of :data:`_PLAN_COLUMNS`)."""
        if listing.desired_price is None and listing.wanted == "active":
            return  # parked for a missing FX rate; refresh() un-parks it
        budget = self.adapter.revision_budget(sku.sku)
        ref = _ref(listing)
        if listing.wanted == "delisted" and self.zero_stock:
            self.delisted.append((listing, sku))
        elif listing.wanted == "delisted":
            taken_down = not (listing.pushed_state == "active" or (ref is not None and listing.pushed_state is None))
            self.queue(Operation.DELIST, listing, sku, "delisted", None if taken_down else DelistRequest(sku.sku, ref))
        elif ref is None or listing.desired_content_hash != listing.pushed_content_hash:
            if self.defer(sku, budget, REVISION_RESERVE, "content update"):
                return
            self.publish_groups[sku.product_id].append((listing, sku))
        else:
            self.update(listing, sku, ref, budget)

    def update(self, listing: Any, sku: _SkuKey, ref: ListingRef, budget: int | None) -> None:
        """A published listing: relist it, push its price and its quantity, whichever differ."""
        queued = False
        if listing.pushed_state in ("delisted", None):  # None: a relist or delist failed, its outcome unknown
            relist = DelistRequest(sku.sku, ref, quantity=listing.desired_quantity)
            self.queue(Operation.RELIST, listing, sku, "active", relist)
            queued = True
        sale = self.sales.get(listing.id)
        if listing.desired_price != listing.pushed_price or (sale is not None and sale.state in ("pending", "clear")):
            if not self.defer(sku, budget, REVISION_RESERVE, "price change"):
                update, state = sale_price_update(
                    sku.sku, ref, _pushed_price(listing), self.channel.currency, sale, self.now
                )
                self.queue(Operation.PRICE, listing, sku, listing.desired_price, update)
                if sale is not None and state is not None:
                    self.ops[Operation.PRICE][-1].sale = (sale.id, state)
            queued = True
        zeroed = listing.pushed_state == ZEROED  # on sale again: its quantity goes back up
        if listing.desired_quantity != listing.pushed_quantity or zeroed:
            self.stock(listing, sku, ref, budget, zeroed=zeroed)
            queued = True
        if not queued:  # a new version that restored the pushed values: mark it clean, no API call
            self.queue(Operation.PRICE, listing, sku, listing.desired_price, None)

    def delists(self, session: Session, channel_id: int) -> None:
        """Under ``delist_sku_as = "zero_stock"``: a delisted SKU whose item has SKUs still on sale here
        is pushed quantity 0 and stays listed (``zeroed``); once every SKU of the item is delisted, the
        item is taken down whole, the SKUs zeroed before included."""
        if not self.delisted:
            return
        due = {listing.id for listing, _ in self.delisted}
        products = sorted({sku.product_id for _, sku in self.delisted})
        items: dict[int, list[tuple[Any, _SkuKey]]] = defaultdict(list)
        columns = (
            *_PLAN_COLUMNS,
            Sku.id.label("sku_pk"),
            Sku.sku.label("sku_code"),
            Sku.product_id.label("product_pk"),
        )
        for chunk in _chunks(products):
            query = (
                select(*columns)
                .join(Sku, ChannelListing.sku_id == Sku.id)
                .where(ChannelListing.channel_id == channel_id, Sku.product_id.in_(chunk))
            )
            for row in session.execute(query):
                items[row.product_pk].append((row, _SkuKey(row.sku_pk, row.sku_code, row.product_pk)))
        for listing, sku in self.delisted:
            whole = all(other.wanted == "delisted" for other, _ in items[sku.product_id])
            self.delist(listing, sku, whole)
        for product_id in products:  # an item taken down whole: its SKUs zeroed before go with it
            if all(other.wanted == "delisted" for other, _ in items[product_id]):
                for other, sku in items[product_id]:
                    if other.id not in due and other.pushed_state == ZEROED:
                        self.delist(other, sku, True)

    def delist(self, listing: Any, sku: _SkuKey, whole: bool) -> None:
        ref = _ref(listing)
        listed = listing.pushed_state in ("active", ZEROED) or (ref is not None and listing.pushed_state is None)
        if whole:
            self.queue(Operation.DELIST, listing, sku, "delisted", DelistRequest(sku.sku, ref) if listed else None)
        elif listed and listing.pushed_state != ZEROED and ref is not None:
            stock = StockUpdate(sku.sku, 0, ref, expected=listing.pushed_quantity)
            self.queue(Operation.STOCK, listing, sku, StockState(0, ZEROED), stock)
        else:  # already off sale (zeroed before, or never published): nothing to call
            self.queue(Operation.STOCK, listing, sku, StockState(0, listing.pushed_state or ZEROED), None)

    def stock(self, listing: Any, sku: _SkuKey, ref: ListingRef, budget: int | None, *, zeroed: bool = False) -> None:
        """Queue a published listing's quantity (``zeroed``: back on sale after a zero-stock delist): first,
        unless it raises the quantity while the new price is still to be pushed (then after the prices)."""
        reserve = 0 if listing.desired_quantity == 0 else REVISION_RESERVE  # selling out goes first
        if self.defer(sku, budget, reserve, "stock change"):
            return
        quantity = listing.desired_quantity or 0
        stock = StockUpdate(sku.sku, quantity, ref, expected=listing.pushed_quantity)
        value = StockState(quantity, "active") if zeroed else listing.desired_quantity
        item = PlannedItem(listing.id, sku.id, sku.sku, listing.version, Operation.STOCK, value, stock)
        (self.ops[Operation.STOCK] if stock_first(listing) else self.late_stock).append(item)

    def defer(self, sku: _SkuKey, budget: int | None, reserve: int, what: str) -> bool:
        """True (noted in the plan) when the listing's revisions left today are within the reserve."""
        if budget is not None and budget <= reserve:
            self.plan.deferred.append((sku.sku, f"only {budget} revisions left today; {what} deferred"))
            return True
        return False

    def queue(self, op: Operation, listing: Any, sku: _SkuKey, value: Any, payload: Any) -> None:
        self.ops[op].append(PlannedItem(listing.id, sku.id, sku.sku, listing.version, op, value, payload))

    def drafts(self, session: Session) -> None:
        """One publish draft per product of the listings whose content changed (refused: parked)."""
        if not self.publish_groups:
            return
        products = _by_id(session, Product, list(self.publish_groups))
        skus = _by_id(session, Sku, [sku.id for members in self.publish_groups.values() for _, sku in members])
        texts = content.ContentContext.for_products(session, self.channel, products.values())
        for product_id, members in self.publish_groups.items():
            inputs = [
                content.ListingInput(skus[sku.id], _pushed_price(listing), listing.desired_quantity or 0, _ref(listing))
                for listing, sku in members
            ]
            try:
                draft = content.build_draft(products[product_id], inputs, self.channel, texts)
            except content.ContentProblem as exc:
                self.plan.refused.extend((listing.id, sku.sku, exc.code, str(exc)) for listing, sku in members)
                continue
            captured = {
                listing.id: (
                    listing.desired_price,
                    listing.desired_quantity,
                    listing.desired_content_hash,
                    listing.version,
                )
                for listing, _ in members
            }
            head, head_sku = members[0]
            group = tuple(listing.id for listing, _ in members)
            self.ops[Operation.PUBLISH].append(
                PlannedItem(head.id, head_sku.id, draft.sku, head.version, Operation.PUBLISH, captured, draft, group)
            )

    def batches(self) -> None:
        """Operations in order, each chunked by the adapter; items without a payload need no call."""
        # zero-stock first: the costliest failure is selling what is gone
        self.ops[Operation.STOCK].sort(key=lambda item: _quantity(item.value) != 0)
        steps = [(op, self.ops.get(op, [])) for op in OP_ORDER] + [(Operation.STOCK, self.late_stock)]
        for op, planned in steps:
            real = [item for item in planned if item.payload is not None]
            noop = [item for item in planned if item.payload is None]
            if noop:
                self.plan.batches.append((op, noop))  # write-back only, no API call
            # adapters chunk their own input objects (updates, drafts); map each chunk back to its plan items
            by_payload = {id(item.payload): item for item in real}
            for chunk in self.adapter.chunks(op, [item.payload for item in real]):
                self.plan.batches.append((op, [by_payload[id(payload)] for payload in chunk]))
                calls = self.adapter.estimate_calls(op, chunk)
                self.plan.estimate[op.value] = self.plan.estimate.get(op.value, 0) + calls
                note = self.adapter.write_path(op, chunk)
                if note:
                    self.plan.notes.append(note)


def stock_first(listing: Any) -> bool:
    """Whether a listing's quantity push may go ahead of price pushes: it lowers the quantity (or the
    marketplace's is unknown), or the listing's price is already in step. A raise waits for its price."""
    pushed = listing.pushed_quantity
    desired = listing.desired_quantity or 0
    return pushed is None or desired < pushed or listing.desired_price == listing.pushed_price


def _by_id(session: Session, model: type[Any], ids: list[int]) -> dict[int, Any]:
    """ORM objects of ``model`` by id, read in chunks."""
    out: dict[int, Any] = {}
    for chunk in _chunks(sorted(set(ids))):
        out.update((row.id, row) for row in session.scalars(select(model).where(model.id.in_(chunk))))
    return out


def _pushed_price(listing: Any) -> Decimal:
    """The desired price of a listing that is pushed (one without a price, waiting for an FX rate, is
    never planned)."""
    price = listing.desired_price
    assert price is not None, f"listing {listing.id} has no desired price"
    return price


# -------------------------------------------------------------------------------------------- push
@dataclass(slots=True)
class PushReport:
    channel: str
    ok: int = 0
    failed: int = 0
    retry: int = 0
    parked: int = 0
    submitted: int = 0
    api_calls: int = 0
    batches: int = 0
    aborted: str | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    held: int = 0  # quantity pushes held back (still dirty) because the order pull before them failed
    busy: bool = False  # not run: another process holds the channel's lease (``aborted`` says who)

    def add(self, batch: PushReport) -> None:
        """Count one written batch in (the push's thread and its stock lane both do)."""
        with _REPORT_LOCK:
            self.batches += 1
            for name in ("ok", "failed", "retry", "parked", "submitted"):
                setattr(self, name, getattr(self, name) + getattr(batch, name))
            self.errors.extend(batch.errors)


_REPORT_LOCK = threading.Lock()


def _backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=30 * 2 ** max(0, attempts - 1)))


def _call(adapter: ChannelAdapter, op: Operation, items: list[PlannedItem]) -> list[ItemResult]:
    payloads = [item.payload for item in items]
    methods: dict[Operation, Callable[[Any], list[ItemResult]]] = {
        Operation.PUBLISH: adapter.publish,
        Operation.PRICE: adapter.push_prices,
        Operation.STOCK: adapter.push_stock,
        Operation.DELIST: adapter.delist,
        Operation.RELIST: adapter.relist,
    }
    results = methods[op](payloads)
    if len(results) != len(items):
        raise ChannelError(
            f"adapter {adapter.kind} returned {len(results)} results for {len(items)} items of {op.value}"
        )
    return results


def _pushed_values(op: Operation, item: PlannedItem, listing_id: int) -> tuple[dict[str, Any], int]:
    """The pushed_* columns a success sets, and the version it proves clean."""
    if op is Operation.PUBLISH:
        price, quantity, digest, version = item.value[listing_id]
        return {
            "pushed_price": price,
            "pushed_quantity": quantity,
            "pushed_content_hash": digest,
            "pushed_state": "active",
        }, version
    if op is Operation.PRICE:
        return {"pushed_price": item.value}, item.version
    if op is Operation.STOCK and isinstance(item.value, StockState):
        return {"pushed_quantity": item.value.quantity, "pushed_state": item.value.state}, item.version
    if op is Operation.STOCK:
        return {"pushed_quantity": item.value}, item.version
    if op is Operation.DELIST:
        return {"pushed_state": "delisted"}, item.version
    values: dict[str, Any] = {"pushed_state": "active"}
    if isinstance(item.payload, DelistRequest) and item.payload.quantity is not None:
        values["pushed_quantity"] = item.payload.quantity
    return values, item.version


def write_results(
    session: Session, run_id: int | None, op: Operation, items: list[PlannedItem], results: Sequence[ItemResult | None]
) -> PushReport:
    """Record one batch's outcome (one transaction): pushed values, clean-if-unchanged, retry or park.

    ``None`` as a result means the item needed no API call (its values already match)."""
    report = PushReport(channel="")
    table = table_of(ChannelListing)
    now = now_utc()
    _lock_listings(session, [listing_id for item in items for listing_id in (item.group or (item.listing_id,))])
    pushed: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)  # written in bulk, by column set
    cleaned: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    sales: list[dict[str, Any]] = []
    for item, result in zip(items, results, strict=True):
        ids = item.group or (item.listing_id,)
        if result is not None and result.ok and item.sale is not None:
            sales.append({"b_id": item.sale[0], "b_state": item.sale[1], "b_now": now})
        if result is None or result.ok:
            submitted = result is not None and result.state == "submitted"
            for listing_id in ids:
                values, version = _pushed_values(op, item, listing_id)
                if result is not None:
                    values["last_pushed_at"] = now
                    if "pushed_quantity" in values:  # the marketplace's quantity is ours as of now
                        values["quantity_pushed_at"] = now
                    if result.ref is not None:
                        values["ref"] = _ref_json(result.ref, item.sku)
                        values["external_id"] = result.ref.external_id
                pushed[tuple(sorted(values))].append({"b_id": listing_id, **{f"b_{k}": v for k, v in values.items()}})
                cleaned.append(
                    {"b_id": listing_id, "b_version": version, "b_status": "submitted" if submitted else "clean"}
                )
                report.ok += 1
                report.submitted += int(submitted)
                if result is not None:
                    _history(history, run_id, listing_id, op, True, result.state, item)
            continue
        for listing_id in ids:
            listing = session.get(ChannelListing, listing_id)
            assert listing is not None
            attempts = listing.attempts + 1
            if result.retryable:
                wait = max(_backoff(attempts), timedelta(seconds=result.retry_after or 0))
                values = {"status": "retry", "next_try_at": now + wait}
                report.retry += 1
            else:
                values = {"status": "parked", "next_try_at": None}
                report.parked += 1
            session.execute(
                update(table)
                .where(table.c.id == listing_id, table.c.status.in_(PENDING))
                .values(attempts=attempts, last_error_code=result.code, last_error=result.message, **values)
            )
            session.execute(_forget_statement(_SENT_COLUMNS[op]), {"b_id": listing_id})
            report.failed += 1
            report.errors.append((item.sku, f"{op.value}: {result.code}: {result.message}"))
            _history(history, run_id, listing_id, op, False, result.state, item, result.code, result.message)
    _write_pushed(session, pushed, cleaned)
    if sales:
        sale_table = table_of(NativeSale)
        session.connection().execute(
            update(sale_table)
            .where(sale_table.c.id == bindparam("b_id"))
            .values(state=bindparam("b_state"), updated_at=bindparam("b_now", type_=sale_table.c.updated_at.type)),
            sales,
        )
    if history:
        session.connection().execute(insert(table_of(SyncResult)), history)
    return report


def _write_pushed(
    session: Session, pushed: dict[tuple[str, ...], list[dict[str, Any]]], cleaned: list[dict[str, Any]]
) -> None:
    """The successes of a batch in a few executemany statements: the pushed values (one statement per set
    of columns), then clean each listing ONLY if nobody changed it since the plan captured it."""
    connection = session.connection()
    for columns, rows in pushed.items():
        connection.execute(_pushed_statement(columns), rows)
    if cleaned:
        connection.execute(_clean_statement(), cleaned)
        connection.execute(_redirty_statement(), [{"b_id": row["b_id"]} for row in cleaned])


#: the pushed columns an operation writes: after it FAILS the marketplace may hold the values sent or the old
#: ones (a timeout, a dropped connection, a 5xx or an item error after the change was applied all look the
#: same), so they become unknown (NULL) and the next plan sends the desired values whatever they are; were
#: they kept, a desired value that came back to the old one would be marked clean without a call
_SENT_COLUMNS = {
    Operation.STOCK: ("pushed_quantity",),
    Operation.PRICE: ("pushed_price",),
    Operation.PUBLISH: ("pushed_price", "pushed_quantity", "pushed_content_hash"),
    Operation.RELIST: ("pushed_quantity", "pushed_state"),  # state unknown: relisted or delisted again
    Operation.DELIST: ("pushed_state",),
}


@functools.cache
def _forget_statement(columns: tuple[str, ...]) -> Update:
    """After a failed call: the columns it may have changed on the marketplace become unknown, whatever the
    listing's status (a stock lane may have cleaned it meanwhile), and a clean listing is dirty again."""
    table = table_of(ChannelListing)
    settled = or_(table.c.status == "clean", table.c.status == "submitted")
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({name: None for name in columns} | {"status": case((settled, "dirty"), else_=table.c.status)})
    )


@functools.cache
def _redirty_statement() -> Update:
    """A listing clean (or submitted) whose pushed values, just written, are not its desired ones is dirty
    again: a push planned earlier can land after a later one of the same listing (the stock lane sends a
    newer quantity while the backlog's batch with the older one is in flight); its pushed values are then
    the marketplace's, and the next push must put the desired ones back."""
    table = table_of(ChannelListing)
    return (
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            or_(table.c.status == "clean", table.c.status == "submitted"),  # no IN: an executemany
            ~_all_pushed(table),
        )
        .values(status="dirty", attempts=0, next_try_at=None)
    )


@functools.cache
def _pushed_statement(columns: tuple[str, ...]) -> Update:
    """The UPDATE of one set of pushed columns, built once (it is the same for every batch)."""
    table = table_of(ChannelListing)
    values = {name: bindparam(f"b_{name}", type_=table.c[name].type) for name in columns}
    return update(table).where(table.c.id == bindparam("b_id")).values(values)


@functools.cache
def _clean_statement() -> Update:
    """Clean a listing ONLY if nobody changed it since the plan captured it (built once)."""
    table = table_of(ChannelListing)
    return (
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            or_(*(table.c.status == status for status in PENDING)),  # no IN: an executemany takes no lists
            table.c.version == bindparam("b_version"),
            _all_pushed(table),
        )
        # the last error goes only with the listing's last pending push: one operation succeeding (its
        # stock) must not erase why another (its price) failed, nor that failure's backoff
        .values(
            status=bindparam("b_status"),
            pushed_version=bindparam("b_version"),
            attempts=0,
            next_try_at=None,
            last_error=None,
            last_error_code=None,
        )
    )


def _lock_listings(session: Session, ids: Iterable[int]) -> None:
    """Lock listing rows in id order (the order every writer of listings takes them in). Nothing on SQLite:
    it has one writer at a time and no row locks, so the read locked nothing (and was 9% of the CPU of a
    10k-SKU calls bench)."""
    if session.get_bind().dialect.name == "sqlite":
        return
    wanted = sorted(set(ids))
    for chunk in _chunks(wanted):
        session.execute(
            select(ChannelListing.id).where(ChannelListing.id.in_(chunk)).order_by(ChannelListing.id).with_for_update()
        ).all()


def lock_listings_of(session: Session, sku_ids: Sequence[int] | None, channel_ids: Sequence[int] | None = None) -> None:
    """Lock the listings of these SKUs (every listing when None) on these channels (all when None) until the
    transaction ends, in listing id order: the one order every writer of listings takes them in (after the
    stock levels, see :func:`syncer.stock.lock_levels`). Concurrent recomputes, bulk changes and push
    write-backs on the same listings then apply one after the other on committed values, and never
    deadlock. (SQLite has one writer at a time; there this reads and locks nothing more.)"""
    if session.get_bind().dialect.name == "sqlite":
        return  # see _lock_listings
    query = select(ChannelListing.id)
    if channel_ids is not None:
        query = query.where(ChannelListing.channel_id.in_(list(channel_ids)))
    if sku_ids is None:  # every listing: locked in the database, none of the ids fetched (6M at 1M SKUs)
        locked = query.order_by(ChannelListing.id).with_for_update().subquery()
        session.execute(select(func.count()).select_from(locked)).scalar_one()
        return
    ids: list[int] = []
    for chunk in _chunks(sorted(set(sku_ids))):
        ids.extend(session.scalars(query.where(ChannelListing.sku_id.in_(chunk))))
    _lock_listings(session, ids)


def _all_pushed(table: Table) -> ColumnElement[bool]:
    """The listing is in step with the channel: every pushed value is the desired one; or it is wanted
    delisted and is off the channel (or never was on it), whatever its price and quantity would be."""
    c = table.c
    return or_(
        and_(  # no IN: the clean-up is an executemany, which takes no lists
            c.wanted == "delisted",
            or_(c.pushed_state == "delisted", c.pushed_state == ZEROED, c.pushed_state.is_(None)),
        ),
        and_(
            c.pushed_price.is_not_distinct_from(c.desired_price),
            c.pushed_quantity.is_not_distinct_from(c.desired_quantity),
            c.pushed_content_hash.is_not_distinct_from(c.desired_content_hash),
            c.pushed_state == c.wanted,
        ),
    )


def _history(
    rows: list[dict[str, Any]],
    run_id: int | None,
    listing_id: int,
    op: Operation,
    ok: bool,
    state: str,
    item: PlannedItem,
    code: str | None = None,
    message: str | None = None,
) -> None:
    if run_id is None:
        return
    value = item.value.get(listing_id, (None,))[0] if isinstance(item.value, dict) else item.value
    rows.append(
        {
            "run_id": run_id,
            "listing_id": listing_id,
            "operation": op.value,
            "ok": ok,
            "state": state,
            "value": None if value is None else str(value),
            "code": code,
            "message": (message or "")[:2000] or None,
            "created_at": now_utc(),
        }
    )


def _park_refused(session: Session, refused: list[tuple[int, str, str, str]]) -> None:
    table = table_of(ChannelListing)
    for listing_id, _sku, code, why in refused:
        session.execute(
            update(table)
            .where(table.c.id == listing_id, table.c.status.in_(PENDING))
            .values(status="parked", last_error_code=code, last_error=why, attempts=table.c.attempts + 1)
        )


def push_channel(
    session_factory: Callable[[], Any],
    channel: ChannelConfig,
    adapter: ChannelAdapter,
    *,
    user: str = "",
    progress: Callable[[int, int], None] | None = None,
    only_skus: Iterable[int] | None = None,
    before_stock: Callable[[], None] | None = None,
    stock_lane_seconds: float = 0.0,
    lane_pull: Callable[[], None] | None = None,
) -> PushReport:
    """Push one channel's dirty listings. Each batch's results commit in their own transaction.

    ``session_factory()`` returns a context manager yielding a session that commits on success.
    ``before_stock`` runs when the plan would push quantities (stock, publish, relist); the syncer pulls
    that channel's new orders there, and the plan is then built again so the quantities pushed account
    for them (only when a pull of the channel started or finished since the plan was built: one reused
    from before it, ``orders_pull_reuse_seconds``, is in the plan already). A pull that fails is
    contained here: the quantity pushes (stock, publish, relist) are held (they stay dirty) since they
    could not account for the orders not read, prices and delists go on, and the failure is in the
    report; auth and configuration errors stop the channel.

    ``stock_lane_seconds`` > 0: once the plan's own stock batches are done, a stock lane
    (:class:`_StockLane`) runs beside the remaining batches and sends, ahead of them, the quantity pushes
    that come up meanwhile (each after ``before_stock``), in the same run and rate budget. It also runs
    ``lane_pull`` each time: the channel's order pull when one is due (the order job cannot take the
    lease this push holds).
    """
    report = PushReport(channel=channel.name)
    planned_at = now_utc()
    with session_factory() as session:
        plan = build_plan(session, channel, adapter, only_skus=only_skus)
    if before_stock is not None and any(op in QUANTITY_OPS for op, _ in plan.batches):
        failure = _pull_first(channel, before_stock)
        with session_factory() as session:
            if failure is not None or orders_pulled_since(session, channel.name, planned_at):
                plan = build_plan(session, channel, adapter, only_skus=only_skus)
        if failure is not None:
            _hold_quantities(plan, failure, report)
    run_id = _start_run(session_factory, channel, user, plan, report)
    calls_before = adapter.api_calls
    total = plan.items
    done = 0
    if progress:
        progress(done, total)  # the bar has its total before the first batch
    lane: _StockLane | None = None
    try:
        with session_factory() as session:  # one session; each batch's results are one transaction of it
            for op, items in plan.batches:
                if lane is None and stock_lane_seconds > 0 and op is not Operation.STOCK:
                    work = _LaneWork(session_factory, channel, adapter, run_id, before_stock, lane_pull, report, plan)
                    lane = _StockLane(work)
                    lane.start(stock_lane_seconds)
                planned = len(items)
                if lane is not None and op is Operation.STOCK:
                    items = _still_planned(session, items)
                if items:
                    try:
                        leases.check_held()  # never push for a channel whose lease is no longer ours
                        results = _batch_results(channel, adapter, op, items)
                    except (AuthError, ConfigurationError, leases.LeaseLost) as exc:
                        report.aborted = str(exc)
                        log.error("[%s] sync stopped: %s", channel.name, exc)
                        break
                    written = write_results(session, run_id, op, items, results)
                    session.commit()
                    session.expunge_all()  # the next batch reads its listings afresh (others write them)
                    report.add(written)
                done += planned
                if progress:
                    progress(done, total)
    finally:
        if lane is not None:
            lane.stop()
    if lane is not None and lane.failure and not report.aborted:
        report.aborted = lane.failure
    report.api_calls = adapter.api_calls - calls_before
    _finish_run(session_factory, run_id, report)
    return report


def _still_planned(session: Session, items: list[PlannedItem]) -> list[PlannedItem]:
    """The items of a backlog's quantity batch whose listing is still at the planned version. One that moved
    (an order, a stock change) is the stock lane's to send with its new quantity: sent now, the planned one
    could land after the lane's and leave the marketplace selling units that are gone until the next sync."""
    current: dict[int, int] = {}
    for chunk in _chunks([item.listing_id for item in items]):
        query = select(ChannelListing.id, ChannelListing.version).where(ChannelListing.id.in_(chunk))
        current.update((listing_id, version) for listing_id, version in session.execute(query))
    kept = [item for item in items if current.get(item.listing_id) == item.version]
    if len(kept) < len(items):
        log.info(
            "[stock lane] %d planned quantity push(es) moved since the plan: left to the lane", len(items) - len(kept)
        )
    session.rollback()  # end the read's transaction: the lane writes these listings
    return kept


@dataclass
class _LaneWork:
    """One look of a push's stock lane: the quantity pushes that came up since the push's plan was built
    (a listing the plan pushes a quantity for is left to it while its version is the planned one)."""

    session_factory: Callable[[], Any]
    channel: ChannelConfig
    adapter: ChannelAdapter
    run_id: int
    before_stock: Callable[[], None] | None
    pull: Callable[[], None] | None
    report: PushReport
    plan: Plan
    pushed: int = 0
    held_until: float = 0.0

    def __post_init__(self) -> None:
        self.planned = {
            (listing_id, item.value[listing_id][3] if op is Operation.PUBLISH else item.version)
            for op, items in self.plan.batches
            if op in QUANTITY_OPS
            for item in items
            for listing_id in (item.group or (item.listing_id,))
        }

    def _due(self) -> list[int]:
        with self.session_factory() as session:
            due = quantity_due(session, self.channel.name)
        return [listing_id for listing_id, version in due if (listing_id, version) not in self.planned][:2000]

    def __call__(self) -> None:
        if time.monotonic() < self.held_until:
            return
        # the channel's own orders when due, and always before its quantities (invariant 6); a failed
        # pull holds the lane a while (its quantities stay dirty)
        if not (self._pulled(self.pull) and self._due() and self._pulled(self.before_stock)):
            return
        due = self._due()
        if not due:
            return
        with self.session_factory() as session:
            plan = build_plan(session, self.channel, self.adapter, only_listings=due, stock_only=True)
        for op, items in plan.batches:
            leases.check_held()
            with self.adapter.priority():  # ahead of the backlog in the channel's rate budget
                results = _batch_results(self.channel, self.adapter, op, items)
            with self.session_factory() as session:
                written = write_results(session, self.run_id, op, items, results)
            self.report.add(written)
            self.pushed += len(items)
        log.info("[%s] stock lane: %d quantity push(es) sent ahead of the backlog", self.channel.name, len(due))

    def _pulled(self, pull: Callable[[], None] | None) -> bool:
        """Run an order pull (None: nothing to run); False when it failed (the lane then waits 30 s)."""
        if pull is None:
            return True
        with self.adapter.priority():  # the lane's pulls go ahead of the backlog too (Shopify: 500 points)
            failure = _pull_first(self.channel, pull)
        if failure is not None:
            self.held_until = time.monotonic() + 30
            return False
        return True


class _StockLane:
    """A thread beside a long push that runs :class:`_LaneWork` every few seconds under the push's lease."""

    def __init__(self, work: _LaneWork) -> None:
        self.work = work
        self.failure: str | None = None
        self._leases = leases.held_leases()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._open = contextlib.ExitStack()

    def start(self, seconds: float) -> None:
        name = f"stock lane {self.work.channel.name}"
        self._open.enter_context(self.work.adapter.lane_open())  # the backlog leaves room in the budget
        self._thread = threading.Thread(target=self._run, args=(seconds,), name=name, daemon=True)
        self._thread.start()

    def _run(self, seconds: float) -> None:
        with leases.sharing(self._leases):
            while not self._stop.wait(seconds):
                try:
                    self.work()
                except (AuthError, ConfigurationError, leases.LeaseLost) as exc:
                    self.failure = f"stock lane: {exc}"
                    log.error("[%s] stock lane stopped: %s", self.work.channel.name, exc)
                    return
                except Exception:  # a bug: the backlog goes on; its quantities wait for the next sync
                    log.exception("[%s] stock lane failed", self.work.channel.name)
                    self._stop.wait(30)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._open.close()


#: clocks of the processes writing one database may differ by this much (a pull's times come from its own)
PULL_CLOCK_SLACK = timedelta(seconds=2)


def orders_pulled_since(session: Session, channel_name: str, since: datetime) -> bool:
    """Whether a pull of this channel's orders started or finished at ``since`` or later (less
    :data:`PULL_CLOCK_SLACK`): a plan built at ``since`` may then miss what it changed. A plan built after
    the last pull finished already has its quantities, so the push need not plan again."""
    since = since - PULL_CLOCK_SLACK
    return order_pull_exists(session, channel_name, or_(SyncRun.started_at >= since, SyncRun.finished_at >= since))


def order_pull_exists(session: Session, channel_name: str, *conditions: ColumnElement[bool]) -> bool:
    """Whether a recorded order pull of this channel meets ``conditions`` (on :class:`SyncRun`)."""
    found = session.scalar(
        select(SyncRun.id)
        .join(Channel, Channel.id == SyncRun.channel_id)
        .where(Channel.name == channel_name, SyncRun.kind == "orders", *conditions)
        .limit(1)
    )
    return found is not None


def _pull_first(channel: ChannelConfig, pull: Callable[[], None]) -> Exception | None:
    """Run the order pull before a stock push; its failure is returned, not raised (the pull's own run
    records it), so the channel's other pushes and every other channel go on."""
    try:
        pull()
    except leases.LeaseLost:
        raise
    except ChannelError as exc:
        log.error("[%s] order pull failed: %s", channel.name, exc)
        return exc
    except Exception as exc:  # an adapter bug must not stop the sync: one line (the caller keeps the traceback)
        log.error("[%s] order pull failed: %s", channel.name, _bug(exc))
        return exc
    return None


def _bug(exc: Exception) -> str:
    """An unexpected exception in one line, with where its traceback was kept (a note the caller added)."""
    notes = " ".join(getattr(exc, "__notes__", ()))
    return f"{type(exc).__name__}: {exc} (a bug{'; ' + notes if notes else ''})"


def _hold_quantities(plan: Plan, failure: Exception, report: PushReport) -> None:
    """Take the quantity pushes out of ``plan`` after a failed order pull (or stop the channel, when the
    failure is its credentials or configuration), and say so in ``report``."""
    why = str(failure) if isinstance(failure, ChannelError) else _bug(failure)
    if isinstance(failure, AuthError | ConfigurationError):
        plan.batches.clear()
        report.aborted = f"order pull: {why}"
        return
    held = [(op, items) for op, items in plan.batches if op in QUANTITY_OPS]
    plan.batches[:] = [(op, items) for op, items in plan.batches if op not in QUANTITY_OPS]
    report.held = sum(len(items) for _, items in held)
    report.errors.append(
        ("(orders)", f"order pull failed, {report.held} stock/publish/relist items held until it succeeds: {why}")
    )


def _start_run(
    session_factory: Callable[[], Any], channel: ChannelConfig, user: str, plan: Plan, report: PushReport
) -> int:
    """Record the sync run, and park the listings whose drafts were refused; returns the run's id."""
    with session_factory() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == channel.name))
        run = SyncRun(channel_id=channel_id, kind="sync", user=user, owner=leases.current_owner())
        session.add(run)
        if plan.refused:
            _park_refused(session, plan.refused)
            report.parked += len(plan.refused)
            report.failed += len(plan.refused)
            report.errors.extend((sku, f"publish: {code}: {why}") for _, sku, code, why in plan.refused)
        session.flush()
        return run.id


def _batch_results(
    channel: ChannelConfig, adapter: ChannelAdapter, op: Operation, items: list[PlannedItem]
) -> list[ItemResult | None]:
    """One batch's results (None for items that need no call). A channel error, or an adapter bug, fails
    every item of the batch; auth and configuration errors propagate: they stop the channel."""
    if all(item.payload is None for item in items):
        return [None] * len(items)
    try:
        return list(_call(adapter, op, items))
    except (AuthError, ConfigurationError):
        raise
    except ChannelError as exc:
        return [ItemResult.from_error(item.sku, exc) for item in items]
    except Exception as exc:  # an adapter bug must not stop the channel: park the batch, keep going
        log.exception("[%s] adapter failed on %s", channel.name, op.value)
        return [
            ItemResult.failure(item.sku, "adapter_error", f"{type(exc).__name__}: {exc} (report this bug)")
            for item in items
        ]


def _finish_run(session_factory: Callable[[], Any], run_id: int, report: PushReport) -> None:
    with session_factory() as session:
        run = session.get(SyncRun, run_id)
        run.finished_at = now_utc()
        run.items_ok, run.items_failed, run.api_calls = report.ok, report.failed, report.api_calls
        run.status = "failed" if report.aborted else ("partial" if report.failed or report.held else "ok")
        run.message = report.aborted or "; ".join(f"{s}: {m}" for s, m in report.errors[:20])


# -------------------------------------------------------------------------------------------- drift
@dataclass(slots=True)
class DriftItem:
    sku: str
    field: str
    pushed: Any
    remote: Any


@dataclass(slots=True)
class DriftReport:
    channel: str
    checked: int = 0
    drifted: list[DriftItem] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    confirmed: int = 0
    unknown: list[str] = field(default_factory=list)


def check_drift(session: Session, channel: ChannelConfig, adapter: ChannelAdapter, *, fix: bool = False) -> DriftReport:
    """Compare what the channel holds with what we last pushed; adopt unmapped listings of known SKUs.

    With ``fix`` drifted listings are marked dirty so the next sync puts our values back."""
    report = DriftReport(channel.name)
    channel_id = session.scalar(select(Channel.id).where(Channel.name == channel.name))
    listings = {
        sku: listing
        for listing, sku in session.execute(
            select(ChannelListing, Sku.sku)
            .join(Sku, ChannelListing.sku_id == Sku.id)
            .where(ChannelListing.channel_id == channel_id)
        )
    }
    sku_ids = dict(session.execute(select(Sku.sku, Sku.id)).all())
    adopted_ids: list[int] = []
    for remote in adapter.listings():
        report.checked += 1
        listing = listings.get(remote.sku)
        if listing is not None:
            _compare(listing, remote, report, fix)
        elif remote.sku in sku_ids:
            session.add(_adopted(channel_id, sku_ids[remote.sku], remote))
            adopted_ids.append(sku_ids[remote.sku])
            report.adopted.append(remote.sku)
        else:
            report.unknown.append(remote.sku)
    session.flush()
    if adopted_ids:
        refresh(session, [channel], adopted_ids, channel_names=[channel.name])
    return report


def _adopted(channel_id: int | None, sku_id: int, remote: RemoteListing) -> ChannelListing:
    """A listing the channel already holds for one of our SKUs, taken as pushed (and dirty, so the
    next sync sets our values)."""
    return ChannelListing(
        channel_id=channel_id,
        sku_id=sku_id,
        wanted="active",
        status="dirty",
        version=1,
        ref=_ref_json(remote.ref, remote.sku),
        external_id=remote.ref.external_id,
        pushed_price=remote.price.amount if remote.price else None,
        pushed_quantity=remote.quantity,
        pushed_state="active" if remote.status == "active" else "delisted",
    )


def _compare(listing: ChannelListing, remote: RemoteListing, report: DriftReport, fix: bool) -> None:
    """Learn a missing ref, note price and quantity drift, confirm a submitted listing; with ``fix``
    take the remote values as pushed and mark the listing dirty."""
    if not listing.ref:
        listing.ref = _ref_json(remote.ref, remote.sku)
        listing.external_id = remote.ref.external_id
    drift = _drift(listing, remote)
    if listing.status == "submitted" and not drift and remote.status != "submitted":
        listing.status = "clean"
        report.confirmed += 1
    report.drifted.extend(drift)
    if fix and drift:
        for item in drift:
            if item.field == "price":
                listing.pushed_price = item.remote
            else:
                listing.pushed_quantity = item.remote
        listing.version += 1
        listing.status, listing.attempts, listing.next_try_at = "dirty", 0, None


def _drift(listing: ChannelListing, remote: RemoteListing) -> list[DriftItem]:
    """Where the channel's price or quantity differs from what we last pushed (both known). A listing we
    delisted is not compared: how a marketplace shows a delisted offer (Amazon: quantity 0, the offer
    stays) is not a change made behind our back."""
    drift: list[DriftItem] = []
    if listing.pushed_state == "delisted":
        return drift
    if remote.price is not None and listing.pushed_price is not None and remote.price.amount != listing.pushed_price:
        drift.append(DriftItem(remote.sku, "price", listing.pushed_price, remote.price.amount))
    if (
        remote.quantity is not None
        and listing.pushed_quantity is not None
        and remote.quantity != listing.pushed_quantity
    ):
        drift.append(DriftItem(remote.sku, "quantity", listing.pushed_quantity, remote.quantity))
    return drift
