"""Trap 5: progress bars showed ``0/?``. A sync's bar has its planned items as the total before the first
batch; an order pull tells pages and orders read, with the marketplace's own count where it gives one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from listing_sync.syncer.changes import Selection
from listing_sync.syncer.cli.app import progress_bar
from listing_sync.syncer.services import changes, orders, sync
from listing_sync.syncer.services.sync import SyncMode
from rich.console import Console
from scenario import build


def test_a_sync_bar_has_its_total_before_the_first_batch(tmp_path: Path) -> None:
    world = build(tmp_path, ["shopify", "woocommerce"], units=4)
    rise = changes.PriceAdjust(Selection(patterns=["*"]), percent=Decimal("5"))
    changes.apply_change(world.context, changes.preview_change(world.context, rise), sync=SyncMode.NONE)
    seen: list[tuple[str, int, int]] = []
    sync.run_sync(world.context, None, user="ops", progress=lambda *step: seen.append(step))
    first = {name: (done, total) for name, done, total in reversed(seen)}
    assert first == {"shopify": (0, 1), "woocommerce": (0, 1)}  # told before any push: 0 of 1, never 0/?
    assert ("shopify", 1, 1) in seen and ("woocommerce", 1, 1) in seen


def test_an_order_pull_counts_orders_against_the_total_the_marketplace_gives(tmp_path: Path) -> None:
    world = build(tmp_path, ["woocommerce", "shopify", "taobao"], units=40)
    world.sell("woocommerce", 3)
    world.sell("shopify", 2)
    world.sell("taobao", 4)
    seen: dict[str, list[tuple[int, int, int | None]]] = {}

    def progress(report) -> None:
        seen.setdefault(report.channel, []).append((report.pages, report.orders, report.expected))

    orders.pull_orders(world.context, None, user="ops", push=False, progress=progress)
    assert seen["woocommerce"][0] == (0, 0, None)  # told as the pull starts
    assert seen["woocommerce"][-1] == (1, 3, 3)  # X-WP-Total: 3 of 3
    assert seen["taobao"][-1][1:] == (4, 4)  # total_results
    assert seen["shopify"][0] == (0, 0, None)
    assert seen["shopify"][-1][1:] == (2, None)  # GraphQL orders give no count: a spinner with the count


def test_the_bar_shows_a_count_without_a_total_and_m_of_n_with_one() -> None:
    console = Console(width=80, force_terminal=True, record=True, color_system=None)
    bar = progress_bar("x", None)
    spinner = bar.add_task("orders shopify", total=None, completed=1250)
    counted = bar.add_task("sync taobao", total=20000, completed=0)
    console.print(bar.make_tasks_table([bar.tasks[spinner], bar.tasks[counted]]))
    text = console.export_text()
    assert "1,250" in text and "0/20,000" in text and "/?" not in text
