"""Reading and writing CSV/XLSX tables, with validation problems reported by row and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with an input file: where (row, column) and why."""

    row: int  # 1-based file row (the header is row 1); 0 = the file as a whole
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        column = f", column {self.column}" if self.column else ""
        return f"{where}{column}: {self.message}"


class InputRejected(Exception):
    """An input file with problems; nothing was applied."""

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = sorted(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:200])
        more = f"\n  ... and {len(self.problems) - 200} more" if len(self.problems) > 200 else ""
        super().__init__(
            f"{source}: {len(self.problems)} problem(s); nothing was applied. Fix them and run again:\n{shown}{more}"
        )


def detect_format(path: Path, fmt: str | None = None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"{path}: unsupported format {fmt!r}; use .csv or .xlsx")
    return fmt


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Return the header and an iterator of (file row number, cell texts). Blank rows are skipped."""
    fmt = detect_format(path)
    if fmt == "csv":
        return _read_csv(path)
    return _read_xlsx(path)


def read_table(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """:func:`read_rows` for an input refused whole: a file that cannot be read, or has no header row,
    raises :class:`InputRejected`."""
    try:
        header, rows = read_rows(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file: {exc}")]) from None
    except Exception as exc:  # openpyxl raises many types for a corrupt workbook
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file as a workbook: {exc}")]) from None
    if not header:
        raise InputRejected(str(path), [Problem(0, "", "the file is empty (no header row)")])
    return header, rows


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    text = path.read_bytes().decode("utf-8-sig")  # with or without BOM
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], iter(())

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, row in enumerate(reader, start=2):
            if any(cell.strip() for cell in row):
                yield number, row

    return header, rows()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # XLSX stores numbers as floats; show integral ones without ".0", others via repr (shortest exact)
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _read_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = [_cell_text(h).strip() for h in next(iterator)]
    except StopIteration:
        workbook.close()
        return [], iter(())

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(iterator, start=2):
                cells = [_cell_text(v) for v in row]
                if any(c.strip() for c in cells):
                    yield number, cells
        finally:
            workbook.close()

    return header, rows()


def escape_formula(value: Any) -> Any:
    """Neutralize spreadsheet formula injection in text cells (a leading ' makes it literal text)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_csv(path: Path | None, header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = False) -> str:
    """Write CSV (UTF-8, optional BOM for Excel). Returns the text when ``path`` is None."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    text = ("\ufeff" if bom else "") + buffer.getvalue()
    if path is not None:
        path.write_text(text, encoding="utf-8", newline="")
    return text


def write_xlsx(path: Path, sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> None:
    """Write one sheet per (title, header, rows) with a frozen, bold header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
