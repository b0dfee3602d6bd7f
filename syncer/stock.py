"""The stock ledger: append-only movements with unique keys, and running totals per SKU and warehouse.

Every stock effect (import count, manual adjustment, order reservation, shipment, restock) goes
through :func:`record` (a new SKU's first counts through :func:`record_first`), which skips movements
whose idempotency key already exists, so replays are no-ops, and keeps :class:`~syncer.models.StockLevel`
in step in the same transaction: atomic deltas on rows locked in one global order (:func:`lock_levels`),
never absolute values read earlier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from listing_sync.syncer import bulkload
from listing_sync.syncer.models import StockLevel, StockMovement, Warehouse, table_of
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
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
            for row in session.execute(query.where(bulkload.among(session.connection(), StockLevel.sku_id, chunk))):
                out[(row[0], row[1])] = (row[2], row[3])
        return out
    return {(r[0], r[1]): (r[2], r[3]) for r in session.execute(query)}


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 5000):
        chunk = list(keys[start : start + 5000])
        found.update(
            session.scalars(
                select(StockMovement.idempotency_key).where(
                    bulkload.among(session.connection(), StockMovement.idempotency_key, chunk)
                )
            )
        )
    return found


def lock_levels(session: Session, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
    """Make sure the level rows of these (sku id, warehouse id) pairs exist and lock them, in one global
    order (sku id, then warehouse id), until the transaction ends; returns their current values.

    Every writer of stock levels takes its rows this way, so concurrent order pulls and bulk changes queue
    up on a row instead of deadlocking, and the values read here are the ones the deltas apply to. On
    PostgreSQL this is ``SELECT ... ORDER BY ... FOR UPDATE``; SQLite has one writer at a time anyway."""
    keys = sorted(set(pairs))
    if not keys:
        return {}
    present = levels(session, {sku for sku, _ in keys})
    missing = [
        {"sku_id": sku, "warehouse_id": wh, "on_hand": 0, "reserved": 0} for sku, wh in keys if (sku, wh) not in present
    ]
    if missing:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table_of(StockLevel)).on_conflict_do_nothing(
            index_elements=["sku_id", "warehouse_id"]
        )
        session.connection().execute(statement, missing)  # rows in the global order
    wanted = set(keys)
    out: dict[tuple[int, int], tuple[int, int]] = {}
    sku_ids = sorted({sku for sku, _ in keys})
    for start in range(0, len(sku_ids), 5000):
        query = (
            select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
            .where(bulkload.among(session.connection(), StockLevel.sku_id, sku_ids[start : start + 5000]))
            .order_by(StockLevel.sku_id, StockLevel.warehouse_id)
            .with_for_update()
        )
        for sku, wh, on_hand, reserved in session.execute(query):
            if (sku, wh) in wanted:
                out[(sku, wh)] = (on_hand, reserved)
    return out


def record(session: Session, movements: Sequence[Movement]) -> list[Movement]:
    """Apply the movements whose keys are new; return those applied. Raises NegativeStock (nothing
    applied by this call's caller transaction once it rolls back) if a total would go below zero.

    The ledger rows and the level changes are written in the caller's transaction; levels change by
    atomic deltas (``SET reserved = reserved + :n``) on rows locked in the global order of
    :func:`lock_levels`, so no concurrent writer's change is lost and levels always equal the ledger."""
    if not movements:
        return []
    fresh = _new_keys(movements, existing_keys(session, [m.key for m in movements]))
    if not fresh:
        return []
    deltas = _deltas(fresh)
    current = lock_levels(session, deltas)
    for (sku_id, wh_id), (d_on, d_res) in sorted(deltas.items()):
        on_hand, reserved = current.get((sku_id, wh_id), (0, 0))
        on_hand, reserved = on_hand + d_on, reserved + d_res
        if on_hand < 0 or reserved < 0:
            raise NegativeStock(
                f"stock of SKU id {sku_id} in warehouse id {wh_id} would become on-hand {on_hand}, reserved {reserved}"
            )
    _insert_movements(session, fresh)
    if bulkload.is_postgresql(session.connection()):
        _add_deltas_postgresql(session, deltas)
        return fresh
    changes = [(d_on, d_res, sku, wh) for (sku, wh), (d_on, d_res) in sorted(deltas.items()) if d_on or d_res]
    if changes:  # plain tuples: one executemany without per-row statement parameter handling
        session.connection().exec_driver_sql(
            "UPDATE stock_levels SET on_hand = on_hand + ?, reserved = reserved + ? "
            "WHERE sku_id = ? AND warehouse_id = ?",
            changes,
        )
    return fresh


def record_first(session: Session, movements: Sequence[Movement]) -> list[Movement]:
    """:func:`record` for the first movements of SKUs created in this transaction (an import's first
    counts of its new SKUs): no ledger row or level row can exist for them yet, so no key is looked up and
    no level locked; the movements are inserted, and each (SKU, warehouse)'s level row with its totals, in
    one statement each. A level row that exists after all makes the insert fail (the transaction with it).
    Returns the movements applied (a key repeated in ``movements`` once)."""
    fresh = _new_keys(movements, set())
    if not fresh:
        return []
    deltas = _deltas(fresh)
    for (sku_id, wh_id), (on_hand, reserved) in sorted(deltas.items()):
        if on_hand < 0 or reserved < 0:
            raise NegativeStock(
                f"stock of SKU id {sku_id} in warehouse id {wh_id} would become on-hand {on_hand}, reserved {reserved}"
            )
    _insert_movements(session, fresh)
    bulkload.copy_rows(
        session.connection(),
        table_of(StockLevel),
        [
            {"sku_id": sku_id, "warehouse_id": wh_id, "on_hand": on_hand, "reserved": reserved}
            for (sku_id, wh_id), (on_hand, reserved) in sorted(deltas.items())  # the global lock order
        ],
    )
    return fresh


def _new_keys(movements: Sequence[Movement], seen: set[str]) -> list[Movement]:
    """The movements whose keys are not in ``seen`` (nor on an earlier movement of the list)."""
    fresh: list[Movement] = []
    for movement in movements:
        if movement.key not in seen:
            seen.add(movement.key)
            fresh.append(movement)
    return fresh


def _deltas(movements: Sequence[Movement]) -> dict[tuple[int, int], list[int]]:
    """(sku id, warehouse id) -> [on-hand delta, reserved delta], summed over the movements."""
    deltas: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for m in movements:
        deltas[(m.sku_id, m.warehouse_id)][0] += m.on_hand_delta
        deltas[(m.sku_id, m.warehouse_id)][1] += m.reserved_delta
    return deltas


def _insert_movements(session: Session, movements: Sequence[Movement]) -> None:
    bulkload.copy_rows(
        session.connection(),
        table_of(StockMovement),
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
            for m in movements
        ],
    )


def _add_deltas_postgresql(session: Session, deltas: dict[tuple[int, int], list[int]]) -> None:
    """The level deltas as one ``UPDATE ... FROM unnest(...)``, rows in the global lock order."""
    changes = sorted((key, d) for key, d in deltas.items() if d[0] or d[1])
    if not changes:
        return
    session.connection().exec_driver_sql(
        "UPDATE stock_levels SET on_hand = stock_levels.on_hand + v.d_on, reserved = stock_levels.reserved + v.d_res "
        "FROM unnest(%(skus)s::bigint[], %(whs)s::bigint[], %(ons)s::bigint[], %(res)s::bigint[]) "
        "AS v(sku_id, warehouse_id, d_on, d_res) "
        "WHERE stock_levels.sku_id = v.sku_id AND stock_levels.warehouse_id = v.warehouse_id",
        {
            "skus": [sku for (sku, _), _ in changes],
            "whs": [wh for (_, wh), _ in changes],
            "ons": [d[0] for _, d in changes],
            "res": [d[1] for _, d in changes],
        },
    )


def warehouses_by_code(session: Session) -> dict[str, int]:
    return {code: wid for wid, code in session.execute(select(Warehouse.id, Warehouse.code))}
