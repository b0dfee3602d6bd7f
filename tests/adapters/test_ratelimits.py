"""Rate limiters: one budget per marketplace credential, in one process or shared through Redis by many,
and urgent requests (the stock lane) ahead of a backlog."""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from listing_sync.adapters import ratelimits, registry
from listing_sync.adapters.http import ChannelHTTP, RetryPolicy
from listing_sync.adapters.ratelimits import LocalLimits, RedisLimits, TokenBucket, headroom_tokens, limit_key
from listing_sync.config.channels import load_channels

from tests.conftest import FakeClock
from tests.syncer.scenario import ROOT

from .toy import ToyAdapter, ToyEmulator

REDIS_URL = os.environ.get("SYNCER_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="SYNCER_TEST_REDIS_URL not set (no Redis server)")


def toy(channel_factory, store, **credentials):
    channel = channel_factory("toy", credentials=credentials or {"refresh_token": "rt-1"})
    return ToyAdapter(channel, limits=store)


def test_adapters_given_one_store_share_a_credentials_limiters(channel_factory):
    store = LocalLimits()
    first, second = toy(channel_factory, store), toy(channel_factory, store)
    other = toy(channel_factory, store, refresh_token="rt-2")
    assert first.http.limiter() is second.http.limiter()
    assert other.http.limiter() is not first.http.limiter()
    assert toy(channel_factory, None).http.limiter() is not first.http.limiter()  # no store: its own


def test_limit_key_names_no_secret():
    key = limit_key("ebay", "https://api.ebay.com", {"client_secret": "s3cr3t-value"})
    assert "s3cr3t" not in key and len(key) == 32
    assert key != limit_key("ebay", "https://api.ebay.com", {"client_secret": "other"})


def test_an_urgent_acquire_goes_ahead_of_a_waiting_backlog():
    bucket = TokenBucket(20, 1)  # one token every 50 ms
    taken: list[str] = []
    stop = threading.Event()

    def backlog() -> None:
        while not stop.is_set():
            bucket.acquire()
            taken.append("price")

    worker = threading.Thread(target=backlog)
    worker.start()
    try:
        time.sleep(0.3)
        before = len(taken)
        began = time.monotonic()
        bucket.acquire(urgent=True)
        waited = time.monotonic() - began
        taken.append("stock")
        after = taken.index("stock")
    finally:
        stop.set()
        worker.join()
    # it waited about one token, and at most one price push (already at the head) went before it
    assert waited < 0.12
    assert after - before <= 1


def test_a_backlog_keeping_a_reserve_leaves_tokens_for_an_urgent_request(clock):
    bucket = TokenBucket(10, 4, clock=clock, sleep=clock.sleep)
    assert [bucket.try_acquire(1, keep=1) for _ in range(4)] == [True, True, True, False]
    assert bucket.try_acquire(1)  # the reserve: an urgent request takes it at once
    assert bucket.wait_time(1, keep=1) == pytest.approx(0.2)  # the backlog's sustained rate is unchanged


# --------------------------------------------------------------------------------------- headroom
@pytest.mark.parametrize(
    ("rate", "burst", "tokens"),
    [
        (10, 10, 1.0),  # AliExpress: one token
        (5, 10, 1.0),  # Taobao: one token (half a token would be 0.1 s)
        (2_000_000 / 86_400, 25, 2_000_000 / 86_400 * 0.1),  # eBay: 0.1 s of its 23 per second
        (100, 1000, 10.0),  # Shopify: 0.1 s of its 100 points per second
        (0.0083, 5, 1.0),  # Amazon createFeed
        (5, 1, 0.0),  # a bucket of one has no token to spare
        (20, 2, 1.0),  # 0.1 s would be 2 tokens: one stays to spend
    ],
)
def test_headroom_is_a_token_or_a_tenth_of_a_second_of_refill(rate, burst, tokens):
    assert headroom_tokens(rate, burst) == pytest.approx(tokens)


def test_a_bucket_with_headroom_leaves_it_in_the_marketplace_s_bucket(clock):
    bucket = TokenBucket(10, 10, headroom=1, clock=clock, sleep=clock.sleep)
    assert (bucket.rate, bucket.burst) == (10.0, 10.0)  # the documented bucket
    assert sum(bucket.try_acquire() for _ in range(12)) == 9
    start = clock.now
    for _ in range(50):
        bucket.acquire()
    assert clock.now - start == pytest.approx(5.0)  # the sustained rate is the documented one
    clock.now += 100
    bucket.observe(4, burst=40)  # the server's count: 4 left of 40; the headroom stays the server's
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]


