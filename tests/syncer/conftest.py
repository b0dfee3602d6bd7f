"""Database fixtures: every syncer test runs on SQLite, and also on PostgreSQL when
``SYNCER_TEST_DATABASE_URL`` is set (CI sets it when the local server answers)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from syncer import db
from syncer.models import Base

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `from fakes import FakeAdapter`

PG_URL = os.environ.get("SYNCER_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
_pg_migrated = False


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a new SQLite file, or the shared PostgreSQL database truncated."""
    global _pg_migrated
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        db.upgrade(url)
        yield url
        db.engine_for(url).dispose()
        return
    assert PG_URL
    if not _pg_migrated:
        with db.engine_for(PG_URL).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.upgrade(PG_URL)
        _pg_migrated = True
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine_for(PG_URL).begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield PG_URL


@pytest.fixture
def session(db_url: str):
    with db.unit_of_work(db_url) as s:
        yield s
