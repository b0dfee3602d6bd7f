"""Pure wire mapping for the Shopify Admin GraphQL API: documents, variables, result parsing.

Nothing here does I/O. Documents are kept on one line so tests can compare them exactly; page sizes
are inlined as literals because Shopify prices a query by its ``first:`` arguments (see :func:`cost`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from listing_sync.adapters.base import Money, Order, OrderLine, OrderStatus, Recipient, Shipment
from listing_sync.adapters.money import parse_decimal

# ---------------------------------------------------------------------------------- versions
STALE_CODES = frozenset({"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"})
#: user errors that say "try again" (the idempotency layer of 2026-01+)
RETRY_CODES = frozenset({"IDEMPOTENCY_CONCURRENT_REQUEST", "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"})
MAX_QUERY_COST = 1000  # a single query may not request more than this many points
#: requested cost an orders page aims at: half the Standard bucket, so a page never waits for a FULL bucket
ORDERS_COST_BUDGET = 500
MAX_INPUT = 250  # any input array, and any connection's ``first``


def at_least(version: str, floor: str) -> bool:
    """Whether API ``version`` (``YYYY-MM`` or ``unstable``) is ``floor`` or newer."""
    return version == "unstable" or version >= floor


def uses_change_from(version: str) -> bool:
    """2026-01 added ``changeFromQuantity`` (and ``@idempotent``); 2026-04 removed ``compareQuantity``."""
    return at_least(version, "2026-01")


# ---------------------------------------------------------------------------------- ids
def gid(kind: str, value: str | int) -> str:
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def error_index(field: Sequence[str] | None, array: str) -> int | None:
    """The input array index a userError's ``field`` path points at (``["variants", "3", "price"]``)."""
    path = list(field or [])
    for pos, name in enumerate(path[:-1]):
        if name == array and path[pos + 1].isdigit():
            return int(path[pos + 1])
    return None


