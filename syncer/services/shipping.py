"""Shipping orders: one package from the command line, or a CSV/XLSX file of them validated whole; each
recorded once, its stock moved from reserved to shipped, and pushed to the order's channel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from listing_sync.syncer import reconcile, shipping
from listing_sync.syncer.context import Context, current_user
from listing_sync.syncer.leases import LeaseBusy
from listing_sync.syncer.models import Channel, Order, Shipment
from listing_sync.syncer.services.common import InvalidRequest, prepare
from listing_sync.syncer.services.sync import channel_lease
from listing_sync.syncer.shipping import ShipRequest, parse_line_spec
from listing_sync.syncer.tabular import InputRejected, Problem, read_table
from sqlalchemy import func, select

__all__ = ["ShipRequest", "Shipped", "parse_line_spec", "ship", "ship_file"]

FILE_COLUMNS = ("order", "carrier", "tracking")
OPTIONAL_COLUMNS = ("channel", "lines", "warehouse")


@dataclass(frozen=True, slots=True)
class ShipmentInfo:
    channel: str
    order: str
    carrier: str
    tracking: str
    units: int
    #: False: this order and tracking number were recorded before (nothing moved again)
    new: bool
    status: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Shipped:
    shipments: list[ShipmentInfo]
    pushed: int
    retry: int
    parked: int


def _carrier_codes(context: Context):
    from listing_sync.adapters.registry import adapter_class

    kinds = {c.name: c.kind for c in context.channels}

    @cache
    def codes(channel: str) -> Mapping[str, str]:
        kind = kinds.get(channel)
        return adapter_class(kind).carrier_codes if kind else {}

    return codes


def ship(
    context: Context,
    requests: Sequence[shipping.ShipRequest],
    *,
    user: str | None = None,
    push: bool = True,
    source: str = "command line",
    problems: Sequence[Problem] = (),
) -> Shipped:
    """Validate every request (nothing is recorded unless all are fine), record the new shipments with their
    stock movements in one transaction, then (``push``) push each to its channel. A shipment recorded
    before (same order and tracking) is not recorded again; a failed push is retried later."""
    prepare(context)
    who = current_user(user)
    with context.session() as session:
        planned, found = shipping.plan(session, requests, _carrier_codes(context))
        problems = [*problems, *found]
        if problems:
            if source == "command line":
                raise InvalidRequest(
                    "; ".join(f"{p.column}: {p.message}" for p in problems) + " (nothing was recorded)"
                )
            raise InputRejected(source, problems)
        recorded = shipping.record(session, planned, who)
        touched: set[int] = set()
        for item in planned:
            order = session.get(Order, item.order_id) if item.quantities else None
            if order is not None:
                touched |= {
                    line.sku_id for line in order.lines if line.sku_id is not None and line.id in item.quantities
                }
        if touched:
            reconcile.refresh(session, context.channels, touched)
    counts = {"pushed": 0, "retry": 0, "parked": 0}
    if push:
        for channel in sorted({r.channel for r in recorded}):
            ids = [r.shipment_id for r in recorded if r.channel == channel]
            try:
                outcome = push_channel_shipments(context, channel, ids=ids, user=who)
            except LeaseBusy:  # another process writes to the channel now: the worker pushes them later
                continue
            counts["pushed"] += outcome.pushed
            counts["retry"] += outcome.retry
            counts["parked"] += outcome.parked
    with context.session() as session:
        infos = []
        for r in recorded:
            row = session.get(Shipment, r.shipment_id)
            assert row is not None
            infos.append(
                ShipmentInfo(r.channel, r.order, row.carrier, r.tracking, r.units, r.new, row.status, row.message)
            )
    return Shipped(infos, counts["pushed"], counts["retry"], counts["parked"])


def read_shipments_file(path: Path) -> tuple[list[shipping.ShipRequest], list[Problem]]:
    """The rows of a shipments file (``order, carrier, tracking`` and optionally ``channel``, ``lines`` as
    ``SKU=QTY`` separated by ``;``, ``warehouse``) and the problems of their cells, by row and column (a
    file that cannot be read, or a header without the required columns, is refused at once)."""
    header, rows = read_table(path)
    problems: list[Problem] = []
    names = [h.strip().lower() for h in header]
    for column in FILE_COLUMNS:
        if column not in names:
            problems.append(Problem(1, column, "required column missing"))
    for name in names:
        if name and name not in FILE_COLUMNS + OPTIONAL_COLUMNS:
            problems.append(Problem(1, name, f"unknown column (known: {', '.join(FILE_COLUMNS + OPTIONAL_COLUMNS)})"))
    if problems:
        raise InputRejected(str(path), problems)
    requests = []
    for number, cells in rows:
        record = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)}
        for column in FILE_COLUMNS:
            if not record.get(column):
                problems.append(Problem(number, column, "empty"))
        lines: list[tuple[str, int]] = []
        for part in filter(None, (p.strip() for p in record.get("lines", "").split(";"))):
            try:
                lines.append(shipping.parse_line_spec(part))
            except ValueError as exc:
                problems.append(Problem(number, "lines", str(exc)))
        if any(p.row == number for p in problems):
            continue
        requests.append(
            shipping.ShipRequest(
                order=record.get("order", ""),
                carrier=record.get("carrier", ""),
                tracking=record.get("tracking", ""),
                lines=tuple(lines),
                warehouse=record.get("warehouse") or None,
                channel=record.get("channel") or None,
                row=number,
            )
        )
    if not requests and not problems:
        raise InputRejected(str(path), [Problem(0, "", "no shipments in the file")])
    return requests, problems


def ship_file(context: Context, path: Path, *, user: str | None = None, push: bool = True) -> Shipped:
    """:func:`ship` for every row of a CSV/XLSX file, validated whole first: every problem of every row
    is listed and nothing is recorded unless there is none."""
    requests, problems = read_shipments_file(path)
    return ship(context, requests, user=user, push=push, source=str(path), problems=problems)


def push_channel_shipments(
    context: Context, channel: str, *, ids: Sequence[int] | None = None, user: str = ""
) -> shipping.PushOutcome:
    """Push one channel's shipments that are due (new ones, and failed ones whose retry time came), holding
    the channel's lease (:class:`~syncer.leases.LeaseBusy` when another process writes to it now)."""
    with channel_lease(context, channel):
        adapter = context.adapter(context.channel(channel))
        try:
            return shipping.push_channel(context, channel, adapter, ids=ids, user=user)
        finally:
            adapter.close()
            context.hub.save()


