"""Bulk changes as two steps any face drives: :func:`preview_change` plans a request once (what every
channel will show, the API calls, what the price guard refuses) and :func:`apply_change` applies exactly
that plan as one change set, then triggers the sync of the affected listings.

Confirmation is a parameter (``confirm=``), never a prompt in here. A preview carries a ``preview_id``
(a digest of the request and of every value it read and plans to change): a face that keeps no objects
between requests previews again and passes the id the user confirmed as ``expected_id``; apply refuses
when they differ, and refuses a preview whose values moved since it was made (:class:`StaleChange`).

Also here: the change sets (list, show) and a SKU's history.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from listing_sync.adapters.base import ConfigurationError
from listing_sync.syncer import changes
from listing_sync.syncer.changes import ChangeLine, ChangePlan, ChangeRefused, GuardRefused, Selection, StaleChange
from listing_sync.syncer.context import Context, current_user
from listing_sync.syncer.services.common import InvalidRequest, NotFound, ServiceError, prepare
from listing_sync.syncer.services.scheduler import SyncScheduler
from listing_sync.syncer.services.sync import SyncMode, SyncTriggered, trigger_sync
from sqlalchemy.orm import Session

__all__ = [
    "ChangeApplied",
    "ChangePreview",
    "ChangeRefused",
    "ChangeRequest",
    "EditsFile",
    "GuardRefused",
    "ListingAction",
    "ListingsChange",
    "NotConfirmed",
    "PreviewMismatch",
    "PriceAdjust",
    "PriceSet",
    "StaleChange",
    "StockAdjust",
    "StockSet",
    "UndoChangeSet",
    "apply_change",
    "preview_change",
]


class NotConfirmed(ServiceError):
    """The confirmation said no; nothing was applied."""

    def __init__(self, message: str = "not confirmed; nothing was applied") -> None:
        super().__init__(message)


class PreviewMismatch(ServiceError):
    """The preview confirmed is not the preview of the data as it is now; nothing was applied."""


# ------------------------------------------------------------------------------------------ requests
@dataclass(frozen=True, slots=True)
class PriceSet:
    """Set the base price (or, with ``channel``, that channel's override) of the selected SKUs."""

    selection: Selection
    amount: Decimal
    channel: str | None = None
    #: the currency ``amount`` is in: the channel's (with ``channel``) or each SKU's; a mismatch is refused
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class PriceAdjust:
    """Raise or lower prices by a signed ``percent`` or ``amount`` (exactly one)."""

    selection: Selection
    percent: Decimal | None = None
    amount: Decimal | None = None
    channel: str | None = None
    currency: str | None = None  # as in :class:`PriceSet`


@dataclass(frozen=True, slots=True)
class StockSet:
    """Set on-hand stock of the selected SKUs in one warehouse."""

    selection: Selection
    warehouse: str
    quantity: int


@dataclass(frozen=True, slots=True)
class StockAdjust:
    """Change on-hand stock of the selected SKUs in one warehouse by a signed number."""

    selection: Selection
    warehouse: str
    by: int


@dataclass(frozen=True, slots=True)
class EditsFile:
    """A CSV or XLSX file of per-SKU (optionally per-channel) price and stock edits."""

    path: Path


@dataclass(frozen=True, slots=True)
class UndoChangeSet:
    """Restore a change set's old values; ``override_conflicts`` restores them even over later changes."""

    change_set: int
    override_conflicts: bool = False


class ListingAction(StrEnum):
    PUBLISH = "publish"
    DELIST = "delist"
    RELIST = "relist"


@dataclass(frozen=True, slots=True)
class ListingsChange:
    """Publish, delist or relist the selected SKUs on channels (default: every enabled channel)."""

    action: ListingAction
    selection: Selection
    channels: tuple[str, ...] = ()


ChangeRequest = PriceSet | PriceAdjust | StockSet | StockAdjust | EditsFile | UndoChangeSet | ListingsChange


# ------------------------------------------------------------------------------------------- preview
@dataclass(frozen=True, eq=False)
class ChangePreview:
    """The plan of a request: the catalog values it changes (``lines``), what each channel will show
    (``plan.effects``), the API calls of the next sync, and what the price guard refuses. Apply uses
    this plan as it is; :meth:`rows` renders it only when asked."""

    request: ChangeRequest
    plan: ChangePlan
    guard_percent: Decimal | None
    #: the change set an undo restores
    undo_of: int | None = None
    #: the channels a listings change acts on
    channels: tuple[str, ...] = ()
    #: conflicts an undo overrides (``override_conflicts``)
    overridden: tuple[str, ...] = ()
    #: the reason kept with the change set when the user gives none
    default_reason: str = ""

    @property
    def lines(self) -> list[ChangeLine]:
        return self.plan.lines

    @property
    def empty(self) -> bool:
        """Nothing to change: every selected value is already what was asked."""
        return not self.plan.lines

    @property
    def skus(self) -> int:
        return self.plan.skus

    @property
    def violations(self) -> list[changes.Violation]:
        return self.plan.violations

    @property
    def notes(self) -> list[str]:
        return self.plan.notes

    def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The preview table: catalog values, then what each channel will show, per SKU (only the first
        ``limit`` rows rendered, when given)."""
        return self.plan.rows(limit)

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """Every row of the preview table, each rendered when reached (for writers that stream them)."""
        return self.plan.iter_rows()

    @property
    def row_count(self) -> int:
        """The number of rows of the whole preview table (none rendered)."""
        return self.plan.row_count()

    def summary(self) -> dict[str, Any]:
        """SKUs, values, listings and API calls (in all and per channel and operation)."""
        return dict(self._summary)

    @cached_property
    def _summary(self) -> dict[str, Any]:
        return self.plan.summary()

    @cached_property
    def preview_id(self) -> str:
        """A digest of the request and of every value the plan read and changes (old and new)."""
        parts = [repr(self.request), repr(self.guard_percent)]
        parts += [f"{ln.sku_id}\x1f{ln.field}\x1f{ln.channel}\x1f{ln.old}\x1f{ln.new}" for ln in self.plan.lines]
        parts += [
            f"{e.listing_id}\x1f{e.channel}\x1f{e.sku_id}\x1f{e.field}\x1f{e.old}\x1f{e.new}" for e in self.plan.effects
        ]
        parts += [str(v) for v in self.plan.violations]
        return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class _Planned:
    lines: list[ChangeLine]
    undo_of: int | None = None
    channels: tuple[str, ...] = ()
    overridden: tuple[str, ...] = ()
    default_reason: str = ""


def preview_change(context: Context, request: ChangeRequest) -> ChangePreview:
    """Plan the request and compute what it will do on every channel; changes nothing."""
    _check(request)
    prepare(context)
    guard = context.settings.price_guard_percent
    adapters = _counting_adapters(context)
    try:
        counter = changes.limits_counter(adapters)
        with context.session() as session:
            planned = _plan(session, context, request)
            plan = changes.preview(session, context.channels, planned.lines, guard_percent=guard, counter=counter)
            session.rollback()  # planning writes nothing
    finally:
        for adapter in adapters.values():
            with contextlib.suppress(Exception):
                adapter.close()
    return ChangePreview(
        request,
        plan,
        Decimal(str(guard)),
        undo_of=planned.undo_of,
        channels=planned.channels,
        overridden=planned.overridden,
        default_reason=planned.default_reason,
    )


def _check(request: ChangeRequest) -> None:
    """Refuse parameters no plan can take (before touching the database)."""
    if isinstance(request, PriceSet) and request.amount < 0:
        raise InvalidRequest("AMOUNT must not be negative")
    if isinstance(request, PriceAdjust):
        if (request.percent is None) == (request.amount is None):
            raise InvalidRequest("give exactly one of --percent P or --amount A")
        if request.percent is not None and request.percent <= -100:
            raise InvalidRequest("--percent must be above -100")
    if isinstance(request, EditsFile) and not request.path.exists():
        raise NotFound(f"{request.path}: no such file")
    if isinstance(request, ListingsChange) and request.selection.empty:
        raise InvalidRequest(
            "select SKUs with --sku PATTERN (e.g. --sku '*'), --category NAME, --tag TAG or --skus-file FILE"
        )


def _plan(session: Session, context: Context, request: ChangeRequest) -> _Planned:
    if isinstance(request, PriceSet | PriceAdjust):
        currency = _price_currency(context, request)
        ids = selected_skus(session, request.selection)
        if request.currency is not None and not request.channel:
            _check_sku_currencies(session, ids, request.currency)
        if isinstance(request, PriceSet):
            return _Planned(
                changes.plan_price(
                    session, ids, set_to=request.amount, channel=request.channel, channel_currency=currency
                )
            )
        return _Planned(
            changes.plan_price(
                session,
                ids,
                percent=request.percent,
                amount=request.amount,
                channel=request.channel,
                channel_currency=currency,
            )
        )
    if isinstance(request, StockSet):
        ids = selected_skus(session, request.selection)
        return _Planned(changes.plan_stock(session, ids, request.warehouse, set_to=request.quantity))
    if isinstance(request, StockAdjust):
        ids = selected_skus(session, request.selection)
        return _Planned(changes.plan_stock(session, ids, request.warehouse, by=request.by))
    if isinstance(request, EditsFile):
        lines = changes.plan_file(session, request.path, {c.name: c.currency for c in context.channels})
        return _Planned(lines, default_reason=f"changes apply {request.path.name}")
    if isinstance(request, UndoChangeSet):
        return _plan_undo(session, request)
    names = tuple(c.name for c in context.selected_channels(list(request.channels)))
    wanted = "delisted" if request.action is ListingAction.DELIST else "active"
    ids = selected_skus(session, request.selection)
    lines = changes.plan_wanted(session, ids, names, wanted, create=request.action is ListingAction.PUBLISH)
    return _Planned(lines, channels=names, default_reason=f"listings {request.action.value}")


def _price_currency(context: Context, request: PriceSet | PriceAdjust) -> str | None:
    """The channel's currency for a channel price (a different ``currency`` is refused), else None."""
    given = request.currency.upper() if request.currency else None
    if not request.channel:
        return None
    channel_currency = context.channel(request.channel).currency
    if given is not None and given != channel_currency:
        raise InvalidRequest(
            f"--currency {given}: {request.channel} sells in {channel_currency}; a channel price is entered in "
            f"the channel's currency (leave --currency out or give {channel_currency})"
        )
    return channel_currency


def _check_sku_currencies(session: Session, ids: list[int], currency: str) -> None:
    """Refuse a base-price change in ``currency`` for SKUs priced in another currency."""
    others = changes.skus_not_in_currency(session, ids, currency.upper())
    if others:
        shown = ", ".join(f"{sku} ({cur})" for sku, cur in others[:20])
        more = f" and {len(others) - 20} more" if len(others) > 20 else ""
        raise InvalidRequest(
            f"--currency {currency.upper()}: {len(others)} selected SKU(s) are priced in another currency: "
            f"{shown}{more}; nothing was applied"
        )


def _plan_undo(session: Session, request: UndoChangeSet) -> _Planned:
    undo = changes.plan_undo(session, request.change_set)
    if undo.conflicts and not request.override_conflicts:
        shown = "\n".join(f"  {c}" for c in undo.conflicts[:50])
        more = f"\n  ... and {len(undo.conflicts) - 50} more" if len(undo.conflicts) > 50 else ""
        raise ChangeRefused(
            f"change set {request.change_set} cannot be undone cleanly; nothing was applied (--force restores the "
            f"old values anyway):\n{shown}{more}"
        )
    return _Planned(
        undo.lines,
        undo_of=request.change_set,
        overridden=tuple(undo.conflicts),
        default_reason=f"undo change set {request.change_set}",
    )


def selected_skus(session: Session, selection: Selection) -> list[int]:
    """The SKU ids a selection matches; refused when it matches none."""
    ids = changes.select_skus(session, selection)
    if not ids:
        raise NotFound(f"no SKU matches the selection ({selection.describe()})")
    return ids


def _counting_adapters(context: Context) -> dict[str, Any]:
    """Adapters used only to count the API calls a preview causes (their own batching rules)."""
    out = {}
    for config in context.channels:
        try:
            out[config.name] = context.adapter(config, counting=True)
        except ConfigurationError:  # no credentials or emulator here: the counter falls back to declared limits
            continue
    return out


# --------------------------------------------------------------------------------------------- apply
@dataclass(frozen=True, slots=True)
class ChangeApplied:
    """The change set a preview became (None when there was nothing to change), who applied it, and the
    sync it triggered."""

    change_set_id: int | None
    preview: ChangePreview
    user: str
    sync: SyncTriggered = field(default_factory=lambda: SyncTriggered(None))


def apply_change(
    context: Context,
    preview: ChangePreview,
    *,
    user: str | None = None,
    reason: str = "",
    command: str = "",
    force: bool = False,
    confirm: Callable[[ChangePreview], bool] | None = None,
    sync: SyncMode = SyncMode.QUEUE,
    scheduler: SyncScheduler | None = None,
    expected_id: str | None = None,
) -> ChangeApplied:
    """Apply a preview's plan as ONE change set, then push the affected listings (``sync``: queued on
    ``scheduler``, inline, or left for the scheduled sync).

    Refused, with nothing applied: what the price guard refuses unless ``force``
    (:class:`GuardRefused`); a ``confirm`` that answers no (:class:`NotConfirmed`); an ``expected_id``
    that is not this preview's (:class:`PreviewMismatch`); values that moved since the preview
    (:class:`StaleChange`)."""
    if expected_id is not None and expected_id != preview.preview_id:
        raise PreviewMismatch(
            "the data changed since the preview you confirmed; nothing was applied: preview again and confirm that"
        )
    who = current_user(user)
    if preview.empty:
        return ChangeApplied(None, preview, who)
    if preview.violations and not force:
        raise GuardRefused(preview.violations)
    if confirm is not None and not confirm(preview):
        raise NotConfirmed()
    with context.session() as session:
        applied = changes.apply_change(
            session,
            preview.lines,
            context.channels,
            user=who,
            reason=reason or preview.default_reason,
            command=command,
            undo_of=preview.undo_of,
            guard_percent=preview.guard_percent,
            force=force,
            planned=preview.plan,
        )
    triggered = trigger_sync(context, applied.affected, user=who, mode=sync, scheduler=scheduler)
    return ChangeApplied(applied.change_set_id, preview, who, triggered)


# ------------------------------------------------------------------------------- change sets, history
@dataclass(frozen=True, slots=True)
class ChangeSetSummary:
    id: int
    created_at: str
    user: str
    reason: str
    command: str
    status: str
    undo_of: int | None
    items: int


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One value of a change set: old -> new (``change_pct`` for numbers)."""

    sku: str
    channel: str | None
    field: str
    old: str | None
    new: str | None
    currency: str | None  # of old and new when they are amounts
    change_pct: str | None


@dataclass(frozen=True, slots=True)
class ChangeSetDetails(ChangeSetSummary):
    """A change set with the change set that undid it and every value it changed."""

    undone_by: int | None
    changes: list[ChangeRow]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A change set item (``kind`` change) or a sync result (``kind`` sync) of one SKU."""

    time: str
    kind: str
    id: int
    channel: str | None
    what: str
    old: str | None
    new: str | None
    currency: str | None  # of old and new when they are amounts
    ok: bool | None
    user: str
    note: str | None


def list_change_sets(context: Context, *, limit: int = 50, user: str | None = None) -> list[ChangeSetSummary]:
    """Change sets, newest first (only ``user``'s when given)."""
    with context.session() as session:
        return [ChangeSetSummary(**row) for row in changes.list_change_sets(session, limit=limit, user=user)]


def show_change_set(context: Context, change_set: int) -> ChangeSetDetails:
    """One change set: who, when, why, and every value's old and new value (:class:`NotFound` if none)."""
    from listing_sync.syncer.models import ChangeSet

    with context.session() as session:
        if session.get(ChangeSet, change_set) is None:
            raise NotFound(f"no change set {change_set}")
        data = changes.show_change_set(session, change_set)
    rows = [ChangeRow(**row) for row in data.pop("changes")]
    return ChangeSetDetails(**data, changes=rows)


def sku_history(context: Context, sku: str) -> list[HistoryEntry]:
    """Every change set item and sync result of one SKU, oldest first."""
    with context.session() as session:
        return [HistoryEntry(**row) for row in changes.history(session, sku)]
