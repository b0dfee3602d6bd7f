"""CLI: sync, status, listings, orders and FX commands (registered on the main ``syncer`` app)."""

from __future__ import annotations

import fnmatch
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

import typer
from listing_sync.syncer.cli import (
    FormatOption,
    _check_format,
    app,
    console,
    ctx,
    emit,
    err_console,
    friendly,
    progress_bar,
)
from listing_sync.syncer.context import UserError, current_user
from rich.table import Table
from sqlalchemy import select

listings_app = typer.Typer(help="Put catalog SKUs on channels, take them down and back up.", no_args_is_help=True)
orders_app = typer.Typer(help="Pull, list and work orders.", no_args_is_help=True)
fx_app = typer.Typer(help="Exchange rates used for channel prices and reports.", no_args_is_help=True)
app.add_typer(listings_app, name="listings")
app.add_typer(orders_app, name="orders")
app.add_typer(fx_app, name="fx")

ChannelOpt = Annotated[list[str] | None, typer.Option("--channel", help="Channel name (repeatable; default all).")]


def _prepared():
    from listing_sync.syncer import service

    context = ctx()
    service.prepare(context)
    return context


# ------------------------------------------------------------------------------------------- sync
@app.command()
@friendly
def sync(
    channel: ChannelOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan (items and API calls), push nothing.")
    ] = False,
    inline: Annotated[bool, typer.Option("--inline", help="Run here instead of queueing for a worker.")] = False,
    check_drift: Annotated[
        bool, typer.Option("--check-drift", help="Compare what channels hold with what we pushed.")
    ] = False,
    fix: Annotated[
        bool, typer.Option("--fix", help="With --check-drift: mark drifted listings dirty and adopt unmapped ones.")
    ] = False,
    user: Annotated[str | None, typer.Option(help="Who runs it (default: the OS user).")] = None,
) -> None:
    """Push dirty listings to channels (only what changed), or check drift."""
    from listing_sync.syncer import service

    context = _prepared()
    channels = context.selected_channels(channel)
    if check_drift:
        _drift(context, channels, fix)
        return
    if dry_run:
        table = Table(title="sync plan (dry run)")
        for column in ("channel", "publish", "relist", "price", "stock", "delist", "API calls", "deferred"):
            table.add_column(column)
        for config in channels:
            plan = service.plan_channel(context, config)
            counts, calls = plan.counts(), plan.calls()
            table.add_row(
                config.name,
                *(str(counts.get(op, 0)) for op in ("publish", "relist", "price", "stock", "delist")),
                str(sum(calls.values())),
                str(len(plan.deferred)),
            )
        console.print(table)
        return
    if not inline:
        from listing_sync.jobs import tasks

        for config in channels:
            tasks.sync_channel(config.name, user=current_user(user))
        console.print(f"queued sync of {len(channels)} channel(s) for the worker (`syncer worker`); --inline runs here")
        return
    table = Table(title="sync")
    for column in ("channel", "ok", "submitted", "retry", "parked", "API calls", "note"):
        table.add_column(column)
    for config in channels:
        with progress_bar(config.name, None) as bar:
            task = bar.add_task(f"sync {config.name}", total=None)
            report = service.sync_channel(
                context,
                config,
                user=current_user(user),
                progress=lambda done, total, t=task: bar.update(t, completed=done, total=total),
            )
        table.add_row(
            config.name,
            str(report.ok),
            str(report.submitted),
            str(report.retry),
            str(report.parked),
            str(report.api_calls),
            report.aborted or "",
        )
        for sku, message in report.errors[:10]:
            err_console.print(f"  [yellow]{config.name}[/] {sku}: {message}", highlight=False)
    console.print(table)


