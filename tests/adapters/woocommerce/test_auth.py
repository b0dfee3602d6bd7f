"""Authentication: Basic over https, query-string keys, and OAuth 1.0a one-legged over http.

The OAuth vectors are computed here by hand from the documented recipe (and WooCommerce's verifier,
which percent-encodes parameter keys and values once), not by calling the adapter's helpers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from listing_sync.adapters.base import ConfigurationError
from listing_sync.adapters.woocommerce.auth import OAuth1Auth, signature_base_string
from listing_sync.adapters.woocommerce.emulator import WooCommerceEmulator

CK, CS = "ck_4f2a9c1e7b", "cs_8d3b6e0f5a"


def hmac_b64(key: str, text: str, digest=hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(key.encode(), text.encode(), digest).digest()).decode()


def test_base_string_matches_the_documented_example():
    # introduction: GET&http%3A%2F%2Fwww.example.com%2Fwp-json%2Fwc%2Fv3%2Forders&oauth_consumer_key%3Dabc123...
    base = signature_base_string(
        "get",
        "http://www.example.com/wp-json/wc/v3/orders",
        [("oauth_signature_method", "HMAC-SHA1"), ("oauth_consumer_key", "abc123")],
    )
    assert base == (
        "GET&http%3A%2F%2Fwww.example.com%2Fwp-json%2Fwc%2Fv3%2Forders"
        "&oauth_consumer_key%3Dabc123%26oauth_signature_method%3DHMAC-SHA1"
    )


def sign_request(request: httpx.Request, method: str = "HMAC-SHA256") -> httpx.Request:
    auth = OAuth1Auth(CK, CS, signature_method=method, timestamp=lambda: 1700000000, nonce=lambda: "n" * 32)
    flow = auth.auth_flow(request)
    return next(flow)


def test_oauth_vector_hmac_sha256_with_reserved_characters():
    request = httpx.Request(
        "GET",
        "http://shop.example.com/wp-json/wc/v3/orders",
        params={"modified_after": "2026-01-02T03:04:05", "per_page": "100"},
    )
    signed = sign_request(request)
    query = dict(parse_qsl(urlsplit(str(signed.url)).query))
    # Independently: single encoding of each value (":" -> %3A), joined with %3D and %26, keys sorted.
    base = (
        "GET&http%3A%2F%2Fshop.example.com%2Fwp-json%2Fwc%2Fv3%2Forders&"
        "modified_after%3D2026-01-02T03%3A04%3A05%26"
        "oauth_consumer_key%3Dck_4f2a9c1e7b%26"
        "oauth_nonce%3Dnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn%26"
        "oauth_signature_method%3DHMAC-SHA256%26"
        "oauth_timestamp%3D1700000000%26"
        "per_page%3D100"
    )
    assert query["oauth_signature"] == hmac_b64(CS + "&", base)
    assert "oauth_version" not in query
    assert query["oauth_signature_method"] == "HMAC-SHA256"
    assert query["modified_after"] == "2026-01-02T03:04:05" and query["per_page"] == "100"
    assert "Authorization" not in signed.headers


def test_oauth_vector_hmac_sha1_and_body_not_signed():
    body = b'{"update":[{"id":1,"regular_price":"9.90"}]}'
    request = httpx.Request("POST", "http://shop.example.com/wp-json/wc/v3/products/batch", content=body)
    signed = sign_request(request, "HMAC-SHA1")
    query = dict(parse_qsl(urlsplit(str(signed.url)).query))
    base = (
        "POST&http%3A%2F%2Fshop.example.com%2Fwp-json%2Fwc%2Fv3%2Fproducts%2Fbatch&"
        "oauth_consumer_key%3Dck_4f2a9c1e7b%26oauth_nonce%3Dnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn%26"
        "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1700000000"
    )
    assert query["oauth_signature"] == hmac_b64(CS + "&", base, hashlib.sha1)
    assert signed.content == body


def test_oauth_signature_accepted_by_the_emulator_and_tampering_refused():
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS})
    auth = OAuth1Auth(CK, CS)
    with httpx.Client(transport=emulator.transport(), auth=auth) as client:
        ok = client.get(
            "http://shop.example.com/wp-json/wc/v3/orders", params={"modified_after": "2026-01-02T03:04:05"}
        )
        assert ok.status_code == 200
    signed = next(OAuth1Auth(CK, CS).auth_flow(httpx.Request("GET", "http://shop.example.com/wp-json/wc/v3/orders")))
    tampered = httpx.Request("GET", signed.url.copy_add_param("per_page", "5"))
    response = emulator.handle(tampered)
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_authentication_error"
    replay = emulator.handle(httpx.Request("GET", signed.url))
    assert replay.status_code == 200
    again = emulator.handle(httpx.Request("GET", signed.url))
    assert again.json()["message"] == "Invalid nonce - nonce has already been used."


def test_rfc_double_encoding_would_be_refused():
    """Plain RFC 5849 encodes values twice (":" -> %253A); WooCommerce's verifier does not."""
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS})
    params = {
        "modified_after": "2026-01-02T03:04:05",
        "oauth_consumer_key": CK,
        "oauth_nonce": "a" * 32,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(int(emulator.now().timestamp())),
    }
    from urllib.parse import quote

    pairs = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params.items()))
    rfc_base = "GET&" + quote("http://shop.example.com/wp-json/wc/v3/orders", safe="") + "&" + quote(pairs, safe="")
    params["oauth_signature"] = hmac_b64(CS + "&", rfc_base)
    response = emulator.handle(httpx.Request("GET", "http://shop.example.com/wp-json/wc/v3/orders", params=params))
    assert response.status_code == 401


