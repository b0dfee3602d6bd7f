"""Shopify's connection loops through the shared paginator: variants, orders and an order's line items."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import respx
from listing_sync.adapters.base import NoProgress, OrderCursor, TooManyPages

from .conftest import endpoint, gql_ok, sent

NODE = {
    "id": "gid://shopify/ProductVariant/71",
    "sku": "TS-S",
    "price": "10.00",
    "inventoryQuantity": 4,
    "product": {"id": "gid://shopify/Product/7", "title": "Tee", "status": "ACTIVE"},
    "inventoryItem": {"id": "gid://shopify/InventoryItem/81"},
}


def variants(cursor: str | None, more: bool = True, nodes: list | None = None) -> dict:
    return {
        "productVariants": {
            "pageInfo": {"hasNextPage": more, "endCursor": cursor},
            "nodes": [NODE] if nodes is None else nodes,
        }
    }


def test_an_end_cursor_that_comes_back_stops_the_read_back(build):
    adapter = build()
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(variants("V1")), gql_ok(variants("V1"))])
        with pytest.raises(NoProgress) as caught:
            list(adapter.listings())
    assert route.call_count == 2 and sent(route.calls[1].request)["variables"]["after"] == "V1"
    assert "productVariants cursor: the page at 'V1' points to 'V1' again" in str(caught.value)


def test_an_empty_variant_page_with_has_next_page_stops(build):
    adapter = build()
    with respx.mock:
        respx.post(endpoint()).mock(side_effect=[gql_ok(variants("V1")), gql_ok(variants("V2", nodes=[]))])
        with pytest.raises(NoProgress, match="is empty but says more follows"):
            list(adapter.listings())


def test_variant_pages_stop_at_max_pages(build):
    adapter = build()
    adapter.channel = adapter.channel.model_copy(update={"max_pages": 2})
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(variants(f"V{n}")) for n in range(5)])
        with pytest.raises(TooManyPages):
            list(adapter.listings())
    assert route.call_count == 2


def test_an_orders_cursor_answered_with_itself_stops_the_pull(build):
    adapter = build()
    page = {"orders": {"pageInfo": {"hasNextPage": True, "endCursor": "E1"}, "nodes": []}}
    since = datetime(2026, 3, 9, tzinfo=UTC)
    with respx.mock:
        respx.post(endpoint()).mock(return_value=gql_ok(page))
        with pytest.raises(NoProgress, match="orders cursor: the page at 'E1' points to 'E1' again"):
            adapter.orders_since(OrderCursor(since, datetime(2026, 3, 10, tzinfo=UTC), "E1"))