def test_a_larger_bucket_the_server_reports_gets_its_own_headroom(clock):
    """Shopify's throttleStatus on a larger plan: a bigger bucket restoring faster than the adapter's
    default. The slack left grows to 0.1 s of the reported rate, not the default plan's."""
    bucket = TokenBucket(50, 1000, headroom=headroom_tokens(50, 1000), clock=clock, sleep=clock.sleep)
    assert bucket.headroom == 5
    bucket.observe(2000, rate=100, burst=2000)
    assert bucket.headroom == 10
    assert bucket.try_acquire(1990) and not bucket.try_acquire(1)
    bucket.set_rate(20)  # Amazon's x-amzn-RateLimit-Limit: a new rate, a new headroom
    assert bucket.headroom == 2


def test_a_limiter_built_without_headroom_keeps_none(clock):
    bucket = TokenBucket(50, 1000, clock=clock, sleep=clock.sleep)  # the emulators' own buckets
    bucket.observe(2000, rate=100, burst=2000)
    assert bucket.headroom == 0 and bucket.try_acquire(2000)


def test_every_channel_s_limiters_leave_the_marketplace_its_headroom():
    """The HTTP layer applies it to every limiter a marketplace declares (adapters stay declarative)."""
    channels = load_channels(ROOT / "config" / "channels.example.toml")
    assert {c.kind for c in channels} == set(registry.known_kinds())
    for channel in channels:
        adapter = registry.adapter_class(channel.kind)(channel)
        for name, bucket in adapter.http.limiters.items():
            assert bucket.headroom == headroom_tokens(bucket.rate, bucket.burst) > 0, (channel.kind, name)
        adapter.close()


class _Late:
    """A transport in front of an emulator: each request reaches it 0..``most`` seconds (seeded) after its
    token was taken, the way a signed, serialised request on a loaded machine or network does."""

    def __init__(self, emulator: ToyEmulator, clock: FakeClock, most: float) -> None:
        self.emulator, self.clock, self.most = emulator, clock, most
        self.rng = random.Random(7)
        self.refused = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.clock.now += self.rng.uniform(0, self.most)
        response = self.emulator.handle(request)
        self.refused += response.status_code == 429
        return response


def _refusals(channel_factory, clock: FakeClock) -> int:
    """Requests a marketplace enforcing its documented limit (the toy's: 5 per second, burst 5) refused of
    300 the adapter paced by the same limit, each up to a third of a token's time late."""
    emulator = ToyEmulator(credentials={"refresh_token": "rt-1"}, clock=clock)
    late = _Late(emulator, clock, most=0.3 / emulator.rate)
    channel = channel_factory("toy", credentials={"refresh_token": "rt-1"})
    retry = RetryPolicy(max_attempts=5, max_seconds=120, base=0.5, cap=30)
    adapter = ToyAdapter(channel, transport=httpx.MockTransport(late), clock=clock, sleep=clock.sleep, retry=retry)
    adapter.http.get("/orders")  # the token (fetched outside the limiter) ...
    clock.now += 10  # ... and both buckets full again
    late.refused = 0
    for _ in range(300):
        adapter.http.get("/orders")
    adapter.close()
    return late.refused


def test_requests_arriving_late_are_never_refused_with_the_headroom(channel_factory, clock):
    assert _refusals(channel_factory, clock) == 0


