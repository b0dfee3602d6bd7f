"""The job queue as the services see it. jobs/ sits above syncer/, so a service that queues work takes
a :class:`SyncScheduler` from the face (``listing_sync.jobs.scheduler.HueyScheduler`` in production)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from listing_sync.syncer.services.common import ServiceError


class QueueUnavailable(ServiceError):
    """The job queue (Redis, or the queue's SQLite file) cannot be reached; nothing was queued."""


class SyncScheduler(Protocol):
    """Queues channel work for the workers."""

    def queue_sync(self, channel: str, *, only_skus: Sequence[int] | None = None, user: str) -> None:
        """Queue a push of one channel's dirty listings (only these SKUs when given)."""

    def queue_order_pull(self, channel: str, *, user: str) -> None:
        """Queue a pull of one channel's orders (which then pushes the availability elsewhere)."""

    def queue_webhook_orders(self, channel: str, order_ids: Sequence[str], *, user: str) -> None:
        """Queue a fetch of these orders of one channel (a webhook named them), then a push of their SKUs'
        new availability to every other channel."""

    def queue_scheduled_run(self, at: datetime) -> None:
        """Run the due scheduled changes at ``at`` (the minute tick is the safety net)."""

    def drain(self) -> int:
        """Run every queued task here, in this process (demo); returns how many ran."""
