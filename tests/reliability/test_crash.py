"""(a) The crash test: three real `syncer worker` processes on PostgreSQL + Redis against three marketplace
emulators served as their own processes (state written through to a file), taking orders all along; a
random worker is SIGKILLed 20 times at random moments (during pushes and pulls) and restarted. Then order
taking stops, the workers converge, and: every order recorded once, levels = ledger, every channel's
quantities = the rules, no lease held past its expiry, no run left `running`."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from harness import LEASE_SECONDS, Deployment, dump, interrupted_or_waits, requires_backends, unexpected_failures
from listing_sync.syncer.models import SyncRun
from listing_sync.syncer.services import sync
from sqlalchemy import func, select
from verify import live_leases, settled, verify

CHANNELS = ["woo-a", "woo-b", "woo-c"]
KILLS = 20


def _feed(deployment: Deployment, stop: threading.Event) -> None:
    """What the scheduler does, faster: order pulls and syncs of every channel, queued all along."""
    with deployment.queue_client() as (queue, tasks):
        while not stop.is_set():
            if len(queue) + queue.scheduled_count() < 12:  # like the periodic schedule: no flood
                for name in CHANNELS:
                    queue.storage.enqueue(tasks.huey.serialize_task(tasks.pull_orders.s(name, user="crash")))
                    queue.storage.enqueue(tasks.huey.serialize_task(tasks.sync_channel.s(name, user="crash")))
            stop.wait(0.5)


@requires_backends
def test_sigkilled_workers_lose_nothing_and_leave_nothing_stuck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    began = time.monotonic()
    since = datetime.now(UTC) - timedelta(minutes=5)
    deployment = Deployment(tmp_path, CHANNELS)
    deployment.create(monkeypatch)
    stop = threading.Event()
    try:
        for name in CHANNELS:
            deployment.start_emulator(name, orders_every=1.0)
        context = deployment.context()
        published = sync.run_sync(context, None, user="setup")
        assert all(report.aborted is None and report.ok for report in published), published
        for _ in range(3):
            deployment.start_worker(threads=2)
        feeder = threading.Thread(target=_feed, args=(deployment, stop), daemon=True)
        feeder.start()
        rng = random.Random(25)
        for _ in range(KILLS):
            time.sleep(rng.uniform(2.0, 4.5))  # past a restarted worker's start-up
            victim = deployment.workers.pop(rng.randrange(len(deployment.workers)))
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
            deployment.start_worker(threads=2)
        killed_at = time.monotonic()
        # orders stop: the emulators restart from their state files, without taking new orders
        deployment.stop_emulators()
        for name in CHANNELS:
            deployment.start_emulator(name)
        converged = None
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            time.sleep(5)
            if not settled(context):
                continue
            verdict = verify(context, CHANNELS, since)
            if not verdict.lost and not verdict.not_clean and not verdict.quantity_mismatches:
                converged = time.monotonic() - killed_at
                break
        stop.set()
        feeder.join(timeout=10)
        deployment.stop_workers()
        time.sleep(LEASE_SECONDS + 1)
        stuck = live_leases(context)
        verdict = verify(context, CHANNELS, since)
        with context.session() as s:
            interrupted = s.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status == "interrupted"))
            running = s.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status == "running"))
            runs = s.scalar(select(func.count()).select_from(SyncRun))
        figures = {
            "kills": KILLS,
            "workers": 3,
            "orders": verdict.orders,
            "lines": verdict.lines,
            "lines_recorded": verdict.lines_recorded,
            "reservations_units": verdict.units_reserved,
            "reservations_units_expected": verdict.units_reserved_expected,
            "lost": verdict.lost,
            "duplicates": verdict.duplicates,
            "extra": verdict.extra,
            "listings": verdict.listings,
            "quantity_mismatches": len(verdict.quantity_mismatches),
            "stuck_leases": len(stuck),
            "runs": runs,
            "runs_interrupted": interrupted,
            "runs_left_running": running,
            "converged_seconds": None if converged is None else round(converged, 1),
            "seconds": round(time.monotonic() - began, 1),
            **interrupted_or_waits(deployment.log_text()),
        }
        dump(figures, "crash")
        log = deployment.log_text()
        assert "DeadlockDetected" not in log and unexpected_failures(log) == [], unexpected_failures(log)[:3]
        assert converged is not None, (figures, verdict.quantity_mismatches[:10], verdict.problems[:10])
        assert verdict.lost == 0 and verdict.duplicates == 0 and verdict.extra == 0, figures
        assert verdict.lines == verdict.lines_recorded, figures
        assert verdict.units_reserved == verdict.units_reserved_expected, figures
        assert verdict.quantity_mismatches == [] and verdict.problems == [], (
            verdict.quantity_mismatches,
            verdict.problems,
        )
        assert stuck == [] and running == 0, (stuck, running)
        # enough traffic that the kills land among pulls and pushes; whether a kill caught a sync run
        # mid-flight (interrupted > 0) depends on timing, so it is reported in the figures, not required
        assert verdict.orders > 50, figures
    finally:
        stop.set()
        deployment.destroy()
