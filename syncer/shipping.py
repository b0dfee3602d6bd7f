"""Shipments made here: validated whole, recorded once per (order, tracking number), stock moved from
reserved to shipped in the ledger, then pushed to the order's channel with its own call and retried.

* One shipment is one package: some or all of an order's remaining units, a carrier and a tracking number.
  Partial shipments are allowed; the order counts as shipped here when nothing remains.
* The ledger gets one movement per line and shipment (key ``ship:<line>:<shipment>``); when the channel
  later reports the order shipped, :func:`syncer.orders.stock_effects` ships only what was not shipped
  here, so no unit leaves the ledger twice.
* Pushing never raises per order: each shipment keeps its own status (pending, retry, pushed, parked), the
  marketplace's error code and message, and its next attempt, shown by ``syncer status``.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from listing_sync.adapters import carriers
from listing_sync.adapters.base import ChannelAdapter, ChannelError
from listing_sync.adapters.base import Shipment as WireShipment
from listing_sync.adapters.base import ShipmentLine as WireLine
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.models import Channel, Order, OrderLine, Shipment, SyncRun
from listing_sync.syncer.tabular import Problem
from sqlalchemy import select
from sqlalchemy.orm import Session

log = logging.getLogger("syncer.shipping")

#: order statuses a shipment may be recorded for (paid; partially shipped orders stay paid)
SHIPPABLE = ("paid",)
MAX_ATTEMPTS = 8
LINE_SPEC = re.compile(r"^\s*(?P<sku>[^=]+?)\s*=\s*(?P<qty>-?\d+)\s*$")


@dataclass(frozen=True, slots=True)
class ShipRequest:
    """What the user asked to ship. ``lines`` empty = every unit not shipped yet; ``row`` is the file row
    (0 on the command line)."""

    order: str
    carrier: str
    tracking: str
    lines: tuple[tuple[str, int], ...] = ()
    warehouse: str | None = None
    channel: str | None = None
    row: int = 0


@dataclass(slots=True)
class Planned:
    """A request checked against the database: the order, our carrier code, line ids -> quantities."""

    request: ShipRequest
    order_id: int
    channel: str
    carrier: str
    quantities: dict[int, int]
    warehouse_id: int | None
    complete: bool
    existing: int | None = None  # the id of the same (order, tracking) recorded before


@dataclass(slots=True)
class Recorded:
    shipment_id: int
    channel: str
    order: str
    tracking: str
    units: int
    new: bool


def parse_line_spec(text: str) -> tuple[str, int]:
    """``SKU=QTY`` -> (sku, qty); ValueError says what is wrong."""
    match = LINE_SPEC.match(text)
    if not match:
        raise ValueError(f"{text!r} is not SKU=QTY")
    qty = int(match["qty"])
    if qty <= 0:
        raise ValueError(f"{text!r}: the quantity must be a positive whole number")
    return match["sku"], qty


def shipped_here(session: Session, order_ids: Iterable[int]) -> dict[int, int]:
    """Units of each order line (by id) in the shipments recorded here."""
    out: dict[int, int] = defaultdict(int)
    ids = list(order_ids)
    if not ids:
        return out
    for lines in session.scalars(select(Shipment.lines).where(Shipment.order_id.in_(ids))):
        for item in lines or []:
            out[int(item["line"])] += int(item["quantity"])
    return out


# --------------------------------------------------------------------------------------------- plan
class _Planner:
    """Checks requests one by one, remembering what earlier rows of the same file already take."""

    def __init__(self, session: Session, carrier_codes: Callable[[str], Mapping[str, str]]) -> None:
        self.session = session
        self.carrier_codes = carrier_codes
        self.problems: list[Problem] = []
        self.channels = {cid: name for cid, name in session.execute(select(Channel.id, Channel.name))}
        self.warehouses = ledger.warehouses_by_code(session)
        self.taken: dict[int, int] = defaultdict(int)  # order line id -> units planned so far
        self.seen: dict[tuple[int, str], int] = {}

    def problem(self, request: ShipRequest, column: str, message: str) -> None:
        self.problems.append(Problem(request.row, column, message))

    def plan(self, request: ShipRequest) -> Planned | None:
        start = len(self.problems)
        order = self._order(request)
        carrier = self._carrier(request, order)
        warehouse_id = self._warehouse(request)
        if not request.tracking.strip():
            self.problem(request, "tracking", "the tracking number is empty")
        if order is None or carrier is None or len(self.problems) > start:
            return None
        key = (order.id, request.tracking.strip())
        if key in self.seen:
            self.problem(
                request,
                "tracking",
                f"order {request.order} with this tracking number is on row {self.seen[key]} already",
            )
            return None
        self.seen[key] = request.row
        existing = self.session.scalar(
            select(Shipment.id).where(Shipment.order_id == order.id, Shipment.tracking == request.tracking.strip())
        )
        if existing is not None:
            return Planned(
                request, order.id, self.channels[order.channel_id], carrier, {}, warehouse_id, False, existing
            )
        if order.status not in SHIPPABLE:
            self.problem(request, "order", f"order {request.order} is {order.status}: only paid orders can be shipped")
            return None
        quantities = self._quantities(request, order)
        if quantities is None:
            return None
        for line_id, qty in quantities.items():
            self.taken[line_id] += qty
        before = shipped_here(self.session, [order.id])
        complete = all(before.get(line.id, 0) + self.taken[line.id] >= line.quantity for line in order.lines)
        return Planned(request, order.id, self.channels[order.channel_id], carrier, quantities, warehouse_id, complete)

    def _order(self, request: ShipRequest) -> Order | None:
        query = select(Order).where(Order.external_id == request.order.strip())
        if request.channel:
            channel_id = next((cid for cid, name in self.channels.items() if name == request.channel), None)
            if channel_id is None:
                self.problem(request, "channel", f"no channel {request.channel!r}")
                return None
            query = query.where(Order.channel_id == channel_id)
        found = list(self.session.scalars(query))
        if not found:
            where = f" on {request.channel}" if request.channel else ""
            self.problem(
                request, "order", f"no order {request.order!r}{where}: pull orders first (`syncer orders pull`)"
            )
            return None
        if len(found) > 1:
            names = ", ".join(sorted(self.channels[o.channel_id] for o in found))
            self.problem(request, "channel", f"order {request.order!r} exists on {names}: give the channel")
            return None
        return found[0]

    def _carrier(self, request: ShipRequest, order: Order | None) -> str | None:
        code = carriers.canonical(request.carrier)
        if code is None:
            known = ", ".join(carriers.CARRIERS)
            self.problem(request, "carrier", f"unknown carrier {request.carrier!r} (known: {known})")
            return None
        if order is not None:
            channel = self.channels[order.channel_id]
            if code not in self.carrier_codes(channel):
                self.problem(request, "carrier", f"carrier {code} has no code on channel {channel}: not mapped for it")
                return None
        return code

    def _warehouse(self, request: ShipRequest) -> int | None:
        if not request.warehouse:
            return None
        wid = self.warehouses.get(request.warehouse)
        if wid is None:
            known = ", ".join(sorted(self.warehouses)) or "none"
            self.problem(request, "warehouse", f"no warehouse {request.warehouse!r} (known: {known})")
        return wid

    def _quantities(self, request: ShipRequest, order: Order) -> dict[int, int] | None:
        before = shipped_here(self.session, [order.id])
        left = {line.id: line.quantity - before.get(line.id, 0) - self.taken[line.id] for line in order.lines}
        lines = sorted(order.lines, key=lambda line: line.line_id)
        if not request.lines:
            everything = {lid: qty for lid, qty in left.items() if qty > 0}
            if not everything:
                self.problem(request, "lines", f"every unit of order {request.order} has shipped already")
                return None
            return everything
        quantities: dict[int, int] = defaultdict(int)
        ok = True
        for sku, qty in request.lines:
            wanted = qty
            for line in lines:
                if line.sku != sku or wanted == 0:
                    continue
                take = min(wanted, left[line.id] - quantities[line.id])
                if take > 0:
                    quantities[line.id] += take
                    wanted -= take
            if not any(line.sku == sku for line in lines):
                self.problem(request, "lines", f"order {request.order} has no line of SKU {sku!r}")
                ok = False
            elif wanted:
                self.problem(
                    request,
                    "lines",
                    f"SKU {sku}: {qty} asked but only {qty - wanted} left to ship in order {request.order}",
                )
                ok = False
        return dict(quantities) if ok else None


def plan(
    session: Session, requests: Sequence[ShipRequest], carrier_codes: Callable[[str], Mapping[str, str]]
) -> tuple[list[Planned], list[Problem]]:
    """Check every request; returns the plans and every problem found (by row and column)."""
    planner = _Planner(session, carrier_codes)
    planned = [p for p in (planner.plan(r) for r in requests) if p is not None]
    return planned, planner.problems


# ------------------------------------------------------------------------------------------- record
def record(session: Session, planned: Sequence[Planned], user: str, now: datetime | None = None) -> list[Recorded]:
    """Record the planned shipments (those recorded before are returned as not new) and move their stock
    from reserved to shipped. Runs in the caller's transaction: all or nothing."""
    now = now or datetime.now(UTC)
    out: list[Recorded] = []
    for item in planned:
        order = session.get(Order, item.order_id)
        assert order is not None
        if item.existing is not None:
            row = session.get(Shipment, item.existing)
            assert row is not None
            units = sum(int(x["quantity"]) for x in row.lines)
            out.append(Recorded(row.id, item.channel, order.external_id, row.tracking, units, False))
            continue
        package = 1 + len(list(session.scalars(select(Shipment.id).where(Shipment.order_id == order.id))))
        row = Shipment(
            order_id=order.id,
            carrier=item.carrier,
            tracking=item.request.tracking.strip(),
            package=package,
            complete=item.complete,
            warehouse_id=item.warehouse_id,
            lines=[{"line": lid, "quantity": qty} for lid, qty in sorted(item.quantities.items())],
            shipped_at=now,
            user=user,
            status="pending",
        )
        session.add(row)
        session.flush()
        _move_stock(session, order, row, item.quantities, user)
        if item.complete:
            order.status = "shipped"
        out.append(Recorded(row.id, item.channel, order.external_id, row.tracking, sum(item.quantities.values()), True))
    return out


