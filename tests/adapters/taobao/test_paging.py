"""TOP's page_no loops through the shared paginator."""

from __future__ import annotations

import httpx
import pytest
import respx
from listing_sync.adapters.base import TooManyPages

from .conftest import GATEWAY, decode


def test_item_pages_stop_at_the_channels_max_pages(make_adapter):
    def page(request: httpx.Request) -> httpx.Response:
        query, form = decode(request)
        n = int(form["page_no"])
        items = [{"num_iid": 1000 * n + i, "outer_id": f"S{n}-{i}", "num": 1, "price": "1.00"} for i in range(100)]
        key = query["method"].removeprefix("taobao.").replace(".", "_") + "_response"
        return httpx.Response(200, json={key: {"items": {"item": items}, "total_results": 10**6}})

    adapter = make_adapter()
    adapter.channel = adapter.channel.model_copy(update={"max_pages": 3})
    with respx.mock:
        route = respx.post(GATEWAY).mock(side_effect=page)
        with pytest.raises(TooManyPages, match=r"taobao.items.onsale.get page_no: stopped after 3 pages"):
            list(adapter._all_items())
    assert [decode(c.request)[1]["page_no"] for c in route.calls] == ["1", "2", "3"]


def test_item_pages_end_at_total_results(make_adapter):
    def page(request: httpx.Request) -> httpx.Response:
        query, form = decode(request)
        key = query["method"].removeprefix("taobao.").replace(".", "_") + "_response"
        if query["method"] != "taobao.items.onsale.get":
            return httpx.Response(200, json={key: {"total_results": 0}})
        n = int(form["page_no"])
        items = [{"num_iid": 1000 * n + i} for i in range(100 if n == 1 else 20)]
        return httpx.Response(200, json={key: {"items": {"item": items}, "total_results": 120}})

    with respx.mock:
        route = respx.post(GATEWAY).mock(side_effect=page)
        got = list(make_adapter()._all_items())
    assert len(got) == 120 and route.call_count == 2 + 3  # two onsale pages, one per inventory banner
