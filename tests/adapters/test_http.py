"""The shared HTTP layer: retries and backoff, rate limiting, token refresh, redaction, trace, error mapping."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
import respx
from listing_sync.adapters import http as http_module
from listing_sync.adapters.base import (
    AuthError,
    ConfigurationError,
    ListingDraft,
    Money,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    TransientError,
)
from listing_sync.adapters.emulator import Faults
from listing_sync.adapters.http import (
    ChannelHTTP,
    Redactor,
    RefreshingTokenAuth,
    RetryPolicy,
    TokenBucket,
    TraceWriter,
    parse_retry_after,
    trace_writer,
)

from tests.adapters.toy import ToyAdapter, ToyEmulator
from tests.conftest import FakeClock, make_channel

BASE = "https://api.test.example"
SECRET = "s3cr/et+key=with spaces&more"  # a credential that changes under every URL encoding
TOKEN = "tok-RUNTIME-9f8e7d"  # an access token only known at run time
TRACE_KEYS = {
    "ts",
    "channel",
    "kind",
    "method",
    "url",
    "request_headers",
    "request_body",
    "status",
    "response_headers",
    "response_body",
    "elapsed_ms",
}


class Waits(list):
    """An injected retry ``sleep`` that records each wait and moves the fake clock on."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.clock.now += seconds


def make_http(
    clock: FakeClock,
    *,
    retry: RetryPolicy = RetryPolicy(max_attempts=5, max_seconds=120, base=0.5, cap=30),
    rate: float = 1000,
    burst: float = 1000,
    **kwargs,
) -> tuple[ChannelHTTP, Waits]:
    waits = Waits(clock)
    limiters = {"default": TokenBucket(rate, burst, clock=clock, sleep=clock.sleep)}
    http = ChannelHTTP(
        channel="toy-test", kind="toy", base_url=BASE, limiters=limiters, retry=retry, sleep=waits, **kwargs
    )
    return http, waits


