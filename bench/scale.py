"""The catalog at scale: N SKUs x 6 emulated channels on SQLite and, when reachable, PostgreSQL.

Run from the repository root::

    .venv/bin/python -m bench scale            # 100k and 1M SKUs (long: an hour or more on 2 cores)
    .venv/bin/python -m bench scale --quick    # 10k and 100k SKUs, goals scaled linearly
    .venv/bin/python -m bench scale --sizes 20000 --no-postgres --only import,recompute

Each size seeds its own catalog in the project's CSV format (4 variants per product, two warehouses,
localized titles and attribute values, an HTML description per product), imports it, lists every SKU
on the six channels of ``config/channels.example.toml`` (emulators), and measures:

=====================  ===========================================================================
``import``             ``catalog import`` of the whole file (service call), fresh database
``reimport``           the same file again (changes nothing)
``recompute``          full recompute of every listing's desired price, quantity and content hash
                       (the first: every content hash computed and recorded with its basis)
``recompute_rates``    a new CNY->USD rate, then the full recompute again: prices move, content does
                       not (its hashes are kept: their content basis is unchanged)
``plan``               the routine plan: 1% of the SKUs' prices changed (their listings recomputed,
                       not timed), then every channel's push plan (``syncer sync --dry-run``)
``push_writeback``     writing that plan's results back (every item answered ok by a stub adapter:
                       no wire), CPU milliseconds per listing
``bulk_preview``       ``syncer price adjust --percent 5 --category C --dry-run`` (5% of the SKUs,
                       x 6 channels), a whole CLI process
``bulk_apply``         the same with ``--yes --format json``
``help``               ``syncer --help`` (median of 5), against ``python -c pass`` in the same run
=====================  ===========================================================================

Every measure runs in its own child process (``python -m bench step ...``), which reports its own peak
RSS (``getrusage``); CLI measures take the ``syncer`` process's peak RSS from ``wait4``. The output is
one JSON object: ``bench``, ``machine`` (CPU, cores, memory, load before and after, versions) and
``results`` (one row per measure, size and database: ``measure``, ``value``, ``unit``, ``goal``,
``items``, ``rss_mb``, ...) plus ``growth``: the exponent k of time ~ size^k between consecutive sizes
(1 = linear). Goals are the issue's (#17) at 1M SKUs, scaled linearly to the size measured.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHANNELS_FILE = ROOT / "config" / "channels.example.toml"
VARIANTS = 4
CATEGORIES = 20  # the bulk change selects one: 5% of the SKUs (50,000 of 1M)
DIRTY_SHARE = 0.01
REFERENCE = 1_000_000

#: measure -> (unit, goal at 1M SKUs or None, scales with size, goal on RSS)
GOALS: dict[str, tuple[str, float | None, bool]] = {
    "import": ("s", 60.0, True),
    "reimport": ("s", 60.0, True),
    "recompute": ("s", 60.0, True),
    "recompute_rates": ("s", 60.0, True),
    "plan": ("s", 2.0, True),
    "push_writeback": ("ms CPU/listing", None, False),
    "bulk_preview": ("s", 5.0, True),
    "bulk_apply": ("s", 15.0, True),
    "help": ("s", 0.5, False),
}
RSS_GOAL_MB = 500
ORDER = ["import", "reimport", "recompute", "recompute_rates", "plan", "push_writeback", "bulk_preview", "bulk_apply"]


def log(message: str) -> None:
    print(f"[bench scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ catalog
HEADER = [
    "sku",
    "product",
    "title",
    "description",
    "category",
    "brand",
    "tags",
    "title[en]",
    "description[en]",
    "attr[颜色]",
    "attr[颜色][en]",
    "images",
    "barcode",
    "weight_grams",
    "cost",
    "base_price",
    "currency",
    "stock[SH]",
    "stock[GZ]",
]
COLOURS = [("白色", "White"), ("黑色", "Black"), ("红色", "Red"), ("蓝色", "Blue")]


def sku_code(i: int) -> str:
    return f"SKU-{i:07d}"


def write_catalog(path: Path, skus: int) -> None:
    """``skus`` rows of the project's catalog CSV: products of 4 variants, stock in SH and GZ."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(skus):
            p = i // VARIANTS
            colour, colour_en = COLOURS[i % VARIANTS]
            description = (
                f"<p>产品 {p} 的介绍：<b>精选</b>材料。</p><ul><li>规格 {p % 97}</li><li>产地 上海</li></ul>"
                f"<script>track({p})</script><p onclick='x()'>更多</p>"
            )
            writer.writerow(
                [
                    sku_code(i),
                    f"P{p:07d}",
                    f"商品 {p} 茶具套装",
                    description,
                    f"cat{p % CATEGORIES}",
                    "Bench Brand",
                    f"t{p % 7};bench",
                    f"Tea set {p}",
                    f"<p>Product {p}: <b>selected</b> materials.</p><script>x()</script>",
                    colour,
                    colour_en,
                    f"https://img.example.com/p/{p}/1.jpg|https://img.example.com/p/{p}/{i % VARIANTS}.jpg",
                    f"69{i:011d}",
                    200 + i % 300,
                    f"{20 + (i * 37) % 300}.00",
                    f"{99 + (i * 37) % 900}.{i % 100:02d}",
                    "CNY",
                    i % 37,
                    i % 11,
                ]
            )


