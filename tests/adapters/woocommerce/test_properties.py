"""Property: any reshaping of the documented "List all orders" and products answers (fields dropped or
replaced by any JSON value) goes through the adapter's mapping without an exception escaping except the
typed ones; every order of a page is either read or told as a problem."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from listing_sync.adapters.base import ChannelError, OrderCursor

from tests.adapters.schema_strategy import reshaped
from tests.adapters.woocommerce.test_wire import DOC_ORDER

PROPERTY = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
PRODUCT = {"id": 801, "sku": "MUG-1", "type": "simple", "status": "publish", "price": "9.90", "manage_stock": True,
           "stock_quantity": 5, "name": "Mug"}  # fmt: skip
VARIABLE = {"id": 22, "sku": "TEE", "type": "variable", "status": "publish", "price": "12.00", "name": "Tee"}
VARIATION = {"id": 23, "sku": "TEE-R", "status": "publish", "price": "12.00", "manage_stock": True, "stock_quantity": 3}


def answering(body: Any, variations: Any = ()) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        answer = variations if "/variations" in request.url.path else body
        return httpx.Response(200, json=answer, headers={"X-WP-Total": "2", "X-WP-TotalPages": "1"})

    return httpx.MockTransport(handle)


@PROPERTY
@given(rows=reshaped([DOC_ORDER, {**DOC_ORDER, "id": 728}]))
def test_orders_answers_map_or_fail_typed(make_adapter, rows: Any) -> None:
    until = datetime.now(UTC) - timedelta(minutes=10)
    try:
        page = make_adapter(transport=answering(rows)).orders_since(OrderCursor(until - timedelta(hours=1), until))
    except ChannelError:
        return
    objects = [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
    assert len({o.external_id for o in page.orders}) + len(page.problems) <= len(objects)
    assert len(page.orders) + len(page.problems) >= (1 if objects else 0)


@PROPERTY
@given(products=reshaped([PRODUCT, VARIABLE]), variations=reshaped([VARIATION]))
def test_products_answers_map_or_fail_typed(make_adapter, products: Any, variations: Any) -> None:
    with contextlib.suppress(ChannelError):
        list(make_adapter(transport=answering(products, variations)).listings())
