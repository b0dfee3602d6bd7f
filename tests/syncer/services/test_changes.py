"""The bulk-change service: a typed preview planned once, applied as it is; confirmation, the preview id,
data that moved since the preview, the guard, and the sync it triggers through the scheduler given."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.models import ChangeSet, ChannelListing, Sku
from listing_sync.syncer.services import changes, sync
from listing_sync.syncer.services.common import InvalidRequest, NotFound
from listing_sync.syncer.services.sync import SyncMode
from sqlalchemy import func, select, update


def tea_rise(percent: str = "10") -> changes.PriceAdjust:
    return changes.PriceAdjust(Selection(categories=["tea"]), percent=Decimal(percent))


def change_sets(world) -> int:
    with world.context.session() as s:
        return s.scalar(select(func.count()).select_from(ChangeSet))


def test_preview_is_typed_and_changes_nothing(world) -> None:
    before = change_sets(world)
    preview = changes.preview_change(world.context, tea_rise())
    assert isinstance(preview, changes.ChangePreview)
    assert [(ln.sku, ln.field, ln.old, ln.new) for ln in preview.lines] == [
        ("TEA-1", "base_price", "100.00", "110.00"),
        ("TEA-2", "base_price", "200.00", "220.00"),
    ]
    assert preview.skus == 2 and preview.violations == [] and not preview.empty
    assert preview.summary()["listings"] == 4  # two SKUs on two channels
    assert {"sku": "TEA-2", "channel": "shopify", "field": "price", "old": "200.00", "new": "220.00"}.items() <= (
        next(r for r in preview.rows() if r["sku"] == "TEA-2" and r["channel"] == "shopify").items()
    )
    assert world.base("TEA-1") == "100.00" and change_sets(world) == before


def test_apply_uses_the_preview_as_planned_and_queues_the_affected_skus(world, monkeypatch) -> None:
    preview = changes.preview_change(world.context, tea_rise())
    planned = []
    apply_module = importlib.import_module("listing_sync.syncer.changes.apply")
    monkeypatch.setattr(apply_module, "preview", lambda *a, **k: planned.append(1))  # apply must not plan again
    applied = changes.apply_change(world.context, preview, user="ann", scheduler=world.scheduler)
    assert planned == []
    assert isinstance(applied, changes.ChangeApplied) and applied.user == "ann"
    assert applied.change_set_id is not None and world.base("TEA-2") == "220.00"
    assert applied.sync == sync.SyncTriggered("queued", (sync.ChannelPush("shopify", 2), sync.ChannelPush("taobao", 2)))
    tea = world.ids("TEA-1", "TEA-2")
    assert sorted(world.scheduler.synced) == [("shopify", tea, "ann"), ("taobao", tea, "ann")]
    with world.context.session() as s:
        dirty = s.scalars(select(ChannelListing.desired_price).where(ChannelListing.status == "dirty")).all()
    assert sorted(map(str, dirty)) == ["110.00", "110.00", "220.00", "220.00"]


def test_confirmation_is_a_parameter(world) -> None:
    preview = changes.preview_change(world.context, tea_rise())
    asked = []

    def say_no(shown: changes.ChangePreview) -> bool:
        asked.append(shown)
        return False

    with pytest.raises(changes.NotConfirmed, match="nothing was applied"):
        changes.apply_change(world.context, preview, confirm=say_no, scheduler=world.scheduler)
    assert asked == [preview] and world.base("TEA-1") == "100.00" and world.scheduler.synced == []
    applied = changes.apply_change(world.context, preview, confirm=lambda shown: True, sync=SyncMode.NONE)
    assert applied.change_set_id is not None and applied.sync.mode is None and world.base("TEA-1") == "110.00"


def test_preview_id_names_the_request_and_the_data_it_read(world) -> None:
    first = changes.preview_change(world.context, tea_rise())
    again = changes.preview_change(world.context, tea_rise())
    assert first.preview_id == again.preview_id and len(first.preview_id) == 32
    assert changes.preview_change(world.context, tea_rise("11")).preview_id != first.preview_id
    with world.context.session() as s:
        s.execute(update(Sku).where(Sku.sku == "TEA-1").values(base_price=Decimal("101.00")))
    moved = changes.preview_change(world.context, tea_rise())
    assert moved.preview_id != first.preview_id
    with pytest.raises(changes.PreviewMismatch):  # a stateless face re-previews and passes the confirmed id
        changes.apply_change(world.context, moved, expected_id=first.preview_id, sync=SyncMode.NONE)
    assert world.base("TEA-2") == "200.00"
    applied = changes.apply_change(world.context, moved, expected_id=moved.preview_id, sync=SyncMode.NONE)
    assert applied.change_set_id is not None and world.base("TEA-1") == "111.10"


def test_apply_refuses_a_preview_whose_values_moved(world) -> None:
    preview = changes.preview_change(world.context, tea_rise())
    with world.context.session() as s:  # a catalog value the change sets
        s.execute(update(Sku).where(Sku.sku == "TEA-1").values(base_price=Decimal("101.00")))
    with pytest.raises(changes.StaleChange, match="TEA-1 base_price: was 100.00, is now 101"):
        changes.apply_change(world.context, preview, sync=SyncMode.NONE)
    assert world.base("TEA-2") == "200.00"
    preview = changes.preview_change(world.context, tea_rise())
    with world.context.session() as s:  # a listing value the change overwrites (e.g. an FX change since)
        s.execute(
            update(ChannelListing)
            .where(ChannelListing.sku_id == world.ids("TEA-2")[0])
            .values(desired_price=Decimal("199.00"))
        )
    with pytest.raises(changes.StaleChange, match=r"TEA-2 price@\w+: was 200.00, is now 199.00"):
        changes.apply_change(world.context, preview, sync=SyncMode.NONE)
    assert world.base("TEA-1") == "101.00"


def test_apply_refuses_a_preview_whose_unchanged_listing_value_moved(world) -> None:
    """A price change writes each listing's desired price AND quantity: a quantity an order pull moved
    since the preview is not overwritten with the one the preview read; the change is refused whole."""
    before = change_sets(world)
    preview = changes.preview_change(world.context, tea_rise())
    assert all(e.field == "price" for e in preview.plan.effects)
    tea2 = world.ids("TEA-2")[0]
    with world.context.session() as s:
        s.execute(update(ChannelListing).where(ChannelListing.sku_id == tea2).values(desired_quantity=3))
    with pytest.raises(changes.StaleChange, match=r"TEA-2 quantity@\w+: was \d+, is now 3"):
        changes.apply_change(world.context, preview, sync=SyncMode.NONE)
    with world.context.session() as s:
        assert world.base("TEA-1") == "100.00" and world.base("TEA-2") == "200.00"
        assert set(s.scalars(select(ChannelListing.desired_quantity).where(ChannelListing.sku_id == tea2))) == {3}
    assert change_sets(world) == before
    fresh = changes.preview_change(world.context, tea_rise())
    assert changes.apply_change(world.context, fresh, sync=SyncMode.NONE).change_set_id is not None
    assert world.base("TEA-2") == "220.00"


def test_guard_refusal_is_typed_and_force_applies(world) -> None:
    preview = changes.preview_change(world.context, tea_rise("40"))
    assert {v.sku for v in preview.violations} == {"TEA-1", "TEA-2"}
    with pytest.raises(changes.GuardRefused) as refused:
        changes.apply_change(world.context, preview, scheduler=world.scheduler)
    assert {v.sku for v in refused.value.violations} == {"TEA-1", "TEA-2"} and world.base("TEA-1") == "100.00"
    applied = changes.apply_change(world.context, preview, force=True, sync=SyncMode.NONE)
    assert applied.change_set_id is not None and world.base("TEA-1") == "140.00"


def test_a_queue_that_fails_leaves_the_change_applied_with_a_warning(world) -> None:
    world.scheduler.fail = ConnectionError("redis is down")
    applied = changes.apply_change(
        world.context, changes.preview_change(world.context, tea_rise()), user="bo", scheduler=world.scheduler
    )
    assert applied.change_set_id is not None and world.base("TEA-1") == "110.00"
    assert applied.sync.mode == "failed" and "redis is down" in (applied.sync.warning or "")
    assert [push.skus for push in applied.sync.channels] == [2, 2]


def test_inline_sync_returns_each_channels_report(world, monkeypatch) -> None:
    from listing_sync.syncer import reconcile

    pushed = []

    def fake_sync(context, channel, *, user="", only_skus=None, **kw):
        pushed.append((channel.name, sorted(only_skus), user))
        return reconcile.PushReport(channel=channel.name, ok=len(only_skus), api_calls=1)

    monkeypatch.setattr(sync, "sync_channel", fake_sync)
    request = changes.StockAdjust(Selection(patterns=["HONEY-*"]), "SH", -3)
    applied = changes.apply_change(
        world.context, changes.preview_change(world.context, request), user="cy", sync=SyncMode.INLINE
    )
    honey = world.ids("HONEY-1")
    assert sorted(pushed) == [("shopify", honey, "cy"), ("taobao", honey, "cy")]
    assert applied.sync.mode == "inline"
    assert [(p.channel, p.skus, p.report.ok if p.report else None) for p in applied.sync.channels] == [
        ("shopify", 1, 1),
        ("taobao", 1, 1),
    ]


def test_requests_are_checked_before_anything_is_read(world, tmp_path) -> None:
    context = world.context
    with pytest.raises(InvalidRequest, match="AMOUNT must not be negative"):
        changes.preview_change(context, changes.PriceSet(Selection(patterns=["*"]), Decimal("-1")))
    with pytest.raises(InvalidRequest, match="exactly one of --percent P or --amount A"):
        changes.preview_change(context, changes.PriceAdjust(Selection(patterns=["*"])))
    with pytest.raises(NotFound, match="no such file"):
        changes.preview_change(context, changes.EditsFile(tmp_path / "missing.csv"))
    with pytest.raises(NotFound, match="no SKU matches the selection"):
        changes.preview_change(context, changes.StockSet(Selection(patterns=["NOPE-*"]), "SH", 1))
    nothing = changes.preview_change(context, changes.StockSet(Selection(patterns=["TEA-1"]), "SH", 10))
    assert nothing.empty and changes.apply_change(context, nothing).change_set_id is None


def test_undo_conflicts_refuse_unless_overridden_and_history_is_typed(world) -> None:
    first = changes.apply_change(
        world.context, changes.preview_change(world.context, tea_rise()), user="ann", sync=SyncMode.NONE
    )
    later = changes.PriceSet(Selection(patterns=["TEA-1"]), Decimal("120"))
    changes.apply_change(world.context, changes.preview_change(world.context, later), user="bob", sync=SyncMode.NONE)
    assert first.change_set_id is not None
    with pytest.raises(changes.ChangeRefused, match="cannot be undone cleanly"):
        changes.preview_change(world.context, changes.UndoChangeSet(first.change_set_id))
    undo = changes.preview_change(world.context, changes.UndoChangeSet(first.change_set_id, override_conflicts=True))
    assert undo.undo_of == first.change_set_id and any("changed again" in c for c in undo.overridden)
    undone = changes.apply_change(world.context, undo, user="cy", sync=SyncMode.NONE)
    shown = changes.show_change_set(world.context, first.change_set_id)
    assert shown.status == "undone" and shown.undone_by == undone.change_set_id
    assert {(row.sku, row.old, row.new) for row in shown.changes} == {
        ("TEA-1", "100.00", "110.00"),
        ("TEA-2", "200.00", "220.00"),
    }
    listed = changes.list_change_sets(world.context, user="cy")
    assert [(c.id, c.reason, c.undo_of) for c in listed] == [
        (undone.change_set_id, f"undo change set {first.change_set_id}", first.change_set_id)
    ]
    history = changes.sku_history(world.context, "TEA-1")
    assert [(h.kind, h.old, h.new, h.user) for h in history if h.what == "base_price"] == [
        ("change", "100.00", "110.00", "ann"),
        ("change", "110.00", "120.00", "bob"),
        ("change", "120.00", "100.00", "cy"),
    ]


def test_a_channel_without_an_adapter_here_is_counted_by_its_declared_limits(world, monkeypatch) -> None:
    """No credentials or emulator for a channel on this machine: the preview still counts its calls (the
    kind's declared limits); a bug building an adapter is not hidden as "no adapter"."""
    from listing_sync.adapters.base import MissingCredential
    from listing_sync.syncer.context import Context

    def no_credentials(self, channel, *, counting=False):
        raise MissingCredential(f"channel {channel.name}: app_secret is not set")

    monkeypatch.setattr(Context, "adapter", no_credentials)
    preview = changes.preview_change(world.context, tea_rise())
    assert preview.skus == 2 and preview.summary()["listings"] == 4
    assert preview.summary()["api_calls"] > 0

    def broken(self, channel, *, counting=False):
        raise KeyError("app_key")  # a bug, not a missing setting

    monkeypatch.setattr(Context, "adapter", broken)
    with pytest.raises(KeyError):
        changes.preview_change(world.context, tea_rise())
