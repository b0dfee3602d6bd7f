"""The common channel interface every marketplace implements, its value types and its errors.

Error hierarchy (what the syncer does with each)::

    ChannelError                    root; never an httpx exception past adapters/
    ├── RetryableError              try again later (``retry_after`` seconds if the server said)
    │   ├── RateLimited             throttled: 429, THROTTLED, ApiCallLimit, TOP code 7, ...
    │   └── TransientError          timeouts, dropped connections, 5xx, isp.* errors
    │       └── NoProgress          a page repeated its position or was empty saying more: paging stops
    ├── AuthError                   credentials refused or expired for good: re-authorize the channel
    ├── ConfigurationError          the channel is set up wrongly (missing option, bad host, ...)
    │   └── MissingCredential       a credential is not in the channels file (also config's KeyError)
    ├── RequestRejected             the marketplace refused the request itself (bad payload, signature,
    │                               oversize batch): a bug on our side, never retried
    ├── PermanentItemError          one item was refused for good; park it with its message
    ├── TooManyPages                a run read the channel's ``max_pages`` pages: paging stops
    ├── WebhookRefused              a webhook delivery without a valid signature (or no secret to check it)
    └── UnexpectedResponse          an answer (or one item of it) does not read as documented: wrong
                                    type, missing field, truncated JSON, HTML, unknown enum; ``excerpt``
                                    shows its shape without personal data

Pushes are ABSOLUTE (set quantity to N, set price to X) so replaying a batch is harmless. Batch
operations return one :class:`ItemResult` per item, never one exception for a half-failed batch.
"""

from __future__ import annotations

import contextlib
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar

from listing_sync.adapters.money import Money
from listing_sync.config import channels as config_channels
from pydantic import BaseModel

if TYPE_CHECKING:
    import httpx
    from listing_sync.adapters.http import RetryPolicy, TraceWriter
    from listing_sync.adapters.tokens import TokenCache
    from listing_sync.config.channels import ChannelConfig

__all__ = [
    "AuthError",
    "BatchItem",
    "ChannelAdapter",
    "ChannelError",
    "ConfigurationError",
    "ContentRules",
    "DelistRequest",
    "ItemResult",
    "ItemT",
    "Limits",
    "ListingDraft",
    "ListingRef",
    "MissingCredential",
    "Money",
    "NoProgress",
    "Operation",
    "Order",
    "OrderCursor",
    "OrderLine",
    "OrderPage",
    "OrderStatus",
    "PermanentItemError",
    "PriceUpdate",
    "PublishGroup",
    "RateLimited",
    "Recipient",
    "RemoteListing",
    "SaleWindow",
    "RequestRejected",
    "RetryableError",
    "Shipment",
    "ShipmentLine",
    "Unsupported",
    "UnmappedCarrier",
    "StockUpdate",
    "TooManyPages",
    "TransientError",
    "UnexpectedResponse",
    "Variation",
    "WebhookEvent",
    "WebhookRefused",
    "WebhookSubscription",
    "frozen_map",
    "publish_groups",
    "WriteWay",
    "cheapest_way",
    "utc",
]


# --------------------------------------------------------------------------------------------- errors
class ChannelError(Exception):
    """Root of every error an adapter raises. Messages say what was wrong, where, and what to do."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        channel: str | None = None,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.channel = channel
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"[{self.channel}] " if self.channel else ""
        code = f" ({self.code})" if self.code else ""
        return f"{where}{self.message}{code}"


class RetryableError(ChannelError):
    retryable = True


class RateLimited(RetryableError):
    """The marketplace throttled us; ``retry_after`` is its wait hint in seconds when it gave one."""


class TransientError(RetryableError):
    """A timeout, dropped connection, 5xx or the marketplace's own 'try later' error."""


class OutcomeUnknown(TransientError):
    """A request that changes something was sent, but its answer was lost (a read timeout or a connection
    dropped after sending): the marketplace may have carried it out. Never retried blindly; the caller
    looks at the marketplace before it sends the request again."""


