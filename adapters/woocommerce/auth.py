"""WooCommerce REST API key authentication.

Over HTTPS the consumer key and secret go in HTTP Basic auth, or in the query string for hosts that
strip the ``Authorization`` header. Over plain HTTP they must never travel in clear: requests are
signed with OAuth 1.0a "one-legged" (no token, no ``oauth_version``, the body is not signed).

The signature base string follows WooCommerce's own verifier (``WC_REST_Authentication::
check_oauth_signature``): ``normalize_parameters`` percent-encodes each key and value, then
``join_with_equals_sign`` percent-encodes each ``key=value`` pair AGAIN, and the pairs are joined with
``%26``; that is RFC 5849's double encoding (the ``:`` of a ``modified_after`` date becomes ``%253A``).
Parameters are sorted by their decoded names, byte by byte (PHP ``uksort`` with ``strcmp``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import time
from collections.abc import Callable, Iterable
from urllib.parse import quote

import httpx

SIGNATURE_METHODS = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}
_NONCE_ALPHABET = string.ascii_letters + string.digits


def pct(value: str) -> str:
    """RFC 3986 percent-encoding (PHP ``rawurlencode``): only ``A-Z a-z 0-9 - . _ ~`` stay literal."""
    return quote(value, safe="~")


def signature_base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """``METHOD&pct(url)&pct(pct(k)=pct(v))%26...`` sorted by decoded key, as WooCommerce recomputes it.

    ``url`` is scheme, host and path without the query; ``params`` are the decoded query parameters
    plus the ``oauth_*`` parameters (without ``oauth_signature``).
    """
    pairs = sorted(params, key=lambda kv: kv[0].encode())
    joined = "%26".join(pct(f"{pct(k)}={pct(v)}") for k, v in pairs)
    return f"{method.upper()}&{pct(url)}&{joined}"


def sign(base_string: str, consumer_secret: str, method: str = "HMAC-SHA256") -> str:
    """Base64 HMAC of the base string keyed with ``consumer_secret + "&"`` (no token secret)."""
    digest = hmac.new(f"{consumer_secret}&".encode(), base_string.encode(), SIGNATURE_METHODS[method]).digest()
    return base64.b64encode(digest).decode("ascii")


def _nonce() -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(32))


def base_url_of(url: httpx.URL) -> str:
    """The URL as signed: scheme, host, non-default port and raw path; no query, no fragment."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}{url.raw_path.split(b'?', 1)[0].decode('ascii')}"


class OAuth1Auth(httpx.Auth):
    """Signs each request with WooCommerce's one-legged OAuth 1.0a; parameters go in the query string
    (the docs call it the more reliable place, since WordPress cannot always read raw headers)."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        signature_method: str = "HMAC-SHA256",
        timestamp: Callable[[], int] = lambda: int(time.time()),
        nonce: Callable[[], str] = _nonce,
    ) -> None:
        if signature_method not in SIGNATURE_METHODS:
            raise ValueError(f"signature method must be one of {', '.join(SIGNATURE_METHODS)}")
        self._key = consumer_key
        self._secret = consumer_secret
        self._method = signature_method
        self._timestamp = timestamp
        self._nonce = nonce

    def __repr__(self) -> str:
        return f"OAuth1Auth(signature_method={self._method!r})"

    def oauth_params(self) -> list[tuple[str, str]]:
        return [
            ("oauth_consumer_key", self._key),
            ("oauth_nonce", self._nonce()),
            ("oauth_signature_method", self._method),
            ("oauth_timestamp", str(self._timestamp())),
        ]

    def auth_flow(self, request: httpx.Request):
        query = [(k, v) for k, v in request.url.params.multi_items() if not k.startswith("oauth_")]
        oauth = self.oauth_params()
        base = signature_base_string(request.method, base_url_of(request.url), [*query, *oauth])
        signature = sign(base, self._secret, self._method)
        request.url = request.url.copy_with(params=httpx.QueryParams([*query, *oauth, ("oauth_signature", signature)]))
        yield request


class QueryStringAuth(httpx.Auth):
    """``?consumer_key=…&consumer_secret=…`` for HTTPS hosts that strip the Authorization header."""

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self._key = consumer_key
        self._secret = consumer_secret

    def __repr__(self) -> str:
        return "QueryStringAuth()"

    def auth_flow(self, request: httpx.Request):
        request.url = request.url.copy_merge_params({"consumer_key": self._key, "consumer_secret": self._secret})
        yield request
