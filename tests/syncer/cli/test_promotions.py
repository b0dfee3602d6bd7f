"""``syncer price adjust --from --until``, ``changes list --scheduled`` and ``changes cancel``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer.cli.app import app
from scenario import build
from typer.testing import CliRunner


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    world = build(tmp_path, ["woocommerce", "shopify"], units=5)
    monkeypatch.setenv("SYNCER_DATA_DIR", str(world.context.data_dir))
    monkeypatch.setenv("SYNCER_HUEY_BACKEND", "memory")
    get_settings.cache_clear()

    def invoke(*args: str):
        return CliRunner().invoke(app, list(args), catch_exceptions=False)

    yield invoke
    get_settings.cache_clear()


def test_schedule_list_cancel(run) -> None:
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    local = start.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    done = run(
        "price", "adjust", "--percent", "-10", "--sku", "*", "--from", local.isoformat(),
        "--until", (start + timedelta(hours=2)).isoformat(), "--reason", "双11", "--yes",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "scheduled change 1: starts " + start.isoformat() in done.output  # a time without zone is the team's
    assert "woocommerce: sent ahead as a sale price with its dates" in done.output
    assert "shopify: no dated sale price there: our worker switches it" in done.output
    listed = json.loads(run("changes", "list", "--scheduled", "--format", "json").output)
    assert [(r["id"], r["status"], r["reason"]) for r in listed] == [(1, "scheduled", "双11")]
    assert run("changes", "cancel", "1").exit_code == 0
    assert json.loads(run("changes", "list", "--scheduled", "--format", "json").output) == []
    again = run("changes", "cancel", "1")
    assert again.exit_code == 1 and "is cancelled: only waiting ones can be cancelled" in again.output


def test_guard_refuses_a_scheduled_change_without_force(run) -> None:
    start = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    refused = run("price", "adjust", "--percent", "-80", "--sku", "*", "--from", start, "--yes")
    assert refused.exit_code == 1 and "price guard" in refused.output.lower()
    assert json.loads(run("changes", "list", "--scheduled", "--format", "json").output) == []
