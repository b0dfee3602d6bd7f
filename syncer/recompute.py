"""Desired values at scale: the passes behind :func:`syncer.reconcile.refresh`.

The full recompute (every listing) is set-based where it can be (:func:`_set_pass`): per channel, the
distinct price inputs its listings have and the distinct stock pools of its SKUs are read with one query
each, priced and mapped in Python by the rules of :mod:`syncer.rules` (so the money stays Decimal, minor
units, half-up, endings, floors), and put in temporary tables; one ``UPDATE ... FROM`` per range of SKUs
then writes exactly the listings whose price, quantity or error state moved, without a listing row leaving
the database. Only the listings whose content basis is stale (:func:`_stale`: the SKU's content version
moved, no hash or basis yet, or the channel's content configuration changed) go through the Python pass
below, whole (price, quantity and content, so a listing whose price and content both moved gets one
version), and the set update leaves them out. Without the content version triggers every basis is stale:
every listing takes the Python pass, as before.

The Python pass (given SKU ids; the SKUs with a stale listing in the full recompute): SKUs are taken
in chunks (keyset over ``skus.id`` when every SKU takes it, the given ids otherwise). Each
chunk reads narrow rows (``select(columns)``, no ORM entities): the SKUs, their products, stock levels and
localized texts once for every channel, then each channel's listings of those SKUs. Per chunk and channel,
prices are computed once per distinct (price, cost, override, currency) and a product's texts are
resolved (its description sanitized) once, not once per SKU; the listings whose values moved are
written back with one executemany. Memory is bounded by the chunk, whatever the catalog's size.

The values are exactly those of :func:`syncer.reconcile.compute_desired` (the same rules and the same
content hash): only the way they are read and batched differs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, cast

from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import bulk, content, content_version, fx, limits, rules
from listing_sync.syncer.bulkload import among
from listing_sync.syncer.models import (
    ChannelListing,
    Product,
    ProductText,
    Sku,
    SkuText,
    StockLevel,
    Warehouse,
    table_of,
)
from listing_sync.syncer.types import Amount
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Numeric,
    Row,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

#: SKUs per pass: every query of a pass takes at most this many ids (SQLite's bound-parameter limit is
#: far above; PostgreSQL plans IN lists of this size with the index)
CHUNK = 2000
QUANTITY_CACHE = 100_000  # distinct stock-level combinations kept per channel pass
PRICE_CACHE = 100_000  # distinct (base price, cost, override, currency) kept per channel pass

#: what prices and quantities need of every SKU of a chunk (with its content version)
SKU_COLUMNS = (Sku.id, Sku.product_id, Sku.currency, Sku.active, table_of(Sku).c.content_version)
#: what the content hash needs: read only for the SKUs whose content version moved
SKU_CONTENT_COLUMNS = (Sku.id, Sku.product_id, Sku.sku, Sku.attributes, Sku.images, Sku.barcode, Sku.weight_grams)
SKU_AMOUNTS = (Sku.cost, Sku.base_price)  # read raw (:class:`Amounts`)
PRODUCT_COLUMNS = (Product.id, Product.key, Product.title, Product.description, Product.category, Product.brand)
LISTING_COLUMNS = (
    ChannelListing.id,
    ChannelListing.sku_id,
    ChannelListing.desired_quantity,
    ChannelListing.desired_content_hash,
    table_of(ChannelListing).c.content_basis,
    table_of(ChannelListing).c.basis_version,
    ChannelListing.version,
    ChannelListing.status,
)
LISTING_AMOUNTS = (ChannelListing.price_override, ChannelListing.desired_price)  # read raw
#: what :func:`write` sets on a listing whose desired values moved, in the order of :class:`_Updates` rows
CHANGED_COLUMNS = (
    "desired_price",
    "desired_quantity",
    "desired_content_hash",
    "content_basis",
    "basis_version",
    "version",
    "status",
    "last_error_code",
    "last_error",
    "updated_at",
)

LISTINGS, SKUS = table_of(ChannelListing), table_of(Sku)
#: SKUs per ``UPDATE ... FROM`` of the set pass (one statement per channel and range of SKU ids)
SET_CHUNK = 50_000
#: what stands for NULL in the price map's keys (cost, override): no amount the database holds is that low
#: (SQLite keeps amounts as 64-bit integers, PostgreSQL as NUMERIC(24, 6)), so it never equals one
NO_AMOUNT: ColumnElement[Any] = literal_column("-1e30")

#: the set pass's temporary tables (per connection; created, filled and dropped by :func:`_set_pass`)
_temporary = MetaData()
#: one channel's distinct price inputs (raw, NULLs as :data:`NO_AMOUNT`) -> the price (driver form) or why none
PRICE_MAP = Table(
    "recompute_price_map",
    _temporary,
    Column("currency", String(3), primary_key=True),
    Column("base_price", Amount(), primary_key=True),
    Column("cost_key", Numeric(), primary_key=True),
    Column("override_key", Numeric(), primary_key=True),
    Column("price", Amount(), nullable=True),
    Column("error", Text(), nullable=True),
    prefixes=["TEMPORARY"],
)
#: every SKU's pool: sum(max(0, on_hand - reserved)) over the warehouses feeding the channel(s) at hand
POOLS = Table(
    "recompute_pools",
    _temporary,
    Column("sku_id", Integer, primary_key=True, autoincrement=False),
    Column("pool", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
)
#: one channel's distinct pools -> the quantity its stock rule offers
QUANTITY_MAP = Table(
    "recompute_quantity_map",
    _temporary,
    Column("pool", BigInteger, primary_key=True, autoincrement=False),
    Column("quantity", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)


@dataclass(frozen=True, slots=True)
class Desired:
    price: Decimal | None
    quantity: int
    content_hash: str
    error: str | None = None
    basis: str | None = None  # what content_hash was computed from (ChannelListing.content_basis)


def bounded(price: Decimal, currency: str, quantity: int, digest: str, basis: str | None = None) -> Desired:
    """The desired values, or no price and why when the converted price is beyond the amounts the
    service takes (a huge base price times a large exchange rate): that listing waits, nothing overflows."""
    problem = limits.amount_problem(price, currency)
    if problem:
        return Desired(None, quantity, digest, f"the {currency} price {problem}", basis)
    return Desired(price, quantity, digest, None, basis)


class Amounts:
    """Amount columns read as the driver returns them (a scaled integer on SQLite, NUMERIC on PostgreSQL)
    and turned into :class:`~decimal.Decimal` once per distinct value, not once per row."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.raw_type = Amount().load_dialect_impl(dialect)
        self.seen: dict[Any, Decimal | None] = {None: None}

    def raw(self, column: Any) -> Any:
        """``column`` selected without its result conversion (labelled with its own name)."""
        return type_coerce(column, self.raw_type).label(column.key)

    def __call__(self, raw: Any) -> Decimal | None:
        found = self.seen.get(raw, _MISSING)
        if found is _MISSING:
            if len(self.seen) > 100_000:
                self.seen = {None: None}
            found = self.seen[raw] = Amount().process_result_value(raw, self.dialect)
        return cast("Decimal | None", found)


