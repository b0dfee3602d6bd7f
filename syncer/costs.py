"""Cost history: each SKU's unit cost over time, so a report takes the cost at the order date.

The ``skus.cost`` column is the cost now; ``sku_costs`` keeps every value it had, from when. A cost that
changes (a catalog import, an edit) is recorded by :func:`record_changes` in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from listing_sync.syncer.models import Sku, SkuCost, now_utc, table_of
from sqlalchemy import ColumnElement, func, insert, literal, select
from sqlalchemy.orm import Session, aliased


def record_changes(session: Session, when: datetime | None = None) -> int:
    """Add a history row, valid from ``when`` (default now), for every SKU whose cost differs from its
    latest recorded one (or that has none yet). Returns the number of rows added."""
    when = when or now_utc()
    latest = (
        select(SkuCost.cost)
        .where(SkuCost.sku_id == Sku.id)
        .order_by(SkuCost.valid_from.desc(), SkuCost.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    known = select(SkuCost.id).where(SkuCost.sku_id == Sku.id).exists()
    changed = select(Sku.id, literal(when, SkuCost.valid_from.type), Sku.cost).where(
        (~known & Sku.cost.is_not(None)) | (known & latest.is_distinct_from(Sku.cost))
    )
    result = session.execute(insert(table_of(SkuCost)).from_select(["sku_id", "valid_from", "cost"], changed))
    return int(getattr(result, "rowcount", 0) or 0)


def cost_at(sku_id: Any, moment: Any) -> ColumnElement:
    """SQL: the SKU's cost at ``moment`` (the latest row from before it), else its earliest known cost
    (an order older than the first recorded cost), else its cost now (a SKU written without history by
    another path than the catalog import), else NULL."""
    before = (
        select(SkuCost.cost)
        .where(SkuCost.sku_id == sku_id, SkuCost.valid_from <= moment)
        .order_by(SkuCost.valid_from.desc(), SkuCost.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    earliest = (
        select(SkuCost.cost)
        .where(SkuCost.sku_id == sku_id)
        .order_by(SkuCost.valid_from, SkuCost.id)
        .limit(1)
        .scalar_subquery()
    )
    own = aliased(Sku)  # the caller's query may join skus itself: never correlate to it
    now = select(own.cost).where(own.id == sku_id).scalar_subquery()
    return func.coalesce(before, earliest, now)


def costed_skus():
    """SQL: the ids of SKUs with a cost, recorded or current (the others' units are "uncosted")."""
    return select(SkuCost.sku_id).where(SkuCost.cost.is_not(None)).union(select(Sku.id).where(Sku.cost.is_not(None)))
