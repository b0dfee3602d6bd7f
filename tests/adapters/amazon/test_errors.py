"""Error responses -> typed errors, and the Amazon pitfalls of overseas-apis.md 2.6 as regressions."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    AuthError,
    ListingDraft,
    ListingRef,
    Money,
    OrderCursor,
    PermanentItemError,
    PriceUpdate,
    RateLimited,
    RequestRejected,
    StockUpdate,
    TransientError,
)
from listing_sync.adapters.http import RetryPolicy

from tests.adapters.amazon.conftest import SELLER, build
from tests.adapters.amazon.test_wire import ITEM, LWA, NA, S3, TOKEN, accepted, feed_routes

ORDERS = f"{NA}/orders/2026-01-01/orders"

QUOTA = {
    "errors": [
        {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}
    ]
}
EXPIRED = {
    "errors": [
        {
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "The access token you provided has expired.",
        }
    ]
}


def one_try(clock, **options):
    adapter = build(clock, options=options)
    adapter.http.retry = RetryPolicy(max_attempts=1)
    return adapter


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        router.post(LWA).respond(200, json={"access_token": TOKEN, "expires_in": 3600})
        yield router


@pytest.mark.parametrize(
    ("status", "payload", "headers", "error", "code"),
    [
        (429, QUOTA, {"x-amzn-RequestId": "r1"}, RateLimited, "QuotaExceeded"),
        (
            500,
            {"errors": [{"code": "InternalFailure", "message": "We encountered an internal error."}]},
            {},
            TransientError,
            "InternalFailure",
        ),
        (
            503,
            {"errors": [{"code": "ServiceUnavailable", "message": "Service unavailable."}]},
            {},
            TransientError,
            "ServiceUnavailable",
        ),
        (
            403,
            {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]},
            {"x-amzn-ErrorType": "AccessDeniedException"},
            AuthError,
            None,
        ),
        (
            400,
            {"errors": [{"code": "InvalidInput", "message": "Invalid input", "details": "marketplaceIds"}]},
            {},
            RequestRejected,
            "InvalidInput",
        ),
        (
            413,
            {"errors": [{"code": "RequestEntityTooLarge", "message": "too large"}]},
            {},
            RequestRejected,
            "RequestEntityTooLarge",
        ),
        (404, {"errors": [{"code": "NotFound", "message": "Resource not found"}]}, {}, PermanentItemError, "NotFound"),
    ],
)
def test_error_table(api, clock, status, payload, headers, error, code):
    api.get(ORDERS).respond(status, json=payload, headers=headers)
    adapter = one_try(clock)
    with pytest.raises(error) as caught:
        adapter.orders_since(OrderCursor(clock.utc() - timedelta(hours=1)))
    assert caught.value.code == code
    assert caught.value.status == status


def test_throttle_has_no_retry_after_so_backoff_follows_the_operation_rate(api, clock):
    """#1176 / python-amazon-sp-api#111: a 429 carries no Retry-After; wait one token of the rate."""
    api.get(ORDERS).respond(429, json=QUOTA)
    api.patch(f"{ITEM}/A").respond(429, json=QUOTA)
    adapter = one_try(clock)
    with pytest.raises(RateLimited) as orders:
        adapter.orders_since(OrderCursor(clock.utc() - timedelta(hours=1)))
    assert orders.value.retry_after == pytest.approx(1 / 0.0056)  # searchOrders: ~1 per 3 minutes
    [item] = adapter.push_stock([StockUpdate("A", 1)])
    assert item.code == "QuotaExceeded" and item.retryable and item.retry_after == pytest.approx(0.2)  # 5/s


def test_throttled_patch_is_retried_after_the_backoff(api, clock):
    api.patch(f"{ITEM}/A").mock(side_effect=[httpx.Response(429, json=QUOTA), accepted("A")])
    [item] = build(clock).push_stock([StockUpdate("A", 1)])
    assert item.ok and item.state == "submitted"
    assert max(clock.sleeps) >= 0.2


