"""Pass 1 of a catalog import: the whole file validated in one streaming pass into a compact index.

Every row goes through :func:`~syncer.catalog.parse_row` and the checks across rows (duplicate SKUs, a
product's columns and texts agreeing over its rows) exactly as before, every problem reported by row and
column; but no parsed row is kept. What is kept per row is what pass 2 (:mod:`syncer.catalog_apply`)
needs to decide, without the file, whether the row changes anything: its SKU, a 16-byte digest of its
SKU columns (the *row hash*) and its stock counts; per product, the digest of its product columns and
texts, and the few localized texts a later row of the product fills in. About 150 bytes per row.
"""

from __future__ import annotations

import hashlib
import marshal
import struct
import tempfile
from array import array
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from listing_sync.syncer.catalog import (
    PATTERNED,
    PRODUCT_FIELDS,
    CatalogRow,
    LocalizedColumn,
    Progress,
    RowPlan,
    check_header,
    localized_column,
    parse_row,
    row_plan,
)
from listing_sync.syncer.tabular import InputRejected, Problem, read_table

#: bumped when what a row hash covers changes (every stored hash then differs once)
HASH_VERSION = b"catalog-row-1"
NO_COUNT = -1  # no stock count in the cell (left unchanged)


def sku_scalars(row: CatalogRow) -> tuple[Any, ...]:
    """A row's plain SKU columns, in the order the row hash and the spill file both keep them (one list,
    so a column added to the import cannot be hashed and not spilled, or the reverse)."""
    return (
        row.images,
        row.barcode,
        row.weight_grams,
        None if row.cost is None else str(row.cost),
        str(row.base_price),
        row.currency,
        row.active,
        row.lead_time_days,
        row.supplier,
    )


def sku_hash(row: CatalogRow) -> bytes:
    """The digest of what a row writes to its SKU: its SKU columns, product key and attribute texts."""
    data = (
        row.sku,
        row.product,
        sorted(row.attributes.items()),
        *sku_scalars(row),
        sorted((language, sorted(values.items())) for language, values in row.attr_texts.items()),
    )
    return hashlib.blake2b(repr(data).encode(), digest_size=16, person=HASH_VERSION[:16]).digest()


def product_hash(row: CatalogRow) -> bytes:
    """The digest of what a product's first row writes to it: its product columns and texts."""
    texts = sorted((key, sorted(fields.items())) for key, fields in row.texts.items())
    data = (row.product, *(getattr(row, name) for name in PRODUCT_FIELDS), texts)
    return hashlib.blake2b(repr(data).encode(), digest_size=16, person=HASH_VERSION[:16]).digest()


def _fingerprint(value: Any) -> int:
    """A 64-bit fingerprint of a cell's value for comparing rows within this process; 0 for empty."""
    if not value:
        return 0
    return (hash(tuple(value) if isinstance(value, list) else value) & 0x7FFF_FFFF_FFFF_FFFF) or 1


def _combined(row: CatalogRow) -> int:
    """One in-process fingerprint of a row's product columns and texts."""
    texts = tuple(
        (key, tuple((name, tuple(v) if isinstance(v, list) else v) for name, v in fields.items()))
        for key, fields in row.texts.items()
    )
    return hash((row.title, row.description, row.category, row.brand, tuple(row.tags), texts))


@dataclass(slots=True)
class ProductEntry:
    """A product as pass 1 saw it: its first row, the digest of what that row writes, a fingerprint per
    product column and text (to check later rows against), and the texts later rows fill in."""

    ordinal: int  # the first row's position among the data rows
    row: int  # the first row's file row number
    digest: bytes
    fields: bytes  # packed fingerprints: PRODUCT_FIELDS, then the text layout
    combined: int  # one fingerprint of all of them, to find a later row that agrees in one comparison
    #: (language, channel) -> {field: value}: texts empty on the first row that a later row fills in
    patches: dict[tuple[str, str], dict[str, Any]] | None = None


