"""`syncer worker` runs queued tasks from the SQLite queue in the data directory (a real subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sys as _sys
import time
from pathlib import Path

_sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "syncer"))
from listing_sync.config.settings import Settings
from listing_sync.jobs import tasks
from listing_sync.jobs.app import build_huey
from listing_sync.syncer.models import SyncRun
from scenario import build  # noqa: E402
from sqlalchemy import func, select


def test_worker_executes_a_queued_sync(tmp_path: Path) -> None:
    sc = build(tmp_path, ["woocommerce"], units=4)
    with sc.context.session() as s:
        runs_before = s.scalar(select(func.count()).select_from(SyncRun))
    queue = build_huey(Settings(_env_file=None, data_dir=sc.context.data_dir, huey_backend="sqlite"))
    # what `syncer sync` (without --inline) puts on the queue for the worker
    queue.storage.enqueue(tasks.huey.serialize_task(tasks.sync_channel.s("woocommerce", user="queued")))
    env = {**os.environ, "SYNCER_DATA_DIR": str(sc.context.data_dir), "SYNCER_HUEY_BACKEND": "sqlite"}
    worker = subprocess.Popen(
        [sys.executable, "-c", "from listing_sync.syncer.cli import main; main()", "worker", "--workers", "1", "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        done = False
        while time.monotonic() < deadline and not done:
            time.sleep(0.5)
            with sc.context.session() as s:
                done = s.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.user == "queued")) > 0
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
    assert done, output
    assert "not found in TaskRegistry" not in output
    # -q: the worker's own start and stop lines, no job or request lines (the sync was ok)
    [start, *_, stop] = output.splitlines()
    assert re.search(
        r"INFO worker: worker (\S+) started: 1 threads on the sqlite queue listing-sync; Ctrl-C stops$", start
    )
    assert stop.endswith(f"INFO worker: worker {start.split()[4]} stopped"), output
    assert "INFO jobs:" not in output and "httpx" not in output, output
    # the queued sync was consumed (a periodic fan-out enqueued at a minute boundary may still wait)
    left = [tasks.huey.deserialize_task(message).name for message in queue.storage.enqueued_items()]
    assert "sync_channel" not in left, left
    with sc.context.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncRun)) > runs_before


def test_worker_json_lines_and_metrics_over_loopback(tmp_path: Path) -> None:
    """--log-format json: the start, each job and the shutdown are one JSON object per line on standard
    error; --metrics-port serves Prometheus text with the job counters and the state gauges."""
    import json
    import signal

    import httpx

    sc = build(tmp_path, ["woocommerce"], units=4)
    queue = build_huey(Settings(_env_file=None, data_dir=sc.context.data_dir, huey_backend="sqlite"))
    queue.storage.enqueue(tasks.huey.serialize_task(tasks.pull_orders.s("woocommerce", user="queued")))
    env = {**os.environ, "SYNCER_DATA_DIR": str(sc.context.data_dir), "SYNCER_HUEY_BACKEND": "sqlite"}
    command = ["worker", "--workers", "1", "--log-format", "json", "--metrics-port", "0", "--no-periodic"]
    worker = subprocess.Popen(
        [sys.executable, "-c", "from listing_sync.syncer.cli import main; main()", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[dict] = []
    scraped = ""
    try:
        assert worker.stderr is not None
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not any(line.get("event") == "job" for line in lines):
            lines.append(json.loads(worker.stderr.readline()))
        port = next(line["port"] for line in lines if line.get("event") == "metrics")
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        worker.send_signal(signal.SIGTERM)
        rest = worker.communicate(timeout=30)[1]
    lines += [json.loads(line) for line in rest.splitlines() if line.strip()]
    started = next(line for line in lines if line.get("event") == "worker_started")
    assert {"worker", "queue", "backend", "workers", "periodic"} <= set(started)
    assert (started["queue"], started["backend"], started["workers"], started["periodic"]) == (
        "listing-sync",
        "sqlite",
        1,
        False,
    )
    job = next(line for line in lines if line.get("event") == "job")
    assert {"time", "level", "message", "task", "channel", "items", "calls", "duration_s", "outcome"} <= set(job)
    assert (job["task"], job["channel"], job["outcome"]) == ("pull_orders", "woocommerce", "ok")
    assert lines[-1]["event"] == "worker_stopped" and lines[-1]["worker"] == started["worker"]
    assert 'syncer_jobs_total{channel="woocommerce",outcome="ok",task="pull_orders"} 1.0' in scraped
    assert "syncer_queue_depth " in scraped
    assert 'syncer_lease_age_seconds{channel="woocommerce"}' in scraped
    assert 'syncer_oversell_window_seconds{channel="woocommerce"}' in scraped
    for name in ("syncer_pushes", "syncer_api_calls", "syncer_job_errors", "syncer_job_duration_seconds"):
        assert f"# TYPE {name}" in scraped