def _move_stock(session: Session, order: Order, shipment: Shipment, quantities: Mapping[int, int], user: str) -> None:
    lines = {line.id: line for line in order.lines}
    reserve_keys = ledger.existing_keys(session, [f"reserve:{lid}" for lid in quantities])
    release_keys = ledger.existing_keys(session, [f"release:{lid}" for lid in quantities])
    movements: list[ledger.Movement] = []
    reason = f"shipment {shipment.tracking} ({shipment.carrier}) of order {order.external_id}"
    for lid, qty in quantities.items():
        line = lines[lid]
        if line.sku_id is None or (line.warehouse_id is None and shipment.warehouse_id is None):
            continue
        reserved = f"reserve:{lid}" in reserve_keys and f"release:{lid}" not in release_keys
        source = shipment.warehouse_id or line.warehouse_id
        assert source is not None
        key = f"ship:{lid}:{shipment.id}"
        if reserved and line.warehouse_id is not None and line.warehouse_id != source:
            movements.append(
                ledger.Movement(
                    line.sku_id,
                    line.warehouse_id,
                    "release",
                    0,
                    -qty,
                    f"{reason}: shipped from another warehouse",
                    f"{key}:release",
                    user,
                    order_line_id=lid,
                )
            )
            reserved = False
        movements.append(
            ledger.Movement(
                line.sku_id, source, "ship", -qty, -qty if reserved else 0, reason, key, user, order_line_id=lid
            )
        )
    ledger.record(session, movements)


