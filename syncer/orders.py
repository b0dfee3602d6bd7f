"""Orders: incremental pull, upsert, and their stock effects in the ledger.

* Pull from the channel's stored cursor; each page's orders AND the advanced cursor commit in one
  transaction, so a crash loses nothing and a rerun re-reads at most one page (harmless: orders are
  upserted by (channel, external id) and every stock effect has a unique ledger key).
* Lifecycle: paid -> reserve; shipped -> on-hand decrement and reservation released; cancelled or
  refunded before shipping -> reservation released; returned after shipping -> restock only when the
  return is received (``syncer orders receive-return``).
* Lines whose SKU is unknown are kept and flagged ``unmatched``; they are never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import NamedTuple

from listing_sync.adapters.base import ChannelAdapter, OrderCursor, OrderStatus, Recipient, UnexpectedResponse
from listing_sync.adapters.base import Order as RemoteOrder
from listing_sync.adapters.paging import PageGuard
from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import leases, reconcile
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.models import (
    Channel,
    ChannelListing,
    Order,
    OrderCursorRow,
    OrderLine,
    Sku,
    StockLevel,
    StockMovement,
    SyncRun,
    table_of,
)
from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.orm import Session

log = logging.getLogger("syncer.orders")

INITIAL_LOOKBACK = timedelta(hours=24)
#: how far apart a sale and our last quantity push must be to tell which came first
SALE_CLOCK_SLACK = timedelta(seconds=2)
#: orders left out of a pull whose messages the pull's run keeps (status shows them)
PROBLEMS_KEPT = 20
RESERVING = {OrderStatus.PAID}
SHIPPED = {OrderStatus.SHIPPED, OrderStatus.DELIVERED}
RELEASING = {OrderStatus.CANCELLED, OrderStatus.REFUNDED}


@dataclass(slots=True)
class PullReport:
    channel: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: int = 0
    pages: int = 0
    #: orders read so far (a re-read overlap counts again) and, where the marketplace tells, how many the
    #: windows read so far hold: a progress bar's position and total (None: no total, a spinner)
    orders: int = 0
    expected: int | None = None
    affected_sku_ids: set[int] = field(default_factory=set)
    pulled_at: datetime | None = None
    #: orders left out because they did not read as documented (each message names it, with an excerpt)
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------- apply
def _pick_warehouse(session: Session, sku_id: int, warehouses: dict[str, int], channel: ChannelConfig) -> int:
    """The feeding warehouse with the most available stock (the first one when none has any)."""
    ids = [warehouses[c] for c in channel.warehouses if c in warehouses]
    levels = {
        wid: on - res
        for wid, on, res in session.execute(
            select(StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved).where(
                StockLevel.sku_id == sku_id, StockLevel.warehouse_id.in_(ids)
            )
        )
    }
    return max(ids, key=lambda wid: (levels.get(wid, 0), -ids.index(wid)))


def _keys_present(session: Session, keys: Sequence[str]) -> set[str]:
    return ledger.existing_keys(session, list(keys))


def stock_effects(
    session: Session,
    order: Order,
    channel: ChannelConfig,
    user: str = "orders",
    sold: list[tuple[int, int, datetime]] | None = None,
) -> set[int]:
    """Apply the ledger movements the order's current status calls for (each once, ever). The lines first
    counted here (reserved, or shipped without a reservation) are added to ``sold`` as (SKU id, units,
    placed at): units the marketplace took off its own quantity."""
    from listing_sync.syncer.shipping import shipped_here

    status = OrderStatus(order.status)
    warehouses = ledger.warehouses_by_code(session)
    here = shipped_here(session, [order.id])
    movements: list[ledger.Movement] = []
    touched: set[int] = set()
    for line in order.lines:
        if line.sku_id is None:
            continue
        if line.warehouse_id is None:
            line.warehouse_id = _pick_warehouse(session, line.sku_id, warehouses, channel)
        keys = {k: f"{k}:{line.id}" for k in ("reserve", "ship", "release", "restock")}
        present = _keys_present(session, list(keys.values()))
        reserved = keys["reserve"] in present
        shipped = keys["ship"] in present
        released = keys["release"] in present
        movement = partial(
            ledger.Movement, sku_id=line.sku_id, warehouse_id=line.warehouse_id, user=user, order_line_id=line.id
        )
        reason = f"order {order.external_id} on {channel.name}"
        if status in RESERVING and not (reserved or shipped or released):
            movements.append(
                movement(
                    kind="reserve",
                    on_hand_delta=0,
                    reserved_delta=line.quantity,
                    reason=f"reserve for {reason}",
                    key=keys["reserve"],
                )
            )
        elif status in SHIPPED | {OrderStatus.RETURNED} and not shipped and not released:
            # units shipped here already left the ledger with their shipment: ship only the rest
            remaining = line.quantity - here.get(line.id, 0)
            if remaining <= 0:
                continue
            on_hand = (
                session.scalar(
                    select(StockLevel.on_hand).where(
                        StockLevel.sku_id == line.sku_id, StockLevel.warehouse_id == line.warehouse_id
                    )
                )
                or 0
            )
            take = min(remaining, on_hand)
            if take < remaining:
                log.warning("%s: shipped %d of SKU id %d but only %d on hand", reason, remaining, line.sku_id, on_hand)
            movements.append(
                movement(
                    kind="ship",
                    on_hand_delta=-take,
                    reserved_delta=-remaining if reserved else 0,
                    reason=f"shipped {reason}",
                    key=keys["ship"],
                )
            )
        elif status in RELEASING and reserved and not shipped and not released:
            remaining = line.quantity - here.get(line.id, 0)
            if remaining <= 0:
                continue
            movements.append(
                movement(
                    kind="release",
                    on_hand_delta=0,
                    reserved_delta=-remaining,
                    reason=f"{status.value} {reason}",
                    key=keys["release"],
                )
            )
        else:
            continue
        touched.add(line.sku_id)
    applied = ledger.record(session, movements)
    if sold is not None:
        quantities = {line.id: line.quantity for line in order.lines}
        sold.extend(
            (m.sku_id, quantities[m.order_line_id], order.placed_at)
            for m in applied
            if m.order_line_id is not None and (m.kind == "reserve" or (m.kind == "ship" and m.reserved_delta == 0))
        )
    return touched


def model_sales(session: Session, channel_id: int, sold: Sequence[tuple[int, int, datetime]]) -> None:
    """The marketplace's own quantity dropped by each sale on it: take the units off the listing's last
    known quantity (``pushed_quantity``) and mark a clean listing dirty, so a quantity that now differs from
    the desired one is pushed again (and one that does not settles without a call).

    Only a sale placed after the listing's last quantity push comes off: an absolute push after the sale
    overwrote the marketplace's own decrement. A sale within :data:`SALE_CLOCK_SLACK` of that push (order
    times have a second's resolution, clocks differ) cannot be placed either way: the last known quantity
    becomes unknown, which pushes the desired quantity again."""
    table = table_of(ChannelListing)
    mine = (
        table.c.channel_id == channel_id,
        table.c.sku_id == bindparam("b_sku"),
        table.c.pushed_quantity.is_not(None),
    )
    pushed_at = table.c.quantity_pushed_at
    dirty = case((table.c.status == "clean", "dirty"), else_=table.c.status)
    after = (
        update(table)
        .where(*mine, or_(pushed_at.is_(None), pushed_at < bindparam("b_early")))
        .values(
            pushed_quantity=case(
                (table.c.pushed_quantity > bindparam("b_units"), table.c.pushed_quantity - bindparam("b_units")),
                else_=0,
            ),
            status=dirty,
        )
    )
    unsure = (
        update(table)
        .where(
            *mine,
            pushed_at >= bindparam("b_early"),
            pushed_at <= bindparam("b_late"),
        )
        .values(pushed_quantity=None, status=dirty)
    )
    for sku_id, units, placed in sorted(sold, key=lambda sale: sale[0]):
        params = {
            "b_sku": sku_id,
            "b_units": units,
            "b_early": placed - SALE_CLOCK_SLACK,
            "b_late": placed + SALE_CLOCK_SLACK,
        }
        session.execute(after, params)
        session.execute(unsure, params)


def _lock_page(session: Session, channel: ChannelConfig, orders: Sequence[RemoteOrder]) -> None:
    """Lock what a page of orders can change up front, in the global order: the stock levels of its SKUs in
    the channel's warehouses, then their listings on every channel by id. A page's orders then apply one
    after another without deadlocking a concurrent pull or bulk change on the same SKUs."""
    codes = sorted({line.sku for order in orders for line in order.lines})
    if not codes:
        return
    warehouses = ledger.warehouses_by_code(session)
    feeding = [warehouses[code] for code in channel.warehouses if code in warehouses]
    ids: list[int] = []
    for start in range(0, len(codes), 5000):
        ids.extend(session.scalars(select(Sku.id).where(Sku.sku.in_(codes[start : start + 5000]))))
    ledger.lock_levels(session, [(sku_id, wh) for sku_id in ids for wh in feeding])
    reconcile.lock_listings_of(session, ids)


#: the keys of ``orders.buyer`` (personal data, purged by syncer.retention)
BUYER_KEYS = ("name", "phone", "address1", "address2", "city", "state", "postal_code", "country")


def keep_recipient(order: Order, recipient: Recipient | None) -> None:
    """Store (or refresh) who and where the order ships to in ``orders.buyer`` for the packing documents;
    nothing when the marketplace gave none. Personal data: never logged; purged by the retention job."""
    if not recipient:
        return
    order.buyer = {key: str(getattr(recipient, key) or "")[:300] for key in BUYER_KEYS}


def upsert_orders(
    session: Session,
    channel: ChannelConfig,
    channel_id: int,
    orders: Iterable[RemoteOrder],
    report: PullReport,
) -> set[int]:
    """Insert or update orders and lines; apply stock effects of real state changes. Returns SKU ids touched."""
    orders = list(orders)
    _lock_page(session, channel, orders)
    sold: list[tuple[int, int, datetime]] = []
    sku_ids = {}
    touched: set[int] = set()
    now = datetime.now(UTC)
    for remote in orders:
        row = session.scalar(
            select(Order).where(Order.channel_id == channel_id, Order.external_id == remote.external_id)
        )
        if row is not None and row.status == remote.status.value and row.updated_at >= remote.updated_at:
            row.last_seen_at = now
            report.unchanged += 1
            continue
        if row is None:
            row = Order(
                channel_id=channel_id,
                external_id=remote.external_id,
                status=remote.status.value,
                raw_status=remote.raw_status,
                placed_at=remote.placed_at,
                updated_at=remote.updated_at,
                currency=remote.currency,
                total=remote.total.amount,
                shipping=remote.shipping.amount if remote.shipping else None,
                ship_country=remote.ship_country,
                fees=remote.fees.amount if remote.fees else None,
            )
            session.add(row)
            session.flush()
            report.new += 1
        else:
            if remote.updated_at < row.updated_at:  # an older copy delivered late: ignore
                report.unchanged += 1
                continue
            row.status, row.raw_status, row.updated_at = remote.status.value, remote.raw_status, remote.updated_at
            row.total = remote.total.amount
            if remote.fees is not None:  # fees are often known only once the order is paid
                row.fees = remote.fees.amount
            row.last_seen_at = now
            report.updated += 1
        keep_recipient(row, remote.recipient)
        existing = {line.line_id: line for line in row.lines}
        for remote_line in remote.lines:
            if remote_line.line_id in existing:
                continue
            if remote_line.sku not in sku_ids:
                sku_ids[remote_line.sku] = session.scalar(select(Sku.id).where(Sku.sku == remote_line.sku))
            sku_id = sku_ids[remote_line.sku]
            line = OrderLine(
                order_id=row.id,
                line_id=remote_line.line_id,
                sku=remote_line.sku,
                sku_id=sku_id,
                quantity=remote_line.quantity,
                unit_price=remote_line.unit_price.amount,
                title=remote_line.title,
                unmatched=sku_id is None,
            )
            if sku_id is None:
                report.unmatched += 1
                log.warning(
                    "order %s on %s: unknown SKU %r kept as unmatched",
                    remote.external_id,
                    channel.name,
                    remote_line.sku,
                )
            session.add(line)
            row.lines.append(line)
        session.flush()
        touched |= stock_effects(session, row, channel, sold=sold)
    model_sales(session, channel_id, sold)
    return touched


# ---------------------------------------------------------------------------------------- pull
def load_cursor(
    session: Session, channel_id: int, since: datetime | None = None, lookback: timedelta = INITIAL_LOOKBACK
) -> OrderCursor:
    """The stored cursor; ``since`` restarts from a time; a channel's first pull looks back ``lookback``."""
    if since is not None:
        return OrderCursor(since)
    row = session.get(OrderCursorRow, channel_id)
    if row is None:
        return OrderCursor(datetime.now(UTC) - lookback)
    return OrderCursor.from_json(row.cursor)


