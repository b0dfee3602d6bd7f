"""Reports: sales in five currencies across the six channel kinds (expected figures worked out by hand
below), reconciliation with the order lines, XLSX with its chart, formula escaping, BOM, missing rates,
inventory and reorder numbers, the monthly job."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer import db, reports
from listing_sync.syncer.fx import MissingRates, set_rate
from listing_sync.syncer.models import (
    Channel,
    FxRate,
    Order,
    OrderLine,
    Product,
    Sku,
    StockLevel,
    StockMovement,
    Warehouse,
)
from openpyxl import load_workbook
from sqlalchemy import delete, select
from typer.testing import CliRunner

D = Decimal
JAN1, FEB28 = date(2026, 1, 1), date(2026, 2, 28)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_order(
    session, channel: Channel, ext: str, when: str, status: str, currency: str, lines, shipping=None, country=None
):
    placed = at(when)
    order = Order(
        channel_id=channel.id,
        external_id=ext,
        status=status,
        raw_status=status,
        placed_at=placed,
        updated_at=placed,
        currency=currency,
        total=sum((D(q) * D(p) for _, _, q, p in lines), D(0)) + (D(shipping) if shipping else D(0)),
        shipping=D(shipping) if shipping is not None else None,
        ship_country=country,
    )
    session.add(order)
    session.flush()
    for n, (sku, sku_id, quantity, price) in enumerate(lines):
        session.add(
            OrderLine(
                order_id=order.id,
                line_id=str(n),
                sku=sku,
                sku_id=sku_id,
                quantity=quantity,
                unit_price=D(price),
                unmatched=sku_id is None,
            )
        )
    session.flush()
    return order


def seed_sales(session) -> dict[str, Channel]:
    """Ten counted orders, one pending and two outside the window (2026-01-01 .. 2026-02-28).

    Rates into CNY: USD 7.2 from 01-01 and 7.1 from 02-01; EUR 7.8; GBP only as the inverse pair
    CNY->GBP 0.125 (so GBP->CNY = 1 / 0.125 = 8); JPY 0.05.
    """
    channels = {}
    for name, kind, cur in [
        ("tb", "taobao", "CNY"),
        ("shop", "shopify", "USD"),
        ("=woo", "woocommerce", "EUR"),  # a name that would be a formula in a spreadsheet
        ("ali", "aliexpress", "USD"),
        ("ebay", "ebay", "GBP"),
        ("amz", "amazon", "JPY"),
    ]:
        channels[name] = Channel(name=name, kind=kind, currency=cur)
        session.add(channels[name])
    tea = Product(key="TEA", title="西湖龙井 250g", category="茶叶")
    cup = Product(key="CUP", title="白瓷杯", category="+茶具")  # formula-like category
    session.add_all([tea, cup])
    session.flush()
    tea1 = Sku(sku="TEA-1", product_id=tea.id, base_price=D("100"), currency="CNY")
    cup1 = Sku(sku="CUP-1", product_id=cup.id, base_price=D("50"), currency="CNY")
    session.add_all([tea1, cup1])
    session.flush()
    t, c = tea1.id, cup1.id
    set_rate(session, "USD", "CNY", D("7.2"), date(2026, 1, 1))
    set_rate(session, "USD", "CNY", D("7.1"), date(2026, 2, 1))
    set_rate(session, "EUR", "CNY", D("7.8"), date(2026, 1, 1))
    set_rate(session, "CNY", "GBP", D("0.125"), date(2025, 12, 1))
    set_rate(session, "JPY", "CNY", D("0.05"), date(2026, 1, 1))
    ch = channels
    # 1: 2x100.00 + 1x50.50 = 250.50 CNY, shipping 10.00
    add_order(
        session,
        ch["tb"],
        "1",
        "2026-01-05 10:00",
        "paid",
        "CNY",
        [("TEA-1", t, 2, "100.00"), ("CUP-1", c, 1, "50.50")],
        "10.00",
        "CN",
    )
    # 2: 1x99.99 = 99.99 CNY
    add_order(session, ch["tb"], "2", "2026-02-10 10:00", "delivered", "CNY", [("TEA-1", t, 1, "99.99")], "0", "CN")
    # 3: 3x20.00 = 60.00 USD x 7.2 = 432.00 CNY; shipping 5.00 x 7.2 = 36.00
    add_order(session, ch["shop"], "3", "2026-01-15 08:00", "shipped", "USD", [("TEA-1", t, 3, "20.00")], "5.00", "US")
    # 4: refunded 1x15.50 = 15.50 USD x 7.1 (February rate) = 110.05 CNY
    add_order(session, ch["shop"], "4", "2026-02-03 08:00", "refunded", "USD", [("CUP-1", c, 1, "15.50")], "2.00", "US")
    # 5: 2x12.25 = 24.50 EUR x 7.8 = 191.10 CNY; shipping 3.00 x 7.8 = 23.40
    add_order(
        session, ch["=woo"], "5", "2026-01-20 12:00", "delivered", "EUR", [("CUP-1", c, 2, "12.25")], "3.00", "DE"
    )
    # 6: 1x9.99 USD on Jan 31 (23:30 UTC, still January) x 7.2 = 71.928 CNY; no shipping, no country
    add_order(session, ch["ali"], "6", "2026-01-31 23:30", "paid", "USD", [("TEA-1", t, 1, "9.99")])
    # 7: cancelled 2x10.00 = 20.00 GBP x 8 = 160.00 CNY
    add_order(
        session, ch["ebay"], "7", "2026-02-14 09:00", "cancelled", "GBP", [("TEA-1", t, 2, "10.00")], "4.00", "GB"
    )
    # 8: unmatched SKU 1x30.00 = 30.00 GBP x 8 = 240.00 CNY
    add_order(session, ch["ebay"], "8", "2026-02-15 09:00", "shipped", "GBP", [("GHOST", None, 1, "30.00")], "0", "GB")
    # 9: returned 1x3000 = 3000 JPY x 0.05 = 150.00 CNY
    add_order(session, ch["amz"], "9", "2026-02-20 09:00", "returned", "JPY", [("TEA-1", t, 1, "3000")], None, "JP")
    # 10: 2x1500 + 1x800 = 3800 JPY x 0.05 = 190.00 CNY; shipping 500 x 0.05 = 25.00
    add_order(
        session,
        ch["amz"],
        "10",
        "2026-02-21 09:00",
        "delivered",
        "JPY",
        [("TEA-1", t, 2, "1500"), ("CUP-1", c, 1, "800")],
        "500",
        "JP",
    )
    # not counted: pending; before and after the window
    add_order(session, ch["amz"], "11", "2026-02-22 09:00", "pending", "JPY", [("TEA-1", t, 5, "1000")])
    add_order(session, ch["tb"], "12", "2026-03-01 00:00", "paid", "CNY", [("TEA-1", t, 1, "100")])
    add_order(session, ch["tb"], "13", "2025-12-31 23:59:59", "paid", "CNY", [("TEA-1", t, 1, "100")])
    session.flush()
    return channels


def by(rows, key, currency="ALL"):
    found = [r for r in rows if r[next(iter(r))] == key and r["currency"] == currency]
    assert len(found) == 1, (key, currency, rows)
    return found[0]


# -------------------------------------------------------------------------------------------- sales
def test_sales_totals_by_hand(session) -> None:
    seed_sales(session)
    report = reports.sales_report(session, JAN1, FEB28, ["channel", "month", "sku", "category", "country"], "CNY")
    total = by(report.totals, "TOTAL")
    # orders: CNY 2 + USD 3 + EUR 1 + GBP 2 + JPY 2 = 10 (pending #11, #12, #13 left out)
    assert total["orders"] == 10 and total["net_orders"] == 7
    assert total["cancelled_orders"] == 1 and total["refunded_orders"] == 2
    # units: 4 + 5 + 2 + 3 + 4 = 18
    assert total["units"] == 18
    # gross: 350.49 + (432 + 110.05 + 71.928) + 191.10 + (160 + 240) + (150 + 190) = 1895.568 -> 1895.57
    assert total["gross_CNY"] == D("1895.57")
    assert total["cancelled_CNY"] == D("160.00")
    # refunded: 110.05 (USD refund) + 150.00 (JPY return) = 260.05
    assert total["refunded_CNY"] == D("260.05")
    # net: 1895.568 - 160 - 260.05 = 1475.518 -> 1475.52
    assert total["net_CNY"] == D("1475.52")
    # AOV: 1475.518 / 7 = 210.7882... -> 210.79
    assert total["aov_CNY"] == D("210.79")
    # shipping on kept orders: 10.00 + 36.00 + 23.40 + 0 + 25.00 = 94.40
    assert total["shipping_CNY"] == D("94.40")

    usd = by(report.totals, "TOTAL", "USD")
    # 60.00 + 15.50 + 9.99 = 85.49 USD gross; 15.50 refunded; 69.99 net; 5.00 shipping
    assert (usd["gross"], usd["refunded"], usd["net"], usd["shipping"]) == (
        D("85.49"),
        D("15.50"),
        D("69.99"),
        D("5.00"),
    )
    jpy = by(report.totals, "TOTAL", "JPY")
    # 3000 + 3800 = 6800 JPY; returned 3000; net 3800
    assert (jpy["gross"], jpy["refunded"], jpy["net"]) == (D(6800), D(3000), D(3800))

    channel = report.groupings["channel"]
    assert by(channel, "shop", "USD")["gross_CNY"] == D("542.05")  # 432.00 + 110.05
    assert by(channel, "shop", "USD")["net_CNY"] == D("432.00")
    assert by(channel, "ali", "USD")["net_CNY"] == D("71.93")  # 71.928
    assert by(channel, "ebay", "GBP")["cancelled_CNY"] == D("160.00")  # via the inverse pair
    assert by(channel, "=woo", "EUR")["shipping_CNY"] == D("23.40")
    assert by(channel, "amz", "JPY")["aov_CNY"] == D("190.00")
    assert {r["channel"] for r in channel} == {"tb", "shop", "=woo", "ali", "ebay", "amz"}

    month = report.groupings["month"]
    # January: 250.50 + 432 + 191.10 + 71.928 = 945.528; February: 99.99 + 110.05 + 400 + 340 = 950.04
    assert by(month, "2026-01")["gross_CNY"] == D("945.53")
    assert by(month, "2026-02")["gross_CNY"] == D("950.04")
    assert by(month, "2026-01", "USD")["orders"] == 2  # #3 and #6 (Jan 31 23:30 UTC)
    # February net: 99.99 + 240 + 190 = 529.99
    assert by(month, "2026-02")["net_CNY"] == D("529.99")

    sku = report.groupings["sku"]
    # TEA-1: 299.99 CNY + 503.928 (USD) + 160 (GBP) + 300 (JPY 6000 x 0.05) = 1263.918
    assert by(sku, "TEA-1")["gross_CNY"] == D("1263.92")
    assert by(sku, "TEA-1", "JPY")["orders"] == 2 and by(sku, "TEA-1", "JPY")["units"] == 3
    # CUP-1: 50.50 + 110.05 + 191.10 + 40.00 (800 JPY) = 391.65
    assert by(sku, "CUP-1")["gross_CNY"] == D("391.65")
    assert by(sku, "GHOST", "GBP")["gross_CNY"] == D("240.00")
    # shipping is split across an order's lines by revenue: order 1's 10.00 x 200.00 / 250.50 = 7.984
    assert by(sku, "TEA-1", "CNY")["shipping"] == D("7.98")

    category = report.groupings["category"]
    assert by(category, "茶叶")["gross_CNY"] == D("1263.92")
    assert by(category, "+茶具")["gross_CNY"] == D("391.65")
    assert by(category, "(none)", "GBP")["gross_CNY"] == D("240.00")  # the unmatched line is kept

    country = report.groupings["country"]
    assert by(country, "(none)", "USD")["gross"] == D("9.99")
    assert by(country, "GB", "GBP")["net"] == D("30.00")


def test_totals_reconcile_exactly_with_order_lines(session) -> None:
    seed_sales(session)
    report = reports.sales_report(session, JAN1, FEB28, ["channel", "month", "sku", "category", "country"], "CNY")
    lo, hi = at("2026-01-01 00:00"), at("2026-03-01 00:00")
    expected: dict[str, Decimal] = {}
    for line, order in session.execute(select(OrderLine, Order).join(Order)):
        if lo <= order.placed_at < hi and order.status != "pending":
            expected[order.currency] = expected.get(order.currency, D(0)) + line.quantity * line.unit_price
    assert expected == {r["currency"]: r["gross"] for r in report.totals if r["currency"] != "ALL"}
    assert len(expected) == 5
    for grouping, rows in report.groupings.items():
        per_currency: dict[str, Decimal] = {}
        for row in rows:
            if row["currency"] != "ALL":
                per_currency[row["currency"]] = per_currency.get(row["currency"], D(0)) + row["gross"]
        assert per_currency == expected, grouping


def test_report_currency_usd(session) -> None:
    seed_sales(session)
    set_rate(session, "CNY", "USD", D("0.14"), date(2025, 1, 1))
    set_rate(session, "EUR", "USD", D("1.1"), date(2025, 1, 1))
    set_rate(session, "GBP", "USD", D("1.25"), date(2025, 1, 1))
    set_rate(session, "JPY", "USD", D("0.0065"), date(2025, 1, 1))
    total = by(reports.sales_report(session, JAN1, FEB28, ["month"], "USD").totals, "TOTAL")
    # CNY 350.49 x 0.14 = 49.0686; USD 85.49; EUR 24.50 x 1.1 = 26.95; GBP 50 x 1.25 = 62.50;
    # JPY 6800 x 0.0065 = 44.20 -> 268.2086 -> 268.21
    assert total["gross_USD"] == D("268.21")


def test_missing_rates_name_every_currency_and_day(session) -> None:
    seed_sales(session)
    session.execute(delete(FxRate).where(FxRate.base.in_(["EUR", "JPY"])))
    with pytest.raises(MissingRates) as raised:
        reports.sales_report(session, JAN1, FEB28, ["channel"], "CNY")
    message = str(raised.value)
    assert raised.value.missing == {"EUR": [date(2026, 1, 20)], "JPY": [date(2026, 2, 20), date(2026, 2, 21)]}
    for text in ("EUR", "2026-01-20", "JPY", "2026-02-20", "2026-02-21", "syncer fx set JPY CNY"):
        assert text in message
    assert "2026-02-22" not in message  # the pending order needs no rate
    assert "USD" not in message.split("Add rates")[0]


def test_rate_used_is_the_nearest_earlier_day(session) -> None:
    seed_sales(session)
    set_rate(session, "USD", "CNY", D("7.0"), date(2026, 1, 16))  # after order #3 (01-15), before #6 (01-31)
    channel = reports.sales_report(session, JAN1, FEB28, ["channel"], "CNY").groupings["channel"]
    assert by(channel, "shop", "USD")["net_CNY"] == D("432.00")  # still 60 x 7.2
    assert by(channel, "ali", "USD")["net_CNY"] == D("69.93")  # 9.99 x 7.0


def test_empty_window_and_bad_grouping(session) -> None:
    seed_sales(session)
    report = reports.sales_report(session, date(2030, 1, 1), date(2030, 1, 31), ["channel"], "CNY")
    assert report.groupings["channel"] == [] and by(report.totals, "TOTAL")["gross_CNY"] == D("0.00")
    with pytest.raises(reports.ReportError):
        reports.sales_report(session, JAN1, FEB28, ["colour"], "CNY")
    with pytest.raises(reports.ReportError):
        reports.sales_report(session, FEB28, JAN1, ["channel"], "CNY")


def test_xlsx_has_sheets_chart_totals_formats_and_escaping(session, tmp_path: Path) -> None:
    seed_sales(session)
    report = reports.sales_report(session, JAN1, FEB28, ["channel", "month", "category"], "CNY", chart=True)
    path = tmp_path / "sales.xlsx"
    reports.write_sales(report, path, "xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["Summary", "total", "by channel", "by month", "by category", "rates", "chart data"]
    total = book["total"]
    assert total.freeze_panes == "B2"
    header = [c.value for c in total[1]]
    all_row = next(r for r in total.iter_rows(min_row=2) if r[1].value == "ALL")
    gross = all_row[header.index("Gross revenue (CNY)")]
    assert isinstance(gross.value, int | float) and D(str(gross.value)) == D("1895.57")
    assert "CNY" in gross.number_format
    usd_row = next(r for r in total.iter_rows(min_row=2) if r[1].value == "USD")
    assert '"USD"' in usd_row[header.index("Gross revenue")].number_format
    assert D(str(usd_row[header.index("Gross revenue")].value)) == D("85.49")
    # formula-looking text is escaped, Chinese text intact
    names = [r[0].value for r in book["by channel"].iter_rows(min_row=2)]
    assert "'=woo" in names and "=woo" not in names
    assert all(c.data_type != "f" for row in book["by channel"].iter_rows() for c in row)
    categories = [r[0].value for r in book["by category"].iter_rows(min_row=2)]
    assert "茶叶" in categories and "'+茶具" in categories
    summary = book["Summary"]
    assert len(summary._charts) == 2 and summary._charts[0].tagname == "barChart"
    chart_sheet = book["chart data"]
    grid = {r[0].value: r for r in chart_sheet.iter_rows(min_row=2, max_row=3)}
    head = [c.value for c in chart_sheet[1]]
    assert set(grid) == {"2026-01", "2026-02"}
    assert D(str(grid["2026-01"][head.index("shop")].value)) == D("432.00")
    assert D(str(grid["2026-02"][head.index("ebay")].value)) == D("240.00")
    with zipfile.ZipFile(path) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert charts and b"<barChart>" in archive.read(charts[0])


def test_csv_escapes_formulas_and_keeps_chinese(session, tmp_path: Path) -> None:
    seed_sales(session)
    report = reports.sales_report(session, JAN1, FEB28, ["channel", "category"], "CNY")
    path = tmp_path / "sales.csv"
    reports.write_sales(report, path, "csv", bom=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "\n" + "channel,'=woo,EUR" in text and ",=woo," not in text
    assert "category,茶叶,ALL" in text and "category,'+茶具," in text
    plain = reports.write_sales(report, None, "csv")
    assert plain is not None and not plain.startswith("\ufeff")
    assert plain.splitlines()[0].startswith("grouping,key,currency,orders")
    assert plain.splitlines()[0].endswith(",period,filters")
    assert plain.splitlines()[1].endswith(",2026-01-01 .. 2026-02-28 (UTC),none")


# ---------------------------------------------------------------------------------------- inventory
def seed_stock(session) -> None:
    """Window 2026-03-01 .. 2026-03-30 (30 days).

    A: SH 100 on hand / 10 reserved + GZ 20 -> on hand 120, reserved 10, available 110. Ledger: +100 in
       February, -30 on 03-15 (in the window), +50 on 04-02 (after it): on hand at the window's end
       = 120 - 50 = 70, at its start = 120 - (50 - 30) = 100, average 85. Sold 20 + 10 = 30 (kept orders).
    B: 5 on hand, 2 reserved -> available 3; sold 15; no movements (5 throughout).
    C: 40 on hand, nothing sold. D: inactive, no stock, no sales -> not listed.
    """
    product = Product(key="P", title="货品", category="测试")
    session.add(product)
    session.flush()
    skus = {}
    for code, active in [("A", True), ("B", True), ("C", True), ("D", False)]:
        skus[code] = Sku(sku=code, product_id=product.id, base_price=D(1), currency="CNY", active=active)
        session.add(skus[code])
    sh, gz = Warehouse(code="SH"), Warehouse(code="GZ")
    channel = Channel(name="tb", kind="taobao", currency="CNY")
    session.add_all([sh, gz, channel])
    session.flush()
    a, b, c = skus["A"].id, skus["B"].id, skus["C"].id
    session.add_all(
        [
            StockLevel(sku_id=a, warehouse_id=sh.id, on_hand=100, reserved=10),
            StockLevel(sku_id=a, warehouse_id=gz.id, on_hand=20, reserved=0),
            StockLevel(sku_id=b, warehouse_id=sh.id, on_hand=5, reserved=2),
            StockLevel(sku_id=c, warehouse_id=sh.id, on_hand=40, reserved=0),
        ]
    )
    for key, delta, when in [("m1", 100, "2026-02-01"), ("m2", -30, "2026-03-15"), ("m3", 50, "2026-04-02")]:
        session.add(
            StockMovement(
                sku_id=a,
                warehouse_id=sh.id,
                kind="count",
                on_hand_delta=delta,
                reason="t",
                idempotency_key=key,
                created_at=at(when + " 12:00"),
            )
        )
    add_order(session, channel, "o1", "2026-03-10 10:00", "paid", "CNY", [("A", a, 20, "1")])
    add_order(session, channel, "o2", "2026-03-12 10:00", "delivered", "CNY", [("A", a, 10, "1"), ("B", b, 15, "1")])
    add_order(session, channel, "o3", "2026-03-13 10:00", "cancelled", "CNY", [("A", a, 5, "1")])
    add_order(session, channel, "o4", "2026-03-14 10:00", "pending", "CNY", [("A", a, 7, "1")])
    add_order(session, channel, "o5", "2026-04-01 10:00", "paid", "CNY", [("A", a, 3, "1")])
    session.flush()


def test_inventory_numbers_by_hand(session) -> None:
    seed_stock(session)
    report = reports.inventory_report(session, date(2026, 3, 1), date(2026, 3, 30))
    rows = {r["sku"]: r for r in report.rows}
    assert set(rows) == {"A", "B", "C"} and report.days == 30
    a = rows["A"]
    assert (a["on_hand"], a["reserved"], a["available"], a["sold"]) == (120, 10, 110, 30)
    assert a["velocity_per_day"] == D("1.000")  # 30 / 30
    assert a["sell_through_pct"] == D("30.00")  # 30 / (30 + 70)
    assert a["turnover"] == D("0.35")  # 30 / ((100 + 70) / 2) = 0.3529
    assert a["days_of_cover"] == D("110.0")  # 110 / 1
    b = rows["B"]
    assert (b["available"], b["sold"], b["velocity_per_day"]) == (3, 15, D("0.500"))
    assert b["sell_through_pct"] == D("75.00")  # 15 / (15 + 5)
    assert b["turnover"] == D("3.00")  # 15 / 5
    assert b["days_of_cover"] == D("6.0")  # 3 / 0.5
    c = rows["C"]
    assert (c["sold"], c["sell_through_pct"], c["turnover"], c["days_of_cover"]) == (0, D("0.00"), D("0.00"), None)
    assert (report.skus, report.skus_sold, report.sku_sell_through) == (3, 2, D("66.67"))


# ----------------------------------------------------------------------------------------- CLI + job
@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from listing_sync.syncer.cli.app import app

    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNCER_CHANNELS_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("SYNCER_REPORT_TIMEZONE", "UTC")  # the hand-worked figures are on UTC days
    get_settings.cache_clear()
    url = get_settings().resolved_database_url
    db.upgrade(url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    yield invoke, url
    db.engine_for(url).dispose()
    get_settings.cache_clear()


def test_cli_sales_csv_xlsx_and_refusal(cli, tmp_path: Path) -> None:
    invoke, url = cli
    with db.unit_of_work(url) as s:
        seed_sales(s)
    result = invoke(
        "report", "sales", "--from", "2026-01-01", "--to", "2026-02-28", "--by", "channel", "--format", "csv"
    )
    assert result.exit_code == 0, result.output
    total_all = next(line for line in result.output.splitlines() if line.startswith("total,TOTAL,ALL,"))
    assert "1895.57" in total_all and "1475.52" in total_all
    out = tmp_path / "r.xlsx"
    args = ("report", "sales", "--from", "2026-01-01", "--to", "2026-02-28", "--by", "channel", "--by", "month")
    assert invoke(*args, "--format", "xlsx", "--out", str(out)).exit_code == 0
    assert load_workbook(out).sheetnames == ["Summary", "total", "by channel", "by month", "rates", "chart data"]
    table = invoke(*args)
    assert table.exit_code == 0 and "by month" in table.output and "total" in table.output
    data = json.loads(invoke(*args, "--format", "json").output)
    assert (
        by(data["total"], "TOTAL")["gross_CNY"] == "1895.57" and len(data["by_month"]) == 9
    )  # Jan: CNY EUR USD ALL; Feb: CNY GBP JPY USD ALL
    with db.unit_of_work(url) as s:
        s.execute(delete(FxRate).where(FxRate.base == "JPY"))
    refused = invoke(*args, "--format", "csv")
    assert refused.exit_code == 1
    assert "JPY" in refused.output and "2026-02-20" in refused.output and "2026-02-21" in refused.output
    assert "Traceback" not in refused.output
    bad = invoke("report", "sales", "--from", "2026-01-01", "--to", "2026-02-28", "--by", "colour")
    assert bad.exit_code == 1 and "colour" in bad.output


def test_cli_inventory_and_reorder(cli, tmp_path: Path) -> None:
    invoke, url = cli
    with db.unit_of_work(url) as s:
        seed_stock(s)
    window = ("--from", "2026-03-01", "--to", "2026-03-30")
    out = tmp_path / "inv.csv"
    result = invoke("report", "inventory", *window, "--format", "csv", "--out", str(out), "--bom")
    assert result.exit_code == 0, result.output
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and "货品".encode() in text
    assert "A,货品,测试,,120,10,110,30,1.000,30.00,0.35,110.0,,CNY," in text.decode("utf-8-sig")
    result = invoke("report", "reorder", *window, "--format", "csv")
    # the seed's order lines were never reserved in a warehouse: no per-warehouse demand to judge
    assert result.exit_code == 0 and result.output.splitlines()[0].startswith("sku,title,warehouse,supplier")
    table = invoke("report", "inventory", *window)
    assert "2 of 3 SKU(s) sold" in table.output and "66.67%" in table.output
    xlsx = tmp_path / "inv.xlsx"
    assert invoke("report", "inventory", *window, "--format", "xlsx", "--out", str(xlsx)).exit_code == 0
    sheet = load_workbook(xlsx)["inventory"]
    assert sheet["J2"].number_format == "0.00%" and sheet["J2"].value == 0.3 and sheet["A2"].value == "A"
    assert sheet["E1"].value == "On hand" and sheet.auto_filter.ref == sheet.dimensions


def test_monthly_job_writes_last_month(db_url: str, tmp_path: Path) -> None:
    with db.unit_of_work(db_url) as s:
        seed_sales(s)
    with db.unit_of_work(db_url) as s:
        path = reports.write_monthly_report(s, tmp_path / "out", "CNY", today=date(2026, 3, 5))
    assert path.name == "sales-2026-02.xlsx"
    book = load_workbook(path)
    assert "by channel" in book.sheetnames and book["Summary"]._charts
    header = [c.value for c in book["total"][1]]
    all_row = next(r for r in book["total"].iter_rows(min_row=2) if r[1].value == "ALL")
    assert D(str(all_row[header.index("Gross revenue (CNY)")].value)) == D("950.04")  # February only (see by month)


def test_monthly_task_skips_without_folder_and_writes_with_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNCER_HUEY_BACKEND", "memory")
    monkeypatch.delenv("SYNCER_REPORT_FOLDER", raising=False)
    get_settings.cache_clear()
    try:
        from listing_sync.jobs import tasks

        url = get_settings().resolved_database_url
        db.upgrade(url)
        assert tasks.monthly_sales_report.call_local() is None
        monkeypatch.setenv("SYNCER_REPORT_FOLDER", str(tmp_path / "reports"))
        get_settings.cache_clear()
        written = tasks.monthly_sales_report.call_local()
        assert written is not None and Path(written).exists() and Path(written).parent == tmp_path / "reports"
        db.engine_for(url).dispose()
    finally:
        get_settings.cache_clear()


def test_cli_filters_periods_json_and_purchase(cli, tmp_path: Path) -> None:
    invoke, url = cli
    with db.unit_of_work(url) as s:
        seed_sales(s)
    window = ("--from", "2026-01-01", "--to", "2026-02-28")
    data = json.loads(invoke("report", "sales", *window, "--channel", "shop", "--format", "json").output)
    assert data["filters"] == "channel shop" and data["period"] == "2026-01-01 .. 2026-02-28 (UTC)"
    total = by(data["total"], "TOTAL")
    assert (total["net_CNY"], total["refunded_CNY"], total["cancelled"]) == ("432.00", "110.05", None)
    usd = by(data["total"], "TOTAL", "USD")
    assert usd["cancelled"] == "0.00" and usd["fees"] == "0.00"  # always the currency's minor units
    assert {r["currency"] for r in data["rates"]} == {"USD"} and data["rates"][0]["method"] == "direct"
    jpy = json.loads(invoke("report", "sales", *window, "--currency-of-order", "JPY", "--format", "json").output)
    assert by(jpy["total"], "TOTAL", "JPY")["net"] == "3800"  # JPY has no minor units
    assert invoke("report", "sales", "--from", "last-week").exit_code == 0
    bad = invoke("report", "sales", "--period", "fortnight")
    assert bad.exit_code == 1 and "last-week" in bad.output and "Traceback" not in bad.output
    missing = invoke("report", "sales")
    assert missing.exit_code == 1 and "--period" in missing.output
    out = tmp_path / "p.xlsx"
    result = invoke("report", "purchase", *window, "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0 and out.exists()
    assert "nothing to buy" in invoke("report", "purchase", *window).output
    assert "not set" in invoke("report", "deliver", "weekly").output
