"""AliExpress's current_page loops through the shared paginator."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from listing_sync.adapters.base import TooManyPages

SYNC = "https://api-sg.aliexpress.com/sync"


def test_product_list_pages_stop_at_the_channels_max_pages(make_adapter):
    asked: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        method = request.url.params["method"]
        form = dict(parse_qsl(request.content.decode()))
        if method == "aliexpress.solution.product.list.get":
            page = json.loads(form["aeop_a_e_product_list_query"])["current_page"]
            asked.append(page)
            rows = [{"product_id": 9000 + page}]
            result = {"total_page": 500, "aeop_a_e_product_display_d_t_o_list": {"item_display_dto": rows}}
        else:
            result = {"currency_code": "USD", "aeop_ae_product_s_k_us": {"global_aeop_ae_product_sku": []}}
        return httpx.Response(200, json={method.replace(".", "_") + "_response": {"result": result}})

    adapter = make_adapter(options={"listing_statuses": ["onSelling"]})
    adapter.channel = adapter.channel.model_copy(update={"max_pages": 2})
    with respx.mock:
        respx.post(url__startswith=SYNC).mock(side_effect=answer)
        with pytest.raises(TooManyPages, match="product.list.get onSelling current_page: stopped after 2 pages"):
            list(adapter.listings())
    assert asked == [1, 2]


def test_product_list_pages_end_at_total_page(make_adapter):
    asked: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        method = request.url.params["method"]
        form = dict(parse_qsl(request.content.decode()))
        if method == "aliexpress.solution.product.list.get":
            page = json.loads(form["aeop_a_e_product_list_query"])["current_page"]
            asked.append(page)
            rows = [{"product_id": 9000 + page}]
            result = {"total_page": 3, "aeop_a_e_product_display_d_t_o_list": {"item_display_dto": rows}}
        else:
            result = {"currency_code": "USD", "aeop_ae_product_s_k_us": {"global_aeop_ae_product_sku": []}}
        return httpx.Response(200, json={method.replace(".", "_") + "_response": {"result": result}})

    with respx.mock:
        respx.post(url__startswith=SYNC).mock(side_effect=answer)
        list(make_adapter(options={"listing_statuses": ["onSelling"]}).listings())
    assert asked == [1, 2, 3]
