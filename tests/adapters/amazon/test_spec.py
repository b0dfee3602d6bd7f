"""Every request the adapter can send, validated against Amazon's official models in shared/reference/specs/amazon:
path and method exist, required path/query parameters present and declared, values within declared enums and
maxima, JSON bodies valid against the operation's schema, and feed documents valid against listings-feed v2."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from listing_sync.adapters.amazon import mapping as m
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    ListingRef,
    Money,
    OrderCursor,
    PriceUpdate,
    StockUpdate,
    Variation,
)

SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "specs" / "amazon"
pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"official Amazon models not found at {SPECS}")

MODELS = {
    "/listings/2021-08-01/": "listingsItems_2021-08-01.json",
    "/feeds/2021-06-30/": "feeds_2021-06-30.json",
    "/orders/v0/": "ordersV0.json",
    "/orders/2026-01-01/": "orders_2026-01-01.json",
}


def load(name: str) -> Any:
    """An official Amazon model; the calling test is skipped when ../shared/reference/specs is absent."""
    if not (SPECS / name).is_file():
        pytest.skip(f"official Amazon model not found at {SPECS / name}")
    return json.loads((SPECS / name).read_text(encoding="utf-8"))


def operation(spec: dict, method: str, path: str) -> tuple[dict, dict[str, str]]:
    for template, ops in spec["paths"].items():
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        match = re.match(pattern, path)
        if match and method.lower() in ops:
            return ops[method.lower()], match.groupdict()
    raise AssertionError(f"{method} {path} is not an operation of the model")


def check_request(request: httpx.Request) -> str:
    """Validate one SP-API request against its model; returns the operationId."""
    path = request.url.path
    model = next((f for prefix, f in MODELS.items() if path.startswith(prefix)), None)
    assert model is not None, f"no official model covers {path}"
    spec = load(model)
    op, path_params = operation(spec, request.method, path)
    params = op.get("parameters", [])
    declared = {p["name"] for p in params if p["in"] == "query"}
    query = request.url.params
    assert set(query.keys()) <= declared, f"{op['operationId']}: undeclared query {set(query.keys()) - declared}"
    for p in params:
        if p["in"] == "path":
            assert path_params.get(p["name"]), f"{op['operationId']}: empty path parameter {p['name']}"
        if p["in"] == "query":
            if p.get("required"):
                assert p["name"] in query, f"{op['operationId']}: missing required {p['name']}"
            if p["name"] in query:
                values = query[p["name"]].split(",") if p.get("type") == "array" else [query[p["name"]]]
                enum = (p.get("items") or {}).get("enum") if p.get("type") == "array" else p.get("enum")
                if enum:
                    assert set(values) <= set(enum), f"{p['name']}={values} not in {enum}"
                if p.get("maxItems"):
                    assert len(values) <= p["maxItems"]
                if p.get("type") == "integer":
                    assert values[0].isdigit()
                    if "maximum" in p:
                        assert int(values[0]) <= p["maximum"], f"{p['name']} above {p['maximum']}"
        if p["in"] == "body":
            assert request.content, f"{op['operationId']}: body required"
            assert request.headers["content-type"].startswith("application/json")
            schema = {**p["schema"], "definitions": spec["definitions"]}
            jsonschema.Draft4Validator(schema).validate(json.loads(request.content))
    if not any(p["in"] == "body" for p in params):
        assert not request.content, f"{op['operationId']} takes no body"
    assert request.headers.get("x-amz-access-token"), "every SP-API call carries the LWA token"
    return op["operationId"]


def check_feed_document(content: bytes) -> None:
    jsonschema.Draft7Validator(load("listings-feed-schema-v2.json")).validate(json.loads(content))
    message_schema = load("listings-feed-message-schema-v2.json")
    for message in json.loads(content)["messages"]:
        jsonschema.Draft7Validator(message_schema).validate(message)


def variations() -> tuple[Variation, ...]:
    return (
        Variation("TEE-S", Money.of("10.00", "USD"), 3, {"Size": "S"}, barcode="012345678905"),
        Variation("TEE-M", Money.of("11.00", "USD"), 2, {"Size": "M"}),
    )


def exercise(world_factory, options: dict[str, Any]) -> list[httpx.Request]:
    """Run every operation against the emulator and return every request sent."""
    w = world_factory(options=options, emulator_options={"feed_seconds": 30})
    a = w.adapter
    drafts = [
        ListingDraft(
            "BAG",
            "Bag",
            "Hard shell",
            "LUGGAGE",
            Money.of("89.50", "USD"),
            4,
            attributes={"color": ("Black",)},
            images=("https://img.example/1.jpg", "https://img.example/2.jpg"),
            bullet_points=("Light",),
            brand="Acme",
            barcode="4006381333931",
            weight_grams=2300,
        ),
        ListingDraft("TEE", "Tee", "Cotton", "SHIRT", Money.of("10", "USD"), 0, variations=variations()),
    ]
    a.publish(drafts)
    a.publish(
        [
            ListingDraft(
                "BAG",
                "Bag 2",
                "x",
                "LUGGAGE",
                Money.of("79", "USD"),
                9,
                ref=ListingRef("BAG", None, {"product_type": "LUGGAGE"}),
            )
        ]
    )
    a.push_prices([PriceUpdate("BAG", Money.of("70", "USD")), PriceUpdate("TEE-S", Money.of("9.99", "USD"))])
    a.push_stock([StockUpdate("BAG", 8), StockUpdate("TEE-M", 1)])
    a.delist([DelistRequest("TEE-M"), DelistRequest("BAG")])
    a.relist([DelistRequest("TEE-M", quantity=2), DelistRequest("BAG", quantity=1)])
    w.emulator.generate_orders(3)
    w.clock.now += 600
    cursor = OrderCursor(w.clock.utc() - timedelta(hours=1))
    while True:
        page = a.orders_since(cursor)
        cursor = page.next
        if page.done:
            break
    list(a.listings())
    a.listing("BAG")
    return list(w.emulator.requests)


@pytest.mark.parametrize(
    "options",
    [
        {"feed_threshold": 25_000},  # patch path
        {"feed_threshold": 1, "feed_poll_seconds": 10},  # feed path
        {"feed_threshold": 25_000, "delist_mode": "delete", "issue_locale": "en_US"},
        {"feed_threshold": 1, "delist_mode": "delete", "issue_locale": "en_US"},
    ],
)
def test_every_request_matches_the_official_models(world_factory, options):
    requests = exercise(world_factory, options)
    seen = set()
    feeds = 0
    for request in requests:
        if request.url.path.endswith("/auth/o2/token"):
            assert request.url.host == "api.amazon.com"
            continue
        if "/NinetyDays/" in request.url.path:  # presigned S3 feed document
            assert "x-amz-access-token" not in request.headers
            if request.method == "PUT":
                check_feed_document(request.content)
                feeds += 1
            continue
        seen.add(check_request(request))
    expected = {"searchOrders", "searchListingsItems", "getListingsItem"}
    if options["feed_threshold"] == 1:
        expected |= {"createFeedDocument", "createFeed", "getFeed", "getFeedDocument"}
        assert feeds >= 6
    else:
        expected |= {"putListingsItem", "patchListingsItem"}
        if options.get("delist_mode") == "delete":
            expected.add("deleteListingsItem")
    assert expected <= seen, expected - seen


def test_processing_report_example_maps_to_items():
    report = load("listings-feed-processing-report-schema-v2.example.json")
    jsonschema.Draft7Validator(load("listings-feed-processing-report-schema-v2.json")).validate(report)
    by_message, general = m.report_errors(report)
    assert sorted(by_message) == [4, 5] and not general
    assert len(by_message[4]) == 2
    assert "purchasable_offer.our_price" in m.issue_text(by_message[5])


def test_feed_example_is_valid_against_the_schema_we_validate_with():
    example = (SPECS / "listings-feed-schema-v2.example.json").read_bytes()
    check_feed_document(example)


def test_listings_item_example_shapes_read_back():
    spec = load("listingsItems_2021-08-01.json")
    jsonschema.Draft4Validator({"$ref": "#/definitions/Item", "definitions": spec["definitions"]}).validate(
        {
            "sku": "A",
            "offers": [
                {
                    "marketplaceId": m.MARKETPLACES["US"][0],
                    "offerType": "B2C",
                    "price": {"currencyCode": "USD", "amount": "1.00"},
                }
            ],
        }
    )


def test_the_validator_itself_rejects_malformed_requests():
    base = "https://sellingpartnerapi-na.amazon.com/listings/2021-08-01/items/S/A"
    headers = {"x-amz-access-token": "t", "content-type": "application/json"}
    good = b'{"productType":"P","patches":[{"op":"merge","path":"/attributes/a","value":[{}]}]}'
    assert check_request(httpx.Request("PATCH", base + "?marketplaceIds=X", headers=headers, content=good)) == (
        "patchListingsItem"
    )
    bad = [
        httpx.Request("PATCH", base, headers=headers, content=good),  # marketplaceIds missing
        httpx.Request(
            "PATCH", base + "?marketplaceIds=X", headers=headers, content=b'{"productType":"P","patches":[]}'
        ),
        httpx.Request("PATCH", base + "?marketplaceIds=X&foo=1", headers=headers, content=good),
        httpx.Request("PATCH", base + "?marketplaceIds=X", headers={"content-type": "application/json"}, content=good),
        httpx.Request("GET", "https://x/listings/2021-08-01/items/S?marketplaceIds=X&pageSize=50", headers=headers),
        httpx.Request("POST", "https://x/feeds/2021-06-30/feeds", headers=headers, content=b'{"feedType":"X"}'),
    ]
    for request in bad:
        with pytest.raises((AssertionError, jsonschema.ValidationError)):
            check_request(request)
    with pytest.raises(jsonschema.ValidationError):
        check_feed_document(
            b'{"header":{"sellerId":"S","version":"2.0"},"messages":[{"messageId":1,"sku":"A",'
            b'"operationType":"PATCH","productType":"P","attributes":{"a":[]}}]}'
        )


@pytest.mark.parametrize("options", [{"feed_threshold": 25_000}, {"feed_threshold": 1, "feed_poll_seconds": 10}])
def test_no_request_uses_an_operation_the_models_mark_deprecated(world_factory, options):
    used = set()
    for request in exercise(world_factory, options):
        path = request.url.path
        model = next((f for prefix, f in MODELS.items() if path.startswith(prefix)), None)
        if model is None:
            continue  # LWA and the presigned document storage
        op, _ = operation(load(model), request.method, path)
        assert not op.get("deprecated"), f"{op['operationId']} ({request.method} {path}) is deprecated in {model}"
        used.add(op["operationId"])
    assert "searchOrders" in used


def test_the_models_mark_the_orders_v0_reads_deprecated():
    """The check above can fail: v0 getOrders/getOrderItems, what the adapter used before, are deprecated."""
    spec = load("ordersV0.json")
    assert operation(spec, "GET", "/orders/v0/orders")[0].get("deprecated") is True
    assert operation(spec, "GET", "/orders/v0/orders/1-2-3/orderItems")[0].get("deprecated") is True
    assert not operation(load("orders_2026-01-01.json"), "GET", "/orders/2026-01-01/orders")[0].get("deprecated")
