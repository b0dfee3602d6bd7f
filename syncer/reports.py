"""Reports: sales and profit (``syncer/sales.py``), inventory (stock value, sell-through, turnover, days
of cover) and reorder signals; written as tables, CSV or XLSX with native charts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from listing_sync.syncer.periods import period_days
from listing_sync.syncer.sales import (
    CANCELLED,
    CLASS,
    COUNTED,
    GROUPINGS,
    KEPT,
    NONE_KEY,
    ORDER_CURRENCY_AMOUNTS,
    ORDER_LEVEL,
    REFUNDED,
    REPORT_AMOUNTS,
    ZERO,
    Bucket,
    FeeRule,
    Filters,
    ReportError,
    SalesReport,
    sales_columns,
    sales_report,
)
from listing_sync.syncer.stockreports import (
    INVENTORY_COLUMNS,
    REORDER_COLUMNS,
    InventoryReport,
    ReorderPolicy,
    inventory_report,
    purchase_suggestions,
    reorder_report,
    supplier_totals,
)
from listing_sync.syncer.tabular import safe_cell, write_csv
from listing_sync.syncer.workbook import (
    Book,
    Sheet,
    fit_widths,
    header,
    money_format,
    print_setup,
    rendered,
    sheet_title,
    text_width,
    word,
    write_xlsx,
)
from sqlalchemy.orm import Session

__all__ = [
    "INVENTORY_COLUMNS",
    "REORDER_COLUMNS",
    "InventoryReport",
    "ReorderPolicy",
    "inventory_report",
    "purchase_suggestions",
    "reorder_report",
    "supplier_totals",
    "CANCELLED",
    "CLASS",
    "COUNTED",
    "GROUPINGS",
    "KEPT",
    "NONE_KEY",
    "ORDER_CURRENCY_AMOUNTS",
    "ORDER_LEVEL",
    "REFUNDED",
    "ZERO",
    "Bucket",
    "FeeRule",
    "Filters",
    "ReportError",
    "SalesReport",
    "sales_columns",
    "sales_report",
]


# -------------------------------------------------------------------------------------- writing
COUNT_COLUMNS = ("orders", "cancelled_orders", "refunded_orders", "net_orders", "units", "net_units", "uncosted_units")
SUMMARY_FIGURES = ("orders", "net_orders", "gross", "refunded", "net", "shipping", "fees", "cogs", "gross_profit")


def sales_sheets(report: SalesReport) -> list[Sheet]:
    r = report.currency
    report_fmt = money_format(r)

    def per_row(row: dict[str, Any]) -> str | None:
        cur = row.get("currency")
        return money_format(cur) if cur and cur != "ALL" else None

    def formats() -> dict[str, Any]:
        fmt: dict[str, Any] = dict.fromkeys(ORDER_CURRENCY_AMOUNTS, per_row)
        fmt.update({f"{a}_{r}": report_fmt for a in REPORT_AMOUNTS})
        fmt.update(dict.fromkeys(COUNT_COLUMNS, "#,##0"))
        fmt["margin_pct"] = "0.00%"
        return fmt

    scale = {"margin_pct": Decimal(100)}
    sheets = [Sheet("total", report.columns("total"), report.totals, formats(), scale)]
    for grouping, rows in report.groupings.items():
        sheets.append(Sheet(f"by {grouping}", report.columns(grouping), rows, formats(), scale))
    sheets.append(Sheet("rates", ["currency", "into", "day", "rate", "method", "legs"], rate_rows(report)))
    return sheets


def rate_rows(report: SalesReport) -> list[dict[str, Any]]:
    """One row per (currency, order day) converted: the rate and the stored rates it came from."""
    return [
        {
            "currency": u.currency,
            "into": u.quote,
            "day": u.day.isoformat(),
            "rate": u.rate,
            "method": u.method,
            "legs": "; ".join(str(leg) for leg in u.legs),
        }
        for u in report.rates
        if u.legs
    ]


def _book(report: SalesReport, lang: str) -> Book:
    return Book(word("sales", lang), report.period_label, lang)


def _summary(workbook: Any, report: SalesReport, book: Book) -> None:
    """The first sheet: period, filters, currency, time zone, the totals, and the two charts."""
    from openpyxl.styles import Font

    lang, r = book.lang, report.currency
    sheet = workbook.create_sheet(word("summary", lang)[:31])
    sheet.append([f"{book.title}: {report.period_label}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells("A1:H1")  # the title spans the charts' width
    filters = report.filters.describe()
    facts = [
        (word("period", lang), report.period_label),
        (word("filters", lang), word("none", lang) if filters == "none" else filters),
        (word("report currency", lang), r),
        (word("time zone", lang), report.timezone),
    ]
    widths = {1: 0, 2: 0}
    for label, value in facts:
        sheet.append([label, safe_cell(value)])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        widths[1] = max(widths[1], text_width(label))
    sheet.append([])
    total = next((t for t in report.totals if t["currency"] == "ALL"), {})
    money = money_format(r)
    for figure in SUMMARY_FIGURES:
        column = figure if figure in ("orders", "net_orders") else f"{figure}_{r}"
        label = header(column, lang)
        amount = total.get(column)
        sheet.append([label, amount])
        fmt = "#,##0" if figure in ("orders", "net_orders") else money
        sheet.cell(row=sheet.max_row, column=2).number_format = fmt
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        widths[1] = max(widths[1], text_width(label))
        widths[2] = max(widths[2], text_width(rendered(amount, fmt)))
    margin_value = total.get("margin_pct")
    sheet.append([header("margin_pct", lang), None if margin_value is None else margin_value / 100])
    sheet.cell(row=sheet.max_row, column=2).number_format = "0.00%"
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    widths[1] = max(widths[1], text_width(header("margin_pct", lang)))
    for _, value in facts:
        widths[2] = max(widths[2], text_width(value))
    fit_widths(sheet, widths)
    print_setup(sheet, book, word("summary", lang), header_rows=None)
    sheet.sheet_view.showGridLines = False


def _charts(workbook: Any, report: SalesReport, book: Book) -> None:
    """The chart data sheet (last), and on the summary sheet: net revenue by channel by month, and beside
    it sales and gross profit per month with the margin % as a line on a second axis."""
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    lang, r = book.lang, report.currency
    data = workbook.create_sheet("chart data")
    head = [header("month", lang)] + [safe_cell(c) for c in report.channels]
    data.append(head)
    fmt = money_format(r)
    widths = {i: text_width(str(h)) for i, h in enumerate(head, start=1)}
    for month in report.months:
        values: list[Any] = [month] + [report.chart.get((month, c), ZERO) for c in report.channels]
        data.append(values)
        for col in range(2, len(head) + 1):
            data.cell(row=data.max_row, column=col).number_format = fmt
            widths[col] = max(widths[col], text_width(rendered(values[col - 1], fmt)))
        widths[1] = max(widths[1], len(month))
    for cell in data[1]:
        cell.font = Font(bold=True)
    months = len(report.months)
    second = months + 3  # the profit table below the revenue table
    profit_head = [header("month", lang), word("sales figure", lang), header("gross_profit", lang)]
    profit_head.append(header("margin_pct", lang))
    data.cell(row=second, column=1)
    for col, text in enumerate(profit_head, start=1):
        data.cell(row=second, column=col, value=text).font = Font(bold=True)
        widths[col] = max(widths.get(col, 0), text_width(text))
    for offset, month in enumerate(report.months, start=1):
        sales, profit, pct = report.profit_chart.get(month, (ZERO, ZERO, None))
        row = second + offset
        values = [month, sales, profit, None if pct is None else pct / 100]
        for col, value in enumerate(values, start=1):
            cell = data.cell(row=row, column=col, value=value)
            cell_fmt = fmt if col in (2, 3) else ("0.00%" if col == 4 else None)
            if cell_fmt:
                cell.number_format = cell_fmt
            widths[col] = max(widths.get(col, 0), text_width(rendered(value, cell_fmt)))
    fit_widths(data, widths)
    data.freeze_panes = "B2"
    print_setup(data, book, "chart data")

    summary = workbook[word("summary", lang)[:31]]
    anchor = summary.max_row + 2  # below the totals
    bar = BarChart()
    bar.type = "col"
    bar.title = f"{word('revenue chart', lang)} ({r})"
    bar.y_axis.title = r
    if report.channels and months:
        table = Reference(data, min_col=2, max_col=len(head), min_row=1, max_row=months + 1)
        bar.add_data(table, titles_from_data=True)
        bar.set_categories(Reference(data, min_col=1, min_row=2, max_row=months + 1))
    bar.width, bar.height = 16, 9
    summary.add_chart(bar, f"A{anchor}")

    money_bars = BarChart()
    money_bars.type = "col"
    money_bars.title = f"{word('profit chart', lang)} ({r})"
    money_bars.y_axis.title = r
    line = LineChart()
    line.y_axis.axId = 200
    line.y_axis.title = header("margin_pct", lang)
    line.y_axis.number_format = "0%"
    line.y_axis.crosses = "max"
    if months:
        rows = dict(min_row=second, max_row=second + months)
        money_bars.add_data(Reference(data, min_col=2, max_col=3, **rows), titles_from_data=True)
        money_bars.set_categories(Reference(data, min_col=1, min_row=second + 1, max_row=second + months))
        line.add_data(Reference(data, min_col=4, max_col=4, **rows), titles_from_data=True)
        line.series[0].smooth = False
    money_bars += line
    money_bars.width, money_bars.height = 16, 9
    summary.add_chart(money_bars, f"E{anchor}")


def write_sales(report: SalesReport, path: Path | None, fmt: str, bom: bool = False, lang: str = "en") -> str | None:
    """CSV (to ``path`` or returned; identifiers as headers, every figure) or XLSX (to ``path``): a summary
    sheet with the charts first, then the total, one sheet per grouping, the rates used, the chart data."""
    if fmt == "xlsx":
        assert path is not None
        book = _book(report, lang)
        write_xlsx(
            path,
            sales_sheets(report),
            book,
            before=lambda workbook: _summary(workbook, report, book),
            after=lambda workbook: _charts(workbook, report, book),
        )
        return None
    figures = report.columns("key")[1:]
    columns = ["grouping", "key", *figures, "period", "filters"]  # every row says what it covers
    context = [report.period_label, report.filters.describe()]
    out: list[list[Any]] = []
    for grouping, rows in [("total", report.totals), *report.groupings.items()]:
        for row in rows:
            out.append([grouping, row[grouping], *(row[c] for c in figures), *context])
    return write_csv(path, columns, ([safe_cell(v) for v in row] for row in out), bom=bom)


def write_rows(path: Path | None, columns: list[str], rows: Iterable[dict[str, Any]], bom: bool = False) -> str:
    return write_csv(path, columns, ([safe_cell(r.get(c)) for c in columns] for r in rows), bom=bom)


STOCK_FORMATS: dict[str, Any] = {
    **dict.fromkeys(
        (
            "on_hand",
            "reserved",
            "available",
            "sold",
            "reorder_point",
            "suggested_quantity",
            "safety_stock",
            "lead_time_days",
        ),
        "#,##0",
    ),
    "sell_through_pct": "0.00%",
    "turnover": "0.00",
    "days_of_cover": "0.0",
    "velocity_per_day": "0.000",
    "demand_sd": "0.000",
}


def _cost_format(row: dict[str, Any]) -> str | None:
    currency = row.get("cost_currency")
    return money_format(currency) if currency else None


def stock_sheet(title: str, columns: list[str], rows: list[dict[str, Any]]) -> Sheet:
    """An inventory, reorder or purchase table: counts, %, and amounts in each SKU's cost currency."""
    formats = {**STOCK_FORMATS, **dict.fromkeys(("unit_cost", "stock_value", "suggested_value"), _cost_format)}
    return Sheet(title, columns, rows, formats, {"sell_through_pct": Decimal(100)})


