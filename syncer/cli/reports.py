"""``syncer report sales | inventory | reorder``: shown as tables, or written as CSV, XLSX or JSON."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from listing_sync.syncer.cli.app import ReportFormat, console, ctx, emit, friendly, report_app, show_written
from listing_sync.syncer.cli.options import parse_date
from listing_sync.syncer.services.common import FileFormat

if TYPE_CHECKING:
    from listing_sync.syncer.services.reports import InventoryResult, ReorderResult

ReportFormatOpt = Annotated[ReportFormat, typer.Option("--format", help="table, csv, xlsx or json.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Write to FILE (CSV default: standard output).")]
BomOption = Annotated[bool, typer.Option("--bom", help="Start the CSV with a UTF-8 BOM (for Excel).")]
FromOption = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC), inclusive.")]
DaysOption = Annotated[int, typer.Option("--days", help="Window length in days ending --to (without --from).")]


def _output(fmt: ReportFormat) -> FileFormat | None:
    """The file a format writes (None: shown here as a table or JSON)."""
    return FileFormat(fmt.value) if fmt in (ReportFormat.CSV, ReportFormat.XLSX) else None


def _days(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    return (parse_date(start, "--from") if start else None, parse_date(end, "--to") if end else None)


def _show_rows(result: InventoryResult | ReorderResult, fmt: ReportFormat, title: str) -> None:
    """The file the report was written to (or its CSV text), else its rows as a table or JSON."""
    if result.written is not None:
        show_written(result.written, f"wrote {result.written.path}", to_stderr=False)
    else:
        emit(result.rows, result.columns, fmt, title=title)


@report_app.command("sales")
@friendly
def report_sales(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC), inclusive.")],
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="channel, sku, category, month or country (repeatable; one sheet each)."),
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Report currency (default: settings base_currency).")
    ] = None,
    fmt: ReportFormatOpt = ReportFormat.TABLE,
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """Orders, units, gross/cancelled/refunded/net revenue in the order currency and the report currency,
    shipping and average order value, per grouping, with totals. XLSX adds a revenue chart."""
    from listing_sync.syncer.services import reports

    result = reports.sales_report(
        ctx(),
        first=parse_date(start, "--from"),
        last=parse_date(end, "--to"),
        by=by or ["channel"],
        currency=currency,
        output=_output(fmt),
        out=out,
        bom=bom,
    )
    report = result.report
    if result.written is not None:
        note = f" ({len(report.groupings)} grouping(s) and a revenue chart)" if fmt == ReportFormat.XLSX else ""
        show_written(result.written, f"wrote {result.written.path}{note}", to_stderr=False)
    elif fmt == ReportFormat.JSON:
        data = {"from": str(result.first), "to": str(result.last), "currency": report.currency, "total": report.totals}
        data.update({f"by_{g}": rows for g, rows in report.groupings.items()})
        console.print_json(data=data, default=str, ensure_ascii=False)
    else:
        r = report.currency
        shown = ["currency", "orders", "units", "gross", "net"]  # all columns: --format csv, json or xlsx
        shown += [f"gross_{r}", f"cancelled_{r}", f"refunded_{r}", f"net_{r}", f"shipping_{r}", f"aov_{r}"]
        title = f"sales {result.first} .. {result.last} in {r}"
        for grouping, rows in report.groupings.items():
            emit(rows, [grouping, *shown], "table", title=f"{title} by {grouping}")
        emit(report.totals, ["total", *shown], "table", title=f"{title}: total")


@report_app.command("inventory")
@friendly
def report_inventory(
    start: FromOption = None,
    end: ToOption = None,
    days: DaysOption = 30,
    fmt: ReportFormatOpt = ReportFormat.TABLE,
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """Per SKU: on hand, reserved, available, units sold in the window, sell-through, turnover, days of cover."""
    from listing_sync.syncer.services import reports

    first, last = _days(start, end)
    result = reports.inventory_report(ctx(), start=first, end=last, days=days, output=_output(fmt), out=out, bom=bom)
    _show_rows(result, fmt, f"inventory {result.first} .. {result.last}")
    if fmt == ReportFormat.TABLE:
        report = result.report
        share = report.sku_sell_through
        console.print(
            f"{report.skus_sold} of {report.skus} SKU(s) sold in {report.days} day(s)"
            + (f" (SKU sell-through {share:.2%})" if share is not None else "")
        )


@report_app.command("reorder")
@friendly
def report_reorder(
    lead_time: Annotated[int, typer.Option("--lead-time", help="Days from ordering to stock arriving.")],
    safety_days: Annotated[int, typer.Option("--safety-days", help="Extra days of cover to keep.")] = 7,
    cover_days: Annotated[
        int, typer.Option("--cover-days", help="Days of sales the suggested order should cover on arrival.")
    ] = 30,
    start: FromOption = None,
    end: ToOption = None,
    days: DaysOption = 30,
    fmt: ReportFormatOpt = ReportFormat.TABLE,
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """SKUs whose days of cover fall below lead time + safety days, with a suggested order quantity."""
    from listing_sync.syncer.services import reports

    first, last = _days(start, end)
    result = reports.reorder_report(
        ctx(),
        lead_time=lead_time,
        safety_days=safety_days,
        cover_days=cover_days,
        start=first,
        end=last,
        days=days,
        output=_output(fmt),
        out=out,
        bom=bom,
    )
    _show_rows(result, fmt, f"reorder (velocity {result.first} .. {result.last})")
    if fmt == ReportFormat.TABLE and not result.rows:
        console.print("nothing to reorder")
