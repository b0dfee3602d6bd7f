"""IOP request signing (HMAC-SHA256) and the seller access token, as one ``httpx.Auth``.

Every attempt passes through :meth:`IopAuth.auth_flow`, so a retried request is signed again with a
fresh epoch-millisecond ``timestamp``. The signed string is the ASCII-sorted ``k1v1k2v2...`` of every
system and business parameter (query and form body, ``sign`` excluded), prefixed with the API path
only for path-style APIs (``/auth/token/refresh``); method-style ``/sync`` calls get no prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

import httpx
from listing_sync.adapters.base import AuthError
from listing_sync.adapters.http import Redactor

SYNC_PATH = "/sync"
REST_PREFIX = "/rest"
REFRESH_API = "/auth/token/refresh"
#: error codes meaning the seller token is no longer valid (IOP spelling, then TOP numeric codes)
TOKEN_ERRORS = frozenset({"IllegalAccessToken", "InvalidAccessToken", "AccessTokenExpired", "26", "27"})


def sign(params: Mapping[str, str], secret: str, api_path: str | None = None) -> str:
    """Uppercase hex HMAC-SHA256 of ``[api_path]k1v1k2v2...`` over the ASCII-sorted parameters."""
    text = "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    if api_path:
        text = api_path + text
    return hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def api_path_of(url_path: str) -> str | None:
    """The path-style API name (``/auth/token/refresh``) of a ``/rest/...`` URL; None for ``/sync``."""
    index = url_path.find(REST_PREFIX + "/")
    return url_path[index + len(REST_PREFIX) :] if index >= 0 else None


def request_params(request: httpx.Request) -> dict[str, str]:
    """Query plus form-body parameters of a request (what the signature covers)."""
    params = dict(request.url.params.multi_items())
    if request.content and "form-urlencoded" in request.headers.get("Content-Type", ""):
        params.update(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
    return params


def token_error(response: httpx.Response) -> bool:
    """Whether an IOP/TOP body says the access token is invalid or expired."""
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    err = raw if isinstance(raw := body.get("error_response"), dict) else body
    return str(err.get("code", "")) in TOKEN_ERRORS


class IopAuth(httpx.Auth):
    """Signs each attempt; keeps the seller ``access_token`` and refreshes it through ``/rest``.

    With a ``refresh_token`` the token is obtained on first use and refreshed once when a response
    says it is invalid; with only an ``access_token`` that token is used as is.
    """

    requires_request_body = True
    requires_response_body = True

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        access_token: str | None = None,
        refresh_token: str | None = None,
        base_url: str,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        clock: Callable[[], float] = time.monotonic,
        redactor: Redactor | None = None,
        margin_seconds: float = 300.0,
        token_param: str = "session",
    ) -> None:
        self.app_key = app_key
        self._secret = app_secret
        self._token = access_token
        self._refresh_token = refresh_token
        self._base_url = base_url.rstrip("/")
        self._now_ms = now_ms
        self._clock = clock
        self._redactor = redactor
        self._margin = margin_seconds
        self.token_param = token_param  # the IOP SDK sends "session"; the HTTP guide names it "access_token"
        self._expires_at = float("inf") if access_token else 0.0
        self._lock = threading.RLock()
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"IopAuth(app_key={self.app_key!r}, token={'set' if self._token else 'unset'})"

    # -- signing -------------------------------------------------------------------------------------
    def sign_request(self, request: httpx.Request, token: str | None) -> None:
        """Add the system parameters and ``sign`` to the query string of ``request`` (in place)."""
        system = {"app_key": self.app_key, "timestamp": str(self._now_ms()), "sign_method": "sha256"}
        if token and api_path_of(request.url.path) is None:
            system[self.token_param] = token
        url = request.url.copy_merge_params(system)
        request.url = url
        params = request_params(request)
        params.pop("sign", None)
        request.url = url.copy_merge_params({"sign": sign(params, self._secret, api_path_of(url.path))})

    # -- token ---------------------------------------------------------------------------------------
    def _valid(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - self._margin

    def _refresh(self):
        if not self._refresh_token:
            raise AuthError("AliExpress access token refused and no refresh_token configured: re-authorize the seller")
        request = httpx.Request(
            "POST", f"{self._base_url}{REST_PREFIX}{REFRESH_API}", data={"refresh_token": self._refresh_token}
        )
        self.sign_request(request, None)
        response = yield request
        response.read()
        try:
            body = response.json()
        except ValueError:
            body = {}
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not token or str(body.get("code", "0")) != "0":
            detail = json.dumps(body, ensure_ascii=False)[:300] if body else response.text[:300]
            raise AuthError(f"AliExpress token refresh refused (HTTP {response.status_code}): {detail}")
        if self._redactor is not None:
            self._redactor.add(token)
            self._redactor.add(body.get("refresh_token"))
        self._token = token
        self._refresh_token = body.get("refresh_token") or self._refresh_token
        self._expires_at = self._clock() + _expires_in(body)
        self.refreshes += 1

    def auth_flow(self, request: httpx.Request):
        if api_path_of(request.url.path) is not None:  # token endpoints are signed without a session
            self.sign_request(request, None)
            yield request
            return
        with self._lock:
            if not self._valid() and self._refresh_token:
                yield from self._refresh()
            token = self._token
        original = request.url
        self.sign_request(request, token)
        response = yield request
        if self._refresh_token and token_error(response):
            with self._lock:
                if self._token == token:
                    yield from self._refresh()
                token = self._token
            request.url = original
            self.sign_request(request, token)
            yield request


def _expires_in(body: Mapping) -> float:
    """Seconds the new token lives: ``expires_in`` (s), else ``expire_time`` (epoch ms), else a day."""
    if body.get("expires_in"):
        return float(body["expires_in"])
    if body.get("expire_time"):
        return max(0.0, float(body["expire_time"]) / 1000 - time.time())
    return 86400.0
