"""Orders, FX and mapping services return typed results (the emulated channels sell; rates reprice)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from listing_sync.syncer.services import fx, mappings, orders
from listing_sync.syncer.services.common import FileFormat, InvalidRequest, NotFound
from scenario import build


def test_pull_orders_pushes_the_new_availability_to_the_other_channels(tmp_path) -> None:
    world = build(tmp_path, ["shopify", "woocommerce"], units=5)
    world.sell("shopify")
    pulled = orders.pull_orders(world.context, ["shopify"], user="ops")
    assert [(p.channel, p.new) for p in pulled.pulls] == [("shopify", 1)]
    assert [(p.source, p.channel, p.skus, p.report.failed) for p in pulled.pushes] == [("shopify", "woocommerce", 1, 0)]
    listed = orders.list_orders(world.context)
    assert len(listed) == 1 and listed[0].channel == "shopify"
    assert [(line.sku, line.unmatched) for line in listed[0].lines] == [("TEA-LJ-250", False)]
    picks = orders.pick_list(world.context)
    assert [(p.warehouse, p.sku, p.orders) for p in picks] == [("SH", "TEA-LJ-250", 1)]
    written = orders.export_orders(world.context, fmt=FileFormat.CSV)
    assert written.rows == 1 and written.text is not None and written.text.startswith("order,channel,status")
    with pytest.raises(NotFound, match="no channel 'mars'"):
        orders.receive_return(world.context, "mars", "1")


def test_fx_set_import_list(world, tmp_path) -> None:
    done = fx.set_rate(world.context, "cny", "usd", Decimal("0.14"), date(2026, 1, 1))
    assert (done.base, done.quote, done.rate, done.changed) == ("CNY", "USD", Decimal("0.14"), True)
    assert not fx.set_rate(world.context, "CNY", "USD", Decimal("0.14"), date(2026, 1, 1)).changed
    with pytest.raises(InvalidRequest, match="QQQ"):
        fx.set_rate(world.context, "CNY", "QQQ", Decimal("1"))
    rates = tmp_path / "rates.csv"
    rates.write_text("date,base,quote,rate\n2026-02-01,EUR,CNY,7.8\n2026-01-01,CNY,USD,0.14\n", encoding="utf-8")
    assert fx.import_rates(world.context, rates) == fx.RatesImported(1, 1, 0)
    assert [(r.day, r.base, r.quote) for r in fx.list_rates(world.context, quote="cny")] == [
        (date(2026, 2, 1), "EUR", "CNY")
    ]


def test_mappings_map_unmap_list_export(world) -> None:
    mapped = mappings.map_category(world.context, "shopify", "tea", "Loose Leaf Tea")
    assert mapped.changed and mapped.dirty == 2  # TEA-1 and TEA-2 republish on Shopify
    assert mappings.map_category(world.context, "shopify", "tea", "Loose Leaf Tea") == mappings.Mapped(False, 0)
    table = mappings.list_categories(world.context)
    assert table.columns == ("channel", "category", "target", "required")
    assert table.rows == [{"channel": "shopify", "category": "tea", "target": "Loose Leaf Tea", "required": ""}]
    with pytest.raises(InvalidRequest, match="Tea Leaves"):
        mappings.map_category(world.context, "taobao", "tea", "Tea Leaves")
    assert mappings.export_categories(world.context, fmt=FileFormat.CSV).text == (
        "channel,category,target,required\nshopify,tea,Loose Leaf Tea,\n"
    )
    mappings.unmap_category(world.context, "shopify", "tea")
    with pytest.raises(NotFound, match="is not mapped"):
        mappings.unmap_category(world.context, "shopify", "tea")
