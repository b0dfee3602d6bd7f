"""eBay's revision counts start again at midnight US Pacific, whatever the offset that day (DST)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from listing_sync.adapters.ebay.revisions import RevisionBudget


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.mark.parametrize(
    "midnight",
    [
        datetime(2026, 1, 15, 8, 0, tzinfo=UTC),  # PST: UTC-8
        datetime(2026, 7, 15, 7, 0, tzinfo=UTC),  # PDT: UTC-7
        datetime(2026, 3, 9, 7, 0, tzinfo=UTC),  # the night after the spring change (03-08 was 23 hours)
        datetime(2026, 11, 2, 8, 0, tzinfo=UTC),  # the night after the autumn change (11-01 was 25 hours)
    ],
)
def test_counts_start_again_at_pacific_midnight(midnight: datetime) -> None:
    clock = Clock(midnight - timedelta(hours=20))
    budget = RevisionBudget(clock, cap=250)
    budget.spend("S1", 10)
    clock.at = midnight - timedelta(microseconds=1)
    assert budget.remaining("S1") == 240  # still the same Pacific day
    clock.at = midnight
    assert budget.remaining("S1") == 250


def test_a_clock_going_back_a_day_is_a_day_of_its_own() -> None:
    clock = Clock(datetime(2026, 1, 15, 20, 0, tzinfo=UTC))
    budget = RevisionBudget(clock, cap=250)
    budget.spend("S1", 5)
    clock.at -= timedelta(days=1)  # a fake clock in a test, or a host clock corrected
    assert budget.remaining("S1") == 250
