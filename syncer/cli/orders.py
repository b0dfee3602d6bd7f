"""``syncer orders pull | list | ship | receive-return | export | pick-list``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from listing_sync.syncer.cli.app import (
    FormatOption,
    TableFormat,
    announce_encoding,
    console,
    ctx,
    emit,
    friendly,
    orders_app,
    progress_bar,
    records,
    show_written,
)
from listing_sync.syncer.cli.options import ChannelOpt, FileFormatOpt, OutOpt, parse_when
from listing_sync.syncer.services.common import FileFormat
from rich.progress import TaskID

if TYPE_CHECKING:
    from listing_sync.syncer.services.orders import PullReport


@orders_app.command("pull")
@friendly
def orders_pull(
    channel: ChannelOpt = None,
    since: Annotated[str | None, typer.Option(help="Re-read from this date/time (ISO 8601, UTC if no zone).")] = None,
    user: Annotated[str | None, typer.Option(help="Who runs it.")] = None,
    push: Annotated[
        bool, typer.Option(help="Push the new availability of affected SKUs to the other channels.")
    ] = True,
) -> None:
    """Pull new and changed orders from channels, reserve stock, and push availability elsewhere."""
    from listing_sync.syncer.services import orders

    start = parse_when(since) if since else None
    with progress_bar("orders", None) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(report: PullReport) -> None:
            name, total = report.channel, report.expected
            if name not in tasks:
                tasks[name] = bar.add_task(f"orders {name}", total=None)
            # the total is the marketplace's count for the windows read so far (a re-read overlap counts
            # twice on both sides); without one the bar pulses and shows the counts
            done = report.orders if total is None else min(report.orders, total)
            bar.update(tasks[name], description=f"orders {name}: {report.pages} page(s)", completed=done, total=total)

        pulled = orders.pull_orders(ctx(), channel, since=start, user=user, push=push, progress=progress)
    columns = ["channel", "new", "updated", "unchanged", "unmatched", "pages"]
    rows = [{c: getattr(report, c) for c in columns} for report in pulled.pulls]
    emit(rows, columns, "table", title="orders pull", labels={"unmatched": "unmatched lines"})
    for pushed in pulled.pushes:
        console.print(
            f"pushed availability of {pushed.skus} SKU(s) to {pushed.channel}: "
            f"{pushed.report.ok} ok, {pushed.report.failed} failed"
        )


@orders_app.command("list")
@friendly
def orders_list(
    channel: ChannelOpt = None,
    status_filter: Annotated[str | None, typer.Option("--status", help="paid, shipped, cancelled, ...")] = None,
    since: Annotated[str | None, typer.Option(help="Placed at or after (ISO 8601).")] = None,
    unmatched: Annotated[bool, typer.Option("--unmatched", help="Only orders with lines of unknown SKUs.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many orders.")] = 200,
    fmt: FormatOption = TableFormat.TABLE,
) -> None:
    """List orders."""
    from listing_sync.syncer.services import orders

    found = orders.list_orders(
        ctx(),
        channels=channel,
        status=status_filter,
        since=parse_when(since) if since else None,
        unmatched=unmatched,
        limit=limit,
    )
    columns = ["channel", "order", "status", "placed_at", "currency", "total", "country", "lines"]
    rows = records(found)  # JSON: lines as a list of objects; a table or CSV: "SKU xN, ..."
    if fmt != "json":
        for row, order in zip(rows, found, strict=True):
            row["lines"] = ", ".join(str(line) for line in order.lines)
    emit(rows, columns, fmt, title="orders")


@orders_app.command("receive-return")
@friendly
def orders_receive_return(
    channel: Annotated[str, typer.Option("--channel", help="Channel of the order.")],
    order: Annotated[str, typer.Argument(help="The marketplace's order id.")],
    user: Annotated[str | None, typer.Option(help="Who received it.")] = None,
) -> None:
    """Confirm a returned order arrived back: restock its lines (once)."""
    from listing_sync.syncer.services import orders

    received = orders.receive_return(ctx(), channel, order, user=user)
    units = received.units
    console.print(f"restocked {units} unit(s) from order {order}" if units else f"nothing to restock for {order}")


@orders_app.command("purge-personal-data")
@friendly
def orders_purge_personal_data(
    days: Annotated[
        int | None,
        typer.Option(
            help="Purge orders placed more than DAYS ago (default SYNCER_PERSONAL_DATA_RETENTION_DAYS; 0 = all)."
        ),
    ] = None,
) -> None:
    """Empty buyers' names, addresses, phones and e-mails of old orders (a daily job does it too)."""
    from listing_sync.syncer.services import orders

    purged = orders.purge_personal_data(ctx(), days=days)
    console.print(
        f"purged the personal data of {purged.rows} order(s) placed before {purged.before:%Y-%m-%d %H:%M} UTC"
    )


@orders_app.command("export")
@friendly
def orders_export(
    fmt: FileFormatOpt = FileFormat.CSV,
    out: OutOpt = None,
    channel: ChannelOpt = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Order statuses (default: paid = to pack).")
    ] = None,
    bom: Annotated[bool, typer.Option(help="Start CSV with a UTF-8 BOM so Excel shows Chinese text.")] = False,
) -> None:
    """Export order lines for printing, packing and waybills: order, channel, SKU, title, quantity, warehouse,
    country, recipient name, phone, address, postcode (personal data), carrier, tracking, units shipped."""
    from listing_sync.syncer.services import orders

    written = orders.export_orders(ctx(), fmt=fmt, out=out, channels=channel, statuses=status, bom=bom)
    show_written(written, f"wrote {written.rows} order line(s) to {written.path}")


