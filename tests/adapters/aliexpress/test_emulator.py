"""The adapter against its emulator: every operation, orders to the last page, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from listing_sync.adapters.aliexpress.emulator import AliExpressEmulator
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    Money,
    Operation,
    OrderCursor,
    OrderStatus,
    PriceUpdate,
    RequestRejected,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.emulator import Faults

CREDS = {"app_key": "500123", "app_secret": "s3cr3t-app-secret", "access_token": "50000600a12b34c56d78e90f"}


class World:
    """A shared fake time: the adapter's limiter/sleeps and the emulator's rate bucket and clock."""

    def __init__(self, clock, make_adapter, faults: Faults | None = None, creds: dict | None = None, **options):
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
        self.clock = clock
        self.emulator = AliExpressEmulator(
            credentials={**CREDS, "refresh_token": "rt-1"}, faults=faults, clock=clock, now=lambda: self.now, seed=3
        )
        self.adapter = make_adapter(
            credentials=creds or CREDS,
            options=options,
            transport=self.emulator.transport(),
            now=lambda: self.now.timestamp(),
            clock=clock,
            sleep=self.sleep,
        )

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)
        self.now += timedelta(seconds=seconds)

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)
        self.clock.now += timedelta(**delta).total_seconds()


def tee(sku: str = "TEE") -> ListingDraft:
    return ListingDraft(
        sku=sku,
        title="Cotton tee 纯棉T恤",
        description="<p>Soft</p>",
        category_id="200000346",
        price=Money.of("12.50", "USD"),
        quantity=0,
        variations=(
            Variation(f"{sku}-S", Money.of("12.50", "USD"), 5, {"Size": "S"}),
            Variation(f"{sku}-M", Money.of("13.00", "USD"), 3, {"Size": "M"}),
        ),
    )


def plain(sku: str, qty: int = 4) -> ListingDraft:
    return ListingDraft(sku, f"Item {sku}", "d", "5", Money.of("2.50", "USD"), qty)


@pytest.fixture
def world(clock, make_adapter) -> World:
    return World(clock, make_adapter)


def test_full_cycle(world):
    em, ad = world.emulator, world.adapter
    [tee_result] = ad.publish([tee()])
    assert tee_result.ok and tee_result.state == "applied"
    pid = tee_result.ref.get("product_id")
    assert set(em.state["products"][pid]["skus"]) == {"TEE-S", "TEE-M"}
    assert em.state["products"][pid]["subject"] == "Cotton tee 纯棉T恤"

    ref_s = tee_result.ref.__class__("TEE-S", pid, {"product_id": pid})
    ref_m = tee_result.ref.__class__("TEE-M", pid, {"product_id": pid})
    prices = ad.push_prices(
        [PriceUpdate("TEE-S", Money.of("9.99", "USD"), ref=ref_s, list_price=Money.of("14.99", "USD"))]
    )
    assert prices[0].ok
    assert em.state["products"][pid]["skus"]["TEE-S"] == {"price": "14.99", "discount_price": "9.99", "inventory": 5}
    assert all(r.ok for r in ad.push_stock([StockUpdate("TEE-S", 7, ref=ref_s), StockUpdate("TEE-M", 0, ref=ref_m)]))
    assert em.state["products"][pid]["skus"]["TEE-M"]["inventory"] == 0

    listed = {r.sku: r for r in ad.listings()}
    assert listed["TEE-S"].price == Money.of("9.99", "USD") and listed["TEE-S"].quantity == 7
    assert listed["TEE-S"].status == "active"

    em.edit_sku("TEE-S", inventory=2)  # back-office drift shows up on read-back
    assert {r.sku: r.quantity for r in ad.listings()}["TEE-S"] == 2

    assert all(r.ok for r in ad.delist([DelistRequest("TEE-S", ref_s)]))
    assert em.state["products"][pid]["status"] == "offline"
    assert {r.status for r in ad.listings()} == {"inactive"}
    assert all(r.ok for r in ad.relist([DelistRequest("TEE-S", ref_s)]))
    assert em.state["products"][pid]["status"] == "onSelling"

    # edit the same listing in place (single edit)
    [edited] = ad.publish([ListingDraft(**{**_fields(tee()), "title": "New title", "ref": tee_result.ref})])
    assert edited.ok and edited.ref.get("product_id") == pid
    assert em.state["products"][pid]["subject"] == "New title"


def _fields(draft: ListingDraft) -> dict:
    return {name: getattr(draft, name) for name in draft.__dataclass_fields__}


def test_bulk_publish_via_feed_and_price_update_by_ref(clock, make_adapter):
    world = World(clock, make_adapter, feed_threshold=2)
    results = world.adapter.publish([plain("A"), plain("B"), tee("C")])
    assert all(r.ok and r.state == "applied" for r in results)
    assert world.emulator.state["feed_count"] == {"PRODUCT_CREATE": 1}
    pids = [r.ref.get("product_id") for r in results]
    assert len(set(pids)) == 3
    updates = [PriceUpdate(s, Money.of("3.10", "USD"), ref=r.ref) for s, r in zip("AB", results[:2], strict=True)]
    assert all(r.ok for r in world.adapter.push_prices(updates))
    # republishing two of them is a PRODUCT_FULL_UPDATE feed
    again = world.adapter.publish(
        [ListingDraft(**{**_fields(plain(s)), "ref": r.ref}) for s, r in zip("AB", results[:2], strict=True)]
    )
    assert all(r.ok for r in again) and world.emulator.state["feed_count"]["PRODUCT_FULL_UPDATE"] == 1


def test_feed_still_running_is_submitted_then_resolved(clock, make_adapter):
    world = World(clock, make_adapter, feed_threshold=2)
    world.emulator.feed_delay = 60
    a, b = world.adapter.publish([plain("A"), plain("B")])
    assert a.state == "submitted" and a.ref.get("feed_job_id") and a.ref.get("product_id") is None
    [pending] = world.adapter.push_stock([StockUpdate("A", 1, ref=a.ref)])
    assert not pending.ok and pending.code == "feed_pending" and pending.retryable
    # re-publishing a still-pending draft must not create it twice
    assert world.adapter.publish([ListingDraft(**{**_fields(plain("A")), "ref": a.ref})])[0].state == "submitted"
    world.advance(seconds=61)
    [done] = world.adapter.push_stock([StockUpdate("A", 1, ref=a.ref)])
    assert done.ok and done.ref.get("product_id")
    assert len(world.emulator.state["products"]) == 2


def test_orders_to_the_last_page_including_finish(clock, make_adapter):
    world = World(clock, make_adapter)
    em, ad = world.emulator, world.adapter
    refs = [r.ref for r in ad.publish([plain(f"P{i}", qty=50) for i in range(3)])]
    assert all(refs)
    since = world.now - timedelta(minutes=10)
    world.advance(minutes=1)
    ids = em.generate_orders(60)  # more than one page of 50
    assert len(ids) == 60
    world.advance(minutes=1)
    em.cancel_order(ids[0])
    world.advance(minutes=2)

    cursor, orders, calls = OrderCursor(since), {}, 0
    while True:
        page = ad.orders_since(cursor)
        orders.update({o.external_id: o for o in page.orders})
        cursor, calls = page.next, calls + 1
        if page.done:
            break
    assert set(orders) == set(ids)
    assert calls == 3  # open: 2 pages (59 orders), finish: 1 page
    assert orders[ids[0]].status is OrderStatus.CANCELLED and orders[ids[0]].raw_status == "FINISH"
    assert {o.status for k, o in orders.items() if k != ids[0]} == {OrderStatus.PAID}
    sold = sum(line.quantity for o in orders.values() for line in o.lines)
    left = sum(s["inventory"] for p in em.state["products"].values() for s in p["skus"].values())
    assert sold + left == 150
    some = orders[ids[1]]
    assert some.placed_at == world.now - timedelta(minutes=3)  # generated 3 minutes ago (Pacific round trip)
    assert some.total.amount == sum(line.unit_price.amount * line.quantity for line in some.lines)


def test_token_refresh_against_emulator(clock, make_adapter):
    creds = {"app_key": CREDS["app_key"], "app_secret": CREDS["app_secret"], "refresh_token": "rt-1"}
    world = World(clock, make_adapter, creds=creds)
    [r] = world.adapter.publish([plain("A")])
    assert r.ok
    world.emulator.expire_token()
    assert world.adapter.push_stock([StockUpdate("A", 2, ref=r.ref)])[0].ok
    assert world.adapter.http.client.auth.refreshes == 2


def test_emulator_refuses_bad_signature_and_wrong_param_name(clock, make_adapter):
    world = World(clock, make_adapter, creds={**CREDS, "app_secret": "wrong"})
    with pytest.raises(RequestRejected, match="IncompleteSignature"):
        world.adapter.publish([plain("A")])
    good = World(clock, make_adapter)
    with pytest.raises(RequestRejected, match="mutiple_product_update_list"):
        good.adapter.call("aliexpress.solution.batch.product.inventory.update", multiple_product_update_list="[]")
    too_many = "[" + ",".join(f'{{"product_id":{i},"multiple_sku_update_list":[]}}' for i in range(21)) + "]"
    with pytest.raises(RequestRejected, match="must not exceed 20"):
        good.adapter.call("aliexpress.solution.batch.product.inventory.update", mutiple_product_update_list=too_many)


def test_faults_give_per_item_results_not_exceptions(clock, make_adapter):
    world = World(clock, make_adapter)
    refs = {r.sku: r.ref for r in world.adapter.publish([plain(f"F{i}") for i in range(12)])}
    world.emulator.faults = Faults(throttle=0.2, server_error=0.2, partial=0.3)
    updates = [StockUpdate(sku, 9, ref=ref) for sku, ref in refs.items()]
    results = [r for chunk in world.adapter.chunks(Operation.STOCK, updates) for r in world.adapter.push_stock(chunk)]
    assert [r.sku for r in results] == [u.sku for u in updates]
    failed = [r for r in results if not r.ok]
    assert failed and all(r.code == "F_SYSTEM_BUSY" and r.retryable for r in failed)
    assert any(r.ok for r in results)
    assert world.clock.sleeps  # throttles and 5xx were waited out, not surfaced


def test_one_refused_product_does_not_fail_the_others(world):
    broken = ListingDraft(
        "BAD", "t", "d", "5", Money.of("1", "USD"), 0,
        variations=(Variation("BAD-1", Money.of("1", "USD"), 1), Variation("BAD-2", Money.of("1", "USD"), 1)),
    )  # fmt: skip
    good, bad = world.adapter.publish([plain("OK"), broken])
    assert good.ok and not bad.ok
    assert bad.code == "isv.param-invalid" and "sku attributes" in bad.message and not bad.retryable


def test_order_country_from_the_receipt_address_when_asked(clock, make_adapter):
    """The order list has no ship-to country; option order_country reads it with one
    aliexpress.solution.order.receiptinfo.get per order (and keeps nothing else of the address)."""
    plain_world = World(clock, make_adapter)
    country_world = World(clock, make_adapter, order_country=True)
    for world in (plain_world, country_world):
        world.adapter.publish([plain("C1", qty=20)])
        world.advance(minutes=1)
        world.emulator.generate_orders(3)
        world.advance(minutes=2)
    since = plain_world.now - timedelta(minutes=10)
    without = plain_world.adapter.orders_since(OrderCursor(since)).orders
    assert without and all(o.ship_country is None for o in without)
    with_country = country_world.adapter.orders_since(OrderCursor(since)).orders
    from listing_sync.adapters.aliexpress.emulator import RECEIPT_COUNTRIES

    expected = {o.external_id: RECEIPT_COUNTRIES[int(o.external_id) % len(RECEIPT_COUNTRIES)] for o in with_country}
    assert {o.external_id: o.ship_country for o in with_country} == expected
    assert all(o.fees is not None and o.fees.amount > 0 for o in with_country)  # the escrow fee


def test_order_recipient_from_the_receipt_address_when_asked(clock, make_adapter):
    """Option order_recipient: the same receipt-address call gives each order its recipient for packing."""
    world = World(clock, make_adapter, order_recipient=True)
    world.adapter.publish([plain("R1", qty=20)])
    world.advance(minutes=1)
    world.emulator.generate_orders(2)
    world.advance(minutes=2)
    pulled = world.adapter.orders_since(OrderCursor(world.now - timedelta(minutes=10))).orders
    assert pulled and all(o.recipient is not None for o in pulled)
    recipient = pulled[0].recipient
    assert (recipient.name, recipient.phone, recipient.address1, recipient.city, recipient.postal_code) == (
        "Emulated Buyer",
        "5550100",
        "1 Emulated Street",
        "",
        "",
    )
    assert recipient.country == pulled[0].ship_country and len(recipient.country) == 2
    calls = [r for r in world.emulator.requests if b"receiptinfo" in r.url.query or b"receiptinfo" in r.content]
    assert len(calls) == len(pulled)