_MISSING = object()


@dataclass(slots=True)
class _Updates:
    """One chunk's write-back for one channel, rows in the driver's form: (id, *CHANGED_COLUMNS) for the
    listings whose values moved, (id, basis, basis version) for those that only record their content basis."""

    changed: list[tuple[Any, ...]] = field(default_factory=list)
    basis: list[tuple[Any, ...]] = field(default_factory=list)
    dirty: int = 0


@dataclass(slots=True)
class _Chunk:
    """What every channel needs of one chunk of SKUs: prices and stock for all of them, content (products,
    texts, the SKUs' content columns) only for those :meth:`load_content` was given."""

    skus: dict[int, Any]
    levels: dict[int, list[tuple[int, int, int]]]  # sku id -> (warehouse id, on hand, reserved)
    content: dict[int, Any] = field(default_factory=dict)  # sku id -> its content columns
    products: dict[int, Any] = field(default_factory=dict)
    texts: dict[int, dict[tuple[str, str], Any]] = field(default_factory=dict)
    sku_texts: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: (language chain, product id) -> the product's share of its SKUs' fingerprints; (chain, SKU id) -> one
    product_inputs: dict[tuple[tuple[str, ...], int], str] = field(default_factory=dict)
    fingerprints: dict[tuple[tuple[str, ...], int], str] = field(default_factory=dict)

    def fingerprint(self, chain: tuple[str, ...], sku: Any) -> str:
        """The fingerprint of one SKU's stored content as seen by channels of this language chain."""
        found = self.fingerprints.get((chain, sku.id))
        if found is None:
            pid = sku.product_id
            part = self.product_inputs.get((chain, pid))
            if part is None:
                part = self.product_inputs[(chain, pid)] = content.product_inputs(
                    self.products[pid], self.texts.get(pid, {}), chain
                )
            found = self.fingerprints[(chain, sku.id)] = content.input_fingerprint(
                part, sku, self.sku_texts.get(sku.id, {}), chain
            )
        return found

    def load_content(self, session: Session, ids: list[int], languages: list[str]) -> None:
        """Read the content of these SKUs (read after their versions: a change in between moves the version
        past the one recorded, so it is looked at again next time)."""
        read, on = _reader(session), session.connection()
        self.content = {row.id: row for row in read(select(*SKU_CONTENT_COLUMNS).where(among(on, Sku.id, ids)))}
        pids = sorted({row.product_id for row in self.content.values()})
        self.products = {row.id: row for row in read(select(*PRODUCT_COLUMNS).where(among(on, Product.id, pids)))}
        text_query = select(
            ProductText.product_id,
            ProductText.language,
            ProductText.channel,
            ProductText.title,
            ProductText.description,
            ProductText.bullet_points,
        ).where(among(on, ProductText.product_id, pids), ProductText.language.in_(languages))
        for text in read(text_query):
            self.texts.setdefault(text.product_id, {})[(text.language, text.channel)] = text
        for sku_id, language, attributes in read(
            select(SkuText.sku_id, SkuText.language, SkuText.attributes).where(
                among(on, SkuText.sku_id, ids), SkuText.language.in_(languages)
            )
        ):
            self.sku_texts.setdefault(sku_id, {})[language] = dict(attributes or {})


