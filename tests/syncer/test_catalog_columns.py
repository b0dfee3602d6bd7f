"""The catalog import takes a row's cells by position (a plan compiled once per header): the same
catalog whatever the column order, and short rows, repeated and unknown columns as by column name."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from catalogs import EXAMPLE, do_import
from listing_sync.syncer import catalog, db
from listing_sync.syncer.tabular import InputRejected, Problem, write_csv


def show(url: str, sku: str) -> dict:
    with db.unit_of_work(url) as s:
        shown = catalog.show(s, sku)
    assert shown is not None
    return shown


def problems_of(url: str, path: Path) -> set[tuple[int, str, str]]:
    with pytest.raises(InputRejected) as info:
        do_import(url, path)
    return {(p.row, p.column, p.message) for p in info.value.problems}


def reordered(tmp_path: Path, order: str) -> Path:
    with EXAMPLE.open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    positions = list(range(len(header)))
    if order == "reversed":
        positions.reverse()
    else:
        random.Random(17).shuffle(positions)
    path = tmp_path / f"{order}.csv"
    write_csv(path, [header[p] for p in positions], ([row[p] for p in positions] for row in rows))
    return path


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_columns_in_another_order_import_the_same_catalog(url: str, tmp_path: Path, order: str) -> None:
    first = do_import(url, reordered(tmp_path, order))
    assert (first.skus_created, first.products_created, first.stock_movements) == (18, 12, 36)
    again = do_import(url, EXAMPLE)  # the file in its own order finds every row as stored
    assert again.changed is False and again.skus_unchanged == 18
    tea = show(url, "TEA-LJ-250")
    assert (tea["title"], tea["category"], tea["brand"], tea["tags"]) == (
        "西湖龙井绿茶 250g West Lake Longjing Green Tea",
        "tea",
        "西湖印象",
        ["tea", "gift"],
    )
    assert (tea["barcode"], tea["weight_grams"], tea["cost"], tea["base_price"]) == (
        "6901234567892",
        300,
        "68.00",
        "168.00",
    )
    assert [(s["warehouse"], s["on_hand"]) for s in tea["stock"]] == [("GZ", 40), ("SH", 120)]
    assert tea["texts"]["en"]["bullets"] == ["Picked before Qingming", "Hand roasted", "250 g tin"]
    assert tea["texts"]["en@amazon-us"]["title"].startswith("Longjing Dragon Well Green Tea")


BAD = {
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
    "brand": "b" * 201,
    "supplier": "s\x01",
    "images": "https://img.example/1.jpg|ftp://img.example/2.jpg",
}
CLEAN = {
    "sku": "A-1",
    "product": "",
    "title": " Tea ",
    "tags": "green; ;gift",
    "base_price": "12.50",
    "cost": "4.1234",
    "currency": "cny",
    "active": "no",
    "attr[颜色]": " 白色 ",
    "attr[尺码]": "",
    "stock[SH]": "3",
    "stock[GZ]": "",
    "title[en]": "Green tea",
    "bullets[en]": "a | b |",
    "title[EN]": "",
    "attr[颜色][en]": "White",
    "images": "https://img.example/1.jpg | https://img.example/2.jpg",
    "stock_as_of": "12",
}


@pytest.mark.parametrize("cells", [BAD, CLEAN], ids=["bad", "clean"])
def test_a_row_parses_the_same_whatever_the_order_of_its_columns(cells: dict[str, str]) -> None:
    expected_problems: list[Problem] = []
    expected = catalog.parse_row(4, cells, expected_problems)
    names = list(cells)
    for seed in range(6):
        random.Random(seed).shuffle(names)
        problems: list[Problem] = []
        row = catalog.parse_row(4, {name: cells[name] for name in names}, problems)
        assert sorted(problems) == sorted(expected_problems)
        assert row == expected
    if cells is BAD:
        assert {p.column for p in expected_problems} == {
            "sku", "title", "currency", "base_price", "cost", "weight_grams", "active", "stock[SH]", "title[en]",
            "brand", "supplier", "images",
        }  # fmt: skip
    else:
        assert expected is not None and expected.stock == {"SH": 3} and expected.stock_as_of == 12
        assert expected.attributes == {"颜色": "白色"} and expected.texts == {
            ("en", ""): {"title": "Green tea", "bullets": ["a", "b"]}
        }


def test_a_row_shorter_than_the_header_leaves_its_missing_texts_alone(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("sku,title,base_price,currency,title[en]\nA-1,T,10,CNY,Hello\n", encoding="utf-8")
    do_import(url, path)
    path.write_text("sku,title,base_price,currency,title[en]\nA-1,T,11,CNY\n", encoding="utf-8")
    assert do_import(url, path).skus_updated == 1
    assert show(url, "A-1")["texts"]["en"]["title"] == "Hello"  # a missing cell is not an empty one
    path.write_text("sku,title,base_price,currency,title[en]\nA-1,T,11,CNY,\n", encoding="utf-8")
    assert do_import(url, path).texts_changed == 1
    assert show(url, "A-1")["texts"] == {}


def test_empty_cells_past_the_header_are_ignored_and_others_refused(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("sku,title,base_price,currency\nA-1,T,10,CNY,,\nA-2,T,10,CNY,x\n", encoding="utf-8")
    assert problems_of(url, path) == {(3, "", "has 5 cells but the header has 4")}
    path.write_text("sku,title,base_price,currency\nA-1,T,10,CNY,,\n", encoding="utf-8")
    assert do_import(url, path).skus_created == 1
    assert show(url, "A-1")["base_price"] == "10.00"


def test_a_repeated_column_is_refused_with_every_problem_of_its_rows(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("sku,brand,title,base_price,currency,brand\nA-1,ok,T,abc,CNY,b\x01\n", encoding="utf-8")
    found = problems_of(url, path)
    assert (1, "brand", "duplicate column") in found
    assert (2, "base_price", "'abc' is not a decimal number (use e.g. 12.50)") in found
    assert any(row == 2 and column == "brand" for row, column, _ in found)  # the repeated column's last cell


def test_an_unknown_column_is_refused_and_its_cells_still_checked(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("sku,colour,title,base_price,currency\nA-1,red\x02,,10,CNY\n", encoding="utf-8")
    found = problems_of(url, path)
    assert (1, "colour", "unknown column (see `syncer catalog import --help`)") in found
    assert (2, "title", "is empty") in found
    assert any(row == 2 and column == "colour" and "U+0002" in message for row, column, message in found)
