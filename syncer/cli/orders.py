"""CLI: warehouse work on orders: export for packing, pick list (registered on ``syncer orders``)."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer
from listing_sync.syncer.cli import FormatOption, _check_format, emit, err_console, friendly
from listing_sync.syncer.cli_ops import ChannelOpt, _prepared, orders_app
from listing_sync.syncer.context import UserError
from sqlalchemy import select

OPEN = ("paid",)
EXPORT_COLUMNS = ["order", "channel", "status", "placed_at", "sku", "title", "quantity", "warehouse", "ship_to_country"]


def _open_lines(session, channels: list[str] | None, statuses: tuple[str, ...]):
    from listing_sync.syncer.models import Channel, Order, OrderLine, Product, Sku, Warehouse

    query = (
        select(Order, OrderLine, Channel.name, Product.title, Warehouse.code)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Channel, Channel.id == Order.channel_id)
        .outerjoin(Sku, Sku.id == OrderLine.sku_id)
        .outerjoin(Product, Product.id == Sku.product_id)
        .outerjoin(Warehouse, Warehouse.id == OrderLine.warehouse_id)
        .where(Order.status.in_(statuses))
        .order_by(Order.placed_at, Order.id, OrderLine.line_id)
    )
    if channels:
        query = query.where(Channel.name.in_(channels))
    return session.execute(query).all()


@orders_app.command("export")
@friendly
def orders_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Output file (default: standard output for CSV).")] = None,
    channel: ChannelOpt = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Order statuses (default: paid = to pack).")
    ] = None,
    bom: Annotated[bool, typer.Option(help="Start CSV with a UTF-8 BOM so Excel shows Chinese text.")] = False,
) -> None:
    """Export order lines for printing and packing: order, channel, SKU, title, quantity, warehouse, country."""
    from listing_sync.syncer.tabular import escape_formula, write_csv, write_xlsx

    if fmt not in ("csv", "xlsx"):
        raise UserError("--format must be csv or xlsx")
    context = _prepared()
    with context.session() as session:
        rows = [
            [
                order.external_id,
                name,
                order.status,
                order.placed_at.isoformat(timespec="seconds"),
                line.sku,
                title or line.title or "",
                line.quantity,
                code or "",
                order.ship_country or "",
            ]
            for order, line, name, title, code in _open_lines(session, channel, tuple(status or OPEN))
        ]
    safe = [[escape_formula(v) for v in row] for row in rows]
    if fmt == "xlsx":
        if out is None:
            raise UserError("--out FILE is required for xlsx")
        write_xlsx(out, [("orders", EXPORT_COLUMNS, safe)])
    elif out is None:
        sys.stdout.write(write_csv(None, EXPORT_COLUMNS, safe, bom=bom))
        return
    else:
        write_csv(out, EXPORT_COLUMNS, safe, bom=bom)
    err_console.print(f"wrote {len(rows)} order line(s) to {out}")


@orders_app.command("pick-list")
@friendly
def orders_pick_list(channel: ChannelOpt = None, fmt: FormatOption = "table") -> None:
    """Quantities to pick per SKU and warehouse for open (paid, not yet shipped) orders."""
    _check_format(fmt)
    context = _prepared()
    totals: dict[tuple[str, str], dict] = defaultdict(lambda: {"quantity": 0, "orders": set()})
    with context.session() as session:
        for order, line, _name, title, code in _open_lines(session, channel, OPEN):
            entry = totals[(code or "(unassigned)", line.sku)]
            entry["quantity"] += line.quantity
            entry["orders"].add(order.id)
            entry["title"] = title or line.title or ""
    rows = [
        {"warehouse": wh, "sku": sku, "title": v["title"], "quantity": v["quantity"], "orders": len(v["orders"])}
        for (wh, sku), v in sorted(totals.items())
    ]
    emit(rows, ["warehouse", "sku", "title", "quantity", "orders"], fmt, title="pick list")
