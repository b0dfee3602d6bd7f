"""Exact wire format of every operation (respx), written from domestic-apis.md section 3."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    ListingRef,
    Money,
    Operation,
    PriceUpdate,
    StockUpdate,
    Variation,
)

from .conftest import GATEWAY, check_envelope, decode


def ok(method: str, body: dict | None = None) -> httpx.Response:
    key = method.removeprefix("taobao.").replace(".", "_") + "_response"
    return httpx.Response(200, json={key: {**(body or {}), "request_id": "r"}})


def sku_ref(sku, num_iid="520", sku_id="31", properties="1627207:28320", outer_id=None):
    return ListingRef(
        sku, num_iid, {"num_iid": num_iid, "sku_id": sku_id, "properties": properties, "outer_id": outer_id or sku}
    )


ITEM_REF = ListingRef("SOLO", "777", {"num_iid": "777", "outer_id": "SOLO"})


@respx.mock
def test_stock_single_sku_is_item_quantity_update_type_1(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.item.quantity.update", {"item": {"num_iid": 520}}))
    [result] = make_adapter().push_stock([StockUpdate("TEE-W-M", 0, ref=sku_ref("TEE-W-M"))])
    assert result.ok
    form = check_envelope(route.calls.last.request, "taobao.item.quantity.update")
    assert form == {"num_iid": "520", "sku_id": "31", "quantity": "0", "type": "1"}  # 0 is sent, not dropped


@respx.mock
def test_stock_item_without_skus(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.item.quantity.update", {"item": {"num_iid": 777}}))
    make_adapter().push_stock([StockUpdate("SOLO", 12, ref=ITEM_REF)])
    assert check_envelope(route.calls.last.request, "taobao.item.quantity.update") == {
        "num_iid": "777",
        "quantity": "12",
        "type": "1",
    }


@respx.mock
def test_stock_several_skus_of_one_item_use_the_batch_method(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.skus.quantity.update", {"item": {"num_iid": 520}}))
    updates = [
        StockUpdate("W-M", 5, ref=sku_ref("W-M", sku_id="31")),
        StockUpdate("W-L", 7, ref=sku_ref("W-L", sku_id="32", properties="1627207:28320;20509:28315")),
    ]
    results = make_adapter().push_stock(updates)
    assert [r.ok for r in results] == [True, True]
    assert route.call_count == 1
    form = check_envelope(route.calls.last.request, "taobao.skus.quantity.update")
    assert form == {"num_iid": "520", "skuid_quantities": "31:5;32:7", "type": "1"}


@respx.mock
def test_stock_batch_item_error_is_isolated_sku_by_sku(make_adapter):
    bad = {"error_response": {"code": 15, "msg": "Remote service error", "sub_code": "isv.item-sku-not-exist"}}
    route = respx.post(GATEWAY).mock(
        side_effect=[
            httpx.Response(200, json=bad),  # the batch
            ok("taobao.item.quantity.update"),  # W-M alone
            httpx.Response(200, json=bad),  # W-L alone
        ]
    )
    updates = [
        StockUpdate("W-M", 5, ref=sku_ref("W-M", sku_id="31")),
        StockUpdate("W-L", 7, ref=sku_ref("W-L", sku_id="99")),
    ]
    a, b = make_adapter().push_stock(updates)
    assert a.ok and not b.ok and b.code == "isv.item-sku-not-exist"
    methods = [decode(c.request)[0]["method"] for c in route.calls]
    assert methods == ["taobao.skus.quantity.update", "taobao.item.quantity.update", "taobao.item.quantity.update"]


@respx.mock
def test_stock_tmall_variant_with_outer_biz_key(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("tmall.item.quantity.update", {"quantity_update_result": "520"}))
    updates = [
        StockUpdate("W-M", 5, ref=sku_ref("W-M", sku_id="31")),
        StockUpdate("W-L", 0, ref=sku_ref("W-L", sku_id="32")),
    ]
    make_adapter(options={"tmall": True}).push_stock(updates)
    form = check_envelope(route.calls.last.request, "tmall.item.quantity.update")
    assert form["item_id"] == "520"
    assert json.loads(form["sku_quantities"]) == [{"sku_id": 31, "quantity": 5}, {"sku_id": 32, "quantity": 0}]
    options = json.loads(form["options"])
    assert options["type"] == 1
    assert all(c in "0123456789abcdefABCDEF" for c in options["outer_biz_key"]) and options["outer_biz_key"]
    assert set(form) == {"item_id", "sku_quantities", "options"}


def test_stock_chunks_group_by_item_at_most_20(make_adapter):
    adapter = make_adapter()
    updates = [StockUpdate(f"A{i}", 1, ref=sku_ref(f"A{i}", num_iid="1", sku_id=str(i))) for i in range(25)]
    updates += [StockUpdate("B0", 1, ref=sku_ref("B0", num_iid="2"))]
    chunks = list(adapter.chunks(Operation.STOCK, updates))
    assert [len(c) for c in chunks] == [20, 5, 1]
    assert adapter.limits.batch(Operation.STOCK) == 20


@respx.mock
def test_price_by_property_string_with_item_price(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.item.sku.price.update", {"sku": {"sku_id": 31}}))
    ref = sku_ref("W-M", properties="1627207:28320;20509:28314")
    [result] = make_adapter().push_prices([PriceUpdate("W-M", Money(Decimal("59.9"), "CNY"), ref=ref)])
    assert result.ok
    form = check_envelope(route.calls.last.request, "taobao.item.sku.price.update")
    assert form == {
        "num_iid": "520",
        "properties": "1627207:28320;20509:28314",
        "price": "59.90",
        "item_price": "59.90",
    }


@respx.mock
def test_price_without_properties_reads_them_from_item_skus_get(make_adapter):
    route = respx.post(GATEWAY).mock(
        side_effect=[
            ok(
                "taobao.item.skus.get",
                {
                    "skus": {
                        "sku": [
                            {
                                "sku_id": 31,
                                "num_iid": 520,
                                "properties": "1627207:28320",
                                "quantity": 3,
                                "price": "10.00",
                                "outer_id": "W-M",
                            }
                        ]
                    }
                },
            ),
            ok("taobao.item.sku.price.update"),
        ]
    )
    ref = ListingRef("W-M", "520", {"num_iid": "520", "sku_id": "31"})
    [result] = make_adapter().push_prices([PriceUpdate("W-M", Money.of("12", "CNY"), ref=ref)])
    assert result.ok and result.ref.get("properties") == "1627207:28320"
    lookup = check_envelope(route.calls[0].request, "taobao.item.skus.get")
    assert lookup == {"num_iids": "520", "fields": "sku_id,num_iid,properties,quantity,price,outer_id"}
    assert check_envelope(route.calls[1].request, "taobao.item.sku.price.update")["properties"] == "1627207:28320"


@respx.mock
def test_price_item_without_skus(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.item.price.update"))
    make_adapter().push_prices([PriceUpdate("SOLO", Money.of("100", "CNY"), ref=ITEM_REF)])
    assert check_envelope(route.calls.last.request, "taobao.item.price.update") == {"num_iid": "777", "price": "100.00"}


@respx.mock
def test_price_in_another_currency_fails_the_item_without_a_call(make_adapter):
    route = respx.post(GATEWAY)
    [result] = make_adapter().push_prices([PriceUpdate("SOLO", Money.of("10", "USD"), ref=ITEM_REF)])
    assert not result.ok and "CNY" in result.message
    assert route.call_count == 0


@respx.mock
def test_update_without_ref_is_looked_up_by_merchant_code(make_adapter):
    route = respx.post(GATEWAY).mock(
        side_effect=[
            ok(
                "taobao.skus.custom.get",
                {"skus": {"sku": [{"sku_id": 31, "num_iid": 520, "properties": "1:2", "outer_id": "W-M"}]}},
            ),
            ok("taobao.item.quantity.update"),
        ]
    )
    [result] = make_adapter().push_stock([StockUpdate("W-M", 4)])
    assert result.ok and dict(result.ref.ids) == {
        "num_iid": "520",
        "sku_id": "31",
        "properties": "1:2",
        "outer_id": "W-M",
    }
    assert check_envelope(route.calls[0].request, "taobao.skus.custom.get") == {
        "outer_id": "W-M",
        "fields": "sku_id,num_iid,properties,quantity,price,outer_id",
    }


@respx.mock
def test_unknown_sku_without_ref_fails_clearly(make_adapter):
    route = respx.post(GATEWAY).mock(side_effect=[ok("taobao.skus.custom.get"), ok("taobao.items.custom.get")])
    [result] = make_adapter().push_stock([StockUpdate("NOPE", 4)])
    assert not result.ok and result.code == "not_found" and "listings()" in result.message
    assert check_envelope(route.calls[1].request, "taobao.items.custom.get") == {
        "outer_id": "NOPE",
        "fields": "num_iid,title,price,num,outer_id,approve_status",
    }


@respx.mock
def test_ambiguous_merchant_code_is_refused(make_adapter):
    rows = [{"sku_id": 1, "num_iid": 5, "outer_id": "DUP"}, {"sku_id": 2, "num_iid": 6, "outer_id": "DUP"}]
    respx.post(GATEWAY).mock(return_value=ok("taobao.skus.custom.get", {"skus": {"sku": rows}}))
    [result] = make_adapter().push_stock([StockUpdate("DUP", 4)])
    assert not result.ok and result.code == "ambiguous"


@respx.mock
def test_delist_and_relist(make_adapter):
    route = respx.post(GATEWAY).mock(side_effect=[ok("taobao.item.update.delisting"), ok("taobao.item.update.listing")])
    adapter = make_adapter()
    assert adapter.delist([DelistRequest("SOLO", ITEM_REF)])[0].ok
    assert adapter.relist([DelistRequest("SOLO", ITEM_REF, quantity=8)])[0].ok
    assert check_envelope(route.calls[0].request, "taobao.item.update.delisting") == {"num_iid": "777"}
    assert check_envelope(route.calls[1].request, "taobao.item.update.listing") == {"num_iid": "777", "num": "8"}


@respx.mock
def test_relist_needs_a_positive_quantity(make_adapter):
    route = respx.post(GATEWAY)
    [result] = make_adapter().relist([DelistRequest("SOLO", ITEM_REF, quantity=0)])
    assert not result.ok and "quantity > 0" in result.message and route.call_count == 0


@respx.mock
def test_sku_level_delist_is_tmall_only(make_adapter):
    item_skus = ok(
        "taobao.item.skus.get",
        {
            "skus": {
                "sku": [
                    {"sku_id": 31, "num_iid": 520, "outer_id": "W-M"},
                    {"sku_id": 32, "num_iid": 520, "outer_id": "W-L"},
                ]
            }
        },
    )
    route = respx.post(GATEWAY).mock(side_effect=[item_skus])
    [taobao] = make_adapter().delist([DelistRequest("W-M", sku_ref("W-M"))])
    # W-L of the same item stays on sale, so this is a single-SKU delist: plain Taobao cannot do it
    assert not taobao.ok and taobao.code == "unsupported" and route.call_count == 1
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.sku.update.listing.tmall", {"result": True}))
    [tmall] = make_adapter(options={"tmall": True}).delist([DelistRequest("W-M", sku_ref("W-M"))])
    assert tmall.ok
    form = check_envelope(route.calls.last.request, "taobao.sku.update.listing.tmall")
    assert form["item_id"] == "520" and json.loads(form["sku_map"]) == {"31": -2}


@respx.mock
def test_delisting_every_sku_of_an_item_delists_the_whole_item(make_adapter):
    route = respx.post(GATEWAY).mock(
        side_effect=[
            ok(
                "taobao.item.skus.get",
                {
                    "skus": {
                        "sku": [
                            {"sku_id": 31, "num_iid": 520, "outer_id": "W-M"},
                            {"sku_id": 32, "num_iid": 520, "outer_id": "W-L"},
                        ]
                    }
                },
            ),
            ok("taobao.item.update.delisting", {"item": {"num_iid": 520}}),
        ]
    )
    adapter = make_adapter()
    requests = [DelistRequest("W-M", sku_ref("W-M")), DelistRequest("W-L", sku_ref("W-L", sku_id="32"))]
    assert [len(chunk) for chunk in adapter.chunks(Operation.DELIST, requests)] == [2]  # one item, one batch
    results = adapter.delist(requests)
    assert [(r.sku, r.ok) for r in results] == [("W-M", True), ("W-L", True)]
    assert check_envelope(route.calls.last.request, "taobao.item.update.delisting") == {"num_iid": "520"}


DRAFT = ListingDraft(
    sku="TEE",
    title="男士纯棉T恤",
    description="<p>100% 棉</p>",
    category_id="50000436",
    price=Money.of("59", "CNY"),
    quantity=0,
    attributes={"20000": ("29534",)},
    variations=(
        Variation("TEE-W-M", Money.of("59", "CNY"), 5, {"1627207": "28320", "20509": "28314"}),
        Variation("TEE-W-L", Money.of("69.5", "CNY"), 3, {"1627207": "28320", "20509": "28315"}),
    ),
)


@respx.mock
def test_publish_new_item_with_skus_then_adopts_sku_ids(make_adapter):
    skus = [
        {"sku_id": 41, "num_iid": 900, "properties": "1627207:28320;20509:28314", "outer_id": "TEE-W-M"},
        {"sku_id": 42, "num_iid": 900, "properties": "1627207:28320;20509:28315", "outer_id": "TEE-W-L"},
    ]
    route = respx.post(GATEWAY).mock(
        side_effect=[
            ok("taobao.item.add", {"item": {"num_iid": 900, "created": "2026-11-27 10:00:00"}}),
            ok("taobao.item.skus.get", {"skus": {"sku": skus}}),
        ]
    )
    adapter = make_adapter(options={"location_state": "浙江", "location_city": "杭州"})
    [result] = adapter.publish([DRAFT])
    assert result.ok and result.ref.get("num_iid") == "900"
    form = check_envelope(route.calls[0].request, "taobao.item.add")
    assert form == {
        "title": "男士纯棉T恤",
        "desc": "<p>100% 棉</p>",
        "cid": "50000436",
        "outer_id": "TEE",
        "type": "fixed",
        "stuff_status": "new",
        "props": "20000:29534",
        "location.state": "浙江",
        "location.city": "杭州",
        "price": "59.00",  # inside the SKU price range
        "num": "8",
        "sku_properties": "1627207:28320;20509:28314,1627207:28320;20509:28315",
        "sku_quantities": "5,3",
        "sku_prices": "59.00,69.50",
        "sku_outer_ids": "TEE-W-M,TEE-W-L",
    }
    assert check_envelope(route.calls[1].request, "taobao.item.skus.get")["num_iids"] == "900"
    assert dict(adapter.known_ref("TEE-W-L").ids) == {
        "num_iid": "900",
        "sku_id": "42",
        "properties": "1627207:28320;20509:28315",
        "outer_id": "TEE-W-L",
    }


@respx.mock
def test_publish_with_ref_updates_the_item(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.item.update", {"item": {"num_iid": 777}}))
    draft = ListingDraft(
        sku="SOLO",
        title="杯子",
        description="d",
        category_id="1",
        price=Money.of("9.9", "CNY"),
        quantity=4,
        ref=ITEM_REF,
    )
    [result] = make_adapter().publish([draft])
    assert result.ok
    form = check_envelope(route.calls.last.request, "taobao.item.update")
    assert form == {
        "num_iid": "777",
        "title": "杯子",
        "desc": "d",
        "cid": "1",
        "outer_id": "SOLO",
        "type": "fixed",
        "stuff_status": "new",
        "price": "9.90",
        "num": "4",
    }


@respx.mock
def test_publish_new_item_without_location_fails_before_calling(make_adapter):
    route = respx.post(GATEWAY)
    [result] = make_adapter().publish([DRAFT])
    assert not result.ok and "location" in result.message and route.call_count == 0


@respx.mock
def test_orders_request(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.trades.sold.increment.get", {"total_results": 0}))
    from listing_sync.adapters.base import OrderCursor

    page = make_adapter().orders_since(OrderCursor(datetime(2026, 11, 27, 1, 0, tzinfo=UTC)))
    form = check_envelope(route.calls.last.request, "taobao.trades.sold.increment.get")
    assert form == {
        "fields": "tid,status,created,modified,consign_time,payment,post_fee,receiver_country,receiver_name,"
        "receiver_mobile,receiver_state,receiver_city,receiver_district,receiver_address,receiver_zip,orders.oid,"
        "orders.num_iid,orders.sku_id,orders.outer_iid,orders.outer_sku_id,orders.num,orders.price,orders.title",
        "start_modified": "2026-11-27 09:00:00",
        "end_modified": "2026-11-27 09:30:00",  # 30-minute window, GMT+8
        "page_no": "1",
        "page_size": "100",
        "use_has_next": "false",
    }
    # the receiver is asked for the packing slip (TOP sends it desensitised); the syncer keeps it apart
    assert page.orders == () and page.next.since == datetime(2026, 11, 27, 1, 25, tzinfo=UTC) and not page.done


@respx.mock
def test_listings_requests(make_adapter):
    items = {
        "items": {
            "item": [
                {
                    "num_iid": 900,
                    "title": "T",
                    "price": "59.00",
                    "num": 8,
                    "outer_id": "TEE",
                    "approve_status": "onsale",
                }
            ]
        },
        "total_results": 1,
    }
    route = respx.post(GATEWAY).mock(
        side_effect=[
            ok("taobao.items.onsale.get", items),
            ok("taobao.items.inventory.get", {"total_results": 0}),
            ok("taobao.items.inventory.get", {"total_results": 0}),
            ok("taobao.items.inventory.get", {"total_results": 0}),
            ok(
                "taobao.item.skus.get",
                {
                    "skus": {
                        "sku": [
                            {
                                "sku_id": 41,
                                "num_iid": 900,
                                "properties": "1:2",
                                "quantity": 5,
                                "price": "59.00",
                                "outer_id": "TEE-W-M",
                            }
                        ]
                    }
                },
            ),
        ]
    )
    [listing] = list(make_adapter().listings())
    assert (listing.sku, listing.quantity, listing.price, listing.status) == (
        "TEE-W-M",
        5,
        Money.of("59", "CNY"),
        "active",
    )
    assert check_envelope(route.calls[0].request, "taobao.items.onsale.get") == {
        "fields": "num_iid,title,price,num,outer_id,approve_status",
        "page_no": "1",
        "page_size": "100",
    }
    banners = [check_envelope(c.request, "taobao.items.inventory.get")["banner"] for c in route.calls[1:4]]
    assert banners == ["off_shelf", "for_shelved", "sold_out"]


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [("overseas", "https://api.taobao.com/router/rest"), ("sandbox", "http://gw.api.tbsandbox.com/router/rest")],
)
@respx.mock
def test_endpoint_option(make_adapter, endpoint, url):
    route = respx.post(url).mock(return_value=ok("taobao.item.update.delisting"))
    make_adapter(options={"endpoint": endpoint}).delist([DelistRequest("SOLO", ITEM_REF)])
    assert route.call_count == 1


@respx.mock
def test_md5_sign_method_option(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.item.update.delisting"))
    make_adapter(options={"sign_method": "md5"}).delist([DelistRequest("SOLO", ITEM_REF)])
    check_envelope(route.calls.last.request, "taobao.item.update.delisting", sign_method="md5")


def test_options_are_strict(make_adapter):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        make_adapter(options={"tmal": True})
    with pytest.raises(ValidationError):
        make_adapter(options={"order_window_minutes": 1441})


@respx.mock
def test_zero_price_is_refused_locally(make_adapter):
    route = respx.post(GATEWAY)
    [result] = make_adapter().push_prices([PriceUpdate("SOLO", Money.of("0.001", "CNY"), ref=ITEM_REF)])
    assert not result.ok and "greater than 0" in result.message and route.call_count == 0


@respx.mock
def test_trace_never_contains_the_session_or_secret(make_adapter, tmp_path):
    from listing_sync.adapters.http import TraceWriter

    from .conftest import CREDS

    route = respx.post(GATEWAY).mock(return_value=ok("taobao.item.update.delisting"))
    trace = tmp_path / "trace.jsonl"
    make_adapter(trace=TraceWriter(trace)).delist([DelistRequest("SOLO", ITEM_REF)])
    text = trace.read_text(encoding="utf-8")
    assert route.call_count == 1 and "taobao.item.update.delisting" in text
    assert CREDS["session"] not in text and CREDS["app_secret"] not in text
