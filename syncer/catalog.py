"""Catalog import and export (CSV/XLSX).

Columns (header names; order is free):

=====================  ======================================================================
``sku``                required; unique in the file
``product``            product key grouping variations (default: the SKU itself)
``title``              required; product title (same for every row of one product)
``description``        product description (HTML allowed)
``category``           our category name (mapped per channel)
``brand``              brand
``tags``               ``;``-separated tags
``attr[NAME]``         a variation attribute, e.g. ``attr[颜色]`` = ``白色``
``images``             ``|``-separated image URLs, in display order
``barcode``            EAN/UPC/JAN
``weight_grams``       integer grams
``cost``               unit cost in ``currency`` (decimal); every change is kept (cost history)
``lead_time_days``     days from ordering to stock arriving (reorder; empty = the report's default)
``supplier``           who the SKU is bought from (purchase suggestions are grouped by it)
``base_price``         required; base selling price in ``currency`` (decimal)
``currency``           required; ISO 4217 code
``active``             ``true``/``false`` (default true)
``stock[WH]``          on-hand count in warehouse ``WH`` (empty = leave unchanged)
``stock_as_of``        the ledger position (last stock movement id) the counts were taken at; an export
                       writes it. A count is not applied over movements of that SKU and warehouse made
                       after it (see :class:`StaleStock`) unless the import says so
``title[LANG]``        the product title in language ``LANG`` (a BCP 47 tag: ``en``, ``zh-CN``)
``description[LANG]``  the product description (HTML; sanitized when sent) in ``LANG``
``bullets[LANG]``      ``|``-separated bullet points in ``LANG``
``title[LANG]@CH``     (also ``description``/``bullets``) an override used only on channel ``CH``
``attr[NAME][LANG]``   the value of attribute ``NAME`` in ``LANG``, e.g. ``attr[颜色][en]`` = ``White``
=====================  ======================================================================

Localized columns are per product (the same on every row of one product) except ``attr[NAME][LANG]``,
which is per SKU. A channel uses the texts of its ``language`` (``en-US`` falls back to ``en``), then
its own overrides; the plain ``title``/``description`` are the fallback. Only the localized columns
present in a file are touched: an empty cell clears that text, a column not in the file leaves it.

The whole file is validated before anything is written; every problem is reported with its row and
column. A clean import is an idempotent upsert in one transaction; stock counts become ledger
movements (count adjustments), never silent overwrites. Export writes the same columns, so
export -> import changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from listing_sync.adapters.money import MINOR_UNITS, parse_decimal
from listing_sync.syncer import costs, limits
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.content import normalize_language
from listing_sync.syncer.models import (
    ChangeItem,
    ChangeSet,
    Channel,
    Product,
    ProductText,
    Sku,
    SkuText,
    StockLevel,
    Warehouse,
)
from listing_sync.syncer.rules import decimal_places
from listing_sync.syncer.tabular import InputRejected, Problem, read_table
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

PRODUCT_FIELDS = ("title", "description", "category", "brand", "tags")
PLAIN_COLUMNS = (
    "sku",
    "stock_as_of",
    "product",
    "title",
    "description",
    "category",
    "brand",
    "tags",
    "images",
    "barcode",
    "weight_grams",
    "cost",
    "base_price",
    "currency",
    "active",
    "lead_time_days",
    "supplier",
)
REQUIRED = ("sku", "title", "base_price", "currency")
PATTERNED = re.compile(r"^(attr|stock)\[([^\]]+)\]$")
LOCALIZED = re.compile(r"^(title|description|bullets)\[([^\]]*)\](?:@(.*))?$")
LOCALIZED_ATTR = re.compile(r"^attr\[([^\]]+)\]\[([^\]]*)\]$")
CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
TEXT_FIELDS = ("title", "description", "bullets")
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,119}$")
#: the longest text a plain column may hold (the database's column sizes)
MAX_LENGTHS = {"product": 120, "title": 500, "category": 200, "brand": 200, "barcode": 64, "supplier": 200}
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}
TEXT_CHUNK = 2000  # ids per IN list when reading stored texts

Progress = Callable[[int], None]


@dataclass(slots=True)
class CatalogRow:
    row: int
    sku: str
    product: str
    title: str
    description: str = ""
    category: str = ""
    brand: str = ""
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    barcode: str = ""
    weight_grams: int | None = None
    cost: Decimal | None = None
    base_price: Decimal = Decimal(0)
    currency: str = ""
    active: bool = True
    lead_time_days: int | None = None
    supplier: str = ""
    stock: dict[str, int] = field(default_factory=dict)
    stock_as_of: int | None = None  # the ledger position ``stock`` was counted at (an export's)
    #: (language, channel or "") -> {"title"|"description"|"bullets": value} for the columns in the file
    texts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    #: language -> {attribute name: value ("" = clear)} for the columns in the file
    attr_texts: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LocalizedColumn:
    kind: str  # title | description | bullets | attr
    language: str
    channel: str = ""
    attribute: str = ""


@lru_cache(maxsize=1024)  # called for every cell of every row: a file has few distinct column names
def localized_column(name: str) -> LocalizedColumn | None | str:
    """Parse a localized column name: the column, None if it is not a localized one, or why it is bad."""
    match = LOCALIZED.match(name)
    if match:
        language = normalize_language(match.group(2))
        if language is None:
            return f"{match.group(2)!r} is not a BCP 47 language tag (e.g. en, zh-CN, pt-BR)"
        channel = match.group(3) or ""
        if match.group(3) is not None and not CHANNEL_NAME.match(channel):
            return f"{channel!r} is not a channel name (lowercase letters, digits, - and _)"
        return LocalizedColumn(match.group(1), language, channel)
    match = LOCALIZED_ATTR.match(name)
    if match:
        language = normalize_language(match.group(2))
        if language is None:
            return f"{match.group(2)!r} is not a BCP 47 language tag (e.g. en, zh-CN, pt-BR)"
        return LocalizedColumn("attr", language, attribute=match.group(1))
    return None


class StockMode(StrEnum):
    """What a catalog import does with the file's stock counts."""

    CHECK = "check"  # apply them, except over movements newer than the file's ``stock_as_of``
    FILE = "file"  # apply them as they are (the file is the truth, whatever happened since)
    NONE = "none"  # leave stock out


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A stock movement as shown to people."""

    id: int
    kind: str
    delta: int
    at: str
    reason: str

    def __str__(self) -> str:
        return f"#{self.id} {self.at} {self.kind} {self.delta:+d}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True, slots=True)
class StaleStock:
    """A count the file took before movements the ledger has since: not applied (the SKU keeps its stock)."""

    sku: str
    warehouse: str
    in_file: int
    on_hand: int
    as_of: int
    movements: list[LedgerEntry]

    def __str__(self) -> str:
        shown = "; ".join(str(m) for m in self.movements[:5])
        more = f"; and {len(self.movements) - 5} more" if len(self.movements) > 5 else ""
        return (
            f"{self.sku} in {self.warehouse}: the file says {self.in_file} as of movement #{self.as_of}, on hand "
            f"is {self.on_hand} after {len(self.movements)} newer movement(s): {shown}{more}"
        )


@dataclass(slots=True)
class ImportSummary:
    rows: int = 0
    products_created: int = 0
    products_updated: int = 0
    skus_created: int = 0
    skus_updated: int = 0
    skus_unchanged: int = 0
    stock_movements: int = 0
    texts_changed: int = 0
    change_set_id: int | None = None
    changed_sku_ids: set[int] = field(default_factory=set)
    #: stock counts not applied: taken before movements the ledger has since
    stale_stock: list[StaleStock] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.products_created
            or self.products_updated
            or self.skus_created
            or self.skus_updated
            or self.stock_movements
            or self.texts_changed
        )


# ---------------------------------------------------------------------------------------- validate
def _decimal(text: str, column: str, row: int, problems: list[Problem], currency: str | None = None) -> Decimal | None:
    """A non-negative amount in bounds (:mod:`..limits`), or None with the problem."""
    try:
        value = parse_decimal(text)
    except ValueError:
        problems.append(Problem(row, column, f"{_shown(text)!r} is not a decimal number (use e.g. 12.50)"))
        return None
    problem = limits.amount_problem(value, currency if currency in MINOR_UNITS else None)
    if problem:
        problems.append(Problem(row, column, problem))
        return None
    return value


def _int(text: str, column: str, row: int, problems: list[Problem]) -> int | None:
    """A whole count 0 .. 10^9, or None with the problem."""
    value, problem = limits.parse_quantity(text)
    if problem:
        problems.append(Problem(row, column, problem))
    return value


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def check_header(header: list[str], warehouses: set[str], channels: set[str] | None = None) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    localized: dict[LocalizedColumn, str] = {}
    for name in header:
        if name in seen:
            problems.append(Problem(1, name, "duplicate column"))
        seen.add(name)
        if limits.text_problem(name):
            problems.append(Problem(1, repr(name), f"the column name {limits.text_problem(name)}"))
            continue
        column = localized_column(name)
        if isinstance(column, str):
            problems.append(Problem(1, name, column))
            continue
        if column is not None:
            if column in localized and localized[column] != name:
                problems.append(Problem(1, name, f"the same column as {localized[column]!r}"))
            localized.setdefault(column, name)
            if column.channel and channels and column.channel not in channels:
                known = ", ".join(sorted(channels))
                problems.append(Problem(1, name, f"unknown channel {column.channel!r} (known: {known})"))
            continue
        match = PATTERNED.match(name)
        if match:
            if match.group(1) == "stock" and match.group(2) not in warehouses:
                known = ", ".join(sorted(warehouses)) or "none yet"
                problems.append(
                    Problem(
                        1,
                        name,
                        f"unknown warehouse {match.group(2)!r} (known: {known}; add one with "
                        f"`syncer warehouse add CODE`)",
                    )
                )
        elif name not in PLAIN_COLUMNS:
            problems.append(Problem(1, name or "(empty)", "unknown column (see `syncer catalog import --help`)"))
    for name in REQUIRED:
        if name not in seen:
            problems.append(Problem(1, name, "required column is missing"))
    return problems


def parse_row(number: int, cells: dict[str, str], problems: list[Problem]) -> CatalogRow | None:
    """One file row as a :class:`CatalogRow`, or None when it has problems (each added to ``problems``
    with its row and column; every cell is checked, so all of a row's problems are reported at once)."""
    before = len(problems)
    problems.extend(limits.control_problems(number, cells))
    problems.extend(
        Problem(number, column, f"is {len(cells[column].strip())} characters; at most {most}")
        for column, most in MAX_LENGTHS.items()
        if len(cells.get(column, "").strip()) > most
    )
    sku = _sku_cell(number, cells.get("sku", "").strip(), problems)
    title = cells.get("title", "").strip()
    if not title:
        problems.append(Problem(number, "title", "is empty"))
    currency = _currency_cell(number, cells.get("currency", "").strip().upper(), problems)
    price, cost = _price_cells(number, cells, currency, problems)
    weight = None
    if cells.get("weight_grams", "").strip():
        weight = _int(cells["weight_grams"], "weight_grams", number, problems)
    lead_time = None
    if cells.get("lead_time_days", "").strip():
        lead_time = _int(cells["lead_time_days"], "lead_time_days", number, problems)
    active = _active_cell(number, cells, problems)
    attributes, stock = _patterned_cells(number, cells, problems)
    texts, attr_texts = _localized_cells(number, cells, problems)
    images = _images_cell(number, cells.get("images", ""), problems)
    as_of = _as_of_cell(number, cells.get("stock_as_of", "").strip(), problems)
    if len(problems) > before:
        return None
    return CatalogRow(
        row=number,
        sku=sku,
        product=cells.get("product", "").strip() or sku,
        title=title,
        description=cells.get("description", "").strip(),
        category=cells.get("category", "").strip(),
        brand=cells.get("brand", "").strip(),
        tags=[t.strip() for t in cells.get("tags", "").split(";") if t.strip()],
        attributes=attributes,
        images=images,
        barcode=cells.get("barcode", "").strip(),
        weight_grams=weight,
        cost=cost,
        base_price=price or Decimal(0),
        currency=currency,
        active=active,
        lead_time_days=lead_time,
        supplier=cells.get("supplier", "").strip(),
        stock=stock,
        stock_as_of=as_of,
        texts=texts,
        attr_texts=attr_texts,
    )


def _as_of_cell(number: int, cell: str, problems: list[Problem]) -> int | None:
    """The ledger position of ``stock_as_of`` (a whole number >= 0), or None (empty, or with the problem)."""
    if not cell:
        return None
    if not cell.isascii() or not cell.isdigit() or len(cell) > 18:
        problems.append(Problem(number, "stock_as_of", f"{_shown(cell)!r} is not a ledger position (a whole number)"))
        return None
    return int(cell)


def _sku_cell(number: int, sku: str, problems: list[Problem]) -> str:
    if not sku:
        problems.append(Problem(number, "sku", "is empty"))
    elif not SKU_PATTERN.match(sku):
        problems.append(Problem(number, "sku", f"{sku!r}: use letters, digits and . _ - / (at most 120)"))
    return sku


def _currency_cell(number: int, currency: str, problems: list[Problem]) -> str:
    if currency not in MINOR_UNITS:
        problems.append(Problem(number, "currency", f"{currency or '(empty)'} is not an ISO 4217 code we know"))
    return currency


def _price_cells(
    number: int, cells: dict[str, str], currency: str, problems: list[Problem]
) -> tuple[Decimal | None, Decimal | None]:
    """(base price, cost): not negative, with no more decimal places than the currency's minor units or
    4, whichever is more (sub-unit precision for unit amounts)."""
    price = _decimal(cells.get("base_price", ""), "base_price", number, problems, currency)
    cost = None
    if cells.get("cost", "").strip():
        cost = _decimal(cells["cost"], "cost", number, problems, currency)
    for column, value in (("base_price", price), ("cost", cost)):
        if value is not None and currency in MINOR_UNITS and decimal_places(value) > max(MINOR_UNITS[currency], 4):
            problems.append(Problem(number, column, f"{value} has more decimal places than {currency} allows"))
    return price, cost


def _active_cell(number: int, cells: dict[str, str], problems: list[Problem]) -> bool:
    """``true``/``false`` (and yes/no, 1/0, y/n); empty is true."""
    if not cells.get("active", "").strip():
        return True
    flag = cells["active"].strip().lower()
    if flag not in TRUE | FALSE:
        problems.append(Problem(number, "active", f"{cells['active']!r}: use true or false"))
    return flag in TRUE


def _patterned_cells(
    number: int, cells: dict[str, str], problems: list[Problem]
) -> tuple[dict[str, str], dict[str, int]]:
    """(attributes from ``attr[NAME]``, on-hand counts from ``stock[WH]``); empty cells are skipped."""
    attributes: dict[str, str] = {}
    stock: dict[str, int] = {}
    for name, value in cells.items():
        if not value or not name or name[0] not in "as" or not value.strip():
            continue
        match = PATTERNED.match(name)
        if not match:
            continue
        if match.group(1) == "attr":
            attributes[match.group(2)] = value.strip()
        else:
            quantity = _int(value, name, number, problems)
            if quantity is not None:
                stock[match.group(2)] = quantity
    return attributes, stock


def _localized_cells(
    number: int, cells: dict[str, str], problems: list[Problem]
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, dict[str, str]]]:
    """(product texts by (language, channel), attribute values by language) from the localized columns
    in the file; an empty cell clears its text."""
    texts: dict[tuple[str, str], dict[str, Any]] = {}
    attr_texts: dict[str, dict[str, str]] = {}
    for name, value in cells.items():
        column = localized_column(name)
        if not isinstance(column, LocalizedColumn):
            continue
        text = value.strip()
        fields = texts.get((column.language, column.channel), {})
        if not text and (column.attribute in attr_texts.get(column.language, {}) or column.kind in fields):
            continue  # a duplicate column (already reported) does not blank the first one
        if column.kind == "attr":
            attr_texts.setdefault(column.language, {})[column.attribute] = text
        elif column.kind == "bullets":
            texts.setdefault((column.language, column.channel), {})["bullets"] = [
                b.strip() for b in text.split("|") if b.strip()
            ]
        else:
            if column.kind == "title" and len(text) > 500:
                problems.append(Problem(number, name, f"is {len(text)} characters; at most 500"))
            texts.setdefault((column.language, column.channel), {})[column.kind] = text
    return texts, attr_texts


