"""Reading and writing CSV/XLSX tables, with validation problems reported by row and column."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: a text cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: a signed number written as text ("-5", "+1.5e3") is a number to a spreadsheet, not a formula
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
#: characters XML 1.0 (so XLSX) cannot hold, and the other control characters: never written
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


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
    except InputRejected:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file: {exc}")]) from None
    except Exception as exc:  # openpyxl raises many types for a corrupt workbook
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file as a workbook: {exc}")]) from None
    if not header:
        raise InputRejected(str(path), [Problem(0, "", "the file is empty (no header row)")])
    return header, rows


#: the longest cell a CSV file may hold (the csv module's own field limit), in characters
MAX_CELL = 131_072


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Streamed: the file is checked to be UTF-8 (with or without BOM) block by block first, so a bad byte
    is refused before any row is read, and then read row by row, never whole into memory."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with path.open("rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    text = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        text.close()
        return [], iter(())
    except csv.Error as exc:
        text.close()
        raise InputRejected(str(path), [_csv_problem(1, exc)]) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        with text:
            try:
                for number, row in enumerate(reader, start=2):  # noqa: B007 (number is read after an error)
                    if any(cell.strip() for cell in row):
                        yield number, [unescape_cell(cell) for cell in row]
            except csv.Error as exc:
                raise InputRejected(str(path), [_csv_problem(number + 1, exc)]) from None

    return header, rows()


def _csv_problem(row: int, exc: csv.Error) -> Problem:
    """A CSV the reader cannot take at ``row`` (a cell over :data:`MAX_CELL`, a NUL byte, ...)."""
    if "field larger than field limit" in str(exc):
        return Problem(row, "", f"a cell is longer than {MAX_CELL:,} characters (the most a cell may hold)")
    return Problem(row, "", f"not readable as CSV: {exc}")


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
        number = 1
        try:
            for number, row in enumerate(iterator, start=2):  # noqa: B007 (number is read after an error)
                cells = [unescape_cell(_cell_text(v)) for v in row]
                if any(c.strip() for c in cells):
                    yield number, cells
        except Exception as exc:  # a sheet whose XML breaks after its first rows (openpyxl raises many types)
            raise InputRejected(str(path), [Problem(number + 1, "", f"cannot read the row: {exc}")]) from None
        finally:
            workbook.close()

    return header, rows()


def safe_cell(value: Any) -> Any:
    """THE guard of every cell any CSV or XLSX writer here writes (catalog, orders, mappings, reports,
    ``--format csv``): text that a spreadsheet would run as a formula gets a leading ``'`` (shown as text;
    importers take it off again, see :func:`unescape_cell`), and control characters (which XLSX cannot
    hold) become U+FFFD. Numbers, dates and signed numbers written as text stay as they are."""
    if not isinstance(value, str):
        return value
    if CONTROL.search(value):
        value = CONTROL.sub("\ufffd", value)
    if value.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def unescape_cell(text: str) -> str:
    """A cell as read back: the ``'`` :func:`safe_cell` put before a formula-like text is taken off, so an
    export imports back unchanged."""
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def write_csv(path: Path | None, header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = False) -> str:
    """Write CSV (UTF-8, optional BOM for Excel). Returns the text when ``path`` is None."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
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
        sheet.append([safe_cell(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in rows:
            sheet.append([safe_cell(v) for v in row])
    workbook.save(path)
