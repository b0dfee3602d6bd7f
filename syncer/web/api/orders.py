"""Orders: list, export (CSV/XLSX, with the recipients), pick lists, and pulling them now.

Recipients (names, phones, addresses) are buyers' personal data: the export and the pick list by order
need the operator role; the order list and the pick list by SKU carry none."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from listing_sync.syncer.services import orders
from listing_sync.syncer.services.orders import OrdersPulled, OrderSummary, PickLine, PickOrderLine, PullsQueued
from listing_sync.syncer.services.sync import SyncMode
from listing_sync.syncer.web.api.common import CHANGE_ERRORS, FILE_RESPONSES, READ_ERRORS, Download, download, scheduler
from listing_sync.syncer.web.api.sync import ChannelNames
from listing_sync.syncer.web.deps import ContextDep, Operator, Viewer
from pydantic import BaseModel, Field

router = APIRouter(tags=["orders"])

Statuses = Annotated[
    list[str] | None, Query(max_length=20, description="Only these statuses (default: the open ones).")
]


@router.get("/orders", response_model=list[OrderSummary], responses=READ_ERRORS)
def list_orders(
    context: ContextDep,
    user: Viewer,
    channel: ChannelNames = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[datetime | None, Query(description="Placed at or after (ISO 8601; UTC if no zone).")] = None,
    unmatched: Annotated[bool, Query(description="Only orders with lines of SKUs not in the catalog.")] = False,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[OrderSummary]:
    """Orders, newest first, with their lines."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return orders.list_orders(context, channels=channel, status=status, since=since, unmatched=unmatched, limit=limit)


@router.get("/orders/export", response_class=Response, responses=READ_ERRORS | FILE_RESPONSES)
def export_orders(
    context: ContextDep,
    user: Operator,
    format: Download = Download.CSV,
    channel: ChannelNames = None,
    status: Statuses = None,
) -> Response:
    """Order lines for packing and waybills, with the recipients and the shipments recorded (CSV or XLSX)."""
    return download(
        format,
        "orders",
        lambda fmt, out: orders.export_orders(context, fmt=fmt, out=out, channels=channel, statuses=status),
    )


@router.get("/orders/pick-list", response_model=list[PickLine], responses=READ_ERRORS)
def pick_list(context: ContextDep, user: Viewer, channel: ChannelNames = None) -> list[PickLine]:
    """What to pick for the open orders: units per warehouse and SKU, and how many orders want them."""
    return orders.pick_list(context, channel)


@router.get("/orders/pick-list/by-order", response_model=list[PickOrderLine], responses=READ_ERRORS)
def pick_list_by_order(context: ContextDep, user: Operator, channel: ChannelNames = None) -> list[PickOrderLine]:
    """The pick list per order line, with the recipient (personal data: operators and admins)."""
    return orders.pick_list_by_order(context, channel)


class PullIn(BaseModel):
    channels: list[Annotated[str, Field(min_length=1, max_length=63)]] = Field(default_factory=list, max_length=50)
    #: queue: for the workers; inline: pulled here and now, and the new availability pushed to the other channels
    mode: SyncMode = SyncMode.QUEUE


class PullOut(BaseModel):
    mode: SyncMode
    queued: PullsQueued | None = None
    pulled: OrdersPulled | None = None


@router.post("/orders/pull", response_model=PullOut, responses=CHANGE_ERRORS)
def pull_orders(request: Request, context: ContextDep, user: Operator, body: PullIn) -> PullOut:
    """Pull new and changed orders now (queued, or inline with the availability pushes)."""
    from listing_sync.syncer.services.common import InvalidRequest

    if body.mode is SyncMode.INLINE:
        return PullOut(mode=body.mode, pulled=orders.pull_orders(context, body.channels, user=user.name))
    if body.mode is SyncMode.NONE:
        raise InvalidRequest("mode none pulls nothing: use queue or inline")
    queued = orders.queue_order_pulls(context, body.channels, user=user.name, scheduler=scheduler(request))
    return PullOut(mode=body.mode, queued=queued)
