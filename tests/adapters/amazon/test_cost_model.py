"""Feed or per-SKU requests, by a cost model: the choice and its reason for the plan, and the estimate of
the calls each way makes (checked against the emulator)."""

from __future__ import annotations

from listing_sync.adapters.base import Money, Operation, PriceUpdate, StockUpdate, WriteWay, cheapest_way

from .conftest import build


def prices(n: int) -> list[PriceUpdate]:
    return [PriceUpdate(f"S{i}", Money.of("9.99", "USD")) for i in range(n)]


def test_below_the_threshold_requests_win_and_the_plan_says_why(clock):
    adapter = build(clock, options={"feed_threshold": 50})
    note = adapter.write_path(Operation.PRICE, prices(10))
    assert note is not None
    assert note.startswith(
        "price: 10 per-SKU requests (~2 s at 5/s, applied in ~5 min) instead of one JSON_LISTINGS_FEED"
    )
    assert note.endswith(": feed_threshold = 50 messages")
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


# ---------------------------------------------------------------------------------- the cost model
def test_without_a_threshold_the_way_applied_first_wins_and_a_tie_goes_to_fewer_calls(clock):
    adapter = build(clock)  # feed_poll_seconds 30, feed_wait_seconds 3600: a feed is 3 + 60 + 2 = 65 calls
    way, why = adapter.write_way(7_499)  # 7,499 / 5 s + 300 s = 1,799.8 s < 1,800 s
    assert way.name == "requests" and why.endswith(": applied sooner")
    way, why = adapter.write_way(7_500)  # 1,800 s either way: the feed's 65 calls beat 7,500
    assert (way.name, way.calls) == ("feed", 65) and why.endswith(": applied as soon, in fewer calls")
    assert adapter.estimate_calls(Operation.PRICE, prices(7_500)) == 65
    assert adapter.estimate_calls(Operation.PRICE, prices(7_499)) == 7_499


def test_a_spent_create_feed_quota_delays_the_feed_so_requests_win(clock):
    adapter = build(clock)
    quota = adapter.http.limiter("create_feed")
    while quota.try_acquire(1):  # five feeds just sent: the next one waits ~2 min (0.0083/s)
        pass
    way, why = adapter.write_way(7_600)  # requests 1,520 + 300 s < 120 + 1,800 s
    assert way.name == "requests"
    assert "of it waiting for the createFeed quota" in why and why.endswith(": applied sooner")


def test_requests_over_the_days_budget_go_by_feed_whatever_the_size(clock):
    adapter = build(clock, options={"daily_request_budget": 1_000})
    adapter.seed_revisions({"A": 900, "B": 50})  # 950 pushes recorded today: 50 requests left
    way, why = adapter.write_way(60)
    assert way.name == "feed" and "the requests do not fit the day's budget; 50 of the day's 1000" in why
    assert adapter.write_way(40)[0].name == "requests"
    note = adapter.write_path(Operation.PRICE, prices(60))
    assert note is not None and note.startswith("price: one JSON_LISTINGS_FEED for 60 messages")


def test_the_plan_seeds_the_days_pushes_only_where_a_budget_is_set(clock):
    assert build(clock).daily_call_budget is None
    assert build(clock, options={"daily_request_budget": 5}).daily_call_budget == 5


def test_cheapest_way_prefers_what_fits_then_the_soonest_then_fewer_calls():
    fast_big = WriteWay("requests", 500, 100.0, budget_left=100)
    slow_small = WriteWay("feed", 65, 1_800.0)
    assert cheapest_way([fast_big, slow_small]) is slow_small  # the fast way does not fit the budget
    assert cheapest_way([WriteWay("requests", 500, 100.0), slow_small]).name == "requests"
    tie = WriteWay("requests", 500, 1_800.0)
    assert cheapest_way([tie, slow_small]) is slow_small
    neither = [WriteWay("requests", 500, 100.0, 10), WriteWay("feed", 65, 1_800.0, 10)]
    assert cheapest_way(neither).name == "feed"  # none fits: the fewest calls