def save_cursor(session: Session, channel_id: int, cursor: OrderCursor) -> None:
    row = session.get(OrderCursorRow, channel_id)
    if row is None:
        session.add(OrderCursorRow(channel_id=channel_id, cursor=cursor.to_json()))
    else:
        row.cursor = cursor.to_json()


def pulled_within(session: Session, channel_name: str, seconds: float, now: datetime | None = None) -> bool:
    """Whether a pull of this channel's orders finished (ok or partial) in the last ``seconds``: then a
    stock push need not pull again (pull once per cycle; 0 = always pull)."""
    if seconds <= 0:
        return False
    since = (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    return reconcile.order_pull_exists(
        session, channel_name, SyncRun.status.in_(("ok", "partial")), SyncRun.finished_at >= since
    )


def pull_channel(
    context,
    channel: ChannelConfig,
    adapter: ChannelAdapter,
    *,
    since: datetime | None = None,
    user: str = "",
    progress=None,
    max_pages: int | None = None,
) -> PullReport:
    """Pull one channel's orders from its cursor to now; each page commits with its cursor.

    A pull that points back to a page position it has already read raises ``NoProgress``; one that
    reads ``max_pages`` pages (default: the channel's ``max_pages``) raises ``TooManyPages``. What was
    committed stays, and the next pull goes on from the stored cursor."""
    report = PullReport(channel.name)
    with context.session() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == channel.name))
        lookback = timedelta(hours=context.settings.orders_initial_lookback_hours)
        cursor = load_cursor(session, channel_id, since, lookback)
    guard = PageGuard(channel.name, "order pull page token", max_pages=max_pages or channel.max_pages)
    if progress:
        progress(report)
    with _run(context, channel_id, "orders", user, adapter, report):
        while True:
            leases.check_held()  # a page is committed only while the channel's lease is ours
            page = adapter.orders_since(cursor)
            report.orders += len(page.orders) + len(page.problems)
            if page.total is not None and cursor.page is None:  # a window's first page: its total
                report.expected = (report.expected or 0) + page.total
            _record(context, channel, channel_id, page.orders, report, cursor=page.next)
            for problem in page.problems:  # orders the marketplace sent in a shape we cannot read
                log.warning("%s", problem)
                report.problems.append(problem.message)
            if progress:
                progress(report)
            if page.done:
                break
            guard.step(_position(cursor), _position(page.next), items=None, more=True)
            cursor = page.next
    report.pulled_at = datetime.now(UTC)
    return report


