"""`syncer check`: levels = ledger, orders once, leases sane; every difference listed, exit 1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer import db
from listing_sync.syncer.cli.app import app
from listing_sync.syncer.models import Channel, LeaseRow, Order, OrderLine, StockLevel, StockMovement, SyncRun
from listing_sync.syncer.services import check
from sqlalchemy import select, update
from typer.testing import CliRunner


def test_a_clean_world_has_no_differences(world) -> None:
    report = check.check(world.context)
    assert report.ok and report.problems == []
    assert report.levels == 3 and report.movements == 3  # three SKUs counted into SH


def test_every_difference_is_listed(world) -> None:
    now = datetime.now(UTC)
    with db.unit_of_work(world.context.db_url) as s:
        s.execute(update(StockLevel).where(StockLevel.sku_id == world.ids("TEA-2")[0]).values(reserved=4))
        channel_id = s.scalar(select(Channel.id).where(Channel.name == "taobao"))
        dead = SyncRun(channel_id=channel_id, kind="sync", owner="dead:1:x", started_at=now - timedelta(minutes=9))
        s.add(dead)
        s.add(LeaseRow(name="channel:shopify", owner="w:2:y", token="t", expires_at=now + timedelta(days=1)))
        order = Order(
            channel_id=channel_id,
            external_id="T1",
            status="paid",
            raw_status="paid",
            placed_at=now,
            updated_at=now,
            currency="CNY",
            total=Decimal("1"),
        )
        s.add(order)
        s.flush()
        sku, wh = s.execute(select(StockMovement.sku_id, StockMovement.warehouse_id)).first()
        line = OrderLine(order_id=order.id, line_id="1", sku="TEA-1", sku_id=sku, quantity=1, unit_price=Decimal("1"))
        s.add(line)
        s.flush()
        for key in ("reserve:x1", "reserve:x2"):  # the same order line reserved twice under two keys
            s.add(
                StockMovement(
                    sku_id=sku,
                    warehouse_id=wh,
                    kind="reserve",
                    reserved_delta=0,
                    reason="x",
                    idempotency_key=key,
                    order_line_id=line.id,
                )
            )
        s.flush()
        run_id, line_id = dead.id, line.id
    report = check.check(world.context)
    assert not report.ok
    assert [(p.kind, p.where) for p in report.problems] == [
        ("stock", "TEA-2 @ SH"),
        ("order", f"order line id {line_id}"),
        ("lease", "channel:shopify"),
        ("run", f"taobao sync run {run_id}"),
    ]
    details = [p.detail for p in report.problems]
    assert details[0] == "level on-hand 10, reserved 4; ledger on-hand 10, reserved 0"
    assert details[1] == "reserve recorded 2 times"
    assert details[2].startswith("held by w:2:y until ")
    assert "by dead:1:x, but nobody holds the channel's lease" in details[3]


def test_cli_check_prints_json_and_exits_1_on_a_difference(world, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCER_DATA_DIR", str(world.context.data_dir))
    monkeypatch.setenv("SYNCER_DATABASE_URL", world.context.db_url)
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(app, ["check", "--format", "json"], catch_exceptions=False)
        assert ok.exit_code == 0, ok.output
        assert json.loads(ok.output)["ok"] is True
        with db.unit_of_work(world.context.db_url) as s:
            s.execute(update(StockLevel).values(on_hand=StockLevel.on_hand + 1))
        bad = CliRunner().invoke(app, ["check"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert bad.exit_code == 1
    assert "3 problem(s)" in bad.output and "level on-hand 11, reserved 0; ledger on-hand 10" in bad.output
