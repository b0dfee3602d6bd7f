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


def _day_or_period(text: str | None, option: str) -> tuple[date | None, str | None]:
    """``--from last-week`` names a period; otherwise the option is a day."""
    from listing_sync.syncer.periods import PERIODS

    if text is None:
        return None, None
    if text in PERIODS:
        return None, text
    return parse_date(text, option), None


Repeatable = list[str] | None


@report_app.command("sales")
@friendly
def report_sales(
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="today, yesterday, last-7-days, this-week, last-week, this-month, last-month, this-quarter, "
            "last-quarter, this-year or last-year (in settings report_timezone).",
        ),
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First local day, YYYY-MM-DD (or a period).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last local day, YYYY-MM-DD (default today).")] = None,
    by: Annotated[
        Repeatable,
        typer.Option("--by", help="channel, sku, category, month, country or currency (repeatable; one sheet each)."),
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Report currency (default: settings base_currency).")
    ] = None,
    channel: Annotated[Repeatable, typer.Option("--channel", help="Only this channel (repeatable).")] = None,
    country: Annotated[Repeatable, typer.Option("--country", help="Only orders shipped to this country.")] = None,
    order_currency: Annotated[
        Repeatable, typer.Option("--currency-of-order", help="Only orders in this currency (repeatable).")
    ] = None,
    category: Annotated[Repeatable, typer.Option("--category", help="Only lines of this category.")] = None,
    sku: Annotated[Repeatable, typer.Option("--sku", help="Only lines whose SKU matches this glob (TEA-*).")] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Workbook language: en or zh-CN (default: settings report_language).")
    ] = None,
    fmt: ReportFormatOpt = ReportFormat.TABLE,
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """Revenue, refunds, shipping, fees, cost of goods, gross profit and margin per grouping, in the order
    currency and the report currency, with totals. XLSX adds a summary sheet with charts and the rates used."""
    from listing_sync.syncer.sales import Filters
    from listing_sync.syncer.services import reports

    first, named = _day_or_period(start, "--from")
    if lang not in (None, "en", "zh-CN"):
        raise typer.BadParameter("--lang must be en or zh-CN")
    result = reports.sales_report(
        ctx(),
        first=first,
        last=parse_date(end, "--to") if end else None,
        period=period or named,
        by=by or ["channel"],
        currency=currency,
        filters=Filters(
            tuple(channel or ()),
            tuple(country or ()),
            tuple(order_currency or ()),
            tuple(category or ()),
            tuple(sku or ()),
        ),
        output=_output(fmt),
        out=out,
        bom=bom,
        lang=lang,
    )
    report = result.report
    if result.written is not None:
        note = f" ({len(report.groupings)} grouping(s), summary and charts)" if fmt == ReportFormat.XLSX else ""
        show_written(result.written, f"wrote {result.written.path}{note}", to_stderr=False)
    elif fmt == ReportFormat.JSON:
        data: dict[str, object] = {
            "from": str(result.first),
            "to": str(result.last),
            "period": report.period_label,
            "timezone": report.timezone,
            "filters": report.filters.describe(),
            "currency": report.currency,
            "total": report.totals,
        }
        data.update({f"by_{g}": rows for g, rows in report.groupings.items()})
        data["rates"] = [
            {"currency": u.currency, "into": u.quote, "day": str(u.day), "rate": str(u.rate), "method": u.method}
            for u in report.rates
        ]
        console.print_json(data=data, default=str, ensure_ascii=False)
    else:
        r = report.currency
        shown = ["currency", "orders", "units", "net"]  # all columns: --format csv, json or xlsx
        shown += [f"net_{r}", f"refunded_{r}", f"shipping_{r}", f"fees_{r}", f"cogs_{r}", f"gross_profit_{r}"]
        shown += ["margin_pct"]
        title = f"sales {report.period_label} in {r}"
        for grouping, rows in report.groupings.items():
            emit(rows, [grouping, *shown], "table", title=f"{title} by {grouping}")
        emit(report.totals, ["total", *shown], "table", title=f"{title}: total")
        console.print(f"filters: {report.filters.describe()}")


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
