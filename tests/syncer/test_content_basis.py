"""The recompute keeps a listing's content hash while what it was computed from is unchanged (its content
basis: the SKU's stored content and the channel's content configuration) and computes it again as soon as
either moves, whoever wrote the change: an import, an ORM edit, a plain SQL statement, a mapping."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from listing_sync.syncer import catalog, content, db, mapping, reconcile
from listing_sync.syncer.models import ChannelListing, Product, ProductText, Sku, table_of
from listing_sync.syncer.tabular import write_csv
from sqlalchemy import select, update
from test_content import CHANNELS, loaded, set_rates  # noqa: F401  (loaded is a fixture)

CONFIGS = list(CHANNELS.values())


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """(SKU, channel) -> how many times the recompute resolved and hashed that listing's content."""
    calls: Counter[tuple[str, str]] = Counter()
    real = content.ContentHasher.__call__

    def spy(self: content.ContentHasher, product: Any, sku: Any) -> str:
        calls[(sku.sku, self.channel.name)] += 1
        return real(self, product, sku)

    monkeypatch.setattr(content.ContentHasher, "__call__", spy)
    return calls


@pytest.fixture
def listed(loaded: str) -> str:  # noqa: F811
    """Every SKU listed on every demo channel, desired values computed (and their bases recorded)."""
    set_rates(loaded)
    with db.unit_of_work(loaded) as s:
        ids = list(s.scalars(select(Sku.id)))
        for config in CONFIGS:
            reconcile.ensure_listings(s, config, ids)
    return loaded


def _refresh(url: str) -> int:
    with db.unit_of_work(url) as s:
        return reconcile.refresh(s, CONFIGS)


def _skus_of(url: str, key: str) -> set[str]:
    with db.unit_of_work(url) as s:
        query = select(Sku.sku).join(Product, Product.id == Sku.product_id).where(Product.key == key)
        return set(s.scalars(query))


def _stored(url: str) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """(SKU, channel) -> (desired content hash, content basis) as stored."""
    from listing_sync.syncer.models import Channel

    with db.unit_of_work(url) as s:
        rows = s.execute(
            select(Sku.sku, Channel.name, ChannelListing.desired_content_hash, table_of(ChannelListing).c.content_basis)
            .join(Sku, Sku.id == ChannelListing.sku_id)
            .join(Channel, Channel.id == ChannelListing.channel_id)
        )
        return {(sku, channel): (digest, basis) for sku, channel, digest, basis in rows}


def _assert_hashes_are_fresh(url: str) -> None:
    """Every stored hash is the one computed from scratch (the per-listing ORM path, no basis)."""
    with db.unit_of_work(url) as s:
        channel_ids = {c.name: c for c in CONFIGS}
        from listing_sync.syncer.models import Channel

        for name, channel_id in s.execute(select(Channel.name, Channel.id)):
            listings = list(s.scalars(select(ChannelListing).where(ChannelListing.channel_id == channel_id)))
            fresh = reconcile.compute_desired(s, channel_ids[name], listings)
            for listing in listings:
                assert listing.desired_content_hash == fresh[listing.id].content_hash


def test_nothing_changed_nothing_is_hashed_again(listed: str, hashed: Counter[tuple[str, str]]) -> None:
    before = _stored(listed)
    assert all(basis for _, basis in before.values())  # recorded with every hash
    assert _refresh(listed) == 0
    assert not hashed
    assert _stored(listed) == before


def test_an_orm_edit_of_a_text_rehashes_that_products_listings_only(
    listed: str, hashed: Counter[tuple[str, str]]
) -> None:
    with db.unit_of_work(listed) as s:
        pid = s.scalar(select(Product.id).where(Product.key == "HONEY-LY"))
        text = s.scalar(select(ProductText).where(ProductText.product_id == pid, ProductText.language == "en"))
        assert text is not None
        text.title = "Raw Lychee Honey, 500 g jar"
    marked = _refresh(listed)
    honey = _skus_of(listed, "HONEY-LY")
    assert {sku for sku, _ in hashed} == honey
    assert max(hashed.values()) == 1  # once per listing
    assert marked > 0
    _assert_hashes_are_fresh(listed)


