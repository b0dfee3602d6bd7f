"""The huey instance is built from settings: SQLite by default, Redis and memory by setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from huey import MemoryHuey, RedisHuey, SqliteHuey
from listing_sync.config.settings import Settings
from listing_sync.jobs.app import build_huey

REDIS_URL = os.environ.get("SYNCER_TEST_REDIS_URL")


def test_default_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    huey = build_huey(Settings(_env_file=None, data_dir=tmp_path, huey_backend="sqlite"))
    assert isinstance(huey, SqliteHuey)
    assert Path(huey.storage.filename) == tmp_path / "huey.db"


def test_memory_backend_runs_tasks_immediately(tmp_path: Path) -> None:
    huey = build_huey(Settings(_env_file=None, data_dir=tmp_path, huey_backend="memory", huey_immediate=True))
    assert isinstance(huey, MemoryHuey)

    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    assert add(2, 3)() == 5


def test_sqlite_queue_round_trip(tmp_path: Path) -> None:
    huey = build_huey(Settings(_env_file=None, data_dir=tmp_path, huey_backend="sqlite"))

    @huey.task()
    def double(x: int) -> int:
        return 2 * x

    result = double(21)
    assert len(huey) == 1
    task = huey.dequeue()
    huey.execute(task)
    assert result.get() == 42


@pytest.mark.skipif(not REDIS_URL, reason="SYNCER_TEST_REDIS_URL not set (no Redis server)")
def test_redis_queue_round_trip(tmp_path: Path) -> None:
    huey = build_huey(Settings(_env_file=None, data_dir=tmp_path, huey_backend="redis", redis_url=REDIS_URL))
    assert isinstance(huey, RedisHuey)
    huey.flush()

    @huey.task()
    def triple(x: int) -> int:
        return 3 * x

    result = triple(5)
    assert len(huey) == 1
    huey.execute(huey.dequeue())
    assert result.get() == 15
    huey.flush()