def test_without_the_headroom_late_requests_are_refused(channel_factory, clock, monkeypatch):
    """What the headroom prevents: the adapter's bucket and the marketplace's drained in lockstep."""
    monkeypatch.setattr(ratelimits, "HEADROOM_TOKENS", 0.0)
    monkeypatch.setattr(ratelimits, "HEADROOM_SECONDS", 0.0)
    assert _refusals(channel_factory, clock) > 0


# ------------------------------------------------------------------------------------------ Redis
@pytest.fixture
def redis_prefix():
    prefix = f"test-rate-{uuid.uuid4().hex}:"
    yield prefix
    store = RedisLimits.from_url(REDIS_URL or "", prefix=prefix)
    for key in store.client.scan_iter(f"{prefix}*"):
        store.client.delete(key)


@pytest.mark.redis
@needs_redis
def test_redis_bucket_takes_the_burst_then_waits_and_shares_pauses(redis_prefix):
    one = RedisLimits.from_url(REDIS_URL, prefix=redis_prefix).bucket("k", 10, 2)
    two = RedisLimits.from_url(REDIS_URL, prefix=redis_prefix).bucket("k", 10, 2)  # another process's view
    assert one.try_acquire() and two.try_acquire()
    assert not one.try_acquire()
    assert 0.05 < two.wait_time() <= 0.1
    one.pause(2.0)  # a Retry-After one process got holds every process off
    assert 1.5 < two.wait_time() <= 2.0
    assert not two.try_acquire()


@pytest.mark.redis
@needs_redis
def test_redis_bucket_keeps_a_reserve_for_urgent_requests(redis_prefix):
    bucket = RedisLimits.from_url(REDIS_URL, prefix=redis_prefix).bucket("k", 1, 4)
    assert [bucket.try_acquire(1, keep=1) for _ in range(4)] == [True, True, True, False]
    assert bucket.try_acquire(1)


@pytest.mark.redis
@needs_redis
def test_redis_bucket_adopts_what_the_server_tells_one_process(redis_prefix):
    one = RedisLimits.from_url(REDIS_URL, prefix=redis_prefix).bucket("k", 100, 10)
    two = RedisLimits.from_url(REDIS_URL, prefix=redis_prefix).bucket("k", 100, 10)
    one.observe(0, rate=10, burst=10)  # Shopify's throttleStatus: nothing left, 10 per second restore
    assert 0.05 < two.wait_time() <= 0.1  # (less the time between the calls)
    one.set_rate(1)  # Amazon's x-amzn-RateLimit-Limit
    assert 0.5 < two.wait_time() <= 1.0  # the part of a token refilled meanwhile, now at 1/s


@pytest.mark.redis
@needs_redis
def test_redis_bucket_leaves_the_headroom_to_the_marketplace(redis_prefix):
    one = RedisLimits.from_url(REDIS_URL, prefix=redis_prefix).bucket("k", 1, 4, headroom=1)
    two = RedisLimits.from_url(REDIS_URL, prefix=redis_prefix).bucket("k", 1, 4, headroom=1)
    assert (one.rate, one.burst, one.headroom) == (1.0, 4.0, 1.0)  # the documented bucket, and its slack
    assert [one.try_acquire(), two.try_acquire(), one.try_acquire(), two.try_acquire()] == [True] * 3 + [False]
    one.observe(3, burst=4)  # the server's count: 3 of 4 left, of which the headroom stays the server's
    assert [two.try_acquire(), two.try_acquire(), one.try_acquire()] == [True, True, False]


@pytest.mark.redis
@needs_redis
def test_redis_bucket_retunes_the_headroom_for_a_reported_bucket(redis_prefix):
    one = RedisLimits.from_url(REDIS_URL, prefix=redis_prefix).bucket("k", 50, 1000, headroom=5)
    two = RedisLimits.from_url(REDIS_URL, prefix=redis_prefix).bucket("k", 50, 1000, headroom=5)
    one.observe(2000, rate=100, burst=2000)  # told one process; Redis holds it for every process
    assert one.headroom == 10
    assert two.try_acquire(1990) and not two.try_acquire(1)


