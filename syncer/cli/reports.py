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
    from listing_sync.syncer.stockreports import ReorderPolicy

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


LangOption = Annotated[
    str | None, typer.Option("--lang", help="Workbook language: en or zh-CN (default: settings report_language).")
]


def _lang(lang: str | None) -> str | None:
    if lang not in (None, "en", "zh-CN"):
        raise typer.BadParameter("--lang must be en or zh-CN")
    return lang


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
    lang: LangOption = None,
    fmt: ReportFormatOpt = ReportFormat.TABLE,
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """Revenue, refunds, shipping, fees, cost of goods, gross profit and margin per grouping, in the order
    currency and the report currency, with totals. XLSX adds a summary sheet with charts and the rates used."""
    from listing_sync.syncer.sales import Filters
    from listing_sync.syncer.services import reports

    first, named = _day_or_period(start, "--from")
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
        lang=_lang(lang),
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
        # most telling first: a narrow terminal leaves out the last ones (all: --format csv, json or xlsx)
        shown = ["currency", "orders", "units", f"net_{r}", f"gross_profit_{r}", "margin_pct", f"fees_{r}"]
        shown += [f"cogs_{r}", f"refunded_{r}", f"shipping_{r}", "net"]
        labels = {f"{name}_{r}": f"{name.replace('gross_', '')} {r}" for name in ("net", "gross_profit")}
        labels |= {f"{name}_{r}": name for name in ("fees", "cogs", "refunded", "shipping")}
        labels |= {"margin_pct": "margin%", "net": "net (in cur)", "currency": "cur"}
        title = f"sales {report.period_label} in {r}"
        for grouping, rows in report.groupings.items():
            emit(rows, [grouping, *shown], "table", title=f"{title} by {grouping}", labels=labels)
        emit(report.totals, ["total", *shown], "table", title=f"{title}: total", labels=labels)
        console.print(f"filters: {report.filters.describe()}")


