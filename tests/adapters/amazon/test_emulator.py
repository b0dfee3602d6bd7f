"""The adapter against its emulator: every operation end to end, read-back, orders to the last page, faults."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from listing_sync.adapters.amazon.emulator import AmazonEmulator
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    Money,
    OrderCursor,
    PermanentItemError,
    PriceUpdate,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.emulator import Faults

from tests.adapters.amazon.conftest import CREDS, SELLER


def catalog() -> list[ListingDraft]:
    tee = ListingDraft(
        "TEE",
        "Tee",
        "Cotton tee",
        "SHIRT",
        Money.of("10", "USD"),
        0,
        variations=(
            Variation("TEE-S", Money.of("10.00", "USD"), 3, {"Size": "S"}),
            Variation("TEE-M", Money.of("11.50", "USD"), 5, {"Size": "M"}),
        ),
    )
    bag = ListingDraft("BAG", "Bag", "Hard shell", "LUGGAGE", Money.of("89.50", "USD"), 4)
    return [bag, tee]


def settle(world) -> None:
    world.clock.now += 1  # ACCEPTED submissions apply after the emulator's processing delay


@pytest.mark.parametrize("threshold", [25_000, 1], ids=["patch", "feed"])
def test_full_listing_lifecycle(world_factory, threshold):
    w = world_factory(options={"feed_threshold": threshold, "feed_poll_seconds": 10})
    a, emu = w.adapter, w.emulator
    published = a.publish(catalog())
    assert [r.ok for r in published] == [True, True]
    expected_state = "applied" if threshold == 1 else "submitted"
    assert {r.state for r in published} == {expected_state}
    settle(w)
    assert emu.listing_state("TEE-M") == {"price": "11.50", "quantity": 5, "productType": "SHIRT"}
    assert emu.state["listings"]["TEE"]["attributes"]["parentage_level"][0]["value"] == "parent"

    assert all(r.ok for r in a.push_prices([PriceUpdate("BAG", Money.of("79.99", "USD"))]))
    assert all(r.ok for r in a.push_stock([StockUpdate("BAG", 9), StockUpdate("TEE-S", 1)]))
    settle(w)
    assert emu.listing_state("BAG") == {"price": "79.99", "quantity": 9, "productType": "LUGGAGE"}
    assert emu.listing_state("TEE-S")["quantity"] == 1

    assert all(r.ok for r in a.delist([DelistRequest("BAG")]))
    settle(w)
    assert emu.listing_state("BAG")["quantity"] == 0  # offer kept
    assert emu.listing_state("BAG")["price"] == "79.99"
    assert all(r.ok for r in a.relist([DelistRequest("BAG", quantity=6)]))
    settle(w)
    assert emu.listing_state("BAG")["quantity"] == 6

    remote = {r.sku: r for r in a.listings()}
    assert set(remote) == {"BAG", "TEE", "TEE-S", "TEE-M"}
    assert remote["BAG"].price == Money.of("79.99", "USD") and remote["BAG"].quantity == 6
    assert remote["BAG"].status == "active" and remote["BAG"].ref.external_id.startswith("B0")
    assert a.listing("TEE-M").price == Money.of("11.50", "USD")
    assert a.listing("NOPE") is None


def test_submitted_until_amazon_applies_it(world_factory):
    """ACCEPTED is asynchronous: read-back shows the old value until processing is over."""
    w = world_factory(emulator_options={"apply_delay": 120})
    w.adapter.publish([catalog()[0]])
    w.clock.now += 121
    [result] = w.adapter.push_prices([PriceUpdate("BAG", Money.of("50", "USD"))])
    assert result.state == "submitted"
    assert w.adapter.listing("BAG").price == Money.of("89.50", "USD")
    w.clock.now += 121
    assert w.adapter.listing("BAG").price == Money.of("50.00", "USD")


def test_delete_mode(world_factory):
    w = world_factory(options={"delist_mode": "delete"})
    w.adapter.publish([catalog()[0]])
    settle(w)
    assert w.adapter.delist([DelistRequest("BAG")])[0].ok
    settle(w)
    assert w.emulator.listing_state("BAG") is None
    assert w.adapter.relist([DelistRequest("BAG", quantity=1)])[0].code == "unsupported"


def test_orders_to_the_last_page(world_factory):
    w = world_factory()
    w.adapter.publish(catalog())
    settle(w)
    ids = w.emulator.generate_orders(150)
    assert 6 <= len(ids) <= 12  # limited by stock: 4 + 3 + 5 units, 1-2 per order
    w.clock.now += 600
    got, pages = {}, 0
    cursor = OrderCursor(w.clock.utc() - timedelta(hours=1))
    while True:
        page = w.adapter.orders_since(cursor)
        pages += 1
        got.update({o.external_id: o for o in page.orders})
        cursor = page.next
        if page.done:
            break
    assert set(got) == set(ids)
    first = got[ids[0]]
    assert (
        first.status.value == "paid" and first.ship_country == "US" and first.lines[0].sku in {"BAG", "TEE-S", "TEE-M"}
    )
    assert sum(ln.quantity for o in got.values() for ln in o.lines) == 4 + 3 + 5
    assert w.emulator.listing_state("BAG")["quantity"] == 0  # decremented marketplace-side

    w.emulator.set_order_status(ids[0], "Canceled")
    w.clock.now += 300
    page = w.adapter.orders_since(cursor)
    assert [o.external_id for o in page.orders] == [ids[0]]
    assert page.orders[0].status.value == "cancelled"


def test_orders_page_through_next_token(world_factory):
    w = world_factory()
    w.adapter.publish([ListingDraft("BULK", "b", "d", "PRODUCT", Money.of("1", "USD"), 500)])
    settle(w)
    ids = w.emulator.generate_orders(230)
    w.clock.now += 600
    cursor = OrderCursor(w.clock.utc() - timedelta(hours=1))
    seen, pages = [], 0
    while True:
        page = w.adapter.orders_since(cursor)
        pages += 1
        seen += [o.external_id for o in page.orders]
        if page.done:
            break
        assert page.next.page is not None and page.next.until is not None
        if cursor.until is not None:
            assert page.next.until == cursor.until  # the window stays fixed while paging
        cursor = page.next
    assert pages == 3 and sorted(seen) == sorted(ids)


def test_back_office_edit_shows_up_in_read_back(world):
    world.adapter.publish([catalog()[0]])
    settle(world)
    world.emulator.edit_listing("BAG", price="70.00", quantity=2)
    [bag] = list(world.adapter.listings())
    assert bag.price == Money.of("70.00", "USD") and bag.quantity == 2


def test_expired_token_mid_job_is_refreshed(world):
    world.adapter.publish([catalog()[0]])
    world.emulator.expire_tokens()
    [result] = world.adapter.push_stock([StockUpdate("BAG", 2)])
    assert result.ok
    tokens = [r for r in world.emulator.requests if r.url.path.endswith("/auth/o2/token")]
    assert len(tokens) == 2


def test_wrong_refresh_token_is_an_auth_error(clock):
    from tests.adapters.amazon.conftest import build

    emulator = AmazonEmulator(credentials=dict(CREDS), options={"seller_id": SELLER}, clock=clock, now=clock.utc)
    bad = {**CREDS, "refresh_token": "Atzr|revoked"}
    adapter = build(clock, transport=emulator.transport(), base_url="emulator:", credentials=bad)
    [result] = adapter.push_stock([StockUpdate("BAG", 2)])
    assert result.code == "invalid_grant" and not result.retryable


def test_emulator_throttles_with_quota_exceeded_and_adapter_limiter_avoids_it(world):
    world.adapter.publish([catalog()[0]])
    settle(world)
    results = world.adapter.push_stock([StockUpdate("BAG", n) for n in range(30)])
    assert all(r.ok for r in results)
    throttles = [r for r in world.emulator.requests if r.method == "PATCH"]
    assert len(throttles) == 30  # no 429 needed: the limiter spaced the calls (fake time)
    assert world.clock.now - 1000 >= (30 - 5) / 5


def test_emulator_throttle_body(world):
    emulator: AmazonEmulator = world.emulator
    emulator.state["tokens"]["t"] = world.clock.now + 100
    request = httpx.Request(
        "GET",
        "https://sellingpartnerapi-na.amazon.com/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&LastUpdatedAfter=2026-01-01T00:00:00Z",
        headers={"x-amz-access-token": "t"},
    )
    answers = [emulator.handle(request) for _ in range(21)]
    assert [r.status_code for r in answers[:20]] == [200] * 20
    last = answers[20]
    assert last.status_code == 429 and "Retry-After" not in last.headers
    assert json.loads(last.content)["errors"][0]["code"] == "QuotaExceeded"


def test_emulator_rejects_recent_last_updated_before(world):
    emulator = world.emulator
    emulator.state["tokens"]["t"] = world.clock.now + 100
    before = (world.clock.utc() - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    request = httpx.Request(
        "GET",
        "https://sellingpartnerapi-na.amazon.com/orders/v0/orders",
        params={
            "MarketplaceIds": "ATVPDKIKX0DER",
            "LastUpdatedAfter": "2026-01-01T00:00:00Z",
            "LastUpdatedBefore": before,
        },
        headers={"x-amz-access-token": "t"},
    )
    answer = emulator.handle(request)
    assert answer.status_code == 400 and json.loads(answer.content)["errors"][0]["code"] == "InvalidInput"


@pytest.mark.parametrize("threshold", [25_000, 1], ids=["patch", "feed"])
def test_partial_failures_are_per_item(world_factory, threshold):
    w = world_factory(options={"feed_threshold": threshold, "feed_poll_seconds": 10})
    w.adapter.publish([ListingDraft(f"S{i}", "t", "d", "PRODUCT", Money.of("1", "USD"), 1) for i in range(20)])
    settle(w)
    w.emulator.faults = Faults(partial=0.3)
    results = w.adapter.push_stock([StockUpdate(f"S{i}", 7) for i in range(20)])
    failed = [r for r in results if not r.ok]
    assert 0 < len(failed) < 20 and [r.sku for r in results] == [f"S{i}" for i in range(20)]
    assert all(r.message for r in failed)
    settle(w)
    for r in results:
        assert (w.emulator.listing_state(r.sku)["quantity"] == 7) == r.ok


def test_throttle_and_server_error_faults_are_retried(world_factory):
    w = world_factory(faults=Faults(throttle=0.2, server_error=0.1), seed=11)
    results = w.adapter.publish(
        [ListingDraft(f"S{i}", "t", "d", "PRODUCT", Money.of("1", "USD"), 1) for i in range(15)]
    )
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    statuses = [r.url.path for r in w.emulator.requests]
    assert len(statuses) > 16  # some were answered 429/503 and sent again


def test_feed_with_invalid_document_is_fatal(world_factory):
    w = world_factory(options={"feed_threshold": 1, "feed_poll_seconds": 10})
    w.adapter.publish([catalog()[0]])
    w.adapter.options.seller_id = "SOMEONE-ELSE"  # the header names another seller: whole feed refused
    results = w.adapter.push_stock([StockUpdate("BAG", 1)])
    assert results[0].code == "feed_fatal" and results[0].retryable


def test_served_over_loopback(clock):
    """``syncer emulator serve amazon``: same adapter, base_url pointing at the served emulator."""
    from tests.adapters.amazon.conftest import build

    emulator = AmazonEmulator(
        credentials=dict(CREDS), options={"seller_id": SELLER, "feed_seconds": 0}, clock=clock, now=clock.utc
    )
    server = emulator.serve()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        adapter = build(clock, base_url=url, options={"feed_threshold": 2, "feed_poll_seconds": 1})
        assert adapter.publish([catalog()[0]])[0].ok
        settle_clock = clock.now + 1
        clock.now = settle_clock
        results = adapter.push_stock([StockUpdate("BAG", 2), StockUpdate("NOPE", 1)])
        # a quantity for a SKU Amazon does not know is accepted too: it makes an offer-only listing
        # (selling-partner-api-docs#3748), never discoverable; read-back shows what became of it
        assert [(r.ok, r.state) for r in results] == [(True, "applied"), (True, "applied")]
        assert emulator.listing_state("BAG")["quantity"] == 2
        nope = next(x for x in adapter.listings() if x.sku == "NOPE")
        assert nope.status == "inactive" and nope.quantity == 1 and nope.ref.external_id is None
        adapter.close()
    finally:
        server.shutdown()
        server.server_close()


def test_hub_built_emulator_for_a_german_channel():
    """The hub passes the channel's options (country code) to the emulator; the adapter talks EU/EUR."""
    from listing_sync.adapters.emulator import EmulatorHub
    from listing_sync.adapters.registry import build_adapter

    from tests.conftest import make_channel

    channel = make_channel(
        "amazon",
        name="amazon-de",
        currency="EUR",
        credentials=dict(CREDS),
        options={"seller_id": SELLER, "marketplace": "DE"},
        base_url="emulator:",
    )
    hub = EmulatorHub()
    adapter = build_adapter(channel, hub=hub, sleep=lambda s: None)
    emulator = hub.get(channel)
    assert adapter.base_url() == "https://sellingpartnerapi-eu.amazon.com"
    [result] = adapter.publish(
        [ListingDraft("KOFFER", "Koffer", "Hart", "LUGGAGE", Money.of("59.90", "EUR"), 2, language="de")]
    )
    assert result.ok
    [remote] = list(adapter.listings())
    assert remote.price == Money.of("59.90", "EUR") and remote.quantity == 2
    assert emulator.state["listings"]["KOFFER"]["attributes"]["item_name"][0]["language_tag"] == "de_DE"