@dataclass(frozen=True, slots=True)
class Ids:
    """One chunk's SKU ids; ``whole``: they are every SKU id from the first to the last (the full
    recompute's keyset chunks), so a query may take the range instead of the list (an index range scan,
    not 2,000 look-ups)."""

    ids: list[int]
    whole: bool = False

    def of(self, connection: Connection, column: Any) -> Any:
        """``column`` restricted to these SKU ids (a list as one array parameter on PostgreSQL)."""
        return column.between(self.ids[0], self.ids[-1]) if self.whole else among(connection, column, self.ids)


def _reader(session: Session) -> Callable[[Any], Sequence[Any]]:
    """Run a query on the session's connection: Core rows (no ORM result processing), fetched all at
    once (iterating a result fetches row by row: about twice the CPU per row on SQLite)."""
    connection = session.connection()
    return lambda query: connection.execute(query).all()


def sku_chunks(session: Session, sku_ids: list[int] | None) -> Iterator[Ids]:
    """The SKU ids to recompute, ``CHUNK`` at a time (every SKU, by keyset, when ``sku_ids`` is None)."""
    if sku_ids is not None:  # sorted, unique
        for start in range(0, len(sku_ids), CHUNK):
            ids = sku_ids[start : start + CHUNK]
            yield Ids(ids, whole=ids[-1] - ids[0] + 1 == len(ids))
        return
    read = _reader(session)
    last = 0
    while True:
        ids = [sku_id for (sku_id,) in read(select(Sku.id).where(Sku.id > last).order_by(Sku.id).limit(CHUNK))]
        if not ids:
            return
        yield Ids(ids, whole=True)
        last = ids[-1]


