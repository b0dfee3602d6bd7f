"""Shipping through the service: validated whole, recorded once per order and tracking, stock moved from
reserved to shipped exactly once (also when the channel later reports the order shipped), pushed to the
channel, failures retried and shown in status."""

from __future__ import annotations

import pytest
from listing_sync.syncer.models import Order, Shipment, StockMovement
from listing_sync.syncer.services import orders, shipping, sync
from listing_sync.syncer.services.common import InvalidRequest
from listing_sync.syncer.tabular import InputRejected
from scenario import build
from sqlalchemy import func, select


def _paid(world, channel: str, count: int = 1) -> list[tuple[str, int]]:
    """Sell on ``channel``, pull; returns (order id, units) of the new orders."""
    ids = world.sell(channel, count)
    orders.pull_orders(world.context, [channel], user="ops", push=False)
    with world.context.session() as s:
        rows = s.scalars(select(Order).where(Order.external_id.in_(ids)))
        return [(o.external_id, sum(line.quantity for line in o.lines)) for o in rows]


def _ledger(world, kind: str) -> int:
    with world.context.session() as s:
        return int(
            s.scalar(select(func.coalesce(func.sum(StockMovement.on_hand_delta), 0)).where(StockMovement.kind == kind))
        )


def test_ship_moves_reserved_to_shipped_once_and_tells_the_channel(tmp_path) -> None:
    world = build(tmp_path, ["woocommerce"], units=10)
    [(order, units)] = _paid(world, "woocommerce")
    on_hand, reserved = world.level()
    assert reserved == units

    done = shipping.ship(world.context, [shipping.ShipRequest(order, "sf", "SF1001")], user="packer")

    [info] = done.shipments
    assert (info.channel, info.carrier, info.units, info.new, info.status) == (
        "woocommerce",
        "SF",
        units,
        True,
        "pushed",
    )
    assert world.level() == (on_hand - units, 0)
    again = shipping.ship(world.context, [shipping.ShipRequest(order, "SF", "SF1001")])
    assert again.shipments[0].new is False and world.level() == (on_hand - units, 0)
    # the marketplace now says completed: the next pull must not ship the units a second time
    orders.pull_orders(world.context, ["woocommerce"], push=False)
    assert world.level() == (on_hand - units, 0)
    assert _ledger(world, "ship") == -units
    emulated = world.emulator("woocommerce").state["orders"][order]
    assert emulated["status"] == "completed" and emulated["meta_data"][0]["value"]["tracking_number"] == "SF1001"
    with world.context.session() as s:
        assert s.scalar(select(Order.status).where(Order.external_id == order)) == "shipped"


def test_partial_shipments_then_the_rest(tmp_path) -> None:
    world = build(tmp_path, ["woocommerce"], units=10)
    orders_ = _paid(world, "woocommerce", 4)
    order, units = max(orders_, key=lambda o: o[1])
    if units < 2:
        pytest.skip("the seeded emulator sold no order of two units")
    on_hand, reserved = world.level()
    first = shipping.ship(world.context, [shipping.ShipRequest(order, "YTO", "YT1", (("TEA-LJ-250", 1),))])
    assert first.shipments[0].units == 1
    assert world.level() == (on_hand - 1, reserved - 1)
    with world.context.session() as s:
        assert s.scalar(select(Order.status).where(Order.external_id == order)) == "paid"
    assert world.emulator("woocommerce").state["orders"][order]["status"] == "processing"
    rest = shipping.ship(world.context, [shipping.ShipRequest(order, "YTO", "YT2")])
    assert rest.shipments[0].units == units - 1
    assert world.level() == (on_hand - units, reserved - units)
    with pytest.raises(InvalidRequest, match="is shipped: only paid orders can be shipped"):
        shipping.ship(world.context, [shipping.ShipRequest(order, "YTO", "YT3")])


