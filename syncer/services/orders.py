"""Orders: pull them from channels (reserving stock, pushing the new availability everywhere else), list
them, export the open lines for packing, the pick list, and receiving a return."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import reconcile
from listing_sync.syncer.context import Context, current_user
from listing_sync.syncer.models import Channel, Order, OrderLine, Product, Sku, Warehouse
from listing_sync.syncer.orders import PullReport
from listing_sync.syncer.services.common import (
    FileFormat,
    InvalidRequest,
    NotFound,
    Written,
    prepare,
    require_out,
    write_table,
)
from listing_sync.syncer.services.scheduler import SyncScheduler
from listing_sync.syncer.services.sync import channel_lease, other_channels, sync_channel
from sqlalchemy import select
from sqlalchemy.orm import Session

#: order statuses still to pack (paid, not yet shipped)
OPEN = ("paid",)
EXPORT_COLUMNS = [
    "order",
    "channel",
    "status",
    "placed_at",
    "sku",
    "title",
    "quantity",
    "warehouse",
    "ship_to_country",
    "recipient",
    "phone",
    "address",
    "postal_code",
    "carrier",
    "tracking",
    "shipped",
]


# ------------------------------------------------------------------------------------------------ pull
def pull_channel_orders(
    context: Context,
    channel: ChannelConfig,
    *,
    since: datetime | None = None,
    user: str = "",
    progress: Callable[[PullReport], None] | None = None,
) -> PullReport:
    """Pull one channel's new orders; returns the report (its ``affected_sku_ids`` need pushing elsewhere)."""
    from listing_sync.syncer import orders

    with channel_lease(context, channel.name):
        adapter = context.adapter(channel)
        try:
            return orders.pull_channel(context, channel, adapter, since=since, user=user, progress=progress)
        finally:
            adapter.close()
            context.hub.save()


@dataclass(frozen=True, slots=True)
class AvailabilityPush:
    """The new availability of ``skus`` SKUs sold on ``source`` pushed to ``channel``."""

    source: str
    channel: str
    skus: int
    report: reconcile.PushReport


@dataclass(frozen=True, slots=True)
class OrdersPulled:
    pulls: list[PullReport]
    pushes: list[AvailabilityPush]


def pull_orders(
    context: Context,
    channels: Sequence[str] | None = None,
    *,
    since: datetime | None = None,
    user: str | None = None,
    push: bool = True,
    progress: Callable[[PullReport], None] | None = None,
) -> OrdersPulled:
    """Pull new and changed orders from channels (default: every enabled one; ``since`` re-reads from
    then), reserve stock, and (``push``) push the new availability of the affected SKUs to the other
    channels. ``progress`` gets each channel's report as its pull starts and after each page (pages,
    orders read, and the total where the marketplace tells one)."""
    prepare(context)
    who = current_user(user)
    pulls = []
    for config in context.selected_channels(list(channels or [])):
        pulls.append(pull_channel_orders(context, config, since=since, user=who, progress=progress))
    pushes = []
    if push:
        for pulled in pulls:
            ids = pulled.affected_sku_ids
            if not ids:
                continue
            for other in other_channels(context, pulled.channel):
                report = sync_channel(context, other, user=who, only_skus=ids, pull_orders_first=False)
                pushes.append(AvailabilityPush(pulled.channel, other.name, len(ids), report))
    return OrdersPulled(pulls, pushes)


@dataclass(frozen=True, slots=True)
class PullsQueued:
    channels: tuple[str, ...]


def queue_order_pulls(
    context: Context, channels: Sequence[str] | None, *, user: str | None, scheduler: SyncScheduler
) -> PullsQueued:
    """Queue an order pull of each channel (default: every enabled one) for the workers; each pushes the
    new availability of what it reserved to the other channels."""
    prepare(context)
    names = tuple(c.name for c in context.selected_channels(list(channels or [])))
    for name in names:
        scheduler.queue_order_pull(name, user=current_user(user))
    return PullsQueued(names)


# ------------------------------------------------------------------------------------------------ list
@dataclass(frozen=True, slots=True)
class OrderLineSummary:
    """One line of an order: the SKU as the marketplace sent it, units, unit price in the order's currency."""

    sku: str
    quantity: int
    unit_price: str
    unmatched: bool  # the SKU is not in the catalog

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}" + (" (unmatched)" if self.unmatched else "")


