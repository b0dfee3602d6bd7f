"""The central catalog database: products and SKUs, stock ledger, channels and listings, change sets,
sync runs, orders, order cursors and FX rates. SQLAlchemy 2.x typed models; money is exact Decimal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from listing_sync.syncer.types import Amount, UTCDateTime
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def now_utc() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Amount(), dict[str, Any]: JSON()}


def table_of(model: type[Base]) -> Table:
    """A model's Core table, typed as one (``__table__`` is declared as a plain FromClause). A statement
    on it is plain Core: the session's objects are not synchronized with what it writes."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


# ------------------------------------------------------------------------------------------ catalog
class Product(Base):
    """A product: the shared content of one or more SKUs (its variations)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(200), default="", index=True)
    brand: Mapped[str] = mapped_column(String(200), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)

    skus: Mapped[list[Sku]] = relationship(back_populates="product")


class Sku(Base):
    """One sellable unit: price, cost, identity and the attributes that make it a variation."""

    __tablename__ = "skus"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(120), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    barcode: Mapped[str] = mapped_column(String(64), default="")
    weight_grams: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost: Mapped[Decimal | None] = mapped_column(nullable=True)
    base_price: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    lead_time_days: Mapped[int | None] = mapped_column(Integer, nullable=True)  # ordering -> stock arriving
    supplier: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)

    product: Mapped[Product] = relationship(back_populates="skus")
    __table_args__ = (CheckConstraint("base_price >= 0", name="base_price_not_negative"),)


#: a digest of the file row the catalog import last applied to the SKU / product (migration
#: ``0015_import_row_hash``): a re-import skips a row whose digest is unchanged. Database triggers clear it
#: when anything else writes a hashed column or the row's texts. A table column only, like
#: ``content_basis`` below: read and written by the import's Core statements.
table_of(Sku).append_column(Column("row_hash", LargeBinary(16), nullable=True))
table_of(Product).append_column(Column("row_hash", LargeBinary(16), nullable=True))


class SkuCost(Base):
    """Cost history: a SKU's unit cost (in the SKU's currency) from ``valid_from`` until the next row.
    Reports take the cost of each order line at its order's time."""

    __tablename__ = "sku_costs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    valid_from: Mapped[datetime]
    cost: Mapped[Decimal | None] = mapped_column(nullable=True)

    __table_args__ = (Index("ix_sku_costs_sku_from", "sku_id", "valid_from"),)


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class StockMovement(Base):
    """Append-only stock ledger. Every movement has a reason and a UNIQUE idempotency key, so a
    replayed import, order or change is a no-op."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[str] = mapped_column(String(20))  # count, adjust, reserve, release, ship, restock
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    user: Mapped[str] = mapped_column(String(120), default="")
    change_set_id: Mapped[int | None] = mapped_column(ForeignKey("change_sets.id"), nullable=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    __table_args__ = (Index("ix_stock_movements_sku_wh", "sku_id", "warehouse_id"),)


class StockLevel(Base):
    """On-hand and reserved per SKU and warehouse: the ledger's running totals, kept in the same
    transaction as each movement."""

    __tablename__ = "stock_levels"

    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )


# ----------------------------------------------------------------------------------------- channels
class Channel(Base):
    """A configured sales channel (the channels file is the source; this row anchors the rest)."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)


#: ``pushed_state`` of a SKU taken off sale as quantity 0 while its item stays listed (``delist_sku_as``)
ZEROED = "zeroed"


