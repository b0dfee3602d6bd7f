"""CLI: bulk price and stock changes, change sets (list, show, undo, apply FILE) and SKU history.

Every change goes the same way (:func:`run_change`): select SKUs, plan, show the preview (SKU, channel,
old -> new, % change, listings and API calls), stop for ``--dry-run``, refuse what the price guard
catches unless ``--force``, ask for confirmation unless ``--yes``, apply as one change set, then queue
the sync of the affected listings (or run it here with ``--sync-now``).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import inspect
import json
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from listing_sync.syncer.cli import FormatOption, _check_format, app, console, ctx, emit, err_console, friendly
from listing_sync.syncer.context import UserError, current_user
from rich.table import Table

price_app = typer.Typer(help="Bulk price changes (base price, or one channel's override).", no_args_is_help=True)
stock_app = typer.Typer(help="Bulk on-hand stock changes in one warehouse (ledger movements).", no_args_is_help=True)
changes_app = typer.Typer(help="Change sets: list, show, undo, and apply a file of edits.", no_args_is_help=True)
app.add_typer(price_app, name="price")
app.add_typer(stock_app, name="stock")
app.add_typer(changes_app, name="changes")

PREVIEW_ROWS = 50
PREVIEW_COLUMNS = ["sku", "channel", "field", "old", "new", "change_pct"]

SkuOpt = Annotated[list[str] | None, typer.Option("--sku", help="SKU glob (repeatable; '*' = all).")]
CategoryOpt = Annotated[list[str] | None, typer.Option("--category", help="Only this category (repeatable).")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="Only products with this tag (repeatable).")]
SkusFileOpt = Annotated[
    Path | None,
    typer.Option("--skus-file", help="Only the SKUs in FILE (one per line, or CSV/XLSX with a sku column)."),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept with the change set).")]
UserOpt = Annotated[str | None, typer.Option("--user", help="Who (default: the OS user).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the preview and stop; change nothing.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking (for scripts).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Apply even what the price guard refuses.")]
SyncNowOpt = Annotated[
    bool, typer.Option("--sync-now", help="Push the affected listings here and now instead of queueing the sync.")
]
ChannelOneOpt = Annotated[
    str | None, typer.Option("--channel", help="Change this channel's price override instead of the base price.")
]


SELECTORS = ("sku", "category", "tag", "skus_file")
#: every bulk-change command's shared options: name -> (annotation, default)
FLAG_OPTIONS: dict[str, tuple[Any, Any]] = {
    "sku": (SkuOpt, None),
    "category": (CategoryOpt, None),
    "tag": (TagOpt, None),
    "skus_file": (SkusFileOpt, None),
    "reason": (ReasonOpt, ""),
    "user": (UserOpt, None),
    "dry_run": (DryRunOpt, False),
    "yes": (YesOpt, False),
    "force": (ForceOpt, False),
    "sync_now": (SyncNowOpt, False),
    "fmt": (FormatOption, "table"),
}


@dataclass(frozen=True, slots=True)
class ChangeFlags:
    """The selectors and flow flags every bulk change takes (see :func:`change_command`)."""

    sku: list[str] | None = None
    category: list[str] | str | None = None
    tag: list[str] | None = None
    skus_file: Path | None = None
    reason: str = ""
    user: str | None = None
    dry_run: bool = False
    yes: bool = False
    force: bool = False
    sync_now: bool = False
    fmt: str = "table"

    @property
    def selection(self):
        return selection(self.sku, self.category, self.tag, self.skus_file)

    def run(self, build: Callable[[Any, Any], list[Any]], *, command: str, title: str, **extra: Any) -> int | None:
        """Preview, guard, confirm, apply and trigger (:func:`run_change`) with these flags."""
        options = {"reason": self.reason, **extra}
        return run_change(
            build,
            command=command,
            user=self.user,
            dry_run=self.dry_run,
            yes=self.yes,
            force=self.force,
            sync_now=self.sync_now,
            fmt=self.fmt,
            title=title,
            **options,
        )


def change_command(*, selectors: bool = True, replace: dict[str, Any] | None = None):
    """Give a command the shared options (selectors too unless ``selectors=False``); the command declares
    only its own parameters and receives the shared ones as ``flags: ChangeFlags``. ``replace`` swaps an
    option's annotation (e.g. a command-specific help text)."""
    names = [n for n in FLAG_OPTIONS if selectors or n not in SELECTORS]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "flags"]
        shared = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=FLAG_OPTIONS[name][1],
                annotation=(replace or {}).get(name, FLAG_OPTIONS[name][0]),
            )
            for name in names
        ]

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            flags = ChangeFlags(**{name: kwargs.pop(name) for name in names if name in kwargs})
            return fn(*args, flags=flags, **kwargs)

        command.__signature__ = inspect.Signature(own + shared)  # type: ignore[attr-defined]
        return command

    return decorate


