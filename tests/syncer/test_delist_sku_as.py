"""Trap 4: delisting one SKU of a multi-SKU item on Taobao (which delists whole items only) parked
``unsupported`` while the change set said delisted. Taobao's default ``delist_sku_as = "zero_stock"``
takes such a SKU off sale as quantity 0 (the item stays listed); delisting every SKU of the item takes
the item down whole; ``delist_sku_as = "delist"`` keeps the preview's refusal."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from listing_sync.config.settings import Settings
from listing_sync.syncer import db, mapping, reconcile
from listing_sync.syncer.catalog import import_file
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.context import Context, ensure_channel_rows
from listing_sync.syncer.models import ChannelListing, Sku
from listing_sync.syncer.services import changes, sync
from listing_sync.syncer.services.sync import SyncMode
from scenario import CHANNEL_TEMPLATES, EXAMPLE
from sqlalchemy import select

SHIRTS = ("TEE-HAN-BK-L", "TEE-HAN-BK-M", "TEE-HAN-WH-L", "TEE-HAN-WH-M")


def taobao_world(tmp_path: Path, extra: str = "") -> Context:
    """The example T-shirt (4 SKUs, one Taobao item) published on the Taobao emulator."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "channels.toml").write_text(
        CHANNEL_TEMPLATES["taobao"].replace('currency = "CNY"\n', 'currency = "CNY"\n' + extra), encoding="utf-8"
    )
    settings = Settings(_env_file=None, data_dir=data)
    db.upgrade(settings.resolved_database_url)
    context = Context(settings=settings)
    with (EXAMPLE / "catalog.csv").open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["product"] == "TEE-HAN"]
    for row in rows:  # one warehouse, one channel
        del row["stock[GZ]"], row["title[en]@amazon-us"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "shirts.csv").write_text(out.getvalue(), encoding="utf-8")
    with context.session() as s:
        ensure_channel_rows(s, context.channels)
        import_file(s, tmp_path / "shirts.csv", user="test")
        mapping.import_demo_mappings(s, context.channels, EXAMPLE)
        reconcile.ensure_listings(s, context.channel("taobao"), list(s.scalars(select(Sku.id))))
    [report] = sync.run_sync(context, ["taobao"], user="test")
    assert report.ok == 4 and report.parked == 0, report.errors
    return context


def change(context: Context, action: str, *skus: str) -> changes.ChangePreview:
    request = changes.ListingsChange(changes.ListingAction(action), Selection(patterns=list(skus)), ("taobao",))
    return changes.preview_change(context, request)


def states(context: Context) -> dict[str, tuple[str, str | None, int | None, str]]:
    with context.session() as s:
        rows = s.execute(
            select(
                Sku.sku,
                ChannelListing.wanted,
                ChannelListing.pushed_state,
                ChannelListing.pushed_quantity,
                ChannelListing.status,
            ).join(Sku, Sku.id == ChannelListing.sku_id)
        )
        return {sku: (wanted, state, quantity, status) for sku, wanted, state, quantity, status in rows}


def item(context: Context) -> dict:
    [found] = context.hub.get(context.channel("taobao")).state["items"].values()
    return found


def test_one_sku_of_a_taobao_item_is_delisted_as_stock_0_and_the_whole_item_when_all_go(tmp_path: Path) -> None:
    context = taobao_world(tmp_path)
    quantities = {s["outer_id"]: s["quantity"] for s in item(context)["skus"]}
    preview = change(context, "delist", "TEE-HAN-BK-L")
    assert preview.violations == []  # not refused: the channel's rule says how
    note = " ".join(preview.notes)
    assert "1 SKU(s) whose item stays on sale (TEE-HAN-BK-L) are taken off sale as stock 0" in note
    assert 'delist_sku_as = "zero_stock"' in note
    assert preview.summary()["api_calls_by_channel"] == {"taobao": {"stock": 1}}
    changes.apply_change(context, preview, sync=SyncMode.NONE)
    [report] = sync.run_sync(context, ["taobao"], user="test")
    assert (report.ok, report.parked, report.errors) == (1, 0, [])
    shown = item(context)
    assert shown["approve_status"] == "onsale"  # the item stays listed
    assert {s["outer_id"]: s["quantity"] for s in shown["skus"]} == {**quantities, "TEE-HAN-BK-L": 0}
    assert states(context)["TEE-HAN-BK-L"] == ("delisted", "zeroed", 0, "clean")
    assert states(context)["TEE-HAN-BK-M"][:2] == ("active", "active")
    [again] = sync.run_sync(context, ["taobao"], user="test")
    assert again.ok + again.failed == 0  # in step: nothing more to push

    back = change(context, "relist", "TEE-HAN-BK-L")  # on sale again: its stock goes back
    assert back.violations == []
    changes.apply_change(context, back, sync=SyncMode.NONE)
    [report] = sync.run_sync(context, ["taobao"], user="test")
    assert (report.ok, report.parked) == (1, 0)
    assert {s["outer_id"]: s["quantity"] for s in item(context)["skus"]} == quantities
    assert states(context)["TEE-HAN-BK-L"][:3] == ("active", "active", quantities["TEE-HAN-BK-L"])

    changes.apply_change(context, change(context, "delist", "TEE-HAN-BK-L"), sync=SyncMode.NONE)
    sync.run_sync(context, ["taobao"], user="test")
    rest = change(context, "delist", "TEE-HAN-BK-M", "TEE-HAN-WH-*")  # the item's last SKUs: the whole item
    assert rest.violations == [] and "stock 0" not in " ".join(rest.notes)
    changes.apply_change(context, rest, sync=SyncMode.NONE)
    [report] = sync.run_sync(context, ["taobao"], user="test")
    assert (report.parked, report.errors) == (0, []) and report.api_calls == 1  # one whole-item delisting
    assert item(context)["approve_status"] == "instock"
    assert {sku: row[:2] for sku, row in states(context).items()} == {sku: ("delisted", "delisted") for sku in SHIRTS}


def test_with_delist_sku_as_delist_a_partial_taobao_delist_is_refused_in_the_preview(tmp_path: Path) -> None:
    context = taobao_world(tmp_path, 'delist_sku_as = "delist"\n')
    preview = change(context, "delist", "TEE-HAN-BK-L")
    assert [v.sku for v in preview.violations] == ["TEE-HAN-BK-L"]
    assert "delists whole items only" in preview.violations[0].message
