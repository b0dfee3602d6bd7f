"""What a push leaves the syncer believing about the marketplace: after a call fails, the values it sent
are unknown (the marketplace may have applied them); after a push lands behind a newer one of the same
listing, the listing is dirty until the desired values are back. Overselling hides in both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fakes import FakeAdapter
from listing_sync.adapters.base import ItemResult, Operation
from listing_sync.syncer import reconcile
from listing_sync.syncer.models import ChannelListing, Sku, StockLevel
from sqlalchemy import update
from test_reconcile import World, channel


class AppliedThenFailed(FakeAdapter):
    """Applies every change it is sent, then answers that the item failed (a 5xx after the write, an item
    error after the change, a timeout on the answer): the client cannot tell it from a change not made."""

    failing: set[Operation]

    def _result(self, sku: str, **kwargs):
        op = self.calls[-1][0]
        if op in self.failing:
            return ItemResult.failure(sku, "F_SYSTEM_BUSY", "system busy, please try again", retryable=True)
        return super()._result(sku, **kwargs)


def due_now(world: World) -> None:
    """Let the backoff of failed listings pass (as the next scheduled sync would)."""
    with world.session() as s:
        s.execute(update(ChannelListing).values(next_try_at=datetime.now(UTC) - timedelta(seconds=1)))


def want(world: World, wanted: str) -> None:
    """S00000 wanted on sale ("active") or off it ("delisted") on the channel."""
    with world.session() as s:
        reconcile.ensure_listings(s, world.channels[0], [world.sku_ids[0]], wanted=wanted)


def change(world: World, *, on_hand: int | None = None, price: str | None = None) -> None:
    with world.session() as s:
        if on_hand is not None:
            s.execute(update(StockLevel).values(on_hand=on_hand))
        if price is not None:
            s.execute(update(Sku).values(base_price=Decimal(price)))
        reconcile.refresh(s, world.channels, None)


def failing_world(db_url: str, failing: Operation) -> tuple[World, AppliedThenFailed]:
    world = World(db_url, [channel()], n=1)
    world.sync("shop")  # published: price 100.00, quantity 10
    adapter = AppliedThenFailed(world.channels[0])
    adapter.items = world.adapters["shop"].items
    adapter.failing = {failing}
    world.adapters["shop"] = adapter
    return world, adapter


def test_a_quantity_push_that_failed_after_the_change_is_sent_again_when_the_rule_comes_back(db_url: str) -> None:
    world, adapter = failing_world(db_url, Operation.STOCK)
    change(world, on_hand=3)
    world.sync("shop")
    assert adapter.items["S00000"]["qty"] == 3  # applied, though the answer said it failed
    listing = world.listing("shop", "S00000")
    assert (listing.status, listing.pushed_quantity) == ("retry", None)  # unknown, not "still 10"

    change(world, on_hand=10)  # the rule's quantity is back at the one pushed before the failure
    adapter.failing = set()
    due_now(world)
    world.sync("shop")
    assert adapter.calls[-1] == (Operation.STOCK, ["S00000"])  # not marked clean without a call
    assert adapter.items["S00000"]["qty"] == 10
    listing = world.listing("shop", "S00000")
    assert (listing.status, listing.pushed_quantity) == ("clean", 10)


def test_a_price_push_that_failed_after_the_change_is_sent_again_when_the_rule_comes_back(db_url: str) -> None:
    world, adapter = failing_world(db_url, Operation.PRICE)
    change(world, price="120.00")
    world.sync("shop")
    assert adapter.items["S00000"]["price"] == Decimal("120.00")
    assert world.listing("shop", "S00000").pushed_price is None

    change(world, price="100.00")
    adapter.failing = set()
    due_now(world)
    world.sync("shop")
    assert adapter.calls[-1] == (Operation.PRICE, ["S00000"])
    assert adapter.items["S00000"]["price"] == Decimal("100.00")
    assert world.listing("shop", "S00000").status == "clean"


def test_a_delist_that_failed_after_the_change_is_undone_by_a_relist_when_wanted_again(db_url: str) -> None:
    world, adapter = failing_world(db_url, Operation.DELIST)
    want(world, "delisted")
    world.sync("shop")
    assert adapter.items["S00000"]["active"] is False
    assert world.listing("shop", "S00000").pushed_state is None  # delisted or not: unknown

    want(world, "active")
    adapter.failing = set()
    due_now(world)
    world.sync("shop")
    assert adapter.calls[-1] == (Operation.RELIST, ["S00000"])
    assert adapter.items["S00000"]["active"] is True
    listing = world.listing("shop", "S00000")
    assert (listing.status, listing.pushed_state) == ("clean", "active")


def test_a_relist_that_failed_after_the_change_is_delisted_again_when_wanted_off(db_url: str) -> None:
    world, adapter = failing_world(db_url, Operation.RELIST)
    adapter.failing = set()
    want(world, "delisted")
    world.sync("shop")
    adapter.failing = {Operation.RELIST}
    want(world, "active")
    world.sync("shop")
    assert adapter.items["S00000"]["active"] is True  # on sale, though the answer said the relist failed

    want(world, "delisted")  # taken off sale again before the retry: it must be delisted, not "still off"
    adapter.failing = set()
    due_now(world)
    world.sync("shop")
    assert adapter.calls[-1] == (Operation.DELIST, ["S00000"])
    assert adapter.items["S00000"]["active"] is False


@pytest.mark.parametrize("older_fails", [False, True])
def test_a_quantity_push_landing_after_a_newer_one_leaves_the_listing_dirty(db_url: str, older_fails: bool) -> None:
    """The stock lane sends a newer quantity while the backlog's batch with the older one is in flight;
    the older one lands last. The listing must not stay clean on the older quantity."""
    world = World(db_url, [channel()], n=1)
    world.sync("shop")
    adapter = world.adapters["shop"]
    change(world, on_hand=8)
    config = world.channels[0]
    with world.session() as s:
        older = reconcile.build_plan(s, config, adapter)  # the backlog's plan: quantity 8
    [(op, items)] = older.batches
    assert op is Operation.STOCK
    change(world, on_hand=5)  # an order: the lane pushes 5 first and cleans the listing
    world.sync("shop")
    assert (adapter.items["S00000"]["qty"], world.listing("shop", "S00000").status) == (5, "clean")

    results = adapter.push_stock([item.payload for item in items])  # the older batch lands: 8 on the marketplace
    if older_fails:
        results = [ItemResult.failure(item.sku, "timeout", "no answer", retryable=True) for item in items]
    with world.session() as s:
        reconcile.write_results(s, None, op, items, results)
    listing = world.listing("shop", "S00000")
    assert listing.status == "dirty" and listing.pushed_quantity == (None if older_fails else 8)

    world.sync("shop")
    assert adapter.items["S00000"]["qty"] == 5
    assert world.listing("shop", "S00000").status == "clean"
