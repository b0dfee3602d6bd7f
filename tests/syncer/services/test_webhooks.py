"""services.webhooks: a delivery verified and recorded once (replays, late ones), the delivery URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import scenario
from listing_sync.syncer.services import webhooks
from listing_sync.syncer.services.common import InvalidRequest, NotFound

SECRET = "emulator-client_secret"  # an emulated channel's stand-in for a credential whose variable is unset


@pytest.fixture
def context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    shop = scenario.CHANNEL_TEMPLATES["shopify"].replace(
        'access_token = "SHOPIFY_ACCESS_TOKEN"\n', 'access_token = "SHOPIFY_ACCESS_TOKEN"\nclient_secret = "SHOP_CS"\n'
    )
    monkeypatch.setitem(scenario.CHANNEL_TEMPLATES, "shopify", shop)
    monkeypatch.delenv("SHOP_CS", raising=False)
    return scenario.build(tmp_path, ["shopify", "taobao"], units=3).context


def delivery(order: str, updated: datetime, delivery_id: str, secret: str = SECRET) -> tuple[dict, bytes]:
    body = json.dumps({"admin_graphql_api_id": order, "updated_at": updated.isoformat()}).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Webhook-Id": delivery_id,
    }, body


def test_each_delivery_is_recorded_once_and_a_late_one_is_stale(context) -> None:
    now = datetime.now(UTC)
    first = webhooks.receive(context, "shopify", *delivery("gid://shopify/Order/7", now, "a"))
    assert first == webhooks.Received("shopify", "orders/updated", "accepted", "gid://shopify/Order/7")
    assert webhooks.receive(context, "shopify", *delivery("gid://shopify/Order/7", now, "a")).outcome == "duplicate"
    same_time = webhooks.receive(context, "shopify", *delivery("gid://shopify/Order/7", now, "b"))
    assert same_time.outcome == "accepted"  # another event of the same moment: fetching again is harmless
    late = webhooks.receive(context, "shopify", *delivery("gid://shopify/Order/7", now - timedelta(seconds=1), "c"))
    assert late.outcome == "stale"
    other = webhooks.receive(context, "shopify", *delivery("gid://shopify/Order/8", now - timedelta(hours=1), "d"))
    assert other.outcome == "accepted"


def test_untrusted_deliveries_and_unknown_channels_are_refused(context) -> None:
    with pytest.raises(webhooks.WebhookRejected, match="does not match"):
        webhooks.receive(context, "shopify", *delivery("gid://shopify/Order/7", datetime.now(UTC), "a", "nope"))
    with pytest.raises(NotFound):
        webhooks.receive(context, "nowhere", {}, b"{}")
    with pytest.raises(NotFound, match="taobao sends no webhooks"):
        webhooks.receive(context, "taobao", {}, b"{}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://sync.example.com", "https://sync.example.com/webhooks/shop"),
        ("https://sync.example.com/", "https://sync.example.com/webhooks/shop"),
        ("https://example.com/syncer", "https://example.com/syncer/webhooks/shop"),
        ("https://example.com/syncer/webhooks/shop", "https://example.com/syncer/webhooks/shop"),
    ],
)
def test_the_delivery_url_is_the_serve_address_and_the_channels_path(url: str, expected: str) -> None:
    assert webhooks.delivery_url(url, "shop") == expected


@pytest.mark.parametrize("url", ["sync.example.com", "ftp://x.example", "https://x.example/?a=1"])
def test_what_is_not_an_address_is_refused(url: str) -> None:
    with pytest.raises(InvalidRequest):
        webhooks.delivery_url(url, "shop")
