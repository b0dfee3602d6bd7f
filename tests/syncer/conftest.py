"""Database fixtures: every syncer test runs on SQLite, and also on PostgreSQL when
``SYNCER_TEST_DATABASE_URL`` is set (CI sets it when the local server answers)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from listing_sync.syncer import db
from listing_sync.syncer.models import Base, Warehouse
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `from fakes import FakeAdapter`

PG_BASE_URL = os.environ.get("SYNCER_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_BASE_URL else [])
#: each test process gets its own schema, so parallel runs against one server never meet
PG_SCHEMA = f"syncer_test_{os.getpid()}"
PG_URL = f"{PG_BASE_URL}{'&' if '?' in (PG_BASE_URL or '') else '?'}options=-csearch_path%3D{PG_SCHEMA}"
_pg_migrated = False


def _drop_pg_schema() -> None:
    with db.make_engine(PG_BASE_URL).begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a new SQLite file, or this process's PostgreSQL schema truncated."""
    global _pg_migrated
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        db.upgrade(url)
        yield url
        db.engine_for(url).dispose()
        return
    if not _pg_migrated:
        _drop_pg_schema()
        with db.make_engine(PG_BASE_URL).begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        db.upgrade(PG_URL)
        _pg_migrated = True
        request.session.config.add_cleanup(_drop_pg_schema)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine_for(PG_URL).begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield PG_URL


@pytest.fixture
def session(db_url: str):
    with db.unit_of_work(db_url) as s:
        yield s


@pytest.fixture
def url(db_url: str) -> str:
    """The test database with the example catalog's warehouses (SH, GZ): what a catalog import needs."""
    with db.unit_of_work(db_url) as s:
        s.add_all([Warehouse(code="SH", name="上海"), Warehouse(code="GZ", name="广州")])
    return db_url
