"""Every request the adapter can send, validated against eBay's official OpenAPI (OAS3) files.

Checks per request: the path and method exist; required path/query/header parameters are present and
every query parameter sent is declared; the JSON body validates against the request schema AND uses
only declared property names (the OAS files never say ``additionalProperties: false``, so a misspelled
field would otherwise pass); one of the operation's OAuth scopes is among the scopes we request.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    Money,
    OrderCursor,
    PriceUpdate,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.ebay.auth import DEFAULT_SCOPES

from tests.adapters.ebay.spec_client import check_response, undeclared

SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "specs" / "ebay"
FILES = {"/sell/inventory/v1": "sell_inventory_v1_oas3.json", "/sell/fulfillment/v1": "sell_fulfillment_v1_oas3.json"}

pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"eBay OAS3 files not found at {SPECS}")


@cache
def spec(name: str) -> dict[str, Any]:
    """An official eBay OpenAPI file; the calling test is skipped when ../shared/reference/specs is absent."""
    if not (SPECS / name).is_file():
        pytest.skip(f"eBay OAS3 file not found at {SPECS / name}")
    return json.loads((SPECS / name).read_text(encoding="utf-8"))


def operation(request: httpx.Request) -> tuple[dict, str, dict, dict[str, str]]:
    """(spec, spec path, operation, path params) for a request; fails when the spec has no such call."""
    for base, name in FILES.items():
        if request.url.path.startswith(base):
            doc = spec(name)
            rest = request.url.path[len(base) :]
            for template, item in doc["paths"].items():
                pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
                match = re.match(pattern, rest)
                if match and request.method.lower() in item:
                    return doc, template, item[request.method.lower()], match.groupdict()
            pytest.fail(f"{request.method} {request.url.path} is not in {name}")
    pytest.fail(f"{request.url.path} is outside the eBay Sell APIs")


def check(request: httpx.Request) -> tuple[str, str]:
    doc, template, op, _ = operation(request)
    params = op.get("parameters", [])
    query = dict(request.url.params)
    for p in params:
        if p.get("required") and p["in"] == "query":
            assert p["name"] in query, f"{template}: required query parameter {p['name']} missing"
        if p.get("required") and p["in"] == "header":
            assert p["name"] in request.headers, f"{template}: required header {p['name']} missing"
    declared = {p["name"] for p in params if p["in"] == "query"}
    assert set(query) <= declared, f"{template}: undeclared query parameters {set(query) - declared}"
    assert request.headers["Authorization"].startswith("Bearer ")
    scopes = {s for sec in op.get("security", []) for s in sec.get("api_auth", [])}
    assert not scopes or scopes & set(DEFAULT_SCOPES), f"{template}: none of {scopes} requested"
    content = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    if request.content:
        assert content, f"{template}: sends a body the spec does not take"
        body = json.loads(request.content)
        schema = content["schema"]
        jsonschema.Draft4Validator({**schema, "components": doc["components"]}).validate(body)
        assert undeclared(doc, schema, body) == [], f"{template}: undeclared fields"
    else:
        assert not (op.get("requestBody") or {}).get("required"), f"{template}: body required"
    return request.method, template


def usd(value: str) -> Money:
    return Money.of(value, "USD")


def run_every_operation(emulated, emulator, fake) -> None:
    """Every operation the adapter has, through the emulator: publish (new and update), price, stock, delist,
    relist, orders and listings."""
    single = ListingDraft(
        "A1",
        "Mug",
        "Stoneware",
        "20625",
        usd("9.99"),
        5,
        attributes={"Brand": ("Acme",)},
        images=("https://img.example.com/a.jpg",),
        brand="Acme",
        barcode="4006381333931",
        weight_grams=350,
        bullet_points=("Dishwasher safe",),
    )
    group = ListingDraft(
        "T",
        "Tee",
        "Cotton",
        "15687",
        usd("12"),
        0,
        images=("https://img.example.com/t.jpg",),
        variations=(
            Variation("T-S", usd("12"), 3, {"Size": "S"}, images=("https://img.example.com/s.jpg",)),
            Variation("T-M", usd("13"), 2, {"Size": "M"}),
        ),
    )
    results = emulated.publish([single, group])
    assert all(r.ok for r in results), results
    assert all(r.ok for r in emulated.publish([single]))  # the update path: PUT /offer
    assert all(
        r.ok for r in emulated.push_prices([PriceUpdate("A1", usd("8"), results[0].ref), PriceUpdate("T-M", usd("14"))])
    )
    assert all(
        r.ok for r in emulated.push_stock([StockUpdate("A1", 2, results[0].ref), StockUpdate("T-S", 0, results[1].ref)])
    )
    assert all(r.ok for r in emulated.delist([DelistRequest("A1", results[0].ref), DelistRequest("T")]))
    assert all(r.ok for r in emulated.delist([DelistRequest("A1", results[0].ref)]))  # replay: GET /offer/{id}
    assert all(r.ok for r in emulated.relist([DelistRequest("A1", results[0].ref), DelistRequest("T", results[1].ref)]))
    emulated._groups.clear()
    assert emulated.delist([DelistRequest("T")])[0].ok  # unknown key: GET /inventory_item_group/{key}
    ids = emulator.generate_orders(2)
    emulator.cancel_order(ids[0])
    fake.advance(120)
    emulated.orders_since(OrderCursor(fake.now() - timedelta(days=1)))
    assert len(list(emulated.listings())) == 3


def test_every_request_matches_the_official_spec(emulated, emulator, fake):
    run_every_operation(emulated, emulator, fake)
    covered = {check(r) for r in emulator.requests if "oauth2" not in r.url.path}
    assert covered == {
        ("GET", "/offer"),
        ("GET", "/offer/{offerId}"),
        ("PUT", "/offer/{offerId}"),
        ("POST", "/bulk_get_inventory_item"),
        ("POST", "/bulk_create_or_replace_inventory_item"),
        ("PUT", "/inventory_item_group/{inventoryItemGroupKey}"),
        ("GET", "/inventory_item_group/{inventoryItemGroupKey}"),
        ("POST", "/bulk_create_offer"),
        ("POST", "/bulk_publish_offer"),
        ("POST", "/offer/publish_by_inventory_item_group/"),
        ("POST", "/bulk_update_price_quantity"),
        ("POST", "/offer/{offerId}/withdraw"),
        ("POST", "/offer/withdraw_by_inventory_item_group"),
        ("GET", "/inventory_item"),
        ("GET", "/order"),
        ("GET", "/order/{orderId}"),
    }


def test_checker_catches_a_misspelled_field():
    request = httpx.Request(
        "POST",
        "https://api.ebay.com/sell/inventory/v1/bulk_update_price_quantity",
        headers={"Authorization": "Bearer x"},
        json={"requests": [{"offers": [{"offerId": "1", "availableQuantty": 3}]}]},
    )
    with pytest.raises(AssertionError, match="undeclared"):
        check(request)


def test_checker_catches_a_wrong_type():
    request = httpx.Request(
        "POST",
        "https://api.ebay.com/sell/inventory/v1/bulk_update_price_quantity",
        headers={"Authorization": "Bearer x"},
        json={"requests": [{"offers": [{"offerId": "1", "availableQuantity": "3"}]}]},
    )
    with pytest.raises(jsonschema.ValidationError):
        check(request)


def test_every_emulator_answer_matches_the_official_spec(make_adapter, emulator, fake):
    """Each answer the emulator gives the adapter's flows is one the spec declares, with a body of its schema
    (or none where it declares none): spec_client.check_response on every request and response."""
    seen: list[str] = []

    def recording(request: httpx.Request) -> httpx.Response:
        response = emulator.handle(request)
        seen.append(check_response(request, response))
        return response

    run_every_operation(make_adapter(transport=httpx.MockTransport(recording)), emulator, fake)
    assert {label for label in seen if label != "oauth"} >= {
        "createOrReplaceInventoryItemGroup 204",
        "bulkCreateOrReplaceInventoryItem 200",
        "bulkCreateOffer 200",
        "bulkPublishOffer 200",
        "updateOffer 204",
        "getOffers 200",
        "getOffer 200",
        "bulkUpdatePriceQuantity 200",
        "withdrawOffer 200",
        "withdrawOfferByInventoryItemGroup 204",
        "publishOfferByInventoryItemGroup 200",
        "getInventoryItems 200",
        "getOrders 200",
        "getOrder 200",
    }


@pytest.mark.parametrize("fault", ["throttle", "server_error"])
def test_fault_answers_match_the_spec_error_shape(fault, fake):
    """The throttle (429) and system error (500) answers are eBay's ``{"errors": [Error]}`` too."""
    from listing_sync.adapters.ebay.emulator import EbayEmulator
    from listing_sync.adapters.emulator import Faults

    from tests.adapters.ebay.conftest import CREDS, OPTIONS

    emulator = EbayEmulator(credentials=CREDS, options=OPTIONS, clock=fake, now=fake.now, faults=Faults(**{fault: 1.0}))
    for url in ("https://api.ebay.com/sell/inventory/v1/offer", "https://api.ebay.com/sell/fulfillment/v1/order"):
        request = httpx.Request("GET", url, headers={"Authorization": "Bearer x"})
        response = emulator.handle(request)
        assert response.status_code == (429 if fault == "throttle" else 500)
        assert (
            check_response(request, response)
            == f"{'getOffers' if 'offer' in url else 'getOrders'} {response.status_code}"
        )