def _prepared():
    from listing_sync.syncer import service

    context = ctx()
    service.prepare(context)
    return context


def selection(sku: list[str] | None, category: list[str] | str | None, tag: list[str] | None, skus_file: Path | None):
    from listing_sync.syncer import changes

    categories = [category] if isinstance(category, str) else list(category or [])
    return changes.Selection(list(sku or []), categories, list(tag or []), skus_file)


def _command_line(words: str, sel=None, **options: Any) -> str:
    """The command as the user would type it (kept with the change set)."""
    parts = ["syncer", words]
    for name, value in options.items():
        if value is not None and value is not False:
            flag = "--" + name.replace("_", "-")
            parts.append(flag if value is True else f"{flag} {shlex.quote(str(value))}")
    if sel is not None:
        parts.extend(
            [f"--sku {shlex.quote(p)}" for p in sel.patterns]
            + [f"--category {shlex.quote(c)}" for c in sel.categories]
            + [f"--tag {shlex.quote(t)}" for t in sel.tags]
            + ([f"--skus-file {shlex.quote(str(sel.skus_file))}"] if sel.skus_file else [])
        )
    return " ".join(parts)


# ------------------------------------------------------------------------------------ the common flow
def _adapters(context, channels) -> dict[str, Any]:
    """Adapters used only to count the API calls a preview causes (their own batching rules)."""
    out = {}
    for config in channels:
        try:
            out[config.name] = context.adapter(config)
        except Exception:  # no credentials or emulator here: the counter falls back to declared limits
            continue
    return out


def _close(adapters: dict[str, Any]) -> None:
    for adapter in adapters.values():
        with contextlib.suppress(Exception):
            adapter.close()


def _csv(rows: list[dict[str, Any]], columns: list[str], free_text: tuple[str, ...] = ()) -> None:
    """CSV of rows whose cells are SKU codes, names, numbers and states, written as they are (a signed
    number like -5.0 stays a number); only ``free_text`` columns are guarded against formula injection."""
    from listing_sync.syncer.tabular import escape_formula

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            ["" if row.get(c) is None else (escape_formula(row[c]) if c in free_text else row[c]) for c in columns]
        )
    sys.stdout.flush()


def _show_preview(plan, fmt: str, title: str) -> None:
    rows = plan.rows() if fmt in ("table", "csv") else []
    if fmt == "table":
        emit(rows[:PREVIEW_ROWS], PREVIEW_COLUMNS, "table", title=title)
        if len(rows) > PREVIEW_ROWS:
            console.print(f"... and {len(rows) - PREVIEW_ROWS} more row(s) (--format csv or json lists them all)")
    elif fmt == "csv":
        _csv(rows, PREVIEW_COLUMNS)
    summary = plan.summary()
    calls = "; ".join(
        f"{name}: " + ", ".join(f"{n} {op}" for op, n in ops.items())
        for name, ops in summary["api_calls_by_channel"].items()
    )
    err_console.print(
        f"{summary['skus']} SKU(s), {summary['values']} value(s) change; {summary['listings']} listing(s) change; "
        f"{summary['api_calls']} API call(s) on the next sync" + (f" ({calls})" if calls else ""),
        highlight=False,
    )
    for note in plan.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)


def _json_result(plan, status: str, command: str, change_set: int | None = None, sync: dict | None = None) -> None:
    document = {
        "status": status,
        "change_set": change_set,
        "command": command,
        "summary": plan.summary() if plan is not None else None,
        "changes": plan.rows() if plan is not None else [],
        "refused": [
            {"sku": v.sku, "channel": v.channel, "message": v.message} for v in (plan.violations if plan else [])
        ],
        "sync": sync,
    }
    # plain JSON straight out: rich's pretty printer takes minutes on a 50,000-SKU preview
    sys.stdout.write(json.dumps(document, default=str, ensure_ascii=False) + "\n")  # compact: the C encoder
    sys.stdout.flush()