def _drift(context, channels, fix: bool) -> None:
    from listing_sync.syncer import service

    rows = []
    for config in channels:
        report = service.check_drift(context, config, fix=fix)
        for item in report.drifted:
            rows.append(
                {
                    "channel": config.name,
                    "sku": item.sku,
                    "field": item.field,
                    "pushed": item.pushed,
                    "on channel": item.remote,
                }
            )
        console.print(
            f"{config.name}: {report.checked} checked, {len(report.drifted)} drifted, {len(report.adopted)} adopted"
            + (f", {len(report.unknown)} not in the catalog" if report.unknown else "")
            + (", drifted listings marked dirty" if fix and report.drifted else "")
        )
    if rows:
        emit(rows, ["channel", "sku", "field", "pushed", "on channel"], "table", title="drift")


@app.command()
@friendly
def status(fmt: FormatOption = "table") -> None:
    """Per channel: listings, dirty, parked errors with messages, last sync, last order pull."""
    from listing_sync.syncer import service

    _check_format(fmt)
    rows = service.status(_prepared())
    if fmt == "json":
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    columns = [
        "channel",
        "kind",
        "listings",
        "clean",
        "dirty",
        "submitted",
        "parked",
        "last_sync",
        "last_sync_status",
        "last_order_pull",
    ]
    emit(rows, columns, fmt, title="status")
    if fmt == "table":
        for row in rows:
            for error in row["parked_errors"][:10]:
                err_console.print(
                    f"  [red]parked[/] {row['channel']} {error['sku']}: {error['code']}: {error['message']}",
                    highlight=False,
                )


# --------------------------------------------------------------------------------------- listings
def select_skus(session, patterns: list[str] | None, category: str | None = None) -> list[int]:
    from listing_sync.syncer.models import Product, Sku

    query = select(Sku.id, Sku.sku).join(Product, Product.id == Sku.product_id)
    if category:
        query = query.where(Product.category == category)
    rows = session.execute(query).all()
    patterns = patterns or []
    return [sid for sid, sku in rows if any(fnmatch.fnmatchcase(sku, p) for p in patterns)]


def _listing_change(action: str, channel: list[str] | None, flags, *, dry_run: bool | None = None) -> None:
    """Publish, delist or relist through the change-set flow: preview, confirm, one change set, sync."""
    from dataclasses import replace

    from listing_sync.syncer import changes
    from listing_sync.syncer.cli_changes import _command_line, _selected

    sel = flags.selection
    if sel.empty:
        raise UserError(
            "select SKUs with --sku PATTERN (e.g. --sku '*'), --category NAME, --tag TAG or --skus-file FILE"
        )
    context = _prepared()
    names = [c.name for c in context.selected_channels(channel)]
    wanted = "active" if action in ("publish", "relist") else "delisted"

    def build(session, _context):
        ids = _selected(session, sel)
        return changes.plan_wanted(session, ids, names, wanted, create=action == "publish")

    if dry_run is not None:
        flags = replace(flags, dry_run=dry_run, fmt="table")
    flags.run(
        build,
        command=_command_line(f"listings {action}", sel, channel=",".join(names)),
        title=f"listings {action} (preview)",
        reason=flags.reason or f"listings {action}",
    )


from listing_sync.syncer.cli_changes import ChangeFlags, change_command  # noqa: E402  (one definition of each shared flag)

PublishDryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Change nothing; list every gap (category/attribute mapping, required attribute, images) "
        "per SKU and channel. Exits 1 when there are gaps.",
    ),
]


@listings_app.command("publish")
@friendly
@change_command(replace={"dry_run": PublishDryRunOpt})
def listings_publish(channel: ChannelOpt = None, *, flags: ChangeFlags) -> None:
    """List catalog SKUs on channels (created on the next sync)."""
    if not flags.dry_run:
        _listing_change("publish", channel, flags)
        return
    from listing_sync.syncer.cli_content import publish_dry_run

    if flags.fmt == "table":  # the change preview first; JSON/CSV stay the gap report alone
        _listing_change("publish", channel, flags, dry_run=True)
    sku, categories = flags.sku, list(flags.category or [])
    if flags.tag or flags.skus_file or len(categories) > 1:
        sku, categories = _selected_names(flags), []
    publish_dry_run(sku, categories[0] if categories else None, channel, flags.fmt)


