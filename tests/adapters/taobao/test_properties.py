"""Property: any reshaping of the documented taobao.trades.sold.increment.get and items answers (fields
dropped or replaced by any JSON value) goes through the adapter's mapping without an exception escaping
except the typed ones; every trade of a page is either read or told as a problem."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from listing_sync.adapters.base import ChannelError, OrderCursor

from tests.adapters.schema_strategy import reshaped
from tests.adapters.taobao.conftest import NOW
from tests.adapters.taobao.test_orders import trade

PROPERTY = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
TRADES = {"trades": {"trade": [trade(1, "2026-11-27 09:10:00"), trade(2, "2026-11-27 09:20:00")]}, "total_results": 2}
ITEMS = {"items": {"item": [{"num_iid": 900, "title": "T", "price": "59.00", "num": 8, "outer_id": "TEE"}]},
         "total_results": 1}  # fmt: skip
SKUS = {"skus": {"sku": [{"sku_id": 41, "num_iid": 900, "properties": "1:2", "quantity": 5, "price": "59.00",
                          "outer_id": "TEE-W-M"}]}}  # fmt: skip


def answering(bodies: dict[str, Any]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        method = request.url.params["method"]
        key = method.removeprefix("taobao.").replace(".", "_") + "_response"
        return httpx.Response(200, json={key: bodies.get(method, {"total_results": 0})})

    return httpx.MockTransport(handle)


@PROPERTY
@given(body=reshaped(TRADES))
def test_trades_answers_map_or_fail_typed(make_adapter, body: Any) -> None:
    adapter = make_adapter(transport=answering({"taobao.trades.sold.increment.get": body}))
    try:
        page = adapter.orders_since(OrderCursor(NOW - timedelta(hours=2), NOW - timedelta(hours=1, minutes=45), "1"))
    except ChannelError:
        return
    trades = body.get("trades")
    rows = trades.get("trade") if isinstance(trades, dict) else trades
    if isinstance(rows, list):
        assert len(page.orders) + len(page.problems) == len(rows)


@PROPERTY
@given(items=reshaped(ITEMS), skus=reshaped(SKUS))
def test_items_answers_map_or_fail_typed(make_adapter, items: Any, skus: Any) -> None:
    adapter = make_adapter(transport=answering({"taobao.items.onsale.get": items, "taobao.item.skus.get": skus}))
    adapter.channel = adapter.channel.model_copy(update={"max_pages": 3})  # a large total_results: stop early
    with contextlib.suppress(ChannelError):
        list(adapter.listings())
