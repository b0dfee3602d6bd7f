"""Regression tests for eBay's known pitfalls (reference section 1.6 and the issue)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest
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
    TransientError,
)

INV = "https://api.ebay.com/sell/inventory/v1"
FUL = "https://api.ebay.com/sell/fulfillment/v1"
BULK = f"{INV}/bulk_update_price_quantity"


def usd(value: str) -> Money:
    return Money.of(value, "USD")


def ref(sku: str) -> ListingRef:
    return ListingRef(sku, None, {"offer_id": f"O-{sku}"})


def ok_for_all(request: httpx.Request) -> httpx.Response:
    requests = json.loads(request.content)["requests"]
    return httpx.Response(
        200, json={"responses": [{"offerId": o["offerId"], "statusCode": 200} for r in requests for o in r["offers"]]}
    )


def test_publish_retry_never_creates_a_second_offer(adapter, api: respx.MockRouter):
    """A publish that dies after the offer was created finds that offer by SKU on replay (a new draft is
    not looked up the first time: the binder has no id for it and nothing to find)."""
    offers = api.get(f"{INV}/offer")
    offers.side_effect = [
        httpx.Response(
            200,
            json={
                "offers": [
                    {
                        "offerId": "77",
                        "sku": "A1",
                        "marketplaceId": "EBAY_US",
                        "format": "FIXED_PRICE",
                        "status": "UNPUBLISHED",
                    }
                ]
            },
        ),
    ]
    api.post(f"{INV}/bulk_get_inventory_item").respond(200, json={"responses": []})
    api.post(f"{INV}/bulk_create_or_replace_inventory_item").respond(
        200, json={"responses": [{"sku": "A1", "statusCode": 200}]}
    )
    create = api.post(f"{INV}/bulk_create_offer").respond(
        200, json={"responses": [{"sku": "A1", "offerId": "77", "statusCode": 200}]}
    )
    update = api.put(f"{INV}/offer/77").respond(204)
    publish = api.post(f"{INV}/bulk_publish_offer")
    publish.side_effect = [httpx.Response(500, json={"errors": [{"errorId": 25001}]})] * 5 + [
        httpx.Response(200, json={"responses": [{"offerId": "77", "statusCode": 200, "listingId": "L77"}]})
    ]
    draft = ListingDraft("A1", "Mug", "d", "20625", usd("9.99"), 5, images=("https://img.example.com/1.jpg",))

    with pytest.raises(TransientError):
        adapter.publish([draft])
    [result] = adapter.publish([draft])

    assert result.ok and result.ref.ids["offer_id"] == "77"
    assert create.call_count == 1
    assert update.call_count == 1
    assert offers.call_count == 1  # only on the replay


def test_an_offer_that_exists_already_is_adopted_not_duplicated(adapter, api: respx.MockRouter):
    """Another instance's publish whose result was lost: createOffer answers 25002, so the offer is looked
    up by SKU then and updated."""
    api.post(f"{INV}/bulk_get_inventory_item").respond(200, json={"responses": []})
    api.post(f"{INV}/bulk_create_or_replace_inventory_item").respond(
        200, json={"responses": [{"sku": "A1", "statusCode": 200}]}
    )
    exists = {"errorId": 25002, "message": "Any User error. Offer entity already exists."}
    create = api.post(f"{INV}/bulk_create_offer").respond(
        200, json={"responses": [{"sku": "A1", "statusCode": 400, "errors": [exists]}]}
    )
    existing = {
        "offerId": "78",
        "sku": "A1",
        "marketplaceId": "EBAY_US",
        "format": "FIXED_PRICE",
        "status": "UNPUBLISHED",
    }
    lookup = api.get(f"{INV}/offer").respond(200, json={"offers": [existing]})
    update = api.put(f"{INV}/offer/78").respond(204)
    api.post(f"{INV}/bulk_publish_offer").respond(
        200, json={"responses": [{"offerId": "78", "statusCode": 200, "listingId": "L78"}]}
    )
    draft = ListingDraft("A1", "Mug", "d", "20625", usd("9.99"), 5, images=("https://img.example.com/1.jpg",))

    [result] = adapter.publish([draft])

    assert result.ok and result.ref.ids["offer_id"] == "78"
    assert (create.call_count, lookup.call_count, update.call_count) == (1, 1, 1)
    assert lookup.calls[0].request.url.params["sku"] == "A1"


def test_orders_filter_is_lastmodifieddate_alone_and_encoded(adapter, api: respx.MockRouter):
    api.get(f"{FUL}/order").respond(200, json={"orders": [], "total": 0})
    adapter.orders_since(OrderCursor(datetime(2026, 11, 27, tzinfo=UTC)))
    raw = api.calls.last.request.url.raw_path.decode()
    assert "creationdate" not in raw  # with both, eBay would silently use creationdate only
    assert "lastmodifieddate:%5B" in raw and "%5D&" in raw
    assert "[" not in raw and "]" not in raw
    assert "limit=200&" in raw  # above 200 eBay answers 31100 instead of clamping


def test_same_sku_twice_goes_to_separate_calls_in_order(adapter, api: respx.MockRouter):
    route = api.post(BULK).mock(side_effect=ok_for_all)
    results = adapter.push_stock(
        [StockUpdate("A", 5, ref("A")), StockUpdate("B", 1, ref("B")), StockUpdate("A", 3, ref("A"))]
    )
    assert all(r.ok for r in results)
    sent = [
        [(r["sku"], r["shipToLocationAvailability"]["quantity"]) for r in json.loads(c.request.content)["requests"]]
        for c in route.calls
    ]
    assert sent == [[("A", 5), ("B", 1)], [("A", 3)]]  # the later value is applied last


def test_writes_to_one_sku_are_never_concurrent(adapter, api: respx.MockRouter):
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    guard = threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        skus = [r["sku"] for r in json.loads(request.content)["requests"]]
        with guard:
            for s in skus:
                active[s] = active.get(s, 0) + 1
                peak[s] = max(peak.get(s, 0), active[s])
        time.sleep(0.02)
        with guard:
            for s in skus:
                active[s] -= 1
        return ok_for_all(request)

    api.post(BULK).mock(side_effect=slow)
    adapter.push_stock([StockUpdate("A", 0, ref("A"))])  # token fetched before the race
    threads = [
        threading.Thread(
            target=adapter.push_stock, args=([StockUpdate("A", n, ref("A")), StockUpdate(f"X{n}", n, ref(f"X{n}"))],)
        )
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak["A"] == 1


def test_multi_sku_call_refused_falls_back_to_one_sku_per_call(adapter, api: respx.MockRouter):
    def one_sku_only(request: httpx.Request) -> httpx.Response:
        requests = json.loads(request.content)["requests"]
        if len(requests) > 1:
            return httpx.Response(400, json={"errors": [{"errorId": 25002, "message": "Only one SKU per call"}]})
        if requests[0]["offers"][0]["offerId"] == "O-B":
            return httpx.Response(400, json={"errors": [{"errorId": 25003, "message": "The price is invalid."}]})
        return ok_for_all(request)

    route = api.post(BULK).mock(side_effect=one_sku_only)
    results = adapter.push_prices([PriceUpdate(s, usd("5"), ref(s)) for s in ("A", "B", "C")])
    assert [(r.ok, r.code) for r in results] == [(True, None), (False, "25003"), (True, None)]
    assert [len(json.loads(c.request.content)["requests"]) for c in route.calls] == [3, 1, 1, 1]


def test_price_quantity_batch_option_is_the_declared_limit(make_adapter, api: respx.MockRouter):
    adapter = make_adapter(options={"price_quantity_batch": 1})
    assert adapter.limits.batch(Operation.PRICE) == 1 and adapter.limits.batch(Operation.STOCK) == 1
    assert type(adapter).limits.price == 25  # the class keeps the documented maximum
    route = api.post(BULK).mock(side_effect=ok_for_all)
    adapter.push_prices([PriceUpdate(s, usd("5"), ref(s)) for s in ("A", "B")])
    assert route.call_count == 2


def test_revision_budget_keeps_room_for_quantity_to_zero(adapter, api: respx.MockRouter):
    route = api.post(BULK).mock(side_effect=ok_for_all)
    assert adapter.revision_budget("A") == 250
    adapter.budget.spend("A", 248)
    assert adapter.push_prices([PriceUpdate("A", usd("5"), ref("A"))])[0].ok  # 249 used, 1 left
    assert adapter.revision_budget("A") == 1
    [refused] = adapter.push_stock([StockUpdate("A", 4, ref("A"))])
    assert (refused.ok, refused.code, refused.retryable) == (False, "revision_cap", True)
    assert refused.retry_after == 20 * 3600  # 12:00 UTC = 04:00 in Los Angeles; eBay's day ends at midnight there
    assert adapter.push_stock([StockUpdate("A", 0, ref("A"))])[0].ok  # the last revision takes it off sale
    assert adapter.revision_budget("A") == 0
    assert adapter.push_stock([StockUpdate("A", 0, ref("A"))])[0].code == "revision_cap"
    assert route.call_count == 2


def test_revision_budget_resets_with_ebays_day(adapter, fake):
    adapter.budget.spend("A", 250)
    fake.advance(20 * 3600 - 1)
    assert adapter.revision_budget("A") == 0
    fake.advance(1)
    assert adapter.revision_budget("A") == 250


def test_variants_share_their_listing_budget(adapter, api: respx.MockRouter):
    api.post(BULK).mock(side_effect=ok_for_all)
    group = ListingRef("T", None, {"group_key": "T", "offer_id:T-S": "O-T-S", "offer_id:T-M": "O-T-M"})
    adapter.push_stock([StockUpdate("T-S", 1, group), StockUpdate("T-M", 1, group)])
    assert adapter.revision_budget("T-S") == adapter.revision_budget("T-M") == 248


def test_ebay_revision_cap_error_exhausts_the_budget(adapter, api: respx.MockRouter):
    api.post(BULK).respond(
        207,
        json={
            "responses": [
                {
                    "offerId": "O-A",
                    "statusCode": 400,
                    "errors": [
                        {"errorId": 25002, "message": "This listing has reached the maximum of 250 revisions per day."}
                    ],
                }
            ]
        },
    )
    [result] = adapter.push_prices([PriceUpdate("A", usd("5"), ref("A"))])
    assert (result.code, result.retryable) == ("revision_cap", True)
    assert adapter.revision_budget("A") == 0


def test_withdrawn_offer_is_not_price_updated(adapter, api: respx.MockRouter):
    api.get(f"{INV}/offer").respond(
        200,
        json={
            "offers": [
                {
                    "offerId": "9",
                    "sku": "W",
                    "marketplaceId": "EBAY_US",
                    "format": "FIXED_PRICE",
                    "status": "UNPUBLISHED",
                }
            ]
        },
    )
    bulk = api.post(BULK).mock(side_effect=ok_for_all)
    [result] = adapter.push_prices([PriceUpdate("W", usd("5"))])
    assert result.code == "not_published" and not bulk.called


def test_currency_mismatch_is_refused_before_sending(adapter, api: respx.MockRouter):
    bulk = api.post(BULK).mock(side_effect=ok_for_all)
    [result] = adapter.push_prices([PriceUpdate("A", Money.of("5", "EUR"), ref("A"))])
    assert result.code == "currency_mismatch" and not bulk.called


def test_delist_replay_of_a_withdrawn_offer_is_success(adapter, api: respx.MockRouter):
    api.post(f"{INV}/offer/O-A/withdraw").respond(
        400, json={"errors": [{"errorId": 25713, "message": "This Offer is not available"}]}
    )
    api.get(f"{INV}/offer/O-A").respond(200, json={"offerId": "O-A", "status": "UNPUBLISHED"})
    assert adapter.delist([DelistRequest("A", ref("A"))])[0].ok


def test_unknown_offer_on_delist_is_an_item_failure(adapter, api: respx.MockRouter):
    api.post(f"{INV}/offer/O-A/withdraw").respond(
        404, json={"errors": [{"errorId": 25713, "message": "This Offer is not available"}]}
    )
    api.get(f"{INV}/offer/O-A").respond(404, json={})
    [result] = adapter.delist([DelistRequest("A", ref("A"))])
    assert (result.ok, result.code) == (False, "25713")


def test_one_failed_item_in_a_bulk_replace_does_not_fail_the_others(adapter, api: respx.MockRouter):
    api.get(f"{INV}/offer").respond(404, json={})
    api.post(f"{INV}/bulk_get_inventory_item").respond(200, json={"responses": []})
    api.post(f"{INV}/bulk_create_or_replace_inventory_item").respond(
        207,
        json={
            "responses": [
                {
                    "sku": "A",
                    "statusCode": 400,
                    "errors": [{"errorId": 25709, "message": "Invalid value for condition"}],
                },
                {"sku": "B", "statusCode": 201},
            ]
        },
    )
    create = api.post(f"{INV}/bulk_create_offer").respond(
        200, json={"responses": [{"sku": "B", "offerId": "2", "statusCode": 200}]}
    )
    api.post(f"{INV}/bulk_publish_offer").respond(
        207, json={"responses": [{"offerId": "2", "statusCode": 200, "listingId": "L2"}]}
    )
    drafts = [ListingDraft(s, "t", "d", "1", usd("1"), 1) for s in ("A", "B")]
    results = adapter.publish(drafts)
    assert [(r.sku, r.ok, r.code) for r in results] == [("A", False, "25709"), ("B", True, None)]
    assert [o["sku"] for o in json.loads(create.calls.last.request.content)["requests"]] == ["B"]


def test_a_sku_twice_in_one_publish_batch_is_refused_not_sent(emulated, emulator):
    first = ListingDraft("A", "t", "d", "1", usd("1"), 1, images=("https://img.example.com/a.jpg",))
    again = ListingDraft("A", "t2", "d", "1", usd("2"), 1, images=("https://img.example.com/a.jpg",))
    results = emulated.publish([first, again])
    assert [(r.ok, r.code) for r in results] == [(True, None), (False, "invalid_draft")]
    assert emulator.state["items"]["A"]["product"]["title"] == "t"
