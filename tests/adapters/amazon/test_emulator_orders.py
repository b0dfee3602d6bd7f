"""The Amazon emulator's Orders API (v2026-01-01 and v0 until its removal), getFeeds/cancelFeed and the
searchListingsItems filters, called directly with the parameters the models define."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from listing_sync.adapters.amazon.emulated_orders import V0_REMOVAL
from listing_sync.adapters.amazon.emulator import AmazonEmulator
from listing_sync.adapters.base import ListingDraft, Money, OrderCursor, StockUpdate

from tests.adapters.amazon.conftest import SELLER, T0, US

NA = "https://sellingpartnerapi-na.amazon.com"
SEARCH = f"{NA}/orders/2026-01-01/orders"
V0 = f"{NA}/orders/v0/orders"


def call(emulator: AmazonEmulator, method: str, url: str, **params: Any) -> httpx.Response:
    emulator.state["tokens"]["t"] = emulator.clock() + 3600
    request = httpx.Request(method, url, params=params, headers={"x-amz-access-token": "t"})
    return emulator.handle(request)


def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201, 202), response.text
    return json.loads(response.content) if response.content else None


def refused(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return json.loads(response.content)["errors"][0]


def since(hours: float = 2) -> str:
    return (T0 - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def shop(world_factory):
    """A world with three listed SKUs, five orders placed an hour ago, the clock 10 minutes on."""
    w = world_factory(emulator_options={"feed_seconds": 30})
    drafts = [
        ListingDraft(sku, sku, "d", "PRODUCT", Money.of(price, "USD"), 50, barcode=code)
        for sku, price, code in (("A", "10.00", "4006381333931"), ("B", "2.50", None), ("C", "7", "012345678905"))
    ]
    w.adapter.publish(drafts)
    w.clock.now += 1
    w.emulator.now = lambda: T0 - timedelta(hours=1)
    w.ids = w.emulator.generate_orders(5)
    w.emulator.now = w.clock.utc
    w.clock.now += 600
    w.emulator.requests.clear()
    return w


# ------------------------------------------------------------------------------------ searchOrders
def test_items_are_embedded_and_included_data_gates_the_rest(shop):
    emu = shop.emulator
    plain = ok(call(emu, "GET", SEARCH, lastUpdatedAfter=since()))
    assert len(plain["orders"]) == 5 and "pagination" not in plain
    first = plain["orders"][0]
    assert first["orderItems"][0]["product"]["price"]["unitPrice"]["currencyCode"] == "USD"
    assert not {"buyer", "recipient", "proceeds", "fulfillment"} & set(first)  # only what was asked for
    full = ok(call(emu, "GET", SEARCH, lastUpdatedAfter=since(), includedData="BUYER,RECIPIENT,PROCEEDS,FULFILLMENT"))
    order = full["orders"][0]
    assert (
        order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED" and order["fulfillment"]["fulfilledBy"] == "MERCHANT"
    )
    assert order["recipient"]["deliveryAddress"]["countryCode"] == "US" and order["buyer"]["buyerEmail"]
    item = order["orderItems"][0]
    unit, quantity = item["product"]["price"]["unitPrice"]["amount"], item["quantityOrdered"]
    grand = order["proceeds"]["grandTotal"]["amount"]
    assert float(grand) == pytest.approx(float(unit) * quantity + 4.99)
    assert isinstance(grand, str)  # Money.amount is a decimal string in v2026
    bad = refused(call(emu, "GET", SEARCH, lastUpdatedAfter=since(), includedData="ITEMS"))
    assert bad["code"] == "InvalidInput" and "includedData" in bad["details"]


def test_filters_status_fulfilled_by_marketplace_and_created_window(shop):
    emu = shop.emulator
    emu.set_order_status(shop.ids[0], "SHIPPED")
    emu.set_order_status(shop.ids[1], "Canceled")
    shop.clock.now += 180  # updates show once they are two minutes old
    statuses = {"fulfillmentStatuses": "SHIPPED,CANCELLED", "includedData": "FULFILLMENT"}
    found = ok(call(emu, "GET", SEARCH, lastUpdatedAfter=since(), **statuses))["orders"]
    assert sorted(o["orderId"] for o in found) == sorted(shop.ids[:2])
    assert {o["fulfillment"]["fulfillmentStatus"] for o in found} == {"SHIPPED", "CANCELLED"}
    assert ok(call(emu, "GET", SEARCH, lastUpdatedAfter=since(), fulfilledBy="AMAZON"))["orders"] == []
    assert len(ok(call(emu, "GET", SEARCH, lastUpdatedAfter=since(), fulfilledBy="MERCHANT"))["orders"]) == 5
    assert ok(call(emu, "GET", SEARCH, lastUpdatedAfter=since(), marketplaceIds="A1PA6795UKMFR9"))["orders"] == []
    created = ok(call(emu, "GET", SEARCH, createdAfter=since(), createdBefore=since(0.5)))
    assert len(created["orders"]) == 5 and created["createdBefore"] == since(0.5)
    assert ok(call(emu, "GET", SEARCH, createdAfter=since(0.5)))["orders"] == []
    # status changes are updates: the updated window moves, the created one does not
    assert len(ok(call(emu, "GET", SEARCH, lastUpdatedAfter=since(0.1)))["orders"]) == 2


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({}, "Exactly one"),
        ({"createdAfter": since(), "lastUpdatedAfter": since()}, "Exactly one"),
        ({"createdAfter": since(), "lastUpdatedBefore": since(1)}, "cannot be combined"),
        ({"lastUpdatedAfter": since(), "lastUpdatedBefore": "a minute ago"}, "two minutes"),
        ({"lastUpdatedAfter": since(1), "lastUpdatedBefore": since(2)}, "equal to or after"),
        ({"lastUpdatedAfter": "2026-11-02T10:00:00"}, "time zone"),
        ({"lastUpdatedAfter": since(), "maxResultsPerPage": "101"}, "between 1 and 100"),
        ({"lastUpdatedAfter": since(), "fulfillmentStatuses": "Shipped"}, "fulfillmentStatuses"),
    ],
)
def test_search_orders_refuses_what_the_model_forbids(shop, params, words):
    if params.get("lastUpdatedBefore") == "a minute ago":
        params = {
            **params,
            "lastUpdatedBefore": (shop.clock.utc() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    error = refused(call(shop.emulator, "GET", SEARCH, **params))
    assert error["code"] == "InvalidInput" and words in error["details"]


def test_pagination_token_expires_after_24_hours_and_binds_the_filters(shop):
    emu = shop.emulator
    query = {"lastUpdatedAfter": since(), "lastUpdatedBefore": since(0.2)}
    first = ok(call(emu, "GET", SEARCH, maxResultsPerPage="2", **query))
    token = first["pagination"]["nextToken"]
    # maxResultsPerPage and includedData may change between calls; nothing else may
    second = ok(call(emu, "GET", SEARCH, maxResultsPerPage="3", includedData="BUYER", paginationToken=token, **query))
    assert len(second["orders"]) == 3 and "pagination" not in second
    assert {o["orderId"] for o in first["orders"] + second["orders"]} == set(shop.ids)
    moved = {**query, "lastUpdatedBefore": since(0.3)}
    assert "same values" in refused(call(emu, "GET", SEARCH, paginationToken=token, **moved))["details"]
    assert "Invalid" in refused(call(emu, "GET", SEARCH, paginationToken="garbage", **query))["details"]
    shop.clock.now += 24 * 3600 + 1
    assert "expired" in refused(call(emu, "GET", SEARCH, paginationToken=token, **query))["details"]


def test_get_order_v2026(shop):
    emu = shop.emulator
    order = ok(call(emu, "GET", f"{SEARCH}/{shop.ids[2]}", includedData="FULFILLMENT"))["order"]
    assert order["orderId"] == shop.ids[2] and order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert refused(call(emu, "GET", f"{SEARCH}/000-0000000-0000000"), 404)["code"] == "NotFound"


def test_search_orders_has_its_own_quota(shop):
    answers = [call(shop.emulator, "GET", SEARCH, lastUpdatedAfter=since()) for _ in range(21)]
    assert [a.status_code for a in answers[:20]] == [200] * 20 and answers[20].status_code == 429
    assert answers[0].headers["x-amzn-RateLimit-Limit"] == "0.0056"


# ------------------------------------------------------------------------------- v0 and its removal
def test_v0_filters_are_honoured_until_the_removal_date(shop):
    emu = shop.emulator
    emu.set_order_status(shop.ids[0], "Shipped")
    shop.clock.now += 180
    base = {"MarketplaceIds": US, "LastUpdatedAfter": since()}
    shipped = ok(call(emu, "GET", V0, OrderStatuses="Shipped,Canceled", **base))["payload"]["Orders"]
    assert [o["AmazonOrderId"] for o in shipped] == [shop.ids[0]] and shipped[0]["OrderStatus"] == "Shipped"
    assert ok(call(emu, "GET", V0, FulfillmentChannels="AFN", **base))["payload"]["Orders"] == []
    assert len(ok(call(emu, "GET", V0, FulfillmentChannels="MFN", **base))["payload"]["Orders"]) == 5
    picked = ok(call(emu, "GET", V0, AmazonOrderIds=",".join(shop.ids[1:3]), **base))["payload"]["Orders"]
    assert sorted(o["AmazonOrderId"] for o in picked) == sorted(shop.ids[1:3])
    created = ok(call(emu, "GET", V0, MarketplaceIds=US, CreatedAfter=since()))["payload"]
    assert len(created["Orders"]) == 5 and "CreatedBefore" in created
    one = ok(call(emu, "GET", f"{V0}/{shop.ids[1]}"))["payload"]
    assert one["AmazonOrderId"] == shop.ids[1] and one["OrderStatus"] == "Unshipped"
    [item] = ok(call(emu, "GET", f"{V0}/{shop.ids[1]}/orderItems"))["payload"]["OrderItems"]
    assert item["ItemPrice"]["Amount"]  # the line total, as v0 gives it
    assert refused(call(emu, "GET", V0, OrderStatuses="Sent", **base))["code"] == "InvalidInput"


def test_v0_is_refused_from_its_removal_date_on_and_v2026_is_not(shop):
    emu = shop.emulator
    emu.now = lambda: V0_REMOVAL - timedelta(seconds=1)
    assert call(emu, "GET", V0, MarketplaceIds=US, LastUpdatedAfter=since()).status_code == 200
    emu.now = lambda: V0_REMOVAL
    for url, params in (
        (V0, {"MarketplaceIds": US, "LastUpdatedAfter": since()}),
        (f"{V0}/{shop.ids[0]}", {}),
        (f"{V0}/{shop.ids[0]}/orderItems", {}),
    ):
        answer = call(emu, "GET", url, **params)
        error = refused(answer, 403)
        assert error["code"] == "Unauthorized" and error["message"] == "Access to requested resource is denied."
        assert answer.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert ok(call(emu, "GET", SEARCH, lastUpdatedAfter=since()))["orders"]


def test_the_adapter_pulls_orders_after_the_v0_removal(shop):
    """The migrated pull keeps working when the emulator's clock is past 27 March 2027."""
    later = V0_REMOVAL + timedelta(days=1)
    shop.clock.now += (later - shop.clock.utc()).total_seconds()
    shop.emulator.state["orders"][shop.ids[0]]["updated"] = (later - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = shop.adapter.orders_since(OrderCursor(later - timedelta(hours=2)))
    assert page.done and [o.external_id for o in page.orders] == [shop.ids[0]]
    assert all("/orders/v0/" not in r.url.path for r in shop.emulator.requests)


def test_a_page_of_100_orders_is_one_call(world_factory):
    """Orders API v0 took 1 getOrders + 1 getOrderItems per order (101 calls per 100 orders);
    searchOrders with includedData takes one."""
    w = world_factory()
    w.adapter.publish([ListingDraft(f"S{i}", "t", "d", "PRODUCT", Money.of("3", "USD"), 10_000) for i in range(5)])
    w.clock.now += 1
    ids = w.emulator.generate_orders(250)
    w.clock.now += 600
    w.emulator.requests.clear()
    cursor, got = OrderCursor(w.clock.utc() - timedelta(hours=1)), []
    while True:
        page = w.adapter.orders_since(cursor)
        got += [o.external_id for o in page.orders]
        cursor = page.next
        if page.done:
            break
    assert sorted(got) == sorted(ids) and all(o for o in got)
    assert [r.url.path for r in w.emulator.requests] == ["/orders/2026-01-01/orders"] * 3


# ----------------------------------------------------------------------------- getFeeds, cancelFeed
def test_get_feeds_filters_pages_and_cancel_feed(world_factory):
    w = world_factory(options={"feed_threshold": 1, "feed_poll_seconds": 10, "feed_wait_seconds": 0})
    emu = w.emulator
    w.adapter.publish([ListingDraft("A", "a", "d", "PRODUCT", Money.of("1", "USD"), 1)])
    w.adapter.push_stock([StockUpdate("A", 2)])
    w.clock.now += 5
    feeds = emu.state["feeds"]
    assert len(feeds) == 2
    newest = max(feeds, key=int)
    page = ok(call(emu, "GET", f"{NA}/feeds/2021-06-30/feeds", feedTypes="JSON_LISTINGS_FEED", pageSize="1"))
    assert [f["feedId"] for f in page["feeds"]] == [newest] and page["nextToken"]
    emu.quotas["getFeeds"].observe(10)
    rest = ok(call(emu, "GET", f"{NA}/feeds/2021-06-30/feeds", nextToken=page["nextToken"]))
    assert len(rest["feeds"]) == 1 and "nextToken" not in rest
    alone = call(emu, "GET", f"{NA}/feeds/2021-06-30/feeds", nextToken=page["nextToken"], pageSize="5")
    assert "only parameter" in refused(alone)["details"]
    assert "feedTypes" in refused(call(emu, "GET", f"{NA}/feeds/2021-06-30/feeds"))["details"]
    none = call(emu, "GET", f"{NA}/feeds/2021-06-30/feeds", feedTypes="POST_PRODUCT_DATA")
    assert ok(none)["feeds"] == []

    cancelled = call(emu, "DELETE", f"{NA}/feeds/2021-06-30/feeds/{newest}")
    assert cancelled.status_code == 200 and cancelled.content == b""
    assert feeds[newest]["processingStatus"] == "CANCELLED"
    only = call(
        emu, "GET", f"{NA}/feeds/2021-06-30/feeds", feedTypes="JSON_LISTINGS_FEED", processingStatuses="CANCELLED"
    )
    assert [f["feedId"] for f in ok(only)["feeds"]] == [newest]
    w.clock.now += 60
    older = min(feeds, key=int)
    assert ok(call(emu, "GET", f"{NA}/feeds/2021-06-30/feeds/{older}"))["processingStatus"] == "DONE"
    assert "IN_QUEUE" in refused(call(emu, "DELETE", f"{NA}/feeds/2021-06-30/feeds/{older}"))["details"]


# --------------------------------------------------------------------------- searchListingsItems
def test_search_listings_identifiers_and_status_filters(shop):
    emu = shop.emulator
    base = {"marketplaceIds": US, "includedData": "summaries"}
    items = f"{NA}/listings/2021-08-01/items/{SELLER}"

    def skus(**params: str) -> list[str]:
        emu.quotas["searchListingsItems"].observe(5)
        return sorted(i["sku"] for i in ok(call(emu, "GET", items, **base, **params))["items"])

    assert skus(identifiers="A,C", identifiersType="SKU") == ["A", "C"]
    assert skus(identifiers="4006381333931", identifiersType="EAN") == ["A"]
    assert skus(identifiers="012345678905", identifiersType="UPC") == ["C"]
    asin = emu.state["listings"]["B"]["asin"]
    assert skus(identifiers=asin, identifiersType="ASIN") == ["B"]
    assert skus(withStatus="BUYABLE") == ["A", "B", "C"]
    emu.edit_listing("B", quantity=0)
    assert skus(withoutStatus="BUYABLE") == ["B"]
    assert skus(createdAfter="2030-01-01T00:00:00Z") == []
    emu.quotas["searchListingsItems"].observe(5)
    alone = call(emu, "GET", items, **base, identifiers="A")
    assert "together" in refused(alone)["details"]


def test_listing_issues_carry_their_categories(world):
    emu = world.emulator
    emu.state["tokens"]["t"] = world.clock.now + 100
    body = {"productType": "P", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability"}]}
    world.adapter.publish([ListingDraft("A", "a", "d", "PRODUCT", Money.of("1", "USD"), 1)])
    world.clock.now += 1
    request = httpx.Request(
        "PATCH",
        f"{NA}/listings/2021-08-01/items/{SELLER}/A",
        params={"marketplaceIds": US},
        json=body,
        headers={"x-amz-access-token": "t"},
    )
    answer = json.loads(emu.handle(request).content)
    assert answer["status"] == "INVALID"
    assert all(issue["categories"] for issue in answer["issues"])


@pytest.mark.parametrize(("count", "calls"), [(100, 1), (101, 2), (1000, 10)])
def test_calls_per_100_orders_through_the_adapter(world_factory, count, calls, capsys):
    """The figure for the v2026 migration (v0: 101 calls per 100 orders): the adapter's own pull, counted
    at the emulator (Orders API calls) and by the adapter (every HTTP attempt, the LWA token included)."""
    w = world_factory()
    w.adapter.publish([ListingDraft(f"S{i}", "t", "d", "PRODUCT", Money.of("3", "USD"), 10_000) for i in range(20)])
    w.clock.now += 1
    ids = w.emulator.generate_orders(count)
    w.clock.now += 600
    w.emulator.requests.clear()
    before = w.adapter.api_calls
    cursor, got = OrderCursor(w.clock.utc() - timedelta(hours=1)), []
    while True:
        page = w.adapter.orders_since(cursor)
        got += [o.external_id for o in page.orders]
        cursor = page.next
        if page.done:
            break
    orders_calls = len([r for r in w.emulator.requests if r.url.path.startswith("/orders/")])
    with capsys.disabled():
        print(f"\n{count} orders: {orders_calls} Orders API calls, {w.adapter.api_calls - before} HTTP attempts")
    assert sorted(got) == sorted(ids) and orders_calls == calls
