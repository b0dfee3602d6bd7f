"""Login with Amazon (LWA): refresh-token grant, ``x-amz-access-token`` on every SP-API call.

Amazon answers an expired or invalid access token with HTTP 403 (``x-amzn-ErrorType:
AccessDeniedException``, code ``Unauthorized``), not 401: that response triggers one refresh. Requests
to other hosts (the presigned S3 URLs of feed documents) carry no token at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from listing_sync.adapters.base import AuthError, RateLimited, TransientError
from listing_sync.adapters.http import Redactor, RefreshingTokenAuth
from listing_sync.adapters.tokens import TokenCache, token_key

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
TOKEN_FORM_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"


def token_request(url: str, client_id: str, client_secret: str, refresh_token: str) -> httpx.Request:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    content = str(httpx.QueryParams(form)).encode()
    return httpx.Request("POST", url, content=content, headers={"Content-Type": TOKEN_FORM_TYPE})


def parse_token(response: httpx.Response) -> tuple[str, float]:
    """``(access_token, expires_in)`` from the LWA answer, or the typed error for a refusal."""
    response.read()
    if response.status_code == 429:
        raise RateLimited("LWA token endpoint throttled", status=429, retry_after=1.0)
    if response.status_code >= 500:
        raise TransientError(f"LWA token endpoint failed (HTTP {response.status_code})", status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        error = body.get("error") or f"HTTP {response.status_code}"
        raise AuthError(
            f"Login with Amazon refused the refresh token ({error}: {body.get('error_description', '')}). "
            "Re-authorize the app in Seller Central and update refresh_token.",
            status=response.status_code,
            code=str(error),
        )
    return body["access_token"], float(body.get("expires_in") or 3600)


def token_expired(response: httpx.Response) -> bool:
    """403 whose body says the access token expired or is invalid (the only case a refresh can fix)."""
    if response.status_code != 403:
        return False
    response.read()
    text = response.text.lower()
    return "access token" in text and any(w in text for w in ("expired", "invalid", "revoked", "malformed"))


class LwaAuth(RefreshingTokenAuth):
    """LWA token on requests to ``api_host`` only; other hosts (S3 presigned URLs) pass untouched."""

    def __init__(
        self,
        *,
        api_host: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        redactor: Redactor | None,
        clock: Callable[[], float],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        cache: TokenCache | None = None,
    ) -> None:
        self.api_host = api_host
        self._now = now
        super().__init__(
            token_request=lambda: token_request(token_url, client_id, client_secret, refresh_token),
            parse_token=parse_token,
            apply=self._apply_token,
            is_expired=token_expired,
            redactor=redactor,
            clock=clock,
            margin_seconds=300.0,  # tokens live 3600 s: renew after ~55 minutes
            cache=cache,
            cache_key=token_key("amazon", token_url, client_id, refresh_token),
        )

    def _apply_token(self, request: httpx.Request, token: str) -> None:
        request.headers["x-amz-access-token"] = token
        request.headers["x-amz-date"] = self._now().strftime("%Y%m%dT%H%M%SZ")

    def auth_flow(self, request: httpx.Request):
        if request.url.host != self.api_host:
            yield request
            return
        yield from super().auth_flow(request)
