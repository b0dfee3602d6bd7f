"""The orders page (newest first, by channel and status) with the pick list of open orders, and the FX page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from listing_sync.adapters.base import OrderStatus
from listing_sync.syncer.context import UserError
from listing_sync.syncer.services import fx, orders
from listing_sync.syncer.web.console.render import page, translator
from listing_sync.syncer.web.deps import ContextDep, Operator, Viewer
from starlette.concurrency import run_in_threadpool

router = APIRouter()

ORDER_STATUSES = tuple(OrderStatus)


@router.get("/orders")
def orders_page(request: Request, user: Viewer, context: ContextDep) -> Response:
    channel = request.query_params.get("channel") or None
    status = request.query_params.get("status") or None
    error = None
    names = [c.name for c in context.channels]
    if channel and channel not in names:
        error, channel = f"channel {channel!r}: no such channel (known: {', '.join(names)})", None
    channels = [channel] if channel else None
    values = {
        "orders": orders.list_orders(context, channels=channels, status=status, limit=200),
        "picks": orders.pick_list(context, channels),
        "channels": names,
        "statuses": ORDER_STATUSES,
        "channel": channel or "",
        "status": status or "",
        "error": error,
    }
    return page(request, user, "orders.html", values, active="orders", status=400 if error else 200)


@router.get("/orders/export.csv")
def orders_export(request: Request, user: Operator, context: ContextDep) -> Response:
    """The open orders' lines for packing and waybills, with the recipients (personal data: operators only)."""
    channel = request.query_params.get("channel") or None
    status = request.query_params.get("status") or None
    try:
        written = orders.export_orders(
            context, channels=[channel] if channel else None, statuses=[status] if status else None, bom=True
        )
    except UserError as exc:
        return Response(str(exc), status_code=400, media_type="text/plain; charset=utf-8")
    return Response(
        written.text or "",
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


@router.get("/fx")
def fx_page(request: Request, user: Viewer, context: ContextDep) -> Response:
    return _fx(request, user, context)


def _fx(request: Request, user: Viewer, context: ContextDep, error: str | None = None, status: int = 200) -> Response:
    values = {
        "rates": fx.list_rates(context),
        "base": context.settings.base_currency,
        "error": error,
        "saved": request.query_params.get("saved"),
    }
    return page(request, user, "fx.html", values, active="fx", status=status)


@router.post("/fx")
async def fx_set(request: Request, user: Operator, context: ContextDep) -> Response:
    """Set one rate (operators); every wrong field is named and nothing is saved."""
    data = await request.form()
    base, quote = (str(data.get(k) or "").strip().upper() for k in ("base", "quote"))
    rate_text, day_text = (str(data.get(k) or "").strip() for k in ("rate", "day"))
    _ = translator(request)
    problems = []
    try:
        rate = Decimal(rate_text)
    except InvalidOperation:
        problems.append(_("rate %(value)r: give a number, e.g. 0.138", value=rate_text))
        rate = None
    day = None
    if day_text:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            problems.append(_("day %(value)r: give a date as YYYY-MM-DD", value=day_text))
    if not problems and rate is not None:
        try:
            saved = await run_in_threadpool(fx.set_rate, context, base, quote, rate, day)
        except UserError as exc:
            problems.append(str(exc))
        else:
            return RedirectResponse(f"/fx?saved={saved.base}/{saved.quote}", status_code=303)
    return await run_in_threadpool(_fx, request, user, context, "; ".join(problems), 400)
