"""Benchmark: preview and apply a +5% price adjustment of 50,000 SKUs listed on 2 channels (SQLite).

Run:  .venv/bin/python bench/bench_bulk_changes.py [--skus 50000]

Builds a fresh SQLite database in a temporary directory (catalog, stock, an FX rate, and every SKU
published on a CNY and a USD channel, written directly in the database), then times:

* ``baseline_read_listings``: reading every listing's id, SKU and desired price (the floor any preview
  must pay),
* ``preview``: the ``--sku '*'`` selector, planning the change and computing every channel's old -> new
  price, the guard and the API calls (what ``syncer price adjust --percent 5 --sku '*' --dry-run`` does),
* ``apply``: selector, plan and the whole transaction: re-checking the old values and the guard, one
  change set with an item per SKU, the new base prices and every affected listing's new desired price,
  marked dirty,

then the same through the command line (``cli_dry_run_seconds``: ``syncer price adjust --percent 5
--sku '*' --dry-run``, the table preview; ``cli_dry_run_csv_seconds``: the same writing all ~150,000
preview rows as CSV; ``cli_apply_seconds``: ``--yes --format json``, which also queues the
two channel syncs; each a whole process, start-up included), and prints the results as JSON.
The issue requires preview < 5 s and apply < 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from listing_sync.config.channels import ChannelConfig, PriceRule, StockRule
from listing_sync.syncer import changes, db, fx, reconcile
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.context import ensure_channel_rows
from listing_sync.syncer.models import ChangeItem, ChannelListing, Product, Sku, StockLevel
from sqlalchemy import func, insert, select, update

CHANNELS = [
    ChannelConfig(
        name="taobao",
        kind="taobao",
        currency="CNY",
        warehouses=("SH",),
        price=PriceRule(ending=Decimal("0.9"), min_margin=Decimal("0.10")),
        stock=StockRule(buffer=1, share=Decimal("0.6")),
    ),
    ChannelConfig(
        name="shopify",
        kind="shopify",
        currency="USD",
        warehouses=("SH",),
        price=PriceRule(multiplier=Decimal("1.20"), ending=Decimal("0.99"), min_margin=Decimal("0.15")),
        stock=StockRule(buffer=2, share=Decimal("0.3")),
    ),
]


def build(url: str, n: int) -> None:
    db.upgrade(url)
    with db.unit_of_work(url) as s:
        ids = ensure_channel_rows(s, CHANNELS)
        fx.set_rate(s, "CNY", "USD", Decimal("0.1380"), date(2026, 1, 1))
        product_ids = (
            s.execute(
                insert(Product).returning(Product.id),
                [
                    {"key": f"P{i:06d}", "title": f"Product {i}", "category": f"cat{i % 20}", "tags": [f"t{i % 7}"]}
                    for i in range(n)
                ],
            )
            .scalars()
            .all()
        )
        sku_ids = (
            s.execute(
                insert(Sku).returning(Sku.id),
                [
                    {
                        "sku": f"SKU-{i:06d}",
                        "product_id": pid,
                        "base_price": Decimal(f"{49 + (i * 37) % 900}.{i % 100:02d}"),
                        "cost": Decimal(f"{20 + (i * 37) % 300}.00"),
                        "currency": "CNY",
                        "attributes": {},
                        "images": [f"https://img.example.com/{i}.jpg"],
                    }
                    for i, pid in enumerate(product_ids)
                ],
            )
            .scalars()
            .all()
        )
        wh = ledger.warehouses_by_code(s)["SH"]
        s.execute(
            insert(StockLevel),
            [
                {"sku_id": sid, "warehouse_id": wh, "on_hand": 5 + i % 50, "reserved": 0}
                for i, sid in enumerate(sku_ids)
            ],
        )
        for config in CHANNELS:
            s.execute(
                insert(ChannelListing),
                [
                    {
                        "channel_id": ids[config.name],
                        "sku_id": sid,
                        "wanted": "active",
                        "status": "new",
                        "version": 1,
                        "ref": {"sku": f"SKU-{i:06d}", "external_id": f"X{i}", "ids": {"product_id": f"X{i}"}},
                        "external_id": f"X{i}",
                    }
                    for i, sid in enumerate(sku_ids)
                ],
            )
    with db.unit_of_work(url) as s:  # desired values as the reconcile engine computes them, then "published"
        reconcile.refresh(s, CHANNELS, None)
        s.execute(
            update(ChannelListing).values(
                pushed_price=ChannelListing.desired_price,
                pushed_quantity=ChannelListing.desired_quantity,
                pushed_content_hash=ChannelListing.desired_content_hash,
                pushed_state="active",
                status="clean",
                pushed_version=ChannelListing.version,
            )
        )


CHANNELS_FILE = """
[[channels]]
name = "taobao"
kind = "taobao"
currency = "CNY"
warehouses = ["SH"]
base_url = "emulator:"
[channels.credentials]
app_key = "TAOBAO_APP_KEY"
app_secret = "TAOBAO_APP_SECRET"
session = "TAOBAO_SESSION"
[channels.options]
location_state = "浙江"
location_city = "杭州"
[channels.price]
ending = "0.9"
min_margin = "0.10"
[channels.stock]
buffer = 1
share = "0.6"

