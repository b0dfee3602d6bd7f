"""The binder on Taobao: publish binds every SKU's ids on its item's ref (one ``taobao.item.skus.get`` per
40 items), and pushes use those ids without a look-up."""

from __future__ import annotations

import respx
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    ListingRef,
    Money,
    PriceUpdate,
    StockUpdate,
    Variation,
)

from .conftest import GATEWAY, check_envelope
from .test_wire import ok


def draft(key: str) -> ListingDraft:
    return ListingDraft(
        sku=key,
        title="T恤",
        description="<p>棉</p>",
        category_id="50000436",
        price=Money.of("59", "CNY"),
        quantity=0,
        variations=(
            Variation(f"{key}-M", Money.of("59", "CNY"), 5, {"1627207": "28320", "20509": "28314"}),
            Variation(f"{key}-L", Money.of("69", "CNY"), 3, {"1627207": "28320", "20509": "28315"}),
        ),
    )


def sku_rows(num_iid: int, key: str, first_id: int) -> list[dict]:
    return [
        {"sku_id": first_id, "num_iid": num_iid, "properties": "1627207:28320;20509:28314", "outer_id": f"{key}-M"},
        {"sku_id": first_id + 1, "num_iid": num_iid, "properties": "1627207:28320;20509:28315", "outer_id": f"{key}-L"},
    ]


BOUND = ListingRef(
    "A",
    "900",
    {
        "num_iid": "900",
        "outer_id": "A",
        "sku_id/A-M": "41",
        "properties/A-M": "1627207:28320;20509:28314",
        "sku_id/A-L": "42",
        "properties/A-L": "1627207:28320;20509:28315",
    },
)


@respx.mock
def test_publish_reads_the_sku_ids_of_all_new_items_in_one_call_and_binds_them(make_adapter):
    route = respx.post(GATEWAY).mock(
        side_effect=[
            ok("taobao.item.add", {"item": {"num_iid": 900}}),
            ok("taobao.item.add", {"item": {"num_iid": 901}}),
            ok("taobao.item.skus.get", {"skus": {"sku": sku_rows(900, "A", 41) + sku_rows(901, "B", 51)}}),
        ]
    )
    adapter = make_adapter(options={"location_state": "浙江", "location_city": "杭州"})
    assert adapter.limits.publish == 40
    first, second = adapter.publish([draft("A"), draft("B")])
    assert route.call_count == 3
    assert check_envelope(route.calls[2].request, "taobao.item.skus.get")["num_iids"] == "900,901"
    assert dict(first.ref.ids) == dict(BOUND.ids)
    assert second.ref.get("sku_id/B-L") == "52" and second.ref.get("num_iid") == "901"


@respx.mock
def test_a_bound_item_ref_prices_and_stocks_each_sku_without_a_look_up(make_adapter):
    route = respx.post(GATEWAY).mock(
        side_effect=[
            ok("taobao.item.sku.price.update", {"sku": {}}),
            ok("taobao.skus.quantity.update", {"item": {"num_iid": 900}}),
        ]
    )
    adapter = make_adapter()
    [priced] = adapter.push_prices([PriceUpdate("A-L", Money.of("72", "CNY"), BOUND)])
    assert priced.ok and priced.ref == BOUND  # the item's ref comes back whole: the syncer keeps every binding
    form = check_envelope(route.calls[0].request, "taobao.item.sku.price.update")
    assert form == {
        "num_iid": "900",
        "properties": "1627207:28320;20509:28315",
        "price": "72.00",
        "item_price": "72.00",
    }
    stocked = adapter.push_stock([StockUpdate("A-M", 4, BOUND), StockUpdate("A-L", 0, BOUND)])
    assert all(r.ok for r in stocked) and route.call_count == 2
    form = check_envelope(route.calls[1].request, "taobao.skus.quantity.update")
    assert form == {"num_iid": "900", "skuid_quantities": "41:4;42:0", "type": "1"}


@respx.mock
def test_delisting_every_bound_sku_takes_the_item_down_without_reading_its_skus(make_adapter):
    route = respx.post(GATEWAY).mock(return_value=ok("taobao.item.update.delisting", {"item": {"num_iid": 900}}))
    results = make_adapter().delist([DelistRequest("A-M", BOUND), DelistRequest("A-L", BOUND)])
    assert [(r.ok, r.ref) for r in results] == [(True, BOUND), (True, BOUND)] and route.call_count == 1
    assert check_envelope(route.calls[0].request, "taobao.item.update.delisting") == {"num_iid": "900"}


@respx.mock
def test_a_sku_the_item_ref_does_not_bind_is_looked_up(make_adapter):
    route = respx.post(GATEWAY).mock(
        side_effect=[
            ok("taobao.skus.custom.get", {"skus": {"sku": [{"sku_id": 77, "num_iid": 900, "properties": "1:2"}]}}),
            ok("taobao.item.sku.price.update", {"sku": {}}),
        ]
    )
    [result] = make_adapter().push_prices([PriceUpdate("A-XL", Money.of("80", "CNY"), BOUND)])
    assert result.ok and route.call_count == 2
    assert check_envelope(route.calls[0].request, "taobao.skus.custom.get")["outer_id"] == "A-XL"
