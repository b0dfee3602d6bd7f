"""A new SKU's first stock counts are written as its ledger rows and its level rows in one go
(``stock.record_first``): levels still equal the ledger, for new and existing SKUs in one file."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from catalogs import do_import
from listing_sync.syncer import catalog, db
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.models import ChangeItem, Product, Sku, StockLevel, StockMovement, Warehouse
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

HEADER = "sku,title,base_price,currency,stock[SH],stock[GZ]\n"


def import_text(url: str, path: Path, text: str) -> catalog.ImportSummary:
    path.write_text(HEADER + text, encoding="utf-8")
    return do_import(url, path)


def levels(url: str) -> dict[tuple[str, str], tuple[int, int]]:
    with db.unit_of_work(url) as s:
        rows = s.execute(
            select(Sku.sku, Warehouse.code, StockLevel.on_hand, StockLevel.reserved)
            .join(Sku, Sku.id == StockLevel.sku_id)
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        )
        return {(sku, code): (on_hand, reserved) for sku, code, on_hand, reserved in rows}


def ledger_sums(url: str) -> dict[tuple[str, str], tuple[int, int]]:
    with db.unit_of_work(url) as s:
        rows = s.execute(
            select(
                Sku.sku,
                Warehouse.code,
                func.sum(StockMovement.on_hand_delta),
                func.sum(StockMovement.reserved_delta),
            )
            .join(Sku, Sku.id == StockMovement.sku_id)
            .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
            .group_by(Sku.sku, Warehouse.code)
        )
        return {(sku, code): (int(on_hand), int(reserved)) for sku, code, on_hand, reserved in rows}


def test_new_skus_stock_equals_their_ledger_and_a_zero_count_writes_nothing(url: str, tmp_path: Path) -> None:
    first = import_text(url, tmp_path / "c.csv", "A-1,T,10,CNY,5,0\nA-2,T,10,CNY,,7\nA-3,T,10,CNY,0,\n")
    assert (first.skus_created, first.stock_movements) == (3, 2)
    assert levels(url) == ledger_sums(url) == {("A-1", "SH"): (5, 0), ("A-2", "GZ"): (7, 0)}
    with db.unit_of_work(url) as s:
        keys = set(s.scalars(select(StockMovement.idempotency_key)))
        ids = {sku: sid for sku, sid in s.execute(select(Sku.sku, Sku.id))}
        wh = {code: wid for code, wid in s.execute(select(Warehouse.code, Warehouse.id))}
        # the first counts are audited by the ledger only (the SKU's "created" item), not as stock changes
        assert s.scalar(select(func.count()).select_from(ChangeItem).where(ChangeItem.field.like("stock:%"))) == 0
    assert keys == {f"count:{ids['A-1']}:{wh['SH']}:5:0", f"count:{ids['A-2']}:{wh['GZ']}:7:0"}
    again = import_text(url, tmp_path / "c.csv", "A-1,T,10,CNY,5,0\nA-2,T,10,CNY,,7\nA-3,T,10,CNY,0,\n")
    assert (again.changed, again.stock_movements) == (False, 0)


def test_new_and_existing_skus_in_one_file(url: str, tmp_path: Path) -> None:
    import_text(url, tmp_path / "c.csv", "A-1,T,10,CNY,5,1\nA-2,T,10,CNY,2,\n")
    with db.unit_of_work(url) as s:
        order_sku = s.scalar(select(Sku.id).where(Sku.sku == "A-2"))
        sh = s.scalar(select(Warehouse.id).where(Warehouse.code == "SH"))
        ledger.record(s, [ledger.Movement(order_sku, sh, "reserve", 0, 1, "order", "reserve:1")])
    summary = import_text(
        url, tmp_path / "c.csv", "B-1,T,10,CNY,3,4\nA-1,T,10,CNY,6,1\nB-2,T,10,CNY,,9\nA-2,T,10,CNY,2,8\n"
    )
    assert (summary.skus_created, summary.stock_movements) == (2, 5)
    assert levels(url) == ledger_sums(url)
    assert levels(url) == {
        ("A-1", "SH"): (6, 0),
        ("A-1", "GZ"): (1, 0),
        ("A-2", "SH"): (2, 1),
        ("A-2", "GZ"): (8, 0),
        ("B-1", "SH"): (3, 0),
        ("B-1", "GZ"): (4, 0),
        ("B-2", "GZ"): (9, 0),
    }
    with db.unit_of_work(url) as s:
        audited = {
            (sku, field)
            for sku, field in s.execute(
                select(Sku.sku, ChangeItem.field)
                .join(Sku, Sku.id == ChangeItem.sku_id)
                .where(ChangeItem.change_set_id == summary.change_set_id, ChangeItem.field.like("stock:%"))
            )
        }
    assert audited == {("A-1", "stock:SH"), ("A-2", "stock:GZ")}  # changes of existing SKUs only


def _sku(session, code: str) -> int:  # type: ignore[no-untyped-def]
    product = Product(key=code, title=code)
    session.add(product)
    session.flush()
    sku = Sku(sku=code, product_id=product.id, base_price=1, currency="CNY")
    session.add(sku)
    session.flush()
    return sku.id


def test_record_first_sums_a_pair_once_and_refuses_what_record_refuses(session) -> None:  # type: ignore[no-untyped-def]
    session.add(Warehouse(code="SH", name="上海"))
    session.flush()
    wh = session.scalar(select(Warehouse.id))
    a, b = _sku(session, "A-1"), _sku(session, "A-2")
    moves = [
        ledger.Movement(a, wh, "count", 5, 0, "count", "k1"),
        ledger.Movement(a, wh, "count", 5, 0, "count", "k1"),  # a repeated key counts once
        ledger.Movement(a, wh, "adjust", -2, 0, "adjust", "k2"),
        ledger.Movement(b, wh, "count", 0, 0, "count", "k3"),
    ]
    assert [m.key for m in ledger.record_first(session, moves)] == ["k1", "k2", "k3"]
    assert ledger.levels(session) == {(a, wh): (3, 0), (b, wh): (0, 0)}  # a level row for every pair, as record
    c = _sku(session, "A-3")
    with pytest.raises(ledger.NegativeStock):
        ledger.record_first(session, [ledger.Movement(c, wh, "adjust", -1, 0, "adjust", "k4")])
    with pytest.raises((IntegrityError, psycopg.IntegrityError)):  # not a new SKU after all: its level row exists
        ledger.record_first(session, [ledger.Movement(a, wh, "count", 1, 0, "count", "k5")])
