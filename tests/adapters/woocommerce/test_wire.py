"""Exact requests for every operation, with expected values written from the v3 docs
(paths, property names, prices as strings, stock_quantity as an integer with manage_stock)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import time_machine
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    ListingRef,
    Money,
    Operation,
    OrderCursor,
    OrderStatus,
    PriceUpdate,
    SaleWindow,
    StockUpdate,
    Variation,
)

HOST = "shop.example.com"
V3 = "/wp-json/wc/v3"
BASIC = "Basic " + base64.b64encode(b"ck_4f2a9c1e7b:cs_8d3b6e0f5a").decode()


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def route(respx_mock, method: str, path: str, *responses: httpx.Response):
    r = respx_mock.route(method=method, scheme="https", host=HOST, path=f"{V3}{path}")
    if len(responses) == 1:
        r.mock(return_value=responses[0])
    else:
        r.mock(side_effect=list(responses))
    return r


def ok(body, **headers) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers)


def sent(call) -> dict:
    request = call.request
    assert request.headers["Authorization"] == BASIC
    assert request.headers["Accept"] == "application/json"
    if request.method == "POST":
        assert request.headers["Content-Type"] == "application/json"
    return json.loads(request.content) if request.content else {}


MUG = ListingDraft(
    sku="MUG-1",
    title="Ceramic Mug",
    description="A mug",
    category_id="9",
    price=usd("9.9"),
    quantity=5,
    attributes={"Material": ("Ceramic",)},
    images=("https://cdn.example.com/mug.jpg",),
    bullet_points=("350 ml",),
    weight_grams=350,
)
TEE = ListingDraft(
    sku="TEE",
    title="T-shirt",
    description="Cotton",
    category_id="",
    price=usd("12"),
    quantity=0,
    variations=(
        Variation("TEE-R", usd("12"), 3, {"Color": "Red"}, images=("https://cdn.example.com/r.jpg",)),
        Variation("TEE-B", usd("13.5"), 4, {"Color": "Blue"}),
    ),
)
MUG_BODY = {
    "name": "Ceramic Mug",
    "type": "simple",
    "sku": "MUG-1",
    "description": "A mug",
    "short_description": "<ul><li>350 ml</li></ul>",
    "categories": [{"id": 9}],
    "images": [{"src": "https://cdn.example.com/mug.jpg"}],
    "attributes": [{"name": "Material", "position": 0, "visible": True, "variation": False, "options": ["Ceramic"]}],
    "weight": "0.35",
    "regular_price": "9.90",
    "sale_price": "",
    "manage_stock": True,
    "stock_quantity": 5,
}


def test_publish_simple_product_creates_through_products_batch(respx_mock, make_adapter):
    batch = route(respx_mock, "POST", "/products/batch", ok({"create": [{"id": 801, "sku": "MUG-1"}]}))
    [result] = make_adapter().publish([MUG])
    assert sent(batch.calls.last) == {"create": [{**MUG_BODY, "status": "publish"}]}
    assert batch.calls.last.request.url.query == b""
    assert result.ok and result.ref.ids == {"product_id": "801"} and result.ref.external_id == "801"


def test_publish_variable_product_then_its_variations_per_parent(respx_mock, make_adapter):
    products = route(respx_mock, "POST", "/products/batch", ok({"create": [{"id": 22, "sku": "TEE"}]}))
    variations = route(respx_mock, "POST", "/products/22/variations/batch", ok({"create": [{"id": 23}, {"id": 24}]}))
    [result] = make_adapter().publish([TEE])
    assert sent(products.calls.last) == {
        "create": [
            {
                "name": "T-shirt",
                "type": "variable",
                "sku": "TEE",
                "description": "Cotton",
                "status": "publish",
                "attributes": [
                    {"name": "Color", "position": 0, "visible": True, "variation": True, "options": ["Red", "Blue"]}
                ],
                "manage_stock": False,
            }
        ]
    }
    assert sent(variations.calls.last) == {
        "create": [
            {
                "sku": "TEE-R",
                "regular_price": "12.00",
                "sale_price": "",
                "manage_stock": True,
                "stock_quantity": 3,
                "attributes": [{"name": "Color", "option": "Red"}],
                "image": {"src": "https://cdn.example.com/r.jpg"},
            },
            {
                "sku": "TEE-B",
                "regular_price": "13.50",
                "sale_price": "",
                "manage_stock": True,
                "stock_quantity": 4,
                "attributes": [{"name": "Color", "option": "Blue"}],
            },
        ]
    }
    assert result.ok
    assert dict(result.ref.ids) == {"product_id": "22", "variation_id:TEE-R": "23", "variation_id:TEE-B": "24"}


def test_publish_update_with_ref_keeps_status_and_looks_up_missing_variation_ids(respx_mock, make_adapter):
    products = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 22, "sku": "TEE"}]}))
    listing = route(
        respx_mock, "GET", "/products/22/variations", ok([{"id": 23, "sku": "TEE-R"}], **{"X-WP-TotalPages": "1"})
    )
    variations = route(
        respx_mock, "POST", "/products/22/variations/batch", ok({"create": [{"id": 24}], "update": [{"id": 23}]})
    )
    [result] = make_adapter().publish(
        [ListingDraft(**{**_fields(TEE), "ref": ListingRef("TEE", "22", {"product_id": "22"})})]
    )
    body = sent(products.calls.last)
    assert body["update"][0]["id"] == 22 and "status" not in body["update"][0] and "create" not in body
    assert dict(listing.calls.last.request.url.params) == {
        "per_page": "100",
        "page": "1",
        "orderby": "id",
        "order": "asc",
    }
    sent_variations = sent(variations.calls.last)
    assert [v["sku"] for v in sent_variations["create"]] == ["TEE-B"]
    assert sent_variations["update"][0]["id"] == 23 and sent_variations["update"][0]["sku"] == "TEE-R"
    assert result.ok and result.ref.get("variation_id:TEE-B") == "24"


def _fields(draft: ListingDraft) -> dict:
    return {name: getattr(draft, name) for name in draft.__dataclass_fields__}


def test_duplicate_sku_on_create_adopts_the_existing_product(respx_mock, make_adapter):
    duplicate = {
        "id": 0,
        "error": {
            "code": "product_invalid_sku",
            "message": "Invalid or duplicated SKU.",
            "data": {"status": 400, "resource_id": 801, "unique_sku": "MUG-1-1"},
        },
    }
    batch = route(
        respx_mock,
        "POST",
        "/products/batch",
        ok({"create": [duplicate]}),
        ok({"update": [{"id": 801, "sku": "MUG-1"}]}),
    )
    [result] = make_adapter().publish([MUG])
    assert sent(batch.calls[1]) == {"update": [{"id": 801, **MUG_BODY}]}
    assert result.ok and result.ref.get("product_id") == "801"


def test_duplicate_sku_without_resource_id_is_looked_up_by_sku(respx_mock, make_adapter):
    duplicate = {
        "id": 0,
        "error": {"code": "product_invalid_sku", "message": "Invalid or duplicated SKU.", "data": {"status": 400}},
    }
    batch = route(respx_mock, "POST", "/products/batch", ok({"create": [duplicate]}), ok({"update": [{"id": 805}]}))
    lookup = route(respx_mock, "GET", "/products", ok([{"id": 805, "sku": "MUG-1"}]))
    [result] = make_adapter().publish([MUG])
    assert dict(lookup.calls.last.request.url.params) == {"sku": "MUG-1"}
    assert sent(batch.calls[1])["update"][0]["id"] == 805
    assert result.ok and result.ref.get("product_id") == "805"


def test_failed_variation_fails_the_listing_but_keeps_the_parent_ref(respx_mock, make_adapter):
    route(respx_mock, "POST", "/products/batch", ok({"create": [{"id": 22}]}))
    bad = {"id": 0, "error": {"code": "woocommerce_rest_invalid_attribute", "message": "Bad", "data": {"status": 400}}}
    route(respx_mock, "POST", "/products/22/variations/batch", ok({"create": [{"id": 23}, bad]}))
    [result] = make_adapter().publish([TEE])
    assert not result.ok and result.code == "woocommerce_rest_invalid_attribute" and not result.retryable
    assert "TEE-B" in result.message
    assert result.ref.get("product_id") == "22" and result.ref.get("variation_id:TEE-R") == "23"


def test_publish_refuses_a_foreign_currency_and_a_non_numeric_category(respx_mock, make_adapter):
    batch = route(respx_mock, "POST", "/products/batch", ok({"create": [{"id": 801}]}))
    eur = ListingDraft(**{**_fields(MUG), "sku": "EUR-1", "price": Money.of("9.90", "EUR")})
    cat = ListingDraft(**{**_fields(MUG), "sku": "CAT-1", "category_id": "Kitchen > Mugs"})
    results = make_adapter().publish([eur, MUG, cat])
    assert [r.ok for r in results] == [False, True, False]
    assert results[0].code == "currency_mismatch" and results[2].code == "invalid_listing"
    assert [c["sku"] for c in sent(batch.calls.last)["create"]] == ["MUG-1"]


SIMPLE_REF = ListingRef("MUG-1", "801", {"product_id": "801"})
TEE_REF = ListingRef("TEE", "22", {"product_id": "22", "variation_id:TEE-R": "23", "variation_id:TEE-B": "24"})


def test_push_prices_groups_products_and_variations_by_parent(respx_mock, make_adapter):
    products = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 801}]}))
    variations = route(respx_mock, "POST", "/products/22/variations/batch", ok({"update": [{"id": 23}, {"id": 24}]}))
    results = make_adapter().push_prices(
        [
            PriceUpdate("TEE-R", usd("15"), ref=TEE_REF, list_price=usd("20")),
            PriceUpdate("MUG-1", usd("11.5"), ref=SIMPLE_REF),
            PriceUpdate("TEE-B", usd("16"), ref=ListingRef("TEE-B", "24", {"product_id": "22", "variation_id": "24"})),
        ]
    )
    assert sent(products.calls.last) == {"update": [{"id": 801, "regular_price": "11.50", "sale_price": ""}]}
    assert sent(variations.calls.last) == {
        "update": [
            {"id": 23, "regular_price": "20.00", "sale_price": "15.00"},
            {"id": 24, "regular_price": "16.00", "sale_price": ""},
        ]
    }
    assert [r.ok for r in results] == [True, True, True]
    # the parent's ref (every variation bound) is kept, so a later delist of all of them is one parent call
    assert results[0].ref == TEE_REF
    assert results[2].ref.ids == {"product_id": "22", "variation_id": "24"}


def test_a_promotion_goes_ahead_as_a_dated_sale_price_on_products_and_variations(respx_mock, make_adapter):
    products = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 801}]}))
    variations = route(respx_mock, "POST", "/products/22/variations/batch", ok({"update": [{"id": 23}]}))
    sale = SaleWindow(usd("9"), datetime(2026, 11, 10, 16, tzinfo=UTC), datetime(2026, 11, 11, 16, tzinfo=UTC))
    results = make_adapter().push_prices(
        [
            PriceUpdate("MUG-1", usd("11.5"), ref=SIMPLE_REF, sale=sale),
            PriceUpdate("TEE-R", usd("20"), ref=TEE_REF, sale=sale),
        ]
    )
    dated = {
        "regular_price": "20.00",
        "sale_price": "9.00",
        "date_on_sale_from_gmt": "2026-11-10T16:00:00",
        "date_on_sale_to_gmt": "2026-11-11T16:00:00",
    }
    assert sent(products.calls.last) == {"update": [{"id": 801, **dated, "regular_price": "11.50"}]}
    assert sent(variations.calls.last) == {"update": [{"id": 23, **dated}]}
    assert [r.ok for r in results] == [True, True]


def test_clearing_a_sale_empties_the_sale_price(respx_mock, make_adapter):
    products = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 801}]}))
    make_adapter().push_prices([PriceUpdate("MUG-1", usd("11.5"), ref=SIMPLE_REF, clear_sale=True)])
    assert sent(products.calls.last) == {"update": [{"id": 801, "regular_price": "11.50", "sale_price": ""}]}


def test_prices_in_a_zero_decimal_currency(respx_mock, fake_clock):
    from listing_sync.adapters.woocommerce.adapter import WooCommerceAdapter

    from tests.conftest import make_channel

    channel = make_channel(
        "woocommerce",
        currency="JPY",
        credentials={"consumer_key": "ck_4f2a9c1e7b", "consumer_secret": "cs_8d3b6e0f5a"},
        options={"site": HOST},
    )
    batch = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 801}]}))
    with WooCommerceAdapter(channel, clock=fake_clock, sleep=fake_clock.sleep) as adapter:
        [result] = adapter.push_prices([PriceUpdate("MUG-1", Money.of("1200", "JPY"), ref=SIMPLE_REF)])
    assert sent(batch.calls.last) == {"update": [{"id": 801, "regular_price": "1200", "sale_price": ""}]}
    assert result.ok


def test_push_stock_sends_an_integer_with_manage_stock(respx_mock, make_adapter):
    batch = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 801}]}))
    [result] = make_adapter().push_stock([StockUpdate("MUG-1", 7, ref=SIMPLE_REF, expected=9)])
    body = sent(batch.calls.last)
    assert body == {"update": [{"id": 801, "manage_stock": True, "stock_quantity": 7}]}
    assert type(body["update"][0]["stock_quantity"]) is int
    assert b'"stock_quantity":7' in batch.calls.last.request.content.replace(b" ", b"")
    assert result.ok


def test_stock_without_ref_is_looked_up_by_sku(respx_mock, make_adapter):
    lookup = route(respx_mock, "GET", "/products", ok([{"id": 801, "sku": "MUG-1"}]), ok([]))
    batch = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 801}]}))
    results = make_adapter().push_stock([StockUpdate("MUG-1", 3), StockUpdate("GONE", 1)])
    assert [dict(c.request.url.params) for c in lookup.calls] == [{"sku": "MUG-1"}, {"sku": "GONE"}]
    assert sent(batch.calls.last) == {"update": [{"id": 801, "manage_stock": True, "stock_quantity": 3}]}
    assert results[0].ok and not results[1].ok and results[1].code == "not_found"


def test_variation_missing_from_parent_ref_is_looked_up_in_the_parent(respx_mock, make_adapter):
    lookup = route(
        respx_mock, "GET", "/products/22/variations", ok([{"id": 25, "sku": "TEE-G"}], **{"X-WP-TotalPages": "1"})
    )
    batch = route(respx_mock, "POST", "/products/22/variations/batch", ok({"update": [{"id": 25}]}))
    [result] = make_adapter().push_stock([StockUpdate("TEE-G", 2, ref=TEE_REF)])
    assert lookup.calls.last.request.url.params["sku"] == "TEE-G"
    assert sent(batch.calls.last) == {"update": [{"id": 25, "manage_stock": True, "stock_quantity": 2}]}
    assert result.ok


@pytest.mark.parametrize(("options", "status"), [({}, "draft"), ({"delist_status": "private"}, "private")])
def test_delist_sets_the_configured_status(respx_mock, make_adapter, options, status):
    batch = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 801}]}))
    [result] = make_adapter(options).delist([DelistRequest("MUG-1", ref=SIMPLE_REF)])
    assert sent(batch.calls.last) == {"update": [{"id": 801, "status": status}]}
    assert result.ok


def test_delist_variation_disables_it_and_relist_publishes(respx_mock, make_adapter):
    batch = route(
        respx_mock, "POST", "/products/22/variations/batch", ok({"update": [{"id": 23}]}), ok({"update": [{"id": 23}]})
    )
    adapter = make_adapter()
    assert adapter.delist([DelistRequest("TEE-R", ref=TEE_REF)])[0].ok
    assert adapter.relist([DelistRequest("TEE-R", ref=TEE_REF)])[0].ok
    assert [sent(c) for c in batch.calls] == [
        {"update": [{"id": 23, "status": "private"}]},
        {"update": [{"id": 23, "status": "publish"}]},
    ]


def test_delisting_every_variation_is_one_parent_call_and_relist_reenables_the_disabled(respx_mock, make_adapter):
    products = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 22}]}), ok({"update": [{"id": 22}]}))
    variations = route(respx_mock, "POST", "/products/22/variations/batch", ok({"update": [{"id": 23}]}))
    adapter = make_adapter()
    whole = [DelistRequest("TEE-R", ref=TEE_REF), DelistRequest("TEE-B", ref=TEE_REF)]
    assert adapter.estimate_calls(Operation.DELIST, whole) == 1
    delisted = adapter.delist(whole)
    assert [r.ok for r in delisted] == [True, True] and [r.ref for r in delisted] == [TEE_REF, TEE_REF]
    assert sent(products.calls.last) == {"update": [{"id": 22, "status": "draft"}]}
    assert not variations.called
    # TEE-R had been disabled on its own before: the whole relist publishes the parent and re-enables it
    red = ListingRef("TEE", "22", {**TEE_REF.ids, "disabled": "1"})
    again = [DelistRequest("TEE-R", ref=red), DelistRequest("TEE-B", ref=TEE_REF)]
    assert adapter.estimate_calls(Operation.RELIST, again) == 2
    relisted = adapter.relist(again)
    assert [r.ok for r in relisted] == [True, True] and relisted[0].ref == TEE_REF
    assert sent(products.calls.last) == {"update": [{"id": 22, "status": "publish"}]}
    assert [sent(c) for c in variations.calls] == [{"update": [{"id": 23, "status": "publish"}]}]


def test_a_variation_delisted_alone_is_disabled_and_its_ref_says_so(respx_mock, make_adapter):
    route(respx_mock, "POST", "/products/22/variations/batch", ok({"update": [{"id": 23}]}))
    [result] = make_adapter().delist([DelistRequest("TEE-R", ref=TEE_REF)])
    assert result.ok and result.ref.get("disabled") == "1" and result.ref.get("variation_id:TEE-B") == "24"


def test_whole_products_are_chunked_by_parent_count(make_adapter):
    adapter = make_adapter({"batch_size": 2})
    refs = [
        ListingRef(f"P{p}", str(p), {"product_id": str(p), **{f"variation_id:P{p}-{v}": f"{p}{v}" for v in range(3)}})
        for p in range(3)
    ]
    items = [DelistRequest(f"P{p}-{v}", ref=refs[p]) for p in range(3) for v in range(3)]
    items.append(DelistRequest("TEE-R", ref=TEE_REF))  # TEE-B not asked: TEE-R alone, by variation
    chunks = [[r.sku for r in chunk] for chunk in adapter.chunks(Operation.DELIST, items)]
    assert chunks == [["P0-0", "P0-1", "P0-2", "P1-0", "P1-1", "P1-2"], ["P2-0", "P2-1", "P2-2"], ["TEE-R"]]
    assert adapter.estimate_calls(Operation.DELIST, items) == 3


def test_relist_product_publishes(respx_mock, make_adapter):
    batch = route(respx_mock, "POST", "/products/batch", ok({"update": [{"id": 801}]}))
    assert make_adapter().relist([DelistRequest("MUG-1", ref=SIMPLE_REF)])[0].ok
    assert sent(batch.calls.last) == {"update": [{"id": 801, "status": "publish"}]}


def test_chunks_group_by_parent_and_honour_batch_size(make_adapter):
    adapter = make_adapter({"batch_size": 2})
    other = ListingRef("X", "30", {"product_id": "30", "variation_id:X-1": "31"})
    items = [
        StockUpdate("TEE-R", 1, ref=TEE_REF),
        StockUpdate("MUG-1", 1, ref=SIMPLE_REF),
        StockUpdate("X-1", 1, ref=other),
        StockUpdate("TEE-B", 1, ref=TEE_REF),
        StockUpdate("NEW", 1),
        StockUpdate("MUG-2", 1, ref=ListingRef("MUG-2", "802", {"product_id": "802"})),
        StockUpdate("MUG-3", 1, ref=ListingRef("MUG-3", "803", {"product_id": "803"})),
    ]
    chunks = [[u.sku for u in chunk] for chunk in adapter.chunks(Operation.STOCK, items)]
    assert chunks == [["TEE-R", "TEE-B"], ["MUG-1", "MUG-2"], ["MUG-3"], ["X-1"], ["NEW"]]
    assert [len(c) for c in adapter.chunks(Operation.PUBLISH, [MUG] * 5)] == [2, 2, 1]
    assert adapter.limits.batch(Operation.PRICE) == 100


# ------------------------------------------------------------------------------------------- orders
DOC_ORDER = {  # the v3 docs' "List all orders" example, trimmed
    "id": 727,
    "parent_id": 0,
    "number": "727",
    "status": "processing",
    "currency": "USD",
    "date_created": "2017-03-22T16:28:02",
    "date_created_gmt": "2017-03-22T19:28:02",
    "date_modified": "2017-03-22T16:28:08",
    "date_modified_gmt": "2017-03-22T19:28:08",
    "shipping_total": "10.00",
    "total": "29.35",
    "billing": {"first_name": "John", "email": "john.doe@example.com", "country": "US"},
    "shipping": {"first_name": "John", "address_1": "969 Market", "country": "US"},
    "date_paid_gmt": "2017-03-22T19:28:08",
    "line_items": [
        {"id": 315, "name": "Woo Single #1", "product_id": 93, "variation_id": 0, "quantity": 2,
         "subtotal": "6.00", "total": "6.00", "sku": "", "price": 3},
        {"id": 316, "name": "Ship Your Idea", "product_id": 22, "variation_id": 23, "quantity": 1,
         "subtotal": "12.00", "total": "12.00", "sku": "Bar3", "price": 12},
    ],
}  # fmt: skip
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_orders_query_parameters_and_mapping(respx_mock, make_adapter):
    orders = route(respx_mock, "GET", "/orders", ok([DOC_ORDER], **{"X-WP-Total": "1", "X-WP-TotalPages": "1"}))
    since = datetime(2026, 3, 2, 11, 0, 30, 123456, tzinfo=UTC)
    page = make_adapter().orders_since(OrderCursor(since))
    assert dict(orders.calls.last.request.url.params) == {
        "modified_after": "2026-03-02T11:00:30",
        "modified_before": "2026-03-02T12:00:00",
        "dates_are_gmt": "true",
        "per_page": "100",
        "page": "1",
        "orderby": "id",
        "order": "asc",
    }
    [order] = page.orders
    assert order.external_id == "727" and order.status is OrderStatus.PAID and order.raw_status == "processing"
    assert order.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)  # the _gmt field, not site time
    assert order.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert order.total == usd("29.35") and order.shipping == usd("10.00") and order.ship_country == "US"
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("woocommerce:product/93/variation/0", 2, usd("3.00")),
        ("Bar3", 1, usd("12.00")),
    ]
    assert "john" not in repr(order).lower()
    assert page.done and page.next == OrderCursor(NOW - timedelta(minutes=5))


@time_machine.travel(NOW, tick=False)
def test_orders_page_to_the_last_page_with_a_fixed_window(respx_mock, make_adapter):
    def order(i: int) -> dict:
        return {**DOC_ORDER, "id": i, "date_modified_gmt": "2026-03-02T11:30:00"}

    orders = route(
        respx_mock,
        "GET",
        "/orders",
        ok([order(i) for i in range(1, 101)], **{"X-WP-Total": "150", "X-WP-TotalPages": "2"}),
        ok([order(i) for i in range(101, 151)], **{"X-WP-Total": "150", "X-WP-TotalPages": "2"}),
    )
    adapter = make_adapter()
    first = adapter.orders_since(OrderCursor(datetime(2026, 3, 2, 11, 0, tzinfo=UTC)))
    assert len(first.orders) == 100 and not first.done
    assert first.next == OrderCursor(datetime(2026, 3, 2, 11, 0, tzinfo=UTC), NOW, "2:150")
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        last = adapter.orders_since(first.next)
    params = [dict(c.request.url.params) for c in orders.calls]
    assert params[1]["page"] == "2" and params[1]["modified_before"] == params[0]["modified_before"]
    assert len(last.orders) == 50
    assert last.next == OrderCursor(NOW - timedelta(minutes=5))


@time_machine.travel(NOW, tick=False)
def test_orders_step_back_when_the_window_shrank_while_paging(respx_mock, make_adapter):
    """Two orders were modified again between page reads: the ones that slid onto page 1 are re-read."""
    route(respx_mock, "GET", "/orders", ok([DOC_ORDER], **{"X-WP-Total": "148", "X-WP-TotalPages": "2"}))
    cursor = OrderCursor(datetime(2026, 3, 2, 11, 0, tzinfo=UTC), NOW, "2:150")
    page = make_adapter().orders_since(cursor)
    assert not page.done and page.next == OrderCursor(cursor.since, NOW, "1:148")


@time_machine.travel(NOW, tick=False)
def test_orders_dedupe_on_id_keeping_the_newest(respx_mock, make_adapter):
    older = {**DOC_ORDER, "status": "pending"}
    newer = {**DOC_ORDER, "date_modified_gmt": "2017-03-22T20:00:00", "status": "completed"}
    route(respx_mock, "GET", "/orders", ok([older, newer], **{"X-WP-Total": "2", "X-WP-TotalPages": "1"}))
    [order] = make_adapter().orders_since(OrderCursor(NOW - timedelta(hours=1))).orders
    assert order.status is OrderStatus.SHIPPED and order.raw_status == "completed"


@pytest.mark.parametrize(
    ("raw", "paid", "expected"),
    [
        ("pending", False, OrderStatus.PENDING),
        ("on-hold", False, OrderStatus.PAID),
        ("processing", True, OrderStatus.PAID),
        ("completed", True, OrderStatus.SHIPPED),
        ("cancelled", False, OrderStatus.CANCELLED),
        ("failed", False, OrderStatus.CANCELLED),
        ("refunded", True, OrderStatus.REFUNDED),
        ("trash", False, OrderStatus.CANCELLED),
        ("shipped-by-plugin", True, OrderStatus.PAID),
        ("quote-by-plugin", False, OrderStatus.PENDING),
    ],
)
def test_order_status_mapping(raw, paid, expected):
    from listing_sync.adapters.woocommerce.mapping import order_status

    assert order_status({"status": raw, "date_paid_gmt": "2026-01-01T00:00:00" if paid else None}) is expected


# ----------------------------------------------------------------------------------------- listings
def test_listings_pages_products_and_each_variable_products_variations(respx_mock, make_adapter):
    simple = {
        "id": 801,
        "sku": "MUG-1",
        "type": "simple",
        "status": "draft",
        "price": "9.90",
        "manage_stock": True,
        "stock_quantity": 5,
        "name": "Mug",
    }
    variable = {"id": 22, "sku": "TEE", "type": "variable", "status": "publish", "price": "12.00", "name": "Tee"}
    no_sku = {"id": 900, "sku": "", "type": "simple", "status": "publish", "price": "1.00"}
    products = route(
        respx_mock,
        "GET",
        "/products",
        ok([simple, no_sku], **{"X-WP-TotalPages": "2"}),
        ok([variable], **{"X-WP-TotalPages": "2"}),
    )
    variations = route(
        respx_mock, "GET", "/products/22/variations",
        ok([{"id": 23, "sku": "TEE-R", "status": "publish", "price": "12.00", "manage_stock": True,
             "stock_quantity": 3},
            {"id": 24, "sku": "TEE-B", "status": "private", "price": "13.50", "manage_stock": "parent",
             "stock_quantity": 9}], **{"X-WP-TotalPages": "1"}),
    )  # fmt: skip
    listings = list(make_adapter().listings())
    assert [dict(c.request.url.params) for c in products.calls] == [
        {"per_page": "100", "page": "1", "orderby": "id", "order": "asc"},
        {"per_page": "100", "page": "2", "orderby": "id", "order": "asc"},
    ]
    assert variations.call_count == 1
    summary = [(x.sku, x.price, x.quantity, x.status, dict(x.ref.ids)) for x in listings]
    assert summary == [
        ("MUG-1", usd("9.90"), 5, "inactive", {"product_id": "801"}),
        ("TEE", None, None, "active", {"product_id": "22"}),
        ("TEE-R", usd("12.00"), 3, "active", {"product_id": "22", "variation_id": "23"}),
        ("TEE-B", usd("13.50"), None, "inactive", {"product_id": "22", "variation_id": "24"}),
    ]
    assert isinstance(listings[0].price.amount, Decimal)


def test_adoption_call_failing_keeps_the_created_products_refs(respx_mock, make_adapter):
    duplicate = {"id": 0, "error": {"code": "product_invalid_sku", "message": "Invalid or duplicated SKU.",
                                    "data": {"status": 400, "resource_id": 801}}}  # fmt: skip
    unavailable = httpx.Response(503, text="<html><title>503</title></html>", headers={"Content-Type": "text/html"})
    other = ListingDraft(**{**_fields(MUG), "sku": "NEW-1"})
    route(respx_mock, "POST", "/products/batch", ok({"create": [duplicate, {"id": 802}]}), *[unavailable] * 5)
    from listing_sync.adapters.http import RetryPolicy

    results = make_adapter(retry=RetryPolicy(max_attempts=1)).publish([MUG, other])
    assert not results[0].ok and results[0].retryable
    assert results[1].ok and results[1].ref.get("product_id") == "802"


def test_publish_recreates_a_product_deleted_in_the_back_office(respx_mock, make_adapter):
    gone = {"id": 801, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                                 "data": {"status": 400}}}  # fmt: skip
    batch = route(respx_mock, "POST", "/products/batch", ok({"update": [gone]}), ok({"create": [{"id": 850}]}))
    stale = ListingDraft(**{**_fields(MUG), "ref": SIMPLE_REF})
    [result] = make_adapter().publish([stale])
    assert sent(batch.calls[0]) == {"update": [{"id": 801, **MUG_BODY}]}
    assert sent(batch.calls[1]) == {"create": [{**MUG_BODY, "status": "publish"}]}
    assert result.ok and result.ref.get("product_id") == "850"


@time_machine.travel(NOW, tick=False)
def test_an_unreadable_order_is_skipped_not_fatal(respx_mock, make_adapter, caplog):
    broken = {**DOC_ORDER, "id": 728, "date_created_gmt": None, "date_modified_gmt": None}
    route(respx_mock, "GET", "/orders", ok([broken, DOC_ORDER], **{"X-WP-Total": "2", "X-WP-TotalPages": "1"}))
    page = make_adapter().orders_since(OrderCursor(NOW - timedelta(hours=1)))
    assert [o.external_id for o in page.orders] == ["727"] and page.done
    (problem,) = page.problems  # told on the page; the syncer records it in the pull's run
    assert "GET /orders order 728 cannot be read" in problem.message
