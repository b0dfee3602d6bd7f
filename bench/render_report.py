"""Render the summary sheet of a sales workbook to PNG (docs/report-summary.png), as printed.

    .venv/bin/python bench/render_report.py [--out docs/report-summary.png] [--lang en]

Builds a quarter of sales (five channels in five currencies, eBay reporting its own fees, fee rules for
the others, a cost history) in a temporary SQLite database, writes the XLSX the way `syncer report sales
--format xlsx` does, prints it to PDF with LibreOffice headless (the workbook's own print setup:
landscape, one page wide, title and period in the page header) and rasterizes the first page with
poppler's pdftoppm. Prints one JSON object. Needs `soffice` and `pdftoppm` (Debian:
libreoffice-calc-nogui, poppler-utils).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHANNELS = [("taobao", "CNY"), ("shopify-us", "USD"), ("ebay-uk", "GBP"), ("amazon-jp", "JPY"), ("woo-eu", "EUR")]
TO_CNY = {"USD": "7.20", "GBP": "9.10", "JPY": "0.048", "EUR": "7.80"}


def seed(session, rng: random.Random) -> None:
    from listing_sync.syncer.fx import set_rate
    from listing_sync.syncer.models import Channel, Order, OrderLine, Product, Sku, SkuCost

    channels = []
    for name, currency in CHANNELS:
        channel = Channel(name=name, kind=name.split("-")[0], currency=currency)
        session.add(channel)
        channels.append(channel)
    skus = []
    for n, (title, category, price, cost) in enumerate(
        [
            ("龙井 250g", "茶叶", 120, 48),
            ("白瓷杯", "茶具", 60, 21),
            ("紫砂壶", "茶具", 380, 150),
            ("普洱饼", "茶叶", 220, 95),
        ]
    ):
        product = Product(key=f"P{n}", title=title, category=category)
        session.add(product)
        session.flush()
        sku = Sku(sku=f"SKU-{n}", product_id=product.id, base_price=Decimal(price), currency="CNY", cost=Decimal(cost))
        session.add(sku)
        session.flush()
        session.add(SkuCost(sku_id=sku.id, valid_from=datetime(2026, 1, 1, tzinfo=UTC), cost=Decimal(cost)))
        skus.append((sku, price))
    for currency, rate in TO_CNY.items():
        set_rate(session, currency, "CNY", Decimal(rate), date(2026, 6, 1))
    session.flush()
    start = datetime(2026, 7, 1, tzinfo=UTC)
    for number in range(600):
        channel = rng.choice(channels)
        placed = start + timedelta(minutes=rng.randrange(92 * 24 * 60))
        factor = Decimal(1) / Decimal(TO_CNY.get(channel.currency, "1"))
        lines = []
        for line_no in range(rng.randint(1, 3)):
            sku, price = rng.choice(skus)
            unit = (Decimal(price) * factor * Decimal("1.3")).quantize(
                Decimal(1) if channel.currency == "JPY" else Decimal("0.01")
            )
            lines.append(
                OrderLine(line_id=str(line_no), sku=sku.sku, sku_id=sku.id, quantity=rng.randint(1, 3), unit_price=unit)
            )
        revenue = sum((line.quantity * line.unit_price for line in lines), Decimal(0))
        shipping = (Decimal(12) * factor).quantize(Decimal(1) if channel.currency == "JPY" else Decimal("0.01"))
        status = rng.choice(["paid", "shipped", "delivered", "delivered", "delivered", "refunded", "cancelled"])
        order = Order(
            channel_id=channel.id,
            external_id=str(number),
            status=status,
            raw_status=status,
            placed_at=placed,
            updated_at=placed,
            currency=channel.currency,
            total=revenue + shipping,
            shipping=shipping,
            fees=(revenue * Decimal("0.1325")).quantize(Decimal("0.01")) if channel.name == "ebay-uk" else None,
            ship_country=rng.choice(["US", "GB", "DE", "JP", "CN", "FR"]),
        )
        session.add(order)
        session.flush()
        for line in lines:
            line.order_id = order.id
            session.add(line)
    session.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report-summary.png")
    parser.add_argument("--lang", default="en", choices=("en", "zh-CN"))
    args = parser.parse_args()
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (Debian: libreoffice-calc-nogui, poppler-utils)")
    from listing_sync.syncer import db, reports
    from listing_sync.syncer.sales import FeeRule

    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/report.db"
        db.upgrade(url)
        with db.unit_of_work(url) as session:
            seed(session, random.Random(7))
            rules = {"taobao": FeeRule(Decimal(5)), "shopify-us": FeeRule(Decimal("2.9"), Decimal("0.30"))}
            rules |= {"amazon-jp": FeeRule(Decimal(15)), "woo-eu": FeeRule(Decimal(3))}
            report = reports.sales_report(
                session,
                date(2026, 7, 1),
                date(2026, 9, 30),
                ["channel", "category"],
                "CNY",
                chart=True,
                tz="Asia/Shanghai",
                via="CNY",
                fee_rules=rules,
                period="last-quarter",
            )
        db.engine_for(url).dispose()
        xlsx = Path(tmp) / "sales.xlsx"
        reports.write_sales(report, xlsx, "xlsx", lang=args.lang)
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf", "--outdir", tmp, str(xlsx)],
            check=True,
            capture_output=True,
        )
        stem = Path(tmp) / "summary"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(xlsx.with_suffix(".pdf")),
                str(stem),
            ],
            check=True,
            capture_output=True,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stem.with_suffix(".png"), args.out)
    total = next(t for t in report.totals if t["currency"] == "ALL")
    print(
        json.dumps(
            {
                "png": str(args.out),
                "bytes": args.out.stat().st_size,
                "seconds": round(time.perf_counter() - began, 2),
                "net_CNY": str(total["net_CNY"]),
                "gross_profit_CNY": str(total["gross_profit_CNY"]),
                "margin_pct": str(total["margin_pct"]),
            }
        )
    )


if __name__ == "__main__":
    main()
