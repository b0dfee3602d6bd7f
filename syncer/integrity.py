"""Integrity checks over the database and the leases: what ``syncer check`` verifies.

* every stock level equals the sum of its ledger movements (per SKU and warehouse), and every ledger
  pair has a level;
* every order is recorded once (per channel and external id), and each order line is reserved and
  released at most once;
* leases are sane: none expires further ahead than one time to live, and no run is left ``running``
  for a channel whose lease nobody holds (a dead owner's run not yet marked ``interrupted``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from listing_sync.syncer import leases
from listing_sync.syncer.models import Channel, Order, OrderLine, Sku, StockLevel, StockMovement, SyncRun, Warehouse
from sqlalchemy import func, select
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Problem:
    """One difference: its kind (``stock``, ``order``, ``lease``, ``run``), where, and what is wrong."""

    kind: str
    where: str
    detail: str


@dataclass(slots=True)
class Checked:
    levels: int = 0
    movements: int = 0
    orders: int = 0
    order_lines: int = 0
    leases: int = 0
    running: int = 0
    problems: list[Problem] = field(default_factory=list)


def check_stock(session: Session, out: Checked) -> None:
    """Levels = sum of the ledger, per SKU and warehouse."""
    names = dict(session.execute(select(Sku.id, Sku.sku)).all())
    codes = dict(session.execute(select(Warehouse.id, Warehouse.code)).all())
    ledger: dict[tuple[int, int], tuple[int, int]] = {}
    query = select(
        StockMovement.sku_id,
        StockMovement.warehouse_id,
        func.sum(StockMovement.on_hand_delta),
        func.sum(StockMovement.reserved_delta),
        func.count(),
    ).group_by(StockMovement.sku_id, StockMovement.warehouse_id)
    for sku_id, wh_id, on_hand, reserved, count in session.execute(query):
        ledger[(sku_id, wh_id)] = (int(on_hand or 0), int(reserved or 0))
        out.movements += int(count)
    levels = {
        (sku_id, wh_id): (on_hand, reserved)
        for sku_id, wh_id, on_hand, reserved in session.execute(
            select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
        )
    }
    out.levels = len(levels)
    for key in sorted(set(ledger) | set(levels)):
        have, want = levels.get(key, (0, 0)), ledger.get(key, (0, 0))
        if have != want:
            where = f"{names.get(key[0], f'SKU id {key[0]}')} @ {codes.get(key[1], f'warehouse id {key[1]}')}"
            out.problems.append(
                Problem(
                    "stock",
                    where,
                    f"level on-hand {have[0]}, reserved {have[1]}; ledger on-hand {want[0]}, reserved {want[1]}",
                )
            )


def check_orders(session: Session, out: Checked) -> None:
    """Each order once per channel; each order line reserved and released at most once."""
    channels = dict(session.execute(select(Channel.id, Channel.name)).all())
    out.orders = session.scalar(select(func.count()).select_from(Order)) or 0
    out.order_lines = session.scalar(select(func.count()).select_from(OrderLine)) or 0
    for channel_id, external_id, count in session.execute(
        select(Order.channel_id, Order.external_id, func.count())
        .group_by(Order.channel_id, Order.external_id)
        .having(func.count() > 1)
    ):
        out.problems.append(Problem("order", f"{channels.get(channel_id)} {external_id}", f"recorded {count} times"))
    per_line: dict[tuple[int, str], int] = defaultdict(int)
    for line_id, kind, count in session.execute(
        select(StockMovement.order_line_id, StockMovement.kind, func.count())
        .where(StockMovement.order_line_id.is_not(None), StockMovement.kind.in_(("reserve", "release")))
        .group_by(StockMovement.order_line_id, StockMovement.kind)
    ):
        per_line[(int(line_id or 0), kind)] = int(count)
    for (line_id, kind), count in sorted(per_line.items()):
        if count > 1:
            out.problems.append(Problem("order", f"order line id {line_id}", f"{kind} recorded {count} times"))


def check_leases(
    session: Session, store: leases.LeaseStore, ttl: float, out: Checked, now: datetime | None = None
) -> None:
    """No lease expires further ahead than its time to live; no run is left running without a live lease."""
    now = now or leases.now_utc()
    slack = timedelta(seconds=ttl + 5)
    held: dict[str, leases.LeaseInfo] = {}
    for info in store.all():
        out.leases += 1
        if info.live(now):
            held[info.name] = info
            if info.expires_at - now > slack:
                out.problems.append(
                    Problem("lease", info.name, f"held by {info.owner} until {info.expires_at:%Y-%m-%d %H:%M:%S} UTC")
                )
    channels = dict(session.execute(select(Channel.id, Channel.name)).all())
    for run_id, channel_id, kind, started, owner in session.execute(
        select(SyncRun.id, SyncRun.channel_id, SyncRun.kind, SyncRun.started_at, SyncRun.owner).where(
            SyncRun.status == "running"
        )
    ):
        out.running += 1
        name = channels.get(channel_id, str(channel_id))
        holder = held.get(leases.channel_lease_name(name))
        if holder is None and started < now - timedelta(seconds=1):
            out.problems.append(
                Problem(
                    "run",
                    f"{name} {kind} run {run_id}",
                    f"running since {started:%Y-%m-%d %H:%M:%S} UTC by {owner or 'an unknown process'}, "
                    "but nobody holds the channel's lease (its owner died; the next worker or sync marks it "
                    "interrupted)",
                )
            )


def check_all(session: Session, store: leases.LeaseStore, ttl: float) -> Checked:
    out = Checked()
    check_stock(session, out)
    check_orders(session, out)
    check_leases(session, store, ttl, out)
    return out
