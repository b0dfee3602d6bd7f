"""Fixtures for the WooCommerce adapter tests: a channel on https://shop.example.com, no real sleeping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from listing_sync.adapters.woocommerce.adapter import WooCommerceAdapter

from tests.conftest import FakeClock, make_channel

CREDS = {"consumer_key": "ck_4f2a9c1e7b", "consumer_secret": "cs_8d3b6e0f5a"}


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_adapter(fake_clock: FakeClock) -> Callable[..., WooCommerceAdapter]:
    made: list[WooCommerceAdapter] = []

    def factory(options: dict[str, Any] | None = None, *, base_url: str | None = None, **kwargs: Any):
        opts = {"site": "shop.example.com", **(options or {})}
        if base_url is not None:
            opts.pop("site")
        channel = make_channel("woocommerce", credentials=CREDS, options=opts, base_url=base_url)
        adapter = WooCommerceAdapter(channel, clock=fake_clock, sleep=fake_clock.sleep, **kwargs)
        made.append(adapter)
        return adapter

    yield factory
    for adapter in made:
        adapter.close()
