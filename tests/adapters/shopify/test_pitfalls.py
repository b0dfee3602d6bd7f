"""Known Shopify pitfalls from the reference (section 1 and pain points P1-P6) as regression tests."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    ListingDraft,
    ListingRef,
    Money,
    Operation,
    OrderCursor,
    OrderStatus,
    PriceUpdate,
    StockUpdate,
)
from listing_sync.adapters.shopify import mapping

from .conftest import LOCATION, TOKEN, endpoint, flat, gql_ok, sent


def ref(n: int) -> ListingRef:
    return ListingRef(
        f"S{n}",
        "gid://shopify/Product/1",
        {
            "product_id": "gid://shopify/Product/1",
            "variant_id": f"gid://shopify/ProductVariant/{n}",
            "inventory_item_id": f"gid://shopify/InventoryItem/{n}",
        },
    )


def stale(pos: int, field: str = "changeFromQuantity") -> dict:
    return {
        "inventorySetQuantities": {
            "inventoryAdjustmentGroup": None,
            "userErrors": [
                {
                    "code": "CHANGE_FROM_QUANTITY_STALE",
                    "field": ["input", "quantities", str(pos), field],
                    "message": "The specified changeFromQuantity does not match the current quantity.",
                }
            ],
        }
    }


NONE_FOUND = {"productVariants": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}}
APPLIED = {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "g"}, "userErrors": []}}


def test_stale_compare_rereads_that_item_and_resends_once(build):
    adapter = build()
    levels = {
        "q0": {
            "id": "gid://shopify/InventoryItem/2",
            "inventoryLevel": {"quantities": [{"name": "available", "quantity": 6}]},
        }
    }
    updates = [StockUpdate("S1", 5, ref=ref(1), expected=5), StockUpdate("S2", 3, ref=ref(2), expected=8)]
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(stale(1)), gql_ok(levels), gql_ok(APPLIED)])
        results = adapter.push_stock(updates)
    assert [r.ok for r in results] == [True, True]
    first, read, resend = (sent(c.request) for c in route.calls)
    assert flat(read["query"]) == (
        "query Levels($i0: ID!, $l0: ID!) { q0: inventoryItem(id: $i0) { id inventoryLevel(locationId: $l0) "
        '{ quantities(names: ["available"]) { name quantity } } } }'
    )
    assert read["variables"] == {"i0": "gid://shopify/InventoryItem/2", "l0": LOCATION}
    # the whole input was refused, so the clean item goes again; the stale one with what Shopify holds now
    assert resend["variables"]["input"]["quantities"] == [
        {
            "inventoryItemId": "gid://shopify/InventoryItem/2",
            "locationId": LOCATION,
            "quantity": 3,
            "changeFromQuantity": 6,
        },
        {
            "inventoryItemId": "gid://shopify/InventoryItem/1",
            "locationId": LOCATION,
            "quantity": 5,
            "changeFromQuantity": 5,
        },
    ]
    # a re-send is a new request, so it gets its own idempotency key
    assert first["variables"]["idempotencyKey"] == "key-1" and resend["variables"]["idempotencyKey"] == "key-2"


def test_stale_twice_fails_retryable_and_the_rest_are_not_lost(build):
    adapter = build()
    levels = {"q0": {"id": "x", "inventoryLevel": {"quantities": [{"name": "available", "quantity": 6}]}}}
    updates = [StockUpdate("S1", 5, ref=ref(1), expected=5), StockUpdate("S2", 3, ref=ref(2), expected=8)]
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(stale(1)), gql_ok(levels), gql_ok(stale(0))])
        results = adapter.push_stock(updates)
    assert route.call_count == 3  # bounded: one re-send only
    assert not results[1].ok and results[1].retryable and results[1].code == "CHANGE_FROM_QUANTITY_STALE"
    assert not results[0].ok and results[0].retryable and results[0].code == "batch_rejected"


def test_compare_quantity_stale_on_2025_10(build):
    adapter = build("2025-10")
    levels = {"q0": {"id": "x", "inventoryLevel": {"quantities": [{"name": "available", "quantity": 1}]}}}
    err = stale(0, "compareQuantity")
    err["inventorySetQuantities"]["userErrors"][0]["code"] = "COMPARE_QUANTITY_STALE"
    with respx.mock:
        route = respx.post(endpoint("2025-10")).mock(side_effect=[gql_ok(err), gql_ok(levels), gql_ok(APPLIED)])
        [result] = adapter.push_stock([StockUpdate("S1", 4, ref=ref(1), expected=2)])
    assert result.ok
    assert sent(route.calls[2].request)["variables"]["input"]["quantities"][0]["compareQuantity"] == 1


def test_other_user_errors_fail_that_item_and_resend_the_rest(build):
    adapter = build()
    refused = {
        "inventorySetQuantities": {
            "inventoryAdjustmentGroup": None,
            "userErrors": [
                {
                    "code": "ITEM_NOT_STOCKED_AT_LOCATION",
                    "field": ["input", "quantities", "0", "locationId"],
                    "message": "The specified inventory item is not stocked at the location.",
                }
            ],
        }
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[gql_ok(refused), gql_ok(APPLIED)])
        results = adapter.push_stock([StockUpdate("S1", 1, ref=ref(1)), StockUpdate("S2", 2, ref=ref(2))])
    assert results[0].code == "ITEM_NOT_STOCKED_AT_LOCATION" and not results[0].retryable
    assert results[1].ok
    assert [q["inventoryItemId"] for q in sent(route.calls[1].request)["variables"]["input"]["quantities"]] == [
        "gid://shopify/InventoryItem/2"
    ]


def test_251_quantities_are_split_client_side(build):
    adapter = build()
    updates = [StockUpdate(f"S{n}", 1, ref=ref(n)) for n in range(251)]
    assert [len(c) for c in adapter.chunks(Operation.STOCK, updates)] == [250, 1]
    with respx.mock:
        route = respx.post(endpoint()).mock(return_value=gql_ok(APPLIED))
        results = adapter.push_stock(updates)
    assert [len(sent(c.request)["variables"]["input"]["quantities"]) for c in route.calls] == [250, 1]
    assert len(results) == 251 and all(r.ok for r in results)


def test_price_chunks_never_exceed_250_variants_of_one_product(build):
    adapter = build()
    updates = [PriceUpdate(f"S{n}", Money.of("1", "USD"), ref=ref(n)) for n in range(300)]
    assert [len(c) for c in adapter.chunks(Operation.PRICE, updates)] == [250, 50]


def test_create_retried_after_502_many_variants(build):
    """P4: productCreate with many variants answered 502; 5xx is retried by the HTTP layer."""
    adapter = build()
    created = {
        "productCreate": {
            "product": {"id": "gid://shopify/Product/3", "status": "ACTIVE", "variants": {"nodes": []}},
            "userErrors": [],
        }
    }
    bulk = {
        "productVariantsBulkCreate": {
            "productVariants": [{"id": "v", "sku": "ONE", "inventoryItem": {"id": "i"}}],
            "userErrors": [],
        }
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(
            side_effect=[gql_ok(NONE_FOUND), httpx.Response(502, text="Bad Gateway"), gql_ok(created), gql_ok(bulk)]
        )
        [result] = adapter.publish([ListingDraft("ONE", "One", "d", "", Money.of("2", "USD"), 1)])
    assert result.ok and route.call_count == 4
    # the simple product is one variant of the default option, with the standalone variant replaced
    variables = sent(route.calls[3].request)["variables"]
    assert variables["variants"][0]["optionValues"] == [{"optionName": "Title", "name": "Default Title"}]
    assert result.ref.get("variant_id") == "v" and result.ref.get("inventory_item_id") == "i"


def order(n: int, **fields) -> dict:
    base = {
        "id": f"gid://shopify/Order/{n}",
        "name": f"#{n}",
        "createdAt": "2026-03-10T10:00:00Z",
        "updatedAt": "2026-03-10T11:00:00Z",
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "currencyCode": "USD",
        "totalPriceSet": {"shopMoney": {"amount": "10.00", "currencyCode": "USD"}},
        "totalShippingPriceSet": {"shopMoney": {"amount": "0.00", "currencyCode": "USD"}},
        "shippingAddress": None,
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "id": "gid://shopify/LineItem/1",
                    "sku": None,  # product deleted since: no variant, no SKU
                    "title": "Old thing",
                    "quantity": 1,
                    "originalUnitPriceSet": {"shopMoney": {"amount": "10.00", "currencyCode": "USD"}},
                }
            ],
        },
    }
    return {**base, **fields}


def test_one_bad_order_does_not_stall_the_watermark(build, caplog):
    """P5: an order referencing a deleted product, or one that cannot be read, must not block the rest."""
    adapter = build()
    nodes = [order(1), order(2, createdAt=None), order(3)]
    page = {"orders": {"pageInfo": {"hasNextPage": False, "endCursor": "E"}, "nodes": nodes}}
    with respx.mock, caplog.at_level(logging.ERROR, logger="adapters.shopify"):
        respx.post(endpoint()).mock(return_value=gql_ok(page))
        result = adapter.orders_since(OrderCursor(datetime(2026, 3, 9, tzinfo=UTC)))
    assert [o.external_id for o in result.orders] == ["gid://shopify/Order/1", "gid://shopify/Order/3"]
    assert result.orders[0].lines[0].sku == "" and result.orders[0].ship_country is None
    assert result.done
    (problem,) = result.problems  # told on the page; the syncer records it in the pull's run
    assert "orders node gid://shopify/Order/2 cannot be read" in problem.message


def test_orders_older_than_60_days_warn_without_read_all_orders(build, caplog):
    adapter = build()
    empty = {"orders": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}}
    with respx.mock, caplog.at_level(logging.WARNING, logger="adapters.shopify"):
        respx.post(endpoint()).mock(return_value=gql_ok(empty))
        adapter.orders_since(OrderCursor(datetime(2025, 12, 1, tzinfo=UTC)))
    assert "read_all_orders" in caplog.text
    caplog.clear()
    granted = build(read_all_orders=True)
    with respx.mock, caplog.at_level(logging.WARNING, logger="adapters.shopify"):
        respx.post(endpoint()).mock(return_value=gql_ok(empty))
        granted.orders_since(OrderCursor(datetime(2025, 12, 1, tzinfo=UTC)))
    assert "read_all_orders" not in caplog.text


@pytest.mark.parametrize(
    ("financial", "fulfillment", "cancelled", "status"),
    [
        ("PENDING", "UNFULFILLED", None, OrderStatus.PENDING),
        ("AUTHORIZED", "UNFULFILLED", None, OrderStatus.PAID),
        ("PAID", "UNFULFILLED", None, OrderStatus.PAID),
        ("PARTIALLY_PAID", "PARTIALLY_FULFILLED", None, OrderStatus.PAID),
        ("PAID", "FULFILLED", None, OrderStatus.SHIPPED),
        ("PAID", "UNFULFILLED", "2026-03-10T11:00:00Z", OrderStatus.CANCELLED),
        ("VOIDED", "UNFULFILLED", None, OrderStatus.CANCELLED),
        ("REFUNDED", "UNFULFILLED", "2026-03-10T11:00:00Z", OrderStatus.REFUNDED),
        ("PARTIALLY_REFUNDED", "FULFILLED", None, OrderStatus.SHIPPED),
        ("REFUNDED", "RESTOCKED", None, OrderStatus.RETURNED),
    ],
)
def test_order_status_mapping(financial, fulfillment, cancelled, status):
    node = {"displayFinancialStatus": financial, "displayFulfillmentStatus": fulfillment, "cancelledAt": cancelled}
    got, raw = mapping.order_status(node)
    assert got is status
    assert raw.startswith(f"{financial}/{fulfillment}")


def test_zero_decimal_currency_prices_are_whole_numbers(build):
    adapter = build(currency="JPY")
    body = {
        "productVariantsBulkUpdate": {"productVariants": [{"id": "gid://shopify/ProductVariant/1"}], "userErrors": []}
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(return_value=gql_ok(body))
        adapter.push_prices([PriceUpdate("S1", Money.of("1200.4", "JPY"), ref=ref(1))])
    assert sent(route.calls.last.request)["variables"]["variants"] == [
        {"id": "gid://shopify/ProductVariant/1", "price": "1200"}
    ]


def test_ambiguous_sku_is_refused_not_guessed(build):
    adapter = build()
    node = {
        "sku": "DUP",
        "price": "1.00",
        "compareAtPrice": None,
        "inventoryQuantity": 0,
        "product": {"id": "p", "title": "t", "status": "ACTIVE"},
        "inventoryItem": {"id": "i"},
    }
    page = {
        "productVariants": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [{**node, "id": "v1"}, {**node, "id": "v2"}],
        }
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(return_value=gql_ok(page))
        [result] = adapter.push_stock([StockUpdate("DUP", 1)])
    assert route.call_count == 1
    assert not result.ok and "2 Shopify variants" in result.message


def test_search_values_are_quoted():
    assert mapping.sku_query(["A'1", "B"]) == "sku:'A\\'1' OR sku:'B'"


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("IDEMPOTENCY_CONCURRENT_REQUEST", True),
        ("IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED", True),
        ("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", False),
        ("INVALID_REASON", False),
    ],
)
def test_batch_level_user_errors_fail_every_item(build, code, retryable):
    adapter = build()
    body = {
        "inventorySetQuantities": {
            "inventoryAdjustmentGroup": None,
            "userErrors": [{"code": code, "field": None, "message": "refused"}],
        }
    }
    with respx.mock:
        route = respx.post(endpoint()).mock(return_value=gql_ok(body))
        results = adapter.push_stock([StockUpdate("S1", 1, ref=ref(1)), StockUpdate("S2", 2, ref=ref(2))])
    assert route.call_count == 1
    assert [(r.ok, r.code, r.retryable) for r in results] == [(False, code, retryable)] * 2


def test_emulator_refuses_a_reused_key_with_other_parameters(build):
    from listing_sync.adapters.shopify.emulator import ShopifyEmulator

    emu = ShopifyEmulator(credentials={"access_token": TOKEN})
    adapter = build(transport=emu.transport())
    [mug] = adapter.publish([ListingDraft("MUG", "Mug", "m", "", Money.of("1", "USD"), 5)])
    adapter.new_key = lambda: "fixed"
    assert adapter.push_stock([StockUpdate("MUG", 3, ref=mug.ref, expected=5)])[0].ok
    [again] = adapter.push_stock([StockUpdate("MUG", 4, ref=mug.ref, expected=3)])
    assert again.code == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH" and emu.quantity("MUG") == 3


def test_more_than_250_variations_go_in_several_bulk_calls(build):
    from listing_sync.adapters.base import Variation

    adapter = build()
    draft = ListingDraft(
        "BIG",
        "Big",
        "d",
        "",
        Money.of("1", "USD"),
        0,
        variations=tuple(Variation(f"B{n}", Money.of("1", "USD"), 1, {"N": str(n)}) for n in range(300)),
    )
    created = {
        "productCreate": {
            "product": {"id": "gid://shopify/Product/5", "status": "ACTIVE", "variants": {"nodes": []}},
            "userErrors": [],
        }
    }

    def bulk(skus):
        nodes = [{"id": f"v{s}", "sku": s, "inventoryItem": {"id": f"i{s}"}} for s in skus]
        return gql_ok({"productVariantsBulkCreate": {"productVariants": nodes, "userErrors": []}})

    first, rest = [f"B{n}" for n in range(250)], [f"B{n}" for n in range(250, 299)]  # B299 never came back
    with respx.mock:
        lookups = [gql_ok(NONE_FOUND)] * 6  # 300 SKUs, 50 per search
        route = respx.post(endpoint()).mock(side_effect=[*lookups, gql_ok(created), bulk(first), bulk(rest)])
        [result] = adapter.publish([draft])
    calls = [sent(c.request)["variables"] for c in route.calls[7:]]
    assert [(len(c["variants"]), c["strategy"]) for c in calls] == [
        (250, "REMOVE_STANDALONE_VARIANT"),
        (50, "DEFAULT"),
    ]
    assert not result.ok and "B299" in result.message
    assert result.ref.get("variant_id/B298") == "vB298"  # what was created is still mapped