[[channels]]
name = "shopify"
kind = "shopify"
currency = "USD"
warehouses = ["SH"]
base_url = "emulator:"
[channels.credentials]
access_token = "SHOPIFY_ACCESS_TOKEN"
[channels.options]
shop = "bench"
api_version = "2026-10"
[channels.price]
multiplier = "1.20"
ending = "0.99"
min_margin = "0.15"
[channels.stock]
buffer = 2
share = "0.3"
"""


def cli_seconds(tmp: Path, url: str, *args: str) -> float:
    """Wall time of one `syncer` process (start-up and imports included), output discarded."""
    (tmp / "channels.toml").write_text(CHANNELS_FILE, encoding="utf-8")
    env = dict(
        os.environ,
        SYNCER_DATA_DIR=str(tmp / "data"),
        SYNCER_DATABASE_URL=url,
        SYNCER_CHANNELS_FILE=str(tmp / "channels.toml"),
        SYNCER_HUEY_BACKEND="sqlite",
    )
    syncer = Path(sys.executable).with_name("syncer")
    start = time.perf_counter()
    done = subprocess.run([str(syncer), *args], env=env, capture_output=True, text=True)
    seconds = round(time.perf_counter() - start, 3)
    if done.returncode != 0:
        raise SystemExit(f"syncer {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - start, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=50_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    try:
        _, build_s = timed(lambda: build(url, args.skus))

        def read_all():
            with db.unit_of_work(url) as s:
                return len(
                    s.execute(select(ChannelListing.id, ChannelListing.sku_id, ChannelListing.desired_price)).all()
                )

        listings, baseline = timed(read_all)
        selection = changes.Selection(patterns=["*"])

        def do_preview():
            with db.unit_of_work(url) as s:
                ids = changes.select_skus(s, selection)
                lines = changes.plan_price(s, ids, percent=Decimal(5))
                return changes.preview(s, CHANNELS, lines, guard_percent=30)

        plan, preview_s = timed(do_preview)

        def do_apply():
            with db.unit_of_work(url) as s:
                ids = changes.select_skus(s, selection)
                lines = changes.plan_price(s, ids, percent=Decimal(5))
                return changes.apply_change(
                    s,
                    lines,
                    CHANNELS,
                    user="bench",
                    reason="bench +5%",
                    command="price adjust --percent 5",
                    guard_percent=30,
                )

        applied, apply_s = timed(do_apply)
        with db.unit_of_work(url) as s:
            items = s.scalar(select(func.count()).select_from(ChangeItem))
            dirty = s.scalar(select(func.count()).select_from(ChannelListing).where(ChannelListing.status == "dirty"))
            sample = list(s.scalars(select(Sku.id).order_by(Sku.id).limit(500)))
            # the bulk path must leave exactly what the general recompute would: nothing more to mark
            recompute_marks = reconcile.refresh(s, CHANNELS, sample)
        # the same through the command line, as ops staff run it (a second +5% on top of the first)
        cli_preview = cli_seconds(tmp, url, "price", "adjust", "--percent", "5", "--sku", "*", "--dry-run")
        cli_preview_csv = cli_seconds(
            tmp, url, "price", "adjust", "--percent", "5", "--sku", "*", "--dry-run", "--format", "csv"
        )
        cli_apply = cli_seconds(
            tmp, url, "price", "adjust", "--percent", "5", "--sku", "*", "--yes", "--format", "json"
        )
        result = {
            "skus": args.skus,
            "listings": listings,
            "channels": len(CHANNELS),
            "database": "sqlite (file, WAL)",
            "build_seconds": build_s,
            "baseline_read_listings_seconds": baseline,
            "preview_seconds": preview_s,
            "apply_seconds": apply_s,
            "preview_changes": len(plan.lines),
            "preview_listings": plan.listings,
            "preview_api_calls": plan.api_calls,
            "guard_violations": len(plan.violations),
            "change_set": applied.change_set_id,
            "change_items": items,
            "dirty_listings": dirty,
            "recompute_of_500_marked": recompute_marks,
            "cli_dry_run_seconds": cli_preview,
            "cli_dry_run_csv_seconds": cli_preview_csv,
            "cli_apply_seconds": cli_apply,
            "preview_ok": preview_s < 5,
            "apply_ok": apply_s < 15,
            "python": platform.python_version(),
        }
        print(json.dumps(result, indent=2))
    finally:
        db.engine_for(url).dispose()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)


if __name__ == "__main__":
    main()