def test_a_sql_update_of_a_skus_images_rehashes_that_sku(listed: str, hashed: Counter[tuple[str, str]]) -> None:
    """A plain statement bypasses the ORM: the fingerprint is of the stored values, so it still counts."""
    before = _stored(listed)
    with db.unit_of_work(listed) as s:
        s.execute(update(Sku).where(Sku.sku == "HONEY-LY-500").values(images=["https://img.example.com/new.jpg"]))
    assert _refresh(listed) == len(CONFIGS)
    assert set(hashed) == {("HONEY-LY-500", c.name) for c in CONFIGS}
    after = _stored(listed)
    assert all(after[("HONEY-LY-500", c.name)][0] != before[("HONEY-LY-500", c.name)][0] for c in CONFIGS)
    _assert_hashes_are_fresh(listed)


def test_a_mapping_change_rehashes_that_channels_listings(listed: str, hashed: Counter[tuple[str, str]]) -> None:
    config = CHANNELS["amazon-us"]
    with db.unit_of_work(listed) as s:
        assert mapping.map_attribute(s, config, "item_type_keyword", category="food", constant="raw-honey")
    _refresh(listed)
    assert {channel for _, channel in hashed} == {"amazon-us"}
    _assert_hashes_are_fresh(listed)


def test_an_import_that_changes_a_title_rehashes_it_and_one_that_changes_nothing_does_not(
    listed: str, hashed: Counter[tuple[str, str]], tmp_path: Path
) -> None:
    with db.unit_of_work(listed) as s:
        header, rows = catalog.export_rows(s)
        cells = [dict(zip(header, row, strict=True)) for row in rows]
    same = tmp_path / "same.csv"
    write_csv(same, header, ([row[h] for h in header] for row in cells))
    with db.unit_of_work(listed) as s:
        catalog.import_file(s, same, user="test")
    assert _refresh(listed) == 0 and not hashed
    for row in cells:
        if row["sku"] == "TEA-LJ-250":
            row["title[en]"] = "Longjing green tea, 250 g"
    edited = tmp_path / "edited.csv"
    write_csv(edited, header, ([row[h] for h in header] for row in cells))
    with db.unit_of_work(listed) as s:
        catalog.import_file(s, edited, user="test")
    assert _refresh(listed) > 0
    assert {sku for sku, _ in hashed} == _skus_of(listed, "TEA-LJ")
    _assert_hashes_are_fresh(listed)


def test_editing_content_back_gives_back_the_first_hash(listed: str) -> None:
    before = _stored(listed)
    with db.unit_of_work(listed) as s:
        original = list(s.scalar(select(Sku.images).where(Sku.sku == "HONEY-LY-500")) or [])
    for images in (["https://img.example.com/other.jpg"], original):
        with db.unit_of_work(listed) as s:
            sku = s.scalar(select(Sku).where(Sku.sku == "HONEY-LY-500"))
            assert sku is not None
            sku.images = images
        _refresh(listed)
        assert (_stored(listed) == before) is (images == original)


def test_the_recomputes_hasher_gives_content_hash_for_every_sku_and_channel(loaded: str) -> None:  # noqa: F811
    """The recompute's per-product shortcut and the per-listing path agree, byte for byte, on every SKU of
    the example catalog on every demo channel (mapped categories, translated and unmapped attributes,
    localized texts, channel overrides)."""
    with db.unit_of_work(loaded) as s:
        products = {p.id: p for p in s.scalars(select(Product))}
        skus = list(s.scalars(select(Sku).order_by(Sku.id)))
        for config in CONFIGS:
            ctx = content.ContentContext.for_products(s, config, products.values())
            hasher = content.ContentHasher(config, ctx)
            for sku in skus:
                product = products[sku.product_id]
                assert hasher(product, sku) == content.content_hash(product, sku, config, ctx), (sku.sku, config.name)
