"""WooCommerce order webhooks: registration on the wire, the ping, signature checks and delivery ids, and
the emulator delivering them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest
from listing_sync.adapters.base import ListingDraft, Money, WebhookRefused
from listing_sync.adapters.woocommerce.adapter import WooCommerceAdapter
from listing_sync.adapters.woocommerce.emulator import WooCommerceEmulator

from tests.conftest import make_channel

from .conftest import CREDS

SECRET = "wh-secret-7f3a"
URL = "https://sync.example.com/webhooks/woo"
API = "https://shop.example.com/wp-json/wc/v3"
CHANNEL = make_channel("woocommerce", name="woo", credentials={**CREDS, "webhook_secret": SECRET}, base_url="emulator:")
ORDER = {"id": 727, "status": "processing", "date_modified_gmt": "2026-12-02T01:30:05", "line_items": []}


def signed(body: bytes, topic: str = "order.updated", secret: str = SECRET, delivery: str = "d41d8cd9") -> dict:
    return {
        "x-wc-webhook-source": "https://shop.example.com/",
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-resource": "order",
        "x-wc-webhook-event": topic.split(".")[1],
        "x-wc-webhook-signature": base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode(),
        "x-wc-webhook-id": "31",
        "x-wc-webhook-delivery-id": delivery,
    }


def test_a_signed_order_delivery_reads_as_its_order_and_time() -> None:
    body = json.dumps(ORDER).encode()
    event = WooCommerceAdapter.read_webhook(CHANNEL, signed(body), body)
    assert (event.topic, event.order_id, event.ping) == ("order.updated", "727", False)
    assert event.updated_at is not None and event.updated_at.isoformat() == "2026-12-02T01:30:05+00:00"


def test_the_delivery_id_is_kept_apart_per_body_since_woocommerce_repeats_it_within_a_second() -> None:
    one, two = json.dumps(ORDER).encode(), json.dumps({**ORDER, "id": 728}).encode()
    first = WooCommerceAdapter.read_webhook(CHANNEL, signed(one), one)
    second = WooCommerceAdapter.read_webhook(CHANNEL, signed(two), two)
    replay = WooCommerceAdapter.read_webhook(CHANNEL, signed(one), one)
    assert first.delivery_id.startswith("d41d8cd9:")
    assert first.delivery_id != second.delivery_id
    assert replay.delivery_id == first.delivery_id


def test_the_creation_ping_needs_no_signature() -> None:
    event = WooCommerceAdapter.read_webhook(CHANNEL, {"user-agent": "WooCommerce/9.4 Hookshot"}, b"webhook_id=31")
    assert event.ping and event.order_id is None


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({"x-wc-webhook-topic": "order.updated"}, json.dumps(ORDER).encode(), "missing_signature"),
        ({"x-wc-webhook-signature": "bm90IGl0", "x-wc-webhook-topic": "order.updated"}, b"{}", "bad_signature"),
        ({"x-wc-webhook-signature": "bm90IGl0"}, b"webhook_id=31", "bad_signature"),  # a "ping" with a bad signature
    ],
)
def test_a_missing_or_wrong_signature_is_refused(headers: dict, body: bytes, code: str) -> None:
    with pytest.raises(WebhookRefused) as refused:
        WooCommerceAdapter.read_webhook(CHANNEL, headers, body)
    assert refused.value.code == code
    assert SECRET not in str(refused.value)


def test_a_channel_without_webhook_secret_cannot_accept_deliveries() -> None:
    channel = make_channel("woocommerce", credentials=CREDS, base_url="emulator:")
    body = json.dumps(ORDER).encode()
    with pytest.raises(WebhookRefused, match="no webhook_secret credential"):
        WooCommerceAdapter.read_webhook(channel, signed(body), body)


def test_register_lists_then_posts_each_missing_order_topic(respx_mock, make_adapter) -> None:
    listed = respx_mock.get(f"{API}/webhooks").mock(
        return_value=httpx.Response(
            200,
            json=[{"id": 30, "topic": "order.created", "delivery_url": URL, "status": "active"}],
            headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"},
        )
    )
    created = respx_mock.post(f"{API}/webhooks").mock(
        return_value=httpx.Response(
            201, json={"id": 31, "topic": "order.updated", "delivery_url": URL, "status": "active"}
        )
    )
    channel = make_channel(
        "woocommerce", credentials={**CREDS, "webhook_secret": SECRET}, options={"site": "shop.example.com"}
    )
    adapter = WooCommerceAdapter(channel)
    try:
        subscriptions = adapter.register_webhooks(URL)
    finally:
        adapter.close()
    assert [(s.id, s.topic) for s in subscriptions] == [("30", "order.created"), ("31", "order.updated")]
    [list_call] = listed.calls
    assert dict(list_call.request.url.params) == {"per_page": "100", "page": "1", "orderby": "id", "order": "asc"}
    [create_call] = created.calls
    assert create_call.request.method == "POST" and create_call.request.url.path == "/wp-json/wc/v3/webhooks"
    assert create_call.request.headers["Authorization"].startswith("Basic ")
    assert json.loads(create_call.request.content) == {
        "name": "listing-sync order.updated",
        "topic": "order.updated",
        "delivery_url": URL,
        "secret": SECRET,
        "status": "active",
    }


def test_one_order_is_read_by_id_and_an_unknown_one_is_none(respx_mock, make_adapter) -> None:
    respx_mock.get(f"{API}/orders/404").mock(
        return_value=httpx.Response(
            404,
            json={"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}},
        )
    )
    route = respx_mock.get(f"{API}/orders/727")
    route.mock(
        return_value=httpx.Response(
            200, json={**ORDER, "date_created_gmt": "2026-12-02T01:30:00", "currency": "USD", "total": "5.00"}
        )
    )
    adapter = make_adapter()
    order = adapter.order("727")
    assert order is not None and order.external_id == "727"
    assert route.calls[0].request.method == "GET"
    assert adapter.order("404") is None


# ------------------------------------------------------------------------------------------ emulator
def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_emulator_pings_on_creation_then_delivers_signed_orders() -> None:
    emulator = WooCommerceEmulator(credentials=CREDS)
    delivered: list[tuple[str, dict[str, str], bytes]] = []
    emulator.webhook_sender = lambda url, headers, body: delivered.append((url, dict(headers), body)) or 200
    adapter = WooCommerceAdapter(CHANNEL, transport=emulator.transport())
    try:
        assert adapter.publish([ListingDraft("MUG", "Mug", "m", "12", Money.of("7.50", "USD"), 9)])[0].ok
        subscriptions = adapter.register_webhooks(URL)
        assert adapter.register_webhooks(URL) == subscriptions
        assert [(s.topic, s.status) for s in adapter.webhooks()] == [
            ("order.created", "active"),
            ("order.updated", "active"),
        ]
        assert all(
            "secret" not in row for row in emulator.list_webhooks(httpx.Request("GET", f"{API}/webhooks")).json()
        )
        wait_for(lambda: len(delivered) == 2)
        assert sorted(body for _, _, body in delivered) == sorted(f"webhook_id={s.id}".encode() for s in subscriptions)
        [oid] = emulator.generate_orders(1)
        wait_for(lambda: len(delivered) == 3)
        _, headers, body = delivered[2]
        assert headers["X-WC-Webhook-Topic"] == "order.created" and headers["X-WC-Webhook-Resource"] == "order"
        event = WooCommerceAdapter.read_webhook(CHANNEL, {k.lower(): v for k, v in headers.items()}, body)
        assert event.order_id == oid
        order = adapter.order(oid)
        assert order is not None and order.lines[0].sku == "MUG"
        emulator.set_order_status(oid, "cancelled")
        wait_for(lambda: len(delivered) == 4)
        assert delivered[3][1]["X-WC-Webhook-Topic"] == "order.updated"
    finally:
        adapter.close()


def test_register_sets_a_disabled_subscription_active_again(respx_mock) -> None:
    rows = [
        {"id": 30, "topic": "order.created", "delivery_url": URL, "status": "disabled"},
        {"id": 31, "topic": "order.updated", "delivery_url": URL, "status": "active"},
    ]
    respx_mock.get(f"{API}/webhooks").mock(
        return_value=httpx.Response(200, json=rows, headers={"X-WP-Total": "2", "X-WP-TotalPages": "1"})
    )
    put = respx_mock.put(f"{API}/webhooks/30").mock(
        return_value=httpx.Response(200, json={**rows[0], "status": "active"})
    )
    created = respx_mock.post(f"{API}/webhooks")
    channel = make_channel(
        "woocommerce", credentials={**CREDS, "webhook_secret": SECRET}, options={"site": "shop.example.com"}
    )
    adapter = WooCommerceAdapter(channel)
    try:
        subscriptions = adapter.register_webhooks(URL)
    finally:
        adapter.close()
    assert [(s.id, s.status) for s in subscriptions] == [("30", "active"), ("31", "active")]
    assert json.loads(put.calls[0].request.content) == {"status": "active", "secret": SECRET}
    assert not created.called


def test_the_emulator_refuses_a_webhook_without_topic_or_url() -> None:
    emulator = WooCommerceEmulator(credentials=CREDS)
    no_topic = emulator.create_webhook(httpx.Request("POST", f"{API}/webhooks", json={"delivery_url": URL}))
    assert no_topic.status_code == 400 and no_topic.json()["code"] == "woocommerce_rest_webhook_invalid_topic"
    no_url = emulator.create_webhook(httpx.Request("POST", f"{API}/webhooks", json={"topic": "order.created"}))
    assert no_url.status_code == 400 and no_url.json()["code"] == "woocommerce_rest_webhook_invalid_delivery_url"


def test_the_emulator_reactivates_a_disabled_webhook_without_a_second_one() -> None:
    emulator = WooCommerceEmulator(credentials=CREDS)
    emulator.webhook_sender = lambda url, headers, body: 200
    adapter = WooCommerceAdapter(CHANNEL, transport=emulator.transport())
    try:
        first = adapter.register_webhooks(URL)
        emulator.state["webhooks"][first[0].id]["status"] = "disabled"  # as after more than 5 failed deliveries
        assert [s.status for s in adapter.webhooks()] == ["disabled", "active"]
        again = adapter.register_webhooks(URL)
        assert [(s.id, s.status) for s in again] == [(s.id, "active") for s in first]
        assert len(emulator.state["webhooks"]) == 2
    finally:
        adapter.close()
