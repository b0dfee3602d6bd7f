"""Cancelling here and on the channel: the reservation is released exactly once whichever side cancels,
a marketplace without a cancel call changes nothing, and shipped units are restocked only on receipt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from listing_sync.syncer.models import Order, StockMovement
from listing_sync.syncer.services import cancellation, orders, shipping
from listing_sync.syncer.services.common import InvalidRequest
from scenario import build
from sqlalchemy import func, select


def _pull(world, channel: str) -> None:
    orders.pull_orders(world.context, [channel], push=False)


def _sold(world, channel: str) -> tuple[str, int]:
    [order] = world.sell(channel)
    _pull(world, channel)
    with world.context.session() as s:
        row = s.scalar(select(Order).where(Order.external_id == order))
        return order, sum(line.quantity for line in row.lines)


def _channel_sets(world, channel: str, order: str, status: str) -> None:
    """The marketplace changes the order a little while ago (inside the next pull's window)."""
    emulator = world.emulator(channel)
    real_now, emulator.now = emulator.now, lambda: real_now() - timedelta(seconds=30)
    try:
        emulator.set_order_status(order, status)
    finally:
        emulator.now = real_now


def _moved(world, kind: str) -> int:
    with world.context.session() as s:
        return int(s.scalar(select(func.count()).select_from(StockMovement).where(StockMovement.kind == kind)))


def test_cancel_here_tells_the_channel_and_releases_once(tmp_path) -> None:
    world = build(tmp_path, ["woocommerce"], units=10)
    order, units = _sold(world, "woocommerce")
    on_hand, reserved = world.level()
    done = cancellation.cancel_order(world.context, order, reason="customer called", user="cs")
    assert (done.channel, done.released) == ("woocommerce", units)
    assert world.level() == (on_hand, reserved - units)
    assert world.emulator("woocommerce").state["orders"][order]["status"] == "cancelled"
    _pull(world, "woocommerce")  # the channel now says cancelled too
    assert world.level() == (on_hand, reserved - units) and _moved(world, "release") == 1
    with pytest.raises(InvalidRequest, match="is cancelled: only pending or paid"):
        cancellation.cancel_order(world.context, order, reason="again")


def test_a_marketplace_without_a_cancel_call_changes_nothing(tmp_path) -> None:
    world = build(tmp_path, ["taobao"], units=10)
    order, _units = _sold(world, "taobao")
    before = world.level()
    with pytest.raises(cancellation.NotSupported, match="not supported by taobao .*taobao.trade.close"):
        cancellation.cancel_order(world.context, order, reason="x")
    assert world.level() == before
    with world.context.session() as s:
        assert s.scalar(select(Order.status).where(Order.external_id == order)) == "paid"
    with pytest.raises(InvalidRequest, match="--reason is required"):
        cancellation.cancel_order(world.context, order, reason="  ")


def test_channel_cancel_after_a_partial_shipment_releases_only_the_rest(tmp_path) -> None:
    world = build(tmp_path, ["woocommerce"], units=10)
    for _ in range(6):
        order, units = _sold(world, "woocommerce")
        if units >= 2:
            break
    else:
        pytest.skip("the seeded emulator sold no order of two units")
    on_hand, reserved = world.level()
    shipping.ship(world.context, [shipping.ShipRequest(order, "SF", "SF1", (("TEA-LJ-250", 1),))])
    _channel_sets(world, "woocommerce", order, "cancelled")
    _pull(world, "woocommerce")
    assert world.level() == (on_hand - 1, reserved - units)
    _pull(world, "woocommerce")
    assert world.level() == (on_hand - 1, reserved - units)


def test_refund_after_shipping_restocks_only_when_the_return_is_received(tmp_path) -> None:
    world = build(tmp_path, ["woocommerce"], units=10)
    order, units = _sold(world, "woocommerce")
    on_hand, _reserved = world.level()
    shipping.ship(world.context, [shipping.ShipRequest(order, "SF", "SF2")])
    _channel_sets(world, "woocommerce", order, "refunded")
    _pull(world, "woocommerce")
    assert world.level()[0] == on_hand - units  # a refund is money, not stock
    received = orders.receive_return(world.context, "woocommerce", order)
    assert received.units == units and world.level()[0] == on_hand
    again = orders.receive_return(world.context, "woocommerce", order)
    assert again.units == 0 and world.level()[0] == on_hand
