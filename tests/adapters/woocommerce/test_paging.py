"""WooCommerce's numbered pages (X-WP-TotalPages) through the shared paginator."""

from __future__ import annotations

import httpx
import pytest
from listing_sync.adapters.base import TooManyPages

HOST = "shop.example.com"
V3 = "/wp-json/wc/v3"


def products(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params["page"])
    row = {"id": page, "sku": f"P{page}", "type": "simple", "status": "publish", "price": "1.00"}
    return httpx.Response(200, json=[row], headers={"X-WP-TotalPages": "1000", "X-WP-Total": "1000"})


def test_product_pages_stop_at_the_channels_max_pages(respx_mock, make_adapter):
    route = respx_mock.get(f"https://{HOST}{V3}/products").mock(side_effect=products)
    adapter = make_adapter()
    adapter.channel = adapter.channel.model_copy(update={"max_pages": 3})
    with pytest.raises(TooManyPages, match="GET /products page: stopped after 3 pages"):
        list(adapter.listings())
    assert [c.request.url.params["page"] for c in route.calls] == ["1", "2", "3"]


def test_an_empty_page_ends_the_list_even_if_total_pages_says_more(respx_mock, make_adapter):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "2":
            return httpx.Response(200, json=[], headers={"X-WP-TotalPages": "5"})
        return products(request)

    route = respx_mock.get(f"https://{HOST}{V3}/products").mock(side_effect=answer)
    assert [r.sku for r in make_adapter().listings()] == ["P1"]
    assert route.call_count == 2
