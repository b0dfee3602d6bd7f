"""Listings: publishing, delisting and relisting are change requests (:class:`.changes.ListingsChange`,
previewed and applied like a price change); here is the publish check, which lists every gap that would
make a marketplace refuse a SKU (category or attribute mapping, required attribute, images, ...)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from listing_sync.syncer import mapping
from listing_sync.syncer.changes import Selection, select_skus
from listing_sync.syncer.changes.globs import SkuFilter
from listing_sync.syncer.context import Context
from listing_sync.syncer.mapping import PublishGap
from listing_sync.syncer.models import Channel, ChannelListing, Product, Sku
from listing_sync.syncer.services.changes import (
    ChangePreview,
    ListingAction,
    ListingsChange,
    preview_change,
    selected_skus,
)
from listing_sync.syncer.services.common import InvalidRequest, iso_utc, prepare
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class PublishGaps:
    """Every gap of ``skus`` selected SKUs on ``channels`` (none: they can all be published)."""

    gaps: list[PublishGap]
    skus: int
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PublishCheck:
    """A publish dry run: the change preview (when asked for) and the gap report."""

    preview: ChangePreview | None
    gaps: GapStream


@dataclass(frozen=True, slots=True)
class GapStream:
    """The gaps of ``skus`` selected SKUs on ``channels`` as they are found (iterate ``gaps`` once)."""

    gaps: Iterator[PublishGap]
    skus: int
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GapGroup:
    """Identical problems: one channel, code and text, on ``count`` SKUs (the first few named)."""

    channel: str
    code: str
    message: str
    count: int
    first: tuple[str, ...]


@dataclass(slots=True)
class GapTally:
    """A gap report summed up while it streams: identical problems grouped, counts by code, the SKUs
    with any gap; :meth:`groups` largest first."""

    gaps: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    skus: set[str] = field(default_factory=set)
    _groups: dict[tuple[str, str, str], tuple[int, list[str]]] = field(default_factory=dict)

    def add(self, gap: PublishGap, named: int = 3) -> None:
        self.gaps += 1
        self.by_code[gap.code] += 1
        self.skus.add(gap.sku)
        key = (gap.channel, gap.code, gap.message)
        count, first = self._groups.get(key, (0, []))
        if len(first) < named:
            first.append(gap.sku)
        self._groups[key] = (count + 1, first)

    def groups(self) -> list[GapGroup]:
        """Every group, the largest first (ties in the order found)."""
        found = [GapGroup(*key, count, tuple(first)) for key, (count, first) in self._groups.items()]
        return sorted(found, key=lambda g: -g.count)


def publish_gaps(context: Context, selection: Selection, channels: Sequence[str] | None = None) -> PublishGaps:
    """Every reason the selected SKUs would be refused when published on these channels (default: every
    enabled one); nothing is changed."""
    stream = stream_publish_gaps(context, selection, channels)
    return PublishGaps(list(stream.gaps), stream.skus, stream.channels)


def stream_publish_gaps(
    context: Context,
    selection: Selection,
    channels: Sequence[str] | None = None,
    *,
    progress: mapping.GapProgress | None = None,
) -> GapStream:
    """:func:`publish_gaps` one by one as they are found (``progress``: channel, SKU checks done, SKU
    checks in all), for a report of tens of thousands of SKUs written while it is checked."""
    if selection.empty:
        raise InvalidRequest(
            "select SKUs with --sku PATTERN (e.g. --sku '*'), --category NAME, --tag TAG or --skus-file FILE"
        )
    prepare(context)
    configs = context.selected_channels(list(channels or []))
    with context.session() as session:
        ids = selected_skus(session, selection)
        session.rollback()

    def gaps() -> Iterator[PublishGap]:
        with context.session() as session:
            try:
                yield from mapping.iter_publish_gaps(session, configs, ids, progress)
            finally:
                session.rollback()  # a dry run writes nothing

    return GapStream(gaps(), len(ids), tuple(c.name for c in configs))


def check_publish(
    context: Context,
    selection: Selection,
    channels: Sequence[str] | None = None,
    *,
    preview: bool = True,
    progress: mapping.GapProgress | None = None,
) -> PublishCheck:
    """What publishing the selection would change (``preview``) and every gap in the way, streamed as it
    is found; changes nothing."""
    planned = None
    if preview:
        planned = preview_change(context, ListingsChange(ListingAction.PUBLISH, selection, tuple(channels or ())))
    return PublishCheck(planned, stream_publish_gaps(context, selection, channels, progress=progress))


# ------------------------------------------------------------------------------------- the listings grid
class ListingState(StrEnum):
    """A listing as people see it: ``parked`` (a permanent failure waits for a change), ``pending`` (a
    push is due or awaits the marketplace's confirmation), else ``delisted`` (wanted off sale) or ``listed``."""

    LISTED = "listed"
    PENDING = "pending"
    PARKED = "parked"
    DELISTED = "delisted"


_PENDING = ("new", "dirty", "retry", "submitted")
_listing_state = case(
    (ChannelListing.status == "parked", ListingState.PARKED.value),
    (ChannelListing.status.in_(_PENDING), ListingState.PENDING.value),
    (ChannelListing.wanted == "delisted", ListingState.DELISTED.value),
    else_=ListingState.LISTED.value,
)
#: the columns the grid sorts by (ties by SKU, then channel)
LISTING_SORTS: dict[str, Any] = {
    "sku": Sku.sku,
    "product": Product.title,
    "category": Product.category,
    "channel": Channel.name,
    "state": _listing_state,
    "price": ChannelListing.desired_price,
    "quantity": ChannelListing.desired_quantity,
    "updated": ChannelListing.updated_at,
}
MAX_PER_PAGE = 500


@dataclass(frozen=True, slots=True)
class ListingQuery:
    """Filters of the listings grid (all optional; every given one must match), sort and page."""

    sku: str | None = None  # a glob: TEA-*, *-250G
    product: str | None = None  # part of the product's key or title
    category: str | None = None
    tag: str | None = None
    channel: str | None = None
    state: ListingState | None = None
    reason: str | None = None  # a parked or retrying listing's error code
    sort: str = "sku"
    descending: bool = False
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True, slots=True)
class ListingRow:
    """One SKU on one channel: desired and pushed price (in ``currency``, the channel's) and quantity."""

    sku: str
    product: str
    title: str
    category: str
    tags: tuple[str, ...]
    channel: str
    currency: str
    state: ListingState
    status: str
    wanted: str
    desired_price: str | None
    pushed_price: str | None
    desired_quantity: int | None
    pushed_quantity: int | None
    error_code: str | None
    error: str | None
    attempts: int
    next_try_at: str | None
    last_pushed_at: str | None


