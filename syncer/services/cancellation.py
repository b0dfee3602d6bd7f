"""Cancelling an order from here: told to the marketplace first (where its API can), then its reservation
is released in the ledger, once (the same keys the order pull uses, so the channel's own cancellation
arriving later moves nothing again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from listing_sync.adapters.base import ChannelError, Unsupported
from listing_sync.syncer import reconcile
from listing_sync.syncer.context import Context, current_user
from listing_sync.syncer.leases import LeaseBusy
from listing_sync.syncer.models import Channel, Order, Shipment
from listing_sync.syncer.services.common import InvalidRequest, NotFound, ServiceError, prepare
from listing_sync.syncer.services.sync import channel_lease
from sqlalchemy import func, select

CANCELLABLE = ("pending", "paid")
MAX_REASON = 500


class NotSupported(ServiceError):
    """The order's marketplace offers no seller-side cancellation through its API (nothing changed)."""


@dataclass(frozen=True, slots=True)
class Cancelled:
    channel: str
    order: str
    #: units whose reservation was released here
    released: int


def _find(context: Context, order: str, channel: str | None) -> tuple[int, str]:
    with context.session() as session:
        query = select(Order.id, Channel.name).join(Channel, Channel.id == Order.channel_id)
        query = query.where(Order.external_id == order)
        if channel:
            query = query.where(Channel.name == channel)
        found = list(session.execute(query))
        if not found:
            where = f" on {channel}" if channel else ""
            raise NotFound(f"no order {order!r}{where}: pull orders first (`syncer orders pull`)")
        if len(found) > 1:
            raise InvalidRequest(f"order {order!r} exists on {', '.join(sorted(n for _, n in found))}: give --channel")
        row_id, name = found[0]
        row = session.get(Order, row_id)
        assert row is not None
        if row.status not in CANCELLABLE:
            raise InvalidRequest(
                f"order {order} on {name} is {row.status}: only pending or paid orders can be cancelled"
            )
        shipped = session.scalar(select(func.count()).select_from(Shipment).where(Shipment.order_id == row_id))
        if shipped:
            raise InvalidRequest(
                f"order {order} on {name} has {shipped} shipment(s) recorded: it cannot be cancelled here"
            )
        return row_id, name


def cancel_order(
    context: Context, order: str, *, reason: str, channel: str | None = None, user: str | None = None
) -> Cancelled:
    """Cancel an unshipped order on its marketplace, then release its reservation here (once). A marketplace
    whose API cannot cancel raises :class:`NotSupported` and nothing changes."""
    from listing_sync.syncer import orders

    reason = reason.strip()
    if not reason:
        raise InvalidRequest("--reason is required: say why the order is cancelled")
    if len(reason) > MAX_REASON:
        raise InvalidRequest(f"--reason is longer than {MAX_REASON} characters")
    prepare(context)
    order_id, name = _find(context, order, channel)
    config = context.channel(name)
    try:
        with channel_lease(context, name):
            adapter = context.adapter(config)
            try:
                adapter.cancel(order, reason)
            finally:
                adapter.close()
                context.hub.save()
    except Unsupported as exc:
        raise NotSupported(f"{exc.message}; nothing was changed") from None
    except LeaseBusy:
        raise
    except ChannelError as exc:
        raise ServiceError(f"{name} refused to cancel order {order}: {exc}; nothing was changed here") from None
    with context.session() as session:
        row = session.get(Order, order_id)
        assert row is not None
        row.status, row.raw_status = "cancelled", f"cancelled here: {reason}"[:80]
        row.updated_at = datetime.now(UTC)
        touched = orders.stock_effects(session, row, config, user=current_user(user))
        released = sum(line.quantity for line in row.lines if line.sku_id in touched)
        if touched:
            reconcile.refresh(session, context.channels, touched)
    return Cancelled(name, order, released)
