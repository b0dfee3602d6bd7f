"""Reports: sales (in one report currency), inventory and reorder, as data or written as CSV/XLSX; and
the monthly sales report the scheduler writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from listing_sync.syncer import periods, reports
from listing_sync.syncer.context import Context
from listing_sync.syncer.fx import MissingRates
from listing_sync.syncer.reports import InventoryReport, ReportError, SalesReport
from listing_sync.syncer.sales import FeeRule, Filters
from listing_sync.syncer.services.common import (
    FileFormat,
    InvalidRequest,
    ServiceError,
    Written,
    check_out,
    configured_channels,
)

T = TypeVar("T")


class ReportFailed(ServiceError):
    """The report cannot be made as asked (a missing exchange rate, an unknown grouping, ...)."""


def _report(make: Callable[[], T]) -> T:
    try:
        return make()
    except (MissingRates, ReportError, periods.PeriodError, ValueError) as exc:
        raise ReportFailed(str(exc)) from None


def _needs_out(output: FileFormat | None, out: Path | None) -> None:
    if output is FileFormat.XLSX and out is None:
        raise InvalidRequest("--format xlsx needs --out FILE.xlsx")
    check_out(out)


def window(start: date | None, end: date | None, days: int) -> tuple[date, date]:
    """The days a report covers: ``start`` .. ``end`` (default today, UTC), or the ``days`` ending ``end``."""
    last = end or datetime.now(UTC).date()
    if start:
        return start, last
    if days < 1:
        raise InvalidRequest("--days must be at least 1")
    return last - timedelta(days=days - 1), last


# ------------------------------------------------------------------------------------------- sales
@dataclass(frozen=True, slots=True)
class SalesResult:
    """The sales report of ``first`` .. ``last``, and the file written (``output``) if any."""

    first: date
    last: date
    report: SalesReport
    written: Written | None = None


def report_days(
    context: Context, first: date | None, last: date | None, period: str | None, today: date | None = None
) -> tuple[date, date]:
    """The local days a report covers: a named ``period`` (``last-week``, ...) in settings
    ``report_timezone``, or ``first`` .. ``last`` (default today)."""
    tz = context.settings.report_timezone
    today = today or periods.today_in(tz)
    try:
        if period:
            if first or last:
                raise InvalidRequest("give either --period or --from/--to, not both")
            return periods.period_days(period, today)
    except periods.PeriodError as exc:
        raise InvalidRequest(str(exc)) from None
    if first is None:
        raise InvalidRequest(f"give --period ({', '.join(periods.PERIODS)}) or --from YYYY-MM-DD [--to YYYY-MM-DD]")
    return first, last or today


def fee_rules(context: Context) -> dict[str, FeeRule]:
    """Each configured channel's fee rule (``fee_percent``, ``fee_fixed`` in the channels file)."""
    return {c.name: FeeRule(c.fee_percent, c.fee_fixed) for c in configured_channels(context)}


def sales_report(
    context: Context,
    *,
    first: date | None = None,
    last: date | None = None,
    period: str | None = None,
    by: Sequence[str] = ("channel",),
    currency: str | None = None,
    filters: Filters | None = None,
    output: FileFormat | None = None,
    out: Path | None = None,
    bom: bool = False,
    lang: str | None = None,
    today: date | None = None,
) -> SalesResult:
    """Orders, units, gross/cancelled/refunded/net revenue, shipping, fees, cost of goods, gross profit and
    margin, in the order currency and the report currency (default: settings ``base_currency``,
    triangulating through it), per grouping, with totals, over local days (settings ``report_timezone``).
    ``output`` writes it as CSV (to ``out`` or as text) or XLSX (summary, charts, rates)."""
    _needs_out(output, out)
    settings = context.settings
    first, last = report_days(context, first, last, period, today)
    report_currency = (currency or settings.base_currency).upper()
    rules = fee_rules(context)
    with context.session() as session:
        report = _report(
            lambda: reports.sales_report(
                session,
                first,
                last,
                list(by or ["channel"]),
                report_currency,
                chart=output is FileFormat.XLSX,
                filters=filters,
                tz=settings.report_timezone,
                via=settings.base_currency,
                fee_rules=rules,
                period=period or "",
            )
        )
    written = None
    if output is FileFormat.XLSX:
        assert out is not None
        reports.write_sales(report, out, "xlsx", lang=lang or settings.report_language)
        written = Written(out, None)
    elif output is FileFormat.CSV:
        text = reports.write_sales(report, out, "csv", bom=bom)
        written = Written(out, None if out is not None else text or "")
    return SalesResult(first, last, report, written)


