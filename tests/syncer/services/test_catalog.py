"""Catalog services: import (typed summary, listings recomputed), export, show."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_sync.syncer.models import ChannelListing
from listing_sync.syncer.services import catalog
from listing_sync.syncer.services.common import FileFormat, InvalidRequest, NotFound
from listing_sync.syncer.tabular import InputRejected
from sqlalchemy import select


def test_import_reports_what_changed_and_marks_the_listings_dirty(world, tmp_path: Path) -> None:
    edited = tmp_path / "edited.csv"
    edited.write_text(
        "sku,title,category,base_price,currency,stock[SH]\nTEA-1,Green tea,tea,105.00,CNY,12\n", encoding="utf-8"
    )
    steps = []
    done = catalog.import_catalog(world.context, edited, user="ann", progress=steps.append)
    assert isinstance(done, catalog.CatalogImported)
    summary = done.summary
    assert (summary.rows, summary.skus_updated, summary.stock_movements) == (1, 1, 1)
    assert summary.change_set_id is not None and summary.changed_sku_ids == set(world.ids("TEA-1"))
    assert steps[0] == catalog.ImportStep("validating", 0, 1) and steps[-1].stage == "writing"
    with world.context.session() as s:
        dirty = s.execute(
            select(ChannelListing.desired_price, ChannelListing.desired_quantity).where(
                ChannelListing.status == "dirty"
            )
        ).all()
    assert sorted((str(p), q) for p, q in dirty) == [("105.00", 12), ("105.00", 12)]
    again = catalog.import_catalog(world.context, edited, user="ann")
    assert again.summary.change_set_id is None and not again.summary.changed


def test_skus_another_import_added_meanwhile_refuse_the_import_whole_as_a_conflict(
    world, tmp_path: Path, monkeypatch
) -> None:
    """Two first imports into an empty PostgreSQL catalog: the one that commits second finds the SKUs it is
    inserting taken (here: the catalog looked empty to it, as it did when its transaction began)."""
    from listing_sync.syncer import catalog_apply
    from listing_sync.syncer.services.common import Conflict

    edited = tmp_path / "edited.csv"
    edited.write_text("sku,title,category,base_price,currency\nTEA-1,Green tea,tea,105.00,CNY\n", encoding="utf-8")
    monkeypatch.setattr(catalog_apply, "catalog_is_empty", lambda session: True)
    with pytest.raises(Conflict, match="edited.csv: another import or edit added the same SKUs") as refused:
        catalog.import_catalog(world.context, edited, user="ann")
    assert "nothing of this import was applied: run it again" in str(refused.value)
    assert world.base("TEA-1") == "100.00"  # nothing applied


def test_a_bad_file_is_refused_whole(world, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,title,base_price,currency\nA,t,x,CNY\n", encoding="utf-8")
    with pytest.raises(InputRejected) as refused:
        catalog.import_catalog(world.context, bad)
    assert [(p.row, p.column) for p in refused.value.problems] == [(2, "base_price")]
    with pytest.raises(NotFound, match="no such file"):
        catalog.import_catalog(world.context, tmp_path / "missing.csv")


def test_export_round_trips_and_show_is_typed(world, tmp_path: Path) -> None:
    written = catalog.export_catalog(world.context, fmt=FileFormat.CSV)
    assert written.path is None and written.text is not None
    assert written.text.splitlines()[0].startswith("sku,") and len(written.text.splitlines()) == 4
    with pytest.raises(InvalidRequest, match="--out FILE is required for xlsx"):
        catalog.export_catalog(world.context, fmt=FileFormat.XLSX)
    out = tmp_path / "catalog.xlsx"
    assert catalog.export_catalog(world.context, fmt=FileFormat.XLSX, out=out) == catalog.Written(out, None)
    assert catalog.import_catalog(world.context, out).summary.change_set_id is None  # export -> import: no change
    shown = catalog.show_sku(world.context, "TEA-2")
    assert shown.data["base_price"] == "200.00" and shown.stock == [
        {"warehouse": "SH", "on_hand": 10, "reserved": 0, "available": 10}
    ]
    with pytest.raises(NotFound, match="no SKU 'NOPE'"):
        catalog.show_sku(world.context, "NOPE")


def test_an_xlsx_import_has_a_row_total_for_its_progress_bar(tmp_path) -> None:
    """Trap 5: progress bars showed `0/?` (an XLSX import had no total)."""
    from listing_sync.syncer.services.catalog import count_rows
    from listing_sync.syncer.tabular import write_xlsx

    path = tmp_path / "catalog.xlsx"
    write_xlsx(path, [("catalog", ["sku", "title"], [["A", "a"], ["B", "b"], ["C", "c"]])])
    assert count_rows(path) == 3
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK not a workbook")
    assert count_rows(broken) is None
