"""Fixtures for the eBay adapter tests: credentials, a fake monotonic + wall clock, respx with a token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import respx
from listing_sync.adapters.ebay.adapter import EbayAdapter
from listing_sync.adapters.ebay.emulator import EbayEmulator

CLIENT_ID = "AppId-PRD-0123abcd"
CLIENT_SECRET = "PRD-secret-4567efgh"
REFRESH_TOKEN = "v^1.1#i^1#r^1#refresh-0123456789"
ACCESS_TOKEN = "v^1.1#i^1#p^3#access-abcdef"
#: base64("AppId-PRD-0123abcd:PRD-secret-4567efgh"), computed by hand from the documented formula
BASIC = "Basic QXBwSWQtUFJELTAxMjNhYmNkOlBSRC1zZWNyZXQtNDU2N2VmZ2g="
CREDS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
OPTIONS = {
    "merchant_location_key": "WH-SH",
    "fulfillment_policy_id": "6196932000",
    "payment_policy_id": "6196944000",
    "return_policy_id": "6196940000",
}
API = "https://api.ebay.com"
INV = f"{API}/sell/inventory/v1"
FUL = f"{API}/sell/fulfillment/v1"
#: 2026-11-27 12:00:00 UTC (04:00 in Los Angeles)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Clock:
    """One fake clock for monotonic time, sleeps and the wall clock (no real waiting)."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.mono += seconds

    def now(self) -> datetime:
        return NOW + timedelta(seconds=self.mono - 1000.0)

    def advance(self, seconds: float) -> None:
        self.mono += seconds


@pytest.fixture
def fake() -> Clock:
    return Clock()


@pytest.fixture
def make_adapter(channel_factory, fake: Clock) -> Callable[..., EbayAdapter]:
    def build(*, options: dict[str, Any] | None = None, credentials: dict[str, str] | None = None, **kw: Any):
        channel = channel_factory("ebay", credentials=credentials or CREDS, options={**OPTIONS, **(options or {})})
        kw = {"clock": fake, "sleep": fake.sleep, "now": fake.now, **kw}
        return EbayAdapter(channel, **kw)

    return build


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """respx with the token endpoint answering a 2-hour user token."""
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}/identity/v1/oauth2/token", name="token").respond(
            200, json={"access_token": ACCESS_TOKEN, "expires_in": 7200, "token_type": "User Access Token"}
        )
        yield router


@pytest.fixture
def adapter(make_adapter, api) -> EbayAdapter:
    return make_adapter()


@pytest.fixture
def emulator(fake: Clock) -> EbayEmulator:
    return EbayEmulator(credentials=CREDS, options=OPTIONS, clock=fake, now=fake.now, seed=3)


@pytest.fixture
def emulated(make_adapter, emulator: EbayEmulator) -> EbayAdapter:
    return make_adapter(transport=emulator.transport())
