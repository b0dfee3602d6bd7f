"""The adapter against its emulator (in-process transport), including injected faults."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from listing_sync.adapters.base import (
    AuthError,
    DelistRequest,
    ListingDraft,
    Money,
    Operation,
    OrderCursor,
    PriceUpdate,
    RequestRejected,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.emulator import Faults
from listing_sync.adapters.shopify import executor
from listing_sync.adapters.shopify.emulator import ShopifyEmulator

from tests.conftest import FakeClock

from .conftest import NOW, TOKEN, endpoint, sent


def usd(x: str) -> Money:
    return Money.of(x, "USD")


TEE = ListingDraft(
    "TEE",
    "Tee",
    "<p>Soft</p>",
    "Shirts",
    usd("10"),
    0,
    variations=(
        Variation("TEE-S", usd("10"), 5, {"Size": "S"}),
        Variation("TEE-M", usd("11"), 4, {"Size": "M"}),
        Variation("TEE-L", usd("12"), 3, {"Size": "L"}),
    ),
)
MUG = ListingDraft("MUG", "Mug", "A mug", "Mugs", usd("7.50"), 9)


@pytest.fixture
def world(build):
    def make(version: str = "2026-04", faults: Faults | None = None, seed: int = 3):
        clock = FakeClock()
        emulator = ShopifyEmulator(
            credentials={"access_token": TOKEN},
            seed=seed,
            faults=faults,
            clock=clock,
            now=lambda: NOW - timedelta(minutes=10),
        )
        adapter = build(version, transport=emulator.transport(), clock=clock)
        return adapter, emulator

    return make


@pytest.mark.parametrize("version", ["2025-10", "2026-01", "2026-04"])
def test_full_cycle(world, version):
    adapter, emu = world(version)
    published = adapter.publish([TEE, MUG])
    assert [r.ok for r in published] == [True, True]
    tee_ref, mug_ref = published[0].ref, published[1].ref
    assert emu.quantity("TEE-M") == 4 and emu.quantity("MUG") == 9

    # prices: one variant by the publish ref, one found by SKU
    prices = [PriceUpdate("TEE-M", usd("11.5"), ref=tee_ref), PriceUpdate("MUG", usd("8"))]
    results = [r for chunk in adapter.chunks(Operation.PRICE, prices) for r in adapter.push_prices(chunk)]
    assert all(r.ok for r in results)
    assert emu._variant_by_sku("TEE-M")["price"] == "11.50"

    # stock with compare-and-set; the back office changed MUG meanwhile, so its compare is stale once
    emu.set_quantity("MUG", 7)
    stock = adapter.push_stock(
        [StockUpdate("TEE-S", 2, ref=tee_ref, expected=5), StockUpdate("MUG", 1, ref=mug_ref, expected=9)]
    )
    assert [r.ok for r in stock] == [True, True]
    assert emu.quantity("TEE-S") == 2 and emu.quantity("MUG") == 1

    # delist / relist the whole product
    assert adapter.delist([DelistRequest("MUG", mug_ref)])[0].ok
    status = {row.sku: row.status for row in adapter.listings()}
    assert status["MUG"] == "inactive" and status["TEE-S"] == "active"
    assert adapter.relist([DelistRequest("MUG")])[0].ok
    assert {row.sku: row.status for row in adapter.listings()}["MUG"] == "active"

    # re-publish with a new variation adds it, keeps the others (no productSet)
    bigger = ListingDraft(
        "TEE",
        "Tee 2",
        "x",
        "Shirts",
        usd("10"),
        0,
        ref=tee_ref,
        variations=(*TEE.variations, Variation("TEE-XL", usd("13"), 1, {"Size": "XL"})),
    )
    [again] = adapter.publish([bigger])
    assert again.ok and again.ref.get("variant_id/TEE-XL")
    assert sorted(r.sku for r in adapter.listings()) == ["MUG", "TEE-L", "TEE-M", "TEE-S", "TEE-XL"]


def test_orders_pulled_to_the_last_page(world):
    adapter, emu = world()
    many = [ListingDraft(f"P{n}", f"Product {n}", "d", "t", usd("3"), 500) for n in range(3)]
    assert all(r.ok for r in adapter.publish(many))
    ids = emu.generate_orders(100)
    assert len(ids) == 100
    cursor = OrderCursor(NOW - timedelta(days=1))
    seen, pages = [], 0
    while True:
        page = adapter.orders_since(cursor)
        pages += 1
        seen += [o.external_id for o in page.orders]
        cursor = page.next
        if page.next.page is None:
            break
    assert pages == 5  # 20 orders per page keep a page at about half the 1000-point bucket
    assert sorted(seen) == sorted(ids)
    assert page.done and cursor.until is None
    # stock went down on the marketplace side; listings show it
    sold = 1500 - sum(row.quantity for row in adapter.listings())
    assert sold == sum(line["quantity"] for o in emu.state["orders"].values() for line in o["lineItems"])

    # a cancellation is picked up as an update in the next window
    emu.now = lambda: NOW - timedelta(minutes=2)
    emu.set_order_status(ids[0], cancelled=True)
    page = adapter.orders_since(OrderCursor(NOW - timedelta(minutes=5)))
    assert [(o.external_id, o.status.value) for o in page.orders] == [(ids[0], "cancelled")]


def test_orders_with_many_lines_fetch_the_rest(world):
    adapter, emu = world()
    draft = ListingDraft(
        "BIG",
        "Big",
        "d",
        "t",
        usd("1"),
        0,
        variations=tuple(Variation(f"BIG-{n}", usd("1"), 10, {"N": str(n)}) for n in range(8)),
    )
    assert adapter.publish([draft])[0].ok
    [oid] = emu.generate_orders(1)
    order = emu.state["orders"][oid]
    order["lineItems"] = [dict(order["lineItems"][0], id=f"gid://shopify/LineItem/x{n}") for n in range(12)]
    page = adapter.orders_since(OrderCursor(NOW - timedelta(hours=1)))
    assert len(page.orders[0].lines) == 12


def test_idempotency_key_replay_is_applied_once(world):
    adapter, emu = world("2026-04")
    [mug] = adapter.publish([MUG])
    adapter.new_key = lambda: "same-key"
    adapter.push_stock([StockUpdate("MUG", 3, ref=mug.ref, expected=9)])
    emu.set_quantity("MUG", 9)
    [again] = adapter.push_stock([StockUpdate("MUG", 3, ref=mug.ref, expected=9)])
    assert again.ok and emu.quantity("MUG") == 9  # the replay returned the first result, changed nothing


def test_faults_throttle_and_server_errors_are_survived(world):
    adapter, emu = world(faults=Faults(throttle=0.2, server_error=0.15, timeout=0.05, drop=0.05))
    assert all(r.ok for r in adapter.publish([TEE, MUG]))
    results = adapter.push_stock([StockUpdate(s, 1) for s in ("TEE-S", "TEE-M", "TEE-L", "MUG")])
    assert all(r.ok for r in results)
    assert len(list(adapter.listings())) == 4
    assert len(emu.requests) == adapter.http.calls  # every attempt, faulted or not, was traced
    assert len(emu.requests) > 9  # 2 publishes x 3 calls + lookup + stock + listings, plus retries


def test_partial_faults_give_per_item_results(world):
    adapter, emu = world(faults=Faults(partial=0.3), seed=11)
    published = adapter.publish([TEE, MUG, ListingDraft("CUP", "Cup", "c", "Cups", usd("2"), 4)])
    assert len(published) == 3
    ok_skus = [s for r in published if r.ok for s in ("TEE-S", "TEE-M", "TEE-L", "MUG", "CUP") if s.startswith(r.sku)]
    assert ok_skus
    prices = adapter.push_prices([PriceUpdate(s, usd("5")) for s in ok_skus])
    assert [r.sku for r in prices] == ok_skus
    for r in prices:  # each result tells the truth about what the shop now holds
        assert (emu._variant_by_sku(r.sku)["price"] == "5.00") is r.ok
        assert r.ok or (r.code and r.message)
    stock = adapter.push_stock([StockUpdate(s, 2) for s in ok_skus])
    assert [r.sku for r in stock] == ok_skus
    for r in stock:
        assert (emu.quantity(r.sku) == 2) is r.ok
        assert r.ok or r.code in ("INVALID_QUANTITY_TOO_HIGH", "batch_rejected")
    outcomes = [r.ok for r in (*published, *prices, *stock)]
    assert True in outcomes and False in outcomes  # the fault really hit some items, not all


def test_emulator_refuses_more_than_250_quantities(world):
    adapter, emu = world()
    quantities = [
        {"inventoryItemId": f"i{n}", "locationId": "l", "quantity": 1, "changeFromQuantity": None} for n in range(251)
    ]
    with pytest.raises(RequestRejected) as info:
        adapter._stock_call(
            [
                (n, StockUpdate(f"S{n}", 1), {"inventory_item_id": q["inventoryItemId"], "location_id": "l"}, None)
                for n, q in enumerate(quantities)
            ],
            False,
        )
    assert info.value.code == "MAX_INPUT_SIZE_EXCEEDED"


def test_emulator_checks_token_and_version_rules(world):
    _, emu = world()
    client = httpx.Client(transport=emu.transport())
    doc = (
        "mutation S($input: InventorySetQuantitiesInput!) "
        "{ inventorySetQuantities(input: $input) { userErrors { code } } }"
    )
    body = {"query": doc, "variables": {"input": {"name": "available", "reason": "correction", "quantities": []}}}
    denied = client.post(endpoint(), json=body, headers={"X-Shopify-Access-Token": "wrong"})
    assert denied.status_code == 401 and "Invalid API key" in denied.json()["errors"]
    no_key = client.post(endpoint("2026-04"), json=body, headers={"X-Shopify-Access-Token": TOKEN}).json()
    assert "@idempotent" in no_key["errors"][0]["message"] and "data" not in no_key
    old = client.post(endpoint("2025-10"), json=body, headers={"X-Shopify-Access-Token": TOKEN}).json()
    assert old["data"]["inventorySetQuantities"]["userErrors"] == []
    assert old["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 1000.0
    unknown = client.post(
        endpoint(),
        json={"query": "mutation { productSet(input: {}) { product { id } } }"},
        headers={"X-Shopify-Access-Token": TOKEN},
    ).json()
    assert unknown["errors"][0]["extensions"]["code"] == "undefinedField"


def test_emulator_throttles_with_the_real_body():
    clock = FakeClock()
    emu = ShopifyEmulator(credentials={"access_token": TOKEN}, clock=clock)
    client = httpx.Client(transport=emu.transport())
    doc = "query V { productVariants(first: 250) { nodes { id product { id } inventoryItem { id } } } }"
    first = client.post(endpoint(), json={"query": doc}, headers={"X-Shopify-Access-Token": TOKEN}).json()
    assert "data" in first
    # an empty shop returns little: the unused part of the requested cost is refunded, as Shopify does
    assert first["extensions"]["cost"]["actualQueryCost"] < first["extensions"]["cost"]["requestedQueryCost"]
    assert first["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] > 990
    emu.bucket.observe(100)  # spent elsewhere: 100 points left, 752 requested
    throttled = client.post(endpoint(), json={"query": doc}, headers={"X-Shopify-Access-Token": TOKEN}).json()
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled["extensions"]["cost"]["actualQueryCost"] is None
    assert throttled["extensions"]["cost"]["requestedQueryCost"] == 752
    clock.now += 10  # restored at 100 points per second
    assert "data" in client.post(endpoint(), json={"query": doc}, headers={"X-Shopify-Access-Token": TOKEN}).json()


def test_emulator_rejects_queries_over_the_cost_limit(world):
    _, emu = world()
    client = httpx.Client(transport=emu.transport())
    doc = "{ orders(first: 250) { nodes { id lineItems(first: 50) { nodes { id sku } } } } }"
    body = client.post(endpoint(), json={"query": doc}, headers={"X-Shopify-Access-Token": TOKEN}).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_request_sent_by_adapter_is_what_the_emulator_records(world):
    adapter, emu = world()
    adapter.publish([MUG])
    assert [sent(r)["query"].split("(")[0] for r in emu.requests] == [
        "query Variants",
        "mutation CreateProduct",
        "mutation CreateVariants",
    ]
    assert all(r.headers["X-Shopify-Access-Token"] == TOKEN for r in emu.requests)


def requested(document: str, variables: dict | None = None, version: str = "2026-04") -> int:
    era = executor.era(version)
    parsed = executor.prepared(era, document)
    op = executor.operation(parsed, None)
    return executor.Coster(executor.schema_for(era), parsed, variables or {}).operation(op)


def test_requested_cost_follows_shopifys_rules():
    """Scalars and enums 0, objects 1, connections 2 + first x node, mutations 10 + payload selections."""
    assert requested("{ orders(first: 10) { nodes { id lineItems(first: 5) { nodes { id } } } } }") == 2 + 10 * (
        1 + 2 + 5 * 1
    )
    edges = "{ productVariants(first: 3) { edges { cursor node { id product { id } } } pageInfo { hasNextPage } } }"
    assert requested(edges) == 2 + 3 * 2  # pageInfo is free; edges/node count as the node
    assert requested("query($n: Int) { locations(first: $n) { nodes { id } } }", {"n": 4}) == 2 + 4
    fragment = 'query { product(id: "1") { ...P } } fragment P on Product { id title options { name } }'
    assert requested(fragment) == 1 + 1
    mutation = 'mutation { productUpdate(product: {id: "1"}) { product { id } userErrors { field } } }'
    assert requested(mutation) == 10 + 1 + 1


def test_bad_auth_is_auth_error(build):
    emu = ShopifyEmulator(credentials={"access_token": "another"})
    adapter = build(transport=emu.transport())
    with pytest.raises(AuthError):
        list(adapter.listings())


def test_emulator_state_survives_dump_and_load(world):
    adapter, emu = world()
    adapter.publish([TEE])
    emu.generate_orders(2)
    copy = ShopifyEmulator(credentials={"access_token": TOKEN})
    copy.load(emu.dump())
    assert copy.state == emu.state
    assert copy.quantity("TEE-S") == emu.quantity("TEE-S")


def test_publishing_an_unmapped_existing_sku_does_not_duplicate_the_product(world):
    adapter, emu = world()
    adapter.publish([MUG])
    [again] = adapter.publish([MUG])  # no ref: e.g. the mapping was lost
    assert again.ok and len(emu.state["products"]) == 1
    assert emu.quantity("MUG") == 9


def test_a_window_of_several_pages_is_caught_up_though_time_moved_while_paging(world):
    """Paging takes seconds: the window's end is then a little before `now - lag`. That is caught up (the
    next pull re-reads the overlap anyway); asking again at once would re-read every page of the window."""
    adapter, emu = world()
    assert all(r.ok for r in adapter.publish([ListingDraft("P0", "Product", "d", "t", usd("3"), 500)]))
    emu.generate_orders(30)  # two pages
    ticks = iter(range(0, 3600, 2))
    adapter.now = lambda: NOW + timedelta(seconds=next(ticks))  # 2 s pass per call
    first = adapter.orders_since(OrderCursor(NOW - timedelta(hours=1)))
    second = adapter.orders_since(first.next)
    assert not first.done and second.done
    assert len(first.orders) + len(second.orders) == 30


def test_the_sku_index_follows_every_way_variants_change():
    """SKU searches use an index (a scan per search was quadratic in a large publish): it follows variants
    created and deleted by mutations, and variants put into the state another way (a load, a test)."""
    emulator = ShopifyEmulator(credentials={"access_token": TOKEN}, options={"shop": "demo"}, seed=1)
    emulator.state["products"]["P"] = {"variants": []}
    first = emulator._new_variant("P", "A", "1.00", {})
    second = emulator._new_variant("P", "B", "1.00", {})
    assert emulator._vids_of("A") == [first] and emulator._vids_of("B") == [second]
    emulator._delete_variant(first)
    assert emulator._vids_of("A") == []
    emulator.state["variants"]["gid://shopify/ProductVariant/999"] = {"id": "x", "sku": "A", "productId": "P"}
    assert emulator._vids_of("A") == ["gid://shopify/ProductVariant/999"]
    emulator.state["variants"][second]["sku"] = "C"  # an index entry never stands for a changed SKU
    assert emulator._vids_of("B") == []
