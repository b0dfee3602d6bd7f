"""Pure wire mapping, options and registry wiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import respx
from listing_sync.adapters.base import ListingRef, Money, PriceUpdate, StockUpdate
from listing_sync.adapters.ebay import mapping as m
from listing_sync.adapters.emulator import EmulatorHub
from listing_sync.adapters.registry import build_adapter, option_problems


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (datetime(2024, 5, 15, 8, 25, 43, 511000, tzinfo=UTC), "2024-05-15T08:25:43.511Z"),
        (datetime(2024, 5, 15, 8, 25, 43, 511999, tzinfo=UTC), "2024-05-15T08:25:43.511Z"),
        (datetime(2024, 5, 15, 16, 0, tzinfo=timezone(timedelta(hours=8))), "2024-05-15T08:00:00.000Z"),
    ],
)
def test_iso_ms_is_utc_with_milliseconds(value, wire):
    assert m.iso_ms(value) == wire


def test_parse_time_is_aware_utc():
    assert m.parse_time("2024-05-15T08:25:43.511Z") == datetime(2024, 5, 15, 8, 25, 43, 511000, tzinfo=UTC)


def test_amounts_are_strings_in_minor_units():
    assert m.amount(Money.of("12.5", "USD")) == {"value": "12.50", "currency": "USD"}
    assert m.amount(Money.of("1200", "JPY")) == {"value": "1200", "currency": "JPY"}
    assert m.money(
        {"value": "9.99", "currency": "EUR", "convertedFromValue": "11", "convertedFromCurrency": "USD"}
    ) == Money(Decimal("9.99"), "EUR")
    assert m.money({}) is None


@pytest.mark.parametrize(
    ("ours", "ebay"), [("new", "NEW"), ("refurbished", "SELLER_REFURBISHED"), ("USED_VERY_GOOD", "USED_VERY_GOOD")]
)
def test_condition(ours, ebay):
    assert m.condition(ours) == ebay


def test_unknown_condition_is_refused():
    with pytest.raises(ValueError, match="no eBay equivalent"):
        m.condition("mint")


@pytest.mark.parametrize(
    ("barcode", "fields"),
    [
        ("012345678905", {"upc": ["012345678905"]}),
        ("4006381333931", {"ean": ["4006381333931"]}),
        ("ABC", {}),
        (None, {}),
    ],
)
def test_barcodes(barcode, fields):
    assert m.barcode_fields(barcode) == fields


def test_bullets_become_an_escaped_list():
    assert m.description_html("<p>x</p>", ("a & b",)) == "<p>x</p><ul><li>a &amp; b</li></ul>"


def test_problem_reads_every_error():
    p = m.problem(
        [{"errorId": 25002, "message": "bad", "parameters": [{"name": "sku", "value": "A"}]}, {"errorId": 25003}]
    )
    assert p.code == "25002" and p.error_ids == (25002, 25003)
    assert p.message == "25002: bad (sku=A); 25003: no message"


def test_unit_price_from_line_cost():
    data = {
        "orderId": "1",
        "creationDate": "2026-01-01T00:00:00.000Z",
        "pricingSummary": {"total": {"value": "10.00", "currency": "USD"}},
        "lineItems": [{"lineItemId": "9", "quantity": 3, "lineItemCost": {"value": "10.00", "currency": "USD"}}],
    }
    order = m.order(data)
    assert order.lines[0].unit_price == Money.of("3.33", "USD")
    assert order.lines[0].sku == "ebay-item:None"  # a line without a SKU is still visible, never matched
    assert order.updated_at == order.placed_at


def test_options_refuse_unknown_keys(channel_factory):
    channel = channel_factory("ebay", options={"marketplace": "EBAY_US", "price_quantity_batch": 30})
    problems = dict(option_problems(channel))
    assert "marketplace" in problems and "price_quantity_batch" in problems


def test_registry_builds_the_adapter_on_the_emulator_hub(channel_factory):
    channel = channel_factory(
        "ebay",
        base_url="emulator:",
        credentials={
            "client_id": "emulator-client_id",
            "client_secret": "emulator-client_secret",
            "refresh_token": "emulator-refresh_token",
        },
        options={
            "merchant_location_key": "W",
            "fulfillment_policy_id": "F",
            "payment_policy_id": "P",
            "return_policy_id": "R",
        },
    )
    hub = EmulatorHub()
    adapter = build_adapter(channel, hub=hub, sleep=lambda s: None)
    from listing_sync.adapters.base import ListingDraft

    draft = ListingDraft("A", "t", "d", "1", Money.of("1", "USD"), 2, images=("https://img.example.com/a.jpg",))
    assert adapter.publish([draft])[0].ok
    assert hub.get(channel).state["items"]["A"]["availability"]["shipToLocationAvailability"]["quantity"] == 2


def test_two_pushes_of_one_listing_in_one_call_share_the_budget(adapter, api: respx.MockRouter):
    route = api.post("https://api.ebay.com/sell/inventory/v1/bulk_update_price_quantity").respond(
        200, json={"responses": [{"offerId": "O", "statusCode": 200}]}
    )
    ref = ListingRef("A", None, {"offer_id": "O"})
    adapter.budget.spend("A", 247)  # 3 left, 1 kept back
    results = adapter.push_prices([PriceUpdate("A", Money.of("1", "USD"), ref)] * 3)
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].code == "revision_cap"
    assert adapter.push_stock([StockUpdate("A", 0, ref)])[0].ok
    assert route.call_count == 3  # the same SKU twice never shares a call
