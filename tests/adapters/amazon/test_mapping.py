"""Pure wire mapping: attributes, conditions, language tags, exact money, order normalization."""

from __future__ import annotations

from decimal import Decimal

from listing_sync.adapters.amazon import mapping as m
from listing_sync.adapters.base import ListingDraft, Money, OrderStatus, Variation


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


def test_order_without_totals_yet_is_pending_in_the_channel_currency():
    data = {
        "AmazonOrderId": "111-0000000-0000001",
        "PurchaseDate": "2026-11-02T10:00:00Z",
        "LastUpdateDate": "2026-11-02T10:05:00Z",
        "OrderStatus": "Pending",
    }
    items = [{"ASIN": "B0", "SellerSKU": "A", "OrderItemId": "1", "QuantityOrdered": 3}]
    order = m.order(data, items, "EUR")
    assert order.status == OrderStatus.PENDING and order.currency == "EUR"
    assert order.total == Money.of("0", "EUR") and order.lines[0].quantity == 3
    assert order.ship_country is None


def test_unit_price_is_the_line_total_divided_by_quantity_rounded():
    line = m.order_line(
        {
            "OrderItemId": "9",
            "SellerSKU": "A",
            "QuantityOrdered": 3,
            "ItemPrice": {"CurrencyCode": "USD", "Amount": "10.00"},
        },
        "USD",
    )
    assert line.unit_price == Money.of("3.33", "USD")


def test_every_orders_v0_status_is_mapped():
    assert set(m.ORDER_STATUS) == {
        "PendingAvailability",
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "Canceled",
        "Unfulfillable",
        "InvoiceUnconfirmed",
    }
    assert m.ORDER_STATUS["Shipped"] == OrderStatus.SHIPPED and m.ORDER_STATUS["Unshipped"] == OrderStatus.PAID
