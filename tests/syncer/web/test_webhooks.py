"""POST /webhooks/{channel}: signatures, the WooCommerce ping, replays and late deliveries changing nothing
twice, and an emulator-delivered webhook pushing the new availability to the other channels."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import scenario
from fastapi.testclient import TestClient
from listing_sync.syncer.models import Order, StockMovement, WebhookDelivery
from listing_sync.syncer.services import webhooks
from listing_sync.syncer.web.app import create_app
from sqlalchemy import func, select

#: what an emulated channel's credentials resolve to when their variables are not set (the channels file)
SHOP_SECRET = "emulator-client_secret"
WOO_SECRET = "emulator-webhook_secret"
SKU = "TEA-LJ-250"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    shop = scenario.CHANNEL_TEMPLATES["shopify"].replace(
        'access_token = "SHOPIFY_ACCESS_TOKEN"\n', 'access_token = "SHOPIFY_ACCESS_TOKEN"\nclient_secret = "SHOP_CS"\n'
    )
    woo = scenario.CHANNEL_TEMPLATES["woocommerce"].replace(
        'consumer_secret = "WOO_CONSUMER_SECRET"\n',
        'consumer_secret = "WOO_CONSUMER_SECRET"\nwebhook_secret = "WOO_WS"\n',
    )
    monkeypatch.setitem(scenario.CHANNEL_TEMPLATES, "shopify", shop)
    monkeypatch.setitem(scenario.CHANNEL_TEMPLATES, "woocommerce", woo)
    for name in ("SHOP_CS", "WOO_WS"):
        monkeypatch.delenv(name, raising=False)
    sc = scenario.build(tmp_path, ["shopify", "woocommerce", "taobao"], units=10)
    app = create_app(sc.context)  # the app `syncer serve` runs: it includes the webhook router
    with TestClient(app) as client:
        yield sc, app, client
    runner = getattr(app.state, "webhook_runner", None)
    if runner is not None:
        assert runner.wait(30)


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_delivery(order_id: str, updated: datetime, delivery: str, topic: str = "orders/updated"):
    body = json.dumps({"admin_graphql_api_id": order_id, "updated_at": updated.isoformat()}).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(SHOP_SECRET, body),
        "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Shop-Domain": "demo-tea-house.myshopify.com",
        "Content-Type": "application/json",
    }
    return body, headers


def counts(sc) -> tuple[int, int, int]:
    with sc.context.session() as s:
        orders = s.scalar(select(func.count()).select_from(Order))
        reserves = s.scalar(select(func.count()).select_from(StockMovement).where(StockMovement.kind == "reserve"))
        deliveries = s.scalar(select(func.count()).select_from(WebhookDelivery))
    return orders, reserves, deliveries


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def remote_quantity(sc, channel: str) -> int | None:
    with sc.context.adapter(sc.context.channel(channel)) as adapter:
        return next((r.quantity for r in adapter.listings() if r.sku == SKU), None)


# ----------------------------------------------------------------------------------------- signature
def test_a_bad_or_missing_signature_is_401_with_one_log_line_and_nothing_recorded(world, caplog) -> None:
    sc, _, client = world
    body, headers = shopify_delivery("gid://shopify/Order/1", datetime.now(UTC), "d-1")
    caplog.set_level(logging.WARNING, logger="syncer.web.webhooks")
    bad = client.post("/webhooks/shopify", content=body, headers={**headers, "X-Shopify-Hmac-Sha256": sign("x", body)})
    missing = client.post(
        "/webhooks/shopify", content=body, headers={k: v for k, v in headers.items() if "Hmac" not in k}
    )
    assert (bad.status_code, missing.status_code) == (401, 401)
    assert bad.json() == {"detail": "webhook signature missing or invalid"}
    lines = [r.getMessage() for r in caplog.records if r.name == "syncer.web.webhooks"]
    assert len(lines) == 2
    assert "does not match" in lines[0] and "no X-Shopify-Hmac-Sha256 header" in lines[1]
    assert all("shopify" in line and SHOP_SECRET not in line and "Order/1" not in line for line in lines)
    assert counts(sc) == (0, 0, 0)


def test_a_woocommerce_delivery_with_a_wrong_signature_is_401(world) -> None:
    _, _, client = world
    body = json.dumps({"id": 5, "date_modified_gmt": "2026-12-02T01:00:00"}).encode()
    headers = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": sign("not-it", body)}
    assert client.post("/webhooks/woocommerce", content=body, headers=headers).status_code == 401


def test_the_woocommerce_ping_gets_200(world) -> None:
    _, _, client = world
    answer = client.post(
        "/webhooks/woocommerce",
        content=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200 and answer.json()["outcome"] == "ping"


def test_a_body_beyond_5_mib_is_refused_unread(world) -> None:
    sc, _, client = world
    body = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    assert client.post("/webhooks/shopify", content=body).status_code == 413
    assert counts(sc) == (0, 0, 0)


def test_an_unknown_channel_or_one_without_webhooks_is_404(world) -> None:
    _, app, client = world
    assert "/webhooks/{channel}" in app.openapi()["paths"]  # create_app includes the router
    assert client.post("/webhooks/nowhere", content=b"{}").status_code == 404
    assert client.post("/webhooks/taobao", content=b"{}").status_code == 404


# ---------------------------------------------------------------------------------- nothing twice
def test_a_replayed_delivery_changes_nothing_twice(world) -> None:
    sc, app, client = world
    [oid] = sc.sell("shopify")
    body, headers = shopify_delivery(oid, datetime.now(UTC), "same-delivery", "orders/create")
    first = client.post("/webhooks/shopify", content=body, headers=headers)
    assert first.json() == {"outcome": "accepted", "processing": "inline"}
    assert app.state.webhook_runner.wait(30)
    after_first = counts(sc)
    again = client.post("/webhooks/shopify", content=body, headers=headers)
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate", "processing": None}
    assert app.state.webhook_runner.wait(30)
    assert counts(sc) == after_first == (1, after_first[1], 1)
    assert after_first[1] >= 1


def test_an_older_delivery_after_a_newer_one_changes_nothing(world) -> None:
    sc, app, client = world
    [oid] = sc.sell("shopify")
    now = datetime.now(UTC)
    newer = client.post("/webhooks/shopify", content=(d := shopify_delivery(oid, now, "n-2"))[0], headers=d[1])
    assert newer.json()["outcome"] == "accepted"
    assert app.state.webhook_runner.wait(30)
    before = counts(sc)
    old_body, old_headers = shopify_delivery(oid, now - timedelta(minutes=3), "n-1", "orders/create")
    older = client.post("/webhooks/shopify", content=old_body, headers=old_headers)
    assert older.json() == {"outcome": "stale", "processing": None}
    assert app.state.webhook_runner.wait(30)
    assert counts(sc)[:2] == before[:2]
    with sc.context.session() as s:
        assert s.scalars(select(WebhookDelivery.outcome).order_by(WebhookDelivery.id)).all() == ["accepted", "stale"]


def test_the_answer_comes_back_before_the_work_is_done(world, monkeypatch: pytest.MonkeyPatch) -> None:
    sc, app, client = world
    [oid] = sc.sell("shopify")
    real_fetch = webhooks.fetch_orders
    release, fetched = threading.Event(), threading.Event()

    def held(*args, **kwargs):  # the work cannot finish until the answer has come back
        assert release.wait(30)
        try:
            return real_fetch(*args, **kwargs)
        finally:
            fetched.set()

    monkeypatch.setattr(webhooks, "fetch_orders", held)
    body, headers = shopify_delivery(oid, datetime.now(UTC), "quick", "orders/create")
    assert client.post("/webhooks/shopify", content=body, headers=headers).status_code == 200
    assert not fetched.is_set()
    release.set()
    assert app.state.webhook_runner.wait(30)
    assert fetched.is_set()
    assert counts(sc)[0] == 1


# ------------------------------------------------------------------------------------ end to end
@pytest.mark.parametrize("seller", ["shopify", "woocommerce"])
def test_an_emulator_delivered_webhook_sets_the_other_channels_stock(world, seller: str) -> None:
    sc, app, client = world
    emulator = sc.emulator(seller)
    emulator.webhook_sender = lambda url, headers, body: (
        client.post(url, content=body, headers=dict(headers)).status_code
    )
    done = webhooks.register(sc.context, seller, "http://testserver")
    assert done.url == f"http://testserver/webhooks/{seller}"
    if seller == "woocommerce":  # the ping WooCommerce sends on creation answered 200
        wait_for(lambda: len(emulator.webhook_log) == 2)
        assert [e["status"] for e in emulator.webhook_log] == [200, 200]
    others = [c.name for c in sc.context.channels if c.name != seller]
    assert {name: remote_quantity(sc, name) for name in others} == dict.fromkeys(others, 10)
    sent = len(emulator.webhook_log)
    [oid] = emulator.generate_orders(1)  # placed now: the cursor pull would not see it for a minute on Shopify
    wait_for(lambda: len(emulator.webhook_log) > sent)
    assert emulator.webhook_log[-1]["status"] == 200
    assert app.state.webhook_runner.wait(30)
    on_hand, reserved = sc.level()
    assert reserved >= 1
    assert {name: remote_quantity(sc, name) for name in others} == dict.fromkeys(others, on_hand - reserved)
    with sc.context.session() as s:
        assert s.scalars(select(Order.external_id)).all() == [oid]
