"""Must-show (#23): an Amazon searchOrders page repeats its nextToken. The pull stops after one repeat
with an error naming the channel and the token, and the other channels still sync in the same
``syncer sync --inline``; ``syncer status`` tells what happened. Through the CLI, on the emulators, the
fault injected the way a user would (``SYNCER_EMULATOR_FAULTS=stuck_page=1``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer import context as context_module
from listing_sync.syncer import reconcile
from listing_sync.syncer.cli.app import app
from listing_sync.syncer.models import ChannelListing, StockLevel
from scenario import build
from sqlalchemy import update
from typer.testing import CliRunner


def test_a_repeated_next_token_stops_the_amazon_pull_and_the_other_channels_still_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build(tmp_path, ["amazon", "shopify", "taobao"], units=500)
    world.sell("amazon-us", 150)  # two searchOrders pages of 100
    with world.context.session() as s:  # a stock count: every channel has a quantity to push
        s.execute(update(StockLevel).values(on_hand=400))
        reconcile.refresh(s, world.context.channels, [world.sku_id])
    world.context.hub.save()
    monkeypatch.setattr(context_module, "_HUBS", {})  # the command starts afresh, as its own process would
    monkeypatch.setenv("SYNCER_DATA_DIR", str(world.context.data_dir))
    monkeypatch.setenv("SYNCER_EMULATOR_FAULTS", "stuck_page=1")
    monkeypatch.setenv("SYNCER_ORDERS_PULL_REUSE_SECONDS", "0")  # the push's own pull, not build()'s of a moment ago
    get_settings.cache_clear()
    try:
        synced = CliRunner().invoke(app, ["sync", "--inline"], catch_exceptions=False)
        status = CliRunner().invoke(app, ["status", "--format", "json"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    amazon = world.emulator("amazon-us")  # the command's emulator (its faults from the environment)
    assert synced.exit_code == 0, synced.output
    assert "Traceback" not in synced.output
    rows = {row["channel"]: row for row in json.loads(status.stdout)}
    # the pull read page 1 and page 2, saw page 2 hand back its own token and stopped: no third call
    searches = [r for r in amazon.requests if r.url.path.endswith("/orders/2026-01-01/orders")]
    assert len(searches) == 2 and "paginationToken" in searches[1].url.params
    token = searches[1].url.params["paginationToken"]
    pull = rows["amazon-us"]
    assert pull["last_order_pull_status"] == "failed"
    assert status.exit_code == 3  # the health check: a failed order pull leaves the oversell window open
    assert status.stderr.splitlines() == ["unhealthy: amazon-us: last order pull failed"]
    assert (
        pull["last_order_pull_message"].startswith("[amazon-us] searchOrders paginationToken: the page at ")
        and "points to" in pull["last_order_pull_message"]
        and token[:20] in pull["last_order_pull_message"]
    )
    assert pull["last_sync_status"] == "partial" and pull["dirty"] == 1  # its stock push held, still wanted
    assert "order pull failed, 1 stock/publish/relist items held" in synced.output
    for other in ("shopify", "taobao"):  # synced in the same command
        assert rows[other]["last_sync_status"] == "ok" and rows[other]["dirty"] == 0
    with world.context.session() as s:
        assert s.query(ChannelListing).filter(ChannelListing.status == "clean").count() == 2


def test_an_adapter_bug_in_the_order_pull_is_one_line_and_the_other_channels_still_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from listing_sync.adapters.amazon.adapter import AmazonAdapter

    world = build(tmp_path, ["amazon", "shopify"], units=500)
    with world.context.session() as s:
        s.execute(update(StockLevel).values(on_hand=400))
        reconcile.refresh(s, world.context.channels, [world.sku_id])

    def broken(self, cursor):
        raise KeyError("orderId")

    monkeypatch.setattr(AmazonAdapter, "orders_since", broken)
    monkeypatch.setenv("SYNCER_DATA_DIR", str(world.context.data_dir))
    monkeypatch.setenv("SYNCER_ORDERS_PULL_REUSE_SECONDS", "0")  # the set-up's own pull would count
    get_settings.cache_clear()
    try:
        synced = CliRunner().invoke(app, ["sync", "--inline"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert synced.exit_code == 0, synced.output
    assert "Traceback" not in synced.output
    log = world.context.data_dir / "logs" / "errors.log"
    assert "Traceback" in log.read_text() and "KeyError: 'orderId'" in log.read_text()
    assert "order pull failed, 1 stock/publish/relist items held until it succeeds: KeyError: 'orderId' (a bug;" in (
        " ".join(synced.output.split())
    )
    with world.context.session() as s:
        assert s.query(ChannelListing).filter(ChannelListing.status == "clean").count() == 1  # shopify's
