"""A second opinion on the Shopify emulator: Shopify's own Python package (PyPI ``ShopifyAPI``, its
``shopify.GraphQL`` client), not our adapter, runs the adapter's flows against the emulator served over
loopback HTTP, with documents written here from Shopify's documentation: product and variant create and
update, price, quantity with compare-and-set and an idempotency key, orders with a search filter and cursor
paging. What the client sends must be accepted; what comes back must parse and hold what was asked.

Serving: ``ShopifyEmulator.serve()`` on 127.0.0.1 with the app's access token (this fixture; the
``syncer emulator serve`` CLI is not involved). The client takes its endpoint from the active session's
site; the session is made as for a real shop, then the site is pointed at loopback (``ShopifyResource.site``
is the package's own knob for that).
"""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

shopify = pytest.importorskip("shopify", reason="ShopifyAPI is in the test extra")

from listing_sync.adapters.shopify.emulator import ShopifyEmulator  # noqa: E402

from tests.conftest import FakeClock  # noqa: E402

from .conftest import NOW, TOKEN  # noqa: E402

VERSION = "2026-04"
LOCATION = "gid://shopify/Location/1"


class Shop:
    def __init__(self, emulator: ShopifyEmulator, port: int) -> None:
        self.emulator = emulator
        self.port = port
        self.client = shopify.GraphQL()

    def run(self, query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> dict[str, Any]:
        return json.loads(self.client.execute(query, variables, name))

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.run(query, variables)
        assert "errors" not in body, body["errors"]
        assert body["extensions"]["cost"]["actualQueryCost"] <= body["extensions"]["cost"]["requestedQueryCost"]
        return body["data"]


@pytest.fixture
def shop(monkeypatch) -> Iterator[Shop]:
    for name in ("NO_PROXY", "no_proxy"):  # loopback goes direct, whatever proxy the environment names
        monkeypatch.setenv(name, "127.0.0.1")
    clock = FakeClock()
    emulator = ShopifyEmulator(
        credentials={"access_token": TOKEN}, clock=clock, now=lambda: NOW - timedelta(minutes=10)
    )
    server = emulator.serve()
    port = server.server_address[1]
    session = shopify.Session("demo.myshopify.com", VERSION, TOKEN)
    shopify.ShopifyResource.activate_session(session)
    shopify.ShopifyResource.set_site(f"http://127.0.0.1:{port}/admin/api/{VERSION}")
    try:
        yield Shop(emulator, port)
    finally:
        shopify.ShopifyResource.clear_session()
        server.shutdown()
        server.server_close()


CREATE = """
mutation Create($product: ProductCreateInput!) {
  productCreate(product: $product) {
    product { id title status options { name optionValues { name } } variants(first: 5) { nodes { id } } }
    userErrors { field message }
  }
}"""
VARIANTS = """
mutation Variants($id: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkCreate(productId: $id, variants: $variants, strategy: REMOVE_STANDALONE_VARIANT) {
    productVariants { id sku price inventoryItem { id } selectedOptions { name value } }
    userErrors { code field message }
  }
}"""
PRICES = """
mutation Prices($id: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $id, variants: $variants, allowPartialUpdates: true) {
    productVariants { id price compareAtPrice }
    userErrors { code field message }
  }
}"""
SET = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}"""


def make_product(shop: Shop) -> tuple[str, dict[str, Any]]:
    product = {
        "title": "Tea cup",
        "productType": "Cups",
        "status": "ACTIVE",
        "productOptions": [{"name": "Size", "values": [{"name": "S"}, {"name": "M"}]}],
    }
    created = shop.data(CREATE, {"product": product})["productCreate"]
    assert created["userErrors"] == [] and created["product"]["title"] == "Tea cup"
    assert created["product"]["options"] == [{"name": "Size", "optionValues": [{"name": "S"}, {"name": "M"}]}]
    pid = created["product"]["id"]
    variants = [
        {
            "optionValues": [{"optionName": "Size", "name": size}],
            "price": price,
            "inventoryItem": {"sku": f"CUP-{size}", "tracked": True},
            "inventoryQuantities": [{"locationId": LOCATION, "availableQuantity": qty}],
        }
        for size, price, qty in (("S", "4.00", 10), ("M", "5.00", 6))
    ]
    made = shop.data(VARIANTS, {"id": pid, "variants": variants})["productVariantsBulkCreate"]
    assert made["userErrors"] == []
    by_sku = {v["sku"]: v for v in made["productVariants"]}
    assert by_sku["CUP-M"]["selectedOptions"] == [{"name": "Size", "value": "M"}] and by_sku["CUP-M"]["price"] == "5.00"
    return pid, by_sku


# ------------------------------------------------------------------------------------------------ flows
def test_product_and_variant_create_and_update(shop):
    pid, variants = make_product(shop)
    assert set(variants) == {"CUP-S", "CUP-M"}
    update = """mutation U($p: ProductUpdateInput!) { productUpdate(product: $p) {
        product { id title status vendor } userErrors { field message } } }"""
    updated = shop.data(update, {"p": {"id": pid, "title": "Tea cup 2", "vendor": "Acme", "status": "DRAFT"}})
    assert updated["productUpdate"]["product"] == {"id": pid, "title": "Tea cup 2", "status": "DRAFT", "vendor": "Acme"}
    read = shop.data(
        "query P($id: ID!) { product(id: $id) { title variants(first: 10) { nodes { sku } } } }", {"id": pid}
    )
    assert read["product"] == {"title": "Tea cup 2", "variants": {"nodes": [{"sku": "CUP-S"}, {"sku": "CUP-M"}]}}
    twice = shop.data(
        VARIANTS, {"id": pid, "variants": [{"optionValues": [{"optionName": "Size", "name": "S"}], "price": "1"}]}
    )
    assert twice["productVariantsBulkCreate"]["userErrors"][0]["code"] == "VARIANT_ALREADY_EXISTS"


def test_price_update_with_a_partial_failure(shop):
    pid, variants = make_product(shop)
    rows = [
        {"id": variants["CUP-S"]["id"], "price": "4.50", "compareAtPrice": "6.00"},
        {"id": "gid://shopify/ProductVariant/0", "price": "1.00"},
    ]
    result = shop.data(PRICES, {"id": pid, "variants": rows})["productVariantsBulkUpdate"]
    assert result["productVariants"] == [{"id": variants["CUP-S"]["id"], "price": "4.50", "compareAtPrice": "6.00"}]
    assert result["userErrors"] == [
        {
            "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
            "field": ["variants", "1", "id"],
            "message": "Product variant does not exist",
        }
    ]
    assert shop.emulator._variant_by_sku("CUP-S")["price"] == "4.50"


def test_inventory_set_with_compare_and_set_and_idempotency(shop):
    _, variants = make_product(shop)
    item = variants["CUP-S"]["inventoryItem"]["id"]

    def quantities(expected: int | None, to: int) -> dict[str, Any]:
        row = {"inventoryItemId": item, "locationId": LOCATION, "quantity": to, "changeFromQuantity": expected}
        return {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": "gid://test/Sync/1",
            "quantities": [row],
        }

    done = shop.data(SET, {"input": quantities(10, 7), "key": "k-1"})["inventorySetQuantities"]
    assert done["userErrors"] == [] and done["inventoryAdjustmentGroup"]["changes"] == [
        {"name": "available", "delta": -3, "quantityAfterChange": 7}
    ]
    again = shop.data(SET, {"input": quantities(10, 7), "key": "k-1"})["inventorySetQuantities"]
    assert again == done and shop.emulator.quantity("CUP-S") == 7  # the same key: applied once
    stale = shop.data(SET, {"input": quantities(10, 1), "key": "k-2"})["inventorySetQuantities"]
    assert stale["inventoryAdjustmentGroup"] is None and stale["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert shop.emulator.quantity("CUP-S") == 7
    unchecked = shop.data(SET, {"input": quantities(None, 2), "key": "k-3"})["inventorySetQuantities"]
    assert unchecked["userErrors"] == [] and shop.emulator.quantity("CUP-S") == 2
    no_key = shop.run(
        SET.replace(" @idempotent(key: $key)", "").replace(", $key: String!", ""), {"input": quantities(2, 3)}
    )
    assert no_key["errors"][0]["extensions"]["code"] == "BAD_REQUEST" and shop.emulator.quantity("CUP-S") == 2
    level = shop.data(
        "query L($i: ID!, $l: ID!) { inventoryItem(id: $i) { inventoryLevel(locationId: $l) "
        '{ quantities(names: ["available"]) { quantity } } } }',
        {"i": item, "l": LOCATION},
    )
    assert level["inventoryItem"]["inventoryLevel"]["quantities"] == [{"quantity": 2}]


def test_orders_with_a_search_filter_and_cursor_paging(shop):
    make_product(shop)
    ids = shop.emulator.generate_orders(5)
    query = """query O($q: String!, $after: String) {
      orders(first: 2, after: $after, sortKey: UPDATED_AT, query: $q) {
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id name displayFinancialStatus totalPriceSet { shopMoney { amount currencyCode } }
          lineItems(first: 5) { nodes { sku quantity originalUnitPriceSet { shopMoney { amount } } } } } }
      }
    }"""
    since = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    seen, after, pages = [], None, 0
    while True:
        page = shop.data(query, {"q": f"updated_at:>'{since}'", "after": after})["orders"]
        pages += 1
        for edge in page["edges"]:
            node = edge["node"]
            assert (
                node["displayFinancialStatus"] == "PAID" and node["totalPriceSet"]["shopMoney"]["currencyCode"] == "USD"
            )
            assert node["lineItems"]["nodes"][0]["sku"].startswith("CUP-")
            seen.append(node["id"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3 and seen == ids
    future = (NOW + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert shop.data(query, {"q": f"updated_at:>'{future}'"})["orders"]["edges"] == []
    one = shop.data("query($id: ID!) { order(id: $id) { name cancelledAt } }", {"id": ids[0]})
    assert one["order"]["cancelledAt"] is None and one["order"]["name"].startswith("#")


def test_variant_lookup_by_sku_search(shop):
    make_product(shop)
    query = "query { productVariants(first: 10, query: \"sku:'CUP-M'\") { nodes { sku product { title } } } }"
    assert shop.data(query)["productVariants"]["nodes"] == [{"sku": "CUP-M", "product": {"title": "Tea cup"}}]


def test_a_wrong_token_is_refused_over_the_wire(shop):
    shopify.ShopifyResource.activate_session(shopify.Session("demo.myshopify.com", VERSION, "shpat_wrong"))
    shopify.ShopifyResource.set_site(f"http://127.0.0.1:{shop.port}/admin/api/{VERSION}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        shopify.GraphQL().execute("{ locations(first: 1) { nodes { id } } }")
    assert refused.value.code == 401
