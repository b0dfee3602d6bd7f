"""``syncer sync`` (queued, inline, dry-run plan, drift check) and ``syncer status``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from listing_sync.syncer.cli.app import (
    FormatOption,
    TableFormat,
    app,
    console,
    ctx,
    emit,
    err_console,
    friendly,
    print_json,
    progress_bar,
    records,
)
from listing_sync.syncer.cli.options import ChannelOpt
from rich.progress import TaskID

STATUS_COLUMNS = [
    "channel",
    "kind",
    "listings",
    "clean",
    "dirty",
    "retrying",
    "submitted",
    "parked",
    "last_sync",
    "last_sync_status",
    "last_order_pull",
    "shipments_pending",
    "shipments_parked",
]


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
    if check_drift:
        _drift(channel, fix)
    elif dry_run:
        _plan(channel)
    elif not inline:
        from listing_sync.jobs.scheduler import HueyScheduler
        from listing_sync.syncer.services import sync as service

        queued = service.queue_sync(ctx(), channel, user=user, scheduler=HueyScheduler())
        console.print(
            f"queued sync of {len(queued.channels)} channel(s) for the worker (`syncer worker`); --inline runs here"
        )
    else:
        _inline(channel, user)


def _plan(channel: list[str] | None) -> None:
    from listing_sync.syncer.services import sync as service

    ops = ("publish", "relist", "price", "stock", "delist")
    rows, notes = [], []
    for plan in service.plan_sync(ctx(), channel):
        counts = {op: plan.counts.get(op, 0) for op in ops}
        rows.append({"channel": plan.channel, **counts, "calls": plan.api_calls, "deferred": plan.deferred})
        notes += [f"{plan.channel}: {note}" for note in dict.fromkeys(plan.notes)]
    columns = ["channel", *ops, "calls", "deferred"]
    emit(rows, columns, "table", title="sync plan (dry run)", labels={"calls": "API calls"})
    for note in notes:
        console.print(note, markup=False)


def _inline(channel: list[str] | None, user: str | None) -> None:
    from listing_sync.syncer.services import sync as service

    with progress_bar("sync", None) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"sync {name}", total=None)
            bar.update(tasks[name], completed=done, total=total)

        reports = service.run_sync(ctx(), channel, user=user, progress=progress)
    columns = ["channel", "ok", "submitted", "retry", "parked", "api_calls", "note"]
    rows = [{**{c: getattr(report, c) for c in columns[:-1]}, "note": report.aborted or ""} for report in reports]
    for report in reports:
        for sku, message in report.errors[:10]:
            err_console.print(f"  [yellow]{report.channel}[/] {sku}: {message}", highlight=False)
    emit(rows, columns, "table", title="sync", labels={"api_calls": "API calls"})
    busy = [report for report in reports if report.busy]
    for report in busy:
        err_console.print(f"[bold yellow]busy:[/] {report.aborted}", highlight=False, soft_wrap=True)
    if busy:
        from listing_sync.syncer.leases import BUSY_EXIT

        raise typer.Exit(BUSY_EXIT)


def _drift(channel: list[str] | None, fix: bool) -> None:
    from listing_sync.syncer.services import sync as service

    rows = []
    for report in service.drift_check(ctx(), channel, fix=fix):
        rows += [
            {"channel": report.channel, "sku": i.sku, "field": i.field, "pushed": i.pushed, "on channel": i.remote}
            for i in report.drifted
        ]
        console.print(
            f"{report.channel}: {report.checked} checked, {len(report.drifted)} drifted, {len(report.adopted)} adopted"
            + (f", {len(report.unknown)} not in the catalog" if report.unknown else "")
            + (", drifted listings marked dirty" if fix and report.drifted else "")
        )
    if rows:
        emit(rows, ["channel", "sku", "field", "pushed", "on channel"], "table", title="drift")


#: ``syncer status --format json`` exits with this when the health check finds a problem
UNHEALTHY = 3

#: the status table at 80 columns: short headers, each time with its outcome in one column
STATUS_LABELS = {
    "channel": "channel",
    "listings": "listed",
    "clean": "clean",
    "dirty": "dirty",
    "retrying": "retry",
    "submitted": "sent",
    "parked": "parked",
    "sync": "last sync",
    "pull": "order pull",
    "shipments": "to ship",
}


def _status_row(row: dict[str, Any]) -> dict[str, Any]:
    """A status row for the table: the last sync and order pull as ``16:02 ok``, shipments pending (and
    parked) in one column; JSON and CSV keep every field."""
    from listing_sync.syncer.cli.tables import short_time

    def when(time: Any, outcome: Any) -> str:
        return " ".join(part for part in (short_time(str(time)) if time else "never", outcome or "") if part)

    shipments = str(row["shipments_pending"]) + (
        f" ({row['shipments_parked']} parked)" if row.get("shipments_parked") else ""
    )
    return {
        **{key: row[key] for key in ("channel", "listings", "clean", "dirty", "retrying", "submitted", "parked")},
        "sync": when(row["last_sync"], row["last_sync_status"]),
        "pull": when(row["last_order_pull"], row.get("last_order_pull_status")),
        "shipments": shipments,
    }


@app.command()
@friendly
def status(
    fmt: FormatOption = TableFormat.TABLE,
    parked: Annotated[
        bool, typer.Option("--parked", help="List each parked listing (first 50 per channel), not only the reasons.")
    ] = False,
    max_parked: Annotated[
        int | None, typer.Option(help="Health (json): unhealthy when a channel has more parked listings.")
    ] = None,
    max_pull_age: Annotated[
        float | None,
        typer.Option(help="Health (json): unhealthy when a channel's last good order pull is older (minutes)."),
    ] = None,
    stuck_lease: Annotated[
        float, typer.Option(help="Health (json): a channel lease held longer than this many minutes is stuck.")
    ] = 60.0,
) -> None:
    """Per channel: listings, dirty, parked errors grouped by reason, last sync, last order pull.
    With --format json the exit status is a health check: 0 healthy, 3 not (each problem on stderr)."""
    from listing_sync.syncer.services import health
    from listing_sync.syncer.services import sync as service

    rows = records(service.status(ctx()))
    if fmt == "json":
        print_json(rows)
        verdict = health.assess(
            ctx(), max_parked=max_parked, max_pull_age_minutes=max_pull_age, stuck_lease_minutes=stuck_lease
        )
        for problem in verdict.problems:
            err_console.print(f"unhealthy: {problem}", highlight=False, soft_wrap=True)
        if not verdict.healthy:
            raise typer.Exit(UNHEALTHY)
        return
    if fmt != "table":
        emit(rows, STATUS_COLUMNS, fmt, title="status")
        return
    emit([_status_row(row) for row in rows], list(STATUS_LABELS), fmt, title="status", labels=STATUS_LABELS)
    if fmt == "table":
        for row in rows:
            for group in row["parked_by_reason"]:
                more = f" and {group['count'] - len(group['skus'])} more" if group["count"] > len(group["skus"]) else ""
                err_console.print(
                    f"  [red]parked[/] {row['channel']}: {group['count']} x {group['code']}: {group['message']} "
                    f"({', '.join(group['skus'])}{more})",
                    highlight=False,
                )
            for error in row["parked_errors"] if parked else []:
                err_console.print(
                    f"    {row['channel']} {error['sku']}: {error['code']}: {error['message']}", highlight=False
                )
        if any(row["parked"] for row in rows) and not parked:
            err_console.print("  (`syncer status --parked` lists each parked listing)", highlight=False)
        for row in rows:
            if row["last_order_pull_status"] in ("partial", "failed"):
                err_console.print(
                    f"  [red]order pull {row['last_order_pull_status']}[/] {row['channel']}: "
                    f"{row['last_order_pull_message']}",
                    highlight=False,
                )
            for wait in row["retry_waits"][:10]:
                err_console.print(
                    f"  [yellow]retry[/] {row['channel']} {wait['sku']}: {wait['code']}: {wait['message']} "
                    f"(attempt {wait['attempts']}, next at {wait['next_try_at']})",
                    highlight=False,
                )
            for error in row["shipment_errors"][:10]:
                err_console.print(
                    f"  [red]shipment[/] {row['channel']} {error['sku']}: {error['code']}: {error['message']}",
                    highlight=False,
                )
