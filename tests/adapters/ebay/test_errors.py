"""eBay error responses -> typed errors (whole calls) and per-item results (207 bodies)."""

from __future__ import annotations

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    AuthError,
    ListingRef,
    Money,
    PriceUpdate,
    RateLimited,
    RequestRejected,
    TransientError,
)

INV = "https://api.ebay.com/sell/inventory/v1"
BULK = f"{INV}/bulk_update_price_quantity"
REF = ListingRef("A1", None, {"offer_id": "5000001"})


def errors(error_id: int, message: str, domain: str = "API_INVENTORY") -> dict:
    return {"errors": [{"errorId": error_id, "domain": domain, "category": "REQUEST", "message": message}]}


def response(status: int, body=None, headers=None) -> httpx.Response:
    request = httpx.Request("POST", BULK)
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "code", "retry_after"),
    [
        (429, errors(2001, "Too many requests.", "ACCESS"), {"Retry-After": "30"}, RateLimited, "2001", 30.0),
        (429, None, None, RateLimited, "ebay_error", None),
        (
            500,
            errors(25025, "Concurrent access of the same Inventory ... not allowed"),
            None,
            TransientError,
            "25025",
            None,
        ),
        (500, errors(25001, "A system error has occurred."), None, TransientError, "25001", None),
        (500, errors(30500, "System error", "API_FULFILLMENT"), None, TransientError, "30500", None),
        (503, None, None, TransientError, "ebay_error", None),
        (401, errors(1001, "Invalid access token", "OAuth"), None, AuthError, "1001", None),
        (403, errors(1100, "Access denied: insufficient permissions"), None, AuthError, "1100", None),
    ],
)
def test_classify_table(adapter, status, body, headers, kind, code, retry_after):
    error = adapter.classify(response(status, body, headers))
    assert type(error) is kind
    assert error.code == code
    assert error.retry_after == retry_after


@pytest.mark.parametrize("status", [200, 201, 204, 207])
def test_success_statuses_are_not_errors(adapter, status):
    assert adapter.classify(response(status, {"responses": []})) is None


def test_plain_400_falls_through_to_request_rejected(adapter, api: respx.MockRouter):
    assert adapter.classify(response(400, errors(25002, "Any User error."))) is None
    api.post(f"{INV}/bulk_get_inventory_item").respond(400, json=errors(25727, "cannot exceed 25"))
    with pytest.raises(RequestRejected, match="25727"):
        adapter.http.post("/sell/inventory/v1/bulk_get_inventory_item", json={"requests": []})


def test_throttle_is_retried_then_raised_with_the_hint(adapter, api: respx.MockRouter, fake):
    route = api.post(BULK).respond(429, json=errors(2001, "Too many requests.", "ACCESS"), headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as raised:
        adapter.push_prices([PriceUpdate("A1", Money.of("1", "USD"), REF)])
    assert raised.value.retry_after == 7.0
    assert route.call_count == 5  # the core's in-call retry budget
    assert min(fake.sleeps) >= 7.0  # never sooner than the server's hint


def test_whole_call_25025_is_retried(adapter, api: respx.MockRouter):
    route = api.post(BULK)
    route.side_effect = [
        httpx.Response(500, json=errors(25025, "Concurrent access of the same Inventory object is not allowed")),
        httpx.Response(200, json={"responses": [{"offerId": "5000001", "statusCode": 200}]}),
    ]
    assert adapter.push_prices([PriceUpdate("A1", Money.of("1", "USD"), REF)])[0].ok
    assert route.call_count == 2


def test_207_maps_each_item(adapter, api: respx.MockRouter):
    refs = {s: ListingRef(s, None, {"offer_id": f"O-{s}"}) for s in ("A", "B", "C", "D")}
    api.post(BULK).respond(
        207,
        json={
            "responses": [
                {"offerId": "O-A", "sku": "A", "statusCode": 200},
                {
                    "offerId": "O-B",
                    "sku": "B",
                    "statusCode": 500,
                    "errors": [{"errorId": 25025, "message": "Concurrent access of the same Inventory object"}],
                },
                {
                    "offerId": "O-C",
                    "sku": "C",
                    "statusCode": 400,
                    "errors": [
                        {
                            "errorId": 25003,
                            "message": "The price is invalid.",
                            "parameters": [{"name": "price", "value": "0"}],
                        }
                    ],
                },
            ]
        },
    )
    results = adapter.push_prices([PriceUpdate(s, Money.of("2", "USD"), refs[s]) for s in ("A", "B", "C", "D")])
    assert [(r.sku, r.ok, r.code, r.retryable) for r in results] == [
        ("A", True, None, False),
        ("B", False, "25025", True),
        ("C", False, "25003", False),
        ("D", False, "no_result", False),  # eBay said nothing about D in a 207: not assumed applied
    ]
    assert "price=0" in results[2].message
