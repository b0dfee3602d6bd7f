"""Shopify order webhooks: registration on the wire, signature checks, and the emulator delivering them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest
from listing_sync.adapters import webhooks
from listing_sync.adapters.base import ListingDraft, Money, RequestRejected, WebhookRefused
from listing_sync.adapters.shopify import mapping as m
from listing_sync.adapters.shopify.adapter import ShopifyAdapter
from listing_sync.adapters.shopify.emulator import ShopifyEmulator

from tests.conftest import make_channel

from .conftest import TOKEN, endpoint, flat, gql_ok, sent

SECRET = "shpss_client_secret_1"
URL = "https://sync.example.com/webhooks/shop"
CHANNEL = make_channel(
    "shopify",
    name="shop",
    credentials={"access_token": TOKEN, "client_secret": SECRET},
    options={"shop": "demo", "api_version": "2026-07"},
)
ORDER = {
    "id": 820982911946154508,
    "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
    "updated_at": "2026-12-02T09:30:00-05:00",
    "line_items": [{"sku": "MUG", "quantity": 1}],
}


def signed(body: bytes, topic: str = "orders/create", secret: str = SECRET, **extra: str) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "x-shopify-hmac-sha256": digest,
        "x-shopify-topic": topic,
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-shop-domain": "demo.myshopify.com",
        "x-shopify-triggered-at": "2026-12-02T14:30:00.123Z",
        **extra,
    }


# ------------------------------------------------------------------------------------------ signature
def test_a_signed_order_delivery_reads_as_its_order_and_time() -> None:
    body = json.dumps(ORDER).encode()
    event = ShopifyAdapter.read_webhook(CHANNEL, signed(body), body)
    assert event.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert event.topic == "orders/create"
    assert event.order_id == "gid://shopify/Order/820982911946154508"
    assert event.updated_at is not None and event.updated_at.isoformat() == "2026-12-02T14:30:00+00:00"
    assert not event.ping


def test_the_numeric_id_stands_in_when_the_gid_is_left_out() -> None:
    body = json.dumps({"id": 42, "updated_at": "2026-12-02T09:30:00Z"}).encode()
    event = ShopifyAdapter.read_webhook(CHANNEL, signed(body, "orders/updated"), body)
    assert event.order_id == "gid://shopify/Order/42"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"x-shopify-topic": "orders/create"}, "missing_signature"),
        ({"x-shopify-hmac-sha256": "", "x-shopify-topic": "orders/create"}, "missing_signature"),
        ({"x-shopify-hmac-sha256": "AAAA", "x-shopify-topic": "orders/create"}, "bad_signature"),
    ],
)
def test_a_missing_or_wrong_signature_is_refused(headers: dict[str, str], code: str) -> None:
    body = json.dumps(ORDER).encode()
    with pytest.raises(WebhookRefused) as refused:
        ShopifyAdapter.read_webhook(CHANNEL, headers, body)
    assert refused.value.code == code
    assert SECRET not in str(refused.value) and "820982911946154508" not in str(refused.value)


def test_a_body_changed_after_signing_is_refused() -> None:
    body = json.dumps(ORDER).encode()
    headers = signed(body)
    with pytest.raises(WebhookRefused, match="does not match"):
        ShopifyAdapter.read_webhook(CHANNEL, headers, body.replace(b'"quantity": 1', b'"quantity": 9'))


def test_another_apps_secret_is_refused() -> None:
    body = json.dumps(ORDER).encode()
    with pytest.raises(WebhookRefused):
        ShopifyAdapter.read_webhook(CHANNEL, signed(body, secret="shpss_other_app"), body)


def test_a_channel_without_client_secret_cannot_accept_webhooks() -> None:
    channel = make_channel(
        "shopify", credentials={"access_token": TOKEN}, options={"shop": "d", "api_version": "2026-07"}
    )
    body = json.dumps(ORDER).encode()
    with pytest.raises(WebhookRefused, match="no client_secret credential") as refused:
        ShopifyAdapter.read_webhook(channel, signed(body), body)
    assert refused.value.code == "no_secret"


def test_the_signature_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    body = json.dumps(ORDER).encode()
    ShopifyAdapter.read_webhook(CHANNEL, signed(body), body)
    with pytest.raises(WebhookRefused):
        ShopifyAdapter.read_webhook(CHANNEL, signed(body, secret="wrong"), body)
    assert len(calls) == 2


def test_other_topics_are_read_without_an_order() -> None:
    body = b'{"id": 1}'
    event = ShopifyAdapter.read_webhook(CHANNEL, signed(body, "products/update"), body)
    assert event.topic == "products/update" and event.order_id is None


# ------------------------------------------------------------------------------------------ wire
def test_register_lists_then_creates_each_missing_order_topic(respx_mock, build) -> None:
    route = respx_mock.post(endpoint("2026-07"))
    existing = {"id": "gid://shopify/WebhookSubscription/7", "topic": "ORDERS_CREATE", "uri": URL}
    created = [
        {"id": "gid://shopify/WebhookSubscription/8", "topic": "ORDERS_UPDATED", "uri": URL},
        {"id": "gid://shopify/WebhookSubscription/9", "topic": "ORDERS_CANCELLED", "uri": URL},
    ]
    page = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [existing]}
    route.side_effect = [
        gql_ok({"webhookSubscriptions": page}),
        *(gql_ok({"webhookSubscriptionCreate": {"webhookSubscription": c, "userErrors": []}}) for c in created),
    ]
    adapter = build("2026-07")
    subscriptions = adapter.register_webhooks(URL)
    assert [(s.topic, s.id) for s in subscriptions] == [
        ("orders/create", "gid://shopify/WebhookSubscription/7"),
        ("orders/updated", "gid://shopify/WebhookSubscription/8"),
        ("orders/cancelled", "gid://shopify/WebhookSubscription/9"),
    ]
    requests = [call.request for call in route.calls]
    assert [r.method for r in requests] == ["POST"] * 3
    assert all(r.url.path == "/admin/api/2026-07/graphql.json" for r in requests)
    assert all(r.headers["X-Shopify-Access-Token"] == TOKEN for r in requests)
    assert sent(requests[0]) == {"query": m.WEBHOOKS_DOCUMENT, "variables": {"after": None}}
    assert flat(m.WEBHOOKS_DOCUMENT) == (
        "query Webhooks($after: String) { webhookSubscriptions(first: 100, after: $after) "
        "{ pageInfo { hasNextPage endCursor } nodes { id topic uri } } }"
    )
    assert [sent(r) for r in requests[1:]] == [
        {
            "query": m.WEBHOOK_CREATE_DOCUMENT,
            "variables": {"topic": topic, "webhookSubscription": {"uri": URL, "format": "JSON"}},
        }
        for topic in ("ORDERS_UPDATED", "ORDERS_CANCELLED")
    ]


def test_a_refused_subscription_is_an_error_with_shopifys_words(respx_mock, build) -> None:
    empty = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}
    error = {"field": ["webhookSubscription", "callbackUrl"], "message": "Address protocol http:// is not supported"}
    respx_mock.post(endpoint("2026-07")).side_effect = [
        gql_ok({"webhookSubscriptions": empty}),
        gql_ok({"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": [error]}}),
    ]
    with pytest.raises(RequestRejected, match="ORDERS_CREATE .*Address protocol http:// is not supported"):
        build("2026-07").register_webhooks("http://sync.example.com/webhooks/shop")


def test_one_order_is_read_by_id(respx_mock, build) -> None:
    node = {
        "id": "gid://shopify/Order/5",
        "name": "#1005",
        "createdAt": "2026-12-02T01:00:00Z",
        "updatedAt": "2026-12-02T01:00:00Z",
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "currencyCode": "USD",
        "totalPriceSet": {"shopMoney": {"amount": "12.00", "currencyCode": "USD"}},
        "totalShippingPriceSet": {"shopMoney": {"amount": "2.00", "currencyCode": "USD"}},
        "shippingAddress": None,
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "id": "gid://shopify/LineItem/9",
                    "sku": "MUG",
                    "title": "Mug",
                    "quantity": 2,
                    "originalUnitPriceSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}},
                    "variant": None,
                }
            ],
        },
    }
    route = respx_mock.post(endpoint("2026-07")).mock(return_value=gql_ok({"order": node}))
    order = build("2026-07").order("5")
    assert order is not None and order.external_id == "gid://shopify/Order/5"
    assert [(line.sku, line.quantity) for line in order.lines] == [("MUG", 2)]
    body = sent(route.calls[0].request)
    assert body["variables"] == {"id": "gid://shopify/Order/5"}
    assert flat(body["query"]).startswith("query Order($id: ID!) { order(id: $id) { id name createdAt updatedAt")


# ------------------------------------------------------------------------------------------ emulator
def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def shop():
    emulator = ShopifyEmulator(credentials={"access_token": TOKEN, "client_secret": SECRET}, options={"shop": "demo"})
    delivered: list[tuple[str, dict[str, str], bytes]] = []

    def sender(url: str, headers, body: bytes) -> int:
        delivered.append((url, {k.lower(): v for k, v in headers.items()}, body))
        return 200

    emulator.webhook_sender = sender
    adapter = ShopifyAdapter(CHANNEL, transport=emulator.transport())
    assert adapter.publish([ListingDraft("MUG", "Mug", "m", "Mugs", Money.of("7.50", "USD"), 9)])[0].ok
    yield emulator, adapter, delivered
    adapter.close()


def test_the_emulator_delivers_signed_order_events_to_registered_uris(shop) -> None:
    emulator, adapter, delivered = shop
    first = adapter.register_webhooks(URL)
    assert adapter.register_webhooks(URL) == first  # nothing doubled
    assert [w.topic for w in adapter.webhooks()] == ["orders/create", "orders/updated", "orders/cancelled"]
    [oid] = emulator.generate_orders(1)
    wait_for(lambda: len(delivered) == 1)
    url, headers, body = delivered[0]
    assert url == URL and headers["x-shopify-topic"] == "orders/create"
    assert headers["x-shopify-shop-domain"] == "demo.myshopify.com"
    assert headers["x-shopify-api-version"] == "2026-07"
    event = ShopifyAdapter.read_webhook(CHANNEL, headers, body)  # the emulator signs as Shopify does
    assert event.order_id == oid
    order = adapter.order(event.order_id)
    assert order is not None and order.lines[0].sku == "MUG"
    emulator.set_order_status(oid, cancelled=True)
    wait_for(lambda: len(delivered) == 3)
    assert sorted(h["x-shopify-topic"] for _, h, _ in delivered[1:]) == ["orders/cancelled", "orders/updated"]
    assert len({h["x-shopify-webhook-id"] for _, h, _ in delivered}) == 3
    assert [entry["status"] for entry in emulator.webhook_log] == [200, 200, 200]


def test_the_emulator_refuses_plain_http_addresses_and_repeated_topics(shop) -> None:
    emulator, adapter, _ = shop
    with pytest.raises(RequestRejected, match="Address protocol http:// is not supported"):
        adapter.register_webhooks("http://sync.example.com/webhooks/shop")
    adapter.register_webhooks("http://127.0.0.1:8000/webhooks/shop")  # loopback, for local runs
    variables = {"topic": "ORDERS_CREATE", "webhookSubscription": {"uri": "http://127.0.0.1:8000/webhooks/shop"}}
    answer = emulator.handle(
        httpx.Request(
            "POST",
            endpoint("2026-07"),
            headers={"X-Shopify-Access-Token": TOKEN},
            json={"query": m.WEBHOOK_CREATE_DOCUMENT, "variables": variables},
        )
    ).json()
    errors = answer["data"]["webhookSubscriptionCreate"]["userErrors"]
    assert [e["message"] for e in errors] == ["Address for this topic has already been taken"]


def test_an_order_the_shop_does_not_know_is_none(shop) -> None:
    _, adapter, _ = shop
    assert adapter.order("gid://shopify/Order/424242") is None
