"""fulfillmentCreate on the order's fulfillment orders: the exact documents and variables, the emulator's
fulfillment orders and userErrors, and the order state the next pull reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
import respx
from listing_sync.adapters.base import OrderCursor, OrderStatus, PermanentItemError, Shipment, ShipmentLine
from listing_sync.adapters.shopify.emulator import ShopifyEmulator

from tests.conftest import FakeClock

from .conftest import NOW, TOKEN, endpoint, gql_ok, sent

ORDER = "gid://shopify/Order/1001"
LINE_A, LINE_B = "gid://shopify/LineItem/11", "gid://shopify/LineItem/12"
FULFILLMENT_ORDERS = {
    "order": {
        "id": ORDER,
        "fulfillmentOrders": {
            "nodes": [
                {"id": "gid://shopify/FulfillmentOrder/7", "status": "CLOSED", "lineItems": {"nodes": []}},
                {
                    "id": "gid://shopify/FulfillmentOrder/8",
                    "status": "OPEN",
                    "lineItems": {
                        "nodes": [
                            {
                                "id": "gid://shopify/FulfillmentOrderLineItem/81",
                                "remainingQuantity": 2,
                                "lineItem": {"id": LINE_A},
                            },
                            {
                                "id": "gid://shopify/FulfillmentOrderLineItem/82",
                                "remainingQuantity": 1,
                                "lineItem": {"id": LINE_B},
                            },
                        ]
                    },
                },
            ]
        },
    }
}


def test_ship_reads_fulfillment_orders_then_creates_the_fulfillment(build) -> None:
    adapter = build()
    with respx.mock(assert_all_called=True) as api:
        route = api.post(endpoint()).mock(
            side_effect=[
                gql_ok(FULFILLMENT_ORDERS),
                gql_ok(
                    {
                        "fulfillmentCreate": {
                            "fulfillment": {"id": "gid://shopify/Fulfillment/5", "status": "SUCCESS"},
                            "userErrors": [],
                        }
                    }
                ),
            ]
        )
        reference = adapter.ship(
            Shipment(ORDER, "SF", "SF1234567890", (ShipmentLine(LINE_A, "A", 1),), NOW, complete=False)
        )
    read, create = (sent(call.request) for call in route.calls)
    assert read["variables"] == {"id": ORDER}
    assert read["query"].startswith(
        "query FulfillmentOrders($id: ID!) { order(id: $id) { id fulfillmentOrders(first: 5)"
    )
    assert create["query"] == (
        "mutation Fulfill($fulfillment: FulfillmentInput!) { fulfillmentCreate(fulfillment: $fulfillment) "
        "{ fulfillment { id status } userErrors { field message } } }"
    )
    assert create["variables"] == {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/8",
                    "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/81", "quantity": 1}],
                }
            ],
            "notifyCustomer": True,
            "trackingInfo": {"company": "SF Express", "number": "SF1234567890"},
        }
    }
    assert route.calls[0].request.headers["X-Shopify-Access-Token"] == TOKEN
    assert reference == "gid://shopify/Fulfillment/5"


def test_a_retry_finds_the_fulfillment_by_its_tracking_number_and_creates_none(build) -> None:
    found = {
        "order": {
            "id": ORDER,
            "fulfillments": [
                {"id": "gid://shopify/Fulfillment/5", "trackingInfo": [{"number": "OTHER1"}]},
                {"id": "gid://shopify/Fulfillment/6", "trackingInfo": [{"number": "1Z999"}]},
            ],
        }
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(return_value=gql_ok(found))
        wire = Shipment(ORDER, "UPS", "1Z999", (ShipmentLine(LINE_A, "A", 1),), NOW, look_first=True)
        assert build().ship(wire) == "gid://shopify/Fulfillment/6"
    assert len(route.calls) == 1
    body = sent(route.calls.last.request)
    assert body["query"] == (
        "query Fulfillments($id: ID!) { order(id: $id) { id "
        "fulfillments(first: 50) { id trackingInfo(first: 10) { number } } } }"
    )
    assert body["variables"] == {"id": ORDER}


def test_more_than_the_open_fulfillment_orders_hold_is_refused_before_any_mutation(build) -> None:
    adapter = build()
    with respx.mock() as api:
        route = api.post(endpoint()).mock(return_value=gql_ok(FULFILLMENT_ORDERS))
        with pytest.raises(PermanentItemError, match="no open fulfillment order holds"):
            adapter.ship(Shipment(ORDER, "UPS", "1Z9", (ShipmentLine(LINE_B, "B", 2),), NOW))
    assert len(route.calls) == 1


def test_emulator_fulfils_partially_then_fully_and_the_pull_agrees(build) -> None:
    clock = FakeClock()
    emu = ShopifyEmulator(credentials={"access_token": TOKEN}, clock=clock, now=lambda: NOW - timedelta(minutes=10))
    adapter = build(transport=emu.transport(), clock=clock)
    emu.state["variants"]["gid://shopify/ProductVariant/1"] = {
        "sku": "A",
        "productId": "P",
        "price": "5.00",
        "inventoryItemId": "I",
    }
    emu.state["products"]["P"] = {"status": "ACTIVE", "title": "A"}
    emu.state["inventory"]["I"] = {"levels": {emu.state["locations"][0]["id"]: 10}}
    emu.rng.seed(1)
    [oid] = emu.generate_orders(1)
    line = emu.state["orders"][oid]["lineItems"][0]
    line["quantity"] = 2
    adapter.ship(Shipment(oid, "DHL", "JD01", (ShipmentLine(line["id"], "A", 1),), NOW, complete=False))
    assert emu.state["orders"][oid]["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    [order] = adapter.orders_since(OrderCursor(NOW - timedelta(hours=1))).orders
    assert order.status is OrderStatus.PAID
    adapter.ship(Shipment(oid, "DHL", "JD02", (ShipmentLine(line["id"], "A", 1),), NOW, package=2))
    [order] = adapter.orders_since(OrderCursor(NOW - timedelta(hours=1))).orders
    assert order.status is OrderStatus.SHIPPED
    with pytest.raises(PermanentItemError, match="no open fulfillment order holds"):
        adapter.ship(Shipment(oid, "DHL", "JD03", (ShipmentLine(line["id"], "A", 1),), NOW))
