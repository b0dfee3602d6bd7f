"""``python -m bench wall [--quick] [--skus N]``: wall time of one price change pushed to the six emulated
channels on the real clock, the emulators enforcing each marketplace's documented rate limit.

Each channel is first pushed alone (``services.sync.sync_channel``): its wall time against the floor its
rate limit imposes (calls / documented requests per second, the burst taken off). Then the same kind of
change is pushed with ``sync --inline``'s ``run_sync`` (channels concurrently): its total against the
slowest channel's. Prints one JSON object. The default is 200 SKUs (``--quick``: 40); the 10,000-item push
of issue #22 is not run here (it is minutes of real sleeping per channel).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

from listing_sync.syncer.services import sync

from bench import calls as steps
from bench.world import world


def _price_change(context: Any, size: int) -> None:
    steps._price(context, steps._selection(context, size))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench wall", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 SKUs instead of 200")
    parser.add_argument("--skus", type=int, help="catalog size in SKUs")
    args = parser.parse_args(argv)
    size = args.skus or (40 if args.quick else 200)
    with world(size, real_time=True) as context:
        context.settings.orders_pull_reuse_seconds = 3600  # measure the pushes, not the pulls before them
        for channel in context.channels:
            sync.sync_channel(context, channel, user="bench")  # publish
        _price_change(context, size)
        rows = []
        for channel in context.channels:
            adapter_limits = context.adapter(channel).limits
            began = time.monotonic()
            report = sync.sync_channel(context, channel, user="bench")
            wall = time.monotonic() - began
            floor = max(0.0, (report.api_calls - adapter_limits.burst) / adapter_limits.rate)
            rows.append(
                {
                    "channel": channel.name,
                    "kind": channel.kind,
                    "items": report.ok + report.failed,
                    "calls": report.api_calls,
                    "rate_per_s": round(adapter_limits.rate, 3),
                    "wall_s": round(wall, 2),
                    "floor_s": round(floor, 2),
                    "wall_over_floor": round(wall / floor, 2) if floor >= 0.5 else None,
                }
            )
        _price_change(context, size)
        began = time.monotonic()
        sync.run_sync(context, None, user="bench")
        parallel = time.monotonic() - began
    sequential = sum(r["wall_s"] for r in rows)
    slowest = max(r["wall_s"] for r in rows)
    print(
        json.dumps(
            {
                "benchmark": "wall",
                "skus": size,
                "change": "base price +5% on every SKU",
                "rows": rows,
                "sequential_total_s": round(sequential, 2),
                "parallel_total_s": round(parallel, 2),
                "slowest_channel_s": slowest,
                "parallel_over_slowest": round(parallel / slowest, 2) if slowest else None,
                "note": "wall_over_floor is null where the floor is under 0.5 s (the burst covers the push)",
            }
        )
    )
    return 0
