"""Property: any reshaping of the documented orders and productVariants answers (fields dropped or
replaced by any JSON value) goes through the adapter's mapping without an exception escaping except the
typed ones; every order node of a page is either read or told as a problem."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from listing_sync.adapters.base import ChannelError, OrderCursor

from tests.adapters.schema_strategy import reshaped
from tests.adapters.shopify.conftest import cost
from tests.adapters.shopify.test_wire import order_node

PROPERTY = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
VARIANT = {
    "id": "gid://shopify/ProductVariant/71",
    "sku": "TS-S",
    "price": "10.00",
    "inventoryQuantity": 4,
    "product": {"id": "gid://shopify/Product/7", "title": "Tee", "status": "ACTIVE"},
    "inventoryItem": {"id": "gid://shopify/InventoryItem/81"},
}
ORDERS = {"orders": {"pageInfo": {"hasNextPage": False, "endCursor": "E1"}, "nodes": [order_node(1), order_node(2)]}}
VARIANTS = {"productVariants": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [VARIANT]}}


def answering(data: Any) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json={"data": data, "extensions": cost()}))


@PROPERTY
@given(data=reshaped(ORDERS))
def test_orders_answers_map_or_fail_typed(build, data: Any) -> None:
    adapter = build(transport=answering(data))
    try:
        page = adapter.orders_since(OrderCursor(datetime(2026, 3, 9, tzinfo=UTC)))
    except ChannelError:
        return
    assert len(page.orders) + len(page.problems) == len(data["orders"]["nodes"])


@PROPERTY
@given(data=reshaped(VARIANTS))
def test_variant_answers_map_or_fail_typed(build, data: Any) -> None:
    adapter = build(transport=answering(data))
    with contextlib.suppress(ChannelError):
        list(adapter.listings())
