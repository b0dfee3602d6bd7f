"""CLI: ``syncer report sales | inventory | reorder`` and ``syncer fx import | list``."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from listing_sync.syncer.cli import app, console, ctx, emit, friendly
from listing_sync.syncer.cli_ops import fx_app
from listing_sync.syncer.context import UserError
from sqlalchemy import select

report_app = typer.Typer(help="Sales, inventory and reorder reports (table, CSV or XLSX).", no_args_is_help=True)
app.add_typer(report_app, name="report")

ReportFormat = Annotated[str, typer.Option("--format", help="table, csv, xlsx or json.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Write to FILE (CSV default: standard output).")]
BomOption = Annotated[bool, typer.Option("--bom", help="Start the CSV with a UTF-8 BOM (for Excel).")]
FromOption = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC), inclusive.")]
DaysOption = Annotated[int, typer.Option("--days", help="Window length in days ending --to (without --from).")]


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def _window(start: str | None, end: str | None, days: int) -> tuple[date, date]:
    last = _date(end, "--to") if end else datetime.now(UTC).date()
    if start:
        return _date(start, "--from"), last
    if days < 1:
        raise UserError("--days must be at least 1")
    return last - timedelta(days=days - 1), last


def _check(fmt: str, out: Path | None) -> None:
    if fmt not in ("table", "csv", "xlsx", "json"):
        raise UserError(f"--format must be one of table, csv, xlsx, json, not {fmt!r}")
    if fmt == "xlsx" and out is None:
        raise UserError("--format xlsx needs --out FILE.xlsx")


def _run(fn):
    from listing_sync.syncer.fx import MissingRates
    from listing_sync.syncer.reports import ReportError

    try:
        return fn()
    except (MissingRates, ReportError, ValueError) as exc:
        raise UserError(str(exc)) from None


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]


# ------------------------------------------------------------------------------------------ sales
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
    fmt: ReportFormat = "table",
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """Orders, units, gross/cancelled/refunded/net revenue in the order currency and the report currency,
    shipping and average order value, per grouping, with totals. XLSX adds a revenue chart."""
    from listing_sync.syncer import reports

    _check(fmt, out)
    context = ctx()
    first, last = _date(start, "--from"), _date(end, "--to")
    report_currency = (currency or context.settings.base_currency).upper()
    with context.session() as session:
        report = _run(
            lambda: reports.sales_report(session, first, last, by or ["channel"], report_currency, chart=fmt == "xlsx")
        )
    if fmt == "xlsx":
        reports.write_sales(report, out, "xlsx")
        console.print(f"wrote {out} ({len(report.groupings)} grouping(s) and a revenue chart)")
    elif fmt == "csv":
        text = reports.write_sales(report, out, "csv", bom=bom)
        if out is None:
            sys.stdout.write(text or "")
        else:
            console.print(f"wrote {out}")
    elif fmt == "json":
        data = {"from": str(first), "to": str(last), "currency": report.currency, "total": report.totals}
        data.update({f"by_{g}": rows for g, rows in report.groupings.items()})
        console.print_json(data=data, default=str, ensure_ascii=False)
    else:
        r = report.currency
        shown = ["currency", "orders", "units", "gross", "net"]  # all columns: --format csv, json or xlsx
        shown += [f"gross_{r}", f"cancelled_{r}", f"refunded_{r}", f"net_{r}", f"shipping_{r}", f"aov_{r}"]
        title = f"sales {first} .. {last} in {r}"
        for grouping, rows in report.groupings.items():
            emit(rows, [grouping, *shown], "table", title=f"{title} by {grouping}")
        emit(report.totals, ["total", *shown], "table", title=f"{title}: total")


# -------------------------------------------------------------------------------------- inventory
@report_app.command("inventory")
@friendly
def report_inventory(
    start: FromOption = None,
    end: ToOption = None,
    days: DaysOption = 30,
    fmt: ReportFormat = "table",
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """Per SKU: on hand, reserved, available, units sold in the window, sell-through, turnover, days of cover."""
    from listing_sync.syncer import reports

    _check(fmt, out)
    first, last = _window(start, end, days)
    with ctx().session() as session:
        report = _run(lambda: reports.inventory_report(session, first, last))
    rows = _plain(report.rows)
    _write(rows, reports.INVENTORY_COLUMNS, fmt, out, bom, "inventory", f"inventory {first} .. {last}")
    if fmt == "table":
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
    fmt: ReportFormat = "table",
    out: OutOption = None,
    bom: BomOption = False,
) -> None:
    """SKUs whose days of cover fall below lead time + safety days, with a suggested order quantity."""
    from listing_sync.syncer import reports

    _check(fmt, out)
    first, last = _window(start, end, days)
    with ctx().session() as session:
        rows = _run(lambda: reports.reorder_report(session, first, last, lead_time, safety_days, cover_days))
    _write(rows, reports.REORDER_COLUMNS, fmt, out, bom, "reorder", f"reorder (velocity {first} .. {last})")
    if fmt == "table" and not rows:
        console.print("nothing to reorder")


def _write(rows, columns, fmt: str, out: Path | None, bom: bool, sheet: str, title: str) -> None:
    from listing_sync.syncer import reports

    if fmt == "xlsx":
        reports.write_xlsx(out, [reports.Sheet(sheet, columns, rows, reports.inventory_formats())])
        console.print(f"wrote {out}")
    elif fmt == "csv":
        text = reports.write_rows(out, columns, rows, bom=bom)
        if out is None:
            sys.stdout.write(text)
        else:
            console.print(f"wrote {out}")
    else:
        emit(rows, columns, fmt, title=title)


# --------------------------------------------------------------------------------------------- fx
@fx_app.command("import")
@friendly
def fx_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX with columns date, base, quote, rate.")],
) -> None:
    """Import rates from a file: validated whole (every bad row and column listed), nothing applied on error."""
    from listing_sync.syncer import fx, reconcile, service

    context = ctx()
    # listings are repriced like `fx set` does; without a channels file there is nothing to reprice
    channels = context.channels if context.settings.resolved_channels_file.exists() else []
    if channels:
        service.prepare(context)
    with context.session() as session:
        changed, unchanged = fx.import_rates(session, file)
        dirty = reconcile.refresh(session, channels, None) if changed and channels else 0
    console.print(f"{changed} rate(s) set, {unchanged} unchanged" + (f"; {dirty} listing(s) repriced" if dirty else ""))


@fx_app.command("list")
@friendly
def fx_list(
    base: Annotated[str | None, typer.Option("--base", help="Only this base currency.")] = None,
    quote: Annotated[str | None, typer.Option("--quote", help="Only this quote currency.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """List the stored rates (1 BASE = RATE QUOTE from DAY)."""
    from listing_sync.syncer.models import FxRate

    if fmt not in ("table", "json", "csv"):
        raise UserError(f"--format must be one of table, json, csv, not {fmt!r}")
    query = select(FxRate).order_by(FxRate.base, FxRate.quote, FxRate.day)
    if base:
        query = query.where(FxRate.base == base.upper())
    if quote:
        query = query.where(FxRate.quote == quote.upper())
    with ctx().session() as session:
        rows = [
            {"date": r.day.isoformat(), "base": r.base, "quote": r.quote, "rate": r.rate}
            for r in session.scalars(query)
        ]
    emit(rows, ["date", "base", "quote", "rate"], fmt, title="FX rates")
