"""Jobs: periodic fan-out per channel, one writer per channel, order pulls trigger pushes elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "syncer"))

import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from listing_sync.config.settings import get_settings  # noqa: E402
from listing_sync.jobs import tasks  # noqa: E402
from listing_sync.jobs.app import huey  # noqa: E402
from listing_sync.syncer.models import Channel, SyncRun  # noqa: E402
from scenario import build  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

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


def test_a_webhooks_order_is_fetched_by_id_then_pushed_to_the_other_channels_only(world) -> None:
    from listing_sync.jobs.scheduler import HueyScheduler
    from listing_sync.syncer.services.webhooks import Received, WebhookRunner

    [oid] = world.context.hub.get(world.context.channel("shopify")).generate_orders(1)  # placed now
    runner = WebhookRunner(world.context, scheduler=HueyScheduler(), mode="queue")
    assert runner.submit(Received("shopify", "orders/create", "accepted", oid)) == "queued"
    assert runner.submit(Received("shopify", "orders/create", "duplicate", oid)) is None
    assert queued() == [("webhook_orders", ("shopify", [oid]), {"user": "webhook"})]
    tasks.drain(limit=1)  # the fetch alone: the order is recorded, pushes to the others are queued
    triggered = queued()
    assert sorted(args[0] for _, args, _ in triggered) == ["taobao", "woocommerce"]
    assert all(kwargs["only_skus"] == [world.sku_id] for _, _, kwargs in triggered)
    assert world.level()[1] >= 1
    tasks.drain()
    with world.context.adapter(world.context.channel("woocommerce")) as adapter:
        quantity = next(r.quantity for r in adapter.listings() if r.sku == "TEA-LJ-250")
    assert quantity == 5 - world.level()[1]


def test_one_writer_per_channel(world, caplog: pytest.LogCaptureFixture) -> None:
    """Another process holds the channel's lease: one readable line, and the task runs again when the
    lease expires at the latest, without using up its retries."""
    store = world.context.leases
    assert store.try_acquire("channel:woocommerce", "otherhost:42:abc", "token", ttl=30)
    tasks.sync_channel("woocommerce")
    with caplog.at_level("WARNING", logger="jobs"):
        huey.execute(huey.dequeue())
    [retry] = huey.scheduled()
    assert retry.retries == tasks.RETRIES  # contention is not a fault
    assert 25 <= (retry.eta - datetime.now(UTC).replace(tzinfo=None)).total_seconds() <= 31
    [line] = [r.getMessage() for r in caplog.records if r.name == "jobs"]
    assert line.startswith("sync_channel(woocommerce) waits: channel:woocommerce is busy: held by otherhost:42:abc")
    with world.context.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.user == "scheduler")) == 0


def test_a_dead_owners_lease_is_taken_after_its_expiry_and_its_run_interrupted(world) -> None:
    store = world.context.leases
    with world.context.session() as s:
        channel_id = s.scalar(select(Channel.id).where(Channel.name == "woocommerce"))
        s.add(SyncRun(channel_id=channel_id, kind="sync", owner="deadhost:1:x", user="killed"))
    assert store.try_acquire("channel:woocommerce", "deadhost:1:x", "token", ttl=0.5)
    time.sleep(0.7)  # the owner was SIGKILLed: no heartbeat
    world.sell("woocommerce")
    tasks.pull_orders("woocommerce")
    tasks.drain(limit=1)
    with world.context.session() as s:
        runs = dict(s.execute(select(SyncRun.user, SyncRun.status).where(SyncRun.channel_id == channel_id)).all())
        assert runs["killed"] == "interrupted" and runs["scheduler"] == "ok"
    holder = store.holder("channel:woocommerce")
    assert holder is None or not holder.live()  # released after the task


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


def test_due_shipments_are_pushed_by_the_worker(world) -> None:
    from listing_sync.syncer.models import Shipment
    from listing_sync.syncer.services import orders, shipping

    [order] = world.sell("woocommerce")
    orders.pull_orders(world.context, ["woocommerce"], push=False)
    shipping.ship(world.context, [shipping.ShipRequest(order, "SF", "SF42")], push=False)
    tasks.every_minute.call_local()
    assert queued() == [("push_shipments", ("woocommerce",), {})]
    tasks.drain()
    with world.context.session() as s:
        assert s.scalar(select(Shipment.status)) == "pushed"
    assert world.emulator("woocommerce").state["orders"][order]["status"] == "completed"
