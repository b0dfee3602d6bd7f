"""Tasks and schedules. Only scheduling and retries live here; what a sync or an order pull does is in
syncer/, and so is the one-writer-per-channel lease each of them holds (shared with inline commands)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from huey import crontab
from huey.exceptions import RetryTask
from listing_sync.config.settings import get_settings
from listing_sync.jobs import metrics
from listing_sync.jobs.app import huey
from listing_sync.syncer.context import Context, UserError
from listing_sync.syncer.leases import LeaseBusy
from listing_sync.syncer.orders import PullReport
from listing_sync.syncer.services import orders, promotions, reports, shipping, sync, webhooks

log = logging.getLogger("jobs")
settings = get_settings()

#: retries are for infrastructure faults (database or queue hiccups); marketplace errors are handled per
#: item by the syncer and never raise out of a task. A busy channel is not a fault: see :func:`_job`.
RETRIES, RETRY_DELAY = 3, 20


@dataclass
class Job:
    """What one task did, filled in by the task and logged as one line when it ends."""

    task: str
    channel: str
    items: int = 0
    calls: int = 0
    outcome: str = "ok"

    def text(self, seconds: float) -> str:
        return f"{self.task}({self.channel}) {self.outcome}: {self.items} items, {self.calls} calls, {seconds:.2f} s"


@contextmanager
def _job(task: str, channel: str) -> Iterator[Job]:
    """Log the task's one line when it ends (outcome ``ok``, ``failed``..., or ``error`` when it raised)
    and count it in the metrics. Another process holds the channel's lease: say so in one line and run the
    task again once that lease expires at the latest (huey's RetryTask does not use up its retries)."""
    job, started = Job(task, channel), time.monotonic()
    try:
        yield job
    except LeaseBusy as exc:
        delay = max(1, min(round(exc.retry_after), 600))
        job.outcome = "waiting"
        fields = _ended(job, started)
        log.warning("%s(%s) waits: %s; retrying in %d s", task, channel, exc, delay, extra={"fields": fields})
        raise RetryTask(delay=delay) from None
    except Exception as exc:
        job.outcome = "error"
        fields = {**_ended(job, started), "error": type(exc).__name__}
        log.error("%s; %s: %s", job.text(fields["duration_s"]), type(exc).__name__, exc, extra={"fields": fields})
        raise
    fields = _ended(job, started)
    level = logging.INFO if job.outcome == "ok" else logging.WARNING
    log.log(level, "%s", job.text(fields["duration_s"]), extra={"fields": fields})


def _ended(job: Job, started: float) -> dict[str, Any]:
    seconds = time.monotonic() - started
    metrics.job_done(job, seconds)
    return {"event": "job", **asdict(job), "duration_s": round(seconds, 3)}


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def sync_channel(channel: str, only_skus: list[int] | None = None, user: str = "scheduler") -> dict[str, Any]:
    """Push one channel's dirty listings (optionally only some SKUs)."""
    context = Context()

    def propagate(affected: list[int]) -> None:
        # an order pull this push made (before its stock, or in its stock lane) changed these SKUs'
        # availability: push it to every other channel now, as pull_orders does
        for other in sync.other_channels(context, channel):
            sync_channel(other.name, only_skus=affected, user=user)

    with _job("sync_channel", channel) as job:
        config = context.channel(channel)
        report = sync.sync_channel(context, config, user=user, only_skus=only_skus, propagate=propagate)
        job.items, job.calls = report.ok + report.failed, report.api_calls
        job.outcome = "aborted" if report.aborted else "failed" if report.failed else "ok"
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
    with _job("pull_orders", channel) as job:
        report = orders.pull_channel_orders(context, context.channel(channel), user=user)
        job.items, job.calls = report.new + report.updated, report.pages
        job.outcome = "partial" if report.problems else "ok"
    return _push_elsewhere(context, channel, report, user)


def _push_elsewhere(context: Context, channel: str, report: PullReport, user: str) -> dict[str, Any]:
    """Queue a push of the SKUs a pull of ``channel`` affected to every OTHER channel; the task's result."""
    affected = sorted(report.affected_sku_ids)
    if affected:
        for other in sync.other_channels(context, channel):
            sync_channel(other.name, only_skus=affected, user=user)
    return {"channel": channel, "new": report.new, "updated": report.updated, "affected": len(affected)}


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def webhook_orders(channel: str, order_ids: list[str], user: str = "webhook") -> dict[str, Any]:
    """Fetch the orders a webhook named, then push the affected SKUs to every OTHER channel right away (the
    oversell window is the webhook's delivery plus this fetch and one push)."""
    context = Context()
    with _job("webhook_orders", channel) as job:
        report = webhooks.fetch_orders(context, channel, order_ids, user=user)
        job.items = report.new + report.updated
        job.outcome = "partial" if report.problems else "ok"
    return _push_elsewhere(context, channel, report, user)


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def push_shipments(channel: str, user: str = "scheduler") -> dict[str, Any]:
    """Tell one channel about the shipments recorded here that are due (new, or whose retry time came)."""
    context = Context()
    with _job("push_shipments", channel) as job:
        outcome = shipping.push_channel_shipments(context, channel, user=user)
        job.items = outcome.pushed + outcome.retry + outcome.parked
        job.outcome = "failed" if outcome.retry or outcome.parked else "ok"
    return {"channel": channel, "pushed": outcome.pushed, "retry": outcome.retry, "parked": outcome.parked}


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def check_drift(channel: str, fix: bool = True) -> dict[str, Any]:
    context = Context()
    with _job("check_drift", channel) as job:
        report = sync.check_drift(context, context.channel(channel), fix=fix)
        job.items, job.outcome = report.checked, "drift" if report.drifted else "ok"
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
