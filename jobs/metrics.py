"""Prometheus metrics of a worker (``syncer worker --metrics-port N``).

Counters are counted by the jobs this process runs (pushes, API calls, errors, jobs by outcome); the
gauges are read from the queue and the database when scraped (queue depth, each channel's lease age and
oversell window: seconds since its last good order pull), so every worker reports the same figures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from listing_sync.jobs.tasks import Job

log = logging.getLogger("jobs")

REGISTRY = CollectorRegistry(auto_describe=True)
JOBS = Counter(
    "syncer_jobs", "Jobs run, by task, channel and outcome.", ["task", "channel", "outcome"], registry=REGISTRY
)
PUSHES = Counter(
    "syncer_pushes", "Listings pushed by syncs (accepted or failed), by channel.", ["channel"], registry=REGISTRY
)
CALLS = Counter(
    "syncer_api_calls",
    "Marketplace API calls made by jobs, by task and channel.",
    ["task", "channel"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "syncer_job_errors",
    "Jobs that raised or ended failed/aborted, by task and channel.",
    ["task", "channel"],
    registry=REGISTRY,
)
DURATION = Histogram("syncer_job_duration_seconds", "How long jobs ran, by task.", ["task"], registry=REGISTRY)


def job_done(job: Job, seconds: float) -> None:
    """Count one finished job in (every worker thread calls this; prometheus-client is thread-safe)."""
    DURATION.labels(job.task).observe(seconds)
    JOBS.labels(job.task, job.channel, job.outcome).inc()
    if job.task == "sync_channel":
        PUSHES.labels(job.channel).inc(job.items)
    if job.calls:
        CALLS.labels(job.task, job.channel).inc(job.calls)
    if job.outcome in ("error", "failed", "aborted"):
        ERRORS.labels(job.task, job.channel).inc()


class StateCollector(Collector):
    """Queue depth, lease age and oversell window, read when Prometheus scrapes."""

    def collect(self) -> Iterator[Any]:
        from listing_sync.jobs.app import huey
        from listing_sync.syncer.context import Context
        from listing_sync.syncer.services import health

        depth = GaugeMetricFamily("syncer_queue_depth", "Tasks waiting in the job queue.")
        lease = GaugeMetricFamily(
            "syncer_lease_age_seconds", "How long the channel's lease has been held (0: free).", labels=["channel"]
        )
        window = GaugeMetricFamily(
            "syncer_oversell_window_seconds",
            "Seconds since the channel's last successful order pull (absent: never pulled).",
            labels=["channel"],
        )
        try:
            depth.add_metric([], huey.pending_count())
            for row in health.channel_health(Context()):
                lease.add_metric([row.channel], row.lease_age_s or 0.0)
                if row.oversell_window_s is not None:
                    window.add_metric([row.channel], row.oversell_window_s)
        except Exception as exc:  # a scrape must answer; the worker's log says why the gauges are missing
            log.warning("metrics: could not read the queue or the database: %s: %s", type(exc).__name__, exc)
        yield from (depth, lease, window)


REGISTRY.register(StateCollector())


def serve(port: int, host: str = "0.0.0.0") -> Any:
    """Serve ``/metrics`` on ``host:port`` from a daemon thread; returns the server (``.server_port``)."""
    server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    return server
