"""eBay's cap of 250 revisions per listing per calendar day, counted on our side.

eBay gives no API to read how many revisions a listing has left, so the adapter counts every write
it makes that revises a live listing (price/quantity updates, replacing a published item, offer or
group). The day is taken as eBay's official time, US Pacific (an assumption: the Inventory spec says
"calendar day" without a zone). Counts live in memory for the adapter's lifetime; the syncer seeds
them with the day's recorded revisions (``seed_revisions``), so they survive new instances, other
workers and restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
DAILY_REVISIONS = 250


class RevisionBudget:
    """Revisions used today per listing key (a SKU, or the group key of a multi-variation listing)."""

    def __init__(self, now: Callable[[], datetime], cap: int = DAILY_REVISIONS) -> None:
        self._now = now
        self.cap = cap
        self._day: date | None = None
        self._span: tuple[datetime, datetime] | None = None  # the instants the Pacific day ``_day`` covers
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()

    def _today(self) -> date:
        now = self._now()
        if self._span is not None and self._span[0] <= now < self._span[1]:
            return self._day  # type: ignore[return-value]  # set with _span
        day = now.astimezone(PACIFIC).date()  # the zone lookup only when the day may have changed
        self._span = (
            datetime.combine(day, datetime.min.time(), tzinfo=PACIFIC),
            datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC),
        )
        if day != self._day:
            self._day = day
            self._used = {}
        return day

    def remaining(self, key: str) -> int:
        with self._lock:
            self._today()
            return max(0, self.cap - self._used.get(key, 0))

    def spend(self, key: str, count: int = 1) -> None:
        with self._lock:
            self._today()
            self._used[key] = self._used.get(key, 0) + count

    def at_least(self, key: str, used: int) -> None:
        """Raise today's count for ``key`` to ``used`` (revisions recorded elsewhere)."""
        with self._lock:
            self._today()
            self._used[key] = max(self._used.get(key, 0), used)

    def exhaust(self, key: str) -> None:
        """eBay said the cap is reached: believe it for the rest of the day."""
        with self._lock:
            self._today()
            self._used[key] = max(self._used.get(key, 0), self.cap)

    def seconds_to_reset(self) -> float:
        """Seconds until the next Pacific midnight, when eBay's day (and this budget) resets."""
        now = self._now().astimezone(PACIFIC)
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
        return max(1.0, (tomorrow - now).total_seconds())
