"""``python -m bench compare [--quick] [--skus N]``: the syncer's push of a change against the way common
open-source integrations push it, one REST call per item, through the same emulators and rate limits.

A fresh world (``bench.world``, virtual time, every emulator enforcing its documented rate limit) is
published on the six channels. Then for a price change (+20 %) and a stock change (+10) on every SKU,
each channel is pushed twice (push against push: the order pull before a stock push is left out):
**ours**, ``services.sync.sync_channel``, and **per item**, the same plan's items sent one by one
through the channel's own adapter (one call each, without compare-and-set: the same wire code, so the
comparison is of batching alone; no look-ups are counted for it, which flatters it). ``wall_s`` is the
time each way waits on the virtual clock for the rate limits (and Amazon's feed processing): CPU is not
in it, so it is the wall time a real marketplace would impose, not this machine's. The buckets refill
between runs.

Each row: ``kind``, ``channel``, ``operation``, ``items``, ``calls`` (ours), ``minimum_calls``
(:mod:`bench.minimum`), ``ratio`` (calls / minimum, ``why`` where above 1.00 or where the minimum is
itself one call per item), ``per_item_calls``, ``calls_vs_per_item`` (ours / per item), ``wall_s``,
``per_item_wall_s``, ``wall_vs_per_item``. Prints one JSON object. Default 10,000 SKUs (``--quick``:
1,000).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from listing_sync.adapters.base import ChannelAdapter, Operation, StockUpdate
from listing_sync.syncer import reconcile
from listing_sync.syncer.services import sync

from bench import calls as steps
from bench import minimum, trace
from bench.world import BenchContext, world

SIZE = 10_000
QUICK_SIZE = 1_000
PRICE_CHANGE = Decimal("20")  # percent: enough to move every channel's price past its .99 ending
STOCK_CHANGE = 10  # units: enough to move every channel's share of the stock
REFILL_S = 3_600.0  # virtual seconds between runs: every rate bucket is full again


def _planned(context: BenchContext, channel: Any) -> list[tuple[Operation, Any]]:
    """The channel's pending pushes as (operation, adapter input), read before ours writes them back."""
    with context.session() as session, context.adapter(channel) as adapter:
        plan = reconcile.build_plan(session, channel, adapter)
    return [(op, item.payload) for op, items in plan.batches for item in items if item.payload is not None]


def _per_item(context: BenchContext, channel: Any, pushes: list[tuple[Operation, Any]]) -> None:
    """Send each push alone through the channel's adapter (nothing written back). Without compare-and-set:
    the integrations compared have none, and ours has just moved the quantities it would compare."""
    with context.adapter(channel) as adapter:
        for op, payload in pushes:
            if isinstance(payload, StockUpdate):
                payload = replace(payload, expected=None)
            _method(adapter, op)([payload])


def _method(adapter: ChannelAdapter, op: Operation) -> Callable[[list[Any]], Any]:
    return {
        Operation.PUBLISH: adapter.publish,
        Operation.PRICE: adapter.push_prices,
        Operation.STOCK: adapter.push_stock,
        Operation.DELIST: adapter.delist,
        Operation.RELIST: adapter.relist,
    }[op]


def _measure(context: BenchContext, channel: Any, push: Callable[[], Any]) -> tuple[Counter[str], float, float]:
    """(calls by wire operation, token calls left out; virtual seconds waited; CPU seconds) of one push."""
    context.vt.sleep(REFILL_S)
    emulator = context.hub.get(channel)
    log: trace.Tally = emulator.requests  # type: ignore[assignment]  # bench.world's Tally
    mark, slept, cpu = log.mark(), context.vt.slept, time.process_time()
    push()
    everything = log.since(mark)
    counted = Counter({name: n for name, n in everything.items() if not trace.is_token(name)})
    return counted, context.vt.slept - slept, time.process_time() - cpu


def run(size: int) -> dict[str, Any]:
    began = time.monotonic()
    rows: list[dict[str, Any]] = []
    with world(size, enforce_rate=True) as context:
        for channel in context.channels:
            sync.sync_channel(context, channel, user="bench")  # publish
        ids = steps._selection(context, size)
        changes: tuple[tuple[str, Callable[[], None]], ...] = (
            ("price", lambda: steps._price(context, ids, PRICE_CHANGE)),
            ("stock", lambda: steps._stock(context, ids, STOCK_CHANGE)),
        )
        for operation, change in changes:
            change()
            mins, items = steps._least(context, steps._planned(context))
            for channel in context.channels:
                pushes = _planned(context, channel)
                counted, wall, cpu = _measure(
                    context,
                    channel,
                    lambda c=channel: sync.sync_channel(context, c, user="bench", pull_orders_first=False),
                )
                per_item, naive_wall, _ = _measure(
                    context, channel, lambda c=channel, p=pushes: _per_item(context, c, p)
                )
                ours, naive = sum(counted.values()), sum(per_item.values())
                least = mins.get(channel.name, 0)
                row: dict[str, Any] = {
                    "kind": channel.kind,
                    "channel": channel.name,
                    "operation": operation,
                    "items": items.get(channel.name, 0),
                    "calls": ours,
                    "minimum_calls": least,
                    "ratio": round(ours / least, 2) if least else None,
                    "per_item_calls": naive,
                    "calls_vs_per_item": round(ours / naive, 3) if naive else None,
                    "wall_s": round(wall, 1),
                    "per_item_wall_s": round(naive_wall, 1),
                    "wall_vs_per_item": round(wall / naive_wall, 3) if naive_wall else None,
                    "cpu_s": round(cpu, 2),
                }
                why = minimum.explain(channel.kind, operation, ours, least, counted)
                if why:
                    row["why"] = why
                rows.append(row)
    ours_calls = sum(r["calls"] for r in rows)
    naive_calls = sum(r["per_item_calls"] for r in rows)
    return {
        "benchmark": "compare",
        "skus": size,
        "changes": [f"base price +{PRICE_CHANGE}% on every SKU", f"stock +{STOCK_CHANGE} on every SKU"],
        "per_item": "the plan's items sent one per call through the channel's own adapter (no look-ups counted)",
        "wall": "virtual seconds waited on the documented rate limits (and feed processing); CPU not included",
        "rows": rows,
        "calls": ours_calls,
        "per_item_calls": naive_calls,
        "calls_vs_per_item": round(ours_calls / naive_calls, 3) if naive_calls else None,
        "slowest_channel_wall_s": max((r["wall_s"] for r in rows), default=0.0),
        "slowest_channel_per_item_wall_s": max((r["per_item_wall_s"] for r in rows), default=0.0),
        "rows_over_minimum": sum(1 for r in rows if r.get("ratio") is not None and r["ratio"] > 1.0),
        "seconds": round(time.monotonic() - began, 1),
        "cpu_seconds": round(time.process_time(), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench compare", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE:,} SKUs instead of {SIZE:,}")
    parser.add_argument("--skus", type=int, help="catalog size in SKUs")
    args = parser.parse_args(argv)
    size = args.skus or (QUICK_SIZE if args.quick else SIZE)
    result = run(size)
    print(f"bench compare: {size} SKUs done in {result['seconds']} s", file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    return 0
