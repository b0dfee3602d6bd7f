"""``python -m bench wall [--quick] [--skus N] [--change stock|price] [--rate-scale F] [--channels A,B]``:
wall time of one change on every SKU pushed to the emulated channels on the real clock, the emulators
enforcing each marketplace's documented rate limits scaled by a stated factor.

The default is issue #22's: a 10,000-item stock push per channel (``--quick``: 1,000). ``--rate-scale F``
runs the clock of the rate machinery (adapters and emulators alike: rates, burst refills, Retry-After,
an emulated feed's processing) F times faster, so every limit is multiplied by F and the floor it imposes
divided by F; F is printed. Each channel is first pushed alone (``services.sync.sync_channel``): its wall
time against the floor its limit imposes (calls past the burst / documented requests per second, over
F; a request the emulator refused for its rate and the adapter sent again is counted in ``refused``, not
in the floor). Then the same kind of change is pushed with ``sync --inline``'s ``run_sync`` (channels
concurrently): its total against the slowest channel's. The publish before them is set-up
(``PUBLISH_SCALE``). Everything on that clock scales alike: real CPU time counts F times over, so an
emulated presigned URL's 300 s is 300 / F real seconds. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import time
from collections.abc import Sequence

from listing_sync.adapters.base import RateLimited
from listing_sync.syncer.services import sync

from bench import calls as steps
from bench.world import BenchContext, world

#: +10 units on hand moves the quantity of every example channel (shares 0.2-0.6 of the pool)
STOCK_DELTA = 10
DEFAULT_SCALE = 5.0
#: the publish before the measured pushes is set-up, run with the limits x 20; not faster: everything on the
#: clock shrinks alike, and an Amazon feed document's upload URL (300 s) must outlive building the feed
PUBLISH_SCALE = 20.0


class Refusals(logging.Handler):
    """Counts, per channel, the requests a marketplace refused for its rate and the HTTP layer sent again
    (its retry warnings carry the channel and the error)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        refused = len(args) > 3 and isinstance(args[3], RateLimited)
        # the marketplace's answer has a status or code; our own limiter's "must wait" has neither
        if refused and (args[3].status is not None or args[3].code is not None):
            self.counts[str(args[0])] = self.counts.get(str(args[0]), 0) + 1

    def take(self) -> dict[str, int]:
        """The counts since the last take."""
        counts, self.counts = self.counts, {}
        return counts


def _change(context: BenchContext, kind: str, ids: list[int]) -> None:
    if kind == "price":
        steps._price(context, ids)
    else:
        steps._stock(context, ids, STOCK_DELTA)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench wall", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 SKUs instead of 10,000")
    parser.add_argument("--skus", type=int, help="catalog size in SKUs (overrides --quick)")
    parser.add_argument("--change", choices=("stock", "price"), default="stock", help="what every SKU changes")
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=DEFAULT_SCALE,
        help=f"every documented rate limit multiplied by this factor (default {DEFAULT_SCALE:g}; 1 = real limits)",
    )
    parser.add_argument(
        "--channels",
        help="comma-separated channel names to publish and measure (default: all six), e.g. to run the "
        "small-floor channels alone at --rate-scale 1",
    )
    args = parser.parse_args(argv)
    size = args.skus or (1_000 if args.quick else 10_000)
    names = [n for n in (args.channels or "").split(",") if n]
    scale = args.rate_scale
    began_cpu, began = _cpu(), time.monotonic()
    refusals = Refusals()
    logging.getLogger("adapters.http").addHandler(refusals)
    with world(size, real_time=True, rate_scale=scale) as context:
        context.settings.orders_pull_reuse_seconds = 3600  # measure the pushes, not the pulls before them
        context.vt.set_scale(PUBLISH_SCALE)  # type: ignore[attr-defined]  # a ScaledTime: publishing is set-up
        measured = [c for c in context.channels if not names or c.name in names]
        if names and len(measured) != len(set(names)):
            known = ", ".join(c.name for c in context.channels)
            parser.error(f"--channels {args.channels!r}: the bench's channels are {known}")
        for channel in measured:
            sync.sync_channel(context, channel, user="bench")  # publish
        context.vt.set_scale(scale)  # type: ignore[attr-defined]
        setup_s = time.monotonic() - began
        publish_refused = refusals.take()
        ids = steps._selection(context, size)
        _change(context, args.change, ids)
        rows = []
        for channel in measured:
            adapter_limits = context.adapter(channel).limits
            requests = context.hub.get(channel).requests
            requests.clock_on()
            started = time.monotonic()
            report = sync.sync_channel(context, channel, user="bench")
            ended = time.monotonic()
            wall = ended - started
            # the sync's own time before its first request (planning) and after its last (write-back)
            first, last = (requests.times[0], requests.times[-1]) if requests.times else (ended, ended)
            refused = refusals.take().get(channel.name, 0)
            # the floor of the calls the push needs: a refused request sent again is not one of them
            needed = report.api_calls - refused
            floor = max(0.0, (needed - adapter_limits.burst) / adapter_limits.rate) / scale
            rows.append(
                {
                    "channel": channel.name,
                    "kind": channel.kind,
                    "items": report.ok + report.failed,
                    "calls": report.api_calls,
                    "refused": refused,
                    "rate_per_s": round(adapter_limits.rate, 3),
                    "scaled_rate_per_s": round(adapter_limits.rate * scale, 3),
                    "wall_s": round(wall, 2),
                    "floor_s": round(floor, 2),
                    "wall_over_floor": round(wall / floor, 2) if floor >= 0.5 else None,
                    "before_first_request_s": round(first - started, 2),
                    "after_last_request_s": round(ended - last, 2),
                }
            )
        _change(context, args.change, ids)
        started = time.monotonic()
        sync.run_sync(context, [c.name for c in measured] if names else None, user="bench")
        parallel = time.monotonic() - started
        parallel_refused = refusals.take()
    sequential = sum(r["wall_s"] for r in rows)
    slowest = max(r["wall_s"] for r in rows)
    change = f"base price +{steps.PRICE_PERCENT}%" if args.change == "price" else f"stock +{STOCK_DELTA} on hand"
    print(
        json.dumps(
            {
                "benchmark": "wall",
                "skus": size,
                "change": f"{change} on every SKU",
                "rate_scale": scale,
                "publish_rate_scale": PUBLISH_SCALE,
                "channels": [c.name for c in measured],
                "rows": rows,
                "sequential_total_s": round(sequential, 2),
                "parallel_total_s": round(parallel, 2),
                "slowest_channel_s": slowest,
                "parallel_over_slowest": round(parallel / slowest, 2) if slowest else None,
                "parallel_refused": parallel_refused,
                "publish_refused": publish_refused,
                "setup_s": round(setup_s, 1),
                "cpu_s": round(_cpu() - began_cpu, 1),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "note": (
                    "rates x rate_scale on adapters and emulators alike (their clock runs rate_scale times "
                    "faster), so floor_s = (calls - refused - burst) / rate / rate_scale; wall_over_floor is null "
                    "where the floor is under 0.5 s (the burst covers the push); refused: requests the emulator "
                    "refused for its rate and the adapter sent again (counted in calls)"
                ),
            }
        )
    )
    return 0
