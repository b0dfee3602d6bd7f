"""The emulator's schema is Shopify's, and the adapter's documents are valid against Shopify's own schema.

* adapters/shopify/admin_2026-07.graphql is exactly what tests/adapters/shopify/schema_subset.py derives from
  Shopify's introspection in shared/reference/specs/shopify (so nobody edits it by hand);
* every document and variable set the adapter sends, in every flow, validates against the FULL 2026-07
  schema (not only the subset the emulator serves) for the versions that schema describes (2026-04 on).
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from graphql import GraphQLSchema, get_operation_ast, parse, type_from_ast, validate
from graphql.utilities import validate_input_value
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    Money,
    OrderCursor,
    PriceUpdate,
    Shipment,
    ShipmentLine,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.shopify.emulator import ShopifyEmulator

from tests.conftest import FakeClock

from .conftest import NOW, TOKEN
from .schema_subset import SPECS, TARGET, load, subset_sdl

pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"Shopify's schema not found at {SPECS}")


def full_schema() -> GraphQLSchema:
    """Shopify's full Admin schema; the calling test is skipped when ../shared/reference/specs is absent."""
    if not SPECS.is_dir():
        pytest.skip(f"Shopify's schema not found at {SPECS}")
    return _full_schema()


@cache
def _full_schema() -> GraphQLSchema:
    return load()


def test_the_committed_schema_is_derived_from_shopifys_own():
    assert TARGET.read_text(encoding="utf-8") == subset_sdl(full_schema()), (
        "regenerate: python -m tests.adapters.shopify.schema_subset > adapters/shopify/admin_2026-07.graphql"
    )


def problems(schema: GraphQLSchema, query: str, variables: dict[str, Any]) -> list[str]:
    """What Shopify's schema says is wrong with one request: document errors, then variable errors."""
    document = parse(query)
    found = [e.message for e in validate(schema, document)]
    op = get_operation_ast(document)
    assert op is not None
    for definition in op.variable_definitions or ():
        name = definition.variable.name.value
        var_type = type_from_ast(schema, definition.type)
        assert var_type is not None, f"unknown type of ${name}"
        validate_input_value(
            variables.get(name),
            var_type,
            lambda error, path, n=name: found.append(f"${n} {list(path)}: {error.message}"),
        )
    return found


def exercise(build, version: str) -> list[dict[str, Any]]:
    """Every flow of the adapter against the emulator; returns every request body sent."""
    clock = FakeClock()
    emu = ShopifyEmulator(credentials={"access_token": TOKEN}, clock=clock, now=lambda: NOW - timedelta(minutes=10))
    adapter = build(version, transport=emu.transport(), clock=clock)
    usd = lambda x: Money.of(x, "USD")  # noqa: E731
    tee = ListingDraft(
        "TEE",
        "Tee",
        "<p>Soft</p>",
        "Shirts",
        usd("10"),
        0,
        images=("https://img.example/tee.jpg",),
        variations=(
            Variation("TEE-S", usd("10"), 5, {"Size": "S"}, barcode="012345678905"),
            Variation("TEE-M", usd("11"), 4, {"Size": "M"}),
        ),
    )
    mug = ListingDraft("MUG", "Mug", "A mug", "Mugs", usd("7.50"), 9, brand="Acme")
    tee_result, mug_result = adapter.publish([tee, mug])
    assert tee_result.ok and mug_result.ok
    adapter.publish(
        [
            ListingDraft(
                "TEE",
                "Tee 2",
                "x",
                "Shirts",
                usd("10"),
                0,
                ref=tee_result.ref,
                variations=(*tee.variations, Variation("TEE-L", usd("12"), 1, {"Size": "L"})),
            )
        ]
    )
    adapter.push_prices(
        [PriceUpdate("TEE-M", usd("11.5"), ref=tee_result.ref), PriceUpdate("MUG", usd("8"), list_price=usd("9"))]
    )
    emu.set_quantity("MUG", 7)
    adapter.push_stock(
        [StockUpdate("TEE-S", 2, ref=tee_result.ref, expected=5), StockUpdate("MUG", 1, ref=mug_result.ref, expected=9)]
    )
    adapter.push_stock([StockUpdate("TEE-M", 3)])
    adapter.delist([DelistRequest("MUG", mug_result.ref)])
    adapter.relist([DelistRequest("MUG")])
    [oid] = emu.generate_orders(1)
    order = emu.state["orders"][oid]
    order["lineItems"] = [dict(order["lineItems"][0], id=f"gid://shopify/LineItem/x{n}") for n in range(7)]
    adapter.orders_since(OrderCursor(NOW - timedelta(hours=1)))
    first = order["lineItems"][0]
    adapter.ship(
        Shipment(oid, "SF", "SF1234567890", (ShipmentLine(first["id"], first["sku"], 1),), NOW, complete=False)
    )
    list(adapter.listings())
    adapter._location_id = None
    adapter._location()
    adapter.register_webhooks("https://sync.example.com/webhooks/shop")
    adapter.order(oid)
    return [json.loads(r.content) for r in emu.requests]


def test_every_document_the_adapter_sends_is_valid_against_shopifys_full_schema(build):
    bodies = exercise(build, "2026-04")
    names = {get_operation_ast(parse(b["query"])).name.value for b in bodies}  # type: ignore[union-attr]
    assert {
        "Variants",
        "CreateProduct",
        "UpdateProduct",
        "CreateVariants",
        "UpdateVariants",
        "SetPrices",
        "SetStock",
        "Levels",
        "SetStatus",
        "Orders",
        "OrderLines",
        "Locations",
        "FulfillmentOrders",
        "Fulfill",
        "Webhooks",
        "WebhookCreate",
        "Order",
    } <= names
    wrong = {b["query"][:60]: found for b in bodies if (found := problems(full_schema(), b["query"], b["variables"]))}
    assert wrong == {}


@pytest.mark.parametrize("version", ["2025-10", "2026-01"])
def test_older_versions_documents_are_what_those_versions_take(build, version):
    """2026-07 has no compareQuantity any more: the 2025-10/2026-01 documents are valid against the emulator's
    schema of those versions (Shopify's 2026-07 schema with the changelog's edits) and not against 2026-07."""
    from listing_sync.adapters.shopify import executor

    bodies = exercise(build, version)
    stock = [b for b in bodies if "inventorySetQuantities" in b["query"]]
    assert stock
    older = executor.schema_for(executor.era(version))
    assert all(problems(older, b["query"], b["variables"]) == [] for b in bodies)
    if version == "2025-10":
        assert any(problems(full_schema(), b["query"], b["variables"]) for b in stock)
