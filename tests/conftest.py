"""Shared fixtures: channel configs for adapter tests, no sleeping, a fixed clock."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from listing_sync.config.channels import ChannelConfig
from pydantic import SecretStr

# Tests never touch the user's data directory or a real queue: set before anything builds settings or huey.
os.environ.setdefault("SYNCER_DATA_DIR", tempfile.mkdtemp(prefix="syncer-tests-"))
os.environ.setdefault("SYNCER_HUEY_BACKEND", "memory")


def make_channel(
    kind: str,
    *,
    name: str | None = None,
    currency: str = "USD",
    credentials: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    base_url: str | None = None,
    language: str = "en",
    warehouses: tuple[str, ...] = ("SH",),
) -> ChannelConfig:
    """A channel config as the channels file would produce it (credentials already resolved)."""
    return ChannelConfig(
        name=name or f"{kind}-test",
        kind=kind,
        currency=currency,
        warehouses=warehouses,
        language=language,
        base_url=base_url,
        credentials={k: SecretStr(v) for k, v in (credentials or {}).items()},
        options=options or {},
    )


@pytest.fixture
def channel_factory() -> Callable[..., ChannelConfig]:
    return make_channel


class FakeClock:
    """A monotonic clock and sleep that only move when told to (no real waiting in tests)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> Iterator[None]:
    """Every test starts with no shared OAuth token in this process (adapters share them through it)."""
    from listing_sync.adapters.tokens import process_cache

    process_cache().clear()
    yield
    process_cache().clear()
