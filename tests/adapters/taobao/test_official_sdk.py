"""The official TOP Python SDK (``top.api.base.RestApi``, taobao-sdk-python-20180413, as packaged on PyPI by
``topsdk``) against the emulator served over loopback: a second opinion on the gateway's checks.

The SDK signs with MD5 over every system and business parameter, sends the system parameters in the query
string and the business ones in a form body, and stamps ``timestamp`` in epoch milliseconds. What it sends
must be accepted; what the emulator answers must parse in it (it raises ``TopException`` on
``error_response``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from listing_sync.adapters.taobao.emulator import TaobaoEmulator

from tests.adapters.serving import serving

from .conftest import CREDS
from .test_signing import OFFICIAL

top = pytest.importorskip("top")
from top.api.base import RestApi, TopException, sign  # noqa: E402  (the official SDK)

GMT8 = "%Y-%m-%d %H:%M:%S"


@pytest.fixture
def gateway() -> Iterator[tuple[TaobaoEmulator, int]]:
    emulator = TaobaoEmulator(credentials=CREDS, enforce_rate=False, seed=4)
    with serving(emulator) as base:
        yield emulator, int(base.rsplit(":", 1)[1])


def call(port: int, method: str, secret: str = CREDS["app_secret"], session: str = CREDS["session"], **params):
    """One official-SDK call: a RestApi subclass for ``method`` with ``params`` as its fields."""
    request = type("Request", (RestApi,), {"getapiname": lambda self: method})("127.0.0.1", port)
    request.set_app_info(top.appinfo(CREDS["app_key"], secret))
    for name, value in params.items():
        setattr(request, name.replace("__", "."), value)
    return request.getResponse(session)


def cn(moment: datetime) -> str:
    return moment.astimezone(timezone(timedelta(hours=8))).strftime(GMT8)


def add(port: int, title: str, **extra) -> int:
    params = {
        "num": "5",
        "price": "19.90",
        "type": "fixed",
        "stuff_status": "new",
        "title": title,
        "desc": "<p>纯棉</p>",
        "location__state": "浙江",
        "location__city": "杭州",
        "cid": "50011999",
        **extra,
    }
    return call(port, "taobao.item.add", **params)["item_add_response"]["item"]["num_iid"]


def test_the_sdk_signer_reproduces_the_published_example():
    assert sign("test", OFFICIAL) == "72CB4D809B375A54502C09360D879C64"


def test_items_create_list_update(gateway):
    emulator, port = gateway
    ids = [add(port, f"男士T恤 {n}", outer_id=f"TEE-{n}") for n in range(1, 4)]
    first = call(port, "taobao.items.onsale.get", fields="num_iid,title,num", page_no="1", page_size="2")
    second = call(port, "taobao.items.onsale.get", fields="num_iid,title,num", page_no="2", page_size="2")
    page1, page2 = first["items_onsale_get_response"], second["items_onsale_get_response"]
    assert page1["total_results"] == 3
    assert [i["num_iid"] for i in page1["items"]["item"] + page2["items"]["item"]] == ids
    reserved = "白色 T恤:/ +&=%~ 限量"
    call(port, "taobao.item.update", num_iid=str(ids[0]), title=reserved)
    assert emulator.state["items"][str(ids[0])]["title"] == reserved
    custom = call(port, "taobao.items.custom.get", fields="num_iid,outer_id", outer_id="TEE-2")
    assert custom["items_custom_get_response"]["items"]["item"] == [{"num_iid": ids[1], "outer_id": "TEE-2"}]


def test_price_and_quantity(gateway):
    emulator, port = gateway
    plain = add(port, "茶杯")
    call(port, "taobao.item.price.update", num_iid=str(plain), price="21.50")
    call(port, "taobao.item.quantity.update", num_iid=str(plain), quantity="9", type="1")
    assert (emulator.state["items"][str(plain)]["price"], emulator.state["items"][str(plain)]["num"]) == ("21.50", 9)
    skus = {"sku_properties": "1627207:28341,1627207:28320", "sku_quantities": "2,3", "sku_prices": "30.00,32.00"}
    shirt = add(port, "衬衫", price="30.00", sku_outer_ids="SHIRT-W,SHIRT-B", **skus)
    got = call(port, "taobao.item.skus.get", fields="sku_id,properties,quantity,price", num_iids=str(shirt))
    by_props = {s["properties"]: s for s in got["item_skus_get_response"]["skus"]["sku"]}
    white = by_props["1627207:28341"]["sku_id"]
    call(port, "taobao.item.sku.price.update", num_iid=str(shirt), properties="1627207:28341", price="31.00",
         item_price="31.00")  # fmt: skip
    call(port, "taobao.skus.quantity.update", num_iid=str(shirt), type="1", skuid_quantities=f"{white}:0")
    after = {s["properties"]: s for s in emulator.state["items"][str(shirt)]["skus"]}
    assert (after["1627207:28341"]["price"], after["1627207:28341"]["quantity"]) == ("31.00", 0)


def test_orders_paging_and_filters(gateway):
    emulator, port = gateway
    add(port, "蜂蜜", num="100", outer_id="HONEY")
    emulator.generate_orders(5)
    now = datetime.now(UTC)
    window = {"start_modified": cn(now - timedelta(minutes=30)), "end_modified": cn(now + timedelta(minutes=1))}
    fields = "tid,status,modified,orders.outer_iid,orders.num"
    seen = []
    for page in ("1", "2", "3"):
        answer = call(port, "taobao.trades.sold.increment.get", fields=fields, page_no=page, page_size="2", **window)
        body = answer["trades_sold_increment_get_response"]
        assert body["total_results"] == 5
        seen += [t["tid"] for t in body.get("trades", {}).get("trade", [])]
    assert sorted(seen) == sorted(int(tid) for tid in emulator.state["trades"])
    flagged = call(port, "taobao.trades.sold.increment.get", fields=fields, page_size="100", use_has_next="true",
                    **window)["trades_sold_increment_get_response"]  # fmt: skip
    assert flagged["has_next"] is False and "total_results" not in flagged
    later = {"start_modified": cn(now + timedelta(hours=1)), "end_modified": cn(now + timedelta(hours=2))}
    empty = call(port, "taobao.trades.sold.increment.get", fields=fields, **later)["trades_sold_increment_get_response"]
    assert "trades" not in empty and empty["total_results"] == 0


def test_errors_arrive_as_the_sdk_expects_them(gateway):
    _, port = gateway
    with pytest.raises(TopException) as bad_sign:
        call(port, "taobao.items.onsale.get", secret="wrong-secret", fields="num_iid")
    assert bad_sign.value.errorcode == 25 and bad_sign.value.message == "Invalid signature"
    with pytest.raises(TopException) as bad_session:
        call(port, "taobao.items.onsale.get", session="expired", fields="num_iid")
    assert (bad_session.value.errorcode, bad_session.value.subcode) == (27, "invalid-sessionkey")
    with pytest.raises(TopException) as missing:
        call(port, "taobao.item.quantity.update", num_iid="1")
    assert missing.value.errorcode == 40


def test_epoch_millisecond_timestamps_are_held_to_the_same_ten_minutes(gateway, monkeypatch):
    """The SDK's millisecond timestamp is accepted only within +-10 minutes, like the GMT+8 text form."""
    import time as clock

    _, port = gateway
    real = clock.time
    monkeypatch.setattr(clock, "time", lambda: real() - 11 * 60)
    with pytest.raises(TopException) as stale:
        call(port, "taobao.items.onsale.get", fields="num_iid")
    assert stale.value.errorcode == 31
    monkeypatch.setattr(clock, "time", lambda: real() - 9 * 60)
    assert "items_onsale_get_response" in call(port, "taobao.items.onsale.get", fields="num_iid")
