"""The ``syncer`` command line."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from listing_sync.syncer.context import Context, UserError, current_user, ensure_channel_rows
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="syncer",
    help="listing-sync: one central catalog, pushed to every marketplace; orders pulled back.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
catalog_app = typer.Typer(help="Import, export and inspect the central catalog.", no_args_is_help=True)
warehouse_app = typer.Typer(help="Warehouses that hold stock.", no_args_is_help=True)
channels_app = typer.Typer(help="Configured sales channels.", no_args_is_help=True)
emulator_app = typer.Typer(help="Built-in marketplace emulators.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(channels_app, name="channels")
app.add_typer(emulator_app, name="emulator")

F = TypeVar("F", bound=Callable[..., Any])


class State:
    context: Context | None = None


def ctx() -> Context:
    if State.context is None:
        State.context = Context()
    return State.context


def friendly(fn: F) -> F:
    """Turn expected failures into one clear message and a non-zero exit, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from listing_sync.adapters.base import ChannelError
        from listing_sync.config.channels import ChannelsFileError
        from listing_sync.syncer.tabular import InputRejected

        try:
            return fn(*args, **kwargs)
        except (UserError, ChannelsFileError, InputRejected, ChannelError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def progress_bar(description: str, total: int | None) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def emit(rows: list[dict[str, Any]], columns: list[str], fmt: str, title: str | None = None) -> None:
    """Print rows as a table, JSON (a stable list of objects) or CSV."""
    if fmt == "json":
        console.print_json(json.dumps(rows, default=str, ensure_ascii=False))
    elif fmt == "csv":
        from listing_sync.syncer.tabular import escape_formula, write_csv

        sys.stdout.write(write_csv(None, columns, ([escape_formula(r.get(c)) for c in columns] for r in rows)))
    else:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        console.print(table)


FormatOption = Annotated[str, typer.Option("--format", help="table, json or csv.")]


def _check_format(fmt: str, allowed: tuple[str, ...] = ("table", "json", "csv")) -> None:
    if fmt not in allowed:
        raise UserError(f"--format must be one of {', '.join(allowed)}, not {fmt!r}")


@app.callback()
def main_callback(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where every file the service writes lives (SYNCER_DATA_DIR).")
    ] = None,
    trace_http: Annotated[
        Path | None, typer.Option("--trace-http", help="Append every HTTP request as a JSON line to FILE.")
    ] = None,
) -> None:
    from listing_sync.config.settings import get_settings

    if data_dir is not None:
        os.environ["SYNCER_DATA_DIR"] = str(data_dir.expanduser().resolve())
    get_settings.cache_clear()
    State.context = Context(settings=get_settings(), trace_path=trace_http)


# ------------------------------------------------------------------------------------------- init
@app.command()
@friendly
def init(
    force: Annotated[bool, typer.Option(help="Overwrite an existing channels file with the example.")] = False,
) -> None:
    """Create the data directory, the database and an example channels file."""
    from listing_sync.syncer import db

    context = ctx()
    context.data_dir.mkdir(parents=True, exist_ok=True)
    channels_file = context.settings.resolved_channels_file
    if force or not channels_file.exists():
        example = (Path(__file__).resolve().parent.parent / "config" / "channels.example.toml").read_text(
            encoding="utf-8"
        )
        channels_file.parent.mkdir(parents=True, exist_ok=True)
        channels_file.write_text(example, encoding="utf-8")
        console.print(f"wrote example channels file {channels_file}")
    db.upgrade(context.db_url)
    with context.session() as session:
        ensure_channel_rows(session, context.channels)
    console.print(f"database ready at {context.db_url}")
    console.print(f"data directory {context.data_dir}")


# --------------------------------------------------------------------------------------------- db
@db_app.command("upgrade")
@friendly
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply database migrations (safe to run again)."""
    from listing_sync.syncer import db

    context = ctx()
    context.data_dir.mkdir(parents=True, exist_ok=True)
    db.upgrade(context.db_url, revision)
    console.print(f"database at revision {db.current_revision(context.db_url)}")


@db_app.command("current")
@friendly
def db_current() -> None:
    """Show the database's migration revision."""
    from listing_sync.syncer import db

    console.print(db.current_revision(ctx().db_url) or "(empty database)")