def _images_cell(number: int, cell: str, problems: list[Problem]) -> list[str]:
    """``|``-separated http(s) URLs, in display order."""
    images = [u.strip() for u in cell.split("|") if u.strip()]
    for url in images:
        if not url.startswith(("https://", "http://")):
            problems.append(Problem(number, "images", f"{url!r} is not an http(s) URL"))
    return images


def validate_file(
    path: Path, warehouses: set[str], progress: Progress | None = None, channels: set[str] | None = None
) -> list[CatalogRow]:
    """Parse and validate the whole file; raise InputRejected listing every problem."""
    header, rows = read_table(path)
    problems = check_header(header, warehouses, channels)  # reported together with every row problem below
    parsed: list[CatalogRow] = []
    first_row: dict[str, int] = {}
    products: dict[str, CatalogRow] = {}
    for number, cells in rows:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            problems.append(Problem(number, "", f"has {len(cells)} cells but the header has {len(header)}"))
        record = dict(zip(header, (c for c in cells), strict=False))
        item = parse_row(number, record, problems)
        sku = record.get("sku", "").strip()
        if sku:
            if sku in first_row:
                problems.append(Problem(number, "sku", f"duplicate SKU {sku!r} (first on row {first_row[sku]})"))
                item = None
            else:
                first_row[sku] = number
        if item is not None:
            first = products.setdefault(item.product, item)
            for name in PRODUCT_FIELDS:
                if first is not item and getattr(item, name) and getattr(item, name) != getattr(first, name):
                    problems.append(
                        Problem(number, name, f"differs from row {first.row} of the same product {item.product!r}")
                    )
            if first is not item:
                problems.extend(_text_conflicts(number, first, item))
            parsed.append(item)
        if progress and number % 1000 == 0:
            progress(1000)
    if problems:
        raise InputRejected(str(path), problems)
    return parsed


