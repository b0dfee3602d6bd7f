"""Property: any reshaping of the documented aliexpress.solution.order.get answer (fields dropped or
replaced by any JSON value) goes through the adapter's mapping without an exception escaping except the
typed ones; every order_dto of a page is either read or told as a problem."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from listing_sync.adapters.base import ChannelError, OrderCursor

from tests.adapters.aliexpress.conftest import NOW
from tests.adapters.aliexpress.test_orders import dto
from tests.adapters.schema_strategy import reshaped

PROPERTY = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
RESULT = {
    "success": True,
    "current_page": 1,
    "total_page": 1,
    "target_list": {"order_dto": [dto(1, "PLACE_ORDER_SUCCESS"), dto(2, "FINISH")]},
}


@PROPERTY
@given(result=reshaped(RESULT))
def test_order_answers_map_or_fail_typed(make_adapter, result: Any) -> None:
    answer = {"aliexpress_solution_order_get_response": {"result": result}}
    adapter = make_adapter(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=answer)))
    try:
        page = adapter.orders_since(OrderCursor(NOW - timedelta(hours=2), NOW - timedelta(hours=1), "open:1"))
    except ChannelError:
        return
    target = result.get("target_list") if isinstance(result, dict) else None
    rows = target.get("order_dto") if isinstance(target, dict) else target
    if isinstance(rows, list):
        assert len(page.orders) + len(page.problems) == len(rows)


LIST = {"total_page": 1, "aeop_a_e_product_display_d_t_o_list": {"item_display_dto": [{"product_id": 9001}]}}
SKU = {"id": "14:1", "sku_code": "X-S", "sku_price": "20.00", "sku_discount_price": "18.00", "ipm_sku_stock": 6}
INFO = {"subject": "X", "currency_code": "USD", "aeop_ae_product_s_k_us": {"global_aeop_ae_product_sku": [SKU]}}


@PROPERTY
@given(listed=reshaped(LIST), info=reshaped(INFO))
def test_product_answers_map_or_fail_typed(make_adapter, listed: Any, info: Any) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        method = request.url.params["method"]
        result = listed if method == "aliexpress.solution.product.list.get" else info
        return httpx.Response(200, json={method.replace(".", "_") + "_response": {"result": result}})

    adapter = make_adapter(options={"listing_statuses": ["onSelling"]}, transport=httpx.MockTransport(handle))
    adapter.channel = adapter.channel.model_copy(update={"max_pages": 3})
    with contextlib.suppress(ChannelError):
        list(adapter.listings())
