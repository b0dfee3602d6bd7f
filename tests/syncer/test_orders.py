"""Orders: upsert by (channel, external id), ledger effects exactly once, cursor safety, unmatched lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fakes import FakeAdapter
from listing_sync.adapters.base import Money, Order, OrderLine, OrderStatus
from listing_sync.config.channels import ChannelConfig
from listing_sync.config.settings import Settings
from listing_sync.syncer import orders, reconcile
from listing_sync.syncer.context import Context, ensure_channel_rows
from listing_sync.syncer.models import Channel, ChannelListing, OrderCursorRow, Product, Sku, StockLevel, StockMovement
from listing_sync.syncer.models import Order as OrderRow
from sqlalchemy import func, select

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def make_order(ext: str, status: OrderStatus, minutes: int, *lines: tuple[str, int]) -> Order:
    return Order(
        external_id=ext,
        status=status,
        raw_status=status.value,
        placed_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
        currency="CNY",
        lines=tuple(OrderLine(f"{ext}-{i}", sku, qty, Money.of("10", "CNY")) for i, (sku, qty) in enumerate(lines)),
        total=Money.of("10", "CNY"),
        ship_country="CN",
    )


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    channels = [ChannelConfig(name=n, kind="fake", currency="CNY", warehouses=("SH",)) for n in ("shop", "mall", "web")]
    context = Context(settings=Settings(_env_file=None, data_dir=tmp_path, database_url=db_url))
    context.__dict__["channels"] = channels
    with context.session() as s:
        ensure_channel_rows(s, channels)
        product = Product(key="P", title="茶", tags=[])
        s.add(product)
        s.flush()
        sku = Sku(sku="TEA", product_id=product.id, base_price=Decimal("10"), currency="CNY", attributes={}, images=[])
        s.add(sku)
        s.flush()
        wh = s.scalar(select(StockLevel.warehouse_id)) or 1
        s.add(StockLevel(sku_id=sku.id, warehouse_id=wh, on_hand=10, reserved=0))
        for c in channels:
            reconcile.ensure_listings(s, c, [sku.id])
    adapters = {c.name: FakeAdapter(c) for c in channels}
    return context, channels, adapters


def level(context: Context) -> tuple[int, int]:
    with context.session() as s:
        row = s.scalar(select(StockLevel))
        return row.on_hand, row.reserved


def pull(context, channel, adapter) -> orders.PullReport:
    return orders.pull_channel(context, channel, adapter, since=T0 - timedelta(hours=1))


def test_paid_order_reserves_once_even_when_delivered_twice_and_out_of_order(world) -> None:
    context, channels, adapters = world
    adapter = adapters["shop"]
    paid = make_order("A", OrderStatus.PAID, 1, ("TEA", 2))
    shipped = make_order("A", OrderStatus.SHIPPED, 5, ("TEA", 2))
    adapter.orders = [shipped, paid, shipped]  # duplicated and out of order across pages
    report = pull(context, channels[0], adapter)
    assert report.new == 1
    assert level(context) == (8, 0)  # shipped: on-hand -2, no reservation left
    adapter.orders = [paid]  # an older copy arrives late: ignored
    pull(context, channels[0], adapter)
    assert level(context) == (8, 0)
    with context.session() as s:
        kinds = sorted(m.kind for m in s.scalars(select(StockMovement)))
    assert kinds == ["ship"]


def test_reserve_then_ship_then_replay(world) -> None:
    context, channels, adapters = world
    adapter = adapters["shop"]
    adapter.orders = [make_order("B", OrderStatus.PAID, 1, ("TEA", 3))]
    pull(context, channels[0], adapter)
    assert level(context) == (10, 3)
    adapter.orders = [make_order("B", OrderStatus.SHIPPED, 9, ("TEA", 3))]
    pull(context, channels[0], adapter)
    pull(context, channels[0], adapter)
    assert level(context) == (7, 0)


def test_cancellation_after_reservation_releases_exactly_the_reserved_amount(world) -> None:
    context, channels, adapters = world
    adapter = adapters["shop"]
    adapter.orders = [
        make_order("C", OrderStatus.PAID, 1, ("TEA", 4)),
        make_order("D", OrderStatus.PAID, 1, ("TEA", 1)),
    ]
    pull(context, channels[0], adapter)
    assert level(context) == (10, 5)
    adapter.orders = [make_order("C", OrderStatus.CANCELLED, 7, ("TEA", 4))]
    pull(context, channels[0], adapter)
    pull(context, channels[0], adapter)
    assert level(context) == (10, 1)


def test_reservation_marks_every_channel_dirty_with_the_new_quantity(world) -> None:
    context, channels, adapters = world
    adapters["shop"].orders = [make_order("E", OrderStatus.PAID, 1, ("TEA", 6))]
    report = pull(context, channels[0], adapters["shop"])
    assert report.affected_sku_ids
    with context.session() as s:
        quantities = s.scalars(select(ChannelListing.desired_quantity)).all()
    assert quantities == [4, 4, 4]


def test_crash_before_the_cursor_advances_loses_nothing_and_counts_nothing_twice(world, monkeypatch) -> None:
    context, channels, adapters = world
    adapter = adapters["shop"]
    adapter.orders = [make_order(f"O{i}", OrderStatus.PAID, i, ("TEA", 1)) for i in range(5)]  # 3 pages of 2
    real_save = orders.save_cursor
    calls = {"n": 0}

    def crash_on_second_page(session, channel_id, cursor):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        real_save(session, channel_id, cursor)

    monkeypatch.setattr(orders, "save_cursor", crash_on_second_page)
    with pytest.raises(RuntimeError):
        orders.pull_channel(context, channels[0], adapter)
    assert level(context) == (10, 2)  # page 1 committed with its cursor; page 2 rolled back whole
    monkeypatch.setattr(orders, "save_cursor", real_save)
    with context.session() as s:
        stored = s.scalar(select(OrderCursorRow.cursor))
    assert stored  # the rerun continues from page 2
    orders.pull_channel(context, channels[0], adapter)
    assert level(context) == (10, 5)
    with context.session() as s:
        assert s.scalar(select(func.count()).select_from(OrderRow)) == 5


def test_unknown_sku_is_kept_as_unmatched(world) -> None:
    context, channels, adapters = world
    adapters["shop"].orders = [make_order("U", OrderStatus.PAID, 1, ("TEA", 1), ("GHOST", 2))]
    report = pull(context, channels[0], adapters["shop"])
    assert report.unmatched == 1
    with context.session() as s:
        order = s.scalar(select(OrderRow))
        assert sorted((line.sku, line.unmatched) for line in order.lines) == [("GHOST", True), ("TEA", False)]
    assert level(context) == (10, 1)


def test_return_restocks_only_when_received(world) -> None:
    context, channels, adapters = world
    adapter = adapters["shop"]
    adapter.orders = [make_order("R", OrderStatus.SHIPPED, 1, ("TEA", 2))]
    pull(context, channels[0], adapter)
    adapter.orders = [make_order("R", OrderStatus.RETURNED, 9, ("TEA", 2))]
    pull(context, channels[0], adapter)
    assert level(context) == (8, 0)
    with context.session() as s:
        channel_id = s.scalar(select(Channel.id).where(Channel.name == "shop"))
        assert orders.receive_return(s, channel_id, "R", "clerk") == 2
    with context.session() as s:
        assert orders.receive_return(s, channel_id, "R", "clerk") == 0  # once
    assert level(context) == (10, 0)


class CyclingAdapter(FakeAdapter):
    """Pages t1 -> t2 -> t1 ...: each page differs from the one before, the pull as a whole goes round."""

    def orders_since(self, cursor):
        from listing_sync.adapters.base import OrderCursor, OrderPage

        nxt = {None: "t1", "t1": "t2", "t2": "t1"}[cursor.page]
        order = make_order(f"O-{cursor.page}", OrderStatus.PAID, 1, ("TEA", 1))
        return OrderPage((order,), OrderCursor(cursor.since, T0, nxt), False)


def test_a_pull_that_goes_back_to_a_page_it_read_stops_with_a_typed_error(world) -> None:
    from listing_sync.adapters.base import NoProgress
    from listing_sync.syncer.models import SyncRun

    context, channels, _ = world
    adapter = CyclingAdapter(channels[0])
    with pytest.raises(NoProgress) as caught:
        pull(context, channels[0], adapter)
    assert caught.value.channel == "shop" and "order pull" in caught.value.message
    assert "t1" in caught.value.message
    assert level(context) == (10, 3)  # the three pages read (None, t1, t2) are committed with their cursor
    with context.session() as s:
        run = s.scalar(select(SyncRun).where(SyncRun.kind == "orders"))
        assert run.status == "failed" and "points to" in run.message


def test_a_pull_stops_at_the_channels_max_pages(world) -> None:
    from listing_sync.adapters.base import TooManyPages

    context, channels, adapters = world
    channel = channels[0].model_copy(update={"max_pages": 2})
    adapter = adapters["shop"]
    adapter.orders = [make_order(f"O{i}", OrderStatus.PAID, i, ("TEA", 1)) for i in range(7)]  # 4 pages of 2
    with pytest.raises(TooManyPages, match="stopped after 2 pages"):
        pull(context, channel, adapter)


def test_orders_left_out_of_a_page_are_recorded_in_the_pulls_run(world) -> None:
    from listing_sync.adapters.base import OrderCursor, OrderPage, UnexpectedResponse
    from listing_sync.syncer.models import SyncRun

    context, channels, _ = world

    class Partial(FakeAdapter):
        def orders_since(self, cursor):
            bad = UnexpectedResponse('getOrders order 9 cannot be read (ValueError); it reads {"orderId": "9"}')
            good = make_order("O1", OrderStatus.PAID, 1, ("TEA", 1))
            return OrderPage((good,), OrderCursor(T0), True, (bad,))

    report = pull(context, channels[0], Partial(channels[0]))
    assert report.new == 1 and report.problems == [
        'getOrders order 9 cannot be read (ValueError); it reads {"orderId": "9"}'
    ]
    assert level(context) == (10, 1)  # the readable order of the page is applied
    with context.session() as s:
        run = s.scalar(select(SyncRun).where(SyncRun.kind == "orders"))
    assert run.status == "partial" and run.items_failed == 1
    assert run.message == (
        "1 new, 0 updated, 0 unchanged, 0 unmatched lines; "
        'left out: getOrders order 9 cannot be read (ValueError); it reads {"orderId": "9"}'
    )