# -------------------------------------------------------------------------------- many processes
RATE, BURST, PER_PROCESS, PROCESSES = 20.0, 2, 12, 3
SLACK = 3


class _Stub(BaseHTTPRequestHandler):
    """A marketplace stub that notes when each request arrived."""

    protocol_version = "HTTP/1.1"
    arrivals: list[float] = []
    throttle_at: int | None = None  # answer this request (by arrival) 429 with Retry-After: 1
    throttled = 0.0  # when it arrived

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.arrivals.append(time.monotonic())
        throttled = len(self.arrivals) == self.throttle_at
        self.send_response(429 if throttled else 200)
        if throttled:
            type(self).throttled = self.arrivals[-1]
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def _client(port: int, store_kind: str, prefix: str, start: multiprocessing.synchronize.Event) -> None:
    """One worker process: its own store and HTTP layer, the same credential, PER_PROCESS requests."""
    base = f"http://127.0.0.1:{port}"
    store = RedisLimits.from_url(REDIS_URL or "", prefix=prefix) if store_kind == "redis" else LocalLimits()
    key = limit_key("stub", base, {"app_key": "same-app"})
    http = ChannelHTTP(channel="stub", kind="stub", base_url=base, limiters={"default": store.bucket(key, RATE, BURST)})
    start.wait(10)
    for _ in range(PER_PROCESS):
        http.get("/items")
    http.close()


def _arrivals_of(store_kind: str, prefix: str, throttle_at: int | None = None) -> list[float]:
    _Stub.arrivals, _Stub.throttle_at = [], throttle_at
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    port = server.server_address[1]
    children = [ctx.Process(target=_client, args=(port, store_kind, prefix, start)) for _ in range(PROCESSES)]
    try:
        for child in children:
            child.start()
        time.sleep(0.5)  # every child has built its limiter
        start.set()
        for child in children:
            child.join(30)
        assert all(child.exitcode == 0 for child in children)
    finally:
        server.shutdown()
        server.server_close()
    return sorted(_Stub.arrivals)


def _most_in_any_window(arrivals: list[float], window: float) -> int:
    return max(sum(1 for t in arrivals[i:] if t - start < window) for i, start in enumerate(arrivals))


def _allowed(window: float) -> float:
    return BURST + RATE * window


@pytest.mark.redis
@needs_redis
def test_processes_sharing_a_redis_limit_never_exceed_it(redis_prefix):
    arrivals = _arrivals_of("redis", redis_prefix)
    assert len(arrivals) == PROCESSES * PER_PROCESS
    for window in (0.25, 0.5, 1.0):
        # the budget over any window: the burst plus the rate; an allowance for requests that took their
        # token in time but travelled slowly (a loaded machine bunches their arrival)
        assert _most_in_any_window(arrivals, window) <= _allowed(window) + SLACK, window
    span = arrivals[-1] - arrivals[0]
    assert span >= (len(arrivals) - BURST) / RATE * 0.9  # it took as long as the shared budget says


def test_processes_each_with_a_local_limit_exceed_it():
    """What the Redis store prevents: three processes, each keeping its own bucket, send three budgets."""
    arrivals = _arrivals_of("local", "")
    assert _most_in_any_window(arrivals, 0.5) > _allowed(0.5) + SLACK


@pytest.mark.redis
@needs_redis
def test_a_retry_after_one_process_gets_holds_every_process_off(redis_prefix):
    arrivals = _arrivals_of("redis", redis_prefix, throttle_at=8)
    throttled = _Stub.throttled
    assert len(arrivals) == PROCESSES * PER_PROCESS + 1  # the throttled request was sent again
    # nobody sends in the second the marketplace asked for, but what was already on its way (at most one
    # request of each other process, its token taken before the pause)
    during = [t for t in arrivals if throttled < t < throttled + 0.95]
    assert len(during) <= PROCESSES - 1
    assert not [t for t in during if t > throttled + 0.3]
