"""The Shopify emulator executes documents against Shopify's schema (adapters/shopify/admin_2026-07.graphql and
its older-version edits): only requested fields come back, refusals have Shopify's shapes, the version's
schema decides which fields and directives exist, and the cost is computed from the document."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from listing_sync.adapters.base import ListingDraft, Money, Variation
from listing_sync.adapters.shopify.emulator import ShopifyEmulator

from tests.conftest import FakeClock

from .conftest import NOW, TOKEN, endpoint

LOCATION = "gid://shopify/Location/1"


@pytest.fixture
def shop(build):
    clock = FakeClock()
    emu = ShopifyEmulator(credentials={"access_token": TOKEN}, clock=clock, now=lambda: NOW - timedelta(minutes=10))
    adapter = build(transport=emu.transport(), clock=clock)
    tee = ListingDraft(
        "TEE",
        "Tee",
        "<p>Soft</p>",
        "Shirts",
        Money.of("10", "USD"),
        0,
        variations=(
            Variation("TEE-S", Money.of("10", "USD"), 5, {"Size": "S"}),
            Variation("TEE-M", Money.of("11", "USD"), 4, {"Size": "M"}),
        ),
    )
    [published] = adapter.publish([tee])
    assert published.ok
    emu.generate_orders(2)
    emu.requests.clear()
    return emu


def ask(emu: ShopifyEmulator, query: str, variables: dict[str, Any] | None = None, version: str = "2026-04") -> Any:
    client = httpx.Client(transport=emu.transport())
    answer = client.post(
        endpoint(version),
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": TOKEN},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_only_the_requested_fields_come_back(shop):
    body = ask(shop, "{ productVariants(first: 1) { nodes { sku } } }")
    assert body["data"] == {"productVariants": {"nodes": [{"sku": "TEE-S"}]}}
    aliased = ask(
        shop, "{ v: productVariants(first: 5, query: \"sku:'TEE-M'\") { nodes { __typename s: sku price } } }"
    )
    assert aliased["data"]["v"]["nodes"] == [{"__typename": "ProductVariant", "s": "TEE-M", "price": "11.00"}]
    order = ask(shop, "{ orders(first: 1) { nodes { name lineItems(first: 1) { nodes { quantity } } } } }")
    [node] = order["data"]["orders"]["nodes"]
    assert set(node) == {"name", "lineItems"} and set(node["lineItems"]["nodes"][0]) == {"quantity"}


def test_nested_arguments_are_answered_as_asked(shop):
    [variant] = ask(shop, "{ productVariants(first: 1, query: \"sku:'TEE-S'\") { nodes { inventoryItem { id } } } }")[
        "data"
    ]["productVariants"]["nodes"]
    item = variant["inventoryItem"]["id"]
    query = (
        "query($i: ID!, $l: ID!) { inventoryItem(id: $i) { sku inventoryLevel(locationId: $l) "
        '{ quantities(names: ["available", "incoming"]) { name quantity } location { name } } } }'
    )
    level = ask(shop, query, {"i": item, "l": LOCATION})["data"]["inventoryItem"]
    assert level["sku"] == "TEE-S" and level["inventoryLevel"]["location"] == {"name": "Main warehouse"}
    assert level["inventoryLevel"]["quantities"][1] == {"name": "incoming", "quantity": 0}
    assert level["inventoryLevel"]["quantities"][0]["name"] == "available"
    elsewhere = ask(shop, query, {"i": item, "l": "gid://shopify/Location/999"})
    assert elsewhere["data"]["inventoryItem"]["inventoryLevel"] is None


def test_connections_page_with_edges_and_cursors_both_ways(shop):
    first = ask(
        shop, "{ productVariants(first: 1) { edges { cursor node { sku } } pageInfo { hasNextPage endCursor } } }"
    )
    page = first["data"]["productVariants"]
    assert page["edges"][0]["node"] == {"sku": "TEE-S"} and page["pageInfo"]["hasNextPage"] is True
    after = page["pageInfo"]["endCursor"]
    second = ask(shop, "query($a: String) { productVariants(first: 5, after: $a) { nodes { sku } } }", {"a": after})
    assert second["data"]["productVariants"]["nodes"] == [{"sku": "TEE-M"}]
    last = ask(shop, "{ productVariants(last: 1) { nodes { sku } pageInfo { hasPreviousPage } } }")
    assert last["data"]["productVariants"] == {"nodes": [{"sku": "TEE-M"}], "pageInfo": {"hasPreviousPage": True}}
    neither = ask(shop, "{ productVariants { nodes { sku } } }")
    assert neither["errors"][0]["extensions"]["code"] == "BAD_REQUEST" and "data" not in neither


@pytest.mark.parametrize(
    ("query", "code", "words"),
    [
        ("{ shop { name } }", "undefinedField", "Field 'shop' doesn't exist on type 'QueryRoot'"),
        (
            "{ productVariants(first: 1, color: RED) { nodes { id } } }",
            "argumentNotAccepted",
            "doesn't accept argument",
        ),
        ("{ order { id } }", "missingRequiredArguments", "missing required arguments"),
        ("query($x: Int) { locations(first: 1) { nodes { id } } }", "variableNotUsed", "$x"),
        ("{ locations(first: 1) { nodes { id } } ", "PARSE_ERROR", "Parse error"),
        # productCreate's userErrors are UserError, which has no code: asking for it is refused whole
        (
            'mutation { productCreate(product: {title: "x"}) { userErrors { code field message } } }',
            "undefinedField",
            "Field 'code' doesn't exist on type 'UserError'",
        ),
    ],
)
def test_documents_shopify_would_refuse_are_refused_with_its_codes(shop, query, code, words):
    body = ask(shop, query)
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == code
    assert words in body["errors"][0]["message"]
    assert body["extensions"]["cost"]["actualQueryCost"] is None


SET = (
    "mutation S($input: InventorySetQuantitiesInput!, $k: String!) "
    "{ inventorySetQuantities(input: $input) @idempotent(key: $k) { userErrors { code field } } }"
)
SET_OLD = (
    "mutation S($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }"
)


def _input(item: str, **quantity: Any) -> dict[str, Any]:
    row = {"inventoryItemId": item, "locationId": LOCATION, "quantity": 3, **quantity}
    return {"name": "available", "reason": "correction", "quantities": [row]}


def _item(shop: ShopifyEmulator) -> str:
    return next(iter(shop.state["inventory"]))


def test_the_versions_schema_decides_the_compare_fields(shop):
    removed = ask(shop, SET, {"input": _input(_item(shop), compareQuantity=5), "k": "k1"})
    [error] = removed["errors"]
    assert error["extensions"]["code"] == "INVALID_VARIABLE" and "data" not in removed
    assert error["message"] == (
        "Variable $input of type InventorySetQuantitiesInput! was provided invalid value "
        "for quantities.0.compareQuantity"
    )
    assert error["extensions"]["problems"] == [
        {"path": ["quantities", 0, "compareQuantity"], "explanation": "Field is not defined on InventoryQuantityInput"}
    ]
    both = ask(
        shop, SET, {"input": _input(_item(shop), compareQuantity=None, changeFromQuantity=None), "k": "k2"}, "2026-01"
    )
    assert both["data"]["inventorySetQuantities"]["userErrors"] == []
    old = ask(
        shop, SET_OLD, {"input": {**_input(_item(shop), compareQuantity=3), "ignoreCompareQuantity": False}}, "2025-10"
    )
    assert old["data"]["inventorySetQuantities"]["userErrors"] == []
    too_new = ask(shop, SET_OLD, {"input": _input(_item(shop), changeFromQuantity=3)}, "2025-10")
    assert too_new["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    directive = ask(shop, SET, {"input": _input(_item(shop)), "k": "k3"}, "2025-10")
    assert directive["errors"][0]["extensions"]["code"] == "undefinedDirective"


def test_wrong_variable_types_are_invalid_variables(shop):
    body = ask(shop, "query($n: Int) { locations(first: $n) { nodes { id } } }", {"n": "ten"})
    assert (
        body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
        and body["errors"][0]["extensions"]["value"] == "ten"
    )
    missing = ask(shop, SET, {"k": "k"})
    assert missing["errors"][0]["message"].startswith(
        "Variable $input of type InventorySetQuantitiesInput! was provided invalid value"
    )


def test_user_errors_in_the_payloads_own_shape(shop):
    blank = ask(
        shop, 'mutation { productCreate(product: {title: " "}) { product { id } userErrors { field message } } }'
    )
    assert blank["data"]["productCreate"] == {
        "product": None,
        "userErrors": [{"field": ["title"], "message": "Title can't be blank"}],
    }
    stale = ask(shop, SET, {"input": _input(_item(shop), changeFromQuantity=999), "k": "stale"})
    errors = stale["data"]["inventorySetQuantities"]["userErrors"]
    assert errors == [
        {"code": "CHANGE_FROM_QUANTITY_STALE", "field": ["input", "quantities", "0", "changeFromQuantity"]}
    ]


def test_cost_is_requested_before_and_refunded_to_actual_after(shop):
    shop.bucket.observe(1000)
    body = ask(shop, "{ productVariants(first: 100) { nodes { id product { id } } } }")
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 100 * 2
    assert cost["actualQueryCost"] < cost["requestedQueryCost"]  # two variants, not a hundred
    assert cost["throttleStatus"]["currentlyAvailable"] == pytest.approx(1000 - cost["actualQueryCost"], abs=1)
    mutation = ask(
        shop, 'mutation { productUpdate(product: {id: "gid://shopify/Product/0"}) { userErrors { message } } }'
    )
    assert mutation["extensions"]["cost"]["requestedQueryCost"] == 11


def test_the_access_token_is_checked(shop):
    client = httpx.Client(transport=shop.transport())
    document = {"query": "{ locations(first: 1) { nodes { id } } }"}
    assert client.post(endpoint(), json=document).status_code == 401
    assert client.post(endpoint(), json=document, headers={"X-Shopify-Access-Token": TOKEN + "x"}).status_code == 401
    unconfigured = httpx.Client(transport=ShopifyEmulator().transport())
    refused = unconfigured.post(endpoint(), json=document, headers={"X-Shopify-Access-Token": TOKEN})
    assert refused.status_code == 401 and "Invalid API key or access token" in refused.json()["errors"]


def test_user_error_codes_are_the_schemas_own(shop):
    """The schema refuses to serialize a code its enum lacks: the emulator once answered OPTION_DOES_NOT_EXIST,
    which productVariantsBulkCreate's codes do not have."""
    pid = next(iter(shop.state["products"]))
    create = (
        "mutation($id: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkCreate(productId: $id, "
        "variants: $v) { userErrors { code field } } }"
    )
    unknown = ask(shop, create, {"id": pid, "v": [{"optionValues": [{"optionName": "Color", "name": "Red"}]}]})
    assert "errors" not in unknown
    assert (
        unknown["data"]["productVariantsBulkCreate"]["userErrors"][0]["code"]
        == "OPTION_VALUES_FOR_NUMBER_OF_UNKNOWN_OPTIONS"
    )
    missing = ask(shop, SET, {"input": _input(_item(shop)), "k": "no-change-from"})
    assert "errors" not in missing
    [error] = missing["data"]["inventorySetQuantities"]["userErrors"]
    assert error["code"] is None and error["field"][-1] == "changeFromQuantity"
