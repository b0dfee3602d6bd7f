"""The emulator framework: routing, auth hook, rate limit, seeded faults, persistence, serving."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from listing_sync.adapters import registry
from listing_sync.adapters.base import ListingDraft, Money, RequestRejected, StockUpdate, TransientError
from listing_sync.adapters.emulator import Emulator, EmulatorHub, Faults, route
from listing_sync.adapters.http import RetryPolicy, TraceWriter
from listing_sync.adapters.ratelimits import headroom_tokens

from tests.adapters.toy import ToyAdapter, ToyEmulator
from tests.conftest import FakeClock, make_channel

RT = "rt-emulated-1"


class Shop(Emulator):
    """A tiny marketplace with overlapping routes."""

    kind = "shop"
    rate = 1000.0
    burst = 1000

    @route("GET", "/v3/items/{sku}")
    def item(self, request: httpx.Request, sku: str) -> httpx.Response:
        return self.json(200, {"route": "item", "sku": sku})

    @route("GET", "/v3/items/count")
    def count(self, request: httpx.Request) -> httpx.Response:
        return self.json(200, {"route": "count"})

    @route("POST", "/v3/items/{sku}/variants/{vid}")
    @route("PUT", "/v3/items/{sku}/variants/{vid}")
    def variant(self, request: httpx.Request, sku: str, vid: str) -> httpx.Response:
        return self.json(200, {"route": "variant", "sku": sku, "vid": vid, "method": request.method})


def call(emulator: Emulator, method: str, url: str, **kwargs) -> httpx.Response:
    with httpx.Client(transport=emulator.transport()) as client:
        return client.request(method, url, **kwargs)


def toy_adapter(emulator: ToyEmulator, clock: FakeClock, **kwargs) -> ToyAdapter:
    channel = make_channel("toy", credentials={"refresh_token": RT})
    return ToyAdapter(channel, transport=emulator.transport(), clock=clock, sleep=clock.sleep, **kwargs)


def draft(sku: str, quantity: int = 1) -> ListingDraft:
    return ListingDraft(sku, "Mug", "A mug", "1", Money.of("9.90", "USD"), quantity)


# ------------------------------------------------------------------------------------------- routing
def test_routes_bind_path_params() -> None:
    response = call(Shop(), "GET", "https://shop.example/v3/items/SKU-1")
    assert response.json() == {"route": "item", "sku": "SKU-1"}

    response = call(Shop(), "PUT", "https://shop.example/v3/items/A/variants/42")
    assert response.json() == {"route": "variant", "sku": "A", "vid": "42", "method": "PUT"}


def test_routes_match_the_end_of_the_path() -> None:
    # a site prefix (WooCommerce under /shop/wp-json/...) or a served emulator at / both match
    response = call(Shop(), "POST", "http://127.0.0.1:8080/shop/wp-json/v3/items/A/variants/7")
    assert response.json()["route"] == "variant"
    assert call(Shop(), "GET", "https://shop.example/v3/items/A/extra").status_code == 404


def test_the_most_specific_route_wins() -> None:
    assert call(Shop(), "GET", "https://shop.example/v3/items/count").json() == {"route": "count"}


def test_unknown_routes_and_methods_answer_404() -> None:
    shop = Shop()
    missing = call(shop, "GET", "https://shop.example/v3/nothing")
    assert missing.status_code == 404
    assert "GET /v3/nothing" in missing.json()["error"]
    assert call(shop, "DELETE", "https://shop.example/v3/items/A").status_code == 404
    assert len(shop.requests) == 2


# ---------------------------------------------------------------------------------------------- auth
def test_auth_hook_guards_the_routes(clock: FakeClock) -> None:
    emulator = ToyEmulator(credentials={"refresh_token": RT}, clock=clock)

    refused = call(emulator, "PUT", "https://api.toy.example/items/A", json={"price": "1", "qty": 1, "currency": "USD"})
    assert (refused.status_code, refused.json()) == (401, {"error": "invalid_token"})
    assert emulator.state["items"] == {}

    token = call(emulator, "POST", "https://api.toy.example/oauth/token", data={"refresh_token": RT}).json()
    accepted = call(
        emulator,
        "PUT",
        "https://api.toy.example/items/A",
        json={"price": "1.00", "qty": 1, "currency": "USD"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert accepted.status_code == 200
    assert emulator.state["items"]["A"]["qty"] == 1

    wrong = call(emulator, "POST", "https://api.toy.example/oauth/token", data={"refresh_token": "nope"})
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_grant"})


# ---------------------------------------------------------------------------------------- rate limit
def test_rate_limit_is_enforced_on_the_injected_clock(clock: FakeClock) -> None:
    emulator = ToyEmulator(credentials={"refresh_token": RT}, clock=clock)  # 5 per second, burst 5

    statuses = [call(emulator, "GET", "https://api.toy.example/orders").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]  # the bucket is checked before auth
    throttled = call(emulator, "GET", "https://api.toy.example/orders")
    assert throttled.headers["Retry-After"] == "1"

    clock.now += 0.2  # one token back
    assert call(emulator, "GET", "https://api.toy.example/orders").status_code == 401
    assert call(emulator, "GET", "https://api.toy.example/orders").status_code == 429


def test_rate_limit_can_be_switched_off(clock: FakeClock) -> None:
    emulator = ToyEmulator(clock=clock, enforce_rate=False)
    assert {call(emulator, "GET", "https://api.toy.example/orders").status_code for _ in range(50)} == {401}


def test_adapter_limiter_keeps_under_the_emulators_limit(clock: FakeClock) -> None:
    emulator = ToyEmulator(credentials={"refresh_token": RT}, clock=clock)
    adapter = toy_adapter(emulator, clock, retry=RetryPolicy(max_attempts=1))

    adapter.publish([draft("S0")])  # the token request is not paced by the adapter's limiter
    clock.now += 1
    start = clock.now
    adapter.publish([draft(f"S{i}") for i in range(30)])  # fails on the first 429 if pacing is wrong

    assert len(emulator.state["items"]) == 30
    # the burst less the headroom the adapter leaves the marketplace (one token), then 5 per second
    assert clock.now - start == pytest.approx((30 - 5 + headroom_tokens(5, 5)) / 5)


# -------------------------------------------------------------------------------------------- faults
def outcomes(emulator: Emulator, count: int = 60) -> list[str]:
    seen = []
    for _ in range(count):
        try:
            seen.append(str(call(emulator, "GET", "https://shop.example/v3/items/A").status_code))
        except httpx.HTTPError as exc:
            seen.append(type(exc).__name__)
    return seen


def test_seeded_faults_are_reproducible() -> None:
    faults = Faults(throttle=0.15, server_error=0.15, timeout=0.1, drop=0.1)

    first = outcomes(Shop(seed=42, faults=faults))
    again = outcomes(Shop(seed=42, faults=faults))
    other = outcomes(Shop(seed=43, faults=faults))

    assert first == again
    assert first != other
    assert set(first) == {"200", "429", "503", "ReadTimeout", "RemoteProtocolError"}


def test_a_lost_reply_applies_the_change_then_drops_the_connection(clock: FakeClock) -> None:
    emulator = ToyEmulator(credentials={"refresh_token": RT}, clock=clock)
    adapter = toy_adapter(emulator, clock, retry=RetryPolicy(max_attempts=1))
    adapter.publish([draft("A")])
    emulator.faults = Faults(lost_reply=1.0)
    with pytest.raises(TransientError, match="connection failed"):
        adapter.push_stock([StockUpdate("A", 7)])
    assert emulator.state["items"]["A"]["qty"] == 7  # done, though the client was never told


def test_no_faults_by_default() -> None:
    assert set(outcomes(Shop())) == {"200"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Faults()),
        ("throttle=0.1", Faults(throttle=0.1)),
        (" throttle = 0.1 , server-error=0.05,timeout=1,drop=0,partial=0.5 ", None),
    ],
)
def test_faults_parse(text: str, expected: Faults | None) -> None:
    parsed = Faults.parse(text)
    if expected is None:
        expected = Faults(throttle=0.1, server_error=0.05, timeout=1.0, drop=0.0, partial=0.5)
    assert parsed == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("bogus=0.1", "unknown fault 'bogus'"),
        ("throttle=1.5", "between 0 and 1"),
        ("throttle=-0.1", "between 0 and 1"),
        ("throttle=nan", "between 0 and 1"),
        ("throttle=often", "must be a number"),
        ("throttle", "must be a number"),
    ],
)
def test_faults_parse_refuses_bad_input(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        Faults.parse(text)


def test_partial_batch_failures_are_per_item_and_seeded(clock: FakeClock) -> None:
    def run(seed: int) -> tuple[list[bool], dict]:
        emulator = ToyEmulator(credentials={"refresh_token": RT}, clock=clock, seed=seed, faults=Faults(partial=0.5))
        adapter = toy_adapter(emulator, clock)
        adapter.publish([draft(s) for s in "ABC"])
        results = adapter.push_stock([StockUpdate(s, 9) for s in "ABC"])
        assert [r.sku for r in results] == list("ABC")
        return [r.ok for r in results], emulator.state["items"]

    oks, items = run(seed=3)
    assert True in oks and False in oks  # one batch, some items applied, some refused
    for sku, ok in zip("ABC", oks, strict=True):
        assert (items[sku]["qty"] == 9) is ok
    assert run(seed=3)[0] == oks


def test_batch_maxima_are_enforced(clock: FakeClock) -> None:
    emulator = ToyEmulator(credentials={"refresh_token": RT}, clock=clock)
    adapter = toy_adapter(emulator, clock)

    with pytest.raises(RequestRejected, match="too many items"):
        adapter.push_stock([StockUpdate(s, 1) for s in "ABCD"])  # the toy takes at most 3


# --------------------------------------------------------------------------------------- persistence
def test_dump_and_load_round_trip(clock: FakeClock) -> None:
    emulator = ToyEmulator(credentials={"refresh_token": RT}, clock=clock, seed=9)
    toy_adapter(emulator, clock).publish([draft("A", 4), draft("B", 2)])
    emulator.next_id("order")

    text = emulator.dump()
    assert json.loads(text)["seed"] == 9
    restored = ToyEmulator(credentials={"refresh_token": RT})
    restored.load(text)

    assert restored.state == emulator.state
    assert restored.state["items"]["A"] == {"price": "9.90", "qty": 4, "currency": "USD"}
    assert restored.next_id("order") == emulator.next_id("order") == 1002


def test_snapshot_is_a_copy(clock: FakeClock) -> None:
    emulator = ToyEmulator(clock=clock)
    snapshot = emulator.snapshot()
    snapshot["items"]["X"] = {}
    assert emulator.state["items"] == {}


@pytest.fixture
def toy_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "KINDS", dict(registry.KINDS))
    registry.register("toy", "tests.adapters.toy:ToyAdapter", "tests.adapters.toy:ToyEmulator")


def test_hub_keeps_one_emulator_per_channel_and_persists_it(tmp_path: Path, toy_kind: None) -> None:
    channel = make_channel("toy", name="toy-a", base_url="emulator:", credentials={"refresh_token": RT})
    other = make_channel("toy", name="toy-b", base_url="emulator:", credentials={"refresh_token": RT})
    hub = EmulatorHub(tmp_path / "emulators")

    assert hub.get(channel) is hub.get(channel)
    assert hub.get(channel).seed != hub.get(other).seed
    adapter = registry.build_adapter(channel, hub=hub, sleep=lambda s: None)
    adapter.publish([draft("A", 3)])
    hub.save()

    assert sorted(p.name for p in (tmp_path / "emulators").iterdir()) == ["toy-a.json", "toy-b.json"]
    reloaded = EmulatorHub(tmp_path / "emulators").get(channel)
    assert reloaded.state["items"]["A"]["qty"] == 3
    assert dict(EmulatorHub(tmp_path / "emulators")) == {}  # nothing loaded until asked for


def test_hub_without_a_directory_keeps_state_in_memory(toy_kind: None) -> None:
    hub = EmulatorHub(faults=Faults(throttle=0.5))
    emulator = hub.get(make_channel("toy", base_url="emulator:"))
    hub.save()  # a no-op
    assert emulator.faults == Faults(throttle=0.5)
    assert emulator.credentials == {}


# ------------------------------------------------------------------------------------------- serving
def test_serve_on_loopback_is_reachable_through_the_adapter(tmp_path: Path) -> None:
    emulator = ToyEmulator(credentials={"refresh_token": RT})
    server = emulator.serve()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1" and port > 0
        channel = make_channel("toy", base_url=f"http://127.0.0.1:{port}", credentials={"refresh_token": RT})
        path = tmp_path / "trace.jsonl"
        with ToyAdapter(channel, trace=TraceWriter(path)) as adapter:
            assert adapter.publish([draft("A", 2), draft("B", 1)])[0].ok
            results = adapter.push_stock([StockUpdate("A", 7), StockUpdate("Z", 1)])

        assert [r.ok for r in results] == [True, False]
        assert emulator.state["items"]["A"]["qty"] == 7
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert [line["status"] for line in lines] == [200, 200, 200, 207]
        assert lines[-1]["url"] == f"http://127.0.0.1:{port}/stock"
    finally:
        server.shutdown()
        server.server_close()


def test_served_faults_drop_the_connection() -> None:
    emulator = ToyEmulator(credentials={"refresh_token": RT}, faults=Faults(drop=1.0))
    server = emulator.serve()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        channel = make_channel("toy", base_url=url, credentials={"refresh_token": RT})
        waits: list[float] = []
        adapter = ToyAdapter(channel, sleep=waits.append, retry=RetryPolicy(max_attempts=2))
        with adapter, pytest.raises(TransientError, match="connection failed"):
            adapter.http.get("/orders")
        assert len(waits) == 1
        assert [r.url.path for r in emulator.requests] == ["/oauth/token", "/oauth/token"]
    finally:
        server.shutdown()
        server.server_close()


def test_hub_gives_shop_emulators_the_channel_currency() -> None:
    """A shop has one currency: the emulated shop takes the channel's, so its orders are in it."""
    from listing_sync.adapters.emulator import EmulatorHub
    from listing_sync.config.channels import ChannelConfig

    hub = EmulatorHub()
    woo = ChannelConfig(name="woo", kind="woocommerce", currency="CNY", warehouses=("SH",), base_url="emulator:")
    shop = ChannelConfig(
        name="shop",
        kind="shopify",
        currency="EUR",
        warehouses=("SH",),
        base_url="emulator:",
        options={"shop": "x", "api_version": "2026-10"},
    )
    assert hub.get(woo).state["settings"]["currency"] == "CNY"
    assert hub.get(shop).state["currency"] == "EUR"
