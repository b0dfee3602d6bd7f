"""The huey queue behind the syncer's :class:`~listing_sync.syncer.services.scheduler.SyncScheduler`,
and the worker (consumer) loop. Faces create a :class:`HueyScheduler` and pass it to the services.

The tasks module (and with it the huey instance, built from settings) is imported on first use, so a
face may create the scheduler before a command settles the data directory (the demo does)."""

from __future__ import annotations

from collections.abc import Sequence


class HueyScheduler:
    """Queues syncs and order pulls as huey tasks; ``drain`` runs the queue in this process."""

    def queue_sync(self, channel: str, *, only_skus: Sequence[int] | None = None, user: str) -> None:
        from listing_sync.jobs import tasks

        if only_skus is None:
            tasks.sync_channel(channel, user=user)
        else:
            tasks.sync_channel(channel, only_skus=list(only_skus), user=user)

    def queue_order_pull(self, channel: str, *, user: str) -> None:
        from listing_sync.jobs import tasks

        tasks.pull_orders(channel, user=user)

    def drain(self) -> int:
        from listing_sync.jobs import tasks

        return tasks.drain()


def run_worker(workers: int) -> None:
    """Consume the queue with ``workers`` threads, running the periodic schedules too (until Ctrl-C)."""
    from huey.consumer import Consumer
    from listing_sync.jobs import tasks  # registers the tasks and schedules on the huey instance

    Consumer(tasks.huey, workers=workers, worker_type="thread", periodic=True).run()