class NoProgress(TransientError):
    """A paging run stopped: a page pointed to a position already read in this run, or was empty while
    saying more follows. ``position`` is that position; the next run starts over."""

    def __init__(self, message: str, *, position: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.position = position


class TooManyPages(ChannelError):
    """A paging run read the channel's ``max_pages`` pages and stopped (``position``: where it stood)."""

    def __init__(self, message: str, *, position: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.position = position


class UnexpectedResponse(ChannelError):
    """A marketplace answer, or one item of it, does not read as documented. ``excerpt`` is a short
    view of it for ``syncer status``: structure, ids, codes and numbers, never names, addresses or
    secrets. Raised for one item it skips that item; for a whole answer it stops that page."""

    def __init__(self, message: str, *, excerpt: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.excerpt = excerpt


class AuthError(ChannelError):
    """Credentials were refused, or a refresh failed: the channel must be re-authorized."""


class ConfigurationError(ChannelError):
    """The channel's configuration cannot work (missing option or credential, bad base URL)."""


class MissingCredential(ConfigurationError, config_channels.MissingCredential):
    """The channels file gives this channel no such credential: config's ``MissingCredential`` (a
    ``KeyError``) told as a channel error, raised by :meth:`ChannelAdapter.credential`."""


class RequestRejected(ChannelError):
    """The marketplace rejected the request as malformed: a bug on our side, never retried."""


class PermanentItemError(ChannelError):
    """One item was refused for good (bad data, unknown SKU); it is parked with this message."""


class Unsupported(ChannelError):
    """The marketplace's API offers no way to do this (e.g. a seller-side cancellation)."""


class WebhookRefused(ChannelError):
    """A webhook delivery that cannot be trusted: its signature is missing or does not match, or the channel
    has no secret to check it with. The message names what was wrong, never the secret or the body."""


class UnmappedCarrier(ConfigurationError):
    """A shipment names a carrier this marketplace has no code for (see the adapter's ``carrier_codes``)."""


# ------------------------------------------------------------------------------------------- helpers
def utc(value: datetime) -> datetime:
    """Return ``value`` as timezone-aware UTC; naive datetimes are refused."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: times inside the service are timezone-aware UTC")
    return value.astimezone(UTC)


K = TypeVar("K")
V = TypeVar("V")


def frozen_map(items: Mapping[K, V] | None = None) -> Mapping[K, V]:
    """A read-only mapping, so value types stay immutable."""
    return MappingProxyType(dict(items or {}))


def _map_key(items: Mapping[Any, Any]) -> frozenset[tuple[Any, Any]]:
    """A hashable stand-in for a read-only mapping, so value types holding one stay hashable."""
    return frozenset(items.items())


class Operation(StrEnum):
    PUBLISH = "publish"
    PRICE = "price"
    STOCK = "stock"
    DELIST = "delist"
    RELIST = "relist"


# -------------------------------------------------------------------------------------- value types
@dataclass(frozen=True, slots=True)
class ListingRef:
    """Where one of our SKUs lives on a channel: its external ids (listing, offer, variant, ...).

    ``ids`` holds the marketplace's own identifiers by name, e.g. ``{"offer_id": "1234"}`` on eBay or
    ``{"num_iid": "...", "sku_id": "...", "properties": "1627207:28320"}`` on Taobao.
    """

    sku: str
    external_id: str | None = None
    ids: Mapping[str, str] = field(default_factory=frozen_map)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", frozen_map(self.ids))

    def __hash__(self) -> int:
        return hash((self.sku, self.external_id, _map_key(self.ids)))

    def get(self, key: str) -> str | None:
        return self.ids.get(key)

    def to_json(self) -> str:
        return json.dumps({"sku": self.sku, "external_id": self.external_id, "ids": dict(self.ids)})

    @classmethod
    def from_json(cls, text: str) -> ListingRef:
        data = json.loads(text)
        return cls(data["sku"], data.get("external_id"), data.get("ids") or {})


@dataclass(frozen=True, slots=True)
class Variation:
    """One sellable variant of a listing (size, colour, ...), identified by its own SKU."""

    sku: str
    price: Money
    quantity: int
    attributes: Mapping[str, str] = field(default_factory=frozen_map)  # e.g. {"Color": "White"}
    images: tuple[str, ...] = ()
    barcode: str | None = None
    ref: ListingRef | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", frozen_map(self.attributes))
        if self.quantity < 0:
            raise ValueError(f"variation {self.sku}: quantity must not be negative")

    def __hash__(self) -> int:
        return hash((self.sku, self.price, self.quantity, _map_key(self.attributes), self.images, self.ref))


@dataclass(frozen=True, slots=True)
class ListingDraft:
    """Everything needed to create or update one listing, already mapped for this channel.

    ``category_id`` and ``attributes`` are the MARKETPLACE's (eBay categoryId and aspects, Amazon
    productType and attributes, Taobao cid and props); mapping from our catalog happens in the syncer.
    A draft with ``variations`` is a multi-variant listing whose ``sku`` is the parent's group key.
    """

    sku: str
    title: str
    description: str
    category_id: str
    price: Money
    quantity: int
    language: str = "en"
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_map)
    images: tuple[str, ...] = ()
    bullet_points: tuple[str, ...] = ()
    brand: str | None = None
    barcode: str | None = None
    condition: str = "new"
    weight_grams: int | None = None
    variations: tuple[Variation, ...] = ()
    ref: ListingRef | None = None  # set when the listing already exists on the channel

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", frozen_map(self.attributes))
        if self.quantity < 0:
            raise ValueError(f"listing {self.sku}: quantity must not be negative")

    def __hash__(self) -> int:
        return hash((self.sku, self.title, self.price, self.quantity, _map_key(self.attributes), self.variations))

    @property
    def currency(self) -> str:
        return self.price.currency

    def all_skus(self) -> tuple[str, ...]:
        return tuple(v.sku for v in self.variations) or (self.sku,)


@dataclass(frozen=True, slots=True)
class SaleWindow:
    """A sale price the marketplace applies by itself between ``starts_at`` and ``ends_at`` (a promotion
    put on a marketplace with a native dated sale price: the price switches even if our worker is down)."""

    price: Money
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", utc(self.starts_at))
        object.__setattr__(self, "ends_at", utc(self.ends_at))


@dataclass(frozen=True, slots=True)
class PriceUpdate:
    """Set the price of one SKU to ``price`` (absolute). ``list_price`` is the struck-through price.

    ``sale`` (adapters whose ``native_sale`` is ``dated``): ``price`` is the regular price and the
    marketplace shows ``sale.price`` within its dates by itself. ``clear_sale``: remove a native sale
    (dated sale fields, or the compare-at price) put there before."""

    sku: str
    price: Money
    ref: ListingRef | None = None
    list_price: Money | None = None
    sale: SaleWindow | None = None
    clear_sale: bool = False


@dataclass(frozen=True, slots=True)
class StockUpdate:
    """Set the sellable quantity of one SKU to ``quantity`` (absolute).

    ``expected`` is the last quantity we know the channel holds: adapters whose marketplace offers
    compare-and-set send it, so an order that landed meanwhile is not overwritten blindly.
    """

    sku: str
    quantity: int
    ref: ListingRef | None = None
    expected: int | None = None

    def __post_init__(self) -> None:
        if self.quantity < 0:
            raise ValueError(f"stock update {self.sku}: quantity must not be negative")


@dataclass(frozen=True, slots=True)
class DelistRequest:
    """Take one listing off sale (or put it back with ``relist``) without deleting it from the catalog."""

    sku: str
    ref: ListingRef | None = None
    quantity: int | None = None  # quantity to restore on relist, where relist is done by quantity


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome for one item of a batch.

    ``state`` is ``applied`` when the marketplace confirmed it, ``submitted`` when it only accepted it
    for asynchronous processing (Amazon): the syncer must not treat that as applied yet.
    """

    sku: str
    ok: bool
    code: str | None = None
    message: str | None = None
    retryable: bool = False
    retry_after: float | None = None
    state: Literal["applied", "submitted", "failed"] = "applied"
    ref: ListingRef | None = None

    @classmethod
    def success(
        cls, sku: str, *, ref: ListingRef | None = None, state: Literal["applied", "submitted"] = "applied"
    ) -> ItemResult:
        return cls(sku=sku, ok=True, ref=ref, state=state)

    @classmethod
    def failure(
        cls,
        sku: str,
        code: str,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        ref: ListingRef | None = None,
    ) -> ItemResult:
        return cls(sku, False, code, message, retryable, retry_after, "failed", ref)

    @classmethod
    def from_error(cls, sku: str, error: ChannelError) -> ItemResult:
        return cls.failure(
            sku,
            error.code or type(error).__name__,
            error.message,
            retryable=error.retryable,
            retry_after=error.retry_after,
        )


class OrderStatus(StrEnum):
    """Normalized order states; adapters map the marketplace's own states onto these."""

    PENDING = "pending"  # placed, not paid: no stock effect yet
    PAID = "paid"  # reserve stock
    SHIPPED = "shipped"  # on-hand decrement, reservation released
    DELIVERED = "delivered"
    CANCELLED = "cancelled"  # before shipping: release reservation
    REFUNDED = "refunded"
    RETURNED = "returned"  # after shipping: restock only when the return is received


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_id: str
    sku: str
    quantity: int
    unit_price: Money
    title: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class Recipient:
    """Who and where an order ships to, as the marketplace gives it (for the packing slip and the waybill).
    Personal data: its repr shows nothing, the syncer stores it apart and purges it after the retention."""

    name: str = ""
    phone: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""

    def __repr__(self) -> str:
        return "Recipient(***)"

    def __bool__(self) -> bool:
        return any((self.name, self.phone, self.address1, self.city, self.postal_code))

    def lines(self) -> list[str]:
        """The address as printed on a label: street lines, then city/state/postcode, then country."""
        place = " ".join(part for part in (self.postal_code, self.city, self.state) if part)
        return [line for line in (self.address1, self.address2, place, self.country) if line]


@dataclass(frozen=True, slots=True)
class Order:
    """A marketplace order, normalized. Keeps no more buyer personal data than fulfilment needs: the
    recipient (name, phone, address) where the pull returns it, for packing."""

    external_id: str
    status: OrderStatus
    raw_status: str
    placed_at: datetime
    updated_at: datetime
    currency: str
    lines: tuple[OrderLine, ...]
    total: Money
    shipping: Money | None = None
    ship_country: str | None = None
    #: the marketplace's own fees for the order where it reports them (eBay totalMarketplaceFee)
    fees: Money | None = None
    #: who and where it ships to, where the pull returns it (packing slip, waybill; personal data)
    recipient: Recipient | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "placed_at", utc(self.placed_at))
        object.__setattr__(self, "updated_at", utc(self.updated_at))


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One webhook delivery whose signature was verified, as the marketplace described it.

    ``delivery_id`` identifies the delivery (a replay carries the same one); ``order_id`` is the
    marketplace's order id as :meth:`ChannelAdapter.order` takes it (None: not about an order);
    ``updated_at`` is the order's own modification time in the payload (tells a late, older delivery).
    A ``ping`` only checks that the URL answers."""

    delivery_id: str
    topic: str
    order_id: str | None = None
    updated_at: datetime | None = None
    ping: bool = False

    def __post_init__(self) -> None:
        if self.updated_at is not None:
            object.__setattr__(self, "updated_at", utc(self.updated_at))


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    """A webhook the marketplace delivers: its id there, topic, delivery URL and state."""

    id: str
    topic: str
    url: str
    status: str = "active"


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    """How many units of one order line go in a shipment (``line_id`` is the marketplace's line id)."""

    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Shipment:
    """One package of an order handed to a carrier, to tell the marketplace about.

    ``carrier`` is our carrier code (:mod:`adapters.carriers`); the adapter maps it with ``carrier_code``.
    ``complete`` is true when, with this package, every unit of the order has shipped; ``package`` counts
    the order's packages from 1 (Amazon's ``packageReferenceId``, a positive number per order).
    """

    order_id: str
    carrier: str
    tracking: str
    lines: tuple[ShipmentLine, ...]
    shipped_at: datetime
    complete: bool = True
    package: int = 1
    #: an earlier attempt may have reached the marketplace: look the package up before sending it again
    look_first: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "shipped_at", utc(self.shipped_at))


@dataclass(frozen=True, slots=True)
class OrderCursor:
    """Where an incremental order pull stands.

    ``since`` is the high-water mark (orders updated at or after it are wanted); ``until`` fixes the
    upper end of the window being paged so the window does not move while paging; ``page`` is the
    marketplace's own page token, offset or page number inside that window. Stored as JSON per channel
    and advanced only after the orders of a page are committed.
    """

    since: datetime
    until: datetime | None = None
    page: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", utc(self.since))
        if self.until is not None:
            object.__setattr__(self, "until", utc(self.until))

    def to_json(self) -> str:
        return json.dumps(
            {
                "since": self.since.isoformat(),
                "until": self.until.isoformat() if self.until else None,
                "page": self.page,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> OrderCursor:
        data = json.loads(text)
        until = data.get("until")
        return cls(
            datetime.fromisoformat(data["since"]),
            datetime.fromisoformat(until) if until else None,
            data.get("page"),
        )


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of orders and the cursor to store once they are committed.

    ``done`` is true when the pull has caught up (no further page right now). ``problems`` are the
    orders left out because they did not read as documented (the syncer records them in the pull's run).
    """

    orders: tuple[Order, ...]
    next: OrderCursor
    done: bool
    #: orders of this page that could not be read: left out, each told as a typed error with an excerpt
    problems: tuple[ChannelError, ...] = ()
    #: orders the marketplace says the window of this page holds, where its answer tells (a progress total)
    total: int | None = None


@dataclass(frozen=True, slots=True)
class RemoteListing:
    """What a channel holds now for one SKU (for drift detection and adopting existing listings)."""

    sku: str
    ref: ListingRef
    price: Money | None
    quantity: int | None
    status: str  # "active", "inactive", "submitted", ...
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ContentRules:
    """What a marketplace accepts in a listing, checked by the syncer before publishing (numbers from the
    API documentation, or from what the adapter sends where the adapter truncates). The defaults accept
    anything: no image or title limits, our own category passed through unmapped."""

    max_images: int | None = None
    min_images: int = 0
    https_images: bool = False
    max_title: int | None = None
    category_required: bool = False  # an unmapped category refuses the publish
    numeric_attributes: bool = False  # attribute names and values must be marketplace ids (e.g. pid:vid pairs)
    category_pattern: str | None = None  # what a mapped category id must look like (a regular expression)
    category_hint: str = "category id"  # what the marketplace calls a category, for messages
    #: listings of a multi-SKU item are delisted and relisted whole (one SKU alone is refused), unless the
    #: channel's ``sku_listing_option`` option is true
    whole_item_delist: bool = False
    sku_listing_option: str | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """What one call to this marketplace may carry, and how fast we may call it.

    Batch maxima are items per call for each operation (documented values, not guesses). ``rate`` is
    requests per second sustained and ``burst`` the bucket size, both as documented: the HTTP layer's
    limiter leaves the marketplace a headroom of them (``adapters.ratelimits.headroom_tokens``).
    ``daily_revisions`` is a per-listing revision budget where the marketplace has one (eBay: 250 per
    listing per day).
    """

    publish: int
    price: int
    stock: int
    delist: int
    orders_page: int
    rate: float
    burst: int = 1
    daily_revisions: int | None = None
    order_window: timedelta | None = None  # longest updated-since window per query
    order_overlap: timedelta = timedelta(minutes=5)  # re-read this much before the high-water mark
    order_lag: timedelta = timedelta(0)  # the newest end a query may ask for is now - lag

    def batch(self, op: Operation) -> int:
        return {
            Operation.PUBLISH: self.publish,
            Operation.PRICE: self.price,
            Operation.STOCK: self.stock,
            Operation.DELIST: self.delist,
            Operation.RELIST: self.delist,
        }[op]

    def calls(self, op: Operation, count: int) -> int:
        """Calls ``count`` items of ``op`` take at this batch maximum."""
        return -(-count // max(1, self.batch(op)))


# ---------------------------------------------------------------------------------------- interface
class BatchItem(Protocol):
    """What :meth:`ChannelAdapter.chunks` may look at in an item (drafts, price and stock updates and
    delist requests all have both): its SKU and where it lives on the channel."""

    @property
    def sku(self) -> str: ...

    @property
    def ref(self) -> ListingRef | None: ...


ItemT = TypeVar("ItemT", bound=BatchItem)


@dataclass(frozen=True, slots=True)
class PublishGroup:
    """One listing a publish makes or updates, as an estimate sees it."""

    key: str
    skus: tuple[str, ...]
    variations: bool
    ref: ListingRef | None


@dataclass(frozen=True, slots=True)
class WriteWay:
    """One way to write a batch (per-item requests, a bulk feed): its calls, the seconds until the
    marketplace has applied it (waits for the limiters included), and the calls it may still spend
    today (None: no daily cap)."""

    name: str
    calls: int
    seconds: float
    budget_left: int | None = None

    @property
    def fits(self) -> bool:
        return self.budget_left is None or self.calls <= self.budget_left


def cheapest_way(ways: Sequence[WriteWay]) -> WriteWay:
    """The way that fits today's budget and is applied first, fewer calls breaking a tie; when none fits
    the budget, the one with the fewest calls."""
    fitting = [way for way in ways if way.fits]
    if not fitting:
        return min(ways, key=lambda way: (way.calls, way.seconds))
    return min(fitting, key=lambda way: (way.seconds, way.calls))


def publish_groups(items: Sequence[BatchItem]) -> list[PublishGroup]:
    """Publish items per listing: a draft is one listing; a preview's per-SKU stand-ins are grouped by their
    ``group`` attribute (a product with more than one SKU is one draft with variations, as the planner
    makes it)."""
    drafts: list[PublishGroup] = []
    groups: dict[str, list[BatchItem]] = {}
    for item in items:
        if isinstance(item, ListingDraft):
            drafts.append(PublishGroup(item.sku, item.all_skus(), bool(item.variations), item.ref))
        else:
            groups.setdefault(str(getattr(item, "group", None) or item.sku), []).append(item)
    for key, members in groups.items():
        ref = next((m.ref for m in members if m.ref is not None), None)
        drafts.append(PublishGroup(key, tuple(m.sku for m in members), len(members) > 1, ref))
    return drafts


T = TypeVar("T")


class ChannelAdapter(ABC):
    """One marketplace account. Subclasses declare ``kind`` and ``limits`` and map the wire format.

    The syncer never hands an operation more items than ``limits.batch(op)`` (see :meth:`chunks`).
    """

    kind: ClassVar[str]
    #: declared on the class; an instance may adjust it from its options (e.g. a configured batch size)
    limits: Limits
    #: what a listing must satisfy on this marketplace (images, title, category ids), checked before publish
    content_rules: ClassVar[ContentRules] = ContentRules()
    #: pydantic model of this kind's ``options`` table in the channels file (None = no options).
    options_model: ClassVar[type[BaseModel] | None] = None
    #: the channel's options, validated by ``options_model`` (subclasses narrow the type to their model)
    options: BaseModel | None

    def __init__(
        self,
        channel: ChannelConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        trace: TraceWriter | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        """Every adapter is built this way (``registry.build_adapter``): the channel, then how to reach the
        marketplace: ``transport`` (an emulator's in-process transport; None = the network), the HTTP
        ``trace``, ``timeout`` seconds, ``clock`` and ``sleep`` (tests pass fakes), the ``retry`` policy and
        the ``tokens`` cache OAuth tokens are shared through (None: this process's memory).
        The shared HTTP layer (:class:`~adapters.http.HttpAdapter`) uses them; an adapter that reaches no
        network ignores them."""
        self.channel = channel
        self.options = self.options_model.model_validate(dict(channel.options)) if self.options_model else None

    @property
    def name(self) -> str:
        return self.channel.name

    def credential(self, key: str) -> str:
        """The plain value of one of this channel's credentials (auth code only); a missing one raises
        :class:`MissingCredential`, a ``ConfigurationError`` that says where to add it."""
        try:
            return self.channel.credential(key)
        except config_channels.MissingCredential as exc:
            raise MissingCredential(exc.message, channel=exc.channel) from None

    def chunks(self, op: Operation, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        """Split ``items`` into the batches one call may carry. Override where a batch is not flat
        (e.g. AliExpress: at most 20 products of at most 200 SKUs each)."""
        size = self.limits.batch(op)
        for start in range(0, len(items), size):
            yield list(items[start : start + size])

    def count_calls(self, op: Operation, items: Sequence[BatchItem]) -> int:
        """How many calls ``op`` on ``items`` takes, by this adapter's own :meth:`chunks` (a preview tells
        the user before anything is sent). Items may carry only ``sku`` and ``ref``: where chunking needs
        more of them, the declared batch maximum counts instead."""
        try:
            return sum(1 for _ in self.chunks(op, items))
        except (AttributeError, KeyError, TypeError, ValueError):
            return self.limits.calls(op, len(items))

    def estimate_calls(self, op: Operation, items: Sequence[BatchItem]) -> int:
        """THE estimate of the API calls ``op`` on ``items`` makes: the writes by this adapter's chunking
        plus the reads it must make around them (ids not bound yet, read-backs of assigned ids, feed
        polls). The sync plan, ``sync --dry-run``, change previews and the calls bench all count with it.
        ``items`` are the adapter's own inputs (drafts, updates, requests) or a preview's stand-ins with
        ``sku``, ``ref`` and, for publish, ``group`` (the product: one draft per group). Order pulls and
        token calls are not included. Default: one call per chunk."""
        return self.count_calls(op, items)

    def write_path(self, op: Operation, items: Sequence[BatchItem]) -> str | None:
        """Where a marketplace offers two ways to write a batch (per-item calls or a bulk feed), which one
        this batch takes and why (calls, expected latency, budget left); the plan shows it. None: one way."""
        return None

    @property
    @abstractmethod
    def api_calls(self) -> int:
        """Requests sent to the marketplace through this adapter so far, retries and token requests
        included (the shared HTTP layer counts them); a run records how much it grew."""

    def revision_budget(self, sku: str) -> int | None:
        """Revisions left today for this listing, where the marketplace caps them; None = no cap."""
        return None

    #: the time zone whose calendar day a per-listing revision cap counts (``Limits.daily_revisions``)
    revision_timezone: ClassVar[str] = "UTC"

    def seed_revisions(self, used: Mapping[str, int]) -> None:  # noqa: B027 - optional hook
        """Revisions each SKU's listing already used today, as recorded by the syncer (so a new adapter
        instance, another worker or a restart does not start the day's count from zero). Also given to an
        adapter with a :attr:`daily_call_budget` (the day's pushes so far, for its cost model)."""

    @property
    def daily_call_budget(self) -> int | None:
        """Write calls this channel may spend in a marketplace day (an option where the app's quota is
        shared with other tools); None: only the rate limits bound it."""
        return None

    @abstractmethod
    def publish(self, drafts: Sequence[ListingDraft]) -> list[ItemResult]:
        """Create or fully update listings (with variations). Results carry the new ``ref``."""

    @abstractmethod
    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ItemResult]:
        """Set absolute prices."""

    @abstractmethod
    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ItemResult]:
        """Set absolute sellable quantities (compare-and-set where offered)."""

    @abstractmethod
    def delist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        """Take listings off sale without deleting them from the catalog."""

    @abstractmethod
    def relist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        """Put delisted listings back on sale."""

    @abstractmethod
    def orders_since(self, cursor: OrderCursor) -> OrderPage:
        """One page of orders updated since ``cursor.since`` and the cursor for the next page."""

    @abstractmethod
    def listings(self) -> Iterator[RemoteListing]:
        """Everything the channel holds now, page by page."""

    #: our carrier code (``adapters.carriers.CARRIERS``) -> this marketplace's carrier code or name
    carrier_codes: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def carrier_code(self, carrier: str) -> str:
        """This marketplace's code for our ``carrier``; :class:`UnmappedCarrier` names channel and carrier."""
        code = self.carrier_codes.get(carrier)
        if code is None:
            known = ", ".join(sorted(self.carrier_codes)) or "none"
            raise UnmappedCarrier(
                f"carrier {carrier!r} has no {self.kind} code on channel {self.name} (mapped carriers: {known})",
                channel=self.name,
                code="unmapped_carrier",
            )
        return code

    def ship(self, shipment: Shipment) -> str | None:
        """Tell the marketplace a package of an order shipped, with its carrier and tracking number, once.
        Returns the marketplace's reference for the fulfillment where it gives one; raises a
        :class:`ChannelError` (retryable or not) when the marketplace refuses or cannot be reached.

        A ship call creates something, so it is never re-sent blindly: with ``shipment.look_first`` (an
        earlier attempt may have reached the marketplace) the package is looked up first and adopted when
        there; a send whose answer was lost (:class:`OutcomeUnknown`) is looked up at once, and if not found
        stays unknown, to be retried later (looking first again)."""
        if shipment.look_first:
            found = self.find_shipment(shipment)
            if found is not None:
                return found or None
        try:
            return self.send_shipment(shipment)
        except OutcomeUnknown:
            found = self.find_shipment(shipment)
            if found is not None:
                return found or None
            raise

    def send_shipment(self, shipment: Shipment) -> str | None:
        """The marketplace's own ship call (see :meth:`ship`); its creating request is sent
        ``idempotent=False`` unless the marketplace keys it itself."""
        raise Unsupported(f"{self.kind} channel {self.name}: shipping confirmation is not supported", channel=self.name)

    def find_shipment(self, shipment: Shipment) -> str | None:
        """The marketplace's reference of this package (order and tracking number) when it already holds it
        ("" when it holds it without a reference), None when it does not."""
        raise Unsupported(f"{self.kind} channel {self.name}: shipments cannot be looked up", channel=self.name)

    #: how a scheduled price change (a promotion) reaches this marketplace: ``dated`` = a native sale price
    #: with dates, sent ahead (``PriceUpdate.sale``), switched by the marketplace; ``compare_at`` = no dates:
    #: our worker switches the price and the regular one goes to the struck-through ``list_price``;
    #: ``""`` = our worker switches the price
    native_sale: ClassVar[Literal["dated", "compare_at", ""]] = ""
    #: what the preview of a scheduled price change says about this marketplace (its own words)
    native_sale_schedule: ClassVar[str] = ""

    #: why this marketplace's API cannot cancel an order from the seller's side ("" where it can)
    cancel_unsupported: ClassVar[str] = ""

    def cancel(self, order_id: str, reason: str) -> None:
        """Cancel an unshipped order on the marketplace from the seller's side (refunding what was paid and
        restocking it there); :class:`Unsupported` where its API offers no such call."""
        why = f": {self.cancel_unsupported}" if self.cancel_unsupported else ""
        raise Unsupported(
            f"cancelling orders is not supported by {self.kind} (channel {self.name}){why}", channel=self.name
        )

    # -- webhooks (marketplaces that push order events; the others keep these defaults) -----------------
    #: the order topics :meth:`register_webhooks` subscribes to, in the marketplace's own names
    webhook_topics: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def read_webhook(cls, channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify one delivery (``headers`` with lower-case names, ``body`` the raw bytes as received) with
        the channel's secret and read what it is about; :class:`WebhookRefused` when it cannot be trusted.
        A class method: no connection is made to check a delivery."""
        raise Unsupported(f"{cls.kind} sends no webhooks we can read (channel {channel.name})", channel=channel.name)

    def register_webhooks(self, url: str) -> list[WebhookSubscription]:
        """Subscribe ``url`` to :attr:`webhook_topics` (topics already delivered there are kept, not doubled);
        returns the subscriptions to ``url``."""
        raise Unsupported(f"{self.kind} has no webhook registration (channel {self.name})", channel=self.name)

    def webhooks(self) -> list[WebhookSubscription]:
        """The webhook subscriptions the marketplace holds for this account."""
        raise Unsupported(f"{self.kind} has no webhook registration (channel {self.name})", channel=self.name)

    def order(self, order_id: str) -> Order | None:
        """One order by the marketplace's id (a webhook names it), read directly: no search index lag.
        None when the marketplace does not know it."""
        raise Unsupported(f"{self.kind} cannot read one order by id (channel {self.name})", channel=self.name)

    def priority(self) -> contextlib.AbstractContextManager[None]:
        """A block whose requests (this thread's) go ahead of others waiting for this channel's rate
        budget: the stock lane's quantity pushes during a backlog. Adapters without limiters: no-op."""
        return contextlib.nullcontext()

    def lane_open(self) -> contextlib.AbstractContextManager[None]:
        """A block during which a stock lane runs beside this channel's push: the push's own requests
        leave part of the rate budget for the lane's. Adapters without limiters: no-op."""
        return contextlib.nullcontext()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