def run_change(
    build: Callable[[Any, Any], list[Any]],
    *,
    command: str,
    reason: str,
    user: str | None,
    dry_run: bool,
    yes: bool,
    force: bool,
    sync_now: bool,
    fmt: str,
    title: str = "preview",
    undo_of: int | None = None,
) -> int | None:
    """Plan with ``build(session, context)``, preview, guard, confirm, apply, trigger. Returns the change set id."""
    from listing_sync.syncer import changes

    _check_format(fmt)
    context = _prepared()
    who = current_user(user)
    guard = context.settings.price_guard_percent
    adapters = _adapters(context, context.channels)
    try:
        counter = changes.limits_counter(adapters)
        with context.session() as session:
            lines = build(session, context)
            plan = changes.preview(session, context.channels, lines, guard_percent=guard, counter=counter)
            session.rollback()  # planning writes nothing
    finally:
        _close(adapters)
    if not lines:
        if fmt == "json":
            _json_result(plan, "nothing_to_change", command)
        else:
            console.print("nothing to change: every selected value is already what was asked")
        return None
    _show_preview(plan, fmt, title)
    if plan.violations and (dry_run or force):
        shown = "\n".join(f"  {v}" for v in plan.violations[:50])
        more = f"\n  ... and {len(plan.violations) - 50} more" if len(plan.violations) > 50 else ""
        skus = sorted({v.sku for v in plan.violations})
        verdict = "applied anyway (--force)" if force else "refused"
        err_console.print(
            f"[bold red]price guard[/] ({guard}% or below the cost floor), {verdict} for {len(skus)} SKU(s):\n"
            f"{shown}{more}",
            highlight=False,
        )
    if dry_run:
        if fmt == "json":
            _json_result(plan, "dry_run", command)
        err_console.print("dry run: nothing was applied")
        return None
    if plan.violations and not force:
        if fmt == "json":
            _json_result(plan, "refused", command)
        raise changes.GuardRefused(plan.violations)
    if not yes:
        try:
            confirmed = typer.confirm(
                f"Apply {len(lines)} change(s) to {plan.skus} SKU(s) as user {who}?", default=False, err=True
            )
        except typer.Abort:
            confirmed = False
        if not confirmed:
            raise UserError("not confirmed (use --yes in scripts); nothing was applied")
    with context.session() as session:
        applied = changes.apply_change(
            session,
            lines,
            context.channels,
            user=who,
            reason=reason,
            command=command,
            undo_of=undo_of,
            guard_percent=guard,
            force=force,
        )
    sync = _trigger(context, applied.affected, who, sync_now)
    if fmt == "json":
        _json_result(plan, "applied", command, applied.change_set_id, sync)  # the preview's call counts
    else:
        err_console.print(
            f"applied change set {applied.change_set_id}: {len(lines)} value(s) of {plan.skus} SKU(s) by {who}",
            highlight=False,
        )
    return applied.change_set_id


def _trigger(context, affected: dict[str, list[int]], user: str, sync_now: bool) -> dict[str, Any]:
    """Push the affected listings: queued for the worker at once, or here with ``--sync-now``."""
    configs = {c.name: c for c in context.channels}
    targets = {name: ids for name, ids in affected.items() if ids and name in configs}
    if not targets:
        return {"mode": None, "channels": {}}
    if sync_now:
        from listing_sync.syncer import service

        out = {}
        for name, ids in targets.items():
            report = service.sync_channel(context, configs[name], user=user, only_skus=ids)
            out[name] = {"skus": len(ids), "ok": report.ok, "failed": report.failed, "api_calls": report.api_calls}
            err_console.print(
                f"synced {name}: {report.ok} ok, {report.failed} failed, {report.api_calls} API call(s)"
                + (f"; stopped: {report.aborted}" if report.aborted else ""),
                highlight=False,
            )
        return {"mode": "inline", "channels": out}
    try:
        from listing_sync.jobs import tasks

        for name, ids in targets.items():
            tasks.sync_channel(name, only_skus=ids, user=user)
    except Exception as exc:  # the change is applied; the scheduled sync will push it
        err_console.print(
            f"[yellow]warning:[/] could not queue the sync ({exc}); the scheduled sync or `syncer sync` pushes it",
            highlight=False,
        )
        return {"mode": "failed", "channels": {name: {"skus": len(ids)} for name, ids in targets.items()}}
    err_console.print(
        "queued sync of "
        + ", ".join(f"{name} ({len(ids)} SKU(s))" for name, ids in targets.items())
        + " for the worker (`syncer worker`)",
        highlight=False,
    )
    return {"mode": "queued", "channels": {name: {"skus": len(ids)} for name, ids in targets.items()}}


