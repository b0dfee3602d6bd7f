"""``syncer orders ship``: one package from options, a file validated whole, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer.cli.app import app
from listing_sync.syncer.services import orders
from scenario import build
from typer.testing import CliRunner


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    world = build(tmp_path, ["woocommerce"], units=10)
    monkeypatch.setenv("SYNCER_DATA_DIR", str(world.context.data_dir))
    get_settings.cache_clear()
    [order] = world.sell("woocommerce")
    orders.pull_orders(world.context, ["woocommerce"], push=False)
    yield world, order
    get_settings.cache_clear()


def run(*args: str):
    return CliRunner().invoke(app, ["orders", "ship", *args], catch_exceptions=False)


def test_ship_one_order(shop) -> None:
    _world, order = shop
    result = run(order, "--carrier", "China Post", "--tracking", "RR123456789CN")
    assert result.exit_code == 0, result.output
    assert "CHINAPOST" in result.output and "1 pushed" in result.output
    again = run(order, "--carrier", "CHINAPOST", "--tracking", "RR123456789CN")
    assert again.exit_code == 0 and "before" in again.output


def test_refusals_are_one_clear_message(shop, tmp_path: Path) -> None:
    _world, order = shop
    missing = run(order, "--carrier", "SF")
    assert missing.exit_code != 0 and "--tracking" in missing.output
    bad_line = run(order, "--carrier", "SF", "--tracking", "1", "--line", "TEA-LJ-250")
    assert bad_line.exit_code != 0 and "SKU=QTY" in bad_line.output
    sheet = tmp_path / "ship.csv"
    sheet.write_text(f"order,carrier,tracking\n{order},Pigeon,1\nnope,SF,2\n", encoding="utf-8")
    refused = run("--file", str(sheet))
    assert refused.exit_code == 1
    assert "row 2, column carrier: unknown carrier 'Pigeon'" in refused.output
    assert "row 3, column order: no order 'nope'" in refused.output
    assert "Traceback" not in refused.output


def test_cancel_one_order(shop) -> None:
    _world, order = shop
    done = CliRunner().invoke(app, ["orders", "cancel", order, "--reason", "duplicate"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert f"cancelled order {order} on woocommerce" in done.output
    again = CliRunner().invoke(app, ["orders", "cancel", order, "--reason", "duplicate"], catch_exceptions=False)
    assert again.exit_code == 1 and "only pending or paid orders can be cancelled" in again.output


def test_a_push_the_marketplace_refuses_is_one_line_not_a_traceback(shop) -> None:
    world, order = shop
    world.emulator("woocommerce").state["orders"].pop(order)
    world.context.hub.save()
    done = run(order, "--carrier", "SF", "--tracking", "SF404")
    assert done.exit_code == 0, done.output  # recorded here; the push failure is kept and shown in status
    assert "parked" in done.output or "retry" in done.output
    assert "Traceback" not in done.output
    status = CliRunner().invoke(app, ["status"], catch_exceptions=False)
    assert "SF404" in status.output and "Traceback" not in status.output


def test_packing_slips_and_pick_list_by_order(shop, tmp_path: Path) -> None:
    _world, order = shop
    out = tmp_path / "slips.html"
    done = CliRunner().invoke(app, ["orders", "packing-slips", "--out", str(out)], catch_exceptions=False)
    assert done.exit_code == 0 and "wrote 1 packing slip(s)" in done.output
    assert out.read_text(encoding="utf-8").count("<section class='slip'>") == 1
    picks = CliRunner().invoke(app, ["orders", "pick-list", "--by-order", "--format", "json"], catch_exceptions=False)
    import json

    [row] = json.loads(picks.output)
    assert row["order"] == order and row["recipient"] == "Alex Buyer"
    missing = CliRunner().invoke(app, ["orders", "packing-slips", "--out", str(out), "--order", "nope"])
    assert missing.exit_code == 1 and "no order nope" in missing.output
