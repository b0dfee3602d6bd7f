"""Oversell scenarios against the emulators: 3 units left, three channels selling them."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_sync.syncer.models import OrderLine, StockMovement
from scenario import build
from sqlalchemy import func, select

CHANNELS = ["shopify", "woocommerce", "taobao"]


def remote_quantities(sc, sku: str = "TEA-LJ-250") -> dict[str, int | None]:
    out = {}
    for channel in sc.context.channels:
        with sc.context.adapter(channel) as adapter:
            out[channel.name] = next((r.quantity for r in adapter.listings() if r.sku == sku), None)
    return out


def sold_and_reserves(sc) -> tuple[int, int]:
    with sc.context.session() as s:
        sold = s.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0)))
        reserves = s.scalar(select(func.count()).select_from(StockMovement).where(StockMovement.kind == "reserve"))
    return sold, reserves


@pytest.fixture
def scenario(tmp_path: Path):
    sc = build(tmp_path, CHANNELS, units=3)
    assert remote_quantities(sc) == {name: 3 for name in CHANNELS}
    return sc


def test_concurrent_sales_of_the_last_units_end_consistent(scenario) -> None:
    for name in CHANNELS:  # every marketplace accepts an order before we can react
        assert scenario.sell(name) != []
    for name in CHANNELS:
        scenario.pull_and_propagate(name)
    on_hand, reserved = scenario.level()
    sold, reserves = sold_and_reserves(scenario)
    assert on_hand == 3 and reserved == sold and reserves == len(CHANNELS)
    oversold = max(0, reserved - on_hand)
    assert oversold == max(0, sold - 3)  # only what the marketplaces accepted before the first pull
    assert remote_quantities(scenario) == {name: 0 for name in CHANNELS}
    # replaying every pull changes nothing
    for name in CHANNELS:
        scenario.pull_and_propagate(name)
    assert scenario.level() == (on_hand, reserved)


def test_pull_between_sales_prevents_overselling(scenario) -> None:
    for name in CHANNELS:  # within the poll interval each sale is pulled and pushed everywhere
        scenario.sell(name)
        scenario.pull_and_propagate(name)
        left = 3 - scenario.level()[1]
        assert set(remote_quantities(scenario).values()) == {max(0, left)}
    on_hand, reserved = scenario.level()
    assert reserved <= on_hand == 3  # nothing oversold
