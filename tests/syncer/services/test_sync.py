"""Sync services: status, the dry-run plan, queueing through the scheduler given, inline runs."""

from __future__ import annotations

from decimal import Decimal

from listing_sync.syncer.changes import Selection
from listing_sync.syncer.services import changes, sync
from listing_sync.syncer.services.sync import SyncMode


def test_status_is_typed_per_channel(world) -> None:
    rows = sync.status(world.context)
    assert [(r.channel, r.kind, r.listings, r.clean, r.dirty, r.parked) for r in rows] == [
        ("taobao", "taobao", 3, 3, 0, 0),
        ("shopify", "shopify", 3, 3, 0, 0),
    ]
    assert rows[0].parked_errors == [] and rows[0].last_sync is None


def test_plan_counts_what_the_next_sync_pushes_and_queue_goes_to_the_scheduler(world) -> None:
    request = changes.PriceAdjust(Selection(patterns=["HONEY-1"]), amount=Decimal("5"))
    changes.apply_change(world.context, changes.preview_change(world.context, request), sync=SyncMode.NONE)
    plans = {p.channel: p for p in sync.plan_sync(world.context)}
    assert set(plans) == {"taobao", "shopify"}
    assert plans["taobao"].counts == {"price": 1} and plans["taobao"].api_calls >= 1
    assert world.context.hub._emulators == {}  # a dry run loads no emulator (it calls nothing)
    queued = sync.queue_sync(world.context, ["shopify"], user="ann", scheduler=world.scheduler)
    assert queued == sync.SyncQueued(("shopify",)) and world.scheduler.synced == [("shopify", None, "ann")]


def test_inline_sync_pushes_what_changed_and_drift_check_reads_it_back(tmp_path) -> None:
    from scenario import build

    world = build(tmp_path, ["shopify", "woocommerce"], units=4)
    rise = changes.PriceAdjust(Selection(patterns=["*"]), percent=Decimal("5"))
    changes.apply_change(world.context, changes.preview_change(world.context, rise), sync=SyncMode.NONE)
    seen = []
    reports = sync.run_sync(world.context, None, user="ops", progress=lambda *step: seen.append(step))
    assert [(r.channel, r.ok, r.failed, r.aborted) for r in reports] == [
        ("shopify", 1, 0, None),
        ("woocommerce", 1, 0, None),
    ]
    assert {name for name, _done, _total in seen} == {"shopify", "woocommerce"}
    drift = sync.drift_check(world.context, ["woocommerce"], fix=False)
    assert [(d.channel, d.checked, d.drifted) for d in drift] == [("woocommerce", 1, [])]


def test_an_inline_sync_of_a_channel_another_process_is_syncing_is_refused_with_who_and_when(world) -> None:
    import re

    from listing_sync.syncer.leases import BUSY_EXIT, LeaseBusy

    request = changes.PriceAdjust(Selection(patterns=["HONEY-1"]), amount=Decimal("5"))
    changes.apply_change(world.context, changes.preview_change(world.context, request), sync=SyncMode.NONE)
    assert world.context.leases.try_acquire("channel:taobao", "worker-host:7:abc", "t", ttl=60)
    busy, shop = sync.run_sync(world.context, None, user="ann")  # taobao busy; shopify goes on
    assert busy.busy and not shop.busy and shop.aborted is None
    assert re.match(r"^channel:taobao is busy: held by worker-host:7:abc until .*try again in", busy.aborted or "")
    assert [r.dirty for r in sync.status(world.context)][0] == 1  # nothing pushed there, nothing skipped silently
    assert LeaseBusy("x", None, 3).exit_code == BUSY_EXIT
    world.context.leases.release("channel:taobao", "t")
    [report] = sync.run_sync(world.context, ["taobao"], user="ann")
    assert report.ok + report.failed == 1 and report.api_calls > 0  # free again: it ran


def test_an_inline_sync_pushes_the_channels_at_once_one_thread_each(tmp_path, monkeypatch) -> None:
    """The wall time of `sync --inline` is the slowest channel's: each channel's push runs in its own
    thread (its own lease, adapter and rate limiter); reports come back in channel order."""
    import threading
    import time

    from scenario import build

    world = build(tmp_path, ["shopify", "woocommerce", "taobao"], units=4)
    real = sync.sync_channel
    started: dict[str, tuple[str, float]] = {}

    def slow(context, channel, **kw):
        started[channel.name] = (threading.current_thread().name, time.monotonic())
        time.sleep(0.4)  # a marketplace's rate limit making each push take a while
        return real(context, channel, **kw)

    monkeypatch.setattr(sync, "sync_channel", slow)
    began = time.monotonic()
    reports = sync.run_sync(world.context, None, user="ops")
    wall = time.monotonic() - began
    assert [r.channel for r in reports] == ["shopify", "woocommerce", "taobao"]
    assert all(r.aborted is None for r in reports)
    assert len({thread for thread, _ in started.values()}) == 3
    assert max(t for _, t in started.values()) - min(t for _, t in started.values()) < 0.3  # all began at once
    assert wall < 3 * 0.4 + 1.0
    world.context.settings.sync_parallel_channels = 1
    started.clear()
    sync.run_sync(world.context, None, user="ops")
    assert len({thread for thread, _ in started.values()}) == 1  # in turn, in this thread
