"""Localized catalog columns: title/description/bullets[LANG](@CHANNEL) and attr[NAME][LANG]."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import catalog
from listing_sync.syncer.context import ensure_channel_rows
from listing_sync.syncer.models import Product, ProductText, Sku, SkuText
from listing_sync.syncer.tabular import InputRejected, write_csv
from sqlalchemy import func, select

HEADER = (
    "sku,product,title,category,base_price,currency,attr[颜色],"
    "title[en],description[en],bullets[en],title[zh-CN],title[en]@amazon-us,attr[颜色][en]"
)


def write(tmp_path: Path, text: str, name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def good(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        HEADER + "\n"
        "CUP-WH,CUP,青瓷茶杯,teaware,39,CNY,白色,Celadon Cup,<p>Longquan</p>,Handmade|Single cup,青瓷茶杯 单只,"
        "Celadon Tea Cup for Amazon,White\n"
        "CUP-GR,CUP,青瓷茶杯,teaware,39,CNY,青色,,,,,,Celadon\n",
    )


def texts(session) -> dict[tuple[str, str, str], tuple[str, str, list[str]]]:
    rows = session.execute(select(Product.key, ProductText).join(Product, Product.id == ProductText.product_id))
    return {(k, t.language, t.channel): (t.title, t.description, list(t.bullet_points)) for k, t in rows}


def sku_texts(session) -> dict[tuple[str, str], dict]:
    rows = session.execute(select(Sku.sku, SkuText).join(Sku, Sku.id == SkuText.sku_id))
    return {(k, t.language): dict(t.attributes) for k, t in rows}


def test_import_localized_columns(session, tmp_path: Path) -> None:
    summary = catalog.import_file(session, good(tmp_path), user="t")
    assert summary.texts_changed == 5  # en, zh-CN, en@amazon-us, and two SKU rows
    assert texts(session) == {
        ("CUP", "en", ""): ("Celadon Cup", "<p>Longquan</p>", ["Handmade", "Single cup"]),
        ("CUP", "zh-CN", ""): ("青瓷茶杯 单只", "", []),
        ("CUP", "en", "amazon-us"): ("Celadon Tea Cup for Amazon", "", []),
    }
    assert sku_texts(session) == {("CUP-WH", "en"): {"颜色": "White"}, ("CUP-GR", "en"): {"颜色": "Celadon"}}


def test_reimport_is_a_no_op_and_export_round_trips(session, tmp_path: Path) -> None:
    catalog.import_file(session, good(tmp_path), user="t")
    again = catalog.import_file(session, good(tmp_path), user="t")
    assert not again.changed and again.change_set_id is None
    header, rows = catalog.export_rows(session)
    for column in (
        "title[en]",
        "description[en]",
        "bullets[en]",
        "title[zh-CN]",
        "title[en]@amazon-us",
        "attr[颜色][en]",
    ):
        assert column in header
    rows = list(rows)
    exported = dict(zip(header, next(r for r in rows if r[0] == "CUP-WH"), strict=True))
    assert exported["bullets[en]"] == "Handmade|Single cup" and exported["attr[颜色][en]"] == "White"
    out = tmp_path / "export.csv"
    write_csv(out, header, rows)
    before = (texts(session), sku_texts(session))
    summary = catalog.import_file(session, out, user="t")
    assert not summary.changed
    assert (texts(session), sku_texts(session)) == before


def test_empty_cell_clears_and_absent_column_keeps(session, tmp_path: Path) -> None:
    catalog.import_file(session, good(tmp_path), user="t")
    edit = write(
        tmp_path,
        "sku,product,title,category,base_price,currency,attr[颜色],title[en]\n"
        "CUP-WH,CUP,青瓷茶杯,teaware,39,CNY,白色,\n"
        "CUP-GR,CUP,青瓷茶杯,teaware,39,CNY,青色,\n",
        "edit.csv",
    )
    summary = catalog.import_file(session, edit, user="t")
    assert summary.texts_changed == 1
    got = texts(session)
    assert got[("CUP", "en", "")] == ("", "<p>Longquan</p>", ["Handmade", "Single cup"])  # only title cleared
    assert got[("CUP", "zh-CN", "")] == ("青瓷茶杯 单只", "", [])  # column not in the file: kept
    assert sku_texts(session)[("CUP-WH", "en")] == {"颜色": "White"}
    assert summary.changed_sku_ids == set(session.scalars(select(Sku.id)))


def test_bad_language_tags_and_bad_rows_are_all_listed_and_nothing_is_applied(session, tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "sku,product,title,base_price,currency,title[zh_CN],description[english],attr[颜色][],bullets[en]@Amazon US,"
        "title[en],title[EN]\n"
        "A,P,t,1,CNY,,,,,A en,A en\n"
        "B,P,t,1,CNY,,,,,B en,\n"
        "C,Q,t,x,CNY,,,,,,\n",
    )
    with pytest.raises(InputRejected) as rejected:
        catalog.import_file(session, bad, user="t")
    where = {(p.row, p.column) for p in rejected.value.problems}
    assert {
        (1, "title[zh_CN]"),
        (1, "description[english]"),
        (1, "attr[颜色][]"),
        (1, "bullets[en]@Amazon US"),
        (1, "title[EN]"),
        (3, "title[en]"),  # differs from row 2 of the same product
        (4, "base_price"),
    } <= where
    messages = " ".join(str(p) for p in rejected.value.problems)
    assert "'zh_CN' is not a BCP 47 language tag" in messages and "same column as 'title[en]'" in messages
    assert session.scalar(select(func.count()).select_from(Product)) == 0
    assert session.scalar(select(func.count()).select_from(ProductText)) == 0


def test_override_for_an_unknown_channel_is_refused_once_channels_exist(session, tmp_path: Path) -> None:
    ensure_channel_rows(session, [ChannelConfig(name="amazon-us", kind="amazon", currency="USD", warehouses=("SH",))])
    path = write(tmp_path, "sku,title,base_price,currency,title[en]@amazon-uk\nA,t,1,CNY,x\n")
    with pytest.raises(InputRejected) as rejected:
        catalog.import_file(session, path, user="t")
    assert [(p.row, p.column) for p in rejected.value.problems] == [(1, "title[en]@amazon-uk")]
    assert "unknown channel 'amazon-uk'" in str(rejected.value)


def test_language_tags_are_stored_in_canonical_case(session, tmp_path: Path) -> None:
    path = write(tmp_path, "sku,title,base_price,currency,title[zh-cn],attr[颜色][ZH-hant]\nA,t,1,CNY,标题,白\n")
    catalog.import_file(session, path, user="t")
    assert set(texts(session)) == {("A", "zh-CN", "")}
    assert set(sku_texts(session)) == {("A", "zh-Hant")}


def test_show_includes_localized_texts(session, tmp_path: Path) -> None:
    catalog.import_file(session, good(tmp_path), user="t")
    shown = catalog.show(session, "CUP-WH")
    assert shown["texts"]["en"]["bullets"] == ["Handmade", "Single cup"]
    assert shown["texts"]["en@amazon-us"]["title"] == "Celadon Tea Cup for Amazon"
    assert shown["attribute_texts"] == {"en": {"颜色": "White"}}
