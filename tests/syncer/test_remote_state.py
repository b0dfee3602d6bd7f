"""The marketplace's quantity modelled: a sale there takes its units off the listing's last known quantity,
so a rule that keeps the desired quantity the same still gets the channel back to it; delisted listings
settle; listings waiting for a retry show their last error and next attempt in status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from listing_sync.syncer.changes import Selection
from listing_sync.syncer.context import Context
from listing_sync.syncer.models import ChannelListing, Sku
from listing_sync.syncer.services import changes, orders, sync
from listing_sync.syncer.services.sync import SyncMode
from scenario import CHANNEL_TEMPLATES, build
from sqlalchemy import select, update


def _quantity(context: Context, channel: str) -> int | None:
    with context.adapter(context.channel(channel)) as adapter:
        return next(r.quantity for r in adapter.listings() if r.sku == "TEA-LJ-250")


def _listing(context: Context, channel: str) -> ChannelListing:
    with context.session() as s:
        return s.scalars(
            select(ChannelListing).join(Sku, Sku.id == ChannelListing.sku_id).where(Sku.sku == "TEA-LJ-250")
        ).all()[[c.name for c in context.channels].index(channel)]


def test_a_sale_under_a_capped_rule_is_pushed_back_to_the_rule(tmp_path: Path) -> None:
    world = build(tmp_path, ["woocommerce", "shopify"], units=10)
    channels = world.context.settings.resolved_channels_file
    capped = CHANNEL_TEMPLATES["woocommerce"] + "[channels.stock]\nmax_quantity = 3\n" + CHANNEL_TEMPLATES["shopify"]
    channels.write_text(capped, encoding="utf-8")
    context = Context(settings=world.context.settings)  # the channels file again
    sync.refresh_skus(context, None)
    sync.run_sync(context, None, user="t")
    assert _quantity(context, "woocommerce") == 3
    with context.session() as s:  # our last quantity push was 10 minutes ago; the sale is 4 minutes old
        # (past lags); a price push since does not matter: it left the marketplace's quantity alone
        s.execute(
            update(ChannelListing).values(
                quantity_pushed_at=datetime.now(UTC) - timedelta(minutes=10), last_pushed_at=datetime.now(UTC)
            )
        )
    world.sell("woocommerce")  # a buyer takes 1 or 2 there
    sold = 3 - (_quantity(context, "woocommerce") or 0)
    assert sold in (1, 2)
    orders.pull_channel_orders(context, context.channel("woocommerce"), user="t")  # the order pull job
    listing = _listing(context, "woocommerce")
    assert (listing.desired_quantity, listing.pushed_quantity, listing.status) == (3, 3 - sold, "dirty")
    world_pull = sync.run_sync(context, ["woocommerce"], user="t")
    listing = _listing(context, "woocommerce")
    assert listing.desired_quantity == 3 and listing.pushed_quantity == 3 and listing.status == "clean"
    assert _quantity(context, "woocommerce") == 3  # back to the rule, not left 1-2 below it
    assert world_pull[0].ok == 1


def test_a_sale_placed_before_the_last_push_is_not_taken_off_again(tmp_path: Path) -> None:
    """Our absolute push after the sale overwrote the marketplace's own decrement: nothing to take off."""
    world = build(tmp_path, ["woocommerce"], units=10)
    world.sell("woocommerce")  # placed 4 minutes ago: before the publish push of build()
    world.pull_and_propagate("woocommerce")
    listing = _listing(world.context, "woocommerce")
    assert listing.pushed_quantity == 10 and listing.desired_quantity < 10  # the reservation, not the model


def test_a_sale_too_close_to_our_last_quantity_push_makes_the_quantity_unknown_and_pushes_it(tmp_path: Path) -> None:
    world = build(tmp_path, ["woocommerce"], units=10)
    with world.context.session() as s:  # our quantity push and the sale (4 minutes ago) within a second
        s.execute(update(ChannelListing).values(quantity_pushed_at=datetime.now(UTC) - timedelta(minutes=4)))
    world.sell("woocommerce")
    orders.pull_channel_orders(world.context, world.context.channel("woocommerce"), user="t")
    listing = _listing(world.context, "woocommerce")
    assert listing.pushed_quantity is None and listing.status == "dirty"
    [report] = sync.run_sync(world.context, ["woocommerce"], user="t")
    listing = _listing(world.context, "woocommerce")
    assert report.ok == 1 and listing.status == "clean" and listing.pushed_quantity == listing.desired_quantity
    assert _quantity(world.context, "woocommerce") == listing.desired_quantity


def test_a_delisted_listing_settles_after_a_price_change(tmp_path: Path) -> None:
    world = build(tmp_path, ["woocommerce"], units=4)
    take_down = changes.ListingsChange(changes.ListingAction.DELIST, Selection(patterns=["*"]))
    changes.apply_change(world.context, changes.preview_change(world.context, take_down), sync=SyncMode.NONE)
    sync.run_sync(world.context, None, user="t")
    rise = changes.PriceAdjust(Selection(patterns=["*"]), percent=Decimal("5"))
    changes.apply_change(world.context, changes.preview_change(world.context, rise), sync=SyncMode.NONE)
    [report] = sync.run_sync(world.context, None, user="t")
    assert report.api_calls == 0 and report.ok == 1
    [row] = sync.status(world.context)
    assert (row.clean, row.dirty) == (1, 0)  # settled: not dirty for ever
    [again] = sync.run_sync(world.context, None, user="t")
    assert (again.ok, again.api_calls) == (0, 0)


def test_status_shows_retries_with_their_last_error_and_next_attempt(tmp_path: Path) -> None:
    world = build(tmp_path, ["woocommerce"], units=4)
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with world.context.session() as s:
        s.execute(
            update(ChannelListing).values(
                status="retry", attempts=2, last_error_code="throttled", last_error="429 Too Many", next_try_at=at
            )
        )
    [row] = sync.status(world.context)
    assert row.retrying == 1 and row.dirty == 1
    [wait] = row.retry_waits
    assert (wait.sku, wait.code, wait.message, wait.attempts) == ("TEA-LJ-250", "throttled", "429 Too Many", 2)
    assert wait.next_try_at == "2030-01-02T03:04:05+00:00"
    assert at - timedelta(days=1) < datetime.fromisoformat(wait.next_try_at)
