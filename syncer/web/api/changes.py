"""Bulk changes over HTTP: preview, then apply what was previewed; change sets (list, show, undo);
publish, delist and relist; a SKU's history.

The two steps are stateless: ``POST /api/changes/preview`` plans a request and answers with its
``preview_id`` (a digest of the request and of every value the plan read and changes). ``POST
/api/changes/apply`` sends the same request with that id; the plan is made again and applied only if its
id is still the one confirmed (otherwise 409 ``PreviewMismatch``: the data moved, preview again). The
price guard refuses with 409 ``GuardRefused``; ``force`` passes it, and only an admin may force.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.services import changes
from listing_sync.syncer.services.changes import (
    ChangeRequest,
    ChangeSetDetails,
    ChangeSetSummary,
    HistoryEntry,
    ListingAction,
)
from listing_sync.syncer.services.sync import SyncMode, SyncTriggered
from listing_sync.syncer.services.users import Role
from listing_sync.syncer.web.api.common import CHANGE_ERRORS, READ_ERRORS, scheduler
from listing_sync.syncer.web.deps import ContextDep, Operator, Viewer, WebUser
from pydantic import BaseModel, Field

router = APIRouter(tags=["bulk changes"])

Money = Annotated[Decimal, Field(max_digits=18, decimal_places=6, description='A decimal, e.g. "12.50".')]
Percent = Annotated[Decimal, Field(ge=-100, le=10_000, max_digits=12, decimal_places=4)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
PreviewId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="The preview_id the preview answered.")]
#: preview rows sent at most (the summary counts them all)
MAX_ROWS = 2000


class SelectionIn(BaseModel):
    """Which SKUs: those matching EVERY given selector (the values of one selector OR). '*' = all."""

    skus: list[Name] = Field(default_factory=list, max_length=500, description="SKU globs: TEA-*, *-250G.")
    categories: list[Name] = Field(default_factory=list, max_length=100)
    tags: list[Name] = Field(default_factory=list, max_length=100)

    def selection(self) -> Selection:
        return Selection(list(self.skus), list(self.categories), list(self.tags))


class PriceSetIn(BaseModel):
    """Set the base price, or with ``channel`` that channel's override (in the channel's currency)."""

    kind: Literal["price_set"]
    selection: SelectionIn
    amount: Money
    channel: Name | None = None
    currency: Currency | None = None


class PriceAdjustIn(BaseModel):
    """Move the base price (or a channel's override) by ``percent`` or by ``amount``."""

    kind: Literal["price_adjust"]
    selection: SelectionIn
    percent: Percent | None = None
    amount: Money | None = None
    channel: Name | None = None
    currency: Currency | None = None


class StockSetIn(BaseModel):
    """Set on-hand stock in one warehouse (a ledger movement each)."""

    kind: Literal["stock_set"]
    selection: SelectionIn
    warehouse: Name
    quantity: Annotated[int, Field(ge=0, le=10_000_000)]


class StockAdjustIn(BaseModel):
    """Move on-hand stock in one warehouse by ``by`` units."""

    kind: Literal["stock_adjust"]
    selection: SelectionIn
    warehouse: Name
    by: Annotated[int, Field(ge=-10_000_000, le=10_000_000)]


class ListingsIn(BaseModel):
    """Publish, delist or relist the selected SKUs on ``channels`` (default: every enabled channel)."""

    kind: Literal["listings"]
    action: ListingAction
    selection: SelectionIn
    channels: list[Name] = Field(default_factory=list, max_length=50)


class UndoIn(BaseModel):
    """Undo a change set (``override_conflicts``: also values changed again since)."""

    kind: Literal["undo"]
    change_set: Annotated[int, Field(ge=1, le=2**31 - 1)]
    override_conflicts: bool = False


ChangeIn = Annotated[
    PriceSetIn | PriceAdjustIn | StockSetIn | StockAdjustIn | ListingsIn | UndoIn, Field(discriminator="kind")
]


def to_request(body: ChangeIn) -> ChangeRequest:
    """The service's request for a body (the same body always makes the same request, so the same id)."""
    if isinstance(body, PriceSetIn):
        return changes.PriceSet(body.selection.selection(), body.amount, body.channel, body.currency)
    if isinstance(body, PriceAdjustIn):
        return changes.PriceAdjust(body.selection.selection(), body.percent, body.amount, body.channel, body.currency)
    if isinstance(body, StockSetIn):
        return changes.StockSet(body.selection.selection(), body.warehouse, body.quantity)
    if isinstance(body, StockAdjustIn):
        return changes.StockAdjust(body.selection.selection(), body.warehouse, body.by)
    if isinstance(body, ListingsIn):
        return changes.ListingsChange(body.action, body.selection.selection(), tuple(body.channels))
    return changes.UndoChangeSet(body.change_set, body.override_conflicts)


class PreviewRow(BaseModel):
    """One value: a catalog value (channel ``(catalog)``) or what a channel will show; amounts in ``currency``."""

    sku: str
    channel: str
    field: str
    old: str | None
    new: str | None
    currency: str | None = None
    change_pct: str | None = None


class Violation(BaseModel):
    sku: str
    channel: str | None
    message: str


class PreviewSummary(BaseModel):
    skus: int
    values: int
    listings: int
    api_calls: int
    api_calls_by_channel: dict[str, dict[str, int]]


class PreviewOut(BaseModel):
    preview_id: str
    #: nothing to change: every selected value is already what was asked
    empty: bool
    summary: PreviewSummary
    rows: list[PreviewRow]
    rows_total: int
    #: what the price guard (or a channel's rules) refuses: applying needs force (admins only)
    violations: list[Violation]
    guard_percent: str | None
    notes: list[str]
    default_reason: str


def preview_out(preview: changes.ChangePreview, limit: int = MAX_ROWS) -> PreviewOut:
    rows = preview.rows(limit)
    return PreviewOut(
        preview_id=preview.preview_id,
        empty=preview.empty,
        summary=PreviewSummary(**preview.summary()),
        rows=[PreviewRow(**{k: None if v is None else str(v) for k, v in row.items()}) for row in rows],
        rows_total=preview.row_count,
        violations=[Violation(sku=v.sku, channel=v.channel, message=v.message) for v in preview.violations],
        guard_percent=None if preview.guard_percent is None else str(preview.guard_percent),
        notes=list(preview.notes),
        default_reason=preview.default_reason,
    )


class ApplyIn(BaseModel):
    request: ChangeIn
    preview_id: PreviewId
    reason: Annotated[str, Field(max_length=500)] = ""
    #: apply what the price guard refuses (admins only)
    force: bool = False
    #: push the affected listings: queued for the workers, here and now, or left for the scheduled sync
    sync: SyncMode = SyncMode.QUEUE


class AppliedOut(BaseModel):
    #: the change set written (null: nothing to change)
    change_set_id: int | None
    user: str
    preview_id: str
    sync: SyncTriggered


def check_force(user: WebUser, force: bool, guard_percent: float) -> None:
    """Only an admin forces past the price guard."""
    if force and not user.role.allows(Role.ADMIN):
        raise HTTPException(
            403,
            f"forcing past the price guard (it refuses channel price moves over {guard_percent:g}%, "
            f"SYNCER_PRICE_GUARD_PERCENT) needs the admin role; {user.name} is {user.role.value}",
        )


def apply(request: Request, context: ContextDep, user: WebUser, body: ApplyIn, command: str) -> AppliedOut:
    check_force(user, body.force, context.settings.price_guard_percent)
    preview = changes.preview_change(context, to_request(body.request))
    done = changes.apply_change(
        context,
        preview,
        user=user.name,
        reason=body.reason,
        command=command,
        force=body.force,
        sync=body.sync,
        scheduler=scheduler(request),
        expected_id=body.preview_id,
    )
    return AppliedOut(change_set_id=done.change_set_id, user=done.user, preview_id=preview.preview_id, sync=done.sync)


RowsLimit = Annotated[int, Query(ge=0, le=MAX_ROWS, description="Preview rows to send (all are counted).")]


@router.post("/changes/preview", response_model=PreviewOut, responses=CHANGE_ERRORS)
def preview_change(context: ContextDep, user: Viewer, body: ChangeIn, rows: RowsLimit = 500) -> PreviewOut:
    """Plan a bulk change and show what it does on every channel, with the guard's verdicts; changes nothing."""
    return preview_out(changes.preview_change(context, to_request(body)), rows)


@router.post("/changes/apply", response_model=AppliedOut, responses=CHANGE_ERRORS)
def apply_change(request: Request, context: ContextDep, user: Operator, body: ApplyIn) -> AppliedOut:
    """Apply the change previewed as ``preview_id`` as one change set (refused if the data moved since,
    or if the guard refuses and ``force`` is not given), then push the affected listings."""
    return apply(request, context, user, body, f"web: {body.request.kind}")


@router.get("/changes", response_model=list[ChangeSetSummary], responses=READ_ERRORS)
def change_sets(
    context: ContextDep,
    user: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    by: Annotated[str | None, Query(max_length=120, description="Only this user's change sets.")] = None,
) -> list[ChangeSetSummary]:
    """Change sets, newest first."""
    return changes.list_change_sets(context, limit=limit, user=by)


ChangeSetId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/changes/{change_set}", response_model=ChangeSetDetails, responses=READ_ERRORS)
def change_set(context: ContextDep, user: Viewer, change_set: ChangeSetId) -> ChangeSetDetails:
    """One change set: who, when, why, and every value's old and new value (with its currency)."""
    return changes.show_change_set(context, change_set)


class UndoOptions(BaseModel):
    override_conflicts: bool = False


class UndoApplyIn(BaseModel):
    preview_id: PreviewId
    override_conflicts: bool = False
    reason: Annotated[str, Field(max_length=500)] = ""
    force: bool = False
    sync: SyncMode = SyncMode.QUEUE


@router.post("/changes/{change_set}/undo/preview", response_model=PreviewOut, responses=CHANGE_ERRORS)
def preview_undo(
    context: ContextDep, user: Viewer, change_set: ChangeSetId, body: UndoOptions | None = None, rows: RowsLimit = 500
) -> PreviewOut:
    """What undoing a change set would restore (conflicts with later changes are refused unless overridden)."""
    request = UndoIn(kind="undo", change_set=change_set, override_conflicts=bool(body and body.override_conflicts))
    return preview_out(changes.preview_change(context, to_request(request)), rows)


@router.post("/changes/{change_set}/undo", response_model=AppliedOut, responses=CHANGE_ERRORS)
def undo(
    request: Request, context: ContextDep, user: Operator, change_set: ChangeSetId, body: UndoApplyIn
) -> AppliedOut:
    """Undo a change set, as previewed: prices and listing states go back; stock by the opposite movement."""
    undo_request = UndoIn(kind="undo", change_set=change_set, override_conflicts=body.override_conflicts)
    applied = ApplyIn(
        request=undo_request, preview_id=body.preview_id, reason=body.reason, force=body.force, sync=body.sync
    )
    return apply(request, context, user, applied, f"web: undo {change_set}")


class ListingsActionIn(BaseModel):
    selection: SelectionIn
    channels: list[Name] = Field(default_factory=list, max_length=50)


class ListingsApplyIn(ListingsActionIn):
    preview_id: PreviewId
    reason: Annotated[str, Field(max_length=500)] = ""
    sync: SyncMode = SyncMode.QUEUE


@router.post("/listings/{action}/preview", response_model=PreviewOut, responses=CHANGE_ERRORS)
def preview_listings(
    context: ContextDep, user: Viewer, action: ListingAction, body: ListingsActionIn, rows: RowsLimit = 500
) -> PreviewOut:
    """What publishing, delisting or relisting the selected SKUs would do on each channel."""
    request = ListingsIn(kind="listings", action=action, selection=body.selection, channels=body.channels)
    return preview_out(changes.preview_change(context, to_request(request)), rows)


@router.post("/listings/{action}", response_model=AppliedOut, responses=CHANGE_ERRORS)
def listings_action(
    request: Request, context: ContextDep, user: Operator, action: ListingAction, body: ListingsApplyIn
) -> AppliedOut:
    """Publish, delist or relist the selected SKUs, as previewed."""
    change = ListingsIn(kind="listings", action=action, selection=body.selection, channels=body.channels)
    applied = ApplyIn(request=change, preview_id=body.preview_id, reason=body.reason, sync=body.sync)
    return apply(request, context, user, applied, f"web: listings {action.value}")


@router.get("/catalog/skus/{sku}/history", response_model=list[HistoryEntry], responses=READ_ERRORS)
def sku_history(context: ContextDep, user: Viewer, sku: str) -> list[HistoryEntry]:
    """Every change and sync result of one SKU, oldest first."""
    return changes.sku_history(context, sku)
