"""Selectors (globs, categories, tags, a file of SKUs) turned into SKU ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from listing_sync.syncer.changes.globs import SkuFilter
from listing_sync.syncer.changes.model import ChangeRefused, _bulk, _chunks
from listing_sync.syncer.models import (
    Product,
    Sku,
)
from listing_sync.syncer.tabular import InputRejected, Problem, read_rows, read_text
from sqlalchemy import select
from sqlalchemy.orm import Session


@dataclass(slots=True)
class Selection:
    """Which SKUs a command acts on: those matching EVERY given selector (values of one selector OR)."""

    patterns: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    skus_file: Path | None = None

    @property
    def empty(self) -> bool:
        return not (self.patterns or self.categories or self.tags or self.skus_file)

    def describe(self) -> str:
        parts = [f"--sku {p}" for p in self.patterns] + [f"--category {c}" for c in self.categories]
        parts += [f"--tag {t}" for t in self.tags] + ([f"--skus-file {self.skus_file}"] if self.skus_file else [])
        return " ".join(parts)


def read_skus_file(path: Path) -> list[tuple[int, str]]:
    """(line or row, SKU) from a text file (one SKU per line, ``#`` comments) or a CSV/XLSX file with a
    ``sku`` column."""
    if not path.exists():
        raise InputRejected(str(path), [Problem(0, "", "no such file")])
    if path.suffix.lower() in (".csv", ".xlsx"):
        try:
            header, rows = read_rows(path)
            if "sku" not in header:
                raise InputRejected(str(path), [Problem(1, "sku", "required column is missing")])
            index = header.index("sku")
            return [(n, cells[index].strip()) for n, cells in rows if len(cells) > index and cells[index].strip()]
        except InputRejected:
            raise
        except Exception as exc:
            raise InputRejected(str(path), [Problem(0, "", f"cannot read the file: {exc}")]) from None
    try:
        text = read_text(path)[0]
    except (OSError, ValueError) as exc:
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file: {exc}")]) from None
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if value:
            out.append((number, value))
    return out


@_bulk
def select_skus(session: Session, selection: Selection) -> list[int]:
    """SKU ids (ordered by SKU) matching the selection. A SKUs file naming unknown SKUs is refused whole.

    SQL narrows the rows through indexes (a glob's literal prefix as a key range on the unique SKU
    index, the category index, the file's SKUs looked up by code); each glob is then checked here with
    :mod:`fnmatch`, the reference for what a pattern matches."""
    if selection.empty:
        raise ChangeRefused(
            "select SKUs with --sku PATTERN (repeatable; '*' = all), --category NAME, --tag TAG or --skus-file FILE"
        )
    listed = _listed(session, selection.skus_file) if selection.skus_file is not None else None
    narrowing = SkuFilter.of(session, selection)
    query = select(Sku.id, Sku.sku)
    if selection.categories or selection.tags:
        query = query.join(Product, Product.id == Sku.product_id)
    query = query.where(*narrowing.conditions)
    connection = session.connection()
    if listed is None:
        rows: list[Any] = list(connection.execute(query.order_by(Sku.sku)))
    else:
        rows = []
        for chunk in _chunks(sorted(listed)):
            rows.extend(connection.execute(query.where(Sku.sku.in_(chunk))))
        rows.sort(key=lambda row: row[1])
    match = narrowing.residual
    return [sku_id for sku_id, sku in rows if match is None or match(sku)]


def _listed(session: Session, path: Path) -> set[str]:
    """The SKUs a SKUs file names; one naming an unknown SKU is refused whole."""
    entries = read_skus_file(path)
    names = sorted({sku for _, sku in entries})
    known: set[str] = set()
    for chunk in _chunks(names):
        known.update(session.scalars(select(Sku.sku).where(Sku.sku.in_(chunk))))
    problems = [Problem(n, "sku", f"unknown SKU {sku!r}") for n, sku in entries if sku not in known]
    if problems:
        raise InputRejected(str(path), problems)
    return set(names)
