"""Reports: sales and profit, inventory, reorder; each as JSON, or as a CSV or XLSX download."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from listing_sync.syncer.sales import Filters
from listing_sync.syncer.services import reports
from listing_sync.syncer.services.common import FileFormat
from listing_sync.syncer.stockreports import ReorderPolicy
from listing_sync.syncer.web.api.common import FILE_RESPONSES, READ_ERRORS, download
from listing_sync.syncer.web.deps import ContextDep, Viewer
from pydantic import BaseModel

router = APIRouter(tags=["reports"])


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


From = Annotated[date | None, Query(alias="from", description="First day, YYYY-MM-DD.")]
To = Annotated[date | None, Query(alias="to", description="Last day, YYYY-MM-DD, inclusive (default today).")]
Days = Annotated[int, Query(ge=1, le=3660, description="Days ending `to`, without `from`.")]
Lang = Annotated[Literal["en", "zh-CN"] | None, Query(description="Workbook language (default: settings).")]
Values = Annotated[list[str] | None, Query(max_length=50)]


class Rate(BaseModel):
    currency: str
    into: str
    day: date
    rate: Decimal
    method: str


class ChartPoint(BaseModel):
    month: str
    channel: str
    net: Decimal


class ProfitPoint(BaseModel):
    month: str
    sales: Decimal
    gross_profit: Decimal
    margin_pct: Decimal | None


class SalesOut(BaseModel):
    first: date
    last: date
    period: str
    timezone: str
    filters: str
    currency: str
    #: one row per currency of the orders, then the total in the report currency
    totals: list[dict[str, Any]]
    #: grouping (channel, country, category, sku, day, week, month, ...) -> its rows
    groupings: dict[str, list[dict[str, Any]]]
    #: net revenue per month and channel, and sales / gross profit / margin per month (report currency)
    chart: list[ChartPoint]
    profit_chart: list[ProfitPoint]
    rates: list[Rate]


@router.get("/reports/sales", response_model=SalesOut, responses=READ_ERRORS | FILE_RESPONSES)
def sales_report(
    context: ContextDep,
    user: Viewer,
    first: From = None,
    last: To = None,
    period: Annotated[
        str | None, Query(max_length=40, description="A preset: today, last-week, this-month, ...")
    ] = None,
    by: Annotated[list[str] | None, Query(max_length=5, description="Groupings (default channel).")] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
    channel: Values = None,
    country: Values = None,
    order_currency: Values = None,
    category: Values = None,
    sku: Values = None,
    format: ReportFormat = ReportFormat.JSON,
    lang: Lang = None,
) -> Any:
    """Orders, units, revenue, refunds, shipping, fees, cost of goods, gross profit and margin per grouping
    over local days (a preset ``period`` or ``from``..``to``), in the order and the report currency."""
    filters = Filters(
        tuple(channel or ()), tuple(country or ()), tuple(order_currency or ()), tuple(category or ()), tuple(sku or ())
    )

    def make(output: FileFormat | None, out: Path | None) -> reports.SalesResult:
        return reports.sales_report(
            context,
            first=first,
            last=last,
            period=period,
            by=by or ["channel"],
            currency=currency,
            filters=filters,
            output=output,
            out=out,
            lang=lang,
        )

    if format is not ReportFormat.JSON:
        return download(format, "sales", lambda fmt, out: make(fmt, out).written)
    result = make(None, None)
    report = result.report
    return SalesOut(
        first=result.first,
        last=result.last,
        period=report.period_label,
        timezone=report.timezone,
        filters=report.filters.describe(),
        currency=report.currency,
        totals=report.totals,
        groupings=report.groupings,
        chart=[ChartPoint(month=m, channel=c, net=v) for (m, c), v in sorted(report.chart.items())],
        profit_chart=[
            ProfitPoint(month=m, sales=s, gross_profit=p, margin_pct=pct)
            for m, (s, p, pct) in sorted(report.profit_chart.items())
        ],
        rates=[Rate(currency=u.currency, into=u.quote, day=u.day, rate=u.rate, method=u.method) for u in report.rates],
    )


class TableOut(BaseModel):
    first: date
    last: date
    columns: list[str]
    rows: list[dict[str, Any]]


class InventoryOut(TableOut):
    skus: int
    skus_sold: int
    #: stock value at cost per cost currency
    stock_value: dict[str, Decimal]


@router.get("/reports/inventory", response_model=InventoryOut, responses=READ_ERRORS | FILE_RESPONSES)
def inventory_report(
    context: ContextDep,
    user: Viewer,
    first: From = None,
    last: To = None,
    days: Days = 30,
    format: ReportFormat = ReportFormat.JSON,
    lang: Lang = None,
) -> Any:
    """Per SKU: on hand, reserved, available, units sold in the window, sell-through, turnover, days of cover
    and stock value at cost."""

    def make(output: FileFormat | None, out: Path | None) -> reports.InventoryResult:
        return reports.inventory_report(context, start=first, end=last, days=days, output=output, out=out, lang=lang)

    if format is not ReportFormat.JSON:
        return download(format, "inventory", lambda fmt, out: make(fmt, out).written)
    result = make(None, None)
    return InventoryOut(
        first=result.first,
        last=result.last,
        columns=result.columns,
        rows=result.rows,
        skus=result.report.skus,
        skus_sold=result.report.skus_sold,
        stock_value=result.report.stock_value,
    )


@router.get("/reports/reorder", response_model=TableOut, responses=READ_ERRORS | FILE_RESPONSES)
def reorder_report(
    context: ContextDep,
    user: Viewer,
    first: From = None,
    last: To = None,
    days: Days = 30,
    lead_time: Annotated[int, Query(ge=0, le=3650, description="Days, for SKUs without their own.")] = 14,
    service_level: Annotated[Decimal, Query(ge=50, le=Decimal("99.9"), max_digits=4, decimal_places=1)] = Decimal(95),
    safety_days: Annotated[int, Query(ge=0, le=3650)] = 0,
    cover_days: Annotated[int, Query(ge=0, le=3650)] = 30,
    format: ReportFormat = ReportFormat.JSON,
    lang: Lang = None,
) -> Any:
    """Per SKU and warehouse that sold: the reorder point, and the ones at or below it with a suggested
    quantity and its value at cost."""
    policy = ReorderPolicy(lead_time, service_level, safety_days, cover_days)

    def make(output: FileFormat | None, out: Path | None) -> reports.ReorderResult:
        return reports.reorder_report(
            context, policy=policy, start=first, end=last, days=days, output=output, out=out, lang=lang
        )

    if format is not ReportFormat.JSON:
        return download(format, "reorder", lambda fmt, out: make(fmt, out).written)
    result = make(None, None)
    return TableOut(first=result.first, last=result.last, columns=result.columns, rows=result.rows)
