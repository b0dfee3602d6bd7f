"""What the catalog import tests share: the example file and one import in its own transaction (the
``url`` fixture, a database with the example's warehouses, is in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from listing_sync.syncer import catalog, db

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog.csv"


def do_import(url: str, path: Path, user: str = "tester") -> catalog.ImportSummary:
    with db.unit_of_work(url) as s:
        return catalog.import_file(s, path, user=user)