def _text_column(kind: str, language: str, channel: str) -> str:
    return f"{kind}[{language}]" + (f"@{channel}" if channel else "")


def _text_conflicts(number: int, first: CatalogRow, item: CatalogRow) -> list[Problem]:
    """Localized product texts must agree across the rows of one product (empty cells agree with any)."""
    problems = []
    for key, fields in item.texts.items():
        theirs = first.texts.get(key, {})
        for name, value in fields.items():
            if value and theirs.get(name) and value != theirs[name]:
                column = _text_column(name, *key)
                problems.append(
                    Problem(number, column, f"differs from row {first.row} of the same product {item.product!r}")
                )
    return problems


# ------------------------------------------------------------------------------------------- apply
def _product_values(row: CatalogRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in PRODUCT_FIELDS}


SKU_FIELDS = (
    "product_id",
    "attributes",
    "images",
    "barcode",
    "weight_grams",
    "cost",
    "base_price",
    "currency",
    "active",
    "lead_time_days",
    "supplier",
)


def _sku_values(row: CatalogRow, product_id: int) -> dict[str, Any]:
    """A row's SKU columns (:data:`SKU_FIELDS`)."""
    return {
        "product_id": product_id,
        "attributes": row.attributes,
        "images": row.images,
        "barcode": row.barcode,
        "weight_grams": row.weight_grams,
        "cost": row.cost,
        "base_price": row.base_price,
        "currency": row.currency,
        "active": row.active,
        "lead_time_days": row.lead_time_days,
        "supplier": row.supplier,
    }


