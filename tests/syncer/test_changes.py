"""Bulk changes: selectors, each operation, preview numbers, the price guard, undo and its conflicts, edit
files, and that a refused or invalid change leaves the database exactly as it was."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fakes import FakeAdapter
from listing_sync.adapters.base import Operation
from listing_sync.config.channels import ChannelConfig, PriceRule
from listing_sync.syncer import changes, db, fx, reconcile
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.context import ensure_channel_rows
from listing_sync.syncer.models import (
    ChangeItem,
    ChangeSet,
    Channel,
    ChannelListing,
    Product,
    Sku,
    StockLevel,
    StockMovement,
)
from listing_sync.syncer.tabular import InputRejected
from sqlalchemy import insert, select, update

CN = ChannelConfig(name="cn", kind="fake", currency="CNY", warehouses=("SH",))
US = ChannelConfig(
    name="us",
    kind="fake",
    currency="USD",
    warehouses=("SH", "GZ"),
    price=PriceRule(multiplier=Decimal("1.2"), ending=Decimal("0.99"), min_margin=Decimal("0.15")),
)
CHANNELS = [CN, US]


class World:
    """N SKUs (even: tea, odd: honey; every third tagged gift), base 100.00, cost 40, stock SH 10 and
    GZ 5, published (clean, with refs) on a CNY and a USD channel."""

    def __init__(self, url: str, n: int = 6, publish: bool = True) -> None:
        self.url = url
        self.adapters = {c.name: FakeAdapter(c) for c in CHANNELS}
        with self.session() as s:
            ensure_channel_rows(s, CHANNELS)
            fx.set_rate(s, "CNY", "USD", Decimal("0.14"), date(2020, 1, 1))
            product_ids = (
                s.execute(
                    insert(Product).returning(Product.id),
                    [
                        {
                            "key": f"P{i:03d}",
                            "title": f"Product {i}",
                            "category": "tea" if i % 2 == 0 else "honey",
                            "tags": ["gift"] if i % 3 == 0 else [],
                        }
                        for i in range(n)
                    ],
                )
                .scalars()
                .all()
            )
            self.sku_ids = list(
                s.execute(
                    insert(Sku).returning(Sku.id),
                    [
                        {
                            "sku": f"S{i:03d}",
                            "product_id": pid,
                            "base_price": Decimal("100.00"),
                            "currency": "CNY",
                            "cost": Decimal("40"),
                            "attributes": {},
                            "images": [],
                        }
                        for i, pid in enumerate(product_ids)
                    ],
                )
                .scalars()
                .all()
            )
            wh = ledger.warehouses_by_code(s)
            s.execute(
                insert(StockLevel),
                [{"sku_id": sid, "warehouse_id": wh["SH"], "on_hand": 10, "reserved": 0} for sid in self.sku_ids]
                + [{"sku_id": sid, "warehouse_id": wh["GZ"], "on_hand": 5, "reserved": 0} for sid in self.sku_ids],
            )
            for config in CHANNELS:
                reconcile.ensure_listings(s, config, self.sku_ids)
        if publish:
            for config in CHANNELS:
                self.sync(config.name)

    @contextmanager
    def session(self):
        with db.unit_of_work(self.url) as s:
            yield s

    def sync(self, name: str) -> reconcile.PushReport:
        config = next(c for c in CHANNELS if c.name == name)
        return reconcile.push_channel(self.session, config, self.adapters[name])

    def ids(self, *skus: str) -> list[int]:
        with self.session() as s:
            return list(s.scalars(select(Sku.id).where(Sku.sku.in_(skus)).order_by(Sku.sku)))

    def listing(self, channel: str, sku: str) -> ChannelListing:
        with self.session() as s:
            return s.execute(
                select(ChannelListing)
                .join(Sku, Sku.id == ChannelListing.sku_id)
                .join(Channel, Channel.id == ChannelListing.channel_id)
                .where(Sku.sku == sku, Channel.name == channel)
            ).scalar_one()

    def base(self, sku: str) -> Decimal:
        with self.session() as s:
            return s.scalar(select(Sku.base_price).where(Sku.sku == sku))

    def apply(self, lines, **kw) -> changes.Applied:
        with self.session() as s:
            return changes.apply_change(s, lines, CHANNELS, user=kw.pop("user", "ops"), **kw)

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every table a change can touch."""
        out = {}
        with self.session() as s:
            for model in (Sku, ChannelListing, ChangeSet, ChangeItem, StockMovement, StockLevel):
                table = model.__table__
                out[table.name] = sorted(tuple(str(v) for v in row) for row in s.execute(select(table)).all())
        return out