def test_problems_are_refused_whole_with_rows_and_columns(tmp_path) -> None:
    world = build(tmp_path, ["taobao", "woocommerce"], units=10)
    [(order, _units)] = _paid(world, "woocommerce")
    path = tmp_path / "shipments.csv"
    path.write_text(
        "order,carrier,tracking,lines\n"
        f"{order},SF,SF9,\n"  # fine
        "nope,SF,SF8,\n"  # unknown order
        f"{order},Pigeon,P1,\n"  # unknown carrier
        f"{order},SF,SF7,TEA-LJ-250=99\n"  # more than ordered
        f"{order},SF,SF6,BAD\n",  # not SKU=QTY
        encoding="utf-8",
    )
    before = world.level()
    with pytest.raises(InputRejected) as caught:
        shipping.ship_file(world.context, path)
    assert [(p.row, p.column) for p in caught.value.problems] == [
        (3, "order"),
        (4, "carrier"),
        (5, "lines"),
        (6, "lines"),
    ]
    assert "nothing was applied" in str(caught.value)
    assert world.level() == before
    with world.context.session() as s:
        assert s.scalar(select(func.count()).select_from(Shipment)) == 0


def test_unmapped_carrier_names_the_channel_and_the_carrier(tmp_path) -> None:
    world = build(tmp_path, ["taobao"], units=10)
    [(order, _units)] = _paid(world, "taobao")
    with pytest.raises(InvalidRequest, match="carrier USPS has no code on channel taobao"):
        shipping.ship(world.context, [shipping.ShipRequest(order, "USPS", "9400111")])


def test_a_failed_push_is_kept_retried_and_shown_in_status(tmp_path) -> None:
    world = build(tmp_path, ["woocommerce"], units=10)
    [(order, units)] = _paid(world, "woocommerce")
    emulator = world.emulator("woocommerce")
    saved = emulator.state["orders"].pop(order)  # the shop no longer knows the order: the push fails
    world.context.hub.save()
    done = shipping.ship(world.context, [shipping.ShipRequest(order, "DHL", "JD77")])
    assert done.shipments[0].status in ("parked", "retry")
    [row] = [r for r in sync.status(world.context) if r.channel == "woocommerce"]
    assert row.shipments_parked + row.shipments_pending == 1
    assert "JD77" in row.shipment_errors[0].sku
    emulator.state["orders"][order] = {**saved, "status": "processing"}
    with world.context.session() as s:
        s.execute(Shipment.__table__.update().values(status="retry", next_attempt_at=None))
    assert shipping.channels_with_due_shipments(world.context) == ["woocommerce"]
    outcome = shipping.push_channel_shipments(world.context, "woocommerce")
    assert outcome.pushed == 1
    [row] = [r for r in sync.status(world.context) if r.channel == "woocommerce"]
    assert (row.shipments_pending, row.shipments_parked) == (0, 0)


def test_shipping_from_another_warehouse_releases_the_reservation_where_it_was(tmp_path) -> None:
    from listing_sync.syncer.models import StockLevel, Warehouse
    from listing_sync.syncer.services import system

    world = build(tmp_path, ["woocommerce"], units=10)
    system.add_warehouse(world.context, "GZ")
    with world.context.session() as s:
        gz = s.scalar(select(Warehouse.id).where(Warehouse.code == "GZ"))
        s.add(StockLevel(sku_id=world.sku_id, warehouse_id=gz, on_hand=5, reserved=0))
    [(order, units)] = _paid(world, "woocommerce")
    shipping.ship(world.context, [shipping.ShipRequest(order, "ZTO", "ZT1", warehouse="GZ")])
    with world.context.session() as s:
        query = select(Warehouse.code, StockLevel.on_hand, StockLevel.reserved)
        query = query.join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        levels = {code: (on, res) for code, on, res in s.execute(query)}
    assert levels["SH"] == (10, 0) and levels["GZ"] == (5 - units, 0)
    with pytest.raises(InvalidRequest, match="no warehouse 'XX'"):
        [(other, _)] = _paid(world, "woocommerce")
        shipping.ship(world.context, [shipping.ShipRequest(other, "ZTO", "ZT2", warehouse="XX")])
