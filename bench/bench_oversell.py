"""Oversell window: time from an order's pull to the last other channel's stock push, on emulators.

Prints one JSON object. ``pull_to_last_push_ms`` is measured per order (pull on the selling channel,
then the triggered pushes to every other channel); ``baseline_noop_sync_ms`` is an idle sync of one
channel in the same run (nothing dirty), so the ratio shows what the propagation itself costs.

    .venv/bin/python bench/bench_oversell.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "syncer"))

from listing_sync.syncer.services import sync  # noqa: E402
from scenario import build  # noqa: E402

CHANNELS = ["shopify", "woocommerce", "taobao"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sc = build(Path(tmp), CHANNELS, units=10_000)
        baseline = []
        for _ in range(args.rounds):
            began = time.monotonic()
            sync.sync_channel(sc.context, sc.context.channel("woocommerce"), pull_orders_first=False)
            baseline.append((time.monotonic() - began) * 1000)
        windows = []
        for i in range(args.rounds):
            seller = CHANNELS[i % len(CHANNELS)]
            sc.sell(seller)
            began = time.monotonic()
            sc.pull_and_propagate(seller)
            windows.append((time.monotonic() - began) * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        concurrent = build(Path(tmp), CHANNELS, units=3)
        for name in CHANNELS:
            concurrent.sell(name)
        for name in CHANNELS:
            concurrent.pull_and_propagate(name)
        on_hand, reserved = concurrent.level()
    result = {
        "benchmark": "oversell_window",
        "channels": CHANNELS,
        "rounds": args.rounds,
        "pull_to_last_push_ms": {
            "median": round(statistics.median(windows), 1),
            "p95": round(sorted(windows)[int(0.95 * (len(windows) - 1))], 1),
            "max": round(max(windows), 1),
        },
        "baseline_noop_sync_ms": round(statistics.median(baseline), 1),
        "ratio_to_baseline": round(statistics.median(windows) / max(statistics.median(baseline), 0.001), 1),
        "concurrent_last_units": {"stock": 3, "sold": reserved, "oversold": max(0, reserved - on_hand)},
        "note": "oversell window in production = order poll interval (settings.orders_interval_minutes) + this push",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
