"""Every answer the Amazon emulator gives, validated against the official models in
shared/reference/specs/amazon: the operation declares that status, and the body is valid against the
schema the model gives for it (Swagger 2.0 definitions, JSON Schema draft 4). Feed processing reports are
valid against listings-feed-processing-report-schema-v2."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import jsonschema
import pytest
from listing_sync.adapters.amazon.emulated_orders import V0_REMOVAL
from listing_sync.adapters.amazon.emulator import AmazonEmulator
from listing_sync.adapters.emulator import Faults

from tests.adapters.amazon.conftest import SELLER, T0, US, build
from tests.adapters.amazon.test_spec import MODELS, SPECS, exercise, load, operation

pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"official Amazon models not found at {SPECS}")
NA = "https://sellingpartnerapi-na.amazon.com"


@pytest.fixture
def answers(monkeypatch) -> list[tuple[httpx.Request, httpx.Response]]:
    """Every (request, response) any AmazonEmulator handles during the test."""
    seen: list[tuple[httpx.Request, httpx.Response]] = []
    original = AmazonEmulator.handle

    def recording(self: AmazonEmulator, request: httpx.Request) -> httpx.Response:
        response = original(self, request)
        seen.append((request, response))
        return response

    monkeypatch.setattr(AmazonEmulator, "handle", recording)
    return seen


def check_response(request: httpx.Request, response: httpx.Response) -> str:
    """Validate one SP-API answer against its operation in the official model; returns the operationId."""
    path = request.url.path
    model = next((f for prefix, f in MODELS.items() if path.startswith(prefix)), None)
    assert model is not None, f"no official model covers {path}"
    spec = load(model)
    op, _ = operation(spec, request.method, path)
    declared = op["responses"].get(str(response.status_code))
    assert declared is not None, f"{op['operationId']} does not declare HTTP {response.status_code}"
    schema = declared.get("schema")
    if schema is None:
        assert response.content == b"", f"{op['operationId']} {response.status_code} has no body in the model"
    else:
        jsonschema.Draft4Validator({**schema, "definitions": spec["definitions"]}).validate(
            json.loads(response.content)
        )
    return str(op["operationId"])


def check_report(content: bytes) -> None:
    report = json.loads(gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content)
    jsonschema.Draft7Validator(load("listings-feed-processing-report-schema-v2.json")).validate(report)


def check_all(answers: list[tuple[httpx.Request, httpx.Response]]) -> dict[str, set[int]]:
    """Validate everything recorded; returns operationId -> the statuses seen."""
    seen: dict[str, set[int]] = {}
    for request, response in answers:
        if request.url.path.endswith("/auth/o2/token"):
            continue  # LWA has no Swagger model; tests/adapters/amazon/test_lwa.py referees it
        if "/NinetyDays/" in request.url.path:  # presigned document storage (S3)
            if request.method == "GET" and response.status_code == 200:
                check_report(response.content)
            continue
        seen.setdefault(check_response(request, response), set()).add(response.status_code)
    return seen


@pytest.mark.parametrize(
    "options",
    [{"feed_threshold": 25_000}, {"feed_threshold": 1, "feed_poll_seconds": 10, "delist_mode": "delete"}],
    ids=["patch", "feed"],
)
def test_every_answer_to_the_adapters_flows_matches_the_models(world_factory, answers, options):
    exercise(world_factory, options)
    seen = check_all(answers)
    assert {"searchOrders", "searchListingsItems", "getListingsItem"} <= set(seen)
    if options["feed_threshold"] == 1:
        assert {"createFeedDocument", "createFeed", "getFeed", "getFeedDocument"} <= set(seen)


def test_answers_to_partial_failures_and_faults_match_the_models(world_factory, answers):
    from tests.adapters.amazon.test_spec import exercise as run

    run(world_factory, {"feed_threshold": 25_000})
    answers.clear()
    w = world_factory(faults=Faults(partial=0.5, throttle=0.1, server_error=0.1), seed=5)
    from listing_sync.adapters.base import ListingDraft, Money, StockUpdate

    w.adapter.publish([ListingDraft(f"S{i}", "t", "d", "PRODUCT", Money.of("1", "USD"), 1) for i in range(10)])
    w.clock.now += 1
    w.adapter.push_stock([StockUpdate(f"S{i}", 2) for i in range(10)])
    seen = check_all(answers)
    assert 200 in seen["putListingsItem"] and {429, 503} & (seen["putListingsItem"] | seen["patchListingsItem"])


def direct(emulator: AmazonEmulator) -> Callable[..., httpx.Response]:
    def call(method: str, path: str, token: bool = True, body: Any = None, **params: Any) -> httpx.Response:
        emulator.state["tokens"]["t"] = emulator.clock() + 3600
        headers = {"x-amz-access-token": "t"} if token else {}
        request = httpx.Request(method, NA + path, params=params, headers=headers, json=body)
        return emulator.handle(request)

    return call


def test_every_operation_and_error_answer_matches_the_models(world_factory, answers):
    """The operations the adapter does not use and the refusals, called directly."""
    from listing_sync.adapters.base import ListingDraft, Money, StockUpdate

    w = world_factory()
    w.adapter.publish([ListingDraft("A", "a", "d", "PRODUCT", Money.of("1", "USD"), 5)])
    w.clock.now += 1
    w.emulator.generate_orders(3)
    w.emulator.set_order_status(next(iter(w.emulator.state["orders"])), "PENDING")
    w.clock.now += 600
    feeds = build(w.clock, options={"feed_threshold": 1, "feed_wait_seconds": 0}, transport=w.emulator.transport())
    feeds.push_stock([StockUpdate("A", 5)])  # a feed left IN_QUEUE
    call = direct(w.emulator)
    order_id = next(iter(w.emulator.state["orders"]))
    since = (T0 - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    every = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT"
    feed_id = next(iter(w.emulator.state["feeds"]))
    items = f"/listings/2021-08-01/items/{SELLER}"
    calls = [
        ("GET", "/orders/2026-01-01/orders", {"lastUpdatedAfter": since, "includedData": every}),
        ("GET", "/orders/2026-01-01/orders", {"createdAfter": since, "maxResultsPerPage": "1"}),
        ("GET", "/orders/2026-01-01/orders", {}),  # 400
        ("GET", f"/orders/2026-01-01/orders/{order_id}", {"includedData": every}),
        ("GET", "/orders/2026-01-01/orders/000-0000000-0000000", {}),  # 404
        ("GET", "/orders/v0/orders", {"MarketplaceIds": US, "CreatedAfter": since}),
        ("GET", "/orders/v0/orders", {"MarketplaceIds": US}),  # 400
        ("GET", f"/orders/v0/orders/{order_id}", {}),
        ("GET", f"/orders/v0/orders/{order_id}/orderItems", {}),
        ("GET", "/orders/v0/orders/000-0000000-0000000/orderItems", {}),  # 404
        ("GET", "/feeds/2021-06-30/feeds", {"feedTypes": "JSON_LISTINGS_FEED", "pageSize": "1"}),
        ("GET", "/feeds/2021-06-30/feeds", {}),  # 400
        ("DELETE", f"/feeds/2021-06-30/feeds/{feed_id}", {}),
        ("DELETE", f"/feeds/2021-06-30/feeds/{feed_id}", {}),  # 400: no longer IN_QUEUE
        ("GET", "/feeds/2021-06-30/feeds/999", {}),  # 404
        ("GET", "/feeds/2021-06-30/documents/nope", {}),  # 404
        ("GET", items, {"marketplaceIds": US, "identifiers": "A", "identifiersType": "SKU", "includedData": "issues"}),
        ("GET", items, {"marketplaceIds": US, "pageSize": "50"}),  # 400
        ("GET", f"{items}/NOPE", {"marketplaceIds": US}),  # 404
        ("DELETE", f"{items}/A", {"marketplaceIds": US, "mode": "VALIDATION_PREVIEW"}),
    ]
    for method, path, params in calls:
        call(method, path, **params)
    call("GET", f"/orders/2026-01-01/orders/{order_id}", token=False)  # 403
    patch = {"productType": "P", "patches": [{"op": "replace", "path": "/attributes/x/y", "value": [{}]}]}
    call("PATCH", f"{items}/A", body=patch, marketplaceIds=US)  # INVALID with issues
    w.emulator.quotas["getOrder"].observe(0)
    call("GET", f"/orders/2026-01-01/orders/{order_id}")  # 429
    w.emulator.now = lambda: V0_REMOVAL
    call("GET", "/orders/v0/orders", MarketplaceIds=US, CreatedAfter=since)  # 403 after the removal
    seen = check_all(answers)
    assert seen["searchOrders"] == {200, 400} and seen["getOrder"] == {200, 403, 404, 429}
    assert seen["getFeeds"] == {200, 400} and seen["cancelFeed"] == {200, 400}
    assert seen["getOrders"] == {200, 400, 403} and seen["getOrderItems"] == {200, 404}
    assert 200 in seen["patchListingsItem"] and 400 in seen["searchListingsItems"]


def test_the_response_check_itself_rejects_what_the_models_forbid():
    request = httpx.Request("GET", f"{NA}/orders/2026-01-01/orders/1")
    good = {
        "order": {
            "orderId": "1",
            "createdTime": "t",
            "lastUpdatedTime": "t",
            "salesChannel": {"channelName": "AMAZON"},
            "orderItems": [],
        }
    }
    assert check_response(request, httpx.Response(200, json=good)) == "getOrder"
    bad = [
        httpx.Response(200, json={"order": {"orderId": "1"}}),  # required fields missing
        httpx.Response(418, json={}),  # an undeclared status
        httpx.Response(400, json={"errors": [{"message": "no code"}]}),
    ]
    for response in bad:
        with pytest.raises((AssertionError, jsonschema.ValidationError)):
            check_response(request, response)
    issue = {"code": "1", "message": "m", "severity": "ERROR"}  # categories are required by the model
    put = httpx.Request("PUT", f"{NA}/listings/2021-08-01/items/S/A")
    with pytest.raises(jsonschema.ValidationError):
        check_response(
            put, httpx.Response(200, json={"sku": "A", "status": "INVALID", "submissionId": "1", "issues": [issue]})
        )
