"""Is the service healthy? Per channel: the last sync and order pull, the oversell window (time since the
last successful order pull), parked listings and the channel's lease. ``syncer status --format json``
exits by it and the worker's metrics endpoint exports the same figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from listing_sync.syncer import leases
from listing_sync.syncer.context import Context
from listing_sync.syncer.models import Channel, ChannelListing, SyncRun
from sqlalchemy import func, select
from sqlalchemy.orm import Session

#: a lease held longer than this is stuck (a sync or pull that never ends), unless told otherwise
STUCK_LEASE_MINUTES = 60.0


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel: str
    last_sync_status: str | None
    last_order_pull_status: str | None
    #: seconds since the last order pull that ended ``ok`` or ``partial`` (None: never pulled)
    oversell_window_s: float | None
    parked: int
    #: seconds the channel's lease has been held (None: free)
    lease_age_s: float | None
    lease_owner: str | None


@dataclass(frozen=True, slots=True)
class Health:
    healthy: bool
    channels: list[ChannelHealth]
    problems: list[str] = field(default_factory=list)


def channel_health(context: Context) -> list[ChannelHealth]:
    """The health figures of every configured channel (read only)."""
    now = leases.now_utc()
    held = {info.name: info for info in context.leases.all() if info.live(now)}
    rows = []
    with context.session() as session:
        ids = {c.name: c.id for c in session.scalars(select(Channel))}
        for config in context.channels:
            channel_id = ids.get(config.name)
            info = held.get(leases.channel_lease_name(config.name))
            since = info.acquired_at if info else None
            rows.append(
                ChannelHealth(
                    channel=config.name,
                    last_sync_status=_last_status(session, channel_id, "sync"),
                    last_order_pull_status=_last_status(session, channel_id, "orders"),
                    oversell_window_s=_age(now, _last_good_pull(session, channel_id)),
                    parked=_parked(session, channel_id),
                    lease_age_s=_age(now, since) if info else None,
                    lease_owner=info.owner if info else None,
                )
            )
    return rows


def assess(
    context: Context,
    *,
    max_parked: int | None = None,
    max_pull_age_minutes: float | None = None,
    stuck_lease_minutes: float = STUCK_LEASE_MINUTES,
) -> Health:
    """Unhealthy when a channel's last sync or order pull failed, it has more than ``max_parked`` parked
    listings, its last good order pull is older than ``max_pull_age_minutes`` (or never happened, when that
    limit is given), or its lease has been held for more than ``stuck_lease_minutes``."""
    channels = channel_health(context)
    problems: list[str] = []
    for row in channels:
        if row.last_sync_status == "failed":
            problems.append(f"{row.channel}: last sync failed")
        if row.last_order_pull_status == "failed":
            problems.append(f"{row.channel}: last order pull failed")
        if max_parked is not None and row.parked > max_parked:
            problems.append(f"{row.channel}: {row.parked} parked listings (more than {max_parked})")
        if max_pull_age_minutes is not None and (
            row.oversell_window_s is None or row.oversell_window_s > max_pull_age_minutes * 60
        ):
            when = "never" if row.oversell_window_s is None else f"{row.oversell_window_s / 60:.0f} min ago"
            problems.append(f"{row.channel}: last good order pull {when} (limit {max_pull_age_minutes:g} min)")
        if row.lease_age_s is not None and row.lease_age_s > stuck_lease_minutes * 60:
            problems.append(
                f"{row.channel}: lease held by {row.lease_owner} for {row.lease_age_s / 60:.0f} min "
                f"(limit {stuck_lease_minutes:g} min)"
            )
    return Health(not problems, channels, problems)


def _last_status(session: Session, channel_id: int | None, kind: str) -> str | None:
    if channel_id is None:
        return None
    return session.scalar(
        select(SyncRun.status)
        .where(SyncRun.channel_id == channel_id, SyncRun.kind == kind, SyncRun.status != "running")
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def _last_good_pull(session: Session, channel_id: int | None) -> datetime | None:
    if channel_id is None:
        return None
    return session.scalar(
        select(func.max(func.coalesce(SyncRun.finished_at, SyncRun.started_at))).where(
            SyncRun.channel_id == channel_id, SyncRun.kind == "orders", SyncRun.status.in_(("ok", "partial"))
        )
    )


def _parked(session: Session, channel_id: int | None) -> int:
    if channel_id is None:
        return 0
    return (
        session.scalar(
            select(func.count()).where(ChannelListing.channel_id == channel_id, ChannelListing.status == "parked")
        )
        or 0
    )


def _age(now: datetime, then: datetime | None) -> float | None:
    if then is None:
        return None
    if then.tzinfo is None:  # SQLite hands back naive UTC
        then = then.replace(tzinfo=now.tzinfo)
    return max(0.0, round((now - then).total_seconds(), 3))
