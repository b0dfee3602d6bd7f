"""What the reliability tests check at the end: every marketplace order recorded once, levels = ledger,
each channel's quantities = the rules, no lease held past its expiry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from listing_sync.adapters.base import OrderCursor, OrderStatus
from listing_sync.syncer import integrity, reconcile
from listing_sync.syncer.context import Context
from listing_sync.syncer.models import Channel, ChannelListing, Order, OrderLine, Sku, StockLevel
from sqlalchemy import func, select


@dataclass
class Remote:
    """One marketplace's orders (id -> (status, units per SKU)) and listed quantities (SKU -> quantity)."""

    orders: dict[str, tuple[str, dict[str, int]]] = field(default_factory=dict)
    quantities: dict[str, int | None] = field(default_factory=dict)


def read_remote(context: Context, name: str, since: datetime) -> Remote:
    remote = Remote()
    with context.adapter(context.channel(name)) as adapter:
        cursor = OrderCursor(since)
        for _ in range(1000):
            page = adapter.orders_since(cursor)
            for order in page.orders:
                units: dict[str, int] = {}
                for line in order.lines:
                    units[line.sku] = units.get(line.sku, 0) + line.quantity
                remote.orders[order.external_id] = (order.status.value, units)
            cursor = page.next
            if page.done:
                break
        remote.quantities = {listing.sku: listing.quantity for listing in adapter.listings()}
    return remote


@dataclass
class Verdict:
    orders: int = 0
    lines: int = 0
    lines_recorded: int = 0
    units_reserved_expected: int = 0
    units_reserved: int = 0
    lost: int = 0
    duplicates: int = 0
    extra: int = 0
    listings: int = 0
    quantity_mismatches: list[str] = field(default_factory=list)
    not_clean: int = 0
    problems: list[str] = field(default_factory=list)


def verify(context: Context, names: list[str], since: datetime) -> Verdict:
    """Compare every channel's marketplace with the database (read only)."""
    verdict = Verdict()
    with context.session() as s:
        ids = dict(s.execute(select(Channel.name, Channel.id)).all())
        for name in names:
            remote = read_remote(context, name, since)
            ours = {
                external: count
                for external, count in s.execute(
                    select(Order.external_id, func.count())
                    .where(Order.channel_id == ids[name])
                    .group_by(Order.external_id)
                )
            }
            verdict.orders += len(remote.orders)
            verdict.lines += sum(len(units) for _, units in remote.orders.values())
            verdict.lost += len(set(remote.orders) - set(ours))
            verdict.extra += len(set(ours) - set(remote.orders))
            verdict.duplicates += sum(count - 1 for count in ours.values())
            verdict.units_reserved_expected += sum(
                sum(units.values()) for status, units in remote.orders.values() if status == OrderStatus.PAID.value
            )
            for listing, sku in s.execute(
                select(ChannelListing, Sku.sku)
                .join(Sku, Sku.id == ChannelListing.sku_id)
                .where(ChannelListing.channel_id == ids[name])
            ):
                verdict.listings += 1
                verdict.not_clean += listing.status != "clean"
                if remote.quantities.get(sku) != listing.desired_quantity:
                    verdict.quantity_mismatches.append(
                        f"{name} {sku}: marketplace {remote.quantities.get(sku)}, rule {listing.desired_quantity}"
                    )
        verdict.units_reserved = int(s.scalar(select(func.sum(StockLevel.reserved))) or 0)
        # the rules, recomputed now from the levels: nothing may change (desired = rule)
        marked = reconcile.refresh(s, context.channels, None)
        if marked:
            verdict.problems.append(f"{marked} listing(s) were not at their rule's quantity/price")
        s.rollback()
        checked = integrity.check_all(s, context.leases, context.settings.lease_seconds)
        verdict.problems += [f"{p.kind} {p.where}: {p.detail}" for p in checked.problems]
        verdict.lines_recorded = int(s.scalar(select(func.count()).select_from(OrderLine)) or 0)
    return verdict


def settled(context: Context) -> bool:
    """Every listing clean (cheap: the database only)."""
    with context.session() as s:
        return not s.scalar(select(func.count()).select_from(ChannelListing).where(ChannelListing.status != "clean"))


def live_leases(context: Context) -> list[str]:
    now = datetime.now(UTC) + timedelta(seconds=0)
    return [f"{info.name} held by {info.owner}" for info in context.leases.all() if info.live(now)]
