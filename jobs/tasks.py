"""Tasks and schedules. Only scheduling and retries live here; what a sync or an order pull does is in
syncer/, and so is the one-writer-per-channel lease each of them holds (shared with inline commands)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from huey import crontab
from huey.exceptions import RetryTask
from listing_sync.config.settings import get_settings
from listing_sync.jobs.app import huey
from listing_sync.syncer.context import Context, UserError
from listing_sync.syncer.leases import LeaseBusy
from listing_sync.syncer.services import orders, promotions, reports, shipping, sync

log = logging.getLogger("jobs")
settings = get_settings()

#: retries are for infrastructure faults (database or queue hiccups); marketplace errors are handled per
#: item by the syncer and never raise out of a task. A busy channel is not a fault: see :func:`_when_free`.
RETRIES, RETRY_DELAY = 3, 20


@contextmanager
def _when_free(task: str, channel: str) -> Iterator[None]:
    """Another process holds the channel's lease: say so in one line and run the task again once that
    lease expires at the latest (huey's RetryTask does not use up the task's retries)."""
    try:
        yield
    except LeaseBusy as exc:
        delay = max(1, min(round(exc.retry_after), 600))
        log.warning("%s(%s) waits: %s; retrying in %d s", task, channel, exc, delay)
        raise RetryTask(delay=delay) from None


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def sync_channel(channel: str, only_skus: list[int] | None = None, user: str = "scheduler") -> dict[str, Any]:
    """Push one channel's dirty listings (optionally only some SKUs)."""
    context = Context()
    with _when_free("sync_channel", channel):
        report = sync.sync_channel(context, context.channel(channel), user=user, only_skus=only_skus)
    return {
        "channel": channel,
        "ok": report.ok,
        "failed": report.failed,
        "api_calls": report.api_calls,
        "aborted": report.aborted,
    }


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def pull_orders(channel: str, user: str = "scheduler") -> dict[str, Any]:
    """Pull one channel's orders, then push the new availability of the affected SKUs to every OTHER
    channel right away (the oversell window is the poll interval plus this one push)."""
    context = Context()
    with _when_free("pull_orders", channel):
        report = orders.pull_channel_orders(context, context.channel(channel), user=user)
    affected = sorted(report.affected_sku_ids)
    if affected:
        for other in sync.other_channels(context, channel):
            sync_channel(other.name, only_skus=affected, user=user)
    return {"channel": channel, "new": report.new, "updated": report.updated, "affected": len(affected)}


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def push_shipments(channel: str, user: str = "scheduler") -> dict[str, Any]:
    """Tell one channel about the shipments recorded here that are due (new, or whose retry time came)."""
    context = Context()
    with _when_free("push_shipments", channel):
        outcome = shipping.push_channel_shipments(context, channel, user=user)
    return {"channel": channel, "pushed": outcome.pushed, "retry": outcome.retry, "parked": outcome.parked}


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def check_drift(channel: str, fix: bool = True) -> dict[str, Any]:
    context = Context()
    with _when_free("check_drift", channel):
        report = sync.check_drift(context, context.channel(channel), fix=fix)
    return {"channel": channel, "drifted": len(report.drifted), "adopted": len(report.adopted)}


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def full_recompute() -> int:
    """Recompute every listing's desired values (safety net for rule or FX changes)."""
    return sync.refresh_skus(Context(), None)


def _every(minutes: int) -> Callable[[datetime], bool]:
    return crontab(minute=f"*/{max(1, minutes)}")


@huey.periodic_task(_every(settings.sync_interval_minutes))
def schedule_syncs() -> None:
    for channel in Context().selected_channels(None):
        sync_channel(channel.name)


@huey.periodic_task(_every(settings.orders_interval_minutes))
def schedule_order_pulls() -> None:
    for channel in Context().selected_channels(None):
        pull_orders(channel.name)


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def run_scheduled_changes() -> list[dict[str, Any]]:
    """Start the scheduled price changes whose start has come, end those whose end has (syncs queued)."""
    from listing_sync.jobs.scheduler import HueyScheduler

    ran = promotions.run_due(Context(), scheduler=HueyScheduler())
    for item in ran:
        log.info("scheduled change %d %s (change set %s) %s", item.id, item.action, item.change_set, item.message)
    return [{"id": r.id, "action": r.action, "change_set": r.change_set} for r in ran]


@huey.periodic_task(_every(1))
def every_minute() -> None:
    """Every minute: scheduled price changes whose start or end passed (the safety net behind their exact
    runs), and channels with shipments due (a failed push is retried with backoff)."""
    context = Context()
    try:
        promotions.run_due(context, scheduler=_scheduler())
        due = shipping.channels_with_due_shipments(context)
    except UserError:  # no database yet
        return
    for channel in due:
        push_shipments(channel)


def _scheduler() -> Any:
    from listing_sync.jobs.scheduler import HueyScheduler

    return HueyScheduler()


@huey.periodic_task(crontab(minute="41"))
def confirm_submitted() -> None:
    """Hourly: read back channels with accepted-but-unconfirmed pushes (Amazon) to confirm them."""
    context = Context()
    for channel in sync.channels_awaiting_confirmation(context):
        check_drift(channel.name, fix=False)


@huey.periodic_task(crontab(minute="17", hour=str(settings.drift_check_hour_utc)))
def nightly_safety_net() -> None:
    full_recompute()
    for channel in Context().selected_channels(None):
        check_drift(channel.name)


@huey.periodic_task(crontab(minute="7", hour="4"))
def purge_personal_data() -> int:
    """Daily (04:07 UTC): empty buyers' personal data older than ``SYNCER_PERSONAL_DATA_RETENTION_DAYS``."""
    purged = orders.purge_personal_data(Context())
    log.info("purged the personal data of %d order(s) placed before %s", purged.rows, purged.before)
    return purged.rows


def drain(limit: int = 10_000) -> int:
    """Run every queued task in this process (demo and `syncer sync` without a worker). Returns count."""
    count = 0
    while count < limit:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        count += 1
    return count


def _scheduled_report(kind: str) -> str | None:
    context = Context()
    if context.settings.report_folder is None:
        return None
    try:
        delivered = reports.deliver_scheduled_report(context, kind)
    except reports.ReportFailed as exc:
        log.error("%s sales report not delivered: %s", kind, exc)
        return None
    if delivered is None:
        return None
    if delivered.fresh:
        mailed = f", e-mailed to {', '.join(delivered.emailed)}" if delivered.emailed else ""
        log.info("%s sales report written to %s%s", kind, delivered.path, mailed)
    return str(delivered.path)


@huey.periodic_task(crontab(minute="30"))
def weekly_sales_report() -> str | None:
    """Every hour at :30, until it exists: last week's (Monday to Sunday in ``report_timezone``) sales and
    profit report as ``sales-YYYY-Www.xlsx`` in ``report_folder``, e-mailed when SMTP settings are given.
    Skipped when ``report_folder`` is unset. A missing FX rate is logged (and retried the next hour)."""
    return _scheduled_report("weekly")


@huey.periodic_task(crontab(minute="40"))
def monthly_sales_report() -> str | None:
    """Every hour at :40, until it exists: last month's report as ``sales-YYYY-MM.xlsx`` (see weekly)."""
    return _scheduled_report("monthly")