@dataclass(frozen=True, slots=True)
class OrderSummary:
    channel: str
    order: str
    status: str
    placed_at: str
    currency: str
    total: str
    country: str | None
    lines: list[OrderLineSummary]


def list_orders(
    context: Context,
    *,
    channels: Sequence[str] | None = None,
    status: str | None = None,
    since: datetime | None = None,
    unmatched: bool = False,
    limit: int = 200,
) -> list[OrderSummary]:
    """Orders, newest first (``unmatched``: only those with lines of unknown SKUs)."""
    prepare(context)
    query = select(Order, Channel.name).join(Channel, Channel.id == Order.channel_id).order_by(Order.placed_at.desc())
    if channels:
        query = query.where(Channel.name.in_(channels))
    if status:
        query = query.where(Order.status == status)
    if since:
        query = query.where(Order.placed_at >= since)
    if unmatched:
        query = query.where(Order.id.in_(select(OrderLine.order_id).where(OrderLine.unmatched.is_(True))))
    with context.session() as session:
        return [
            OrderSummary(
                channel=name,
                order=order.external_id,
                status=order.status,
                placed_at=order.placed_at.isoformat(timespec="seconds"),
                currency=order.currency,
                total=str(order.total),
                country=order.ship_country,
                lines=[
                    OrderLineSummary(line.sku, line.quantity, str(line.unit_price), bool(line.unmatched))
                    for line in order.lines
                ],
            )
            for order, name in session.execute(query.limit(limit))
        ]


# ---------------------------------------------------------------------------------- packing, picking
def _open_lines(
    session: Session, channels: Sequence[str] | None, statuses: Sequence[str]
) -> list[tuple[Order, OrderLine, str, str | None, str | None]]:
    """(order, line, channel name, product title, warehouse code) of the orders in these statuses."""
    query = (
        select(Order, OrderLine, Channel.name, Product.title, Warehouse.code)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Channel, Channel.id == Order.channel_id)
        .outerjoin(Sku, Sku.id == OrderLine.sku_id)
        .outerjoin(Product, Product.id == Sku.product_id)
        .outerjoin(Warehouse, Warehouse.id == OrderLine.warehouse_id)
        .where(Order.status.in_(statuses))
        .order_by(Order.placed_at, Order.id, OrderLine.line_id)
    )
    if channels:
        query = query.where(Channel.name.in_(channels))
    return [(order, line, name, title, code) for order, line, name, title, code in session.execute(query)]


def export_orders(
    context: Context,
    *,
    fmt: FileFormat = FileFormat.CSV,
    out: Path | None = None,
    channels: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    bom: bool = False,
) -> Written:
    """Order lines for printing, packing and waybills (default: the open ones): order, channel, SKU, title,
    quantity, warehouse, country, then the recipient (name, phone, address, postcode: personal data, only
    in this export, the pick list by order and the packing slips) and the carrier/tracking numbers and
    units of the shipments recorded here; CSV (to ``out`` or as text) or XLSX."""
    from listing_sync.syncer import packing

    require_out(fmt, out)
    prepare(context)
    with context.session() as session:
        rows = [
            [
                slip.order,
                slip.channel,
                slip.status,
                slip.placed_at.isoformat(timespec="seconds"),
                sku,
                title,
                quantity,
                code,
                slip.country,
                *slip.recipient_cells(shipped),
            ]
            for slip in packing.slips(session, statuses=tuple(statuses or OPEN), channels=channels)
            for sku, title, quantity, shipped, code in slip.lines
        ]
    written = write_table(EXPORT_COLUMNS, rows, fmt=fmt, out=out, sheet="orders", bom=bom)
    return Written(written.path, written.text, len(rows))