def gql_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Shopify DateTime (ISO 8601, UTC ``Z``) -> aware UTC."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def quote_search(value: str) -> str:
    """A value inside Shopify search syntax single quotes."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


# ---------------------------------------------------------------------------------- cost
def connection(first: int, node: int) -> int:
    """Requested cost of a connection: 2 plus ``first`` times the cost of one node."""
    return 2 + first * node


MUTATION_COST = 10


# ---------------------------------------------------------------------------------- stock
STOCK_USER_ERRORS = "userErrors { code field message }"


def stock_document(version: str) -> str:
    if uses_change_from(version):
        return (
            "mutation SetStock($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) "
            "{ inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) "
            f"{{ inventoryAdjustmentGroup {{ id }} {STOCK_USER_ERRORS} }} }}"
        )
    return (
        "mutation SetStock($input: InventorySetQuantitiesInput!) "
        f"{{ inventorySetQuantities(input: $input) {{ inventoryAdjustmentGroup {{ id }} {STOCK_USER_ERRORS} }} }}"
    )


STOCK_COST = MUTATION_COST + 1


def stock_input(
    version: str,
    rows: Sequence[tuple[str, str, int, int | None]],
    *,
    reason: str,
    reference: str,
    ignore_compare: bool = False,
) -> dict[str, Any]:
    """``InventorySetQuantitiesInput`` for rows of (inventory item id, location id, quantity, expected).

    From 2026-01 each quantity carries ``changeFromQuantity`` (explicit null opts out of the check);
    before that ``compareQuantity`` per item and ``ignoreCompareQuantity`` for the whole input.
    """
    quantities = []
    for item_id, location_id, quantity, expected in rows:
        row: dict[str, Any] = {"inventoryItemId": item_id, "locationId": location_id, "quantity": quantity}
        if uses_change_from(version):
            row["changeFromQuantity"] = expected
        elif not ignore_compare:
            row["compareQuantity"] = expected
        quantities.append(row)
    body: dict[str, Any] = {"name": "available", "reason": reason, "referenceDocumentUri": reference}
    if not uses_change_from(version):
        body["ignoreCompareQuantity"] = ignore_compare
    body["quantities"] = quantities
    return body


def levels_document(count: int) -> str:
    """Re-read the ``available`` quantity of ``count`` inventory items at their locations (aliases)."""
    variables = ", ".join(f"$i{n}: ID!, $l{n}: ID!" for n in range(count))
    fields = " ".join(
        f"q{n}: inventoryItem(id: $i{n}) {{ id inventoryLevel(locationId: $l{n}) "
        f'{{ quantities(names: ["available"]) {{ name quantity }} }} }}'
        for n in range(count)
    )
    return f"query Levels({variables}) {{ {fields} }}"


def levels_cost(count: int) -> int:
    return 1 + count * 3


def level_available(node: Mapping[str, Any] | None) -> int | None:
    level = (node or {}).get("inventoryLevel") or {}
    for q in level.get("quantities") or []:
        if q.get("name") == "available":
            return int(q["quantity"])
    return None


# ---------------------------------------------------------------------------------- variants lookup
VARIANT_FIELDS = "id sku price compareAtPrice inventoryQuantity product { id title status } inventoryItem { id }"
VARIANT_NODE_COST = 3  # variant, product, inventoryItem
VARIANTS_PAGE = 250
VARIANTS_DOCUMENT = (
    "query Variants($query: String, $after: String) "
    f"{{ productVariants(first: {VARIANTS_PAGE}, after: $after, query: $query) "
    f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {VARIANT_FIELDS} }} }} }}"
)
VARIANTS_COST = connection(VARIANTS_PAGE, VARIANT_NODE_COST) + 1
SKU_LOOKUP_CHUNK = 50  # SKUs per search string, and the page size of the lookup (cost 153, not 753)
LOOKUP_DOCUMENT = (
    "query Variants($query: String, $after: String) "
    f"{{ productVariants(first: {SKU_LOOKUP_CHUNK}, after: $after, query: $query) "
    f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {VARIANT_FIELDS} }} }} }}"
)
LOOKUP_COST = connection(SKU_LOOKUP_CHUNK, VARIANT_NODE_COST) + 1


def sku_query(skus: Iterable[str]) -> str:
    return " OR ".join(f"sku:'{quote_search(s)}'" for s in skus)


# ---------------------------------------------------------------------------------- price
PRICE_DOCUMENT = (
    "mutation SetPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) "
    "{ productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) "
    "{ productVariants { id price } userErrors { code field message } } }"
)
PRICE_COST = MUTATION_COST + connection(0, 1)


def price_variant(
    variant_id: str, price: Money, list_price: Money | None, clear_compare: bool = False
) -> dict[str, Any]:
    """One ``ProductVariantsBulkInput``: the price, and ``compareAtPrice`` (the struck-through price) when
    given; ``clear_compare`` sends it as null, which removes it."""
    row: dict[str, Any] = {"id": variant_id, "price": price.wire()}
    if list_price is not None:
        row["compareAtPrice"] = list_price.wire()
    elif clear_compare:
        row["compareAtPrice"] = None
    return row


# ---------------------------------------------------------------------------------- publish
PRODUCT_READBACK = "product { id status variants(first: 250) { nodes { id sku inventoryItem { id } } } }"
PRODUCT_READBACK_COST = 1 + connection(250, 2)
CREATE_DOCUMENT = (
    "mutation CreateProduct($product: ProductCreateInput!, $media: [CreateMediaInput!]) "
    f"{{ productCreate(product: $product, media: $media) {{ {PRODUCT_READBACK} userErrors {{ field message }} }} }}"
)
UPDATE_DOCUMENT = (
    "mutation UpdateProduct($product: ProductUpdateInput!) "
    f"{{ productUpdate(product: $product) {{ {PRODUCT_READBACK} userErrors {{ field message }} }} }}"
)
PRODUCT_COST = MUTATION_COST + PRODUCT_READBACK_COST
VARIANTS_CREATE_DOCUMENT = (
    "mutation CreateVariants($productId: ID!, $variants: [ProductVariantsBulkInput!]!, "
    "$strategy: ProductVariantsBulkCreateStrategy) "
    "{ productVariantsBulkCreate(productId: $productId, variants: $variants, strategy: $strategy) "
    "{ productVariants { id sku inventoryItem { id } } userErrors { code field message } } }"
)
VARIANTS_CREATE_COST = MUTATION_COST + 3
VARIANTS_UPDATE_DOCUMENT = (
    "mutation UpdateVariants($productId: ID!, $variants: [ProductVariantsBulkInput!]!) "
    "{ productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) "
    "{ productVariants { id sku } userErrors { code field message } } }"
)
DEFAULT_OPTION = ("Title", "Default Title")  # what Shopify names the option of a single-variant product


def option_names(variations: Sequence[Any]) -> list[str]:
    names: list[str] = []
    for v in variations:
        for name in v.attributes:
            if name not in names:
                names.append(name)
    return names


def product_fields(draft: Any, status: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"title": draft.title, "descriptionHtml": draft.description}
    if draft.brand:
        body["vendor"] = draft.brand
    if draft.category_id:
        body["productType"] = draft.category_id
    if status:
        body["status"] = status
    return body


def product_options(draft: Any) -> list[dict[str, Any]]:
    """``productOptions`` for ``productCreate``: option names with their values in first-seen order."""
    if not draft.variations:
        name, value = DEFAULT_OPTION
        return [{"name": name, "values": [{"name": value}]}]
    out = []
    for name in option_names(draft.variations):
        values: list[str] = []
        for v in draft.variations:
            value = v.attributes.get(name)
            if value is not None and value not in values:
                values.append(value)
        out.append({"name": name, "values": [{"name": x} for x in values]})
    return out


def media(draft: Any) -> list[dict[str, Any]]:
    images = list(draft.images)
    for v in draft.variations:
        images.extend(x for x in v.images if x not in images)
    return [{"originalSource": url, "mediaContentType": "IMAGE"} for url in images]


def variant_create(
    sku: str,
    price: Money,
    options: Mapping[str, str],
    barcode: str | None,
    quantity: int,
    location_id: str,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "optionValues": [{"optionName": k, "name": v} for k, v in options.items()],
        "price": price.wire(),
        "inventoryItem": {"sku": sku, "tracked": True},
        "inventoryQuantities": [{"locationId": location_id, "availableQuantity": quantity}],
    }
    if barcode:
        row["barcode"] = barcode
    return row


def variant_update(variant_id: str, price: Money, barcode: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": variant_id, "price": price.wire()}
    if barcode:
        row["barcode"] = barcode
    return row


# ---------------------------------------------------------------------------------- status
def status_document(count: int) -> str:
    """Aliased ``productUpdate`` calls, one per product, in one request."""
    variables = ", ".join(f"$p{n}: ProductUpdateInput!" for n in range(count))
    fields = " ".join(
        f"p{n}: productUpdate(product: $p{n}) {{ product {{ id status }} userErrors {{ field message }} }}"
        for n in range(count)
    )
    return f"mutation SetStatus({variables}) {{ {fields} }}"


def status_cost(count: int) -> int:
    return count * (MUTATION_COST + 1)


# ---------------------------------------------------------------------------------- orders
MONEY = "shopMoney { amount currencyCode }"
LINE_FIELDS = f"id sku title quantity originalUnitPriceSet {{ {MONEY} }}"
LINE_NODE_COST = 3  # line item, price set, shop money


def order_node_cost(line_page: int) -> int:
    # order + total set/money + shipping set/money + address + lines connection with pageInfo
    return 1 + 2 + 2 + 1 + 1 + connection(line_page, LINE_NODE_COST)


def orders_page_size(line_page: int, wanted: int = MAX_INPUT) -> int:
    """The most orders per page whose requested cost stays under the single-query maximum."""
    fits = (min(MAX_QUERY_COST, ORDERS_COST_BUDGET) - 3) // order_node_cost(line_page)
    return max(1, min(wanted, fits))


#: the ship-to address asked with each order (for the packing slip; scalars, so no extra cost)
ADDRESS_FIELDS = "countryCodeV2 name phone address1 address2 city provinceCode zip"


def order_fields(line_page: int) -> str:
    """The fields read of one order (a page of orders, or one order by id)."""
    return (
        "id name createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus currencyCode "
        f"totalPriceSet {{ {MONEY} }} totalShippingPriceSet {{ {MONEY} }} shippingAddress {{ {ADDRESS_FIELDS} }} "
        f"lineItems(first: {line_page}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_FIELDS} }} }}"
    )


def orders_document(page: int, line_page: int) -> str:
    return (
        "query Orders($query: String!, $after: String) "
        f"{{ orders(first: {page}, after: $after, sortKey: UPDATED_AT, query: $query) "
        f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {order_fields(line_page)} }} }} }}"
    )


def order_document(line_page: int) -> str:
    """One order by id (a webhook names it): ``order(id:)`` reads it directly, not through the search index."""
    return f"query Order($id: ID!) {{ order(id: $id) {{ {order_fields(line_page)} }} }}"


def orders_cost(page: int, line_page: int) -> int:
    return 1 + connection(page, order_node_cost(line_page))


MORE_LINES_PAGE = 100
MORE_LINES_DOCUMENT = (
    "query OrderLines($id: ID!, $after: String) "
    f"{{ order(id: $id) {{ id lineItems(first: {MORE_LINES_PAGE}, after: $after) "
    f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_FIELDS} }} }} }} }}"
)
MORE_LINES_COST = 1 + 1 + connection(MORE_LINES_PAGE, LINE_NODE_COST)


def orders_search(since: datetime, until: datetime) -> str:
    return f"updated_at:>'{gql_time(since)}' AND updated_at:<='{gql_time(until)}'"


def order_status(node: Mapping[str, Any]) -> tuple[OrderStatus, str]:
    """(normalized status, raw status) from the financial and fulfillment display states."""
    financial = node.get("displayFinancialStatus") or "PENDING"
    fulfillment = node.get("displayFulfillmentStatus") or "UNFULFILLED"
    cancelled = bool(node.get("cancelledAt"))
    raw = f"{financial}/{fulfillment}" + ("/CANCELLED" if cancelled else "")
    if fulfillment == "RESTOCKED":
        return OrderStatus.RETURNED, raw
    if financial == "REFUNDED":
        return OrderStatus.REFUNDED, raw
    if cancelled or financial in ("VOIDED", "EXPIRED"):
        return OrderStatus.CANCELLED, raw
    if fulfillment == "FULFILLED":
        return OrderStatus.SHIPPED, raw
    if financial in ("PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "AUTHORIZED"):
        return OrderStatus.PAID, raw
    return OrderStatus.PENDING, raw


def shop_money(value: Mapping[str, Any] | None) -> Money | None:
    money = (value or {}).get("shopMoney")
    if not money:
        return None
    return Money(parse_decimal(str(money["amount"])), money["currencyCode"])


def order_line(node: Mapping[str, Any], currency: str) -> OrderLine:
    price = shop_money(node.get("originalUnitPriceSet")) or Money.of("0", currency)
    return OrderLine(
        line_id=node["id"],
        sku=node.get("sku") or "",
        quantity=int(node["quantity"]),
        unit_price=price,
        title=node.get("title"),
    )


def order(node: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> Order:
    total = shop_money(node.get("totalPriceSet"))
    currency = total.currency if total else node["currencyCode"]
    status, raw = order_status(node)
    address = node.get("shippingAddress") or {}
    return Order(
        external_id=node["id"],
        status=status,
        raw_status=raw,
        placed_at=parse_time(node["createdAt"]),
        updated_at=parse_time(node["updatedAt"]),
        currency=currency,
        lines=tuple(order_line(x, currency) for x in lines),
        total=total or Money.of("0", currency),
        shipping=shop_money(node.get("totalShippingPriceSet")),
        ship_country=address.get("countryCodeV2"),
        recipient=Recipient(
            name=str(address.get("name") or ""),
            phone=str(address.get("phone") or ""),
            address1=str(address.get("address1") or ""),
            address2=str(address.get("address2") or ""),
            city=str(address.get("city") or ""),
            state=str(address.get("provinceCode") or ""),
            postal_code=str(address.get("zip") or ""),
            country=str(address.get("countryCodeV2") or ""),
        )
        if address
        else None,
    )


# ---------------------------------------------------------------------------------- locations
LOCATIONS_DOCUMENT = "query Locations { locations(first: 2) { nodes { id name } } }"
LOCATIONS_COST = 1 + connection(2, 1)


def listing_status(status: str | None) -> str:
    return "active" if status == "ACTIVE" else "inactive"


# ---------------------------------------------------------------------------------------- shipping
#: our carrier -> FulfillmentTrackingInput.company. Names on Shopify's "supported tracking companies" list
#: (4PX, China Post, DHL Express, FedEx, UPS, USPS, ...) get clickable tracking URLs; the others are
#: accepted as given and shown unlinked ("Send the tracking company name exactly as written in the list").
CARRIER_CODES: Mapping[str, str] = {
    "SF": "SF Express",
    "YTO": "YTO Express",
    "ZTO": "ZTO Express",
    "STO": "STO Express",
    "YUNDA": "Yunda Express",
    "EMS": "China EMS (ePacket)",
    "CHINAPOST": "China Post",
    "DHL": "DHL Express",
    "FEDEX": "FedEx",
    "UPS": "UPS",
    "USPS": "USPS",
    "4PX": "4PX",
    "YANWEN": "Yanwen",
    "CAINIAO": "Cainiao",
}
FULFILLMENT_ORDERS_PAGE = 5
FULFILLMENT_LINES_PAGE = 50
FULFILLMENT_ORDERS_DOCUMENT = (
    "query FulfillmentOrders($id: ID!) { order(id: $id) { id "
    f"fulfillmentOrders(first: {FULFILLMENT_ORDERS_PAGE}) {{ nodes {{ id status "
    f"lineItems(first: {FULFILLMENT_LINES_PAGE}) {{ nodes {{ id remainingQuantity lineItem {{ id }} }} }} }} }} }} }}"
)
FULFILLMENT_ORDERS_COST = 1 + 1 + connection(FULFILLMENT_ORDERS_PAGE, 1 + connection(FULFILLMENT_LINES_PAGE, 2))
FULFILLMENTS_PAGE = 50
FULFILLMENTS_DOCUMENT = (
    "query Fulfillments($id: ID!) { order(id: $id) { id "
    f"fulfillments(first: {FULFILLMENTS_PAGE}) {{ id trackingInfo(first: 10) {{ number }} }} }} }}"
)
FULFILLMENTS_COST = 1 + 1 + FULFILLMENTS_PAGE * 2
FULFILLMENT_CREATE_DOCUMENT = (
    "mutation Fulfill($fulfillment: FulfillmentInput!) { fulfillmentCreate(fulfillment: $fulfillment) "
    "{ fulfillment { id status } userErrors { field message } } }"
)
FULFILLMENT_CREATE_COST = 10 + 1 + 1
OPEN_FULFILLMENT_ORDERS = ("OPEN", "IN_PROGRESS")


def fulfillment_input(
    shipment: Shipment, company: str, fulfillment_orders: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """FulfillmentInput for a package: each shipped order line's units taken from the open fulfillment
    orders that still hold them (``lineItemsByFulfillmentOrder``), with the tracking company and number.
    ValueError when the fulfillment orders do not hold what the package ships."""
    wanted = {line.line_id: line.quantity for line in shipment.lines}
    pairs: list[dict[str, Any]] = []
    for fo in fulfillment_orders:
        if fo.get("status") not in OPEN_FULFILLMENT_ORDERS:
            continue
        items = []
        for item in (fo.get("lineItems") or {}).get("nodes") or []:
            line_id = str((item.get("lineItem") or {}).get("id"))
            take = min(wanted.get(line_id, 0), int(item.get("remainingQuantity") or 0))
            if take > 0:
                items.append({"id": item["id"], "quantity": take})
                wanted[line_id] -= take
        if items:
            pairs.append({"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items})
    short = {line: qty for line, qty in wanted.items() if qty > 0}
    if short:
        raise ValueError(f"no open fulfillment order holds {short} of order {shipment.order_id}")
    return {
        "lineItemsByFulfillmentOrder": pairs,
        "notifyCustomer": True,
        "trackingInfo": {"company": company, "number": shipment.tracking},
    }


ORDER_CANCEL_DOCUMENT = (
    "mutation CancelOrder($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, "
    "$refundMethod: OrderCancelRefundMethodInput, $notifyCustomer: Boolean, $staffNote: String) "
    "{ orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refundMethod: $refundMethod, "
    "notifyCustomer: $notifyCustomer, staffNote: $staffNote) "
    "{ job { id done } orderCancelUserErrors { code field message } } }"
)
ORDER_CANCEL_COST = 10 + 1 + 1
STAFF_NOTE_MAX = 255  # "Maximum length of 255 characters"


def order_cancel_variables(order_id: str, reason: str) -> dict[str, Any]:
    """orderCancel: refund to the original payment methods, restock, tell the customer; our reason text as
    the staff note (``reason`` itself is an enum: OTHER)."""
    return {
        "orderId": order_id,
        "reason": "OTHER",
        "restock": True,
        "refundMethod": {"originalPaymentMethodsRefund": True},
        "notifyCustomer": True,
        "staffNote": reason[:STAFF_NOTE_MAX],
    }


# ------------------------------------------------------------------------------------------- webhooks
#: our order topics: Shopify's REST-style names (X-Shopify-Topic) -> the WebhookSubscriptionTopic enum
WEBHOOK_TOPICS = {
    "orders/create": "ORDERS_CREATE",
    "orders/updated": "ORDERS_UPDATED",
    "orders/cancelled": "ORDERS_CANCELLED",
}
WEBHOOK_CREATE_DOCUMENT = (
    "mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) "
    "{ webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) "
    "{ webhookSubscription { id topic uri } userErrors { field message } } }"
)
WEBHOOK_CREATE_COST = 10 + 1 + 1
WEBHOOKS_PAGE = 100
WEBHOOKS_DOCUMENT = (
    "query Webhooks($after: String) "
    f"{{ webhookSubscriptions(first: {WEBHOOKS_PAGE}, after: $after) "
    "{ pageInfo { hasNextPage endCursor } nodes { id topic uri } } }"
)
WEBHOOKS_COST = 1 + connection(WEBHOOKS_PAGE, 1)


def webhook_input(url: str) -> dict[str, Any]:
    """WebhookSubscriptionInput: ``uri`` (``callbackUrl`` is deprecated in 2026-07: "Use `uri` instead"), JSON."""
    return {"uri": url, "format": "JSON"}


def webhook_topic(enum: str) -> str:
    """``ORDERS_CREATE`` -> ``orders/create`` (unknown enums stay as they are)."""
    return next((name for name, value in WEBHOOK_TOPICS.items() if value == enum), enum)
