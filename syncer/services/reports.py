"""Reports: sales (in one report currency), inventory and reorder, as data or written as CSV/XLSX; and
the monthly sales report the scheduler writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from listing_sync.syncer import mail, periods, reports
from listing_sync.syncer.context import Context
from listing_sync.syncer.fx import MissingRates
from listing_sync.syncer.reports import InventoryReport, ReorderPolicy, ReportError, SalesReport
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


def window(start: date | None, end: date | None, days: int, tz: str = "UTC") -> tuple[date, date]:
    """The days a report covers: ``start`` .. ``end`` (default today in ``tz``), or the ``days`` ending ``end``."""
    last = end or periods.today_in(tz)
    if start:
        return start, last
    if days < 1:
        raise InvalidRequest("--days must be at least 1")
    try:
        return last - timedelta(days=days - 1), last
    except OverflowError:
        raise InvalidRequest(f"--days {days} before {last} is before the year 1") from None


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
    lang: str | None = None,
) -> InventoryResult:
    """Per SKU: on hand, reserved, available, units sold in the window, sell-through %, turnover, days of
    cover, unit cost and stock value at cost (local days of settings ``report_timezone``)."""
    _needs_out(output, out)
    tz = context.settings.report_timezone
    first, last = window(start, end, days, tz)
    with context.session() as session:
        report = _report(lambda: reports.inventory_report(session, first, last, tz))
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in report.rows]
    written = _write(context, rows, reports.INVENTORY_COLUMNS, output, out, bom, "inventory", (first, last), lang)
    return InventoryResult(first, last, report, rows, reports.INVENTORY_COLUMNS, written)


@dataclass(frozen=True, slots=True)
class ReorderResult:
    first: date
    last: date
    rows: list[dict[str, Any]]
    columns: list[str]
    written: Written | None = None


def _reorder_rows(
    context: Context, policy: ReorderPolicy, start: date | None, end: date | None, days: int
) -> tuple[date, date, list[dict[str, Any]]]:
    tz = context.settings.report_timezone
    first, last = window(start, end, days, tz)
    with context.session() as session:
        rows = _report(lambda: reports.reorder_report(session, first, last, policy, tz))
    return first, last, rows


def reorder_report(
    context: Context,
    *,
    policy: ReorderPolicy | None = None,
    start: date | None = None,
    end: date | None = None,
    days: int = 30,
    output: FileFormat | None = None,
    out: Path | None = None,
    bom: bool = False,
    lang: str | None = None,
) -> ReorderResult:
    """Per SKU and warehouse: the reorder point from the SKU's lead time (catalog ``lead_time_days``, else
    ``policy.lead_time``) and a safety stock from the variability of its daily sales; the ones at or below
    it, with a suggested quantity and its value at cost."""
    _needs_out(output, out)
    first, last, rows = _reorder_rows(context, policy or ReorderPolicy(), start, end, days)
    written = _write(context, rows, reports.REORDER_COLUMNS, output, out, bom, "reorder", (first, last), lang)
    return ReorderResult(first, last, rows, reports.REORDER_COLUMNS, written)


@dataclass(frozen=True, slots=True)
class PurchaseResult:
    first: date
    last: date
    #: supplier -> the rows to order from it; and the suggested value per cost currency
    suppliers: dict[str, list[dict[str, Any]]]
    totals: dict[str, dict[str, Decimal]]
    written: Written | None = None


def purchase_suggestions(
    context: Context,
    *,
    policy: ReorderPolicy | None = None,
    suppliers: Sequence[str] = (),
    start: date | None = None,
    end: date | None = None,
    days: int = 30,
    output: FileFormat | None = None,
    out: Path | None = None,
    bom: bool = False,
    lang: str | None = None,
) -> PurchaseResult:
    """The reorder suggestions with something to order, grouped by supplier (only ``suppliers`` if given):
    XLSX writes one sheet per supplier, CSV one table with the supplier first."""
    _needs_out(output, out)
    first, last, rows = _reorder_rows(context, policy or ReorderPolicy(), start, end, days)
    groups = reports.purchase_suggestions(rows)
    if suppliers:
        groups = {name: found for name, found in groups.items() if name in suppliers}
    totals = {name: reports.supplier_totals(found) for name, found in groups.items()}
    written = None
    if output is not None:
        label = f"{first.isoformat()} .. {last.isoformat()} ({context.settings.report_timezone})"
        language = lang or context.settings.report_language
        text = reports.write_purchase(groups, out, output.value, label, bom=bom, lang=language)
        written = (
            Written(out, None if out is not None else text or "") if output is FileFormat.CSV else Written(out, None)
        )
    return PurchaseResult(first, last, groups, totals, written)


def _write(
    context: Context,
    rows: list[dict[str, Any]],
    columns: list[str],
    output: FileFormat | None,
    out: Path | None,
    bom: bool,
    sheet: str,
    days: tuple[date, date],
    lang: str | None,
) -> Written | None:
    if output is FileFormat.XLSX:
        assert out is not None
        label = f"{days[0].isoformat()} .. {days[1].isoformat()} ({context.settings.report_timezone})"
        spec = reports.stock_sheet(sheet, columns, rows)
        reports.write_stock_xlsx(out, [spec], sheet, label, lang or context.settings.report_language)
        return Written(out, None)
    if output is FileFormat.CSV:
        text = reports.write_rows(out, columns, rows, bom=bom)
        return Written(out, None if out is not None else text)
    return None


# --------------------------------------------------------------------------------------- scheduled
@dataclass(frozen=True, slots=True)
class Delivered:
    """A scheduled report written to ``path`` and, when SMTP settings are given, mailed to ``emailed``."""

    kind: str
    path: Path
    emailed: list[str]
    fresh: bool = True  # False: the file was already there (written by an earlier run), nothing done


def deliver_scheduled_report(context: Context, kind: str, today: date | None = None) -> Delivered | None:
    """Write last week's (``weekly``) or last month's (``monthly``) sales report, with profit, summary and
    charts, into settings ``report_folder`` (None: no folder set) unless it is already there (so a job
    can run often and catch up after downtime, in any time zone), and e-mail it to ``report_recipients``
    when ``smtp_host`` is set. Periods are in ``report_timezone``; amounts in ``base_currency``. A missing
    exchange rate raises :class:`ReportFailed` naming every missing currency and day; a refused e-mail
    raises it too (the file is written first)."""
    settings = context.settings
    folder = settings.report_folder
    if folder is None:
        return None
    if kind not in reports.SCHEDULED:
        raise InvalidRequest(f"scheduled reports are {', '.join(reports.SCHEDULED)}, not {kind!r}")
    today = today or periods.today_in(settings.report_timezone)
    start, _ = periods.period_days(reports.SCHEDULED[kind], today)
    done = folder / reports.scheduled_name(kind, start)
    if done.exists():
        return Delivered(kind, done, [], fresh=False)
    rules = fee_rules(context)
    try:
        with context.session() as session:
            path = reports.write_scheduled_report(
                session,
                folder,
                kind,
                settings.base_currency,
                today,
                tz=settings.report_timezone,
                via=settings.base_currency,
                fee_rules=rules,
                lang=settings.report_language,
            )
    except MissingRates as exc:
        raise ReportFailed(str(exc)) from None
    emailed: list[str] = []
    if mail.mail_configured(settings):
        subject = f"listing-sync {kind} sales report: {path.stem.removeprefix('sales-')}"
        body = f"The {kind} sales and profit report ({settings.base_currency}) is attached: {path.name}."
        try:
            emailed = mail.send_files(settings, subject, body, [path])
        except mail.MailFailed as exc:
            raise ReportFailed(f"{path} written; {exc}") from None
    return Delivered(kind, path, emailed)