def _load_chunk(session: Session, ids: Ids, amounts: Amounts) -> _Chunk:
    read = _reader(session)
    columns = (*SKU_COLUMNS, *(amounts.raw(column) for column in SKU_AMOUNTS))
    skus: dict[int, Any] = {row.id: row for row in read(select(*columns).where(ids.of(session.connection(), Sku.id)))}
    levels: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for sku_id, wid, on_hand, reserved in read(
        select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved).where(
            ids.of(session.connection(), StockLevel.sku_id)
        )
    ):
        levels[sku_id].append((wid, on_hand, reserved))
    return _Chunk(skus, levels)


class ChannelPass:
    """One channel's recompute: its mappings, warehouses and FX rates, read once; then chunk by chunk."""

    def __init__(self, session: Session, channel: ChannelConfig, channel_id: int, day: date) -> None:
        self.session, self.channel, self.channel_id, self.day = session, channel, channel_id, day
        self.base = content.ContentContext.load(session, channel)  # mappings only: texts come per chunk
        self.warehouses = {
            wid for wid, code in session.execute(select(Warehouse.id, Warehouse.code)) if code in channel.warehouses
        }
        self.rates: dict[str, Decimal | fx.MissingRate] = {}
        self.chain = tuple(content.language_chain(channel.language))
        self.channel_fingerprint = content.channel_fingerprint(self.base)
        self.quantities: dict[tuple[tuple[int, int], ...], int] = {}  # stock levels -> quantity (one rule)
        self.hashed = 0  # listings whose content was resolved and hashed (the others kept theirs)
        #: whether ``skus.content_version`` is kept (its triggers exist); if not, every basis is verified
        self.versions = content_version.installed(session.connection())
        connection = session.connection()
        self.amounts = Amounts(connection.dialect)
        self.driver_price = bulk.DriverValues(connection, table_of(ChannelListing).c.desired_price)
        self.listing_columns = (*LISTING_COLUMNS, *(self.amounts.raw(column) for column in LISTING_AMOUNTS))
        self.prices: dict[tuple[Any, ...], tuple[Any, str | None]] = {}  # raw input -> (driver price, error)
        #: read only the listings whose content basis is stale (the full recompute: the rest took the set pass)
        self.stale_only = False

    def rate(self, currency: str) -> Decimal | fx.MissingRate:
        if currency not in self.rates:
            try:
                self.rates[currency] = fx.rate(self.session, currency, self.channel.currency, self.day)
            except fx.MissingRate as exc:
                self.rates[currency] = exc
        return self.rates[currency]

    def listings(self, ids: Ids) -> Sequence[Row[Any]]:
        query = select(*self.listing_columns).where(
            ChannelListing.channel_id == self.channel_id, ids.of(self.session.connection(), ChannelListing.sku_id)
        )
        if self.stale_only:
            query = query.join(SKUS, SKUS.c.id == LISTINGS.c.sku_id).where(_stale(self.channel_fingerprint))
        return _reader(self.session)(query)

    def has_fresh(self) -> bool:
        """Whether any listing of this channel has a fresh content basis (none has in a first recompute)."""
        query = (
            select(LISTINGS.c.id)
            .join(SKUS, SKUS.c.id == LISTINGS.c.sku_id)
            .where(LISTINGS.c.channel_id == self.channel_id, _fresh(self.channel_fingerprint))
            .limit(1)
        )
        return bool(_reader(self.session)(query))

    def stale_skus(self) -> list[int]:
        """The SKU ids of this channel's listings whose content basis is stale."""
        query = (
            select(LISTINGS.c.sku_id)
            .join(SKUS, SKUS.c.id == LISTINGS.c.sku_id)
            .where(LISTINGS.c.channel_id == self.channel_id, _stale(self.channel_fingerprint))
        )
        return [sku_id for (sku_id,) in _reader(self.session)(query)]

    def fill_price_map(self, connection: Connection) -> bool:
        """Price every distinct (currency, base price, cost, override) this channel's listings have, by
        :meth:`_price`, into :data:`PRICE_MAP`. Returns whether any is refused (a missing FX rate, an amount
        beyond the limits)."""
        raw = self.amounts.raw
        inputs = (
            select(Sku.currency, raw(Sku.base_price), raw(Sku.cost), raw(ChannelListing.price_override))
            .distinct()
            .select_from(LISTINGS.join(SKUS, SKUS.c.id == LISTINGS.c.sku_id))
            .where(LISTINGS.c.channel_id == self.channel_id)
        )
        rows = [
            (row.currency, row.base_price, row.cost, row.price_override, *self._price(row, row.price_override))
            for row in _reader(self.session)(inputs)
        ]
        connection.execute(PRICE_MAP.delete())
        amount = "?" if connection.dialect.name == "sqlite" else "CAST(%s AS NUMERIC)"
        mark = "?" if connection.dialect.name == "sqlite" else "%s"
        if rows:
            connection.exec_driver_sql(
                f"INSERT INTO {PRICE_MAP.name} (currency, base_price, cost_key, override_key, price, error) "
                f"VALUES ({mark}, {mark}, coalesce({amount}, -1e30), coalesce({amount}, -1e30), {mark}, {mark})",
                rows,
            )
        return any(error is not None for *_, error in rows)

    def fill_quantity_map(self, connection: Connection) -> None:
        """The quantity of every distinct pool in :data:`POOLS` (filled for this channel's warehouses) under
        this channel's stock rule, into :data:`QUANTITY_MAP`."""
        pools = {int(pool) for (pool,) in connection.execute(select(POOLS.c.pool).distinct())}
        rule = self.channel.stock
        connection.execute(QUANTITY_MAP.delete())
        if pools:
            connection.execute(
                insert(QUANTITY_MAP),
                [{"pool": pool, "quantity": rules.channel_quantity(((pool, 0),), rule)} for pool in sorted(pools)],
            )

    def set_update(self, now: Any, returning: bool) -> Any:
        """The set pass's statement for one range of SKU ids (``lo``, ``hi``): exactly what :meth:`updates`
        and :func:`write` do to a listing whose content basis is fresh, for every such listing at once.
        ``returning``: it returns each written listing's status (to count those made dirty, not parked)."""
        t, s, m, q = LISTINGS.c, SKUS.c, PRICE_MAP.c, QUANTITY_MAP.c
        quantity = case((s.active, q.quantity), else_=0)
        refused = m.error.is_not(None)
        statement = (
            update(LISTINGS)
            .values(
                desired_price=m.price,
                desired_quantity=quantity,
                version=t.version + 1,
                status=case((refused, "parked"), else_="dirty"),
                last_error_code=case((refused, "fx_rate_missing"), else_=null()),
                last_error=m.error,
                attempts=0,
                next_try_at=None,
                updated_at=now,
            )
            .where(
                t.channel_id == self.channel_id,
                t.sku_id.between(bindparam("lo"), bindparam("hi")),
                s.id == t.sku_id,
                m.currency == s.currency,
                m.base_price == s.base_price,
                m.cost_key == func.coalesce(s.cost, NO_AMOUNT),
                m.override_key == func.coalesce(t.price_override, NO_AMOUNT),
                POOLS.c.sku_id == t.sku_id,
                q.pool == POOLS.c.pool,
                _fresh(self.channel_fingerprint),
                # what updates() leaves alone: the same price and quantity, and parked already if refused
                ~and_(
                    t.desired_price.is_not_distinct_from(m.price),
                    t.desired_quantity.is_not_distinct_from(quantity),
                    or_(~refused, t.status == "parked"),
                ),
            )
        )
        return statement.returning(t.status) if returning else statement

    def stale(self, listings: Sequence[Row[Any]], skus: dict[int, Row[Any]]) -> set[int]:
        """The listings whose content basis must be verified against the SKU's stored content: all but
        those verified at the SKU's present content version, for this channel's present configuration."""
        if not self.versions:
            return {listing.id for listing in listings}
        fingerprint, at = self.channel_fingerprint, content.FINGERPRINT_CHARS
        return {
            listing.id
            for listing in listings
            if listing.basis_version != skus[listing.sku_id].content_version
            or listing.desired_content_hash is None
            or listing.content_basis is None
            or listing.content_basis[at:] != fingerprint
        }

    def updates(self, chunk: _Chunk, listings: Sequence[Row[Any]], stale: set[int], now: Any) -> _Updates:
        """Compare these listings (all of SKUs in ``chunk``; ``stale``: see :meth:`stale`) with their desired
        values: each listing whose
        values moved becomes dirty with a new version, or parked while its FX rate is missing; one whose
        values stand but whose content basis is new (first recorded, or content edited back to the same
        result) only records it. Rows are in the driver's form, for :func:`write`."""
        channel = self.channel
        ctx = replace(self.base, texts=chunk.texts, sku_texts=chunk.sku_texts, resolved_texts={})
        content_hash = content.ContentHasher(channel, ctx)
        prices = self.prices  # raw input -> (driver price, why refused)
        out = _Updates()
        for listing in listings:
            sku = chunk.skus[listing.sku_id]
            quantity = self._quantity(sku, chunk.levels.get(sku.id, ()))
            digest, basis = listing.desired_content_hash, listing.content_basis
            version = sku.content_version if self.versions else None
            if listing.id in stale:  # verify the basis against the stored content
                stored = chunk.content[sku.id]
                basis = chunk.fingerprint(self.chain, stored) + self.channel_fingerprint
                if listing.content_basis != basis or digest is None:  # the content or its configuration moved
                    product = chunk.products[sku.product_id]
                    digest = content_hash(cast(Product, product), cast(Sku, stored))
                    self.hashed += 1
            key = (sku.base_price, sku.cost, listing.price_override, sku.currency)
            priced = prices.get(key)
            if priced is None:
                if len(prices) > PRICE_CACHE:
                    prices.clear()
                priced = prices[key] = self._price(sku, listing.price_override)
            price, error = priced
            if (
                listing.desired_price == price
                and listing.desired_quantity == quantity
                and listing.desired_content_hash == digest
                and not (error and listing.status != "parked")
            ):
                if listing.content_basis != basis or listing.basis_version != version:
                    out.basis.append((listing.id, basis, version))
                continue
            if error:
                status, code = "parked", "fx_rate_missing"
            else:
                status, code = "dirty", None
                out.dirty += 1
            out.changed.append(
                (listing.id, price, quantity, digest, basis, version, listing.version + 1, status, code, error, now)
            )
        return out

    def _price(self, sku: Row[Any], override_raw: Any) -> tuple[Any, str | None]:
        """(the price in the driver's form or None, why there is none) for one distinct raw input."""
        rate = self.rate(sku.currency)
        if isinstance(rate, fx.MissingRate):
            return None, str(rate)
        price = rules.channel_price(
            cast(Decimal, self.amounts(sku.base_price)),
            self.channel.price,
            currency=self.channel.currency,
            fx_rate=rate,
            cost=self.amounts(sku.cost),
            override=self.amounts(override_raw),
        )
        problem = limits.amount_problem(price, self.channel.currency)
        if problem:
            return None, f"the {self.channel.currency} price {problem}"
        return self.driver_price(price), None

    def _quantity(self, sku: Row[Any], levels: Sequence[tuple[int, int, int]]) -> int:
        if not sku.active:
            return 0
        feeding = tuple((on_hand, reserved) for wid, on_hand, reserved in levels if wid in self.warehouses)
        quantity = self.quantities.get(feeding)
        if quantity is None:
            if len(self.quantities) > QUANTITY_CACHE:
                self.quantities.clear()
            quantity = self.quantities[feeding] = rules.channel_quantity(feeding, self.channel.stock)
        return quantity


