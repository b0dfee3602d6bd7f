"""The import's row hashes: unchanged rows are skipped unbuilt, and any other writer invalidates a hash."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from catalogs import EXAMPLE, do_import
from listing_sync.syncer import catalog, catalog_apply, catalog_index, db
from listing_sync.syncer.models import Product, ProductText, Sku, SkuText, StockLevel, Warehouse, table_of
from listing_sync.syncer.tabular import write_csv
from sqlalchemy import func, select, update


def hashes(url: str) -> tuple[dict[str, bytes | None], dict[str, bytes | None]]:
    skus, products = table_of(Sku), table_of(Product)
    with db.unit_of_work(url) as s:
        return (
            {k: h and bytes(h) for k, h in s.execute(select(skus.c.sku, skus.c.row_hash))},
            {k: h and bytes(h) for k, h in s.execute(select(products.c.key, products.c.row_hash))},
        )


def export_cells(url: str) -> tuple[list[str], list[dict[str, str]]]:
    with db.unit_of_work(url) as s:
        header, rows = catalog.export_rows(s)
        return header, [{h: "" if v is None else str(v) for h, v in zip(header, row, strict=True)} for row in rows]


def write(path: Path, header: list[str], cells: list[dict[str, str]]) -> Path:
    write_csv(path, header, ([row[h] for h in header] for row in cells))
    return path


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Row numbers parsed by the import (both passes)."""
    seen: list[int] = []
    original = catalog_index.RowParser.parse

    def counting(self, number, cells, problems):  # type: ignore[no-untyped-def]
        seen.append(number)
        return original(self, number, cells, problems)

    monkeypatch.setattr(catalog_index.RowParser, "parse", counting)
    return seen


