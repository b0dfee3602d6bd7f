"""Login with Amazon as the emulator referees it (adapters/amazon/emulated_lwa.py): the service's own rules,
with hand-written request bodies as vectors, reserved characters (``:/ +&=%~`` and CJK) in every credential,
and the adapter's own token request checked against those rules (not against the adapter's code)."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import httpx
import pytest
from listing_sync.adapters.amazon.auth import token_request
from listing_sync.adapters.amazon.emulator import AmazonEmulator
from listing_sync.adapters.base import AuthError, OrderCursor

from tests.adapters.amazon.conftest import CREDS, SELLER, build

URL = "https://api.amazon.com/auth/o2/token"
FORM = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}
# every credential holds the characters a form encoder must escape, and some that it must not
ODD = {
    "client_id": "amzn1.application-oa2-client.id:/ +&=%~客户",
    "client_secret": "amzn1.oa2-cs.v1.s3cr3t:/ +&=%~秘密+",
    "refresh_token": "Atzr|IwE/+=&%~ 令牌:x",
}


def emulator(clock, credentials=None) -> AmazonEmulator:
    creds = dict(credentials or ODD)
    return AmazonEmulator(credentials=creds, options={"seller_id": SELLER}, clock=clock, now=clock.utc)


def post(emu: AmazonEmulator, body: bytes | str, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return emu.handle(httpx.Request("POST", URL, content=content, headers=headers if headers is not None else FORM))


def form(**fields: str) -> str:
    """A body encoded by hand as HTML forms are (RFC 1866 / WHATWG: space as +, everything else %XX)."""
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in fields.items())


def refresh_form(creds=ODD) -> dict[str, str]:
    return {"grant_type": "refresh_token", **creds}


def test_a_correctly_encoded_refresh_grant_is_answered_as_lwa_does(clock):
    emu = emulator(clock)
    answer = post(emu, form(**refresh_form()))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["access_token"].startswith("Atza|") and len(body["access_token"]) >= 350
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["refresh_token"] == ODD["refresh_token"]
    assert answer.headers["cache-control"] == "no-store"
    assert emu.state["tokens"][body["access_token"]] == clock.now + 3600


def test_percent_encoding_of_spaces_is_the_same_credential(clock):
    """%20 and + are both a space in a form; %2B is the plus."""
    body = "&".join(f"{k}={quote(v, safe='')}" for k, v in refresh_form().items())
    assert post(emulator(clock), body).status_code == 200


@pytest.mark.parametrize("field", ["client_secret", "refresh_token"])
def test_an_unencoded_plus_or_ampersand_breaks_the_credential(clock, field):
    raw = {**refresh_form(), field: ODD[field]}
    body = "&".join(f"{k}={v}" for k, v in raw.items())  # no encoding: '+' reads as a space, '&' splits
    answer = post(emulator(clock), body)
    assert answer.status_code in (400, 401) and answer.json()["error"] in (
        "invalid_client",
        "invalid_grant",
        "invalid_request",
    )


def test_the_adapters_token_request_meets_the_rules(clock):
    request = token_request(URL, ODD["client_id"], ODD["client_secret"], ODD["refresh_token"])
    answer = emulator(clock).handle(request)
    assert answer.status_code == 200 and answer.json()["access_token"].startswith("Atza|")


def test_http_basic_client_authentication(clock):
    emu = emulator(clock)
    user = f"{quote_plus(ODD['client_id'])}:{quote_plus(ODD['client_secret'])}"
    basic = {**FORM, "Authorization": "Basic " + base64.b64encode(user.encode()).decode()}
    grant = form(grant_type="refresh_token", refresh_token=ODD["refresh_token"])
    assert post(emu, grant, basic).status_code == 200
    both = post(emu, form(**refresh_form()), basic)
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"
    wrong = {**FORM, "Authorization": "Basic " + base64.b64encode(b"someone:else").decode()}
    assert post(emu, grant, wrong).json()["error"] == "invalid_client"
    assert post(emu, grant, {**FORM, "Authorization": "Bearer x"}).status_code == 401


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [
        (form(**refresh_form()), {"Content-Type": "application/json"}, 400, "invalid_request"),
        (form(**refresh_form()) + "&grant_type=refresh_token", FORM, 400, "invalid_request"),
        (form(**{k: v for k, v in refresh_form().items() if k != "grant_type"}), FORM, 400, "invalid_request"),
        (form(**{k: v for k, v in refresh_form().items() if k != "refresh_token"}), FORM, 400, "invalid_request"),
        (form(**{**refresh_form(), "refresh_token": "Atzr|another"}), FORM, 400, "invalid_grant"),
        (form(**{**refresh_form(), "client_secret": "wrong"}), FORM, 401, "invalid_client"),
        (form(**{k: v for k, v in refresh_form().items() if k != "client_secret"}), FORM, 401, "invalid_client"),
        (form(**{**refresh_form(), "grant_type": "password"}), FORM, 400, "unsupported_grant_type"),
        (b"grant_type=refresh_token&client_id=\xff", FORM, 400, "invalid_request"),
    ],
    ids=[
        "json",
        "repeated",
        "no-grant",
        "no-refresh-token",
        "other-grant",
        "bad-secret",
        "no-secret",
        "password",
        "not-utf8",
    ],
)
def test_refusals(clock, body, headers, status, error):
    answer = post(emulator(clock), body, headers)
    assert answer.status_code == status and answer.json()["error"] == error
    assert answer.json()["error_description"]


def test_grantless_tokens_have_a_scope_and_open_no_seller_operation(clock):
    emu = emulator(clock)
    creds = {k: ODD[k] for k in ("client_id", "client_secret")}
    bad = post(emu, form(grant_type="client_credentials", scope="sellingpartnerapi::orders", **creds))
    assert bad.json()["error"] == "invalid_scope"
    answer = post(emu, form(grant_type="client_credentials", scope="sellingpartnerapi::notifications", **creds))
    assert answer.status_code == 200 and "refresh_token" not in answer.json()
    token = answer.json()["access_token"]
    listing = httpx.Request(
        "GET",
        f"https://sellingpartnerapi-na.amazon.com/listings/2021-08-01/items/{SELLER}?marketplaceIds=ATVPDKIKX0DER",
        headers={"x-amz-access-token": token},
    )
    refused = emu.handle(listing)
    assert refused.status_code == 403 and "grantless" in json.loads(refused.content)["errors"][0]["details"]


def test_tokens_expire_after_an_hour(clock):
    emu = emulator(clock)
    token = post(emu, form(**refresh_form())).json()["access_token"]
    request = httpx.Request(
        "GET",
        "https://sellingpartnerapi-na.amazon.com/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z",
        headers={"x-amz-access-token": token},
    )
    assert emu.handle(request).status_code == 200
    clock.now += 3600
    expired = emu.handle(request)
    assert expired.status_code == 403 and "expired" in json.loads(expired.content)["errors"][0]["details"]


def test_the_adapter_signs_in_with_reserved_characters_and_is_refused_with_wrong_ones(clock):
    emu = emulator(clock)
    adapter = build(clock, credentials=dict(ODD), transport=emu.transport(), base_url="emulator:")
    assert adapter.orders_since(OrderCursor(clock.utc())).done  # nothing to ask yet: no call made
    list(adapter.listings())  # signs in, then reads
    assert any(r.url.path.endswith("/auth/o2/token") for r in emu.requests)
    wrong = build(clock, credentials=dict(CREDS), transport=emu.transport(), base_url="emulator:")
    with pytest.raises(AuthError) as caught:
        list(wrong.listings())
    assert caught.value.code == "invalid_client"