def apply_rows(
    session: Session, rows: list[CatalogRow], *, user: str, source: str, stock: StockMode = StockMode.CHECK
) -> ImportSummary:
    """Upsert validated rows (inside the caller's transaction). Idempotent. ``stock``: see :class:`StockMode`."""
    summary = ImportSummary(rows=len(rows))
    change_set = ChangeSet(user=user, reason=f"catalog import {source}", command="catalog import")
    session.add(change_set)
    session.flush()
    summary.change_set_id = change_set.id
    product_ids, updated_products = _upsert_products(session, rows, summary)
    created_ids = _upsert_skus(session, rows, product_ids, change_set.id, summary)
    costs.record_changes(session)
    if updated_products:  # products whose content changed touch every SKU of theirs (their listings' content)
        summary.changed_sku_ids.update(session.scalars(select(Sku.id).where(Sku.product_id.in_(updated_products))))
    sku_ids = dict(session.execute(select(Sku.sku, Sku.id)).all())
    _apply_texts(session, rows, product_ids, sku_ids, summary)
    if stock is not StockMode.NONE:
        counts = _StockCounts(change_set.id, f"stock count from {source}", user, stock is StockMode.CHECK)
        counts.apply(session, rows, sku_ids, created_ids, summary)
    if not summary.changed:
        session.delete(change_set)
        summary.change_set_id = None
    return summary