# ---------------------------------------------------------------------------------------- catalog
@catalog_app.command("import")
@friendly
def catalog_import(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, BOM optional) or XLSX file.", exists=False)],
    user: Annotated[str | None, typer.Option(help="Who is importing (default: the OS user).")] = None,
) -> None:
    """Import a catalog file. The whole file is validated first; nothing is applied unless it is clean.

    Columns: sku, product, title, description, category, brand, tags, attr[NAME], images, barcode,
    weight_grams, cost, base_price, currency, active, stock[WAREHOUSE], and localized content:
    title[LANG], description[LANG], bullets[LANG] (with @CHANNEL for an override), attr[NAME][LANG].
    See README.
    """
    from listing_sync.syncer import catalog

    context = ctx()
    if not file.exists():
        raise UserError(f"{file}: no such file")
    rows = _count_rows(file)
    with context.session() as session, progress_bar("import", rows) as bar:
        if context.settings.resolved_channels_file.exists():
            ensure_channel_rows(session, context.channels)
        task = bar.add_task(f"validating {file.name}", total=rows, visible=(rows or 0) > PROGRESS_MIN_ROWS)
        summary = catalog.import_file(session, file, user=current_user(user), progress=lambda n: bar.advance(task, n))
        bar.update(task, description=f"writing {file.name}")
        _after_catalog_change(session, summary.changed_sku_ids)
    console.print(
        f"{summary.rows} rows: {summary.skus_created} SKUs created, {summary.skus_updated} updated, "
        f"{summary.skus_unchanged} unchanged; {summary.products_created} products created, "
        f"{summary.products_updated} updated; {summary.stock_movements} stock movements"
        + (f" (change set {summary.change_set_id})" if summary.change_set_id else "; nothing changed")
    )


PROGRESS_MIN_ROWS = 3000


def _count_rows(path: Path) -> int | None:
    """Data rows of a CSV (for the progress bar); None when unknown (XLSX)."""
    if path.suffix.lower() != ".csv":
        return None
    with path.open("rb") as fh:
        return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1)


def _after_catalog_change(session: Any, sku_ids: set[int]) -> None:
    """Recompute the listings a catalog change affects (they become dirty for the next sync)."""
    from listing_sync.syncer import reconcile

    context = ctx()
    if sku_ids and context.settings.resolved_channels_file.exists():
        reconcile.refresh(session, context.channels, sku_ids)


@catalog_app.command("export")
@friendly
def catalog_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Output file (default: standard output for CSV).")] = None,
) -> None:
    """Export the catalog in the import column set (export -> import changes nothing)."""
    from listing_sync.syncer import catalog
    from listing_sync.syncer.tabular import write_csv, write_xlsx

    if fmt not in ("csv", "xlsx"):
        raise UserError("--format must be csv or xlsx")
    with ctx().session() as session:
        header, rows = catalog.export_rows(session)
        if fmt == "xlsx":
            if out is None:
                raise UserError("--out FILE is required for xlsx")
            write_xlsx(out, [("catalog", header, rows)])
        elif out is None:
            sys.stdout.write(write_csv(None, header, rows))
            return
        else:
            write_csv(out, header, rows)
    err_console.print(f"wrote {out}")


@catalog_app.command("show")
@friendly
def catalog_show(
    sku: str,
    fmt: FormatOption = "table",
) -> None:
    """Show one SKU with stock per warehouse."""
    from listing_sync.syncer import catalog

    _check_format(fmt, ("table", "json"))
    with ctx().session() as session:
        data = catalog.show(session, sku)
    if data is None:
        raise UserError(f"no SKU {sku!r} in the catalog")
    if fmt == "json":
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    table = Table(show_header=False, title=f"SKU {sku}")
    for key, value in data.items():
        if key != "stock":
            table.add_row(key, json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value))
    console.print(table)
    emit(data["stock"], ["warehouse", "on_hand", "reserved", "available"], "table", title="stock")