def _selected(session, sel) -> list[int]:
    from listing_sync.syncer import changes

    ids = changes.select_skus(session, sel)
    if not ids:
        raise UserError(f"no SKU matches the selection ({sel.describe()})")
    return ids


def _decimal(text: str, option: str):
    from listing_sync.adapters.money import parse_decimal

    try:
        return parse_decimal(text)
    except ValueError:
        raise UserError(f"{option}: {text!r} is not a decimal number (e.g. 12.50 or -5)") from None


@price_app.command("set")
@friendly
@change_command()
def price_set(
    amount: Annotated[str, typer.Argument(help="New price, in each SKU's own currency.")],
    channel: ChannelOneOpt = None,
    *,
    flags: ChangeFlags,
) -> None:
    """Set the base price (or with --channel that channel's override) of the selected SKUs."""
    from listing_sync.syncer import changes

    value = _decimal(amount, "AMOUNT")
    if value < 0:
        raise UserError("AMOUNT must not be negative")
    sel = flags.selection

    def build(session, context):
        if channel:
            context.channel(channel)
        return changes.plan_price(session, _selected(session, sel), set_to=value, channel=channel)

    flags.run(
        build,
        command=_command_line(f"price set {amount}", sel, channel=channel, force=flags.force),
        title="price set (preview)",
    )


@price_app.command("adjust")
@friendly
@change_command()
def price_adjust(
    percent: Annotated[str | None, typer.Option("--percent", help="Signed percent, e.g. 5 or -5.")] = None,
    amount: Annotated[str | None, typer.Option("--amount", help="Signed amount in each SKU's currency.")] = None,
    channel: ChannelOneOpt = None,
    *,
    flags: ChangeFlags,
) -> None:
    """Raise or lower prices by a percent or an amount (rounded half-up to the currency's minor units)."""
    from listing_sync.syncer import changes

    if (percent is None) == (amount is None):
        raise UserError("give exactly one of --percent P or --amount A")
    p = _decimal(percent, "--percent") if percent is not None else None
    a = _decimal(amount, "--amount") if amount is not None else None
    if p is not None and p <= -100:
        raise UserError("--percent must be above -100")
    sel = flags.selection

    def build(session, context):
        if channel:
            context.channel(channel)
        return changes.plan_price(session, _selected(session, sel), percent=p, amount=a, channel=channel)

    flags.run(
        build,
        command=_command_line("price adjust", sel, percent=percent, amount=amount, channel=channel, force=flags.force),
        title="price adjust (preview)",
    )


# -------------------------------------------------------------------------------------------- stock
WarehouseOpt = Annotated[str, typer.Option("--warehouse", help="Warehouse code.")]


@stock_app.command("set")
@friendly
@change_command()
def stock_set(
    qty: Annotated[int, typer.Argument(help="New on-hand quantity.", min=0)],
    warehouse: WarehouseOpt,
    *,
    flags: ChangeFlags,
) -> None:
    """Set on-hand stock of the selected SKUs in one warehouse (a counted ledger adjustment)."""
    from listing_sync.syncer import changes

    sel = flags.selection

    def build(session, context):
        return changes.plan_stock(session, _selected(session, sel), warehouse, set_to=qty)

    flags.run(build, command=_command_line(f"stock set {qty}", sel, warehouse=warehouse), title="stock set (preview)")


