"""The bulk-change flow every change command shares (price, stock, changes apply/undo, listings): the
selector and flow options, and the rendering of a preview, the guard's refusals, the confirmation
prompt and the result. The planning and applying are :mod:`syncer.services.changes`.

Preview (SKU, channel, old -> new, % change, listings and API calls), stop for ``--dry-run``, refuse
what the price guard catches unless ``--force``, ask unless ``--yes``, apply as one change set, then
queue the sync of the affected listings (or run it here with ``--sync-now``).
"""

from __future__ import annotations

import functools
import gc
import inspect
import itertools
import json
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from listing_sync.syncer.cli.app import FormatOption, TableFormat, console, ctx, emit, err_console, write_plain_csv
from listing_sync.syncer.cli.options import UserOpt
from listing_sync.syncer.context import UserError, current_user

if TYPE_CHECKING:
    from listing_sync.syncer.changes import Selection
    from listing_sync.syncer.services.changes import ChangeApplied, ChangePreview, ChangeRequest
    from listing_sync.syncer.services.sync import SyncTriggered

PREVIEW_ROWS = 50
PREVIEW_COLUMNS = ["sku", "channel", "field", "old", "new", "currency", "change_pct"]

SkuOpt = Annotated[list[str] | None, typer.Option("--sku", help="SKU glob (repeatable; '*' = all).")]
CategoryOpt = Annotated[list[str] | None, typer.Option("--category", help="Only this category (repeatable).")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="Only products with this tag (repeatable).")]
SkusFileOpt = Annotated[
    Path | None,
    typer.Option("--skus-file", help="Only the SKUs in FILE (one per line, or CSV/XLSX with a sku column)."),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept with the change set).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the preview and stop; change nothing.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking (for scripts).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Apply even what the price guard refuses.")]
SyncNowOpt = Annotated[
    bool, typer.Option("--sync-now", help="Push the affected listings here and now instead of queueing the sync.")
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
    "fmt": (FormatOption, TableFormat.TABLE),
}


@dataclass(frozen=True, slots=True)
class ChangeFlags:
    """The selectors and flow flags every bulk change takes (see :func:`change_command`)."""

    sku: list[str] | None = None
    category: list[str] | None = None
    tag: list[str] | None = None
    skus_file: Path | None = None
    reason: str = ""
    user: str | None = None
    dry_run: bool = False
    yes: bool = False
    force: bool = False
    sync_now: bool = False
    fmt: TableFormat = TableFormat.TABLE

    @property
    def selection(self) -> Selection:
        from listing_sync.syncer.changes import Selection

        return Selection(list(self.sku or []), list(self.category or []), list(self.tag or []), self.skus_file)


