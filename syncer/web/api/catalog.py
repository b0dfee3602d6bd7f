"""Catalog, listings and the dashboard: the catalog grid and the listings grid (filters, sort, pages),
one SKU's page, the catalog as a file (export and import), and the per-channel dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from listing_sync.syncer.catalog import StockMode
from listing_sync.syncer.services import catalog, dashboard, listings
from listing_sync.syncer.services.catalog import SKU_SORTS, SkuOverview, SkuPage
from listing_sync.syncer.services.dashboard import ChannelDashboard
from listing_sync.syncer.services.listings import LISTING_SORTS, MAX_PER_PAGE, ListingPage, ListingState
from listing_sync.syncer.web.api.common import CHANGE_ERRORS, FILE_RESPONSES, READ_ERRORS, Download, download, uploaded
from listing_sync.syncer.web.deps import ContextDep, Operator, Viewer
from pydantic import BaseModel

router = APIRouter(tags=["catalog and listings"])

SkuGlob = Annotated[str | None, Query(max_length=200, description="A SKU glob: TEA-*, *-250G.")]
ProductText = Annotated[str | None, Query(max_length=200, description="Part of the product's key or title.")]
Category = Annotated[str | None, Query(max_length=200)]
Tag = Annotated[str | None, Query(max_length=200)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE)]
Descending = Annotated[bool, Query(description="Sort from the largest (or latest) down.")]


@router.get("/catalog", response_model=SkuPage, responses=READ_ERRORS)
def catalog_grid(
    context: ContextDep,
    user: Viewer,
    sku: SkuGlob = None,
    product: ProductText = None,
    category: Category = None,
    tag: Tag = None,
    sort: Annotated[str, Query(description=f"One of {', '.join(SKU_SORTS)}.", max_length=40)] = "sku",
    desc: Descending = False,
    page: Page = 1,
    per_page: PerPage = 50,
) -> SkuPage:
    """The catalog's SKUs (base price, cost, stock over all warehouses), filtered, sorted and paged."""
    query = catalog.SkuQuery(sku, product, category, tag, sort, desc, page, per_page)
    return catalog.query_skus(context, query)


@router.get("/catalog/export", response_class=Response, responses=READ_ERRORS | FILE_RESPONSES)
def catalog_export(context: ContextDep, user: Viewer, format: Download = Download.CSV) -> Response:
    """The catalog in the import column set (export, edit, import), as CSV or XLSX."""
    return download(format, "catalog", lambda fmt, out: catalog.export_catalog(context, fmt=fmt, out=out))


class CatalogImported(BaseModel):
    rows: int
    products_created: int
    products_updated: int
    skus_created: int
    skus_updated: int
    skus_unchanged: int
    stock_movements: int
    texts_changed: int
    change_set_id: int | None
    #: stock counts not applied because the ledger moved since the file's ``stock_as_of`` (SKU and warehouse)
    stale_stock: list[str]


@router.post("/catalog/import", response_model=CatalogImported, responses=CHANGE_ERRORS)
def catalog_import(
    context: ContextDep,
    user: Operator,
    file: Annotated[UploadFile, File(description="CSV or XLSX catalog.")],
    stock: StockMode = StockMode.CHECK,
) -> CatalogImported:
    """Import a catalog file: validated whole (every bad row and column listed), nothing applied on error.
    ``stock``: check (skip counts older than the ledger's movements), file (apply as they are), none."""
    with uploaded(file) as path:
        done = catalog.import_catalog(context, path, user=user.name, stock=stock).summary
    return CatalogImported(
        rows=done.rows,
        products_created=done.products_created,
        products_updated=done.products_updated,
        skus_created=done.skus_created,
        skus_updated=done.skus_updated,
        skus_unchanged=done.skus_unchanged,
        stock_movements=done.stock_movements,
        texts_changed=done.texts_changed,
        change_set_id=done.change_set_id,
        stale_stock=[f"{s.sku}@{s.warehouse}" for s in done.stale_stock],
    )


@router.get("/catalog/skus/{sku}", response_model=SkuOverview, responses=READ_ERRORS)
def sku_page(
    context: ContextDep, user: Viewer, sku: str, ledger: Annotated[int, Query(ge=1, le=1000)] = 50
) -> SkuOverview:
    """One SKU: catalog data and stock per warehouse, the last stock movements, each channel's desired and
    pushed price and quantity (in the channel's currency) with its state and last error, and its history."""
    return catalog.sku_overview(context, sku, ledger_limit=ledger)


@router.get("/listings", response_model=ListingPage, responses=READ_ERRORS)
def listings_grid(
    context: ContextDep,
    user: Viewer,
    sku: SkuGlob = None,
    product: ProductText = None,
    category: Category = None,
    tag: Tag = None,
    channel: Annotated[str | None, Query(max_length=63)] = None,
    state: ListingState | None = None,
    reason: Annotated[str | None, Query(max_length=100, description="A parked listing's error code.")] = None,
    sort: Annotated[str, Query(description=f"One of {', '.join(LISTING_SORTS)}.", max_length=40)] = "sku",
    desc: Descending = False,
    page: Page = 1,
    per_page: PerPage = 50,
) -> ListingPage:
    """Listings (one per SKU and channel) with state, prices and quantities in the channel's currency and
    the last error; filtered by SKU glob, product, category, tag, channel, state and parked reason."""
    query = listings.ListingQuery(sku, product, category, tag, channel, state, reason, sort, desc, page, per_page)
    return listings.query_listings(context, query)


@router.get("/dashboard", response_model=list[ChannelDashboard], responses=READ_ERRORS)
def channel_dashboard(context: ContextDep, user: Viewer) -> list[ChannelDashboard]:
    """Per channel: listings by state, parked ones by reason, last sync and order pull, API calls today
    against the marketplace's daily budget, and the oversell window."""
    return dashboard.dashboard(context)
