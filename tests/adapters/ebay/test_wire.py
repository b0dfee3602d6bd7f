"""Exact wire format of every operation, with expected values written from eBay's documentation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    ListingRef,
    Money,
    Operation,
    OrderCursor,
    OrderStatus,
    PriceUpdate,
    StockUpdate,
    Variation,
)

API = "https://api.ebay.com"
INV = f"{API}/sell/inventory/v1"
FUL = f"{API}/sell/fulfillment/v1"
BEARER = "Bearer v^1.1#i^1#p^3#access-abcdef"
POLICIES = {"fulfillmentPolicyId": "6196932000", "paymentPolicyId": "6196944000", "returnPolicyId": "6196940000"}


def usd(value: str) -> Money:
    return Money.of(value, "USD")


def trail(api: respx.MockRouter) -> list[str]:
    """Method and URL of every API call (the token call left out)."""
    return [f"{c.request.method} {c.request.url}" for c in api.calls if "oauth2" not in c.request.url.path]


def sent(api: respx.MockRouter, method: str, path: str) -> httpx.Request:
    found = [c.request for c in api.calls if c.request.method == method and c.request.url.path == path]
    assert found, f"no {method} {path}"
    return found[-1]


def body(request: httpx.Request):
    return json.loads(request.content)


DRAFT = ListingDraft(
    sku="A1",
    title="Ceramic mug 350 ml",
    description="<p>Stoneware mug</p>",
    category_id="20625",
    price=usd("9.99"),
    quantity=5,
    attributes={"Brand": ("Acme",), "Color": ("White",)},
    images=("https://img.example.com/a1.jpg",),
    brand="Acme",
    barcode="012345678905",
    weight_grams=350,
)


# -------------------------------------------------------------------------------------------- publish
def test_publish_new_listing(adapter, api: respx.MockRouter):
    api.get(f"{INV}/offer").respond(
        404, json={"errors": [{"errorId": 25713, "message": "This Offer is not available."}]}
    )
    api.post(f"{INV}/bulk_get_inventory_item").respond(
        207, json={"responses": [{"sku": "A1", "statusCode": 404, "errors": [{"errorId": 25702}]}]}
    )
    api.post(f"{INV}/bulk_create_or_replace_inventory_item").respond(
        200, json={"responses": [{"sku": "A1", "locale": "en_US", "statusCode": 201}]}
    )
    api.post(f"{INV}/bulk_create_offer").respond(
        200,
        json={
            "responses": [
                {
                    "sku": "A1",
                    "marketplaceId": "EBAY_US",
                    "format": "FIXED_PRICE",
                    "offerId": "5000001",
                    "statusCode": 200,
                }
            ]
        },
    )
    api.post(f"{INV}/bulk_publish_offer").respond(
        200, json={"responses": [{"offerId": "5000001", "statusCode": 200, "listingId": "110000000001"}]}
    )

    [result] = adapter.publish([DRAFT])

    assert result.ok
    assert result.ref == ListingRef(
        "A1", "110000000001", {"marketplace_id": "EBAY_US", "offer_id": "5000001", "listing_id": "110000000001"}
    )
    # a new listing: no offer look-up by SKU (createOffer says so if one exists); the item is read (25 a call)
    assert trail(api) == [
        f"POST {INV}/bulk_get_inventory_item",
        f"POST {INV}/bulk_create_or_replace_inventory_item",
        f"POST {INV}/bulk_create_offer",
        f"POST {INV}/bulk_publish_offer",
    ]
    items = sent(api, "POST", "/sell/inventory/v1/bulk_create_or_replace_inventory_item")
    assert items.headers["Content-Language"] == "en-US"
    assert items.headers["Content-Type"] == "application/json"
    assert items.headers["Authorization"] == BEARER
    assert body(items) == {
        "requests": [
            {
                "sku": "A1",
                "locale": "en_US",
                "product": {
                    "title": "Ceramic mug 350 ml",
                    "description": "<p>Stoneware mug</p>",
                    "aspects": {"Brand": ["Acme"], "Color": ["White"]},
                    "imageUrls": ["https://img.example.com/a1.jpg"],
                    "brand": "Acme",
                    "upc": ["012345678905"],
                },
                "condition": "NEW",
                "availability": {"shipToLocationAvailability": {"quantity": 5}},
                "packageWeightAndSize": {"weight": {"value": 350, "unit": "GRAM"}},
            }
        ]
    }
    offers = sent(api, "POST", "/sell/inventory/v1/bulk_create_offer")
    assert offers.headers["Content-Language"] == "en-US"
    assert body(offers) == {
        "requests": [
            {
                "sku": "A1",
                "marketplaceId": "EBAY_US",
                "format": "FIXED_PRICE",
                "availableQuantity": 5,
                "categoryId": "20625",
                "pricingSummary": {"price": {"value": "9.99", "currency": "USD"}},
                "listingDuration": "GTC",
                "includeCatalogProductDetails": False,
                "listingDescription": "<p>Stoneware mug</p>",
                "listingPolicies": POLICIES,
                "merchantLocationKey": "WH-SH",
            }
        ]
    }
    assert body(sent(api, "POST", "/sell/inventory/v1/bulk_publish_offer")) == {"requests": [{"offerId": "5000001"}]}


def test_publish_existing_live_listing_replaces_whole_item_and_offer(adapter, api: respx.MockRouter):
    """Full replace: fields we do not manage (mpn, dimensions, pickup, tax, buyer limit) are sent back."""
    live_offer = {
        "offerId": "5000001",
        "sku": "A1",
        "marketplaceId": "EBAY_US",
        "format": "FIXED_PRICE",
        "status": "PUBLISHED",
        "listing": {"listingId": "110000000001", "listingStatus": "ACTIVE", "soldQuantity": 3},
        "availableQuantity": 2,
        "categoryId": "20625",
        "pricingSummary": {"price": {"value": "8.00", "currency": "USD"}},
        "quantityLimitPerBuyer": 2,
        "tax": {"applyTax": True},
        "listingPolicies": POLICIES,
        "merchantLocationKey": "WH-SH",
    }
    existing = {
        "sku": "A1",
        "locale": "en_US",
        "groupIds": [],
        "condition": "NEW",
        "conditionDescription": "Boxed",
        "product": {"title": "Old title", "mpn": "MUG-350", "imageUrls": ["https://img.example.com/old.jpg"]},
        "availability": {
            "shipToLocationAvailability": {"quantity": 2, "allocationByFormat": {"fixedPrice": 2}},
            "pickupAtLocationAvailability": [{"merchantLocationKey": "SHOP1", "quantity": 1}],
        },
        "packageWeightAndSize": {"dimensions": {"height": 10, "length": 9, "width": 9, "unit": "CENTIMETER"}},
    }
    api.get(f"{INV}/offer").respond(200, json={"offers": [live_offer], "total": 1, "size": 1})
    api.post(f"{INV}/bulk_get_inventory_item").respond(
        200, json={"responses": [{"sku": "A1", "statusCode": 200, "inventoryItem": existing}]}
    )
    api.post(f"{INV}/bulk_create_or_replace_inventory_item").respond(
        200, json={"responses": [{"sku": "A1", "statusCode": 200}]}
    )
    api.put(f"{INV}/offer/5000001").respond(204)
    exists = {"errorId": 25002, "message": "Any User error. Offer entity already exists."}
    api.post(f"{INV}/bulk_create_offer").respond(
        200, json={"responses": [{"sku": "A1", "statusCode": 400, "errors": [exists]}]}
    )
    draft = ListingDraft("A1", "Ceramic mug 350 ml", "New text", "20625", usd("9.99"), 5)

    [result] = adapter.publish([draft])

    assert result.ok and result.ref.ids["listing_id"] == "110000000001"
    assert not any("publish" in line for line in trail(api))  # live: updating it revised the listing
    [item] = body(sent(api, "POST", "/sell/inventory/v1/bulk_create_or_replace_inventory_item"))["requests"]
    assert item == {
        "sku": "A1",
        "locale": "en_US",
        "condition": "NEW",
        "conditionDescription": "Boxed",
        "product": {
            "title": "Ceramic mug 350 ml",
            "description": "New text",
            "mpn": "MUG-350",
            "imageUrls": ["https://img.example.com/old.jpg"],
        },
        "availability": {
            "shipToLocationAvailability": {"quantity": 5},
            "pickupAtLocationAvailability": [{"merchantLocationKey": "SHOP1", "quantity": 1}],
        },
        "packageWeightAndSize": {"dimensions": {"height": 10, "length": 9, "width": 9, "unit": "CENTIMETER"}},
    }
    update = sent(api, "PUT", "/sell/inventory/v1/offer/5000001")
    assert update.headers["Content-Language"] == "en-US"
    assert body(update) == {
        "availableQuantity": 5,
        "categoryId": "20625",
        "pricingSummary": {"price": {"value": "9.99", "currency": "USD"}},
        "quantityLimitPerBuyer": 2,
        "tax": {"applyTax": True},
        "listingPolicies": POLICIES,
        "merchantLocationKey": "WH-SH",
        "listingDuration": "GTC",
        "includeCatalogProductDetails": False,
        "listingDescription": "New text",
    }
    assert adapter.revision_budget("A1") == 248  # item + offer revised the live listing


def test_publish_variations_as_inventory_item_group(adapter, api: respx.MockRouter):
    api.get(f"{INV}/offer").respond(404, json={})
    api.post(f"{INV}/bulk_get_inventory_item").respond(
        207, json={"responses": [{"sku": s, "statusCode": 404} for s in ("T-S", "T-M")]}
    )
    api.post(f"{INV}/bulk_create_or_replace_inventory_item").respond(
        200, json={"responses": [{"sku": s, "statusCode": 201} for s in ("T-S", "T-M")]}
    )
    api.put(f"{INV}/inventory_item_group/T").respond(201)
    api.post(f"{INV}/bulk_create_offer").respond(
        200,
        json={
            "responses": [
                {"sku": "T-S", "offerId": "71", "statusCode": 200},
                {"sku": "T-M", "offerId": "72", "statusCode": 200},
            ]
        },
    )
    api.post(f"{INV}/offer/publish_by_inventory_item_group/").respond(
        200, json={"listingId": "110000000009", "warnings": []}
    )
    draft = ListingDraft(
        "T",
        "Tee",
        "Cotton tee",
        "15687",
        usd("12.00"),
        0,
        attributes={"Brand": ("Acme",)},
        images=("https://img.example.com/t.jpg",),
        variations=(
            Variation("T-S", usd("12.00"), 3, {"Size": "S"}),
            Variation("T-M", usd("13.50"), 4, {"Size": "M"}, images=("https://img.example.com/t-m.jpg",)),
        ),
    )

    [result] = adapter.publish([draft])

    assert result.ok
    assert result.ref.ids == {
        "marketplace_id": "EBAY_US",
        "group_key": "T",
        "offer_id:T-S": "71",
        "offer_id:T-M": "72",
        "listing_id": "110000000009",
    }
    items = body(sent(api, "POST", "/sell/inventory/v1/bulk_create_or_replace_inventory_item"))["requests"]
    assert [i["product"]["aspects"] for i in items] == [
        {"Brand": ["Acme"], "Size": ["S"]},
        {"Brand": ["Acme"], "Size": ["M"]},
    ]
    assert [i["product"]["imageUrls"] for i in items] == [
        ["https://img.example.com/t.jpg"],
        ["https://img.example.com/t-m.jpg"],
    ]
    group = sent(api, "PUT", "/sell/inventory/v1/inventory_item_group/T")
    assert group.headers["Content-Language"] == "en-US"
    assert body(group) == {
        "title": "Tee",
        "description": "Cotton tee",
        "aspects": {"Brand": ["Acme"]},
        "imageUrls": ["https://img.example.com/t.jpg"],
        "variantSKUs": ["T-S", "T-M"],
        "variesBy": {"specifications": [{"name": "Size", "values": ["S", "M"]}], "aspectsImageVariesBy": ["Size"]},
    }
    offers = body(sent(api, "POST", "/sell/inventory/v1/bulk_create_offer"))["requests"]
    assert [(o["sku"], o["pricingSummary"]["price"], o["availableQuantity"]) for o in offers] == [
        ("T-S", {"value": "12.00", "currency": "USD"}, 3),
        ("T-M", {"value": "13.50", "currency": "USD"}, 4),
    ]
    assert all("listingDescription" not in o for o in offers)  # the group's description is the listing's
    assert body(sent(api, "POST", "/sell/inventory/v1/offer/publish_by_inventory_item_group/")) == {
        "inventoryItemGroupKey": "T",
        "marketplaceId": "EBAY_US",
    }


def test_publish_chunks_count_variations():
    from listing_sync.adapters.base import Operation
    from listing_sync.adapters.ebay.adapter import EbayAdapter

    def draft(sku: str, n: int) -> ListingDraft:
        variations = tuple(Variation(f"{sku}-{i}", usd("1"), 1, {"Size": str(i)}) for i in range(n))
        return ListingDraft(sku, "t", "d", "1", usd("1"), 1, variations=variations)

    drafts = [draft("A", 10), draft("B", 10), draft("C", 10), draft("D", 0)]
    chunks = list(EbayAdapter.chunks(EbayAdapter.__new__(EbayAdapter), Operation.PUBLISH, drafts))
    assert [[d.sku for d in c] for c in chunks] == [["A", "B"], ["C", "D"]]


# --------------------------------------------------------------------------------- price and stock
LIVE_REF = ListingRef("A1", "110000000001", {"offer_id": "5000001"})


def test_push_prices(adapter, api: respx.MockRouter):
    api.post(f"{INV}/bulk_update_price_quantity").respond(
        200, json={"responses": [{"offerId": "5000001", "sku": "A1", "statusCode": 200}]}
    )
    [result] = adapter.push_prices([PriceUpdate("A1", usd("12.5"), LIVE_REF)])
    assert result.ok
    request = sent(api, "POST", "/sell/inventory/v1/bulk_update_price_quantity")
    assert str(request.url) == f"{INV}/bulk_update_price_quantity"
    assert request.headers["Authorization"] == BEARER
    assert request.headers["Content-Type"] == "application/json"
    assert body(request) == {
        "requests": [{"offers": [{"offerId": "5000001", "price": {"value": "12.50", "currency": "USD"}}]}]
    }


def test_push_stock_sets_item_and_offer_quantity(adapter, api: respx.MockRouter):
    api.post(f"{INV}/bulk_update_price_quantity").respond(
        200,
        json={"responses": [{"sku": "A1", "statusCode": 200}, {"offerId": "5000001", "sku": "A1", "statusCode": 200}]},
    )
    [result] = adapter.push_stock([StockUpdate("A1", 7, LIVE_REF)])
    assert result.ok
    assert body(sent(api, "POST", "/sell/inventory/v1/bulk_update_price_quantity")) == {
        "requests": [
            {
                "sku": "A1",
                "shipToLocationAvailability": {"quantity": 7},
                "offers": [{"offerId": "5000001", "availableQuantity": 7}],
            }
        ]
    }


def test_push_without_ref_looks_the_offer_up_by_sku(adapter, api: respx.MockRouter):
    api.get(f"{INV}/offer", params={"sku": "B2"}).respond(
        200,
        json={
            "offers": [
                {
                    "offerId": "99",
                    "sku": "B2",
                    "marketplaceId": "EBAY_US",
                    "format": "FIXED_PRICE",
                    "status": "PUBLISHED",
                }
            ]
        },
    )
    api.post(f"{INV}/bulk_update_price_quantity").respond(
        200, json={"responses": [{"offerId": "99", "statusCode": 200}]}
    )
    assert adapter.push_prices([PriceUpdate("B2", usd("3"))])[0].ok
    assert trail(api) == [f"GET {INV}/offer?sku=B2&marketplace_id=EBAY_US", f"POST {INV}/bulk_update_price_quantity"]
    assert (
        body(sent(api, "POST", "/sell/inventory/v1/bulk_update_price_quantity"))["requests"][0]["offers"][0]["offerId"]
        == "99"
    )


def test_gbp_marketplace_amounts(make_adapter, api: respx.MockRouter, channel_factory):
    api.post(f"{INV}/bulk_update_price_quantity").respond(
        200, json={"responses": [{"offerId": "7", "statusCode": 200}]}
    )
    from listing_sync.adapters.ebay.adapter import EbayAdapter

    channel = channel_factory(
        "ebay",
        currency="GBP",
        credentials={"client_id": "a-id", "client_secret": "b-secret", "refresh_token": "c-token"},
        options={"marketplace_id": "EBAY_GB", "content_language": "en-GB"},
    )
    adapter = EbayAdapter(channel, sleep=lambda s: None)
    ref = ListingRef("U1", None, {"offer_id": "7"})
    assert adapter.push_prices([PriceUpdate("U1", Money.of("7.5", "GBP"), ref)])[0].ok
    assert body(sent(api, "POST", "/sell/inventory/v1/bulk_update_price_quantity"))["requests"][0]["offers"][0][
        "price"
    ] == {
        "value": "7.50",
        "currency": "GBP",
    }


# ----------------------------------------------------------------------------------- delist/relist
def test_delist_withdraws_the_offer(adapter, api: respx.MockRouter):
    api.post(f"{INV}/offer/5000001/withdraw").respond(200, json={"listingId": "110000000001", "warnings": []})
    [result] = adapter.delist([DelistRequest("A1", LIVE_REF)])
    assert result.ok
    request = sent(api, "POST", "/sell/inventory/v1/offer/5000001/withdraw")
    assert request.content == b""
    assert request.headers["Authorization"] == BEARER


def test_delist_group_withdraws_by_inventory_item_group(adapter, api: respx.MockRouter):
    api.post(f"{INV}/offer/withdraw_by_inventory_item_group").respond(204)
    ref = ListingRef("T", "110000000009", {"group_key": "T", "offer_id:T-S": "71"})
    assert adapter.delist([DelistRequest("T", ref)])[0].ok
    assert body(sent(api, "POST", "/sell/inventory/v1/offer/withdraw_by_inventory_item_group")) == {
        "inventoryItemGroupKey": "T",
        "marketplaceId": "EBAY_US",
    }


def test_relist_publishes_again(adapter, api: respx.MockRouter):
    api.post(f"{INV}/bulk_publish_offer").respond(
        200, json={"responses": [{"offerId": "5000001", "statusCode": 200, "listingId": "110000000001"}]}
    )
    api.post(f"{INV}/offer/publish_by_inventory_item_group/").respond(200, json={"listingId": "110000000009"})
    group = ListingRef("T", "110000000009", {"group_key": "T"})
    results = adapter.relist([DelistRequest("A1", LIVE_REF), DelistRequest("T", group)])
    assert [r.ok for r in results] == [True, True]
    assert results[0].ref.ids["listing_id"] == "110000000001"
    assert body(sent(api, "POST", "/sell/inventory/v1/bulk_publish_offer")) == {"requests": [{"offerId": "5000001"}]}
    assert body(sent(api, "POST", "/sell/inventory/v1/offer/publish_by_inventory_item_group/")) == {
        "inventoryItemGroupKey": "T",
        "marketplaceId": "EBAY_US",
    }


# -------------------------------------------------------------------------------------------- orders
ORDER = {
    "orderId": "07-12345-67890",
    "legacyOrderId": "110000000001-2000000001",
    "creationDate": "2026-11-27T03:15:20.123Z",
    "lastModifiedDate": "2026-11-27T04:00:00.000Z",
    "orderFulfillmentStatus": "NOT_STARTED",
    "orderPaymentStatus": "PAID",
    "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
    "buyer": {"username": "someone", "taxAddress": {"postalCode": "95125"}},
    "pricingSummary": {
        "priceSubtotal": {"value": "19.98", "currency": "USD"},
        "deliveryCost": {"value": "4.50", "currency": "USD"},
        "total": {"value": "24.48", "currency": "USD", "convertedFromValue": "22.10", "convertedFromCurrency": "EUR"},
    },
    "fulfillmentStartInstructions": [
        {
            "shippingStep": {
                "shipTo": {"fullName": "Jane Buyer", "contactAddress": {"city": "Köln", "countryCode": "DE"}}
            }
        }
    ],
    "lineItems": [
        {
            "lineItemId": "10000000001",
            "legacyItemId": "110000000001",
            "sku": "A1",
            "title": "Ceramic mug",
            "quantity": 2,
            "lineItemCost": {"value": "19.98", "currency": "USD"},
            "total": {"value": "24.48", "currency": "USD"},
        }
    ],
}


def test_orders_request_and_mapping(adapter, api: respx.MockRouter):
    api.get(f"{FUL}/order").respond(200, json={"orders": [ORDER], "total": 1, "limit": 200, "offset": 0})
    since = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)

    page = adapter.orders_since(OrderCursor(since))

    request = sent(api, "GET", "/sell/fulfillment/v1/order")
    # filter alone, brackets percent-encoded, UTC with milliseconds, until = now - 1 min lag
    assert str(request.url) == (
        f"{FUL}/order?filter=lastmodifieddate:%5B2026-11-27T00:00:00.000Z..2026-11-27T11:59:00.000Z%5D"
        "&limit=200&offset=0"
    )
    assert request.headers["Authorization"] == BEARER
    [order] = page.orders
    assert order.external_id == "07-12345-67890"
    assert order.status is OrderStatus.PAID
    assert order.placed_at == datetime(2026, 11, 27, 3, 15, 20, 123000, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
    assert order.total == usd("24.48") and order.currency == "USD"  # seller currency, not convertedFrom
    assert order.shipping == usd("4.50")
    assert order.ship_country == "DE"
    [line] = order.lines
    assert (line.line_id, line.sku, line.quantity, line.unit_price) == ("10000000001", "A1", 2, usd("9.99"))
    assert "Jane" not in repr(order) and "95125" not in repr(order)  # no buyer personal data
    assert page.done
    assert page.next == OrderCursor(datetime(2026, 11, 27, 11, 54, tzinfo=UTC))  # until - 5 min overlap


@pytest.mark.parametrize(
    ("fulfillment", "payment", "cancel", "expected"),
    [
        ("NOT_STARTED", "PAID", "NONE_REQUESTED", OrderStatus.PAID),
        ("IN_PROGRESS", "PAID", "NONE_REQUESTED", OrderStatus.PAID),
        ("FULFILLED", "PAID", "NONE_REQUESTED", OrderStatus.SHIPPED),
        ("NOT_STARTED", "PENDING", "NONE_REQUESTED", OrderStatus.PENDING),
        ("NOT_STARTED", "FAILED", "NONE_REQUESTED", OrderStatus.PENDING),
        ("FULFILLED", "FULLY_REFUNDED", "NONE_REQUESTED", OrderStatus.REFUNDED),
        ("NOT_STARTED", "PAID", "CANCELED", OrderStatus.CANCELLED),
    ],
)
def test_order_status_mapping(fulfillment, payment, cancel, expected):
    from listing_sync.adapters.ebay.mapping import order

    data = {**ORDER, "orderFulfillmentStatus": fulfillment, "orderPaymentStatus": payment}
    data["cancelStatus"] = {"cancelState": cancel, "cancelRequests": []}
    assert order(data).status is expected


def test_cancellations_are_read_with_get_order(adapter, api: respx.MockRouter):
    summary = {**ORDER, "cancelStatus": {"cancelState": "IN_PROGRESS", "cancelRequests": []}}
    full = {
        **ORDER,
        "cancelStatus": {
            "cancelState": "IN_PROGRESS",
            "cancelRequests": [{"cancelRequestId": "5000000001", "cancelRequestState": "COMPLETED"}],
        },
    }
    api.get(f"{FUL}/order").respond(200, json={"orders": [summary, ORDER | {"orderId": "08-1"}], "total": 2})
    single = api.get(f"{FUL}/order/07-12345-67890").respond(200, json=full)
    page = adapter.orders_since(OrderCursor(datetime(2026, 11, 27, tzinfo=UTC)))
    assert single.call_count == 1  # only the order with a cancel state is re-read
    assert {o.external_id: o.status for o in page.orders} == {
        "07-12345-67890": OrderStatus.CANCELLED,
        "08-1": OrderStatus.PAID,
    }


def test_orders_page_to_the_last_page(adapter, api: respx.MockRouter):
    """total 450, limit 200, 10 rows re-read per page: offsets 0, 190, 380."""

    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        rows = [ORDER | {"orderId": f"O{i}"} for i in range(offset, min(offset + 200, 450))]
        return httpx.Response(200, json={"orders": rows, "total": 450, "limit": 200, "offset": offset})

    api.get(f"{FUL}/order").mock(side_effect=page)
    cursor = OrderCursor(datetime(2026, 11, 27, tzinfo=UTC))
    seen: set[str] = set()
    offsets = []
    for _ in range(10):
        result = adapter.orders_since(cursor)
        offsets.append(int(sent(api, "GET", "/sell/fulfillment/v1/order").url.params["offset"]))
        seen |= {o.external_id for o in result.orders}
        if result.next.until is None:
            break
        assert result.next.until == datetime(2026, 11, 27, 11, 59, tzinfo=UTC)  # the window stays fixed
        assert not result.done
        cursor = result.next
    assert offsets == [0, 190, 380]
    assert seen == {f"O{i}" for i in range(450)}
    assert result.done


# ------------------------------------------------------------------------------------------ listings
def test_listings_follow_next_and_read_offers(adapter, api: respx.MockRouter):
    api.get(f"{INV}/inventory_item", params={"offset": "0"}).respond(
        200,
        json={
            "inventoryItems": [
                {
                    "sku": "A1",
                    "product": {"title": "Mug"},
                    "availability": {"shipToLocationAvailability": {"quantity": 4}},
                }
            ],
            "next": f"{INV}/inventory_item?limit=100&offset=1",
            "total": 2,
        },
    )
    api.get(f"{INV}/inventory_item", params={"offset": "1"}).respond(
        200,
        json={
            "inventoryItems": [{"sku": "B2", "availability": {"shipToLocationAvailability": {"quantity": 0}}}],
            "total": 2,
        },
    )
    api.get(f"{INV}/offer", params={"sku": "A1"}).respond(
        200,
        json={
            "offers": [
                {
                    "offerId": "5000001",
                    "sku": "A1",
                    "marketplaceId": "EBAY_US",
                    "format": "FIXED_PRICE",
                    "status": "PUBLISHED",
                    "availableQuantity": 4,
                    "pricingSummary": {"price": {"value": "9.99", "currency": "USD"}},
                    "listing": {"listingId": "110000000001", "listingStatus": "ACTIVE"},
                }
            ]
        },
    )
    api.get(f"{INV}/offer", params={"sku": "B2"}).respond(404, json={})
    rows = list(adapter.listings())
    assert [(r.sku, r.status, r.price, r.quantity) for r in rows] == [
        ("A1", "active", usd("9.99"), 4),
        ("B2", "unlisted", None, 0),
    ]
    assert rows[0].ref.ids == {"offer_id": "5000001", "listing_id": "110000000001"}
    assert trail(api)[0] == f"GET {INV}/inventory_item?limit=100&offset=0"


def test_a_mark_older_than_90_days_is_moved_to_the_oldest_readable_time(adapter, api: respx.MockRouter):
    api.get(f"{FUL}/order").respond(200, json={"orders": [], "total": 0})
    adapter.orders_since(OrderCursor(datetime(2026, 1, 1, tzinfo=UTC)))
    url = str(sent(api, "GET", "/sell/fulfillment/v1/order").url)
    assert "%5B2026-08-29T12:05:00.000Z..2026-11-27T11:59:00.000Z%5D" in url  # now - 90 days + 5 min


GROUP_REF = ListingRef(
    "TEE",
    "110000000009",
    {"marketplace_id": "EBAY_US", "group_key": "TEE", "offer_id:TEE-M": "11", "offer_id:TEE-L": "12"},
)


def test_delisting_every_variation_of_a_bound_group_is_one_group_withdraw(adapter, api: respx.MockRouter):
    api.post(f"{INV}/offer/withdraw_by_inventory_item_group").respond(200, json={})
    requests = [DelistRequest("TEE-M", GROUP_REF), DelistRequest("TEE-L", GROUP_REF)]
    assert [len(c) for c in adapter.chunks(Operation.DELIST, requests)] == [2]
    results = adapter.delist(requests)
    assert [r.ok for r in results] == [True, True]
    assert trail(api) == [f"POST {INV}/offer/withdraw_by_inventory_item_group"]
    assert body(api.calls.last.request) == {"inventoryItemGroupKey": "TEE", "marketplaceId": "EBAY_US"}


def test_delisting_some_variations_of_a_group_withdraws_their_offers(adapter, api: respx.MockRouter):
    api.post(f"{INV}/offer/11/withdraw").respond(200, json={})
    [result] = adapter.delist([DelistRequest("TEE-M", GROUP_REF)])
    assert result.ok and trail(api) == [f"POST {INV}/offer/11/withdraw"]


def test_delist_chunks_never_split_a_group(adapter):
    refs = [ListingRef(f"G{g}", None, {"group_key": f"G{g}"}) for g in range(7)]
    requests = [DelistRequest(f"G{g}-{v}", refs[g]) for g in range(7) for v in range(4)]
    chunks = list(adapter.chunks(Operation.DELIST, requests))
    assert [len(c) for c in chunks] == [24, 4]
    assert all(len({r.ref.get("group_key") for r in c}) == len(c) // 4 for c in chunks)
