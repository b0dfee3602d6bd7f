"""Error responses -> typed errors, per-item failures inside HTTP 200, retries, and the known pitfalls
(reference section 5: P7-P11) as regression tests."""

from __future__ import annotations

import httpx
import pytest
from listing_sync.adapters.base import (
    AuthError,
    ConfigurationError,
    ListingRef,
    Money,
    PermanentItemError,
    PriceUpdate,
    RateLimited,
    RequestRejected,
    StockUpdate,
    TransientError,
)
from listing_sync.adapters.http import RetryPolicy

HOST = "shop.example.com"
V3 = "/wp-json/wc/v3"
REF = ListingRef("MUG-1", "801", {"product_id": "801"})
HTML = {"Content-Type": "text/html; charset=UTF-8"}


def wp_error(status: int, code: str, message: str, **data) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "data": {"status": status, **data}})


def html(status: int, title: str, **headers) -> httpx.Response:
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    return httpx.Response(status, text=page, headers={**HTML, **headers})


def batch_route(respx_mock, *responses):
    r = respx_mock.route(method="POST", scheme="https", host=HOST, path=f"{V3}/products/batch")
    r.mock(side_effect=list(responses))
    return r


CASES = [
    ("html 429 with Retry-After", html(429, "429 Too Many Requests", **{"Retry-After": "7"}), RateLimited, 7.0),
    ("html 503 with Retry-After (host throttle)", html(503, "503 Service Unavailable", **{"Retry-After": "30"}),
     RateLimited, 30.0),
    ("html 503 without hint", html(503, "503 Service Unavailable"), TransientError, None),
    ("html 502 from the proxy", html(502, "502 Bad Gateway"), TransientError, None),
    ("json 500 critical error", wp_error(500, "internal_server_error", "<p>There has been a critical error.</p>"),
     TransientError, None),
    ("json 429", wp_error(429, "too_many_requests", "Slow down"), RateLimited, None),
    ("401 bad key", wp_error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid."),
     AuthError, None),
    ("403 cannot batch", wp_error(403, "woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch."),
     AuthError, None),
    ("html 401 from the web server", html(401, "401 Authorization Required"), AuthError, None),
    ("html 403 WAF", html(403, "403 Forbidden"), ConfigurationError, None),
    ("404 rest_no_route", wp_error(404, "rest_no_route", "No route was found matching the URL and request method."),
     ConfigurationError, None),
    ("html 404 (plain permalinks)", html(404, "Page not found"), ConfigurationError, None),
    ("413 batch too large", wp_error(413, "woocommerce_rest_request_entity_too_large",
                                     "Unable to accept more than 100 items for this request."), RequestRejected, None),
    ("400 invalid param", wp_error(400, "rest_invalid_param", "Invalid parameter(s): per_page",
                                   params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}),
     RequestRejected, None),
    ("200 html instead of json", html(200, "My Shop"), ConfigurationError, None),
    ("301 redirect to www", httpx.Response(301, headers={"Location": "https://www.shop.example.com/wp-json/wc/v3/"}),
     ConfigurationError, None),
    ("empty 503", httpx.Response(503), TransientError, None),
]  # fmt: skip


@pytest.mark.parametrize(("label", "response", "error", "retry_after"), CASES, ids=[c[0] for c in CASES])
def test_error_table(respx_mock, make_adapter, label, response, error, retry_after):
    route = batch_route(respx_mock, response)
    adapter = make_adapter(retry=RetryPolicy(max_attempts=1))
    with pytest.raises(error) as caught:
        adapter.push_stock([StockUpdate("MUG-1", 1, ref=REF)])
    assert type(caught.value) is error
    assert caught.value.retry_after == retry_after
    assert caught.value.channel == "woocommerce-test"
    assert "cs_8d3b6e0f5a" not in str(caught.value)
    assert route.call_count == 1


def test_413_means_our_chunking_is_wrong_and_is_never_retried(respx_mock, make_adapter):
    too_large = wp_error(413, "woocommerce_rest_request_entity_too_large", "Unable to accept more than 100 items.")
    route = batch_route(respx_mock, too_large, too_large)
    with pytest.raises(RequestRejected, match="chunking"):
        make_adapter().push_stock([StockUpdate("MUG-1", 1, ref=REF)])
    assert route.call_count == 1


def test_throttle_is_retried_after_the_servers_hint(respx_mock, make_adapter, fake_clock):
    route = batch_route(
        respx_mock,
        html(429, "429 Too Many Requests", **{"Retry-After": "4"}),
        httpx.Response(200, json={"update": [{"id": 801}]}),
    )
    [result] = make_adapter().push_stock([StockUpdate("MUG-1", 1, ref=REF)])
    assert result.ok and route.call_count == 2
    assert sum(fake_clock.sleeps) >= 4


def test_html_503_then_success(respx_mock, make_adapter):
    route = batch_route(
        respx_mock, html(503, "503 Service Unavailable"), httpx.Response(200, json={"update": [{"id": 801}]})
    )
    assert make_adapter().push_stock([StockUpdate("MUG-1", 1, ref=REF)])[0].ok
    assert route.call_count == 2


