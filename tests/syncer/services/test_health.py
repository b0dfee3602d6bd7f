"""The health check behind `syncer status --format json`'s exit status and the worker's gauges."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer import db
from listing_sync.syncer.cli.app import app
from listing_sync.syncer.models import Channel, ChannelListing, LeaseRow, SyncRun
from listing_sync.syncer.services import health
from sqlalchemy import select, update
from typer.testing import CliRunner


def _channel_id(s, name: str) -> int:
    return s.scalar(select(Channel.id).where(Channel.name == name))


def test_a_quiet_world_is_healthy_until_a_pull_age_is_required(world) -> None:
    verdict = health.assess(world.context)
    assert verdict.healthy and verdict.problems == []
    assert {(c.channel, c.oversell_window_s, c.lease_age_s) for c in verdict.channels} == {
        ("taobao", None, None),
        ("shopify", None, None),
    }
    never = health.assess(world.context, max_pull_age_minutes=5)
    assert never.problems == [
        "taobao: last good order pull never (limit 5 min)",
        "shopify: last good order pull never (limit 5 min)",
    ]


def test_each_problem_is_named(world) -> None:
    now = datetime.now(UTC)
    with db.unit_of_work(world.context.db_url) as s:
        taobao, shopify = _channel_id(s, "taobao"), _channel_id(s, "shopify")
        ago = now - timedelta(minutes=10)
        s.add(SyncRun(channel_id=taobao, kind="orders", status="ok", started_at=ago, finished_at=ago, owner="w"))
        s.add(SyncRun(channel_id=taobao, kind="sync", status="failed", started_at=now, finished_at=now, owner="w"))
        s.add(SyncRun(channel_id=shopify, kind="orders", status="ok", started_at=ago, finished_at=ago, owner="w"))
        s.add(SyncRun(channel_id=shopify, kind="orders", status="failed", started_at=now, finished_at=now, owner="w"))
        s.execute(update(ChannelListing).where(ChannelListing.channel_id == shopify).values(status="parked"))
        held = now - timedelta(minutes=90)
        s.add(
            LeaseRow(
                name="channel:taobao",
                owner="w:1:x",
                token="t",
                acquired_at=held,
                heartbeat_at=now,
                expires_at=now + timedelta(seconds=50),
            )
        )
    rows = {c.channel: c for c in health.channel_health(world.context)}
    assert 590 <= rows["taobao"].oversell_window_s <= 660  # the failed pull does not close the window
    assert 590 <= rows["shopify"].oversell_window_s <= 660
    assert rows["taobao"].lease_owner == "w:1:x" and 5390 <= rows["taobao"].lease_age_s <= 5460
    assert rows["shopify"].parked == 3 and rows["shopify"].lease_age_s is None

    verdict = health.assess(world.context, max_parked=2, max_pull_age_minutes=30)
    assert not verdict.healthy
    assert verdict.problems == [
        "taobao: last sync failed",
        "taobao: lease held by w:1:x for 90 min (limit 60 min)",
        "shopify: last order pull failed",
        "shopify: 3 parked listings (more than 2)",
    ]
    assert health.assess(world.context, max_parked=3, stuck_lease_minutes=120).problems == [
        "taobao: last sync failed",
        "shopify: last order pull failed",
    ]


def test_status_json_exits_3_when_unhealthy_and_names_each_problem(world, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCER_DATA_DIR", str(world.context.data_dir))
    monkeypatch.setenv("SYNCER_DATABASE_URL", world.context.db_url)
    get_settings.cache_clear()
    try:
        healthy = CliRunner().invoke(app, ["status", "--format", "json"], catch_exceptions=False)
        strict = CliRunner().invoke(
            app, ["status", "--format", "json", "--max-pull-age", "5", "--max-parked", "0"], catch_exceptions=False
        )
        table = CliRunner().invoke(app, ["status", "--max-pull-age", "5"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert healthy.exit_code == 0 and healthy.stderr == "", healthy.output
    assert strict.exit_code == 3
    assert json.loads(strict.stdout) == json.loads(healthy.stdout)  # the same report either way
    assert strict.stderr.splitlines() == [
        "unhealthy: taobao: last good order pull never (limit 5 min)",
        "unhealthy: shopify: last good order pull never (limit 5 min)",
    ]
    assert table.exit_code == 0  # only the JSON form is the health check