INSERT_CHUNK = 5000  # rows per multi-row INSERT ... RETURNING
MOVEMENT_CHUNK = 50_000  # stock counts recorded per ledger call (bounds the statement parameter lists)


def _upsert_products(
    session: Session, rows: list[CatalogRow], summary: ImportSummary
) -> tuple[dict[str, int], list[int]]:
    """Create and update the products (the first row of each carries its content). Returns (product key
    -> id, the ids of the existing products whose content changed)."""
    product_rows: dict[str, CatalogRow] = {}
    for row in rows:
        product_rows.setdefault(row.product, row)
    query = select(Product.id, Product.key, *(getattr(Product, name) for name in PRODUCT_FIELDS))
    existing = (
        {p.key: p for p in session.execute(query.where(Product.key.in_(list(product_rows))))}
        if len(product_rows) < 30000
        else {p.key: p for p in session.execute(query)}
    )
    new_products = [{"key": key, **_product_values(row)} for key, row in product_rows.items() if key not in existing]
    product_ids = {key: p.id for key, p in existing.items()}
    for start in range(0, len(new_products), INSERT_CHUNK):
        result = session.connection().execute(
            insert(Product).returning(Product.id, Product.key), new_products[start : start + INSERT_CHUNK]
        )
        product_ids.update({key: pid for pid, key in result})
    summary.products_created = len(new_products)
    updates = []
    for key, product in existing.items():
        values = _product_values(product_rows[key])
        if any(getattr(product, k) != v for k, v in values.items()):
            updates.append({"id": product.id, **values})
    if updates:
        session.execute(update(Product), updates)
        summary.products_updated = len(updates)
    return product_ids, [u["id"] for u in updates]


def _upsert_skus(
    session: Session, rows: list[CatalogRow], product_ids: dict[str, int], change_set_id: int, summary: ImportSummary
) -> set[int]:
    """Create and update the SKUs; a changed base price or cost is a change item. Returns the new SKU ids."""
    columns = [getattr(Sku, name) for name in ("id", "sku", *SKU_FIELDS)]
    existing = {row.sku: row for row in session.execute(select(*columns))}  # narrow rows, no ORM objects
    new_skus: list[CatalogRow] = []  # their parameter rows are built a chunk at a time (memory)
    updates, price_items = [], []
    for row in rows:
        current = existing.get(row.sku)
        if current is None:
            new_skus.append(row)
            continue
        values = _sku_values(row, product_ids[row.product])
        changed = {k: v for k, v in values.items() if getattr(current, k) != v}
        if not changed:
            summary.skus_unchanged += 1
            continue
        updates.append({"id": current.id, **values})
        summary.changed_sku_ids.add(current.id)
        price_items += [
            _change_item(change_set_id, current.id, name, _text(getattr(current, name)), _text(values[name]))
            for name in ("base_price", "cost")
            if name in changed
        ]
        others = sorted(set(changed) - {"base_price", "cost"})
        if others:  # the change set counts (and shows) every SKU it changed, not only its prices
            price_items.append(_change_item(change_set_id, current.id, "catalog", None, ", ".join(others)))
    created_ids: set[int] = set()
    for start in range(0, len(new_skus), INSERT_CHUNK):
        chunk = [
            {"sku": row.sku, **_sku_values(row, product_ids[row.product])}
            for row in new_skus[start : start + INSERT_CHUNK]
        ]
        result = session.connection().execute(insert(Sku).returning(Sku.id, Sku.sku), chunk)
        by_sku = {row["sku"]: row for row in chunk}
        items = []
        for sid, sku in result:
            created_ids.add(sid)
            price = by_sku[sku]
            items.append(
                _change_item(change_set_id, sid, "created", None, f"{price['base_price']} {price['currency']}")
            )
        session.connection().execute(insert(ChangeItem), items)
    summary.changed_sku_ids |= created_ids
    summary.skus_created = len(new_skus)
    if updates:
        session.execute(update(Sku), updates)
        summary.skus_updated = len(updates)
    if price_items:
        session.connection().execute(insert(ChangeItem), price_items)
    return created_ids


def _change_item(change_set_id: int, sku_id: int, name: str, old: str | None, new: str | None) -> dict[str, Any]:
    return {"change_set_id": change_set_id, "sku_id": sku_id, "field": name, "old_value": old, "new_value": new}