def counter_for(world: World):
    return changes.limits_counter(world.adapters)


# ---------------------------------------------------------------------------------------- selectors
def test_selectors_glob_category_tag_file_and_their_intersection(db_url: str, tmp_path: Path) -> None:
    world = World(db_url, n=8, publish=False)

    def names(**kw) -> list[str]:
        with world.session() as s:
            ids = changes.select_skus(s, changes.Selection(**kw))
            return [s.get(Sku, i).sku for i in ids]

    assert names(patterns=["*"]) == [f"S{i:03d}" for i in range(8)]
    assert names(patterns=["S00[0-2]", "S007"]) == ["S000", "S001", "S002", "S007"]
    assert names(categories=["honey"]) == ["S001", "S003", "S005", "S007"]
    assert names(tags=["gift"]) == ["S000", "S003", "S006"]
    assert names(patterns=["*"], categories=["tea"], tags=["gift"]) == ["S000", "S006"]
    listed = tmp_path / "skus.txt"
    listed.write_text("# to reprice\nS004\nS005  # honey\n\n", encoding="utf-8")
    assert names(skus_file=listed) == ["S004", "S005"]
    assert names(skus_file=listed, categories=["tea"]) == ["S004"]
    table = tmp_path / "skus.csv"
    table.write_text("sku,note\nS001,x\nS002,y\n", encoding="utf-8")
    assert names(skus_file=table) == ["S001", "S002"]
    assert names(patterns=["NOPE*"]) == []


def test_a_skus_file_with_unknown_skus_is_refused_with_every_line(db_url: str, tmp_path: Path) -> None:
    world = World(db_url, n=2, publish=False)
    listed = tmp_path / "skus.txt"
    listed.write_text("S000\nX1\nS001\nX2\n", encoding="utf-8")
    with world.session() as s, pytest.raises(InputRejected) as info:
        changes.select_skus(s, changes.Selection(skus_file=listed))
    assert "row 2, column sku: unknown SKU 'X1'" in str(info.value) and "row 4" in str(info.value)
    with world.session() as s, pytest.raises(changes.ChangeRefused):
        changes.select_skus(s, changes.Selection())


# -------------------------------------------------------------------------------------------- price
def test_percent_preview_shows_every_channel_price_listings_and_calls(db_url: str) -> None:
    world = World(db_url, n=60)
    with world.session() as s:
        lines = changes.plan_price(s, world.sku_ids, percent=Decimal("10"))
        plan = changes.preview(s, CHANNELS, lines, guard_percent=30, counter=counter_for(world))
    assert len(lines) == 60 and lines[0].field == "base_price" and (lines[0].old, lines[0].new) == ("100.00", "110.00")
    rows = [r for r in plan.rows() if r["sku"] == "S000"]
    shown = [(r["channel"], r["field"], r["old"], r["new"], r["currency"], r["change_pct"]) for r in rows]
    assert shown == [
        ("(catalog)", "base_price", "100.00", "110.00", "CNY", "+10.0"),
        ("cn", "price", "100.00", "110.00", "CNY", "+10.0"),
        # 100 x 1.2 x 0.14 = 16.80 -> 16.99; 110 x 1.2 x 0.14 = 18.48 -> 18.99
        ("us", "price", "16.99", "18.99", "USD", "+11.8"),
    ]
    assert plan.listings == 120 and plan.violations == []
    every = plan.rows()
    assert plan.row_count() == len(every) == 180 and [r["sku"] for r in every] == sorted(r["sku"] for r in every)
    for limit in (1, 2, 3, 50, 179, 500):  # the first rows, rendered alone, are the whole table's first
        assert plan.rows(limit) == every[:limit]
    assert plan.calls == {"cn": {"price": 2}, "us": {"price": 2}}  # 60 each, 50 per call
    assert plan.summary()["api_calls"] == 4


