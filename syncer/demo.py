"""``syncer demo``: the whole loop on the embedded default against the six emulated marketplaces.

Steps: initialise the data directory, import the example catalog (and its category and attribute
mappings), set FX rates, publish every SKU on every channel, let the emulators produce orders, pull
them (reserving stock and pushing the new availability to every other channel), apply a bulk price
change and sync it, delist one product, and summarise per channel. Jobs go through the scheduler the
face passes in (the configured huey queue, SQLite by default) and are executed in this process, so no
worker is needed.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from listing_sync.syncer.context import Context, database_errors
from listing_sync.syncer.services.scheduler import SyncScheduler
from sqlalchemy import func, select
from sqlalchemy.orm import Session

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_FX = {"USD": Decimal("0.1380"), "EUR": Decimal("0.1290"), "GBP": Decimal("0.1090"), "JPY": Decimal("20.55")}
ORDERS_PER_CHANNEL = 3
#: Marketplaces index orders with a lag (up to 3 minutes: Amazon), so the demo's orders are placed this long
#: ago; it must stay inside the 5-minute overlap each pull re-reads, or a pull made just before would miss them.
ORDER_AGE = timedelta(minutes=4)
PRICE_CHANGE = ("tea", Decimal("5"))  # category, percent
DELIST_PRODUCT = "LAMP-PAPER"


@dataclass
class DemoResult:
    data_dir: Path
    trace: Path
    seconds: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)


class WebhookEndpoint(Protocol):
    """Where the demo's order webhooks go: the web app served in the background by the face."""

    url: str

    def wait(self, timeout: float) -> bool:
        """Wait until the work the received webhooks set off is done; False on timeout."""

    def close(self) -> None:
        """Stop serving."""


@contextmanager
def _step(result: DemoResult, name: str, say: Callable[[str], None]) -> Iterator[None]:
    start = time.monotonic()
    say(f"[bold]›[/] {name}")
    yield
    result.steps.append((name, time.monotonic() - start))


