"""Fixtures for the Amazon adapter tests: credentials, a fake clock shared by adapter and emulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from listing_sync.adapters.amazon.adapter import AmazonAdapter
from listing_sync.adapters.amazon.emulator import AmazonEmulator
from listing_sync.adapters.emulator import Faults

from tests.conftest import FakeClock, make_channel

SELLER = "A3SELLER0TEST"
US = "ATVPDKIKX0DER"
CREDS = {
    "client_id": "amzn1.application-oa2-client.0123456789abcdef",
    "client_secret": "amzn1.oa2-cs.v1.secret-value-0123456789",
    "refresh_token": "Atzr|IwEBIrefresh-token-value-0123456789",
}
T0 = datetime(2026, 11, 2, 12, 0, 0, tzinfo=UTC)


class Clock(FakeClock):
    """FakeClock that also tells wall-clock UTC time (T0 at start), moving with every fake sleep."""

    def utc(self) -> datetime:
        return T0 + timedelta(seconds=self.now - 1000.0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def build(
    clock: Clock,
    *,
    options: dict[str, Any] | None = None,
    transport: Any = None,
    currency: str = "USD",
    base_url: str | None = None,
    credentials: dict[str, str] | None = None,
) -> AmazonAdapter:
    channel = make_channel(
        "amazon",
        currency=currency,
        credentials=credentials or dict(CREDS),
        options={"seller_id": SELLER, **(options or {})},
        base_url=base_url,
    )
    return AmazonAdapter(channel, transport=transport, clock=clock, sleep=clock.sleep, now=clock.utc)


@dataclass
class World:
    clock: Clock
    emulator: AmazonEmulator
    adapter: AmazonAdapter


@pytest.fixture
def world_factory(clock: Clock) -> Callable[..., World]:
    def make(
        options: dict[str, Any] | None = None,
        emulator_options: dict[str, Any] | None = None,
        faults: Faults | None = None,
        seed: int = 3,
    ) -> World:
        emulator = AmazonEmulator(
            credentials=dict(CREDS),
            options={"seller_id": SELLER, **(emulator_options or {})},
            clock=clock,
            now=clock.utc,
            faults=faults,
            seed=seed,
        )
        adapter = build(clock, options=options, transport=emulator.transport(), base_url="emulator:")
        return World(clock, emulator, adapter)

    return make


@pytest.fixture
def world(world_factory: Callable[..., World]) -> World:
    return world_factory()
