"""OAuth refresh-token grant: exact request, caching, refresh once on errorId 1001, invalid_grant stops."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest
import respx
from listing_sync.adapters.base import AuthError, ConfigurationError, DelistRequest, ListingRef
from listing_sync.adapters.http import TraceWriter

API = "https://api.ebay.com"
TOKEN_URL = "https://api.ebay.com/identity/v1/oauth2/token"
BASIC = "Basic QXBwSWQtUFJELTAxMjNhYmNkOlBSRC1zZWNyZXQtNDU2N2VmZ2g="
REFRESH = "v^1.1#i^1#r^1#refresh-0123456789"
ACCESS = "v^1.1#i^1#p^3#access-abcdef"
WITHDRAW = f"{API}/sell/inventory/v1/offer/5000001/withdraw"
INVALID_TOKEN = {
    "errors": [{"errorId": 1001, "domain": "OAuth", "category": "REQUEST", "message": "Invalid access token"}]
}


def delist_one(adapter):
    return adapter.delist([DelistRequest("A1", ListingRef("A1", None, {"offer_id": "5000001"}))])


def test_token_request_is_the_documented_refresh_grant(adapter, api: respx.MockRouter):
    api.post(WITHDRAW).respond(200, json={"listingId": "110000000001"})
    assert delist_one(adapter)[0].ok
    token = api["token"].calls.last.request
    assert token.method == "POST"
    assert str(token.url) == TOKEN_URL
    assert token.headers["Authorization"] == BASIC
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH],
        "scope": [
            "https://api.ebay.com/oauth/api_scope/sell.inventory https://api.ebay.com/oauth/api_scope/sell.fulfillment"
        ],
    }
    assert api.calls.last.request.headers["Authorization"] == f"Bearer {ACCESS}"


def test_token_is_cached_until_shortly_before_expiry(adapter, api: respx.MockRouter, fake):
    api.post(WITHDRAW).respond(200, json={})
    delist_one(adapter)
    delist_one(adapter)
    assert api["token"].call_count == 1
    fake.advance(7200 - 300 + 1)  # inside the 5-minute margin before expires_in
    delist_one(adapter)
    assert api["token"].call_count == 2


def test_401_error_1001_refreshes_once_and_resends(adapter, api: respx.MockRouter):
    route = api.post(WITHDRAW)
    route.side_effect = [httpx.Response(401, json=INVALID_TOKEN), httpx.Response(200, json={})]
    assert delist_one(adapter)[0].ok
    assert api["token"].call_count == 2
    assert route.call_count == 2


def test_second_401_after_refresh_is_an_auth_error(adapter, api: respx.MockRouter):
    api.post(WITHDRAW).respond(401, json=INVALID_TOKEN)
    with pytest.raises(AuthError, match="re-authorize this channel"):
        delist_one(adapter)
    assert api["token"].call_count == 2  # refreshed exactly once


def test_other_401_does_not_refresh(adapter, api: respx.MockRouter):
    api.post(WITHDRAW).respond(401, json={"errors": [{"errorId": 1100, "message": "Access denied"}]})
    with pytest.raises(AuthError):
        delist_one(adapter)
    assert api["token"].call_count == 1


def test_invalid_grant_stops_the_channel(make_adapter):
    with respx.mock(assert_all_called=False) as api:
        token = api.post(TOKEN_URL).respond(
            400,
            json={
                "error": "invalid_grant",
                "error_description": "the provided authorization refresh token is invalid",
            },
        )
        withdraw = api.post(WITHDRAW).respond(200, json={})
        adapter = make_adapter()
        with pytest.raises(AuthError, match="re-authorize this channel") as first:
            delist_one(adapter)
        assert first.value.code == "invalid_grant"
        with pytest.raises(AuthError, match="re-authorize this channel"):
            delist_one(adapter)
        assert token.call_count == 1  # never retried, never hammered
        assert withdraw.call_count == 0


def test_token_endpoint_5xx_is_retried(make_adapter):
    with respx.mock(assert_all_called=False) as api:
        token = api.post(TOKEN_URL)
        token.side_effect = [
            httpx.Response(503, json={"error": "temporarily_unavailable"}),
            httpx.Response(200, json={"access_token": ACCESS, "expires_in": 7200}),
        ]
        api.post(WITHDRAW).respond(200, json={})
        assert delist_one(make_adapter())[0].ok
        assert token.call_count == 2


def test_sandbox_option_uses_sandbox_hosts(make_adapter):
    with respx.mock(assert_all_called=False) as api:
        token = api.post("https://api.sandbox.ebay.com/identity/v1/oauth2/token").respond(
            200, json={"access_token": ACCESS, "expires_in": 7200}
        )
        withdraw = api.post("https://api.sandbox.ebay.com/sell/inventory/v1/offer/5000001/withdraw").respond(
            200, json={}
        )
        assert delist_one(make_adapter(options={"sandbox": True}))[0].ok
        assert token.called and withdraw.called


def test_tokens_never_reach_the_trace(make_adapter, api: respx.MockRouter, tmp_path):
    api.post(WITHDRAW).respond(200, json={})
    trace = tmp_path / "trace.jsonl"
    delist_one(make_adapter(trace=TraceWriter(trace)))
    text = trace.read_text()
    assert "oauth2/token" in text  # the token call is traced...
    assert ACCESS not in text and REFRESH not in text and "PRD-secret" not in text  # ...but redacted


def test_missing_credentials_is_a_configuration_error(make_adapter):
    with pytest.raises(ConfigurationError, match="refresh_token"):
        make_adapter(credentials={"client_id": "a", "client_secret": "b"})
