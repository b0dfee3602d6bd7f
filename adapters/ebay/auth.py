"""eBay OAuth: a user access token from the refresh-token grant, cached and refreshed once on errorId 1001.

Token request (developer.ebay.com, oauth-refresh-token-request)::

    POST /identity/v1/oauth2/token
    Authorization: Basic base64(client_id:client_secret)
    Content-Type: application/x-www-form-urlencoded

    grant_type=refresh_token&refresh_token=...&scope=<space-separated scopes>

A refusal of the refresh token itself (HTTP 400 ``invalid_grant``) or of the client (``invalid_client``)
stops the channel: every later request fails at once with an :class:`AuthError` telling the user to
re-authorize, instead of hammering the token endpoint (50,000 refreshes a day) forever.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Sequence

import httpx
from listing_sync.adapters.base import AuthError, RateLimited, TransientError
from listing_sync.adapters.http import Redactor, RefreshingTokenAuth, parse_retry_after
from listing_sync.adapters.tokens import TokenCache

TOKEN_PATH = "/identity/v1/oauth2/token"
SCOPE_INVENTORY = "https://api.ebay.com/oauth/api_scope/sell.inventory"
SCOPE_FULFILLMENT = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
DEFAULT_SCOPES = (SCOPE_INVENTORY, SCOPE_FULFILLMENT)
#: errorId of "Invalid access token" (domain OAuth) on an expired or revoked user token
INVALID_TOKEN_ERROR = 1001


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` value of the token request: ``Basic base64(client_id:client_secret)``."""
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def token_request(
    base_url: str, client_id: str, client_secret: str, refresh_token: str, scopes: Sequence[str]
) -> httpx.Request:
    """The refresh-token grant request (form body; httpx URL-encodes the space-separated scopes)."""
    return httpx.Request(
        "POST",
        f"{base_url}{TOKEN_PATH}",
        headers={
            "Authorization": basic_credentials(client_id, client_secret),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": " ".join(scopes)},
    )


def _body(response: httpx.Response) -> dict:
    try:
        data = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_token(response: httpx.Response) -> tuple[str, float]:
    """``(access_token, expires_in)`` from a token response, or the typed error it means."""
    status = response.status_code
    body = _body(response)
    if status == 200 and body.get("access_token"):
        return str(body["access_token"]), float(body.get("expires_in") or 7200)
    error = str(body.get("error") or "")
    why = str(body.get("error_description") or "")
    if status == 429:
        raise RateLimited(
            "eBay throttled the token endpoint",
            status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status >= 500:
        raise TransientError(f"eBay token endpoint failed (HTTP {status})", status=status)
    if error == "invalid_grant":
        raise AuthError(
            f"eBay refused the refresh token (invalid_grant: {why or 'expired or revoked'}): "
            "re-authorize this channel (new consent, new refresh token)",
            status=status,
            code="invalid_grant",
        )
    if error == "invalid_client":
        raise AuthError(
            "eBay refused the client id/secret (invalid_client): check this channel's client_id and "
            "client_secret, then re-authorize this channel",
            status=status,
            code="invalid_client",
        )
    if error == "invalid_scope":
        raise AuthError(
            f"eBay refused the scopes (invalid_scope: {why}): the refresh token was granted fewer scopes; "
            "re-authorize this channel with the sell.inventory and sell.fulfillment scopes",
            status=status,
            code="invalid_scope",
        )
    raise AuthError(
        f"eBay token refresh failed (HTTP {status} {error or 'no error code'}): re-authorize this channel",
        status=status,
        code=error or None,
    )


def is_expired(response: httpx.Response) -> bool:
    """A 401 whose errors carry errorId 1001 ("Invalid access token"): refresh once and resend."""
    if response.status_code != 401:
        return False
    errors = _body(response).get("errors")
    if not isinstance(errors, list):
        return False
    return any(isinstance(e, dict) and e.get("errorId") == INVALID_TOKEN_ERROR for e in errors)


class EbayTokenAuth(RefreshingTokenAuth):
    """:class:`RefreshingTokenAuth` that stays stopped after eBay refused the refresh grant."""

    def __init__(
        self,
        *,
        token_request: Callable[[], httpx.Request],
        redactor: Redactor | None = None,
        clock: Callable[[], float] = time.monotonic,
        margin_seconds: float = 300.0,
        cache: TokenCache | None = None,
        cache_key: str | None = None,
    ) -> None:
        super().__init__(
            token_request=token_request,
            parse_token=self._parse,
            apply=lambda request, token: request.headers.__setitem__("Authorization", f"Bearer {token}"),
            is_expired=is_expired,
            redactor=redactor,
            clock=clock,
            margin_seconds=margin_seconds,
            cache=cache,
            cache_key=cache_key,
        )
        self.stopped: AuthError | None = None

    def _parse(self, response: httpx.Response) -> tuple[str, float]:
        try:
            return parse_token(response)
        except AuthError as exc:
            self.stopped = exc
            raise

    def auth_flow(self, request: httpx.Request):
        if self.stopped is not None:
            raise AuthError(self.stopped.message, status=self.stopped.status, code=self.stopped.code)
        yield from super().auth_flow(request)
