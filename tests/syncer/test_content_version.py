"""``skus.content_version`` is kept by the database (triggers of migration 0014) whoever writes the content,
and the recompute reads the content of exactly the SKUs whose version moved since their listings were
verified; without the triggers it verifies every listing as before."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from listing_sync.syncer import content_version, db, fx, recompute
from listing_sync.syncer.models import ChannelListing, Product, ProductText, Sku, SkuText, table_of
from sqlalchemy import delete, func, insert, select, text, update
from test_content import loaded  # noqa: F401  (a fixture)
from test_content_basis import CONFIGS, _assert_hashes_are_fresh, _refresh, _skus_of, listed  # noqa: F401

VERSION = table_of(Sku).c.content_version


def _versions(url: str) -> dict[str, int]:
    with db.unit_of_work(url) as s:
        return {sku: version for sku, version in s.execute(select(Sku.sku, VERSION))}


def _moved(url: str, before: dict[str, int]) -> set[str]:
    after = _versions(url)
    assert all(after[sku] >= version for sku, version in before.items())  # never goes back
    return {sku for sku, version in after.items() if version != before.get(sku)}


@pytest.fixture
def read(monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """The SKU ids whose content each chunk of the recompute read."""
    calls: list[set[int]] = []
    real = recompute._Chunk.load_content

    def spy(self: Any, session: Any, ids: list[int], languages: list[str]) -> None:
        calls.append(set(ids))
        real(self, session, ids, languages)

    monkeypatch.setattr(recompute._Chunk, "load_content", spy)
    return calls


def test_the_triggers_are_installed_by_the_migration(db_url: str) -> None:
    with db.unit_of_work(db_url) as s:
        assert content_version.installed(s.connection())


def test_every_kind_of_content_write_moves_the_version_of_exactly_the_skus_it_touches(listed: str) -> None:  # noqa: F811
    honey = _skus_of(listed, "HONEY-LY")
    before = _versions(listed)
    with db.unit_of_work(listed) as s:  # the SKU's own column, by a plain statement
        s.execute(update(Sku).where(Sku.sku == "HONEY-LY-500").values(barcode="6900000000017"))
    assert _moved(listed, before) == {"HONEY-LY-500"}

    before = _versions(listed)
    with db.unit_of_work(listed) as s:  # the product's column, through the ORM
        product = s.scalar(select(Product).where(Product.key == "HONEY-LY"))
        assert product is not None
        product.brand = "Another brand"
    assert _moved(listed, before) == honey

    before = _versions(listed)
    with db.unit_of_work(listed) as s:  # a product text added, changed, removed
        pid = s.scalar(select(Product.id).where(Product.key == "HONEY-LY"))
        s.execute(insert(ProductText).values(product_id=pid, language="fr", channel="", title="Miel de litchi"))
        s.execute(update(ProductText).where(ProductText.language == "fr").values(title="Miel brut de litchi"))
        s.execute(delete(ProductText).where(ProductText.language == "fr"))
    moved = _versions(listed)
    assert {sku for sku in moved if moved[sku] != before[sku]} == honey
    assert all(moved[sku] == before[sku] + 3 for sku in honey)

    before = _versions(listed)
    with db.unit_of_work(listed) as s:  # a SKU text
        sku_id = s.scalar(select(Sku.id).where(Sku.sku == "HONEY-LY-500"))
        s.execute(insert(SkuText).values(sku_id=sku_id, language="fr", attributes={"size": "500 g"}))
    assert _moved(listed, before) == {"HONEY-LY-500"}


def test_writes_that_change_no_content_do_not_move_it(listed: str) -> None:  # noqa: F811
    before = _versions(listed)
    with db.unit_of_work(listed) as s:
        s.execute(update(Sku).values(base_price=Sku.base_price + 1))  # a price is not content
        s.execute(update(Sku).values(images=Sku.images, barcode=Sku.barcode))  # the same values again
        s.execute(update(Product).values(title=Product.title, tags=["x"]))
        s.execute(update(ProductText).values(title=ProductText.title))
    assert _moved(listed, before) == set()


def test_the_recompute_reads_only_the_content_whose_version_moved(listed: str, read: list[set[int]]) -> None:  # noqa: F811
    assert _refresh(listed) == 0
    assert read == []  # nothing moved: no content read at all
    with db.unit_of_work(listed) as s:
        fx.set_rate(s, "CNY", "USD", Decimal("0.15"), date(2020, 1, 2))
    assert _refresh(listed) > 0  # the USD prices move
    assert read == []
    with db.unit_of_work(listed) as s:
        sku_id = s.scalar(select(Sku.id).where(Sku.sku == "HONEY-LY-500"))
        s.execute(update(Sku).where(Sku.id == sku_id).values(images=["https://img.example.com/new.jpg"]))
    assert _refresh(listed) == len(CONFIGS)
    assert read == [{sku_id}]
    _assert_hashes_are_fresh(listed)
    with db.unit_of_work(listed) as s:  # the listings are verified at the new version: no second read
        stale = s.scalar(
            select(func.count())
            .select_from(table_of(ChannelListing).join(table_of(Sku)))
            .where(table_of(ChannelListing).c.basis_version != VERSION)
        )
    assert stale == 0
    read.clear()
    assert _refresh(listed) == 0 and read == []


def test_without_the_triggers_every_listing_is_verified_from_the_stored_content(
    listed: str,  # noqa: F811
    read: list[set[int]],
) -> None:
    with db.unit_of_work(listed) as s:
        trigger = "content_version_skus"
        postgresql = s.bind.dialect.name == "postgresql"
        s.execute(text(f"DROP TRIGGER {trigger}" + (" ON skus" if postgresql else "")))
        assert not content_version.installed(s.connection())
        s.execute(update(Sku).where(Sku.sku == "HONEY-LY-500").values(images=["https://img.example.com/new.jpg"]))
    try:
        assert _refresh(listed) == len(CONFIGS)  # the edit is found although no version moved
        assert read and set.union(*read) == set(_ids(listed))
        _assert_hashes_are_fresh(listed)
    finally:
        if postgresql:  # this process's schema serves the later tests: give the trigger back
            migration = importlib.import_module("listing_sync.migrations.versions.20261202_0014_sku_content_version")
            create = next(
                sql for sql in migration._postgresql_triggers() if sql.startswith(f"CREATE TRIGGER {trigger} ")
            )
            with db.unit_of_work(listed) as s:
                s.execute(text(create))


def _ids(url: str) -> list[int]:
    with db.unit_of_work(url) as s:
        return list(s.scalars(select(Sku.id)))
