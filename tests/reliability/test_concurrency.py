"""(b) Concurrent bulk changes, two inline syncs and a worker's order pulls at once, on PostgreSQL + Redis
against emulators served as their own processes: the price pushes sent stay within 5% of those planned
(one writer per channel: no listing pushed twice), no deadlock, no lost update, levels = ledger."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from harness import Deployment, dump, requires_backends, unexpected_failures
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.context import Context
from listing_sync.syncer.models import ChangeSet, Channel, ChannelListing, Sku
from listing_sync.syncer.services import changes, sync
from listing_sync.syncer.services.sync import SyncMode
from sqlalchemy import func, select
from verify import settled, verify

CHANNELS = ["woo-a", "woo-b"]


def _price_pushes(traces: list[Path]) -> tuple[int, int]:
    """(requests, items) that set a price, over every process's HTTP trace."""
    requests = items = 0
    for trace in traces:
        if not trace.exists():
            continue
        for line in trace.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            body = entry.get("request_body") or ""
            if entry["method"] in ("POST", "PUT") and "regular_price" in body and entry.get("status") == 200:
                requests += 1
                parsed = json.loads(body)
                items += len(parsed.get("update", [])) if isinstance(parsed, dict) and "update" in parsed else 1
    return requests, items


@requires_backends
def test_two_inline_syncs_a_worker_and_bulk_changes_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    began = time.monotonic()
    since = datetime.now(UTC) - timedelta(minutes=5)
    deployment = Deployment(tmp_path, CHANNELS)
    deployment.create(monkeypatch)
    stop = threading.Event()
    try:
        for name in CHANNELS:
            deployment.start_emulator(name, orders_every=1.0)
        context = deployment.context()
        assert all(r.ok and r.aborted is None for r in sync.run_sync(context, None, user="setup"))
        rise = changes.PriceAdjust(Selection(patterns=["*"]), percent=Decimal("5"))
        changes.apply_change(context, changes.preview_change(context, rise), sync=SyncMode.NONE)
        plans = sync.plan_sync(context)
        planned_calls = sum(p.api_calls for p in plans)
        planned_items = sum(p.counts.get("price", 0) for p in plans)
        traces = [tmp_path / "trace-worker.jsonl", tmp_path / "trace-1.jsonl", tmp_path / "trace-2.jsonl"]
        deployment.start_worker(threads=2, trace=traces[0])

        def pulls() -> None:
            with deployment.queue_client() as (queue, tasks):
                while not stop.is_set():  # each channel's orders and sync every 2 s, as a busy scheduler would
                    if len(queue) + queue.scheduled_count() == 0:
                        for name in CHANNELS:
                            queue.storage.enqueue(tasks.huey.serialize_task(tasks.pull_orders.s(name, user="b")))
                            queue.storage.enqueue(tasks.huey.serialize_task(tasks.sync_channel.s(name, user="b")))
                    stop.wait(2.0)

        outcomes: dict[str, list[int]] = {}

        def inline(n: int) -> None:
            codes = outcomes.setdefault(f"inline-{n}", [])
            for _ in range(60):
                done = deployment.run("sync", "--inline", "--user", f"inline-{n}", trace=traces[n])
                codes.append(done.returncode)
                assert "Traceback" not in done.stderr, done.stderr
                if done.returncode == 0:
                    return
                time.sleep(1.0)  # exit 75: a channel was busy; try again later, as an operator would

        def bulk(n: int) -> None:
            codes = outcomes.setdefault(f"bulk-{n}", [])
            for _ in range(4):
                args = ["stock", "adjust", "--by", "1", "--warehouse", "SH", "--sku", "REL-0*", "--yes"]
                done = deployment.run(*args, "--user", f"bulk-{n}")
                codes.append(done.returncode)
                assert "Traceback" not in done.stderr, done.stderr

        threads = [threading.Thread(target=pulls, daemon=True)]
        threads += [threading.Thread(target=inline, args=(n,)) for n in (1, 2)]
        threads += [threading.Thread(target=bulk, args=(n,)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads[1:]:
            thread.join(timeout=300)
        # orders stop; the worker settles what the bulk changes queued
        deployment.stop_emulators()
        for name in CHANNELS:
            deployment.start_emulator(name)
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:  # every order pulled, every listing pushed, quantities as the rules
            time.sleep(4)
            if settled(context):
                converging = verify(context, CHANNELS, since)
                if not converging.lost and not converging.not_clean and not converging.quantity_mismatches:
                    break
        stop.set()
        deployment.stop_workers()
        sent_requests, sent_items = _price_pushes(traces)
        verdict = verify(context, CHANNELS, since)
        checked = deployment.run("check", "--format", "json")
        with context.session() as s:
            applied = s.scalar(select(func.count()).select_from(ChangeSet).where(ChangeSet.user.like("bulk-%")))
            wrong_prices = 0
            for name in CHANNELS:
                remote = read_remote_prices(context, name)
                for sku, desired in s.execute(
                    select(Sku.sku, ChannelListing.desired_price)
                    .join(Sku, Sku.id == ChannelListing.sku_id)
                    .join(Channel, Channel.id == ChannelListing.channel_id)
                    .where(Channel.name == name)
                ):
                    wrong_prices += remote.get(sku) != desired
        log = deployment.log_text()
        figures = {
            "planned_price_calls": planned_calls,
            "planned_price_items": planned_items,
            "sent_price_requests": sent_requests,
            "sent_price_items": sent_items,
            "ratio_requests": round(sent_requests / planned_calls, 3) if planned_calls else None,
            "ratio_items": round(sent_items / planned_items, 3) if planned_items else None,
            "exit_codes": outcomes,
            "bulk_changes_applied": applied,
            "orders": verdict.orders,
            "lost": verdict.lost,
            "duplicates": verdict.duplicates,
            "quantity_mismatches": len(verdict.quantity_mismatches),
            "wrong_prices": wrong_prices,
            "deadlocks": log.count("DeadlockDetected"),
            "task_failures_other_than_unreachable": len(unexpected_failures(log)),
            "check_exit": checked.returncode,
            "seconds": round(time.monotonic() - began, 1),
        }
        dump(figures, "concurrency")
        assert figures["deadlocks"] == 0 and unexpected_failures(log) == [], unexpected_failures(log)[:3]
        assert sent_items <= planned_items * 1.05 and sent_requests <= planned_calls * 1.05, figures
        assert all(set(codes) <= {0, 75} for key, codes in outcomes.items() if key.startswith("inline")), figures
        assert all(codes and codes[-1] == 0 for key, codes in outcomes.items() if key.startswith("inline")), figures
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert verdict.lost == verdict.duplicates == 0, figures
        assert verdict.quantity_mismatches == [], verdict.quantity_mismatches
        assert wrong_prices == 0 and applied and applied >= 1, figures
    finally:
        stop.set()
        deployment.destroy()


def read_remote_prices(context: Context, name: str) -> dict[str, Decimal | None]:
    with context.adapter(context.channel(name)) as adapter:
        return {listing.sku: listing.price.amount if listing.price else None for listing in adapter.listings()}
