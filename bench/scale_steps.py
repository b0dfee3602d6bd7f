"""The steps of :mod:`bench.scale`, each run in its own child process (``python -m bench step NAME``).

Each returns ``{"seconds": ..., "items": ...}`` (plus details); the child adds its own peak RSS. Steps
that only prepare the next measure (setup, listings, published, dirty) are timed too, but not reported
as measures.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from listing_sync.syncer.context import Context

Step = Callable[[Path, str, int], dict[str, Any]]


def _context() -> Context:
    return Context()


def setup(work: Path, url: str, size: int) -> dict[str, Any]:
    """Migrations, the six channels (and their warehouses), today's CNY->USD rate."""
    from listing_sync.syncer import db, fx
    from listing_sync.syncer.context import ensure_channel_rows

    began = time.perf_counter()
    db.upgrade(url)
    context = _context()
    with context.session() as session:
        ensure_channel_rows(session, context.channels)
        fx.set_rate(session, "CNY", "USD", Decimal("0.1380"), datetime.now(UTC).date())
    return {"seconds": time.perf_counter() - began, "items": len(context.channels)}


def _import(work: Path) -> dict[str, Any]:
    from listing_sync.syncer.services import catalog

    context = _context()
    began, cpu = time.perf_counter(), time.process_time()
    done = catalog.import_catalog(context, work / "catalog.csv", user="bench")
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    summary = done.summary
    return {
        "seconds": seconds,
        "cpu_seconds": round(cpu, 2),
        "items": summary.rows or summary.skus_created + summary.skus_updated + summary.skus_unchanged,
        "skus_created": summary.skus_created,
        "skus_updated": summary.skus_updated,
        "stock_movements": summary.stock_movements,
        "texts_changed": summary.texts_changed,
    }


def import_first(work: Path, url: str, size: int) -> dict[str, Any]:
    """``catalog import`` of the seeded file into the fresh database."""
    return _import(work)


def reimport(work: Path, url: str, size: int) -> dict[str, Any]:
    """The same file again: nothing changes."""
    return _import(work)


def listings(work: Path, url: str, size: int) -> dict[str, Any]:
    """Every SKU listed on every channel (published refs, nothing computed yet), in one INSERT ... SELECT."""
    from listing_sync.syncer.models import Channel, ChannelListing, Sku, table_of
    from sqlalchemy import String, cast, func, insert, literal, select, true

    context = _context()
    began = time.perf_counter()
    with context.session() as session:
        dialect = session.get_bind().dialect.name
        json_object = func.json_build_object if dialect == "postgresql" else func.json_object
        external = literal("X").op("||")(cast(Sku.id, String))
        ref = json_object("sku", Sku.sku, "external_id", external, "ids", json_object("product_id", external))
        now = literal(datetime.now(UTC), type_=ChannelListing.updated_at.type)
        constants = [literal("active"), literal(1), literal(0), literal("new"), literal(0)]
        query = select(Channel.id, Sku.id, external, ref, *constants, now).select_from(
            table_of(Sku).join(table_of(Channel), true())
        )
        table = table_of(ChannelListing)
        columns = ["channel_id", "sku_id", "external_id", "ref", "wanted", "version", "pushed_version", "status"]
        session.execute(insert(table).from_select([*columns, "attempts", "updated_at"], query))
        count = session.scalar(select(func.count()).select_from(table))
    return {"seconds": time.perf_counter() - began, "items": count}


def recompute(work: Path, url: str, size: int) -> dict[str, Any]:
    """The full recompute: every listing's desired values."""
    from listing_sync.syncer.services import sync

    context = _context()
    began, cpu = time.perf_counter(), time.process_time()
    marked = sync.refresh_skus(context, None)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": round(cpu, 2), "items": size * len(context.channels), "marked": marked}


