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