def test_basic_auth_over_https(respx_mock, make_adapter):
    route = respx_mock.route(
        method="GET", scheme="https", host="shop.example.com", path="/wp-json/wc/v3/products"
    ).mock(return_value=httpx.Response(200, json=[], headers={"X-WP-TotalPages": "0"}))
    list(make_adapter().listings())
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{CK}:{CS}".encode()).decode()
    assert "consumer_key" not in request.url.params


def test_query_string_keys_for_hosts_that_strip_authorization(respx_mock, make_adapter):
    route = respx_mock.route(
        method="GET", scheme="https", host="shop.example.com", path="/wp-json/wc/v3/products"
    ).mock(return_value=httpx.Response(200, json=[], headers={"X-WP-TotalPages": "0"}))
    list(make_adapter({"auth": "query_string"}).listings())
    request = route.calls.last.request
    assert request.url.params["consumer_key"] == CK
    assert request.url.params["consumer_secret"] == CS
    assert "Authorization" not in request.headers


def test_http_site_is_signed_with_oauth(respx_mock, make_adapter):
    route = respx_mock.route(method="GET", scheme="http", host="shop.example.com", path="/wp-json/wc/v3/products").mock(
        return_value=httpx.Response(200, json=[], headers={"X-WP-TotalPages": "0"})
    )
    list(make_adapter({"site": "http://shop.example.com"}).listings())
    request = route.calls.last.request
    params = request.url.params
    assert "Authorization" not in request.headers
    assert params["oauth_consumer_key"] == CK and params["oauth_signature_method"] == "HMAC-SHA256"
    assert len(params["oauth_nonce"]) == 32 and params["oauth_timestamp"].isdigit()
    assert "oauth_version" not in params and CS not in str(request.url)


@pytest.mark.parametrize("auth", ["basic", "query_string"])
def test_keys_in_clear_over_http_are_refused(make_adapter, auth):
    with pytest.raises(ConfigurationError, match="in clear over http"):
        make_adapter({"site": "http://shop.example.com", "auth": auth})


def test_site_is_required(fake_clock):
    from listing_sync.adapters.woocommerce.adapter import WooCommerceAdapter

    from tests.conftest import make_channel

    channel = make_channel("woocommerce", credentials={"consumer_key": CK, "consumer_secret": CS})
    with pytest.raises(ConfigurationError, match="options.site"):
        WooCommerceAdapter(channel, clock=fake_clock, sleep=fake_clock.sleep)


@pytest.mark.parametrize(
    ("options", "base_url", "expected"),
    [
        ({"site": "shop.example.com"}, None, "https://shop.example.com/wp-json/wc/v3"),
        ({"site": "example.com/shop/"}, None, "https://example.com/shop/wp-json/wc/v3"),
        ({"site": "http://10.0.0.5:8080"}, None, "http://10.0.0.5:8080/wp-json/wc/v3"),
        ({}, "https://www.example.com", "https://www.example.com/wp-json/wc/v3"),
        ({}, "https://www.example.com/wp-json/wc/v3/", "https://www.example.com/wp-json/wc/v3"),
    ],
)
def test_api_root(make_adapter, options, base_url, expected):
    adapter = make_adapter(options, base_url=base_url) if base_url else make_adapter(options)
    assert adapter.base_url() == expected


def test_oauth_with_cjk_and_reserved_characters_in_the_query():
    """P12's lesson for WooCommerce: sign the UTF-8 bytes, percent-encoded once (space as %20, not +)."""
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS}, enforce_rate=False)
    with httpx.Client(transport=emulator.transport(), auth=OAuth1Auth(CK, CS)) as client:
        response = client.get("http://shop.example.com/wp-json/wc/v3/products", params={"sku": "杯子 A+B/1:2~x"})
    assert response.status_code == 200, response.text
    base = signature_base_string("GET", "http://shop.example.com/p", [("sku", "杯子 A+B")])
    assert base.endswith("sku%3D%E6%9D%AF%E5%AD%90%20A%2BB")
