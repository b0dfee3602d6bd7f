"""Fixtures for the Shopify adapter tests: an adapter factory and GraphQL response builders."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from listing_sync.adapters.shopify.adapter import ShopifyAdapter

from tests.conftest import FakeClock, make_channel

SHOP_URL = "https://demo.myshopify.com"
TOKEN = "shpat_0123456789abcdef"
LOCATION = "gid://shopify/Location/1"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def endpoint(version: str = "2026-04") -> str:
    return f"{SHOP_URL}/admin/api/{version}/graphql.json"


def cost(requested: float = 10, available: float = 990, restore: float = 100, maximum: float = 1000) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": restore},
        }
    }


def gql_ok(data: Any, **kw: float) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "extensions": cost(**kw)})


def sent(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content)


def flat(document: str) -> str:
    return " ".join(document.split())


class Keys:
    """Deterministic idempotency keys: key-1, key-2, ..."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"key-{self.n}"


@pytest.fixture
def build() -> Iterator[Callable[..., ShopifyAdapter]]:
    made: list[ShopifyAdapter] = []

    def factory(
        version: str = "2026-04",
        *,
        transport: httpx.BaseTransport | None = None,
        clock: FakeClock | None = None,
        currency: str = "USD",
        **options: Any,
    ) -> ShopifyAdapter:
        opts = {"shop": "demo", "api_version": version, "location_id": LOCATION, **options}
        opts = {k: v for k, v in opts.items() if v is not None}
        channel = make_channel("shopify", currency=currency, credentials={"access_token": TOKEN}, options=opts)
        clock = clock or FakeClock()
        adapter = ShopifyAdapter(channel, transport=transport, clock=clock, sleep=clock.sleep)
        adapter.new_key = Keys()
        adapter.now = lambda: NOW
        made.append(adapter)
        return adapter

    yield factory
    for adapter in made:
        adapter.close()
