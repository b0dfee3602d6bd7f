"""Each job is one structured log line (text by default, JSON with --log-format json) and is counted in
the worker's Prometheus metrics."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "syncer"))

from listing_sync.config.settings import get_settings  # noqa: E402
from listing_sync.jobs import metrics, tasks  # noqa: E402
from listing_sync.jobs.app import huey  # noqa: E402
from listing_sync.syncer.crashlog import JsonLineFormatter, OneLineFormatter  # noqa: E402
from scenario import build  # noqa: E402

JOB_KEYS = {"time", "level", "logger", "message", "event", "task", "channel", "items", "calls", "outcome", "duration_s"}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    sc = build(tmp_path, ["woocommerce", "shopify"], units=5)
    monkeypatch.setenv("SYNCER_DATA_DIR", str(sc.context.data_dir))
    get_settings.cache_clear()
    huey.flush()
    yield sc
    huey.flush()
    get_settings.cache_clear()


def _job_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "jobs" and getattr(r, "fields", {}).get("event") == "job"]


def test_a_sync_and_a_pull_are_one_line_each_with_their_figures(world, caplog, tmp_path) -> None:
    world.sell("woocommerce")
    registry = metrics.enable()
    before = (
        registry.get_sample_value(
            "syncer_jobs_total", {"task": "pull_orders", "channel": "woocommerce", "outcome": "ok"}
        )
        or 0
    )
    with caplog.at_level(logging.INFO, logger="jobs"):
        tasks.pull_orders("woocommerce")
        tasks.drain()  # the pull, then the triggered push to shopify
    pull, push = _job_records(caplog)[:2]
    assert pull.fields["task"] == "pull_orders" and pull.fields["channel"] == "woocommerce"  # type: ignore[attr-defined]
    assert pull.fields["items"] == 1 and pull.fields["outcome"] == "ok"  # type: ignore[attr-defined]
    assert push.fields["task"] == "sync_channel" and push.fields["channel"] == "shopify"  # type: ignore[attr-defined]
    assert push.fields["items"] >= 1 and push.fields["calls"] >= 1  # type: ignore[attr-defined]

    text = OneLineFormatter(tmp_path / "worker.log").format(push)
    assert f"INFO jobs: sync_channel(shopify) ok: {push.fields['items']} items, {push.fields['calls']} calls, " in text  # type: ignore[attr-defined]
    assert text.endswith(" s")
    line = json.loads(JsonLineFormatter(tmp_path / "worker.log").format(pull))
    assert set(line) == JOB_KEYS
    assert (line["level"], line["logger"], line["event"], line["task"], line["outcome"]) == (
        "info",
        "jobs",
        "job",
        "pull_orders",
        "ok",
    )
    assert isinstance(line["duration_s"], float) and line["time"].endswith("+00:00")
    after = registry.get_sample_value(
        "syncer_jobs_total", {"task": "pull_orders", "channel": "woocommerce", "outcome": "ok"}
    )
    assert after == before + 1


def test_a_task_that_raises_is_one_error_line_naming_the_log_file(world, caplog, monkeypatch, tmp_path) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(tasks.sync, "check_drift", broken)
    # out of the task: huey logs it (with its traceback) to the file and retries it
    with caplog.at_level(logging.INFO, logger="jobs"), pytest.raises(RuntimeError):
        tasks.check_drift.call_local("shopify")
    [record] = _job_records(caplog)
    assert record.levelname == "ERROR" and record.fields["outcome"] == "error"  # type: ignore[attr-defined]
    assert record.getMessage().startswith("check_drift(shopify) error: 0 items, 0 calls, ")
    assert record.getMessage().endswith("; RuntimeError: database went away")
    line = json.loads(JsonLineFormatter(tmp_path / "w.log").format(record))
    assert line["error"] == "RuntimeError" and line["level"] == "error"