def test_batch_200_with_mixed_results_maps_per_item(respx_mock, make_adapter):
    """P10: failures come back inside HTTP 200, even with ``id: null``; every element is checked."""
    answer = {
        "update": [
            {"id": 801, "regular_price": "1.00"},
            {"id": None, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                                   "data": {"status": 400}}},
            {"id": 803, "error": {"code": "db_update_error", "message": "Could not update.", "data": {"status": 500}}},
        ]
    }  # fmt: skip
    batch_route(respx_mock, httpx.Response(200, json=answer))
    refs = [ListingRef(s, i, {"product_id": i}) for s, i in (("A", "801"), ("B", "802"), ("C", "803"))]
    results = make_adapter().push_prices([PriceUpdate(r.sku, Money.of("1", "USD"), ref=r) for r in refs])
    assert [(r.sku, r.ok, r.code, r.retryable) for r in results] == [
        ("A", True, None, False),
        ("B", False, "woocommerce_rest_product_invalid_id", False),
        ("C", False, "db_update_error", True),
    ]


def test_short_batch_answer_still_gives_every_item_a_result(respx_mock, make_adapter):
    batch_route(respx_mock, httpx.Response(200, json={"update": [{"id": 801}]}))
    refs = [ListingRef(s, i, {"product_id": i}) for s, i in (("A", "801"), ("B", "802"))]
    results = make_adapter().push_stock([StockUpdate(r.sku, 1, ref=r) for r in refs])
    assert [r.ok for r in results] == [True, False] and results[1].retryable


def test_php_notice_before_json_is_a_configuration_error(respx_mock, make_adapter):
    body = b'<br />\n<b>Notice</b>: Undefined index in plugin.php<br />\n{"update":[{"id":801}]}'
    batch_route(respx_mock, httpx.Response(200, content=body, headers={"Content-Type": "application/json"}))
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        make_adapter().push_stock([StockUpdate("MUG-1", 1, ref=REF)])


def test_failure_after_a_group_was_applied_becomes_per_item_results(respx_mock, make_adapter):
    batch_route(respx_mock, httpx.Response(200, json={"update": [{"id": 801}]}))
    variations = respx_mock.route(method="POST", scheme="https", host=HOST, path=f"{V3}/products/22/variations/batch")
    variations.mock(return_value=wp_error(401, "woocommerce_rest_authentication_error", "Invalid timestamp."))
    tee = ListingRef("TEE-R", "23", {"product_id": "22", "variation_id": "23"})
    results = make_adapter().push_stock([StockUpdate("MUG-1", 1, ref=REF), StockUpdate("TEE-R", 1, ref=tee)])
    assert results[0].ok
    assert not results[1].ok and results[1].code == "woocommerce_rest_authentication_error"


def test_missing_parent_fails_only_its_variations(respx_mock, make_adapter):
    batch_route(respx_mock, httpx.Response(200, json={"update": [{"id": 801}]}))
    gone = respx_mock.route(method="POST", scheme="https", host=HOST, path=f"{V3}/products/99/variations/batch")
    gone.mock(return_value=wp_error(404, "woocommerce_rest_product_invalid_id", "Invalid product ID."))
    orphan = ListingRef("OLD-1", "98", {"product_id": "99", "variation_id": "98"})
    results = make_adapter().push_stock([StockUpdate("OLD-1", 1, ref=orphan), StockUpdate("MUG-1", 1, ref=REF)])
    assert not results[0].ok and results[0].code == "woocommerce_rest_product_invalid_id"
    assert results[1].ok


def test_invalid_id_classifies_as_an_item_error():
    from listing_sync.adapters.woocommerce.adapter import classify

    response = wp_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
    response.request = httpx.Request("GET", f"https://{HOST}{V3}/products/5/variations")
    assert isinstance(classify(response), PermanentItemError)


def test_per_page_101_is_refused_by_wordpress_and_never_sent(respx_mock, make_adapter):
    """Reference 2.4: per_page over 100 gives 400 rest_invalid_param; the adapter pages at 100."""
    r = respx_mock.route(method="GET", scheme="https", host=HOST, path=f"{V3}/products")
    r.mock(return_value=httpx.Response(200, json=[], headers={"X-WP-TotalPages": "0"}))
    list(make_adapter().listings())
    assert r.calls.last.request.url.params["per_page"] == "100"


def test_cannot_batch_message_points_at_the_key_permissions(respx_mock, make_adapter):
    """P11: the key's WordPress user lacks the capability."""
    batch_route(respx_mock, wp_error(403, "woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch."))
    with pytest.raises(AuthError, match="Read/Write"):
        make_adapter().push_stock([StockUpdate("MUG-1", 1, ref=REF)])


def test_adapter_never_sends_more_than_100_objects(make_adapter):
    adapter = make_adapter()
    with pytest.raises(RequestRejected, match="batch limit is 100"):
        adapter._batch("/products/batch", updates=[{"id": i} for i in range(101)])
