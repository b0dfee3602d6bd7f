"""Catalog actions: import a file (validated whole first), export it in the import column set, show a SKU."""

from __future__ import annotations

import glob
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from listing_sync.syncer import catalog, reconcile
from listing_sync.syncer.catalog import ImportSummary, StockMode
from listing_sync.syncer.context import Context, current_user, ensure_channel_rows
from listing_sync.syncer.models import Product, Sku, StockMovement, Warehouse
from listing_sync.syncer.services.changes import HistoryEntry, sku_history
from listing_sync.syncer.services.common import (
    Conflict,
    FileFormat,
    NotFound,
    Written,
    configured_channels,
    iso_utc,
    require_out,
    write_table,
)
from listing_sync.syncer.services.listings import MAX_PER_PAGE, ListingQuery, ListingRow, query_listings
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError


@dataclass(frozen=True, slots=True)
class ImportStep:
    """Progress of an import: ``stage`` validating (``advance`` rows more of ``total``) or writing."""

    stage: str
    advance: int = 0
    total: int | None = None


@dataclass(frozen=True, slots=True)
class CatalogImported:
    """What an import did (``summary.change_set_id`` is None when nothing changed)."""

    path: Path
    summary: ImportSummary


def import_catalog(
    context: Context,
    path: Path,
    *,
    user: str | None = None,
    progress: Callable[[ImportStep], None] | None = None,
    stock: StockMode = StockMode.CHECK,
) -> CatalogImported:
    """Import a catalog file: the whole file is validated first and nothing is applied unless it is clean;
    the listings of the SKUs it changed are recomputed (dirty for the next sync).

    ``stock``: by default a stock count taken (the file's ``stock_as_of``, which an export writes) before
    movements the ledger has since is not applied and is reported in ``summary.stale_stock`` (prices and
    content still import); :attr:`StockMode.FILE` applies the file's counts anyway, :attr:`StockMode.NONE`
    leaves stock out."""
    if not path.exists():
        raise NotFound(f"{path}: no such file")
    total = count_rows(path) if progress is not None else None
    if progress is not None:
        progress(ImportStep("validating", 0, total))
    channels = configured_channels(context)
    try:
        with context.session() as session:
            if channels:
                ensure_channel_rows(session, channels)
            summary = catalog.import_file(
                session,
                path,
                user=current_user(user),
                stock=stock,
                progress=None if progress is None else (lambda n: progress(ImportStep("validating", n, total))),
            )
            if progress is not None:
                progress(ImportStep("writing", 0, total))
            if summary.changed_sku_ids and channels:
                reconcile.refresh(session, channels, summary.changed_sku_ids)
    except Exception as exc:  # SQLAlchemy's IntegrityError, or psycopg's own from a COPY
        if not _unique_violation(exc):
            raise
        raise Conflict(
            f"{path.name}: another import or edit added the same SKUs or products while this import ran; "
            "nothing of this import was applied: run it again (it will update what the other one added)"
        ) from None
    return CatalogImported(path, summary)


def _unique_violation(exc: Exception) -> bool:
    """A unique key taken by another transaction (PostgreSQL's 23505, SQLite's UNIQUE constraint)."""
    cause = exc.orig if isinstance(exc, IntegrityError) else exc
    return getattr(cause, "sqlstate", None) == "23505" or (
        isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(cause)
    )


def count_rows(path: Path) -> int | None:
    """Data rows of a CSV, or of an XLSX by its recorded dimensions (for a progress bar's total); None
    when unknown (a workbook that records none, or one that cannot be read: the import says why)."""
    if path.suffix.lower() == ".xlsx":
        return _xlsx_rows(path)
    if path.suffix.lower() != ".csv":
        return None
    with path.open("rb") as fh:
        return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1)


def export_catalog(context: Context, *, fmt: FileFormat, out: Path | None = None, bom: bool = False) -> Written:
    """The catalog in the import column set (export -> import changes nothing): CSV or XLSX to ``out``,
    or CSV text (``bom``: starting with a UTF-8 BOM, for Excel)."""
    require_out(fmt, out)
    with context.session() as session:
        header, rows = catalog.export_rows(session)
        return write_table(header, rows, fmt=fmt, out=out, sheet="catalog", bom=bom)


@dataclass(frozen=True, slots=True)
class SkuDetails:
    """One SKU: its product, texts, attributes, prices (``data``) and stock per warehouse (``stock``)."""

    data: dict[str, Any]

    @property
    def stock(self) -> list[dict[str, Any]]:
        return list(self.data["stock"])


def show_sku(context: Context, sku: str) -> SkuDetails:
    """One SKU with its product and stock per warehouse."""
    with context.session() as session:
        data = catalog.show(session, sku)
    if data is None:
        raise NotFound(f"no SKU {sku!r} in the catalog")
    return SkuDetails(data)


