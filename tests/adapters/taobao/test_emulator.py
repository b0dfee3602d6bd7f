"""The emulator on its own: TOP envelope checks, batch maxima and real error bodies."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import httpx
import pytest
from listing_sync.adapters.taobao.emulator import TaobaoEmulator

from .conftest import CREDS, GATEWAY, NOW, NOW_CN, doc_sign


@pytest.fixture
def emu(clock) -> TaobaoEmulator:
    return TaobaoEmulator(credentials=CREDS, seed=1, clock=clock, now=lambda: NOW)


def call(emu, method: str, business: dict, *, sign_override: str | None = None, **system) -> dict:
    params = {
        "method": method,
        "app_key": CREDS["app_key"],
        "session": CREDS["session"],
        "timestamp": NOW_CN,
        "v": "2.0",
        "format": "json",
        "sign_method": "md5",
        **system,
    }
    params["sign"] = sign_override or doc_sign({**params, **business}, CREDS["app_secret"], params["sign_method"])
    request = httpx.Request(
        "POST",
        f"{GATEWAY}?{urlencode(params)}",
        content=urlencode(business).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
    )
    response = emu.handle(request)
    assert response.status_code == 200  # TOP answers 200 for errors too
    return response.json()


def test_success_envelope_and_request_id(emu):
    body = call(emu, "taobao.items.onsale.get", {"fields": "num_iid", "page_size": "10"})
    assert body["items_onsale_get_response"]["total_results"] == 0
    assert "request_id" in body["items_onsale_get_response"]


def test_cjk_signed_over_url_encoded_values_is_invalid_signature(emu):
    """Pitfall P12: hashing the URL-encoded value instead of the raw UTF-8 one gives code 25."""
    business = {"q": "白色T恤", "fields": "num_iid"}
    wrong = doc_sign(
        {
            "method": "taobao.items.onsale.get",
            "app_key": CREDS["app_key"],
            "session": CREDS["session"],
            "timestamp": NOW_CN,
            "v": "2.0",
            "format": "json",
            "sign_method": "md5",
            "q": quote("白色T恤"),
            "fields": "num_iid",
        },
        CREDS["app_secret"],
        "md5",
    )
    body = call(emu, "taobao.items.onsale.get", business, sign_override=wrong)
    assert body["error_response"]["code"] == 25
    assert "items_onsale_get_response" in call(emu, "taobao.items.onsale.get", business)


@pytest.mark.parametrize("method", ["hmac", "hmac-sha256"])
def test_all_sign_methods_are_accepted(emu, method):
    assert "items_onsale_get_response" in call(
        emu, "taobao.items.onsale.get", {"fields": "num_iid"}, sign_method=method
    )


def test_envelope_errors(emu):
    assert call(emu, "taobao.items.onsale.get", {"fields": "x"}, app_key="nope")["error_response"]["code"] == 29
    expired = call(emu, "taobao.items.onsale.get", {"fields": "x"}, session="old")["error_response"]
    assert (expired["code"], expired["sub_code"]) == (27, "invalid-sessionkey")
    assert (
        call(emu, "taobao.items.onsale.get", {"fields": "x"}, timestamp="2026-11-27 10:11:00")["error_response"]["code"]
        == 31
    )
    assert call(emu, "taobao.no.such.method", {})["error_response"]["code"] == 22


def test_sku_batch_maximum_is_20(emu):
    num_iid = emu.add_item(
        title="t",
        price="1.00",
        skus=[{"properties": f"1:{i}", "quantity": 1, "price": "1.00", "outer_id": f"S{i}"} for i in range(21)],
    )
    ids = [s["sku_id"] for s in emu.state["items"][str(num_iid)]["skus"]]
    pairs = ";".join(f"{i}:5" for i in ids)
    error = call(emu, "taobao.skus.quantity.update", {"num_iid": str(num_iid), "skuid_quantities": pairs})
    assert error["error_response"]["sub_code"] == "isv.invalid-parameter"
    ok = call(
        emu, "taobao.skus.quantity.update", {"num_iid": str(num_iid), "skuid_quantities": pairs.rsplit(";", 1)[0]}
    )
    assert ok["skus_quantity_update_response"]["item"]["num"] == 20 * 5 + 1


def test_sku_price_outside_the_item_range_is_refused_without_item_price(emu):
    num_iid = emu.add_item(
        title="t",
        price="5.00",
        skus=[
            {"properties": "1:1", "quantity": 1, "price": "5.00", "outer_id": "A"},
            {"properties": "1:2", "quantity": 1, "price": "10.00", "outer_id": "B"},
        ],
    )
    refused = call(emu, "taobao.item.sku.price.update", {"num_iid": str(num_iid), "properties": "1:1", "price": "7.00"})
    assert refused["error_response"]["sub_code"] == "isv.item-price-not-in-sku-range"
    assert emu.state["items"][str(num_iid)]["skus"][0]["price"] == "5.00"
    ok = call(
        emu,
        "taobao.item.sku.price.update",
        {"num_iid": str(num_iid), "properties": "1:1", "price": "7.00", "item_price": "7.00"},
    )
    assert "item_sku_price_update_response" in ok


def test_increment_get_rules(emu):
    base = {"fields": "tid,modified", "start_modified": "2026-11-26 09:00:00"}
    too_long = call(emu, "taobao.trades.sold.increment.get", {**base, "end_modified": "2026-11-27 09:00:01"})
    assert too_long["error_response"]["sub_code"] == "isv.invalid-parameter"
    too_big = call(
        emu, "taobao.trades.sold.increment.get", {**base, "end_modified": "2026-11-26 10:00:00", "page_size": "101"}
    )
    assert "error_response" in too_big
    has_next = call(
        emu, "taobao.trades.sold.increment.get", {**base, "end_modified": "2026-11-26 10:00:00", "use_has_next": "true"}
    )
    body = has_next["trades_sold_increment_get_response"]
    assert body["has_next"] is False and "total_results" not in body


def test_throttle_body_is_code_7_with_the_ban_text(clock):
    emu = TaobaoEmulator(credentials=CREDS, seed=1, clock=clock, now=lambda: NOW)
    for _ in range(emu.burst):
        call(emu, "taobao.items.onsale.get", {"fields": "num_iid"})
    error = call(emu, "taobao.items.onsale.get", {"fields": "num_iid"})["error_response"]
    assert error["code"] == 7 and error["sub_code"] == "accesscontrol.limited-by-api-access-count"
    assert error["sub_msg"] == "This ban will last for 1 more seconds"


def test_orders_decrement_stock_and_state_is_json(emu):
    num_iid = emu.add_item(title="t", price="3.00", num=5, outer_id="SOLO")
    tids = emu.generate_orders(10)
    sold = sum(o["num"] for t in emu.state["trades"].values() for o in t["orders"])
    assert emu.state["items"][str(num_iid)]["num"] == 5 - sold >= 0
    assert len(tids) <= 5
    json.loads(emu.dump())
    emu.set_order_status(tids[0], "WAIT_BUYER_CONFIRM_GOODS")
    assert emu.state["trades"][tids[0]]["consign_time"]
