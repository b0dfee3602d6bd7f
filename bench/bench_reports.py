"""Benchmark: reports over 1,000,000 order lines on SQLite (not part of the test suite).

    .venv/bin/python bench/bench_reports.py [--lines 1000000]

Builds a fresh database in a temporary directory (six channels in five currencies, 500 SKUs with a cost
history of three costs over the year, lead times and suppliers, daily FX rates into CNY for a year and
CNY->EUR, 250,000 orders of 4 lines with shipping, marketplace fees on two channels and fee rules in a
channels file for the others, a stock ledger), then times the real command line: profit reports
(``syncer report sales --by channel --by month`` as CSV and as XLSX with summary, charts and rates;
``--by sku``: the worst case, one SQL row per SKU, currency, day and status; ``--by category`` in EUR,
triangulated through CNY, filtered by two channels and two countries; ``--by month`` filtered by a SKU
glob), ``syncer report inventory``, ``reorder`` and ``purchase`` (XLSX). Prints JSON with the seconds, the
line count and baselines measured in the same run (a bare ``COUNT(*)`` and one ``SUM(quantity *
unit_price)`` join over the order lines, and ``syncer --help``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHANNELS = [
    ("tb", "taobao", "CNY"),
    ("shop", "shopify", "USD"),
    ("woo", "woocommerce", "EUR"),
    ("ali", "aliexpress", "USD"),
    ("ebay", "ebay", "GBP"),
    ("amz", "amazon", "JPY"),
]
TO_CNY = {"USD": 7.2, "EUR": 7.8, "GBP": 9.1, "JPY": 0.048}
STATUSES = ["paid"] * 3 + ["shipped"] * 5 + ["delivered"] * 8 + ["cancelled", "refunded", "returned", "pending"]
SCALE = 10**6
FIRST = date(2025, 1, 1)
DAYS = 365


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores naive UTC on SQLite


def generate(path: Path, lines: int, per_order: int = 4, skus: int = 500) -> None:
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=WAL")
    now = stamp(datetime.now(UTC))
    cur = conn.cursor()
    cur.executemany(
        "INSERT INTO channels (id, name, kind, currency, enabled, created_at) VALUES (?, ?, ?, ?, 1, ?)",
        [(i + 1, n, k, c, now) for i, (n, k, c) in enumerate(CHANNELS)],
    )
    cur.executemany("INSERT INTO warehouses (id, code, name) VALUES (?, ?, ?)", [(1, "SH", "SH"), (2, "GZ", "GZ")])
    products = skus // 10
    cur.executemany(
        "INSERT INTO products (id, key, title, description, category, brand, tags, created_at, updated_at)"
        " VALUES (?, ?, ?, '', ?, '', '[]', ?, ?)",
        [(p + 1, f"P{p}", f"商品 {p}", f"类目{p % 12}", now, now) for p in range(products)],
    )
    prices = [rng.randint(10, 500) for _ in range(skus)]
    cur.executemany(
        "INSERT INTO skus (id, sku, product_id, attributes, images, barcode, base_price, cost, currency, active,"
        " lead_time_days, supplier, created_at, updated_at)"
        " VALUES (?, ?, ?, '{}', '[]', '', ?, ?, 'CNY', 1, ?, ?, ?, ?)",
        [
            (
                s + 1,
                f"SKU-{s:05d}",
                s // 10 + 1,
                prices[s] * SCALE,
                prices[s] * SCALE * 45 // 100,
                rng.choice((None, 7, 14, 30)),
                f"供应商 {s % 7}",
                now,
                now,
            )
            for s in range(skus)
        ],
    )
    # cost history: 40% of the price from before the year, 42% from April, 45% (today's) from September
    history = []
    for s in range(skus):
        for since, share in (("2024-12-01", 40), ("2025-04-01", 42), ("2025-09-01", 45)):
            history.append((s + 1, stamp(datetime.fromisoformat(since)), prices[s] * SCALE * share // 100))
    cur.executemany("INSERT INTO sku_costs (sku_id, valid_from, cost) VALUES (?, ?, ?)", history)
    cur.executemany(
        "INSERT INTO stock_levels (sku_id, warehouse_id, on_hand, reserved) VALUES (?, ?, ?, ?)",
        [(s + 1, w, rng.randint(0, 400), rng.randint(0, 5)) for s in range(skus) for w in (1, 2)],
    )
    rates = []
    for d in range(-30, DAYS):
        day = (FIRST + timedelta(days=d)).isoformat()
        for currency, base in TO_CNY.items():
            rates.append((currency, "CNY", day, round(base * (1 + rng.uniform(-0.02, 0.02)) * SCALE)))
        rates.append(("CNY", "EUR", day, round(0.128 * (1 + rng.uniform(-0.02, 0.02)) * SCALE)))
    cur.executemany("INSERT INTO fx_rates (base, quote, day, rate) VALUES (?, ?, ?, ?)", rates)
    orders = lines // per_order
    start = datetime.combine(FIRST, datetime.min.time())
    line_id = movement_id = 0
    batch = 20_000
    for first in range(0, orders, batch):
        order_rows, line_rows, movement_rows = [], [], []
        for o in range(first, min(first + batch, orders)):
            channel = rng.randrange(len(CHANNELS))
            currency = CHANNELS[channel][2]
            placed = start + timedelta(seconds=rng.randrange(DAYS * 86400))
            status = rng.choice(STATUSES)
            total = 0
            for n in range(per_order):
                line_id += 1
                sku = rng.randrange(skus) + 1
                quantity = rng.randint(1, 3)
                # scaled by 10^6: 100..99,999 yen, or 1.00..999.99 in the other currencies
                price = rng.randint(100, 99_999) * (SCALE if currency == "JPY" else 10_000)
                total += quantity * price
                line_rows.append((line_id, o + 1, str(n), f"SKU-{sku - 1:05d}", sku, quantity, price, 1 + n % 2, 0))
                if status in ("shipped", "delivered") and n == 0:
                    movement_id += 1
                    movement_rows.append(
                        (movement_id, sku, 1, "ship", -quantity, 0, "bench", f"ship:{line_id}", stamp(placed))
                    )
            order_rows.append(
                (
                    o + 1,
                    channel + 1,
                    f"O{o}",
                    status,
                    status,
                    stamp(placed),
                    stamp(placed),
                    currency,
                    total,
                    rng.choice((0, 5 * SCALE, None)),
                    total * 12 // 100 if CHANNELS[channel][1] in ("ebay", "aliexpress") else None,  # reported fees
                    rng.choice(("CN", "US", "DE", "GB", "JP", "FR", None)),
                    0,
                    now,
                    now,
                )
            )
        cur.executemany(
            "INSERT INTO orders (id, channel_id, external_id, status, raw_status, placed_at, updated_at, currency,"
            " total, shipping, fees, ship_country, return_received, first_seen_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            order_rows,
        )
        cur.executemany(
            "INSERT INTO order_lines (id, order_id, line_id, sku, sku_id, quantity, unit_price, warehouse_id,"
            " unmatched) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            line_rows,
        )
        cur.executemany(
            "INSERT INTO stock_movements (id, sku_id, warehouse_id, kind, on_hand_delta, reserved_delta, reason,"
            " idempotency_key, created_at, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'bench')",
            movement_rows,
        )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


CHANNELS_FILE = """
[[channels]]
name = "tb"
kind = "taobao"
currency = "CNY"
warehouses = ["SH", "GZ"]
base_url = "emulator:"
fee_percent = "5"