@orders_app.command("pick-list")
@friendly
def orders_pick_list(
    channel: ChannelOpt = None,
    by_order: Annotated[
        bool, typer.Option("--by-order", help="One row per order line, with the recipient (personal data).")
    ] = False,
    fmt: FormatOption = TableFormat.TABLE,
) -> None:
    """Quantities to pick per SKU and warehouse for open (paid, not yet shipped) orders."""
    from listing_sync.syncer.services import orders

    if by_order:
        columns = ["warehouse", "order", "channel", "sku", "title", "quantity", "recipient", "phone", "address"]
        emit(records(orders.pick_list_by_order(ctx(), channel)), [*columns, "postal_code"], fmt, title="pick list")
        return
    rows = records(orders.pick_list(ctx(), channel))
    emit(rows, ["warehouse", "sku", "title", "quantity", "orders"], fmt, title="pick list")


@orders_app.command("packing-slips")
@friendly
def orders_packing_slips(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write (open it in a browser to print).")],
    order: Annotated[list[str] | None, typer.Option("--order", help="These orders (repeat), any status.")] = None,
    channel: ChannelOpt = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="Order statuses (default: paid).")] = None,
) -> None:
    """Packing slips as printable HTML, one page per order: recipient, lines, tracking (Chinese and Latin)."""
    from listing_sync.syncer.services import orders

    written = orders.packing_slips(ctx(), out, orders=order, channels=channel, statuses=status)
    console.print(f"wrote {written.rows} packing slip(s) to {written.path}")


@orders_app.command("ship")
@friendly
def orders_ship(
    order: Annotated[str | None, typer.Argument(help="The marketplace's order id (or use --file).")] = None,
    carrier: Annotated[
        str | None,
        typer.Option(
            help="Carrier: SF, YTO, ZTO, STO, YUNDA, EMS, CHINAPOST, DHL, FEDEX, UPS, USPS, 4PX, YANWEN, CAINIAO."
        ),
    ] = None,
    tracking: Annotated[str | None, typer.Option(help="The carrier's tracking number.")] = None,
    line: Annotated[
        list[str] | None, typer.Option("--line", help="SKU=QTY shipped in this package (repeat; default: all left).")
    ] = None,
    warehouse: Annotated[
        str | None, typer.Option(help="Warehouse it leaves from (default: where it was reserved).")
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Channel of the order (when the id is on several).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="CSV/XLSX of shipments: order, carrier, tracking [, channel, lines, warehouse]."),
    ] = None,
    push: Annotated[bool, typer.Option(help="Tell the marketplaces now (else the worker does).")] = True,
    user: Annotated[str | None, typer.Option(help="Who ships.")] = None,
) -> None:
    """Record shipped packages with carrier and tracking (once each), move their stock from reserved to
    shipped, and tell each order's marketplace."""
    from listing_sync.syncer.services import shipping as service

    if file is not None:
        if order or carrier or tracking or line:
            raise typer.BadParameter("give either --file or ORDER --carrier --tracking, not both")
        announce_encoding(file)
        shipped = service.ship_file(ctx(), file, user=user, push=push)
    else:
        if not (order and carrier and tracking):
            raise typer.BadParameter("ORDER, --carrier and --tracking are required (or --file)")
        try:
            lines = tuple(service.parse_line_spec(text) for text in line or [])
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--line") from None
        request = service.ShipRequest(order, carrier, tracking, lines, warehouse, channel)
        shipped = service.ship(ctx(), [request], user=user, push=push)
    rows = [
        {
            "channel": s.channel,
            "order": s.order,
            "carrier": s.carrier,
            "tracking": s.tracking,
            "units": s.units,
            "recorded": "new" if s.new else "before",
            "push": s.status,
        }
        for s in shipped.shipments
    ]
    emit(rows, ["channel", "order", "carrier", "tracking", "units", "recorded", "push"], "table", title="shipments")
    for s in shipped.shipments:
        if s.message:
            console.print(f"[red]{s.channel} {s.order} {s.tracking}[/]: {s.message}", highlight=False)
    console.print(
        f"{shipped.pushed} pushed, {shipped.retry} to retry (shown in `syncer status`), {shipped.parked} parked"
    )


@orders_app.command("cancel")
@friendly
def orders_cancel(
    order: Annotated[str, typer.Argument(help="The marketplace's order id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (sent to the marketplace where it takes a note).")],
    channel: Annotated[
        str | None, typer.Option("--channel", help="Channel of the order (when the id is on several).")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Who cancels.")] = None,
) -> None:
    """Cancel an unshipped order on its marketplace (Shopify, WooCommerce), then release its reserved stock."""
    from listing_sync.syncer.services import cancellation

    done = cancellation.cancel_order(ctx(), order, reason=reason, channel=channel, user=user)
    console.print(f"cancelled order {done.order} on {done.channel}; released {done.released} reserved unit(s)")
