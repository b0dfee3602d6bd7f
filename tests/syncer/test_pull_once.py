"""Pull once per cycle: an order pull done in the last SYNCER_ORDERS_PULL_REUSE_SECONDS is not repeated
before a stock push; with 0 every stock push pulls first."""

from __future__ import annotations

from pathlib import Path

from listing_sync.syncer.models import StockLevel
from listing_sync.syncer.services import orders, sync
from scenario import build
from sqlalchemy import update


def order_queries(scenario) -> int:
    emulator = scenario.emulator("woocommerce")
    return sum(1 for r in emulator.requests if r.method == "GET" and r.url.path.endswith("/orders"))


def restock(scenario) -> None:
    from listing_sync.syncer import reconcile

    with scenario.context.session() as s:
        s.execute(update(StockLevel).where(StockLevel.sku_id == scenario.sku_id).values(on_hand=StockLevel.on_hand + 1))
        reconcile.refresh(s, scenario.context.channels, [scenario.sku_id])


def test_a_fresh_pull_is_not_repeated_before_a_stock_push(tmp_path: Path) -> None:
    scenario = build(tmp_path, ["woocommerce"], units=5)
    channel = scenario.context.channel("woocommerce")
    orders.pull_channel_orders(scenario.context, channel, user="test")
    pulled = order_queries(scenario)
    restock(scenario)
    report = sync.sync_channel(scenario.context, channel, user="test")
    assert report.ok == 1
    assert order_queries(scenario) == pulled  # the pull a moment ago counts for this push


def test_with_reuse_off_every_stock_push_pulls_first(tmp_path: Path) -> None:
    scenario = build(tmp_path, ["woocommerce"], units=5)
    scenario.context.settings.orders_pull_reuse_seconds = 0
    channel = scenario.context.channel("woocommerce")
    orders.pull_channel_orders(scenario.context, channel, user="test")
    pulled = order_queries(scenario)
    restock(scenario)
    sync.sync_channel(scenario.context, channel, user="test")
    assert order_queries(scenario) == pulled + 1


def test_a_pull_before_a_stock_push_hands_what_it_changed_to_propagate(tmp_path: Path) -> None:
    """The worker's sync job is told which SKUs the pull it made changed, to push them to the other
    channels at once (as the order job does), not at the next scheduled sync."""
    scenario = build(tmp_path, ["woocommerce", "shopify"], units=20)
    scenario.context.settings.orders_pull_reuse_seconds = 0
    scenario.sell("woocommerce")
    restock(scenario)
    told: list[list[int]] = []
    sync.sync_channel(scenario.context, scenario.context.channel("woocommerce"), user="test", propagate=told.append)
    assert told == [[scenario.sku_id]]