# -------------------------------------------------------------------------------------- warehouse
@warehouse_app.command("add")
@friendly
def warehouse_add(code: str, name: Annotated[str, typer.Option(help="Display name.")] = "") -> None:
    """Add a warehouse (codes are used in catalog files as stock[CODE])."""
    from listing_sync.syncer.models import Warehouse
    from sqlalchemy import select

    with ctx().session() as session:
        if session.scalar(select(Warehouse).where(Warehouse.code == code)):
            raise UserError(f"warehouse {code} already exists")
        session.add(Warehouse(code=code, name=name or code))
    console.print(f"added warehouse {code}")


@warehouse_app.command("list")
@friendly
def warehouse_list(fmt: FormatOption = "table") -> None:
    """List warehouses."""
    from listing_sync.syncer.models import Warehouse
    from sqlalchemy import select

    _check_format(fmt)
    with ctx().session() as session:
        rows = [{"code": w.code, "name": w.name} for w in session.scalars(select(Warehouse).order_by(Warehouse.code))]
    emit(rows, ["code", "name"], fmt)


# --------------------------------------------------------------------------------------- channels
@channels_app.command("list")
@friendly
def channels_list(fmt: FormatOption = "table") -> None:
    """List the channels of the channels file."""
    _check_format(fmt)
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
        for c in ctx().channels
    ]
    emit(rows, ["name", "kind", "currency", "warehouses", "language", "base_url", "enabled"], fmt)


@channels_app.command("check")
@friendly
def channels_check() -> None:
    """Validate the channels file and report every problem."""
    context = ctx()
    channels = context.channels
    console.print(f"{context.settings.resolved_channels_file}: {len(channels)} channel(s), no problems")


# --------------------------------------------------------------------------------------- emulator
@emulator_app.command("serve")
@friendly
def emulator_serve(
    kind: Annotated[str, typer.Argument(help="Marketplace kind, e.g. ebay, amazon, taobao.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8800,
    seed: Annotated[int, typer.Option(help="Seed for generated data and faults.")] = 7,
    faults: Annotated[
        str, typer.Option(help="Fault rates, e.g. throttle=0.1,server_error=0.05,timeout=0.01,drop=0.01,partial=0.1")
    ] = "",
    orders_every: Annotated[float, typer.Option(help="Generate one order every N seconds (0 = never).")] = 0.0,
) -> None:
    """Serve a marketplace emulator on 127.0.0.1 for multi-process runs (Ctrl-C stops it)."""
    import time

    from listing_sync.adapters.emulator import Faults
    from listing_sync.adapters.registry import emulator_class

    try:
        fault_rates = Faults.parse(faults)
    except ValueError as exc:
        raise UserError(f"--faults: {exc}") from None
    emulator = emulator_class(kind)(seed=seed, faults=fault_rates)
    server = emulator.serve("127.0.0.1", port)
    host, bound = server.server_address[:2]
    console.print(f"{kind} emulator listening on http://{host}:{bound} (faults: {faults or 'none'})")
    try:
        while True:
            time.sleep(orders_every or 3600)
            if orders_every:
                with emulator._lock, contextlib.suppress(NotImplementedError, ValueError, IndexError):
                    emulator.generate_orders(1)
    except KeyboardInterrupt:
        server.shutdown()


# ----------------------------------------------------------------------------------------- worker
@app.command()
@friendly
def worker(
    workers: Annotated[int, typer.Option(help="Worker threads in this consumer.")] = 2,
) -> None:
    """Run a job consumer (scheduled syncs, order pulls, triggered pushes). Run several for scale-out."""
    from huey.consumer import Consumer
    from listing_sync.jobs import tasks  # registers the tasks and schedules on the huey instance

    huey = tasks.huey
    ctx().require_database()
    console.print(f"worker: {workers} threads on the {ctx().settings.huey_backend} queue; Ctrl-C stops")
    Consumer(huey, workers=workers, worker_type="thread", periodic=True).run()


def main() -> None:
    app()


# command groups register themselves on `app` when imported
from listing_sync.syncer import cli_changes, cli_content, cli_ops, cli_orders, cli_reports  # noqa: F401
