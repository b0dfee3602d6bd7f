"""Exact wire format of every operation (respx), written from domestic-apis.md section 1 and shopify.dev.

Every request is ``POST /admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token`` and a JSON
body ``{"query": ..., "variables": ...}``; the documents and variables are asserted exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import respx
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    ListingRef,
    Money,
    Operation,
    OrderCursor,
    PriceUpdate,
    StockUpdate,
    Variation,
)

from .conftest import LOCATION, TOKEN, endpoint, flat, gql_ok, sent

USD = "USD"
REF_S = ListingRef(
    "TS-S",
    "gid://shopify/Product/7",
    {
        "product_id": "gid://shopify/Product/7",
        "variant_id": "gid://shopify/ProductVariant/71",
        "inventory_item_id": "gid://shopify/InventoryItem/81",
        "location_id": LOCATION,
    },
)
REF_M = ListingRef(
    "TS-M",
    "gid://shopify/Product/7",
    {
        "product_id": "gid://shopify/Product/7",
        "variant_id": "gid://shopify/ProductVariant/72",
        "inventory_item_id": "gid://shopify/InventoryItem/82",
    },
)


NO_VARIANTS = {"productVariants": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}}


def usd(x: str) -> Money:
    return Money.of(x, USD)


def check_envelope(request: httpx.Request, version: str = "2026-04") -> None:
    assert request.method == "POST"
    assert str(request.url) == endpoint(version)
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["Content-Type"] == "application/json"


# ---------------------------------------------------------------------------------------- stock
def test_stock_2026_04_uses_change_from_quantity_and_idempotency_key(build):
    adapter = build("2026-04")
    with respx.mock:
        route = respx.post(endpoint()).mock(
            return_value=gql_ok(
                {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "g1"}, "userErrors": []}}
            )
        )
        results = adapter.push_stock(
            [StockUpdate("TS-S", 5, ref=REF_S, expected=7), StockUpdate("TS-M", 0, ref=REF_M, expected=None)]
        )
    assert [r.ok for r in results] == [True, True]
    request = route.calls.last.request
    check_envelope(request)
    body = sent(request)
    assert flat(body["query"]) == (
        "mutation SetStock($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) "
        "{ inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) "
        "{ inventoryAdjustmentGroup { id } userErrors { code field message } } }"
    )
    assert body["variables"] == {
        "input": {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": "gid://listing-sync/SyncBatch/key-1",
            "quantities": [
                {
                    "inventoryItemId": "gid://shopify/InventoryItem/81",
                    "locationId": LOCATION,
                    "quantity": 5,
                    "changeFromQuantity": 7,
                },
                {
                    "inventoryItemId": "gid://shopify/InventoryItem/82",
                    "locationId": LOCATION,
                    "quantity": 0,
                    "changeFromQuantity": None,  # explicit null = no check (omitting it is an error)
                },
            ],
        },
        "idempotencyKey": "key-1",
    }
    assert results[0].ref.get("inventory_item_id") == "gid://shopify/InventoryItem/81"


def test_stock_2025_10_uses_compare_quantity_and_splits_unchecked_items(build):
    adapter = build("2025-10")
    with respx.mock:
        route = respx.post(endpoint("2025-10")).mock(
            return_value=gql_ok({"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "g"}, "userErrors": []}})
        )
        results = adapter.push_stock(
            [StockUpdate("TS-S", 5, ref=REF_S, expected=7), StockUpdate("TS-M", 2, ref=REF_M, expected=None)]
        )
    assert [r.ok for r in results] == [True, True]
    first, second = (sent(c.request) for c in route.calls)
    assert flat(first["query"]) == (
        "mutation SetStock($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
        "{ inventoryAdjustmentGroup { id } userErrors { code field message } } }"
    )
    assert "idempotencyKey" not in first["variables"]
    assert first["variables"]["input"] == {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": "gid://listing-sync/SyncBatch/key-1",
        "ignoreCompareQuantity": False,
        "quantities": [
            {
                "inventoryItemId": "gid://shopify/InventoryItem/81",
                "locationId": LOCATION,
                "quantity": 5,
                "compareQuantity": 7,
            }
        ],
    }
    assert second["variables"]["input"]["ignoreCompareQuantity"] is True
    assert second["variables"]["input"]["quantities"] == [
        {"inventoryItemId": "gid://shopify/InventoryItem/82", "locationId": LOCATION, "quantity": 2}
    ]


def test_stock_without_ref_looks_variants_up_by_sku(build):
    adapter = build()
    lookup = {
        "productVariants": {
            "pageInfo": {"hasNextPage": False, "endCursor": "c1"},
            "nodes": [
                {
                    "id": "gid://shopify/ProductVariant/71",
                    "sku": "TS-S",
                    "price": "10.00",
                    "compareAtPrice": None,
                    "inventoryQuantity": 3,
                    "product": {"id": "gid://shopify/Product/7", "title": "Tee", "status": "ACTIVE"},
                    "inventoryItem": {"id": "gid://shopify/InventoryItem/81"},
                }
            ],
        }
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(
            side_effect=[
                gql_ok(lookup, requested=752),
                gql_ok({"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "g"}, "userErrors": []}}),
            ]
        )
        results = adapter.push_stock([StockUpdate("TS-S", 4), StockUpdate("GHOST", 1)])
    query = sent(route.calls[0].request)
    assert flat(query["query"]) == (
        "query Variants($query: String, $after: String) { productVariants(first: 50, after: $after, query: $query) "
        "{ pageInfo { hasNextPage endCursor } nodes { id sku price compareAtPrice inventoryQuantity "
        "product { id title status } inventoryItem { id } } } }"
    )
    assert query["variables"] == {"query": "sku:'TS-S' OR sku:'GHOST'", "after": None}
    stock = sent(route.calls[1].request)["variables"]["input"]["quantities"]
    assert stock == [
        {
            "inventoryItemId": "gid://shopify/InventoryItem/81",
            "locationId": LOCATION,
            "quantity": 4,
            "changeFromQuantity": None,
        }
    ]
    assert results[0].ok
    assert not results[1].ok and results[1].code == "unmapped"


# ---------------------------------------------------------------------------------------- price
def test_price_one_product_per_call_with_partial_updates(build):
    adapter = build()
    other = ListingRef(
        "MUG",
        "gid://shopify/Product/9",
        {
            "product_id": "gid://shopify/Product/9",
            "variant_id": "gid://shopify/ProductVariant/91",
            "inventory_item_id": "i",
        },
    )
    updates = [
        PriceUpdate("TS-S", usd("12.5"), ref=REF_S, list_price=usd("15")),
        PriceUpdate("MUG", usd("8"), ref=other),
        PriceUpdate("TS-M", usd("13"), ref=REF_M),
    ]
    chunks = list(adapter.chunks(Operation.PRICE, updates))
    assert [[u.sku for u in c] for c in chunks] == [["TS-S", "TS-M"], ["MUG"]]
    with respx.mock:
        route = respx.post(endpoint()).mock(
            return_value=gql_ok(
                {
                    "productVariantsBulkUpdate": {
                        "productVariants": [{"id": "gid://shopify/ProductVariant/71", "price": "12.50"}],
                        "userErrors": [
                            {"code": "INVALID_INPUT", "field": ["variants", "1", "price"], "message": "Price is bad"}
                        ],
                    }
                }
            )
        )
        results = adapter.push_prices(chunks[0])
    assert len(route.calls) == 1
    body = sent(route.calls.last.request)
    check_envelope(route.calls.last.request)
    assert flat(body["query"]) == (
        "mutation SetPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) "
        "{ productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) "
        "{ productVariants { id price } userErrors { code field message } } }"
    )
    assert body["variables"] == {
        "productId": "gid://shopify/Product/7",
        "variants": [
            {"id": "gid://shopify/ProductVariant/71", "price": "12.50", "compareAtPrice": "15.00"},
            {"id": "gid://shopify/ProductVariant/72", "price": "13.00"},
        ],
    }
    assert results[0].ok
    assert not results[1].ok and results[1].code == "INVALID_INPUT" and results[1].message == "Price is bad"


def test_the_end_of_a_promotion_sets_compare_at_price_to_null(build):
    adapter = build()
    with respx.mock:
        route = respx.post(endpoint()).mock(
            return_value=gql_ok(
                {
                    "productVariantsBulkUpdate": {
                        "productVariants": [{"id": "gid://shopify/ProductVariant/71", "price": "15.00"}],
                        "userErrors": [],
                    }
                }
            )
        )
        [result] = adapter.push_prices([PriceUpdate("TS-S", usd("15"), ref=REF_S, clear_sale=True)])
    assert sent(route.calls.last.request)["variables"] == {
        "productId": "gid://shopify/Product/7",
        "variants": [{"id": "gid://shopify/ProductVariant/71", "price": "15.00", "compareAtPrice": None}],
    }
    assert result.ok


def test_price_in_other_currency_is_refused_before_sending(build):
    adapter = build(currency="USD")
    with respx.mock:
        route = respx.post(endpoint())
        [result] = adapter.push_prices([PriceUpdate("TS-S", Money.of("9", "EUR"), ref=REF_S)])
    assert not route.called
    assert result.code == "currency"


# ---------------------------------------------------------------------------------------- publish
def test_publish_new_product_with_variations(build):
    adapter = build()
    draft = ListingDraft(
        "TS",
        "Tee",
        "<p>Soft</p>",
        "Shirts",
        usd("10"),
        0,
        brand="Acme",
        images=("https://cdn.example/tee.jpg",),
        variations=(
            Variation("TS-S", usd("10"), 5, {"Size": "S", "Color": "Red"}, barcode="0001"),
            Variation("TS-M", usd("11"), 3, {"Size": "M", "Color": "Red"}),
        ),
    )
    created = {
        "productCreate": {
            "product": {
                "id": "gid://shopify/Product/7",
                "status": "ACTIVE",
                "variants": {
                    "nodes": [{"id": "gid://shopify/ProductVariant/70", "sku": None, "inventoryItem": {"id": "i70"}}]
                },
            },
            "userErrors": [],
        }
    }
    variants = {
        "productVariantsBulkCreate": {
            "productVariants": [
                {
                    "id": "gid://shopify/ProductVariant/71",
                    "sku": "TS-S",
                    "inventoryItem": {"id": "gid://shopify/InventoryItem/81"},
                },
                {
                    "id": "gid://shopify/ProductVariant/72",
                    "sku": "TS-M",
                    "inventoryItem": {"id": "gid://shopify/InventoryItem/82"},
                },
            ],
            "userErrors": [],
        }
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(NO_VARIANTS), gql_ok(created), gql_ok(variants)])
        [result] = adapter.publish([draft])
    lookup, create, bulk = (sent(c.request) for c in route.calls)
    # first: is any of these SKUs already on a product (adopt it rather than duplicate)?
    assert lookup["variables"] == {"query": "sku:'TS-S' OR sku:'TS-M'", "after": None}
    assert flat(create["query"]) == (
        "mutation CreateProduct($product: ProductCreateInput!, $media: [CreateMediaInput!]) "
        "{ productCreate(product: $product, media: $media) { product { id status variants(first: 250) "
        "{ nodes { id sku inventoryItem { id } } } } userErrors { field message } } }"
    )
    assert create["variables"] == {
        "product": {
            "title": "Tee",
            "descriptionHtml": "<p>Soft</p>",
            "vendor": "Acme",
            "productType": "Shirts",
            "status": "ACTIVE",
            "productOptions": [
                {"name": "Size", "values": [{"name": "S"}, {"name": "M"}]},
                {"name": "Color", "values": [{"name": "Red"}]},
            ],
        },
        "media": [{"originalSource": "https://cdn.example/tee.jpg", "mediaContentType": "IMAGE"}],
    }
    assert flat(bulk["query"]) == (
        "mutation CreateVariants($productId: ID!, $variants: [ProductVariantsBulkInput!]!, "
        "$strategy: ProductVariantsBulkCreateStrategy) "
        "{ productVariantsBulkCreate(productId: $productId, variants: $variants, strategy: $strategy) "
        "{ productVariants { id sku inventoryItem { id } } userErrors { code field message } } }"
    )
    assert bulk["variables"] == {
        "productId": "gid://shopify/Product/7",
        "strategy": "REMOVE_STANDALONE_VARIANT",
        "variants": [
            {
                "optionValues": [{"optionName": "Size", "name": "S"}, {"optionName": "Color", "name": "Red"}],
                "price": "10.00",
                "inventoryItem": {"sku": "TS-S", "tracked": True},
                "inventoryQuantities": [{"locationId": LOCATION, "availableQuantity": 5}],
                "barcode": "0001",
            },
            {
                "optionValues": [{"optionName": "Size", "name": "M"}, {"optionName": "Color", "name": "Red"}],
                "price": "11.00",
                "inventoryItem": {"sku": "TS-M", "tracked": True},
                "inventoryQuantities": [{"locationId": LOCATION, "availableQuantity": 3}],
            },
        ],
    }
    assert result.ok
    assert result.ref.external_id == "gid://shopify/Product/7"
    assert result.ref.get("variant_id/TS-M") == "gid://shopify/ProductVariant/72"
    assert result.ref.get("inventory_item_id/TS-S") == "gid://shopify/InventoryItem/81"
    assert "productSet" not in create["query"] + bulk["query"]


def test_publish_existing_product_updates_without_product_set(build):
    adapter = build()
    ref = ListingRef("TS", "gid://shopify/Product/7", {"product_id": "gid://shopify/Product/7"})
    draft = ListingDraft(
        "TS",
        "Tee v2",
        "new text",
        "",
        usd("10"),
        0,
        ref=ref,
        variations=(
            Variation("TS-S", usd("10.5"), 5, {"Size": "S"}),
            Variation("TS-L", usd("12"), 2, {"Size": "L"}),
        ),
    )
    updated = {
        "productUpdate": {
            "product": {
                "id": "gid://shopify/Product/7",
                "status": "DRAFT",
                "variants": {
                    "nodes": [
                        {"id": "gid://shopify/ProductVariant/71", "sku": "TS-S", "inventoryItem": {"id": "ii71"}},
                        {"id": "gid://shopify/ProductVariant/72", "sku": "TS-M", "inventoryItem": {"id": "ii72"}},
                    ]
                },
            },
            "userErrors": [],
        }
    }
    upd = {
        "productVariantsBulkUpdate": {"productVariants": [{"id": "gid://shopify/ProductVariant/71"}], "userErrors": []}
    }
    new = {
        "productVariantsBulkCreate": {
            "productVariants": [
                {"id": "gid://shopify/ProductVariant/73", "sku": "TS-L", "inventoryItem": {"id": "ii73"}}
            ],
            "userErrors": [],
        }
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(updated), gql_ok(upd), gql_ok(new)])
        [result] = adapter.publish([draft])
    update, bulk_update, bulk_create = (sent(c.request) for c in route.calls)
    assert flat(update["query"]) == (
        "mutation UpdateProduct($product: ProductUpdateInput!) { productUpdate(product: $product) "
        "{ product { id status variants(first: 250) { nodes { id sku inventoryItem { id } } } } "
        "userErrors { field message } } }"
    )
    # no status: re-publishing must not relist a delisted product; no variants list: nothing is deleted
    assert update["variables"] == {
        "product": {"id": "gid://shopify/Product/7", "title": "Tee v2", "descriptionHtml": "new text"}
    }
    assert bulk_update["variables"] == {
        "productId": "gid://shopify/Product/7",
        "variants": [{"id": "gid://shopify/ProductVariant/71", "price": "10.50"}],
    }
    assert "allowPartialUpdates: true" in bulk_update["query"]
    assert bulk_create["variables"]["strategy"] == "DEFAULT"
    assert [v["inventoryItem"]["sku"] for v in bulk_create["variables"]["variants"]] == ["TS-L"]
    assert result.ok and result.ref.get("variant_id/TS-L") == "gid://shopify/ProductVariant/73"


# ---------------------------------------------------------------------------------------- delist / relist
def test_delist_and_relist_set_product_status_in_one_aliased_request(build):
    adapter = build(delist_status="ARCHIVED")
    p9 = ListingRef("MUG", "gid://shopify/Product/9", {"product_id": "gid://shopify/Product/9"})
    payload = {
        "p0": {"product": {"id": "gid://shopify/Product/7", "status": "ARCHIVED"}, "userErrors": []},
        "p1": {"product": None, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]},
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(return_value=gql_ok(payload))
        results = adapter.delist([DelistRequest("TS-S", REF_S), DelistRequest("MUG", p9), DelistRequest("TS-M", REF_M)])
        adapter.relist([DelistRequest("TS-S", REF_S)])
    body = sent(route.calls[0].request)
    assert flat(body["query"]) == (
        "mutation SetStatus($p0: ProductUpdateInput!, $p1: ProductUpdateInput!) "
        "{ p0: productUpdate(product: $p0) { product { id status } userErrors { field message } } "
        "p1: productUpdate(product: $p1) { product { id status } userErrors { field message } } }"
    )
    assert body["variables"] == {
        "p0": {"id": "gid://shopify/Product/7", "status": "ARCHIVED"},
        "p1": {"id": "gid://shopify/Product/9", "status": "ARCHIVED"},
    }
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].message == "Product does not exist"
    assert sent(route.calls[1].request)["variables"] == {"p0": {"id": "gid://shopify/Product/7", "status": "ACTIVE"}}


def test_a_status_batch_holds_whole_products_25_to_a_call(build):
    """Delist/relist change a product's status, one aliased productUpdate per product: the batches the
    planner sends hold every SKU of up to 25 products (not 25 SKUs), and the estimate counts the same."""
    adapter = build()

    def request(product: int, size: str) -> DelistRequest:
        gid = f"gid://shopify/Product/{product}"
        return DelistRequest(f"P{product}-{size}", ListingRef(f"P{product}-{size}", gid, {"product_id": gid}))

    bound = [request(p, size) for p in range(30) for size in "SMLX"]  # 30 products x 4 variants
    unbound = [DelistRequest("NEW-1"), DelistRequest("NEW-2")]  # each may be a product of its own
    for op in (Operation.DELIST, Operation.RELIST):
        chunks = list(adapter.chunks(op, bound + unbound))
        assert [len(c) for c in chunks] == [100, 22]  # 25 products; then 5 products and 2 unknown SKUs
        assert {r.ref.external_id for r in chunks[0]} == {f"gid://shopify/Product/{p}" for p in range(25)}
        assert adapter.estimate_calls(op, bound + unbound) == 2


# ---------------------------------------------------------------------------------------- orders
def order_node(n: int, *, lines_more: bool = False) -> dict:
    return {
        "id": f"gid://shopify/Order/{n}",
        "name": f"#{n}",
        "createdAt": "2026-03-10T10:00:00Z",
        "updatedAt": "2026-03-10T11:00:00Z",
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "currencyCode": "USD",
        "totalPriceSet": {"shopMoney": {"amount": "25.0", "currencyCode": "USD"}},
        "totalShippingPriceSet": {"shopMoney": {"amount": "5.0", "currencyCode": "USD"}},
        "shippingAddress": {"countryCodeV2": "CA"},
        "lineItems": {
            "pageInfo": {"hasNextPage": lines_more, "endCursor": "L1"},
            "nodes": [
                {
                    "id": f"gid://shopify/LineItem/{n}1",
                    "sku": "TS-S",
                    "title": "Tee",
                    "quantity": 2,
                    "originalUnitPriceSet": {"shopMoney": {"amount": "10.0", "currencyCode": "USD"}},
                }
            ],
        },
    }


def test_orders_query_cursor_paging_and_window(build):
    adapter = build(order_line_page=5)
    since = datetime(2026, 3, 9, tzinfo=UTC)
    page1 = {"orders": {"pageInfo": {"hasNextPage": True, "endCursor": "E1"}, "nodes": [order_node(1)]}}
    page2 = {"orders": {"pageInfo": {"hasNextPage": False, "endCursor": "E2"}, "nodes": [order_node(2)]}}
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(page1), gql_ok(page2)])
        first = adapter.orders_since(OrderCursor(since))
        second = adapter.orders_since(first.next)
    body = sent(route.calls[0].request)
    assert flat(body["query"]) == (
        "query Orders($query: String!, $after: String) "
        "{ orders(first: 20, after: $after, sortKey: UPDATED_AT, query: $query) "
        "{ pageInfo { hasNextPage endCursor } nodes { id name createdAt updatedAt cancelledAt "
        "displayFinancialStatus displayFulfillmentStatus currencyCode "
        "totalPriceSet { shopMoney { amount currencyCode } } "
        "totalShippingPriceSet { shopMoney { amount currencyCode } } "
        "shippingAddress { countryCodeV2 name phone address1 address2 city provinceCode zip } "
        "lineItems(first: 5) { pageInfo { hasNextPage endCursor } "
        "nodes { id sku title quantity originalUnitPriceSet { shopMoney { amount currencyCode } } } } } } }"
    )
    # until = now (12:00) - 1 minute lag, fixed while paging
    assert body["variables"] == {
        "query": "updated_at:>'2026-03-09T00:00:00Z' AND updated_at:<='2026-03-10T11:59:00Z'",
        "after": None,
    }
    assert sent(route.calls[1].request)["variables"]["after"] == "E1"
    assert sent(route.calls[1].request)["variables"]["query"] == body["variables"]["query"]
    assert not first.done and first.next.page == "E1" and first.next.until == datetime(2026, 3, 10, 11, 59, tzinfo=UTC)
    assert second.done
    assert second.next == OrderCursor(datetime(2026, 3, 10, 11, 54, tzinfo=UTC))
    order = first.orders[0]
    assert order.total == usd("25") and order.shipping == usd("5") and order.ship_country == "CA"
    assert order.lines[0].unit_price == usd("10") and order.lines[0].quantity == 2
    assert order.placed_at == datetime(2026, 3, 10, 10, tzinfo=UTC)


def test_orders_fetch_remaining_line_items_of_big_orders(build):
    adapter = build()
    page = {"orders": {"pageInfo": {"hasNextPage": False, "endCursor": "E"}, "nodes": [order_node(1, lines_more=True)]}}
    more = {
        "order": {
            "id": "gid://shopify/Order/1",
            "lineItems": {
                "pageInfo": {"hasNextPage": False, "endCursor": "L2"},
                "nodes": [
                    {
                        "id": "gid://shopify/LineItem/99",
                        "sku": "MUG",
                        "title": "Mug",
                        "quantity": 1,
                        "originalUnitPriceSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}},
                    }
                ],
            },
        }
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(page), gql_ok(more)])
        result = adapter.orders_since(OrderCursor(datetime(2026, 3, 9, tzinfo=UTC)))
    body = sent(route.calls[1].request)
    assert flat(body["query"]) == (
        "query OrderLines($id: ID!, $after: String) { order(id: $id) { id lineItems(first: 100, after: $after) "
        "{ pageInfo { hasNextPage endCursor } nodes { id sku title quantity "
        "originalUnitPriceSet { shopMoney { amount currencyCode } } } } } }"
    )
    assert body["variables"] == {"id": "gid://shopify/Order/1", "after": "L1"}
    assert [line.sku for line in result.orders[0].lines] == ["TS-S", "MUG"]


# ---------------------------------------------------------------------------------------- listings
def test_listings_read_back_pages_variants(build):
    adapter = build()
    node = {
        "id": "gid://shopify/ProductVariant/71",
        "sku": "TS-S",
        "price": "10.00",
        "compareAtPrice": None,
        "inventoryQuantity": 4,
        "product": {"id": "gid://shopify/Product/7", "title": "Tee", "status": "DRAFT"},
        "inventoryItem": {"id": "gid://shopify/InventoryItem/81"},
    }
    page1 = {"productVariants": {"pageInfo": {"hasNextPage": True, "endCursor": "V1"}, "nodes": [node]}}
    page2 = {"productVariants": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [{**node, "sku": ""}]}}
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(page1), gql_ok(page2)])
        rows = list(adapter.listings())
    assert [sent(c.request)["variables"] for c in route.calls] == [
        {"query": None, "after": None},
        {"query": None, "after": "V1"},
    ]
    [row] = rows
    assert row.sku == "TS-S" and row.price == usd("10") and row.quantity == 4 and row.status == "inactive"
    assert dict(row.ref.ids) == {
        "product_id": "gid://shopify/Product/7",
        "variant_id": "gid://shopify/ProductVariant/71",
        "inventory_item_id": "gid://shopify/InventoryItem/81",
        "location_id": LOCATION,
    }


def test_location_is_looked_up_when_not_configured(build):
    adapter = build(location_id=None)
    with respx.mock:
        route = respx.post(endpoint()).mock(
            side_effect=[
                gql_ok({"locations": {"nodes": [{"id": "gid://shopify/Location/5", "name": "Shop"}]}}),
                gql_ok({"productVariants": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}}),
            ]
        )
        assert list(adapter.listings()) == []
    assert (
        flat(sent(route.calls[0].request)["query"]) == "query Locations { locations(first: 2) { nodes { id name } } }"
    )
    assert adapter._location() == "gid://shopify/Location/5"


def test_stock_document_per_version(build):
    """2026-01 and later (and unstable) carry @idempotent and changeFromQuantity; older ones do not."""
    applied = gql_ok({"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "g"}, "userErrors": []}})
    seen = {}
    for version in ("2025-07", "2026-01", "2026-07", "unstable"):
        adapter = build(version)
        with respx.mock:
            route = respx.post(endpoint(version)).mock(return_value=applied)
            adapter.push_stock([StockUpdate("TS-S", 1, ref=REF_S, expected=2)])
        body = sent(route.calls.last.request)
        seen[version] = (
            "@idempotent(key: $idempotencyKey)" in body["query"],
            list(body["variables"]["input"]["quantities"][0])[-1],
        )
    assert seen == {
        "2025-07": (False, "compareQuantity"),
        "2026-01": (True, "changeFromQuantity"),
        "2026-07": (True, "changeFromQuantity"),
        "unstable": (True, "changeFromQuantity"),
    }


def test_publish_without_ref_adopts_the_product_that_already_has_the_sku(build):
    adapter = build()
    found = {
        "productVariants": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "id": "gid://shopify/ProductVariant/71",
                    "sku": "MUG",
                    "price": "1.00",
                    "compareAtPrice": None,
                    "inventoryQuantity": 0,
                    "product": {"id": "gid://shopify/Product/7", "title": "Mug", "status": "ACTIVE"},
                    "inventoryItem": {"id": "gid://shopify/InventoryItem/81"},
                }
            ],
        }
    }
    updated = {
        "productUpdate": {
            "product": {
                "id": "gid://shopify/Product/7",
                "status": "ACTIVE",
                "variants": {
                    "nodes": [
                        {
                            "id": "gid://shopify/ProductVariant/71",
                            "sku": "MUG",
                            "inventoryItem": {"id": "gid://shopify/InventoryItem/81"},
                        }
                    ]
                },
            },
            "userErrors": [],
        }
    }
    upd = {
        "productVariantsBulkUpdate": {"productVariants": [{"id": "gid://shopify/ProductVariant/71"}], "userErrors": []}
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(found), gql_ok(updated), gql_ok(upd)])
        [result] = adapter.publish([ListingDraft("MUG", "Mug", "m", "", usd("4"), 2)])
    names = [sent(c.request)["query"].split("(")[0] for c in route.calls]
    assert names == ["query Variants", "mutation UpdateProduct", "mutation UpdateVariants"]
    assert result.ok and result.ref.get("variant_id") == "gid://shopify/ProductVariant/71"


def test_one_sku_search_adopts_a_whole_publish_batch(build):
    """The adoption check is one productVariants search per publish batch (at most 50 SKUs), not one per
    product; drafts with a product id are not searched for."""
    adapter = build()
    drafts = [
        ListingDraft(
            f"P{n}",
            "Tee",
            "t",
            "Shirts",
            usd("10"),
            0,
            variations=tuple(Variation(f"P{n}-{s}", usd("10"), 1, {"Size": s}) for s in "SMLX"),
        )
        for n in range(13)
    ]
    assert [len(c) for c in adapter.chunks(Operation.PUBLISH, drafts)] == [12, 1]  # 48 SKUs, then 4
    known = ListingDraft("MUG", "Mug", "m", "Mugs", usd("4"), 2, ref=REF_S)
    with respx.mock:
        route = respx.post(endpoint()).mock(return_value=gql_ok(NO_VARIANTS))
        adapter.publish([drafts[0], known, drafts[1]])
    searches = [sent(c.request) for c in route.calls if sent(c.request)["query"].startswith("query Variants")]
    assert len(searches) == 1
    query = searches[0]["variables"]["query"]
    assert "sku:'P0-S'" in query and "sku:'P1-X'" in query and "MUG" not in query and "TS-S" not in query