def test_apply_is_one_change_set_marks_dirty_like_reconcile_and_the_sync_pushes_it(db_url: str) -> None:
    world = World(db_url, n=4)
    before = world.listing("us", "S001")
    with world.session() as s:
        lines = changes.plan_price(s, world.ids("S001", "S002"), amount=Decimal("-5.50"))
    applied = world.apply(lines, reason="promo", command="price adjust --amount -5.50")
    assert applied.affected == {"cn": world.ids("S001", "S002"), "us": world.ids("S001", "S002")}
    after = world.listing("us", "S001")
    assert (after.status, after.version, after.desired_price) == ("dirty", before.version + 1, Decimal("15.99"))
    assert world.listing("cn", "S000").status == "clean"
    with world.session() as s:
        # the bulk path left exactly what the general recompute computes: it finds nothing more to do
        assert reconcile.refresh(s, CHANNELS, world.sku_ids) == 0
        change_set = s.get(ChangeSet, applied.change_set_id)
        assert (change_set.user, change_set.reason, change_set.status) == ("ops", "promo", "applied")
        items = s.execute(select(ChangeItem.field, ChangeItem.old_value, ChangeItem.new_value)).all()
    assert sorted(items) == [("base_price", "100.00", "94.50")] * 2
    report = world.sync("us")
    assert report.ok == 2 and world.adapters["us"].calls[-1] == (Operation.PRICE, ["S001", "S002"])
    assert world.adapters["us"].items["S001"]["price"] == Decimal("15.99")
    assert world.listing("us", "S001").status == "clean"


def test_set_and_channel_override(db_url: str) -> None:
    world = World(db_url, n=3)
    with world.session() as s:
        lines = changes.plan_price(s, world.ids("S000"), set_to=Decimal("15.50"), channel="us", channel_currency="USD")
        plan = changes.preview(s, CHANNELS, lines)
    assert [(line.field, line.old, line.new, line.channel) for line in lines] == [
        ("price_override", None, "15.50", "us")
    ]
    assert [(e.channel, e.old, e.new) for e in plan.effects] == [("us", Decimal("16.99"), Decimal("15.99"))]
    world.apply(lines)
    assert world.listing("us", "S000").price_override == Decimal("15.50")
    assert world.base("S000") == Decimal("100.00") and world.listing("cn", "S000").status == "clean"
    with world.session() as s:  # an override adjusts from itself
        again = changes.plan_price(s, world.ids("S000"), percent=Decimal("-10"), channel="us", channel_currency="USD")
        assert [(line.old, line.new) for line in again] == [("15.50", "13.95")]
        with pytest.raises(changes.ChangeRefused, match="more decimal places"):
            changes.plan_price(s, world.ids("S000"), set_to=Decimal("9.999"))
        with pytest.raises(changes.ChangeRefused, match="negative"):
            changes.plan_price(s, world.ids("S000"), amount=Decimal("-500"))