# --------------------------------------------------------------------------------------------- push
@dataclass(slots=True)
class PushOutcome:
    channel: str
    pushed: int = 0
    retry: int = 0
    parked: int = 0
    messages: list[str] = field(default_factory=list)


def backoff(attempts: int, hint: float | None = None) -> timedelta:
    """Wait before the next attempt: the server's hint, else 1, 2, 4 ... minutes (at most an hour)."""
    if hint:
        return timedelta(seconds=hint)
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def due(session: Session, channel_id: int, now: datetime, ids: Sequence[int] | None = None) -> list[Shipment]:
    query = (
        select(Shipment)
        .join(Order, Order.id == Shipment.order_id)
        .where(Order.channel_id == channel_id, Shipment.status.in_(("pending", "retry")))
        .order_by(Shipment.id)
    )
    if ids is not None:
        query = query.where(Shipment.id.in_(list(ids)))
    return [s for s in session.scalars(query) if s.next_attempt_at is None or s.next_attempt_at <= now]


def wire_shipment(session: Session, shipment: Shipment) -> WireShipment:
    """The adapter's view of a recorded shipment: the marketplace's order and line ids."""
    lines = {
        line.id: line for line in session.scalars(select(OrderLine).where(OrderLine.order_id == shipment.order_id))
    }
    return WireShipment(
        order_id=shipment.order.external_id,
        carrier=shipment.carrier,
        tracking=shipment.tracking,
        lines=tuple(
            WireLine(lines[int(x["line"])].line_id, lines[int(x["line"])].sku, int(x["quantity"]))
            for x in shipment.lines
        ),
        shipped_at=shipment.shipped_at,
        complete=shipment.complete,
        package=shipment.package,
        look_first=shipment.attempts > 0,  # an earlier attempt may have reached the marketplace
    )


