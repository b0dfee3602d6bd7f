"""``bulkload.among``: one parameter for a list of thousands, the same rows as ``IN``."""

from listing_sync.syncer import bulkload
from listing_sync.syncer.models import Product, Sku
from sqlalchemy import event, select


def _catalog(session, codes: list[str]) -> None:
    product = Product(key="P", title="p")
    session.add(product)
    session.flush()
    session.add_all(Sku(sku=code, product_id=product.id, base_price=1, currency="CNY") for code in codes)
    session.flush()


def test_among_finds_exactly_the_listed_keys(session) -> None:
    codes = ["A-1", "茶-2", "x'y\"z", "back\\slash", "A-10"]
    _catalog(session, codes)
    connection = session.connection()
    wanted = ["A-1", "茶-2", "x'y\"z", "back\\slash", "missing"]
    found = session.scalars(select(Sku.sku).where(bulkload.among(connection, Sku.sku, wanted))).all()
    assert sorted(found) == sorted(["A-1", "茶-2", "x'y\"z", "back\\slash"])
    ids = session.scalars(select(Sku.id).where(Sku.sku.in_(["A-1", "A-10"]))).all()
    by_id = session.scalars(select(Sku.sku).where(bulkload.among(connection, Sku.id, ids))).all()
    assert sorted(by_id) == ["A-1", "A-10"]
    assert session.scalars(select(Sku.id).where(bulkload.among(connection, Sku.id, []))).all() == []


def test_among_takes_thousands_as_one_parameter(session) -> None:
    codes = [f"S-{i:05d}" for i in range(6000)]
    _catalog(session, codes)
    connection = session.connection()
    sent: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(len(parameters))

    event.listen(connection, "before_cursor_execute", count)
    try:
        found = session.scalars(select(Sku.id).where(bulkload.among(connection, Sku.sku, codes[::2]))).all()
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert len(found) == 3000
    assert sent == [1]  # an IN list would send 3,000 parameters
