"""eBay's paging loops through the shared paginator: getInventoryItems ``next`` and getOrders offsets."""

from __future__ import annotations

import httpx
import pytest
import respx
from listing_sync.adapters.base import NoProgress, TooManyPages

from tests.adapters.ebay.conftest import INV


def test_a_next_link_back_to_a_read_page_stops_with_the_link_named(adapter, api: respx.MockRouter):
    first = {"inventoryItems": [{"sku": "A1"}], "next": f"{INV}/inventory_item?limit=100&offset=1", "total": 3}
    again = {"inventoryItems": [{"sku": "B2"}], "next": f"{INV}/inventory_item?limit=100&offset=1", "total": 3}
    api.get(f"{INV}/inventory_item", params={"offset": "0"}).respond(200, json=first)
    second = api.get(f"{INV}/inventory_item", params={"offset": "1"}).respond(200, json=again)
    api.get(f"{INV}/offer").respond(200, json={"offers": [], "total": 0})
    got = []
    with pytest.raises(NoProgress) as caught:
        got.extend(adapter.listings())
    assert [r.sku for r in got] == ["A1", "B2"] and second.call_count == 1
    assert "getInventoryItems next" in str(caught.value) and "offset=1" in str(caught.value)
    assert caught.value.channel == adapter.name


def test_listings_stop_at_the_channels_max_pages(adapter, api: respx.MockRouter):
    def page(request):
        offset = int(request.url.params["offset"])
        nxt = f"{INV}/inventory_item?limit=100&offset={offset + 1}"
        return httpx.Response(200, json={"inventoryItems": [{"sku": f"S{offset}"}], "next": nxt, "total": 10**6})

    route = api.get(f"{INV}/inventory_item").mock(side_effect=page)
    api.get(f"{INV}/offer").respond(200, json={"offers": [], "total": 0})
    adapter.channel = adapter.channel.model_copy(update={"max_pages": 4})
    with pytest.raises(TooManyPages, match="getInventoryItems next: stopped after 4 pages"):
        list(adapter.listings())
    assert route.call_count == 4