def push_channel(
    context, channel: str, adapter: ChannelAdapter, *, ids: Sequence[int] | None = None, user: str = ""
) -> PushOutcome:
    """Push this channel's due shipments (or only ``ids``), one call each; every outcome is recorded."""
    outcome = PushOutcome(channel)
    now = datetime.now(UTC)
    with context.session() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == channel))
        todo = [(s.id, wire_shipment(session, s)) for s in due(session, channel_id, now, ids)]
        if not todo:
            return outcome
        run = SyncRun(channel_id=channel_id, kind="ship", user=user)
        session.add(run)
        session.flush()
        run_id = run.id
    calls_before = adapter.api_calls
    for shipment_id, wire in todo:
        reference, error = None, None
        try:
            reference = adapter.ship(wire)
        except ChannelError as exc:
            error = exc
        with context.session() as session:
            row = session.get(Shipment, shipment_id)
            assert row is not None
            _result(row, reference, error, outcome)
    with context.session() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.finished_at = datetime.now(UTC)
        run.items_ok, run.items_failed = outcome.pushed, outcome.retry + outcome.parked
        run.status = "ok" if not run.items_failed else ("partial" if outcome.pushed else "failed")
        run.api_calls = adapter.api_calls - calls_before
        run.message = f"{outcome.pushed} shipment(s) pushed, {outcome.retry} to retry, {outcome.parked} parked"
    return outcome


def _result(row: Shipment, reference: str | None, error: ChannelError | None, outcome: PushOutcome) -> None:
    now = datetime.now(UTC)
    row.attempts += 1
    if error is None:
        row.status, row.reference, row.pushed_at = "pushed", reference, now
        row.error_code = row.message = row.next_attempt_at = None
        outcome.pushed += 1
        return
    row.error_code, row.message = error.code or type(error).__name__, error.message
    if error.retryable and row.attempts < MAX_ATTEMPTS:
        row.status, row.next_attempt_at = "retry", now + backoff(row.attempts, error.retry_after)
        outcome.retry += 1
    else:
        row.status, row.next_attempt_at = "parked", None
        outcome.parked += 1
    outcome.messages.append(f"{row.tracking}: {error}")
    log.warning("shipment %s of order id %s not pushed: %s", row.tracking, row.order_id, error)
