"""``syncer init | worker`` and ``syncer db | warehouse | channels | emulator``: set-up and operation."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from listing_sync.syncer.cli.app import (
    FormatOption,
    ShowFormat,
    TableFormat,
    app,
    channels_app,
    console,
    ctx,
    db_app,
    emit,
    emulator_app,
    friendly,
    print_json,
    records,
    warehouse_app,
)

if TYPE_CHECKING:
    from listing_sync.syncer.services.system import ServingEmulator


@app.command()
@friendly
def init(
    force: Annotated[bool, typer.Option(help="Overwrite an existing channels file with the example.")] = False,
) -> None:
    """Create the data directory, the database and an example channels file."""
    from listing_sync.syncer.services import system

    done = system.initialize(ctx(), force=force)
    if done.wrote_channels_file:
        console.print(f"wrote example channels file {done.channels_file}")
    console.print(f"database ready at {done.db_url}")
    console.print(f"data directory {done.data_dir}")


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command()
@friendly
def worker(
    workers: Annotated[int, typer.Option(help="Worker threads in this consumer.")] = 2,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="text (readable lines) or json (one object per line).")
    ] = LogFormat.TEXT,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also debug lines (huey's own).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    periodic: Annotated[
        bool,
        typer.Option(
            "--periodic/--no-periodic",
            help="Enqueue the scheduled syncs, pulls and reports here; run exactly one worker with it.",
        ),
    ] = True,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port (/metrics, all interfaces).")
    ] = None,
) -> None:
    """Run a job consumer (scheduled syncs, order pulls, triggered pushes). Run several for scale-out."""
    import logging

    from listing_sync.jobs.scheduler import run_worker
    from listing_sync.syncer.crashlog import configure_worker_logging
    from listing_sync.syncer.services import system

    setup = system.prepare_worker(ctx())
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    log_file = configure_worker_logging(ctx().data_dir, level, log_format.value)
    log = logging.getLogger("worker")
    queue = ctx().settings.queue_name
    log.info(
        "worker %s started: %d threads on the %s queue %s%s; Ctrl-C stops",
        setup.owner,
        workers,
        setup.backend,
        queue,
        "" if periodic else " (no periodic schedules)",
        extra={
            "fields": {
                "event": "worker_started",
                "worker": setup.owner,
                "queue": queue,
                "backend": setup.backend,
                "workers": workers,
                "periodic": periodic,
                "metrics_port": metrics_port,
            }
        },
    )
    if setup.interrupted:
        log.info("marked %d run(s) of stopped processes interrupted", setup.interrupted)
    log.info("log (with tracebacks): %s", log_file)
    if metrics_port is not None:
        from listing_sync.jobs import metrics

        served = metrics.serve(metrics_port)
        port = served.server_port
        log.info("metrics on http://0.0.0.0:%d/metrics", port, extra={"fields": {"event": "metrics", "port": port}})
    try:
        run_worker(workers, periodic=periodic)
    finally:
        log.info("worker %s stopped", setup.owner, extra={"fields": {"event": "worker_stopped", "worker": setup.owner}})


@app.command()
@friendly
def check(fmt: Annotated[ShowFormat, typer.Option("--format", help="table or json.")] = ShowFormat.TABLE) -> None:
    """Verify stock levels = the ledger per SKU and warehouse, each order recorded once, leases sane.
    Exits 1 and lists every difference when there is one."""
    import dataclasses

    from listing_sync.syncer.services import check as service

    report = service.check(ctx())
    if fmt == "json":
        print_json(dataclasses.asdict(report))
    else:
        verdict = "no differences" if report.ok else f"{len(report.problems)} problem(s)"
        console.print(
            f"checked {report.levels} stock levels against {report.movements} ledger movements, "
            f"{report.orders} orders ({report.order_lines} lines), {report.leases} leases, "
            f"{report.running} running runs: {verdict}"
        )
        if report.problems:
            emit(records(report.problems), ["kind", "where", "detail"], "table", title="problems")
    if not report.ok:
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------- db
@db_app.command("upgrade")
@friendly
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply database migrations (safe to run again)."""
    from listing_sync.syncer.services import system

    console.print(f"database at revision {system.upgrade_database(ctx(), revision)}")