def refresh_channels(
    session: Session, channels: Sequence[tuple[ChannelConfig, int]], sku_ids: list[int] | None, day: date, now: Any
) -> int:
    """Recompute the listings of ``sku_ids`` (every SKU when None) on each (channel, channel id) and write
    back those whose values moved (``now``: their ``updated_at``). Returns how many became dirty.

    Every SKU: the set pass for the listings whose content basis is fresh, the Python pass for the others
    (when the content version triggers are missing, every basis counts as stale: all take the Python pass;
    when a channel has no fresh listing, as in a first recompute, the Python pass takes every SKU, and only
    the stale listings of the other channels).
    Given SKU ids: the Python pass."""
    passes = [ChannelPass(session, config, channel_id, day) for config, channel_id in channels]
    if not passes:
        return 0
    marked = 0
    if sku_ids is None and passes[0].versions:
        fresh = [channel_pass for channel_pass in passes if channel_pass.has_fresh()]
        marked = _set_pass(session, fresh, now)
        for channel_pass in fresh:
            channel_pass.stale_only = True
        if len(fresh) == len(passes):  # else a channel's every listing is stale: the Python pass takes every SKU
            sku_ids = sorted({sku_id for channel_pass in passes for sku_id in channel_pass.stale_skus()})
    languages = sorted({lang for p in passes for lang in content.language_chain(p.channel.language)})
    connection = session.connection()
    now = bulk.DriverValues(connection, table_of(ChannelListing).c.updated_at)(now)
    for ids in sku_chunks(session, sku_ids):
        read = [(channel_pass, channel_pass.listings(ids)) for channel_pass in passes]
        read = [(channel_pass, listings) for channel_pass, listings in read if listings]
        if not read:
            continue
        chunk = _load_chunk(session, ids, passes[0].amounts)
        work = [(channel_pass, listings, channel_pass.stale(listings, chunk.skus)) for channel_pass, listings in read]
        stale_skus = {listing.sku_id for _, listings, stale in work for listing in listings if listing.id in stale}
        if stale_skus:
            chunk.load_content(session, sorted(stale_skus), languages)
        for channel_pass, listings, stale in work:
            updates = channel_pass.updates(chunk, listings, stale, now)
            write(connection, updates)
            marked += updates.dirty
    return marked


