"""``syncer fx set | import | list``: exchange rates used for channel prices and reports."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from listing_sync.syncer.cli.app import (
    FormatOption,
    TableFormat,
    announce_encoding,
    console,
    ctx,
    emit,
    friendly,
    fx_app,
)
from listing_sync.syncer.context import UserError


@fx_app.command("set")
@friendly
def fx_set(
    base: Annotated[str, typer.Argument(help="From currency, e.g. CNY.")],
    quote: Annotated[str, typer.Argument(help="To currency, e.g. USD.")],
    rate: Annotated[str, typer.Argument(help="1 BASE = RATE QUOTE, e.g. 0.1380.")],
    on: Annotated[str | None, typer.Option("--date", help="Day the rate applies from (default today, UTC).")] = None,
) -> None:
    """Set an exchange rate (used from that day on until a newer one)."""
    from listing_sync.adapters.money import parse_decimal
    from listing_sync.syncer.services import fx

    try:
        value = parse_decimal(rate)
        day = date.fromisoformat(on) if on else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    done = fx.set_rate(ctx(), base, quote, value, day)
    console.print(
        f"1 {done.base} = {done.rate} {done.quote} from {done.day}"
        + (f"; {done.repriced} listing(s) repriced" if done.repriced else "")
    )


@fx_app.command("import")
@friendly
def fx_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV or XLSX with columns date, base, quote, rate; or the ECB eurofxref XML (daily or history)."
        ),
    ],
) -> None:
    """Import rates from a file: validated whole (every bad row and column listed), nothing applied on error."""
    from listing_sync.syncer.services import fx

    announce_encoding(file)
    done = fx.import_rates(ctx(), file)
    console.print(
        f"{done.changed} rate(s) set, {done.unchanged} unchanged"
        + (f"; {done.repriced} listing(s) repriced" if done.repriced else "")
    )


@fx_app.command("list")
@friendly
def fx_list(
    base: Annotated[str | None, typer.Option("--base", help="Only this base currency.")] = None,
    quote: Annotated[str | None, typer.Option("--quote", help="Only this quote currency.")] = None,
    fmt: FormatOption = TableFormat.TABLE,
) -> None:
    """List the stored rates (1 BASE = RATE QUOTE from DAY)."""
    from listing_sync.syncer.services import fx

    rows = [
        {"date": r.day.isoformat(), "base": r.base, "quote": r.quote, "rate": r.rate}
        for r in fx.list_rates(ctx(), base=base, quote=quote)
    ]
    emit(rows, ["date", "base", "quote", "rate"], fmt, title="FX rates")