def _selected_names(flags) -> list[str]:
    """The selection as exact SKU names (for the gap report, which takes globs)."""
    from listing_sync.syncer.cli_changes import _selected
    from listing_sync.syncer.models import Sku

    with _prepared().session() as session:
        ids = set(_selected(session, flags.selection))
        return [name for sid, name in session.execute(select(Sku.id, Sku.sku)) if sid in ids]


@listings_app.command("delist")
@friendly
@change_command()
def listings_delist(channel: ChannelOpt = None, *, flags: ChangeFlags) -> None:
    """Take listings off sale without deleting them from the catalog."""
    _listing_change("delist", channel, flags)


@listings_app.command("relist")
@friendly
@change_command()
def listings_relist(channel: ChannelOpt = None, *, flags: ChangeFlags) -> None:
    """Put delisted listings back on sale."""
    _listing_change("relist", channel, flags)


# ----------------------------------------------------------------------------------------- orders
@orders_app.command("pull")
@friendly
def orders_pull(
    channel: ChannelOpt = None,
    since: Annotated[str | None, typer.Option(help="Re-read from this date/time (ISO 8601, UTC if no zone).")] = None,
    user: Annotated[str | None, typer.Option(help="Who runs it.")] = None,
    push: Annotated[
        bool, typer.Option(help="Push the new availability of affected SKUs to the other channels.")
    ] = True,
) -> None:
    """Pull new and changed orders from channels, reserve stock, and push availability elsewhere."""
    from listing_sync.syncer import service

    context = _prepared()
    start = _parse_when(since) if since else None
    table = Table(title="orders pull")
    for column in ("channel", "new", "updated", "unchanged", "unmatched lines", "pages"):
        table.add_column(column)
    affected: dict[str, set[int]] = {}
    for config in context.selected_channels(channel):
        with progress_bar(config.name, None) as bar:
            task = bar.add_task(f"orders {config.name}", total=None)
            report = service.pull_orders(
                context,
                config,
                since=start,
                user=current_user(user),
                progress=lambda r, t=task: bar.update(t, completed=r.pages),
            )
        table.add_row(
            config.name,
            str(report.new),
            str(report.updated),
            str(report.unchanged),
            str(report.unmatched),
            str(report.pages),
        )
        affected[config.name] = report.affected_sku_ids
    console.print(table)
    if push:
        for name, ids in affected.items():
            if not ids:
                continue
            for other in service.other_channels(context, name):
                pushed = service.sync_channel(
                    context, other, user=current_user(user), only_skus=ids, pull_orders_first=False
                )
                console.print(
                    f"pushed availability of {len(ids)} SKU(s) to {other.name}: {pushed.ok} ok, {pushed.failed} failed"
                )


def _parse_when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(
            f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-11-01 or 2026-11-01T08:00)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@orders_app.command("list")
@friendly
def orders_list(
    channel: ChannelOpt = None,
    status_filter: Annotated[str | None, typer.Option("--status", help="paid, shipped, cancelled, ...")] = None,
    since: Annotated[str | None, typer.Option(help="Placed at or after (ISO 8601).")] = None,
    unmatched: Annotated[bool, typer.Option("--unmatched", help="Only orders with lines of unknown SKUs.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many orders.")] = 200,
    fmt: FormatOption = "table",
) -> None:
    """List orders."""
    from listing_sync.syncer.models import Channel, Order, OrderLine

    _check_format(fmt)
    context = _prepared()
    with context.session() as session:
        query = (
            select(Order, Channel.name).join(Channel, Channel.id == Order.channel_id).order_by(Order.placed_at.desc())
        )
        if channel:
            query = query.where(Channel.name.in_(channel))
        if status_filter:
            query = query.where(Order.status == status_filter)
        if since:
            query = query.where(Order.placed_at >= _parse_when(since))
        if unmatched:
            query = query.where(Order.id.in_(select(OrderLine.order_id).where(OrderLine.unmatched.is_(True))))
        rows = []
        for order, name in session.execute(query.limit(limit)):
            rows.append(
                {
                    "channel": name,
                    "order": order.external_id,
                    "status": order.status,
                    "placed_at": order.placed_at.isoformat(timespec="seconds"),
                    "currency": order.currency,
                    "total": str(order.total),
                    "country": order.ship_country,
                    "lines": ", ".join(
                        f"{line.sku} x{line.quantity}" + (" (unmatched)" if line.unmatched else "")
                        for line in order.lines
                    ),
                }
            )
    emit(
        rows, ["channel", "order", "status", "placed_at", "currency", "total", "country", "lines"], fmt, title="orders"
    )