def _stale(fingerprint: str) -> ColumnElement[bool]:
    """A listing (joined with its SKU) whose content basis must be verified: what :meth:`ChannelPass.stale`
    tells in Python, for a channel of this content fingerprint."""
    c = LISTINGS.c
    return or_(
        c.basis_version.is_(None),
        c.basis_version != SKUS.c.content_version,
        c.desired_content_hash.is_(None),
        c.content_basis.is_(None),
        func.substr(c.content_basis, content.FINGERPRINT_CHARS + 1) != fingerprint,
    )


def _fresh(fingerprint: str) -> ColumnElement[bool]:
    """The listings :func:`_stale` does not take, spelled out (its negation would be NULL, not true, where a
    column is NULL); a NULL basis fails the comparison of its suffix."""
    c = LISTINGS.c
    return and_(
        c.basis_version == SKUS.c.content_version,
        c.desired_content_hash.is_not(None),
        func.substr(c.content_basis, content.FINGERPRINT_CHARS + 1) == fingerprint,
    )


def _set_pass(session: Session, passes: list[ChannelPass], now: Any) -> int:
    """The full recompute of every listing whose content basis is fresh on these channels, in the database:
    price and quantity maps in temporary tables, one ``UPDATE ... FROM`` per channel and range of
    :data:`SET_CHUNK` SKU ids. Returns how many listings became dirty."""
    if not passes:
        return 0
    connection = session.connection()
    _create_temporary(connection)
    ranges = _sku_ranges(session)
    with _hash_joins(connection):
        marked = _set_updates(connection, passes, ranges, now)
    _drop_temporary(connection)
    return marked