class ChannelListing(Base):
    """One SKU on one channel: what we want there (desired), what we last pushed, and sync state.

    ``version`` increases on every change of the desired values; a push records ``pushed_version`` and
    the listing is clean only while ``version == pushed_version``.
    """

    __tablename__ = "channel_listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ref: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    wanted: Mapped[str] = mapped_column(String(20), default="active")  # active | delisted
    price_override: Mapped[Decimal | None] = mapped_column(nullable=True)
    desired_price: Mapped[Decimal | None] = mapped_column(nullable=True)
    desired_quantity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    desired_content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pushed_price: Mapped[Decimal | None] = mapped_column(nullable=True)
    pushed_quantity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pushed_content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: active | delisted | zeroed (delisted as quantity 0: its item stays on sale, ``delist_sku_as``)
    pushed_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    pushed_version: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    last_error_code: Mapped[str | None] = mapped_column(String(120), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_pushed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: when a push last set the marketplace's quantity (stock, publish, relist): sales placed after it
    #: come off ``pushed_quantity``, the marketplace's last known quantity
    quantity_pushed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)

    __table_args__ = (
        UniqueConstraint("channel_id", "sku_id"),
        Index("ix_channel_listings_dirty", "channel_id", "status"),
    )


#: what a listing's ``desired_content_hash`` was computed from: the fingerprint of the SKU's stored content
#: and of the channel's content configuration (:mod:`syncer.content`). While both are unchanged the
#: recompute keeps the hash instead of resolving and hashing the content again. A table column only, added
#: after the mapping: read and written by the recompute's Core statements
#: (``table_of(ChannelListing).c.content_basis``). ORM INSERTs never name it, so they still work on a
#: database upgraded only to an older revision (as the migration tests build them).
table_of(ChannelListing).append_column(Column("content_basis", String(32), nullable=True))
#: the SKU's content version (kept by triggers: :mod:`syncer.content_version`) at which the recompute last
#: verified ``content_basis``; table columns only, like it
table_of(ChannelListing).append_column(Column("basis_version", Integer, nullable=True))
table_of(Sku).append_column(Column("content_version", Integer, nullable=False, server_default="0"))


# ------------------------------------------------------------------------------------- change sets
class ChangeSet(Base):
    """One applied change (import, bulk price/stock edit, undo): who, when, why."""

    __tablename__ = "change_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    user: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(500), default="")
    command: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="applied")  # applied | undone
    undo_of: Mapped[int | None] = mapped_column(ForeignKey("change_sets.id"), nullable=True)

    items: Mapped[list[ChangeItem]] = relationship(back_populates="change_set")


class ScheduledChange(Base):
    """A bulk price change that waits for its time (a promotion): applied by the worker at ``starts_at`` as
    a change set, reverted at ``ends_at`` as another (values changed by hand meanwhile are kept).

    ``request`` is the change as asked (selectors and amount/percent/channel), planned again at the start;
    ``status`` scheduled -> active -> done, or cancelled (before the start), failed (the price guard refused
    it at the start), missed (its whole window passed before a worker ran it)."""

    __tablename__ = "scheduled_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    user: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(500), default="")
    command: Mapped[str] = mapped_column(String(500), default="")
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    start_change_set_id: Mapped[int | None] = mapped_column(ForeignKey("change_sets.id"), nullable=True)
    end_change_set_id: Mapped[int | None] = mapped_column(ForeignKey("change_sets.id"), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")


class NativeSale(Base):
    """A scheduled change's sale price on one listing of a marketplace with a native sale (``native_sale`` of
    its adapter): ``dated`` ones are sent ahead with their dates and switched by the marketplace itself;
    ``compare_at`` ones keep the regular price to show struck through while the promotion runs.

    ``state``: pending (to send) -> on (the marketplace has it) -> off (cleared, ended or withdrawn);
    ended (our worker ran the end: the next push keeps the regular price and clears it); clear (cancelled
    or replaced: the next push removes it)."""

    __tablename__ = "native_sales"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheduled_change_id: Mapped[int] = mapped_column(ForeignKey("scheduled_changes.id"), index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("channel_listings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # dated | compare_at
    regular_price: Mapped[Decimal] = mapped_column()
    sale_price: Mapped[Decimal] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)


class ChangeItem(Base):
    """One value changed by a change set, with its old and new value (as text, exact)."""

    __tablename__ = "change_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_set_id: Mapped[int] = mapped_column(ForeignKey("change_sets.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"), nullable=True)
    field: Mapped[str] = mapped_column(String(80))  # base_price, price_override, stock:WH, wanted, ...
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)

    change_set: Mapped[ChangeSet] = relationship(back_populates="items")


class SyncRun(Base):
    """One run of a job against one channel (sync, order pull, drift check), for status and history."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # sync | orders | drift
    started_at: Mapped[datetime] = mapped_column(default=now_utc)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|ok|partial|failed|interrupted
    items_ok: Mapped[int] = mapped_column(Integer, default=0)
    items_failed: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[str] = mapped_column(String(120), default="")
    #: the process that ran it (its lease owner id); a ``running`` run whose owner no longer holds the
    #: channel's lease was killed: it is marked ``interrupted``
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)


class LeaseRow(Base):
    """One lease (``channel:NAME``) when leases live in the database (see :mod:`syncer.leases`): who holds
    it and until when. An empty ``token`` means released."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), default="")
    token: Mapped[str] = mapped_column(String(64), default="")
    acquired_at: Mapped[datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime]


class SyncResult(Base):
    """One item's outcome in a sync run (the history of a listing)."""

    __tablename__ = "sync_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("channel_listings.id"), index=True)
    operation: Mapped[str] = mapped_column(String(20))
    ok: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(20))
    value: Mapped[str | None] = mapped_column(String(200), nullable=True)
    code: Mapped[str | None] = mapped_column(String(120), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)


