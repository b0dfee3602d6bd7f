"""The huey queue behind the syncer's :class:`~listing_sync.syncer.services.scheduler.SyncScheduler`,
and the worker (consumer) loop. Faces create a :class:`HueyScheduler` and pass it to the services.

The tasks module (and with it the huey instance, built from settings) is imported on first use, so a
face may create the scheduler before a command settles the data directory (the demo does)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from listing_sync.syncer.services.scheduler import QueueUnavailable


class HueyScheduler:
    """Queues syncs and order pulls as huey tasks; ``drain`` runs the queue in this process."""

    def queue_sync(self, channel: str, *, only_skus: Sequence[int] | None = None, user: str) -> None:
        with queue_errors():
            from listing_sync.jobs import tasks

            if only_skus is None:
                tasks.sync_channel(channel, user=user)
            else:
                tasks.sync_channel(channel, only_skus=list(only_skus), user=user)

    def queue_order_pull(self, channel: str, *, user: str) -> None:
        with queue_errors():
            from listing_sync.jobs import tasks

            tasks.pull_orders(channel, user=user)

    def queue_webhook_orders(self, channel: str, order_ids: Sequence[str], *, user: str) -> None:
        with queue_errors():
            from listing_sync.jobs import tasks

            tasks.webhook_orders(channel, list(order_ids), user=user)

    def queue_scheduled_run(self, at: datetime) -> None:
        """Run the due scheduled changes exactly at ``at`` (a promotion's start or end)."""
        with queue_errors():
            from listing_sync.jobs import tasks

            tasks.run_scheduled_changes.schedule(eta=at)

    def drain(self) -> int:
        with queue_errors():
            from listing_sync.jobs import tasks

            return tasks.drain()


@contextmanager
def queue_errors() -> Iterator[None]:
    """Turn a queue that cannot be reached (Redis down, the queue's SQLite file unusable) into
    :class:`QueueUnavailable`, naming the backend and what to check."""
    from listing_sync.config.settings import get_settings

    settings = get_settings()
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise QueueUnavailable(
            f"cannot use the job queue at {settings.huey_sqlite_path}: {exc} (is the data directory writable?)"
        ) from None
    except Exception as exc:
        if not _is_redis_error(exc):
            raise
        raise QueueUnavailable(
            f"cannot reach the Redis job queue (SYNCER_REDIS_URL): {str(exc).splitlines()[0][:200].rstrip('.')}; "
            "start Redis or fix SYNCER_REDIS_URL (SYNCER_HUEY_BACKEND=sqlite needs no server)"
        ) from None


def _is_redis_error(exc: Exception) -> bool:
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is installed with huey's Redis storage
        return False
    return isinstance(exc, RedisError)


def check_queue() -> None:
    """Reach the queue once (a worker checks before it starts consuming); raises :class:`QueueUnavailable`."""
    with queue_errors():
        from listing_sync.jobs import tasks

        tasks.huey.pending_count()


def run_worker(workers: int, *, periodic: bool = True) -> None:
    """Consume the queue with ``workers`` threads until Ctrl-C or SIGTERM; with ``periodic`` this process
    also enqueues the periodic schedules (exactly one process should: each one that does enqueues them)."""
    from huey.consumer import Consumer
    from listing_sync.jobs import tasks  # registers the tasks and schedules on the huey instance

    check_queue()
    Consumer(tasks.huey, workers=workers, worker_type="thread", periodic=periodic).run()