def run(
    data_dir: Path,
    *,
    reset: bool,
    trace: Path | None,
    say: Callable[[str], None],
    scheduler: SyncScheduler,
    webhooks: Callable[[Context], WebhookEndpoint] | None = None,
) -> DemoResult:
    """Run the demo in ``data_dir``; returns timings and the per-channel summary. Syncs and order pulls
    are queued on ``scheduler`` and drained here. ``webhooks`` serves the web app for the order webhook step
    (skipped without it)."""
    from listing_sync.config.settings import get_settings

    started = time.monotonic()
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    trace = trace or data_dir / "demo-trace.jsonl"
    os.environ["SYNCER_DATA_DIR"] = str(data_dir)
    os.environ["SYNCER_HTTP_TRACE"] = str(trace)
    get_settings.cache_clear()
    result = DemoResult(data_dir, trace)

    from listing_sync.syncer import changes, db, fx, reconcile
    from listing_sync.syncer.catalog import import_file
    from listing_sync.syncer.context import ensure_channel_rows
    from listing_sync.syncer.models import Product, Sku

    context = Context(settings=get_settings(), trace_path=trace)
    user = "demo"
    with _step(result, "initialise the data directory and database", say):
        channels_file = context.settings.resolved_channels_file
        if not channels_file.exists():
            shutil.copy(Path(__file__).resolve().parent.parent / "config" / "channels.example.toml", channels_file)
        with database_errors(context.db_url):
            db.upgrade(context.db_url)
        with context.session() as session:
            ensure_channel_rows(session, context.channels)

    with _step(result, "import the example catalog, mappings and FX rates", say):
        with context.session() as session:
            summary = import_file(session, EXAMPLES / "catalog.csv", user=user)
            _import_mappings(session, context)
            today = datetime.now(UTC).date().replace(month=1, day=1)
            for quote, rate in DEMO_FX.items():
                fx.set_rate(session, "CNY", quote, rate, today)
            reconcile.refresh(session, context.channels, None)
        say(f"  {summary.skus_created} SKUs created, {summary.skus_unchanged} unchanged")

    with _step(result, "publish every SKU on every channel", say):
        _start_order_cursors(context, datetime.now(UTC) - 2 * ORDER_AGE)
        with context.session() as session:
            sku_ids = list(session.scalars(select(Sku.id)))
            for channel in context.channels:
                reconcile.ensure_listings(session, channel, sku_ids)
        _sync_all(scheduler, context)

    with _step(result, "marketplaces produce orders; pull them and push the new stock everywhere", say):
        made = 0
        placed = datetime.now(UTC) - ORDER_AGE
        for channel in context.channels:
            emulator = context.hub.get(channel)
            real_now, emulator.now = emulator.now, lambda: placed  # placed a while ago: past every indexing lag
            try:
                made += len(emulator.generate_orders(ORDERS_PER_CHANNEL))
            finally:
                emulator.now = real_now
        context.hub.save()
        for channel in context.channels:
            scheduler.queue_order_pull(channel.name, user=user)
        scheduler.drain()
        say(f"  {made} orders placed on the emulators")

    if webhooks is not None:
        with _step(result, "order webhook: an order placed now reaches every other channel without a pull", say):
            _show_order_webhook(context, webhooks, say)

    with _step(result, "ship one order per channel with carrier and tracking; pull again", say):
        shipped = _ship_demo_orders(context, user)
        for channel in context.channels:
            scheduler.queue_order_pull(channel.name, user=user)
        scheduler.drain()
        say(f"  {shipped.pushed} shipment(s) confirmed to the marketplaces, {shipped.retry + shipped.parked} not")

    with _step(result, f"promotion: {PROMOTION[1]}% on category {PROMOTION[0]}, started and ended by the worker", say):
        _run_promotion(context, scheduler, say)

    with _step(result, f"bulk price change: +{PRICE_CHANGE[1]}% on category {PRICE_CHANGE[0]}", say):
        with context.session() as session:
            ids = list(
                session.scalars(
                    select(Sku.id)
                    .join(Product, Product.id == Sku.product_id)
                    .where(Product.category == PRICE_CHANGE[0])
                )
            )
            lines = changes.plan_price(session, ids, percent=PRICE_CHANGE[1])
            change_set = changes.apply(
                session,
                lines,
                context.channels,
                user=user,
                reason="demo: tea price rise",
                command=f"price adjust --percent {PRICE_CHANGE[1]} --category tea",
            )
        say(f"  change set {change_set}: {len(lines)} SKUs")
        _sync_all(scheduler, context)

    with _step(result, f"delist product {DELIST_PRODUCT} everywhere", say):
        with context.session() as session:
            ids = list(
                session.scalars(
                    select(Sku.id).join(Product, Product.id == Sku.product_id).where(Product.key == DELIST_PRODUCT)
                )
            )
            for channel in context.channels:
                reconcile.ensure_listings(session, channel, ids, wanted="delisted")
        _sync_all(scheduler, context)

    result.summary = summarize(context)
    for name, seconds in result.steps:
        say(f"  {seconds:6.1f}s  {name}")
    result.seconds = time.monotonic() - started
    return result


def _show_order_webhook(
    context: Context, serve: Callable[[Context], WebhookEndpoint], say: Callable[[str], None]
) -> None:
    """Register the first emulated channel that sends order webhooks with the web app served in the
    background, place one order on its emulator now (the order pull would not see it for a minute), and
    tell how long until its stock was set on every other channel. The subscription is removed afterwards."""
    from listing_sync.adapters.registry import adapter_class
    from listing_sync.syncer.services import webhooks

    channel = next((c for c in context.channels if c.emulated and adapter_class(c.kind).webhook_topics), None)
    if channel is None:
        say("  no emulated channel sends order webhooks: skipped")
        return
    endpoint = serve(context)
    emulator = context.hub.get(channel)
    try:
        registered = webhooks.register(context, channel.name, endpoint.url)
        sent = len(emulator.webhook_log)
        began = time.monotonic()
        placed = emulator.generate_orders(1)
        while len(emulator.webhook_log) <= sent and time.monotonic() - began < 30:
            time.sleep(0.02)
        done = endpoint.wait(60)
        seconds = time.monotonic() - began
    finally:
        emulator.forget_webhooks(endpoint.url)
        endpoint.close()
        context.hub.save()
    answered = [entry["status"] for entry in emulator.webhook_log[sent:]]
    say(
        f"  {len(registered.subscriptions)} topics registered on {channel.name}; order {', '.join(placed)} placed "
        f"now, webhook answered {', '.join(map(str, answered)) or 'nothing'}; "
        + (f"stock set on the other channels {seconds:.1f}s later" if done else "its pushes did not finish in time")
    )


PROMOTION = ("teaware", Decimal("-15"))  # category, percent: a short promotion the demo starts and ends