def ingest_orders(
    context, channel: ChannelConfig, adapter: ChannelAdapter, order_ids: Iterable[str], *, user: str = ""
) -> PullReport:
    """Read these orders by the marketplace's id (a webhook named them) and record them as a pull does: upsert,
    ledger effects, every channel's listings of their SKUs recomputed. An id the marketplace does not know is
    skipped. Its run is a ``webhook`` run, not an ``orders`` one: the cursor pull keeps its schedule."""
    report = PullReport(channel.name)
    with context.session() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == channel.name))
    with _run(context, channel_id, "webhook", user, adapter, report):
        found = []
        for order_id in dict.fromkeys(order_ids):
            try:
                order = adapter.order(order_id)
            except UnexpectedResponse as problem:  # one order that does not read: told, the others go on
                log.warning("%s", problem)
                report.problems.append(problem.message)
                continue
            if order is not None:
                found.append(order)
        leases.check_held()
        _record(context, channel, channel_id, found, report)
    report.pulled_at = datetime.now(UTC)
    return report


def _record(
    context,
    channel: ChannelConfig,
    channel_id: int,
    orders: Sequence[RemoteOrder],
    report: PullReport,
    *,
    cursor: OrderCursor | None = None,
) -> None:
    """One transaction: the orders upserted with their stock effects (and the advanced ``cursor``), every
    channel's listings of the touched SKUs recomputed."""
    with context.session() as session:
        touched = upsert_orders(session, channel, channel_id, orders, report)
        if cursor is not None:
            save_cursor(session, channel_id, cursor)
        if touched:
            reconcile.refresh(session, context.channels, touched)
    report.affected_sku_ids |= touched
    report.pages += 1


