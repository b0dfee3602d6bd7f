"""Webhook signatures shared by marketplaces that sign the raw body with HMAC-SHA256 in base64 (Shopify,
WooCommerce), and the checks every adapter's ``read_webhook`` makes before it trusts a delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from listing_sync.adapters.base import WebhookRefused
from listing_sync.config.channels import ChannelConfig, MissingCredential


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(body, secret)): what the marketplace puts in its signature header."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def signature_matches(secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is the body's signature, compared in constant time (no early exit on the first
    differing byte, so response times tell an attacker nothing)."""
    return hmac.compare_digest(sign(secret, body).encode("ascii"), signature.strip().encode("utf-8", "replace"))


def verify(channel: ChannelConfig, headers: Mapping[str, str], body: bytes, *, header: str, credential: str) -> None:
    """Refuse the delivery unless ``header`` holds the body's signature under the channel's ``credential``.
    Messages name the header and the credential, never their values."""
    try:
        secret = channel.credential(credential)
    except MissingCredential:
        raise WebhookRefused(
            f"no {credential} credential for channel {channel.name}: add it under [channels.credentials] "
            "to accept its webhooks",
            channel=channel.name,
            code="no_secret",
        ) from None
    signature = headers.get(header.lower())
    if not signature:
        raise WebhookRefused(f"no {header} header", channel=channel.name, code="missing_signature")
    if not signature_matches(secret, body, signature):
        raise WebhookRefused(f"{header} does not match the body", channel=channel.name, code="bad_signature")


def body_digest(body: bytes) -> str:
    """A short digest of the body (a dedupe key part where the marketplace's delivery id is not unique)."""
    return hashlib.sha256(body).hexdigest()[:32]


def payload(channel: ChannelConfig, body: bytes) -> dict[str, Any]:
    """The signed body as a JSON object; a signed body that is not one is refused (nothing to act on)."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise WebhookRefused("the signed body is not a JSON object", channel=channel.name, code="bad_payload")
    return data
