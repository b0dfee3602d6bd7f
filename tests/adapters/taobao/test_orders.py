"""Incremental orders: windows, backward paging, mapping of TOP trades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from listing_sync.adapters.base import Money, OrderCursor, OrderStatus, RequestRejected
from listing_sync.adapters.taobao.mapping import parse_trade

from .conftest import GATEWAY, NOW, decode

CN = "%Y-%m-%d %H:%M:%S"


def trade(tid: int, modified: str, status: str = "WAIT_SELLER_SEND_GOODS", **extra) -> dict:
    return {
        "tid": tid,
        "status": status,
        "created": "2026-11-27 09:05:00",
        "modified": modified,
        "payment": "128.00",
        "post_fee": "10.00",
        "receiver_country": "",
        "orders": {
            "order": [
                {
                    "oid": tid + 1,
                    "num_iid": 520,
                    "sku_id": 31,
                    "outer_iid": "TEE",
                    "outer_sku_id": "TEE-W-M",
                    "num": 2,
                    "price": "59.00",
                    "title": "T恤",
                }
            ]
        },
        **extra,
    }


class FakeIncrement:
    """A TOP increment.get over a list of trades sorted by modified desc, with a hook between calls."""

    def __init__(self, trades: list[dict], between=None) -> None:
        self.trades = trades
        self.between = between
        self.pages: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        _, form = decode(request)
        page, size = int(form["page_no"]), int(form["page_size"])
        self.pages.append(page)
        rows = sorted(self.trades, key=lambda t: t["modified"], reverse=True)
        body = {"total_results": len(rows), "trades": {"trade": rows[(page - 1) * size : page * size]}}
        response = httpx.Response(200, json={"trades_sold_increment_get_response": body})
        if self.between:
            self.between(self)
        return response


def stamps(n: int) -> list[dict]:
    base = datetime(2026, 11, 27, 9, 0, 0)
    return [trade(1000 + i * 10, (base + timedelta(seconds=i)).strftime(CN)) for i in range(n)]


def pull_window(adapter, cursor):
    pages = []
    while True:
        page = adapter.orders_since(cursor)
        pages.append(page)
        cursor = page.next
        if cursor.until is None:
            return pages


@respx.mock
def test_pages_backwards_from_the_last_page_and_rereads_page_one(make_adapter):
    fake = FakeIncrement(stamps(250))
    respx.post(GATEWAY).mock(side_effect=fake)
    pages = pull_window(make_adapter(), OrderCursor(datetime(2026, 11, 27, 1, 0, tzinfo=UTC)))
    assert fake.pages == [1, 3, 2, 1]
    assert [p.next.page for p in pages[:-1]] == ["3", "2", "1"]
    until = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    assert all(p.next.until == until for p in pages[:-1])
    assert pages[-1].next == OrderCursor(until - timedelta(minutes=5))
    assert len({o.external_id for p in pages for o in p.orders}) == 250


@respx.mock
def test_orders_modified_while_paging_are_not_missed(make_adapter):
    """While we page, trades on page 1 get modified (they leave the past window): rows shift forward."""
    rows = stamps(250)
    removed: list[str] = []

    def modify_newest(fake: FakeIncrement) -> None:
        if len(fake.pages) in (1, 2):  # after reading page 1 and the last page
            newest = max(fake.trades, key=lambda t: t["modified"])
            fake.trades.remove(newest)
            removed.append(str(newest["tid"]))

    respx.post(GATEWAY).mock(side_effect=FakeIncrement(rows, between=modify_newest))
    pages = pull_window(make_adapter(), OrderCursor(datetime(2026, 11, 27, 1, 0, tzinfo=UTC)))
    seen = {o.external_id for p in pages for o in p.orders}
    still_in_window = {str(t["tid"]) for t in rows}
    assert still_in_window <= seen  # nothing that stayed in the window was skipped


@respx.mock
def test_single_page_window_is_one_call_and_caught_up_when_cut_by_now(make_adapter):
    route = respx.post(GATEWAY).mock(side_effect=FakeIncrement(stamps(3)))
    page = make_adapter().orders_since(OrderCursor(NOW - timedelta(minutes=10)))
    assert route.call_count == 1 and len(page.orders) == 3
    assert page.done  # until = now - 1 min lag, shorter than the 30 min window
    _, form = decode(route.calls.last.request)
    assert form["end_modified"] == "2026-11-27 09:59:00"
    assert page.next == OrderCursor(NOW - timedelta(minutes=1) - timedelta(minutes=5))


def test_window_longer_than_one_day_is_rejected_before_sending(make_adapter):
    with respx.mock:
        route = respx.post(GATEWAY)
        cursor = OrderCursor(NOW - timedelta(days=3), until=NOW - timedelta(days=1, minutes=-1), page="2")
        with pytest.raises(RequestRejected, match="1 day"):
            make_adapter().orders_since(cursor)
        assert route.call_count == 0


@respx.mock
def test_cursor_older_than_three_months_is_clamped(make_adapter):
    route = respx.post(GATEWAY).mock(side_effect=FakeIncrement([]))
    make_adapter().orders_since(OrderCursor(NOW - timedelta(days=200)))
    _, form = decode(route.calls.last.request)
    start = datetime.strptime(form["start_modified"], CN)
    assert start == (NOW - timedelta(days=89) + timedelta(hours=8)).replace(tzinfo=None)


@respx.mock
def test_window_option_up_to_one_day(make_adapter):
    route = respx.post(GATEWAY).mock(side_effect=FakeIncrement([]))
    adapter = make_adapter(options={"order_window_minutes": 1440})
    assert adapter.limits.order_window == timedelta(days=1)
    adapter.orders_since(OrderCursor(NOW - timedelta(days=5)))
    _, form = decode(route.calls.last.request)
    assert (form["start_modified"], form["end_modified"]) == ("2026-11-22 10:00:00", "2026-11-23 10:00:00")


@respx.mock
def test_cursor_in_the_future_makes_no_call(make_adapter):
    route = respx.post(GATEWAY)
    page = make_adapter().orders_since(OrderCursor(NOW + timedelta(minutes=3)))
    assert page.done and page.orders == () and route.call_count == 0


def test_trade_mapping_times_money_lines_and_no_personal_data():
    order = parse_trade(trade(77, "2026-11-27 09:10:00", receiver_name="张**", receiver_mobile="*******1234"))
    assert order.external_id == "77"
    assert order.placed_at == datetime(2026, 11, 27, 1, 5, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 11, 27, 1, 10, tzinfo=UTC)
    assert order.total == Money.of("128.00", "CNY") and order.shipping == Money.of("10", "CNY")
    assert order.ship_country == "CN"
    [line] = order.lines
    assert (line.line_id, line.sku, line.quantity, line.unit_price) == ("78", "TEE-W-M", 2, Money.of("59", "CNY"))
    assert "张" not in repr(order) and "1234" not in repr(order)


def test_line_sku_falls_back_to_item_merchant_code():
    t = trade(1, "2026-11-27 09:10:00")
    t["orders"]["order"][0]["outer_sku_id"] = ""
    assert parse_trade(t).lines[0].sku == "TEE"


@pytest.mark.parametrize(
    ("raw", "extra", "status"),
    [
        ("WAIT_BUYER_PAY", {}, OrderStatus.PENDING),
        ("TRADE_NO_CREATE_PAY", {}, OrderStatus.PENDING),
        ("WAIT_SELLER_SEND_GOODS", {}, OrderStatus.PAID),
        ("SELLER_CONSIGNED_PART", {}, OrderStatus.PAID),
        ("WAIT_BUYER_CONFIRM_GOODS", {}, OrderStatus.SHIPPED),
        ("TRADE_BUYER_SIGNED", {}, OrderStatus.DELIVERED),
        ("TRADE_FINISHED", {}, OrderStatus.DELIVERED),
        ("TRADE_CLOSED_BY_TAOBAO", {}, OrderStatus.CANCELLED),
        ("TRADE_CLOSED", {}, OrderStatus.CANCELLED),  # refunded before shipping: stock comes back
        ("TRADE_CLOSED", {"consign_time": "2026-11-27 09:30:00"}, OrderStatus.REFUNDED),
        ("SOMETHING_NEW", {}, OrderStatus.PENDING),
    ],
)
def test_status_mapping(raw, extra, status):
    order = parse_trade(trade(1, "2026-11-27 09:10:00", status=raw, **extra))
    assert order.status is status and order.raw_status == raw


def test_a_malformed_trade_is_skipped_not_fatal(caplog):
    from listing_sync.adapters.taobao.mapping import parse_trades

    broken = trade(2, "2026-11-27 09:10:00")
    del broken["created"]
    orders, problems = parse_trades([trade(1, "2026-11-27 09:10:00"), broken], "tb")
    assert [o.external_id for o in orders] == ["1"]
    assert [p.code for p in problems] == ["unexpected_response"] and "trade 2 cannot be read" in problems[0].message
    assert "KeyError: 'created'" in problems[0].message and "trade 2 cannot be read" in caplog.text