def write_stock_xlsx(path: Path, sheets: list[Sheet], title: str, period: str, lang: str = "en") -> None:
    write_xlsx(path, sheets, Book(word(title, lang), period, lang))


PURCHASE_COLUMNS = ["supplier", *[c for c in REORDER_COLUMNS if c != "supplier"]]


def write_purchase(
    groups: dict[str, list[dict[str, Any]]],
    path: Path | None,
    fmt: str,
    period: str,
    bom: bool = False,
    lang: str = "en",
) -> str | None:
    """Purchase suggestions per supplier: XLSX with one sheet per supplier (``path``), or one CSV with
    the supplier first (to ``path`` or returned)."""
    if fmt == "xlsx":
        assert path is not None
        taken: set[str] = set()
        sheets = [stock_sheet(sheet_title(name, taken), PURCHASE_COLUMNS, rows) for name, rows in groups.items()]
        write_stock_xlsx(
            path, sheets or [stock_sheet(word("purchase", lang), PURCHASE_COLUMNS, [])], "purchase", period, lang
        )
        return None
    rows = [row for group in groups.values() for row in group]
    return write_rows(path, PURCHASE_COLUMNS, rows, bom=bom)


# -------------------------------------------------------------------------------------- schedule
SCHEDULED = {"weekly": "last-week", "monthly": "last-month"}
SCHEDULED_GROUPINGS = ("channel", "country", "category", "sku")