@dataclass(slots=True)
class CatalogIndex:
    """The validated file, compactly: per data row (in file order) its SKU, file row number, row hash and
    stock counts; per product (in the order of their first rows) a :class:`ProductEntry`."""

    path: Path
    header: list[str]
    skus: list[str] = field(default_factory=list)
    rows: array = field(default_factory=lambda: array("q"))
    hashes: bytearray = field(default_factory=bytearray)
    stock: dict[str, array] = field(default_factory=dict)  # warehouse code -> count per row (NO_COUNT)
    as_of: array = field(default_factory=lambda: array("q"))  # stock_as_of per row (NO_COUNT)
    products: dict[str, ProductEntry] = field(default_factory=dict)
    spill: Spill | None = None
    _reread: Generator[CatalogRow, int, None] | None = None

    def __len__(self) -> int:
        return len(self.skus)

    def row_hash(self, ordinal: int) -> bytes:
        return bytes(self.hashes[ordinal * 16 : ordinal * 16 + 16])

    def counts(self, ordinal: int) -> tuple[dict[str, int], int | None]:
        """The row's stock counts by warehouse code and its ``stock_as_of``."""
        counts = {code: c[ordinal] for code, c in self.stock.items() if c[ordinal] != NO_COUNT}
        as_of = self.as_of[ordinal]
        return counts, None if as_of == NO_COUNT else as_of

    def product_digest(self, key: str) -> bytes:
        """What the product's rows write to it: the first row's digest, with the texts later rows fill in."""
        entry = self.products[key]
        if not entry.patches:
            return entry.digest
        patches = sorted((k, sorted(v.items())) for k, v in entry.patches.items())
        return hashlib.blake2b(entry.digest + repr(patches).encode(), digest_size=16).digest()

    def rows_at(self, ordinals: list[int]) -> dict[int, CatalogRow]:
        """The parsed rows at these ordinals (ascending; each call's past the previous call's): from the
        spill file pass 1 wrote the changed rows to, else read and parsed from the file again."""
        out: dict[int, CatalogRow] = {}
        if not ordinals:
            return out
        if self.spill is not None:
            out.update(self.spill.take(set(ordinals), ordinals[-1]))
        missing = [o for o in ordinals if o not in out]
        if missing:
            if self._reread is None:
                self._reread = self._parse_again()
                next(self._reread)
            for ordinal in missing:
                out[ordinal] = self._reread.send(ordinal)
        return out

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
        if self._reread is not None:
            self._reread.close()

    def _parse_again(self) -> Generator[CatalogRow, int, None]:
        """A forward-only reader of the file: send an ordinal, get its row parsed (rows pass 1 validated)."""
        _, rows = read_table(self.path)
        parser = RowParser(self.header)
        ordinal = yield None  # type: ignore[misc]
        try:
            for number, cells in rows:
                if number < self.rows[ordinal]:
                    continue
                problems: list[Problem] = []
                row, _ = parser.parse(number, cells, problems)
                if row is None or row.sku != self.skus[ordinal]:  # the file changed between the passes
                    changed = [Problem(number, "", "the file changed during the import")]
                    raise InputRejected(str(self.path), problems or changed)
                ordinal = yield row
        finally:
            if hasattr(rows, "close"):
                rows.close()
        raise InputRejected(str(self.path), [Problem(0, "", "the file changed during the import (rows missing)")])


class RowParser:
    """A file's rows parsed by the :class:`~syncer.catalog.RowPlan` of its header, compiled once. A row
    shorter than the header, or a header naming a column twice (refused, with the rows' problems still
    reported), goes by column name as :func:`~syncer.catalog.parse_row` takes it: a missing cell is absent
    (a localized column it would have cleared is left alone), a repeated column's last cell counts."""

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.width = len(header)
        self.plan: RowPlan | None = row_plan(tuple(header)) if len(set(header)) == len(header) else None
        self.sku_at = header.index("sku") if "sku" in header else None

    def parse(self, number: int, cells: list[str], problems: list[Problem]) -> tuple[CatalogRow | None, str]:
        """(the parsed row, or None with its problems added; its ``sku`` cell, stripped)."""
        if self.plan is not None and len(cells) >= self.width:
            values = cells if len(cells) == self.width else cells[: self.width]
            sku = "" if self.sku_at is None else values[self.sku_at].strip()
            return self.plan.parse(number, values, problems), sku
        record = dict(zip(self.header, cells, strict=False))
        return parse_row(number, record, problems), record.get("sku", "").strip()


