"""Reading an input refused whole: a file that cannot be read, or has no header, is one file-level problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_sync.syncer.tabular import InputRejected, Problem, read_table


def refused(path: Path) -> list[Problem]:
    with pytest.raises(InputRejected) as info:
        read_table(path)
    return info.value.problems


def test_header_and_rows_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("\ufeffsku , price\nA,1\n , \nB,2\n", encoding="utf-8")
    header, rows = read_table(path)
    assert header == ["sku", "price"] and list(rows) == [(2, ["A", "1"]), (4, ["B", "2"])]


def test_an_empty_file_has_no_header(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("", encoding="utf-8")
    assert refused(path) == [Problem(0, "", "the file is empty (no header row)")]


def test_an_unsupported_format_or_a_missing_file_cannot_be_read(tmp_path: Path) -> None:
    [problem] = refused(tmp_path / "in.txt")
    assert (
        problem.row == 0
        and problem.message.startswith("cannot read the file: ")
        and "unsupported format" in problem.message
    )
    [problem] = refused(tmp_path / "missing.csv")
    assert problem.message.startswith("cannot read the file: ")


def test_a_corrupt_workbook_cannot_be_read_as_one(tmp_path: Path) -> None:
    path = tmp_path / "in.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    assert refused(path) == [Problem(0, "", "cannot read the file as a workbook: File is not a zip file")]


TEXT = "sku,title,base_price\nTEA-1,西湖龙井 明前特级,168.00\n"


@pytest.mark.parametrize(
    ("codec", "name"),
    [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8 with BOM"),
        ("utf-16", "UTF-16"),
        ("utf-16-le", "UTF-16 LE"),
        ("gbk", "GB18030 (GBK)"),
        ("gb18030", "GB18030 (GBK)"),
    ],
)
def test_chinese_excel_encodings_are_detected_and_read(tmp_path: Path, codec: str, name: str) -> None:
    """Trap 3: a CSV saved by Chinese Excel (GBK) was refused with "'utf-8' codec can't decode byte 0xd1"."""
    from listing_sync.syncer.tabular import detect_encoding

    path = tmp_path / f"{codec}.csv"
    path.write_bytes(TEXT.encode(codec))
    assert detect_encoding(path).name == name
    header, rows = read_table(path)
    assert header == ["sku", "title", "base_price"] and list(rows) == [(2, ["TEA-1", "西湖龙井 明前特级", "168.00"])]


def test_a_file_in_no_known_encoding_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("sku,title\nA,café\n".encode("latin-1"))
    [problem] = refused(path)
    assert "byte 0xe9 at position 15" in problem.message and "save it as 'CSV UTF-8'" in problem.message