@dataclass(frozen=True, slots=True)
class ListingPage:
    """One page of the grid, the number of listings matching in all, and the error codes present (for a
    reason filter)."""

    rows: list[ListingRow]
    total: int
    page: int
    per_page: int
    reasons: list[str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def query_listings(context: Context, query: ListingQuery) -> ListingPage:
    """The listings matching ``query``, sorted and paged (read only). Bad parameters are refused, each named."""
    problems = page_problems(query.sort, LISTING_SORTS, query.page, query.per_page)
    if query.channel:
        known = [c.name for c in context.channels]
        if query.channel not in known:
            problems.append(f"channel {query.channel!r}: no such channel (known: {', '.join(known) or 'none'})")
    if problems:
        raise InvalidRequest("; ".join(problems))
    prepare(context)
    currencies = {c.name: c.currency for c in context.channels}
    with context.session() as session:
        where = _listing_filters(session, query)
        base = (
            select(
                ChannelListing,
                _listing_state,
                Sku.sku,
                Product.key,
                Product.title,
                Product.category,
                Product.tags,
                Channel.name,
            )
            .join(Sku, Sku.id == ChannelListing.sku_id)
            .join(Product, Product.id == Sku.product_id)
            .join(Channel, Channel.id == ChannelListing.channel_id)
            .where(*where)
        )
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        column = LISTING_SORTS[query.sort]
        order = [column.desc() if query.descending else column.asc(), Sku.sku, Channel.name]
        found = session.execute(base.order_by(*order).limit(query.per_page).offset((query.page - 1) * query.per_page))
        rows = [_listing_row(row, currencies) for row in found]
        reasons = sorted(
            code
            for (code,) in session.execute(
                select(ChannelListing.last_error_code).where(ChannelListing.last_error_code.is_not(None)).distinct()
            )
            if code
        )
    return ListingPage(rows, total, query.page, query.per_page, reasons)


def state_counts(context: Context) -> dict[str, dict[str, int]]:
    """Listings per channel and :class:`ListingState` (every state present, zeros included)."""
    prepare(context)
    out: dict[str, dict[str, int]] = {c.name: dict.fromkeys(ListingState, 0) for c in context.channels}
    with context.session() as session:
        counted = session.execute(
            select(Channel.name, _listing_state, func.count())
            .join(ChannelListing, ChannelListing.channel_id == Channel.id)
            .group_by(Channel.name, _listing_state)
        )
        for channel, state, count in counted:
            out.setdefault(channel, dict.fromkeys(ListingState, 0))[ListingState(state)] = count
    return out


def page_problems(sort: str, sorts: Collection[str], page: int, per_page: int) -> list[str]:
    """What is wrong with a grid's sort and page (nothing: an empty list)."""
    problems = []
    if sort not in sorts:
        problems.append(f"sort {sort!r}: use one of {', '.join(sorts)}")
    if page < 1:
        problems.append(f"page {page}: pages start at 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        problems.append(f"per_page {per_page}: give 1 to {MAX_PER_PAGE}")
    return problems


def sku_filters(
    session: Session, *, sku: str | None, product: str | None, category: str | None, tag: str | None
) -> list[Any]:
    """The SKU filters the grids share (on ``Sku`` joined to its ``Product``): a SKU glob and a tag matched
    as the bulk-change selectors match them, part of the product's key or title, the category."""
    where: list[Any] = []
    if sku or tag:
        selection = Selection(patterns=[sku] if sku else [], tags=[tag] if tag else [])
        narrowing = SkuFilter.of(session, selection)
        where += narrowing.conditions
        if narrowing.residual is not None:  # a glob SQL cannot say exactly: its SKUs, found once
            where.append(Sku.id.in_(select_skus(session, selection)))
    if product:
        text = f"%{product.lower()}%"
        where.append(or_(func.lower(Product.key).like(text), func.lower(Product.title).like(text)))
    if category:
        where.append(Product.category == category)
    return where


def _listing_filters(session: Session, query: ListingQuery) -> list[Any]:
    where = sku_filters(session, sku=query.sku, product=query.product, category=query.category, tag=query.tag)
    if query.channel:
        where.append(Channel.name == query.channel)
    if query.state:
        where.append(_listing_state == ListingState(query.state).value)
    if query.reason:
        where.append(ChannelListing.last_error_code == query.reason)
    return where


def _listing_row(row: Any, currencies: dict[str, str]) -> ListingRow:
    listing, state, sku, key, title, category, tags, channel = row
    return ListingRow(
        sku=sku,
        product=key,
        title=title,
        category=category,
        tags=tuple(tags or ()),
        channel=channel,
        currency=currencies.get(channel, ""),
        state=ListingState(state),
        status=listing.status,
        wanted=listing.wanted,
        desired_price=_text(listing.desired_price),
        pushed_price=_text(listing.pushed_price),
        desired_quantity=listing.desired_quantity,
        pushed_quantity=listing.pushed_quantity,
        error_code=listing.last_error_code,
        error=listing.last_error,
        attempts=listing.attempts,
        next_try_at=iso_utc(listing.next_try_at),
        last_pushed_at=iso_utc(listing.last_pushed_at),
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
