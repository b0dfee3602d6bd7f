"""Oversell window with order webhooks: an order placed on the Shopify emulator -> its new availability set
on the five other channels (WooCommerce, Taobao, AliExpress, eBay, Amazon emulators).

The web app `syncer serve` runs (``create_app``) is served by uvicorn on a loopback port; the webhooks are registered
on the Shopify emulator (`webhookSubscriptionCreate`), which POSTs each signed order event to it over HTTP.
The app verifies it, records it and hands it to the inline pipeline (``SYNCER_WEBHOOK_MODE=inline``: fetch the
order by id, reserve, push the other five channels in parallel). Orders are placed one at a time; for each,
the clock runs from just before the emulator takes the order until all five other emulators hold the new
quantity of every SKU in it (their state read every 10 ms). Prints one JSON object.

    nice -n 10 .venv/bin/python bench/bench_webhook_oversell.py [--orders 100]

The emulators, the app and the pipeline share this process (the emulators' state lives in memory): on a
loaded machine the threads compete for the GIL and the cores, so wall times are an upper bound; CPU seconds
of the run are reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SELLER = "shopify"
OTHERS = ["woocommerce", "taobao", "aliexpress", "ebay-us", "amazon-us"]


def channels_file() -> str:
    """The demo's six channels, every one fed by warehouse SH with the plain stock rule (the whole available
    quantity, no buffer, share or cap), so every unit sold changes every other channel's quantity."""
    text = (ROOT / "config" / "channels.example.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[channels\.stock\]\n(?:[a-z_]+ = .*\n)*", "", text)
    text = re.sub(r"warehouses = \[[^\]]*\]", 'warehouses = ["SH"]', text)
    return text  # its Shopify channel names the client_secret the webhooks are signed with


# ---------------------------------------------------------------------------------- emulator state
def _taobao(state: dict[str, Any], sku: str) -> int | None:
    for item in state["items"].values():
        for row in item.get("skus") or []:
            if row.get("outer_id") == sku:
                return int(row["quantity"])
        if not item.get("skus") and item.get("outer_id") == sku:
            return int(item["num"])
    return None


def _aliexpress(state: dict[str, Any], sku: str) -> int | None:
    for product in state["products"].values():
        if sku in product["skus"]:
            return int(product["skus"][sku]["inventory"])
    return None