# ------------------------------------------------------------------------------------------ machine
def machine(pg_version: str | None) -> dict[str, Any]:
    import sqlite3

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_mb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory_mb = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "memory_mb": memory_mb,
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version,
        "platform": platform.platform(),
    }


# ------------------------------------------------------------------------------------------- running
def _env(work: Path, url: str) -> dict[str, str]:
    return dict(
        os.environ,
        SYNCER_DATA_DIR=str(work / "data"),
        SYNCER_DATABASE_URL=url,
        SYNCER_CHANNELS_FILE=str(CHANNELS_FILE),
        SYNCER_HUEY_BACKEND="sqlite",
        SYNCER_EMULATOR_FAULTS="",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """Run a process; (wall seconds, its peak RSS in MB from wait4, stdout, its CPU seconds). Raises when
    it fails."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout, usage.ru_utime + usage.ru_stime


def step(name: str, work: Path, url: str, size: int) -> dict[str, Any]:
    """One measure in a child process; its JSON line (seconds, rss_mb, items, ...)."""
    args = [sys.executable, "-m", "bench", "step", name, "--dir", str(work), "--url", url, "--size", str(size)]
    _, _, stdout, _ = _run(args, _env(work, url))
    return json.loads(stdout.strip().splitlines()[-1])


def cli(work: Path, url: str, *args: str) -> tuple[float, float, float]:
    """A whole ``syncer`` process: (wall seconds, peak RSS MB, CPU seconds)."""
    return cli_output(work, url, *args)[:3]


def cli_output(work: Path, url: str, *args: str) -> tuple[float, float, float, str]:
    """A whole ``syncer`` process: (wall seconds, peak RSS MB, CPU seconds, its stdout)."""
    syncer = str(Path(sys.executable).with_name("syncer"))
    seconds, rss, stdout, cpu = _run([syncer, *args], _env(work, url))
    return seconds, rss, cpu, stdout


def measure_help(runs: int = 5) -> list[dict[str, Any]]:
    env = dict(os.environ)
    syncer = str(Path(sys.executable).with_name("syncer"))
    times, rss, base, cpu = [], [], [], []
    for _ in range(runs):
        seconds, peak, _, used = _run([syncer, "--help"], env)
        times.append(seconds)
        rss.append(peak)
        cpu.append(used)
        base.append(_run([sys.executable, "-c", "pass"], env)[0])
    value = statistics.median(times)
    baseline = statistics.median(base)
    return [
        row(
            "help",
            value,
            items=1,
            size=0,
            database="-",
            rss_mb=max(rss),
            cpu_seconds=round(statistics.median(cpu), 3),
            baseline={"python -c pass": round(baseline, 3)},
            ratio_to_baseline=round(value / baseline, 1),
        )
    ]


def row(measure: str, value: float, *, items: int, size: int, database: str, rss_mb: float, **extra: Any) -> dict:
    unit, goal_1m, scales = GOALS[measure]
    goal = None
    if goal_1m is not None:
        goal = goal_1m * size / REFERENCE if scales else goal_1m
    out = {
        "measure": measure,
        "value": round(value, 4 if value < 1 else 2),
        "unit": unit,
        "goal": None if goal is None else round(goal, 3),
        "items": items,
        "skus": size,
        "database": database,
        "rss_mb": round(rss_mb, 1),
        "rss_goal_mb": RSS_GOAL_MB,
        "ok": (goal is None or value < goal) and rss_mb < RSS_GOAL_MB,
    }
    out.update(extra)
    return out


def run_size(size: int, database: str, url: str, work: Path, only: set[str]) -> list[dict[str, Any]]:
    """Every measure of one catalog size on one database (a fresh one)."""
    rows: list[dict[str, Any]] = []
    csv_path = work / "catalog.csv"
    if not csv_path.exists():
        log(f"writing {size} catalog rows")
        write_catalog(csv_path, size)
    step("setup", work, url, size)

    def add(measure: str, result: dict[str, Any]) -> None:
        value = result.pop("seconds") if "seconds" in result else result.pop("value")
        items, rss = result.pop("items"), result.pop("rss_mb")
        rows.append(row(measure, value, items=items, size=size, database=database, rss_mb=rss, **result))
        last = rows[-1]
        usage = f"cpu {last.get('cpu_seconds')} s, rss {last['rss_mb']} MB"
        log(f"{database} {size}: {measure} = {last['value']} {last['unit']} ({usage})")

    for measure in ("import", "reimport"):
        if measure in only or "seed" in only:
            add(measure, step(measure, work, url, size))
    if not ({"recompute", "recompute_rates", "plan", "push_writeback", "bulk_preview", "bulk_apply"} & only):
        return rows
    if "import" not in only and "reimport" not in only:
        step("import", work, url, size)
    step("listings", work, url, size)
    result = step("recompute", work, url, size)
    if "recompute" in only:
        add("recompute", result)
    if "recompute_rates" in only:
        add("recompute_rates", step("recompute_rates", work, url, size))
    step("published", work, url, size)
    if {"plan", "push_writeback"} & only:
        step("dirty", work, url, size)
        result = step("plan", work, url, size)
        if "plan" in only:
            add("plan", result)
        if "push_writeback" in only:
            add("push_writeback", step("push", work, url, size))
    if {"bulk_preview", "bulk_apply"} & only:
        selector = ["--category", "cat3"]
        bulk_skus = sum(1 for i in range(size) if (i // VARIANTS) % CATEGORIES == 3)
        listings = bulk_skus * 6
        seconds, rss, cpu = cli(work, url, "price", "adjust", "--percent", "5", *selector, "--dry-run")
        extra = {"items": listings, "skus_changed": bulk_skus}
        add("bulk_preview", {"seconds": seconds, "rss_mb": rss, "cpu_seconds": round(cpu, 2), **extra})
        args = ["price", "adjust", "--percent", "5", *selector, "--yes", "--format", "json"]
        seconds, rss, cpu, stdout = cli_output(work, url, *args)
        summary = json.loads(stdout)["summary"]  # what was applied, as the command reports it
        extra = {**extra, "listings_changed": summary["listings"], "values_changed": summary["values"]}
        add("bulk_apply", {"seconds": seconds, "rss_mb": rss, "cpu_seconds": round(cpu, 2), **extra})
    for measure in ("bulk_preview", "bulk_apply"):  # a 1M goal is for 50,000 SKUs: scale by SKUs changed
        for r in rows:
            if r["measure"] == measure and r["skus"] == size and r["database"] == database:
                goal = GOALS[measure][1]
                assert goal is not None
                r["goal"] = round(goal * r["skus_changed"] / 50_000, 3)
                r["ok"] = r["value"] < r["goal"] and r["rss_mb"] < RSS_GOAL_MB
    return rows


def growth(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """time ~ size^k between consecutive sizes of each measure and database."""
    out = []
    keys = {(r["measure"], r["database"]) for r in results if r["skus"]}
    for measure, database in sorted(keys):
        series = sorted(
            (r["skus"], r["value"]) for r in results if r["measure"] == measure and r["database"] == database
        )
        for (n1, v1), (n2, v2) in zip(series, series[1:], strict=False):
            if v1 > 0 and v2 > 0 and n2 > n1:
                k = math.log(v2 / v1) / math.log(n2 / n1)
                out.append({"measure": measure, "database": database, "from": n1, "to": n2, "exponent": round(k, 2)})
    return out


# ------------------------------------------------------------------------------------------- postgres
def postgres_server(explicit: str | None) -> tuple[str, str] | None:
    """(server URL, version) of a reachable PostgreSQL, or None."""
    url = explicit or os.environ.get("SYNCER_TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        return None
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        return url, str(version[0] if version else "")
    except Exception as exc:  # unreachable: measure SQLite only, and say so
        log(f"PostgreSQL at {url} not reachable ({type(exc).__name__}); SQLite only")
        return None


@contextlib.contextmanager
def postgres_database(server: str, name: str):
    """A fresh database of its own on the server (dropped afterwards), as a SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        from sqlalchemy import create_engine  # noqa: F401  (children hold no connections by now)

        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ----------------------------------------------------------------------------------------------- main
def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k SKUs (default: 100k and 1M)")
    parser.add_argument("--sizes", type=int, nargs="+", help="SKU counts to run instead")
    parser.add_argument("--only", default="", help="comma-separated measures (default: all): " + ",".join(ORDER))
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SYNCER_TEST_DATABASE_URL)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (printed on stderr)")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [100_000, REFERENCE])
    only = set(filter(None, args.only.split(","))) or set(ORDER) | {"help"}
    server = None if args.no_postgres else postgres_server(args.postgres)
    report: dict[str, Any] = {
        "bench": "scale",
        "sizes": sizes,
        "channels": 6,
        "machine": machine(server[1] if server else None),
        "results": [],
    }
    began = time.perf_counter()
    if "help" in only:
        report["results"] += measure_help()
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        for size in sizes:
            work = root / f"sqlite-{size}"
            work.mkdir()
            report["results"] += run_size(size, "sqlite", f"sqlite:///{work / 'bench.db'}", work, only)
            if server is not None:
                pg_work = root / f"postgresql-{size}"
                pg_work.mkdir()
                shutil.copy(work / "catalog.csv", pg_work / "catalog.csv")
                with postgres_database(server[0], f"bench_scale_{os.getpid()}_{size}") as url:
                    report["results"] += run_size(size, "postgresql", url, pg_work, only)
                shutil.rmtree(pg_work, ignore_errors=True)
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    report["growth"] = growth(report["results"])
    report["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.perf_counter() - began, 1)
    print(json.dumps(report, ensure_ascii=False, indent=1))
