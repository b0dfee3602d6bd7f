"""createShippingFulfillment: the exact request, its check against eBay's Fulfillment OAS3 file, the
emulator's answer and state, and the carrier mapping."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    OrderCursor,
    OrderStatus,
    OutcomeUnknown,
    RequestRejected,
    Shipment,
    ShipmentLine,
    UnmappedCarrier,
)

from tests.adapters.ebay.test_spec import check

FUL = "https://api.ebay.com/sell/fulfillment/v1"
SHIPPED_AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def shipment(order: str = "07-12345-67890", line: str = "10000000001", **kw) -> Shipment:
    return Shipment(
        order, kw.pop("carrier", "UPS"), "1Z999AA10123456784", (ShipmentLine(line, "A1", 2),), SHIPPED_AT, **kw
    )


def test_ship_sends_create_shipping_fulfillment(adapter, api: respx.MockRouter) -> None:
    location = f"{FUL}/order/07-12345-67890/shipping_fulfillment/9405509699937003457459"
    route = api.post(f"{FUL}/order/07-12345-67890/shipping_fulfillment").respond(
        201, json={}, headers={"Location": location}
    )

    reference = adapter.ship(shipment())

    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Bearer v^1.1#i^1#p^3#access-abcdef"
    assert json.loads(request.content) == {
        "lineItems": [{"lineItemId": "10000000001", "quantity": 2}],
        "shippedDate": "2026-11-27T09:30:00.000Z",
        "shippingCarrierCode": "UPS",
        "trackingNumber": "1Z999AA10123456784",
    }
    assert check(request) == ("POST", "/order/{orderId}/shipping_fulfillment")
    assert reference == "9405509699937003457459"


def test_a_lost_answer_is_looked_up_not_sent_again(adapter, api: respx.MockRouter) -> None:
    path = f"{FUL}/order/07-12345-67890/shipping_fulfillment"
    post = api.post(path).mock(side_effect=httpx.ReadTimeout("answer lost"))
    found = {
        "fulfillmentId": "1Z999AA10123456784",
        "shipmentTrackingNumber": "1Z999AA10123456784",
        "shippingCarrierCode": "UPS",
        "lineItems": [{"lineItemId": "10000000001"}],
        "shippedDate": "2026-11-27T09:30:00.000Z",
    }
    get = api.get(path).respond(200, json={"fulfillments": [found], "total": 1})

    assert adapter.ship(shipment()) == "1Z999AA10123456784"

    assert post.call_count == 1 and get.call_count == 1  # never re-sent
    assert check(get.calls.last.request) == ("GET", "/order/{orderId}/shipping_fulfillment")


def test_a_lost_answer_not_found_stays_unknown(adapter, api: respx.MockRouter) -> None:
    path = f"{FUL}/order/07-12345-67890/shipping_fulfillment"
    post = api.post(path).mock(side_effect=httpx.ReadTimeout("answer lost"))
    api.get(path).respond(200, json={"fulfillments": [], "total": 0})
    with pytest.raises(OutcomeUnknown):
        adapter.ship(shipment())
    assert post.call_count == 1


def test_ship_refusal_is_typed(adapter, api: respx.MockRouter) -> None:
    error = {
        "errors": [
            {
                "errorId": 32300,
                "domain": "API_FULFILLMENT",
                "category": "REQUEST",
                "message": "Invalid shipment tracking number or carrier",
            }
        ]
    }
    api.post(f"{FUL}/order/07-12345-67890/shipping_fulfillment").respond(400, json=error)
    with pytest.raises(RequestRejected) as caught:
        adapter.ship(shipment())
    assert not caught.value.retryable


def test_unmapped_carrier_names_channel_and_carrier(adapter) -> None:
    with pytest.raises(UnmappedCarrier, match="carrier 'YUNDA' has no ebay code on channel"):
        adapter.ship(shipment(carrier="YUNDA"))


def test_chinese_carriers_use_the_shipping_carrier_code_type_spellings(adapter) -> None:
    assert [adapter.carrier_code(c) for c in ("4PX", "YANWEN", "CHINAPOST", "EMS")] == [
        "FourPX",
        "YANWEN",
        "ChinaPost",
        "ChinaPost",
    ]
    for carrier in ("SF", "CAINIAO"):  # not in eBay's ShippingCarrierCodeType
        with pytest.raises(UnmappedCarrier, match=f"carrier '{carrier}' has no ebay code"):
            adapter.carrier_code(carrier)


def test_emulator_fulfils_and_the_next_pull_agrees(emulated, emulator, fake) -> None:
    from listing_sync.adapters.base import ListingDraft, Money

    draft = ListingDraft(
        "A1",
        "Mug",
        "Stoneware",
        "20625",
        Money.of("9.99", "USD"),
        5,
        images=("https://img.example.com/a.jpg",),
        brand="Acme",
    )
    assert emulated.publish([draft])[0].ok
    [order_id] = emulator.generate_orders(1)
    fake.advance(120)
    [order] = emulated.orders_since(OrderCursor(fake.now() - timedelta(days=1))).orders
    line = order.lines[0]
    wire = Shipment(
        order_id, "DHL", "JD014600006281234567", (ShipmentLine(line.line_id, line.sku, line.quantity),), fake.now()
    )

    reference = emulated.ship(wire)

    assert reference == "JD014600006281234567"
    assert check(emulator.requests[-1]) == ("POST", "/order/{orderId}/shipping_fulfillment")
    fake.advance(120)
    [again] = emulated.orders_since(OrderCursor(fake.now() - timedelta(days=1))).orders
    assert again.status is OrderStatus.SHIPPED
    posts = sum(1 for r in emulator.requests if r.method == "POST" and r.url.path.endswith("shipping_fulfillment"))
    assert emulated.ship(replace(wire, look_first=True)) == "JD014600006281234567"  # a retry finds it
    assert posts == sum(
        1 for r in emulator.requests if r.method == "POST" and r.url.path.endswith("shipping_fulfillment")
    )
    bad = Shipment(order_id, "DHL", "JD0146", (ShipmentLine("nope", "A1", 1),), fake.now())
    with pytest.raises(RequestRejected, match="Invalid line item id"):
        emulated.ship(bad)
