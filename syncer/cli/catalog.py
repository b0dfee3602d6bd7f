"""``syncer catalog import | export | show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from listing_sync.syncer.cli.app import (
    EXIT_PARTIAL,
    ShowFormat,
    announce_encoding,
    catalog_app,
    console,
    ctx,
    emit,
    err_console,
    friendly,
    print_json,
    progress_bar,
    show_written,
)
from listing_sync.syncer.cli.options import BomOpt, FileFormatOpt, OutOpt
from listing_sync.syncer.services.common import FileFormat
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

if TYPE_CHECKING:
    from listing_sync.syncer.services.catalog import ImportStep

#: below this many rows an import is quick: no progress bar
PROGRESS_MIN_ROWS = 3000


@catalog_app.command("import")
@friendly
def catalog_import(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-16 or GB18030/GBK) or XLSX file.", exists=False)],
    user: Annotated[str | None, typer.Option(help="Who is importing (default: the OS user).")] = None,
    stock_as_of_file: Annotated[
        bool,
        typer.Option(
            "--stock-as-of-file",
            help="Set stock to the file's counts even over stock movements made after the file's stock_as_of.",
        ),
    ] = False,
    no_stock: Annotated[
        bool, typer.Option("--no-stock", help="Leave stock out: import prices and content only.")
    ] = False,
) -> None:
    """Import a catalog file. The whole file is validated first; nothing is applied unless it is clean.

    Columns: sku, product, title, description, category, brand, tags, attr[NAME], images, barcode,
    weight_grams, cost, base_price, currency, active, stock[WAREHOUSE], and localized content:
    title[LANG], description[LANG], bullets[LANG] (with @CHANNEL for an override), attr[NAME][LANG],
    stock_as_of (an export's ledger position: counts older than later movements are not applied).
    See README.
    """
    from listing_sync.syncer.catalog import StockMode
    from listing_sync.syncer.services import catalog

    if stock_as_of_file and no_stock:
        raise typer.BadParameter("give --stock-as-of-file or --no-stock, not both")
    mode = StockMode.NONE if no_stock else StockMode.FILE if stock_as_of_file else StockMode.CHECK

    announce_encoding(file)
    with progress_bar("import", None) as bar:
        task: list[TaskID] = []

        def progress(step: ImportStep) -> None:
            if not task:
                visible = (step.total or 0) > PROGRESS_MIN_ROWS
                task.append(bar.add_task(f"validating {file.name}", total=step.total, visible=visible))
            if step.stage == "writing":
                bar.update(task[0], description=f"writing {file.name}")
            else:
                bar.advance(task[0], step.advance)

        summary = catalog.import_catalog(ctx(), file, user=user, progress=progress, stock=mode).summary
    console.print(
        f"{summary.rows} rows: {summary.skus_created} SKUs created, {summary.skus_updated} updated, "
        f"{summary.skus_unchanged} unchanged; {summary.products_created} products created, "
        f"{summary.products_updated} updated; {summary.stock_movements} stock movements"
        + (f" (change set {summary.change_set_id})" if summary.change_set_id else "; nothing changed")
    )
    if summary.stale_stock:
        err_console.print(
            f"[yellow]warning:[/] stock of {len(summary.stale_stock)} SKU/warehouse count(s) NOT imported: the file "
            "was taken before these stock movements (prices and content were imported; "
            "--stock-as-of-file sets the file's counts anyway):",
            highlight=False,
        )
        for stale in summary.stale_stock[:50]:
            err_console.print(f"  {escape(str(stale))}", highlight=False)
        if len(summary.stale_stock) > 50:
            err_console.print(f"  ... and {len(summary.stale_stock) - 50} more", highlight=False)
        raise typer.Exit(EXIT_PARTIAL)  # an unattended import must not take this for done


@catalog_app.command("export")
@friendly
def catalog_export(fmt: FileFormatOpt = FileFormat.CSV, out: OutOpt = None, bom: BomOpt = False) -> None:
    """Export the catalog in the import column set (export -> import changes nothing)."""
    from listing_sync.syncer.services import catalog

    written = catalog.export_catalog(ctx(), fmt=fmt, out=out, bom=bom)
    show_written(written, f"wrote {written.path}")


@catalog_app.command("show")
@friendly
def catalog_show(
    sku: str,
    fmt: Annotated[ShowFormat, typer.Option("--format", help="table or json.")] = ShowFormat.TABLE,
) -> None:
    """Show one SKU with stock per warehouse."""
    from listing_sync.syncer.services import catalog

    data = catalog.show_sku(ctx(), sku).data
    if fmt == ShowFormat.JSON:
        print_json(data)
        return
    table = Table(show_header=False, title=f"SKU {sku}")
    for key, value in data.items():
        if key != "stock":
            table.add_row(key, json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value))
    console.print(table)
    emit(data["stock"], ["warehouse", "on_hand", "reserved", "available"], "table", title="stock")