def read_trace(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def secret_forms(*secrets: str) -> list[str]:
    return [form for s in secrets for form in (s, quote(s, safe=""), quote_plus(s))]


@pytest.fixture
def upper_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the full jitter deterministic: every wait takes the top of its range."""
    monkeypatch.setattr(http_module.random, "uniform", lambda low, high: high)


# ------------------------------------------------------------------------------------ retries/backoff
@respx.mock
def test_retries_5xx_until_success(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items").mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": True})]
    )
    http, waits = make_http(clock)

    response = http.get("/items")

    assert response.json() == {"ok": True}
    assert route.call_count == 3
    assert len(waits) == 2
    assert http.calls == 3


@respx.mock
def test_gives_up_after_max_attempts(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items").mock(return_value=httpx.Response(500, text="boom"))
    http, waits = make_http(clock, retry=RetryPolicy(max_attempts=4, max_seconds=1000))

    with pytest.raises(TransientError) as info:
        http.get("/items")

    assert route.call_count == 4
    assert len(waits) == 3
    assert info.value.status == 500


@respx.mock
def test_backoff_is_exponential_and_capped(clock: FakeClock, upper_jitter: None) -> None:
    respx.get(f"{BASE}/items").mock(return_value=httpx.Response(503))
    http, waits = make_http(clock, retry=RetryPolicy(max_attempts=6, max_seconds=1000, base=0.5, cap=3))

    with pytest.raises(TransientError):
        http.get("/items")

    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0]


@respx.mock
def test_backoff_jitter_stays_within_the_exponential_bound(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items").mock(return_value=httpx.Response(503))
    policy = RetryPolicy(max_attempts=8, max_seconds=10_000, base=1, cap=20)
    http, waits = make_http(clock, retry=policy)

    with pytest.raises(TransientError):
        http.get("/items")

    assert len(waits) == 7
    bounds = [min(policy.cap, policy.base * 2**n) for n in range(7)]
    assert all(0 <= wait <= bound for wait, bound in zip(waits, bounds, strict=True))
    assert len(set(waits)) > 1  # jittered, not a fixed schedule


@respx.mock
def test_total_time_budget_caps_retries(clock: FakeClock, upper_jitter: None) -> None:
    route = respx.get(f"{BASE}/items").mock(return_value=httpx.Response(503))
    http, waits = make_http(clock, retry=RetryPolicy(max_attempts=50, max_seconds=10, base=1, cap=4))

    with pytest.raises(TransientError):
        http.get("/items")

    assert sum(waits) <= 10
    assert waits[:3] == [1, 2, 4]
    assert route.call_count == len(waits) + 1 < 50


@pytest.mark.parametrize("status", [400, 404, 409, 422])
@respx.mock
def test_no_retry_on_other_4xx(clock: FakeClock, status: int) -> None:
    route = respx.post(f"{BASE}/items").mock(return_value=httpx.Response(status, json={"error": "bad sku"}))
    http, waits = make_http(clock)

    with pytest.raises(RequestRejected) as info:
        http.post("/items", json={"sku": "A"})

    assert route.call_count == 1
    assert waits == []
    assert info.value.status == status
    assert not info.value.retryable


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(429),
        httpx.Response(500),
        httpx.Response(503),
        httpx.Response(408),
        httpx.ReadTimeout,
        httpx.ConnectTimeout,
        httpx.ConnectError,
        httpx.RemoteProtocolError,
    ],
    ids=["429", "500", "503", "408", "read-timeout", "connect-timeout", "connect-error", "dropped"],
)
@respx.mock
def test_retries_throttling_server_errors_and_transport_failures(clock: FakeClock, failure) -> None:
    route = respx.get(f"{BASE}/items").mock(side_effect=[failure, httpx.Response(200, json=[])])
    http, waits = make_http(clock)

    assert http.get("/items").json() == []
    assert route.call_count == 2
    assert len(waits) == 1


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError], ids=["read-timeout", "dropped", "read"]
)
@respx.mock
def test_a_create_whose_answer_is_lost_is_not_sent_again(clock: FakeClock, failure) -> None:
    route = respx.post(f"{BASE}/items").mock(side_effect=[failure, httpx.Response(201, json={"id": 1})])
    http, waits = make_http(clock)

    with pytest.raises(OutcomeUnknown) as info:
        http.post("/items", json={"sku": "A"}, idempotent=False)
    assert route.call_count == 1
    assert waits == []
    assert "after sending" in str(info.value) and "POST" in str(info.value)


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError, httpx.ConnectTimeout], ids=["connect-error", "connect-timeout"]
)
@respx.mock
def test_a_create_that_never_reached_the_server_is_retried(clock: FakeClock, failure) -> None:
    route = respx.post(f"{BASE}/items").mock(side_effect=[failure, httpx.Response(201, json={"id": 1})])
    http, _ = make_http(clock)

    assert http.post("/items", json={"sku": "A"}, idempotent=False).json() == {"id": 1}
    assert route.call_count == 2


@respx.mock
def test_retry_after_seconds_is_honoured(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[])]
    )
    http, waits = make_http(clock)

    http.get("/items")

    assert waits == [7.0]  # the server's hint wins over the (at most 0.5 s) first backoff


@respx.mock
def test_retry_after_http_date_is_honoured(clock: FakeClock) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    respx.get(f"{BASE}/items").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200, json=[])]
    )
    http, waits = make_http(clock)

    http.get("/items")

    assert len(waits) == 1
    assert 28 <= waits[0] <= 30


@respx.mock
def test_retry_after_pauses_the_channel_limiter(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items").mock(return_value=httpx.Response(429, headers={"Retry-After": "5"}))
    http, _ = make_http(clock, retry=RetryPolicy(max_attempts=1))

    with pytest.raises(RateLimited):
        http.get("/items")

    assert http.limiter().wait_time() == pytest.approx(5.0)


@respx.mock
def test_time_budget_cuts_off_a_too_long_retry_after(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items").mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    http, waits = make_http(clock, retry=RetryPolicy(max_attempts=5, max_seconds=60))

    with pytest.raises(RateLimited) as info:
        http.get("/items")

    assert route.call_count == 1
    assert waits == []
    assert info.value.retry_after == 3600

    # the next call on the paused channel hands the wait back instead of blocking in the limiter
    with pytest.raises(RateLimited) as again:
        http.get("/items")
    assert route.call_count == 1
    assert clock.sleeps == []
    assert again.value.retry_after == pytest.approx(3600)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), (" 3.5 ", 3.5), ("0", 0.0), ("-4", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC).timestamp()
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0


# ------------------------------------------------------------------------------------- rate limiting
def test_token_bucket_holds_its_rate_over_a_burst(clock: FakeClock) -> None:
    bucket = TokenBucket(5, 5, clock=clock, sleep=clock.sleep)
    start = clock.now

    waited = [bucket.acquire() for _ in range(5)]
    assert waited == [0.0] * 5  # the burst goes at once
    for _ in range(50):
        bucket.acquire()

    assert clock.now - start == pytest.approx(10.0, abs=1e-6)  # then exactly 5 per second


def test_token_bucket_exact_over_many_calls(clock: FakeClock) -> None:
    bucket = TokenBucket(3, 1, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(301):
        bucket.acquire()
    assert clock.now - start == pytest.approx(100.0, abs=1e-6)


def test_token_bucket_refills_while_idle_up_to_burst(clock: FakeClock) -> None:
    bucket = TokenBucket(2, 4, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        assert bucket.try_acquire()
    assert not bucket.try_acquire()
    clock.now += 100  # a long idle refills at most ``burst`` tokens
    assert sum(bucket.try_acquire() for _ in range(10)) == 4


def test_token_bucket_pause_from_a_server_hint(clock: FakeClock) -> None:
    bucket = TokenBucket(10, 10, clock=clock, sleep=clock.sleep)
    bucket.pause(4)

    assert not bucket.try_acquire()
    assert bucket.wait_time() == pytest.approx(4.0)
    start = clock.now
    bucket.acquire()
    assert clock.now - start == pytest.approx(4.0)


def test_token_bucket_observe_adopts_the_servers_view(clock: FakeClock) -> None:
    bucket = TokenBucket(10, 10, clock=clock, sleep=clock.sleep)
    bucket.observe(0, rate=2, burst=40)  # Shopify-style: nothing left, restores 2 per second

    assert (bucket.rate, bucket.burst) == (2.0, 40.0)
    assert bucket.wait_time() == pytest.approx(0.5)

    bucket.observe(3)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]


def test_token_bucket_set_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(10, 1, clock=clock, sleep=clock.sleep)
    bucket.set_rate(0.5)  # Amazon-style x-amzn-RateLimit-Limit
    start = clock.now
    for _ in range(4):
        bucket.acquire()
    assert clock.now - start == pytest.approx(6.0)


def test_token_bucket_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)


@respx.mock
def test_channel_http_paces_requests_through_its_limiters(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items").mock(return_value=httpx.Response(200))
    http, _ = make_http(clock, rate=4, burst=2)
    http.limiters["orders"] = TokenBucket(1, 1, clock=clock, sleep=clock.sleep)
    start = clock.now

    for _ in range(20):
        http.get("/items")
    assert clock.now - start == pytest.approx((20 - 2) / 4)

    start = clock.now
    for _ in range(3):
        http.get("/items", limiter="orders")
    assert clock.now - start == pytest.approx(2.0)


# ---------------------------------------------------------------------------------------------- auth
def token_auth(clock: FakeClock, redactor: Redactor | None = None, **kwargs) -> RefreshingTokenAuth:
    return RefreshingTokenAuth(
        token_request=lambda: httpx.Request("POST", f"{BASE}/oauth/token", data={"refresh_token": SECRET}),
        parse_token=lambda r: (r.json()["access_token"], r.json()["expires_in"]),
        apply=lambda request, token: request.headers.__setitem__("Authorization", f"Bearer {token}"),
        redactor=redactor,
        clock=clock,
        **kwargs,
    )


def token_response(token: str, expires_in: float = 3600) -> httpx.Response:
    return httpx.Response(200, json={"access_token": token, "expires_in": expires_in})


def bearer(accepted: str):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") == f"Bearer {accepted}":
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"error": "invalid_token"})

    return answer


@respx.mock
def test_refreshes_once_on_401_and_resends(clock: FakeClock) -> None:
    tokens = respx.post(f"{BASE}/oauth/token").mock(side_effect=[token_response("tok-old"), token_response("tok-new")])
    api = respx.get(f"{BASE}/items").mock(side_effect=bearer("tok-new"))
    auth = token_auth(clock)
    http, waits = make_http(clock, auth=auth)

    assert http.get("/items").json() == {"ok": True}
    assert tokens.call_count == 2
    assert api.call_count == 2
    assert auth.refreshes == 2
    assert waits == []


@respx.mock
def test_still_refused_after_refresh_is_a_clear_auth_error(clock: FakeClock) -> None:
    tokens = respx.post(f"{BASE}/oauth/token").mock(side_effect=lambda r: token_response("tok-never"))
    api = respx.get(f"{BASE}/items").mock(return_value=httpx.Response(401, json={"error": "invalid_token"}))
    http, waits = make_http(clock, auth=token_auth(clock))

    with pytest.raises(AuthError) as info:
        http.get("/items")

    assert tokens.call_count == 2  # the first token, then ONE refresh
    assert api.call_count == 2
    assert waits == []
    message = str(info.value)
    assert "HTTP 401" in message
    assert f"GET {BASE}/items" in message
    assert "re-authorize" in message
    assert message.startswith("[toy-test]")


@respx.mock
def test_token_is_cached_until_shortly_before_expiry(clock: FakeClock) -> None:
    tokens = respx.post(f"{BASE}/oauth/token").mock(side_effect=lambda r: token_response("tok-a", 600))
    respx.get(f"{BASE}/items").mock(side_effect=bearer("tok-a"))
    http, _ = make_http(clock, auth=token_auth(clock, margin_seconds=120))

    http.get("/items")
    clock.now += 470
    http.get("/items")
    assert tokens.call_count == 1  # still 130 s before expiry

    clock.now += 20
    http.get("/items")
    assert tokens.call_count == 2  # within the 120 s margin: renewed early


@respx.mock
def test_short_lived_token_is_reused(clock: FakeClock) -> None:
    tokens = respx.post(f"{BASE}/oauth/token").mock(side_effect=lambda r: token_response("tok-a", 60))
    respx.get(f"{BASE}/items").mock(side_effect=bearer("tok-a"))
    http, _ = make_http(clock, auth=token_auth(clock, margin_seconds=120))

    for _ in range(3):
        http.get("/items")

    assert tokens.call_count == 1


@respx.mock
def test_invalid_grant_on_refresh_is_an_auth_error_without_retries(clock: FakeClock) -> None:
    tokens = respx.post(f"{BASE}/oauth/token").mock(
        return_value=httpx.Response(400, json={"error": "invalid_grant", "error_description": "revoked"})
    )
    api = respx.get(f"{BASE}/items").mock(return_value=httpx.Response(200))
    http, waits = make_http(clock, auth=token_auth(clock))

    with pytest.raises(AuthError) as info:
        http.get("/items")

    assert tokens.call_count == 1
    assert api.call_count == 0
    assert waits == []
    assert "invalid_grant" in str(info.value)
    assert "HTTP 400" in str(info.value)


@respx.mock
def test_token_endpoint_outage_is_transient_and_retried(clock: FakeClock) -> None:
    respx.post(f"{BASE}/oauth/token").mock(side_effect=[httpx.Response(503), token_response("tok-a")])
    respx.get(f"{BASE}/items").mock(side_effect=bearer("tok-a"))
    http, waits = make_http(clock, auth=token_auth(clock))

    assert http.get("/items").status_code == 200
    assert len(waits) == 1


def test_toy_adapter_with_a_revoked_refresh_token_gets_auth_error(clock: FakeClock) -> None:
    emulator = ToyEmulator(credentials={"refresh_token": "the-real-one"}, clock=clock)
    channel = make_channel("toy", credentials={"refresh_token": "a-revoked-one"})
    adapter = ToyAdapter(channel, transport=emulator.transport(), clock=clock, sleep=clock.sleep)
    draft = ListingDraft("A", "Mug", "A mug", "1", Money.of("9.90", "USD"), 3)

    with pytest.raises(AuthError) as info:
        adapter.publish([draft])

    assert "invalid_grant" in str(info.value)
    assert [r.url.path for r in emulator.requests] == ["/oauth/token"]
    assert "a-revoked-one" not in str(info.value)


def test_missing_credential_is_a_configuration_error(clock: FakeClock) -> None:
    emulator = ToyEmulator(clock=clock)
    adapter = ToyAdapter(make_channel("toy"), transport=emulator.transport(), clock=clock, sleep=clock.sleep)

    with pytest.raises(ConfigurationError) as info:
        adapter.http.get("/orders")

    assert "refresh_token" in str(info.value)
    assert clock.sleeps == []
    assert emulator.requests == []


# ----------------------------------------------------------------------------------------- redaction
def test_redactor_masks_every_encoding_of_a_secret() -> None:
    redact = Redactor([SECRET, "abc"])  # too short to be masked without masking ordinary text
    for form in secret_forms(SECRET):
        assert redact(f"before {form} after") == "before *** after"
    assert redact(json.dumps({"k": SECRET})) == '{"k": "***"}'
    assert redact("abc") == "abc"
    assert redact(None) is None
    assert SECRET not in repr(redact)
    redact.add(TOKEN)
    assert redact(f"Bearer {TOKEN}") == "Bearer ***"


@respx.mock
def test_secrets_appear_nowhere(tmp_path: Path, caplog: pytest.LogCaptureFixture, clock: FakeClock) -> None:
    caplog.set_level(logging.DEBUG)

    def echo(request: httpx.Request, status: int) -> httpx.Response:
        # a marketplace that echoes everything it got back in its error body and headers
        seen = {"url": str(request.url), "headers": dict(request.headers), "body": request.content.decode()}
        return httpx.Response(status, json=seen, headers={"X-Echo": str(request.url)})

    respx.post("https://api.toy.example/oauth/token").mock(return_value=token_response(TOKEN))
    responses = iter([503, 200])
    respx.get("https://api.toy.example/flaky").mock(side_effect=lambda r: echo(r, next(responses)))
    respx.post("https://api.toy.example/reject").mock(side_effect=lambda r: echo(r, 400))
    respx.get("https://api.toy.example/slow").mock(side_effect=httpx.ReadTimeout)

    channel = make_channel("toy", credentials={"refresh_token": SECRET, "api_key": "k-" + SECRET})
    trace = TraceWriter(tmp_path / "trace.jsonl")
    waits = Waits(clock)
    adapter = ToyAdapter(
        channel, trace=trace, clock=clock, sleep=waits, retry=RetryPolicy(max_attempts=2, max_seconds=60)
    )

    adapter.http.get("/flaky", params={"api_key": SECRET, "token": TOKEN})
    errors: list[Exception] = []
    for call in (
        lambda: adapter.http.post("/reject", data={"secret": SECRET}, params={"sig": SECRET}),
        lambda: adapter.http.post("/reject", json={"token": TOKEN, "nested": {"key": SECRET}}),
        lambda: adapter.http.get("/slow", params={"api_key": SECRET}),
    ):
        with pytest.raises((RequestRejected, TransientError)) as info:
            call()
        errors.append(info.value)

    texts = {
        "logs": caplog.text + "\n".join(str(r.args) for r in caplog.records),
        "trace": (tmp_path / "trace.jsonl").read_text(encoding="utf-8"),
        "errors": "\n".join(f"{e}|{e!r}|{e.args}|{e.message}" for e in errors),
        "reprs": " ".join(map(repr, (adapter, adapter.http, adapter.http.client.auth, adapter.redactor, channel))),
    }
    assert "GET https://api.toy.example/flaky" in texts["logs"]  # the retry was logged ...
    assert texts["trace"].count("\n") == 7  # token, flaky x2, reject x2, slow x2
    for where, text in texts.items():
        for form in secret_forms(SECRET, TOKEN):
            assert form not in text, f"secret leaked into {where}"
    assert "***" in texts["trace"]
    assert "***" in texts["errors"]


# --------------------------------------------------------------------------------------------- trace
@respx.mock
def test_trace_lines_are_well_formed(tmp_path: Path, clock: FakeClock) -> None:
    respx.post(f"{BASE}/items").mock(
        return_value=httpx.Response(201, json={"id": 7}, headers={"Set-Cookie": "session=abcdef"})
    )
    respx.get(f"{BASE}/items").mock(return_value=httpx.Response(200, text="[]"))
    path = tmp_path / "sub" / "trace.jsonl"
    http, _ = make_http(clock, trace=TraceWriter(path), headers={"Authorization": "Basic dXNlcjpwYXNz"})

    http.post("/items", json={"sku": "A", "qty": 2})
    http.get("/items", params={"page": 2, "q": "mug cup"})

    post, get = read_trace(path)
    for line in (post, get):
        assert set(line) == TRACE_KEYS
        ts = datetime.fromisoformat(line["ts"])
        assert ts.utcoffset() == timedelta(0)
        assert line["channel"] == "toy-test"
        assert line["kind"] == "toy"
        assert line["request_headers"]["authorization"] == "***"
        assert isinstance(line["response_headers"], dict)
        assert isinstance(line["elapsed_ms"], int | float) and line["elapsed_ms"] >= 0
    assert post["method"] == "POST"
    assert post["url"] == f"{BASE}/items"
    assert json.loads(post["request_body"]) == {"sku": "A", "qty": 2}
    assert post["status"] == 201
    assert post["response_headers"]["set-cookie"] == "***"
    assert json.loads(post["response_body"]) == {"id": 7}
    assert get["method"] == "GET"
    assert get["url"] == f"{BASE}/items?page=2&q=mug+cup"
    assert get["request_body"] is None
    assert (get["status"], get["response_body"]) == (200, "[]")


@respx.mock
def test_a_retried_request_is_traced_once_per_attempt(tmp_path: Path, clock: FakeClock) -> None:
    respx.get(f"{BASE}/items").mock(side_effect=[httpx.ReadTimeout, httpx.Response(503), httpx.Response(200)])
    path = tmp_path / "trace.jsonl"
    http, _ = make_http(clock, trace=TraceWriter(path))

    http.get("/items", params={"page": 1})

    lines = read_trace(path)
    assert [line["status"] for line in lines] == [None, 503, 200]
    assert all(set(line) == TRACE_KEYS for line in lines)
    assert {line["url"] for line in lines} == {f"{BASE}/items?page=1"}
    timeout = lines[0]
    assert timeout["response_body"] is None
    assert timeout["response_headers"] == {}
    assert timeout["elapsed_ms"] is not None


def test_trace_writer_is_shared_per_path(tmp_path: Path) -> None:
    assert trace_writer(None) is None
    assert trace_writer(tmp_path / "t.jsonl") is trace_writer(tmp_path / "." / "t.jsonl")


def test_emulated_runs_trace_the_real_urls(tmp_path: Path, clock: FakeClock) -> None:
    emulator = ToyEmulator(credentials={"refresh_token": "rt-1234"}, clock=clock)
    channel = make_channel("toy", credentials={"refresh_token": "rt-1234"}, base_url="emulator:")
    path = tmp_path / "trace.jsonl"
    adapter = ToyAdapter(channel, transport=emulator.transport(), trace=TraceWriter(path), clock=clock)

    adapter.publish([ListingDraft("A", "Mug", "A mug", "1", Money.of("9.9", "USD"), 3)])

    urls = [line["url"] for line in read_trace(path)]
    assert urls == ["https://api.toy.example/oauth/token", "https://api.toy.example/items/A"]
    assert adapter.api_calls == 2


# ------------------------------------------------------------------------------------ classification
def busy_in_200(response: httpx.Response) -> TransientError | RateLimited | RequestRejected | None:
    """A marketplace that reports failures inside HTTP 200 envelopes."""
    body = response.json() if response.content else {}
    if body.get("error") == "isp.busy":
        return TransientError("marketplace busy", code="isp.busy")
    if body.get("error") == "throttled":
        return RateLimited("throttled", code="throttled", retry_after=body.get("wait"))
    if body.get("error") == "bad-param":
        return RequestRejected(f"bad parameter: {body.get('detail')}", code="bad-param")
    return None


@respx.mock
def test_classify_turns_an_error_inside_200_into_a_retried_typed_error(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items").mock(
        side_effect=[
            httpx.Response(200, json={"error": "isp.busy"}),
            httpx.Response(200, json={"error": "throttled", "wait": 12}),
            httpx.Response(200, json={"items": []}),
        ]
    )
    http, waits = make_http(clock, classify=busy_in_200)

    assert http.get("/items").json() == {"items": []}
    assert route.call_count == 3
    assert waits[1] == 12


@respx.mock
def test_classify_permanent_error_inside_200_is_not_retried(clock: FakeClock) -> None:
    route = respx.get(f"{BASE}/items").mock(
        return_value=httpx.Response(200, json={"error": "bad-param", "detail": "x"})
    )
    http, waits = make_http(clock, classify=busy_in_200)

    with pytest.raises(RequestRejected) as info:
        http.get("/items")

    assert route.call_count == 1
    assert waits == []
    assert info.value.code == "bad-param"
    assert str(info.value) == "[toy-test] bad parameter: x (bad-param)"


@respx.mock
def test_per_request_classify_runs_before_the_channel_hook(clock: FakeClock) -> None:
    respx.get(f"{BASE}/items").mock(return_value=httpx.Response(200, json={"error": "isp.busy"}))
    http, _ = make_http(clock, classify=busy_in_200)

    def local(response: httpx.Response) -> RequestRejected:
        return RequestRejected("refused by the call's own hook")

    with pytest.raises(RequestRejected, match="call's own hook"):
        http.get("/items", classify=local)


@respx.mock
def test_ok_statuses_let_expected_statuses_through(clock: FakeClock) -> None:
    respx.post(f"{BASE}/stock").mock(return_value=httpx.Response(207, json={"results": []}))
    respx.get(f"{BASE}/items/X").mock(return_value=httpx.Response(404, json={"error": "not found"}))
    http, _ = make_http(clock)

    assert http.post("/stock", json={}, ok_statuses=(207,)).status_code == 207
    assert http.get("/items/X", ok_statuses=(404,)).status_code == 404
    with pytest.raises(RequestRejected):
        http.get("/items/X")


@respx.mock
def test_error_messages_say_what_and_where(clock: FakeClock) -> None:
    respx.put(f"{BASE}/items/A").mock(return_value=httpx.Response(422, json={"error": "price must be positive"}))
    respx.get(f"{BASE}/orders").mock(return_value=httpx.Response(500, text="x" * 2000))
    http, _ = make_http(clock, retry=RetryPolicy(max_attempts=1))

    with pytest.raises(RequestRejected) as rejected:
        http.put("/items/A", json={"price": "-1"}, params={"lang": "en"})
    message = str(rejected.value)
    assert message.startswith("[toy-test] HTTP 422 on PUT https://api.test.example/items/A: ")
    assert "price must be positive" in message
    assert "lang=en" not in message  # no query string (where secrets often travel)

    with pytest.raises(TransientError) as failed:
        http.get("/orders")
    assert "HTTP 500 on GET https://api.test.example/orders" in str(failed.value)
    assert len(str(failed.value)) < 700  # the body is cut short


def test_unsupported_scheme_is_a_configuration_error_not_retried(clock: FakeClock) -> None:
    waits = Waits(clock)
    http = ChannelHTTP(
        channel="toy-test",
        kind="toy",
        base_url="emulator:",
        limiters={"default": TokenBucket(10, 10, clock=clock, sleep=clock.sleep)},
        sleep=waits,
    )

    with pytest.raises(ConfigurationError):
        http.get("/items")
    assert waits == []


def test_limiters_need_a_default() -> None:
    with pytest.raises(ValueError, match="default"):
        ChannelHTTP(channel="c", kind="toy", base_url=BASE, limiters={})


# -------------------------------------------------------------------------------------- HttpAdapter
@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (None, "https://api.toy.example"),
        ("emulator:", "https://api.toy.example"),
        ("http://127.0.0.1:9/", "http://127.0.0.1:9"),
    ],
)
def test_adapter_base_url(base_url: str | None, expected: str) -> None:
    adapter = ToyAdapter(make_channel("toy", base_url=base_url))
    assert adapter.base_url() == expected
    assert str(adapter.http.client.base_url).rstrip("/") == expected


def test_adapter_retries_injected_faults_with_injected_sleep(clock: FakeClock) -> None:
    emulator = ToyEmulator(
        credentials={"refresh_token": "rt-1234"}, clock=clock, seed=11, faults=Faults(server_error=0.3, timeout=0.2)
    )
    channel = make_channel("toy", credentials={"refresh_token": "rt-1234"})
    waits = Waits(clock)
    adapter = ToyAdapter(
        channel, transport=emulator.transport(), clock=clock, sleep=waits, retry=RetryPolicy(max_attempts=10)
    )
    drafts = [ListingDraft(f"S{i}", "Mug", "A mug", "1", Money.of("9.9", "USD"), i) for i in range(8)]

    results = adapter.publish(drafts)

    assert all(r.ok for r in results)
    assert sorted(emulator.state["items"]) == [d.sku for d in drafts]
    assert waits  # some faults were injected and waited out ...
    assert adapter.api_calls == len(emulator.requests) > len(drafts) + 1  # ... and retried
