"""A client following the official IOP SDK's algorithm against the emulator served over loopback.

The IOP SDK (iop-sdk-python-20220609, ``iop/base.py``: ``IopClient.execute`` and ``sign``) is not on PyPI, so
this is an independent client written from it, checked first against the published vectors (developer
.alibaba.com articleId 120692 and 120693): every system parameter (``app_key``, ``sign_method=sha256``,
``timestamp`` = seconds + ``"000"``, ``partner_id``, ``method``, ``simplify``, ``format``, ``session``) and every
business parameter go in ONE form body with ``sign``; the string signed is ``[api path]k1v1k2v2...`` over the
sorted names, the API path only for path-style APIs (``/auth/token/create``); HMAC-SHA256, upper-case hex.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from listing_sync.adapters.aliexpress.auth import IopAuth
from listing_sync.adapters.aliexpress.emulator import AliExpressEmulator

from tests.adapters.serving import serving

from .conftest import APP_KEY, APP_SECRET, REFRESH, TOKEN

PACIFIC = ZoneInfo("America/Los_Angeles")


def iop_sign(secret: str, api: str, params: dict[str, str]) -> str:
    text = "".join(f"{k}{params[k]}" for k in sorted(params))
    if "/" in api:
        text = api + text
    return hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


class IopReferenceClient:
    """What the official SDK sends, over httpx: one form body holding system, business and ``sign``."""

    def __init__(self, server_url: str, app_key: str, app_secret: str) -> None:
        self.server_url, self.app_key, self.app_secret = server_url, app_key, app_secret
        self.http = httpx.Client(timeout=10)

    def execute(self, api: str, params: dict[str, str] | None = None, access_token: str | None = None) -> dict:
        system = {
            "app_key": self.app_key,
            "sign_method": "sha256",
            "timestamp": str(int(round(time.time()))) + "000",
            "partner_id": "iop-sdk-python-20220609",
            "method": api,
            "simplify": "false",
            "format": "json",
        }
        if access_token:
            system["session"] = access_token
        signed = {**system, **(params or {})}
        signed["sign"] = iop_sign(self.app_secret, api, signed)
        return self.http.post(self.server_url, data=signed).json()


def test_reference_signer_reproduces_the_published_vectors():
    # articleId 120692 (signature algorithm) and 120693 (the worked request, hex 4190D323...AB4A)
    example = {"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4"}
    assert iop_sign("helloworld", "/test/api", example) == (
        hmac.new(b"helloworld", b"/test/apibar2foo1foo_bar3foobar4", hashlib.sha256).hexdigest().upper()
    )
    request = {"app_key": "123456", "access_token": "test", "timestamp": "1517820392000", "sign_method": "sha256"}
    request["order_id"] = "1234"
    assert iop_sign("helloworld", "/order/get", request) == (
        "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    )


def test_adapter_signature_equals_the_reference_clients_for_the_same_inputs():
    stamp = 1772452800000
    auth = IopAuth(
        app_key=APP_KEY, app_secret=APP_SECRET, access_token=TOKEN, base_url="https://x", now_ms=lambda: stamp
    )
    business = {
        "mutiple_product_update_list": '[{"product_id":1,"multiple_sku_update_list":[{"sku_code":"蓝:/ +&=%~"}]}]'
    }
    request = httpx.Request(
        "POST",
        "https://api-sg.aliexpress.com/sync?method=aliexpress.solution.batch.product.price.update",
        data=business,
    )
    auth.sign_request(request, TOKEN)
    sent = dict(request.url.params)
    theirs = {k: v for k, v in {**sent, **business}.items() if k != "sign"}
    assert sent["sign"] == iop_sign(APP_SECRET, sent["method"], theirs)


@pytest.fixture
def served() -> Iterator[tuple[AliExpressEmulator, str]]:
    creds = {"app_key": APP_KEY, "app_secret": APP_SECRET, "access_token": TOKEN, "refresh_token": REFRESH}
    emulator = AliExpressEmulator(credentials=creds, enforce_rate=False, seed=6)
    with serving(emulator) as base:
        yield emulator, base


def product(subject: str, *skus: tuple[str, str, int]) -> str:
    return json.dumps(
        {
            "aliexpress_category_id": 200000346,
            "language": "en",
            "multi_language_subject_list": [{"language": "en", "subject": subject}],
            "sku_info_list": [
                {
                    "sku_code": code,
                    "price": price,
                    "inventory": stock,
                    "sku_attributes_list": [{"sku_attribute_name_id": 14}],
                }
                for code, price, stock in skus
            ],
        },
        ensure_ascii=False,
    )


def test_token_create_and_refresh_through_rest(served):
    emulator, base = served
    client = IopReferenceClient(f"{base}/rest", APP_KEY, APP_SECRET)
    created = client.execute("/auth/token/create", {"code": "3_500123_abc"})
    assert created["code"] == "0" and created["access_token"] == emulator.state["access_token"]
    refreshed = client.execute("/auth/token/refresh", {"refresh_token": REFRESH})
    assert refreshed["access_token"] != created["access_token"]
    refused = client.execute("/auth/token/refresh", {"refresh_token": "stolen"})
    assert refused["code"] == "InvalidRefreshToken"


def test_products_create_list_update_and_price_quantity(served):
    emulator, base = served
    client = IopReferenceClient(f"{base}/sync", APP_KEY, APP_SECRET)
    ids = []
    for n in range(1, 4):
        body = product(f"蓝色T恤 {n} :/ +&=%~", (f"TEE-{n}-S", "19.99", 5), (f"TEE-{n}-M", "21.99", 3))
        answer = client.execute("aliexpress.solution.product.post", {"post_product_request": body}, TOKEN)
        ids.append(answer["aliexpress_solution_product_post_response"]["result"]["product_id"])
    listed = []
    for page in (1, 2):
        query = json.dumps({"product_status_type": "onSelling", "page_size": 2, "current_page": page})
        answer = client.execute("aliexpress.solution.product.list.get", {"aeop_a_e_product_list_query": query}, TOKEN)
        result = answer["aliexpress_solution_product_list_get_response"]["result"]
        assert result["product_count"] == 3 and result["total_page"] == 2
        listed += [row["product_id"] for row in result["aeop_a_e_product_display_d_t_o_list"]["item_display_dto"]]
    assert listed == ids
    edit = json.loads(product("新标题 A&B", ("TEE-1-S", "18.00", 5)))
    edited = client.execute(
        "aliexpress.solution.product.edit", {"edit_product_request": json.dumps({**edit, "product_id": ids[0]})}, TOKEN
    )
    assert edited["aliexpress_solution_product_edit_response"]["result"]["product_id"] == ids[0]
    prices = [{"product_id": ids[1], "multiple_sku_update_list": [{"sku_code": "TEE-2-S", "price": "25.00",
                                                                    "discount_price": "24.00"}]}]  # fmt: skip
    client.execute(
        "aliexpress.solution.batch.product.price.update", {"mutiple_product_update_list": json.dumps(prices)}, TOKEN
    )
    stock = [{"product_id": ids[1], "multiple_sku_update_list": [{"sku_code": "TEE-2-M", "inventory": 0}]}]
    client.execute(
        "aliexpress.solution.batch.product.inventory.update", {"mutiple_product_update_list": json.dumps(stock)}, TOKEN
    )
    info = client.execute("aliexpress.solution.product.info.get", {"product_id": str(ids[1])}, TOKEN)
    skus = {
        s["sku_code"]: s
        for s in info["aliexpress_solution_product_info_get_response"]["result"]["aeop_ae_product_s_k_us"][
            "global_aeop_ae_product_sku"
        ]
    }
    assert (skus["TEE-2-S"]["sku_discount_price"], skus["TEE-2-M"]["ipm_sku_stock"]) == ("24.00", 0)
    assert emulator.state["products"][str(ids[0])]["subject"] == "新标题 A&B"


def test_orders_paging_and_filters(served):
    emulator, base = served
    client = IopReferenceClient(f"{base}/sync", APP_KEY, APP_SECRET)
    body = product("Mug", ("MUG-1", "9.99", 100))
    client.execute("aliexpress.solution.product.post", {"post_product_request": body}, TOKEN)
    ids = emulator.generate_orders(5)
    emulator.set_order_status(ids[0], "FINISH", shipped=True)
    now = datetime.now(UTC)
    window = {
        "modified_date_start": (now - timedelta(hours=1)).astimezone(PACIFIC).strftime("%Y-%m-%d %H:%M:%S"),
        "modified_date_end": (now + timedelta(minutes=5)).astimezone(PACIFIC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    seen = []
    for page in (1, 2):
        param0 = json.dumps({**window, "page_size": 2, "current_page": page})
        result = client.execute("aliexpress.solution.order.get", {"param0": param0}, TOKEN)[
            "aliexpress_solution_order_get_response"
        ]["result"]
        assert result["total_count"] == 4  # FINISH orders only when asked for by status
        seen += [o["order_id"] for o in result["target_list"]["order_dto"]]
    assert sorted(seen) == sorted(int(i) for i in ids[1:])
    finished = json.dumps({**window, "page_size": 50, "current_page": 1, "order_status": "FINISH"})
    result = client.execute("aliexpress.solution.order.get", {"param0": finished}, TOKEN)[
        "aliexpress_solution_order_get_response"
    ]["result"]
    assert [o["order_id"] for o in result["target_list"]["order_dto"]] == [int(ids[0])]


def test_errors_come_back_as_the_sdk_reads_them(served):
    emulator, base = served
    stranger = IopReferenceClient(f"{base}/sync", APP_KEY, "not-the-secret")
    query = {"aeop_a_e_product_list_query": json.dumps({"product_status_type": "onSelling"})}
    refused = stranger.execute("aliexpress.solution.product.list.get", query, TOKEN)
    assert (refused["code"], refused["type"]) == ("IncompleteSignature", "ISV") and refused["request_id"]
    emulator.expire_token()
    client = IopReferenceClient(f"{base}/sync", APP_KEY, APP_SECRET)
    expired = client.execute("aliexpress.solution.product.list.get", query, TOKEN)
    assert expired["code"] == "IllegalAccessToken"
