"""Fixtures for the Taobao adapter tests: a fixed wall clock, fake sleeps, and a wire decoder.

Expected values in these tests come from domestic-apis.md section 3 (the TOP protocol), and the
signature is recomputed here from the documented algorithm, not taken from the adapter.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest
from listing_sync.adapters.taobao.adapter import TaobaoAdapter

from tests.conftest import FakeClock, make_channel

NOW = datetime(2026, 11, 27, 2, 0, 0, tzinfo=UTC)  # 2026-11-27 10:00:00 in GMT+8
NOW_CN = "2026-11-27 10:00:00"
CREDS = {"app_key": "12345678", "app_secret": "s3cr3t-app-secret", "session": "6100abcdef-session"}
GATEWAY = "https://gw.api.taobao.com/router/rest"


def doc_sign(params: dict[str, str], secret: str, method: str) -> str:
    """TOP's documented signature: sorted non-empty params, name+value joined, raw UTF-8."""
    text = "".join(k + v for k, v in sorted(params.items()) if k != "sign" and v != "").encode("utf-8")
    key = secret.encode("utf-8")
    if method == "md5":
        return hashlib.md5(key + text + key).hexdigest().upper()
    return hmac.new(key, text, hashlib.md5 if method == "hmac" else hashlib.sha256).hexdigest().upper()


def decode(request: httpx.Request) -> tuple[dict[str, str], dict[str, str]]:
    """(query/system params, form/business params) of one TOP request."""
    query = dict(request.url.params.multi_items())
    form = dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
    return query, form


def check_envelope(request: httpx.Request, method: str, *, sign_method: str = "hmac-sha256") -> dict[str, str]:
    """Assert the TOP system parameters and signature of ``request``; return its business params."""
    query, form = decode(request)
    assert request.method == "POST"
    assert str(request.url.copy_with(query=None)) == GATEWAY
    assert request.headers["content-type"] == "application/x-www-form-urlencoded;charset=utf-8"
    assert {k: v for k, v in query.items() if k != "sign"} == {
        "method": method,
        "app_key": CREDS["app_key"],
        "session": CREDS["session"],
        "timestamp": NOW_CN,
        "v": "2.0",
        "format": "json",
        "sign_method": sign_method,
    }
    assert query["sign"] == doc_sign({**query, **form}, CREDS["app_secret"], sign_method)
    return form


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_adapter(clock):
    def build(*, options=None, transport=None, now=lambda: NOW, **kwargs) -> TaobaoAdapter:
        channel = make_channel("taobao", currency="CNY", credentials=dict(CREDS), options=options or {})
        return TaobaoAdapter(channel, transport=transport, clock=clock, sleep=clock.sleep, now=now, **kwargs)

    return build