# ------------------------------------------------------------------------------------------ orders
class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    external_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), index=True)
    raw_status: Mapped[str] = mapped_column(String(80))
    placed_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal]
    shipping: Mapped[Decimal | None] = mapped_column(nullable=True)
    #: marketplace fees the marketplace reported for the order (order currency); None = not reported
    fees: Mapped[Decimal | None] = mapped_column(nullable=True)
    ship_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    #: the buyer's name, address, phone and e-mail, only where packing or shipping needs them; personal
    #: data: purged (NULL) ``SYNCER_PERSONAL_DATA_RETENTION_DAYS`` after ``placed_at`` (syncer.retention)
    buyer: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    return_received: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime] = mapped_column(default=now_utc)
    last_seen_at: Mapped[datetime] = mapped_column(default=now_utc)

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order")
    __table_args__ = (UniqueConstraint("channel_id", "external_id"),)


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    line_id: Mapped[str] = mapped_column(String(120))
    sku: Mapped[str] = mapped_column(String(120))
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"), nullable=True, index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal]
    title: Mapped[str | None] = mapped_column(String(500), nullable=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"), nullable=True)
    unmatched: Mapped[bool] = mapped_column(Boolean, default=False)

    order: Mapped[Order] = relationship(back_populates="lines")
    __table_args__ = (UniqueConstraint("order_id", "line_id"),)


class Shipment(Base):
    """One package of an order shipped here: recorded once per (order, tracking number), its stock moved
    from reserved to shipped, then pushed to the order's channel (retried like listing pushes).

    ``lines`` is ``[{"line": order_lines.id, "quantity": n}, ...]``; ``status`` is pending (to push),
    retry (a retryable failure, next attempt at ``next_attempt_at``), pushed, or parked (refused for good)."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(20))
    tracking: Mapped[str] = mapped_column(String(120))
    package: Mapped[int] = mapped_column(Integer, default=1)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"), nullable=True)
    lines: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    shipped_at: Mapped[datetime] = mapped_column(default=now_utc)
    user: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(120), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pushed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    order: Mapped[Order] = relationship()
    __table_args__ = (UniqueConstraint("order_id", "tracking"),)


class OrderCursorRow(Base):
    """The stored incremental-pull position of one channel (advanced only after its orders commit)."""

    __tablename__ = "order_cursors"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)


class WebhookDelivery(Base):
    """One webhook delivery a marketplace made to us, recorded before anything is done with it: a replay
    (same ``delivery_id``) hits the unique key and changes nothing; ``order_updated_at`` lets a late delivery
    carrying an older state of an order than one already received be told and ignored."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    delivery_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    order_updated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    received_at: Mapped[datetime] = mapped_column(default=now_utc)
    #: accepted (its order is fetched and its stock pushed), stale (older than one received), ignored (topic)
    outcome: Mapped[str] = mapped_column(String(20))
    __table_args__ = (
        UniqueConstraint("channel_id", "delivery_id"),
        Index("ix_webhook_deliveries_channel_order", "channel_id", "order_id"),
    )


class FxRate(Base):
    """1 unit of ``base`` = ``rate`` units of ``quote`` on ``day``."""

    __tablename__ = "fx_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    day: Mapped[date] = mapped_column(Date)
    rate: Mapped[Decimal]
    source: Mapped[str] = mapped_column(String(40), default="manual")  # manual | ECB | a file name

    __table_args__ = (
        UniqueConstraint("base", "quote", "day"),
        CheckConstraint("rate > 0", name="rate_positive"),
    )


# ----------------------------------------------------------------------------------------- content
class ProductText(Base):
    """A product's content in one language (BCP 47 tag). ``channel`` empty = every channel of that
    language; a channel name = an override used only on that channel (e.g. an Amazon-specific title).
    Empty fields fall back to the language's common text, then to the product's own."""

    __tablename__ = "product_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    language: Mapped[str] = mapped_column(String(35))
    channel: Mapped[str] = mapped_column(String(63), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    bullet_points: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (UniqueConstraint("product_id", "language", "channel"),)


class SkuText(Base):
    """A SKU's attribute VALUES in one language: ``{"颜色": "White"}`` for ``en`` (keys are our names)."""

    __tablename__ = "sku_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    language: Mapped[str] = mapped_column(String(35))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("sku_id", "language"),)


class CategoryMapping(Base):
    """Our category -> one channel's category id / product type, and the marketplace attributes that
    category requires (checked before publishing)."""

    __tablename__ = "category_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(63))
    category: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(200))
    required: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)

    __table_args__ = (UniqueConstraint("channel", "category"),)