def test_rate_limit_header_is_adopted(api, clock):
    api.patch(f"{ITEM}/A").respond(200, json=accepted("A").json(), headers={"x-amzn-RateLimit-Limit": "10.0"})
    api.get(ORDERS).respond(200, json={"orders": []}, headers={"x-amzn-RateLimit-Limit": "0.5"})
    adapter = build(clock)
    adapter.push_stock([StockUpdate("A", 1)])
    adapter.orders_since(OrderCursor(clock.utc() - timedelta(hours=1)))
    assert adapter.http.limiter("default").rate == 10.0
    assert adapter.http.limiter("orders").rate == 0.5


def test_expired_token_mid_job_refreshes_once(api, clock):
    """selling-partner-api-models#646: 403 Unauthorized 'access token ... has expired'."""
    route = api.patch(f"{ITEM}/A").mock(
        side_effect=[
            httpx.Response(403, json=EXPIRED, headers={"x-amzn-ErrorType": "AccessDeniedException"}),
            accepted("A"),
        ]
    )
    [item] = build(clock).push_stock([StockUpdate("A", 1)])
    assert item.ok
    assert len([c for c in api.calls if c.request.url == LWA]) == 2
    assert route.call_count == 2


def test_still_refused_after_refresh_is_an_auth_error(api, clock):
    api.patch(f"{ITEM}/A").respond(403, json=EXPIRED)
    api.patch(f"{ITEM}/B").respond(403, json=EXPIRED)
    items = build(clock).push_stock([StockUpdate("A", 1), StockUpdate("B", 1)])
    assert [i.code for i in items] == ["AuthError", "AuthError"]
    assert not items[0].retryable
    assert len([c for c in api.calls if c.request.url == LWA]) == 2  # once for A, B not even sent
    assert not any(c.request.url.path.endswith("/B") for c in api.calls)


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (
            400,
            {
                "error": "invalid_grant",
                "error_description": "The request has an invalid grant parameter : refresh_token",
            },
        ),
        (401, {"error": "invalid_client", "error_description": "Client authentication failed"}),
    ],
)
def test_refresh_refused_is_an_auth_error(clock, status, payload):
    """selling-partner-api-models#921: invalid_grant when exchanging the refresh token."""
    with respx.mock() as router:
        router.post(LWA).respond(status, json=payload)
        adapter = one_try(clock)
        with pytest.raises(AuthError) as caught:
            adapter.orders_since(OrderCursor(clock.utc() - timedelta(hours=1)))
    assert caught.value.code == payload["error"]
    assert "Atzr|" not in str(caught.value)


def test_invalid_submission_inside_200_is_an_item_failure(api, clock):
    api.patch(f"{ITEM}/A").respond(
        200,
        json={
            "sku": "A",
            "status": "INVALID",
            "submissionId": "s1",
            "issues": [
                {
                    "code": "90220",
                    "message": "'condition_type' is required but not supplied.",
                    "severity": "ERROR",
                    "attributeNames": ["condition_type"],
                },
                {"code": "1", "message": "just a hint", "severity": "WARNING"},
            ],
        },
    )
    api.patch(f"{ITEM}/B").mock(return_value=accepted("B"))
    a, b = build(clock).push_prices([PriceUpdate("A", Money.of("1", "USD")), PriceUpdate("B", Money.of("2", "USD"))])
    assert not a.ok and a.code == "90220" and "condition_type" in a.message and "hint" not in a.message
    assert b.ok and b.state == "submitted"


def test_unknown_sku_fails_that_item_only(api, clock):
    api.patch(f"{ITEM}/GONE").respond(404, json={"errors": [{"code": "NOT_FOUND", "message": "SKU 'GONE' not found"}]})
    api.patch(f"{ITEM}/OK").mock(return_value=accepted("OK"))
    gone, ok = build(clock).push_stock([StockUpdate("GONE", 1), StockUpdate("OK", 1)])
    assert gone.code == "NOT_FOUND" and not gone.retryable
    assert ok.ok