def channels_with_due_shipments(context: Context) -> list[str]:
    """Names of the channels with shipments to push now (for the worker's schedule)."""
    now = datetime.now(UTC)
    with context.session() as session:
        rows = session.execute(
            select(Channel.name, Shipment.next_attempt_at)
            .join(Order, Order.id == Shipment.order_id)
            .join(Channel, Channel.id == Order.channel_id)
            .where(Shipment.status.in_(("pending", "retry")))
        )
        return sorted({name for name, at in rows if at is None or at <= now})


@dataclass(frozen=True, slots=True)
class ShipmentProblem:
    order: str
    tracking: str
    status: str
    code: str | None
    message: str | None
    attempts: int


def shipment_problems(context: Context, channel: str, limit: int = 50) -> tuple[dict[str, int], list[ShipmentProblem]]:
    """One channel's shipments by push status, and those not pushed yet with their last error."""
    with context.session() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == channel))
        if channel_id is None:
            return {}, []
        base = select(Shipment).join(Order, Order.id == Shipment.order_id).where(Order.channel_id == channel_id)
        counts = {
            status: count
            for status, count in session.execute(
                select(Shipment.status, func.count())
                .join(Order, Order.id == Shipment.order_id)
                .where(Order.channel_id == channel_id)
                .group_by(Shipment.status)
            )
        }
        failing = [
            ShipmentProblem(s.order.external_id, s.tracking, s.status, s.error_code, s.message, s.attempts)
            for s in session.scalars(
                base.where(Shipment.status.in_(("retry", "parked"))).order_by(Shipment.id).limit(limit)
            )
        ]
    return counts, failing
