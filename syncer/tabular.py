"""Reading and writing CSV/XLSX tables, with validation problems reported by row and column."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
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


@dataclass(frozen=True, slots=True)
class TextEncoding:
    """The encoding a text file was found to be in: the Python codec and the name shown to people."""

    codec: str
    name: str


UTF8 = TextEncoding("utf-8", "UTF-8")
UTF8_BOM = TextEncoding("utf-8-sig", "UTF-8 with BOM")
#: GB18030 is a superset of GBK and GB2312: what Chinese Excel saves a "CSV (comma delimited)" in
GB18030 = TextEncoding("gb18030", "GB18030 (GBK)")


def detect_encoding(path: Path) -> TextEncoding:
    """:func:`find_encoding`, remembered for the file as it is (path, size, modification time): the face
    that names the encoding and the importer that reads the file scan it once."""
    stat = path.stat()
    return _detect_cached(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _detect_cached(path: str, size: int, mtime_ns: int) -> TextEncoding:
    return find_encoding(Path(path))


def find_encoding(path: Path) -> TextEncoding:
    """The encoding of a text file, by a strict decode ladder over the whole file (block by block, never
    whole in memory): a BOM (UTF-8, UTF-16), UTF-16 without a BOM (NUL bytes in every other place), then
    UTF-8, then GB18030. A file none of them decodes raises ValueError naming the first bad byte."""
    with path.open("rb") as raw:
        head = raw.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        candidates = [UTF8_BOM]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [TextEncoding("utf-16", "UTF-16")]
    elif (bom_less := _utf16_without_bom(head)) is not None:
        candidates = [bom_less]
    else:
        candidates = [UTF8, GB18030]
    first_error: tuple[int, int] | None = None
    for candidate in candidates:
        error = _decode_error(path, candidate.codec)
        if error is None:
            return candidate
        first_error = first_error or error
    assert first_error is not None
    position, byte = first_error
    raise ValueError(
        f"the file is not UTF-8, UTF-16 or GB18030/GBK text (byte 0x{byte:02x} at position {position} is not "
        f"{candidates[0].name}): save it as 'CSV UTF-8'"
    )


def _utf16_without_bom(head: bytes) -> TextEncoding | None:
    """UTF-16 without a BOM: ASCII text (CSV punctuation, digits) then has a NUL in every other byte."""
    if len(head) < 4 or b"\0" not in head:
        return None
    pairs = len(head) // 2
    even = sum(1 for i in range(0, pairs * 2, 2) if head[i] == 0)
    odd = sum(1 for i in range(1, pairs * 2, 2) if head[i] == 0)
    if odd >= pairs * 0.3 and even == 0:
        return TextEncoding("utf-16-le", "UTF-16 LE")
    if even >= pairs * 0.3 and odd == 0:
        return TextEncoding("utf-16-be", "UTF-16 BE")
    return None


def _decode_error(path: Path, codec: str) -> tuple[int, int] | None:
    """(position in the file, byte) of the first byte the file cannot be decoded at in ``codec``, or None."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    offset = 0
    block = b""
    with path.open("rb") as raw:
        try:
            for block in iter(lambda: raw.read(1 << 20), b""):
                decoder.decode(block)
                offset += len(block)
            block = b""
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            pending = len(exc.object) - len(block)  # bytes the decoder held back from the block before
            return max(0, offset + exc.start - pending), exc.object[exc.start]
    return None


def read_text(path: Path) -> tuple[str, TextEncoding]:
    """A whole (small) text file, in the encoding :func:`detect_encoding` finds."""
    encoding = detect_encoding(path)
    return path.read_text(encoding=encoding.codec), encoding


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Streamed: the file's encoding is found (and the whole file checked to decode in it) block by block
    first, so a bad byte is refused before any row is read, and then read row by row, never whole into
    memory. UTF-8 (with or without BOM), UTF-16 and GB18030/GBK (Chinese Excel) are read."""
    encoding = detect_encoding(path)
    text = path.open(encoding=encoding.codec, newline="")
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
                        yield number, [unescape_cell(cell) if cell[:1] == "'" else cell for cell in row]
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


@contextmanager
def csv_rows(
    path: Path | None, header: Sequence[str], *, bom: bool = False
) -> Iterator[Callable[[Sequence[Any]], None]]:
    """Write CSV row by row as the rows are made (a long report never waits whole in memory): yields a
    function taking one row; ``path`` None is standard output. Cells go through :func:`safe_cell`."""
    handle = sys.stdout if path is None else path.open("w", encoding="utf-8", newline="")
    try:
        if bom:
            handle.write("\ufeff")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([safe_cell(h) for h in header])
        yield lambda row: writer.writerow(["" if v is None else safe_cell(v) for v in row])
    finally:
        if path is None:
            handle.flush()
        else:
            handle.close()


def write_xlsx(path: Path, sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> None:
    """Write one sheet per (title, header, rows) with a frozen, bold header row, an autofilter and column
    widths that fit the values. Numbers (int, Decimal) are numbers in the workbook, a Decimal with its own
    decimal places as the number format (``#,##0.00``); a Decimal a spreadsheet's double cannot hold
    exactly (over 15 significant digits) stays text so that the file imports back unchanged."""
    from listing_sync.syncer.workbook import fit_widths, text_width
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        sheet.append([safe_cell(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        widths = {i: text_width(str(h)) + 2 for i, h in enumerate(header, start=1)}  # + the filter button
        last = 1
        for last, row in enumerate(rows, start=2):  # noqa: B007 (last is read after the loop)
            sheet.append([_xlsx_cell(v) for v in row])
            for index, cell in enumerate(sheet[last], start=1):
                shown = _xlsx_format(cell)
                widths[index] = max(widths.get(index, 0), min(text_width(shown), 77))
        if header:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last}"
        fit_widths(sheet, widths)
    workbook.save(path)


def _xlsx_cell(value: Any) -> Any:
    """A cell value for a workbook: numbers as numbers (see :func:`write_xlsx`), text through the guard."""
    if isinstance(value, bool):
        return safe_cell(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        digits = value.as_tuple().digits
        return value if value.is_finite() and len(digits) <= 15 else str(value)
    return safe_cell(value)


def _xlsx_format(cell: Any) -> str:
    """Give a Decimal cell its number format; return the text the cell shows (for the column width)."""
    value = cell.value
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        cell.number_format = "#,##0" + ("." + "0" * places if places else "")
        return f"{value:,.{places}f}"
    return "" if value is None else str(value)
