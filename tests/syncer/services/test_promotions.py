"""Scheduled price changes: previewed and guarded when scheduled, started and ended by run_due at their
times, cancellable before the start, and the end reverts only what nobody changed since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.services import catalog, changes, promotions
from listing_sync.syncer.services.common import FileFormat, InvalidRequest
from listing_sync.syncer.services.sync import SyncMode

T0 = datetime.now(UTC).replace(microsecond=0)


def tea(percent: str) -> changes.PriceAdjust:
    return changes.PriceAdjust(Selection(patterns=["TEA-*"]), percent=Decimal(percent))


def schedule(world, percent: str = "-10", start: int = 60, end: int | None = 120, **kw):
    preview = changes.preview_change(world.context, tea(percent))
    return promotions.schedule_change(
        world.context,
        preview,
        starts_at=T0 + timedelta(seconds=start),
        ends_at=None if end is None else T0 + timedelta(seconds=end),
        user="promo",
        reason="双11",
        scheduler=world.scheduler,
        now=T0,
        **kw,
    )


def run(world, seconds: int):
    return promotions.run_due(
        world.context, now=T0 + timedelta(seconds=seconds), scheduler=world.scheduler, sync=SyncMode.NONE
    )


def test_starts_and_ends_on_time_and_the_catalog_comes_back_byte_for_byte(world) -> None:
    before = catalog.export_catalog(world.context, fmt=FileFormat.CSV).text
    info = schedule(world)
    assert info.status == "scheduled" and world.scheduler.runs_at == [
        T0 + timedelta(seconds=60),
        T0 + timedelta(seconds=120),
    ]
    assert [s.id for s in promotions.list_scheduled(world.context)] == [info.id]
    assert run(world, 59) == [] and world.base("TEA-1") == "100.00"
    [started] = run(world, 60)
    assert started.action == "started" and world.base("TEA-1") == "90.00" and world.base("TEA-2") == "180.00"
    assert world.base("HONEY-1") == "50.00"
    assert run(world, 119) == []
    [ended] = run(world, 120)
    assert ended.action == "ended" and world.base("TEA-1") == "100.00" and world.base("TEA-2") == "200.00"
    assert catalog.export_catalog(world.context, fmt=FileFormat.CSV).text == before
    [row] = promotions.list_scheduled(world.context, all_=True)
    assert row.status == "done" and row.start_change_set and row.end_change_set
    assert promotions.list_scheduled(world.context) == []


def test_the_end_keeps_a_price_changed_by_hand_meanwhile(world) -> None:
    schedule(world)
    run(world, 60)
    manual = changes.preview_change(world.context, changes.PriceSet(Selection(patterns=["TEA-2"]), Decimal("150")))
    changes.apply_change(world.context, manual, user="ops", sync=SyncMode.NONE)
    [ended] = run(world, 120)
    assert world.base("TEA-1") == "100.00" and world.base("TEA-2") == "150.00"
    [row] = promotions.list_scheduled(world.context, all_=True)
    assert "1 price(s) back, 1 kept as changed since the start" in row.message and ended.change_set


def test_cancel_before_the_start_only(world) -> None:
    info = schedule(world)
    assert promotions.cancel_scheduled(world.context, info.id, user="ops").status == "cancelled"
    assert run(world, 60) == [] and world.base("TEA-1") == "100.00"
    other = schedule(world)
    run(world, 60)
    with pytest.raises(InvalidRequest, match="is active: only waiting ones can be cancelled"):
        promotions.cancel_scheduled(world.context, other.id)


def test_guarded_when_scheduled_and_refusals_change_nothing(world) -> None:
    with pytest.raises(changes.GuardRefused):
        schedule(world, percent="-60")
    assert promotions.list_scheduled(world.context) == []
    with pytest.raises(InvalidRequest, match="--until must be after --from"):
        schedule(world, start=120, end=60)
    with pytest.raises(InvalidRequest, match="needs a time zone"):
        promotions.schedule_change(
            world.context,
            changes.preview_change(world.context, tea("-10")),
            starts_at=datetime(2027, 1, 1),
            ends_at=None,
        )
    forced = schedule(world, percent="-60", force=True)
    run(world, 60)
    assert world.base("TEA-1") == "40.00" and forced.id


def test_a_window_that_passed_while_no_worker_ran_is_missed_not_applied(world) -> None:
    schedule(world)
    [missed] = run(world, 600)
    assert missed.action == "missed" and world.base("TEA-1") == "100.00"


def test_two_workers_never_start_one_twice(world) -> None:
    schedule(world)
    first, second = run(world, 60), run(world, 61)
    assert [r.action for r in first] == ["started"] and second == []
    assert world.base("TEA-1") == "90.00"
