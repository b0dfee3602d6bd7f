"""The adapter against its emulator: the whole loop, the emulator's own checks, and injected faults."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from listing_sync.adapters.base import (
    AuthError,
    DelistRequest,
    ListingDraft,
    Money,
    OrderCursor,
    OrderStatus,
    PriceUpdate,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.ebay.emulator import EbayEmulator
from listing_sync.adapters.emulator import Faults

INV = "https://api.ebay.com/sell/inventory/v1"
FUL = "https://api.ebay.com/sell/fulfillment/v1"


def usd(value: str) -> Money:
    return Money.of(value, "USD")


def drafts(quantity: int = 50) -> list[ListingDraft]:
    image = ("https://img.example.com/x.jpg",)
    return [
        ListingDraft("A1", "Mug", "Stoneware mug", "20625", usd("9.99"), quantity, images=image),
        ListingDraft("B2", "Plate", "Plate", "20625", usd("4.50"), quantity, images=image),
        ListingDraft(
            "T",
            "Tee",
            "Cotton tee",
            "15687",
            usd("12"),
            0,
            images=image,
            variations=(
                Variation("T-S", usd("12"), quantity, {"Size": "S"}),
                Variation("T-M", usd("13"), quantity, {"Size": "M"}),
            ),
        ),
    ]


def pull_all(adapter, cursor: OrderCursor) -> tuple[dict, OrderCursor, int]:
    orders: dict = {}
    pages = 0
    while True:
        page = adapter.orders_since(cursor)
        pages += 1
        orders.update({o.external_id: o for o in page.orders})
        cursor = page.next
        if page.done:
            return orders, cursor, pages


def token(emulator: EbayEmulator) -> str:
    response = emulator.handle(
        httpx.Request(
            "POST",
            "https://api.ebay.com/identity/v1/oauth2/token",
            headers={"Authorization": "Basic QXBwSWQtUFJELTAxMjNhYmNkOlBSRC1zZWNyZXQtNDU2N2VmZ2g="},
            data={
                "grant_type": "refresh_token",
                "refresh_token": "v^1.1#i^1#r^1#refresh-0123456789",
                "scope": "https://api.ebay.com/oauth/api_scope/sell.inventory",
            },
        )
    )
    return response.json()["access_token"]


def call(emulator: EbayEmulator, method: str, url: str, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token(emulator)}", **kw.pop("headers", {})}
    return emulator.handle(httpx.Request(method, url, headers=headers, **kw))


# -------------------------------------------------------------------------------------- whole loop
def test_full_loop(emulated, emulator, fake):
    published = emulated.publish(drafts())
    assert [r.ok for r in published] == [True, True, True], published
    refs = {r.sku: r.ref for r in published}
    group_listing = refs["T"].external_id
    assert {o["listing"]["listingId"] for o in emulator.state["offers"].values() if o["sku"].startswith("T-")} == {
        group_listing
    }

    assert all(
        r.ok
        for r in emulated.push_prices(
            [PriceUpdate("A1", usd("8.5"), refs["A1"]), PriceUpdate("T-M", usd("14"), refs["T"])]
        )
    )
    assert all(r.ok for r in emulated.push_stock([StockUpdate("B2", 0, refs["B2"]), StockUpdate("T-S", 7, refs["T"])]))
    remote = {r.sku: r for r in emulated.listings()}
    assert (remote["A1"].price, remote["A1"].quantity, remote["A1"].status) == (usd("8.50"), 50, "active")
    assert (remote["B2"].quantity, remote["T-S"].quantity, remote["T-M"].price) == (0, 7, usd("14.00"))

    assert [r.ok for r in emulated.delist([DelistRequest("A1", refs["A1"]), DelistRequest("T", refs["T"])])] == [
        True,
        True,
    ]
    assert {r.sku: r.status for r in emulated.listings()} == {
        "A1": "inactive",
        "B2": "active",
        "T-S": "inactive",
        "T-M": "inactive",
    }
    relisted = emulated.relist([DelistRequest("A1", refs["A1"]), DelistRequest("T", refs["T"])])
    assert [r.ok for r in relisted] == [True, True]
    assert relisted[0].ref.ids["listing_id"] == refs["A1"].ids["listing_id"]
    assert {r.sku: r.status for r in emulated.listings()}["T-M"] == "active"

    start = fake.now() - timedelta(minutes=10)
    ids = emulator.generate_orders(5)
    assert len(ids) == 5
    fake.advance(120)
    orders, cursor, _ = pull_all(emulated, OrderCursor(start))
    assert set(orders) == set(ids)
    assert all(o.status is OrderStatus.PAID and o.lines[0].sku in {"A1", "T-S", "T-M"} for o in orders.values())

    fake.advance(60)
    emulator.cancel_order(ids[0])
    emulator.set_order_status(ids[1], "FULFILLED")
    fake.advance(120)
    changed, _, _ = pull_all(emulated, cursor)
    assert changed[ids[0]].status is OrderStatus.CANCELLED
    assert changed[ids[1]].status is OrderStatus.SHIPPED


@pytest.mark.parametrize(("overlap", "complete"), [(10, True), (0, False)])
def test_orders_page_to_the_last_page_over_a_live_set(make_adapter, fake, overlap, complete):
    emulator = EbayEmulator(credentials=_creds(), options=_opts(), clock=fake, now=fake.now, seed=5)
    adapter = make_adapter(transport=emulator.transport(), options={"order_page_overlap": overlap})
    assert all(r.ok for r in adapter.publish(drafts(quantity=1000)))
    start = fake.now() - timedelta(minutes=1)
    ids = emulator.generate_orders(450)
    fake.advance(120)
    first = adapter.orders_since(OrderCursor(start))
    assert len(first.orders) == 200 and not first.done
    # while paging, 8 orders of the first page are modified: they leave the fixed window, the rest shift down
    for order in first.orders[:8]:
        emulator.set_order_status(order.external_id, "IN_PROGRESS")
    orders = {o.external_id for o in first.orders}
    cursor, pages = first.next, 1
    while True:
        page = adapter.orders_since(cursor)
        pages += 1
        orders |= {o.external_id for o in page.orders}
        cursor = page.next
        if cursor.until is None:
            break
    assert (orders == set(ids)) is complete  # the page overlap re-reads the shifted rows
    fake.advance(120)
    later, _, _ = pull_all(adapter, cursor)
    assert {o.external_id for o in first.orders[:8]} <= set(later)  # the modified ones come with the next window


def _creds() -> dict:
    return {
        "client_id": "AppId-PRD-0123abcd",
        "client_secret": "PRD-secret-4567efgh",
        "refresh_token": "v^1.1#i^1#r^1#refresh-0123456789",
    }


def _opts() -> dict:
    return {
        "merchant_location_key": "WH-SH",
        "fulfillment_policy_id": "6196932000",
        "payment_policy_id": "6196944000",
        "return_policy_id": "6196940000",
    }


def test_expired_token_is_refreshed_transparently(emulated, emulator):
    assert emulated.publish(drafts()[:1])[0].ok
    emulator.expire_tokens()
    assert emulated.push_stock([StockUpdate("A1", 3)])[0].ok
    assert emulated.http.client.auth.refreshes == 2


def test_revoked_consent_stops_the_channel(emulated, emulator):
    assert emulated.publish(drafts()[:1])[0].ok
    emulator.revoke_refresh_token()
    with pytest.raises(AuthError, match="re-authorize this channel"):
        emulated.push_stock([StockUpdate("A1", 3)])
    before = len(emulator.requests)
    with pytest.raises(AuthError):
        emulated.push_stock([StockUpdate("A1", 3)])
    assert len(emulator.requests) == before  # stopped: nothing more is sent


def test_publish_prerequisites_fail_per_item(make_adapter, emulator):
    adapter = make_adapter(transport=emulator.transport(), options={"return_policy_id": None})
    [result] = adapter.publish(drafts()[:1])
    assert not result.ok and "returnPolicyId" in result.message


def test_republish_reuses_the_offer(emulated, emulator):
    first = emulated.publish(drafts())
    again = emulated.publish(drafts())
    assert [r.ref.ids for r in first] == [r.ref.ids for r in again]
    assert len(emulator.state["offers"]) == 4


def test_drift_made_in_the_back_office_is_read_back(emulated, emulator):
    emulated.publish(drafts())
    emulator.set_listing("B2", price="3.99", quantity=9)
    remote = {r.sku: r for r in emulated.listings()}
    assert (remote["B2"].price, remote["B2"].quantity) == (usd("3.99"), 9)


def test_emulator_revision_cap_reaches_the_adapter(emulated, emulator):
    [published] = emulated.publish(drafts()[:1])
    listing = published.ref.ids["listing_id"]
    # 250 revisions made elsewhere today (Seller Hub, another tool): the adapter's count does not know them
    emulator.state["revisions"][listing] = {"day": "2026-11-27", "count": 250}
    [result] = emulated.push_prices([PriceUpdate("A1", usd("1"), published.ref)])
    assert (result.code, result.retryable) == ("revision_cap", True)
    assert emulated.revision_budget("A1") == 0


# ------------------------------------------------------------------------------------------ faults
def test_throttle_and_server_errors_are_retried(make_adapter, fake):
    emulator = EbayEmulator(
        credentials=_creds(),
        options=_opts(),
        clock=fake,
        now=fake.now,
        seed=11,
        faults=Faults(throttle=0.1, server_error=0.1),
    )
    adapter = make_adapter(transport=emulator.transport())
    results = adapter.publish(drafts())
    assert all(r.ok for r in results), results
    assert len(emulator.requests) > 6  # faults were hit and retried (a clean run makes 6 calls)


def test_partial_failures_are_per_item_and_retryable(make_adapter, fake):
    emulator = EbayEmulator(credentials=_creds(), options=_opts(), clock=fake, now=fake.now, seed=2)
    adapter = make_adapter(transport=emulator.transport())
    refs = {r.sku: r.ref for r in adapter.publish(drafts())}
    emulator.faults = Faults(partial=0.5)
    updates = [StockUpdate(s, 4, refs.get(s) or refs["T"]) for s in ("A1", "B2", "T-S", "T-M")]
    results = adapter.push_stock(updates)
    failed = [r for r in results if not r.ok]
    assert failed and len(failed) < 4
    assert all(r.code == "25025" and r.retryable for r in failed)
    emulator.faults = Faults()
    assert all(r.ok for r in adapter.push_stock([u for u, r in zip(updates, results, strict=True) if not r.ok]))


def test_emulator_rate_limit_answers_ebay_throttle(emulator):
    bearer = token(emulator)
    answers = [
        emulator.handle(
            httpx.Request("GET", f"{INV}/inventory_item", headers={"Authorization": f"Bearer {bearer}"})
        ).status_code
        for _ in range(30)
    ]
    assert 429 in answers
    throttled = emulator.throttled(httpx.Request("GET", f"{INV}/inventory_item"), 1.0)
    assert throttled.json()["errors"][0]["errorId"] == 2001


# ----------------------------------------------------------------------------- emulator's own checks
def test_emulator_requires_content_language(emulator):
    response = call(emulator, "POST", f"{INV}/bulk_create_or_replace_inventory_item", json={"requests": [{"sku": "A"}]})
    assert response.status_code == 400 and response.json()["errors"][0]["errorId"] == 25709


def test_emulator_enforces_batch_maximum(emulator, fake):
    fake.advance(10)
    many = {"requests": [{"sku": f"S{i}"} for i in range(26)]}
    response = call(
        emulator,
        "POST",
        f"{INV}/bulk_create_or_replace_inventory_item",
        json=many,
        headers={"Content-Language": "en-US"},
    )
    assert response.status_code == 400 and response.json()["errors"][0]["errorId"] == 25727


def test_emulator_refuses_a_second_offer_for_the_same_sku(emulated, emulator):
    emulated.publish(drafts()[:1])
    offer = {"sku": "A1", "marketplaceId": "EBAY_US", "format": "FIXED_PRICE"}
    response = call(
        emulator, "POST", f"{INV}/bulk_create_offer", json={"requests": [offer]}, headers={"Content-Language": "en-US"}
    )
    assert response.status_code == 207
    assert response.json()["responses"][0]["errors"][0]["errorId"] == 25002


def test_emulator_offers_of_a_deleted_item_are_gone_and_a_loaded_state_is_indexed(emulated, emulator):
    emulated.publish(drafts()[:1])
    assert [o["sku"] for o in emulator._offers_of("A1")] == ["A1"]
    assert call(emulator, "DELETE", f"{INV}/inventory_item/A1").status_code == 204
    assert emulator._offers_of("A1") == [] and emulator._live_listing_of_sku("A1") is None
    emulated.publish(drafts()[:1])  # a new item and offer for the same SKU: no "already exists"
    [offer] = emulator._offers_of("A1")
    emulator.load(emulator.dump())
    assert [o["offerId"] for o in emulator._offers_of("A1")] == [offer["offerId"]]


def test_emulator_get_orders_rules(emulated, emulator, fake):
    emulated.publish(drafts())
    ids = emulator.generate_orders(2)
    emulator.cancel_order(ids[0])
    fake.advance(60)
    window = "%5B2026-11-27T11:00:00.000Z..2026-11-27T12:00:30.000Z%5D"

    def get(query: str) -> httpx.Response:
        fake.advance(1)
        return call(emulator, "GET", f"{FUL}/order?{query}")

    assert get(f"filter=lastmodifieddate:{window}&limit=201").json()["errors"][0]["errorId"] == 31100
    raw = get("filter=lastmodifieddate:[2026-11-27T11:00:00.000Z..]&limit=10")
    assert raw.json()["errors"][0]["errorId"] == 30800
    old = get("filter=lastmodifieddate:%5B2026-07-01T00:00:00.000Z..%5D")
    assert old.json()["errors"][0]["errorId"] == 30830
    listed = get(f"filter=lastmodifieddate:{window}&limit=200&offset=0").json()
    assert listed["total"] == 2
    assert all(o["cancelStatus"]["cancelRequests"] == [] for o in listed["orders"])  # always empty in getOrders
    assert call(emulator, "GET", f"{FUL}/order/{ids[0]}").json()["cancelStatus"]["cancelRequests"]
    # creationdate wins over lastmodifieddate: a creation window before the orders hides them
    both = get(
        f"filter=creationdate:%5B2026-11-26T00:00:00.000Z..2026-11-26T01:00:00.000Z%5D,lastmodifieddate:{window}"
    )
    assert both.json()["total"] == 0


def test_emulator_state_is_json_and_round_trips(emulated, emulator):
    emulated.publish(drafts())
    emulator.generate_orders(3)
    copy = EbayEmulator(credentials=_creds(), options=_opts())
    copy.load(emulator.dump())
    assert copy.state == json.loads(json.dumps(emulator.state))


def test_served_over_loopback(channel_factory):
    from listing_sync.adapters.ebay.adapter import EbayAdapter

    emulator = EbayEmulator(credentials=_creds(), options=_opts())
    server = emulator.serve()
    try:
        host, port = server.server_address[:2]
        channel = channel_factory("ebay", credentials=_creds(), options=_opts(), base_url=f"http://{host}:{port}")
        adapter = EbayAdapter(channel, sleep=lambda s: None)
        assert all(r.ok for r in adapter.publish(drafts()[:1]))
        assert [r.sku for r in adapter.listings()] == ["A1"]
        adapter.close()
    finally:
        server.shutdown()


def test_one_sku_per_call_reading_is_survived(make_adapter, fake):
    emulator = EbayEmulator(
        credentials=_creds(), options={**_opts(), "one_sku_per_call": True}, clock=fake, now=fake.now, seed=4
    )
    adapter = make_adapter(transport=emulator.transport())
    refs = {r.sku: r.ref for r in adapter.publish(drafts())}
    results = adapter.push_prices([PriceUpdate(s, usd("2"), refs[s]) for s in ("A1", "B2")])
    assert all(r.ok for r in results)
    prices = {o["sku"]: o["pricingSummary"]["price"]["value"] for o in emulator.state["offers"].values()}
    assert prices["A1"] == prices["B2"] == "2.00"