@contextmanager
def _run(context, channel_id: int, kind: str, user: str, adapter: ChannelAdapter, report: PullReport) -> Iterator[None]:
    """Record the block as a run of ``kind`` on the channel: running, then ok, partial (orders left out) or
    failed with the error, the API calls it made and what it counted."""
    with context.session() as session:
        run = SyncRun(channel_id=channel_id, kind=kind, user=user, owner=leases.current_owner())
        session.add(run)
        session.flush()
        run_id = run.id
    calls_before = adapter.api_calls
    status, message = "ok", ""
    try:
        yield
    except Exception as exc:
        status, message = "failed", str(exc)
        raise
    else:
        status = "partial" if report.problems else "ok"
    finally:
        with context.session() as session:
            run = session.get(SyncRun, run_id)
            run.finished_at = datetime.now(UTC)
            run.status = status
            run.items_ok = report.new + report.updated
            run.api_calls = adapter.api_calls - calls_before
            run.items_failed = len(report.problems)
            run.message = "; ".join(
                [
                    message
                    or (
                        f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
                        f"{report.unmatched} unmatched lines"
                    ),
                    *(f"left out: {problem}" for problem in report.problems[:PROBLEMS_KEPT]),
                ]
            )


class _WindowPage(NamedTuple):
    """Where an order pull stands inside one window: the window and the marketplace's page token."""

    since: datetime
    until: datetime | None
    page: str

    def __repr__(self) -> str:  # messages name the marketplace's token, not our window
        return repr(self.page)


