"""Tables that stay readable in a narrow terminal (80 columns): no vertical rules, numbers right-aligned
with thousands separators, times shortened (``16:02`` today, ``12-01 16:02`` this year), long text
wrapped rather than cut. Only the table face: JSON and CSV keep the full values."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")
MIN_TEXT_WIDTH = 12  # a text column is not squeezed below this (longer text wraps)
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def short_time(text: str, now: datetime | None = None) -> str:
    """An ISO 8601 time as a short local-free label: ``16:02`` today (UTC), ``12-01 16:02`` this year,
    the date otherwise. Text that is not a time is returned as it is."""
    if not ISO_TIME.match(text):
        return text
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    now = now or datetime.now(UTC)
    if when.date() == now.date():
        return when.strftime("%H:%M")
    if when.year == now.year:
        return when.strftime("%m-%d %H:%M")
    return when.strftime("%Y-%m-%d")


def cell_text(value: Any, *, grouped: bool = True) -> str:
    """A value as a table shows it: whole numbers with separators (12,345) unless ``grouped`` is false
    (ids), times shortened."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if grouped else str(value)
    if isinstance(value, datetime):
        return short_time(value.isoformat())
    text = str(value)
    return short_time(text)


def _numeric(values: Sequence[Any]) -> bool:
    """A column of numbers only (empty cells aside): right-aligned."""
    seen = False
    for value in values:
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            return False
        if isinstance(value, int | Decimal | float):
            seen = True
            continue
        text = str(value).replace(",", "")
        if not NUMBER.match(text):
            return False
        try:
            Decimal(text)
        except InvalidOperation:
            return False
        seen = True
    return seen


def narrow_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    width: int | None = None,
) -> Table:
    """The rows as a :class:`rich.table.Table` that fits a narrow terminal (see the module). With
    ``width``, the columns (in their order of importance) that cannot fit even with text wrapped are left
    out and named under the table."""
    labels = labels or {}
    grouped = {column: not (column == "id" or column.endswith(("_id", "_of", "by"))) for column in columns}
    cells = [[cell_text(row.get(column), grouped=grouped[column]) for column in columns] for row in rows]
    for index, column in enumerate(columns):  # numbers with thousands separators, decimals kept as they are
        if grouped[column] and _numeric([row.get(column) for row in rows]):
            for line in cells:
                line[index] = _grouped(line[index])
    columns, cells, left_out = _fit(list(columns), cells, rows, labels, width)
    caption = f"not shown at this width: {', '.join(left_out)} (--format csv or json has them)" if left_out else None
    table = Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0),
        title_justify="left",
        caption_justify="left",
    )
    for index, column in enumerate(columns):
        numeric = _numeric([row.get(column) for row in rows])
        longest = max((len(line[index]) for line in cells), default=0)
        table.add_column(
            labels.get(column, column),
            justify="right" if numeric else "left",
            no_wrap=numeric or index == 0,  # numbers and the row's name are never broken
            overflow="fold",
            min_width=None if numeric else min(longest, MIN_TEXT_WIDTH),  # short text stays on one line
        )
    for line in cells:
        table.add_row(*(Text(cell) for cell in line))  # data, never markup: "title[en]" stays as it is
    return table


def _fit(
    columns: list[str],
    cells: list[list[str]],
    rows: Sequence[Mapping[str, Any]],
    labels: Mapping[str, str],
    width: int | None,
) -> tuple[list[str], list[list[str]], list[str]]:
    """The columns that fit in ``width`` (the first always): a number needs its widest cell, text
    :data:`MIN_TEXT_WIDTH` at most (it wraps); the rest are left out (returned by name)."""
    if width is None:
        return columns, cells, []
    kept: list[int] = []
    used = 0
    for index, column in enumerate(columns):
        longest = max((len(line[index]) for line in cells), default=0)
        header = len(labels.get(column, column))
        numeric = _numeric([row.get(column) for row in rows])
        need = max(longest, header) if numeric else min(max(longest, header), MIN_TEXT_WIDTH)
        if kept and used + 1 + need > width:
            continue
        used += need + (1 if kept else 0)
        kept.append(index)
    left_out = [labels.get(c, c) for i, c in enumerate(columns) if i not in kept]
    return [columns[i] for i in kept], [[line[i] for i in kept] for line in cells], left_out


def _grouped(text: str) -> str:
    """``1847.32`` as ``1,847.32`` (the decimals exactly as given); other text unchanged."""
    if not NUMBER.match(text):
        return text
    sign = text[0] if text[0] in "+-" else ""
    whole, dot, fraction = text.lstrip("+-").partition(".")
    return f"{sign}{int(whole):,}{dot}{fraction}"
