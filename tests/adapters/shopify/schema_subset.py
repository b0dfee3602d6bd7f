"""Derive the Shopify emulator's schema: a subset of Shopify's own Admin API introspection
(shared/reference/specs/shopify/admin_<version>.json.gz), written as SDL to adapters/shopify/.

The subset keeps, of each OUTPUT type, only the fields listed in :data:`FIELDS` (with every argument, as
Shopify declares it), and whole every input object, enum and scalar those fields reach, so documents and
variables are validated exactly as Shopify validates them. Interfaces are kept only where an object keeps
all their fields. Descriptions and deprecations are Shopify's own.

Regenerate (and review the diff) with::

    python -m tests.adapters.shopify.schema_subset > adapters/shopify/admin_2026-07.graphql

``tests/adapters/shopify/test_schema.py`` fails while the committed file differs from what this derives.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from graphql import (
    DocumentNode,
    GraphQLSchema,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    TypeNode,
    build_client_schema,
    parse,
    print_ast,
    print_schema,
)

VERSION = "2026-07"
SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "specs" / "shopify"
TARGET = Path(__file__).resolve().parents[3] / "adapters" / "shopify" / f"admin_{VERSION}.graphql"

#: output type -> the fields the emulator answers (what the adapter and common clients ask for)
FIELDS: dict[str, tuple[str, ...]] = {
    "QueryRoot": (
        "inventoryItem",
        "locations",
        "order",
        "orders",
        "product",
        "productVariant",
        "productVariants",
        "webhookSubscriptions",
    ),
    "Mutation": (
        "fulfillmentCreate",
        "inventorySetQuantities",
        "orderCancel",
        "productCreate",
        "productUpdate",
        "productVariantsBulkCreate",
        "productVariantsBulkUpdate",
        "webhookSubscriptionCreate",
    ),
    "PageInfo": ("endCursor", "hasNextPage", "hasPreviousPage", "startCursor"),
    "Product": (
        "createdAt",
        "descriptionHtml",
        "handle",
        "id",
        "options",
        "productType",
        "status",
        "title",
        "totalInventory",
        "updatedAt",
        "variants",
        "vendor",
    ),
    "ProductOption": ("id", "name", "optionValues", "position", "values"),
    "ProductOptionValue": ("hasVariants", "id", "name"),
    "ProductVariant": (
        "barcode",
        "compareAtPrice",
        "createdAt",
        "displayName",
        "id",
        "inventoryItem",
        "inventoryQuantity",
        "price",
        "product",
        "selectedOptions",
        "sku",
        "title",
        "updatedAt",
    ),
    "ProductVariantConnection": ("edges", "nodes", "pageInfo"),
    "ProductVariantEdge": ("cursor", "node"),
    "SelectedOption": ("name", "value"),
    "InventoryItem": ("id", "inventoryLevel", "sku", "tracked", "variant"),
    "InventoryLevel": ("id", "item", "location", "quantities"),
    "InventoryQuantity": ("id", "name", "quantity", "updatedAt"),
    "Location": ("id", "isActive", "name"),
    "LocationConnection": ("edges", "nodes", "pageInfo"),
    "LocationEdge": ("cursor", "node"),
    "Order": (
        "cancelledAt",
        "closed",
        "createdAt",
        "currencyCode",
        "displayFinancialStatus",
        "displayFulfillmentStatus",
        "fulfillmentOrders",
        "fulfillments",
        "id",
        "lineItems",
        "name",
        "shippingAddress",
        "totalPriceSet",
        "totalShippingPriceSet",
        "updatedAt",
    ),
    "OrderConnection": ("edges", "nodes", "pageInfo"),
    "FulfillmentOrder": ("id", "lineItems", "status"),
    "FulfillmentOrderConnection": ("edges", "nodes", "pageInfo"),
    "FulfillmentOrderEdge": ("cursor", "node"),
    "FulfillmentOrderLineItem": ("id", "lineItem", "remainingQuantity", "sku", "totalQuantity"),
    "FulfillmentOrderLineItemConnection": ("edges", "nodes", "pageInfo"),
    "FulfillmentOrderLineItemEdge": ("cursor", "node"),
    "Fulfillment": ("id", "status", "trackingInfo"),
    "FulfillmentTrackingInfo": ("company", "number", "url"),
    "FulfillmentCreatePayload": ("fulfillment", "userErrors"),
    "OrderCancelPayload": ("job", "orderCancelUserErrors", "userErrors"),
    "OrderCancelUserError": ("code", "field", "message"),
    "Job": ("done", "id"),
    "OrderEdge": ("cursor", "node"),
    "LineItem": ("id", "originalUnitPriceSet", "quantity", "sku", "title", "variant"),
    "LineItemConnection": ("edges", "nodes", "pageInfo"),
    "LineItemEdge": ("cursor", "node"),
    "MailingAddress": (
        "address1",
        "address2",
        "city",
        "country",
        "countryCodeV2",
        "id",
        "name",
        "phone",
        "provinceCode",
        "zip",
    ),
    "MoneyBag": ("presentmentMoney", "shopMoney"),
    "MoneyV2": ("amount", "currencyCode"),
    "ProductCreatePayload": ("product", "userErrors"),
    "ProductUpdatePayload": ("product", "userErrors"),
    "ProductVariantsBulkCreatePayload": ("product", "productVariants", "userErrors"),
    "ProductVariantsBulkUpdatePayload": ("product", "productVariants", "userErrors"),
    "InventorySetQuantitiesPayload": ("inventoryAdjustmentGroup", "userErrors"),
    "InventoryAdjustmentGroup": ("changes", "createdAt", "id", "reason", "referenceDocumentUri"),
    "InventoryChange": ("delta", "name", "quantityAfterChange"),
    "UserError": ("field", "message"),
    "ProductVariantsBulkCreateUserError": ("code", "field", "message"),
    "ProductVariantsBulkUpdateUserError": ("code", "field", "message"),
    "InventorySetQuantitiesUserError": ("code", "field", "message"),
    "DisplayableError": ("field", "message"),
    "WebhookSubscription": ("createdAt", "format", "id", "topic", "updatedAt", "uri"),
    "WebhookSubscriptionConnection": ("edges", "nodes", "pageInfo"),
    "WebhookSubscriptionEdge": ("cursor", "node"),
    "WebhookSubscriptionCreatePayload": ("userErrors", "webhookSubscription"),
    "Node": ("id",),
}


def load(version: str = VERSION) -> GraphQLSchema:
    """Shopify's introspection of one version (graphql-core's own self-check skipped, see the specs README)."""
    data = json.loads(gzip.decompress((SPECS / f"admin_{version}.json.gz").read_bytes()))["data"]
    return build_client_schema(data, assume_valid=True)


def _named(node: TypeNode) -> str:
    while not isinstance(node, NamedTypeNode):
        node = node.type  # type: ignore[attr-defined]  # NonNull/List wrap a type
    return node.name.value


def subset_sdl(schema: GraphQLSchema) -> str:
    """The SDL of the subset described in the module docstring."""
    full = parse(print_schema(schema))
    by_name = {d.name.value: d for d in full.definitions if hasattr(d, "name") and d.name is not None}
    keep: dict[str, object] = {}
    pending = list(FIELDS)
    while pending:
        name = pending.pop()
        if name in keep:
            continue
        node = by_name[name]
        if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            node = _pruned(node)
        keep[name] = node
        pending.extend(_references(node, by_name))
    directives = [d for d in full.definitions if d.__class__.__name__ == "DirectiveDefinitionNode"]
    used = _directive_names(keep.values())
    ordered = [keep[n] for n in sorted(keep)]
    schema_node = next(d for d in full.definitions if d.__class__.__name__ == "SchemaDefinitionNode")
    definitions = [schema_node, *[d for d in directives if d.name.value in used], *ordered]
    header = (
        f"# Shopify Admin GraphQL API {VERSION}: the subset the emulator serves, derived from Shopify's own\n"
        f"# introspection (shared/reference/specs/shopify/admin_{VERSION}.json.gz) by\n"
        "# tests/adapters/shopify/schema_subset.py. Do not edit by hand: regenerate.\n\n"
    )
    return header + print_ast(DocumentNode(definitions=tuple(definitions))) + "\n"


def _pruned(node: ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode) -> object:
    wanted = set(FIELDS[node.name.value])
    missing = wanted - {f.name.value for f in node.fields or ()}
    if missing:
        raise KeyError(f"{node.name.value} has no field {sorted(missing)} in this version")
    fields = tuple(f for f in node.fields or () if f.name.value in wanted)
    interfaces = tuple(
        i for i in node.interfaces or () if i.name.value in FIELDS and set(FIELDS[i.name.value]) <= wanted
    )
    return node.__class__(
        name=node.name,
        description=node.description,
        interfaces=interfaces,
        directives=node.directives,
        fields=fields,
    )


def _references(node: object, by_name: dict[str, object]) -> list[str]:
    """Type names a kept definition needs. Output types must be listed in FIELDS (else a KeyError names
    them); input objects, enums and scalars follow whole."""
    names: list[str] = []
    fields = getattr(node, "fields", None) or ()
    for field in fields:
        names.append(_named(field.type))
        names.extend(_named(arg.type) for arg in getattr(field, "arguments", None) or ())
    names.extend(i.name.value for i in getattr(node, "interfaces", None) or ())
    names.extend(t.name.value for t in getattr(node, "types", None) or ())  # unions
    out = []
    for name in names:
        target = by_name.get(name)
        if target is None:
            continue  # a built-in scalar
        output = isinstance(target, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode)
        if output and name not in FIELDS:
            owner = getattr(node, "name").value  # noqa: B009 - every kept definition is named
            raise KeyError(f"{owner} needs output type {name}: add it to FIELDS or drop the field")
        out.append(name)
    return out


def _directive_names(nodes: object) -> set[str]:
    """Directive names applied anywhere in the kept definitions, plus the ones documents use."""
    used = {"idempotent"}
    stack = list(nodes)  # type: ignore[call-overload]
    while stack:
        item = stack.pop()
        for directive in getattr(item, "directives", None) or ():
            used.add(directive.name.value)
        stack.extend(getattr(item, "fields", None) or ())
        stack.extend(getattr(item, "values", None) or ())
        stack.extend(getattr(item, "arguments", None) or ())
    return used


if __name__ == "__main__":
    sys.stdout.write(subset_sdl(load()))
