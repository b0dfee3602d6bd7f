"""``python -m bench lanes [--quick] [--skus N] [--rounds R]``: the oversell window (an order placed on one
channel -> the new quantity set on every other channel) when all is idle, and while each channel in turn
works through a price backlog on every one of its SKUs, on the six emulators enforcing their documented
rate limits on the real clock. Prints one JSON object, a row per backlogged channel.

How it runs: a world of ``N`` SKUs (``bench.world``) is published on every channel on virtual time (no
waiting); then the clock turns real and the emulators enforce their limits (scale 1: the documented
rates). An order job is emulated as the worker does it: after each order the bench pulls the selling
channel (a busy channel is skipped: its push's stock lane pulls every ``POLL_S`` instead, the order job's
interval here) and pushes the affected SKUs to every other channel (a busy channel refuses: its stock lane
sends it). The backlog of channel C is a new price on every one of C's listings (a price override, so only
C has work), pushed by ``services.sync.sync_channel`` in a thread as a worker's sync job would; it is
re-armed when it drains, so every order lands during one. Orders are placed in turn on every channel, one
at a time (``rounds`` per channel and case). The window of an order ends when every listing of its SKU on
the other channels holds its new quantity as pushed (a marketplace call answered).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from listing_sync.config.channels import ChannelConfig, StockRule
from listing_sync.syncer import reconcile
from listing_sync.syncer.context import UserError
from listing_sync.syncer.leases import LeaseBusy
from listing_sync.syncer.models import Channel, ChannelListing, Order, OrderLine
from listing_sync.syncer.services import orders, sync
from sqlalchemy import select, update

from bench.world import BenchContext, VirtualTime, world

POLL_S = 3.0  # the order job's interval (and the stock lane's pull interval: SYNCER_ORDERS_INTERVAL_MINUTES)
ORDER_TIMEOUT_S = 120.0


class HybridTime(VirtualTime):
    """Virtual time (sleeping advances it) until :meth:`go_real`, then the real clock, continuously."""

    def __init__(self) -> None:
        super().__init__()
        self._real: tuple[float, float] | None = None

    def clock(self) -> float:
        if self._real is None:
            return super().clock()
        return self._real[0] + (time.monotonic() - self._real[1])

    def sleep(self, seconds: float) -> None:
        if self._real is None:
            super().sleep(seconds)
        elif seconds > 0:
            time.sleep(seconds)

    def go_real(self) -> None:
        self._real = (self.clock(), time.monotonic())


class _Stop(UserError):
    """Ends a backlog push between two batches (the bench has measured what it needed)."""


class Bench:
    def __init__(self, context: BenchContext) -> None:
        self.context = context
        self.timeout = ORDER_TIMEOUT_S
        self.armed: dict[str, int] = {}  # channel -> listings due when its backlog was first armed
        with context.session() as s:
            self.ids = dict(s.execute(select(Channel.name, Channel.id)).all())

    # -- the worker's jobs, emulated ------------------------------------------------------------------
    def push_others(self, seller: str, affected: Sequence[int]) -> None:
        """What ``pull_orders`` queues: the affected SKUs pushed to every other channel (threads, as
        several worker threads would); a busy channel refuses (its stock lane sends it)."""

        def push(config: ChannelConfig) -> None:
            with contextlib.suppress(LeaseBusy):
                sync.sync_channel(self.context, config, user="bench", only_skus=affected, pull_orders_first=False)

        for other in sync.other_channels(self.context, seller):
            threading.Thread(target=push, args=(other,), daemon=True).start()

    def order_job(self, channel: str) -> None:
        try:
            report = orders.pull_channel_orders(self.context, self.context.channel(channel), user="bench")
        except LeaseBusy:
            return  # the channel's push holds the lease: its stock lane pulls at the job's interval
        if report.affected_sku_ids:
            self.push_others(channel, sorted(report.affected_sku_ids))

    # -- the backlog --------------------------------------------------------------------------------
    def arm_backlog(self, channel: str, step: int) -> int:
        """A new price for every listing of ``channel`` only (a price override); returns how many are due."""
        with self.context.session() as s:
            s.execute(
                update(ChannelListing)
                .where(ChannelListing.channel_id == self.ids[channel], ChannelListing.desired_price.is_not(None))
                .values(price_override=ChannelListing.desired_price + Decimal(step) / 100)
            )
            reconcile.refresh(s, self.context.channels, None, channel_names=[channel])
            return reconcile.due_count(s, channel)

    def run_backlog(self, channel: str, stop: threading.Event, started: threading.Event) -> None:
        """Push ``channel``'s backlog again and again (re-armed when it drains) until ``stop``."""
        config = self.context.channel(channel)
        step = 1

        def progress(done: int, total: int) -> None:
            started.set()
            if stop.is_set():
                raise _Stop("measured")

        while not stop.is_set():
            due = self.arm_backlog(channel, step)
            self.armed.setdefault(channel, due)
            step += 1
            try:
                sync.sync_channel(
                    self.context,
                    config,
                    user="bench",
                    progress=progress,
                    propagate=lambda affected: self.push_others(channel, affected),
                )
            except _Stop:
                return

    # -- one order ----------------------------------------------------------------------------------
    def place(self, channel: str) -> str:
        emulator = self.context.hub.get(self.context.channel(channel))
        placed = datetime.now(UTC) - timedelta(minutes=4)  # past every marketplace's indexing lag
        real_now, emulator.now = emulator.now, lambda: placed
        try:
            return emulator.generate_orders(1)[0]
        finally:
            emulator.now = real_now

    def targets_done(self, seller: str, external_id: str) -> dict[str, bool] | None:
        """Per other channel: whether every listing of the order's SKUs holds its new quantity as pushed
        (None while the order is not pulled yet)."""
        with self.context.session() as s:
            skus = list(
                s.scalars(
                    select(OrderLine.sku_id)
                    .join(Order, Order.id == OrderLine.order_id)
                    .where(Order.channel_id == self.ids[seller], Order.external_id == external_id)
                )
            )
            if not skus:
                return None
            rows = s.execute(
                select(Channel.name, ChannelListing.desired_quantity, ChannelListing.pushed_quantity)
                .join(Channel, Channel.id == ChannelListing.channel_id)
                .where(ChannelListing.sku_id.in_([sku for sku in skus if sku is not None]))
                .where(ChannelListing.channel_id != self.ids[seller])
            ).all()
        done: dict[str, bool] = {}
        for name, desired, pushed in rows:
            done[name] = done.get(name, True) and desired == pushed
        return done

    def measure(self, seller: str, poll: Callable[[], None]) -> dict[str, Any]:
        """Place one order on ``seller``; the order job polls at its next tick. The window to each other
        channel, and to all of them."""
        began = time.monotonic()
        external_id = self.place(seller)
        time.sleep((POLL_S - (time.monotonic() % POLL_S)) % POLL_S)  # the job's next tick
        poll()
        reached: dict[str, float] = {}
        done: dict[str, bool] | None = None
        while time.monotonic() - began < self.timeout:
            done = self.targets_done(seller, external_id)
            if done is not None:
                now = time.monotonic() - began
                for name, ok in done.items():
                    if ok and name not in reached:
                        reached[name] = now
                if len(reached) == len(done):
                    return {"seller": seller, "window_s": max(reached.values()), "to": reached}
            time.sleep(0.02)
        missed = sorted(set(done or ()) - set(reached)) if done is not None else ["(the order not pulled)"]
        return {"seller": seller, "window_s": None, "to": reached, "timed_out": True, "missed": missed}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench lanes", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 SKUs, 1 order per channel and case")
    parser.add_argument("--skus", type=int, help="catalog size (every SKU listed on every channel)")
    parser.add_argument("--rounds", type=int, help="orders per selling channel and case")
    parser.add_argument("--channels", nargs="*", help="backlogged channels to measure (default: all)")
    parser.add_argument(
        "--stock-lane-seconds", type=float, default=0.5, help="SYNCER_STOCK_LANE_SECONDS (0: no stock lane)"
    )
    parser.add_argument("--timeout", type=float, default=ORDER_TIMEOUT_S, help="seconds an order's window may take")
    args = parser.parse_args(argv)
    size = args.skus or (2_000 if args.quick else 10_000)
    rounds = args.rounds or (1 if args.quick else 2)
    cpu0 = time.process_time()
    with world(size) as context:
        context.vt = HybridTime()  # before any adapter or emulator exists
        # every unit counts on every channel (no share, buffer or cap), so an order moves each quantity
        channels = [c.model_copy(update={"stock": StockRule()}) for c in context.channels]
        amazon = {"feed_poll_seconds": 5.0, "feed_wait_seconds": 60.0}  # a feed backlog waits 60 s, not an hour
        channels = [
            c.model_copy(update={"options": {**c.options, **amazon}}) if c.kind == "amazon" else c for c in channels
        ]
        context.__dict__["channels"] = channels
        with context.session() as s:
            reconcile.refresh(s, channels, None)
        for channel in channels:
            sync.sync_channel(context, channel, user="bench")  # published, on virtual time
        setup_cpu = time.process_time() - cpu0
        settings = context.settings
        settings.stock_lane_seconds = args.stock_lane_seconds
        settings.orders_pull_reuse_seconds = 3600  # the order job pulls; pushes do not pull again
        settings.orders_interval_minutes = POLL_S / 60  # type: ignore[assignment]  # the lane's pull interval
        context.vt.go_real()
        hub = context.hub
        for channel in channels:
            hub.get(channel).enforce_rate = True
        bench = Bench(context)
        bench.timeout = args.timeout
        names = [c.name for c in channels]

        def case(backlogged: str | None) -> list[dict[str, Any]]:
            out = []
            for _ in range(rounds):
                for seller in names:
                    poll = (lambda s=seller: bench.order_job(s)) if seller != backlogged else (lambda: None)
                    out.append(bench.measure(seller, poll))
            return out

        idle = case(None)
        rows = []
        for name in args.channels or names:
            stop, started = threading.Event(), threading.Event()
            runner = threading.Thread(target=bench.run_backlog, args=(name, stop, started), daemon=True)
            runner.start()
            started.wait(120)
            busy = case(name)
            with context.session() as s:
                left = reconcile.due_count(s, name)
            stop.set()
            runner.join(300)
            idle_all = [m["window_s"] for m in idle if m["window_s"] is not None]
            busy_all = [m["window_s"] for m in busy if m["window_s"] is not None]
            idle_to = [m["to"][name] for m in idle if name in m["to"]]
            busy_to = [m["to"][name] for m in busy if name in m["to"]]
            idle_med, busy_med = _median(idle_all), _median(busy_all)
            rows.append(
                {
                    "channel": name,
                    "backlog_items": bench.armed.get(name),
                    "backlog_left_when_measured": left,
                    "orders": len(busy),
                    "timed_out": sum(1 for m in busy if m.get("timed_out")),
                    # seller -> the channels that did not hold the order's quantity within the timeout
                    "missed": {m["seller"]: m["missed"] for m in busy if m.get("timed_out")},
                    "window_idle_s": idle_med,
                    "window_backlog_s": busy_med,
                    "ratio": round(busy_med / idle_med, 2) if idle_med and busy_med else None,
                    "to_channel_idle_s": _median(idle_to),
                    "to_channel_backlog_s": _median(busy_to),
                    "to_channel_ratio": round(_median(busy_to) / _median(idle_to), 2)  # type: ignore[operator]
                    if idle_to and busy_to
                    else None,
                }
            )
    print(
        json.dumps(
            {
                "benchmark": "lanes",
                "skus": size,
                "rounds": rounds,
                "rate_scale": 1.0,
                "order_job_interval_s": POLL_S,
                "stock_lane_seconds": context.settings.stock_lane_seconds,
                "rows": rows,
                "idle_orders": len(idle),
                "cpu_s": round(time.process_time() - cpu0, 1),
                "setup_cpu_s": round(setup_cpu, 1),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "note": (
                    "window: order placed -> every other channel holds the new quantity (the order job's tick "
                    f"every {POLL_S:g} s included, in both cases); idle = no backlog anywhere; backlog = the "
                    "channel pushing a new price for every SKU, re-armed when it drains; medians"
                ),
            }
        )
    )
    return 0