[[channels]]
name = "shop"
kind = "shopify"
currency = "USD"
warehouses = ["SH"]
base_url = "emulator:"
fee_percent = "2.9"
fee_fixed = "0.30"
[channels.options]
shop = "bench"
api_version = "2026-10"

[[channels]]
name = "woo"
kind = "woocommerce"
currency = "EUR"
warehouses = ["SH"]
base_url = "emulator:"
fee_percent = "3"

[[channels]]
name = "amz"
kind = "amazon"
currency = "JPY"
warehouses = ["SH"]
base_url = "emulator:"
fee_percent = "15"
[channels.options]
seller_id = "BENCH"
"""


REPORTS = ("sales_", "inventory_", "reorder_", "purchase_")


def _total_line(path: Path) -> str:
    """The ``total,TOTAL,ALL`` CSV line (every figure of the year in CNY), to compare runs."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("total,TOTAL,ALL,"):
            return line
    return ""


CPU: dict[str, float] = {}  # command label -> CPU seconds (user + system) of the command's process


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one command; its CPU seconds go to ``CPU`` (on a shared machine the wall time
    also counts the time spent waiting for a core)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    label = " ".join(command[1:])
    CPU[label] = round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2)
    return round(seconds, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    from listing_sync.syncer import db

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        database = data / "syncer.db"
        url = f"sqlite:///{database}"
        db.upgrade(url)
        db.engine_for(url).dispose()
        began = time.perf_counter()
        generate(database, args.lines)
        generate_seconds = round(time.perf_counter() - began, 2)

        conn = sqlite3.connect(database)
        began = time.perf_counter()
        lines = conn.execute("SELECT COUNT(*) FROM order_lines").fetchone()[0]
        count_seconds = round(time.perf_counter() - began, 3)
        began = time.perf_counter()
        conn.execute(
            "SELECT o.currency, SUM(l.quantity * l.unit_price) FROM order_lines l JOIN orders o ON o.id = l.order_id"
            " GROUP BY o.currency"
        ).fetchall()
        sum_seconds = round(time.perf_counter() - began, 3)
        conn.close()

        channels = Path(tmp) / "channels.toml"
        channels.write_text(CHANNELS_FILE, encoding="utf-8")
        env = {
            **os.environ,
            "SYNCER_DATA_DIR": str(data),
            "SYNCER_CHANNELS_FILE": str(channels),
            "SYNCER_REPORT_TIMEZONE": "Asia/Shanghai",
        }
        syncer = [str(Path(sys.executable).with_name("syncer"))]
        window = ["--from", "2025-01-01", "--to", "2025-12-31"]
        sales = [*syncer, "report", "sales", *window, "--by", "channel", "--by", "month"]
        filtered = ["--channel", "shop", "--channel", "ebay", "--country", "US", "--country", "GB"]
        result = {
            "lines": lines,
            "orders": lines // 4,
            "generate_seconds": generate_seconds,
            "baseline_count_seconds": count_seconds,
            "baseline_sum_join_seconds": sum_seconds,
            "baseline_cli_help_seconds": timed([*syncer, "--help"], env),
            "sales_by_channel_month_csv_seconds": timed([*sales, "--format", "csv", "--out", f"{tmp}/s.csv"], env),
            "sales_by_channel_month_xlsx_seconds": timed([*sales, "--format", "xlsx", "--out", f"{tmp}/s.xlsx"], env),
            "sales_by_sku_csv_seconds": timed(
                [*syncer, "report", "sales", *window, "--by", "sku", "--format", "csv", "--out", f"{tmp}/k.csv"], env
            ),
            "sales_by_category_eur_two_channels_two_countries_xlsx_seconds": timed(
                [*syncer, "report", "sales", *window, "--by", "category", "--currency", "EUR", *filtered]
                + ["--format", "xlsx", "--out", f"{tmp}/c.xlsx"],
                env,
            ),
            "sales_by_month_sku_glob_csv_seconds": timed(
                [*syncer, "report", "sales", *window, "--by", "month", "--sku", "SKU-001*", "--format", "csv"]
                + ["--out", f"{tmp}/g.csv"],
                env,
            ),
            "inventory_seconds": timed([*syncer, "report", "inventory", *window, "--format", "csv"], env),
            "reorder_seconds": timed([*syncer, "report", "reorder", *window, "--format", "csv"], env),
            "purchase_xlsx_seconds": timed(
                [*syncer, "report", "purchase", *window, "--format", "xlsx", "--out", f"{tmp}/p.xlsx"], env
            ),
            "limit_seconds": 30,
        }
        result["totals_csv"] = _total_line(Path(tmp) / "s.csv")
        labels = list(CPU)[1:]  # the reports, in the order timed (the first is --help)
        names = [k for k in result if k.endswith("_seconds") and k.startswith(REPORTS)]
        result["cpu_seconds"] = {name: CPU[label] for name, label in zip(names, labels, strict=True)}
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
        result["cores"] = os.cpu_count()
        result["all_reports_under_limit_wall"] = all(result[name] < 30 for name in names)
        result["all_reports_under_limit_cpu"] = all(v < 30 for v in result["cpu_seconds"].values())
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
