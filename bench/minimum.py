"""The fewest calls each marketplace's documented API allows for a change (the ``minimum_calls`` of the
budget benchmarks), and the words for where extra calls went.

The model: every external id is already bound (no look-ups), each change uses the widest documented
write, token calls are counted once per credential in a row of their own. ``groups`` is the number of
changed SKUs of each product touched (a product = one Taobao item, Shopify product, WooCommerce
variable product, AliExpress product, eBay inventory item group, Amazon parent). Sources: each
adapter's README and ``../shared/reference``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


def _up(count: int, size: int) -> int:
    return -(-count // size) if count > 0 else 0


def calls(kind: str, op: str, groups: Sequence[int]) -> int:
    """Fewest calls for ``op`` on changed SKUs grouped by product (see the module docstring)."""
    skus, products = sum(groups), len(groups)
    if skus == 0:
        return 0
    model = {
        # TOP: item.add carries all SKUs; the assigned sku_ids come back 40 items per item.skus.get.
        # price: taobao.item.sku.price.update per SKU (see NOTES); stock: taobao.skus.quantity.update,
        # 20 SKUs of one item.
        "taobao": {
            "publish": products + _up(products, 40),
            "price": skus,
            "stock": sum(_up(g, 20) for g in groups),
            "delist": products,
            "relist": products,
        },
        # productCreate (options) + productVariantsBulkCreate per product; productVariantsBulkUpdate per
        # product (<= 250 variants); inventorySetQuantities 250 quantities; productUpdate status: 25 aliased
        # mutations per document.
        "shopify": {
            "publish": 2 * products,
            "price": sum(_up(g, 250) for g in groups),
            "stock": _up(skus, 250),
            "delist": _up(products, 25),
            "relist": _up(products, 25),
        },
        # products/batch (100) + one variations/batch per parent; parents' status through products/batch.
        "woocommerce": {
            "publish": _up(products, 100) + products,
            "price": sum(_up(g, 100) for g in groups),
            "stock": sum(_up(g, 100) for g in groups),
            "delist": _up(products, 100),
            "relist": _up(products, 100),
        },
        # feed.submit (2,000 items) + feed.query; batch price/inventory 20 products x 200 SKUs;
        # offline/online 50 product ids.
        "aliexpress": {
            "publish": 2 * _up(products, 2000),
            "price": _up(products, 20),
            "stock": _up(products, 20),
            "delist": _up(products, 50),
            "relist": _up(products, 50),
        },
        # bulkCreateOrReplaceInventoryItem (25) + createOrReplaceInventoryItemGroup + bulkCreateOffer (25)
        # + publishOfferByInventoryItemGroup; bulkUpdatePriceQuantity 25 SKUs; withdraw by group; relist:
        # publish by group or bulkPublishOffer (25 offers), whichever is fewer.
        "ebay": {
            "publish": 2 * _up(skus, 25) + 2 * products,
            "price": _up(skus, 25),
            "stock": _up(skus, 25),
            "delist": products,
            "relist": min(products, _up(skus, 25)),
        },
    }
    if kind == "amazon":
        messages = skus + (products if op == "publish" else 0)  # a parent message per product on publish
        return min(messages, amazon_feed_calls(messages))
    return model.get(kind, {}).get(op, skus)


#: JSON_LISTINGS_FEED: createFeedDocument, upload, createFeed; then getFeed (done), getFeedDocument and
#: the report download. 25,000 messages per feed.
AMAZON_FEED_CALLS = 6
AMAZON_FEED_MAX = 25_000


def amazon_feed_calls(messages: int) -> int:
    return AMAZON_FEED_CALLS * _up(messages, AMAZON_FEED_MAX)


#: orders per page at most: the documented maxima; Shopify's is what a query of at most 1,000 cost points
#: holds with 5 line items inline per order (first: 250 is the connection's cap, the cost cap binds first)
ORDER_PAGE = {"taobao": 100, "shopify": 41, "woocommerce": 100, "aliexpress": 50, "ebay": 200, "amazon": 100}

#: why an order pull reads more pages than the new orders fill (the ``orders`` rows)
PULL_REASONS = {
    "taobao": "use_has_next=false: page 1 read for the total, the pages read backwards from the last and page 1 "
    "re-read at the end, so orders modified while paging are never skipped (TOP's advice; adapter README)",
    "shopify": "pages of 20 orders: each query's requested cost is held at 500 points, half the bucket, so a page "
    "never waits for a full bucket (the documented cap of 1,000 points would hold 41)",
    "aliexpress": "the window is read twice, once for FINISH orders on their own (order.get takes one status)",
}


def order_pull(kind: str, orders: int) -> int:
    """One query per page of the new orders, at least one query per pull."""
    return max(1, math.ceil(orders / ORDER_PAGE.get(kind, 50)))


#: wire operations that are never the write itself, with why they were made
EXTRA = {
    "taobao.skus.custom.get": "SKU ids looked up by merchant code (not bound)",
    "taobao.items.custom.get": "item looked up by merchant code",
    "taobao.item.skus.get": "SKU ids/properties read back from the item",
    "taobao.item.sku.price.update": "one call per SKU: TOP has no price-only multi-SKU write for Taobao items",
    "taobao.trades.sold.increment.get": "order pull before the stock push",
    "graphql productVariants": "variants looked up by SKU",
    "graphql orders": "order pull before the stock push",
    "graphql locations": "location looked up",
    "graphql q0": "inventory levels re-read: the compare-and-set found Shopify's own quantity moved (its sales), "
    "so the stale items were sent once more with it",
    "GET /sell/inventory/v1/offer": "offers looked up by SKU",
    "POST /sell/inventory/v1/bulk_get_inventory_item": "inventory items read before replace",
    "GET /sell/fulfillment/v1/order": "order pull before the stock push",
    "GET /wp-json/wc/v3/orders": "order pull before the stock push",
    "GET /wp-json/wc/v3/products": "product looked up by SKU",
    "aliexpress.solution.order.get": "order pull before the stock push",
    "GET /orders/2026-01-01/orders": "order pull before the stock push",
    "GET /feeds/{id}/feeds/{id}": "getFeed polls: the first after feed_poll_seconds (30 s), then waits doubling "
    "up to 120 s; the emulator's feed is DONE after 60 s, so the poll at 90 s finds it (the minimum counts one)",
    "PATCH /listings/{id}/items/{id}/{id}": "one patchListingsItem per SKU: applied in minutes where a feed takes "
    "~30 (the cost model chooses a feed from ~7,500 messages, or when the day's request budget runs short)",
    "PUT /listings/{id}/items/{id}/{id}": "one putListingsItem per SKU: applied in minutes where a feed takes ~30 "
    "(the cost model chooses a feed from ~7,500 messages, or when the day's request budget runs short)",
    "POST /sell/inventory/v1/offer/{id}/withdraw": "withdrawOffer per SKU instead of per group",
    "GET /orders/{id}/orders": "order pull before the stock push",
}


PULL_LABELS = (
    "taobao.trades.sold.increment.get",
    "graphql orders",
    "GET /sell/fulfillment/v1/order",
    "GET /wp-json/wc/v3/orders",
    "aliexpress.solution.order.get",
    "GET /orders/{id}/orders",
)


def is_pull(name: str) -> bool:
    """An order pull's request (made before a stock push, outside the push plan)."""
    return any(name == label or name.endswith(label) for label in PULL_LABELS)