def _xlsx_rows(path: Path) -> int | None:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 (openpyxl raises many types; the import reports the file's problem)
        return None
    try:
        rows = workbook.worksheets[0].max_row if workbook.worksheets else None
    finally:
        workbook.close()
    return None if rows is None else max(0, rows - 1)


# ------------------------------------------------------------------------------------- the SKU page
@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One stock movement of a SKU (deltas of on hand and reserved) and why."""

    time: str
    warehouse: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    reason: str
    user: str
    change_set: int | None


@dataclass(frozen=True, slots=True)
class SkuOverview:
    """Everything about one SKU: its catalog data and stock per warehouse, its last stock movements
    (newest first), each channel's listing (desired and pushed price and quantity in the channel's
    currency, state, last error) and its history of changes and sync results (oldest first)."""

    details: SkuDetails
    ledger: list[LedgerEntry]
    listings: list[ListingRow]
    history: list[HistoryEntry]


def sku_overview(context: Context, sku: str, *, ledger_limit: int = 50) -> SkuOverview:
    """One SKU's page (read only); an unknown SKU raises :class:`NotFound`."""
    details = show_sku(context, sku)
    with context.session() as session:
        moves = session.execute(
            select(StockMovement, Warehouse.code)
            .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
            .join(Sku, Sku.id == StockMovement.sku_id)
            .where(Sku.sku == sku)
            .order_by(StockMovement.id.desc())
            .limit(ledger_limit)
        ).all()
        ledger = [
            LedgerEntry(
                iso_utc(move.created_at) or "",
                code,
                move.kind,
                move.on_hand_delta,
                move.reserved_delta,
                move.reason,
                move.user,
                move.change_set_id,
            )
            for move, code in moves
        ]
    listings = query_listings(context, ListingQuery(sku=glob.escape(sku), sort="channel", per_page=MAX_PER_PAGE))
    return SkuOverview(details, ledger, listings.rows, sku_history(context, sku))


def categories(context: Context) -> list[str]:
    """The catalog's product categories, sorted (for pickers and filters)."""
    with context.session() as session:
        return sorted(c for c in session.scalars(select(Product.category).distinct()) if c)


# ------------------------------------------------------------------------------------ the catalog grid
#: the columns the catalog grid sorts by (ties by SKU)
SKU_SORTS = ("sku", "product", "title", "category", "base_price", "available", "updated")


@dataclass(frozen=True, slots=True)
class SkuQuery:
    """Filters of the catalog grid (all optional; every given one must match), sort and page."""

    sku: str | None = None  # a glob: TEA-*, *-250G
    product: str | None = None  # part of the product's key or title
    category: str | None = None
    tag: str | None = None
    sort: str = "sku"
    descending: bool = False
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True, slots=True)
class SkuRow:
    """One SKU of the catalog grid: its product, base price (in ``currency``), cost and stock summed
    over the warehouses (``available`` = on hand - reserved)."""

    sku: str
    product: str
    title: str
    category: str
    tags: tuple[str, ...]
    base_price: str
    currency: str
    cost: str | None
    on_hand: int
    reserved: int
    available: int
    active: bool
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class SkuPage:
    rows: list[SkuRow]
    total: int
    page: int
    per_page: int


def query_skus(context: Context, query: SkuQuery) -> SkuPage:
    """The catalog's SKUs matching ``query``, sorted and paged (read only). Bad parameters are refused,
    each named."""
    from listing_sync.syncer.models import Product, StockLevel
    from listing_sync.syncer.services.common import InvalidRequest
    from listing_sync.syncer.services.listings import page_problems, sku_filters
    from sqlalchemy import func

    problems = page_problems(query.sort, SKU_SORTS, query.page, query.per_page)
    if problems:
        raise InvalidRequest("; ".join(problems))
    stock = (
        select(
            StockLevel.sku_id,
            func.sum(StockLevel.on_hand).label("on_hand"),
            func.sum(StockLevel.reserved).label("reserved"),
        )
        .group_by(StockLevel.sku_id)
        .subquery()
    )
    on_hand, reserved = func.coalesce(stock.c.on_hand, 0), func.coalesce(stock.c.reserved, 0)
    sorts: dict[str, Any] = {
        "sku": Sku.sku,
        "product": Product.key,
        "title": Product.title,
        "category": Product.category,
        "base_price": Sku.base_price,
        "available": on_hand - reserved,
        "updated": Sku.updated_at,
    }
    with context.session() as session:
        where = sku_filters(session, sku=query.sku, product=query.product, category=query.category, tag=query.tag)
        base = (
            select(Sku, Product.key, Product.title, Product.category, Product.tags, on_hand, reserved)
            .join(Product, Product.id == Sku.product_id)
            .outerjoin(stock, stock.c.sku_id == Sku.id)
            .where(*where)
        )
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        column = sorts[query.sort]
        order = [column.desc() if query.descending else column.asc(), Sku.sku]
        found = session.execute(base.order_by(*order).limit(query.per_page).offset((query.page - 1) * query.per_page))
        rows = [
            SkuRow(
                sku.sku,
                key,
                title,
                category,
                tuple(tags or ()),
                str(sku.base_price),
                sku.currency,
                None if sku.cost is None else str(sku.cost),
                int(held),
                int(promised),
                int(held) - int(promised),
                sku.active,
                iso_utc(sku.updated_at),
            )
            for sku, key, title, category, tags, held, promised in found
        ]
    return SkuPage(rows, total, query.page, query.per_page)
