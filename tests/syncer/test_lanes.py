"""Stock first: quantity pushes go ahead of price and content pushes, in a plan and during a backlog."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from fakes import FakeAdapter
from listing_sync.adapters.base import Limits, Operation
from listing_sync.syncer import reconcile
from listing_sync.syncer.models import Sku, StockLevel
from sqlalchemy import update
from test_reconcile import World, channel


class OnePricePerCall(FakeAdapter):
    """A marketplace whose price write takes one SKU (Taobao's ``item.sku.price.update``)."""

    limits = Limits(publish=10, price=1, stock=20, delist=50, orders_page=2, rate=1000, burst=1000)


def backlog_world(db_url: str, n: int) -> World:
    world = World(db_url, [channel()], n=n)
    world.adapters["shop"] = OnePricePerCall(world.channels[0])
    world.sync("shop")  # published
    with world.session() as s:  # a bulk price change: every SKU's price is due
        s.execute(update(Sku).values(base_price=Decimal("200.00")))
        reconcile.refresh(s, world.channels, world.sku_ids)
    world.adapters["shop"].calls.clear()
    return world


def sell(world: World, index: int, reserved: int) -> None:
    """An order elsewhere reserved units of one SKU: its quantity on this channel is due."""
    with world.session() as s:
        sku_id = world.sku_ids[index]
        s.execute(update(StockLevel).where(StockLevel.sku_id == sku_id).values(reserved=reserved))
        reconcile.refresh(s, world.channels, [sku_id])


def test_a_plan_pushes_stock_before_prices_but_a_restock_after_its_new_price(db_url: str) -> None:
    world = World(db_url, [channel()], n=3)
    world.sync("shop")
    world.set_price("S00000", "150.00")
    world.set_price("S00001", "150.00")
    sell(world, 0, 4)  # S00000: quantity down (10 -> 6) and a new price
    with world.session() as s:  # S00001: restocked (10 -> 15) with a new price; S00002: restocked alone
        s.execute(update(StockLevel).where(StockLevel.sku_id.in_(world.sku_ids[1:])).values(on_hand=15))
        reconcile.refresh(s, world.channels, world.sku_ids)
    adapter = world.adapters["shop"]
    adapter.calls.clear()
    world.sync("shop")
    # selling out goes first, a restock whose price is unchanged too; S00001's raise waits for its price
    assert adapter.calls == [
        (Operation.STOCK, ["S00000", "S00002"]),
        (Operation.PRICE, ["S00000", "S00001"]),
        (Operation.STOCK, ["S00001"]),
    ]
    assert all(world.listing("shop", f"S0000{i}").status == "clean" for i in range(3))


def test_a_quantity_push_goes_ahead_of_the_rest_of_a_price_backlog(db_url: str) -> None:
    world = backlog_world(db_url, n=40)
    adapter = world.adapters["shop"]
    order: list[str] = []

    def slow_price_call(op: Operation, skus: list[str]) -> None:
        order.append(f"{op.value}:{','.join(skus)}")
        if op is Operation.PRICE:
            if len(adapter.calls) == 3:
                sell(world, 35, 4)  # an order while the backlog runs: S00035 must show 6, not 10
            time.sleep(0.02)  # the marketplace's rate: one price call every 20 ms

    adapter.on_call = slow_price_call
    pulls: list[int] = []

    def pull_orders() -> None:  # the channel's own orders, pulled before its quantity is pushed
        order.append("pull")
        pulls.append(len(adapter.calls))

    report = world.sync("shop", before_stock=pull_orders, stock_lane_seconds=0.01)
    stock_at = order.index("stock:S00035")
    assert stock_at < order.index("price:S00020")  # long before the backlog's end (40 price calls)
    assert "pull" in order[:stock_at]  # after a pull (invariant 6: the channel's orders counted)
    assert adapter.items["S00035"]["qty"] == 6 and adapter.items["S00035"]["price"] == 200
    assert report.ok == 41 and report.failed == 0  # 40 prices and 1 quantity, in the same run
    assert sum(1 for call in order if call == "stock:S00035") == 1  # sent once
    # S00035 changed during the push (its order): clean only once a sync sees every value in step, with
    # no call; nothing is lost and nothing is sent twice
    calls = len(adapter.calls)
    world.sync("shop", before_stock=pull_orders)
    assert len(adapter.calls) == calls
    assert all(world.listing("shop", f"S{i:05d}").status == "clean" for i in range(40))


def test_without_the_stock_lane_the_quantity_waits_for_the_backlog(db_url: str) -> None:
    world = backlog_world(db_url, n=12)
    adapter = world.adapters["shop"]

    def order_midway(op: Operation, skus: list[str]) -> None:
        if op is Operation.PRICE and len(adapter.calls) == 3:
            sell(world, 10, 4)

    adapter.on_call = order_midway
    world.sync("shop", stock_lane_seconds=0)
    assert all(op is Operation.PRICE for op, _ in adapter.calls)  # the sale is not on the channel yet
    assert adapter.items["S00010"]["qty"] == 10 and world.listing("shop", "S00010").status == "dirty"


def test_the_stock_lane_leaves_a_restock_behind_its_pending_price(db_url: str) -> None:
    world = backlog_world(db_url, n=20)
    adapter = world.adapters["shop"]

    def restock_midway(op: Operation, skus: list[str]) -> None:
        if op is Operation.PRICE and len(adapter.calls) == 2:
            with world.session() as s:  # S00019 restocked while its new price is still in the backlog
                s.execute(update(StockLevel).where(StockLevel.sku_id == world.sku_ids[19]).values(on_hand=30))
                reconcile.refresh(s, world.channels, [world.sku_ids[19]])
        time.sleep(0.01)

    adapter.on_call = restock_midway
    world.sync("shop", stock_lane_seconds=0.005)
    calls = [(op, skus[0]) for op, skus in adapter.calls]
    assert (Operation.STOCK, "S00019") not in calls[: calls.index((Operation.PRICE, "S00019"))]


def test_the_stock_lane_pulls_the_channels_orders_while_the_backlog_holds_the_lease(db_url: str) -> None:
    world = backlog_world(db_url, n=15)
    adapter = world.adapters["shop"]
    adapter.on_call = lambda op, skus: time.sleep(0.01)
    pulled = threading.Event()
    world.sync("shop", stock_lane_seconds=0.005, lane_pull=pulled.set)
    assert pulled.is_set()


def test_a_planned_restock_that_an_order_overtook_is_left_to_the_lane_not_sent_after_it(db_url: str) -> None:
    """S00000 restocked 10 -> 25 with its new price pending: its raise waits behind the price backlog. An
    order then reserves 22: the lane sends 3. The backlog's planned 25 must not follow it (the marketplace
    would sell 22 units that are gone until the next sync)."""
    world = backlog_world(db_url, n=10)
    adapter = world.adapters["shop"]
    with world.session() as s:
        s.execute(update(StockLevel).where(StockLevel.sku_id == world.sku_ids[0]).values(on_hand=25))
        reconcile.refresh(s, world.channels, [world.sku_ids[0]])

    def order_after_its_price(op: Operation, skus: list[str]) -> None:
        if op is Operation.PRICE:
            if skus == ["S00000"]:
                sell(world, 0, 22)
            time.sleep(0.02)

    adapter.on_call = order_after_its_price
    world.sync("shop", stock_lane_seconds=0.005)
    sent = [skus for op, skus in adapter.calls if op is Operation.STOCK]
    assert ["S00000"] in sent and adapter.items["S00000"]["qty"] == 3  # the lane's, and nothing after it
    assert sum(1 for skus in sent if "S00000" in skus) == 1
    listing = world.listing("shop", "S00000")
    assert (listing.pushed_quantity, listing.desired_quantity) == (3, 3)
    calls = len(adapter.calls)
    world.sync("shop")  # in step: settled without a call
    assert len(adapter.calls) == calls and world.listing("shop", "S00000").status == "clean"
