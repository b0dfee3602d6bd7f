"""confirmShipment (Orders v0 shipmentConfirmation, not among the deprecated v0 operations): the exact
request, its check against ordersV0.json, the emulator's validation and the state the next pull reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import respx
from listing_sync.adapters.base import (
    ListingDraft,
    Money,
    OrderCursor,
    OrderStatus,
    RequestRejected,
    Shipment,
    ShipmentLine,
)

from tests.adapters.amazon.conftest import T0, build
from tests.adapters.amazon.test_spec import check_request, load

NA = "https://sellingpartnerapi-na.amazon.com"
LWA = "https://api.amazon.com/auth/o2/token"
SHIPPED_AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        router.post(LWA).respond(200, json={"access_token": "Atza|t", "token_type": "bearer", "expires_in": 3600})
        yield router


def test_confirm_shipment_is_not_deprecated_in_the_model() -> None:
    spec = load("ordersV0.json")
    op = spec["paths"]["/orders/v0/orders/{orderId}/shipmentConfirmation"]["post"]
    assert op["operationId"] == "confirmShipment" and not op.get("deprecated")
    assert spec["paths"]["/orders/v0/orders"]["get"]["deprecated"] is True  # getOrders is


@pytest.mark.parametrize(
    ("carrier", "package_extra"),
    [("UPS", {"carrierCode": "UPS"}), ("SF", {"carrierCode": "Other", "carrierName": "SF Express"})],
)
def test_ship_sends_confirm_shipment(api, clock, carrier, package_extra) -> None:
    route = api.post(f"{NA}/orders/v0/orders/902-3159896-1390916/shipmentConfirmation").respond(204)
    adapter = build(clock)
    wire = Shipment(
        "902-3159896-1390916",
        carrier,
        "1Z999AA10123456784",
        (ShipmentLine("68828574383266", "A1", 1),),
        SHIPPED_AT,
        complete=False,
        package=2,
    )

    assert adapter.ship(wire) == "2"

    request = route.calls.last.request
    assert json.loads(request.content) == {
        "marketplaceId": "ATVPDKIKX0DER",
        "packageDetail": {
            "packageReferenceId": "2",
            "trackingNumber": "1Z999AA10123456784",
            "shipDate": "2026-11-27T09:30:00Z",
            "orderItems": [{"orderItemId": "68828574383266", "quantity": 1}],
            **package_extra,
        },
    }
    assert request.headers["x-amz-access-token"] == "Atza|t"
    assert check_request(request) == "confirmShipment"


def test_emulator_ships_partially_then_fully_and_the_pull_agrees(world_factory) -> None:
    w = world_factory(emulator_options={"feed_seconds": 30})
    w.adapter.publish([ListingDraft("A", "A", "d", "PRODUCT", Money.of("10.00", "USD"), 50, barcode="4006381333931")])
    w.clock.now += 1
    w.emulator.now = lambda: T0 - timedelta(hours=1)
    ids = w.emulator.generate_orders(3)
    w.emulator.now = w.clock.utc
    w.clock.now += 600
    orders = {o.external_id: o for o in w.adapter.orders_since(OrderCursor(T0 - timedelta(hours=2))).orders}
    order = (
        next(o for o in orders.values() if o.lines[0].quantity > 1)
        if any(o.lines[0].quantity > 1 for o in orders.values())
        else orders[ids[0]]
    )
    line = order.lines[0]
    first = Shipment(
        order.external_id,
        "DHL",
        "JD0146000062",
        (ShipmentLine(line.line_id, line.sku, 1),),
        w.clock.utc(),
        complete=line.quantity == 1,
    )
    w.adapter.ship(first)
    assert check_request(w.emulator.requests[-1]) == "confirmShipment"
    if line.quantity > 1:
        rest = Shipment(
            order.external_id,
            "DHL",
            "JD0146000063",
            (ShipmentLine(line.line_id, line.sku, line.quantity - 1),),
            w.clock.utc(),
            package=2,
        )
        w.adapter.ship(rest)
    w.clock.now += 600
    again = {o.external_id: o for o in w.adapter.orders_since(OrderCursor(T0 - timedelta(hours=2))).orders}
    assert again[order.external_id].status is OrderStatus.SHIPPED
    with pytest.raises(RequestRejected, match="orderItemId"):
        w.adapter.ship(Shipment(ids[-1], "UPS", "1Z9", (ShipmentLine("nope", "A", 1),), w.clock.utc()))
