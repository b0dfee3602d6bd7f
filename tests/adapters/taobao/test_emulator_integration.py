"""The adapter against its emulator: every operation end to end, and under injected faults."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from listing_sync.adapters.base import (
    AuthError,
    ConfigurationError,
    DelistRequest,
    ListingDraft,
    Money,
    OrderCursor,
    OrderStatus,
    PriceUpdate,
    RequestRejected,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.emulator import Faults
from listing_sync.adapters.taobao.emulator import TaobaoEmulator

from .conftest import CREDS, NOW


class Wall:
    """A wall clock both sides share, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def emulator(clock, wall) -> TaobaoEmulator:
    return TaobaoEmulator(credentials=CREDS, seed=7, clock=clock, now=wall)


@pytest.fixture
def adapter(make_adapter, emulator, wall):
    return make_adapter(
        transport=emulator.transport(),
        now=wall,
        options={"location_state": "浙江", "location_city": "杭州"},
    )


def draft(sku="TEE", sizes=(("M", "28314", "59", 5), ("L", "28315", "69.5", 3))) -> ListingDraft:
    return ListingDraft(
        sku=sku,
        title="男士纯棉T恤",
        description="棉",
        category_id="50000436",
        price=Money.of("59", "CNY"),
        quantity=0,
        variations=tuple(
            Variation(f"{sku}-{size}", Money.of(price, "CNY"), qty, {"1627207": "28320", "20509": vid})
            for size, vid, price, qty in sizes
        ),
    )


def by_sku(adapter):
    return {listing.sku: listing for listing in adapter.listings()}


def test_publish_price_stock_delist_relist_and_read_back(adapter, emulator):
    [published] = adapter.publish([draft()])
    assert published.ok
    num_iid = published.ref.get("num_iid")
    assert emulator.state["items"][num_iid]["outer_id"] == "TEE"

    # price and stock by our SKU only: the refs adopted at publish are used
    assert adapter.push_prices([PriceUpdate("TEE-L", Money.of("79", "CNY"))])[0].ok
    assert adapter.push_prices([PriceUpdate("TEE-M", Money.of("49.9", "CNY"))])[0].ok
    results = adapter.push_stock([StockUpdate("TEE-M", 0), StockUpdate("TEE-L", 11)])
    assert [r.ok for r in results] == [True, True]
    listed = by_sku(adapter)
    assert (listed["TEE-M"].price, listed["TEE-M"].quantity) == (Money.of("49.90", "CNY"), 0)
    assert (listed["TEE-L"].price, listed["TEE-L"].quantity, listed["TEE-L"].status) == (
        Money.of("79", "CNY"),
        11,
        "active",
    )
    assert listed["TEE-L"].ref.get("properties") == "1627207:28320;20509:28315"
    item = emulator.state["items"][num_iid]
    assert item["num"] == 11

    parent = published.ref
    assert adapter.delist([DelistRequest("TEE", parent)])[0].ok
    assert {listing.status for listing in adapter.listings()} == {"inactive"}
    assert adapter.relist([DelistRequest("TEE", parent, quantity=11)])[0].ok
    assert {listing.status for listing in adapter.listings()} == {"active"}


def test_publish_update_keeps_sku_ids(adapter, emulator):
    [first] = adapter.publish([draft()])
    before = {s["outer_id"]: s["sku_id"] for s in emulator.state["items"][first.ref.get("num_iid")]["skus"]}
    updated = ListingDraft(
        **{
            **{
                f: getattr(draft(), f) for f in ("sku", "description", "category_id", "price", "quantity", "variations")
            },
            "title": "新标题",
            "ref": first.ref,
        }
    )
    [second] = adapter.publish([updated])
    assert second.ok and second.ref.get("num_iid") == first.ref.get("num_iid")
    item = emulator.state["items"][first.ref.get("num_iid")]
    assert item["title"] == "新标题"
    assert {s["outer_id"]: s["sku_id"] for s in item["skus"]} == before


def test_single_sku_item(adapter, emulator):
    solo = ListingDraft(
        sku="MUG", title="杯子", description="d", category_id="1", price=Money.of("25", "CNY"), quantity=4
    )
    [result] = adapter.publish([solo])
    assert result.ok
    assert adapter.push_stock([StockUpdate("MUG", 9)])[0].ok
    assert adapter.push_prices([PriceUpdate("MUG", Money.of("27.5", "CNY"))])[0].ok
    listing = by_sku(adapter)["MUG"]
    assert (listing.quantity, listing.price) == (9, Money.of("27.50", "CNY"))


