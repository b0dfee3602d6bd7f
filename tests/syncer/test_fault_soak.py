"""Fault soak (issue 25, 5c): all six emulated marketplaces answering with seeded faults (throttles with
Retry-After, 5xx, timeouts, dropped connections, partial batches) while prices, stock and orders change;
sync cycles repeat until everything is clean, then, with the faults off, every marketplace must show the
rules' price and quantity (0 lost updates), every order must be recorded once, levels = ledger, and no
request may have reached a marketplace before the Retry-After it had given had passed.

The adapters and emulators share a fake monotonic clock (the HTTP layer's injected ``clock``/``sleep``), so
every Retry-After and backoff is waited for exactly, without real sleeping; the wall clock is moved on
between cycles (time-machine) so listings waiting for a retry come due. Run with ``-s`` for the figures.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from listing_sync.adapters.base import ChannelError, OrderCursor
from listing_sync.adapters.emulator import Emulator, Faults
from listing_sync.adapters.http import parse_retry_after
from listing_sync.adapters.registry import build_adapter, emulator_class
from listing_sync.config.settings import Settings
from listing_sync.syncer import changes, db, fx, mapping, reconcile
from listing_sync.syncer.catalog import import_file
from listing_sync.syncer.context import Context, UserError, ensure_channel_rows
from listing_sync.syncer.demo import DEMO_FX
from listing_sync.syncer.models import Channel, ChannelListing, OrderCursorRow, Sku
from listing_sync.syncer.services import check, orders, sync
from sqlalchemy import select

from tests.reliability.verify import verify

ROOT = Path(__file__).resolve().parents[2]
#: ``drop`` loses the request, ``lost_reply`` does it and loses the answer (the client cannot tell which)
FAULTS = Faults(throttle=0.1, server_error=0.1, timeout=0.05, drop=0.05, lost_reply=0.05, partial=0.1)
ROUNDS = 8  # each: a price change, a stock change and orders on every marketplace, then one sync cycle
MAX_CYCLES = 40  # converging must take fewer sync cycles than this


class FakeClock:
    """The monotonic clock of every adapter and emulator: ``sleep`` moves it on at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """What the adapters wait (backoff, limiter, Retry-After): counted in ``slept``."""
        with self._lock:
            self.now += max(0.0, seconds)
            self.slept += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@dataclass
class Log:
    """What one emulator saw: request times, the faults it injected, the Retry-After windows it gave."""

    requests: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    hints: int = 0  # answers carrying a Retry-After
    early: list[str] = field(default_factory=list)  # requests that came before a Retry-After had passed
    _until: float = 0.0


BAN = re.compile(rb"ban will last (?:for )?(\d+)(?: more)? seconds")


def wait_hint(response: httpx.Response) -> float | None:
    """The wait a marketplace's answer asks for: a Retry-After header (WooCommerce), or the ban's length in
    the body (Taobao ``This ban will last for N more seconds``, AliExpress ``this ban will last N seconds``).
    Amazon, eBay and Shopify throttles name no wait (Shopify's carry its bucket, which the adapter adopts)."""
    hint = parse_retry_after(response.headers.get("Retry-After"))
    if hint is None and (match := BAN.search(response.content)):
        hint = float(match.group(1))
    return hint


def instrument(emulator: Emulator, clock: FakeClock, log: Log) -> None:
    """Record every request, fault and Retry-After the emulator gives (on the fake clock)."""
    handle, throttled, server_error, item_fails = (
        emulator.handle,
        emulator.throttled,
        emulator.server_error,
        emulator.item_fails,
    )

    def counting_throttled(request: httpx.Request, wait_seconds: float) -> httpx.Response:
        log.faults["throttle"] += 1
        return throttled(request, wait_seconds)

    def counting_server_error(request: httpx.Request) -> httpx.Response:
        log.faults["server_error"] += 1
        return server_error(request)

    def counting_item_fails() -> bool:
        failed = item_fails()
        log.faults["partial"] += failed
        return failed

    def recording_handle(request: httpx.Request) -> httpx.Response:
        arrived = clock()
        log.requests += 1
        if arrived < log._until - 1e-9:
            log.early.append(f"{request.method} {request.url.path} at {arrived:.3f} < {log._until:.3f}")
        try:
            response = handle(request)
        except httpx.TimeoutException:
            log.faults["timeout"] += 1
            raise
        except httpx.TransportError as exc:
            log.faults["lost_reply" if "after the change" in str(exc) else "drop"] += 1
            raise
        hint = wait_hint(response)
        if hint is not None:
            log.hints += 1
            log._until = max(log._until, arrived + hint)
        return response

    emulator.throttled = counting_throttled  # type: ignore[method-assign]
    emulator.server_error = counting_server_error  # type: ignore[method-assign]
    emulator.item_fails = counting_item_fails  # type: ignore[method-assign]
    emulator.handle = recording_handle  # type: ignore[method-assign]


def setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock, seed: int = 7
) -> tuple[Context, dict[str, Log]]:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(ROOT / "config" / "channels.example.toml", data / "channels.toml")
    settings = Settings(
        _env_file=None, data_dir=data, orders_pull_reuse_seconds=0, sync_parallel_channels=1, emulator_seed=seed
    )
    db.upgrade(settings.resolved_database_url)
    context = Context(settings=settings)

    def adapter(self: Context, channel: Any, *, counting: bool = False) -> Any:  # the real adapter, fake clock
        return build_adapter(
            channel,
            hub=self.hub,
            defer_emulator=counting,
            timeout=30.0,
            tokens=self.tokens,
            clock=clock,
            sleep=clock.sleep,
        )

    monkeypatch.setattr(Context, "adapter", adapter)
    logs = {}
    hub = context.hub
    for channel in context.channels:
        emulator = emulator_class(channel.kind)(  # as the hub builds it, but on the fake clock
            credentials={k: v.get_secret_value() for k, v in channel.credentials.items()},
            options=dict(channel.options),
            seed=hub.seed + sum(map(ord, channel.name)),
            currency=channel.currency,
            clock=clock,
        )
        hub._emulators[channel.name] = emulator
        logs[channel.name] = Log()
        instrument(emulator, clock, logs[channel.name])
    with context.session() as s:
        ensure_channel_rows(s, context.channels)
        import_file(s, ROOT / "examples" / "catalog.csv", user="soak")
        mapping.import_demo_mappings(s, context.channels, ROOT / "examples")
        today = datetime.now(UTC).date().replace(month=1, day=1)
        for quote, rate in DEMO_FX.items():
            fx.set_rate(s, "CNY", quote, rate, today)
        reconcile.refresh(s, context.channels, None)
        sku_ids = list(s.scalars(select(Sku.id)))
        for channel in context.channels:
            reconcile.ensure_listings(s, channel, sku_ids)
    return context, logs


def sync_cycle(context: Context, failures: Counter[str]) -> None:
    """What the scheduler does: each channel's order pull, then each channel's sync (which pulls again before
    it pushes quantities), then the confirmation of accepted pushes; a failing job waits for the next cycle."""
    for job in (orders.pull_channel_orders, sync.sync_channel):
        for channel in context.channels:
            try:
                job(context, channel, user="soak")
            except (ChannelError, UserError) as exc:  # e.g. an order pull gave up after its retries
                failures[f"{job.__name__}: {type(exc).__name__}"] += 1
    for channel in sync.channels_awaiting_confirmation(context):  # the hourly job: read accepted pushes back
        try:
            sync.check_drift(context, channel)
        except (ChannelError, UserError) as exc:
            failures[f"check_drift: {type(exc).__name__}"] += 1


def change(context: Context, n: int) -> None:
    """Round ``n``: a price change on some SKUs and a stock change on others (one change set each)."""
    with context.session() as s:
        ids = sorted(s.scalars(select(Sku.id)))
        prices = changes.plan_price(s, ids[n % 3 :: 3], percent=Decimal(3 if n % 2 else -2))
        changes.apply(s, prices, context.channels, user="soak", reason=f"soak round {n}")
        warehouse = ("SH", "GZ")[n % 2]  # AliExpress sells from GZ only
        stock = changes.plan_stock(s, ids[(n + 1) % 2 :: 2], warehouse, by=4 if n % 2 else -2)
        changes.apply(s, stock, context.channels, user="soak", reason=f"soak round {n}")