def _ebay(state: dict[str, Any], sku: str) -> int | None:
    item = state["items"].get(sku)
    if item is None:
        return None
    return ((item.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity")


def _amazon(state: dict[str, Any], sku: str) -> int | None:
    listing = state["listings"].get(sku)
    if listing is None:
        return None
    for entry in listing["attributes"].get("fulfillment_availability") or []:
        if entry.get("fulfillment_channel_code") == "DEFAULT":
            return entry.get("quantity")
    return None


def reader(emulator: Any) -> Callable[[str], int | None]:
    """The quantity of one SKU as this emulator holds it now (what its marketplace would sell)."""
    kind = emulator.kind

    def read(sku: str) -> int | None:
        with emulator._lock:
            if kind == "shopify":
                return emulator.quantity(sku)
            if kind == "woocommerce":
                record = emulator.find_sku(sku)
                return None if record is None else record.get("stock_quantity")
            if kind == "amazon":
                emulator._settle()  # an accepted submission applies once its processing time passed
                return _amazon(emulator.state, sku)
            return {"taobao": _taobao, "aliexpress": _aliexpress, "ebay": _ebay}[kind](emulator.state, sku)

    return read


# ------------------------------------------------------------------------------------------ set-up
def build_context(data: Path, queue: str | None) -> Any:
    """The data directory, database, catalog and six published channels; ``queue`` (a Redis URL) puts the
    job queue, the leases and the tokens on Redis as several hosts would (``SYNCER_WEBHOOK_MODE=queue``)."""
    from listing_sync.config.settings import get_settings
    from listing_sync.syncer import db, fx, mapping, reconcile
    from listing_sync.syncer.catalog import import_file
    from listing_sync.syncer.context import Context, ensure_channel_rows
    from listing_sync.syncer.models import Sku, Warehouse
    from listing_sync.syncer.services import sync
    from sqlalchemy import select

    os.environ.pop("SHOPIFY_CLIENT_SECRET", None)  # the emulated channel's stand-in secret signs and verifies
    data.mkdir()
    (data / "channels.toml").write_text(channels_file(), encoding="utf-8")
    os.environ["SYNCER_DATA_DIR"] = str(data)  # the jobs' own Context() reads the same settings
    os.environ["SYNCER_WEBHOOK_MODE"] = "queue" if queue else "inline"
    if queue:
        os.environ.update(
            SYNCER_HUEY_BACKEND="redis", SYNCER_REDIS_URL=queue, SYNCER_QUEUE_NAME=f"webhooks-bench-{os.getpid()}"
        )
    get_settings.cache_clear()
    settings = get_settings()
    db.upgrade(settings.resolved_database_url)
    context = Context(settings=settings)
    with context.session() as session:
        ensure_channel_rows(session, context.channels)
        session.add(Warehouse(code="GZ", name="GZ"))  # the catalog's second warehouse (feeds no channel here)
        session.flush()
        import_file(session, ROOT / "examples" / "catalog.csv", user="bench")
        mapping.import_demo_mappings(session, context.channels, ROOT / "examples")
        fx.set_rate(session, "CNY", "USD", Decimal("0.138"), date(2026, 1, 1))
        reconcile.refresh(session, context.channels, None)
        sku_ids = list(session.scalars(select(Sku.id)))
        for channel in context.channels:
            reconcile.ensure_listings(session, channel, sku_ids)
    sync.run_sync(context, None, user="bench")
    return context


# --------------------------------------------------------------------------------------------- run
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one order's pushes")
    parser.add_argument(
        "--queue",
        metavar="REDIS_URL",
        help="queue the webhook's work for huey workers on this Redis (6 worker threads here) instead of inline",
    )
    args = parser.parse_args(argv)
    from listing_sync.syncer.services import webhooks

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="webhooks-bench-") as tmp:
        began = time.monotonic()
        context = build_context(Path(tmp) / "data", args.queue)
        setup_seconds = time.monotonic() - began
        from listing_sync.syncer.web.webhooks import serve_in_background

        consumer = None
        if args.queue:
            from huey.consumer import Consumer
            from listing_sync.jobs import tasks

            consumer = Consumer(tasks.huey, workers=6, worker_type="thread", periodic=False)
            consumer.start()
        served = serve_in_background(context)
        try:
            registered = webhooks.register(context, SELLER, served.url)
            seller = context.hub.get(context.channel(SELLER))
            others = {name: reader(context.hub.get(context.channel(name))) for name in OTHERS}
            own = reader(seller)
            skus = [v["sku"] for v in seller.state["variants"].values() if v["sku"]]
            start = {name: {sku: read(sku) for sku in skus} for name, read in others.items()}
            unsynced = {n: s for n, q in start.items() for s, v in q.items() if v != own(s)}
            windows: list[float] = []
            late: list[str] = []
            for _ in range(args.orders):
                before = {name: {sku: read(sku) for sku in skus} for name, read in others.items()}
                placed = time.monotonic()
                [oid] = seller.generate_orders(1)
                sold: dict[str, int] = {}
                for line in seller.state["orders"][oid]["lineItems"]:
                    sold[line["sku"]] = sold.get(line["sku"], 0) + line["quantity"]
                want = {name: {sku: before[name][sku] - n for sku, n in sold.items()} for name in others}
                deadline = placed + args.timeout
                while True:
                    if all(others[name](sku) == q for name, row in want.items() for sku, q in row.items()):
                        windows.append(time.monotonic() - placed)
                        break
                    if time.monotonic() > deadline:
                        late.append(oid)
                        break
                    time.sleep(0.01)
            served.wait(60)
            runner = getattr(served.app.state, "webhook_runner", None)
            processing = runner.mode if runner is not None else None
            delivered = [entry["status"] for entry in seller.webhook_log]
            if consumer is not None:
                deadline = time.monotonic() + 60
                while tasks.huey.pending_count() and time.monotonic() < deadline:
                    time.sleep(0.1)
        finally:
            served.close()
            if consumer is not None:
                consumer.stop(graceful=True)
                tasks.huey.flush()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    ordered = sorted(windows)
    result = {
        "benchmark": "webhook_oversell_window",
        "seller": SELLER,
        "others": OTHERS,
        "orders": args.orders,
        "measured": len(windows),
        "late": len(late),
        "order_to_stock_set_on_5_channels_s": {
            "median": round(statistics.median(ordered), 3) if ordered else None,
            "p95": round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 3) if ordered else None,
            "max": round(ordered[-1], 3) if ordered else None,
            "min": round(ordered[0], 3) if ordered else None,
        },
        "goal_s": 10,
        "webhooks": {
            "subscriptions": [s.topic for s in registered.subscriptions],
            "delivered": len(delivered),
            "answered_200": sum(1 for s in delivered if s == 200),
        },
        "unsynced_before_start": len(unsynced),
        "setup_s": round(setup_seconds, 1),
        "load_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "cores": os.cpu_count(),
        "cpu_s": round((cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime), 1),
        "mode": "queue: huey on Redis, 6 worker threads" if args.queue else "inline (SYNCER_WEBHOOK_MODE=inline)",
        "runner_mode": processing,
        "note": "uvicorn, the emulators and the pipeline (or the workers) share this process",
    }
    print(json.dumps(result))
    return 0 if ordered and not late else 1


if __name__ == "__main__":
    sys.exit(main())
