"""Use cases wired to the context: sync a channel, pull its orders, check drift, report status.

Jobs and the CLI call these; they hold no business rules of their own (those live in reconcile,
orders, rules) and no scheduling or locking (that is jobs/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import reconcile
from listing_sync.syncer.context import Context, ensure_channel_rows
from listing_sync.syncer.models import Channel, ChannelListing, Sku, SyncRun
from sqlalchemy import func, select


def prepare(context: Context) -> None:
    """Make sure every configured channel has its database row (cheap; idempotent)."""
    with context.session() as session:
        ensure_channel_rows(session, context.channels)


def refresh_skus(context: Context, sku_ids: Iterable[int] | None) -> int:
    """Recompute the listings of these SKUs on every channel (None = everything)."""
    with context.session() as session:
        return reconcile.refresh(session, context.channels, sku_ids)


def plan_channel(context: Context, channel: ChannelConfig) -> reconcile.Plan:
    with context.session() as session, context.adapter(channel) as adapter:
        return reconcile.build_plan(session, channel, adapter)


def sync_channel(
    context: Context,
    channel: ChannelConfig,
    *,
    user: str = "",
    progress: Callable[[int, int], None] | None = None,
    only_skus: Iterable[int] | None = None,
    pull_orders_first: bool = True,
) -> reconcile.PushReport:
    """Push one channel's dirty listings (pulling its new orders first, before any stock push)."""
    from listing_sync.syncer import orders

    adapter = context.adapter(channel)
    try:

        def before_stock() -> None:
            # the pull marks every channel's listings of the affected SKUs dirty with new quantities
            orders.pull_channel(context, channel, adapter)

        return reconcile.push_channel(
            context.session,
            channel,
            adapter,
            user=user,
            progress=progress,
            only_skus=only_skus,
            before_stock=before_stock if pull_orders_first else None,
        )
    finally:
        adapter.close()
        context.hub.save()


def check_drift(context: Context, channel: ChannelConfig, *, fix: bool = False) -> reconcile.DriftReport:
    with context.session() as session, context.adapter(channel) as adapter:
        report = reconcile.check_drift(session, channel, adapter, fix=fix)
    context.hub.save()
    return report


def status(context: Context) -> list[dict[str, Any]]:
    """Per channel: listings, dirty, parked (with messages), last sync, last order pull."""
    rows = []
    with context.session() as session:
        ids = {c.name: c.id for c in session.scalars(select(Channel))}
        for config in context.channels:
            channel_id = ids.get(config.name)
            counts: dict[str, int] = {}
            if channel_id is not None:
                counts = dict(
                    session.execute(
                        select(ChannelListing.status, func.count())
                        .where(ChannelListing.channel_id == channel_id)
                        .group_by(ChannelListing.status)
                    ).all()
                )
            parked = (
                session.execute(
                    select(Sku.sku, ChannelListing.last_error_code, ChannelListing.last_error)
                    .join(Sku, Sku.id == ChannelListing.sku_id)
                    .where(ChannelListing.channel_id == channel_id, ChannelListing.status == "parked")
                    .order_by(Sku.sku)
                    .limit(50)
                ).all()
                if channel_id is not None
                else []
            )

            def last(kind: str, channel_id: int | None = channel_id) -> SyncRun | None:
                if channel_id is None:
                    return None
                return session.scalar(
                    select(SyncRun)
                    .where(SyncRun.channel_id == channel_id, SyncRun.kind == kind)
                    .order_by(SyncRun.id.desc())
                    .limit(1)
                )

            last_sync, last_pull = last("sync"), last("orders")
            rows.append(
                {
                    "channel": config.name,
                    "kind": config.kind,
                    "listings": sum(counts.values()),
                    "clean": counts.get("clean", 0),
                    "dirty": sum(counts.get(s, 0) for s in ("new", "dirty", "retry")),
                    "submitted": counts.get("submitted", 0),
                    "parked": counts.get("parked", 0),
                    "parked_errors": [{"sku": s, "code": c, "message": m} for s, c, m in parked],
                    "last_sync": _when(last_sync),
                    "last_sync_status": last_sync.status if last_sync else None,
                    "last_order_pull": _when(last_pull),
                }
            )
    return rows


def _when(run: SyncRun | None) -> str | None:
    if run is None:
        return None
    stamp = run.finished_at or run.started_at
    return stamp.astimezone(UTC).isoformat(timespec="seconds") if isinstance(stamp, datetime) else None


def pull_orders(
    context: Context,
    channel: ChannelConfig,
    *,
    since: datetime | None = None,
    user: str = "",
    progress: Callable[[Any], None] | None = None,
):
    """Pull one channel's new orders; returns the report (its ``affected_sku_ids`` need pushing elsewhere)."""
    from listing_sync.syncer import orders

    adapter = context.adapter(channel)
    try:
        return orders.pull_channel(context, channel, adapter, since=since, user=user, progress=progress)
    finally:
        adapter.close()
        context.hub.save()


def other_channels(context: Context, channel_name: str) -> list[ChannelConfig]:
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