def packing_slips(
    context: Context,
    out: Path,
    *,
    orders: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
) -> Written:
    """Packing slips as printable HTML, one page per order (default: the open ones; ``orders``: these order
    ids whatever their status), with the recipient, the lines and the tracking numbers; written to ``out``."""
    from listing_sync.syncer import packing

    prepare(context)
    with context.session() as session:
        found = packing.slips(session, statuses=tuple(statuses or OPEN), channels=channels, orders=orders)
    if orders:
        missing = sorted(set(orders) - {s.order for s in found})
        if missing:
            raise NotFound(f"no order {', '.join(missing)}: pull orders first (`syncer orders pull`)")
    out.write_text(packing.slips_html(found), encoding="utf-8")
    return Written(out, None, len(found))


@dataclass(frozen=True, slots=True)
class PickOrderLine:
    """One line of an open order to pick, with where it goes (personal data)."""

    warehouse: str
    order: str
    channel: str
    sku: str
    title: str
    quantity: int
    recipient: str
    phone: str
    address: str
    postal_code: str


def pick_list_by_order(context: Context, channels: Sequence[str] | None = None) -> list[PickOrderLine]:
    """The pick list per order line (warehouse, order, SKU, quantity still to ship) with the recipient."""
    from listing_sync.syncer import packing

    prepare(context)
    out = []
    with context.session() as session:
        for slip in packing.slips(session, statuses=OPEN, channels=channels):
            r = slip.recipient
            for sku, title, quantity, shipped, code in slip.lines:
                if quantity - shipped <= 0:
                    continue
                out.append(
                    PickOrderLine(
                        code or "(unassigned)",
                        slip.order,
                        slip.channel,
                        sku,
                        title,
                        quantity - shipped,
                        r.name if r else "",
                        r.phone if r else "",
                        slip.address(),
                        r.postal_code if r else "",
                    )
                )
    return sorted(out, key=lambda p: (p.warehouse, p.order, p.sku))


@dataclass(frozen=True, slots=True)
class PickLine:
    warehouse: str
    sku: str
    title: str
    quantity: int
    orders: int


def pick_list(context: Context, channels: Sequence[str] | None = None) -> list[PickLine]:
    """Quantities to pick per warehouse and SKU for open (paid, not yet shipped) orders."""
    prepare(context)
    totals: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"quantity": 0, "orders": set()})
    with context.session() as session:
        for order, line, _name, title, code in _open_lines(session, channels, OPEN):
            entry = totals[(code or "(unassigned)", line.sku)]
            entry["quantity"] += line.quantity
            entry["orders"].add(order.id)
            entry["title"] = title or line.title or ""
    return [
        PickLine(warehouse, sku, v["title"], v["quantity"], len(v["orders"]))
        for (warehouse, sku), v in sorted(totals.items())
    ]


# ---------------------------------------------------------------------------------------------- returns
@dataclass(frozen=True, slots=True)
class ReturnReceived:
    channel: str
    order: str
    #: units restocked (0: nothing to restock, e.g. received before)
    units: int


def receive_return(context: Context, channel: str, order: str, *, user: str | None = None) -> ReturnReceived:
    """Confirm a returned order arrived back: restock its lines (once) and recompute the listings."""
    from listing_sync.syncer import orders as order_logic

    prepare(context)
    with context.session() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == channel))
        if channel_id is None:
            raise NotFound(f"no channel {channel!r}")
        try:
            units = order_logic.receive_return(session, channel_id, order, current_user(user))
        except LookupError as exc:
            raise NotFound(str(exc)) from None
        reconcile.refresh(session, context.channels, None)
    return ReturnReceived(channel, order, units)


@dataclass(frozen=True, slots=True)
class PersonalDataPurged:
    #: orders (and other rows) whose personal data was emptied
    rows: int
    #: rows placed before this time were purged
    before: datetime


def purge_personal_data(context: Context, *, days: int | None = None) -> PersonalDataPurged:
    """Empty buyers' personal data (name, address, phone, e-mail) of orders placed more than ``days``
    ago (default ``SYNCER_PERSONAL_DATA_RETENTION_DAYS``; 0 = all of it now, e.g. for an erasure request)."""
    from listing_sync.syncer import retention

    days = context.settings.personal_data_retention_days if days is None else days
    if days < 0:
        raise InvalidRequest("--days must be 0 or more")
    before = datetime.now(UTC) - timedelta(days=days)
    with context.session() as session:
        rows = retention.purge(session, before)
    return PersonalDataPurged(rows, before)
