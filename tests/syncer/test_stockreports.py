"""Inventory value, per-warehouse reorder points from lead time and demand variability, purchase
suggestions per supplier: every figure worked out by hand (window 2026-03-01 .. 03-10, 10 days, UTC).

A (lead time 4 days, supplier "Hangzhou Tea Co", cost 20.00 CNY)
  SH: 10 units on each odd day (5 days) -> 50 sold, mean 5/day; the days are 10, 0, 10, 0, ... so the
      standard deviation is 5. Safety stock = z(95%) 1.6449 x 5 x sqrt(4) = 16.449 -> 17; reorder point
      = 5 x 4 + 16.449 = 36.449 -> 37. Available 30 <= 36.449: listed. Order up to ceil(37 + 5 x 30) = 187,
      minus 30 = 157 units, x 20.00 = 3,140.00 CNY.
  GZ: 1 unit every day -> mean 1, sd 0; reorder point 4; available 100: not listed.
B (no lead time: the default 14; no supplier; no cost)
  SH: 2 units on 03-05 -> mean 0.2; sd = sqrt((1.8^2 + 9 x 0.2^2) / 10) = sqrt(0.36) = 0.6.
      Safety = 1.6449 x 0.6 x sqrt(14) = 3.6928 -> 4; point = 0.2 x 14 + 3.6928 = 6.4928 -> 7.
      Available 5: listed; order ceil(7 + 0.2 x 30) = 13 - 5 = 8 units, value unknown.
Stock value at cost: A 130 on hand x 20.00 = 2,600.00 CNY (B has no cost).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from listing_sync.syncer import reports
from listing_sync.syncer.models import Channel, Product, Sku, StockLevel, Warehouse
from listing_sync.syncer.stockreports import ReorderPolicy, purchase_suggestions, supplier_totals
from openpyxl import load_workbook

from tests.syncer.test_reports import add_order

D = Decimal
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 10)


def seed(session) -> None:
    product = Product(key="P", title="龙井", category="茶叶")
    session.add(product)
    session.flush()
    a = Sku(
        sku="A",
        product_id=product.id,
        base_price=D(50),
        currency="CNY",
        cost=D("20.00"),
        lead_time_days=4,
        supplier="Hangzhou Tea Co",
    )
    b = Sku(sku="B", product_id=product.id, base_price=D(50), currency="CNY")
    sh, gz = Warehouse(code="SH"), Warehouse(code="GZ")
    channel = Channel(name="tb", kind="taobao", currency="CNY")
    session.add_all([a, b, sh, gz, channel])
    session.flush()
    session.add_all(
        [
            StockLevel(sku_id=a.id, warehouse_id=sh.id, on_hand=30, reserved=0),
            StockLevel(sku_id=a.id, warehouse_id=gz.id, on_hand=100, reserved=0),
            StockLevel(sku_id=b.id, warehouse_id=sh.id, on_hand=6, reserved=1),
        ]
    )
    number = 0

    def sell(sku: Sku, warehouse: Warehouse, day: int, quantity: int) -> None:
        nonlocal number
        number += 1
        order = add_order(session, channel, f"o{number}", f"2026-03-{day:02d} 10:00", "paid", "CNY", [])
        line = add_order_line(order, sku, quantity)
        line.warehouse_id = warehouse.id

    def add_order_line(order, sku, quantity):
        from listing_sync.syncer.models import OrderLine

        line = OrderLine(order_id=order.id, line_id="1", sku=sku.sku, sku_id=sku.id, quantity=quantity, unit_price=D(1))
        session.add(line)
        return line

    for day in (1, 3, 5, 7, 9):
        sell(a, sh, day, 10)
    for day in range(1, 11):
        sell(a, gz, day, 1)
    sell(b, sh, 5, 2)
    session.flush()


def test_reorder_points_from_lead_time_and_demand_variability(session) -> None:
    seed(session)
    rows = reports.reorder_report(session, FIRST, LAST, ReorderPolicy(lead_time=14, service_level=D(95)))
    found = {(r["sku"], r["warehouse"]): r for r in rows}
    assert set(found) == {("A", "SH"), ("B", "SH")}
    a = found[("A", "SH")]
    assert (a["lead_time_days"], a["velocity_per_day"], a["demand_sd"]) == (4, D("5.000"), D("5.000"))
    assert (a["safety_stock"], a["reorder_point"], a["suggested_quantity"]) == (17, 37, 157)
    assert (a["supplier"], a["suggested_value"], a["cost_currency"]) == ("Hangzhou Tea Co", D("3140.00"), "CNY")
    b = found[("B", "SH")]
    assert (b["lead_time_days"], b["velocity_per_day"], b["demand_sd"]) == (14, D("0.200"), D("0.600"))
    assert (b["available"], b["safety_stock"], b["reorder_point"], b["suggested_quantity"]) == (5, 4, 7, 8)
    assert b["suggested_value"] is None
    assert [(r["sku"], r["days_of_cover"]) for r in rows] == [("A", D("6.0")), ("B", D("25.0"))]  # least first
    with pytest.raises(reports.ReportError, match="service-level"):
        reports.reorder_report(session, FIRST, LAST, ReorderPolicy(service_level=D(100)))


def test_purchase_suggestions_per_supplier(session, tmp_path) -> None:
    seed(session)
    rows = reports.reorder_report(session, FIRST, LAST, ReorderPolicy())
    groups = purchase_suggestions(rows)
    assert list(groups) == ["(no supplier)", "Hangzhou Tea Co"]
    assert supplier_totals(groups["Hangzhou Tea Co"]) == {"CNY": D("3140.00")}
    path = tmp_path / "purchase.xlsx"
    reports.write_purchase(groups, path, "xlsx", "2026-03-01 .. 2026-03-10 (UTC)", lang="zh-CN")
    book = load_workbook(path)
    assert book.sheetnames == ["(no supplier)", "Hangzhou Tea Co"]
    sheet = book["Hangzhou Tea Co"]
    head = [c.value for c in sheet[1]]
    assert head[:3] == ["供应商", "SKU", "标题"] and "建议采购量" in head
    assert sheet.cell(row=2, column=head.index("建议采购量") + 1).value == 157
    text = reports.write_purchase(groups, None, "csv", "")
    assert text is not None and text.splitlines()[0].startswith("supplier,sku,title,warehouse")
    assert "\nHangzhou Tea Co,A,龙井,SH,4,30,50," in text


def test_inventory_stock_value_and_sell_through_percent(session) -> None:
    seed(session)
    report = reports.inventory_report(session, FIRST, LAST)
    rows = {r["sku"]: r for r in report.rows}
    # A: sold 60 of (60 + 130 on hand at the end) = 31.58%; value 130 x 20.00
    assert (rows["A"]["sell_through_pct"], rows["A"]["stock_value"]) == (D("31.58"), D("2600.00"))
    assert rows["B"]["stock_value"] is None and rows["B"]["supplier"] == ""
    assert report.stock_value == {"CNY": D("2600.00")}
    assert report.sku_sell_through == D("100.00")