@stock_app.command("adjust")
@friendly
@change_command()
def stock_adjust(
    by: Annotated[int, typer.Option("--by", help="Signed change of on-hand, e.g. 10 or -3.")],
    warehouse: WarehouseOpt,
    *,
    flags: ChangeFlags,
) -> None:
    """Add to (or with a negative --by take from) on-hand stock in one warehouse; never below zero."""
    from listing_sync.syncer import changes

    sel = flags.selection

    def build(session, context):
        return changes.plan_stock(session, _selected(session, sel), warehouse, by=by)

    flags.run(
        build, command=_command_line("stock adjust", sel, by=by, warehouse=warehouse), title="stock adjust (preview)"
    )


@changes_app.command("apply")
@friendly
@change_command(selectors=False)
def changes_apply(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: sku, channel, price, stock[WH] columns.")],
    *,
    flags: ChangeFlags,
) -> None:
    """Apply a file of per-SKU (optionally per-channel) price and stock edits as one change set.

    The whole file is validated first; every bad row and column is listed and nothing is applied."""
    from listing_sync.syncer import changes

    if not file.exists():
        raise UserError(f"{file}: no such file")

    def build(session, context):
        return changes.plan_file(session, file, [c.name for c in context.channels])

    flags.run(
        build,
        command=_command_line(f"changes apply {file}", force=flags.force),
        title=f"{file.name} (preview)",
        reason=flags.reason or f"changes apply {file.name}",
    )


@changes_app.command("list")
@friendly
def changes_list(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's change sets.")] = None,
    fmt: FormatOption = "table",
) -> None:
    """List change sets, newest first."""
    from listing_sync.syncer import changes

    _check_format(fmt)
    with ctx().session() as session:
        rows = changes.list_change_sets(session, limit=limit, user=user)
    emit(
        rows, ["id", "created_at", "user", "reason", "command", "status", "undo_of", "items"], fmt, title="change sets"
    )


@changes_app.command("show")
@friendly
def changes_show(
    change_set: Annotated[int, typer.Argument(metavar="ID", help="Change set id.")],
    fmt: FormatOption = "table",
) -> None:
    """Show one change set: who, when, why, and every value's old and new value."""
    from listing_sync.syncer import changes

    _check_format(fmt)
    with ctx().session() as session:
        data = changes.show_change_set(session, change_set)
    if fmt == "json":
        console.print_json(json.dumps(data, ensure_ascii=False, default=str))
        return
    if fmt == "csv":
        _csv(data["changes"], ["sku", "channel", "field", "old", "new", "change_pct"])
        return
    head = Table(show_header=False, title=f"change set {data['id']}")
    for key in ("created_at", "user", "reason", "command", "status", "undo_of", "undone_by", "items"):
        head.add_row(key, "" if data[key] is None else str(data[key]))
    console.print(head)
    emit(data["changes"], ["sku", "channel", "field", "old", "new", "change_pct"], "table", title="changes")


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
    from listing_sync.syncer import changes

    def build(session, context):
        undo = changes.plan_undo(session, change_set)
        if undo.conflicts and not flags.force:
            shown = "\n".join(f"  {c}" for c in undo.conflicts[:50])
            more = f"\n  ... and {len(undo.conflicts) - 50} more" if len(undo.conflicts) > 50 else ""
            raise changes.ChangeRefused(
                f"change set {change_set} cannot be undone cleanly; nothing was applied (--force restores the "
                f"old values anyway):\n{shown}{more}"
            )
        for conflict in undo.conflicts[:50]:
            err_console.print(f"[yellow]overriding (--force):[/] {conflict}", highlight=False)
        return undo.lines

    flags.run(
        build,
        command=_command_line(f"changes undo {change_set}", force=flags.force),
        title=f"undo change set {change_set} (preview)",
        reason=flags.reason or f"undo change set {change_set}",
        undo_of=change_set,
    )


# ------------------------------------------------------------------------------------------ history
@app.command("history")
@friendly
def history(
    sku: Annotated[str, typer.Argument(help="The SKU.")],
    fmt: FormatOption = "table",
) -> None:
    """Every change set item and sync result of one SKU, oldest first."""
    from listing_sync.syncer import changes

    _check_format(fmt)
    with ctx().session() as session:
        rows = changes.history(session, sku)
    columns = ["time", "kind", "id", "channel", "what", "old", "new", "ok", "user", "note"]
    if fmt == "csv":
        _csv(rows, columns, free_text=("user", "note"))
        return
    emit(rows, columns, fmt, title=f"history {sku}")