@report_app.command("inventory")
@friendly
def report_inventory(
    start: FromOption = None,
    end: ToOption = None,
    days: DaysOption = 30,
    lang: LangOption = None,
    fmt: ReportFormatOpt = ReportFormat.TABLE,
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """Per SKU: on hand, reserved, available, units sold in the window, sell-through %, turnover, days of
    cover, unit cost and stock value at cost."""
    from listing_sync.syncer.services import reports

    first, last = _days(start, end)
    result = reports.inventory_report(
        ctx(), start=first, end=last, days=days, output=_output(fmt), out=out, bom=bom, lang=_lang(lang)
    )
    _show_rows(result, fmt, f"inventory {result.first} .. {result.last}")
    if fmt == ReportFormat.TABLE:
        report = result.report
        share = report.sku_sell_through
        console.print(
            f"{report.skus_sold} of {report.skus} SKU(s) sold in {report.days} day(s)"
            + (f" (SKU sell-through {share}%)" if share is not None else "")
        )
        if report.stock_value:
            console.print("stock value at cost: " + ", ".join(f"{v} {c}" for c, v in report.stock_value.items()))


def _policy(lead_time: int, service_level: str, safety_days: int, cover_days: int) -> ReorderPolicy:
    from listing_sync.adapters.money import parse_decimal
    from listing_sync.syncer.stockreports import ReorderPolicy as Policy

    try:
        level = parse_decimal(service_level)
    except ValueError:
        raise typer.BadParameter(f"{service_level!r} is not a number", param_hint="--service-level") from None
    return Policy(lead_time, level, safety_days, cover_days)


LeadTimeOption = Annotated[
    int, typer.Option("--lead-time", help="Days from ordering to arrival for SKUs without lead_time_days.")
]
ServiceLevelOption = Annotated[
    str, typer.Option("--service-level", help="% of lead times the safety stock should cover (95 -> z 1.645).")
]
SafetyDaysOption = Annotated[int, typer.Option("--safety-days", help="Extra days of sales to keep on top.")]
CoverDaysOption = Annotated[
    int, typer.Option("--cover-days", help="Days of sales the suggested order should cover on arrival.")
]


@report_app.command("reorder")
@friendly
def report_reorder(
    lead_time: LeadTimeOption = 14,
    service_level: ServiceLevelOption = "95",
    safety_days: SafetyDaysOption = 0,
    cover_days: CoverDaysOption = 30,
    start: FromOption = None,
    end: ToOption = None,
    days: DaysOption = 30,
    lang: LangOption = None,
    fmt: ReportFormatOpt = ReportFormat.TABLE,
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """Per SKU and warehouse: reorder point from the SKU's lead time and a safety stock from the variability
    of its daily sales; the ones at or below it, with a suggested quantity, supplier and value at cost."""
    from listing_sync.syncer.services import reports

    first, last = _days(start, end)
    result = reports.reorder_report(
        ctx(),
        policy=_policy(lead_time, service_level, safety_days, cover_days),
        start=first,
        end=last,
        days=days,
        output=_output(fmt),
        out=out,
        bom=bom,
        lang=_lang(lang),
    )
    _show_rows(result, fmt, f"reorder (demand {result.first} .. {result.last})")
    if fmt == ReportFormat.TABLE and not result.rows:
        console.print("nothing to reorder")


@report_app.command("purchase")
@friendly
def report_purchase(
    supplier: Annotated[list[str] | None, typer.Option("--supplier", help="Only this supplier (repeatable).")] = None,
    lead_time: LeadTimeOption = 14,
    service_level: ServiceLevelOption = "95",
    safety_days: SafetyDaysOption = 0,
    cover_days: CoverDaysOption = 30,
    start: FromOption = None,
    end: ToOption = None,
    days: DaysOption = 30,
    lang: LangOption = None,
    fmt: ReportFormatOpt = ReportFormat.TABLE,
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """Purchase suggestions per supplier (the reorder rows with something to order): XLSX has one sheet per
    supplier, CSV one table with the supplier first."""
    from listing_sync.syncer.reports import PURCHASE_COLUMNS
    from listing_sync.syncer.services import reports

    first, last = _days(start, end)
    result = reports.purchase_suggestions(
        ctx(),
        policy=_policy(lead_time, service_level, safety_days, cover_days),
        suppliers=supplier or (),
        start=first,
        end=last,
        days=days,
        output=_output(fmt),
        out=out,
        bom=bom,
        lang=_lang(lang),
    )
    if result.written is not None:
        show_written(result.written, f"wrote {result.written.path}", to_stderr=False)
        return
    rows = [row for group in result.suppliers.values() for row in group]
    emit(rows, PURCHASE_COLUMNS, fmt, title=f"purchase suggestions (demand {result.first} .. {result.last})")
    if fmt == ReportFormat.TABLE:
        for name, totals in result.totals.items():
            console.print(f"{name}: " + (", ".join(f"{v} {c}" for c, v in totals.items()) or "no costs"))
        if not rows:
            console.print("nothing to buy")


@report_app.command("deliver")
@friendly
def report_deliver(
    kind: Annotated[str, typer.Argument(help="weekly (last week) or monthly (last month).")],
) -> None:
    """Write the scheduled report now (into settings report_folder, unless already there) and e-mail it when
    SMTP settings are given: what the worker does by itself every hour."""
    from listing_sync.syncer.services import reports

    delivered = reports.deliver_scheduled_report(ctx(), kind)
    if delivered is None:
        console.print("SYNCER_REPORT_FOLDER is not set: nothing written")
    elif not delivered.fresh:
        console.print(f"{delivered.path} is already there")
    else:
        mailed = f", e-mailed to {', '.join(delivered.emailed)}" if delivered.emailed else ""
        console.print(f"wrote {delivered.path}{mailed}")
