"""Property: any answer valid against Amazon's own models (Orders API v2026-01-01 SearchOrdersResponse,
Listings Items ItemSearchResults) goes through the adapter's mapping without an exception escaping
except the typed ones; every order of a page is either read or told as a problem."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from listing_sync.adapters.base import ChannelError, OrderCursor

from tests.adapters.amazon.conftest import Clock, build
from tests.adapters.schema_strategy import SPECS, from_spec, load

if not (SPECS / "amazon").is_dir():  # the strategies below are built from the files at import
    pytest.skip(f"official Amazon models not found at {SPECS / 'amazon'}", allow_module_level=True)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def answering(body: Any) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/o2/token":
            return httpx.Response(200, json={"access_token": "Atza|t", "expires_in": 3600, "token_type": "bearer"})
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


@PROPERTY
@given(body=from_spec(load("amazon/orders_2026-01-01.json"), "SearchOrdersResponse"))
def test_search_orders_answers_map_or_fail_typed(body: dict[str, Any]) -> None:
    clock = Clock()
    adapter = build(clock, transport=answering(body))
    since = clock.utc() - timedelta(hours=1)
    try:
        page = adapter.orders_since(OrderCursor(since, since + timedelta(minutes=30), "t0"))
    except ChannelError:
        return
    assert len(page.orders) + len(page.problems) == len(body["orders"])
    assert all(problem.code == "unexpected_response" for problem in page.problems)


@PROPERTY
@given(body=from_spec(load("amazon/listingsItems_2021-08-01.json"), "ItemSearchResults"))
def test_search_listings_answers_map_or_fail_typed(body: dict[str, Any]) -> None:
    adapter = build(Clock(), transport=answering(body))
    with contextlib.suppress(ChannelError):
        list(adapter.listings())
