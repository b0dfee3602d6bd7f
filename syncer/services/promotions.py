"""Scheduled price changes (promotions, 活动价): a bulk price change with a start and an end.

* Scheduling previews it now and refuses what the price guard refuses (unless forced); nothing changes
  until the start. It can be cancelled until it starts; ``list_scheduled`` shows what waits and runs.
* At the start the worker plans the change again on the data of that moment and applies it as one change
  set (the guard checked again; a refusal leaves the change ``failed`` with the guard's words).
* At the end it reverts that change set the way undo does, except that a value changed by hand (or by
  another change set) since the start is left as it is now: the later change wins.
* :func:`run_due` does both; the worker calls it every minute and at each start and end exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from listing_sync.syncer import changes
from listing_sync.syncer.changes.apply import _same
from listing_sync.syncer.context import Context, current_user
from listing_sync.syncer.models import ChangeItem, Channel, ChannelListing, NativeSale, ScheduledChange
from listing_sync.syncer.services.changes import (
    ChangePreview,
    GuardRefused,
    NotConfirmed,
    PriceAdjust,
    PriceSet,
    apply_change,
    preview_change,
)
from listing_sync.syncer.services.common import InvalidRequest, NotFound, ServiceError, prepare
from listing_sync.syncer.services.scheduler import SyncScheduler
from listing_sync.syncer.services.sync import SyncMode, trigger_sync
from sqlalchemy import select, update

SCHEDULABLE = (PriceSet, PriceAdjust)


# ------------------------------------------------------------------------------------ the request
def request_to_json(request: PriceSet | PriceAdjust) -> dict[str, Any]:
    sel = request.selection
    data: dict[str, Any] = {
        "kind": "price_set" if isinstance(request, PriceSet) else "price_adjust",
        "selection": {
            "patterns": list(sel.patterns),
            "categories": list(sel.categories),
            "tags": list(sel.tags),
            "skus_file": str(sel.skus_file) if sel.skus_file else None,
        },
        "channel": request.channel,
        "currency": request.currency,
    }
    if isinstance(request, PriceSet):
        data["amount"] = str(request.amount)
    else:
        data["percent"] = None if request.percent is None else str(request.percent)
        data["amount"] = None if request.amount is None else str(request.amount)
    return data


def request_from_json(data: dict[str, Any]) -> PriceSet | PriceAdjust:
    s = data["selection"]
    selection = changes.Selection(
        list(s["patterns"]), list(s["categories"]), list(s["tags"]), Path(s["skus_file"]) if s["skus_file"] else None
    )
    if data["kind"] == "price_set":
        return PriceSet(selection, Decimal(data["amount"]), data.get("channel"), data.get("currency"))
    dec = lambda v: None if v is None else Decimal(v)  # noqa: E731
    return PriceAdjust(
        selection, percent=dec(data.get("percent")), amount=dec(data.get("amount")), channel=data.get("channel")
    )


# --------------------------------------------------------------------------------------- schedule
@dataclass(frozen=True, slots=True)
class ScheduledInfo:
    id: int
    status: str
    starts_at: str
    ends_at: str | None
    timezone: str
    user: str
    reason: str
    command: str
    start_change_set: int | None
    end_change_set: int | None
    message: str


def _info(row: ScheduledChange) -> ScheduledInfo:
    def when(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat(timespec="seconds") if value else None

    return ScheduledInfo(
        row.id,
        row.status,
        when(row.starts_at) or "",
        when(row.ends_at),
        row.timezone,
        row.user,
        row.reason,
        row.command,
        row.start_change_set_id,
        row.end_change_set_id,
        row.message,
    )


def native_sale_notes(context: Context, channel: str | None = None) -> list[str]:
    """How a scheduled price change reaches each channel, for the preview: a native dated sale price sent
    ahead (the marketplace switches it even if our worker is down), a compare-at price, or our worker."""
    from listing_sync.adapters.registry import adapter_class

    notes = []
    for config in context.channels:
        if channel and config.name != channel:
            continue
        adapter = adapter_class(config.kind)
        how = {
            "dated": "sent ahead as a sale price with its dates: the marketplace switches it by itself even if "
            "our worker is down",
            "compare_at": "no dated sale price there: our worker switches it at the start and the end",
        }.get(
            adapter.native_sale,
            "no native dated sale price through its API: our worker switches it at the "
            "start and the end (keep `syncer worker` running)",
        )
        native = f" ({adapter.native_sale_schedule})" if adapter.native_sale_schedule else ""
        notes.append(f"{config.name}: {how}{native}")
    return notes


def _native_kinds(context: Context) -> dict[str, str]:
    from listing_sync.adapters.registry import adapter_class

    return {c.name: adapter_class(c.kind).native_sale for c in context.channels if adapter_class(c.kind).native_sale}


def _record_native_sales(
    context: Context, session: Any, scheduled_id: int, preview: ChangePreview, start: datetime, end: datetime
) -> dict[str, list[int]]:
    """One :class:`NativeSale` per listing of a channel with a native sale whose price the change lowers;
    the dated ones make their listings dirty so the next sync sends the sale ahead. Returns channel -> SKU
    ids to push now."""
    kinds = _native_kinds(context)
    ahead: dict[str, list[int]] = {}
    listing_ids = []
    for effect in preview.plan.effects:
        kind = kinds.get(effect.channel)
        if not kind or effect.field != "price" or effect.listing_id is None:
            continue
        if effect.old is None or effect.new is None or not Decimal(effect.new) < Decimal(effect.old):
            continue  # only a lower price is a sale (a marketplace drops a sale price above the regular one)
        session.add(
            NativeSale(
                scheduled_change_id=scheduled_id,
                listing_id=effect.listing_id,
                kind=kind,
                regular_price=Decimal(effect.old),
                sale_price=Decimal(effect.new),
                starts_at=start,
                ends_at=end,
                state="pending" if kind == "dated" else "on",
            )
        )
        if kind == "dated":
            listing_ids.append(effect.listing_id)
            ahead.setdefault(effect.channel, []).append(effect.sku_id)
    _make_dirty(session, listing_ids)
    return ahead


def _make_dirty(session: Any, listing_ids: Sequence[int]) -> None:
    """A new version of each clean listing, so the next sync pushes its (native sale) price."""
    for start in range(0, len(listing_ids), 500):
        session.execute(
            update(ChannelListing)
            .where(
                ChannelListing.id.in_(listing_ids[start : start + 500]),
                ChannelListing.status.in_(("clean", "submitted")),
            )
            .values(version=ChannelListing.version + 1, status="dirty", attempts=0, next_try_at=None)
            .execution_options(synchronize_session=False)
        )


def _withdraw_native_sales(context: Context, scheduled_id: int, *, ended: bool = False) -> dict[str, list[int]]:
    """Take the change's native sales back: ``ended`` (its window passed) marks them off; otherwise those a
    marketplace may hold are cleared by the next push. Returns channel -> SKU ids to push."""
    affected: dict[str, list[int]] = {}
    with context.session() as session:
        rows = list(
            session.execute(
                select(NativeSale, ChannelListing.sku_id, Channel.name)
                .join(ChannelListing, ChannelListing.id == NativeSale.listing_id)
                .join(Channel, Channel.id == ChannelListing.channel_id)
                .where(NativeSale.scheduled_change_id == scheduled_id, NativeSale.state.in_(("pending", "on")))
            )
        )
        dirty = []
        for sale, sku_id, channel in rows:
            if ended or (sale.kind == "compare_at"):
                sale.state = "off"  # nothing of a compare-at sale is on the marketplace before its start
                continue
            sale.state = "clear"
            dirty.append(sale.listing_id)
            affected.setdefault(channel, []).append(sku_id)
        session.flush()
        _make_dirty(session, dirty)
    return affected


def schedule_change(
    context: Context,
    preview: ChangePreview,
    *,
    starts_at: datetime | None,
    ends_at: datetime | None,
    timezone: str = "UTC",
    user: str | None = None,
    reason: str = "",
    command: str = "",
    force: bool = False,
    confirm: Callable[[ChangePreview], bool] | None = None,
    scheduler: SyncScheduler | None = None,
    now: datetime | None = None,
) -> ScheduledInfo:
    """Keep a previewed price change to be applied at ``starts_at`` (None: now, by the worker's next run)
    and reverted at ``ends_at`` (None: never). Refused, with nothing kept: a change that is not a price
    change, times without a zone, an end not after the start or already past, what the guard refuses
    unless ``force`` (checked again at the start), a ``confirm`` that answers no."""
    now = now or datetime.now(UTC)
    if not isinstance(preview.request, SCHEDULABLE):
        raise InvalidRequest("only price changes (price set, price adjust) can be scheduled")
    for name, value in (("--from", starts_at), ("--until", ends_at)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"{name} needs a time zone (e.g. 2026-11-11T00:00+08:00)")
    start = (starts_at or now).astimezone(UTC)
    end = ends_at.astimezone(UTC) if ends_at else None
    if end is not None and end <= start:
        raise InvalidRequest("--until must be after --from")
    if end is not None and end <= now:
        raise InvalidRequest("--until is already past")
    if preview.empty:
        raise InvalidRequest("nothing to change: every selected price is already what was asked")
    if preview.violations and not force:
        raise GuardRefused(preview.violations)
    if confirm is not None and not confirm(preview):
        raise NotConfirmed()
    with context.session() as session:
        row = ScheduledChange(
            user=current_user(user),
            reason=reason[:500],
            command=command[:500],
            request=request_to_json(preview.request),
            starts_at=start,
            ends_at=end,
            timezone=timezone,
            force=force,
            status="scheduled",
            message="",
        )
        session.add(row)
        session.flush()
        info = _info(row)
        ahead = _record_native_sales(context, session, row.id, preview, start, end) if end is not None else {}
    if ahead and scheduler is not None:  # the dated sale prices go to their marketplaces now
        trigger_sync(context, ahead, user=current_user(user), mode=SyncMode.QUEUE, scheduler=scheduler)
    if scheduler is not None:
        queue_at = getattr(scheduler, "queue_scheduled_run", None)
        if queue_at is not None:  # exactly at the start and the end; the minute tick is the safety net
            for at in (start, end):
                if at is not None:
                    queue_at(at)
    return info


def list_scheduled(context: Context, *, all_: bool = False) -> list[ScheduledInfo]:
    """Scheduled changes, soonest first: waiting and running ones (``all_``: finished ones too)."""
    prepare(context)
    query = select(ScheduledChange).order_by(ScheduledChange.starts_at, ScheduledChange.id)
    if not all_:
        query = query.where(ScheduledChange.status.in_(("scheduled", "active")))
    with context.session() as session:
        return [_info(row) for row in session.scalars(query)]


def cancel_scheduled(
    context: Context, scheduled_id: int, *, user: str | None = None, scheduler: SyncScheduler | None = None
) -> ScheduledInfo:
    """Cancel a scheduled change that has not started (a running one is ended by `changes undo`). Sale
    prices sent ahead to marketplaces with a native dated sale are cleared by a sync queued now (or the
    next one)."""
    prepare(context)
    with context.session() as session:
        row = session.get(ScheduledChange, scheduled_id)
        if row is None:
            raise NotFound(f"no scheduled change {scheduled_id}")
        if row.status != "scheduled":
            hint = " (it started: undo its change set to end it early)" if row.status == "active" else ""
            raise InvalidRequest(
                f"scheduled change {scheduled_id} is {row.status}: only waiting ones can be cancelled{hint}"
            )
        row.status = "cancelled"
        row.message = f"cancelled by {current_user(user)} at {datetime.now(UTC).isoformat(timespec='seconds')}"
        info = _info(row)
    withdrawn = _withdraw_native_sales(context, scheduled_id)
    if withdrawn and scheduler is not None:
        trigger_sync(context, withdrawn, user=current_user(user), mode=SyncMode.QUEUE, scheduler=scheduler)
    return info


# -------------------------------------------------------------------------------------------- run
@dataclass(frozen=True, slots=True)
class Ran:
    """What :func:`run_due` did to one scheduled change."""

    id: int
    action: str  # started | ended | failed | missed
    change_set: int | None
    message: str = ""


def _claim(context: Context, scheduled_id: int, was: str, becomes: str) -> bool:
    """Move one scheduled change from ``was`` to ``becomes`` unless another worker did first."""
    with context.session() as session:
        result = session.execute(
            update(ScheduledChange)
            .where(ScheduledChange.id == scheduled_id, ScheduledChange.status == was)
            .values(status=becomes)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


def run_due(
    context: Context,
    *,
    now: datetime | None = None,
    scheduler: SyncScheduler | None = None,
    sync: SyncMode = SyncMode.QUEUE,
) -> list[Ran]:
    """Start the scheduled changes whose start has come and end the running ones whose end has; each is
    claimed first, so two workers never apply one twice."""
    now = now or datetime.now(UTC)
    prepare(context)
    with context.session() as session:
        waiting = [
            (row.id, row.ends_at)
            for row in session.scalars(
                select(ScheduledChange).where(ScheduledChange.status == "scheduled", ScheduledChange.starts_at <= now)
            )
        ]
    ran: list[Ran] = []
    for scheduled_id, ends_at in waiting:
        if ends_at is not None and ends_at <= now:
            if _claim(context, scheduled_id, "scheduled", "missed"):
                _withdraw_native_sales(context, scheduled_id, ended=True)
                _note(
                    context,
                    scheduled_id,
                    "its whole window passed before a worker ran it: nothing was applied here (a native sale "
                    "price sent ahead ran on its marketplace by itself)",
                )
                ran.append(Ran(scheduled_id, "missed", None))
            continue
        if _claim(context, scheduled_id, "scheduled", "starting"):
            ran.append(_start(context, scheduled_id, now, scheduler, sync))
    with context.session() as session:
        ending = list(
            session.scalars(
                select(ScheduledChange.id).where(
                    ScheduledChange.status == "active",
                    ScheduledChange.ends_at.is_not(None),
                    ScheduledChange.ends_at <= now,
                )
            )
        )
    for scheduled_id in ending:
        if _claim(context, scheduled_id, "active", "ending"):
            ran.append(_end(context, scheduled_id, now, scheduler, sync))
    return ran


def _note(context: Context, scheduled_id: int, message: str, **values: Any) -> None:
    with context.session() as session:
        row = session.get(ScheduledChange, scheduled_id)
        assert row is not None
        row.message = message[:2000]
        for key, value in values.items():
            setattr(row, key, value)


def _start(context: Context, scheduled_id: int, now: datetime, scheduler: SyncScheduler | None, sync: SyncMode) -> Ran:
    with context.session() as session:
        row = session.get(ScheduledChange, scheduled_id)
        assert row is not None
        request, force, user, reason, command = (
            request_from_json(row.request),
            row.force,
            row.user,
            row.reason,
            row.command,
        )
    try:
        preview = preview_change(context, request)
        applied = apply_change(
            context,
            preview,
            user=user,
            reason=f"scheduled change {scheduled_id} starts" + (f": {reason}" if reason else ""),
            command=command,
            force=force,
            sync=sync,
            scheduler=scheduler,
        )
    except (ServiceError, changes.ChangeRefused) as exc:
        _note(context, scheduled_id, f"not started: {exc}", status="failed", started_at=now)
        withdrawn = _withdraw_native_sales(context, scheduled_id)  # refused here: not on the marketplace either
        if withdrawn:
            trigger_sync(context, withdrawn, user=user, mode=sync, scheduler=scheduler)
        return Ran(scheduled_id, "failed", None, str(exc))
    _note(
        context,
        scheduled_id,
        f"started: {len(preview.lines)} price(s) of {preview.skus} SKU(s)"
        if applied.change_set_id
        else "started: nothing to change",
        status="active",
        start_change_set_id=applied.change_set_id,
        started_at=now,
    )
    return Ran(scheduled_id, "started", applied.change_set_id)


def _end(context: Context, scheduled_id: int, now: datetime, scheduler: SyncScheduler | None, sync: SyncMode) -> Ran:
    """Revert the start's change set, keeping every value changed since by someone else."""
    with context.session() as session:
        row = session.get(ScheduledChange, scheduled_id)
        assert row is not None
        start_set, user, reason = row.start_change_set_id, row.user, row.reason
        if start_set is None:
            row.status, row.ended_at, row.message = "done", now, "ended: nothing had changed at the start"
            return Ran(scheduled_id, "ended", None)
        undo = changes.plan_undo(session, start_set)
        names = dict(session.execute(select(Channel.id, Channel.name)).all())
        promo = {
            (item.sku_id, item.field, names.get(item.channel_id) if item.channel_id else None): item.new_value
            for item in session.scalars(select(ChangeItem).where(ChangeItem.change_set_id == start_set))
        }
        lines = [line for line in undo.lines if line.key in promo and _same(line.old, promo[line.key], line.field)]
        kept = len(promo) - len(lines)
        applied = None
        if lines:
            applied = changes.apply_change(
                session,
                lines,
                context.channels,
                user=user,
                reason=f"scheduled change {scheduled_id} ends" + (f": {reason}" if reason else ""),
                command=f"end of scheduled change {scheduled_id}",
                undo_of=start_set,
                force=True,  # back to the values from before the promotion
            )
        row.status, row.ended_at = "done", now
        row.end_change_set_id = applied.change_set_id if applied else None
        session.execute(  # the end has come whatever the clock of the sync that pushes it says
            update(NativeSale)
            .where(
                NativeSale.scheduled_change_id == scheduled_id,
                NativeSale.kind == "dated",
                NativeSale.state.in_(("pending", "on")),
            )
            .values(state="ended")
            .execution_options(synchronize_session=False)
        )
        row.message = f"ended: {len(lines)} price(s) back" + (
            f", {kept} kept as changed since the start" if kept else ""
        )
        affected = applied.affected if applied else {}
        end_set = row.end_change_set_id
    if affected:
        trigger_sync(context, affected, user=user, mode=sync, scheduler=scheduler)
    return Ran(scheduled_id, "ended", end_set)


def next_runs(context: Context, after: datetime | None = None) -> Sequence[datetime]:
    """The starts and ends still to come (for a worker that wants to wake exactly then)."""
    after = after or datetime.now(UTC)
    with context.session() as session:
        rows = list(session.scalars(select(ScheduledChange).where(ScheduledChange.status.in_(("scheduled", "active")))))
    times = [r.starts_at for r in rows if r.status == "scheduled"] + [r.ends_at for r in rows if r.ends_at]
    return sorted(t for t in times if t is not None and t > after - timedelta(seconds=1))