@dataclass(slots=True)
class _StockCounts:
    """Stock counts become ledger adjustments (count movements), audited as change items except a new
    SKU's first count. With ``check``, a count taken (``stock_as_of``) before movements of its SKU and
    warehouse that the ledger has since is not applied: it is reported as :class:`StaleStock`."""

    change_set_id: int
    reason: str
    user: str
    check: bool

    def apply(
        self,
        session: Session,
        rows: list[CatalogRow],
        sku_ids: dict[str, int],
        created_ids: set[int],
        summary: ImportSummary,
    ) -> None:
        warehouses = ledger.warehouses_by_code(session)
        current_levels = ledger.levels(session)
        last_movement = _last_movement_ids(session)
        movements, stock_items = [], []
        stale: list[tuple[CatalogRow, str, int, int]] = []  # (row, warehouse, sku id, on hand)
        for row in rows:
            sku_id = sku_ids[row.sku]
            for code, target in row.stock.items():
                wh_id = warehouses[code]
                on_hand = current_levels.get((sku_id, wh_id), (0, 0))[0]
                if target == on_hand:
                    continue
                marker = last_movement.get((sku_id, wh_id), 0)
                if self.check and row.stock_as_of is not None and marker > row.stock_as_of:
                    stale.append((row, code, sku_id, on_hand))
                    continue
                movements.append(
                    ledger.Movement(
                        sku_id=sku_id,
                        warehouse_id=wh_id,
                        kind="count",
                        on_hand_delta=target - on_hand,
                        reserved_delta=0,
                        reason=self.reason,
                        user=self.user,
                        key=f"count:{sku_id}:{wh_id}:{target}:{marker}",
                        change_set_id=self.change_set_id,
                    )
                )
                if sku_id not in created_ids:  # a new SKU's first count is in the ledger; audit changes only
                    stock_items.append(
                        _change_item(self.change_set_id, sku_id, f"stock:{code}", str(on_hand), str(target))
                    )
                summary.changed_sku_ids.add(sku_id)
        for start in range(0, len(movements), MOVEMENT_CHUNK):  # each (SKU, warehouse) once: chunks independent
            summary.stock_movements += len(ledger.record(session, movements[start : start + MOVEMENT_CHUNK]))
        if stock_items:
            session.connection().execute(insert(ChangeItem), stock_items)
        summary.stale_stock = _stale_stock(session, stale, warehouses)


def _stale_stock(
    session: Session, stale: list[tuple[CatalogRow, str, int, int]], warehouses: dict[str, int]
) -> list[StaleStock]:
    """Each stale count with the movements made after the file's position (read per SKU and warehouse)."""
    from listing_sync.syncer.models import StockMovement

    out = []
    for row, code, sku_id, on_hand in stale[:1000]:  # a whole stale file: the first 1,000 name the problem
        as_of = row.stock_as_of or 0
        query = (
            select(StockMovement)
            .where(
                StockMovement.sku_id == sku_id,
                StockMovement.warehouse_id == warehouses[code],
                StockMovement.id > as_of,
            )
            .order_by(StockMovement.id)
        )
        movements = [
            LedgerEntry(m.id, m.kind, m.on_hand_delta, m.created_at.strftime("%Y-%m-%d %H:%M"), m.reason or "")
            for m in session.scalars(query)
        ]
        out.append(StaleStock(row.sku, code, row.stock[code], on_hand, as_of, movements))
    return out


def _merged_texts(rows: list[CatalogRow]) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """product key -> (language, channel) -> fields, merged over the product's rows (non-empty wins)."""
    out: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for row in rows:
        product = out.setdefault(row.product, {})
        for key, fields in row.texts.items():
            merged = product.setdefault(key, {})
            for name, value in fields.items():
                if value or name not in merged:
                    merged[name] = value
    return out


def _apply_texts(
    session: Session,
    rows: list[CatalogRow],
    product_ids: dict[str, int],
    sku_ids: dict[str, int],
    summary: ImportSummary,
) -> None:
    """Upsert localized product texts and SKU attribute values for the columns present in the file."""
    touched_products = _apply_product_texts(session, rows, product_ids, summary)
    _apply_sku_texts(session, rows, sku_ids, summary)
    if touched_products:  # a product's texts are part of every one of its SKUs' listings
        product_list = sorted(touched_products)
        for start in range(0, len(product_list), TEXT_CHUNK):
            summary.changed_sku_ids.update(
                session.scalars(select(Sku.id).where(Sku.product_id.in_(product_list[start : start + TEXT_CHUNK])))
            )
    session.flush()


