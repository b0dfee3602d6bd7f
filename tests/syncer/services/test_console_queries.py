"""The read-only queries the web console (and API) show: the listings grid, the dashboard, the SKU page."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from listing_sync.syncer import db
from listing_sync.syncer.models import Channel, ChannelListing, Sku, SyncRun
from listing_sync.syncer.services import catalog, dashboard, listings
from listing_sync.syncer.services.common import InvalidRequest, NotFound
from listing_sync.syncer.services.listings import ListingQuery, ListingState
from sqlalchemy import select, update


def _park(world, sku: str, channel: str, code: str, message: str) -> None:
    with db.unit_of_work(world.context.db_url) as s:
        sku_id = s.scalar(select(Sku.id).where(Sku.sku == sku))
        channel_id = s.scalar(select(Channel.id).where(Channel.name == channel))
        s.execute(
            update(ChannelListing)
            .where(ChannelListing.sku_id == sku_id, ChannelListing.channel_id == channel_id)
            .values(status="parked", last_error_code=code, last_error=message)
        )


def _keys(page: listings.ListingPage) -> list[tuple[str, str]]:
    return [(r.sku, r.channel) for r in page.rows]


def test_the_grid_filters_by_selector_state_and_reason(world) -> None:
    everything = listings.query_listings(world.context, ListingQuery())
    assert everything.total == 6 and {r.state for r in everything.rows} == {ListingState.LISTED}
    assert _keys(listings.query_listings(world.context, ListingQuery(tag="gift", channel="taobao"))) == [
        ("HONEY-1", "taobao"),
        ("TEA-1", "taobao"),
    ]
    assert listings.query_listings(world.context, ListingQuery(sku="TEA-*", category="tea")).total == 4
    assert listings.query_listings(world.context, ListingQuery(product="black")).total == 2
    _park(world, "TEA-2", "shopify", "IMAGE_MISSING", "shopify: the product needs an image")
    parked = listings.query_listings(world.context, ListingQuery(state=ListingState.PARKED))
    assert _keys(parked) == [("TEA-2", "shopify")]
    row = parked.rows[0]
    assert (row.error_code, row.error, row.currency) == ("IMAGE_MISSING", "shopify: the product needs an image", "CNY")
    assert parked.reasons == ["IMAGE_MISSING"]
    assert listings.query_listings(world.context, ListingQuery(reason="IMAGE_MISSING")).total == 1
    assert listings.query_listings(world.context, ListingQuery(state=ListingState.LISTED)).total == 5


def test_the_grid_sorts_and_pages(world) -> None:
    query = ListingQuery(sort="price", descending=True, per_page=2, page=2)
    page = listings.query_listings(world.context, query)
    assert (page.total, page.pages, page.page) == (6, 3, 2)
    prices = [
        Decimal(r.desired_price or "0") for r in listings.query_listings(world.context, ListingQuery(sort="price")).rows
    ]
    assert prices == sorted(prices) and prices[0] < prices[-1]
    assert [r.sku for r in page.rows] == ["TEA-1", "TEA-1"]  # 200 > 100 > 50: the second page is the 100s


def test_bad_grid_parameters_are_each_named(world) -> None:
    with pytest.raises(InvalidRequest) as refused:
        listings.query_listings(world.context, ListingQuery(sort="colour", page=0, per_page=10_000, channel="ebay"))
    message = str(refused.value)
    for part in ("sort 'colour'", "page 0", "per_page 10000", "channel 'ebay'"):
        assert part in message


def test_the_dashboard_counts_states_and_todays_calls(world) -> None:
    _park(world, "HONEY-1", "taobao", "CATEGORY", "taobao: category not mapped")
    with db.unit_of_work(world.context.db_url) as s:
        taobao = s.scalar(select(Channel.id).where(Channel.name == "taobao"))
        now = datetime.now(UTC)
        s.add(SyncRun(channel_id=taobao, kind="sync", status="ok", started_at=now, finished_at=now, api_calls=7))
        s.add(SyncRun(channel_id=taobao, kind="orders", status="ok", started_at=now, finished_at=now, api_calls=3))
    rows = {row.channel: row for row in dashboard.dashboard(world.context)}
    taobao_row = rows["taobao"]
    assert taobao_row.states == {"listed": 2, "pending": 0, "parked": 1, "delisted": 0}
    assert [(g.code, g.count) for g in taobao_row.parked_by_reason] == [("CATEGORY", 1)]
    assert (taobao_row.calls_today, taobao_row.last_sync_status) == (10, "ok")
    assert taobao_row.oversell_window_s is not None and taobao_row.oversell_window_s < 60
    assert taobao_row.calls_per_day_limit and taobao_row.calls_per_day_limit > 10
    assert rows["shopify"].calls_today == 0 and rows["shopify"].oversell_window_s is None


def test_the_sku_page_has_stock_ledger_listings_and_history(world) -> None:
    page = catalog.sku_overview(world.context, "TEA-1")
    assert page.details.stock == [{"warehouse": "SH", "on_hand": 10, "reserved": 0, "available": 10}]
    assert [(e.warehouse, e.on_hand_delta) for e in page.ledger] == [("SH", 10)]
    assert [(r.channel, r.currency) for r in page.listings] == [("shopify", "CNY"), ("taobao", "CNY")]
    assert all(r.desired_price and r.desired_price == r.pushed_price for r in page.listings)
    assert all(r.sku == "TEA-1" for r in page.listings)
    assert page.history and page.history[0].kind == "change"
    with pytest.raises(NotFound):
        catalog.sku_overview(world.context, "NOPE")
