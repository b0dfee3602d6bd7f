"""jobs.scheduler.HueyScheduler is the queue the faces hand to the services (syncer/ never imports jobs/)."""

from __future__ import annotations

from listing_sync.jobs.app import huey
from listing_sync.jobs.scheduler import HueyScheduler
from listing_sync.syncer.services.scheduler import SyncScheduler


def test_it_queues_the_tasks_the_services_ask_for() -> None:
    huey.flush()
    try:
        scheduler: SyncScheduler = HueyScheduler()
        scheduler.queue_sync("shopify", only_skus=(3, 1), user="ann")
        scheduler.queue_sync("taobao", user="bob")
        scheduler.queue_order_pull("ebay-us", user="cy")
        assert [(t.name, t.args, t.kwargs) for t in huey.pending()] == [
            ("sync_channel", ("shopify",), {"only_skus": [3, 1], "user": "ann"}),
            ("sync_channel", ("taobao",), {"user": "bob"}),
            ("pull_orders", ("ebay-us",), {"user": "cy"}),
        ]
    finally:
        huey.flush()


def test_drain_runs_the_queue_here(monkeypatch) -> None:
    from listing_sync.jobs import tasks

    huey.flush()
    ran = []
    monkeypatch.setattr(tasks.huey, "execute", lambda task: ran.append(task.name))
    HueyScheduler().queue_sync("shopify", user="ann")
    assert HueyScheduler().drain() == 1 and ran == ["sync_channel"] and huey.pending() == []