def recompute_rates(work: Path, url: str, size: int) -> dict[str, Any]:
    """A new CNY->USD rate, then the full recompute: every USD listing's price moves, no content does
    (the nightly safety net or a rule change on a catalog already computed)."""
    from listing_sync.syncer import fx
    from listing_sync.syncer.services import sync

    context = _context()
    with context.session() as session:
        fx.set_rate(session, "CNY", "USD", Decimal("0.1391"), datetime.now(UTC).date())
    began, cpu = time.perf_counter(), time.process_time()
    marked = sync.refresh_skus(context, None)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": round(cpu, 2), "items": size * len(context.channels), "marked": marked}


def published(work: Path, url: str, size: int) -> dict[str, Any]:
    """Take every listing as pushed (clean): the state a routine sync starts from."""
    from listing_sync.syncer.models import ChannelListing, table_of
    from sqlalchemy import update

    context = _context()
    began = time.perf_counter()
    c = table_of(ChannelListing).c
    with context.session() as session:
        result = session.execute(
            update(table_of(ChannelListing)).values(
                pushed_price=c.desired_price,
                pushed_quantity=c.desired_quantity,
                pushed_content_hash=c.desired_content_hash,
                pushed_state="active",
                status="clean",
                pushed_version=c.version,
            )
        )
    return {"seconds": time.perf_counter() - began, "items": result.rowcount}  # type: ignore[attr-defined]


def dirty(work: Path, url: str, size: int) -> dict[str, Any]:
    """1% of the SKUs get a new base price; their listings are recomputed (dirty)."""
    from listing_sync.syncer.models import Sku
    from listing_sync.syncer.services import sync
    from sqlalchemy import select, update

    context = _context()
    with context.session() as session:
        ids = list(session.scalars(select(Sku.id).where(Sku.id % 100 == 7)))
        session.execute(update(Sku).where(Sku.id % 100 == 7).values(base_price=Sku.base_price + 1))
    began = time.perf_counter()
    marked = sync.refresh_skus(context, ids)
    return {"seconds": time.perf_counter() - began, "items": marked, "skus": len(ids)}


def plan(work: Path, url: str, size: int) -> dict[str, Any]:
    """Every channel's push plan (what ``syncer sync --dry-run`` computes)."""
    from listing_sync.syncer.services import sync

    context = _context()
    began, cpu = time.perf_counter(), time.process_time()
    items = 0
    for channel in context.channels:
        items += sync.plan_channel(context, channel).items
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": round(cpu, 2), "items": items}


def push(work: Path, url: str, size: int) -> dict[str, Any]:
    """Push every channel's plan through adapters answering ok without a wire: the write-back's CPU cost."""
    from listing_sync.adapters.base import ItemResult
    from listing_sync.syncer import reconcile

    context = _context()
    items = 0
    cpu = wall = 0.0
    for channel in context.channels:
        adapter = context.adapter(channel)

        def ok(payloads: list[Any]) -> list[ItemResult]:
            return [ItemResult.success(p.sku) for p in payloads]

        for name in ("publish", "push_prices", "push_stock", "delist", "relist"):
            setattr(adapter, name, ok)
        began_cpu, began = time.process_time(), time.perf_counter()
        report = reconcile.push_channel(context.session, channel, adapter, user="bench")
        cpu += time.process_time() - began_cpu
        wall += time.perf_counter() - began
        items += report.ok
        adapter.close()
    return {"value": 1000 * cpu / max(items, 1), "items": items, "wall_seconds": round(wall, 2)}


STEPS: dict[str, Step] = {
    "setup": setup,
    "import": import_first,
    "reimport": reimport,
    "listings": listings,
    "recompute": recompute,
    "recompute_rates": recompute_rates,
    "published": published,
    "dirty": dirty,
    "plan": plan,
    "push": push,
}


def main(argv: list[str]) -> int:
    """``python -m bench step NAME --dir DIR --url URL --size N``: run one step, print its JSON line with
    this process's own peak RSS."""
    parser = argparse.ArgumentParser(prog="python -m bench step")
    parser.add_argument("name", choices=sorted(STEPS))
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--size", type=int, required=True)
    args = parser.parse_args(argv)
    result = STEPS[args.name](args.dir, args.url, args.size)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result, default=str))
    return 0