def _run_promotion(context: Context, scheduler: SyncScheduler, say: Callable[[str], None]) -> None:
    """Schedule a promotion one second ahead for one second, then do what the worker does at its start and
    its end (run the due scheduled changes, push), so the demo needs no worker and no waiting."""
    from listing_sync.syncer.changes import Selection
    from listing_sync.syncer.services import changes, promotions
    from listing_sync.syncer.services.sync import SyncMode

    now = datetime.now(UTC)
    request = changes.PriceAdjust(Selection(categories=[PROMOTION[0]]), percent=PROMOTION[1])
    preview = changes.preview_change(context, request)
    info = promotions.schedule_change(
        context,
        preview,
        starts_at=now + timedelta(seconds=1),
        ends_at=now + timedelta(seconds=2),
        user="demo",
        reason="demo: teaware promotion",
        command=f"price adjust --percent {PROMOTION[1]} --category {PROMOTION[0]} --from ... --until ...",
    )
    for moment in (now + timedelta(seconds=1), now + timedelta(seconds=2)):
        for ran in promotions.run_due(context, now=moment, scheduler=scheduler, sync=SyncMode.QUEUE):
            say(f"  scheduled change {info.id} {ran.action} (change set {ran.change_set})")
        scheduler.drain()


#: carriers the demo ships with, the first one each marketplace maps
DEMO_CARRIERS = ("SF", "DHL", "UPS", "EMS")


def _ship_demo_orders(context: Context, user: str):
    """Ship the oldest paid order of every channel (all its units) with a carrier that channel maps."""
    from listing_sync.adapters.registry import adapter_class
    from listing_sync.syncer.models import Channel, Order
    from listing_sync.syncer.services import shipping

    requests = []
    with context.session() as session:
        for n, channel in enumerate(context.channels, start=1):
            order = session.scalar(
                select(Order.external_id)
                .join(Channel, Channel.id == Order.channel_id)
                .where(Channel.name == channel.name, Order.status == "paid")
                .order_by(Order.placed_at, Order.id)
                .limit(1)
            )
            codes = adapter_class(channel.kind).carrier_codes
            carrier = next((c for c in DEMO_CARRIERS if c in codes), None)
            if order is not None and carrier is not None:
                requests.append(
                    shipping.ShipRequest(order, carrier, f"DEMO{n:04d}{len(order):02d}", channel=channel.name)
                )
    return shipping.ship(context, requests, user=user)


def _import_mappings(session: Session, context: Context) -> None:
    """Category and attribute mappings for the demo channels (examples/category-map.csv, attribute-map.csv)."""
    from listing_sync.syncer import mapping

    mapping.import_demo_mappings(session, context.channels, EXAMPLES)


def _start_order_cursors(context: Context, start: datetime) -> None:
    """A fresh demo has no order history to read: start each channel's order cursor shortly before now."""
    from listing_sync.adapters.base import OrderCursor
    from listing_sync.syncer.models import Channel, OrderCursorRow

    with context.session() as session:
        for channel_id in session.scalars(select(Channel.id)):
            if session.get(OrderCursorRow, channel_id) is None:
                session.add(OrderCursorRow(channel_id=channel_id, cursor=OrderCursor(start).to_json()))


def _sync_all(scheduler: SyncScheduler, context: Context) -> None:
    for channel in context.channels:
        scheduler.queue_sync(channel.name, user="demo")
    scheduler.drain()


def summarize(context: Context) -> list[dict[str, Any]]:
    from listing_sync.syncer.models import Channel, ChannelListing, Order, SyncRun

    rows = []
    with context.session() as session:
        for channel in context.channels:
            channel_id = session.scalar(select(Channel.id).where(Channel.name == channel.name))
            listings = select(func.count()).select_from(ChannelListing).where(ChannelListing.channel_id == channel_id)
            rows.append(
                {
                    "channel": channel.name,
                    "kind": channel.kind,
                    "listed": session.scalar(listings.where(ChannelListing.wanted == "active")),
                    "delisted": session.scalar(listings.where(ChannelListing.wanted == "delisted")),
                    "synced": session.scalar(listings.where(ChannelListing.status.in_(("clean", "submitted")))),
                    "calls": session.scalar(
                        select(func.coalesce(func.sum(SyncRun.api_calls), 0)).where(SyncRun.channel_id == channel_id)
                    ),
                    "orders": session.scalar(
                        select(func.count()).select_from(Order).where(Order.channel_id == channel_id)
                    ),
                    "errors": session.scalar(listings.where(ChannelListing.status.in_(("parked", "retry")))),
                }
            )
    return rows
