"""Packing documents: the export and the pick list by order carry the recipient and the tracking; packing
slips are one printable page per order with Chinese and Latin text escaped; the recipient is nowhere else
and goes with the retention purge."""

from __future__ import annotations

import csv
import io
import logging

from listing_sync.syncer.models import Order
from listing_sync.syncer.services import orders, shipping
from scenario import build
from sqlalchemy import select


def test_export_pick_list_and_slips_carry_the_recipient_and_tracking(tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    world = build(tmp_path, ["woocommerce"], units=10)
    ids = world.sell("woocommerce", 2)
    orders.pull_orders(world.context, ["woocommerce"], push=False)
    with world.context.session() as s:
        buyer = s.scalar(select(Order.buyer).where(Order.external_id == ids[0]))
    assert buyer["name"] == "Alex Buyer" and buyer["address1"] == "1 Main St" and buyer["phone"] == "555-0100"
    shipping.ship(world.context, [shipping.ShipRequest(ids[0], "SF", "SF777", (("TEA-LJ-250", 1),))])

    text = orders.export_orders(world.context).text
    rows = list(csv.DictReader(io.StringIO(text or "")))
    first = next(r for r in rows if r["order"] == ids[0])
    assert (first["recipient"], first["phone"], first["postal_code"]) == ("Alex Buyer", "555-0100", "12345")
    assert first["address"].startswith("1 Main St, Springfield")
    assert (first["carrier"], first["tracking"], first["shipped"]) == ("SF", "SF777", "1")
    picks = orders.pick_list_by_order(world.context)
    assert {p.order for p in picks} <= set(ids) and all(p.recipient == "Alex Buyer" for p in picks)

    out = tmp_path / "slips.html"
    written = orders.packing_slips(world.context, out)
    html = out.read_text(encoding="utf-8")
    assert written.rows == 2 and html.count("<section class='slip'>") == 2
    assert "<meta charset='utf-8'>" in html and "page-break-after: always" in html
    assert "西湖龙井 Longjing Tea" in html and "装箱单" in html and "Noto Sans CJK SC" in html
    assert "Alex Buyer" in html and "SF SF777" in html
    assert "Alex Buyer" not in caplog.text and "555-0100" not in caplog.text

    orders.purge_personal_data(world.context, days=0)
    after = orders.export_orders(world.context).text or ""
    assert "Alex Buyer" not in after and "555-0100" not in after
    orders.packing_slips(world.context, out, orders=[ids[0]])
    assert "Alex Buyer" not in out.read_text(encoding="utf-8") and "purged after the retention" in out.read_text(
        encoding="utf-8"
    )


def test_slip_text_is_escaped(tmp_path) -> None:
    from datetime import UTC, datetime

    from listing_sync.adapters.base import Recipient
    from listing_sync.syncer.packing import Slip, slips_html

    slip = Slip(
        "shop",
        "<1>",
        "paid",
        datetime(2026, 12, 1, tzinfo=UTC),
        "CN",
        Recipient(name="<b>王</b>"),
        [("A&B", "茶 <i>", 1, 0, "SH")],
    )
    html = slips_html([slip])
    assert "&lt;b&gt;王&lt;/b&gt;" in html and "A&amp;B" in html and "<b>王" not in html
