"""Pass 2 of a catalog import: the validated file (:class:`~syncer.catalog_index.CatalogIndex`) applied
in chunks of rows, in the caller's transaction.

Per chunk, the stored row hashes of its SKUs and products are read (narrow rows); a row whose hash is the
one the index has is unchanged and is neither read from the file again nor built. Only the other rows
(new, changed, or with no hash: written by something else since) are parsed again and compared column by
column with what is stored, as a whole-file import did; they get their new hash once written. Stock
counts are compared for every row (stock moves without the catalog changing). Memory is bounded by the
chunk, whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from listing_sync.syncer import bulkload, costs
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.catalog import (
    PRODUCT_FIELDS,
    TEXT_CHUNK,
    CatalogRow,
    ImportSummary,
    LedgerEntry,
    StaleStock,
    StockMode,
)
from listing_sync.syncer.catalog_index import CatalogIndex, StoredHashes
from listing_sync.syncer.models import ChangeItem, ChangeSet, Product, ProductText, Sku, SkuText, table_of
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

CHUNK = 5000  # file rows per chunk (bounds memory and every IN list)
MOVEMENT_CHUNK = 50_000  # stock counts recorded per ledger call (bounds the statement parameter lists)

SKU_FIELDS = (
    "product_id",
    "attributes",
    "images",
    "barcode",
    "weight_grams",
    "cost",
    "base_price",
    "currency",
    "active",
    "lead_time_days",
    "supplier",
)
SKUS = table_of(Sku)
PRODUCTS = table_of(Product)
CHANGE_ITEMS = table_of(ChangeItem)


def apply_index(
    session: Session,
    index: CatalogIndex,
    *,
    user: str,
    source: str,
    stock: StockMode = StockMode.CHECK,
    empty: bool = False,
) -> ImportSummary:
    """Upsert the validated file (inside the caller's transaction). Idempotent. ``stock``: see
    :class:`StockMode`. ``empty``: the catalog had no SKU and no product when this transaction began
    (:func:`catalog_is_empty`), so nothing stored is looked up: every row is new."""
    summary = ImportSummary(rows=len(index))
    change_set = ChangeSet(user=user, reason=f"catalog import {source}", command="catalog import")
    session.add(change_set)
    session.flush()
    summary.change_set_id = change_set.id
    counts = None
    if stock is not StockMode.NONE and index.stock:
        counts = _StockCounts(change_set.id, f"stock count from {source}", user, stock is StockMode.CHECK)
    try:
        _Apply(session, index, change_set.id, summary, counts, empty).run()
    finally:
        index.close()
    if counts is not None:
        summary.stale_stock = _stale_stock(session, counts.stale, counts.warehouses)
    if not summary.changed:
        session.delete(change_set)
        summary.change_set_id = None
    return summary


@dataclass(slots=True)
class _Apply:
    session: Session
    index: CatalogIndex
    change_set_id: int
    summary: ImportSummary
    counts: _StockCounts | None
    empty: bool  # nothing was stored when the import began: no look-up can find anything
    product_ids: dict[str, int] = field(default_factory=dict)
    created_products: set[int] = field(default_factory=set)

    def run(self) -> None:
        products = iter(self.index.products.items())
        pending = next(products, None)
        for start in range(0, len(self.index), CHUNK):
            end = min(start + CHUNK, len(self.index))
            keys = []
            while pending is not None and pending[1].ordinal < end:
                keys.append(pending[0])
                pending = next(products, None)
            self._chunk(start, end, keys)
        costs.record_changes(self.session)

    def _chunk(self, start: int, end: int, product_keys: list[str]) -> None:
        """Rows ``start`` to ``end`` (ordinals), and the products whose first row is among them."""
        index, session = self.index, self.session
        stored_products = {} if self.empty else _stored(session, PRODUCTS, PRODUCTS.c.key, product_keys)
        changed_products = [
            key
            for key in product_keys
            if key not in stored_products or stored_products[key][1] != index.product_digest(key)
        ]
        self.product_ids.update({key: pid for key, (pid, _) in stored_products.items()})
        names = index.skus[start:end]
        stored_skus = {} if self.empty else _stored(session, SKUS, SKUS.c.sku, names)
        changed = [o for o in range(start, end) if stored_skus.get(names[o - start], (0, None))[1] != index.row_hash(o)]
        self.summary.skus_unchanged += (end - start) - len(changed)
        sku_ids = {sku: sid for sku, (sid, _) in stored_skus.items()}
        if changed_products or changed:
            firsts = {index.products[key].ordinal: key for key in changed_products}
            parsed = index.rows_at(sorted(set(changed) | set(firsts)))
            first_rows = [self._patched(parsed[o]) for o in sorted(firsts)]
            updated = self._products(first_rows)
            sku_rows = [parsed[o] for o in changed]
            created = self._skus(sku_rows, sku_ids)
            if updated:  # a product's content is part of every one of its SKUs' listings
                self.summary.changed_sku_ids.update(
                    session.scalars(select(Sku.id).where(bulkload.among(session.connection(), Sku.product_id, updated)))
                )
            touched = _apply_product_texts(session, first_rows, self.product_ids, self.summary, self.empty)
            # a product this import created has only SKUs this import created, all counted already
            touched -= self.created_products
            if touched:
                self.summary.changed_sku_ids.update(
                    session.scalars(
                        select(Sku.id).where(bulkload.among(session.connection(), Sku.product_id, sorted(touched)))
                    )
                )
            _apply_sku_texts(session, sku_rows, sku_ids, self.summary, self.empty)
            # the hashes last: writing texts clears their owner's hash (the database's triggers)
            _set_hashes(
                session, PRODUCTS, [(self.product_ids[r.product], index.product_digest(r.product)) for r in first_rows]
            )
            _set_hashes(session, SKUS, [(sku_ids[parsed[o].sku], index.row_hash(o)) for o in changed])
        else:
            created = set()
        if self.counts is not None:
            self.counts.apply(session, index, range(start, end), sku_ids, created, self.summary)

    def _patched(self, row: CatalogRow) -> CatalogRow:
        """The product's first row with the texts later rows of the product fill in."""
        patches = self.index.products[row.product].patches
        for key, fields in (patches or {}).items():
            row.texts.setdefault(key, {}).update(fields)
        return row

    def _products(self, rows: list[CatalogRow]) -> list[int]:
        """Create and update the products of these first rows; returns the ids of those whose content
        changed (existing ones)."""
        if not rows:
            return []
        columns = (PRODUCTS.c.id, PRODUCTS.c.key, *(PRODUCTS.c[name] for name in PRODUCT_FIELDS))
        existing = {}
        if not self.empty:
            keys = [r.product for r in rows]
            query = select(*columns).where(bulkload.among(self.session.connection(), PRODUCTS.c.key, keys))
            existing = {p.key: p for p in self.session.execute(query)}
        new = [{"key": r.product, **_product_values(r)} for r in rows if r.product not in existing]
        if new:
            result = _insert_returning(self.session, PRODUCTS, PRODUCTS.c.key, new)
            for pid, key in result:
                self.product_ids[key] = pid
                self.created_products.add(pid)
            self.summary.products_created += len(new)
        updates = []
        for row in rows:
            current = existing.get(row.product)
            if current is None:
                continue
            self.product_ids[row.product] = current.id
            values = _product_values(row)
            if any(getattr(current, k) != v for k, v in values.items()):
                updates.append({"id": current.id, **values})
        if updates:
            self.session.execute(update(Product), updates)
            self.summary.products_updated += len(updates)
        return [u["id"] for u in updates]

    def _skus(self, rows: list[CatalogRow], sku_ids: dict[str, int]) -> set[int]:
        """Create and update the SKUs of these rows (adding new ones to ``sku_ids``); a changed base price
        or cost is a change item. Returns the new SKU ids."""
        if not rows:
            return set()
        session, summary, change_set_id = self.session, self.summary, self.change_set_id
        columns = [SKUS.c[name] for name in ("id", "sku", *SKU_FIELDS)]
        existing = {}
        if not self.empty:
            query = select(*columns).where(bulkload.among(session.connection(), SKUS.c.sku, [r.sku for r in rows]))
            existing = {r.sku: r for r in session.execute(query)}
        new, updates, items = [], [], []
        for row in rows:
            values = _sku_values(row, self.product_ids[row.product])
            current = existing.get(row.sku)
            if current is None:
                new.append({"sku": row.sku, **values})
                continue
            changed = {k: v for k, v in values.items() if getattr(current, k) != v}
            if not changed:
                summary.skus_unchanged += 1
                continue
            updates.append({"id": current.id, **values})
            summary.changed_sku_ids.add(current.id)
            items += [
                _change_item(change_set_id, current.id, name, _text(getattr(current, name)), _text(values[name]))
                for name in ("base_price", "cost")
                if name in changed
            ]
            others = sorted(set(changed) - {"base_price", "cost"})
            if others:  # the change set counts (and shows) every SKU it changed, not only its prices
                items.append(_change_item(change_set_id, current.id, "catalog", None, ", ".join(others)))
        created: set[int] = set()
        if new:
            result = _insert_returning(session, SKUS, SKUS.c.sku, new)
            by_sku = {row["sku"]: row for row in new}
            for sid, sku in result:
                created.add(sid)
                sku_ids[sku] = sid
                price = by_sku[sku]
                items.append(
                    _change_item(change_set_id, sid, "created", None, f"{price['base_price']} {price['currency']}")
                )
            summary.changed_sku_ids |= created
            summary.skus_created += len(new)
        if updates:
            session.execute(update(Sku), updates)
            summary.skus_updated += len(updates)
        if items:
            bulkload.copy_rows(session.connection(), CHANGE_ITEMS, items)
        return created


def catalog_is_empty(session: Session) -> bool:
    """No SKU and no product stored (a first import: nothing in the file can match a stored row)."""
    return session.scalar(select(SKUS.c.id).limit(1)) is None and session.scalar(select(PRODUCTS.c.id).limit(1)) is None


def nothing_stored(skus: list[str], products: list[str]) -> tuple[dict[str, bytes | None], dict[str, bytes | None]]:
    """The stored row hashes of an empty catalog: none (pass 1 keeps every row for pass 2, unasked)."""
    return {}, {}


def stored_hashes(session: Session) -> StoredHashes:
    """The stored row hashes of SKUs and products, for pass 1 to know which rows to keep for pass 2."""

    def lookup(skus: list[str], products: list[str]) -> tuple[dict[str, bytes | None], dict[str, bytes | None]]:
        return (
            {k: h for k, (_, h) in _stored(session, SKUS, SKUS.c.sku, skus).items()},
            {k: h for k, (_, h) in _stored(session, PRODUCTS, PRODUCTS.c.key, products).items()},
        )

    return lookup


def _insert_returning(session: Session, table: Any, key: Any, rows: list[dict[str, Any]]) -> Iterable[Any]:
    """Insert rows, returning (id, key) of each: the rows as driver tuples (COPY on PostgreSQL), then read
    back by their unique key (on SQLite a fifth of the CPU of ``INSERT ... RETURNING`` through SQLAlchemy's
    per-row parameter handling)."""
    connection = session.connection()
    bulkload.copy_rows(connection, table, rows)
    return connection.execute(
        select(table.c.id, key).where(bulkload.among(connection, key, [r[key.name] for r in rows]))
    )


def _stored(session: Session, table: Any, key: Any, keys: list[str]) -> dict[str, tuple[int, bytes | None]]:
    """key -> (id, row hash) of the stored rows among ``keys``."""
    if not keys:
        return {}
    query = select(key, table.c.id, table.c.row_hash).where(bulkload.among(session.connection(), key, keys))
    return {k: (i, None if h is None else bytes(h)) for k, i, h in session.execute(query)}


def _set_hashes(session: Session, table: Any, hashes: list[tuple[int, bytes]]) -> None:
    bulkload.set_by_id(session.connection(), table, "row_hash", hashes)


def _product_values(row: CatalogRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in PRODUCT_FIELDS}


def _sku_values(row: CatalogRow, product_id: int) -> dict[str, Any]:
    """A row's SKU columns (:data:`SKU_FIELDS`)."""
    return {
        "product_id": product_id,
        "attributes": row.attributes,
        "images": row.images,
        "barcode": row.barcode,
        "weight_grams": row.weight_grams,
        "cost": row.cost,
        "base_price": row.base_price,
        "currency": row.currency,
        "active": row.active,
        "lead_time_days": row.lead_time_days,
        "supplier": row.supplier,
    }


def _change_item(change_set_id: int, sku_id: int, name: str, old: str | None, new: str | None) -> dict[str, Any]:
    return {"change_set_id": change_set_id, "sku_id": sku_id, "field": name, "old_value": old, "new_value": new}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# ------------------------------------------------------------------------------------------- stock
@dataclass(slots=True)
class _StockCounts:
    """Stock counts become ledger adjustments (count movements), audited as change items except a new
    SKU's first count. With ``check``, a count taken (``stock_as_of``) before movements of its SKU and
    warehouse that the ledger has since is not applied: it is collected in ``stale``."""

    change_set_id: int
    reason: str
    user: str
    check: bool
    warehouses: dict[str, int] = field(default_factory=dict)
    #: (sku, warehouse code, count in the file, stock_as_of, sku id, on hand)
    stale: list[tuple[str, str, int, int, int, int]] = field(default_factory=list)

    def apply(
        self,
        session: Session,
        index: CatalogIndex,
        ordinals: Iterable[int],
        sku_ids: dict[str, int],
        created_ids: set[int],
        summary: ImportSummary,
    ) -> None:
        """The counts of the rows at these ordinals (their SKUs' ids in ``sku_ids``)."""
        if not self.warehouses:
            self.warehouses = ledger.warehouses_by_code(session)
        rows = []
        for ordinal in ordinals:
            counts, as_of = index.counts(ordinal)
            if counts:
                rows.append((index.skus[ordinal], sku_ids[index.skus[ordinal]], counts, as_of))
        if not rows:
            return
        # a SKU created by this import has no levels and no movements yet: nothing to read for it
        ids = [sku_id for _, sku_id, _, _ in rows if sku_id not in created_ids]
        current_levels = ledger.levels(session, ids) if ids else {}
        last_movement = _last_movement_ids(session, ids) if ids else {}
        movements, first_counts, stock_items = [], [], []
        for sku, sku_id, counts, as_of in rows:
            new = sku_id in created_ids
            for code, target in counts.items():
                wh_id = self.warehouses[code]
                on_hand = 0 if new else current_levels.get((sku_id, wh_id), (0, 0))[0]
                if target == on_hand:
                    continue
                marker = 0 if new else last_movement.get((sku_id, wh_id), 0)
                if self.check and as_of is not None and marker > as_of:
                    self.stale.append((sku, code, target, as_of, sku_id, on_hand))
                    continue
                movement = ledger.Movement(
                    sku_id=sku_id,
                    warehouse_id=wh_id,
                    kind="count",
                    on_hand_delta=target - on_hand,
                    reserved_delta=0,
                    reason=self.reason,
                    user=self.user,
                    key=f"count:{sku_id}:{wh_id}:{target}:{marker}",
                    change_set_id=self.change_set_id,
                )
                if new:  # a new SKU's first count is in the ledger; audit changes only
                    first_counts.append(movement)
                else:
                    movements.append(movement)
                    stock_items.append(
                        _change_item(self.change_set_id, sku_id, f"stock:{code}", str(on_hand), str(target))
                    )
                summary.changed_sku_ids.add(sku_id)
        if first_counts:
            summary.stock_movements += len(ledger.record_first(session, first_counts))
        for start in range(0, len(movements), MOVEMENT_CHUNK):  # each (SKU, warehouse) once: chunks independent
            summary.stock_movements += len(ledger.record(session, movements[start : start + MOVEMENT_CHUNK]))
        if stock_items:
            bulkload.copy_rows(session.connection(), CHANGE_ITEMS, stock_items)


def _last_movement_ids(session: Session, sku_ids: list[int]) -> dict[tuple[int, int], int]:
    from listing_sync.syncer.models import StockMovement

    query = (
        select(StockMovement.sku_id, StockMovement.warehouse_id, func.max(StockMovement.id))
        .where(bulkload.among(session.connection(), StockMovement.sku_id, sku_ids))
        .group_by(StockMovement.sku_id, StockMovement.warehouse_id)
    )
    return {(s, w): m for s, w, m in session.execute(query)}


def _stale_stock(
    session: Session, stale: list[tuple[str, str, int, int, int, int]], warehouses: dict[str, int]
) -> list[StaleStock]:
    """Each stale count with the movements made after the file's position (read per SKU and warehouse)."""
    from listing_sync.syncer.models import StockMovement

    out = []
    for sku, code, in_file, as_of, sku_id, on_hand in stale[:1000]:  # a whole stale file: the first 1,000 say it
        query = (
            select(StockMovement)
            .where(
                StockMovement.sku_id == sku_id,
                StockMovement.warehouse_id == warehouses[code],
                StockMovement.id > as_of,
            )
            .order_by(StockMovement.id)
        )
        movements = [
            LedgerEntry(m.id, m.kind, m.on_hand_delta, m.created_at.strftime("%Y-%m-%d %H:%M"), m.reason or "")
            for m in session.scalars(query)
        ]
        out.append(StaleStock(sku, code, in_file, on_hand, as_of, movements))
    return out


# ------------------------------------------------------------------------------------------- texts


def _merged_texts(rows: list[CatalogRow]) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """product key -> (language, channel) -> fields, merged over the product's rows (non-empty wins)."""
    out: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for row in rows:
        product = out.setdefault(row.product, {})
        for key, fields in row.texts.items():
            merged = product.setdefault(key, {})
            for name, value in fields.items():
                if value or name not in merged:
                    merged[name] = value
    return out


@dataclass(slots=True)
class _TextWrites:
    """Rows to insert, update (by id) and delete (ids) in one text table, written in bulk."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)

    def write(self, session: Session, model: type[ProductText] | type[SkuText]) -> None:
        if self.inserts:
            bulkload.copy_rows(session.connection(), table_of(model), self.inserts)
        if self.updates:
            session.execute(update(model), self.updates)  # bulk UPDATE by primary key
        for start in range(0, len(self.deletes), TEXT_CHUNK):
            session.execute(delete(model).where(model.id.in_(self.deletes[start : start + TEXT_CHUNK])))


def _apply_product_texts(
    session: Session, rows: list[CatalogRow], product_ids: dict[str, int], summary: ImportSummary, empty: bool
) -> set[int]:
    """Upsert the products' localized texts (``empty``: none stored); returns the ids of the products whose
    texts changed."""
    wanted = _merged_texts(rows)
    touched: set[int] = set()
    if not any(wanted.values()):
        return touched
    ids = [] if empty else [product_ids[key] for key, texts in wanted.items() if texts]
    existing: dict[tuple[int, str, str], Any] = {}
    columns = (ProductText.id, ProductText.product_id, ProductText.language, ProductText.channel)
    for start in range(0, len(ids), TEXT_CHUNK):
        for text in session.execute(
            select(*columns, ProductText.title, ProductText.description, ProductText.bullet_points).where(
                bulkload.among(session.connection(), ProductText.product_id, ids[start : start + TEXT_CHUNK])
            )
        ):
            existing[(text.product_id, text.language, text.channel)] = text
    writes = _TextWrites()
    for key, texts in wanted.items():
        pid = product_ids[key]
        for (language, channel), fields in texts.items():
            if _upsert_product_text(writes, pid, language, channel, fields, existing.get((pid, language, channel))):
                summary.texts_changed += 1
                touched.add(pid)
    writes.write(session, ProductText)
    return touched


def _upsert_product_text(
    writes: _TextWrites, pid: int, language: str, channel: str, fields: dict[str, Any], current: Any
) -> bool:
    """Set the fields in the file over the stored text (a text left empty is deleted); True if it changed.
    ``current`` is the stored row (id, title, description, bullet_points) or None."""
    values: dict[str, Any] = {
        "title": current.title if current else "",
        "description": current.description if current else "",
        "bullet_points": list(current.bullet_points or []) if current else [],
    }
    for name, value in fields.items():
        values["bullet_points" if name == "bullets" else name] = value
    empty = not (values["title"] or values["description"] or values["bullet_points"])
    if current is None:
        if empty:
            return False
        writes.inserts.append({"product_id": pid, "language": language, "channel": channel, **values})
    elif empty:
        writes.deletes.append(current.id)
    elif all(getattr(current, k) == v for k, v in values.items()):
        return False
    else:
        writes.updates.append({"id": current.id, **values})
    return True


def _apply_sku_texts(
    session: Session, rows: list[CatalogRow], sku_ids: dict[str, int], summary: ImportSummary, empty: bool
) -> None:
    """Upsert the SKUs' attribute values by language (``empty``: none stored); their SKUs count as changed."""
    sku_rows = [row for row in rows if row.attr_texts]
    if not sku_rows:
        return
    ids = [] if empty else [sku_ids[row.sku] for row in sku_rows]
    existing: dict[tuple[int, str], Any] = {}
    for start in range(0, len(ids), TEXT_CHUNK):
        for text in session.execute(
            select(SkuText.id, SkuText.sku_id, SkuText.language, SkuText.attributes).where(
                bulkload.among(session.connection(), SkuText.sku_id, ids[start : start + TEXT_CHUNK])
            )
        ):
            existing[(text.sku_id, text.language)] = text
    writes = _TextWrites()
    for row in sku_rows:
        sid = sku_ids[row.sku]
        for language, values in row.attr_texts.items():
            if _upsert_sku_text(writes, sid, language, values, existing.get((sid, language))):
                summary.texts_changed += 1
                summary.changed_sku_ids.add(sid)
    writes.write(session, SkuText)


def _upsert_sku_text(writes: _TextWrites, sid: int, language: str, values: dict[str, str], current: Any) -> bool:
    """Merge the file's attribute values into the stored ones ("" removes one; a text left empty is
    deleted); True if it changed. ``current`` is the stored row (id, attributes) or None."""
    merged: dict[str, Any] = dict(current.attributes or {}) if current else {}
    for name, value in values.items():
        if value:
            merged[name] = value
        else:
            merged.pop(name, None)
    if current is None:
        if not merged:
            return False
        writes.inserts.append({"sku_id": sid, "language": language, "attributes": merged})
    elif not merged:
        writes.deletes.append(current.id)
    elif merged == dict(current.attributes or {}):
        return False
    else:
        writes.updates.append({"id": current.id, "attributes": merged})
    return True