@dataclass(slots=True)
class _TextWrites:
    """Rows to insert, update (by id) and delete (ids) in one text table, written in bulk."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)

    def write(self, session: Session, model: type[ProductText] | type[SkuText]) -> None:
        if self.inserts:
            session.execute(insert(model), self.inserts)
        if self.updates:
            session.execute(update(model), self.updates)  # bulk UPDATE by primary key
        for start in range(0, len(self.deletes), TEXT_CHUNK):
            session.execute(delete(model).where(model.id.in_(self.deletes[start : start + TEXT_CHUNK])))


def _apply_product_texts(
    session: Session, rows: list[CatalogRow], product_ids: dict[str, int], summary: ImportSummary
) -> set[int]:
    """Upsert the products' localized texts; returns the ids of the products whose texts changed."""
    wanted = _merged_texts(rows)
    touched: set[int] = set()
    if not any(wanted.values()):
        return touched
    ids = [product_ids[key] for key, texts in wanted.items() if texts]
    existing: dict[tuple[int, str, str], Any] = {}
    columns = (ProductText.id, ProductText.product_id, ProductText.language, ProductText.channel)
    for start in range(0, len(ids), TEXT_CHUNK):
        for text in session.execute(
            select(*columns, ProductText.title, ProductText.description, ProductText.bullet_points).where(
                ProductText.product_id.in_(ids[start : start + TEXT_CHUNK])
            )
        ):
            existing[(text.product_id, text.language, text.channel)] = text
    writes = _TextWrites()
    for key, texts in wanted.items():
        pid = product_ids[key]
        for (language, channel), fields in texts.items():
            if _upsert_product_text(writes, pid, language, channel, fields, existing.get((pid, language, channel))):
                summary.texts_changed += 1
                touched.add(pid)
    writes.write(session, ProductText)
    return touched


def _upsert_product_text(
    writes: _TextWrites, pid: int, language: str, channel: str, fields: dict[str, Any], current: Any
) -> bool:
    """Set the fields in the file over the stored text (a text left empty is deleted); True if it changed.
    ``current`` is the stored row (id, title, description, bullet_points) or None."""
    values: dict[str, Any] = {
        "title": current.title if current else "",
        "description": current.description if current else "",
        "bullet_points": list(current.bullet_points or []) if current else [],
    }
    for name, value in fields.items():
        values["bullet_points" if name == "bullets" else name] = value
    empty = not (values["title"] or values["description"] or values["bullet_points"])
    if current is None:
        if empty:
            return False
        writes.inserts.append({"product_id": pid, "language": language, "channel": channel, **values})
    elif empty:
        writes.deletes.append(current.id)
    elif all(getattr(current, k) == v for k, v in values.items()):
        return False
    else:
        writes.updates.append({"id": current.id, **values})
    return True


def _apply_sku_texts(session: Session, rows: list[CatalogRow], sku_ids: dict[str, int], summary: ImportSummary) -> None:
    """Upsert the SKUs' attribute values by language; their SKUs count as changed."""
    sku_rows = [row for row in rows if row.attr_texts]
    if not sku_rows:
        return
    ids = [sku_ids[row.sku] for row in sku_rows]
    existing: dict[tuple[int, str], Any] = {}
    for start in range(0, len(ids), TEXT_CHUNK):
        for text in session.execute(
            select(SkuText.id, SkuText.sku_id, SkuText.language, SkuText.attributes).where(
                SkuText.sku_id.in_(ids[start : start + TEXT_CHUNK])
            )
        ):
            existing[(text.sku_id, text.language)] = text
    writes = _TextWrites()
    for row in sku_rows:
        sid = sku_ids[row.sku]
        for language, values in row.attr_texts.items():
            if _upsert_sku_text(writes, sid, language, values, existing.get((sid, language))):
                summary.texts_changed += 1
                summary.changed_sku_ids.add(sid)
    writes.write(session, SkuText)


def _upsert_sku_text(writes: _TextWrites, sid: int, language: str, values: dict[str, str], current: Any) -> bool:
    """Merge the file's attribute values into the stored ones ("" removes one; a text left empty is
    deleted); True if it changed. ``current`` is the stored row (id, attributes) or None."""
    merged: dict[str, Any] = dict(current.attributes or {}) if current else {}
    for name, value in values.items():
        if value:
            merged[name] = value
        else:
            merged.pop(name, None)
    if current is None:
        if not merged:
            return False
        writes.inserts.append({"sku_id": sid, "language": language, "attributes": merged})
    elif not merged:
        writes.deletes.append(current.id)
    elif merged == dict(current.attributes or {}):
        return False
    else:
        writes.updates.append({"id": current.id, "attributes": merged})
    return True


def _last_movement_ids(session: Session) -> dict[tuple[int, int], int]:
    from listing_sync.syncer.models import StockMovement
    from sqlalchemy import func

    query = select(StockMovement.sku_id, StockMovement.warehouse_id, func.max(StockMovement.id)).group_by(
        StockMovement.sku_id, StockMovement.warehouse_id
    )
    return {(s, w): m for s, w, m in session.execute(query)}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _file_digest(path: Path) -> str:
    """The file's SHA-256 (first 12 hex digits), read in blocks."""
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:12]


def import_file(
    session: Session,
    path: Path,
    *,
    user: str,
    progress: Progress | None = None,
    stock: StockMode = StockMode.CHECK,
) -> ImportSummary:
    """Validate the whole file, then apply it in the caller's transaction (``stock``: :class:`StockMode`)."""
    warehouses = {code for (code,) in session.execute(select(Warehouse.code))}
    channels = {name for (name,) in session.execute(select(Channel.name))}
    rows = validate_file(path, warehouses, progress, channels or None)
    digest = _file_digest(path)
    return apply_rows(session, rows, user=user, source=f"{path.name} ({digest})", stock=stock)