def test_a_channel_price_is_in_the_channel_currency_without_multiplier_or_fx(db_url: str) -> None:
    """Trap 1: `price set 12.49 --channel us` meant $12.49 (was read as CNY, x1.2, x0.14 = $2.99)."""
    world = World(db_url, n=2)
    with world.session() as s:
        lines = changes.plan_price(s, world.ids("S000"), set_to=Decimal("12.49"), channel="us", channel_currency="USD")
        plan = changes.preview(s, CHANNELS, lines)
    assert [(e.channel, e.new) for e in plan.effects] == [("us", Decimal("12.99"))]  # the .99 ending still applies
    with world.session() as s:  # from what the channel shows (16.99 USD), not the CNY base price
        adjust = changes.plan_price(s, world.ids("S001"), amount=Decimal("-1"), channel="us", channel_currency="USD")
    assert [(line.old, line.new) for line in adjust] == [(None, "15.99")]
    with world.session() as s:  # the cost floor (40 CNY x 1.15 x 0.14 = 6.44 USD) still holds
        low = changes.plan_price(s, world.ids("S000"), set_to=Decimal("3"), channel="us", channel_currency="USD")
        floored = changes.preview(s, CHANNELS, low)
    assert [e.new for e in floored.effects] == [Decimal("6.99")]


# -------------------------------------------------------------------------------------------- stock
def test_stock_set_and_adjust_are_ledger_movements_with_channel_quantities(db_url: str) -> None:
    world = World(db_url, n=3)
    with world.session() as s:
        lines = changes.plan_stock(s, world.ids("S000", "S001"), "SH", by=-3)
        plan = changes.preview(s, CHANNELS, lines, counter=counter_for(world))
    assert [(line.field, line.old, line.new) for line in lines] == [("stock:SH", "10", "7")] * 2
    quantities = {(e.channel, e.sku): (e.old, e.new) for e in plan.effects}
    assert quantities == {
        ("cn", "S000"): (10, 7),
        ("cn", "S001"): (10, 7),
        ("us", "S000"): (15, 12),
        ("us", "S001"): (15, 12),
    }
    assert plan.calls == {"cn": {"stock": 1}, "us": {"stock": 1}}
    applied = world.apply(lines, reason="damaged")
    with world.session() as s:
        moves = s.execute(
            select(
                StockMovement.kind, StockMovement.on_hand_delta, StockMovement.change_set_id, StockMovement.reason
            ).where(StockMovement.change_set_id.is_not(None))
        ).all()
        assert sorted(moves) == [("adjust", -3, applied.change_set_id, "damaged")] * 2
        assert changes.stock_level(s, world.ids("S000")[0], "SH") == 7
        assert changes.plan_stock(s, world.ids("S000", "S002"), "GZ", set_to=5) == []  # already 5
        counted = changes.plan_stock(s, world.ids("S000", "S002"), "GZ", set_to=8)
    assert [(line.sku, line.old, line.new) for line in counted] == [("S000", "5", "8"), ("S002", "5", "8")]
    world.apply(counted)
    assert world.listing("us", "S000").desired_quantity == 15 and world.listing("cn", "S000").desired_quantity == 7
    world.sync("us")
    assert world.adapters["us"].items["S002"]["qty"] == 18


def test_stock_that_would_go_negative_is_refused_naming_the_skus(db_url: str) -> None:
    world = World(db_url, n=3)
    before = world.snapshot()
    with world.session() as s, pytest.raises(changes.ChangeRefused) as info:
        changes.plan_stock(s, world.sku_ids, "GZ", by=-6)
    assert "S000: on-hand in GZ would be -1 (now 5)" in str(info.value) and "S002" in str(info.value)
    with world.session() as s, pytest.raises(changes.ChangeRefused, match="no warehouse 'XX'"):
        changes.plan_stock(s, world.sku_ids, "XX", by=1)
    assert world.snapshot() == before


