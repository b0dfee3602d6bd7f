"""TOP request signing as an :class:`httpx.Auth`.

Every attempt (including each retry ChannelHTTP makes) passes through :meth:`TopSignAuth.auth_flow`,
which stamps a fresh GMT+8 ``timestamp`` and signs again, so a retry after a long ban never arrives
with a stale timestamp (the gateway accepts +-10 minutes of skew).

Signing (official SDK algorithm): take every parameter of the request, system and business, query
string and form body, drop ``sign`` and empty values, sort by name (ASCII), concatenate
``name + value`` with the raw (not URL-encoded) values as UTF-8, then

- ``md5``: MD5(secret + concat + secret)
- ``hmac``: HMAC-MD5(secret, concat)
- ``hmac-sha256``: HMAC-SHA256(secret, concat)

and hex-encode in upper case.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal
from urllib.parse import parse_qsl, urlencode

import httpx

SignMethod = Literal["md5", "hmac", "hmac-sha256"]

#: TOP's documented time zone for ``timestamp`` and every date parameter and field.
GMT8 = timezone(timedelta(hours=8), "GMT+8")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
FORM_TYPE = "application/x-www-form-urlencoded;charset=utf-8"


def top_time(value: datetime) -> str:
    """An aware datetime as TOP writes it: ``yyyy-MM-dd HH:mm:ss`` in GMT+8."""
    if value.tzinfo is None:
        raise ValueError("TOP times are built from aware datetimes")
    return value.astimezone(GMT8).strftime(TIME_FORMAT)


def parse_top_time(text: str) -> datetime:
    """A TOP ``yyyy-MM-dd HH:mm:ss`` (GMT+8) as aware UTC."""
    return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=GMT8).astimezone(UTC)


def string_to_sign(params: Iterable[tuple[str, str]] | Mapping[str, str]) -> str:
    """``name1value1name2value2...`` over the non-empty parameters, sorted by name, ``sign`` left out."""
    items = params.items() if isinstance(params, Mapping) else params
    kept = sorted((k, v) for k, v in items if k != "sign" and v is not None and v != "")
    return "".join(f"{k}{v}" for k, v in kept)


def sign(params: Iterable[tuple[str, str]] | Mapping[str, str], secret: str, method: SignMethod = "md5") -> str:
    """The TOP ``sign`` value (upper-case hex) for ``params``."""
    text = string_to_sign(params).encode("utf-8")
    key = secret.encode("utf-8")
    if method == "md5":
        digest = hashlib.md5(key + text + key).hexdigest()
    elif method == "hmac":
        digest = hmac.new(key, text, hashlib.md5).hexdigest()
    elif method == "hmac-sha256":
        digest = hmac.new(key, text, hashlib.sha256).hexdigest()
    else:
        raise ValueError(f"unknown sign_method {method!r}: use md5, hmac or hmac-sha256")
    return digest.upper()


class TopSignAuth(httpx.Auth):
    """Adds the system parameters to the query string and signs the whole request, per attempt.

    Business parameters travel in the form body; system parameters (``method`` comes from the
    adapter, the rest from here) in the query string, as the official SDKs send them. Empty values are
    removed from the body too, so what is signed is exactly what is sent.
    """

    def __init__(
        self,
        *,
        app_key: str,
        secret: str,
        session: str | None,
        sign_method: SignMethod = "md5",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._app_key = app_key
        self._secret = secret
        self._session = session
        self.sign_method = sign_method
        self._now = now

    def __repr__(self) -> str:
        return f"TopSignAuth(sign_method={self.sign_method!r})"

    def auth_flow(self, request: httpx.Request):
        yield self.signed(request)

    def signed(self, request: httpx.Request) -> httpx.Request:
        body = [(k, v) for k, v in parse_qsl(request.content.decode("utf-8"), keep_blank_values=True) if v != ""]
        system = {k: v for k, v in request.url.params.multi_items() if k != "sign" and v != ""}
        system.update(
            {
                "app_key": self._app_key,
                "timestamp": top_time(self._now()),
                "v": "2.0",
                "format": "json",
                "sign_method": self.sign_method,
            }
        )
        if self._session:
            system["session"] = self._session
        system["sign"] = sign([*system.items(), *body], self._secret, self.sign_method)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "content-type")}
        headers["Content-Type"] = FORM_TYPE
        return httpx.Request(
            request.method,
            request.url.copy_with(query=urlencode(sorted(system.items())).encode("ascii")),
            headers=headers,
            content=urlencode(body).encode("ascii"),
            extensions=request.extensions,
        )