# ------------------------------------------------------------------------------------------ export
def export_rows(session: Session) -> tuple[list[str], Iterable[list[Any]]]:
    """The catalog as (header, rows) in the import column set."""
    warehouses = list(session.execute(select(Warehouse.id, Warehouse.code).order_by(Warehouse.code)))
    attr_names = sorted({name for attrs in session.scalars(select(Sku.attributes)) for name in (attrs or {})})
    text_keys = sorted(
        {(lang, ch) for lang, ch in session.execute(select(ProductText.language, ProductText.channel))},
        key=lambda k: (k[1], k[0]),
    )
    texts: dict[int, dict[tuple[str, str], ProductText]] = {}
    for text in session.scalars(select(ProductText)):
        texts.setdefault(text.product_id, {})[(text.language, text.channel)] = text
    sku_texts: dict[int, dict[str, dict[str, Any]]] = {}
    for row in session.scalars(select(SkuText)):
        sku_texts.setdefault(row.sku_id, {})[row.language] = dict(row.attributes or {})
    attr_keys = sorted({(name, lang) for by_lang in sku_texts.values() for lang, a in by_lang.items() for name in a})
    header = [
        "sku",
        "product",
        "title",
        "description",
        "category",
        "brand",
        "tags",
        *(_text_column(kind, lang, ch) for lang, ch in text_keys for kind in TEXT_FIELDS),
        *(f"attr[{name}]" for name in attr_names),
        *(f"attr[{name}][{lang}]" for name, lang in attr_keys),
        "images",
        "barcode",
        "weight_grams",
        "cost",
        "base_price",
        "currency",
        "active",
        "lead_time_days",
        "supplier",
        *(f"stock[{code}]" for _, code in warehouses),
        "stock_as_of",
    ]
    levels = {(s, w): on for (s, w), (on, _) in ledger.levels(session).items()}
    as_of = ledger_position(session)  # read in the same transaction as the counts

    def rows() -> Iterable[list[Any]]:
        query = select(Sku, Product).join(Product, Sku.product_id == Product.id).order_by(Product.key, Sku.sku)
        for sku, product in session.execute(query):
            yield [
                sku.sku,
                product.key,
                product.title,
                product.description,
                product.category,
                product.brand,
                ";".join(product.tags or []),
                *(_text_cell(texts.get(product.id, {}).get(key), kind) for key in text_keys for kind in TEXT_FIELDS),
                *((sku.attributes or {}).get(n, "") for n in attr_names),
                *(sku_texts.get(sku.id, {}).get(lang, {}).get(name, "") for name, lang in attr_keys),
                "|".join(sku.images or []),
                sku.barcode,
                sku.weight_grams if sku.weight_grams is not None else "",
                sku.cost if sku.cost is not None else "",  # numbers: a workbook keeps them as numbers
                sku.base_price,
                sku.currency,
                "true" if sku.active else "false",
                sku.lead_time_days if sku.lead_time_days is not None else "",
                sku.supplier,
                *(levels.get((sku.id, wid), 0) for wid, _ in warehouses),
                as_of,
            ]

    return header, rows()


def ledger_position(session: Session) -> int:
    """The id of the last stock movement (0 for none): what an export's counts are as of."""
    from listing_sync.syncer.models import StockMovement
    from sqlalchemy import func

    return session.scalar(select(func.max(StockMovement.id))) or 0


def _text_cell(text: ProductText | None, kind: str) -> str:
    if text is None:
        return ""
    if kind == "bullets":
        return "|".join(text.bullet_points or [])
    return getattr(text, kind) or ""


def show(session: Session, sku: str) -> dict[str, Any] | None:
    """One SKU with its product and stock per warehouse, for ``syncer catalog show``."""
    found = session.execute(
        select(Sku, Product).join(Product, Sku.product_id == Product.id).where(Sku.sku == sku)
    ).first()
    if found is None:
        return None
    item, product = found
    stock_rows = session.execute(
        select(Warehouse.code, StockLevel.on_hand, StockLevel.reserved)
        .join(StockLevel, StockLevel.warehouse_id == Warehouse.id)
        .where(StockLevel.sku_id == item.id)
        .order_by(Warehouse.code)
    ).all()
    texts = {
        (f"{t.language}@{t.channel}" if t.channel else t.language): {
            "title": t.title,
            "description": t.description,
            "bullets": list(t.bullet_points or []),
        }
        for t in session.scalars(
            select(ProductText)
            .where(ProductText.product_id == product.id)
            .order_by(ProductText.channel, ProductText.language)
        )
    }
    attribute_texts = {
        t.language: dict(t.attributes or {})
        for t in session.scalars(select(SkuText).where(SkuText.sku_id == item.id).order_by(SkuText.language))
    }
    return {
        "sku": item.sku,
        "product": product.key,
        "title": product.title,
        "texts": texts,
        "attribute_texts": attribute_texts,
        "category": product.category,
        "brand": product.brand,
        "tags": product.tags,
        "attributes": item.attributes,
        "images": item.images,
        "barcode": item.barcode,
        "weight_grams": item.weight_grams,
        "cost": _text(item.cost),
        "base_price": str(item.base_price),
        "currency": item.currency,
        "active": item.active,
        "lead_time_days": item.lead_time_days,
        "supplier": item.supplier,
        "stock": [
            {"warehouse": code, "on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved}
            for code, on_hand, reserved in stock_rows
        ],
    }
