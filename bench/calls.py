"""``python -m bench calls [--quick]``: API calls per channel and operation against the six emulators,
next to the fewest calls each marketplace's API allows for the same change.

For each catalog size (10k and 100k SKUs; ``--quick``: 1k and 10k) a fresh world (``bench.world``) is
published on every channel, then for k = 0.1, 1, 10 and 100 % of the SKUs (whole products, in SKU order):
a price change, a stock change, orders on the marketplaces (k % of the SKUs sold once, at most
``MAX_ORDERS``; the pull and the stock it pushes to the other channels), a delist and a relist.
Each step runs the syncer's own paths (``services.sync.sync_channel``, ``services.orders``) and counts
the requests the emulators answered. ``minimum_calls`` comes from :mod:`bench.minimum` (the widest
documented write for the change, no look-ups, token calls counted once per credential in their own row);
``why`` names the extra calls by wire operation where ``ratio`` > 1.00. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from listing_sync.syncer import changes, reconcile
from listing_sync.syncer.models import Product, Sku, StockLevel
from listing_sync.syncer.services import orders, sync
from sqlalchemy import select, update

from bench import minimum, trace
from bench.world import VARIANTS, BenchContext, world

SIZES = (10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
KS = (0.001, 0.01, 0.1, 1.0)
MAX_ORDERS = 600  # orders placed per step in all (spread over the channels)
ORDER_AGE = timedelta(minutes=4)  # placed this long ago: past every marketplace's indexing lag


class Recorder:
    """Requests per channel (labelled) for each measured step, and the rows built from them."""

    def __init__(self, context: BenchContext) -> None:
        self.context = context
        self.rows: list[dict[str, Any]] = []
        self.tokens: Counter[str] = Counter()
        self.token_labels: dict[str, str] = {}

    def _tally(self, channel: Any) -> trace.Tally:
        return self.context.hub.get(channel).requests  # type: ignore[return-value]  # bench.world's Tally

    def step(self, fn: Callable[[], Any]) -> dict[str, Counter[str]]:
        before = {c.name: self._tally(c).mark() for c in self.context.channels}
        fn()
        out: dict[str, Counter[str]] = {}
        for channel in self.context.channels:
            counted = self._tally(channel).since(before[channel.name])
            for name in [n for n in counted if trace.is_token(n)]:
                self.tokens[channel.name] += counted.pop(name)
                self.token_labels[channel.name] = name
            out[channel.name] = counted
        return out

    def add(
        self,
        size: int,
        k: float,
        operation: str,
        counts: dict[str, Counter[str]],
        mins: dict[str, int],
        items: dict[str, int],
    ) -> None:
        for channel in self.context.channels:
            calls = sum(counts[channel.name].values())
            least = mins.get(channel.name, 0)
            if calls == 0 and least == 0:
                continue
            row: dict[str, Any] = {
                "catalog": size,
                "changed_pct": round(k * 100, 1),
                "channel": channel.name,
                "kind": channel.kind,
                "operation": operation,
                "items": items.get(channel.name, 0),
                "calls": calls,
                "minimum_calls": least,
                "ratio": round(calls / least, 2) if least else None,
            }
            explained = minimum.explain(channel.kind, operation, calls, least, counts[channel.name])
            if explained:
                row["why"] = explained
            if operation != "orders":
                row["predicted_calls"] = PREDICTED.get(channel.name, 0)
                row["push_calls"] = calls - sum(n for name, n in counts[channel.name].items() if minimum.is_pull(name))
            self.rows.append(row)


def _sync_all(context: BenchContext) -> None:
    for channel in context.channels:
        sync.sync_channel(context, channel, user="bench")


PREDICTED: dict[str, int] = {}  # channel -> calls the plan estimates (reconcile.Plan.calls), set by _planned


def _planned(context: BenchContext, only: set[int] | None = None) -> dict[str, dict[str, list[int]]]:
    """Per channel and operation, the changed SKUs of each product the next sync will push (from the
    syncer's own plan), so the minimum is taken over what really changed after the channel's rules; the
    plan's own call estimate goes to :data:`PREDICTED`."""
    out: dict[str, dict[str, list[int]]] = {}
    for channel in context.channels:
        with context.session() as session, context.adapter(channel) as adapter:
            plan = reconcile.build_plan(session, channel, adapter, only_skus=only)
        PREDICTED[channel.name] = sum(plan.calls().values())
        per_op: dict[str, Counter[str]] = {}
        for op, items in plan.batches:
            for item in items:
                if item.payload is None:
                    continue
                product = item.sku.split("-")[0]
                per_op.setdefault(op.value, Counter())[product] += max(1, len(item.group))
        out[channel.name] = {op: list(counts.values()) for op, counts in per_op.items()}
    return out


def _least(context: BenchContext, planned: dict[str, dict[str, list[int]]]) -> tuple[dict[str, int], dict[str, int]]:
    """(minimum calls, items) per channel for a plan."""
    mins, items = {}, {}
    for channel in context.channels:
        ops = planned.get(channel.name, {})
        mins[channel.name] = sum(minimum.calls(channel.kind, op, groups) for op, groups in ops.items())
        items[channel.name] = sum(sum(groups) for groups in ops.values())
    return mins, items


def _selection(context: BenchContext, n: int) -> list[int]:
    """The ids of the first ``n`` SKUs in SKU order (whole products)."""
    products = max(1, math.ceil(n / VARIANTS))
    with context.session() as s:
        rows = s.execute(
            select(Sku.id, Product.key).join(Product, Product.id == Sku.product_id).order_by(Product.key, Sku.sku)
        ).all()
    keys = list(dict.fromkeys(key for _, key in rows))[:products]
    wanted = set(keys)
    return [sku_id for sku_id, key in rows if key in wanted]


#: +20% moves every example channel's price past its .99 ending; +5% from the catalog's 79.00 CNY does not
#: on Shopify and AliExpress (13.99 and 16.99 USD before and after it), so their first price step pushed nothing
PRICE_PERCENT = Decimal("20")


def _price(context: BenchContext, ids: list[int], percent: Decimal = PRICE_PERCENT) -> None:
    with context.session() as s:
        lines = changes.plan_price(s, ids, percent=percent)
        changes.apply(s, lines, context.channels, user="bench", reason="bench: price", command="bench calls")


def _stock(context: BenchContext, ids: list[int], delta: int) -> None:
    with context.session() as s:
        s.execute(update(StockLevel).where(StockLevel.sku_id.in_(ids)).values(on_hand=StockLevel.on_hand + delta))
        reconcile.refresh(s, context.channels, ids)


def _wanted(context: BenchContext, ids: list[int], wanted: str) -> None:
    with context.session() as s:
        for channel in context.channels:
            reconcile.ensure_listings(s, channel, ids, wanted=wanted)


def _place_orders(context: BenchContext, count: int) -> dict[str, int]:
    placed: dict[str, int] = {}
    when = datetime.now(UTC) - ORDER_AGE
    channels = context.channels
    for index, channel in enumerate(channels):
        share = count // len(channels) + (1 if index < count % len(channels) else 0)
        if share == 0:
            continue
        emulator = context.hub.get(channel)
        real_now, emulator.now = emulator.now, lambda: when
        try:
            placed[channel.name] = len(emulator.generate_orders(share))
        finally:
            emulator.now = real_now
    return placed


def _orders_step(rec: Recorder, size: int, k: float, count: int) -> None:
    context = rec.context
    placed = _place_orders(context, count)
    affected: dict[str, set[int]] = {}

    def pull() -> None:
        for channel in context.channels:
            report = orders.pull_channel_orders(context, channel, user="bench")
            affected[channel.name] = set(report.affected_sku_ids)

    counts = rec.step(pull)
    mins = {c.name: minimum.order_pull(c.kind, placed.get(c.name, 0)) for c in context.channels}
    rec.add(size, k, "orders", counts, mins, placed)
    everything = set().union(*affected.values()) if affected else set()

    def push() -> None:
        for channel in context.channels:
            sync.sync_channel(context, channel, user="bench", only_skus=everything, pull_orders_first=False)

    mins, items = _least(context, _planned(context, everything))
    counts = rec.step(push)
    rec.add(size, k, "orders→stock", counts, mins, items)


def run_size(size: int, ks: Sequence[float]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    began = time.monotonic()
    with world(size) as context:
        rec = Recorder(context)
        mins, items = _least(context, _planned(context))
        counts = rec.step(lambda: _sync_all(context))
        rec.add(size, 1.0, "publish", counts, mins, items)
        print(json.dumps({"partial": size, "operation": "publish", "rows": rec.rows}), file=sys.stderr, flush=True)
        for k in ks:
            ids = _selection(context, max(1, round(size * k)))
            for operation, change in (
                ("price", lambda ids=ids: _price(context, ids)),
                ("stock", lambda ids=ids: _stock(context, ids, 1)),
                ("delist", lambda ids=ids: _wanted(context, ids, "delisted")),
                ("relist", lambda ids=ids: _wanted(context, ids, "active")),
            ):
                change()
                mins, items = _least(context, _planned(context))
                counts = rec.step(lambda: _sync_all(context))
                first = len(rec.rows)
                rec.add(size, k, operation, counts, mins, items)
                # a run stopped inside a k (100k SKUs at 100 %: an hour at a loaded core) keeps the steps it finished
                step = {"partial": size, "changed_pct": k * 100, "operation": operation, "rows": rec.rows[first:]}
                print(json.dumps(step), file=sys.stderr, flush=True)
            _orders_step(rec, size, k, min(MAX_ORDERS, max(1, round(size * k))))
            done = [r for r in rec.rows if r.get("changed_pct") == round(k * 100, 1) and r["catalog"] == size]
            # a run cut short still leaves each finished k's rows (stderr, one JSON line each)
            print(json.dumps({"partial": size, "changed_pct": k * 100, "rows": done}), file=sys.stderr, flush=True)
        adapters = {c.name: rec.tokens.get(c.name, 0) for c in context.channels}
        meta = {
            "catalog": size,
            "seconds": round(time.monotonic() - began, 1),
            "rate_limited_wait_seconds": round(context.vt.slept, 1),
            "token_calls": {name: calls for name, calls in adapters.items() if name in rec.token_labels},
        }
        span = context.vt.slept  # virtual time passes only by the limits' waits: the run's length
        for name, calls in meta["token_calls"].items():
            kind = context.channel(name).kind
            least = minimum.token_calls(kind, span)
            life = minimum.TOKEN_SECONDS.get(kind)
            hours = f"{span / 3600:.1f} h of (virtual) time" + (f"; a token lasts {life / 3600:g} h" if life else "")
            why = f"{rec.token_labels[name]}: {calls} tokens over the run's {hours}"
            rec.rows.append(
                {
                    "catalog": size,
                    "channel": name,
                    "kind": kind,
                    "operation": "token",
                    "items": 1,
                    "calls": calls,
                    "minimum_calls": least,
                    "ratio": round(calls / least, 2),
                    **({"why": why} if calls > 1 else {}),
                }
            )
        return rec.rows, meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench calls", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="catalogs of 1k and 10k SKUs instead of 10k and 100k")
    parser.add_argument("--sizes", type=int, nargs="*", help="catalog sizes in SKUs (overrides --quick)")
    parser.add_argument("--changed", type=float, nargs="*", help="percentages changed (default: 0.1 1 10 100)")
    args = parser.parse_args(argv)
    ks = tuple(pct / 100 for pct in args.changed) if args.changed else KS
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    rows: list[dict[str, Any]] = []
    runs = []
    for size in sizes:
        found, meta = run_size(size, ks)
        rows += found
        runs.append(meta)
        print(f"bench calls: {size} SKUs done in {meta['seconds']} s", file=sys.stderr)
    over = [r for r in rows if r.get("ratio") is not None and r["ratio"] > 1.0]
    estimates: dict[str, dict[str, Any]] = {}
    for r in rows:
        if "predicted_calls" in r:
            e = estimates.setdefault(r["channel"], {"predicted": 0, "actual": 0})
            e["predicted"] += r["predicted_calls"]
            e["actual"] += r["push_calls"]
    for e in estimates.values():
        e["error_pct"] = round(100 * (e["predicted"] - e["actual"]) / e["actual"], 1) if e["actual"] else 0.0
    result = {
        "benchmark": "calls",
        "sizes": list(sizes),
        "changed_pct": [k * 100 for k in ks],
        "runs": runs,
        "rows": rows,
        "rows_over_minimum": len(over),
        "predicted_vs_actual": estimates,
        "worst_ratio": max((r["ratio"] for r in rows if r.get("ratio") is not None), default=None),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0
