"""Selectors (globs, categories, tags, a file of SKUs) turned into SKU ids."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from listing_sync.syncer.changes.model import ChangeRefused, _bulk
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
    """SKU ids (ordered by SKU) matching the selection. A SKUs file naming unknown SKUs is refused whole."""
    if selection.empty:
        raise ChangeRefused(
            "select SKUs with --sku PATTERN (repeatable; '*' = all), --category NAME, --tag TAG or --skus-file FILE"
        )
    tags: Any = Product.tags if selection.tags else Product.id  # tags are read only when selected on
    query = select(Sku.id, Sku.sku, Product.category, tags).join(Product, Product.id == Sku.product_id)
    if selection.categories:
        query = query.where(Product.category.in_(selection.categories))
    rows = session.execute(query.order_by(Sku.sku)).all()
    listed = _listed(session, selection.skus_file) if selection.skus_file is not None else None
    patterns = [p for p in selection.patterns if p != "*"]
    match_all = not selection.patterns or len(patterns) < len(selection.patterns)
    regexes = [re.compile(fnmatch.translate(p)) for p in patterns]
    wanted_tags = set(selection.tags)
    out = []
    for sku_id, sku, _category, extra in rows:
        if listed is not None and sku not in listed:
            continue
        if not match_all and not any(r.match(sku) for r in regexes):
            continue
        if wanted_tags and not wanted_tags.intersection(extra or []):
            continue
        out.append(sku_id)
    return out


def _listed(session: Session, path: Path) -> set[str]:
    """The SKUs a SKUs file names; one naming an unknown SKU is refused whole."""
    entries = read_skus_file(path)
    known = {sku for (sku,) in session.execute(select(Sku.sku))}
    problems = [Problem(n, "sku", f"unknown SKU {sku!r}") for n, sku in entries if sku not in known]
    if problems:
        raise InputRejected(str(path), problems)
    return {sku for _, sku in entries}
