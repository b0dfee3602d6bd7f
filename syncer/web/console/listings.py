"""The dashboard, the listings grid (filters, sort, pages, each listing's error) and the SKU page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from listing_sync.syncer.context import UserError
from listing_sync.syncer.services import catalog, dashboard, listings, sync
from listing_sync.syncer.services.listings import LISTING_SORTS, ListingQuery, ListingState
from listing_sync.syncer.web.console.render import message_page, page, scheduler_for
from listing_sync.syncer.web.deps import ContextDep, Operator, Viewer
from starlette.concurrency import run_in_threadpool

router = APIRouter()

FILTERS = ("sku", "product", "category", "tag", "channel", "state", "reason")
PAGE_SIZES = (25, 50, 100, 200)


@router.get("/")
def dashboard_page(request: Request, user: Viewer, context: ContextDep) -> Response:
    values = {"channels": dashboard.dashboard(context), "queued": request.query_params.get("queued")}
    return page(request, user, "dashboard.html", values, active="dashboard")


@router.post("/sync")
async def sync_now(request: Request, user: Operator, context: ContextDep) -> Response:
    """Queue a sync of one channel (or every channel) for the workers, as ``syncer sync`` does."""
    channel = str((await request.form()).get("channel") or "").strip()
    try:
        queued = await run_in_threadpool(
            sync.queue_sync, context, [channel] if channel else None, user=user.name, scheduler=scheduler_for(request)
        )
    except UserError as exc:
        return message_page(request, user, str(exc), status=400)
    return RedirectResponse(f"/?queued={','.join(queued.channels)}", status_code=303)


def grid_query(params: dict[str, str]) -> tuple[ListingQuery, list[str]]:
    """The grid's query from the URL's parameters, and every parameter that is wrong (named)."""
    problems = []
    text = {name: params.get(name, "").strip() for name in (*FILTERS, "page", "per_page", "sort")}
    state = text["state"] or None
    if state is not None and state not in tuple(ListingState):
        problems.append(f"state {state!r}: use one of {', '.join(ListingState)}")
        state = None
    numbers = {}
    for name, default in (("page", 1), ("per_page", 50)):
        value = text[name] or str(default)
        if not value.isdigit():
            problems.append(f"{name} {value!r}: give a whole number")
        numbers[name] = int(value) if value.isdigit() else default
    query = ListingQuery(
        sku=text["sku"] or None,
        product=text["product"] or None,
        category=text["category"] or None,
        tag=text["tag"] or None,
        channel=text["channel"] or None,
        state=ListingState(state) if state else None,
        reason=text["reason"] or None,
        sort=text["sort"] or "sku",
        descending=params.get("desc") == "1",
        page=numbers["page"],
        per_page=numbers["per_page"],
    )
    return query, problems


@router.get("/listings")
def listings_page(request: Request, user: Viewer, context: ContextDep) -> Response:
    """The grid; an htmx request (the filter form) gets the table alone."""
    query, problems = grid_query(dict(request.query_params))
    result, error = None, "; ".join(problems) or None
    if error is None:
        try:
            result = listings.query_listings(context, query)
        except UserError as exc:
            error = str(exc)
    values = {
        "query": query,
        "result": result,
        "error": error,
        "channels": [c.name for c in context.channels],
        "categories": catalog.categories(context),
        "states": list(ListingState),
        "sorts": list(LISTING_SORTS),
        "page_sizes": PAGE_SIZES,
    }
    template = "_listings_table.html" if request.headers.get("HX-Request") == "true" else "listings.html"
    return page(request, user, template, values, active="listings", status=400 if error else 200)


@router.get("/skus/{sku:path}")
def sku_page(sku: str, request: Request, user: Viewer, context: ContextDep) -> Response:
    try:
        overview = catalog.sku_overview(context, sku)
    except UserError as exc:
        return message_page(request, user, str(exc), status=404)
    return page(request, user, "sku.html", {"sku": overview}, active="listings")