# -------------------------------------------------------------------------------------------- guard
def test_guard_refuses_big_moves_naming_skus_and_applies_nothing(db_url: str) -> None:
    world = World(db_url, n=4)
    before = world.snapshot()
    with world.session() as s:
        lines = changes.plan_price(s, world.ids("S001", "S002"), percent=Decimal("50"))
        plan = changes.preview(s, CHANNELS, lines, guard_percent=30)
    assert {(v.sku, v.channel) for v in plan.violations} == {
        ("S001", "cn"),
        ("S001", "us"),
        ("S002", "cn"),
        ("S002", "us"),
    }
    with pytest.raises(changes.GuardRefused) as info:
        world.apply(lines, guard_percent=30)
    assert "S001, S002" in str(info.value) and "+50.0%" in str(info.value)
    assert world.snapshot() == before
    with world.session() as s:  # 25% passes a 30% guard
        ok = changes.plan_price(s, world.ids("S001"), percent=Decimal("25"))
        assert changes.preview(s, CHANNELS, ok, guard_percent=30).violations == []
    world.apply(lines, guard_percent=30, force=True)
    assert world.base("S001") == Decimal("150.00")


def test_guard_refuses_a_price_below_the_cost_floor(db_url: str) -> None:
    world = World(db_url, n=2)
    with world.session() as s:
        s.execute(update(Sku).where(Sku.sku == "S000").values(cost=Decimal("95")))
    before = world.snapshot()
    with world.session() as s:
        lines = changes.plan_price(s, world.ids("S000", "S001"), percent=Decimal("-10"))
    with pytest.raises(changes.GuardRefused) as info:
        world.apply(lines, guard_percent=30)
    message = str(info.value)
    assert "S000 on cn: price 90.00 CNY is below the cost floor 95.00" in message and "S001 on" not in message
    assert world.snapshot() == before


def test_a_change_made_after_the_preview_is_refused_whole(db_url: str) -> None:
    world = World(db_url, n=3)
    with world.session() as s:
        lines = changes.plan_price(s, world.sku_ids, percent=Decimal("5"))
    with world.session() as s:
        s.execute(update(Sku).where(Sku.sku == "S002").values(base_price=Decimal("101")))
    before = world.snapshot()
    with pytest.raises(changes.StaleChange, match="S002 base_price: was 100.00, is now 101"):
        world.apply(lines)
    assert world.snapshot() == before


# --------------------------------------------------------------------------------------------- undo
def test_undo_restores_old_values_as_a_new_change_set(db_url: str) -> None:
    world = World(db_url, n=3)
    with world.session() as s:
        first = world.apply(changes.plan_price(s, world.sku_ids, percent=Decimal("10"))).change_set_id
    with world.session() as s:
        undo = changes.plan_undo(s, first)
    assert undo.conflicts == [] and [(line.old, line.new) for line in undo.lines] == [("110.00", "100.00")] * 3
    applied = world.apply(undo.lines, undo_of=first)
    assert world.base("S000") == Decimal("100.00") and world.listing("us", "S000").desired_price == Decimal("16.99")
    with world.session() as s:
        assert s.get(ChangeSet, first).status == "undone"
        assert s.get(ChangeSet, applied.change_set_id).undo_of == first
        shown = changes.show_change_set(s, first)
        assert shown["undone_by"] == applied.change_set_id and len(shown["changes"]) == 3
        again = changes.plan_undo(s, first)  # undoing twice is a conflict
        assert any("already undone" in c for c in again.conflicts)