def test_an_import_writes_a_hash_for_every_row_and_an_unchanged_file_is_not_parsed_again(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    do_import(url, EXAMPLE)
    sku_hashes, product_hashes = hashes(url)
    assert len(sku_hashes) == 18 and all(h is not None and len(h) == 16 for h in sku_hashes.values())
    assert len(product_hashes) == 12 and all(h is not None for h in product_hashes.values())
    assert len(set(sku_hashes.values())) == 18
    parsed = count_parses(monkeypatch)
    again = do_import(url, EXAMPLE)
    assert again.changed is False and again.skus_unchanged == 18
    assert sorted(parsed) == sorted(set(parsed)) and len(parsed) == 18  # pass 1 only: nothing re-read
    assert hashes(url) == (sku_hashes, product_hashes)


def test_one_changed_cell_changes_that_row_and_its_hash_only(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    do_import(url, EXAMPLE)
    header, cells = export_cells(url)
    exported = write(tmp_path / "export.csv", header, cells)
    assert do_import(url, exported).changed is False
    sku_before, product_before = hashes(url)
    target = cells[3]
    target["base_price"] = str(Decimal(target["base_price"]) + 1)
    parsed = count_parses(monkeypatch)
    summary = do_import(url, write(tmp_path / "edited.csv", header, cells))
    assert (summary.skus_updated, summary.skus_created, summary.products_updated, summary.texts_changed) == (1, 0, 0, 0)
    assert summary.skus_unchanged == len(cells) - 1
    assert sorted(parsed) == sorted(set(parsed)) and len(parsed) == len(cells)  # once each: pass 2 reads the spill
    sku_after, product_after = hashes(url)
    assert product_after == product_before
    assert {k for k in sku_after if sku_after[k] != sku_before[k]} == {target["sku"]}
    with db.unit_of_work(url) as s:
        assert s.scalar(select(Sku.base_price).where(Sku.sku == target["sku"])) == Decimal(target["base_price"])
        assert summary.changed_sku_ids == {s.scalar(select(Sku.id).where(Sku.sku == target["sku"]))}


def test_a_changed_product_title_updates_the_product_and_marks_its_skus(url: str, tmp_path: Path) -> None:
    do_import(url, EXAMPLE)
    header, cells = export_cells(url)
    key = cells[0]["product"]
    for row in cells:
        if row["product"] == key:
            row["title"] = "Renamed"
    summary = do_import(url, write(tmp_path / "renamed.csv", header, cells))
    assert (summary.products_updated, summary.skus_updated) == (1, 0)
    with db.unit_of_work(url) as s:
        assert s.scalar(select(Product.title).where(Product.key == key)) == "Renamed"
        ids = set(s.scalars(select(Sku.id).join(Product).where(Product.key == key)))
    assert summary.changed_sku_ids == ids


@pytest.mark.parametrize("how", ["orm", "core"])
def test_an_edit_outside_the_import_clears_the_hash_and_the_next_import_restores_the_file(
    url: str, tmp_path: Path, how: str
) -> None:
    do_import(url, EXAMPLE)
    header, cells = export_cells(url)
    exported = write(tmp_path / "export.csv", header, cells)
    do_import(url, exported)
    target = cells[0]["sku"]
    with db.unit_of_work(url) as s:
        if how == "orm":
            s.scalars(select(Sku).where(Sku.sku == target)).one().base_price = Decimal("1.00")
        else:  # a bulk change's Core UPDATE
            s.execute(update(Sku).where(Sku.sku == target).values(base_price=Decimal("1.00")))
    sku_hashes, _ = hashes(url)
    assert sku_hashes[target] is None
    assert sum(h is None for h in sku_hashes.values()) == 1
    summary = do_import(url, exported)
    assert summary.skus_updated == 1
    with db.unit_of_work(url) as s:
        assert str(s.scalar(select(Sku.base_price).where(Sku.sku == target))) == cells[0]["base_price"]
    assert hashes(url)[0][target] is not None


def test_an_edit_of_a_product_or_its_texts_outside_the_import_clears_the_hash(url: str, tmp_path: Path) -> None:
    do_import(url, EXAMPLE)
    header, cells = export_cells(url)
    exported = write(tmp_path / "export.csv", header, cells)
    do_import(url, exported)
    key = cells[0]["product"]
    with db.unit_of_work(url) as s:
        s.scalars(select(Product).where(Product.key == key)).one().brand = "edited"
    assert hashes(url)[1][key] is None
    assert do_import(url, exported).products_updated == 1
    with db.unit_of_work(url) as s:
        product_id = s.scalar(select(Product.id).where(Product.key == key))
        text = s.scalars(select(ProductText).where(ProductText.product_id == product_id)).first()
        assert text is not None
        text.title = "edited"
    assert hashes(url)[1][key] is None
    assert do_import(url, exported).texts_changed == 1
    with db.unit_of_work(url) as s:
        sku_text = s.scalars(select(SkuText).order_by(SkuText.id)).first()
        assert sku_text is not None
        sku = s.scalar(select(Sku.sku).where(Sku.id == sku_text.sku_id))
        s.delete(sku_text)
    assert hashes(url)[0][sku] is None
    assert do_import(url, exported).texts_changed >= 1
    assert do_import(url, exported).changed is False


def test_stock_moved_since_is_counted_again_for_an_unchanged_row(url: str, tmp_path: Path) -> None:
    from listing_sync.syncer import stock as ledger

    path = tmp_path / "a.csv"
    path.write_text("sku,title,base_price,currency,stock[SH]\nP-1,T,10,CNY,5\n", encoding="utf-8")
    do_import(url, path)
    with db.unit_of_work(url) as s:
        sku_id = s.scalar(select(Sku.id))
        warehouse = s.scalar(select(Warehouse.id).where(Warehouse.code == "SH"))
        ledger.record(s, [ledger.Movement(sku_id, warehouse, "sale", -2, 0, "sold", "sale:1")])
    summary = do_import(url, path)
    assert (summary.skus_unchanged, summary.stock_movements) == (1, 1)
    with db.unit_of_work(url) as s:
        assert s.scalar(select(StockLevel.on_hand).where(StockLevel.sku_id == sku_id)) == 5


@pytest.mark.parametrize("spill", [True, False])
def test_small_chunks_give_the_same_catalog(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spill: bool
) -> None:
    """Products spanning chunks, texts filled in by a later row of the product; the changed rows kept
    from pass 1, or (without the stored hashes in pass 1) read from the file again."""
    path = tmp_path / "spread.csv"
    path.write_text(
        "sku,product,title,description[en],base_price,currency,stock[SH]\n"
        "A-1,A,Cup,,10,CNY,1\n"
        "B-1,B,Pot,Teapot,20,CNY,2\n"
        "A-2,A,Cup,A cup,11,CNY,3\n"
        "A-3,A,Cup,,12,CNY,\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(catalog_apply, "CHUNK", 1)
    monkeypatch.setattr(catalog_index, "SPILL_CHUNK", 2)
    if not spill:  # (an empty catalog is always spilled: taken as not empty here)
        monkeypatch.setattr(catalog_apply, "catalog_is_empty", lambda session: False)
        monkeypatch.setattr(catalog_apply, "stored_hashes", lambda session: None)
    summary = do_import(url, path)
    assert (summary.skus_created, summary.products_created, summary.stock_movements) == (4, 2, 3)
    with db.unit_of_work(url) as s:
        data = catalog.show(s, "A-3")
        assert data is not None and data["texts"]["en"]["description"] == "A cup"
        assert s.scalar(select(func.count()).select_from(Sku)) == 4
    assert do_import(url, path).changed is False
