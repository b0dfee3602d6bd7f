"""A small deployment for the reliability suite: one PostgreSQL schema and one Redis queue of its own,
marketplace emulators served as separate processes (``syncer emulator serve --state``), real ``syncer
worker`` processes, and the catalog published to three channels."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from listing_sync.adapters.base import OrderCursor
from listing_sync.config.settings import Settings
from listing_sync.syncer import db, mapping, reconcile
from listing_sync.syncer.catalog import import_file
from listing_sync.syncer.context import Context, ensure_channel_rows
from listing_sync.syncer.models import Channel, OrderCursorRow, Sku
from sqlalchemy import select, text

PG_BASE = os.environ.get("SYNCER_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("SYNCER_TEST_REDIS_URL")
requires_backends = pytest.mark.skipif(
    not (PG_BASE and REDIS_URL),
    reason="the reliability suite needs SYNCER_TEST_DATABASE_URL (PostgreSQL) and SYNCER_TEST_REDIS_URL (Redis)",
)
SKUS, UNITS = 24, 60
SYNCER = [sys.executable, "-c", "from listing_sync.syncer.cli import main; main()"]
LEASE_SECONDS = 5.0
CHANNEL = """
[[channels]]
name = "{name}"
kind = "woocommerce"
currency = "CNY"
warehouses = ["SH"]
base_url = "http://127.0.0.1:{port}"
[channels.credentials]
consumer_key = "RELIABILITY_WOO_KEY"
consumer_secret = "RELIABILITY_WOO_SECRET"
[channels.options]
site = "http://127.0.0.1:{port}"
"""
CREDENTIALS = {"RELIABILITY_WOO_KEY": "ck_reliability", "RELIABILITY_WOO_SECRET": "cs_reliability"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Deployment:
    root: Path
    names: list[str]
    schema: str = field(default_factory=lambda: f"syncer_rel_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    queue: str = field(default_factory=lambda: f"syncer-rel-{uuid.uuid4().hex[:8]}")
    ports: dict[str, int] = field(default_factory=dict)
    emulators: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def db_url(self) -> str:
        return f"{PG_BASE}{'&' if '?' in (PG_BASE or '') else '?'}options=-csearch_path%3D{self.schema}"

    def settings(self) -> Settings:
        return Settings(
            _env_file=None,
            data_dir=self.data,
            database_url=self.db_url,
            huey_backend="redis",
            redis_url=REDIS_URL or "",
            queue_name=self.queue,
            lease_seconds=LEASE_SECONDS,
        )

    def context(self) -> Context:
        return Context(settings=self.settings())

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **CREDENTIALS,
            "SYNCER_DATA_DIR": str(self.data),
            "SYNCER_DATABASE_URL": self.db_url,
            "SYNCER_HUEY_BACKEND": "redis",
            "SYNCER_REDIS_URL": REDIS_URL or "",
            "SYNCER_QUEUE_NAME": self.queue,
            "SYNCER_LEASE_SECONDS": str(LEASE_SECONDS),
        }

    # ------------------------------------------------------------------------------------- set-up
    def create(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for key, value in CREDENTIALS.items():
            monkeypatch.setenv(key, value)
        self.data.mkdir(parents=True)
        self.ports = {name: free_port() for name in self.names}
        channels = "".join(CHANNEL.format(name=name, port=port) for name, port in self.ports.items())
        (self.data / "channels.toml").write_text(channels, encoding="utf-8")
        with db.make_engine(PG_BASE or "").begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {self.schema}"))
        db.upgrade(self.db_url)
        context = self.context()
        with context.session() as s:
            ensure_channel_rows(s, context.channels)
            catalog = self.root / "catalog.csv"
            rows = [
                f"REL-{n:03d},REL-{n:03d},Reliability tea {n},<p>tea</p>,tea,Rel,10.00,{20 + n}.00,CNY,{UNITS}"
                for n in range(SKUS)
            ]
            header = "sku,product,title,description,category,brand,cost,base_price,currency,stock[SH]"
            catalog.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
            import_file(s, catalog, user="reliability")
            for channel in context.channels:
                mapping.map_category(s, channel, "tea", "15", [])
            ids = list(s.scalars(select(Sku.id)))
            for channel in context.channels:
                reconcile.ensure_listings(s, channel, ids)
            start = OrderCursor(datetime.now(UTC) - timedelta(minutes=5)).to_json()
            for channel_id in s.scalars(select(Channel.id)):
                s.add(OrderCursorRow(channel_id=channel_id, cursor=start))

    def destroy(self) -> None:
        for process in [*self.workers, *self.emulators.values()]:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        db.engine_for(self.db_url).dispose()
        with db.make_engine(PG_BASE or "").begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
        import redis

        client = redis.Redis.from_url(REDIS_URL or "")
        for key in client.scan_iter(match=f"*{self.queue}*"):
            client.delete(key)

    # ---------------------------------------------------------------------------------- processes
    def _log(self, name: str) -> Any:
        path = self.root / f"{name}.log"
        self.logs.append(path)
        return path.open("ab")

    def start_emulator(self, name: str, *, orders_every: float = 0.0) -> None:
        args = ["emulator", "serve", "--channel", name, "--port", str(self.ports[name])]
        args += ["--state", str(self.root / f"{name}.state.json"), "--seed", str(7 + self.names.index(name))]
        if orders_every:
            args += ["--orders-every", str(orders_every)]
        process = subprocess.Popen([*SYNCER, *args], env=self.env, stdout=self._log(name), stderr=subprocess.STDOUT)
        self.emulators[name] = process
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.ports[name])) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"emulator {name} did not listen: {(self.root / f'{name}.log').read_text()}")

    def stop_emulators(self) -> None:
        for process in self.emulators.values():
            process.send_signal(signal.SIGINT)
        for process in self.emulators.values():
            process.wait(timeout=20)
        self.emulators.clear()

    def start_worker(self, threads: int = 2, trace: Path | None = None) -> subprocess.Popen[bytes]:
        log = self._log(f"worker-{len(self.logs)}")
        command = [*SYNCER, "worker", "--workers", str(threads)]
        env = {**self.env, **({"SYNCER_HTTP_TRACE": str(trace)} if trace else {})}
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(process)
        return process

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.workers.clear()

    def run(self, *args: str, timeout: float = 300, trace: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **({"SYNCER_HTTP_TRACE": str(trace)} if trace else {})}
        return subprocess.run([*SYNCER, *args], env=env, capture_output=True, text=True, timeout=timeout)

    # ----------------------------------------------------------------------------------- the queue
    @contextmanager
    def queue_client(self) -> Iterator[Any]:
        from listing_sync.jobs import tasks
        from listing_sync.jobs.app import build_huey

        yield build_huey(self.settings()), tasks

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.logs if path.exists())


def unexpected_failures(log: str) -> list[str]:
    """Task failures in the workers' logs other than a marketplace unreachable (the emulators restart).

    A transient failure appears either as huey's traceback (``adapters.base.TransientError``) or as the
    worker's own one-line form, ``(TransientError; the traceback is in errors.log)``."""
    blocks = log.split("Unhandled exception in task")[1:]
    transient = ("adapters.base.TransientError", "(TransientError;")
    return [block[:3000] for block in blocks if not any(mark in block for mark in transient)]


def interrupted_or_waits(log: str) -> dict[str, int]:
    return {
        "lease_waits": len(re.findall(r"waits: channel:\S+ is busy", log)),
        "interrupted_marked": sum(int(n) for n in re.findall(r"marked (\d+) run\(s\) of stopped processes", log)),
    }


def dump(figures: dict[str, Any], name: str) -> None:
    """Print the figures as one JSON line (and add them to SYNCER_RELIABILITY_REPORT when set)."""
    line = json.dumps({"test": name, **figures}, sort_keys=True)
    print(line)
    target = os.environ.get("SYNCER_RELIABILITY_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")