class Spill:
    """Parsed rows written to a temporary file in pass 1 (``marshal``: plain values, amounts as text) and
    read back in order in pass 2, so that a changed row is not parsed twice. A product's columns and texts
    are kept only with its first row."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close(), after pass 2)
        self.count = 0  # batches written
        self._batch: list[tuple[Any, ...]] = []
        self._pending: tuple[int, CatalogRow] | None = None
        self._reading: Iterator[tuple[int, CatalogRow]] | None = None

    def write(self, ordinal: int, row: CatalogRow, first_of_product: bool) -> None:
        product = None
        if first_of_product:
            product = (row.title, row.description, row.category, row.brand, row.tags, row.texts)
        record = (
            ordinal,
            row.row,
            row.sku,
            row.product,
            row.attributes,
            *sku_scalars(row),
            row.attr_texts,
            product,
        )
        self._batch.append(record)

    def flush(self) -> None:
        """Write the rows given since the last flush as one batch."""
        if self._batch:
            data = marshal.dumps(self._batch)
            self.file.write(len(data).to_bytes(8, "little"))
            self.file.write(data)
            self.count += 1
            self._batch = []

    def take(self, wanted: set[int], last: int) -> dict[int, CatalogRow]:
        """The spilled rows among ``wanted``, reading up to ordinal ``last``."""
        if self._reading is None:
            self.file.seek(0)
            self._reading = self._records()
        out: dict[int, CatalogRow] = {}
        while True:
            if self._pending is None:
                self._pending = next(self._reading, None)
                if self._pending is None:
                    return out
            ordinal, row = self._pending
            if ordinal > last:
                return out
            if ordinal in wanted:
                out[ordinal] = row
            self._pending = None

    def _records(self) -> Iterator[tuple[int, CatalogRow]]:
        for record in (r for _ in range(self.count) for r in self._next_batch()):
            (ordinal, number, sku, product, attributes, images, barcode, weight, cost, price, currency, active,
             lead_time, supplier, attr_texts, content) = record  # fmt: skip
            row = CatalogRow(
                row=number,
                sku=sku,
                product=product,
                title="",
                attributes=attributes,
                images=images,
                barcode=barcode,
                weight_grams=weight,
                cost=None if cost is None else Decimal(cost),
                base_price=Decimal(price),
                currency=currency,
                active=active,
                lead_time_days=lead_time,
                supplier=supplier,
                attr_texts=attr_texts,
            )
            if content is not None:
                row.title, row.description, row.category, row.brand, row.tags, row.texts = content
            yield ordinal, row

    def _next_batch(self) -> list[tuple[Any, ...]]:
        # one read per batch: marshal.load on a file object reads it in many small pieces (7x slower)
        size = int.from_bytes(self.file.read(8), "little")
        batch: list[tuple[Any, ...]] = marshal.loads(self.file.read(size))
        return batch

    def close(self) -> None:
        self.file.close()


@dataclass(slots=True)
class _Layout:
    """The product text fields of this file's header, in a fixed order (every row has each of them)."""

    texts: list[tuple[str, str, str]]  # (language, channel, field)

    @classmethod
    def of(cls, header: list[str]) -> _Layout:
        seen: dict[tuple[str, str, str], None] = {}
        for name in header:
            column = localized_column(name)
            if isinstance(column, LocalizedColumn) and column.kind != "attr":
                seen.setdefault((column.language, column.channel, column.kind), None)
        return cls(list(seen))

    def fingerprints(self, row: CatalogRow) -> list[int]:
        out = [_fingerprint(getattr(row, name)) for name in PRODUCT_FIELDS]
        for language, channel, name in self.texts:
            out.append(_fingerprint(row.texts.get((language, channel), {}).get(name)))
        return out

    def pack(self, values: list[int]) -> bytes:
        return struct.pack(f"{len(values)}q", *values)

    def unpack(self, packed: bytes) -> tuple[int, ...]:
        return struct.unpack(f"{len(packed) // 8}q", packed)


#: (SKUs, product keys) -> their stored row hashes (absent: not stored)
StoredHashes = Callable[[list[str], list[str]], tuple[dict[str, bytes | None], dict[str, bytes | None]]]
SPILL_CHUNK = 5000  # rows looked up at a time