@db_app.command("current")
@friendly
def db_current() -> None:
    """Show the database's migration revision."""
    from listing_sync.syncer.services import system

    console.print(system.database_revision(ctx()) or "(empty database)")


# -------------------------------------------------------------------------------------- warehouse
@warehouse_app.command("add")
@friendly
def warehouse_add(code: str, name: Annotated[str, typer.Option(help="Display name.")] = "") -> None:
    """Add a warehouse (codes are used in catalog files as stock[CODE])."""
    from listing_sync.syncer.services import system

    added = system.add_warehouse(ctx(), code, name)
    console.print(f"added warehouse {added.code}")


@warehouse_app.command("list")
@friendly
def warehouse_list(fmt: FormatOption = TableFormat.TABLE) -> None:
    """List warehouses."""
    from listing_sync.syncer.services import system

    emit(records(system.list_warehouses(ctx())), ["code", "name"], fmt)


# --------------------------------------------------------------------------------------- channels
@channels_app.command("list")
@friendly
def channels_list(fmt: FormatOption = TableFormat.TABLE) -> None:
    """List the channels of the channels file."""
    from listing_sync.syncer.services import system

    rows = [
        {
            "name": c.name,
            "kind": c.kind,
            "currency": c.currency,
            "warehouses": ",".join(c.warehouses),
            "language": c.language,
            "base_url": c.base_url or "(production)",
            "enabled": c.enabled,
        }
        for c in system.list_channels(ctx())
    ]
    emit(rows, ["name", "kind", "currency", "warehouses", "language", "base_url", "enabled"], fmt)


@channels_app.command("check")
@friendly
def channels_check() -> None:
    """Validate the channels file and report every problem."""
    from listing_sync.syncer.services import system

    checked = system.check_channels(ctx())
    console.print(f"{checked.path}: {checked.channels} channel(s), no problems")


# --------------------------------------------------------------------------------------- emulator
@emulator_app.command("serve")
@friendly
def emulator_serve(
    kind: Annotated[
        str | None, typer.Argument(help="Marketplace kind, e.g. ebay, amazon, taobao (or take it from --channel).")
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option(help="Accept this channel's credentials (and use its options) from the channels file."),
    ] = None,
    credential: Annotated[
        list[str] | None,
        typer.Option(help="A credential the emulator accepts, KEY=VALUE (repeatable), e.g. consumer_key=ck_1."),
    ] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8800,
    seed: Annotated[int, typer.Option(help="Seed for generated data and faults.")] = 7,
    faults: Annotated[
        str, typer.Option(help="Fault rates, e.g. throttle=0.1,server_error=0.05,timeout=0.01,drop=0.01,partial=0.1")
    ] = "",
    orders_every: Annotated[float, typer.Option(help="Generate one order every N seconds (0 = never).")] = 0.0,
    state: Annotated[
        Path | None,
        typer.Option(help="Start from this state file (if it exists) and write every change to it before answering."),
    ] = None,
) -> None:
    """Serve a marketplace emulator on 127.0.0.1 for multi-process runs (Ctrl-C stops it).

    Without --channel or --credential it knows no credentials, so every client that authenticates is refused.
    """
    from listing_sync.syncer.services import system

    credentials = {}
    for pair in credential or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r}: write KEY=VALUE", param_hint="--credential")
        credentials[key.strip()] = value

    def ready(serving: ServingEmulator) -> None:
        accepts = ", ".join(serving.credentials) or "none: every authenticating client is refused"
        source = f" from channel {serving.channel}" if serving.channel else ""
        console.print(
            f"{serving.kind} emulator listening on http://{serving.host}:{serving.port} "
            f"(faults: {serving.faults or 'none'})"
        )
        console.print(f"credentials{source}: {accepts}", soft_wrap=True)

    system.serve_emulator(
        kind,
        context=ctx() if channel else None,
        channel=channel,
        credentials=credentials,
        port=port,
        seed=seed,
        faults=faults,
        orders_every=orders_every,
        state=state,
        ready=ready,
    )