def test_listings_read_back_beyond_the_1000_item_search_cap(world):
    """searchListingsItems pages through at most 1,000 SKUs; the adapter restarts at the last createdDate."""
    listings = world.emulator.state["listings"]
    for n in range(1_050):
        created = f"2026-01-01T{n // 3600:02d}:{n // 60 % 60:02d}:{n // 2 % 60:02d}Z"  # two SKUs per second
        listings[f"S{n:04d}"] = {
            "productType": "PRODUCT",
            "attributes": {"fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": n}]},
            "asin": f"B0{n:08d}",
            "created": created,
            "updated": created,
        }
    got = [r.sku for r in world.adapter.listings()]
    assert len(got) == 1_050 and len(set(got)) == 1_050
    searches = [r for r in world.emulator.requests if r.url.path.endswith(SELLER)]
    assert any("createdAfter" in r.url.params for r in searches)


def test_a_full_25000_message_feed_is_fast_and_mapped_per_item(world_factory):
    w = world_factory(options={"feed_threshold": 1, "feed_poll_seconds": 10}, emulator_options={"gzip_reports": False})
    for n in range(25_000):
        w.emulator.state["listings"][f"S{n}"] = {
            "productType": "PRODUCT",
            "attributes": {},
            "asin": f"B{n:09d}",
            "created": "2026-01-01T00:00:00Z",
            "updated": "2026-01-01T00:00:00Z",
        }
    messages = iter(range(25_000))
    w.emulator.item_fails = lambda: next(messages) == 24_999  # Amazon refuses the last message only
    results = w.adapter.push_stock([StockUpdate(f"S{n}", 1) for n in range(25_000)])
    assert len(results) == 25_000 and sum(r.ok for r in results) == 24_999
    assert results[-1].sku == "S24999" and not results[-1].ok and "batteries_required" in results[-1].message
    assert w.emulator.state["listings"]["S24998"]["attributes"]["fulfillment_availability"][0]["quantity"] == 1


