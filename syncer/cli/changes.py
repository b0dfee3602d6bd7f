"""``syncer price | stock | changes | history``: bulk price and stock changes, change sets (apply a file
of edits, list, show, undo) and a SKU's history. Every change goes through :mod:`.changeflow`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from listing_sync.syncer.cli.app import (
    FormatOption,
    TableFormat,
    announce_encoding,
    app,
    changes_app,
    console,
    ctx,
    emit,
    friendly,
    price_app,
    print_json,
    records,
    stock_app,
    write_plain_csv,
)
from listing_sync.syncer.cli.changeflow import ChangeFlags, change_command, command_line, run_change, run_scheduled
from listing_sync.syncer.cli.options import parse_decimal
from rich.table import Table

ChannelOneOpt = Annotated[
    str | None,
    typer.Option(
        "--channel",
        help="Change this channel's price override (in the channel's currency) instead of the base price.",
    ),
]
CurrencyOpt = Annotated[
    str | None,
    typer.Option(
        "--currency",
        help="The currency of the amount: defaults to the channel's (with --channel) or each SKU's; "
        "another one is refused.",
    ),
]
WarehouseOpt = Annotated[str, typer.Option("--warehouse", help="Warehouse code.")]
CHANGE_COLUMNS = ["sku", "channel", "field", "old", "new", "currency", "change_pct"]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from", help="Schedule it: apply at this time (ISO 8601; no zone = SYNCER_REPORT_TIMEZONE), by the worker."
    ),
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Revert it at this time (ISO 8601, zone as --from); keeps later edits.")
]
SCHEDULE_COLUMNS = ["id", "status", "starts_at", "ends_at", "user", "reason", "start_change_set", "end_change_set"]


# -------------------------------------------------------------------------------------------- price
@price_app.command("set")
@friendly
@change_command()
def price_set(
    amount: Annotated[
        str, typer.Argument(help="New price: in each SKU's currency, or with --channel in the channel's.")
    ],
    channel: ChannelOneOpt = None,
    currency: CurrencyOpt = None,
    from_: FromOpt = None,
    until: UntilOpt = None,
    *,
    flags: ChangeFlags,
) -> None:
    """Set the base price (or with --channel that channel's price, in its currency) of the selected SKUs; with
    --from and --until a promotion the worker applies at the start and reverts at the end."""
    from listing_sync.syncer.services.changes import PriceSet

    sel = flags.selection
    request = PriceSet(sel, parse_decimal(amount, "AMOUNT"), channel, currency)
    line = command_line(
        f"price set {amount}", sel, channel=channel, currency=currency, force=flags.force, from_=from_, until=until
    )
    if from_ or until:
        run_scheduled(request, flags, starts=from_, ends=until, title="price set (scheduled, preview)", command=line)
        return
    run_change(request, flags, title="price set (preview)", command=line)


@price_app.command("adjust")
@friendly
@change_command()
def price_adjust(
    percent: Annotated[str | None, typer.Option("--percent", help="Signed percent, e.g. 5 or -5.")] = None,
    amount: Annotated[
        str | None,
        typer.Option("--amount", help="Signed amount in each SKU's currency (with --channel: the channel's)."),
    ] = None,
    channel: ChannelOneOpt = None,
    currency: CurrencyOpt = None,
    from_: FromOpt = None,
    until: UntilOpt = None,
    *,
    flags: ChangeFlags,
) -> None:
    """Raise or lower prices by a percent or an amount (rounded half-up to the currency's minor units); with
    --from and --until a promotion the worker applies at the start and reverts at the end."""
    from listing_sync.syncer.services.changes import PriceAdjust

    sel = flags.selection
    request = PriceAdjust(
        sel,
        percent=parse_decimal(percent, "--percent") if percent is not None else None,
        amount=parse_decimal(amount, "--amount") if amount is not None else None,
        channel=channel,
        currency=currency,
    )
    line = command_line(
        "price adjust",
        sel,
        percent=percent,
        amount=amount,
        channel=channel,
        currency=currency,
        force=flags.force,
        from_=from_,
        until=until,
    )
    if from_ or until:
        run_scheduled(request, flags, starts=from_, ends=until, title="price adjust (scheduled, preview)", command=line)
        return
    run_change(request, flags, title="price adjust (preview)", command=line)


# -------------------------------------------------------------------------------------------- stock
@stock_app.command("set")
@friendly
@change_command(guarded=False)
def stock_set(
    qty: Annotated[int, typer.Argument(help="New on-hand quantity.", min=0)],
    warehouse: WarehouseOpt,
    *,
    flags: ChangeFlags,
) -> None:
    """Set on-hand stock of the selected SKUs in one warehouse (a counted ledger adjustment)."""
    from listing_sync.syncer.services.changes import StockSet

    sel = flags.selection
    run_change(
        StockSet(sel, warehouse, qty),
        flags,
        title="stock set (preview)",
        command=command_line(f"stock set {qty}", sel, warehouse=warehouse),
    )


@stock_app.command("adjust")
@friendly
@change_command(guarded=False)
def stock_adjust(
    by: Annotated[int, typer.Option("--by", help="Signed change of on-hand, e.g. 10 or -3.")],
    warehouse: WarehouseOpt,
    *,
    flags: ChangeFlags,
) -> None:
    """Add to (or with a negative --by take from) on-hand stock in one warehouse; never below zero."""
    from listing_sync.syncer.services.changes import StockAdjust

    sel = flags.selection
    run_change(
        StockAdjust(sel, warehouse, by),
        flags,
        title="stock adjust (preview)",
        command=command_line("stock adjust", sel, by=by, warehouse=warehouse),
    )


# ------------------------------------------------------------------------------------------ changes
@changes_app.command("apply")
@friendly
@change_command(selectors=False)
def changes_apply(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: sku, channel, price, currency, stock[WH] columns.")],
    *,
    flags: ChangeFlags,
) -> None:
    """Apply a file of per-SKU (optionally per-channel) price and stock edits as one change set.

    The whole file is validated first; every bad row and column is listed and nothing is applied."""
    from listing_sync.syncer.services.changes import EditsFile

    announce_encoding(file)
    run_change(
        EditsFile(file),
        flags,
        title=f"{file.name} (preview)",
        command=command_line(f"changes apply {file}", force=flags.force),
    )


@changes_app.command("list")
@friendly
def changes_list(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's change sets.")] = None,
    scheduled: Annotated[
        bool, typer.Option("--scheduled", help="Scheduled price changes instead: waiting and running ones.")
    ] = False,
    all_scheduled: Annotated[bool, typer.Option("--all", help="With --scheduled: finished ones too.")] = False,
    fmt: FormatOption = TableFormat.TABLE,
) -> None:
    """List change sets, newest first (--scheduled: the scheduled price changes, soonest first)."""
    from listing_sync.syncer.services import changes, promotions

    if scheduled:
        found = records(promotions.list_scheduled(ctx(), all_=all_scheduled))
        emit(found, [*SCHEDULE_COLUMNS, "command", "message"], fmt, title="scheduled changes")
        return
    rows = records(changes.list_change_sets(ctx(), limit=limit, user=user))
    emit(
        rows, ["id", "created_at", "user", "reason", "command", "status", "undo_of", "items"], fmt, title="change sets"
    )


@changes_app.command("cancel")
@friendly
def changes_cancel(
    scheduled_id: Annotated[int, typer.Argument(help="The scheduled change (see `changes list --scheduled`).")],
    user: Annotated[str | None, typer.Option("--user", help="Who cancels.")] = None,
) -> None:
    """Cancel a scheduled price change before it starts."""
    from listing_sync.jobs.scheduler import HueyScheduler
    from listing_sync.syncer.services import promotions

    info = promotions.cancel_scheduled(ctx(), scheduled_id, user=user, scheduler=HueyScheduler())
    console.print(f"cancelled scheduled change {info.id} (it was to start {info.starts_at} UTC)")


@changes_app.command("show")
@friendly
def changes_show(
    change_set: Annotated[int, typer.Argument(metavar="ID", help="Change set id.")],
    fmt: FormatOption = TableFormat.TABLE,
) -> None:
    """Show one change set: who, when, why, and every value's old and new value."""
    from listing_sync.syncer.services import changes

    data = records([changes.show_change_set(ctx(), change_set)])[0]
    if fmt == "json":
        print_json(data)
        return
    if fmt == "csv":
        write_plain_csv(data["changes"], CHANGE_COLUMNS)
        return
    head = Table(show_header=False, title=f"change set {data['id']}")
    for key in ("created_at", "user", "reason", "command", "status", "undo_of", "undone_by", "items"):
        head.add_row(key, "" if data[key] is None else str(data[key]))
    console.print(head)
    emit(data["changes"], CHANGE_COLUMNS, "table", title="changes")


@changes_app.command("undo")
@friendly
@change_command(selectors=False)
def changes_undo(
    change_set: Annotated[int, typer.Argument(metavar="ID", help="Change set to undo.")],
    *,
    flags: ChangeFlags,
) -> None:
    """Restore a change set's old values as a new change set.

    Refused, with the reason, where a later change set touched the same values (or they changed
    otherwise) unless --force. Prices and listing states go back to their old values; stock is reversed
    by the opposite movement, so sales since then are kept. --force also passes the price guard."""
    from listing_sync.syncer.services.changes import UndoChangeSet

    run_change(
        UndoChangeSet(change_set, override_conflicts=flags.force),
        flags,
        title=f"undo change set {change_set} (preview)",
        command=command_line(f"changes undo {change_set}", force=flags.force),
    )


# ------------------------------------------------------------------------------------------ history
@app.command("history")
@friendly
def history(
    sku: Annotated[str, typer.Argument(help="The SKU.")],
    fmt: FormatOption = TableFormat.TABLE,
) -> None:
    """Every change set item and sync result of one SKU, oldest first."""
    from listing_sync.syncer.services import changes

    rows = records(changes.sku_history(ctx(), sku))
    columns = ["time", "kind", "id", "channel", "what", "old", "new", "currency", "ok", "user", "note"]
    if fmt == "csv":
        write_plain_csv(rows, columns)
        return
    emit(rows, columns, fmt, title=f"history {sku}")