def test_adopting_existing_back_office_listings_and_drift(adapter, emulator):
    num_iid = emulator.add_item(
        title="旧商品",
        price="10.00",
        skus=[
            {"properties": "1:1", "quantity": 2, "price": "10.00", "outer_id": "OLD-1"},
            {"properties": "1:2", "quantity": 4, "price": "12.00", "outer_id": "OLD-2"},
        ],
    )
    listed = by_sku(adapter)
    assert listed["OLD-2"].ref.get("num_iid") == str(num_iid) and listed["OLD-2"].quantity == 4
    sku_id = listed["OLD-2"].ref.get("sku_id")
    emulator.edit_listing(num_iid, sku_id=sku_id, quantity=1, price="11.00")
    assert (by_sku(adapter)["OLD-2"].quantity, by_sku(adapter)["OLD-2"].price) == (1, Money.of("11", "CNY"))
    # the item price must stay in the SKU range: raising the top SKU far above is still accepted
    assert adapter.push_prices([PriceUpdate("OLD-1", Money.of("99", "CNY"))])[0].ok
    assert emulator.state["items"][str(num_iid)]["price"] == "99.00"


def test_orders_generated_then_pulled_to_the_last_page(adapter, emulator, wall):
    emulator.add_item(
        title="大量",
        price="5.00",
        skus=[
            {"properties": "1:1", "quantity": 1000, "price": "5.00", "outer_id": "BULK-1"},
            {"properties": "1:2", "quantity": 1000, "price": "6.00", "outer_id": "BULK-2"},
        ],
    )
    tids = emulator.generate_orders(130)
    assert len(tids) == 130
    stock = sum(s["quantity"] for i in emulator.state["items"].values() for s in i["skus"])
    sold = sum(o["num"] for t in emulator.state["trades"].values() for o in t["orders"])
    assert stock + sold == 2000

    wall.now = NOW + timedelta(minutes=3)
    cursor, seen, calls = OrderCursor(NOW - timedelta(minutes=10)), {}, 0
    while True:
        page = adapter.orders_since(cursor)
        calls += 1
        seen.update({o.external_id: o for o in page.orders})
        cursor = page.next
        if page.done:
            break
    assert set(seen) == set(tids)
    assert calls == 3  # page 1 (total 130), then pages 2 and 1 backwards
    order = seen[tids[0]]
    assert order.status is OrderStatus.PAID and order.currency == "CNY"
    assert order.lines[0].sku in ("BULK-1", "BULK-2")

    emulator.cancel_order(tids[0])
    wall.now = NOW + timedelta(minutes=6)
    page = adapter.orders_since(cursor)
    assert [o.status for o in page.orders if o.external_id == tids[0]] == [OrderStatus.CANCELLED]


def test_wrong_secret_is_a_signature_error_and_not_retried(make_adapter, emulator, wall):
    from listing_sync.adapters.taobao.adapter import TaobaoAdapter

    from tests.conftest import make_channel

    channel = make_channel("taobao", credentials={**CREDS, "app_secret": "wrong"}, currency="CNY")
    bad = TaobaoAdapter(channel, transport=emulator.transport(), now=wall, sleep=lambda s: None)
    with pytest.raises(RequestRejected) as info:
        bad.push_stock([StockUpdate("X", 1)])
    assert info.value.code == "25"
    assert len(emulator.requests) == 1


def test_wrong_session_is_an_auth_error(emulator, wall):
    from listing_sync.adapters.taobao.adapter import TaobaoAdapter

    from tests.conftest import make_channel

    channel = make_channel("taobao", credentials={**CREDS, "session": "expired-session"}, currency="CNY")
    with pytest.raises(AuthError):
        TaobaoAdapter(channel, transport=emulator.transport(), now=wall, sleep=lambda s: None).push_stock(
            [StockUpdate("X", 1)]
        )


def test_clock_skew_over_ten_minutes_is_refused(make_adapter, emulator, wall):
    skewed = make_adapter(transport=emulator.transport(), now=lambda: wall() + timedelta(minutes=11))
    with pytest.raises(ConfigurationError, match="clock"):
        skewed.push_stock([StockUpdate("X", 1)])


