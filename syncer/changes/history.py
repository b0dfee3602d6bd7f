"""Undo, and the change sets and sync results of a SKU (list, show, history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from listing_sync.syncer import stock as ledger
from listing_sync.syncer.changes.apply import _same, current_values
from listing_sync.syncer.changes.model import (
    UNDOABLE,
    WANTED,
    ChangeLine,
    ChangeRefused,
    _bulk,
    _chunks,
    _pct,
)
from listing_sync.syncer.changes.plans import _warehouse_id
from listing_sync.syncer.models import (
    ChangeItem,
    ChangeSet,
    Channel,
    ChannelListing,
    Sku,
    StockLevel,
    SyncResult,
    SyncRun,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session


@dataclass(slots=True)
class UndoPlan:
    change_set_id: int
    lines: list[ChangeLine]
    conflicts: list[str]


@_bulk
def plan_undo(session: Session, change_set_id: int) -> UndoPlan:
    """The lines that restore a change set's old values, and every conflict: a later change set that
    touched the same value, or a value that is no longer what the change set left.

    Prices and listing states go back to their old values; stock is reversed by the opposite movement
    (so sales since then are kept)."""
    change_set = session.get(ChangeSet, change_set_id)
    if change_set is None:
        raise ChangeRefused(f"no change set {change_set_id}")
    items = session.execute(
        select(ChangeItem, Sku.sku, Channel.name)
        .join(Sku, Sku.id == ChangeItem.sku_id)
        .outerjoin(Channel, Channel.id == ChangeItem.channel_id)
        .where(ChangeItem.change_set_id == change_set_id)
        .order_by(Sku.sku, ChangeItem.id)
    ).all()
    conflicts: list[str] = []
    if change_set.status == "undone":
        later_undo = session.scalar(select(ChangeSet.id).where(ChangeSet.undo_of == change_set_id).limit(1))
        conflicts.append(f"change set {change_set_id} was already undone (by change set {later_undo})")
    later = _later_changes(session, change_set_id, sorted({item.sku_id for item, _, _ in items}))
    lines: list[ChangeLine] = []
    touched: set[tuple[int, str, str | None]] = set()  # values a later change set changed again
    for item, sku, channel in items:
        hit = later.get((item.sku_id, item.field, item.channel_id))
        where = f"{sku} {item.field}" + (f" on {channel}" if channel else "")
        if hit is not None:
            touched.add((item.sku_id, item.field, channel))
            set_id, user, when = hit
            conflicts.append(f"{where}: changed again by change set {set_id} ({user}, {when:%Y-%m-%d %H:%M} UTC)")
        if item.field not in UNDOABLE and not item.field.startswith("stock:"):
            conflicts.append(f"{where}: {item.field} changes cannot be undone here (re-import the old value)")
            continue
        lines.append(_reversal(item, sku, channel))
    resolved = _resolve(session, change_set_id, lines, touched, conflicts)
    return UndoPlan(change_set_id, resolved, list(dict.fromkeys(conflicts)))


def _later_changes(
    session: Session, change_set_id: int, sku_ids: list[int]
) -> dict[tuple[int, str, int | None], tuple[int, str, datetime]]:
    """(SKU id, field, channel id) -> the first later change set that changed it: (id, user, when)."""
    later: dict[tuple[int, str, int | None], tuple[int, str, datetime]] = {}
    for chunk in _chunks(sku_ids):
        for sku_id, field_name, channel_id, set_id, user, when in session.execute(
            select(
                ChangeItem.sku_id,
                ChangeItem.field,
                ChangeItem.channel_id,
                ChangeSet.id,
                ChangeSet.user,
                ChangeSet.created_at,
            )
            .join(ChangeSet, ChangeSet.id == ChangeItem.change_set_id)
            .where(ChangeItem.sku_id.in_(chunk), ChangeItem.change_set_id > change_set_id)
            .order_by(ChangeSet.id)
        ):
            later.setdefault((sku_id, field_name, channel_id), (set_id, user, when))
    return later


def _reversal(item: ChangeItem, sku: str, channel: str | None) -> ChangeLine:
    """The line that takes one change item back: the opposite stock delta (resolved against today's
    on-hand later), or the old value (a listing the change set created is delisted, not deleted)."""
    if item.field.startswith("stock:"):
        delta = int(item.new_value or 0) - int(item.old_value or 0)
        return ChangeLine(item.sku_id, sku, item.field, None, str(-delta))
    restored = item.old_value
    if item.field == WANTED and restored is None:
        restored = "delisted"
    return ChangeLine(item.sku_id, sku, item.field, item.new_value, restored, channel)


def _resolve(
    session: Session,
    change_set_id: int,
    lines: list[ChangeLine],
    touched: set[tuple[int, str, str | None]],
    conflicts: list[str],
) -> list[ChangeLine]:
    """The reversals as lines from today's values; a value changed since (and not by a later change set
    already named) or a stock reversal below zero is a conflict."""
    now = current_values(session, [line for line in lines if not line.field.startswith("stock:")])
    stock_lines = [line for line in lines if line.field.startswith("stock:")]
    levels = ledger.levels(session, sorted({line.sku_id for line in stock_lines})) if stock_lines else {}
    warehouses = ledger.warehouses_by_code(session)
    resolved: list[ChangeLine] = []
    for line in lines:
        if line.field.startswith("stock:"):
            wid = warehouses.get(line.field.split(":", 1)[1])
            on_hand = levels.get((line.sku_id, wid), (0, 0))[0] if wid is not None else 0
            target = on_hand + int(line.set_to)
            if target < 0:
                conflicts.append(
                    f"{line.sku} {line.field}: on-hand is {on_hand}, reversing {line.new} would go below 0"
                )
            elif target != on_hand:
                resolved.append(ChangeLine(line.sku_id, line.sku, line.field, str(on_hand), str(target)))
            continue
        have = now.get(line.key)
        if line.key not in touched and not _same(have, line.old, line.field):
            conflicts.append(
                f"{line.sku} {line.field}"
                + (f" on {line.channel}" if line.channel else "")
                + f": is {have} now, not {line.old} as change set {change_set_id} left it"
            )
        if not _same(have, line.new, line.field):
            resolved.append(ChangeLine(line.sku_id, line.sku, line.field, have, line.new, line.channel))
    return resolved


# ----------------------------------------------------------------------------------- list, show, history
def list_change_sets(session: Session, *, limit: int = 50, user: str | None = None) -> list[dict[str, Any]]:
    counts = select(ChangeItem.change_set_id, func.count().label("n")).group_by(ChangeItem.change_set_id).subquery()
    query = (
        select(ChangeSet, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.change_set_id == ChangeSet.id)
        .order_by(ChangeSet.id.desc())
        .limit(limit)
    )
    if user:
        query = query.where(ChangeSet.user == user)
    return [_set_json(cs, n) for cs, n in session.execute(query)]


def _set_json(change_set: ChangeSet, items: int) -> dict[str, Any]:
    return {
        "id": change_set.id,
        "created_at": change_set.created_at.isoformat(timespec="seconds"),
        "user": change_set.user,
        "reason": change_set.reason,
        "command": change_set.command,
        "status": change_set.status,
        "undo_of": change_set.undo_of,
        "items": items,
    }


def show_change_set(session: Session, change_set_id: int) -> dict[str, Any]:
    change_set = session.get(ChangeSet, change_set_id)
    if change_set is None:
        raise ChangeRefused(f"no change set {change_set_id}")
    rows = session.execute(
        select(ChangeItem, Sku.sku, Channel.name, Sku.currency, Channel.currency)
        .join(Sku, Sku.id == ChangeItem.sku_id)
        .outerjoin(Channel, Channel.id == ChangeItem.channel_id)
        .where(ChangeItem.change_set_id == change_set_id)
        .order_by(Sku.sku, ChangeItem.id)
    ).all()
    undone_by = session.scalar(select(ChangeSet.id).where(ChangeSet.undo_of == change_set_id).limit(1))
    out = _set_json(change_set, len(rows))
    out["undone_by"] = undone_by
    out["changes"] = [
        {
            "sku": sku,
            "channel": channel,
            "field": item.field,
            "old": item.old_value,
            "new": item.new_value,
            "currency": _amount_currency(item.field, sku_currency, channel_currency),
            "change_pct": _pct(item.old_value, item.new_value) if item.field != WANTED else None,
        }
        for item, sku, channel, sku_currency, channel_currency in rows
    ]
    return out


def history(session: Session, sku: str) -> list[dict[str, Any]]:
    """Every change set item and sync result of one SKU, oldest first."""
    sku_id = session.scalar(select(Sku.id).where(Sku.sku == sku))
    if sku_id is None:
        raise ChangeRefused(f"no SKU {sku!r} in the catalog")
    rows: list[dict[str, Any]] = []
    sku_currency = session.scalar(select(Sku.currency).where(Sku.id == sku_id))
    for item, change_set, channel, channel_currency in session.execute(
        select(ChangeItem, ChangeSet, Channel.name, Channel.currency)
        .join(ChangeSet, ChangeSet.id == ChangeItem.change_set_id)
        .outerjoin(Channel, Channel.id == ChangeItem.channel_id)
        .where(ChangeItem.sku_id == sku_id)
    ):
        rows.append(
            {
                "time": change_set.created_at,
                "kind": "change",
                "id": change_set.id,
                "channel": channel,
                "what": item.field,
                "old": item.old_value,
                "new": item.new_value,
                "currency": _amount_currency(item.field, sku_currency, channel_currency),
                "ok": None,
                "user": change_set.user,
                "note": change_set.reason or change_set.command,
            }
        )
    for result, run, channel, channel_currency in session.execute(
        select(SyncResult, SyncRun, Channel.name, Channel.currency)
        .join(ChannelListing, ChannelListing.id == SyncResult.listing_id)
        .join(SyncRun, SyncRun.id == SyncResult.run_id)
        .join(Channel, Channel.id == ChannelListing.channel_id)
        .where(ChannelListing.sku_id == sku_id)
    ):
        rows.append(
            {
                "time": result.created_at,
                "kind": "sync",
                "id": run.id,
                "channel": channel,
                "what": result.operation,
                "old": None,
                "new": result.value,
                "currency": _amount_currency(result.operation, sku_currency, channel_currency),
                "ok": result.ok,
                "user": run.user,
                "note": result.state if result.ok else f"{result.code}: {result.message}",
            }
        )
    rows.sort(key=lambda r: (r["time"], r["kind"], r["id"]))
    for row in rows:
        row["time"] = row["time"].isoformat(timespec="seconds")
    return rows


def _amount_currency(what: str, sku_currency: str | None, channel_currency: str | None) -> str | None:
    """The currency of a history row's amounts: a base price's is the SKU's, a channel price's the channel's."""
    if what == "base_price":
        return sku_currency
    if what in ("price_override", "price", "publish"):  # a publish result is the price it published
        return channel_currency
    return None


def stock_level(session: Session, sku_id: int, code: str) -> int:
    wid = _warehouse_id(session, code)
    return (
        session.scalar(select(StockLevel.on_hand).where(StockLevel.sku_id == sku_id, StockLevel.warehouse_id == wid))
        or 0
    )