def sell(context: Context, count: int) -> int:
    placed = datetime.now(UTC) - timedelta(minutes=4)  # past every indexing lag, inside the pull overlap
    made = 0
    for channel in context.channels:
        emulator = context.hub.get(channel)
        faults, emulator.faults = emulator.faults, Faults()  # the buyer's side is not under test
        real_now, emulator.now = emulator.now, lambda: placed
        try:
            made += len(emulator.generate_orders(count))
        finally:
            emulator.now, emulator.faults = real_now, faults
    return made


#: the item errors the ``partial`` fault gives that are final by their marketplace's code (the syncer parks
#: them and shows why in `syncer status`): Taobao isv.item-is-locked, Shopify userErrors (INVALID_QUANTITY_TOO_HIGH,
#: and INVALID_INPUT even where the text says "try again"), Amazon issue 90220. eBay's 25001/25025 and
#: AliExpress's F_SYSTEM_BUSY are retried.
PERMANENT_ITEM_ERRORS = (
    "isv.item-is-locked",
    "can't be higher than 1,000,000,000",
    "Variant could not be updated",
    "Internal error creating the variant",  # Shopify productVariantsBulkCreate, INVALID_INPUT (seed 13)
    "batteries_required",
)
PENDING = ("new", "dirty", "retry", "submitted")


def pending(context: Context) -> int:
    """Listings still waiting for a push or a confirmation (parked ones are refused for good: not waiting)."""
    with context.session() as s:
        return len(s.scalars(select(ChannelListing.id).where(ChannelListing.status.in_(PENDING))).all())


def parked(context: Context) -> dict[str, str | None]:
    """Parked listings ("channel SKU") and the error each shows."""
    with context.session() as s:
        rows = s.execute(
            select(Channel.name, Sku.sku, ChannelListing.last_error)
            .join(Channel, Channel.id == ChannelListing.channel_id)
            .join(Sku, Sku.id == ChannelListing.sku_id)
            .where(ChannelListing.status == "parked")
        )
        return {f"{name} {sku}": error for name, sku, error in rows}


def remote_prices(context: Context) -> list[str]:
    """Listings whose marketplace price differs from the rule's, and SKUs listed twice (read with faults off)."""
    wrong = []
    with context.session() as s:
        for name, channel_id in s.execute(select(Channel.name, Channel.id)):
            desired = dict(
                s.execute(
                    select(Sku.sku, ChannelListing.desired_price)
                    .join(Sku, Sku.id == ChannelListing.sku_id)
                    .where(ChannelListing.channel_id == channel_id, ChannelListing.wanted == "active")
                ).all()
            )
            with context.adapter(context.channel(name)) as adapter:
                listed = list(adapter.listings())
            shown = {listing.sku: listing.price for listing in listed}
            wrong += [f"{name} {sku}: listed {n} times" for sku, n in Counter(x.sku for x in listed).items() if n > 1]
            for sku, price in desired.items():
                got = shown.get(sku)
                if got is None or Decimal(got.amount) != Decimal(price):
                    wrong.append(f"{name} {sku}: marketplace {got}, rule {price}")
    return wrong


#: the emulators' seeds the soak runs with: 7 is the default; before failed pushes made their values unknown
#: (test_push_outcomes.py), 3 and 17 lost a quantity, 18 a price and 22 both (7 of 20 seeds failed then)
SEEDS = (7, 3, 17, 18, 22)