def build_index(
    path: Path,
    warehouses: set[str],
    progress: Progress | None = None,
    channels: set[str] | None = None,
    stored: StoredHashes | None = None,
) -> CatalogIndex:
    """Validate the whole file in one streaming pass; raise InputRejected listing every problem. With
    ``stored``, the rows whose hashes differ from the stored ones are kept in a spill file for pass 2."""
    header, rows = read_table(path)
    problems = check_header(header, warehouses, channels)  # reported together with every row problem below
    index = CatalogIndex(path, header)
    for name in header:
        match = PATTERNED.match(name)
        if match and match.group(1) == "stock":
            index.stock[match.group(2)] = array("q")
    layout = _Layout.of(header)
    first_row: dict[str, int] = {}
    pending: list[tuple[int, CatalogRow]] = []
    parser = RowParser(header)
    for number, cells in rows:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            problems.append(Problem(number, "", f"has {len(cells)} cells but the header has {len(header)}"))
        item, sku = parser.parse(number, cells, problems)
        if sku:
            if sku in first_row:
                problems.append(Problem(number, "sku", f"duplicate SKU {sku!r} (first on row {first_row[sku]})"))
                item = None
            else:
                first_row[sku] = number
        if item is not None:
            _check_product(index, layout, item, problems)
            if not problems:  # a file with a problem is refused whole: nothing more to keep
                if stored is not None:
                    pending.append((len(index), item))
                _keep(index, item)
        if len(pending) >= SPILL_CHUNK and stored is not None:
            if not problems:
                _spill(index, pending, stored)
            pending = []
        if progress and number % 1000 == 0:
            progress(1000)
    if problems:
        index.close()
        raise InputRejected(str(path), problems)
    if pending and stored is not None:
        _spill(index, pending, stored)
    return index


def _spill(index: CatalogIndex, pending: list[tuple[int, CatalogRow]], stored: StoredHashes) -> None:
    """Keep the rows whose SKU or (first row of a) product hash differs from the stored one."""
    if index.spill is None:
        index.spill = Spill()
    firsts = {o for o, row in pending if index.products[row.product].ordinal == o}
    skus, products = stored([row.sku for _, row in pending], [row.product for o, row in pending if o in firsts])
    for ordinal, row in pending:
        first = ordinal in firsts
        if skus.get(row.sku) != index.row_hash(ordinal) or (
            first and products.get(row.product) != index.products[row.product].digest
        ):
            index.spill.write(ordinal, row, first)
    index.spill.flush()


def _keep(index: CatalogIndex, item: CatalogRow) -> None:
    index.skus.append(item.sku)
    index.rows.append(item.row)
    index.hashes += sku_hash(item)
    for code, counts in index.stock.items():
        counts.append(item.stock.get(code, NO_COUNT))
    index.as_of.append(NO_COUNT if item.stock_as_of is None else item.stock_as_of)


def _check_product(index: CatalogIndex, layout: _Layout, item: CatalogRow, problems: list[Problem]) -> None:
    """A product's columns must agree over its rows (a later row may leave one empty); its texts must
    agree where both rows have one, and a text empty on the first row is taken from the last row that has
    one."""
    entry = index.products.get(item.product)
    if entry is None:
        ordinal = len(index.skus)  # the position this row takes if it is kept
        packed = layout.pack(layout.fingerprints(item))
        index.products[item.product] = ProductEntry(ordinal, item.row, product_hash(item), packed, _combined(item))
        return
    if _combined(item) == entry.combined:  # the common case: the same product cells as the first row
        return
    fingerprints = layout.fingerprints(item)
    if layout.pack(fingerprints) == entry.fields:
        return
    first = layout.unpack(entry.fields)
    for position, name in enumerate(PRODUCT_FIELDS):
        if fingerprints[position] and fingerprints[position] != first[position]:
            problems.append(
                Problem(item.row, name, f"differs from row {entry.row} of the same product {item.product!r}")
            )
    offset = len(PRODUCT_FIELDS)
    for position, (language, channel, name) in enumerate(layout.texts, start=offset):
        mine, theirs = fingerprints[position], first[position]
        if not mine:
            continue
        if theirs and mine != theirs:
            column = f"{name}[{language}]" + (f"@{channel}" if channel else "")
            problems.append(
                Problem(item.row, column, f"differs from row {entry.row} of the same product {item.product!r}")
            )
        elif not theirs:
            patches = entry.patches if entry.patches is not None else {}
            patches.setdefault((language, channel), {})[name] = item.texts[(language, channel)][name]
            entry.patches = patches
