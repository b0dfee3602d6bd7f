"""Catalog import at scale: N rows (default 100,000) with two warehouses into a fresh SQLite database.

Prints one JSON object: seconds for the first import, for a re-import of the same file (a no-op), and
a baseline measured in the same run (reading the CSV with the csv module alone).

    .venv/bin/python bench/bench_catalog_import.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

from listing_sync.syncer import catalog, db
from listing_sync.syncer.models import Warehouse


def write_catalog(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "sku",
                "product",
                "title",
                "category",
                "attr[颜色]",
                "cost",
                "base_price",
                "currency",
                "stock[SH]",
                "stock[GZ]",
            ]
        )
        for i in range(rows):
            product = f"P{i // 4:06d}"
            writer.writerow(
                [
                    f"SKU-{i:07d}",
                    product,
                    f"商品 {product} Product",
                    f"cat{(i // 4) % 50}",
                    f"色{i % 4}",
                    f"{10 + i % 90}.50",
                    f"{30 + i % 200}.90",
                    "CNY",
                    i % 37,
                    i % 11,
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.csv"
        write_catalog(path, args.rows)
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db.upgrade(url)
        with db.unit_of_work(url) as s:
            s.add_all([Warehouse(code="SH"), Warehouse(code="GZ")])
        began = time.monotonic()
        with path.open(encoding="utf-8") as fh:
            baseline_rows = sum(1 for _ in csv.reader(fh))
        baseline = time.monotonic() - began

        began = time.monotonic()
        with db.unit_of_work(url) as s:
            first = catalog.import_file(s, path, user="bench")
        first_seconds = time.monotonic() - began

        began = time.monotonic()
        with db.unit_of_work(url) as s:
            again = catalog.import_file(s, path, user="bench")
        again_seconds = time.monotonic() - began
    print(
        json.dumps(
            {
                "benchmark": "catalog_import",
                "rows": args.rows,
                "first_import_seconds": round(first_seconds, 2),
                "reimport_noop_seconds": round(again_seconds, 2),
                "baseline_csv_read_seconds": round(baseline, 3),
                "first_import_ratio_to_baseline": round(first_seconds / baseline, 1),
                "created": first.skus_created,
                "stock_movements": first.stock_movements,
                "reimport_changes": again.skus_updated + again.stock_movements,
                "baseline_rows": baseline_rows - 1,
            }
        )
    )


if __name__ == "__main__":
    main()
