"""The adapter against its emulator: every operation end to end, read-back, orders, and faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    Money,
    OrderCursor,
    OrderStatus,
    PriceUpdate,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.emulator import Faults
from listing_sync.adapters.registry import adapter_class, emulator_class
from listing_sync.adapters.woocommerce.adapter import WooCommerceAdapter
from listing_sync.adapters.woocommerce.emulator import WooCommerceEmulator

from tests.conftest import FakeClock, make_channel

CREDS = {"consumer_key": "ck_4f2a9c1e7b", "consumer_secret": "cs_8d3b6e0f5a"}
V3 = "/wp-json/wc/v3"


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


class Shop:
    """An emulator whose clock runs a minute behind real time until moved (orders land inside windows)."""

    def __init__(self, faults: Faults | None = None, **options) -> None:
        self.clock = FakeClock()
        self.offset = timedelta(minutes=-10)
        self.emulator = WooCommerceEmulator(
            credentials=CREDS, clock=self.clock, now=lambda: datetime.now(UTC) + self.offset, faults=faults, seed=3
        )
        channel = make_channel("woocommerce", credentials=CREDS, options={"site": "shop.example.com", **options})
        self.adapter = WooCommerceAdapter(
            channel, transport=self.emulator.transport(), clock=self.clock, sleep=self.clock.sleep
        )

    def pull(self, since: datetime) -> list:
        cursor, orders = OrderCursor(since), []
        for _ in range(50):
            page = self.adapter.orders_since(cursor)
            orders.extend(page.orders)
            cursor = page.next
            if page.done:
                return orders
        raise AssertionError("orders never caught up")


def drafts(suffix: str = "") -> list[ListingDraft]:
    return [
        ListingDraft(f"MUG{suffix}", "Mug", "A mug", "9", usd("9.90"), 5, images=("https://cdn.example.com/m.jpg",)),
        ListingDraft(
            f"TEE{suffix}",
            "Tee",
            "Cotton",
            "",
            usd("12"),
            0,
            variations=(
                Variation(f"TEE-R{suffix}", usd("12"), 3, {"Color": "Red"}),
                Variation(f"TEE-B{suffix}", usd("13"), 4, {"Color": "Blue"}),
            ),
        ),
    ]


def test_delisting_every_variation_hides_the_product_in_one_call():
    shop = Shop(site="shop.example.com")
    emulator, adapter = shop.emulator, shop.adapter
    _mug, tee = adapter.publish(drafts())
    before = len(emulator.requests)
    whole = [DelistRequest("TEE-R", ref=tee.ref), DelistRequest("TEE-B", ref=tee.ref)]
    assert all(r.ok for r in adapter.delist(whole))
    assert len(emulator.requests) - before == 1 and emulator.find_sku("TEE")["status"] == "draft"
    listed = {x.sku: x.status for x in adapter.listings()}
    assert listed["TEE-R"] == listed["TEE-B"] == "inactive"
    assert all(r.ok for r in adapter.relist(whole))
    listed = {x.sku: x.status for x in adapter.listings()}
    assert listed["TEE-R"] == listed["TEE-B"] == "active"


def test_sku_uniqueness_follows_renames_deletes_and_a_loaded_state():
    emulator = WooCommerceEmulator(credentials=CREDS, seed=3)
    status, mug = emulator._create_product({"name": "Mug", "sku": "A"})
    assert status == 201 and emulator._create_product({"name": "Again", "sku": "A"})[0] == 400
    assert emulator._update_product(mug["id"], {"sku": "B"})[0] == 200  # renamed: A is free, B is taken
    assert emulator._create_product({"name": "New A", "sku": "A"})[0] == 201
    assert emulator._create_product({"name": "Dup B", "sku": "B"})[0] == 400
    assert emulator._delete_product(mug["id"], True)[0] == 200  # deleted for good: B is free again
    assert emulator._create_product({"name": "New B", "sku": "B"})[0] == 201
    copy = WooCommerceEmulator(credentials=CREDS, seed=3)
    copy.load(emulator.dump())  # a loaded state is indexed afresh
    assert copy._create_product({"name": "Dup A", "sku": "A"})[0] == 400


def test_registry_points_at_these_classes():
    assert adapter_class("woocommerce") is WooCommerceAdapter
    assert emulator_class("woocommerce") is WooCommerceEmulator


@pytest.mark.parametrize("site", ["shop.example.com", "http://shop.example.com"])
def test_full_cycle(site):
    shop = Shop(site=site)
    emulator, adapter = shop.emulator, shop.adapter
    mug, tee = adapter.publish(drafts())
    assert mug.ok and tee.ok
    assert emulator.find_sku("TEE-B")["stock_quantity"] == 4 and emulator.find_sku("MUG")["regular_price"] == "9.90"

    prices = adapter.push_prices(
        [
            PriceUpdate("MUG", usd("11.5"), ref=mug.ref),
            PriceUpdate("TEE-R", usd("15"), ref=tee.ref, list_price=usd("20")),
        ]
    )
    stock = adapter.push_stock([StockUpdate("TEE-B", 9, ref=tee.ref), StockUpdate("MUG", 7, ref=mug.ref)])
    assert all(r.ok for r in prices + stock)
    red = emulator.find_sku("TEE-R")
    assert (red["regular_price"], red["sale_price"], red["price"]) == ("20.00", "15.00", "15.00")
    assert emulator.find_sku("TEE-B")["stock_quantity"] == 9 and emulator.find_sku("MUG")["stock_quantity"] == 7

    assert adapter.delist([DelistRequest("MUG", ref=mug.ref), DelistRequest("TEE-R", ref=tee.ref)])[0].ok
    assert emulator.find_sku("MUG")["status"] == "draft" and emulator.find_sku("TEE-R")["status"] == "private"
    listed = {x.sku: x for x in adapter.listings()}
    assert listed["MUG"].status == "inactive" and listed["TEE-R"].status == "inactive"
    assert all(r.ok for r in adapter.relist([DelistRequest("MUG", ref=mug.ref), DelistRequest("TEE-R", ref=tee.ref)]))

    listed = {x.sku: (x.price, x.quantity, x.status) for x in adapter.listings()}
    assert listed == {
        "MUG": (usd("11.50"), 7, "active"),
        "TEE": (None, None, "active"),
        "TEE-R": (usd("15.00"), 3, "active"),
        "TEE-B": (usd("13.00"), 9, "active"),
    }

    start = datetime.now(UTC) - timedelta(hours=1)
    ids = emulator.generate_orders(4)
    orders = shop.pull(start)
    assert sorted(o.external_id for o in orders) == sorted(ids)
    sold: dict[str, int] = {}
    for order in orders:
        assert order.status is OrderStatus.PAID and order.currency == "USD"
        for line in order.lines:
            sold[line.sku] = sold.get(line.sku, 0) + line.quantity
    assert sum(sold.values()) > 0
    assert emulator.find_sku("MUG")["stock_quantity"] == 7 - sold.get("MUG", 0)
    assert emulator.find_sku("TEE-B")["stock_quantity"] == 9 - sold.get("TEE-B", 0)
    raw = emulator.state["orders"][ids[0]]
    assert raw["date_created"] != raw["date_created_gmt"]  # site time is UTC+8
    assert orders[0].placed_at == datetime.fromisoformat(raw["date_created_gmt"]).replace(tzinfo=UTC)

    shop.offset += timedelta(minutes=1)
    emulator.set_order_status(ids[0], "cancelled")
    again = {o.external_id: o for o in shop.pull(start)}
    assert again[ids[0]].status is OrderStatus.CANCELLED


def test_republish_without_ref_adopts_instead_of_duplicating():
    shop = Shop()
    first = shop.adapter.publish(drafts())
    second = shop.adapter.publish(drafts())
    assert all(r.ok for r in second)
    assert [r.ref.get("product_id") for r in second] == [r.ref.get("product_id") for r in first]
    assert second[1].ref.get("variation_id:TEE-B") == first[1].ref.get("variation_id:TEE-B")
    assert len(shop.emulator.state["products"]) == 2


def test_orders_page_to_the_last_page_of_a_large_window():
    shop = Shop()
    shop.adapter.publish([ListingDraft("BULK", "Bulk", "", "", usd("1"), 1000)])
    ids = shop.emulator.generate_orders(230)
    orders = shop.pull(datetime.now(UTC) - timedelta(hours=1))
    assert sorted(o.external_id for o in orders) == sorted(ids)
    pages = [r for r in shop.emulator.requests if r.url.path.endswith("/orders")]
    assert [r.url.params["page"] for r in pages] == ["1", "2", "3"]


def test_faults_throttle_and_server_errors_are_retried():
    shop = Shop(faults=Faults(throttle=0.2, server_error=0.1))
    results = shop.adapter.publish(drafts())
    results += shop.adapter.push_stock([StockUpdate("MUG", 2, ref=results[0].ref)])
    assert all(r.ok for r in results)
    assert len(shop.emulator.requests) > 3  # 3 calls when nothing fails: faults were met and retried
    assert shop.clock.sleeps and max(shop.clock.sleeps) >= 1  # the throttle page's Retry-After: 1


def test_partial_batch_failures_are_per_item_and_retryable():
    shop = Shop()
    many = [ListingDraft(f"P{i}", f"P{i}", "", "", usd("2"), 3) for i in range(30)]
    refs = [r.ref for r in shop.adapter.publish(many)]
    shop.emulator.faults = Faults(partial=0.3)
    results = shop.adapter.push_stock([StockUpdate(f"P{i}", 9, ref=refs[i]) for i in range(30)])
    assert len(results) == 30 and [r.sku for r in results] == [f"P{i}" for i in range(30)]
    failed = [r for r in results if not r.ok]
    assert failed and all(r.retryable and r.code == "db_update_error" for r in failed)
    shop.emulator.faults = Faults()
    retried = shop.adapter.push_stock([StockUpdate(r.sku, 9, ref=refs[int(r.sku[1:])]) for r in failed])
    assert all(r.ok for r in retried)
    assert all(shop.emulator.find_sku(f"P{i}")["stock_quantity"] == 9 for i in range(30))


def test_emulator_throttles_with_an_html_page_and_retry_after():
    clock = FakeClock()
    emulator = WooCommerceEmulator(credentials=CREDS, clock=clock)
    request = httpx.Request("GET", f"https://shop.example.com{V3}/products", headers=_basic())
    answers = [emulator.handle(request) for _ in range(emulator.burst + 1)]
    throttled = answers[-1]
    assert [a.status_code for a in answers[:-1]] == [200] * emulator.burst
    assert throttled.status_code == 429 and throttled.headers["Content-Type"].startswith("text/html")
    assert int(throttled.headers["Retry-After"]) >= 1


def _basic() -> dict[str, str]:
    return {"Authorization": httpx.BasicAuth(*CREDS.values())._auth_header}


def test_emulator_enforces_the_batch_limit_and_wire_types():
    emulator = WooCommerceEmulator(credentials=CREDS, enforce_rate=False)
    url = f"https://shop.example.com{V3}/products/batch"
    too_many = emulator.handle(
        httpx.Request("POST", url, headers=_basic(), json={"create": [{}] * 60, "delete": [1] * 41})
    )
    assert too_many.status_code == 413
    assert too_many.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }
    body = {
        "create": [{"name": "A", "sku": "A", "regular_price": 9.9}, {"name": "B", "sku": "B", "stock_quantity": "x"}]
    }
    answer = emulator.handle(httpx.Request("POST", url, headers=_basic(), json=body))
    assert answer.status_code == 200
    errors = [item["error"] for item in answer.json()["create"]]
    assert [e["code"] for e in errors] == ["rest_invalid_param", "rest_invalid_param"]
    assert errors[0]["data"]["params"] == {"regular_price": "regular_price is not of type string."}
    wide = emulator.handle(httpx.Request("GET", f"https://shop.example.com{V3}/orders?per_page=101", headers=_basic()))
    assert wide.status_code == 400 and "per_page" in wide.json()["data"]["params"]


def test_emulator_auth_rules():
    emulator = WooCommerceEmulator(credentials=CREDS, enforce_rate=False)
    https = f"https://shop.example.com{V3}/products"
    assert emulator.handle(httpx.Request("GET", https)).status_code == 401
    bad = {"Authorization": httpx.BasicAuth(CREDS["consumer_key"], "cs_wrong")._auth_header}
    assert emulator.handle(httpx.Request("GET", https, headers=bad)).json()["message"] == "Consumer secret is invalid."
    query = httpx.Request(
        "GET", https, params={"consumer_key": CREDS["consumer_key"], "consumer_secret": CREDS["consumer_secret"]}
    )
    assert emulator.handle(query).status_code == 200
    clear = emulator.handle(httpx.Request("GET", f"http://shop.example.com{V3}/products", headers=_basic()))
    # over http WooCommerce never reads Basic auth; with no oauth_* at all nobody is logged in
    assert clear.status_code == 401 and clear.json()["code"] == "woocommerce_rest_cannot_view"
    emulator.state["settings"]["key_permissions"] = "read"
    write = emulator.handle(httpx.Request("POST", f"{https}/batch", headers=_basic(), json={"update": []}))
    assert write.json()["message"] == "The API key provided does not have write permissions."


def test_back_office_edit_shows_up_as_drift():
    shop = Shop()
    shop.adapter.publish(drafts())
    shop.emulator.edit_listing("TEE-R", price="99.00", quantity=1)
    listed = {x.sku: x for x in shop.adapter.listings()}
    assert listed["TEE-R"].price == usd("99.00") and listed["TEE-R"].quantity == 1


def test_state_is_json_and_survives_dump_and_load():
    shop = Shop()
    shop.adapter.publish(drafts())
    shop.emulator.generate_orders(2)
    copy = WooCommerceEmulator(credentials=CREDS)
    copy.load(shop.emulator.dump())
    assert copy.state == shop.emulator.state


def test_emulated_channel_from_the_registry_needs_no_site():
    from listing_sync.adapters.emulator import EmulatorHub
    from listing_sync.adapters.registry import build_adapter

    channel = make_channel(
        "woocommerce",
        base_url="emulator:",
        credentials={"consumer_key": "emulator-consumer_key", "consumer_secret": "emulator-consumer_secret"},
    )
    hub = EmulatorHub()
    clock = FakeClock()
    adapter = build_adapter(channel, hub=hub, clock=clock, sleep=clock.sleep)
    assert adapter.base_url() == "https://woocommerce.emulator.invalid/wp-json/wc/v3"
    [result] = adapter.publish(drafts()[:1])
    assert result.ok and hub.get(channel).find_sku("MUG")["stock_quantity"] == 5
    adapter.close()


def test_served_emulator_over_loopback_http_with_oauth():
    emulator = WooCommerceEmulator(credentials=CREDS, enforce_rate=False)
    server = emulator.serve()
    try:
        host, port = server.server_address[:2]
        channel = make_channel("woocommerce", credentials=CREDS, base_url=f"http://{host}:{port}")
        clock = FakeClock()
        with WooCommerceAdapter(channel, clock=clock, sleep=clock.sleep) as adapter:
            assert all(r.ok for r in adapter.publish(drafts()))
            assert {x.sku for x in adapter.listings()} == {"MUG", "TEE", "TEE-R", "TEE-B"}
        assert all("oauth_signature" in r.url.params for r in emulator.requests)
    finally:
        server.shutdown()
        server.server_close()
