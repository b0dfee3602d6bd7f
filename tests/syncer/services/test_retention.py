"""Buyers' personal data in the database is purged after the retention period (#25.6): by the service,
the command and the daily job; nothing else of the order changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from listing_sync.syncer.models import Channel, Order
from listing_sync.syncer.retention import PERSONAL_DATA
from listing_sync.syncer.services import orders
from listing_sync.syncer.services.common import InvalidRequest
from sqlalchemy import select

BUYER = {"name": "Dana Whitlock", "address": ["9 Pier Road"], "phone": "+1 555 0100", "email": "dana@example.com"}


def add_orders(world, ages_days: dict[str, int]) -> None:
    now = datetime.now(UTC)
    with world.context.session() as s:
        channel = s.scalar(select(Channel).where(Channel.name == "taobao"))
        for external_id, age in ages_days.items():
            placed = now - timedelta(days=age)
            s.add(
                Order(
                    channel_id=channel.id,
                    external_id=external_id,
                    status="paid",
                    raw_status="WAIT_SELLER_SEND_GOODS",
                    placed_at=placed,
                    updated_at=placed,
                    currency="CNY",
                    total=Decimal("10.00"),
                    ship_country="CN",
                    buyer=dict(BUYER),
                )
            )


def buyers(world) -> dict[str, object]:
    with world.context.session() as s:
        return {o.external_id: o.buyer for o in s.scalars(select(Order))}


def test_orders_older_than_the_retention_lose_their_buyer_and_nothing_else(world) -> None:
    add_orders(world, {"old": 91, "recent": 10})
    purged = orders.purge_personal_data(world.context)  # default: SYNCER_PERSONAL_DATA_RETENTION_DAYS = 90
    assert purged.rows == 1
    assert buyers(world) == {"old": None, "recent": BUYER}
    with world.context.session() as s:
        old = s.scalar(select(Order).where(Order.external_id == "old"))
        assert (old.status, old.total, old.ship_country) == ("paid", Decimal("10.00"), "CN")
    assert orders.purge_personal_data(world.context).rows == 0  # idempotent
    assert orders.purge_personal_data(world.context, days=0).rows == 1  # an erasure request: all of it now
    assert buyers(world) == {"old": None, "recent": None}
    with pytest.raises(InvalidRequest):
        orders.purge_personal_data(world.context, days=-1)


def test_the_daily_job_and_the_command_purge(world, monkeypatch) -> None:
    from listing_sync.config.settings import get_settings
    from listing_sync.syncer.cli.app import app
    from typer.testing import CliRunner

    add_orders(world, {"a": 40, "b": 5})
    monkeypatch.setenv("SYNCER_DATA_DIR", str(world.context.data_dir))
    monkeypatch.setenv("SYNCER_DATABASE_URL", world.context.db_url)
    monkeypatch.setenv("SYNCER_PERSONAL_DATA_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    try:
        from listing_sync.jobs import tasks

        assert tasks.purge_personal_data.call_local() == 1
        assert buyers(world) == {"a": None, "b": BUYER}
        done = CliRunner().invoke(app, ["orders", "purge-personal-data", "--days", "1"], catch_exceptions=False)
        assert done.exit_code == 0 and "purged the personal data of 1 order(s)" in done.output
    finally:
        get_settings.cache_clear()
    assert buyers(world) == {"a": None, "b": None}


def test_every_personal_column_is_registered() -> None:
    assert [(spec.model.__tablename__, spec.columns) for spec in PERSONAL_DATA] == [("orders", ("buyer",))]
