"""Jobs: periodic fan-out per channel, one writer per channel, order pulls trigger pushes elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "syncer"))

from listing_sync.config.settings import get_settings  # noqa: E402
from listing_sync.jobs import tasks  # noqa: E402
from listing_sync.jobs.app import huey  # noqa: E402
from scenario import build  # noqa: E402
from sqlalchemy import select  # noqa: E402

CHANNELS = ["shopify", "woocommerce", "taobao"]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    sc = build(tmp_path, CHANNELS, units=5)
    monkeypatch.setenv("SYNCER_DATA_DIR", str(sc.context.data_dir))
    get_settings.cache_clear()
    huey.flush()
    yield sc
    huey.flush()
    get_settings.cache_clear()


def queued() -> list[tuple[str, tuple, dict]]:
    return [(t.name, t.args, t.kwargs) for t in huey.pending()]


def test_periodic_sync_enqueues_one_task_per_channel(world) -> None:
    tasks.schedule_syncs.call_local()
    assert sorted(args[0] for _, args, _ in queued()) == sorted(CHANNELS)
    assert {name for name, _, _ in queued()} == {"sync_channel"}
    assert tasks.drain() == 3 and queued() == []


def test_order_pull_triggers_pushes_to_the_other_channels_only(world) -> None:
    world.sell("shopify")
    tasks.pull_orders("shopify")
    tasks.drain(limit=1)  # run the pull alone
    triggered = queued()
    assert sorted(args[0] for _, args, _ in triggered) == ["taobao", "woocommerce"]
    assert all(kwargs["only_skus"] == [world.sku_id] for _, _, kwargs in triggered)  # only the affected SKU
    tasks.drain()
    left = 5 - world.level()[1]
    with world.context.adapter(world.context.channel("taobao")) as adapter:
        assert next(r.quantity for r in adapter.listings() if r.sku == "TEA-LJ-250") == left


def test_one_writer_per_channel(world) -> None:
    with huey.lock_task("channel:woocommerce"):
        tasks.sync_channel("woocommerce")
        task = huey.dequeue()
        huey.execute(task)  # the lock is held: the task fails and is scheduled for a retry
    assert len(huey.scheduled()) == 1
    assert huey.scheduled()[0].retries == tasks.RETRIES - 1


def test_hourly_confirmation_reads_back_only_channels_with_submitted_pushes(world) -> None:
    from listing_sync.syncer.models import Channel, ChannelListing
    from sqlalchemy import update

    with world.context.session() as s:
        shop_id = s.scalar(select(Channel.id).where(Channel.name == "shopify"))
        s.execute(update(ChannelListing).where(ChannelListing.channel_id == shop_id).values(status="submitted"))
    tasks.confirm_submitted.call_local()
    assert [(name, args[0]) for name, args, _ in queued()] == [("check_drift", "shopify")]
    tasks.drain()
    with world.context.session() as s:
        assert s.scalar(select(ChannelListing.status).where(ChannelListing.channel_id == shop_id)) == "clean"