def test_undo_refuses_where_a_later_change_set_touched_the_same_values(db_url: str) -> None:
    world = World(db_url, n=3)
    with world.session() as s:
        first = world.apply(changes.plan_price(s, world.sku_ids, percent=Decimal("10")), user="ann").change_set_id
    with world.session() as s:
        second = world.apply(changes.plan_price(s, world.ids("S001"), set_to=Decimal("120")), user="bob")
    with world.session() as s:
        undo = changes.plan_undo(s, first)
    assert len(undo.conflicts) == 1
    assert undo.conflicts[0].startswith(f"S001 base_price: changed again by change set {second.change_set_id} (bob,")
    # --force restores the old values anyway (the CLI refuses without it)
    world.apply(undo.lines, undo_of=first)
    assert [world.base(s) for s in ("S000", "S001", "S002")] == [Decimal("100.00")] * 3
    with world.session() as s:  # stock is reversed by the opposite movement
        moved = world.apply(changes.plan_stock(s, world.ids("S000"), "SH", by=4)).change_set_id
        reserve = ledger.Movement(
            world.ids("S000")[0], ledger.warehouses_by_code(s)["SH"], "ship", -2, 0, "order", "ship:1"
        )
    with world.session() as s:
        ledger.record(s, [reserve])
        undo = changes.plan_undo(s, moved)
    assert undo.conflicts == [] and [(line.old, line.new) for line in undo.lines] == [("12", "8")]
    world.apply(undo.lines, undo_of=moved)
    with world.session() as s:
        assert changes.stock_level(s, world.ids("S000")[0], "SH") == 8  # 10 + 4 - 2 shipped - 4 undone


# --------------------------------------------------------------------------------------------- files
def test_a_bad_edit_file_lists_every_problem_and_applies_nothing(db_url: str, tmp_path: Path) -> None:
    world = World(db_url, n=3)
    before = world.snapshot()
    bad = tmp_path / "edits.csv"
    bad.write_text(
        "sku,channel,price,stock[SH],stock[XX],colour\n"
        "S000,,abc,5,,\n"
        "NOPE,,10,,,\n"
        "S001,moon,10,,,\n"
        "S001,us,12,3,,\n"
        "S002,,,-1,,\n"
        "S002,,9.999,,,\n"
        "S000,,11,,,\n",
        encoding="utf-8",
    )
    with world.session() as s, pytest.raises(InputRejected) as info:
        changes.plan_file(s, bad, {"cn": "CNY", "us": "USD"})
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {
        (1, "stock[XX]"),
        (1, "colour"),
        (2, "price"),
        (3, "sku"),
        (4, "channel"),
        (5, "stock[SH]"),
        (6, "stock[SH]"),
        (7, "sku"),
        (8, "sku"),
    }
    assert world.snapshot() == before


def test_an_edit_file_sets_base_prices_overrides_and_stock(db_url: str, tmp_path: Path) -> None:
    from listing_sync.syncer.tabular import write_xlsx

    world = World(db_url, n=3)
    rows = [["S000", "", "105", "12"], ["S001", "us", "80", ""], ["S002", "", "", "10"]]
    good = tmp_path / "edits.xlsx"
    write_xlsx(good, [("edits", ["sku", "channel", "price", "stock[SH]"], rows)])
    with world.session() as s:
        lines = changes.plan_file(s, good, {"cn": "CNY", "us": "USD"})
    assert [(line.sku, line.field, line.old, line.new, line.channel) for line in lines] == [
        ("S000", "base_price", "100.00", "105", None),
        ("S000", "stock:SH", "10", "12", None),
        ("S001", "price_override", None, "80", "us"),
    ]
    world.apply(lines)
    assert world.base("S000") == Decimal("105.00") and world.listing("us", "S001").price_override == Decimal("80")


def test_an_edit_file_channel_price_is_in_the_channel_currency(db_url: str, tmp_path: Path) -> None:
    """Trap 1: the row `S000,us,12.49` means 12.49 USD on us (was 12.49 CNY x 1.2 x 0.14 = 2.99 USD)."""
    world = World(db_url, n=2)
    good = tmp_path / "edits.csv"
    good.write_text("sku,channel,price,currency\nS000,us,12.49,usd\nS001,,90,\n", encoding="utf-8")
    with world.session() as s:
        lines = changes.plan_file(s, good, {"cn": "CNY", "us": "USD"})
        plan = changes.preview(s, CHANNELS, lines)
    effects = [(e.channel, e.sku, e.old, e.new) for e in plan.effects]
    assert ("us", "S000", Decimal("16.99"), Decimal("12.99")) in effects
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,channel,price,currency\nS000,us,12.49,CNY\nS001,,90,USD\nS001,us,1.999,\n", encoding="utf-8")
    with world.session() as s, pytest.raises(InputRejected) as info:
        changes.plan_file(s, bad, {"cn": "CNY", "us": "USD"})
    assert [(p.row, p.column) for p in info.value.problems] == [(2, "currency"), (3, "currency"), (4, "price")]
    assert "us sells in USD" in str(info.value)


