"""Pure wire mapping: attributes, conditions, language tags, exact money, order normalization."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from listing_sync.adapters.amazon import mapping as m
from listing_sync.adapters.base import ListingDraft, Money, OrderStatus, Variation

from tests.adapters.amazon.test_spec import SPECS


def test_dumps_writes_decimals_as_exact_json_numbers():
    body = {"a": Decimal("19.99"), "b": [Decimal("1200"), Decimal("0.10")], "c": "19.99", "d": 3}
    assert m.dumps(body) == b'{"a":19.99,"b":[1200,0.10],"c":"19.99","d":3}'


def test_conditions_and_language_tags():
    assert [m.condition_type(c) for c in ("new", "used", "refurbished", "used_like_new")] == [
        "new_new",
        "used_good",
        "refurbished_refurbished",
        "used_like_new",
    ]
    assert m.language_tag("en", "A1F83G8C2ARO7P") == "en_GB"
    assert m.language_tag("de", "A1PA6795UKMFR9") == "de_DE"
    assert m.language_tag("fr-CA", "A2EUQ1WTGCTBG2") == "fr_CA"


def test_variation_theme_from_the_draft_and_not_copied_to_children():
    draft = ListingDraft(
        "TEE",
        "Tee",
        "",
        "SHIRT",
        Money.of("1", "USD"),
        0,
        attributes={"variation_theme": ("SIZE_NAME/COLOR_NAME",), "material": ("cotton",)},
        variations=(Variation("TEE-S", Money.of("1", "USD"), 1, {"size_name": "S", "color_name": "Red"}),),
    )
    (parent_sku, parent), (child_sku, child) = m.put_bodies(draft, "ATVPDKIKX0DER")
    assert (parent_sku, child_sku) == ("TEE", "TEE-S")
    assert parent["attributes"]["variation_theme"] == [{"name": "SIZE_NAME/COLOR_NAME"}]
    assert "variation_theme" not in child["attributes"]
    assert child["attributes"]["material"] == [{"value": "cotton", "marketplace_id": "ATVPDKIKX0DER"}]
    assert "product_description" not in parent["attributes"]  # empty description is left out


def test_order_without_proceeds_yet_is_pending_in_the_channel_currency():
    data = {
        "orderId": "111-0000000-0000001",
        "createdTime": "2026-11-02T10:00:00Z",
        "lastUpdatedTime": "2026-11-02T10:05:00Z",
        "salesChannel": {"channelName": "AMAZON"},
        "fulfillment": {"fulfillmentStatus": "PENDING"},
        "orderItems": [{"orderItemId": "1", "quantityOrdered": 3, "product": {"asin": "B0", "sellerSku": "A"}}],
    }
    order = m.order(data, "EUR")
    assert order.status == OrderStatus.PENDING and order.currency == "EUR"
    assert order.total == Money.of("0", "EUR") and order.lines[0].quantity == 3
    assert order.ship_country is None and order.shipping is None


def test_unit_price_is_taken_as_the_price_of_one_unit():
    line = m.order_line(
        {
            "orderItemId": "9",
            "quantityOrdered": 3,
            "product": {"sellerSku": "A", "price": {"unitPrice": {"currencyCode": "USD", "amount": "3.33"}}},
        },
        "USD",
    )
    assert line.unit_price == Money.of("3.33", "USD") and line.quantity == 3 and line.sku == "A"


def test_a_line_without_a_seller_sku_falls_back_to_the_asin():
    line = m.order_line({"orderItemId": "9", "quantityOrdered": 1, "product": {"asin": "B0X"}}, "JPY")
    assert line.sku == "B0X" and line.unit_price == Money.of("0", "JPY")


def test_shipping_sums_the_shipping_breakdowns():
    data = {
        "orderId": "1",
        "createdTime": "2026-11-02T10:00:00Z",
        "lastUpdatedTime": "2026-11-02T10:05:00Z",
        "proceeds": {
            "grandTotal": {"currencyCode": "JPY", "amount": "1700"},
            "breakdowns": [
                {"type": "ITEM", "subtotal": {"currencyCode": "JPY", "amount": "1200"}},
                {"type": "SHIPPING", "subtotal": {"currencyCode": "JPY", "amount": "300"}},
                {"type": "SHIPPING", "subtotal": {"currencyCode": "JPY", "amount": "200"}},
            ],
        },
    }
    order = m.order(data, "USD")
    assert order.currency == "JPY" and order.total == Money.of("1700", "JPY")
    assert order.shipping == Money.of("500", "JPY")


@pytest.mark.skipif(not SPECS.is_dir(), reason=f"official Amazon models not found at {SPECS}")
def test_every_v2026_fulfillment_status_is_mapped():
    spec = json.loads((SPECS / "orders_2026-01-01.json").read_text(encoding="utf-8"))
    assert set(m.ORDER_STATUS) == set(spec["definitions"]["FulfillmentStatus"]["enum"])
    assert m.ORDER_STATUS["SHIPPED"] == OrderStatus.SHIPPED and m.ORDER_STATUS["UNSHIPPED"] == OrderStatus.PAID
    assert m.ORDER_STATUS["CANCELLED"] == OrderStatus.CANCELLED