def scheduled_name(kind: str, start: date) -> str:
    """``sales-2026-W47.xlsx`` (ISO week) or ``sales-2026-11.xlsx``."""
    if kind == "weekly":
        year, week, _ = start.isocalendar()
        return f"sales-{year}-W{week:02d}.xlsx"
    return f"sales-{start.strftime('%Y-%m')}.xlsx"


def write_scheduled_report(
    session: Session,
    folder: Path,
    kind: str,
    currency: str,
    today: date,
    *,
    tz: str = "UTC",
    via: str | None = None,
    fee_rules: Mapping[str, FeeRule] | None = None,
    lang: str = "en",
) -> Path:
    """Write last week's or last month's (``kind``) sales report, by channel, country, category and SKU with
    the summary and charts, into ``folder`` (written whole, then renamed). Raises ``MissingRates``."""
    period = SCHEDULED[kind]
    start, end = period_days(period, today)
    report = sales_report(
        session,
        start,
        end,
        SCHEDULED_GROUPINGS,
        currency,
        chart=True,
        tz=tz,
        via=via,
        fee_rules=fee_rules,
        period=period,
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / scheduled_name(kind, start)
    partial = path.with_suffix(".xlsx.part")
    write_sales(report, partial, "xlsx", lang=lang)
    partial.replace(path)
    return path


def write_monthly_report(session: Session, folder: Path, currency: str, today: date | None = None) -> Path:
    """Last month's report (UTC days) as ``sales-YYYY-MM.xlsx`` in ``folder``."""
    return write_scheduled_report(session, folder, "monthly", currency, today or datetime.now(UTC).date())