class AttributeMapping(Base):
    """Which of our attributes fills one marketplace attribute on a channel, for one category or all
    (``category`` = ``*``). ``attribute`` is our attribute name, ``@brand`` for the product's brand, or
    empty for a ``constant`` value. ``values`` translates our values to the marketplace's (白色 -> White)."""

    __tablename__ = "attribute_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(63))
    category: Mapped[str] = mapped_column(String(200), default="*")
    target: Mapped[str] = mapped_column(String(200))
    attribute: Mapped[str] = mapped_column(String(200), default="")
    constant: Mapped[str] = mapped_column(String(500), default="")
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)

    __table_args__ = (UniqueConstraint("channel", "category", "target"),)


# ------------------------------------------------------------------------------ web users and tokens
class WebUser(Base):
    """A person who logs in to the web console or calls the HTTP API: an argon2 password hash, a role
    (viewer, operator, admin) and whether the account is disabled (disabled users cannot log in, and
    their sessions and tokens stop working at once)."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)


class ApiToken(Base):
    """A bearer token of one user for the HTTP API. Only its SHA-256 hash and a short public prefix are
    kept (the token is shown once, when created); ``last_used_*`` is the audit of its use."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_ip: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class WebAudit(Base):
    """One event of the web face: a login (succeeded or failed, with the client's address), a logout, a
    token created or revoked, a user added or disabled. Failed logins here drive the login rate limit."""

    __tablename__ = "web_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=now_utc, index=True)
    event: Mapped[str] = mapped_column(String(40))
    user: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (Index("ix_web_audit_event_user_ip_at", "event", "user", "ip", "at"),)
