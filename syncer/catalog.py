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
from listing_sync.syncer import limits
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.content import normalize_language
from listing_sync.syncer.models import (
    Channel,
    Product,
    ProductText,
    Sku,
    SkuText,
    StockLevel,
    Warehouse,
)
from listing_sync.syncer.rules import decimal_places
from listing_sync.syncer.tabular import CONTROL, Problem
from sqlalchemy import select
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
    if len(text) < 10 and text.isascii() and text.isdigit():  # the common case, always in range
        return int(text)
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
    with its row and column; every cell is checked, so all of a row's problems are reported at once).
    ``cells``: column name -> cell text, for the columns the row has."""
    return row_plan(tuple(cells)).parse(number, list(cells.values()), problems)


@lru_cache(maxsize=64)  # one per distinct set of columns: a file has one header (short rows a few more)
def row_plan(names: tuple[str, ...]) -> RowPlan:
    """The :class:`RowPlan` of these (distinct) column names."""
    return RowPlan.of(names)


@dataclass(frozen=True, slots=True)
class RowPlan:
    """Which cell feeds which field, worked out once per header: a row's cells are then taken by position
    instead of each cell's column name being matched on every row. ``names`` are distinct; a plain
    column the header lacks is at position ``len(names)`` (an empty cell appended to each row)."""

    names: tuple[str, ...]
    at: dict[str, int]  # plain column -> position
    lengths: tuple[tuple[str, int, int], ...]  # (column, position, most characters) of MAX_LENGTHS
    attributes: tuple[tuple[int, str], ...]  # (position, attribute name) of ``attr[NAME]``
    stock: tuple[tuple[int, str, str], ...]  # (position, warehouse code, column name) of ``stock[WH]``
    localized: tuple[tuple[int, str, LocalizedColumn], ...]  # (position, column name, column), header order

    @classmethod
    def of(cls, names: tuple[str, ...]) -> RowPlan:
        missing = len(names)
        at = {name: names.index(name) if name in names else missing for name in PLAIN_COLUMNS}
        attributes, stock, localized = [], [], []
        for position, name in enumerate(names):
            column = localized_column(name)
            if isinstance(column, LocalizedColumn):
                localized.append((position, name, column))
                continue
            match = PATTERNED.match(name)
            if match and match.group(1) == "attr":
                attributes.append((position, match.group(2)))
            elif match:
                stock.append((position, match.group(2), name))
        lengths = tuple((name, at[name], most) for name, most in MAX_LENGTHS.items() if at[name] != missing)
        return cls(names, at, lengths, tuple(attributes), tuple(stock), tuple(localized))

    def parse(self, number: int, values: list[str], problems: list[Problem]) -> CatalogRow | None:
        """The row whose cells are ``values`` (one per name, in order): see :func:`parse_row`."""
        before = len(problems)
        if CONTROL.search("".join(values)):  # the common case: one scan of the whole row, no problem
            problems.extend(limits.control_problems(number, dict(zip(self.names, values, strict=True))))
        cells = [*values, ""]
        for column, position, most in self.lengths:
            cell = cells[position]
            if len(cell) > most and len(cell.strip()) > most:
                problems.append(Problem(number, column, f"is {len(cell.strip())} characters; at most {most}"))
        at = self.at
        sku = _sku_cell(number, cells[at["sku"]].strip(), problems)
        title = cells[at["title"]].strip()
        if not title:
            problems.append(Problem(number, "title", "is empty"))
        currency = _currency_cell(number, cells[at["currency"]].strip().upper(), problems)
        price, cost = _price_cells(number, cells[at["base_price"]], cells[at["cost"]], currency, problems)
        weight = _optional_int(number, "weight_grams", cells[at["weight_grams"]], problems)
        lead_time = _optional_int(number, "lead_time_days", cells[at["lead_time_days"]], problems)
        active = _active_cell(number, cells[at["active"]], problems)
        attributes = {name: cells[p].strip() for p, name in self.attributes if cells[p].strip()}
        stock: dict[str, int] = {}
        for position, code, name in self.stock:
            cell = cells[position]
            if cell.strip():
                quantity = _int(cell, name, number, problems)
                if quantity is not None:
                    stock[code] = quantity
        texts, attr_texts = _localized_cells(number, cells, self.localized, problems)
        images = _images_cell(number, cells[at["images"]], problems)
        as_of = _as_of_cell(number, cells[at["stock_as_of"]].strip(), problems)
        if len(problems) > before:
            return None
        tags = cells[at["tags"]]
        return CatalogRow(
            row=number,
            sku=sku,
            product=cells[at["product"]].strip() or sku,
            title=title,
            description=cells[at["description"]].strip(),
            category=cells[at["category"]].strip(),
            brand=cells[at["brand"]].strip(),
            tags=[t.strip() for t in tags.split(";") if t.strip()] if tags else [],
            attributes=attributes,
            images=images,
            barcode=cells[at["barcode"]].strip(),
            weight_grams=weight,
            cost=cost,
            base_price=price or Decimal(0),
            currency=currency,
            active=active,
            lead_time_days=lead_time,
            supplier=cells[at["supplier"]].strip(),
            stock=stock,
            stock_as_of=as_of,
            texts=texts,
            attr_texts=attr_texts,
        )


def _optional_int(number: int, column: str, cell: str, problems: list[Problem]) -> int | None:
    """A whole count, or None for an empty cell (or with the problem)."""
    return _int(cell, column, number, problems) if cell.strip() else None


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
    number: int, price_cell: str, cost_cell: str, currency: str, problems: list[Problem]
) -> tuple[Decimal | None, Decimal | None]:
    """(base price, cost): not negative, with no more decimal places than the currency's minor units or
    4, whichever is more (sub-unit precision for unit amounts)."""
    key = (price_cell, cost_cell, currency)
    known = _PRICES.get(key)
    if known is not None:  # the same cells were valid on an earlier row (catalogs repeat their prices)
        return known
    before = len(problems)
    price = _decimal(price_cell, "base_price", number, problems, currency)
    cost = None
    if cost_cell.strip():
        cost = _decimal(cost_cell, "cost", number, problems, currency)
    for column, value in (("base_price", price), ("cost", cost)):
        if value is not None and currency in MINOR_UNITS and decimal_places(value) > max(MINOR_UNITS[currency], 4):
            problems.append(Problem(number, column, f"{value} has more decimal places than {currency} allows"))
    if price is not None and len(problems) == before and (cost is not None or not cost_cell.strip()):
        if len(_PRICES) >= 65536:
            _PRICES.clear()
        _PRICES[key] = (price, cost)
    return price, cost


#: (base_price cell, cost cell, currency) -> (price, cost) for cells found valid (Decimals are immutable)
_PRICES: dict[tuple[str, str, str], tuple[Decimal, Decimal | None]] = {}


def _active_cell(number: int, cell: str, problems: list[Problem]) -> bool:
    """``true``/``false`` (and yes/no, 1/0, y/n); empty is true."""
    flag = cell.strip().lower()
    if not flag:
        return True
    if flag not in TRUE | FALSE:
        problems.append(Problem(number, "active", f"{cell!r}: use true or false"))
    return flag in TRUE


def _localized_cells(
    number: int,
    cells: list[str],
    columns: tuple[tuple[int, str, LocalizedColumn], ...],
    problems: list[Problem],
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, dict[str, str]]]:
    """(product texts by (language, channel), attribute values by language) from the localized columns
    in the file (``columns``: position, name, column); an empty cell clears its text."""
    texts: dict[tuple[str, str], dict[str, Any]] = {}
    attr_texts: dict[str, dict[str, str]] = {}
    for position, name, column in columns:
        text = cells[position].strip()
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


def _text_column(kind: str, language: str, channel: str) -> str:
    return f"{kind}[{language}]" + (f"@{channel}" if channel else "")


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
    """Validate the whole file (one streaming pass into a compact index: :mod:`syncer.catalog_index`),
    then apply it in chunks in the caller's transaction (:mod:`syncer.catalog_apply`; ``stock``:
    :class:`StockMode`). Nothing is applied unless the whole file is clean."""
    from listing_sync.syncer.catalog_apply import apply_index, catalog_is_empty, nothing_stored, stored_hashes
    from listing_sync.syncer.catalog_index import build_index

    warehouses = {code for (code,) in session.execute(select(Warehouse.code))}
    channels = {name for (name,) in session.execute(select(Channel.name))}
    empty = catalog_is_empty(session)  # a first import: no row can match a stored one
    stored = nothing_stored if empty else stored_hashes(session)
    index = build_index(path, warehouses, progress, channels or None, stored)
    digest = _file_digest(path)
    return apply_index(session, index, user=user, source=f"{path.name} ({digest})", stock=stock, empty=empty)


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
