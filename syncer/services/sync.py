"""Sync: the per-channel steps jobs run (push, drift check, recompute), and the user actions over them:
trigger a sync (queued for the workers, or inline), the dry-run plan, the drift check and the status.

The business rules live in :mod:`syncer.reconcile` and :mod:`syncer.orders`; scheduling in jobs/. Every
step that writes for a channel holds that channel's lease (:mod:`syncer.leases`), whoever runs it: a
worker's task or an inline command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial

from listing_sync.adapters.base import ChannelError
from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import leases, reconcile
from listing_sync.syncer.context import Context, UserError, current_user
from listing_sync.syncer.crashlog import record_crash
from listing_sync.syncer.models import Channel, ChannelListing, Sku, SyncRun
from listing_sync.syncer.services.common import prepare
from listing_sync.syncer.services.scheduler import SyncScheduler
from sqlalchemy import func, select
from sqlalchemy.orm import Session

log = logging.getLogger("syncer.sync")

#: (channel name, items done, items in all) while a channel pushes
SyncProgress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------------- per-channel steps
@contextmanager
def channel_lease(context: Context, channel: str) -> Iterator[leases.Lease]:
    """Hold one channel's lease for the block: the one writer for that channel across every process.
    Raises :class:`~syncer.leases.LeaseBusy` when another process holds it. A run of the channel still
    marked ``running`` when the lease is taken was left by a dead owner: it is marked ``interrupted``."""
    name = leases.channel_lease_name(channel)
    fresh = not leases.holds(name)
    with leases.hold(context.leases, name, ttl=context.settings.lease_seconds) as lease:
        if fresh:
            with context.session() as session:
                channel_id = session.scalar(select(Channel.id).where(Channel.name == channel))
                if channel_id is not None:
                    why = "interrupted: its process stopped before finishing (the channel's lease was free)"
                    leases.interrupt_runs(session, [channel_id], before=leases.now_utc(), why=why)
        yield lease


def refresh_skus(context: Context, sku_ids: Iterable[int] | None) -> int:
    """Recompute the listings of these SKUs on every channel (None = everything)."""
    with context.session() as session:
        return reconcile.refresh(session, context.channels, sku_ids)


def plan_channel(context: Context, channel: ChannelConfig) -> reconcile.Plan:
    """What the next push of one channel would do (nothing is pushed: an emulated channel's emulator is
    not even loaded)."""
    with context.session() as session, context.adapter(channel, counting=True) as adapter:
        return reconcile.build_plan(session, channel, adapter)


def sync_channel(
    context: Context,
    channel: ChannelConfig,
    *,
    user: str = "",
    progress: Callable[[int, int], None] | None = None,
    only_skus: Iterable[int] | None = None,
    pull_orders_first: bool = True,
    propagate: Callable[[list[int]], None] | None = None,
) -> reconcile.PushReport:
    """Push one channel's dirty listings (pulling its new orders first, before any stock push).

    While price or content work runs, the channel's stock lane sends the quantity pushes that come up
    first (``SYNCER_STOCK_LANE_SECONDS``). ``propagate(sku_ids)`` is told the SKUs an order pull made
    here changed (their new availability is due on the other channels: the worker queues those pushes)."""
    from listing_sync.syncer import orders

    with _traceback_kept(context, f"sync of {channel.name}"), channel_lease(context, channel.name):
        pull = orders.pull_channel
        return _push(context, channel, user, progress, only_skus, pull_orders_first, pull, propagate)


def _push(
    context: Context,
    channel: ChannelConfig,
    user: str,
    progress: Callable[[int, int], None] | None,
    only_skus: Iterable[int] | None,
    pull_orders_first: bool,
    pull: Callable[..., object],
    propagate: Callable[[list[int]], None] | None = None,
) -> reconcile.PushReport:
    adapter = context.adapter(channel)
    try:

        def pull_unless_within(seconds: float) -> None:
            # the pull marks every channel's listings of the affected SKUs dirty with new quantities; one
            # done in the last ``seconds`` (the order job's, another push's) counts
            from listing_sync.syncer.orders import pulled_within

            with context.session() as session:
                fresh = pulled_within(session, channel.name, seconds)
            if not fresh:
                with _traceback_kept(context, f"order pull of {channel.name}"):
                    pulled = pull(context, channel, adapter, user=user)
                affected = sorted(getattr(pulled, "affected_sku_ids", ()))
                if affected and propagate is not None:
                    propagate(affected)

        reuse = context.settings.orders_pull_reuse_seconds
        return reconcile.push_channel(
            context.session,
            channel,
            adapter,
            user=user,
            progress=progress,
            only_skus=only_skus,
            before_stock=partial(pull_unless_within, reuse) if pull_orders_first else None,
            stock_lane_seconds=context.settings.stock_lane_seconds,
            # the order job waits while this push holds the lease: its stock lane pulls at the job's interval
            lane_pull=partial(pull_unless_within, context.settings.orders_interval_minutes * 60)
            if pull_orders_first
            else None,
        )
    finally:
        adapter.close()
        context.hub.save()


def check_drift(context: Context, channel: ChannelConfig, *, fix: bool = False) -> reconcile.DriftReport:
    """Compare what one channel holds with what was pushed (``fix``: mark drifted dirty, adopt unmapped)."""
    with channel_lease(context, channel.name), context.session() as session, context.adapter(channel) as adapter:
        report = reconcile.check_drift(session, channel, adapter, fix=fix)
    context.hub.save()
    return report


def other_channels(context: Context, channel_name: str) -> list[ChannelConfig]:
    """The enabled channels except this one (where an order's new availability is pushed)."""
    return [c for c in context.channels if c.enabled and c.name != channel_name]


def channels_awaiting_confirmation(context: Context) -> list[ChannelConfig]:
    """Channels holding pushes the marketplace accepted but has not confirmed yet (Amazon)."""
    with context.session() as session:
        names = set(
            session.scalars(
                select(Channel.name)
                .join(ChannelListing, ChannelListing.channel_id == Channel.id)
                .where(ChannelListing.status == "submitted")
                .distinct()
            )
        )
    return [c for c in context.channels if c.enabled and c.name in names]


# ------------------------------------------------------------------------------ trigger after a change
class SyncMode(StrEnum):
    """How the listings a change affected get pushed."""

    QUEUE = "queue"  # queued for the workers at once
    INLINE = "inline"  # pushed here and now
    NONE = "none"  # left for the scheduled sync


@dataclass(frozen=True, slots=True)
class ChannelPush:
    """One channel's share of a triggered sync (``report`` when it ran inline)."""

    channel: str
    skus: int
    report: reconcile.PushReport | None = None


@dataclass(frozen=True, slots=True)
class SyncTriggered:
    """What happened to the sync a change triggered: ``mode`` is queued, inline, failed (could not
    queue: ``warning`` says why) or None (nothing to push)."""

    mode: str | None
    channels: tuple[ChannelPush, ...] = ()
    warning: str | None = None


def trigger_sync(
    context: Context,
    affected: Mapping[str, Sequence[int]],
    *,
    user: str,
    mode: SyncMode,
    scheduler: SyncScheduler | None = None,
) -> SyncTriggered:
    """Push the affected listings (channel -> SKU ids): queued for the workers, or inline."""
    configs = {c.name: c for c in context.channels}
    targets = {name: list(ids) for name, ids in affected.items() if ids and name in configs}
    if not targets or mode is SyncMode.NONE:
        return SyncTriggered(None)
    if mode is SyncMode.INLINE:
        pushes = tuple(
            ChannelPush(name, len(ids), sync_channel(context, configs[name], user=user, only_skus=ids))
            for name, ids in targets.items()
        )
        return SyncTriggered("inline", pushes)
    counts = tuple(ChannelPush(name, len(ids)) for name, ids in targets.items())
    try:
        if scheduler is None:
            raise RuntimeError("no job queue was given")
        for name, ids in targets.items():
            scheduler.queue_sync(name, only_skus=ids, user=user)
    except Exception as exc:  # the change is applied; the scheduled sync will push it
        return SyncTriggered("failed", counts, f"could not queue the sync ({exc})")
    return SyncTriggered("queued", counts)


# ------------------------------------------------------------------------------------- `syncer sync`
@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """What the next sync of one channel would do: items per operation, API calls (the adapter's estimate;
    order pulls and token calls not included), deferred items, and how batches are written and why."""

    channel: str
    counts: dict[str, int]
    api_calls: int
    deferred: int
    notes: tuple[str, ...] = ()


def plan_sync(context: Context, channels: Sequence[str] | None = None) -> list[ChannelPlan]:
    """The dry run of a sync: per channel, what would be pushed and how many API calls (nothing pushed)."""
    prepare(context)
    out = []
    for config in context.selected_channels(list(channels or [])):
        plan = plan_channel(context, config)
        calls = sum(plan.calls().values())
        out.append(ChannelPlan(config.name, plan.counts(), calls, len(plan.deferred), tuple(plan.notes)))
    return out


@dataclass(frozen=True, slots=True)
class SyncQueued:
    channels: tuple[str, ...]


def queue_sync(
    context: Context, channels: Sequence[str] | None, *, user: str | None, scheduler: SyncScheduler
) -> SyncQueued:
    """Queue a sync of each channel for the workers."""
    prepare(context)
    names = tuple(c.name for c in context.selected_channels(list(channels or [])))
    for name in names:
        scheduler.queue_sync(name, user=current_user(user))
    return SyncQueued(names)


def run_sync(
    context: Context, channels: Sequence[str] | None, *, user: str | None, progress: SyncProgress | None = None
) -> list[reconcile.PushReport]:
    """Push each channel's dirty listings here and now (its new orders are pulled first). Channels run
    concurrently, one thread each (at most ``SYNCER_SYNC_PARALLEL_CHANNELS``), each under its own lease and
    its marketplace's rate limiter, so the wall time is about the slowest channel's. Reports come back in
    channel order."""
    prepare(context)
    who = current_user(user)
    jobs: list[Callable[[], reconcile.PushReport]] = []
    for config in context.selected_channels(list(channels or [])):
        step = None
        if progress is not None:

            def step(done: int, total: int, name: str = config.name) -> None:
                progress(name, done, total)

        jobs.append(partial(_contained, config.name, partial(sync_channel, context, config, user=who, progress=step)))
    workers = min(len(jobs), context.settings.sync_parallel_channels)
    if workers <= 1:
        return [job() for job in jobs]
    context.hub, context.tokens, context.limits  # noqa: B018 - built once here, not raced for by the threads
    names = [c.name for c in context.selected_channels(list(channels or []))]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        reports = [future.result() for future in [pool.submit(job) for job in jobs]]
        # a channel's pull may have changed what another channel must show after that one had pushed:
        # push those again (their own orders were just pulled), unless their pull failed (held)
        again = [
            (
                n,
                pool.submit(
                    _contained,
                    name,
                    partial(sync_channel, context, context.channel(name), user=who, pull_orders_first=False),
                ),
            )
            for n, name in enumerate(names)
            if reports[n].held == 0 and reports[n].aborted is None and _due(context, name)
        ]
        for n, future in again:
            _merge(reports[n], future.result())
    return reports


def _due(context: Context, channel: str) -> bool:
    """Whether the channel has listings waiting for a push now (dirty, new or due for a retry)."""
    with context.session() as session:
        return reconcile.due_count(session, channel) > 0


def _merge(report: reconcile.PushReport, more: reconcile.PushReport) -> None:
    """Count a second pass of a channel's sync into its first report."""
    for name in ("ok", "failed", "retry", "parked", "submitted", "api_calls", "batches"):
        setattr(report, name, getattr(report, name) + getattr(more, name))
    report.errors.extend(more.errors)
    report.aborted = report.aborted or more.aborted


def _contained(channel: str, run: Callable[[], reconcile.PushReport]) -> reconcile.PushReport:
    """One channel's sync, whatever its marketplace answered: a channel error or an adapter bug ends
    that channel's report (``aborted``, the traceback in the log) and the next channel goes on. Errors
    meant for the user (a database down) still stop the command. A channel whose lease another process
    holds is reported ``busy`` (with who and until when) and the next channel goes on."""
    try:
        return run()
    except leases.LeaseBusy as exc:
        return reconcile.PushReport(channel=channel, aborted=str(exc), busy=True)
    except UserError:
        raise
    except ChannelError as exc:
        log.error("[%s] sync stopped: %s", channel, exc)
        return reconcile.PushReport(channel=channel, aborted=str(exc))
    except Exception as exc:  # its traceback is in the error log (_traceback_kept): one line here
        notes = " ".join(getattr(exc, "__notes__", ()))
        why = f"{type(exc).__name__}: {exc} (a bug; {notes or 'no traceback kept'})"
        log.error("[%s] sync failed: %s", channel, why)
        return reconcile.PushReport(channel=channel, aborted=why)


@contextmanager
def _traceback_kept(context: Context, what: str) -> Iterator[None]:
    """An unexpected exception (a bug, not a typed error) leaves its traceback in the error log and
    carries a note saying where, so that it can be told in one line and contained."""
    try:
        yield
    except (ChannelError, UserError, leases.LeaseLost):
        raise
    except Exception as exc:
        path = record_crash(exc, context.data_dir, [what])
        exc.add_note(f"the traceback is in {path}" if path else "no error log could be written")
        raise


def drift_check(context: Context, channels: Sequence[str] | None, *, fix: bool) -> list[reconcile.DriftReport]:
    """The drift check of each channel (``fix``: drifted listings marked dirty, unmapped ones adopted)."""
    prepare(context)
    return [check_drift(context, config, fix=fix) for config in context.selected_channels(list(channels or []))]


# ------------------------------------------------------------------------------------------- status
@dataclass(frozen=True, slots=True)
class ParkedError:
    sku: str
    code: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class ParkedGroup:
    """Parked listings of one channel with one error code: how many, one message, the first SKUs."""

    code: str | None
    count: int
    message: str | None
    skus: list[str]


@dataclass(frozen=True, slots=True)
class RetryWait:
    """A listing waiting for its next push attempt after a retryable failure."""

    sku: str
    code: str | None
    message: str | None
    attempts: int
    next_try_at: str | None


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """One channel's listings by state, its parked errors (first 50), its last sync and order pull."""

    channel: str
    kind: str
    listings: int
    clean: int
    dirty: int
    submitted: int
    parked: int
    parked_errors: list[ParkedError] = field(default_factory=list)
    #: every parked listing grouped by its error code, most first
    parked_by_reason: list[ParkedGroup] = field(default_factory=list)
    last_sync: str | None = None
    last_sync_status: str | None = None
    last_order_pull: str | None = None
    #: ok, partial (orders left out, each told in the message) or failed (the message says why)
    last_order_pull_status: str | None = None
    last_order_pull_message: str | None = None
    #: shipments recorded here and not pushed yet (new or waiting for a retry), and those parked
    shipments_pending: int = 0
    shipments_parked: int = 0
    shipment_errors: list[ParkedError] = field(default_factory=list)
    #: listings waiting for a retry (counted in ``dirty`` too), each with its last error and next attempt (first 50)
    retrying: int = 0
    retry_waits: list[RetryWait] = field(default_factory=list)


def status(context: Context) -> list[ChannelStatus]:
    """Per channel: listings, dirty, parked (with messages), last sync, last order pull."""
    prepare(context)
    from listing_sync.syncer.services.shipping import ShipmentProblem, shipment_problems

    rows = []
    with context.session() as session:
        ids = {c.name: c.id for c in session.scalars(select(Channel))}
        for config in context.channels:
            channel_id = ids.get(config.name)
            counts: dict[str, int] = {}
            parked: list[ParkedError] = []
            last_sync = last_pull = None
            shipments: dict[str, int] = {}
            failing: list[ShipmentProblem] = []
            waits: list[RetryWait] = []
            if channel_id is not None:
                counts = {
                    state: count
                    for state, count in session.execute(
                        select(ChannelListing.status, func.count())
                        .where(ChannelListing.channel_id == channel_id)
                        .group_by(ChannelListing.status)
                    )
                }
                parked = [
                    ParkedError(sku, code, message)
                    for sku, code, message in session.execute(
                        select(Sku.sku, ChannelListing.last_error_code, ChannelListing.last_error)
                        .join(Sku, Sku.id == ChannelListing.sku_id)
                        .where(ChannelListing.channel_id == channel_id, ChannelListing.status == "parked")
                        .order_by(Sku.sku)
                        .limit(50)
                    )
                ]
                groups = _parked_groups(session, channel_id)
                waits = _retry_waits(session, channel_id)
                last_sync, last_pull = _last_run(session, channel_id, "sync"), _last_run(session, channel_id, "orders")
                shipments, failing = shipment_problems(context, config.name)
            rows.append(
                ChannelStatus(
                    channel=config.name,
                    kind=config.kind,
                    listings=sum(counts.values()),
                    clean=counts.get("clean", 0),
                    dirty=sum(counts.get(s, 0) for s in ("new", "dirty", "retry")),
                    submitted=counts.get("submitted", 0),
                    parked=counts.get("parked", 0),
                    parked_errors=parked,
                    parked_by_reason=groups,
                    last_sync=_when(last_sync),
                    last_sync_status=last_sync.status if last_sync else None,
                    last_order_pull=_when(last_pull),
                    last_order_pull_status=last_pull.status if last_pull else None,
                    last_order_pull_message=last_pull.message if last_pull else None,
                    shipments_pending=shipments.get("pending", 0) + shipments.get("retry", 0),
                    shipments_parked=shipments.get("parked", 0),
                    shipment_errors=[
                        ParkedError(f"{f.order} {f.tracking} ({f.status}, {f.attempts} attempt(s))", f.code, f.message)
                        for f in failing
                    ],
                    retrying=counts.get("retry", 0),
                    retry_waits=waits,
                )
            )
    return rows


def _parked_groups(session: Session, channel_id: int) -> list[ParkedGroup]:
    """The channel's parked listings by error code (all of them, counted in SQL), most first."""
    parked = (ChannelListing.channel_id == channel_id, ChannelListing.status == "parked")
    counts = session.execute(
        select(ChannelListing.last_error_code, func.count())
        .where(*parked)
        .group_by(ChannelListing.last_error_code)
        .order_by(func.count().desc())
    ).all()
    groups = []
    for code, count in counts:
        same = ChannelListing.last_error_code.is_(None) if code is None else ChannelListing.last_error_code == code
        first = session.execute(
            select(Sku.sku, ChannelListing.last_error)
            .join(Sku, Sku.id == ChannelListing.sku_id)
            .where(*parked, same)
            .order_by(Sku.sku)
            .limit(5)
        ).all()
        groups.append(ParkedGroup(code, count, first[0][1] if first else None, [sku for sku, _ in first]))
    return groups


def _retry_waits(session: Session, channel_id: int) -> list[RetryWait]:
    """The channel's listings waiting for a retry, soonest first (50 at most)."""
    query = (
        select(
            Sku.sku,
            ChannelListing.last_error_code,
            ChannelListing.last_error,
            ChannelListing.attempts,
            ChannelListing.next_try_at,
        )
        .join(Sku, Sku.id == ChannelListing.sku_id)
        .where(ChannelListing.channel_id == channel_id, ChannelListing.status == "retry")
        .order_by(ChannelListing.next_try_at, Sku.sku)
        .limit(50)
    )
    return [
        RetryWait(sku, code, message, attempts, at.astimezone(UTC).isoformat(timespec="seconds") if at else None)
        for sku, code, message, attempts, at in session.execute(query)
    ]


def _last_run(session: Session, channel_id: int, kind: str) -> SyncRun | None:
    return session.scalar(
        select(SyncRun)
        .where(SyncRun.channel_id == channel_id, SyncRun.kind == kind)
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def _when(run: SyncRun | None) -> str | None:
    if run is None:
        return None
    stamp = run.finished_at or run.started_at
    return stamp.astimezone(UTC).isoformat(timespec="seconds") if isinstance(stamp, datetime) else None
