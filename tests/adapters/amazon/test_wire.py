"""Exact requests of every operation, with expected values written from the SP-API documentation
(overseas-apis.md section 2 and the official models), not from the adapter's output."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    ListingRef,
    Money,
    OrderCursor,
    PriceUpdate,
    RequestRejected,
    SaleWindow,
    StockUpdate,
    TransientError,
    UnexpectedResponse,
    Variation,
)

from tests.adapters.amazon.conftest import CREDS, SELLER, T0, US, build

NA = "https://sellingpartnerapi-na.amazon.com"
LWA = "https://api.amazon.com/auth/o2/token"
ITEM = f"{NA}/listings/2021-08-01/items/{SELLER}"
S3 = "https://tortuga-prod-na.s3-external-1.amazonaws.com/NinetyDays/amzn1.tortuga.4.na.doc1?X-Amz-Signature=abc"
TOKEN = "Atza|access-token-0001"


def body(request: httpx.Request) -> object:
    return json.loads(request.content, parse_float=Decimal)


def accepted(sku: str) -> httpx.Response:
    return httpx.Response(200, json={"sku": sku, "status": "ACCEPTED", "submissionId": "sub-" + sku, "issues": []})


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        router.post(LWA).respond(200, json={"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600})
        yield router


def test_token_refresh_request_and_headers_on_every_call(api, clock):
    route = api.patch(f"{ITEM}/SKU-1").mock(return_value=accepted("SKU-1"))
    adapter = build(clock)
    adapter.push_stock([StockUpdate("SKU-1", 3)])
    adapter.push_stock([StockUpdate("SKU-1", 4)])
    token_calls = [c for c in api.calls if c.request.url == LWA]
    assert len(token_calls) == 1  # cached for its hour
    grant = token_calls[0].request
    assert grant.method == "POST"
    assert grant.headers["Content-Type"] == "application/x-www-form-urlencoded;charset=UTF-8"
    assert {k: v[0] for k, v in parse_qs(grant.content.decode()).items()} == {
        "grant_type": "refresh_token",
        "refresh_token": CREDS["refresh_token"],
        "client_id": CREDS["client_id"],
        "client_secret": CREDS["client_secret"],
    }
    sent = route.calls[0].request
    assert sent.headers["x-amz-access-token"] == TOKEN
    assert "authorization" not in sent.headers
    assert re.fullmatch(r"\d{8}T\d{6}Z", sent.headers["x-amz-date"])
    assert sent.headers["user-agent"].startswith("listing-sync/")


def test_token_is_renewed_after_its_hour(api, clock):
    api.patch(f"{ITEM}/SKU-1").mock(return_value=accepted("SKU-1"))
    adapter = build(clock)
    adapter.push_stock([StockUpdate("SKU-1", 3)])
    clock.now += 3500  # inside the 5-minute renewal margin of the 3600 s token
    adapter.push_stock([StockUpdate("SKU-1", 3)])
    assert len([c for c in api.calls if c.request.url == LWA]) == 2


def test_push_price_is_a_purchasable_offer_replace(api, clock):
    route = api.patch(f"{ITEM}/SKU%2F1").mock(return_value=accepted("SKU/1"))
    [result] = build(clock).push_prices([PriceUpdate("SKU/1", Money.of("19.99", "USD"))])
    request = route.calls[0].request
    assert request.method == "PATCH"
    assert request.url.raw_path.decode() == f"/listings/2021-08-01/items/{SELLER}/SKU%2F1?marketplaceIds={US}"
    assert request.headers["Content-Type"] == "application/json"
    assert body(request) == {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/purchasable_offer",
                "value": [
                    {
                        "marketplace_id": US,
                        "currency": "USD",
                        "audience": "ALL",
                        "our_price": [{"schedule": [{"value_with_tax": Decimal("19.99")}]}],
                    }
                ],
            }
        ],
    }
    assert b'"value_with_tax":19.99' in request.content  # a JSON number, as in Amazon's example
    assert result.ok and result.state == "submitted"
    assert result.ref is not None and result.ref.get("submission_id") == "sub-SKU/1"


def test_a_promotion_goes_ahead_as_a_discounted_price_schedule(api, clock):
    route = api.patch(f"{ITEM}/SKU%2F1").mock(return_value=accepted("SKU/1"))
    sale = SaleWindow(
        Money.of("14.99", "USD"), datetime(2026, 11, 10, 16, tzinfo=UTC), datetime(2026, 11, 11, 16, tzinfo=UTC)
    )
    [result] = build(clock).push_prices([PriceUpdate("SKU/1", Money.of("19.99", "USD"), sale=sale)])
    assert body(route.calls[0].request)["patches"] == [
        {
            "op": "replace",
            "path": "/attributes/purchasable_offer",
            "value": [
                {
                    "marketplace_id": US,
                    "currency": "USD",
                    "audience": "ALL",
                    "our_price": [{"schedule": [{"value_with_tax": Decimal("19.99")}]}],
                    "discounted_price": [
                        {
                            "schedule": [
                                {
                                    "start_at": "2026-11-10T16:00:00Z",
                                    "end_at": "2026-11-11T16:00:00Z",
                                    "value_with_tax": Decimal("14.99"),
                                }
                            ]
                        }
                    ],
                }
            ],
        }
    ]
    assert result.ok and result.state == "submitted"


def test_a_sale_price_in_another_currency_is_refused_before_sending(api, clock):
    sale = SaleWindow(Money.of("9", "EUR"), datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 11, tzinfo=UTC))
    [result] = build(clock).push_prices([PriceUpdate("SKU/1", Money.of("19.99", "USD"), sale=sale)])
    assert not result.ok and result.code == "currency_mismatch" and not api.calls


def test_price_patch_uses_product_type_from_ref(api, clock):
    route = api.patch(f"{ITEM}/A").mock(return_value=accepted("A"))
    ref = ListingRef("A", "B0ASIN", {"product_type": "LUGGAGE"})
    build(clock).push_prices([PriceUpdate("A", Money.of("5", "USD"), ref=ref)])
    assert body(route.calls[0].request)["productType"] == "LUGGAGE"


def test_jpy_price_on_the_far_east_host_is_a_whole_number(api, clock):
    route = api.patch(f"https://sellingpartnerapi-fe.amazon.com/listings/2021-08-01/items/{SELLER}/J1").mock(
        return_value=accepted("J1")
    )
    adapter = build(clock, options={"marketplace": "JP"}, currency="JPY")
    adapter.push_prices([PriceUpdate("J1", Money.of("1200", "JPY"))])
    request = route.calls[0].request
    assert request.url.params["marketplaceIds"] == "A1VC38T7YXB528"
    assert b'"value_with_tax":1200}' in request.content
    assert body(request)["patches"][0]["value"][0]["currency"] == "JPY"


def test_push_stock_is_a_merge_on_the_default_channel(api, clock):
    route = api.patch(f"{ITEM}/SKU-1").mock(return_value=accepted("SKU-1"))
    [result] = build(clock).push_stock([StockUpdate("SKU-1", 10, expected=12)])
    assert body(route.calls[0].request) == {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 10}],
            }
        ],
    }
    assert result.state == "submitted"


def test_delist_sets_quantity_zero_and_relist_puts_it_back(api, clock):
    route = api.patch(f"{ITEM}/SKU-1").mock(return_value=accepted("SKU-1"))
    adapter = build(clock)
    [off] = adapter.delist([DelistRequest("SKU-1")])
    [on] = adapter.relist([DelistRequest("SKU-1", quantity=6)])
    quantities = [body(c.request)["patches"][0]["value"][0]["quantity"] for c in route.calls]
    assert quantities == [0, 6]
    assert off.state == on.state == "submitted"
    [missing] = adapter.relist([DelistRequest("SKU-1")])
    assert not missing.ok and missing.code == "relist_needs_quantity"


def test_delist_by_delete(api, clock):
    route = api.delete(f"{ITEM}/SKU-1").mock(return_value=accepted("SKU-1"))
    adapter = build(clock, options={"delist_mode": "delete"})
    [result] = adapter.delist([DelistRequest("SKU-1")])
    request = route.calls[0].request
    assert request.method == "DELETE" and request.url.params["marketplaceIds"] == US
    assert request.content == b""
    assert result.state == "submitted"
    [back] = adapter.relist([DelistRequest("SKU-1", quantity=3)])
    assert back.code == "unsupported"


def draft(**overrides) -> ListingDraft:
    values = dict(
        sku="BAG-1",
        title="Carry-on spinner",
        description="Hard shell",
        category_id="LUGGAGE",
        price=Money.of("89.50", "USD"),
        quantity=7,
        attributes={"color": ("Black",)},
        images=("https://img.example/bag.jpg",),
        brand="Acme",
    )
    values.update(overrides)
    return ListingDraft(**values)


def test_publish_puts_the_listing_with_product_type_and_attributes(api, clock):
    route = api.put(f"{ITEM}/BAG-1").mock(return_value=accepted("BAG-1"))
    [result] = build(clock).publish([draft()])
    request = route.calls[0].request
    assert request.method == "PUT" and request.url.params["marketplaceIds"] == US
    sent = body(request)
    assert sent["productType"] == "LUGGAGE" and sent["requirements"] == "LISTING"
    attrs = sent["attributes"]
    assert attrs["item_name"] == [{"value": "Carry-on spinner", "language_tag": "en_US", "marketplace_id": US}]
    assert attrs["brand"] == [{"value": "Acme", "language_tag": "en_US", "marketplace_id": US}]
    assert attrs["color"] == [{"value": "Black", "marketplace_id": US}]
    assert attrs["condition_type"] == [{"value": "new_new", "marketplace_id": US}]
    assert attrs["main_product_image_locator"] == [
        {"media_location": "https://img.example/bag.jpg", "marketplace_id": US}
    ]
    assert attrs["purchasable_offer"][0]["our_price"] == [{"schedule": [{"value_with_tax": Decimal("89.50")}]}]
    assert attrs["fulfillment_availability"] == [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]
    assert result.ok and result.state == "submitted"
    assert result.ref.get("product_type") == "LUGGAGE" and result.ref.get("submission_id") == "sub-BAG-1"


def test_publish_variations_parent_first_then_children(api, clock):
    routes = {s: api.put(f"{ITEM}/{s}").mock(return_value=accepted(s)) for s in ("TEE", "TEE-S", "TEE-M")}
    variations = (
        Variation("TEE-S", Money.of("10", "USD"), 3, {"Size": "S"}),
        Variation("TEE-M", Money.of("11", "USD"), 0, {"Size": "M"}),
    )
    [result] = build(clock).publish([draft(sku="TEE", category_id="SHIRT", variations=variations)])
    order = [c.request.url.path.rsplit("/", 1)[1] for c in api.calls if c.request.method == "PUT"]
    assert order == ["TEE", "TEE-S", "TEE-M"]
    parent = body(routes["TEE"].calls[0].request)["attributes"]
    assert parent["parentage_level"] == [{"value": "parent", "marketplace_id": US}]
    assert parent["variation_theme"] == [{"name": "SIZE"}]
    assert "purchasable_offer" not in parent and "fulfillment_availability" not in parent
    child = body(routes["TEE-M"].calls[0].request)["attributes"]
    assert child["child_parent_sku_relationship"] == [
        {"child_relationship_type": "variation", "parent_sku": "TEE", "marketplace_id": US}
    ]
    assert child["size"] == [{"value": "M", "marketplace_id": US}]
    assert child["purchasable_offer"][0]["our_price"][0]["schedule"][0]["value_with_tax"] == Decimal("11")
    assert child["fulfillment_availability"][0]["quantity"] == 0
    assert result.ok and result.ref.get("variation_skus") == "TEE-S,TEE-M"


def test_publish_of_a_live_listing_sends_the_price_before_the_quantity(api, clock):
    api.patch(f"{ITEM}/BAG-1").mock(return_value=accepted("BAG-1"))
    api.put(f"{ITEM}/BAG-1").mock(return_value=accepted("BAG-1"))
    ref = ListingRef("BAG-1", "B0ASIN", {"product_type": "LUGGAGE"})
    [result] = build(clock).publish([draft(ref=ref)])
    calls = [c.request for c in api.calls if c.request.url.host != "api.amazon.com"]
    assert [c.method for c in calls] == ["PATCH", "PUT"]
    assert body(calls[0])["patches"][0]["path"] == "/attributes/purchasable_offer"
    assert result.ok and result.ref.external_id == "B0ASIN"


def feed_routes(api, report: dict, statuses=("IN_QUEUE", "IN_PROGRESS", "DONE")):
    docs = api.post(f"{NA}/feeds/2021-06-30/documents").respond(
        201, json={"feedDocumentId": "amzn1.tortuga.4.na.doc1", "url": S3}
    )
    upload = api.put(S3).respond(200)
    create = api.post(f"{NA}/feeds/2021-06-30/feeds").respond(202, json={"feedId": "F1"})
    answers = [
        httpx.Response(
            200,
            json={
                "feedId": "F1",
                "feedType": "JSON_LISTINGS_FEED",
                "createdTime": "2026-11-02T12:00:00Z",
                "processingStatus": s,
                **({"resultFeedDocumentId": "amzn1.tortuga.4.na.rep1"} if s == "DONE" else {}),
            },
        )
        for s in statuses
    ]
    poll = api.get(f"{NA}/feeds/2021-06-30/feeds/F1").mock(side_effect=answers)
    report_url = "https://tortuga-prod-na.s3-external-1.amazonaws.com/NinetyDays/amzn1.tortuga.4.na.rep1?sig=1"
    result_doc = api.get(f"{NA}/feeds/2021-06-30/documents/amzn1.tortuga.4.na.rep1").respond(
        200, json={"feedDocumentId": "amzn1.tortuga.4.na.rep1", "url": report_url, "compressionAlgorithm": "GZIP"}
    )
    download = api.get(report_url).respond(200, content=gzip.compress(json.dumps(report).encode()))
    return docs, upload, create, poll, result_doc, download


def test_bulk_stock_goes_through_one_json_listings_feed(api, clock):
    report = {
        "header": {"sellerId": SELLER, "version": "2.0", "feedId": "F1"},
        "issues": [
            {"messageId": 2, "sku": "B", "code": "4000002", "severity": "ERROR", "message": "SKU does not exist"},
            {"messageId": 3, "sku": "C", "code": "18448", "severity": "WARNING", "message": "incomplete"},
        ],
        "summary": {"errors": 1, "warnings": 1, "messagesProcessed": 3, "messagesAccepted": 2, "messagesInvalid": 1},
    }
    docs, upload, create, poll, result_doc, download = feed_routes(api, report)
    adapter = build(clock, options={"feed_threshold": 3, "feed_poll_seconds": 30})
    results = adapter.push_stock([StockUpdate("A", 1), StockUpdate("B", 2), StockUpdate("C", 5)])

    assert body(docs.calls[0].request) == {"contentType": "application/json; charset=UTF-8"}
    put = upload.calls[0].request
    assert put.method == "PUT" and put.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert "x-amz-access-token" not in put.headers  # S3 presigned URL: no SP-API token
    assert body(put) == {
        "header": {"sellerId": SELLER, "version": "2.0"},
        "messages": [
            {
                "messageId": n,
                "sku": sku,
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "merge",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": q}],
                    }
                ],
            }
            for n, sku, q in ((1, "A", 1), (2, "B", 2), (3, "C", 5))
        ],
    }
    assert body(create.calls[0].request) == {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": [US],
        "inputFeedDocumentId": "amzn1.tortuga.4.na.doc1",
    }
    assert poll.call_count == 3 and download.call_count == 1
    assert "x-amz-access-token" not in download.calls[0].request.headers
    assert clock.sleeps and sum(clock.sleeps) >= 59  # the poll limiter waited (fake time), no real sleep
    assert [(r.sku, r.ok, r.state) for r in results] == [
        ("A", True, "applied"),
        ("B", False, "failed"),
        ("C", True, "applied"),
    ]
    assert results[1].code == "4000002" and "SKU does not exist" in results[1].message
    assert results[0].ref.get("feed_id") == "F1"


def test_feed_not_done_in_time_stays_submitted_with_feed_and_message_ids(api, clock):
    feed_routes(api, {}, statuses=("IN_PROGRESS",) * 50)
    adapter = build(clock, options={"feed_threshold": 2, "feed_poll_seconds": 60, "feed_wait_seconds": 300})
    results = adapter.push_prices([PriceUpdate("A", Money.of("1", "USD")), PriceUpdate("B", Money.of("2", "USD"))])
    assert [r.state for r in results] == ["submitted", "submitted"]
    assert [(r.ref.get("feed_id"), r.ref.get("message_id")) for r in results] == [("F1", "1"), ("F1", "2")]


def _v2026_order(order_id: str, status: str, updated: str, **extra: Any) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "createdTime": "2026-11-02T10:00:00Z",
        "lastUpdatedTime": updated,
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": US},
        "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": "MERCHANT"},
        "orderItems": [],
        **extra,
    }


def test_orders_window_paging_and_embedded_items(api, clock):
    """searchOrders (v2026-01-01): one call per page of orders, items, status, money and ship-to country
    embedded through includedData; no per-order item call."""
    now = clock.utc()
    money = {"currencyCode": "USD"}
    first_order = _v2026_order(
        "902-3159896-1390916",
        "UNSHIPPED",
        "2026-11-02T11:00:00Z",
        orderItems=[
            {
                "orderItemId": "68828574383266",
                "quantityOrdered": 2,
                "product": {
                    "asin": "B0ASIN",
                    "sellerSku": "BAG-1",
                    "title": "Bag",
                    "price": {"unitPrice": {**money, "amount": "10.00"}},
                },
            },
            {"orderItemId": "2", "quantityOrdered": 0, "product": {"asin": "B0X", "sellerSku": "TEE-S"}},
        ],
        proceeds={
            "grandTotal": {**money, "amount": "25.00"},
            "breakdowns": [
                {"type": "ITEM", "subtotal": {**money, "amount": "20.00"}},
                {"type": "SHIPPING", "subtotal": {**money, "amount": "5.00"}},
            ],
        },
        recipient={"deliveryAddress": {"countryCode": "US", "city": "Seattle", "name": "Jane"}},
        buyer={"buyerEmail": "x@marketplace.amazon.com"},
    )
    token = "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4=/+x"
    orders = api.get(f"{NA}/orders/2026-01-01/orders").mock(
        side_effect=[
            httpx.Response(200, json={"orders": [first_order], "pagination": {"nextToken": token}}),
            httpx.Response(
                200, json={"orders": [_v2026_order("902-0000000-0000002", "CANCELLED", "2026-11-02T11:30:00+00:00")]}
            ),
        ]
    )
    adapter = build(clock)
    since = now - timedelta(hours=6)
    first = adapter.orders_since(OrderCursor(since))
    q = orders.calls[0].request.url.params
    until = now - timedelta(minutes=3)
    assert dict(q) == {
        "marketplaceIds": US,
        "lastUpdatedAfter": "2026-11-02T06:00:00Z",
        "lastUpdatedBefore": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "maxResultsPerPage": "100",
        "includedData": "FULFILLMENT,PROCEEDS,RECIPIENT",
    }
    assert not first.done and first.next.until == until and first.next.page == token
    [order] = first.orders
    assert order.status.value == "paid" and order.raw_status == "UNSHIPPED" and order.ship_country == "US"
    assert order.total == Money.of("25.00", "USD") and order.shipping == Money.of("5.00", "USD")
    assert order.lines[0].unit_price == Money.of("10.00", "USD") and order.lines[0].quantity == 2
    assert [ln.sku for ln in order.lines] == ["BAG-1", "TEE-S"]
    assert [c.request.url.path for c in api.calls if "/orders/" in c.request.url.path] == ["/orders/2026-01-01/orders"]

    clock.now += 60
    last = adapter.orders_since(first.next)
    q2 = orders.calls[1].request.url.params
    assert q2["paginationToken"] == token
    assert b"paginationToken=2YgYW55IGNhcm5hbCBwbGVhc3VyZS4%3D%2F%2Bx" in orders.calls[1].request.url.raw_path
    assert {k: v for k, v in q2.items() if k != "paginationToken"} == dict(q)  # every filter repeated unchanged
    assert last.done and last.next.since == until - timedelta(minutes=5) and last.next.page is None
    assert last.orders[0].status.value == "cancelled" and last.orders[0].currency == "USD"
    assert last.orders[0].total == Money.of("0", "USD")  # no proceeds: the sum of its (no) lines
    assert last.orders[0].updated_at == T0 - timedelta(minutes=30)


def test_an_expired_pagination_token_restarts_the_window(api, clock):
    refused = {"errors": [{"code": "InvalidInput", "message": "Invalid Input", "details": "token expired"}]}
    orders = api.get(f"{NA}/orders/2026-01-01/orders").mock(
        side_effect=[httpx.Response(400, json=refused), httpx.Response(200, json={"orders": []})]
    )
    adapter = build(clock)
    since = clock.utc() - timedelta(days=2)
    stale = OrderCursor(since, since + timedelta(hours=1), "old-token")
    page = adapter.orders_since(stale)
    assert page.orders == () and not page.done and page.next == OrderCursor(since)
    again = adapter.orders_since(page.next)
    assert again.done and "paginationToken" not in orders.calls[1].request.url.params
    assert orders.calls[1].request.url.params["lastUpdatedAfter"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_refused_first_page_is_not_retried_as_a_token_problem(api, clock):
    api.get(f"{NA}/orders/2026-01-01/orders").respond(400, json={"errors": [{"code": "InvalidInput", "message": "x"}]})
    with pytest.raises(RequestRejected):
        build(clock).orders_since(OrderCursor(clock.utc() - timedelta(hours=1)))


def test_a_token_answered_with_itself_stops_the_pull(api, clock):
    body = {"orders": [], "pagination": {"nextToken": "same"}}
    api.get(f"{NA}/orders/2026-01-01/orders").respond(200, json=body)
    adapter = build(clock)
    since = clock.utc() - timedelta(hours=1)
    with pytest.raises(TransientError) as caught:
        adapter.orders_since(OrderCursor(since, since + timedelta(minutes=30), "same"))
    assert caught.value.code == "no_progress" and "same" in caught.value.message


def test_an_answer_without_an_orders_list_is_a_typed_error_on_the_page(api, clock):
    api.get(f"{NA}/orders/2026-01-01/orders").respond(200, json={"payload": {"Orders": []}})  # a v0 answer
    with pytest.raises(UnexpectedResponse) as caught:
        build(clock).orders_since(OrderCursor(clock.utc() - timedelta(hours=1)))
    assert caught.value.code == "unexpected_response" and "searchOrders answer cannot be read" in str(caught.value)


@pytest.mark.parametrize(
    "bad",
    [
        {"orderId": "1", "createdTime": "not a time", "lastUpdatedTime": "2026-11-02T10:00:00Z"},
        _v2026_order("1", "SHIPPED", "2026-11-02T10:00:00Z", proceeds={"grandTotal": {"amount": "x"}}),
    ],
)
def test_an_unreadable_order_is_left_out_and_told_the_rest_of_the_page_carries_on(api, clock, bad):
    good = _v2026_order("2", "SHIPPED", "2026-11-02T10:00:00Z")
    api.get(f"{NA}/orders/2026-01-01/orders").respond(200, json={"orders": [bad, good]})
    page = build(clock).orders_since(OrderCursor(clock.utc() - timedelta(hours=1)))
    assert [o.external_id for o in page.orders] == ["2"] and page.done
    (problem,) = page.problems
    assert isinstance(problem, UnexpectedResponse) and problem.code == "unexpected_response"
    assert problem.channel == "amazon-test" and "searchOrders order 1 cannot be read" in problem.message
    assert '"orderId": "1"' in problem.excerpt


def test_listings_pages_with_page_token(api, clock):
    def item(sku: str, qty: int) -> dict:
        return {
            "sku": sku,
            "summaries": [
                {
                    "marketplaceId": US,
                    "asin": "B0" + sku,
                    "productType": "LUGGAGE",
                    "status": ["BUYABLE", "DISCOVERABLE"] if qty else ["DISCOVERABLE"],
                    "itemName": "Bag " + sku,
                    "createdDate": "2026-01-01T00:00:00Z",
                    "lastUpdatedDate": "2026-01-01T00:00:00Z",
                }
            ],
            "offers": [
                {
                    "marketplaceId": US,
                    "offerType": "B2C",
                    "price": {"currencyCode": "USD", "amount": "30.0"},
                    "audience": {"value": "ALL"},
                }
            ],
            "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": qty}],
        }

    route = api.get(ITEM).mock(
        side_effect=[
            httpx.Response(
                200, json={"numberOfResults": 2, "items": [item("A", 3)], "pagination": {"nextToken": "t2"}}
            ),
            httpx.Response(200, json={"numberOfResults": 2, "items": [item("B", 0)]}),
        ]
    )
    got = list(build(clock).listings())
    assert dict(route.calls[0].request.url.params) == {
        "marketplaceIds": US,
        "includedData": "summaries,offers,fulfillmentAvailability",
        "sortBy": "createdDate",
        "sortOrder": "ASC",
        "pageSize": "20",
    }
    assert route.calls[1].request.url.params["pageToken"] == "t2"
    assert [(r.sku, r.price, r.quantity, r.status, r.ref.external_id) for r in got] == [
        ("A", Money.of("30.0", "USD"), 3, "active", "B0A"),
        ("B", Money.of("30.0", "USD"), 0, "inactive", "B0B"),
    ]


@pytest.mark.parametrize(
    ("options", "host"),
    [
        ({"marketplace": "DE"}, "https://sellingpartnerapi-eu.amazon.com"),
        ({"marketplace": "UK", "sandbox": True}, "https://sandbox.sellingpartnerapi-eu.amazon.com"),
        ({"marketplace": "AU"}, "https://sellingpartnerapi-fe.amazon.com"),
        ({"marketplace": "ATVPDKIKX0DER", "sandbox": True}, "https://sandbox.sellingpartnerapi-na.amazon.com"),
    ],
)
def test_regional_and_sandbox_hosts(clock, options, host):
    assert build(clock, options=options).base_url() == host


def test_options_are_checked():
    from listing_sync.adapters.amazon.adapter import AmazonOptions

    with pytest.raises(ValueError):
        AmazonOptions.model_validate({"seller_id": "A", "delist": "x"})
    with pytest.raises(ValueError):
        AmazonOptions.model_validate({"marketplace": "US"})  # seller_id is required
    with pytest.raises(ValueError, match="unknown Amazon marketplace"):
        AmazonOptions.model_validate({"seller_id": "A", "marketplace": "XX"})
    assert AmazonOptions.model_validate({"seller_id": "A", "marketplace": "gb"}).marketplace_id == "A1F83G8C2ARO7P"


def test_feed_results_confirms_a_feed_left_submitted(api, clock):
    report = {
        "header": {"sellerId": SELLER, "version": "2.0", "feedId": "F1"},
        "issues": [{"messageId": 2, "sku": "B", "code": "99022", "severity": "ERROR", "message": "price missing"}],
        "summary": {"errors": 1, "warnings": 0, "messagesProcessed": 2, "messagesAccepted": 1, "messagesInvalid": 1},
    }
    feed_routes(api, report, statuses=("IN_PROGRESS", "IN_PROGRESS", "DONE"))
    adapter = build(clock, options={"feed_threshold": 2, "feed_wait_seconds": 0})
    first = adapter.push_stock([StockUpdate("A", 1), StockUpdate("B", 2)])
    assert [r.state for r in first] == ["submitted", "submitted"]
    ids = {int(r.ref.get("message_id")): r.sku for r in first}
    assert adapter.feed_results("F1", ids) is None  # still IN_PROGRESS
    later = adapter.feed_results("F1", ids)
    assert later is not None
    assert (later["A"].ok, later["A"].state) == (True, "applied")
    assert (later["B"].ok, later["B"].code) == (False, "99022")


def test_publish_chunks_count_variation_messages(clock):
    from listing_sync.adapters.base import Operation

    adapter = build(clock)
    big = draft(variations=tuple(Variation(f"V{i}", Money.of("1", "USD"), 1) for i in range(14_999)))
    chunks = list(adapter.chunks(Operation.PUBLISH, [big, big, draft()]))
    assert [len(c) for c in chunks] == [1, 2]  # 15,000 messages each; 25,000 per feed
    assert [len(c) for c in adapter.chunks(Operation.STOCK, list(range(25_001)))] == [25_000, 1]