#: where the minimum itself is one call per item, the reason (shown even at ratio 1.00)
NOTES = {
    ("taobao", "price"): "one taobao.item.sku.price.update per SKU: TOP has no price-only multi-SKU write for "
    "Taobao items; taobao.item.update's sku_prices must come with sku_properties and sku_quantities for the "
    "same SKUs (num = their sum), so it would rewrite every SKU's absolute stock without compare-and-set and "
    "undo sales since the last pull; taobao.item.schema.increment.update's SKU-price XML is not in our "
    "references (adapter README)",
}


def note(kind: str, op: str) -> str | None:
    return NOTES.get((kind, op))


#: the reason for a wire operation's calls in one kind's operation, where it differs from :data:`EXTRA`'s
OP_EXTRA = {
    ("amazon", "delist"): {
        "PATCH /listings/{id}/items/{id}/{id}": "quantity 0 always goes by patchListingsItem, whatever the size: "
        "in a feed it can queue behind listing work for 12 hours or more while the last units oversell "
        "(selling-partner-api-models#4823)",
    },
}

#: access token lifetime in seconds (shared/reference/overseas-apis.md: eBay user token 7200 s, LWA 1 h)
TOKEN_SECONDS = {"ebay": 7200, "amazon": 3600}


def token_calls(kind: str, span_s: float) -> int:
    """The fewest token calls a run spanning ``span_s`` seconds needs: one per token lifetime."""
    return max(1, math.ceil(span_s / TOKEN_SECONDS.get(kind, math.inf)))


def why(kind: str, op: str, counts: Counter[str]) -> str:
    """The calls of a step by wire operation, most first, with the reason for the known extra ones (in an
    ``orders`` row the pull is the operation itself: the reason is its paging)."""
    parts = []
    for name, n in counts.most_common(6):
        special = next((text for key, text in OP_EXTRA.get((kind, op), {}).items() if name.endswith(key)), None)
        if special:
            reason = special
        elif op == "orders" and is_pull(name):
            reason = PULL_REASONS.get(kind, "")
        else:
            reason = next((text for key, text in EXTRA.items() if name == key or name.endswith(key)), "")
        parts.append(f"{n} x {name}" + (f" ({reason})" if reason else ""))
    rest = sum(counts.values()) - sum(n for _, n in counts.most_common(6))
    if rest:
        parts.append(f"{rest} other")
    return "; ".join(parts) or "no calls"


def explain(kind: str, op: str, calls: int, least: int, counts: Counter[str]) -> str | None:
    """A row's ``why``: the calls by wire operation where they are above the minimum (or there is no
    minimum), else the reason a minimum of one call per item is what the API allows; None otherwise."""
    if least == 0 or calls > least:
        return why(kind, op, counts)
    return note(kind, op) if calls else None
