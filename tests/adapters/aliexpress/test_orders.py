"""Orders: US Pacific query times across daylight saving, page paging to total_page, the FINISH pass."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from listing_sync.adapters.aliexpress import mapping
from listing_sync.adapters.base import Money, OrderCursor, OrderStatus, TransientError

SYNC = "https://api-sg.aliexpress.com/sync"
METHOD = "aliexpress.solution.order.get"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # as in conftest.py


def param0(request: httpx.Request) -> dict:
    return json.loads(dict(parse_qsl(request.content.decode()))["param0"])


def page(dtos: list, current: int, total: int) -> httpx.Response:
    result = {"success": True, "current_page": current, "total_page": total, "total_count": 99, "page_size": 50}
    result["target_list"] = {"order_dto": dtos}
    return httpx.Response(200, json={"aliexpress_solution_order_get_response": {"result": result}})


@pytest.mark.parametrize(
    ("moment", "pacific"),
    [
        (datetime(2026, 1, 15, 20, 0, tzinfo=UTC), "2026-01-15 12:00:00"),  # PST, UTC-8
        (datetime(2026, 7, 15, 20, 0, tzinfo=UTC), "2026-07-15 13:00:00"),  # PDT, UTC-7
        (datetime(2026, 3, 8, 9, 59, 59, tzinfo=UTC), "2026-03-08 01:59:59"),  # last second of PST
        (datetime(2026, 3, 8, 10, 0, 0, tzinfo=UTC), "2026-03-08 03:00:00"),  # 02:00 PST never happens
        (datetime(2026, 11, 1, 8, 59, 59, tzinfo=UTC), "2026-11-01 01:59:59"),  # last second of PDT
        (datetime(2026, 11, 1, 10, 0, 0, tzinfo=UTC), "2026-11-01 02:00:00"),  # PST again
    ],
)
def test_to_pacific_both_sides_of_dst(moment, pacific):
    assert mapping.to_pacific(moment) == pacific


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-01-15 12:00:00", datetime(2026, 1, 15, 20, 0, tzinfo=UTC)),
        ("2026-07-15 13:00:00", datetime(2026, 7, 15, 20, 0, tzinfo=UTC)),
        ("2026-03-08 03:30:00", datetime(2026, 3, 8, 10, 30, tzinfo=UTC)),
        ("2026-03-08 01:30:00", datetime(2026, 3, 8, 9, 30, tzinfo=UTC)),
    ],
)
def test_from_pacific_both_sides_of_dst(text, utc):
    assert mapping.from_pacific(text) == utc


def test_query_start_in_the_repeated_hour_is_never_later_than_asked():
    first = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # 01:30 PDT
    second = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)  # 01:30 PST: the same wall time
    for moment in (first, second):
        wall = datetime.strptime(mapping.query_start(moment), "%Y-%m-%d %H:%M:%S")
        readings = {wall.replace(tzinfo=mapping.PACIFIC, fold=f).astimezone(UTC) for f in (0, 1)}
        assert all(reading <= moment for reading in readings)  # whichever instant the server reads
    assert mapping.query_start(first) == "2026-11-01 00:30:00"
    assert mapping.query_start(second) == "2026-11-01 01:30:00"
    assert mapping.query_start(datetime(2026, 7, 1, tzinfo=UTC)) == "2026-06-30 17:00:00"  # unambiguous: as is


def dto(order_id: int, status: str, **extra) -> dict:
    return {
        "order_id": order_id,
        "order_status": status,
        "gmt_create": "2026-03-01 10:00:00",
        "gmt_update": "2026-03-01 11:30:00",
        "pay_amount": {"amount": "25.98", "currency_code": "USD"},
        "buyer_signer_fullname": "Jane Doe",
        "buyer_login_id": "jd123",
        "product_list": {
            "order_product_dto": [
                {
                    "child_id": 81000001,
                    "sku_code": "TEE-S",
                    "product_count": 2,
                    "product_name": "Tee",
                    "product_unit_price": {"amount": "12.99", "currency_code": "USD"},
                }
            ]
        },
        **extra,
    }


@respx.mock
def test_pages_open_orders_to_total_page_then_finish_orders_separately(make_adapter):
    def answer(request: httpx.Request) -> httpx.Response:
        q = param0(request)
        if q.get("order_status") == "FINISH":
            return page([dto(3, "FINISH", gmt_send_goods_time="2026-03-01 11:00:00")], 1, 1)
        return page([dto(q["current_page"], "WAIT_SELLER_SEND_GOODS")], q["current_page"], 2)

    route = respx.post(SYNC).mock(side_effect=answer)
    adapter = make_adapter()
    since = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    cursor = OrderCursor(since)
    seen, pages = [], []
    while True:
        result = adapter.orders_since(cursor)
        seen += [o.external_id for o in result.orders]
        pages.append(result.next.page)
        cursor = result.next
        if result.next.page is None:
            break
    assert seen == ["1", "2", "3"]
    assert pages == ["open:2", "finish:1", None]
    until = NOW - timedelta(minutes=1)
    assert result.done and cursor.since == until - timedelta(minutes=5) and cursor.until is None
    queries = [param0(c.request) for c in route.calls]
    assert queries[0] == {
        "modified_date_start": "2026-02-28 16:00:00",  # PST
        "modified_date_end": "2026-03-02 03:59:00",
        "page_size": 50,
        "current_page": 1,
    }
    assert [q["current_page"] for q in queries] == [1, 2, 1]
    assert "order_status" not in queries[1] and queries[2]["order_status"] == "FINISH"
    assert {q["modified_date_end"] for q in queries} == {"2026-03-02 03:59:00"}  # window fixed while paging
    for call in route.calls:
        assert call.request.url.params["method"] == METHOD


@respx.mock
def test_empty_window_still_reads_the_finish_pass_and_not_done_when_window_is_old(make_adapter):
    respx.post(SYNC).mock(return_value=page([], 1, 0))
    adapter = make_adapter()
    old_until = NOW - timedelta(hours=3)
    first = adapter.orders_since(OrderCursor(NOW - timedelta(hours=4), old_until, None))
    assert first.next.page == "finish:1" and not first.done and first.next.until == old_until
    last = adapter.orders_since(first.next)
    assert last.next == OrderCursor(old_until - timedelta(minutes=5)) and last.done is False


@respx.mock
def test_business_failure_in_result_is_an_error_not_an_empty_page(make_adapter):
    result = {"success": False, "error_code": "F00-00-10007-007", "error_message": "system busy"}
    respx.post(SYNC).mock(
        return_value=httpx.Response(200, json={"aliexpress_solution_order_get_response": {"result": result}})
    )
    with pytest.raises(TransientError, match="system busy"):
        make_adapter().orders_since(OrderCursor(NOW - timedelta(hours=1)))


def test_order_mapping_keeps_no_buyer_data_and_converts_times_and_money():
    order = mapping.order(dto(77, "WAIT_SELLER_SEND_GOODS"), "EUR")
    assert order.external_id == "77" and order.status is OrderStatus.PAID
    assert order.placed_at == datetime(2026, 3, 1, 18, 0, tzinfo=UTC)  # 10:00 PST
    assert order.updated_at == datetime(2026, 3, 1, 19, 30, tzinfo=UTC)
    assert order.total == Money.of("25.98", "USD") and order.currency == "USD"
    [line] = order.lines
    assert (line.line_id, line.sku, line.quantity, line.unit_price) == (
        "81000001",
        "TEE-S",
        2,
        Money.of("12.99", "USD"),
    )
    assert "Jane" not in repr(order) and "jd123" not in repr(order)


def test_cent_money_shape():
    assert mapping.money({"cent": 333100, "cent_factor": 100, "currency_code": "USD", "amount": 0}, "EUR") == Money.of(
        "3331", "USD"
    )


@pytest.mark.parametrize(
    ("status", "extra", "expected"),
    [
        ("PLACE_ORDER_SUCCESS", {}, OrderStatus.PENDING),
        ("RISK_CONTROL", {}, OrderStatus.PAID),
        ("IN_CANCEL", {}, OrderStatus.PAID),
        ("WAIT_BUYER_ACCEPT_GOODS", {}, OrderStatus.SHIPPED),
        ("FUND_PROCESSING", {}, OrderStatus.DELIVERED),
        ("FINISH", {"gmt_send_goods_time": "2026-03-01 10:30:00"}, OrderStatus.DELIVERED),
        ("FINISH", {"end_reason": "buyer_cancel_order", "logistics_status": "NO_LOGISTICS"}, OrderStatus.CANCELLED),
    ],
)
def test_status_mapping(status, extra, expected):
    assert mapping.order(dto(1, status, **extra), "USD").status is expected


@respx.mock
def test_done_although_the_clock_moved_while_paging(make_adapter):
    respx.post(SYNC).mock(return_value=page([], 1, 0))
    now = [NOW]
    adapter = make_adapter(now=lambda: now[0].timestamp())
    first = adapter.orders_since(OrderCursor(NOW - timedelta(hours=1)))
    now[0] += timedelta(seconds=40)
    last = adapter.orders_since(first.next)
    assert last.done and last.next.since == NOW - timedelta(minutes=6)
