"""Exact wire shape of every operation (method, URL, query, form body), from the public docs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    ListingRef,
    Money,
    Operation,
    OrderCursor,
    PriceUpdate,
    RateLimited,
    StockUpdate,
    Variation,
)

SYNC = "https://api-sg.aliexpress.com/sync"
APP_KEY, TOKEN = "500123", "50000600a12b34c56d78e90f"  # as in conftest.py
SYSTEM = {"app_key", "timestamp", "sign_method", "session", "method", "sign"}


def ref(sku: str, pid: str) -> ListingRef:
    return ListingRef(sku, pid, {"product_id": pid})


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def check_system(request: httpx.Request, method: str) -> None:
    assert request.method == "POST"
    assert str(request.url.copy_with(query=None)) == SYNC
    query = dict(request.url.params)
    assert query.keys() == SYSTEM
    assert query["method"] == method
    assert query["app_key"] == APP_KEY and query["session"] == TOKEN and query["sign_method"] == "sha256"
    assert query["timestamp"] == "1772452800000"  # epoch milliseconds
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def reply(method: str, body: dict) -> httpx.Response:
    return httpx.Response(
        200, json={method.replace(".", "_") + "_response": {**body, "request_id": "0ba2887315178178017221014"}}
    )


PRICE = "aliexpress.solution.batch.product.price.update"
STOCK = "aliexpress.solution.batch.product.inventory.update"


@respx.mock
def test_price_uses_misspelt_param_and_always_sends_discount_price(make_adapter):
    route = respx.post(SYNC).mock(return_value=reply(PRICE, {"update_success": True}))
    updates = [
        PriceUpdate("A1", Money.of("17.99", "USD"), ref=ref("A1", "1005001"), list_price=Money.of("19.99", "USD")),
        PriceUpdate("A2", Money.of("5", "USD"), ref=ref("A2", "1005001")),
        PriceUpdate("B1", Money.of("1200", "JPY"), ref=ref("B1", "1005002")),
    ]
    results = make_adapter().push_prices(updates)
    assert [r.ok for r in results] == [True, True, True]
    assert results[0].ref.get("product_id") == "1005001"
    request = route.calls.last.request
    check_system(request, PRICE)
    body = form(request)
    assert list(body) == ["mutiple_product_update_list"]  # sic: the documented spelling
    assert json.loads(body["mutiple_product_update_list"]) == [
        {
            "product_id": 1005001,
            "multiple_sku_update_list": [
                {"sku_code": "A1", "price": "19.99", "discount_price": "17.99"},
                {"sku_code": "A2", "price": "5.00", "discount_price": "5.00"},
            ],
        },
        {
            "product_id": 1005002,
            "multiple_sku_update_list": [{"sku_code": "B1", "price": "1200", "discount_price": "1200"}],
        },
    ]


@respx.mock
def test_stock_body(make_adapter):
    route = respx.post(SYNC).mock(return_value=reply(STOCK, {"update_success": True}))
    results = make_adapter().push_stock(
        [StockUpdate("A1", 0, ref=ref("A1", "7")), StockUpdate("A2", 12, ref=ref("A2", "7"))]
    )
    assert all(r.ok for r in results)
    check_system(route.calls.last.request, STOCK)
    assert json.loads(form(route.calls.last.request)["mutiple_product_update_list"]) == [
        {
            "product_id": 7,
            "multiple_sku_update_list": [{"sku_code": "A1", "inventory": 0}, {"sku_code": "A2", "inventory": 12}],
        }
    ]


@respx.mock
def test_update_success_false_inside_http_200_maps_per_item(make_adapter):
    body = {
        "update_success": False,
        "update_failed_list": {
            "synchronize_product_response_dto": [
                {"product_id": 8, "error_code": "F_SKU_NOT_EXIST", "error_message": "sku_code B9 does not exist"}
            ]
        },
        "update_successful_list": {"synchronize_product_response_dto": [{"product_id": 7}]},
    }
    respx.post(SYNC).mock(return_value=reply(STOCK, body))
    updates = [
        StockUpdate("A1", 1, ref=ref("A1", "7")),
        StockUpdate("B9", 1, ref=ref("B9", "8")),
        StockUpdate("B2", 1, ref=ref("B2", "8")),
    ]
    a1, b9, b2 = make_adapter().push_stock(updates)
    assert a1.ok and not b9.ok and not b2.ok
    assert b9.code == "F_SKU_NOT_EXIST" and "B9 does not exist" in b9.message and not b9.retryable


@respx.mock
def test_update_without_product_id_fails_clearly_without_a_call(make_adapter):
    route = respx.post(SYNC)
    [result] = make_adapter().push_stock([StockUpdate("LOST", 1)])
    assert not result.ok and result.code == "missing_ref" and "listings()" in result.message
    assert not route.called


@respx.mock
def test_throttle_inside_200_is_rate_limited_with_the_ban_time_never_empty(make_adapter, clock):
    throttle = {
        "code": "ApiCallLimit",
        "type": "ISV",
        "message": "Api access frequency exceeds the limit. this ban will last 7 seconds",
        "request_id": "x",
    }
    route = respx.post(SYNC).mock(return_value=httpx.Response(200, json=throttle))
    adapter = make_adapter(clock=clock, sleep=clock.sleep)
    with pytest.raises(RateLimited) as info:
        adapter.orders_since(OrderCursor(since=datetime(2026, 3, 1, tzinfo=UTC)))
    assert info.value.retry_after == 7.0
    assert route.call_count == adapter.http.retry.max_attempts  # retried, never read as "no orders"
    assert 7.0 in clock.sleeps and clock.now - 1000.0 >= 7.0 * (route.call_count - 1)


def test_chunks_respect_20_products_and_200_skus(make_adapter):
    adapter = make_adapter()
    many_products = [StockUpdate(f"S{i}", 1, ref=ref(f"S{i}", str(1000 + i))) for i in range(45)]
    assert [len(c) for c in adapter.chunks(Operation.STOCK, many_products)] == [20, 20, 5]
    one_product = [StockUpdate(f"V{i}", 1, ref=ref(f"V{i}", "9")) for i in range(450)]
    assert [len(c) for c in adapter.chunks(Operation.PRICE, one_product)] == [200, 200, 50]
    assert adapter.limits.batch(Operation.PRICE) == 4000


@respx.mock
def test_push_splits_an_oversized_batch_into_several_calls(make_adapter):
    route = respx.post(SYNC).mock(return_value=reply(STOCK, {"update_success": True}))
    updates = [StockUpdate(f"S{i}", 1, ref=ref(f"S{i}", str(1000 + i))) for i in range(25)]
    assert all(r.ok for r in make_adapter().push_stock(updates))
    sizes = [len(json.loads(form(c.request)["mutiple_product_update_list"])) for c in route.calls]
    assert sizes == [20, 5]


DRAFT = ListingDraft(
    sku="TEE",
    title="Cotton tee",
    description="<p>Soft</p>",
    category_id="200000346",
    price=Money.of("12.5", "USD"),
    quantity=0,
    attributes={"Material": ("Cotton",)},
    images=("https://img.example/tee.jpg",),
    brand="Acme",
    weight_grams=250,
    variations=(
        Variation("TEE-S", Money.of("12.5", "USD"), 4, {"Size": "S"}),
        Variation("TEE-M", Money.of("13", "USD"), 0, {"Size": "M"}),
    ),
)


@respx.mock
def test_single_product_post(make_adapter):
    method = "aliexpress.solution.product.post"
    route = respx.post(SYNC).mock(return_value=reply(method, {"result": {"product_id": 1005006}}))
    [result] = make_adapter(options={"freight_template_id": "1000"}).publish([DRAFT])
    assert result.ok and result.ref.get("product_id") == "1005006" and result.state == "applied"
    check_system(route.calls.last.request, method)
    body = form(route.calls.last.request)
    assert list(body) == ["post_product_request"]
    sent = json.loads(body["post_product_request"])
    assert sent["aliexpress_category_id"] == 200000346
    assert sent["language"] == "en"
    assert sent["multi_language_subject_list"] == [{"language": "en", "subject": "Cotton tee"}]
    assert json.loads(sent["multi_language_description_list"][0]["web_detail"])["moduleList"][0]["html"] == {
        "content": "<p>Soft</p>"
    }
    assert sent["main_image_urls_list"] == ["https://img.example/tee.jpg"]
    assert sent["attribute_list"] == [{"attribute_name": "Material", "attribute_value": "Cotton"}]
    assert sent["brand_name"] == "Acme" and sent["weight"] == "0.250" and sent["freight_template_id"] == 1000
    assert sent["sku_info_list"] == [
        {"sku_code": "TEE-S", "price": "12.50", "discount_price": "12.50", "inventory": 4,
         "sku_attributes_list": [{"sku_attribute_name": "Size", "sku_attribute_value": "S"}]},
        {"sku_code": "TEE-M", "price": "13.00", "discount_price": "13.00", "inventory": 0,
         "sku_attributes_list": [{"sku_attribute_name": "Size", "sku_attribute_value": "M"}]},
    ]  # fmt: skip


@respx.mock
def test_single_product_edit_carries_product_id(make_adapter):
    method = "aliexpress.solution.product.edit"
    route = respx.post(SYNC).mock(return_value=reply(method, {"result": {"product_id": 1005006}}))
    draft = ListingDraft("MUG", "Mug", "d", "5", Money.of("3", "USD"), 9, ref=ref("MUG", "1005006"))
    [result] = make_adapter().publish([draft])
    assert result.ok and result.ref.get("product_id") == "1005006"
    check_system(route.calls.last.request, method)
    sent = json.loads(form(route.calls.last.request)["edit_product_request"])
    assert sent["product_id"] == 1005006
    assert sent["sku_info_list"] == [{"sku_code": "MUG", "price": "3.00", "discount_price": "3.00", "inventory": 9}]


def _drafts(n: int) -> list[ListingDraft]:
    return [ListingDraft(f"P{i}", f"T{i}", "d", "5", Money.of("2.5", "USD"), 3) for i in range(n)]


@respx.mock
def test_bulk_publish_goes_through_feed_submit_then_feed_query(make_adapter):
    def answer(request: httpx.Request) -> httpx.Response:
        method = request.url.params["method"]
        if method == "aliexpress.solution.feed.submit":
            return reply(method, {"job_id": 200000000060054475})
        rows = [
            {"item_content_id": "P0", "item_execution_result": '{"productId":33030372006,"success":true}'},
            {
                "item_content_id": "P1",
                "item_execution_result": '{"success":false,"errorCode":"F1","errorMessage":"bad category"}',
            },
        ]
        return reply(
            method,
            {"job_id": 200000000060054475, "total_item_count": 3, "result_list": {"single_item_response_dto": rows}},
        )

    route = respx.post(SYNC).mock(side_effect=answer)
    p0, p1, p2 = make_adapter(options={"feed_threshold": 3}).publish(_drafts(3))
    submit, query = (c.request for c in route.calls)
    check_system(submit, "aliexpress.solution.feed.submit")
    body = form(submit)
    assert body["operation_type"] == "PRODUCT_CREATE"
    item_list = json.loads(body["item_list"])
    assert [i["item_content_id"] for i in item_list] == ["P0", "P1", "P2"]
    content = json.loads(item_list[0]["item_content"])  # item_content is a JSON string
    assert content["category_id"] == 5 and content["locale"] == "en_US"
    assert content["title_multi_language_list"] == [{"locale": "en_US", "title": "T0"}]
    assert content["sku_info_list"] == [{"sku_code": "P0", "inventory": 3, "price": 2.50, "discount_price": 2.50}]
    assert '"price":2.50' in item_list[0]["item_content"]  # a JSON number, written from Decimal
    check_system(query, "aliexpress.solution.feed.query")
    assert form(query) == {"job_id": "200000000060054475"}
    assert p0.ok and p0.ref.get("product_id") == "33030372006"
    assert not p1.ok and p1.code == "F1" and p1.message == "bad category"
    assert p2.ok and p2.state == "submitted" and p2.ref.get("feed_job_id") == "200000000060054475"


@respx.mock
def test_feed_budget_spent_falls_back_to_single_posts(make_adapter):
    def answer(request: httpx.Request) -> httpx.Response:
        return reply(request.url.params["method"], {"result": {"product_id": 1}})

    route = respx.post(SYNC).mock(side_effect=answer)
    adapter = make_adapter(options={"feed_threshold": 2})
    bucket = adapter.http.limiter("feed:PRODUCT_CREATE")
    assert bucket.burst == 150  # documented: < 150 feeds per operation type per 24 h
    while bucket.try_acquire():
        pass
    assert all(r.ok for r in adapter.publish(_drafts(2)))
    assert [c.request.url.params["method"] for c in route.calls] == ["aliexpress.solution.product.post"] * 2


@respx.mock
def test_pending_feed_ref_is_resolved_through_feed_query(make_adapter):
    def answer(request: httpx.Request) -> httpx.Response:
        method = request.url.params["method"]
        if method == "aliexpress.solution.feed.query":
            rows = [{"item_content_id": "P0", "item_execution_result": '{"productId":77,"success":true}'}]
            return reply(method, {"result_list": {"single_item_response_dto": rows}})
        return reply(method, {"update_success": True})

    route = respx.post(SYNC).mock(side_effect=answer)
    pending = ListingRef("P0", None, {"feed_job_id": "55", "item_content_id": "P0"})
    [result] = make_adapter().push_stock([StockUpdate("P0", 4, ref=pending)])
    assert result.ok and result.ref.get("product_id") == "77"
    assert json.loads(form(route.calls.last.request)["mutiple_product_update_list"])[0]["product_id"] == 77


@pytest.mark.parametrize(
    ("op", "method"),
    [
        ("delist", "aliexpress.postproduct.redefining.offlineaeproduct"),
        ("relist", "aliexpress.postproduct.redefining.onlineaeproduct"),
    ],
)
@respx.mock
def test_delist_relist_send_semicolon_separated_product_ids(make_adapter, op, method):
    route = respx.post(SYNC).mock(return_value=reply(method, {"result": {"success": True, "modify_count": 2}}))
    requests = [
        DelistRequest("A", ref("A", "11")),
        DelistRequest("A2", ref("A2", "11")),
        DelistRequest("B", ref("B", "12")),
        DelistRequest("C"),
    ]
    results = getattr(make_adapter(), op)(requests)
    assert [r.ok for r in results] == [True, True, True, False] and results[3].code == "missing_ref"
    check_system(route.calls.last.request, method)
    assert form(route.calls.last.request) == {"product_ids": "11;12"}


@respx.mock
def test_delist_failure_in_result_fails_every_item(make_adapter):
    method = "aliexpress.postproduct.redefining.offlineaeproduct"
    respx.post(SYNC).mock(
        return_value=reply(
            method, {"result": {"success": False, "error_code": "13004", "error_message": "product in auditing"}}
        )
    )
    results = make_adapter().delist([DelistRequest("A", ref("A", "11"))])
    assert not results[0].ok and results[0].code == "13004" and "auditing" in results[0].message


@respx.mock
def test_listings_read_back(make_adapter):
    def answer(request: httpx.Request) -> httpx.Response:
        method = request.url.params["method"]
        body = form(request)
        if method == "aliexpress.solution.product.list.get":
            query = json.loads(body["aeop_a_e_product_list_query"])
            rows = [{"product_id": 9001}] if query["product_status_type"] == "onSelling" else []
            return reply(
                method,
                {
                    "result": {
                        "total_page": 1 if rows else 0,
                        "current_page": 1,
                        "aeop_a_e_product_display_d_t_o_list": {"item_display_dto": rows},
                    }
                },
            )
        assert body == {"product_id": "9001"}
        skus = [
            {"id": "14:1", "sku_code": "X-S", "sku_price": "20.00", "sku_discount_price": "18.00", "ipm_sku_stock": 6}
        ]
        return reply(
            method,
            {
                "result": {
                    "subject": "X",
                    "currency_code": "USD",
                    "aeop_ae_product_s_k_us": {"global_aeop_ae_product_sku": skus},
                }
            },
        )

    route = respx.post(SYNC).mock(side_effect=answer)
    [listing] = list(make_adapter(options={"listing_statuses": ["onSelling", "offline"]}).listings())
    assert listing.sku == "X-S" and listing.price == Money.of("18.00", "USD") and listing.quantity == 6
    assert listing.status == "active" and listing.ref.get("product_id") == "9001"
    first = route.calls[0].request
    check_system(first, "aliexpress.solution.product.list.get")
    assert json.loads(form(first)["aeop_a_e_product_list_query"]) == {
        "product_status_type": "onSelling",
        "current_page": 1,
        "page_size": 99,
    }


def test_delist_chunks_count_products_not_skus(make_adapter):
    """offline/onlineaeproduct take up to 50 product ids: 4 SKUs of each of 60 products are 2 calls, not 5."""
    adapter = make_adapter()
    requests = [DelistRequest(f"P{p}-{v}", ref(f"P{p}-{v}", str(1000 + p))) for p in range(60) for v in range(4)]
    chunks = list(adapter.chunks(Operation.DELIST, requests))
    assert [len(c) for c in chunks] == [200, 40]
    assert [len({r.ref.get("product_id") for r in c}) for c in chunks] == [50, 10]
    assert adapter.estimate_calls(Operation.DELIST, chunks[0]) == 1