@contextmanager
def _hash_joins(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, no nested loops for the set pass's statements (this transaction only, restored after):
    the planner estimates one row for the fresh-basis filter and joins the listings to the maps and the
    pools by nested loops, where hash joins over the whole range are what the statement needs."""
    if connection.dialect.name != "postgresql":
        yield
        return
    before = connection.exec_driver_sql("SELECT current_setting('enable_nestloop')").scalar()
    connection.exec_driver_sql("SELECT set_config('enable_nestloop', 'off', true)")
    try:
        yield
    finally:
        connection.exec_driver_sql("SELECT set_config('enable_nestloop', %(v)s, true)", {"v": before})


def _set_updates(connection: Connection, passes: list[ChannelPass], ranges: list[tuple[int, int]], now: Any) -> int:
    """Each channel's maps, then its set update range by range; how many listings became dirty."""
    marked = 0
    pools_of: tuple[int, ...] | None = None
    # channels fed by the same warehouses share one table of pools
    for channel_pass in sorted(passes, key=lambda p: sorted(p.warehouses)):
        warehouses = tuple(sorted(channel_pass.warehouses))
        if warehouses != pools_of:
            _fill_pools(connection, warehouses)
            pools_of = warehouses
        refused = channel_pass.fill_price_map(connection)
        channel_pass.fill_quantity_map(connection)
        if connection.dialect.name == "postgresql":
            for table in (PRICE_MAP, QUANTITY_MAP):
                connection.exec_driver_sql(f"ANALYZE {table.name}")
        statement = channel_pass.set_update(now, returning=refused)
        for lo, hi in ranges:
            result = connection.execute(statement, {"lo": lo, "hi": hi})
            if refused:
                marked += sum(1 for (status,) in result if status == "dirty")
            else:
                marked += result.rowcount
    return marked


def _sku_ranges(session: Session) -> list[tuple[int, int]]:
    """Every SKU id in ranges (first id, last id) of at most :data:`SET_CHUNK` SKUs (keyset: each range's
    end found by an index scan of its own length)."""
    read = _reader(session)
    ranges: list[tuple[int, int]] = []
    last = None
    while True:
        query = select(Sku.id).order_by(Sku.id)
        first = read((query if last is None else query.where(Sku.id > last)).limit(1))
        if not first:
            return ranges
        lo = first[0][0]
        end = read(query.where(Sku.id >= lo).offset(SET_CHUNK - 1).limit(1))
        last = end[0][0] if end else read(select(func.max(Sku.id)))[0][0]
        ranges.append((lo, last))


def _fill_pools(connection: Connection, warehouses: tuple[int, ...]) -> None:
    """:data:`POOLS` for these feeding warehouses: every SKU, 0 for one with no stock level in them."""
    levels = table_of(StockLevel)
    level = levels.c
    available = case((level.on_hand > level.reserved, level.on_hand - level.reserved), else_=0)
    feeding = SKUS.outerjoin(levels, and_(level.sku_id == SKUS.c.id, level.warehouse_id.in_(warehouses)))
    pools = select(SKUS.c.id, func.coalesce(func.sum(available), 0)).select_from(feeding).group_by(SKUS.c.id)
    connection.execute(POOLS.delete())
    connection.execute(insert(POOLS).from_select(["sku_id", "pool"], pools))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {POOLS.name}")


def _temporary_name(connection: Connection, table: Table) -> str:
    return f"{'temp' if connection.dialect.name == 'sqlite' else 'pg_temp'}.{table.name}"


def _create_temporary(connection: Connection) -> None:
    """The set pass's temporary tables, empty (a left-over of an earlier pass on this connection dropped)."""
    for table in _temporary.sorted_tables:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_temporary_name(connection, table)}")
        table.create(connection)


def _drop_temporary(connection: Connection) -> None:
    for table in _temporary.sorted_tables:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_temporary_name(connection, table)}")


def write(connection: Connection, updates: _Updates) -> None:
    """Write one :meth:`ChannelPass.updates`: the moved listings with their new values (their retry state
    reset), then the bases recorded on their own."""
    table = table_of(ChannelListing)
    bulk.update_by_id(connection, table, CHANGED_COLUMNS, updates.changed, "attempts = 0, next_try_at = NULL")
    bulk.update_by_id(connection, table, ("content_basis", "basis_version"), updates.basis)
