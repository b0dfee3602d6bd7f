"""Revision 0015: the import's row hashes, and the triggers that clear them, come and go cleanly."""

import os
from pathlib import Path

import pytest
from alembic import command
from listing_sync.syncer import db
from sqlalchemy import inspect

BEFORE = "0014_sku_content_version"
URLS = ["sqlite"] + (["postgresql"] if os.environ.get("SYNCER_TEST_DATABASE_URL") else [])


@pytest.mark.parametrize("backend", URLS)
def test_upgrade_downgrade_upgrade(tmp_path: Path, backend: str) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'hash.db'}"
    else:
        base = os.environ["SYNCER_TEST_DATABASE_URL"]
        schema = f"row_hash_test_{os.getpid()}"
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        _schema(base, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    try:
        db.upgrade(url)
        assert _has_row_hash(url) == {"skus": True, "products": True}
        others = _other_triggers(url)
        assert others or backend == "postgresql"
        command.downgrade(db.alembic_config(url), BEFORE)
        assert _has_row_hash(url) == {"skus": False, "products": False}
        assert _other_triggers(url) == others  # the earlier revisions' triggers survive (no table rebuild)
        db.upgrade(url)
        assert _has_row_hash(url) == {"skus": True, "products": True}
    finally:
        db.engine_for(url).dispose()
        if backend == "postgresql":
            _schema(base, f"DROP SCHEMA {schema} CASCADE")


def _has_row_hash(url: str) -> dict[str, bool]:
    engine = db.make_engine(url)
    try:
        found = inspect(engine)
        return {t: "row_hash" in {c["name"] for c in found.get_columns(t)} for t in ("skus", "products")}
    finally:
        engine.dispose()


def _other_triggers(url: str) -> set[str]:
    if not url.startswith("sqlite"):
        return set()
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            names = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars()
            return {n for n in names if "row_hash" not in n}
    finally:
        engine.dispose()


def _schema(url: str, sql: str) -> None:
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()
