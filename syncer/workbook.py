"""XLSX workbooks that open and print well: human headers (English or Chinese), column widths that fit
every formatted value, autofilter, frozen header, landscape fit-to-width printing with the title and
period in the page header, and native charts. Text cells are neutralized against formula injection."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from listing_sync.adapters.money import minor_units
from listing_sync.syncer.tabular import safe_cell

LANGUAGES = ("en", "zh-CN")

#: column id -> (English, Chinese); report-currency columns are "<id>_<CUR>" and get " (CUR)"
LABELS: dict[str, tuple[str, str]] = {
    "total": ("Total", "合计"),
    "channel": ("Channel", "渠道"),
    "sku": ("SKU", "SKU"),
    "category": ("Category", "类目"),
    "month": ("Month", "月份"),
    "country": ("Country", "国家/地区"),
    "currency": ("Currency", "币种"),
    "orders": ("Orders", "订单数"),
    "cancelled_orders": ("Cancelled orders", "取消订单数"),
    "refunded_orders": ("Refunded orders", "退款订单数"),
    "net_orders": ("Net orders", "有效订单数"),
    "units": ("Units", "件数"),
    "net_units": ("Net units", "有效件数"),
    "gross": ("Gross revenue", "总销售额"),
    "cancelled": ("Cancelled", "取消金额"),
    "refunded": ("Refunds", "退款金额"),
    "net": ("Net revenue", "净销售额"),
    "shipping": ("Shipping charged", "运费收入"),
    "fees": ("Marketplace fees", "平台费用"),
    "cogs": ("Cost of goods", "商品成本"),
    "gross_profit": ("Gross profit", "毛利"),
    "margin_pct": ("Margin %", "毛利率 %"),
    "aov": ("Avg order value", "客单价"),
    "uncosted_units": ("Units without cost", "无成本件数"),
    # inventory, reorder, purchase
    "title": ("Title", "标题"),
    "warehouse": ("Warehouse", "仓库"),
    "supplier": ("Supplier", "供应商"),
    "on_hand": ("On hand", "在库"),
    "reserved": ("Reserved", "已预留"),
    "available": ("Available", "可用"),
    "sold": ("Sold", "销量"),
    "velocity_per_day": ("Sold per day", "日均销量"),
    "sell_through_pct": ("Sell-through %", "售罄率 %"),
    "turnover": ("Turnover", "周转次数"),
    "days_of_cover": ("Days of cover", "可售天数"),
    "unit_cost": ("Unit cost", "单位成本"),
    "cost_currency": ("Cost currency", "成本币种"),
    "stock_value": ("Stock value", "库存金额"),
    "lead_time_days": ("Lead time (days)", "采购周期(天)"),
    "demand_sd": ("Daily demand std dev", "日需求标准差"),
    "safety_stock": ("Safety stock", "安全库存"),
    "reorder_point": ("Reorder point", "再订货点"),
    "suggested_quantity": ("Suggested quantity", "建议采购量"),
    "suggested_value": ("Suggested value", "建议采购金额"),
    # rates
    "day": ("Order day", "订单日期"),
    "into": ("Into", "折算为"),
    "rate": ("Rate", "汇率"),
    "method": ("How", "方式"),
    "legs": ("Stored rates used (day, source)", "所用汇率(日期, 来源)"),
}
SUFFIXED = ("gross", "cancelled", "refunded", "net", "shipping", "fees", "cogs", "gross_profit", "aov", "stock_value")
WORDS: dict[str, tuple[str, str]] = {
    "summary": ("Summary", "摘要"),
    "sales": ("Sales and profit", "销售与利润"),
    "sales figure": ("Sales (net revenue + shipping)", "销售额(净销售额 + 运费)"),
    "period": ("Period", "期间"),
    "filters": ("Filters", "筛选"),
    "report currency": ("Report currency", "报表币种"),
    "time zone": ("Time zone", "时区"),
    "rates": ("Exchange rates", "汇率"),
    "revenue chart": ("Net revenue by channel by month", "各渠道每月净销售额"),
    "profit chart": ("Sales, gross profit and margin by month", "每月销售额、毛利与毛利率"),
    "none": ("none", "无"),
    "by": ("by", "按"),
    "inventory": ("Inventory", "库存"),
    "reorder": ("Reorder", "补货"),
    "purchase": ("Purchase suggestions", "采购建议"),
}


def word(key: str, lang: str) -> str:
    en, zh = WORDS.get(key, (key, key))
    return zh if lang == "zh-CN" else en


def header(column: str, lang: str) -> str:
    """The human header of a column id: ``net_EUR`` -> ``Net revenue (EUR)`` / ``净销售额 (EUR)``."""
    index = 1 if lang == "zh-CN" else 0
    if column in LABELS:
        return LABELS[column][index]
    stem, _, currency = column.rpartition("_")
    if stem in SUFFIXED and len(currency) == 3 and currency.isupper():
        return f"{LABELS[stem][index]} ({currency})"
    return column


def money_format(currency: str) -> str:
    places = minor_units(currency)
    return ("#,##0" + ("." + "0" * places if places else "")) + f' "{currency}"'


def rendered(value: Any, fmt: str | None) -> str:
    """The text a spreadsheet shows for ``value`` under number format ``fmt`` (for column widths)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    if not fmt or fmt == "General":
        return str(value)
    if fmt.endswith("%"):
        places = len(fmt.split(".")[1]) - 1 if "." in fmt else 0
        return f"{Decimal(value) * 100:,.{places}f}%"
    number, _, suffix = fmt.partition(" ")
    places = len(number.split(".")[1]) if "." in number else 0
    grouped = "," in number
    text = f"{Decimal(value):,.{places}f}" if grouped else f"{Decimal(value):.{places}f}"
    return text + (" " + suffix.strip('"') if suffix else "")


