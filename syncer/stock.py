"""The stock ledger: append-only movements with unique keys, and running totals per SKU and warehouse.

Every stock effect (import count, manual adjustment, order reservation, shipment, restock) goes
through :func:`record`, which skips movements whose idempotency key already exists, so replays are
no-ops, and keeps :class:`~syncer.models.StockLevel` in step in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from listing_sync.syncer.models import StockLevel, StockMovement, Warehouse
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Movement:
    sku_id: int
    warehouse_id: int
    kind: str
    on_hand_delta: int
    reserved_delta: int
    reason: str
    key: str
    user: str = ""
    change_set_id: int | None = None
    order_line_id: int | None = None


class NegativeStock(ValueError):
    """A movement would take on-hand or reserved below zero."""


def levels(session: Session, sku_ids: Iterable[int] | None = None) -> dict[tuple[int, int], tuple[int, int]]:
    """(sku_id, warehouse_id) -> (on_hand, reserved)."""
    query = select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
    if sku_ids is not None:
        ids = list(sku_ids)
        out: dict[tuple[int, int], tuple[int, int]] = {}
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for row in session.execute(query.where(StockLevel.sku_id.in_(chunk))):
                out[(row[0], row[1])] = (row[2], row[3])
        return out
    return {(r[0], r[1]): (r[2], r[3]) for r in session.execute(query)}


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 5000):
        chunk = list(keys[start : start + 5000])
        found.update(
            session.scalars(select(StockMovement.idempotency_key).where(StockMovement.idempotency_key.in_(chunk)))
        )
    return found


def record(session: Session, movements: Sequence[Movement]) -> list[Movement]:
    """Apply the movements whose keys are new; return those applied. Raises NegativeStock (nothing
    applied by this call's caller transaction once it rolls back) if a total would go below zero."""
    if not movements:
        return []
    seen = existing_keys(session, [m.key for m in movements])
    fresh: list[Movement] = []
    for movement in movements:
        if movement.key not in seen:
            seen.add(movement.key)
            fresh.append(movement)
    if not fresh:
        return []
    deltas: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for m in fresh:
        deltas[(m.sku_id, m.warehouse_id)][0] += m.on_hand_delta
        deltas[(m.sku_id, m.warehouse_id)][1] += m.reserved_delta
    current = levels(session, {k[0] for k in deltas})
    new_rows: list[dict[str, int]] = []
    changed_rows: list[dict[str, int]] = []
    for (sku_id, wh_id), (d_on, d_res) in deltas.items():
        on_hand, reserved = current.get((sku_id, wh_id), (0, 0))
        on_hand, reserved = on_hand + d_on, reserved + d_res
        if on_hand < 0 or reserved < 0:
            raise NegativeStock(
                f"stock of SKU id {sku_id} in warehouse id {wh_id} would become on-hand {on_hand}, reserved {reserved}"
            )
        row = {"sku_id": sku_id, "warehouse_id": wh_id, "on_hand": on_hand, "reserved": reserved}
        (changed_rows if (sku_id, wh_id) in current else new_rows).append(row)
    session.connection().execute(
        insert(StockMovement),
        [
            {
                "sku_id": m.sku_id,
                "warehouse_id": m.warehouse_id,
                "kind": m.kind,
                "on_hand_delta": m.on_hand_delta,
                "reserved_delta": m.reserved_delta,
                "reason": m.reason[:500],
                "idempotency_key": m.key,
                "user": m.user,
                "change_set_id": m.change_set_id,
                "order_line_id": m.order_line_id,
            }
            for m in fresh
        ],
    )
    if new_rows:
        session.connection().execute(insert(StockLevel), new_rows)
    if changed_rows:
        statement = (
            update(StockLevel)
            .where(StockLevel.sku_id == bindparam("b_sku"), StockLevel.warehouse_id == bindparam("b_wh"))
            .values(on_hand=bindparam("b_on"), reserved=bindparam("b_res"))
        )
        session.connection().execute(
            statement,
            [
                {"b_sku": r["sku_id"], "b_wh": r["warehouse_id"], "b_on": r["on_hand"], "b_res": r["reserved"]}
                for r in changed_rows
            ],
        )
    return fresh


def warehouses_by_code(session: Session) -> dict[str, int]:
    return {code: wid for wid, code in session.execute(select(Warehouse.id, Warehouse.code))}
