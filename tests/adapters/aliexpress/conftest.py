"""Fixtures for the AliExpress adapter tests: a channel, a fixed wall clock, no real sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from listing_sync.adapters.aliexpress.adapter import AliExpressAdapter

APP_KEY = "500123"
APP_SECRET = "s3cr3t-app-secret"
TOKEN = "50000600a12b34c56d78e90f"
REFRESH = "50001600r98q76p54o32n10m"
#: 2026-03-02 12:00:00 UTC, epoch ms 1772452800000
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def creds() -> dict[str, str]:
    return {"app_key": APP_KEY, "app_secret": APP_SECRET, "access_token": TOKEN}


@pytest.fixture
def make_adapter(channel_factory, clock) -> Callable[..., AliExpressAdapter]:
    """Adapters on the shared FakeClock: limiter waits and retry backoff never really sleep."""

    def build(
        *,
        credentials: dict[str, str] | None = None,
        options: dict[str, Any] | None = None,
        transport: Any = None,
        now: Callable[[], float] | None = None,
        **kwargs: Any,
    ) -> AliExpressAdapter:
        channel = channel_factory(
            "aliexpress",
            credentials=credentials or {"app_key": APP_KEY, "app_secret": APP_SECRET, "access_token": TOKEN},
            options=options or {},
        )
        return AliExpressAdapter(
            channel,
            transport=transport,
            wall_clock=now or (lambda: NOW.timestamp()),
            **{"clock": clock, "sleep": clock.sleep, **kwargs},
        )

    return build
