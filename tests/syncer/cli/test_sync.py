"""`syncer sync --inline` against a channel another process is syncing: one line, exit status 75."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer.cli.app import app
from listing_sync.syncer.leases import BUSY_EXIT
from scenario import build
from typer.testing import CliRunner


def test_inline_sync_of_a_busy_channel_says_who_holds_it_and_exits_75(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build(tmp_path, ["woocommerce"], units=2)
    monkeypatch.setenv("SYNCER_DATA_DIR", str(world.context.data_dir))
    get_settings.cache_clear()
    assert world.context.leases.try_acquire("channel:woocommerce", "host-b:99:f00", "t", ttl=60)
    try:
        result = CliRunner().invoke(app, ["sync", "--inline"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == BUSY_EXIT == 75
    assert "channel:woocommerce is busy: held by host-b:99:f00 until" in result.output
    assert "Traceback" not in result.output