def change_command(
    *, selectors: bool = True, replace: dict[str, Any] | None = None, guarded: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the shared options (selectors too unless ``selectors=False``); the command declares
    only its own parameters and receives the shared ones as ``flags: ChangeFlags``. ``replace`` swaps an
    option's annotation (e.g. a command-specific help text). ``guarded=False``: a change the price guard
    never refuses (stock) has no ``--force``."""
    names = [n for n in FLAG_OPTIONS if (selectors or n not in SELECTORS) and (guarded or n != "force")]

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


def command_line(words: str, sel: Selection | None = None, **options: Any) -> str:
    """The command as the user would type it (kept with the change set)."""
    parts = ["syncer", words]
    for name, value in options.items():
        if value is not None and value is not False:
            flag = "--" + name.rstrip("_").replace("_", "-")
            parts.append(flag if value is True else f"{flag} {shlex.quote(str(value))}")
    if sel is not None:
        parts.extend(
            [f"--sku {shlex.quote(p)}" for p in sel.patterns]
            + [f"--category {shlex.quote(c)}" for c in sel.categories]
            + [f"--tag {shlex.quote(t)}" for t in sel.tags]
            + ([f"--skus-file {shlex.quote(str(sel.skus_file))}"] if sel.skus_file else [])
        )
    return " ".join(parts)


# ------------------------------------------------------------------------------------------ the flow
def run_change(
    request: ChangeRequest,
    flags: ChangeFlags,
    *,
    title: str,
    command: str | Callable[[ChangePreview], str],
) -> int | None:
    """Preview the request, show it, and unless it is a dry run (or there is nothing to change) apply it
    and trigger the sync. Returns the change set id."""
    from listing_sync.syncer.services import changes

    preview = changes.preview_change(ctx(), request)
    text = command if isinstance(command, str) else command(preview)
    if not show_preview(preview, flags, title=title, command=text):
        if flags.dry_run and preview.violations and not flags.force:
            raise typer.Exit(1)  # the apply would be refused: a script's dry run must see it
        return None
    applied = apply_preview(preview, flags, command=text)
    return applied.change_set_id


def run_scheduled(
    request: ChangeRequest,
    flags: ChangeFlags,
    *,
    starts: str | None,
    ends: str | None,
    title: str,
    command: str,
) -> int | None:
    """A price change with --from/--until: preview it now (and the guard), then keep it for the worker, which
    applies it at the start and reverts it at the end. Returns the scheduled change's id."""
    from listing_sync.jobs.scheduler import HueyScheduler
    from listing_sync.syncer.cli.options import parse_zoned
    from listing_sync.syncer.services import changes, promotions

    zone = ctx().settings.report_timezone
    start = parse_zoned(starts, "--from", zone) if starts else None
    end = parse_zoned(ends, "--until", zone) if ends else None
    preview = changes.preview_change(ctx(), request)
    channel = getattr(request, "channel", None)
    window = f"from {start.isoformat() if start else 'now'}" + (f" until {end.isoformat()}" if end else "")
    err_console.print(
        f"[bold]scheduled[/] {window}: the worker applies these prices at the start and reverts them at the end "
        "(a price changed by hand meanwhile is kept)",
        highlight=False,
    )
    for note in promotions.native_sale_notes(ctx(), channel):
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    if not show_preview(preview, flags, title=title, command=command):
        return None
    who = current_user(flags.user)

    def ask(shown: ChangePreview) -> bool:
        try:
            return typer.confirm(f"Schedule {len(shown.lines)} price change(s) as user {who}?", default=False, err=True)
        except typer.Abort:
            return False

    try:
        info = promotions.schedule_change(
            ctx(),
            preview,
            starts_at=start,
            ends_at=end,
            timezone=str(start.tzinfo if start else zone),
            user=who,
            reason=flags.reason,
            command=command,
            force=flags.force,
            confirm=None if flags.yes else ask,
            scheduler=HueyScheduler(),
        )
    except changes.NotConfirmed:
        raise UserError("not confirmed (use --yes in scripts); nothing was scheduled") from None
    err_console.print(
        f"scheduled change {info.id}: starts {info.starts_at}"
        + (f", ends {info.ends_at}" if info.ends_at else "")
        + " (UTC); `syncer changes list --scheduled` shows it, `syncer changes cancel "
        + f"{info.id}` cancels it before the start",
        highlight=False,
    )
    return info.id


ALL_ROWS = "--format csv or json lists them all"


def show_preview(
    preview: ChangePreview, flags: ChangeFlags, *, title: str, command: str, all_rows: str = ALL_ROWS
) -> bool:
    """Render the preview (and for a dry run the whole answer); True when there is something to apply.
    ``all_rows``: where a table cut short says every row is."""
    for conflict in preview.overridden[:50]:
        err_console.print(f"[yellow]overriding (--force):[/] {conflict}", highlight=False)
    fmt = flags.fmt
    if preview.empty:
        if fmt == "json":
            _json_result(preview, "nothing_to_change", command)
        else:
            console.print("nothing to change: every selected value is already what was asked")
        return False
    _show_rows(preview, fmt, title, all_rows)
    violations = preview.violations
    if violations and (flags.dry_run or flags.force):
        shown = "\n".join(f"  {v}" for v in violations[:50])
        more = f"\n  ... and {len(violations) - 50} more" if len(violations) > 50 else ""
        skus = sorted({v.sku for v in violations})
        verdict = "applied anyway (--force)" if flags.force else "refused"
        guard = ctx().settings.price_guard_percent
        err_console.print(
            f"[bold red]price guard[/] ({guard}% or below the cost floor) and channel rules, {verdict} for "
            f"{len(skus)} SKU(s):\n"
            f"{shown}{more}",
            highlight=False,
        )
    if flags.dry_run:
        if fmt == "json":
            _json_result(preview, "dry_run", command)
        err_console.print("dry run: nothing was applied")
        return False
    return True


def apply_preview(preview: ChangePreview, flags: ChangeFlags, *, command: str) -> ChangeApplied:
    """Apply a shown preview: the guard, the confirmation (unless ``--yes``), the change set, the sync."""
    from listing_sync.jobs.scheduler import HueyScheduler
    from listing_sync.syncer.services import changes
    from listing_sync.syncer.services.sync import SyncMode

    who = current_user(flags.user)

    def ask(shown: ChangePreview) -> bool:
        try:
            return typer.confirm(
                f"Apply {len(shown.lines)} change(s) to {shown.skus} SKU(s) as user {who}?", default=False, err=True
            )
        except typer.Abort:
            return False

    try:
        applied = changes.apply_change(
            ctx(),
            preview,
            user=who,
            reason=flags.reason,
            command=command,
            force=flags.force,
            confirm=None if flags.yes else ask,
            sync=SyncMode.INLINE if flags.sync_now else SyncMode.QUEUE,
            scheduler=HueyScheduler(),
        )
    except changes.GuardRefused:
        if flags.fmt == "json":
            _json_result(preview, "refused", command)
        raise
    except changes.NotConfirmed:
        raise UserError("not confirmed (use --yes in scripts); nothing was applied") from None
    sync = _show_sync(applied.sync)
    if flags.fmt == "json":
        _json_result(preview, "applied", command, applied.change_set_id, sync)  # the preview's call counts
    else:
        err_console.print(
            f"applied change set {applied.change_set_id}: {len(preview.lines)} value(s) of {preview.skus} SKU(s)"
            f" by {applied.user}",
            highlight=False,
        )
    return applied


def _show_rows(preview: ChangePreview, fmt: str, title: str, all_rows: str) -> None:
    if fmt == "table":  # only the rows shown are rendered
        emit(preview.rows(PREVIEW_ROWS), PREVIEW_COLUMNS, "table", title=title)
        total = preview.row_count
        if total > PREVIEW_ROWS:
            console.print(f"... and {total - PREVIEW_ROWS} more row(s) ({all_rows})", highlight=False)
    elif fmt == "csv":
        write_plain_csv(preview.rows(), PREVIEW_COLUMNS)
    summary = preview.summary()
    calls = "; ".join(
        f"{name}: " + ", ".join(f"{n} {op}" for op, n in ops.items())
        for name, ops in summary["api_calls_by_channel"].items()
    )
    err_console.print(
        f"{summary['skus']} SKU(s), {summary['values']} value(s) change; {summary['listings']} listing(s) change; "
        f"{summary['api_calls']} API call(s) on the next sync" + (f" ({calls})" if calls else ""),
        highlight=False,
    )
    for note in preview.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)


