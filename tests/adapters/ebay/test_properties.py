"""Property: any answer valid against eBay's own OpenAPI files (Fulfillment getOrders, Inventory
getInventoryItems and getOffers) goes through the adapter's mapping without an exception escaping
except the typed ones; every order of a page is either read or told as a problem."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from listing_sync.adapters.base import ChannelError, OrderCursor
from listing_sync.adapters.ebay.adapter import EbayAdapter

from tests.adapters.ebay.conftest import CREDS, NOW, OPTIONS, Clock
from tests.adapters.schema_strategy import SPECS, from_spec, load
from tests.conftest import make_channel

if not (SPECS / "ebay").is_dir():  # the strategies below are built from the files at import
    pytest.skip(f"official eBay OpenAPI files not found at {SPECS / 'ebay'}", allow_module_level=True)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FULFILLMENT = load("ebay/sell_fulfillment_v1_oas3.json")
INVENTORY = load("ebay/sell_inventory_v1_oas3.json")


def adapter(answers: dict[str, Any]) -> EbayAdapter:
    """An adapter whose every call is answered by the body of the first path part that matches."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "v^1.1#t", "expires_in": 7200, "token_type": "x"})
        for part, body in answers.items():
            if part in request.url.path:
                return httpx.Response(200, json=body)
        return httpx.Response(404, json={"errors": [{"errorId": 25713, "message": "not found"}]})

    clock = Clock()
    channel = make_channel("ebay", credentials=CREDS, options=OPTIONS)
    return EbayAdapter(channel, transport=httpx.MockTransport(handle), clock=clock, sleep=clock.sleep, now=clock.now)


@PROPERTY
@given(orders=from_spec(FULFILLMENT, "OrderSearchPagedCollection"), detail=from_spec(FULFILLMENT, "Order"))
def test_get_orders_answers_map_or_fail_typed(orders: dict[str, Any], detail: dict[str, Any]) -> None:
    cursor = OrderCursor(NOW - timedelta(hours=2), NOW - timedelta(hours=1), "0")
    try:
        page = adapter({"/order/": detail, "/order": orders}).orders_since(cursor)
    except ChannelError:
        return
    raw = orders.get("orders") or []
    read = {o.external_id for o in page.orders}
    assert len(read) + len(page.problems) <= len(raw)  # orders read twice on a page count once
    assert len(page.problems) <= len(raw) and (not raw or read or page.problems)


@PROPERTY
@given(items=from_spec(INVENTORY, "InventoryItems"), offers=from_spec(INVENTORY, "Offers"))
def test_inventory_answers_map_or_fail_typed(items: dict[str, Any], offers: dict[str, Any]) -> None:
    with contextlib.suppress(ChannelError):
        list(adapter({"/inventory_item": items, "/offer": offers}).listings())