def test_tmall_stock_against_the_emulator(make_adapter, emulator, wall):
    tmall = make_adapter(transport=emulator.transport(), now=wall, options={"tmall": True})
    num_iid = emulator.add_item(
        title="天猫",
        price="10.00",
        skus=[
            {"properties": "1:1", "quantity": 2, "price": "10.00", "outer_id": "TM-1"},
            {"properties": "1:2", "quantity": 4, "price": "10.00", "outer_id": "TM-2"},
        ],
    )
    assert [r.ok for r in tmall.push_stock([StockUpdate("TM-1", 7), StockUpdate("TM-2", 0)])] == [True, True]
    assert [s["quantity"] for s in emulator.state["items"][str(num_iid)]["skus"]] == [7, 0]
    assert tmall.delist([DelistRequest("TM-1")])[0].ok
    assert emulator.state["items"][str(num_iid)]["skus"][0]["status"] == "delete"


def test_under_throttle_and_server_errors_everything_still_lands(make_adapter, clock, wall):
    emulator = TaobaoEmulator(
        credentials=CREDS, seed=11, clock=clock, now=wall, faults=Faults(throttle=0.25, server_error=0.2)
    )
    adapter = make_adapter(
        transport=emulator.transport(), now=wall, options={"location_state": "浙江", "location_city": "杭州"}
    )
    assert adapter.publish([draft()])[0].ok
    results = adapter.push_stock([StockUpdate("TEE-M", 3), StockUpdate("TEE-L", 4)])
    assert [r.ok for r in results] == [True, True]
    assert len(emulator.requests) == adapter.api_calls > 3  # 3 logical calls, plus retries of faulted ones
    assert any(s >= 1 for s in clock.sleeps)  # the ban's wait was honoured (no real sleeping)
    assert sorted(s["quantity"] for i in emulator.state["items"].values() for s in i["skus"]) == [3, 4]


def test_partial_failures_are_reported_per_item(make_adapter, clock, wall):
    emulator = TaobaoEmulator(credentials=CREDS, seed=7, clock=clock, now=wall)
    adapter = make_adapter(transport=emulator.transport(), now=wall)
    skus = [{"properties": f"1:{i}", "quantity": 1, "price": "10.00", "outer_id": f"P-{i}"} for i in range(8)]
    num_iid = emulator.add_item(title="部分", price="10.00", skus=skus)
    list(adapter.listings())  # adopt refs
    emulator.faults = Faults(partial=0.5)
    results = adapter.push_stock([StockUpdate(f"P-{i}", 50 + i) for i in range(8)])
    assert len(results) == 8 and [r.sku for r in results] == [f"P-{i}" for i in range(8)]
    failed = [r for r in results if not r.ok]
    assert failed and all(r.code == "isv.item-is-locked" and not r.retryable for r in failed)
    assert len(failed) < 8  # the batch failed whole; SKU-by-SKU retries let the others through
    state = {s["outer_id"]: s["quantity"] for s in emulator.state["items"][str(num_iid)]["skus"]}
    for i, r in enumerate(results):
        assert state[f"P-{i}"] == (50 + i if r.ok else 1)


def test_a_lost_item_add_answer_is_looked_up_and_adopted(make_adapter, emulator, wall):
    """TOP has no idempotency key: when item.add's answer is lost after the item was created, it is not
    sent again; the item is found by its merchant code (taobao.items.custom.get) and adopted."""
    lose = {"taobao.item.add"}

    def lossy(request: httpx.Request) -> httpx.Response:
        response = emulator.handle(request)
        method = request.url.params.get("method") or parse_qs(request.content.decode()).get("method", [""])[0]
        if method in lose:
            lose.discard(method)
            raise httpx.RemoteProtocolError("answer lost after the item was created", request=request)
        return response

    adapter = make_adapter(
        transport=httpx.MockTransport(lossy), now=wall, options={"location_state": "浙江", "location_city": "杭州"}
    )
    [published] = adapter.publish([draft()])

    assert published.ok
    [num_iid] = emulator.state["items"]
    assert published.ref.get("num_iid") == num_iid
    methods = [r.url.params.get("method") for r in emulator.requests]
    assert methods.count("taobao.item.add") == 1
    assert "taobao.items.custom.get" in methods
