"""CLI: sync, status, listings, orders and FX commands (registered on the main ``syncer`` app)."""

from __future__ import annotations

import fnmatch
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from syncer.cli import (
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
from syncer.context import UserError, current_user

listings_app = typer.Typer(help="Put catalog SKUs on channels, take them down and back up.", no_args_is_help=True)
orders_app = typer.Typer(help="Pull, list and work orders.", no_args_is_help=True)
fx_app = typer.Typer(help="Exchange rates used for channel prices and reports.", no_args_is_help=True)
app.add_typer(listings_app, name="listings")
app.add_typer(orders_app, name="orders")
app.add_typer(fx_app, name="fx")

ChannelOpt = Annotated[list[str] | None, typer.Option("--channel", help="Channel name (repeatable; default all).")]


def _prepared():
    from syncer import service

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
    from syncer import service

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
        from jobs import tasks

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
    from syncer import service

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
    from syncer import service

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
    from syncer.models import Product, Sku

    query = select(Sku.id, Sku.sku).join(Product, Product.id == Sku.product_id)
    if category:
        query = query.where(Product.category == category)
    rows = session.execute(query).all()
    patterns = patterns or []
    return [sid for sid, sku in rows if any(fnmatch.fnmatchcase(sku, p) for p in patterns)]


def _listing_change(
    action: str,
    sku: list[str] | None,
    category: str | None,
    channel: list[str] | None,
    *,
    tag: list[str] | None = None,
    skus_file=None,
    reason: str = "",
    user: str | None = None,
    dry_run: bool = False,
    yes: bool = False,
    force: bool = False,
    sync_now: bool = False,
    fmt: str = "table",
) -> None:
    """Publish, delist or relist through the change-set flow: preview, confirm, one change set, sync."""
    from syncer import changes
    from syncer.cli_changes import _command_line, _selected, run_change, selection

    sel = selection(sku, category, tag, skus_file)
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

    run_change(
        build,
        command=_command_line(f"listings {action}", sel, channel=",".join(names)),
        reason=reason or f"listings {action}",
        user=user,
        dry_run=dry_run,
        yes=yes,
        force=force,
        sync_now=sync_now,
        fmt=fmt,
        title=f"listings {action} (preview)",
    )


SkuOpt = Annotated[list[str] | None, typer.Option("--sku", help="SKU glob (repeatable; '*' = all).")]
CategoryOpt = Annotated[str | None, typer.Option("--category", help="Only this category.")]
from syncer.cli_changes import (  # noqa: E402  (shared with price/stock: one definition of each flag)
    DryRunOpt,
    ForceOpt,
    ReasonOpt,
    SkusFileOpt,
    SyncNowOpt,
    TagOpt,
    UserOpt,
    YesOpt,
)


@listings_app.command("publish")
@friendly
def listings_publish(
    sku: SkuOpt = None,
    category: CategoryOpt = None,
    channel: ChannelOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Change nothing; list every gap (category/attribute mapping, required attribute, images) "
            "per SKU and channel. Exits 1 when there are gaps.",
        ),
    ] = False,
    fmt: FormatOption = "table",
    tag: TagOpt = None,
    skus_file: SkusFileOpt = None,
    reason: ReasonOpt = "",
    user: UserOpt = None,
    yes: YesOpt = False,
    force: ForceOpt = False,
    sync_now: SyncNowOpt = False,
) -> None:
    """List catalog SKUs on channels (created on the next sync)."""
    if dry_run:
        from syncer.cli_content import publish_dry_run

        if fmt == "table":  # the change preview first; JSON/CSV stay the gap report alone
            _listing_change("publish", sku, category, channel, tag=tag, skus_file=skus_file, dry_run=True)
        if tag or skus_file:
            sku, category = _selected_names(sku, category, tag, skus_file), None
        publish_dry_run(sku, category, channel, fmt)
        return
    _listing_change(
        "publish",
        sku,
        category,
        channel,
        tag=tag,
        skus_file=skus_file,
        reason=reason,
        user=user,
        yes=yes,
        force=force,
        sync_now=sync_now,
        fmt=fmt,
    )


def _selected_names(sku, category, tag, skus_file) -> list[str]:
    """The selection as exact SKU names (for the gap report, which takes globs)."""
    from syncer.cli_changes import _selected, selection
    from syncer.models import Sku

    with _prepared().session() as session:
        ids = set(_selected(session, selection(sku, category, tag, skus_file)))
        return [name for sid, name in session.execute(select(Sku.id, Sku.sku)) if sid in ids]


@listings_app.command("delist")
@friendly
def listings_delist(
    sku: SkuOpt = None,
    category: CategoryOpt = None,
    channel: ChannelOpt = None,
    tag: TagOpt = None,
    skus_file: SkusFileOpt = None,
    reason: ReasonOpt = "",
    user: UserOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    force: ForceOpt = False,
    sync_now: SyncNowOpt = False,
    fmt: FormatOption = "table",
) -> None:
    """Take listings off sale without deleting them from the catalog."""
    _listing_change(
        "delist",
        sku,
        category,
        channel,
        tag=tag,
        skus_file=skus_file,
        reason=reason,
        user=user,
        dry_run=dry_run,
        yes=yes,
        force=force,
        sync_now=sync_now,
        fmt=fmt,
    )


@listings_app.command("relist")
@friendly
def listings_relist(
    sku: SkuOpt = None,
    category: CategoryOpt = None,
    channel: ChannelOpt = None,
    tag: TagOpt = None,
    skus_file: SkusFileOpt = None,
    reason: ReasonOpt = "",
    user: UserOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    force: ForceOpt = False,
    sync_now: SyncNowOpt = False,
    fmt: FormatOption = "table",
) -> None:
    """Put delisted listings back on sale."""
    _listing_change(
        "relist",
        sku,
        category,
        channel,
        tag=tag,
        skus_file=skus_file,
        reason=reason,
        user=user,
        dry_run=dry_run,
        yes=yes,
        force=force,
        sync_now=sync_now,
        fmt=fmt,
    )


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
    from syncer import service

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
    from syncer.models import Channel, Order, OrderLine

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
    from syncer import orders as order_logic
    from syncer import reconcile
    from syncer.models import Channel

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
    from adapters.money import UnknownCurrency, parse_decimal
    from syncer import fx, reconcile

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
    from adapters.money import parse_decimal

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
    from syncer import demo as demo_run

    context = ctx()
    result = demo_run.run(context.data_dir, reset=reset, trace=context.trace_path, say=console.print)
    emit(
        result.summary,
        ["channel", "kind", "listings", "delisted", "in sync", "API calls", "orders", "errors"],
        "table",
        title="demo summary",
    )
    console.print(f"finished in {result.seconds:.1f}s; data in {result.data_dir}; HTTP trace in {result.trace}")
    console.print("try: syncer status · syncer orders list · syncer catalog show TEA-LJ-250")
