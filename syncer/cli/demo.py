"""``syncer demo``: the whole loop against the six emulated marketplaces."""

from __future__ import annotations

from typing import Annotated

import typer
from listing_sync.syncer.cli.app import app, console, ctx, emit, friendly


@app.command()
@friendly
def demo(
    reset: Annotated[bool, typer.Option("--reset", help="Start from a clean demo data directory.")] = False,
) -> None:
    """Run the whole loop against the six emulated marketplaces (no credentials needed).

    Uses the data directory from settings (SYNCER_DATA_DIR / --data-dir); afterwards every other command
    works on the demo's data. Writes an HTTP trace of everything it sent to <data dir>/demo-trace.jsonl.
    """
    from listing_sync.jobs.scheduler import HueyScheduler
    from listing_sync.syncer.services import system
    from listing_sync.syncer.web.webhooks import serve_in_background

    result = system.run_demo(
        ctx(), reset=reset, scheduler=HueyScheduler(), say=console.print, webhooks=serve_in_background
    )
    emit(
        result.summary,
        ["channel", "kind", "listed", "delisted", "synced", "calls", "orders", "errors"],
        "table",
        title="demo summary",
    )
    console.print(f"finished in {result.seconds:.1f}s; data in {result.data_dir}; HTTP trace in {result.trace}")
    console.print("try: syncer status · syncer orders list · syncer catalog show TEA-LJ-250")