def _position(cursor: OrderCursor) -> _WindowPage | None:
    """A cursor as a paging position: only one inside a window (with a page token) is one; a window's
    start is read afresh each time (its end moves with the clock), so going back to it is no repeat."""
    return _WindowPage(cursor.since, cursor.until, cursor.page) if cursor.page is not None else None


def receive_return(session: Session, channel_id: int, external_id: str, user: str) -> int:
    """Restock a returned order's lines (once). Returns units restocked."""
    order = session.scalar(select(Order).where(Order.channel_id == channel_id, Order.external_id == external_id))
    if order is None:
        raise LookupError(f"no order {external_id} on that channel")
    from listing_sync.syncer.shipping import shipped_here

    here = shipped_here(session, [order.id])
    restocked = 0
    movements = []
    for line in order.lines:
        if line.sku_id is None or line.warehouse_id is None:
            continue
        shipped = session.scalar(select(StockMovement.id).where(StockMovement.idempotency_key == f"ship:{line.id}"))
        units = line.quantity if shipped is not None else here.get(line.id, 0)
        if units <= 0:
            continue
        movements.append(
            ledger.Movement(
                sku_id=line.sku_id,
                warehouse_id=line.warehouse_id,
                kind="restock",
                on_hand_delta=units,
                reserved_delta=0,
                reason=f"return received for order {external_id}",
                key=f"restock:{line.id}",
                user=user,
                order_line_id=line.id,
            )
        )
        restocked += units
    applied = ledger.record(session, movements)
    order.return_received = True
    return sum(m.on_hand_delta for m in applied)
