"""The console's front page, per channel: listings by state, parked ones by reason, the last sync and
order pull, API calls made today against what the marketplace's rate limit allows in a day, and the
oversell window. Composed of the status and health figures (nothing counted twice)."""

from __future__ import annotations

from dataclasses import dataclass, field

from listing_sync.adapters.registry import adapter_class
from listing_sync.syncer import periods
from listing_sync.syncer.context import Context
from listing_sync.syncer.models import Channel, SyncRun
from listing_sync.syncer.services import health
from listing_sync.syncer.services.listings import state_counts
from listing_sync.syncer.services.sync import ParkedGroup, status
from sqlalchemy import func, select


@dataclass(frozen=True, slots=True)
class ChannelDashboard:
    channel: str
    kind: str
    currency: str
    #: listings per :class:`~.listings.ListingState` value (listed, pending, parked, delisted)
    states: dict[str, int]
    parked_by_reason: list[ParkedGroup] = field(default_factory=list)
    last_sync: str | None = None
    last_sync_status: str | None = None
    last_order_pull: str | None = None
    last_order_pull_status: str | None = None
    last_order_pull_message: str | None = None
    #: marketplace API calls recorded by syncs and order pulls since midnight (settings ``report_timezone``)
    calls_today: int = 0
    #: the most calls the marketplace's documented rate limit allows in 24 hours (None: no known limit)
    calls_per_day_limit: int | None = None
    #: seconds since the last good order pull (None: never): what an order waits at most to be counted
    oversell_window_s: float | None = None


def dashboard(context: Context) -> list[ChannelDashboard]:
    """Every configured channel's figures (read only)."""
    rows = {row.channel: row for row in status(context)}
    windows = {row.channel: row.oversell_window_s for row in health.channel_health(context)}
    states = state_counts(context)
    calls = _calls_since_midnight(context)
    out = []
    for config in context.channels:
        row = rows[config.name]
        rate = adapter_class(config.kind).limits.rate
        out.append(
            ChannelDashboard(
                channel=config.name,
                kind=config.kind,
                currency=config.currency,
                states=states.get(config.name, {}),
                parked_by_reason=row.parked_by_reason,
                last_sync=row.last_sync,
                last_sync_status=row.last_sync_status,
                last_order_pull=row.last_order_pull,
                last_order_pull_status=row.last_order_pull_status,
                last_order_pull_message=row.last_order_pull_message,
                calls_today=calls.get(config.name, 0),
                calls_per_day_limit=int(rate * 86_400) if rate else None,
                oversell_window_s=windows.get(config.name),
            )
        )
    return out


def _calls_since_midnight(context: Context) -> dict[str, int]:
    tz = context.settings.report_timezone
    today = periods.today_in(tz)
    since, _ = periods.utc_window(today, today, tz)
    with context.session() as session:
        return {
            name: int(calls or 0)
            for name, calls in session.execute(
                select(Channel.name, func.sum(SyncRun.api_calls))
                .join(SyncRun, SyncRun.channel_id == Channel.id)
                .where(SyncRun.started_at >= since)
                .group_by(Channel.name)
            )
        }