@orders_app.command("receive-return")
@friendly
def orders_receive_return(
    channel: Annotated[str, typer.Option("--channel", help="Channel of the order.")],
    order: Annotated[str, typer.Argument(help="The marketplace's order id.")],
    user: Annotated[str | None, typer.Option(help="Who received it.")] = None,
) -> None:
    """Confirm a returned order arrived back: restock its lines (once)."""
    from listing_sync.syncer import orders as order_logic
    from listing_sync.syncer import reconcile
    from listing_sync.syncer.models import Channel

    context = _prepared()
    with context.session() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == channel))
        if channel_id is None:
            raise UserError(f"no channel {channel!r}")
        try:
            units = order_logic.receive_return(session, channel_id, order, current_user(user))
        except LookupError as exc:
            raise UserError(str(exc)) from None
        reconcile.refresh(session, context.channels, None)
    console.print(f"restocked {units} unit(s) from order {order}" if units else f"nothing to restock for {order}")


# --------------------------------------------------------------------------------------------- fx
@fx_app.command("set")
@friendly
def fx_set(
    base: Annotated[str, typer.Argument(help="From currency, e.g. CNY.")],
    quote: Annotated[str, typer.Argument(help="To currency, e.g. USD.")],
    rate: Annotated[str, typer.Argument(help="1 BASE = RATE QUOTE, e.g. 0.1380.")],
    on: Annotated[str | None, typer.Option("--date", help="Day the rate applies from (default today, UTC).")] = None,
) -> None:
    """Set an exchange rate (used from that day on until a newer one)."""
    from listing_sync.adapters.money import UnknownCurrency, parse_decimal
    from listing_sync.syncer import fx, reconcile

    context = _prepared()
    try:
        value = parse_decimal(rate)
        day = date.fromisoformat(on) if on else datetime.now(UTC).date()
        with context.session() as session:
            changed = fx.set_rate(session, base.upper(), quote.upper(), value, day)
            dirty = reconcile.refresh(session, context.channels, None) if changed else 0
    except (ValueError, UnknownCurrency) as exc:
        raise UserError(str(exc)) from None
    console.print(
        f"1 {base.upper()} = {value} {quote.upper()} from {day}" + (f"; {dirty} listing(s) repriced" if dirty else "")
    )


def _decimal(text: str) -> Decimal:
    from listing_sync.adapters.money import parse_decimal

    try:
        return parse_decimal(text)
    except ValueError as exc:
        raise UserError(str(exc)) from None


# ------------------------------------------------------------------------------------------- demo
@app.command()
@friendly
def demo(
    reset: Annotated[bool, typer.Option("--reset", help="Start from a clean demo data directory.")] = False,
) -> None:
    """Run the whole loop against the six emulated marketplaces (no credentials needed).

    Uses the data directory from settings (SYNCER_DATA_DIR / --data-dir); afterwards every other command
    works on the demo's data. Writes an HTTP trace of everything it sent to <data dir>/demo-trace.jsonl.
    """
    from listing_sync.syncer import demo as demo_run

    context = ctx()
    result = demo_run.run(context.data_dir, reset=reset, trace=context.trace_path, say=console.print)
    emit(
        result.summary,
        ["channel", "kind", "listed", "delisted", "synced", "calls", "orders", "errors"],
        "table",
        title="demo summary",
    )
    console.print(f"finished in {result.seconds:.1f}s; data in {result.data_dir}; HTTP trace in {result.trace}")
    console.print("try: syncer status · syncer orders list · syncer catalog show TEA-LJ-250")
