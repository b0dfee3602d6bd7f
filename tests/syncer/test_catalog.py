"""Catalog import/export: validate-whole, idempotent upsert, ledger movements, round trips."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from catalogs import EXAMPLE, do_import
from listing_sync.syncer import catalog, db
from listing_sync.syncer.models import ChangeItem, Product, Sku, StockLevel, StockMovement
from listing_sync.syncer.tabular import InputRejected, Problem, write_csv
from openpyxl import Workbook
from sqlalchemy import func, select

HEADER = "sku,product,title,category,cost,base_price,currency,attr[颜色],stock[SH],stock[GZ]\n"


def snapshot(url: str) -> tuple:
    with db.unit_of_work(url) as s:
        return (
            s.scalar(select(func.count()).select_from(Sku)),
            s.scalar(select(func.count()).select_from(Product)),
            s.scalar(select(func.count()).select_from(StockMovement)),
            sorted((r.sku_id, r.warehouse_id, r.on_hand) for r in s.scalars(select(StockLevel))),
            sorted((x.sku, str(x.base_price)) for x in s.scalars(select(Sku))),
        )


def test_example_catalog_imports_and_reimport_changes_nothing(url: str) -> None:
    first = do_import(url, EXAMPLE)
    assert first.skus_created == 18 and first.products_created == 12
    assert first.stock_movements == 36
    before = snapshot(url)
    second = do_import(url, EXAMPLE)
    assert (second.skus_created, second.skus_updated, second.stock_movements) == (0, 0, 0)
    assert second.change_set_id is None
    assert snapshot(url) == before


def test_a_reimport_finds_the_unchanged_rows_and_touches_only_the_changed_one(url: str, tmp_path: Path) -> None:
    do_import(url, EXAMPLE)
    with db.unit_of_work(url) as s:
        header, rows = catalog.export_rows(s)
        cells = [dict(zip(header, row, strict=True)) for row in rows]
    target = cells[0]["sku"]
    cells[0]["base_price"] = str(Decimal(cells[0]["base_price"]) + 1)
    edited = tmp_path / "edited.csv"
    write_csv(edited, header, ([row[h] for h in header] for row in cells))
    summary = do_import(url, edited)
    assert (summary.skus_updated, summary.skus_unchanged) == (1, len(cells) - 1)
    assert (summary.skus_created, summary.products_updated, summary.texts_changed, summary.stock_movements) == (
        0,
        0,
        0,
        0,
    )
    with db.unit_of_work(url) as s:
        assert summary.changed_sku_ids == {s.scalar(select(Sku.id).where(Sku.sku == target))}
        items = s.scalars(select(ChangeItem).where(ChangeItem.change_set_id == summary.change_set_id)).all()
    assert [(i.field, i.old_value, i.new_value) for i in items] == [
        ("base_price", str(Decimal(cells[0]["base_price"]) - 1), cells[0]["base_price"])
    ]


def test_mixed_errors_are_all_reported_and_nothing_is_applied(url: str, tmp_path: Path) -> None:
    do_import(url, EXAMPLE)
    before = snapshot(url)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sku,title,base_price,currency,stock[SH],stock[XX],colour\n"
        "TEA-LJ-250,changed,12.5x,CNY,5,,\n"
        "A-1,ok,10,CNY,-3,,\n"
        "A-1,dup,10,CNY,1,,\n"
        ",notitle,10,XYZ,3,,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputRejected) as info:
        do_import(url, bad)
    found = {(p.row, p.column) for p in info.value.problems}
    assert {
        (1, "stock[XX]"),
        (1, "colour"),
        (2, "base_price"),
        (3, "stock[SH]"),
        (4, "sku"),
        (5, "sku"),
        (5, "currency"),
    } <= found
    assert "nothing was applied" in str(info.value)
    assert snapshot(url) == before


def test_missing_required_columns_are_listed(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("sku,title\nA,B\n", encoding="utf-8")
    with pytest.raises(InputRejected) as info:
        do_import(url, path)
    assert {(1, "base_price"), (1, "currency")} <= {(p.row, p.column) for p in info.value.problems}


def test_bom_and_chinese_text_round_trip(url: str, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "P-1,P,青瓷茶杯,茶具,10,39.00,CNY,白色,5,0\n").encode("utf-8"))
    do_import(url, path)
    with db.unit_of_work(url) as s:
        data = catalog.show(s, "P-1")
        header, rows = catalog.export_rows(s)
        rows = list(rows)
    assert data["title"] == "青瓷茶杯" and data["attributes"] == {"颜色": "白色"}
    out = tmp_path / "export.csv"
    write_csv(out, header, rows)
    assert "青瓷茶杯" in out.read_text(encoding="utf-8")
    assert do_import(url, out).changed is False


def test_stock_change_is_a_ledger_movement_not_an_overwrite(url: str, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "P-1,P,T,c,10,39.00,CNY,,5,2\n", encoding="utf-8")
    do_import(url, path)
    path.write_text(HEADER + "P-1,P,T,c,10,45.00,CNY,,8,\n", encoding="utf-8")
    summary = do_import(url, path, user="alice")
    assert summary.skus_updated == 1 and summary.stock_movements == 1
    with db.unit_of_work(url) as s:
        moves = s.scalars(select(StockMovement).order_by(StockMovement.id)).all()
        assert [(m.kind, m.on_hand_delta) for m in moves] == [("count", 5), ("count", 2), ("count", 3)]
        assert moves[-1].user == "alice"
        items = {(i.field, i.old_value, i.new_value) for i in s.scalars(select(ChangeItem))}
        assert ("base_price", "39.00", "45.00") in items and ("stock:SH", "5", "8") in items
        levels = {(w, on) for w, on in s.execute(select(StockLevel.warehouse_id, StockLevel.on_hand))}
        assert len(levels) == 2 and 8 in {on for _, on in levels} and 2 in {on for _, on in levels}


def test_xlsx_import_matches_csv(url: str, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["X-1", "X", "宜兴紫砂壶", "teaware", 150, Decimal("398.00"), "CNY", None, 25, 10])
    path = tmp_path / "c.xlsx"
    workbook.save(path)
    summary = do_import(url, path)
    assert summary.skus_created == 1
    with db.unit_of_work(url) as s:
        sku = s.scalar(select(Sku).where(Sku.sku == "X-1"))
        assert sku.base_price == Decimal("398.00") and sku.cost == Decimal("150")


def test_conflicting_product_content_is_refused(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "A-1,P,Title one,c,1,2,CNY,,,\nA-2,P,Title two,c,1,2,CNY,,,\n", encoding="utf-8")
    with pytest.raises(InputRejected) as info:
        do_import(url, path)
    assert [(p.row, p.column) for p in info.value.problems] == [(3, "title")]


def test_too_many_decimal_places_for_jpy(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("sku,title,base_price,currency\nJ-1,T,100.12345,JPY\n", encoding="utf-8")
    with pytest.raises(InputRejected) as info:
        do_import(url, path)
    assert info.value.problems[0].column == "base_price"


def test_amount_is_exact_on_the_database(url: str) -> None:
    from listing_sync.syncer.models import Product

    with db.unit_of_work(url) as s:
        p = Product(key="K", title="t")
        s.add(p)
        s.flush()
        for i in range(3):
            s.add(Sku(sku=f"S{i}", product_id=p.id, base_price=Decimal("0.10"), currency="CNY"))
    with db.unit_of_work(url) as s:
        total = s.scalar(select(func.sum(Sku.base_price)))
    assert total == Decimal("0.30")


# ------------------------------------------------------------------------------------- one row's cells
def test_one_row_reports_every_bad_cell_by_row_and_column() -> None:
    cells = {
        "sku": "bad sku!",
        "title": "",
        "currency": "XYZ",
        "base_price": "-1",
        "cost": "abc",
        "weight_grams": "1.5",
        "active": "maybe",
        "attr[颜色]": "白色",
        "stock[SH]": "-2",
        "title[en]": "x" * 501,
        "images": "https://img.example/1.jpg|ftp://img.example/2.jpg",
    }
    problems: list[Problem] = []
    assert catalog.parse_row(7, cells, problems) is None
    assert [(p.row, p.column) for p in problems] == [
        (7, "sku"),
        (7, "title"),
        (7, "currency"),
        (7, "base_price"),
        (7, "cost"),
        (7, "weight_grams"),
        (7, "active"),
        (7, "stock[SH]"),
        (7, "title[en]"),
        (7, "images"),
    ]
    messages = {p.column: p.message for p in problems}
    assert messages["base_price"] == "-1 must not be negative"
    assert messages["weight_grams"] == "'1.5' is not a whole number"
    assert messages["title[en]"] == "is 501 characters; at most 500"
    assert messages["images"] == "'ftp://img.example/2.jpg' is not an http(s) URL"


def test_a_clean_row_parses_every_cell_group() -> None:
    cells = {
        "sku": "A-1",
        "product": "",
        "title": " Tea ",
        "tags": "green; ;gift",
        "base_price": "12.50",
        "cost": "4.1234",
        "currency": "cny",
        "active": "no",
        "attr[颜色]": " 白色 ",
        "stock[SH]": "3",
        "stock[GZ]": "",
        "title[en]": "Green tea",
        "bullets[en]": "a | b |",
        "attr[颜色][en]": "White",
        "images": "https://img.example/1.jpg | https://img.example/2.jpg",
    }
    problems: list[Problem] = []
    row = catalog.parse_row(2, cells, problems)
    assert problems == [] and row is not None
    assert (row.sku, row.product, row.title, row.tags, row.currency, row.active) == (
        "A-1",
        "A-1",
        "Tea",
        ["green", "gift"],
        "CNY",
        False,
    )
    assert (row.base_price, row.cost) == (Decimal("12.50"), Decimal("4.1234"))  # a unit cost may have 4 places
    assert row.attributes == {"颜色": "白色"} and row.stock == {"SH": 3}
    assert row.texts == {("en", ""): {"title": "Green tea", "bullets": ["a", "b"]}}
    assert row.attr_texts == {"en": {"颜色": "White"}}
    assert row.images == ["https://img.example/1.jpg", "https://img.example/2.jpg"]


def test_a_cost_with_more_than_four_places_is_refused() -> None:
    cells = {"sku": "A-1", "title": "T", "base_price": "1", "cost": "0.12345", "currency": "CNY"}
    problems: list[Problem] = []
    assert catalog.parse_row(3, cells, problems) is None
    assert problems == [Problem(3, "cost", "0.12345 has more decimal places than CNY allows")]


def test_a_repeated_localized_column_left_empty_does_not_clear_the_first() -> None:
    cells = {"sku": "A-1", "title": "T", "base_price": "1", "currency": "CNY", "title[en]": "Hello", "title[EN]": ""}
    problems: list[Problem] = []
    row = catalog.parse_row(2, cells, problems)
    assert row is not None and row.texts == {("en", ""): {"title": "Hello"}}