# ------------------------------------------------------------------------------------------ history
def test_history_has_change_items_and_sync_results(db_url: str) -> None:
    world = World(db_url, n=2)
    with world.session() as s:
        world.apply(changes.plan_price(s, world.ids("S000"), percent=Decimal("5")), reason="rise")
    world.sync("cn")
    with world.session() as s:
        rows = changes.history(s, "S000")
        listed = changes.list_change_sets(s)
    kinds = [(r["kind"], r["channel"], r["what"], r["new"]) for r in rows]
    assert ("change", None, "base_price", "105.00") in kinds
    assert kinds[-1] == ("sync", "cn", "price", "105.00")
    assert kinds.index(("change", None, "base_price", "105.00")) < len(kinds) - 1
    assert listed[0]["reason"] == "rise" and listed[0]["items"] == 1


def test_undo_of_values_it_cannot_restore_says_so(db_url: str) -> None:
    world = World(db_url, n=1)
    with world.session() as s:
        change_set = ChangeSet(user="import", reason="catalog import", command="catalog import")
        s.add(change_set)
        s.flush()
        s.add(
            ChangeItem(
                change_set_id=change_set.id, sku_id=world.sku_ids[0], field="cost", old_value="30", new_value="40"
            )
        )
        s.flush()
        undo = changes.plan_undo(s, change_set.id)
        with pytest.raises(changes.ChangeRefused, match="cannot apply changes of cost"):
            changes.apply_change(
                s, [changes.ChangeLine(world.sku_ids[0], "S000", "cost", "40", "30")], CHANNELS, user="x"
            )
    assert undo.lines == [] and undo.conflicts == [
        "S000 cost: cost changes cannot be undone here (re-import the old value)"
    ]


# ------------------------------------------------------------------------------------- call counting
def test_call_counts_come_from_the_adapter_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    from listing_sync.adapters import registry

    class OnePerSku(FakeAdapter):
        def count_calls(self, op: Operation, items) -> int:
            return len(items)

    channel = ChannelConfig(name="cn", kind="fake", currency="CNY", warehouses=("SH",))
    items = [object()] * 120
    # a built adapter counts by its own interface ...
    assert changes.limits_counter({"cn": OnePerSku(channel)})(channel, Operation.PRICE, items) == 120
    # ... none built: the kind's declared batch maximum, through the registry (fake: 50 prices per call)
    monkeypatch.setattr(registry, "KINDS", {**registry.KINDS, "fake": ("fakes:FakeAdapter", "fakes:FakeAdapter")})
    assert changes.limits_counter()(channel, Operation.PRICE, items) == 3
    assert changes.limits_counter()(channel, Operation.PUBLISH, items) == 12  # 10 per call
    assert changes.limits_counter()(channel, Operation.PRICE, []) == 0


def test_a_change_line_without_the_value_or_channel_it_needs_says_which() -> None:
    override_removed = changes.ChangeLine(1, "S000", "price_override", "5", None, "us")
    assert override_removed.channel_name == "us"
    with pytest.raises(ValueError, match="S000 price_override: the change line has no new value"):
        _ = override_removed.set_to
    with pytest.raises(ValueError, match="S000 base_price: the change line names no channel"):
        _ = changes.ChangeLine(1, "S000", "base_price", "5", "6").channel_name