@pytest.mark.parametrize("seed", SEEDS)
def test_fault_soak_converges_with_nothing_lost_and_every_retry_after_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    clock = FakeClock()
    began = time.monotonic()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=True) as traveller:
        context, logs = setup(tmp_path, monkeypatch, clock, seed)
        with context.session() as s:
            for channel_id in s.scalars(select(Channel.id)):
                s.add(
                    OrderCursorRow(channel_id=channel_id, cursor=OrderCursor(start - timedelta(minutes=10)).to_json())
                )
        placed = 0
        failures: Counter[str] = Counter()
        cycles = 0
        for n in range(ROUNDS):
            # the first cycle publishes: its lost replies would create listings twice (see the test below)
            for channel in context.channels:
                context.hub.get(channel).faults = FAULTS if n else replace(FAULTS, lost_reply=0.0)
            change(context, n)
            placed += sell(context, 3)
            sync_cycle(context, failures)
            cycles += 1
            traveller.shift(timedelta(minutes=5))
            clock.advance(300)  # the scheduler's pause between cycles
        while pending(context) and cycles < MAX_CYCLES:
            sync_cycle(context, failures)
            cycles += 1
            traveller.shift(timedelta(minutes=5))
            clock.advance(300)  # the scheduler's pause between cycles
        converged = not pending(context)
        sent = {name: log.requests for name, log in logs.items()}  # before the read-back below
        refused = parked(context)
        for channel in context.channels:
            context.hub.get(channel).faults = Faults()
        verdict = verify(context, [c.name for c in context.channels], start - timedelta(minutes=10))
        prices = remote_prices(context)
        books = check.check(context)

    faults = sum((log.faults for log in logs.values()), Counter())
    # a parked listing was refused for good by its marketplace (an injected permanent item error), shows why,
    # and waits for a person: not a lost update, so its marketplace values are not compared
    quantities = [m for m in verdict.quantity_mismatches if m.split(":")[0] not in refused]
    prices = [m for m in prices if m.split(":")[0] not in refused]
    figures = {
        "test": "fault_soak",
        "seed": seed,
        "channels": len(logs),
        "listings": verdict.listings,
        "fault_rates": str(FAULTS),
        "requests": sum(sent.values()),
        "requests_per_channel": sent,
        "faults_injected": dict(faults),
        "retry_after_given": sum(log.hints for log in logs.values()),
        "requests_before_retry_after": sum(len(log.early) for log in logs.values()),
        "rounds": ROUNDS,
        "cycles_to_converge": cycles,
        "channel_syncs_failed": dict(failures),
        "orders": verdict.orders,
        "lost_orders": verdict.lost,
        "duplicate_orders": verdict.duplicates,
        "parked_by_permanent_item_errors": len(refused),
        "quantity_mismatches": len(quantities),
        "price_mismatches": len(prices),
        "check_ok": books.ok,
        "seconds_waited_by_the_adapters": round(clock.slept, 1),  # on the fake clock
        "seconds": round(time.monotonic() - began, 1),
    }
    print("\n" + json.dumps(figures))
    if os.environ.get("SYNCER_RELIABILITY_REPORT"):
        with open(os.environ["SYNCER_RELIABILITY_REPORT"], "a", encoding="utf-8") as out:
            out.write(json.dumps(figures) + "\n")

    assert converged, f"not settled after {cycles} cycles"
    assert [e for log in logs.values() for e in log.early] == []
    assert quantities == [] and prices == [], (quantities, prices)
    wrongly_parked = {k: e for k, e in refused.items() if not any(m in (e or "") for m in PERMANENT_ITEM_ERRORS)}
    assert wrongly_parked == {}
    assert (verdict.lost, verdict.duplicates, verdict.extra) == (0, 0, 0)
    assert verdict.orders == placed
    assert verdict.problems == [] and books.ok, [p for p in books.problems]
    for kind in ("throttle", "server_error", "timeout", "drop", "lost_reply", "partial"):
        assert faults[kind] > 0, f"no {kind} fault was injected: the soak tested nothing of it"


def test_a_publish_whose_answer_is_lost_creates_no_second_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    context, _ = setup(tmp_path, monkeypatch, clock)
    for channel in context.channels:
        context.hub.get(channel).faults = Faults(lost_reply=0.2)
    failures: Counter[str] = Counter()
    for _ in range(10):
        if not pending(context):
            break
        sync_cycle(context, failures)
        clock.advance(300)
    for channel in context.channels:
        context.hub.get(channel).faults = Faults()
    twice = [line for line in remote_prices(context) if "listed" in line]
    print("\n" + json.dumps({"test": "lost_reply_publish", "listed_twice": twice}))
    assert twice == []
