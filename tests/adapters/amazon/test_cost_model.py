"""Feed or per-SKU requests, by a cost model: the choice and its reason for the plan, and the estimate of
the calls each way makes (checked against the emulator)."""

from __future__ import annotations

from listing_sync.adapters.base import Money, Operation, PriceUpdate, StockUpdate

from .conftest import build


def prices(n: int) -> list[PriceUpdate]:
    return [PriceUpdate(f"S{i}", Money.of("9.99", "USD")) for i in range(n)]


def test_below_the_threshold_requests_win_and_the_plan_says_why(clock):
    adapter = build(clock, options={"feed_threshold": 50})
    note = adapter.write_path(Operation.PRICE, prices(10))
    assert note is not None and note.startswith("price: 10 per-SKU requests (~2 s at 5/s) finish before one feed")
    assert "a feed from 50 messages on" in note
    assert adapter.estimate_calls(Operation.PRICE, prices(10)) == 10


def test_from_the_threshold_on_one_feed_and_its_calls(clock):
    adapter = build(clock, options={"feed_threshold": 50, "feed_poll_seconds": 60, "feed_wait_seconds": 600})
    note = adapter.write_path(Operation.PRICE, prices(50))
    assert note is not None and note.startswith("price: one JSON_LISTINGS_FEED for 50 messages (15 calls")
    # createFeedDocument, upload, createFeed, 10 polls (600 s / 60 s), getFeedDocument, download
    assert adapter.estimate_calls(Operation.PRICE, prices(50)) == 15


def test_quantity_zero_always_goes_by_request(clock):
    adapter = build(clock, options={"feed_threshold": 2})
    updates = [StockUpdate("A", 0), StockUpdate("B", 0), StockUpdate("C", 4)]
    assert adapter.estimate_calls(Operation.STOCK, updates) == 3  # 2 zero PATCHes + 1 (below 2: no feed)
    assert adapter.write_path(Operation.STOCK, [StockUpdate("A", 0)]) is None


def test_the_estimate_is_what_the_patch_path_sends(world_factory):
    world = world_factory(options={"feed_threshold": 50})
    world.adapter.push_prices(prices(7))
    sent = [r for r in world.emulator.requests if not r.url.path.endswith("/auth/o2/token")]
    assert len(sent) == world.adapter.estimate_calls(Operation.PRICE, prices(7)) == 7
