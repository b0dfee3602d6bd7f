"""The full recompute's set pass (price and quantity maps, one ``UPDATE ... FROM`` per range of SKUs) leaves
every listing exactly as the Python pass does: the same catalog, recomputed once through the Python pass
(the routine recompute given every SKU id, the path every listing took before the set pass) and once
through the full recompute, inside transactions rolled back in between, gives the same value in every
column of every ``channel_listings`` row and the same count of listings made dirty.

The catalogs are random but seeded: several currencies, one without an FX rate, a price beyond the
limits, overrides (odd decimals too), costs whose floor lifts the price, inactive SKUs, warehouses that
feed some channels and not others, reserved above on hand, listings already parked, and content bases
both fresh and stale (content edited, no basis yet, a channel whose content configuration changed)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from listing_sync.config.channels import ChannelConfig, PriceRule, StockRule
from listing_sync.syncer import db, fx, recompute, reconcile
from listing_sync.syncer.context import ensure_channel_rows
from listing_sync.syncer.models import (
    Channel,
    ChannelListing,
    Product,
    ProductText,
    Sku,
    StockLevel,
    Warehouse,
    table_of,
)
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

NOW = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=UTC)
DAY = NOW.date()


def channels(changed_language: bool = False) -> list[ChannelConfig]:
    """Four channels: CNY fed by SH and GZ, USD with a rule that rounds, lifts and floors, JPY (no minor
    units; no rate from EUR) fed by GZ, EUR with a huge multiplier (prices beyond the limits) fed by SH."""
    return [
        ChannelConfig(name="home", kind="fake", currency="CNY", warehouses=("SH", "GZ")),
        ChannelConfig(
            name="us",
            kind="fake",
            currency="USD",
            warehouses=("SH",),
            language="zh" if changed_language else "en",
            price=PriceRule(
                multiplier=Decimal("1.137"), fixed=Decimal("2.5"), ending=Decimal("0.99"), min_margin=Decimal("0.35")
            ),
            stock=StockRule(buffer=3, share=Decimal("0.6"), max_quantity=25),
        ),
        ChannelConfig(
            name="jp",
            kind="fake",
            currency="JPY",
            warehouses=("GZ",),
            price=PriceRule(multiplier=Decimal("1.05"), ending=Decimal("0.9"), min_margin=Decimal("0.1")),
            stock=StockRule(buffer=1, share=Decimal("0.5")),
        ),
        ChannelConfig(
            name="eu",
            kind="fake",
            currency="EUR",
            warehouses=("SH",),
            price=PriceRule(multiplier=Decimal("400000"), ending=Decimal("0")),
            stock=StockRule(max_quantity=7),
        ),
    ]


def amount(rng: random.Random, places: int = 2) -> Decimal:
    return Decimal(rng.randint(0, 99_999_999)).scaleb(-places)


def build(url: str, seed: int, n: int = 120) -> None:
    """A random catalog, computed once by the full recompute, then moved on: a new rate, prices, costs,
    stock, content and listing states edited."""
    rng = random.Random(seed)
    configs = channels()
    with db.unit_of_work(url) as s:
        ensure_channel_rows(s, configs)
        s.add(Warehouse(code="HK", name="not feeding any channel"))
        s.flush()
        warehouses = [wid for (wid,) in s.execute(select(Warehouse.id))]
        fx.set_rate(s, "CNY", "USD", Decimal("0.138"), DAY - timedelta(days=3))
        fx.set_rate(s, "USD", "JPY", Decimal("151.3"), DAY - timedelta(days=1))
        fx.set_rate(s, "CNY", "JPY", Decimal("20.87"), DAY)
        fx.set_rate(s, "CNY", "EUR", Decimal("0.1271"), DAY)
        fx.set_rate(s, "USD", "EUR", Decimal("0.93"), DAY)  # no EUR -> CNY, JPY or USD: those are parked
        products = [
            s.execute(
                insert(Product).returning(Product.id),
                {"key": f"P{p}", "title": f"产品 {p}", "description": f"<p>d{p}</p>", "category": f"c{p % 3}"},
            ).scalar_one()
            for p in range(n // 3)
        ]
        for pid in products[::2]:
            s.add(ProductText(product_id=pid, language="en", title=f"Product {pid}"))
        for i in range(n):
            cost = None if rng.random() < 0.3 else amount(rng, rng.choice([2, 2, 4]))
            base = Decimal("9000000000.00") if i == 5 else amount(rng, rng.choice([2, 2, 2, 3, 6]))
            sku_id = s.execute(
                insert(Sku).returning(Sku.id),
                {
                    "sku": f"S{i:04d}",
                    "product_id": rng.choice(products),
                    "base_price": base,
                    "cost": cost,
                    "currency": rng.choice(["CNY", "CNY", "USD", "EUR"]),
                    "active": rng.random() > 0.15,
                    "attributes": {"颜色": rng.choice(["白", "黑"])},
                    "images": [f"https://img/{i}.jpg"],
                },
            ).scalar_one()
            for wid in rng.sample(warehouses, rng.randint(0, len(warehouses))):
                on_hand = rng.randint(0, 40)
                reserved = rng.randint(0, 50) if rng.random() < 0.3 else rng.randint(0, on_hand)
                s.add(StockLevel(sku_id=sku_id, warehouse_id=wid, on_hand=on_hand, reserved=reserved))
        s.flush()
        sku_ids = [sku_id for (sku_id,) in s.execute(select(Sku.id).order_by(Sku.id))]
        channel_ids = {name: cid for name, cid in s.execute(select(Channel.name, Channel.id))}
        rows = []
        for config in configs:
            for sku_id in sku_ids:
                if rng.random() < 0.15:
                    continue  # not listed there
                override = amount(rng, rng.choice([2, 5])) if rng.random() < 0.1 else None
                status = rng.choice(["new", "new", "clean", "dirty", "retry", "parked"])
                rows.append(
                    {
                        "channel_id": channel_ids[config.name],
                        "sku_id": sku_id,
                        "price_override": override,
                        "status": status,
                        "version": rng.randint(1, 4),
                        "attempts": rng.randint(0, 3),
                        "next_try_at": NOW - timedelta(minutes=rng.randint(1, 99)) if status == "retry" else None,
                        "updated_at": NOW - timedelta(days=2),
                    }
                )
        s.execute(insert(ChannelListing), rows)
    with db.unit_of_work(url) as s:
        reconcile.refresh(s, configs)  # every listing computed once: bases recorded
    with db.unit_of_work(url) as s:  # then the catalog moves on
        fx.set_rate(s, "CNY", "USD", Decimal("0.1391"), DAY)
        for sku_id in rng.sample(sku_ids, n // 5):
            s.execute(update(Sku).where(Sku.id == sku_id).values(base_price=amount(rng), cost=amount(rng, 3)))
        for sku_id in rng.sample(sku_ids, n // 5):
            s.execute(update(StockLevel).where(StockLevel.sku_id == sku_id).values(reserved=rng.randint(0, 45)))
        for sku_id in rng.sample(sku_ids, n // 10):
            s.execute(update(Sku).where(Sku.id == sku_id).values(active=rng.random() < 0.5))
        for sku_id in rng.sample(sku_ids, n // 10):  # content edited: those SKUs' bases are stale
            s.execute(update(Sku).where(Sku.id == sku_id).values(images=[f"https://img/{sku_id}/new.jpg"]))
        s.execute(update(Product).where(Product.id == products[1]).values(title="新标题"))
        table = table_of(ChannelListing)
        listing_ids = [listing_id for (listing_id,) in s.execute(select(table.c.id))]
        for listing_id in rng.sample(listing_ids, len(listing_ids) // 10):  # no basis yet
            s.execute(update(table).where(table.c.id == listing_id).values(content_basis=None))
        for listing_id in rng.sample(listing_ids, len(listing_ids) // 20):  # a basis but no hash
            s.execute(update(table).where(table.c.id == listing_id).values(desired_content_hash=None))
        # hashed under an older content configuration of the channel: the hash moves with the basis
        old_config = {
            "content_basis": func.substr(table.c.content_basis, 1, 16) + "0" * 16,
            "desired_content_hash": "0" * 64,
        }
        for listing_id in rng.sample(listing_ids, len(listing_ids) // 20):
            s.execute(update(table).where(table.c.id == listing_id).values(old_config))
        for listing_id in rng.sample(listing_ids, len(listing_ids) // 10):  # pushed and clean, or failing
            s.execute(
                update(table)
                .where(table.c.id == listing_id)
                .values(status=rng.choice(["clean", "retry", "parked"]), attempts=2, last_error="earlier")
            )
        for listing_id in rng.sample(listing_ids, len(listing_ids) // 20):  # a price edited behind its back
            s.execute(update(table).where(table.c.id == listing_id).values(desired_price=amount(rng)))
        for listing_id in rng.sample(listing_ids, len(listing_ids) // 20):
            s.execute(update(table).where(table.c.id == listing_id).values(desired_quantity=None))


def recomputed(url: str, configs: list[ChannelConfig], full: bool) -> tuple[int, list[tuple[Any, ...]]]:
    """(listings made dirty, every channel_listings row) after one recompute, rolled back afterwards."""
    engine = db.engine_for(url)
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection)
        try:
            ids = None if full else list(session.scalars(select(Sku.id).order_by(Sku.id)))
            marked = reconcile.refresh(session, configs, ids)
            session.flush()
            table = table_of(ChannelListing)
            rows = [tuple(row) for row in connection.execute(select(table).order_by(table.c.id))]
        finally:
            session.close()
            transaction.rollback()
    return marked, rows


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reconcile, "now_utc", lambda: NOW)
    monkeypatch.setattr(recompute, "SET_CHUNK", 17)  # several ranges
    monkeypatch.setattr(recompute, "CHUNK", 23)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many listings the Python pass compared."""
    calls: Counter[str] = Counter()
    real = recompute.ChannelPass.updates

    def spy(self: recompute.ChannelPass, chunk: Any, listings: Any, stale: Any, now: Any) -> Any:
        calls["python"] += len(listings)
        return real(self, chunk, listings, stale, now)

    monkeypatch.setattr(recompute.ChannelPass, "updates", spy)
    return calls


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("changed_language", [False, True], ids=["same-config", "us-content-config-changed"])
def test_the_set_pass_leaves_every_listing_as_the_python_pass_does(
    db_url: str, fixed_clock: None, seen: Counter[str], seed: int, changed_language: bool
) -> None:
    build(db_url, seed)
    seen.clear()
    configs = channels(changed_language)
    python_marked, python_rows = recomputed(db_url, configs, full=False)
    listings = len(python_rows)
    assert seen["python"] == listings
    seen.clear()
    set_marked, set_rows = recomputed(db_url, configs, full=True)
    # the set pass did most of the work; the stale bases still went through Python
    assert 0 < seen["python"] < listings / 2
    assert set_rows == python_rows
    assert set_marked == python_marked
    # the catalog exercises what it claims to: moved prices and quantities, parked listings of both kinds
    before = {row[0]: row for row in recomputed_before(db_url)}
    columns = [c.name for c in table_of(ChannelListing).columns]
    at = {name: i for i, name in enumerate(columns)}
    moved = [row for row in set_rows if row[at["version"]] != before[row[0]][at["version"]]]
    assert len(moved) > listings / 5
    errors = Counter((row[at["last_error"]] or "")[:20] for row in set_rows if row[at["status"]] == "parked")
    assert any(e.startswith("no FX rate") or "rate" in e for e in errors), errors
    assert any("too large" in (row[at["last_error"]] or "") for row in set_rows)
    assert any(row[at["desired_quantity"]] == 0 for row in set_rows)


def recomputed_before(url: str) -> list[tuple[Any, ...]]:
    table = table_of(ChannelListing)
    with db.engine_for(url).connect() as connection:
        return [tuple(row) for row in connection.execute(select(table).order_by(table.c.id))]


def test_a_listing_whose_price_and_content_moved_gets_one_version(db_url: str, fixed_clock: None) -> None:
    build(db_url, 7, n=30)
    table = table_of(ChannelListing)
    with db.unit_of_work(db_url) as s:
        sku_id = s.scalar(select(Sku.id).where(Sku.currency == "CNY", Sku.active.is_(True)).limit(1))
        s.execute(update(Sku).where(Sku.id == sku_id).values(base_price=Decimal("1234.56"), barcode="new"))
        before = {i: v for i, v in s.execute(select(table.c.id, table.c.version).where(table.c.sku_id == sku_id))}
    with db.unit_of_work(db_url) as s:
        reconcile.refresh(s, channels())
    with db.unit_of_work(db_url) as s:
        after = {i: v for i, v in s.execute(select(table.c.id, table.c.version).where(table.c.sku_id == sku_id))}
    assert before and after == {listing_id: version + 1 for listing_id, version in before.items()}
