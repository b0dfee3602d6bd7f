"""A first import into an empty catalog looks nothing stored up (no row can match one) and writes what
an import that compares every row with the stored ones writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogs import EXAMPLE, do_import
from listing_sync.syncer import bulkload, catalog, catalog_apply, catalog_index, db
from listing_sync.syncer.models import Product, Sku, table_of
from listing_sync.syncer.tabular import InputRejected
from sqlalchemy import update


def exported(url: str) -> list[list[str]]:
    with db.unit_of_work(url) as s:
        header, rows = catalog.export_rows(s)
        return [header, *([str(v) for v in row] for row in rows)]


@pytest.mark.parametrize("empty_path", [True, False], ids=["looked-up-nothing", "compared"])
def test_a_first_import_writes_what_a_compared_import_writes(
    url: str, monkeypatch: pytest.MonkeyPatch, empty_path: bool
) -> None:
    lookups: list[str] = []
    inserting: list[bool] = []  # (PostgreSQL reads the ids of the rows it has just copied in by key)
    among, insert_returning = bulkload.among, catalog_apply._insert_returning

    def counting(connection, column, values):  # type: ignore[no-untyped-def]
        if not inserting:
            lookups.append(str(column))
        return among(connection, column, values)

    def flagged(*args):  # type: ignore[no-untyped-def]
        inserting.append(True)
        try:
            return list(insert_returning(*args))
        finally:
            inserting.pop()

    monkeypatch.setattr(bulkload, "among", counting)
    monkeypatch.setattr(catalog_apply, "_insert_returning", flagged)
    monkeypatch.setattr(catalog_apply, "CHUNK", 5)  # products spanning chunks
    monkeypatch.setattr(catalog_index, "SPILL_CHUNK", 4)
    if not empty_path:
        monkeypatch.setattr(catalog_apply, "catalog_is_empty", lambda session: False)
    summary = do_import(url, EXAMPLE)
    assert (lookups == []) is empty_path  # nothing stored is looked up by key on a first import
    assert (summary.skus_created, summary.products_created, summary.skus_updated) == (18, 12, 0)
    assert (summary.stock_movements, summary.texts_changed, len(summary.changed_sku_ids)) == (36, 35, 18)
    monkeypatch.undo()
    first = exported(url)
    assert do_import(url, EXAMPLE).changed is False
    with db.unit_of_work(url) as s:  # no hash to trust: every column and text compared with the file
        s.execute(update(table_of(Sku)).values(row_hash=None))
        s.execute(update(table_of(Product)).values(row_hash=None))
    again = do_import(url, EXAMPLE)
    assert (again.changed, again.skus_updated, again.products_updated, again.texts_changed) == (False, 0, 0, 0)
    assert exported(url) == first


def test_a_catalog_is_empty_until_its_first_import(url: str, tmp_path: Path) -> None:
    with db.unit_of_work(url) as s:
        assert catalog_apply.catalog_is_empty(s)
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,title,base_price,currency\nA-1,T,10,CNY\nA-2,T,x,CNY\n", encoding="utf-8")
    with pytest.raises(InputRejected):  # still validated whole before anything is written
        do_import(url, bad)
    with db.unit_of_work(url) as s:
        assert catalog_apply.catalog_is_empty(s)
    do_import(url, EXAMPLE)
    with db.unit_of_work(url) as s:
        assert not catalog_apply.catalog_is_empty(s)
