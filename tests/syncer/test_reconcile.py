"""Reconcile: dirty tracking, plans chunked by limits, clean-only-if-unchanged, retries, parking, drift."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from fakes import FakeAdapter
from listing_sync.adapters.base import AuthError, ItemResult, Limits, NoProgress, Operation, UnexpectedResponse
from listing_sync.config.channels import ChannelConfig, PriceRule, StockRule
from listing_sync.syncer import db, fx, reconcile
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.context import ensure_channel_rows
from listing_sync.syncer.models import Channel, ChannelListing, Product, Sku, StockLevel, SyncRun
from sqlalchemy import insert, select, update


def channel(name: str = "shop", currency: str = "CNY", **kw) -> ChannelConfig:
    return ChannelConfig(
        name=name,
        kind="fake",
        currency=currency,
        warehouses=("SH",),
        price=kw.pop("price", PriceRule()),
        stock=kw.pop("stock", StockRule()),
        **kw,
    )


class World:
    """A database with N SKUs on some channels, and a fake adapter per channel."""

    def __init__(self, url: str, channels: list[ChannelConfig], n: int = 5) -> None:
        self.url = url
        self.channels = channels
        self.adapters = {c.name: FakeAdapter(c) for c in channels}
        with self.session() as s:
            ensure_channel_rows(s, channels)
            product_ids = (
                s.execute(
                    insert(Product).returning(Product.id),
                    [{"key": f"P{i:05d}", "title": f"Product {i}", "tags": []} for i in range(n)],
                )
                .scalars()
                .all()
            )
            sku_ids = (
                s.execute(
                    insert(Sku).returning(Sku.id),
                    [
                        {
                            "sku": f"S{i:05d}",
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
            wh = ledger.warehouses_by_code(s)["SH"]
            s.execute(
                insert(StockLevel),
                [{"sku_id": sid, "warehouse_id": wh, "on_hand": 10, "reserved": 0} for sid in sku_ids],
            )
            self.sku_ids = list(sku_ids)
            for config in channels:
                reconcile.ensure_listings(s, config, self.sku_ids)

    @contextmanager
    def session(self):
        with db.unit_of_work(self.url) as s:
            yield s

    def sync(self, name: str, **kw) -> reconcile.PushReport:
        config = next(c for c in self.channels if c.name == name)
        return reconcile.push_channel(self.session, config, self.adapters[name], **kw)

    def listing(self, name: str, sku: str) -> ChannelListing:
        with self.session() as s:
            return s.execute(
                select(ChannelListing)
                .join(Sku, Sku.id == ChannelListing.sku_id)
                .where(Sku.sku == sku)
                .where(ChannelListing.channel_id == select_channel_id(name))
            ).scalar_one()

    def set_price(self, sku: str, price: str) -> None:
        with self.session() as s:
            s.execute(update(Sku).where(Sku.sku == sku).values(base_price=Decimal(price)))
            sku_id = s.scalar(select(Sku.id).where(Sku.sku == sku))
            reconcile.refresh(s, self.channels, [sku_id])


def select_channel_id(name: str):
    from listing_sync.syncer.models import Channel

    return select(Channel.id).where(Channel.name == name).scalar_subquery()


def test_publish_then_nothing_to_do(db_url: str) -> None:
    world = World(db_url, [channel()], n=23)
    report = world.sync("shop")
    adapter = world.adapters["shop"]
    assert report.ok == 23 and report.failed == 0
    assert [op for op, _ in adapter.calls] == [Operation.PUBLISH] * 3  # 23 items, 10 per call
    assert adapter.items["S00000"] == {"price": Decimal("100.00"), "qty": 10, "active": True, "title": "Product 0"}
    assert world.listing("shop", "S00007").status == "clean"
    again = world.sync("shop")
    assert again.ok == 0 and len(adapter.calls) == 3  # a routine sync with nothing changed calls nothing


def test_price_rule_and_stock_rule_reach_the_channel(db_url: str) -> None:
    with db.unit_of_work(db_url) as s:
        fx.set_rate(s, "CNY", "USD", Decimal("0.14"), date(2026, 1, 1))
    rule = PriceRule(multiplier=Decimal("1.4"), ending=Decimal("0.99"), min_margin=Decimal("0.2"))
    world = World(db_url, [channel("us", "USD", price=rule, stock=StockRule(buffer=2, share=Decimal("0.5")))], n=1)
    world.sync("us")
    assert world.adapters["us"].items["S00000"]["price"] == Decimal("19.99")  # 100 x 1.4 x 0.14 = 19.60 -> .99
    assert world.adapters["us"].items["S00000"]["qty"] == 4  # (10 - 2) x 0.5


def test_missing_fx_rate_parks_with_a_clear_message(db_url: str) -> None:
    world = World(db_url, [channel("eu", "EUR")], n=1)
    listing = world.listing("eu", "S00000")
    assert listing.status == "parked" and "CNY->EUR" in listing.last_error
    assert world.sync("eu").ok == 0 and world.adapters["eu"].calls == []


def test_ten_of_ten_thousand_changed_makes_the_minimum_calls(db_url: str) -> None:
    world = World(db_url, [channel()], n=10_000)
    with world.session() as s:  # as if everything had been published already
        s.execute(
            update(ChannelListing).values(
                pushed_price=ChannelListing.desired_price,
                pushed_quantity=ChannelListing.desired_quantity,
                pushed_content_hash=ChannelListing.desired_content_hash,
                pushed_state="active",
                status="clean",
                ref={"sku": "x", "external_id": "x", "ids": {}},
                pushed_version=ChannelListing.version,
            )
        )
    for i in range(0, 10_000, 1000):
        world.set_price(f"S{i:05d}", "120.00")
    report = world.sync("shop")
    adapter = world.adapters["shop"]
    assert report.ok == 10
    assert adapter.calls == [(Operation.PRICE, [f"S{i:05d}" for i in range(0, 10_000, 1000)])]  # one call of 10


def test_price_changed_while_its_batch_is_pushed_stays_dirty(db_url: str) -> None:
    world = World(db_url, [channel()], n=3)
    world.sync("shop")
    world.set_price("S00001", "150.00")
    adapter = world.adapters["shop"]
    adapter.on_call = lambda op, skus: world.set_price("S00001", "180.00") if op is Operation.PRICE else None
    world.sync("shop")
    listing = world.listing("shop", "S00001")
    assert listing.pushed_price == Decimal("150.00") and listing.desired_price == Decimal("180.00")
    assert listing.status == "dirty"
    adapter.on_call = None
    world.sync("shop")
    assert adapter.items["S00001"]["price"] == Decimal("180.00")
    assert world.listing("shop", "S00001").status == "clean"


def test_retryable_failure_backs_off_and_permanent_failure_is_parked(db_url: str) -> None:
    world = World(db_url, [channel()], n=3)
    adapter = world.adapters["shop"]
    adapter.fail["S00000"] = ItemResult.failure("S00000", "throttled", "slow down", retryable=True, retry_after=600)
    adapter.fail["S00001"] = ItemResult.failure("S00001", "bad_category", "category 123 is not a leaf")
    report = world.sync("shop")
    assert (report.ok, report.retry, report.parked) == (1, 1, 1)
    retry = world.listing("shop", "S00000")
    assert retry.status == "retry" and retry.attempts == 1 and retry.next_try_at is not None
    assert retry.next_try_at - retry.updated_at >= timedelta(seconds=590)
    parked = world.listing("shop", "S00001")
    assert parked.status == "parked" and parked.last_error == "category 123 is not a leaf"
    adapter.fail.clear()
    calls = len(adapter.calls)
    world.sync("shop")
    assert len(adapter.calls) == calls  # neither due nor changed: no call
    world.set_price("S00001", "99.00")  # the parked listing changes again -> retried
    world.sync("shop")
    assert world.listing("shop", "S00001").status == "clean"
    with world.session() as s:
        runs = s.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        assert runs[0].status == "partial" and "bad_category" in runs[0].message


class PricesFail(FakeAdapter):
    """Refuses every price push with ``result`` (stock pushes go through)."""

    result: ItemResult

    def push_prices(self, updates):
        self._record(Operation.PRICE, [u.sku for u in updates])
        return [self.result for _ in updates]


@pytest.mark.parametrize("retryable", [False, True])
def test_a_stock_push_that_succeeds_keeps_the_failed_price_pushs_error_and_backoff(
    db_url: str, retryable: bool
) -> None:
    world = World(db_url, [channel()], n=1)
    world.sync("shop")
    adapter = world.adapters["shop"] = PricesFail(world.channels[0])
    adapter.result = ItemResult.failure("S00000", "item_locked", "item locked", retryable=retryable)
    with world.session() as s:  # a price change and a stock change at once: one price and one stock push
        s.execute(update(StockLevel).values(on_hand=7))
        s.execute(update(Sku).values(base_price=Decimal("120.00")))
        reconcile.refresh(s, world.channels, None)
    report = world.sync("shop")
    assert (report.ok, report.failed) == (1, 1)  # the stock push, the price push
    listing = world.listing("shop", "S00000")
    assert listing.status == ("retry" if retryable else "parked")
    assert (listing.last_error, listing.attempts) == ("item locked", 1)  # the stock push erased neither
    assert (listing.next_try_at is not None) == retryable and listing.pushed_quantity == 7


def test_auth_error_stops_the_channel_and_keeps_listings_dirty(db_url: str) -> None:
    world = World(db_url, [channel()], n=2)
    world.adapters["shop"].raise_error = AuthError("refresh token revoked: re-authorize this channel")
    report = world.sync("shop")
    assert report.aborted and "re-authorize" in report.aborted
    assert world.listing("shop", "S00000").status == "new" or world.listing("shop", "S00000").status == "dirty"


def test_adapter_bug_parks_the_batch_and_does_not_crash(db_url: str) -> None:
    world = World(db_url, [channel()], n=2)
    world.adapters["shop"].raise_error = ValueError("int('tea')")
    report = world.sync("shop")
    assert report.parked == 2 and "adapter_error" in report.errors[0][1]


def test_delist_and_relist(db_url: str) -> None:
    world = World(db_url, [channel()], n=2)
    world.sync("shop")
    adapter = world.adapters["shop"]
    with world.session() as s:
        reconcile.ensure_listings(s, world.channels[0], [world.sku_ids[0]], wanted="delisted")
    world.sync("shop")
    assert adapter.calls[-1] == (Operation.DELIST, ["S00000"]) and adapter.items["S00000"]["active"] is False
    with world.session() as s:
        reconcile.ensure_listings(s, world.channels[0], [world.sku_ids[0]], wanted="active")
    world.sync("shop")
    assert adapter.calls[-1] == (Operation.RELIST, ["S00000"]) and adapter.items["S00000"]["active"] is True
    assert world.listing("shop", "S00000").status == "clean"


def test_zero_stock_is_pushed_first(db_url: str) -> None:
    world = World(db_url, [channel()], n=3)
    world.sync("shop")
    with world.session() as s:
        levels = {sid: 0 if i == 2 else 5 for i, sid in enumerate(world.sku_ids)}
        for sid, qty in levels.items():
            s.execute(update(StockLevel).where(StockLevel.sku_id == sid).values(on_hand=qty))
        reconcile.refresh(s, world.channels, world.sku_ids)
    world.sync("shop")
    assert world.adapters["shop"].calls[-1] == (Operation.STOCK, ["S00002", "S00000", "S00001"])


def test_drift_is_reported_and_fixed(db_url: str) -> None:
    world = World(db_url, [channel()], n=2)
    world.sync("shop")
    adapter = world.adapters["shop"]
    adapter.items["S00000"]["price"] = Decimal("1.00")  # edited in the marketplace back office
    adapter.items["UNKNOWN"] = {"price": Decimal("5"), "qty": 1}
    with world.session() as s:
        report = reconcile.check_drift(s, world.channels[0], adapter, fix=True)
    assert [(d.sku, d.field, d.remote) for d in report.drifted] == [("S00000", "price", Decimal("1.00"))]
    assert report.unknown == ["UNKNOWN"]
    world.sync("shop")
    assert adapter.items["S00000"]["price"] == Decimal("100.00")


def test_a_delisted_listing_is_not_drift(db_url: str) -> None:
    """Trap 6: Amazon delists by quantity 0 (the offer stays): drift check reported it as drift."""
    world = World(db_url, [channel()], n=2)
    world.sync("shop")
    adapter = world.adapters["shop"]
    with world.session() as s:
        reconcile.ensure_listings(s, world.channels[0], [world.sku_ids[0]], wanted="delisted")
    world.sync("shop")
    adapter.items["S00000"]["qty"] = 0  # as Amazon shows a delisted offer
    with world.session() as s:
        report = reconcile.check_drift(s, world.channels[0], adapter)
    assert report.drifted == [] and report.checked == 2


def test_adopts_channel_listings_of_known_skus(db_url: str) -> None:
    world = World(db_url, [channel()], n=2)
    with world.session() as s:
        s.execute(ChannelListing.__table__.delete())
    adapter = world.adapters["shop"]
    adapter.items["S00001"] = {"price": Decimal("100.00"), "qty": 3, "active": True}
    with world.session() as s:
        report = reconcile.check_drift(s, world.channels[0], adapter)
    assert report.adopted == ["S00001"]
    world.sync("shop")
    # the channel's content is unknown, so the adopted listing gets our content once (with price and quantity)
    assert adapter.calls == [(Operation.PUBLISH, ["S00001"])]
    assert adapter.items["S00001"]["qty"] == 10
    assert world.listing("shop", "S00001").ref["external_id"] == "X-S00001"


class CappedAdapter(FakeAdapter):
    """A marketplace with a per-listing daily revision cap, counting what the syncer seeds."""

    limits = Limits(publish=10, price=50, stock=50, delist=50, orders_page=2, rate=1000, burst=1000, daily_revisions=4)

    def __init__(self, channel) -> None:
        super().__init__(channel)
        self.used: dict[str, int] = {}

    def seed_revisions(self, used) -> None:
        self.used = dict(used)

    def revision_budget(self, sku: str) -> int | None:
        return 4 - self.used.get(sku, 0)


def test_revision_cap_defers_price_changes_but_keeps_room_for_zero_stock(db_url: str) -> None:
    world = World(db_url, [channel()], n=1)
    world.adapters["shop"] = CappedAdapter(world.channels[0])
    world.sync("shop")  # publish: 1 revision
    world.set_price("S00000", "110.00")
    world.sync("shop")  # price: 2 revisions used, 2 left = the reserve
    world.adapters["shop"] = CappedAdapter(world.channels[0])  # a new instance (next run, other worker)
    world.set_price("S00000", "120.00")
    report = world.sync("shop")
    assert report.ok == 0 and world.adapters["shop"].used == {"S00000": 2}  # counted from the database
    with world.session() as s:
        plan = reconcile.build_plan(s, world.channels[0], world.adapters["shop"])
    assert plan.deferred and "revisions left today" in plan.deferred[0][1]
    with world.session() as s:  # sold out: the quantity-to-zero still goes through
        s.execute(update(StockLevel).values(on_hand=0))
        reconcile.refresh(s, world.channels, world.sku_ids)
    world.sync("shop")
    assert world.adapters["shop"].calls == [(Operation.STOCK, ["S00000"])]
    assert world.adapters["shop"].items["S00000"]["qty"] == 0


def test_submitted_pushes_are_confirmed_by_read_back(db_url: str) -> None:
    world = World(db_url, [channel()], n=1)
    adapter = world.adapters["shop"]
    adapter.fail["S00000"] = ItemResult.success("S00000", state="submitted")  # accepted, not yet applied
    world.sync("shop")
    assert world.listing("shop", "S00000").status == "submitted"
    adapter.fail.clear()
    with world.session() as s:
        report = reconcile.check_drift(s, world.channels[0], adapter)
    assert report.confirmed == 1 and world.listing("shop", "S00000").status == "clean"


def test_stock_pushed_is_computed_after_the_channels_orders_are_pulled(db_url: str) -> None:
    world = World(db_url, [channel()], n=1)
    world.sync("shop")
    with world.session() as s:  # a stock count makes the listing dirty: 10 -> 12
        s.execute(update(StockLevel).values(on_hand=12))
        reconcile.refresh(s, world.channels, world.sku_ids)

    def pull_orders() -> None:  # the channel sold 3 meanwhile: the pull reserves them
        with world.session() as s:
            s.execute(update(StockLevel).values(reserved=3))
            reconcile.refresh(s, world.channels, world.sku_ids)
            record_pull(s, "shop")

    report = world.sync("shop", before_stock=pull_orders)
    assert world.adapters["shop"].items["S00000"]["qty"] == 9  # never the stale 12
    assert report.ok == 1 and world.listing("shop", "S00000").status == "clean"


def record_pull(session, channel_name: str, at: datetime | None = None) -> None:
    """What an order pull leaves behind: its finished run."""
    at = at or reconcile.now_utc()
    channel_id = session.scalar(select(Channel.id).where(Channel.name == channel_name))
    session.add(SyncRun(channel_id=channel_id, kind="orders", started_at=at, finished_at=at, status="ok"))


def test_a_push_plans_once_when_the_channels_last_pull_is_older_than_its_plan(db_url: str, monkeypatch) -> None:
    """A pull reused from before the plan (orders_pull_reuse_seconds) is in the plan already: no second plan."""
    world = World(db_url, [channel()], n=2)
    world.sync("shop")
    with world.session() as s:
        record_pull(s, "shop", reconcile.now_utc() - timedelta(seconds=30))
        s.execute(update(StockLevel).values(on_hand=12))
        reconcile.refresh(s, world.channels, world.sku_ids)
    plans = []
    build_plan = reconcile.build_plan
    monkeypatch.setattr(reconcile, "build_plan", lambda *a, **k: plans.append(1) or build_plan(*a, **k))
    report = world.sync("shop", before_stock=lambda: None)  # the reused pull: nothing pulled now
    assert len(plans) == 1
    assert report.ok == 2 and world.adapters["shop"].items["S00000"]["qty"] == 12


def test_a_pull_that_finished_while_the_plan_was_built_makes_it_plan_again(db_url: str, monkeypatch) -> None:
    world = World(db_url, [channel()], n=1)
    world.sync("shop")
    with world.session() as s:
        s.execute(update(StockLevel).values(on_hand=12))
        reconcile.refresh(s, world.channels, world.sku_ids)
    build_plan = reconcile.build_plan
    plans = []

    def planning(session, *args, **kwargs):  # another process's pull lands just after the first plan read
        plan = build_plan(session, *args, **kwargs)
        if not plans:
            with world.session() as s:
                s.execute(update(StockLevel).values(reserved=3))
                reconcile.refresh(s, world.channels, world.sku_ids)
                record_pull(s, "shop")
        plans.append(plan)
        return plan

    monkeypatch.setattr(reconcile, "build_plan", planning)
    world.sync("shop", before_stock=lambda: None)  # reused: this push itself pulls nothing
    assert len(plans) == 2 and world.adapters["shop"].items["S00000"]["qty"] == 9


@pytest.mark.parametrize(
    "failure",
    [
        NoProgress("searchOrders paginationToken: the page at 't1' points to 't1' again", channel="shop"),
        UnexpectedResponse("GET /orders answered HTTP 200 with a body that is not the JSON expected", channel="shop"),
        KeyError("orderId"),  # an adapter bug
    ],
)
def test_a_failed_order_pull_holds_the_stock_pushes_and_lets_prices_go_on(db_url: str, failure) -> None:
    world = World(db_url, [channel()], n=2)
    world.sync("shop")
    world.set_price("S00000", "120.00")
    with world.session() as s:  # a stock count makes S00001's quantity dirty
        s.execute(update(StockLevel).where(StockLevel.sku_id == world.sku_ids[1]).values(on_hand=7))
        reconcile.refresh(s, world.channels, world.sku_ids)
    adapter = world.adapters["shop"]
    adapter.calls.clear()

    def pull_orders() -> None:
        raise failure

    report = world.sync("shop", before_stock=pull_orders)
    assert adapter.calls == [(Operation.PRICE, ["S00000"])]  # no stock push without the orders
    assert report.held == 1 and report.aborted is None
    assert world.listing("shop", "S00001").status == "dirty"  # still wanted: pushed once a pull succeeds
    assert world.listing("shop", "S00000").status == "clean"
    (sku, message), *_ = report.errors
    assert sku == "(orders)" and message.startswith("order pull failed, 1 stock/publish/relist items held")
    with world.session() as s:
        run = s.scalars(select(SyncRun).where(SyncRun.kind == "sync").order_by(SyncRun.id.desc())).first()
    assert run.status == "partial" and "order pull failed" in run.message


def test_an_order_pull_refused_for_credentials_stops_the_channel(db_url: str) -> None:
    world = World(db_url, [channel()], n=1)
    world.sync("shop")
    with world.session() as s:
        s.execute(update(StockLevel).values(on_hand=7))
        reconcile.refresh(s, world.channels, world.sku_ids)
    world.adapters["shop"].calls.clear()

    def pull_orders() -> None:
        raise AuthError("token refused", channel="shop")

    report = world.sync("shop", before_stock=pull_orders)
    assert report.aborted == "order pull: [shop] token refused" and world.adapters["shop"].calls == []


def test_a_converted_price_beyond_the_bounds_waits_with_its_reason_instead_of_overflowing(db_url: str) -> None:
    """9,000,000,000 CNY is a valid base price, but 3,500 VND per CNY makes it 3.15e13 VND (beyond 10^12
    minor units, and beyond what SQLite keeps): that listing gets no price and says why; the others sync."""
    with db.unit_of_work(db_url) as s:
        fx.set_rate(s, "CNY", "VND", Decimal("3500"), date(2026, 1, 1))
    world = World(db_url, [channel("vn", "VND")], n=2)
    world.set_price("S00000", "9000000000.00")
    huge = world.listing("vn", "S00000")
    assert huge.desired_price is None and "VND price" in huge.last_error and "too large" in huge.last_error
    assert world.listing("vn", "S00001").desired_price == Decimal("350000")
    world.sync("vn")
    assert "S00001" in world.adapters["vn"].items and "S00000" not in world.adapters["vn"].items
