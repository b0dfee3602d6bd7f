"""`syncer worker` runs queued tasks from the SQLite queue in the data directory (a real subprocess)."""

from __future__ import annotations

import os
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
        [sys.executable, "-c", "from listing_sync.syncer.cli import main; main()", "worker", "--workers", "1"],
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
    # the queued sync was consumed (a periodic fan-out enqueued at a minute boundary may still wait)
    left = [tasks.huey.deserialize_task(message).name for message in queue.storage.enqueued_items()]
    assert "sync_channel" not in left, left
    with sc.context.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncRun)) > runs_before