def text_width(text: str) -> int:
    """Display width: East Asian wide characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@dataclass
class Sheet:
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    #: column -> number format, or a function of the row giving it (per-row currency formats)
    formats: dict[str, Any] = field(default_factory=dict)
    #: percentages are stored as fractions in the cell (0.6342 shown as 63.42%): column -> divisor
    scale: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Book:
    """What every sheet's print header says, and the language of headers."""

    title: str
    period: str
    lang: str = "en"


INVALID_TITLE = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet title for ``name``: no []:*?/\\, at most 31 characters (a counter on clashes)."""
    title = INVALID_TITLE.sub("_", name).strip("'") or "sheet"
    base, number = title[:31], 1
    title = base
    while title.lower() in taken:
        number += 1
        suffix = f" ({number})"
        title = base[: 31 - len(suffix)] + suffix
    taken.add(title.lower())
    return title


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return value  # openpyxl writes Decimal as a number
    return safe_cell(value)


def print_setup(sheet: Any, book: Book, name: str, header_rows: str | None = "1:1") -> None:
    """Landscape, fit to one page wide (as many tall as needed), header row repeated, title and period in
    the page header, page numbers in the footer."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if header_rows:
        sheet.print_title_rows = header_rows
    sheet.oddHeader.center.text = f"{book.title}: {name}"
    sheet.oddHeader.right.text = book.period
    sheet.oddFooter.center.text = "&P / &N"


def fit_widths(sheet: Any, widths: dict[int, int]) -> None:
    from openpyxl.utils import get_column_letter

    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 3, 80)


def write_sheet(workbook: Any, spec: Sheet, book: Book) -> Any:
    """One table: human headers, values with formats, widths fitting the widest rendered value,
    autofilter, frozen header row and first column, print setup."""
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet = workbook.create_sheet(spec.title[:31])
    labels = [safe_cell(header(c, book.lang)) for c in spec.columns]
    sheet.append(labels)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=False, vertical="center")
    widths = {i: text_width(str(label)) for i, label in enumerate(labels, start=1)}
    for row in spec.rows:
        values = []
        for column in spec.columns:
            value = row.get(column)
            if column in spec.scale and value is not None:
                value = Decimal(value) / spec.scale[column]
            values.append(_cell(value))
        sheet.append(values)
        for index, column in enumerate(spec.columns, start=1):
            fmt = spec.formats.get(column)
            if callable(fmt):
                fmt = fmt(row)
            value = values[index - 1]
            if fmt and value is not None:
                sheet.cell(row=sheet.max_row, column=index).number_format = fmt
            widths[index] = max(widths[index], text_width(rendered(value, fmt)))
    fit_widths(sheet, widths)
    sheet.freeze_panes = "B2" if len(spec.columns) > 1 else "A2"
    sheet.auto_filter.ref = sheet.dimensions
    print_setup(sheet, book, spec.title)
    return sheet


def new_workbook() -> Any:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def write_xlsx(
    path: Path,
    sheets: Sequence[Sheet],
    book: Book | None = None,
    before: Callable[[Any], None] | None = None,
    after: Callable[[Any], None] | None = None,
) -> None:
    """Write ``sheets`` (``before`` adds sheets first, e.g. a summary; ``after`` adds sheets last)."""
    book = book or Book("listing-sync", "")
    workbook = new_workbook()
    if before is not None:
        before(workbook)
    for spec in sheets:
        write_sheet(workbook, spec, book)
    if after is not None:
        after(workbook)
    workbook.save(path)
