"""Prometheus metrics of a worker (``syncer worker --metrics-port N``).

Counters are counted by the jobs this process runs (pushes, API calls, errors, jobs by outcome); the
gauges are read from the queue and the database when scraped (queue depth, each channel's lease age and
oversell window: seconds since its last good order pull), so every worker reports the same figures.
Nothing is counted, and prometheus-client is not imported, until :func:`enable` (or :func:`serve`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from listing_sync.jobs.tasks import Job
    from prometheus_client import CollectorRegistry

log = logging.getLogger("jobs")

_metrics: _Metrics | None = None


class _Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        into = self.registry
        self.jobs = Counter(
            "syncer_jobs", "Jobs run, by task, channel and outcome.", ["task", "channel", "outcome"], registry=into
        )
        self.pushes = Counter(
            "syncer_pushes", "Listings pushed by syncs (accepted or failed).", ["channel"], registry=into
        )
        self.calls = Counter(
            "syncer_api_calls", "Marketplace API calls made by jobs.", ["task", "channel"], registry=into
        )
        self.errors = Counter(
            "syncer_job_errors", "Jobs that raised or ended failed/aborted.", ["task", "channel"], registry=into
        )
        self.duration = Histogram("syncer_job_duration_seconds", "How long jobs ran, by task.", ["task"], registry=into)
        self.registry.register(_StateCollector())


def enable() -> CollectorRegistry:
    """Start counting (once per process); returns the registry the endpoint serves."""
    global _metrics
    if _metrics is None:
        _metrics = _Metrics()
    return _metrics.registry


def job_done(job: Job, seconds: float) -> None:
    """Count one finished job in, when metrics are on (prometheus-client is thread-safe)."""
    if _metrics is None:
        return
    _metrics.duration.labels(job.task).observe(seconds)
    _metrics.jobs.labels(job.task, job.channel, job.outcome).inc()
    if job.task == "sync_channel":
        _metrics.pushes.labels(job.channel).inc(job.items)
    if job.calls:
        _metrics.calls.labels(job.task, job.channel).inc(job.calls)
    if job.outcome in ("error", "failed", "aborted"):
        _metrics.errors.labels(job.task, job.channel).inc()


class _StateCollector:
    """Queue depth, lease age and oversell window, read when Prometheus scrapes."""

    def describe(self) -> list[Any]:
        return []  # nothing to read when registered (else the registry would collect, reading the database)

    def collect(self) -> Iterator[Any]:
        from listing_sync.jobs.app import huey
        from listing_sync.syncer.context import Context
        from listing_sync.syncer.services import health
        from prometheus_client.core import GaugeMetricFamily

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


def serve(port: int, host: str = "0.0.0.0") -> Any:
    """Serve ``/metrics`` on ``host:port`` from a daemon thread; returns the server (``.server_port``)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=enable())
    return server
