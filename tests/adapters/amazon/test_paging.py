"""Amazon's paging loops through the shared paginator: searchListingsItems and searchOrders tokens."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx
from listing_sync.adapters.base import NoProgress, OrderCursor, TooManyPages

from tests.adapters.amazon.conftest import SELLER, build

NA = "https://sellingpartnerapi-na.amazon.com"
ITEMS = f"{NA}/listings/2021-08-01/items/{SELLER}"
ORDERS = f"{NA}/orders/2026-01-01/orders"


def item(sku: str) -> dict:
    return {"sku": sku, "summaries": [{"marketplaceId": "ATVPDKIKX0DER", "createdDate": "2026-01-01T00:00:00Z"}]}


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        router.post("https://api.amazon.com/auth/o2/token").respond(
            200, json={"access_token": "Atza|token", "expires_in": 3600, "token_type": "bearer"}
        )
        yield router


def test_a_listings_page_token_that_comes_back_stops_after_one_repeat(api, clock):
    route = api.get(ITEMS).mock(
        side_effect=[
            httpx.Response(200, json={"numberOfResults": 9, "items": [item("A")], "pagination": {"nextToken": "t2"}}),
            httpx.Response(200, json={"numberOfResults": 9, "items": [item("B")], "pagination": {"nextToken": "t2"}}),
        ]
    )
    got = []
    with pytest.raises(NoProgress) as caught:
        got.extend(build(clock).listings())
    assert [r.sku for r in got] == ["A", "B"] and route.call_count == 2
    assert caught.value.channel == "amazon-test" and caught.value.position == "t2"
    assert "searchListingsItems pageToken" in str(caught.value) and "'t2'" in str(caught.value)


def test_listings_stop_at_the_channels_max_pages(api, clock):
    def page(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("pageToken", "0"))
        body = {"numberOfResults": 999, "items": [item(f"S{n}")], "pagination": {"nextToken": str(n + 1)}}
        return httpx.Response(200, json=body)

    route = api.get(ITEMS).mock(side_effect=page)
    adapter = build(clock)
    adapter.channel = adapter.channel.model_copy(update={"max_pages": 3})
    with pytest.raises(TooManyPages, match="stopped after 3 pages"):
        list(adapter.listings())
    assert route.call_count == 3


def test_an_empty_orders_page_with_a_next_token_stops_the_pull(api, clock):
    api.get(ORDERS).respond(200, json={"orders": [], "pagination": {"nextToken": "t9"}})
    since = clock.utc() - timedelta(hours=1)
    with pytest.raises(NoProgress, match="searchOrders paginationToken: the page at 't8' is empty but says more"):
        build(clock).orders_since(OrderCursor(since, since + timedelta(minutes=30), "t8"))
