"""A client written from eBay's official OpenAPI files (tests/adapters/ebay/spec_client.py, not the adapter)
against the emulator served over loopback: the flows the adapter uses, every answer checked against the spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from listing_sync.adapters.ebay.auth import DEFAULT_SCOPES
from listing_sync.adapters.ebay.emulator import EbayEmulator

from tests.adapters.ebay.conftest import CREDS, OPTIONS
from tests.adapters.ebay.spec_client import SPECS, SpecClient
from tests.adapters.serving import serving

pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"eBay OAS3 files not found at {SPECS}")

ITEM = {
    "product": {
        "title": "Stoneware mug",
        "description": "Hand glazed",
        "aspects": {"Brand": ["Acme"]},
        "imageUrls": ["https://img.example.com/mug.jpg"],
    },
    "condition": "NEW",
    "availability": {"shipToLocationAvailability": {"quantity": 5}},
}


def offer(sku: str, price: str = "9.99", quantity: int = 5) -> dict:
    return {
        "sku": sku,
        "marketplaceId": "EBAY_US",
        "format": "FIXED_PRICE",
        "categoryId": "20625",
        "availableQuantity": quantity,
        "pricingSummary": {"price": {"value": price, "currency": "USD"}},
        "merchantLocationKey": "WH-1",
        "listingPolicies": {"fulfillmentPolicyId": "1", "paymentPolicyId": "2", "returnPolicyId": "3"},
    }


@pytest.fixture
def served() -> Iterator[tuple[EbayEmulator, SpecClient]]:
    emulator = EbayEmulator(credentials=CREDS, options=OPTIONS, enforce_rate=False, seed=11)
    with serving(emulator) as base:
        client = SpecClient(base, scopes=list(DEFAULT_SCOPES), **CREDS)
        yield emulator, client
        client.close()


def test_inventory_items_create_get_list_delete(served):
    _, ebay = served
    for sku in ("MUG-1", "MUG-2", "MUG-3"):
        assert ebay.call("createOrReplaceInventoryItem", path={"sku": sku}, body=ITEM).status_code == 204
    replaced = ebay.call("createOrReplaceInventoryItem", path={"sku": "MUG-1"}, body={**ITEM, "condition": "USED_GOOD"})
    assert replaced.status_code == 204
    item = ebay.call("getInventoryItem", path={"sku": "MUG-1"}).json()
    assert (item["sku"], item["condition"]) == ("MUG-1", "USED_GOOD")
    first = ebay.call("getInventoryItems", query={"limit": "2", "offset": "0"}).json()
    second = ebay.call("getInventoryItems", query={"limit": "2", "offset": "1"}).json()
    assert [i["sku"] for i in first["inventoryItems"] + second["inventoryItems"]] == ["MUG-1", "MUG-2", "MUG-3"]
    assert first["total"] == 3 and "next" in first and "next" not in second
    assert ebay.call("deleteInventoryItem", path={"sku": "MUG-3"}).status_code == 204
    missing = ebay.call("getInventoryItem", path={"sku": "MUG-3"})
    assert missing.status_code == 404 and missing.json()["errors"][0]["errorId"] == 25710
    assert ebay.call("deleteInventoryItem", path={"sku": "MUG-3"}).status_code == 404


def test_offers_create_update_get_publish_withdraw(served):
    _, ebay = served
    ebay.call("createOrReplaceInventoryItem", path={"sku": "MUG-1"}, body=ITEM)
    created = ebay.call("createOffer", body=offer("MUG-1"))
    assert created.status_code == 201
    offer_id = created.json()["offerId"]
    twice = ebay.call("createOffer", body=offer("MUG-1"))
    assert twice.status_code == 400 and twice.json()["errors"][0]["errorId"] == 25002
    every = ebay.call("getOffers").json()  # sku is optional
    assert [o["offerId"] for o in every["offers"]] == [offer_id] and every["total"] == 1
    by_sku = ebay.call("getOffers", query={"sku": "MUG-1", "marketplace_id": "EBAY_US"}).json()
    assert by_sku["offers"][0]["status"] == "UNPUBLISHED"
    details = {k: v for k, v in offer("MUG-1", "11.50").items() if k not in ("sku", "marketplaceId", "format")}
    update = ebay.call("updateOffer", path={"offerId": offer_id}, body=details)
    assert update.status_code == 204
    fetched = ebay.call("getOffer", path={"offerId": offer_id}).json()
    assert fetched["pricingSummary"]["price"] == {"value": "11.50", "currency": "USD"}
    published = ebay.call("publishOffer", path={"offerId": offer_id})
    assert published.status_code == 200 and published.json()["listingId"]
    withdrawn = ebay.call("withdrawOffer", path={"offerId": offer_id})
    assert withdrawn.json()["listingId"] == published.json()["listingId"]
    ebay.call("deleteInventoryItem", path={"sku": "MUG-1"})
    gone = ebay.call("getOffer", path={"offerId": offer_id})  # deleting the item deletes its offers
    assert gone.status_code == 404


def test_price_and_quantity(served):
    _, ebay = served
    ids = []
    for sku in ("A", "B"):
        ebay.call("createOrReplaceInventoryItem", path={"sku": sku}, body=ITEM)
        ids.append(ebay.call("createOffer", body=offer(sku)).json()["offerId"])
        ebay.call("publishOffer", path={"offerId": ids[-1]})
    body = {
        "requests": [
            {
                "sku": "A",
                "shipToLocationAvailability": {"quantity": 7},
                "offers": [{"offerId": ids[0], "availableQuantity": 7, "price": {"value": "8.00", "currency": "USD"}}],
            },
            {"offers": [{"offerId": ids[1], "availableQuantity": 0}]},
        ]
    }
    answer = ebay.call("bulkUpdatePriceQuantity", body=body)
    assert answer.status_code == 200 and {r["statusCode"] for r in answer.json()["responses"]} == {200}
    first = ebay.call("getOffer", path={"offerId": ids[0]}).json()
    assert (first["availableQuantity"], first["pricingSummary"]["price"]["value"]) == (7, "8.00")
    assert ebay.call("getOffer", path={"offerId": ids[1]}).json()["availableQuantity"] == 0
    item = ebay.call("getInventoryItem", path={"sku": "A"}).json()
    assert item["availability"]["shipToLocationAvailability"]["quantity"] == 7


def test_bulk_calls_and_multi_status(served):
    _, ebay = served
    requests = [{"sku": s, "locale": "en_US", **ITEM} for s in ("K-1", "K-2")]
    requests.append({"sku": "K-3", "locale": "en_US", **ITEM, "condition": "SHINY"})
    mixed = ebay.call("bulkCreateOrReplaceInventoryItem", body={"requests": requests[:2]})
    assert mixed.status_code == 200, mixed.text
    offers = ebay.call("bulkCreateOffer", body={"requests": [offer("K-1"), offer("K-2"), offer("NOPE")]})
    assert offers.status_code == 207 and [r["statusCode"] for r in offers.json()["responses"]] == [200, 200, 400]
    ids = [{"offerId": r["offerId"]} for r in offers.json()["responses"] if "offerId" in r]
    published = ebay.call("bulkPublishOffer", body={"requests": ids})
    assert published.status_code == 200 and all(r["listingId"] for r in published.json()["responses"])
    fetched = ebay.call("bulkGetInventoryItem", body={"requests": [{"sku": "K-1"}, {"sku": "K-9"}]})
    assert fetched.status_code == 207 and [r["statusCode"] for r in fetched.json()["responses"]] == [200, 404]


def test_orders_paging_and_filters(served):
    emulator, ebay = served
    ebay.call("createOrReplaceInventoryItem", path={"sku": "A"}, body={**ITEM, "availability": {
        "shipToLocationAvailability": {"quantity": 50}}})  # fmt: skip
    offer_id = ebay.call("createOffer", body=offer("A", quantity=50)).json()["offerId"]
    ebay.call("publishOffer", path={"offerId": offer_id})
    ids = emulator.generate_orders(5)
    emulator.cancel_order(ids[0])
    start = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    window = f"lastmodifieddate:[{start}..]"
    seen = []
    for offset in ("0", "2", "4"):
        page = ebay.call("getOrders", query={"filter": window, "limit": "2", "offset": offset}).json()
        assert page["total"] == 5 and page["limit"] == 2
        seen += [o["orderId"] for o in page["orders"]]
    assert sorted(seen) == sorted(ids)
    not_shipped = "orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}"
    open_only = ebay.call("getOrders", query={"filter": f"{window},{not_shipped}"}).json()
    assert sorted(o["orderId"] for o in open_only["orders"]) == sorted(ids)  # a cancelled order never shipped
    shipped = ebay.call("getOrders", query={"filter": f"{window},orderfulfillmentstatus:{{FULFILLED|IN_PROGRESS}}"})
    assert shipped.json()["orders"] == [] and shipped.json()["total"] == 0
    one = ebay.call("getOrder", path={"orderId": ids[0]}).json()
    assert one["cancelStatus"]["cancelState"] == "CANCELED" and one["lineItems"][0]["sku"] == "A"
    too_many = ebay.call("getOrders", query={"limit": "201"})
    assert too_many.status_code == 400 and too_many.json()["errors"][0]["errorId"] == 31100


def test_every_answer_of_these_flows_was_checked_against_the_spec(served):
    """The checks ran: each call above went through check_response (a failing schema raises)."""
    _, ebay = served
    ebay.call("createOrReplaceInventoryItem", path={"sku": "Z"}, body=ITEM)
    ebay.call("getInventoryItem", path={"sku": "Z"})
    assert ebay.checked == ["createOrReplaceInventoryItem 204", "getInventoryItem 200"]
