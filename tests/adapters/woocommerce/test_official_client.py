"""The official ``woocommerce`` client (PyPI, wc-api-python 3.0.0) against the emulator served over loopback.

A second opinion on the emulator: what the official client sends must be accepted, what the emulator
answers must parse in it. Over http the client signs with OAuth 1.0a (HMAC-SHA256) like our adapter, so
its signatures also check ours: for the same inputs (fixed nonce and timestamp) both must be equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from listing_sync.adapters.woocommerce.auth import OAuth1Auth
from listing_sync.adapters.woocommerce.emulator import WooCommerceEmulator

from tests.adapters.serving import serving

woocommerce = pytest.importorskip("woocommerce")
from woocommerce.oauth import OAuth  # noqa: E402  (the official package's own signer)

CK, CS = "ck_4f2a9c1e7b", "cs_8d3b6e0f5a"


@pytest.fixture
def served() -> Iterator[tuple[WooCommerceEmulator, str]]:
    emulator = WooCommerceEmulator(credentials={"consumer_key": CK, "consumer_secret": CS}, enforce_rate=False, seed=5)
    with serving(emulator) as base:
        yield emulator, base


@pytest.fixture
def wcapi(served) -> woocommerce.API:
    return woocommerce.API(url=served[1], consumer_key=CK, consumer_secret=CS, version="wc/v3", timeout=10)


def stock(wcapi, sku: str, quantity: int, price: str) -> dict:
    body = {"name": f"Mug {sku}", "sku": sku, "regular_price": price, "manage_stock": True, "stock_quantity": quantity}
    response = wcapi.post("products", body)
    assert response.status_code == 201, response.text
    return response.json()


# -- the must-show: order pulls signed by the official client are accepted -------------------------------
def test_official_client_signed_orders_modified_after_is_accepted(served, wcapi):
    emulator, _ = served
    stock(wcapi, "MUG-1", 50, "9.90")
    emulator.generate_orders(3)
    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    response = wcapi.get("orders", params={"modified_after": since, "dates_are_gmt": "true", "per_page": 100})
    assert response.status_code == 200, response.text  # 401 "Invalid signature" before the fix
    orders = response.json()
    assert len(orders) == 3 and response.headers["X-WP-Total"] == "3"
    assert all(o["date_modified_gmt"] > since for o in orders)
    request = emulator.requests[-1]
    assert request.url.params["modified_after"] == since and request.url.params["oauth_signature_method"] == (
        "HMAC-SHA256"
    )
    later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    assert wcapi.get("orders", params={"modified_after": later, "dates_are_gmt": "true"}).json() == []


@pytest.mark.parametrize(
    "params",
    [
        {"modified_after": "2026-01-02T03:04:05", "dates_are_gmt": "true", "per_page": "100", "page": "2"},
        {"status": "processing,on-hold", "orderby": "id", "order": "asc"},
        {"search": "杯子 A+B:1~x&y=z"},
        {},
    ],
)
def test_adapter_signature_equals_the_official_clients_for_the_same_inputs(params):
    url = "http://shop.example.com/wp-json/wc/v3/orders"
    stamp, nonce = 1767323045, "5f1c0e9d8b7a6f5e4d3c2b1a09f8e7d6c5b4a392"
    official = OAuth(
        url=f"{url}?{httpx.QueryParams(params)}" if params else url,
        consumer_key=CK,
        consumer_secret=CS,
        version="wc/v3",
        method="GET",
        oauth_timestamp=stamp,
    )
    official.generate_nonce = lambda: nonce  # the package draws a random one
    theirs = dict(parse_qsl(urlsplit(official.get_oauth_url()).query))
    ours = next(
        OAuth1Auth(CK, CS, timestamp=lambda: stamp, nonce=lambda: nonce).auth_flow(
            httpx.Request("GET", url, params=params)
        )
    )
    assert ours.url.params["oauth_signature"] == theirs["oauth_signature"]
    assert {k: v for k, v in ours.url.params.items()} == theirs


# -- flows the adapter uses: list/create/update, price and quantity, orders with paging and filters --------
def test_products_list_create_update_get_delete(wcapi):
    created = [stock(wcapi, f"TEA-{n}", n, f"{n}.50") for n in range(1, 6)]
    assert [p["sku"] for p in created] == [f"TEA-{n}" for n in range(1, 6)]
    page = wcapi.get("products", params={"per_page": 2, "page": 3, "orderby": "id", "order": "asc"})
    assert page.status_code == 200 and [p["sku"] for p in page.json()] == ["TEA-5"]
    assert page.headers["X-WP-Total"] == "5" and page.headers["X-WP-TotalPages"] == "3"
    by_sku = wcapi.get("products", params={"sku": "TEA-2"}).json()
    assert [p["id"] for p in by_sku] == [created[1]["id"]]
    updated = wcapi.put(f"products/{created[0]['id']}", {"name": "Green tea", "status": "draft"})
    assert updated.status_code == 200 and updated.json()["name"] == "Green tea"
    assert wcapi.get(f"products/{created[0]['id']}").json()["status"] == "draft"
    gone = wcapi.delete(f"products/{created[4]['id']}", params={"force": "true"})
    assert gone.status_code == 200 and gone.json()["sku"] == "TEA-5"
    assert wcapi.get(f"products/{created[4]['id']}").status_code == 404
    trashed = wcapi.delete(f"products/{created[3]['id']}")
    assert trashed.json()["status"] == "trash"
    assert wcapi.get("products").headers["X-WP-Total"] == "3"  # "any" leaves the trash out


def test_categories_create_and_list(wcapi):
    made = wcapi.post("products/categories", {"name": "Tea ware"})
    assert made.status_code == 201 and made.json()["slug"] == "tea-ware"
    again = wcapi.post("products/categories", {"name": "Tea ware"})
    assert again.status_code == 400 and again.json()["code"] == "term_exists"
    product = wcapi.post("products", {"name": "Pot", "categories": [{"id": made.json()["id"]}]}).json()
    assert product["categories"][0]["name"] == "Tea ware"
    listed = wcapi.get("products/categories", params={"per_page": 100}).json()
    assert [(c["name"], c["count"]) for c in listed] == [("Tea ware", 1), ("Uncategorized", 0)]


def test_price_and_quantity_on_products_and_variations(wcapi):
    simple = stock(wcapi, "CUP-1", 3, "5.00")
    put = wcapi.put(f"products/{simple['id']}", {"regular_price": "6.10", "sale_price": "", "stock_quantity": 9})
    assert put.json()["price"] == "6.10" and put.json()["stock_quantity"] == 9
    batch = wcapi.post(
        "products/batch", {"update": [{"id": simple["id"], "regular_price": "7.00", "stock_quantity": 0}]}
    )
    assert batch.status_code == 200 and batch.json()["update"][0]["stock_status"] == "outofstock"
    parent = wcapi.post("products", {"name": "Shirt", "type": "variable"}).json()
    small = wcapi.post(f"products/{parent['id']}/variations", {"sku": "SHIRT-S", "regular_price": "12.00"})
    assert small.status_code == 201, small.text
    vid = small.json()["id"]
    assert wcapi.get(f"products/{parent['id']}/variations/{vid}").json()["sku"] == "SHIRT-S"
    update = {"update": [{"id": vid, "regular_price": "13.50", "manage_stock": True, "stock_quantity": 4}]}
    result = wcapi.post(f"products/{parent['id']}/variations/batch", update).json()["update"][0]
    assert (result["price"], result["stock_quantity"]) == ("13.50", 4)
    assert wcapi.get(f"products/{parent['id']}").json()["variations"] == [vid]
    deleted = wcapi.delete(f"products/{parent['id']}/variations/{vid}", params={"force": "true"})
    assert deleted.status_code == 200 and wcapi.get(f"products/{parent['id']}").json()["variations"] == []


def test_orders_paging_and_filters(served, wcapi):
    emulator, _ = served
    stock(wcapi, "POT-1", 500, "20.00")
    ids = emulator.generate_orders(5)
    emulator.set_order_status(ids[0], "cancelled")
    seen: list[int] = []
    for page in (1, 2, 3):
        response = wcapi.get("orders", params={"per_page": 2, "page": page, "orderby": "id", "order": "asc"})
        assert response.status_code == 200 and response.headers["X-WP-TotalPages"] == "3"
        seen += [o["id"] for o in response.json()]
    assert seen == sorted(int(i) for i in ids)
    processing = wcapi.get("orders", params={"status": "processing", "per_page": 100}).json()
    assert sorted(o["id"] for o in processing) == sorted(int(i) for i in ids[1:])
    one = wcapi.get(f"orders/{ids[0]}").json()
    assert one["status"] == "cancelled" and one["line_items"][0]["sku"] == "POT-1"
    bad = wcapi.get("orders", params={"modified_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"


def test_official_client_and_woocommerce_disagree_on_a_slash(served, wcapi):
    """The official package leaves ``/`` unencoded in the base string (``quote``'s default ``safe="/"``);
    WooCommerce's ``rawurlencode`` does not, so the real server refuses such a signature. Our signer agrees
    with the server: the same query from the adapter's signer is accepted."""
    emulator, base = served
    refused = wcapi.get("products", params={"search": "A/B"})
    assert refused.status_code == 401
    assert refused.json()["message"] == "Invalid signature - provided signature does not match."
    with httpx.Client(auth=OAuth1Auth(CK, CS)) as client:
        accepted = client.get(f"{base}/wp-json/wc/v3/products", params={"search": "A/B"})
    assert accepted.status_code == 200, accepted.text
