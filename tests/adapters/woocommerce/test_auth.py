"""Authentication: Basic over https, query-string keys, and OAuth 1.0a one-legged over http.

The OAuth vectors are written here by hand from WooCommerce's verifier (``check_oauth_signature``:
``normalize_parameters`` encodes each key and value, ``join_with_equals_sign`` encodes each pair again)
and RFC 5849's published example, not computed with the adapter's helpers.
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
    # Each value encoded (":" -> %3A), then each key=value pair encoded again (%3A -> %253A, "=" -> %3D).
    base = (
        "GET&http%3A%2F%2Fshop.example.com%2Fwp-json%2Fwc%2Fv3%2Forders&"
        "modified_after%3D2026-01-02T03%253A04%253A05%26"
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


def test_rfc5849_published_base_string():
    """RFC 5849 section 3.4.1.1's example request gives the RFC's signature base string, encoded byte for
    byte the same; only ``c@`` and ``c2`` trade places: the RFC sorts by ENCODED name (``c%40`` < ``c2``),
    WooCommerce by decoded name (``uksort`` with ``strcmp``: ``c2`` < ``c@``), and we sign as the server checks."""
    params = [
        ("b5", "=%3D"),
        ("a3", "2 q"),
        ("a3", "a"),
        ("c@", ""),
        ("a2", "r b"),
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
        ("c2", ""),
    ]
    assert signature_base_string("POST", "http://example.com/request", params) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
        "%26a3%3Da%26b5%3D%253D%25253D%26c2%3D%26c%2540%3D%26oauth_consumer_"
        "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
        "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
        "9d7dh3k39sjv7"
    )


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


def hand_signed(params: dict[str, str], *, url: str = "http://shop.example.com/wp-json/wc/v3/orders") -> str:
    """A query string signed by hand the way WooCommerce checks: rawurlencode k and v, then the pair again."""
    from urllib.parse import quote

    def enc(text: str) -> str:
        return quote(text, safe="~")

    pairs = "%26".join(enc(f"{enc(k)}={enc(v)}") for k, v in sorted(params.items(), key=lambda kv: kv[0].encode()))
    signature = hmac_b64(CS + "&", f"GET&{enc(url)}&{pairs}")
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in {**params, "oauth_signature": signature}.items())


def oauth(emulator: WooCommerceEmulator, nonce: str, **extra: str) -> dict[str, str]:
    return {
        **extra,
        "oauth_consumer_key": CK,
        "oauth_nonce": nonce,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(int(emulator.now().timestamp())),
    }


def test_single_encoding_is_refused_as_woocommerce_does():
    """The old signer's mistake: pairs encoded once (":" -> %3A) do not match the server's %253A."""
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS})
    params = oauth(emulator, "a" * 32, modified_after="2026-01-02T03:04:05")
    from urllib.parse import quote

    once = "%26".join(f"{quote(k, safe='~')}%3D{quote(v, safe='~')}" for k, v in sorted(params.items()))
    url = "http://shop.example.com/wp-json/wc/v3/orders"
    signature = hmac_b64(CS + "&", f"GET&{quote(url, safe='')}&{once}")
    response = emulator.handle(httpx.Request("GET", url, params={**params, "oauth_signature": signature}))
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid signature - provided signature does not match."
    good = emulator.handle(httpx.Request("GET", f"{url}?{hand_signed(oauth(emulator, 'b' * 32, search='x:y'))}"))
    assert good.status_code == 200, good.text


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("modified_after", "2026-01-02T03:04:05"),
        ("search", "a/b c+d&e=f%20g~h"),
        ("search", "杯子 A+B/1:2~x"),
        ("a:b/c+d&e=f%g~", "v"),
        ("名前", "値:/ +&=%~"),
    ],
)
def test_reserved_characters_and_cjk_in_keys_and_values(key, value):
    """Hand-signed requests with ``:/ +&=%~`` and CJK are accepted; the adapter's signer agrees with them."""
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS}, enforce_rate=False)
    url = "http://shop.example.com/wp-json/wc/v3/orders"
    params = oauth(emulator, "c" * 32, **{key: value})
    response = emulator.handle(httpx.Request("GET", f"{url}?{hand_signed(params)}"))
    assert response.status_code == 200, response.text
    stamp = int(emulator.now().timestamp())
    auth = OAuth1Auth(CK, CS, timestamp=lambda: stamp, nonce=lambda: "d" * 32)
    signed = next(auth.auth_flow(httpx.Request("GET", url, params={key: value})))
    expected = dict(parse_qsl(hand_signed(oauth(emulator, "d" * 32, **{key: value}))))["oauth_signature"]
    assert signed.url.params["oauth_signature"] == expected
    assert emulator.handle(signed).status_code == 200


def test_php_renames_spaces_and_dots_in_names_so_such_keys_are_refused():
    """PHP fills $_GET with ``a_b`` for ``a b``/``a.b``: the server signs another name than the client did."""
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS}, enforce_rate=False)
    url = "http://shop.example.com/wp-json/wc/v3/orders"
    for key in ("a b", "a.b"):
        response = emulator.handle(httpx.Request("GET", f"{url}?{hand_signed(oauth(emulator, key * 8, **{key: '1'}))}"))
        assert response.status_code == 401, key


def test_oauth_in_the_authorization_header_is_accepted():
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS}, enforce_rate=False)
    url = "http://shop.example.com/wp-json/wc/v3/orders"
    params = oauth(emulator, "e" * 32)
    signed = dict(parse_qsl(hand_signed({**params, "status": "processing"})))
    header = "OAuth " + ", ".join(f'{k}="{signed[k]}"' for k in (*params, "oauth_signature"))
    response = emulator.handle(
        httpx.Request("GET", url, params={"status": "processing"}, headers={"Authorization": header})
    )
    assert response.status_code == 200, response.text


def test_no_oauth_at_all_is_the_routes_permission_refusal():
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS}, enforce_rate=False)
    url = "http://shop.example.com/wp-json/wc/v3/products"
    assert emulator.handle(httpx.Request("GET", url)).json()["code"] == "woocommerce_rest_cannot_view"
    assert emulator.handle(httpx.Request("POST", url, json={})).json()["code"] == "woocommerce_rest_cannot_create"
    partial = emulator.handle(httpx.Request("GET", url, params={"oauth_consumer_key": CK}))
    assert partial.json()["message"] == (
        "Missing OAuth parameters oauth_timestamp, oauth_nonce, oauth_signature, oauth_signature_method"
    )


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
    """P12's lesson for WooCommerce: sign the UTF-8 bytes, percent-encoded (space as %20, not +) twice."""
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS}, enforce_rate=False)
    with httpx.Client(transport=emulator.transport(), auth=OAuth1Auth(CK, CS)) as client:
        response = client.get("http://shop.example.com/wp-json/wc/v3/products", params={"sku": "杯子 A+B/1:2~x"})
    assert response.status_code == 200, response.text
    base = signature_base_string("GET", "http://shop.example.com/p", [("sku", "杯子 A+B")])
    assert base.endswith("sku%3D%25E6%259D%25AF%25E5%25AD%2590%2520A%252BB")
