"""orderCancel: the exact document and variables, userErrors, and the emulator's restock and state."""

from __future__ import annotations

from datetime import timedelta

import pytest
import respx
from listing_sync.adapters.base import OrderCursor, OrderStatus, PermanentItemError
from listing_sync.adapters.shopify.emulator import ShopifyEmulator

from tests.conftest import FakeClock

from .conftest import NOW, TOKEN, endpoint, gql_ok, sent
from .test_schema import full_schema, problems


def test_cancel_sends_order_cancel(build) -> None:
    adapter = build()
    with respx.mock() as api:
        route = api.post(endpoint()).mock(
            return_value=gql_ok(
                {"orderCancel": {"job": {"id": "gid://shopify/Job/1", "done": False}, "orderCancelUserErrors": []}}
            )
        )
        adapter.cancel("gid://shopify/Order/1001", "out of stock after a stock count")
    body = sent(route.calls.last.request)
    assert body["variables"] == {
        "orderId": "gid://shopify/Order/1001",
        "reason": "OTHER",
        "restock": True,
        "refundMethod": {"originalPaymentMethodsRefund": True},
        "notifyCustomer": True,
        "staffNote": "out of stock after a stock count",
    }
    assert body["query"].startswith("mutation CancelOrder(")
    assert problems(full_schema(), body["query"], body["variables"]) == []


def test_user_errors_refuse(build) -> None:
    adapter = build()
    with respx.mock() as api:
        error = {"code": "INVALID", "field": ["orderId"], "message": "Order has already been cancelled."}
        api.post(endpoint()).mock(return_value=gql_ok({"orderCancel": {"job": None, "orderCancelUserErrors": [error]}}))
        with pytest.raises(PermanentItemError, match="already been cancelled"):
            adapter.cancel("gid://shopify/Order/1001", "x")


def test_emulator_cancels_restocks_and_the_pull_reads_it(build) -> None:
    clock = FakeClock()
    emu = ShopifyEmulator(credentials={"access_token": TOKEN}, clock=clock, now=lambda: NOW - timedelta(minutes=10))
    adapter = build(transport=emu.transport(), clock=clock)
    loc = emu.state["locations"][0]["id"]
    emu.state["variants"]["gid://shopify/ProductVariant/1"] = {
        "sku": "A",
        "productId": "P",
        "price": "5.00",
        "inventoryItemId": "I",
    }
    emu.state["products"]["P"] = {"status": "ACTIVE", "title": "A"}
    emu.state["inventory"]["I"] = {"levels": {loc: 10}}
    [oid] = emu.generate_orders(1)
    sold = emu.state["orders"][oid]["lineItems"][0]["quantity"]
    adapter.cancel(oid, "buyer asked by phone")
    assert emu.state["inventory"]["I"]["levels"][loc] == 10
    [order] = adapter.orders_since(OrderCursor(NOW - timedelta(hours=1))).orders
    assert order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED) and sold > 0
    with pytest.raises(PermanentItemError, match="already been cancelled"):
        adapter.cancel(oid, "again")