def _show_sync(triggered: SyncTriggered) -> dict[str, Any]:
    """Print what happened to the triggered sync; returns it for the JSON answer."""
    channels: dict[str, dict[str, Any]] = {}
    for push in triggered.channels:
        report = push.report
        if report is None:
            channels[push.channel] = {"skus": push.skus}
            continue
        channels[push.channel] = {
            "skus": push.skus,
            "ok": report.ok,
            "failed": report.failed,
            "api_calls": report.api_calls,
        }
        err_console.print(
            f"synced {push.channel}: {report.ok} ok, {report.failed} failed, {report.api_calls} API call(s)"
            + (f"; stopped: {report.aborted}" if report.aborted else ""),
            highlight=False,
        )
    if triggered.mode == "failed":
        err_console.print(
            f"[yellow]warning:[/] {triggered.warning}; the scheduled sync or `syncer sync` pushes it", highlight=False
        )
    elif triggered.mode == "queued":
        err_console.print(
            "queued sync of "
            + ", ".join(f"{push.channel} ({push.skus} SKU(s))" for push in triggered.channels)
            + " for the worker (`syncer worker`)",
            highlight=False,
        )
    return {"mode": triggered.mode, "channels": channels}


def _json_result(
    preview: ChangePreview,
    status: str,
    command: str,
    change_set: int | None = None,
    sync: dict[str, Any] | None = None,
) -> None:
    document = {
        "status": status,
        "change_set": change_set,
        "command": command,
        "summary": preview.summary(),
        "changes": [],
        "refused": [{"sku": v.sku, "channel": v.channel, "message": v.message} for v in preview.violations],
        "sync": sync,
    }
    # plain JSON straight out (rich's pretty printer takes minutes on a 50,000-SKU preview), compact (the C
    # encoder), the changes streamed a thousand rows at a time (300,000 rows held at once: 200 MB)
    encode = json.JSONEncoder(default=str, ensure_ascii=False).encode
    out = sys.stdout
    for n, (key, value) in enumerate(document.items()):
        out.write(("{" if n == 0 else ", ") + encode(key) + ": ")
        if key != "changes":
            out.write(encode(value))
            continue
        out.write("[")
        rows = preview.iter_rows()
        first, collecting = True, gc.isenabled()
        gc.disable()  # nothing here is cyclic; a collection would rescan the whole plan
        try:
            while batch := list(itertools.islice(rows, 1000)):
                out.write(("" if first else ", ") + encode(batch)[1:-1])
                first = False
        finally:
            if collecting:
                gc.enable()
        out.write("]")
    out.write("}\n")
    out.flush()
