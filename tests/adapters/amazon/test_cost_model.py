"""Feed or per-SKU requests, by a cost model: the choice and its reason for the plan, and the estimate of
the calls each way makes (checked against the emulator)."""

from __future__ import annotations

from listing_sync.adapters.amazon import adapter as amazon_adapter
from listing_sync.adapters.amazon.adapter import AmazonAdapter, poll_times, polls
from listing_sync.adapters.base import Money, Operation, PriceUpdate, StockUpdate, WriteWay, cheapest_way
from listing_sync.adapters.ratelimits import LocalLimits
from listing_sync.adapters.tokens import FileTokenCache, process_cache

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
    assert note is not None and note.startswith("price: one JSON_LISTINGS_FEED for 50 messages (9 calls")
    # createFeedDocument, upload, createFeed, polls at 60, 180, 420 and 600 s (the wait ends before the
    # expected ~30 min), getFeedDocument, download
    assert adapter.estimate_calls(Operation.PRICE, prices(50)) == 9


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
    # feed_poll_seconds 30, feed_wait_seconds 3600, ~30 min expected: polls at 30, 90, 210, then every
    # 120 s to 1,890 s (17), so a feed is 3 + 17 + 2 = 22 calls
    adapter = build(clock)
    way, why = adapter.write_way(7_499)  # 7,499 / 5 s + 300 s = 1,799.8 s < 1,800 s
    assert way.name == "requests" and why.endswith(": applied sooner")
    way, why = adapter.write_way(7_500)  # 1,800 s either way: the feed's 22 calls beat 7,500
    assert (way.name, way.calls) == ("feed", 22) and why.endswith(": applied as soon, in fewer calls")
    assert adapter.estimate_calls(Operation.PRICE, prices(7_500)) == 22
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


# ---------------------------------------------------------------------------------- feed polls
def test_polls_back_off_so_a_long_feed_takes_a_bounded_few():
    assert list(poll_times(30, 600)) == [30, 90, 210, 330, 450, 570, 600]  # doubling up to 4 x 30 s, then 120 s
    assert list(poll_times(30, 0)) == [0]  # no wait: one look at once
    assert polls(30, 3600, 60) == 2  # the emulator's 60 s feed: IN_PROGRESS at 30 s, DONE at 90 s
    assert polls(30, 3600, 1800) == 17  # Amazon's ~30 min: one poll every 30 s made 60
    assert polls(30, 600, 1800) == 7  # not done by the wait: the last poll is at the wait


def test_the_estimate_follows_the_feed_times_observed(world_factory):
    """Before any feed the estimate expects Amazon's ~30 min (17 polls); once a feed was seen to finish
    (the emulator's takes 60 s: polls at 30 and 90 s) the next feed's estimate is exactly what it sends."""
    world = world_factory(options={"feed_threshold": 2})
    assert world.adapter.expected_feed_seconds() == 1800
    assert world.adapter.estimate_calls(Operation.PRICE, prices(3)) == 3 + 17 + 2

    def sent(push) -> int:
        before = len(world.emulator.requests)
        assert all(r.ok for r in push())
        return sum(1 for r in world.emulator.requests[before:] if not r.url.path.endswith("/auth/o2/token"))

    first = sent(lambda: world.adapter.push_prices(prices(3)))
    assert first == 3 + 2 + 2
    assert world.adapter.expected_feed_seconds() == 90
    predicted = world.adapter.estimate_calls(Operation.PRICE, prices(4))
    assert predicted == sent(lambda: world.adapter.push_prices(prices(4))) == 7


def test_a_new_process_starts_from_the_feed_time_another_one_saw(world_factory, tmp_path):
    """Each ``syncer sync --dry-run`` and each worker is a new process: the feed time seen is kept with the
    credential in the token store (here a file, as in the data directory), not only in memory."""
    world = world_factory(options={"feed_threshold": 2})
    store = FileTokenCache(tmp_path)
    channel = world.adapter.channel

    def adapter() -> AmazonAdapter:  # another process: limiters of its own, the shared token file
        return AmazonAdapter(
            channel,
            transport=world.emulator.transport(),
            clock=world.clock,
            sleep=world.clock.sleep,
            now=world.clock.utc,
            tokens=store,
            limits=LocalLimits(),
        )

    first = adapter()
    assert first.expected_feed_seconds() == 1800  # nothing seen yet
    assert all(r.ok for r in first.push_prices(prices(3)))
    assert first.expected_feed_seconds() == 90
    later = adapter()
    assert later.expected_feed_seconds() == 90
    assert later.estimate_calls(Operation.PRICE, prices(3)) == 3 + 2 + 2
    kept = tmp_path / f"{first._feed_key()}.json"  # beside the LWA token, a digest of the credential
    assert kept.stat().st_mode & 0o777 == 0o600 and "90.000" in kept.read_text()


def test_a_stored_feed_time_that_is_not_a_number_is_ignored(world_factory):
    world = world_factory(options={"feed_threshold": 2})
    adapter = world.adapter
    process_cache().put(adapter._feed_key(), "soon", 4e9)
    assert adapter.expected_feed_seconds() == 1800


def test_a_batch_over_a_feeds_message_limit_goes_as_several_feeds(world_factory, monkeypatch):
    """listings-feed-schema-v2 takes at most 25,000 messages: a larger batch (a direct caller; the syncer
    chunks by the declared limits) is sent as several feeds, each within it, not one that comes back FATAL."""
    monkeypatch.setattr(amazon_adapter, "FEED_MAX_MESSAGES", 3)
    world = world_factory(options={"feed_threshold": 2})
    created = len([r for r in world.emulator.requests if r.method == "POST" and r.url.path.endswith("/feeds")])
    results = world.adapter.push_stock([StockUpdate(f"S{i}", 5) for i in range(7)])
    assert [r.ok for r in results] == [True] * 7
    feeds = [r for r in world.emulator.requests if r.method == "POST" and r.url.path.endswith("/feeds")]
    assert len(feeds) - created == 3  # 3 + 3 + 1 messages
    assert world.adapter.estimate_calls(Operation.STOCK, [StockUpdate(f"S{i}", 5) for i in range(7)]) == 3 * (3 + 2 + 2)