def test_feeds_sent_leave_bounded_state_in_the_emulator(world_factory):
    """A processed feed's input document is dropped and at most ``keep_feeds`` feeds (with their reports)
    are kept, the oldest first forgotten: what the emulator stores does not grow with the feeds sent (the
    100,000-SKU bench publish kept four 25,000-message documents, ~0.4 GB, until the run ended)."""
    w = world_factory(options={"feed_threshold": 1, "feed_poll_seconds": 10}, emulator_options={"keep_feeds": 4})
    skus = [f"S{n:03d}" for n in range(200)]
    w.adapter.publish([ListingDraft(sku, "t", "d", "PRODUCT", Money.of("1", "USD"), 1) for sku in skus])
    state = w.emulator.state

    def stored() -> int:
        return len(json.dumps(state["documents"])) + len(json.dumps(state["feeds"]))

    first_feed = next(iter(state["feeds"]))
    uploaded = [r for r in w.emulator.requests if r.method == "PUT" and "/NinetyDays/" in r.url.path]
    document_bytes = len(uploaded[0].content)
    assert document_bytes > 20_000  # 200 messages
    after: list[int] = []
    for quantity in range(2, 14):
        results = w.adapter.push_stock([StockUpdate(sku, quantity) for sku in skus])
        assert all(r.ok and r.state == "applied" for r in results)  # each report was still there to read
        after.append(stored())
    assert w.emulator.listing_state("S199")["quantity"] == 13
    assert len(state["feeds"]) == 4 and first_feed not in state["feeds"]
    assert max(after) < document_bytes  # 13 documents were uploaded; not one of them is kept whole
    assert after[-1] <= after[3] + 200  # flat once keep_feeds is reached (ids and times may differ in length)
    assert all(d["content"] is None for d in state["documents"].values() if d.get("processedBy"))

    w.clock.now += 91 * 86_400  # Amazon retains feeds 90 days: the next feed is alone with its own
    w.adapter.push_stock([StockUpdate(sku, 1) for sku in skus])
    assert len(state["feeds"]) == 1 and len(state["documents"]) == 2


def test_a_processed_feeds_input_document_is_gone_and_its_report_stays(world_factory):
    w = world_factory(options={"feed_threshold": 1, "feed_poll_seconds": 10})
    w.adapter.push_stock([StockUpdate("BAG", 1)])
    [feed] = w.emulator.state["feeds"].values()
    get = w.adapter.http.get  # the adapter's own HTTP layer: its token and limiters
    with pytest.raises(PermanentItemError, match="keeps no input document once its feed .* is processed"):
        get(f"/feeds/2021-06-30/documents/{feed['document']}", limiter="feed_result")
    report = get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}", limiter="feed_result")
    assert report.json()["feedDocumentId"] == feed["resultFeedDocumentId"]
