"""A promotion scheduled one minute ahead, with a real worker (`syncer worker`) running: when it started
and ended against its schedule, and whether the catalog export afterwards equals the one before, byte
for byte. Prints one JSON object (about three minutes: the demo's data, one minute ahead, one minute long).

    .venv/bin/python bench/bench_promotion_worker.py [--ahead 60] [--length 60]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SYNCER = [sys.executable, "-m", "listing_sync.syncer"]


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*SYNCER, *args], env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"syncer {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ahead", type=int, default=60, help="seconds from now to the start")
    parser.add_argument("--length", type=int, default=60, help="seconds the promotion lasts")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="promo-bench-"))
    env = {**os.environ, "SYNCER_DATA_DIR": str(data), "SYNCER_HUEY_BACKEND": "sqlite", "COLUMNS": "200"}
    env.pop("SYNCER_DATABASE_URL", None)
    env.pop("SYNCER_CHANNELS_FILE", None)
    run(env, "demo", "--reset")
    run(env, "catalog", "export", "--out", str(data / "before.csv"))
    worker = subprocess.Popen(
        [*SYNCER, "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(data / "worker.err", "w"),  # noqa: SIM115
    )
    try:
        start = (datetime.now(UTC) + timedelta(seconds=args.ahead)).replace(microsecond=0)
        end = start + timedelta(seconds=args.length)
        run(
            env, "price", "adjust", "--percent", "-10", "--category", "tea", "--from", start.isoformat(),
            "--until", end.isoformat(), "--reason", "bench promotion", "--yes",
        )  # fmt: skip
        seen_active_at = None
        row: dict = {}
        deadline = time.monotonic() + args.ahead + args.length + 150
        while time.monotonic() < deadline:
            rows = json.loads(run(env, "changes", "list", "--scheduled", "--all", "--format", "json"))
            row = rows[-1]
            if row["status"] == "active" and seen_active_at is None:
                seen_active_at = datetime.now(UTC)
                during = run(env, "catalog", "show", "TEA-LJ-250", "--format", "json")
            if row["status"] in ("done", "failed", "missed"):
                break
            time.sleep(2)
        run(env, "catalog", "export", "--out", str(data / "after.csv"))
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    before, after = (data / "before.csv").read_bytes(), (data / "after.csv").read_bytes()
    details = {r["id"]: r for r in json.loads(run(env, "changes", "list", "--scheduled", "--all", "--format", "json"))}
    import sqlite3

    with sqlite3.connect(data / "syncer.db") as db:
        started_at, ended_at = db.execute(
            "SELECT started_at, ended_at FROM scheduled_changes ORDER BY id DESC LIMIT 1"
        ).fetchone()

    def parse(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None

    s, e = parse(started_at), parse(ended_at)
    print(
        json.dumps(
            {
                "scheduled_start": start.isoformat(),
                "scheduled_end": end.isoformat(),
                "started_at": s.isoformat() if s else None,
                "ended_at": e.isoformat() if e else None,
                "start_late_s": round((s - start).total_seconds(), 3) if s else None,
                "end_late_s": round((e - end).total_seconds(), 3) if e else None,
                "status": row.get("status"),
                "message": details.get(row.get("id"), {}).get("message"),
                "price_during": json.loads(during).get("base_price") if seen_active_at else None,
                "catalog_bytes": len(before),
                "catalog_equal_byte_for_byte": before == after,
                "data_dir": str(data),
            }
        )
    )


if __name__ == "__main__":
    main()