# ---------------------------------------------------------------------------------- inventory, reorder
@dataclass(frozen=True, slots=True)
class InventoryResult:
    first: date
    last: date
    report: InventoryReport
    #: the report's rows as shown and written (without its internal keys), and their columns
    rows: list[dict[str, Any]]
    columns: list[str]
    written: Written | None = None


def inventory_report(
    context: Context,
    *,
    start: date | None = None,
    end: date | None = None,
    days: int = 30,
    output: FileFormat | None = None,
    out: Path | None = None,
    bom: bool = False,
) -> InventoryResult:
    """Per SKU: on hand, reserved, available, units sold in the window, sell-through, turnover, days of cover."""
    _needs_out(output, out)
    first, last = window(start, end, days)
    with context.session() as session:
        report = _report(lambda: reports.inventory_report(session, first, last))
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in report.rows]
    written = _write(rows, reports.INVENTORY_COLUMNS, output, out, bom, "inventory")
    return InventoryResult(first, last, report, rows, reports.INVENTORY_COLUMNS, written)


@dataclass(frozen=True, slots=True)
class ReorderResult:
    first: date
    last: date
    rows: list[dict[str, Any]]
    columns: list[str]
    written: Written | None = None


def reorder_report(
    context: Context,
    *,
    lead_time: int,
    safety_days: int = 7,
    cover_days: int = 30,
    start: date | None = None,
    end: date | None = None,
    days: int = 30,
    output: FileFormat | None = None,
    out: Path | None = None,
    bom: bool = False,
) -> ReorderResult:
    """SKUs whose days of cover fall below lead time + safety days, with a suggested order quantity
    (sales velocity over the window)."""
    _needs_out(output, out)
    first, last = window(start, end, days)
    with context.session() as session:
        rows = _report(lambda: reports.reorder_report(session, first, last, lead_time, safety_days, cover_days))
    written = _write(rows, reports.REORDER_COLUMNS, output, out, bom, "reorder")
    return ReorderResult(first, last, rows, reports.REORDER_COLUMNS, written)


def _write(
    rows: list[dict[str, Any]],
    columns: list[str],
    output: FileFormat | None,
    out: Path | None,
    bom: bool,
    sheet: str,
) -> Written | None:
    if output is FileFormat.XLSX:
        assert out is not None
        reports.write_xlsx(out, [reports.Sheet(sheet, columns, rows, reports.inventory_formats())])
        return Written(out, None)
    if output is FileFormat.CSV:
        text = reports.write_rows(out, columns, rows, bom=bom)
        return Written(out, None if out is not None else text)
    return None


# ----------------------------------------------------------------------------------------- monthly
def write_monthly_report(context: Context, today: date | None = None) -> Path | None:
    """Last month's sales report as XLSX in settings ``report_folder`` (None: no folder set). A missing
    exchange rate raises :class:`ReportFailed` naming every missing currency and day."""
    folder = context.settings.report_folder
    if folder is None:
        return None
    try:
        with context.session() as session:
            return reports.write_monthly_report(session, folder, context.settings.base_currency, today=today)
    except MissingRates as exc:
        raise ReportFailed(str(exc)) from None
