"""Listing content: drafts built with the channel's language, category and attributes; gaps refused per
item; image limits; content edits make listings dirty; and every adapter puts it on the wire (emulators)."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from fakes import FakeAdapter
from listing_sync.adapters import registry
from listing_sync.adapters.base import ContentRules
from listing_sync.adapters.emulator import EmulatorHub
from listing_sync.adapters.registry import build_adapter
from listing_sync.config.channels import ChannelConfig, load_channels
from listing_sync.syncer import catalog, content, db, mapping, reconcile
from listing_sync.syncer.context import ensure_channel_rows
from listing_sync.syncer.models import ChannelListing, Product, ProductText, Sku
from listing_sync.syncer.tabular import write_csv
from sqlalchemy import select, update

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CHANNELS = {c.name: c for c in load_channels(ROOT / "config" / "channels.example.toml", env={})}


@pytest.fixture
def loaded(db_url: str):
    """The example catalog and the demo mappings, in a database with the demo channels."""
    with db.unit_of_work(db_url) as s:
        ensure_channel_rows(s, list(CHANNELS.values()))
        catalog.import_file(s, EXAMPLES / "catalog.csv", user="test")
        mapping.import_demo_mappings(s, list(CHANNELS.values()), EXAMPLES)
    return db_url


def product_skus(session, key: str) -> tuple[Product, list[Sku]]:
    product = session.scalar(select(Product).where(Product.key == key))
    skus = list(session.scalars(select(Sku).where(Sku.product_id == product.id).order_by(Sku.sku)))
    return product, skus


def draft_for(session, channel: ChannelConfig, key: str):
    product, skus = product_skus(session, key)
    ctx = content.ContentContext.for_products(session, channel, [product])
    inputs = [content.ListingInput(sku, Decimal("12.50"), 3, None) for sku in skus]
    return content.build_draft(product, inputs, channel, ctx)


# ------------------------------------------------------------------------------------------ drafts
def test_drafts_use_the_channels_language_category_and_attributes(loaded: str) -> None:
    with db.unit_of_work(loaded) as s:
        taobao = draft_for(s, CHANNELS["taobao"], "TEE-HAN")
        ebay = draft_for(s, CHANNELS["ebay-us"], "TEE-HAN")
        amazon = draft_for(s, CHANNELS["amazon-us"], "TEA-LJ")
        shopify = draft_for(s, CHANNELS["shopify"], "TEA-LJ")
    assert (taobao.language, taobao.title, taobao.category_id) == ("zh-CN", "汉字印花纯棉T恤 短袖", "50000671")
    assert {v.sku: dict(v.attributes) for v in taobao.variations}["TEE-HAN-WH-M"] == {
        "1627207": "28320",
        "20509": "28314",
    }
    assert taobao.bullet_points == ("100%纯棉", "汉字印花", "男女同款")
    assert (ebay.language, ebay.title, ebay.category_id) == ("en", "Hanzi Print Cotton T-Shirt Short Sleeve", "15687")
    assert {v.sku: dict(v.attributes) for v in ebay.variations}["TEE-HAN-BK-L"] == {"Color": "Black", "Size": "L"}
    assert dict(ebay.attributes) == {"Brand": ("东方潮",), "Country/Region of Manufacture": ("China",)}
    # the amazon-us override wins over title[en]; other channels of the same language get title[en]
    assert amazon.title.startswith("Longjing Dragon Well Green Tea, Pre-Qingming")
    assert shopify.title == "West Lake Longjing Dragon Well Green Tea 250g"
    assert amazon.category_id == "TEA" and dict(amazon.attributes) == {"item_type_keyword": ("loose-leaf-tea",)}


def test_value_translation_wins_over_the_localized_value(loaded: str) -> None:
    with db.unit_of_work(loaded) as s:
        ebay = draft_for(s, CHANNELS["ebay-us"], "CUP-CEL")
        shopify = draft_for(s, CHANNELS["shopify"], "CUP-CEL")
    colours = {v.sku: v.attributes["Color"] for v in ebay.variations}
    assert colours == {"CUP-CEL-GR": "Green", "CUP-CEL-WH": "White"}  # 青色 -> Green by the eBay table
    assert {v.sku: v.attributes["Color"] for v in shopify.variations}["CUP-CEL-GR"] == "Celadon"  # attr[颜色][en]


def test_description_html_is_sanitized(loaded: str) -> None:
    with db.unit_of_work(loaded) as s:
        product, _ = product_skus(s, "FAN-SILK")
        s.add(
            ProductText(
                product_id=product.id,
                language="en",
                channel="shopify",
                title="Fan",
                description='<p onclick="steal()">Carved<script>alert(1)</script> <b>fan</b></p>',
                bullet_points=[],
            )
        )
        s.flush()
        draft = draft_for(s, CHANNELS["shopify"], "FAN-SILK")
    assert draft.description == "<p>Carved <b>fan</b></p>" and draft.title == "Fan"


def test_every_gap_is_reported_with_a_message_naming_the_fix(loaded: str) -> None:
    with db.unit_of_work(loaded) as s:
        mapping.unmap_category(s, "ebay-us", "apparel")
        mapping.unmap_attribute(s, "taobao", "20509")  # 尺码 no longer mapped on Taobao
        with pytest.raises(content.ContentProblem) as refused:
            draft_for(s, CHANNELS["ebay-us"], "TEE-HAN")
        assert refused.value.code == "category_unmapped"
        assert "syncer categories map ebay-us apparel" in str(refused.value)
        assert len(refused.value.gaps) == 4  # one per SKU
        with pytest.raises(content.ContentProblem) as taobao:
            draft_for(s, CHANNELS["taobao"], "TEE-HAN")
        assert {g.code for g in taobao.value.gaps} == {"attribute_unmapped"}
        assert "'尺码'" in str(taobao.value)


def test_required_attribute_and_untranslated_value(loaded: str) -> None:
    with db.unit_of_work(loaded) as s:
        mapping.map_category(s, CHANNELS["ebay-us"], "apparel", "15687", ["Brand", "Color", "Sleeve Length"])
        s.execute(update(Sku).where(Sku.sku == "TEE-HAN-WH-M").values(attributes={"颜色": "米色", "尺码": "M"}))
        s.flush()
        s.expire_all()
        with pytest.raises(content.ContentProblem) as ebay:
            draft_for(s, CHANNELS["ebay-us"], "TEE-HAN")
        with pytest.raises(content.ContentProblem) as taobao:
            draft_for(s, CHANNELS["taobao"], "TEE-HAN")
    assert {g.code for g in ebay.value.gaps} == {"attribute_missing"}
    assert all("Sleeve Length" in g.message for g in ebay.value.gaps)
    assert [(g.sku, g.code) for g in taobao.value.gaps] == [("TEE-HAN-WH-M", "attribute_untranslated")]
    assert "米色" in taobao.value.gaps[0].message


@pytest.mark.parametrize(
    ("channel", "images", "code"),
    [
        ("aliexpress", [f"https://img.example.com/{n}.jpg" for n in range(7)], "too_many_images"),
        ("taobao", [f"https://img.example.com/{n}.jpg" for n in range(6)], "too_many_images"),
        ("amazon-us", [f"https://img.example.com/{n}.jpg" for n in range(10)], "too_many_images"),
        ("ebay-us", [f"https://img.example.com/{n}.jpg" for n in range(25)], "too_many_images"),
        ("ebay-us", ["http://img.example.com/plain.jpg"], "image_not_https"),
        ("ebay-us", [], "no_images"),
    ],
)
def test_image_limits_are_checked_before_publishing(loaded: str, channel: str, images: list[str], code: str) -> None:
    config = CHANNELS[channel]
    limit = registry.content_rules(config.kind).max_images  # the adapter's own declaration
    with db.unit_of_work(loaded) as s:
        s.execute(update(Sku).where(Sku.sku == "HONEY-LY-500").values(images=images))
        s.flush()
        s.expire_all()
        with pytest.raises(content.ContentProblem) as refused:
            draft_for(s, config, "HONEY-LY")
    assert [g.code for g in refused.value.gaps] == [code]
    if code == "too_many_images":
        assert f"{len(images)} images" in str(refused.value) and f"at most {limit}" in str(refused.value)
    # one image fewer than the limit passes
    if code == "too_many_images":
        with db.unit_of_work(loaded) as s:
            s.execute(update(Sku).where(Sku.sku == "HONEY-LY-500").values(images=images[:limit]))
            s.flush()
            s.expire_all()
            assert len(draft_for(s, config, "HONEY-LY").images) == limit


def test_unknown_kinds_keep_our_category_when_unmapped() -> None:
    config = ChannelConfig(name="toy", kind="toy", currency="CNY", warehouses=("SH",))
    product = Product(id=1, key="P", title="T", description="d", category="tea", brand="")
    sku = Sku(id=1, sku="S", attributes={}, images=[], barcode="", weight_grams=None)
    draft = content.build_draft(product, [content.ListingInput(sku, Decimal("1"), 1, None)], config)
    assert draft.category_id == "tea"


def test_language_tags() -> None:
    assert content.normalize_language("zh-cn") == "zh-CN"
    assert content.normalize_language("ZH-hant-tw") == "zh-Hant-TW"
    assert content.normalize_language("es-419") == "es-419"
    assert content.normalize_language("zh_CN") is None
    assert content.normalize_language("english") is None
    assert content.language_chain("en-US") == ["en-US", "en"]


# -------------------------------------------------------------------------------- dirty tracking
def set_rates(url: str) -> None:
    from datetime import date

    from listing_sync.syncer import fx

    with db.unit_of_work(url) as s:
        fx.set_rate(s, "CNY", "USD", Decimal("0.14"), date(2020, 1, 1))


def _publish_all(url: str, config: ChannelConfig) -> FakeAdapter:
    adapter = FakeAdapter(config)
    with db.unit_of_work(url) as s:
        reconcile.ensure_listings(s, config, list(s.scalars(select(Sku.id))))
    report = reconcile.push_channel(lambda: db.unit_of_work(url), config, adapter)
    assert report.failed == 0, report.errors
    return adapter


def _status(url: str, sku: str, channel: str) -> tuple[str, str | None]:
    with db.unit_of_work(url) as s:
        row = s.execute(
            select(ChannelListing.status, ChannelListing.desired_content_hash)
            .join(Sku, Sku.id == ChannelListing.sku_id)
            .where(Sku.sku == sku, ChannelListing.channel_id == select_channel(channel))
        ).one()
    return row[0], row[1]


def select_channel(name: str):
    from listing_sync.syncer.models import Channel

    return select(Channel.id).where(Channel.name == name).scalar_subquery()


def test_content_edit_makes_listings_dirty_and_the_publish_sends_it(loaded: str, tmp_path: Path) -> None:
    set_rates(loaded)
    config = CHANNELS["ebay-us"]
    adapter = _publish_all(loaded, config)
    assert _status(loaded, "HONEY-LY-500", "ebay-us")[0] == "clean"
    before = _status(loaded, "HONEY-LY-500", "ebay-us")[1]
    edited = tmp_path / "edit.csv"
    with db.unit_of_work(loaded) as s:
        header, rows = catalog.export_rows(s)
        rows = [dict(zip(header, row, strict=True)) for row in rows]
    for row in rows:
        if row["sku"] == "HONEY-LY-500":
            row["title[en]"], row["bullets[en]"] = "Raw Lychee Honey 500g", "Raw|Unfiltered"
    write_csv(edited, header, ([row[h] for h in header] for row in rows))
    with db.unit_of_work(loaded) as s:
        summary = catalog.import_file(s, edited, user="test")
        assert summary.texts_changed == 1
        reconcile.refresh(s, [config], summary.changed_sku_ids)
    status, after = _status(loaded, "HONEY-LY-500", "ebay-us")
    assert status == "dirty" and after != before
    assert _status(loaded, "TEA-LJ-250", "ebay-us")[0] == "clean"  # untouched products stay clean
    adapter.calls.clear()
    reconcile.push_channel(lambda: db.unit_of_work(loaded), config, adapter)
    assert adapter.calls[0][1] == ["HONEY-LY-500"]
    assert adapter.items["HONEY-LY-500"]["title"] == "Raw Lychee Honey 500g"


def test_mapping_change_makes_the_categorys_listings_dirty(loaded: str) -> None:
    set_rates(loaded)
    config = CHANNELS["amazon-us"]
    _publish_all(loaded, config)
    with db.unit_of_work(loaded) as s:
        assert mapping.map_attribute(s, config, "item_type_keyword", category="food", constant="raw-honey")
        marked = reconcile.refresh(s, [config], mapping.skus_in_categories(s, {"food"}), channel_names=[config.name])
    assert marked == 1
    assert _status(loaded, "HONEY-LY-500", "amazon-us")[0] == "dirty"
    assert _status(loaded, "TEA-LJ-250", "amazon-us")[0] == "clean"


def test_reconcile_parks_an_unmapped_category_per_item(loaded: str) -> None:
    set_rates(loaded)
    config = CHANNELS["ebay-us"]
    with db.unit_of_work(loaded) as s:
        mapping.unmap_category(s, "ebay-us", "food")
    adapter = FakeAdapter(config)
    with db.unit_of_work(loaded) as s:
        reconcile.ensure_listings(s, config, list(s.scalars(select(Sku.id))))
    report = reconcile.push_channel(lambda: db.unit_of_work(loaded), config, adapter)
    assert report.parked == 1 and report.ok == 17
    with db.unit_of_work(loaded) as s:
        row = s.execute(
            select(ChannelListing).join(Sku, Sku.id == ChannelListing.sku_id).where(Sku.sku == "HONEY-LY-500")
        ).scalar_one()
        assert row.status == "parked" and row.last_error_code == "category_unmapped"
        assert "syncer categories map ebay-us food" in row.last_error


# ------------------------------------------------------------------------------ on the wire (emulators)
def _strings(value: Any) -> list[str]:
    """Every key and scalar in a request body, unpacking JSON and form values nested in strings."""
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out.append(str(key))
            out.extend(_strings(item))
    elif isinstance(value, list | tuple):
        for item in value:
            out.extend(_strings(item))
    elif isinstance(value, str):
        out.append(value)
        text = value.strip()
        if text[:1] in "[{":
            with contextlib.suppress(ValueError):
                out.extend(_strings(json.loads(text)))
    elif value is not None:
        out.append(str(value))
    return out


def _wire(requests: list[httpx.Request]) -> list[str]:
    out: list[str] = []
    for request in requests:
        out.extend(_strings(dict(request.url.params)))
        body = request.content.decode("utf-8", "replace")
        if not body:
            continue
        try:
            out.extend(_strings(json.loads(body)))
        except ValueError:
            out.extend(_strings(dict(parse_qsl(body))))
    return out


WIRE = {
    # channel: (category id, translated attribute value, localized title)
    "taobao": ("50000671", "1627207:28320", "汉字印花纯棉T恤 短袖"),
    "shopify": ("Apparel", "White", "Hanzi Print Cotton T-Shirt Short Sleeve"),
    "woocommerce": ("17", "中号", "汉字印花纯棉T恤 短袖"),
    "aliexpress": ("200000343", "White", "Hanzi Print Cotton T-Shirt Short Sleeve"),
    "ebay-us": ("15687", "White", "Hanzi Print Cotton T-Shirt Short Sleeve"),
    "amazon-us": ("SHIRT", "White", "Hanzi Print Cotton T-Shirt Short Sleeve"),
}


@pytest.mark.parametrize("name", list(WIRE))
def test_each_adapter_puts_language_category_and_attributes_on_the_wire(loaded: str, name: str) -> None:
    config = CHANNELS[name]
    hub = EmulatorHub()
    emulator = hub.get(config)
    with db.unit_of_work(loaded) as s:
        draft = draft_for(s, config, "TEE-HAN")
    with build_adapter(config, hub=hub) as adapter:
        results = adapter.publish([draft])
    assert [r.ok for r in results] == [True], results
    sent = _wire(emulator.requests)
    category, attribute, title = WIRE[name]
    assert category in sent, f"{name}: category {category} not sent"
    assert any(attribute in text for text in sent), f"{name}: attribute value {attribute} not sent"
    assert title in sent, f"{name}: title {title!r} not sent"
    if name == "amazon-us":
        assert "en_US" in sent  # the channel's language as Amazon's language_tag
    if name == "aliexpress":
        assert any(text in ("en", "en_US") for text in sent)


class ShelfAdapter(FakeAdapter):
    """A marketplace added at run time: its folder would hold this class, with its own content rules."""

    kind = "shelf"
    content_rules = ContentRules(
        max_images=1, max_title=12, category_required=True, category_pattern=r"^C\d+$", category_hint="code"
    )


def test_a_kind_registered_at_run_time_brings_its_own_content_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "KINDS", dict(registry.KINDS))
    registry.register("shelf", f"{__name__}:ShelfAdapter", f"{__name__}:ShelfAdapter")  # the one registry line
    config = ChannelConfig(name="shelf-1", kind="shelf", currency="CNY", warehouses=("SH",))
    images = ["https://img.example.com/1.jpg", "https://img.example.com/2.jpg"]

    assert registry.content_rules("shelf") is ShelfAdapter.content_rules
    assert [g.code for g in content.image_gaps("S", images, config)] == ["too_many_images"]
    assert "shelf takes at most 1 per listing" in content.image_gaps("S", images, config)[0].message
    assert content.category_target_problem("shelf", "C12") is None
    assert content.category_target_problem("shelf", "tea") == "'tea' is not a shelf code"
    product = Product(id=1, key="P", title="A title far too long", description="d", category="tea", brand="")
    sku = Sku(id=1, sku="S", attributes={}, images=images[:1], barcode="", weight_grams=None)
    _, gaps = content.check(product, [sku], config)
    assert [g.code for g in gaps] == ["category_unmapped", "title_too_long"]
    assert "(shelf code)" in gaps[0].message and "shelf allows 12" in gaps[1].message


def test_kinds_without_declared_rules_take_anything() -> None:
    assert registry.content_rules("toy-unknown") == ContentRules()  # unknown: the channels file reports it
    config = ChannelConfig(name="fake", kind="fake-unregistered", currency="CNY", warehouses=("SH",))
    many = [f"http://img.example.com/{n}.jpg" for n in range(40)]
    assert content.image_gaps("S", many, config) == []