def test_outage_fails_the_rest_without_hammering(api, clock):
    route = api.patch(url__regex=rf"{ITEM}/.*").respond(
        503, json={"errors": [{"code": "ServiceUnavailable", "message": "x"}]}
    )
    adapter = one_try(clock)
    results = adapter.push_stock([StockUpdate(s, 1) for s in "ABC"])
    assert route.call_count == 1
    assert [r.retryable for r in results] == [True, True, True]


def test_currency_mismatch_is_refused_before_sending(api, clock):
    [item] = build(clock).push_prices([PriceUpdate("A", Money.of("1", "EUR"))])
    assert item.code == "currency_mismatch"
    assert not [c for c in api.calls if c.request.method == "PATCH"]


def test_expired_presigned_url_fails_the_feed_items_retryably(api, clock):
    feed_routes(api, {})
    api.put(S3).respond(403, text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
    adapter = one_try(clock, feed_threshold=1)
    [item] = adapter.push_stock([StockUpdate("A", 1)])
    assert not item.ok and item.retryable and "expired" in item.message
    assert not [c for c in api.calls if c.request.url.path.endswith("/feeds")]  # createFeed never sent


def test_fatal_feed_fails_every_item_retryably(api, clock):
    report = {"header": {"sellerId": SELLER, "version": "2.0", "feedId": "F1"}, "issues": [], "summary": {}}
    feed_routes(api, report, statuses=("FATAL",))
    results = build(clock, options={"feed_threshold": 2}).push_stock([StockUpdate("A", 1), StockUpdate("B", 2)])
    assert [(r.ok, r.code, r.retryable) for r in results] == [(False, "feed_fatal", True)] * 2


# ------------------------------------------------------------------------------------------ pitfalls
def test_accepted_is_never_reported_as_applied(api, clock):
    """selling-partner-api-docs#3698: ACCEPTED and nothing changes; only read-back or a report confirms."""
    api.patch(f"{ITEM}/A").mock(return_value=accepted("A"))
    api.put(f"{ITEM}/A").mock(return_value=accepted("A"))
    adapter = build(clock)
    price = adapter.push_prices([PriceUpdate("A", Money.of("1", "USD"))])
    stock = adapter.push_stock([StockUpdate("A", 1)])
    draft = ListingDraft("A", "t", "d", "LUGGAGE", Money.of("1", "USD"), 1)
    published = adapter.publish([draft])
    assert {r.state for r in price + stock + published} == {"submitted"}


def test_restock_with_new_price_in_a_feed_waits_for_the_price(api, clock):
    """selling-partner-api-models#4901: quantity landing before price sells at the old price."""
    report = {"header": {"sellerId": SELLER, "version": "2.0", "feedId": "F1"}, "issues": [], "summary": {}}
    docs, upload, create, *_ = feed_routes(api, report, statuses=("IN_PROGRESS", "DONE", "IN_PROGRESS", "DONE"))
    ref = ListingRef("A", "B0A", {"product_type": "LUGGAGE"})
    drafts = [ListingDraft("A", "t", "d", "LUGGAGE", Money.of("12", "USD"), 40, ref=ref)]
    [result] = build(clock, options={"feed_threshold": 1}).publish(drafts)
    uploads = [json.loads(c.request.content) for c in upload.calls]
    assert len(uploads) == 2 and create.call_count == 2
    first, second = uploads
    assert [m["operationType"] for m in first["messages"]] == ["PATCH"]
    assert first["messages"][0]["patches"][0]["path"] == "/attributes/purchasable_offer"
    assert "fulfillment_availability" not in json.dumps(first)
    assert [m["operationType"] for m in second["messages"]] == ["UPDATE"]
    assert second["messages"][0]["attributes"]["fulfillment_availability"][0]["quantity"] == 40
    assert result.ok and result.state == "applied"


def test_restock_is_held_back_while_the_price_feed_runs(api, clock):
    feed_routes(api, {}, statuses=("IN_PROGRESS",) * 10)
    ref = ListingRef("A", "B0A", {"product_type": "LUGGAGE"})
    drafts = [ListingDraft("A", "t", "d", "LUGGAGE", Money.of("12", "USD"), 40, ref=ref)]
    adapter = build(clock, options={"feed_threshold": 1, "feed_wait_seconds": 60, "feed_poll_seconds": 30})
    [result] = adapter.publish(drafts)
    assert result.code == "price_pending" and result.retryable
    assert len([c for c in api.calls if c.request.method == "PUT"]) == 1  # only the price feed's upload


def test_value_with_tax_is_exact_not_float(api, clock):
    """The documented number type, but no float rounding on the way (1234567.89, 0.10)."""
    route = api.patch(url__regex=rf"{ITEM}/.*").mock(side_effect=lambda r: accepted("x"))
    adapter = build(clock)
    adapter.push_prices([PriceUpdate("A", Money.of("1234567.89", "USD")), PriceUpdate("B", Money.of("0.1", "USD"))])
    assert b'"value_with_tax":1234567.89}' in route.calls[0].request.content
    assert b'"value_with_tax":0.10}' in route.calls[1].request.content


def test_last_updated_before_is_at_least_two_minutes_before_now(api, clock):
    route = api.get(ORDERS).respond(200, json={"orders": []})
    page = build(clock).orders_since(OrderCursor(clock.utc() - timedelta(days=1)))
    before = route.calls[0].request.url.params["lastUpdatedBefore"]
    assert before <= (clock.utc() - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert page.done


def test_cursor_closer_than_the_lag_asks_nothing(api, clock):
    route = api.get(ORDERS).respond(200, json={"orders": []})
    page = build(clock).orders_since(OrderCursor(clock.utc() - timedelta(minutes=1)))
    assert route.call_count == 0 and page.done and page.orders == ()


def test_secrets_never_reach_error_messages(api, clock):
    api.patch(f"{ITEM}/A").respond(400, json={"errors": [{"code": "InvalidInput", "message": f"bad token {TOKEN}"}]})
    [item] = build(clock).push_stock([StockUpdate("A", 1)])
    assert TOKEN not in item.message and "***" in item.message


def test_presigned_url_on_the_api_host_is_still_treated_as_storage(clock):
    """Served emulator: documents live on the same host as the API; a 403 there is not an auth error."""
    base = "http://127.0.0.1:8765"
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{base}/auth/o2/token").respond(200, json={"access_token": TOKEN, "expires_in": 3600})
        router.post(f"{base}/feeds/2021-06-30/documents").respond(
            201, json={"feedDocumentId": "d1", "url": f"{base}/tortuga-prod/NinetyDays/d1?t=1"}
        )
        router.put(f"{base}/tortuga-prod/NinetyDays/d1?t=1").respond(
            403, text="<Error><Code>AccessDenied</Code></Error>"
        )
        adapter = build(clock, base_url=base, options={"feed_threshold": 1})
        adapter.http.retry = RetryPolicy(max_attempts=1)
        [item] = adapter.push_stock([StockUpdate("A", 1)])
    assert item.code == "TransientError" and item.retryable


def test_stock_outs_never_wait_in_a_feed(api, clock):
    """selling-partner-api-models#4823: quantity-to-zero in a feed can queue for 12 h; it is patched first."""
    report = {"header": {"sellerId": SELLER, "version": "2.0", "feedId": "F1"}, "issues": [], "summary": {}}
    _, upload, *_ = feed_routes(api, report)
    zero = api.patch(f"{ITEM}/OUT").mock(return_value=accepted("OUT"))
    adapter = build(clock, options={"feed_threshold": 2})
    results = adapter.push_stock([StockUpdate("A", 4), StockUpdate("OUT", 0), StockUpdate("B", 9)])
    assert zero.call_count == 1
    methods = [c.request.method for c in api.calls if c.request.url.host != "api.amazon.com"]
    assert methods.index("PATCH") < methods.index("PUT")  # the stock-out went before the feed upload
    assert [m["sku"] for m in json.loads(upload.calls[0].request.content)["messages"]] == ["A", "B"]
    assert [(r.sku, r.state) for r in results] == [("A", "applied"), ("OUT", "submitted"), ("B", "applied")]
