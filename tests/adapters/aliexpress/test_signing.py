"""IOP signing vectors, computed independently with hmac on hand-written strings."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from listing_sync.adapters.aliexpress.auth import sign
from listing_sync.adapters.base import AuthError, ListingRef, Money, PriceUpdate, StockUpdate

APP_KEY, APP_SECRET = "500123", "s3cr3t-app-secret"  # as in conftest.py
TOKEN, REFRESH = "50000600a12b34c56d78e90f", "50001600r98q76p54o32n10m"

SYNC = "https://api-sg.aliexpress.com/sync"
REFRESH_URL = "https://api-sg.aliexpress.com/rest/auth/token/refresh"


def hmac_hex(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def test_documented_worked_example_with_api_path_prefix():
    # developer.alibaba.com articleId 120692: foo=1, bar=2, foo_bar=3, foobar=4, API "/test/api"
    expected = hmac_hex("helloworld", "/test/apibar2foo1foo_bar3foobar4")
    assert sign({"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4"}, "helloworld", "/test/api") == expected


def test_documented_http_request_sample_hex():
    # developer.alibaba.com articleId 120693 prints 4190D323...AB4A for app_key=123456, access_token=test,
    # timestamp=1517820392000, order_id=1234, secret "helloworld". That hex is HMAC-SHA256 with the API name
    # "/order/get" as prefix (the page's own pasted string shows other prefixes, which do not give it).
    params = {"app_key": "123456", "access_token": "test", "timestamp": "1517820392000", "sign_method": "sha256"}
    params["order_id"] = "1234"
    expected = "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    assert sign(params, "helloworld", "/order/get") == expected
    text = "/order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256timestamp1517820392000"
    assert hmac_hex("helloworld", text) == expected


@respx.mock
def test_token_param_name_is_configurable(make_adapter):
    ok = {"aliexpress_solution_batch_product_inventory_update_response": {"update_success": True}}
    route = respx.post(SYNC).mock(return_value=httpx.Response(200, json=ok))
    adapter = make_adapter(options={"token_param": "access_token"})
    assert adapter.push_stock([StockUpdate("A1", 3, ref=ListingRef("A1", "42", {"product_id": "42"}))])[0].ok
    query = dict(route.calls.last.request.url.params)
    assert query["access_token"] == TOKEN and "session" not in query


def test_method_style_has_no_prefix_and_sign_is_excluded():
    expected = hmac_hex("k", "bar2foo1foo_bar3foobar4")
    assert sign({"foobar": "4", "foo_bar": "3", "sign": "OLD", "bar": "2", "foo": "1"}, "k") == expected


def test_ascii_order_puts_uppercase_and_digits_before_lowercase():
    assert sign({"b": "1", "B": "2", "a1": "3", "a": "4"}, "k") == hmac_hex("k", "B2a4a13b1")


def test_output_is_uppercase_hex():
    value = sign({"a": "1"}, "k")
    assert len(value) == 64 and value == value.upper() and value != value.lower()


def test_cjk_values_are_signed_as_utf8():
    params = {"subject": "蓝色T恤 男款", "app_key": "12345"}
    assert sign(params, "秘密") == hmac_hex("秘密", "app_key12345subject蓝色T恤 男款")


@respx.mock
def test_request_signature_covers_system_and_json_encoded_business_params(make_adapter):
    route = respx.post(SYNC).mock(
        return_value=httpx.Response(
            200, json={"aliexpress_solution_batch_product_price_update_response": {"update_success": True}}
        )
    )
    adapter = make_adapter()
    ref = ListingRef("蓝-S", "1005001", {"product_id": "1005001"})
    [result] = adapter.push_prices([PriceUpdate("蓝-S", Money.of("19.99", "USD"), ref=ref)])
    assert result.ok
    request = route.calls.last.request
    query = dict(request.url.params)
    business = (
        '[{"product_id":1005001,"multiple_sku_update_list":'
        '[{"sku_code":"蓝-S","price":"19.99","discount_price":"19.99"}]}]'
    )
    assert form(request) == {"mutiple_product_update_list": business}
    text = (
        f"app_key{APP_KEY}"
        "methodaliexpress.solution.batch.product.price.update"
        f"mutiple_product_update_list{business}"
        f"session{TOKEN}"
        "sign_methodsha256"
        "timestamp1772452800000"
    )
    assert query["sign"] == hmac_hex(APP_SECRET, text)
    assert query["timestamp"] == "1772452800000"


@respx.mock
def test_every_retry_attempt_is_signed_again_with_a_fresh_timestamp(make_adapter):
    ticks = iter([1772452800.000, 1772452801.500, 1772452803.000])
    throttle = {"code": "ApiCallLimit", "type": "ISV", "message": "this ban will last 1 seconds"}
    ok = {"aliexpress_solution_batch_product_inventory_update_response": {"update_success": True}}
    route = respx.post(SYNC).mock(side_effect=[httpx.Response(200, json=throttle), httpx.Response(200, json=ok)])
    adapter = make_adapter(now=lambda: next(ticks))
    ref = ListingRef("A1", "42", {"product_id": "42"})
    assert adapter.push_stock([StockUpdate("A1", 3, ref=ref)])[0].ok
    first, second = (c.request for c in route.calls)
    assert first.url.params["timestamp"] == "1772452800000"
    assert second.url.params["timestamp"] == "1772452801500"
    for request in (first, second):
        params = {**dict(request.url.params), **form(request)}
        params.pop("sign")
        text = "".join(k + params[k] for k in sorted(params))
        assert request.url.params["sign"] == hmac_hex(APP_SECRET, text)
    assert first.url.params["sign"] != second.url.params["sign"]


@respx.mock
def test_token_refresh_is_path_style_signed_and_used_as_session(make_adapter):
    refresh = respx.post(REFRESH_URL).mock(
        return_value=httpx.Response(
            200, json={"code": "0", "access_token": "NEW-ACCESS-TOKEN", "refresh_token": REFRESH, "expires_in": 3600}
        )
    )
    ok = {"aliexpress_solution_batch_product_inventory_update_response": {"update_success": True}}
    sync = respx.post(SYNC).mock(return_value=httpx.Response(200, json=ok))
    adapter = make_adapter(credentials={"app_key": APP_KEY, "app_secret": APP_SECRET, "refresh_token": REFRESH})
    ref = ListingRef("A1", "42", {"product_id": "42"})
    assert adapter.push_stock([StockUpdate("A1", 3, ref=ref)])[0].ok
    request = refresh.calls.last.request
    assert form(request) == {"refresh_token": REFRESH}
    assert dict(request.url.params).keys() == {"app_key", "timestamp", "sign_method", "sign"}
    text = f"/auth/token/refreshapp_key{APP_KEY}refresh_token{REFRESH}sign_methodsha256timestamp1772452800000"
    assert request.url.params["sign"] == hmac_hex(APP_SECRET, text)
    assert sync.calls.last.request.url.params["session"] == "NEW-ACCESS-TOKEN"
    assert "NEW-ACCESS-TOKEN" not in (adapter.redactor("token NEW-ACCESS-TOKEN") or "")


@respx.mock
def test_illegal_access_token_refreshes_once_then_resends(make_adapter):
    tokens = iter(["T1", "T2"])
    respx.post(REFRESH_URL).mock(
        side_effect=lambda r: httpx.Response(200, json={"code": "0", "access_token": next(tokens), "expires_in": 3600})
    )
    bad = {"code": "IllegalAccessToken", "type": "ISV", "message": "The specified access token is invalid or expired"}
    ok = {"aliexpress_solution_batch_product_inventory_update_response": {"update_success": True}}
    sync = respx.post(SYNC).mock(side_effect=[httpx.Response(200, json=bad), httpx.Response(200, json=ok)])
    adapter = make_adapter(credentials={"app_key": APP_KEY, "app_secret": APP_SECRET, "refresh_token": REFRESH})
    assert adapter.push_stock([StockUpdate("A1", 3, ref=ListingRef("A1", "42", {"product_id": "42"}))])[0].ok
    assert [c.request.url.params["session"] for c in sync.calls] == ["T1", "T2"]


@respx.mock
def test_refused_refresh_is_an_auth_error(make_adapter):
    respx.post(REFRESH_URL).mock(
        return_value=httpx.Response(200, json={"code": "InvalidRefreshToken", "type": "ISV", "message": "expired"})
    )
    adapter = make_adapter(credentials={"app_key": APP_KEY, "app_secret": APP_SECRET, "refresh_token": REFRESH})
    with pytest.raises(AuthError, match="refresh refused"):
        adapter.push_stock([StockUpdate("A1", 3, ref=ListingRef("A1", "42", {"product_id": "42"}))])


def test_json_param_is_signed_exactly_as_sent():
    # the pitfall: signing before JSON-encoding nested params; the signed value IS the JSON string
    param0 = json.dumps({"current_page": 1}, separators=(",", ":"))
    assert sign({"param0": param0}, "k") == hmac_hex("k", 'param0{"current_page":1}')
