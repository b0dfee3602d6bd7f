"""Error responses -> typed errors, cost-based throttling, options validation."""

from __future__ import annotations

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    AuthError,
    ConfigurationError,
    ListingRef,
    Money,
    PriceUpdate,
    RateLimited,
    RequestRejected,
    TransientError,
)
from listing_sync.adapters.http import RetryPolicy
from listing_sync.adapters.ratelimits import headroom_tokens
from listing_sync.adapters.shopify.adapter import ShopifyAdapter, ShopifyOptions
from pydantic import ValidationError

from tests.conftest import FakeClock, make_channel

from .conftest import TOKEN, cost, endpoint, gql_ok

REF = ListingRef(
    "A",
    "gid://shopify/Product/1",
    {"product_id": "gid://shopify/Product/1", "variant_id": "gid://shopify/ProductVariant/2", "inventory_item_id": "x"},
)
THROTTLED = {
    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
    "extensions": {
        "cost": {
            "requestedQueryCost": 502,
            "actualQueryCost": None,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 2, "restoreRate": 100.0},
        }
    },
}


def one_shot(build):
    clock = FakeClock()
    adapter = build(clock=clock)
    adapter.http.retry = RetryPolicy(max_attempts=1)
    return adapter


def price(adapter):
    return adapter.push_prices([PriceUpdate("A", Money.of("1", "USD"), ref=REF)])


@pytest.mark.parametrize(
    ("response", "error", "code", "retry_after"),
    [
        (httpx.Response(200, json=THROTTLED), RateLimited, "THROTTLED", 5.0),  # (502 - 2) / 100
        (
            httpx.Response(429, headers={"Retry-After": "2.0"}, json={"errors": "Exceeded 2 calls per second"}),
            RateLimited,
            "THROTTLED",
            2.0,
        ),
        (httpx.Response(429, json=THROTTLED), RateLimited, "THROTTLED", 5.0),
        (
            httpx.Response(
                401, json={"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
            ),
            AuthError,
            None,
            None,
        ),
        (httpx.Response(403, json={"errors": "User does not have access"}), AuthError, None, None),
        (
            httpx.Response(
                200,
                json={
                    "errors": [{"message": "Access denied for orders field.", "extensions": {"code": "ACCESS_DENIED"}}]
                },
            ),
            AuthError,
            "ACCESS_DENIED",
            None,
        ),
        (httpx.Response(503, text="<html>There was a problem loading this website</html>"), TransientError, None, None),
        (httpx.Response(500, json={"errors": "Internal Server Error"}), TransientError, None, None),
        (
            httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "message": "Internal error. Looks like something went wrong on our end.",
                            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                        }
                    ]
                },
            ),
            TransientError,
            "INTERNAL_SERVER_ERROR",
            None,
        ),
        (
            httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "message": "Query cost is 1352, which exceeds the single query max cost limit (1000).",
                            "extensions": {"code": "MAX_COST_EXCEEDED"},
                        }
                    ]
                },
            ),
            RequestRejected,
            "MAX_COST_EXCEEDED",
            None,
        ),
        (
            httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "message": "Field 'nope' doesn't exist on type 'QueryRoot'",
                            "extensions": {"code": "undefinedField"},
                        }
                    ]
                },
            ),
            RequestRejected,
            "undefinedField",
            None,
        ),
        (httpx.Response(404, json={"errors": "Not Found"}), ConfigurationError, None, None),
        (httpx.Response(402, json={"errors": "Unavailable Shop"}), RequestRejected, None, None),
    ],
)
def test_error_table(build, response, error, code, retry_after):
    adapter = one_shot(build)
    with respx.mock:
        respx.post(endpoint()).mock(return_value=response)
        with pytest.raises(error) as info:
            price(adapter)
    assert info.value.code == code
    if retry_after is not None:
        assert info.value.retry_after == pytest.approx(retry_after)
    assert TOKEN not in str(info.value)


def test_throttled_request_is_retried_after_the_deficit_wait(build):
    clock = FakeClock()
    adapter = build(clock=clock)
    ok = gql_ok(
        {"productVariantsBulkUpdate": {"productVariants": [{"id": "gid://shopify/ProductVariant/2"}], "userErrors": []}}
    )
    with respx.mock:
        route = respx.post(endpoint()).mock(side_effect=[httpx.Response(200, json=THROTTLED), ok])
        [result] = price(adapter)
    assert result.ok and route.call_count == 2
    assert sum(clock.sleeps) >= 5.0  # waited at least (requested - available) / restoreRate


def test_limiter_waits_before_sending_when_cost_exceeds_available(build):
    """P2: check the requested cost against currentlyAvailable BEFORE sending, not only after."""
    clock = FakeClock()
    adapter = build(clock=clock)
    first = gql_ok(
        {
            "productVariantsBulkUpdate": {
                "productVariants": [{"id": "gid://shopify/ProductVariant/2"}],
                "userErrors": [],
            }
        },
        requested=12,
        available=2,
        restore=50,
        maximum=1000,
    )
    with respx.mock:
        respx.post(endpoint()).mock(return_value=first)
        price(adapter)
        bucket = adapter.http.limiter()
        assert bucket.rate == 50 and bucket.burst == 1000  # adopted from throttleStatus
        before = list(clock.sleeps)
        price(adapter)
    waited = sum(clock.sleeps) - sum(before)
    # the second call asks for 12 points (the server's requestedQueryCost), 2 are there, and the adapter
    # leaves the server its headroom, 0.1 s of the restore rate the server reported (50 points per second,
    # not the adapter's default 100): 5 points; 15 / 50
    assert bucket.headroom == headroom_tokens(50, 1000) == 5
    assert waited == pytest.approx((12 - 2 + 5) / 50, abs=0.01)


def test_every_response_updates_the_bucket_even_errors(build):
    adapter = one_shot(build)
    body = {
        "errors": [{"message": "bad", "extensions": {"code": "x"}}],
        "extensions": cost(available=123, restore=200, maximum=2000),
    }
    with respx.mock:
        respx.post(endpoint()).mock(return_value=httpx.Response(200, json=body))
        with pytest.raises(RequestRejected):
            price(adapter)
    bucket = adapter.http.limiter()
    assert (bucket.rate, bucket.burst) == (200, 2000)


def test_user_errors_in_200_are_per_item_not_exceptions(build):
    adapter = one_shot(build)
    body = {
        "productVariantsBulkUpdate": {
            "productVariants": [],
            "userErrors": [
                {"code": "PRODUCT_VARIANT_DOES_NOT_EXIST", "field": ["variants", "0", "id"], "message": "gone"}
            ],
        }
    }
    with respx.mock:
        respx.post(endpoint()).mock(return_value=gql_ok(body))
        [result] = price(adapter)
    assert not result.ok and result.code == "PRODUCT_VARIANT_DOES_NOT_EXIST" and not result.retryable


def test_partial_data_with_errors_maps_the_failed_field(build):
    adapter = one_shot(build)
    body = {
        "data": {"productVariantsBulkUpdate": None},
        "errors": [{"message": "Product does not exist", "path": ["productVariantsBulkUpdate"]}],
        "extensions": cost(),
    }
    with respx.mock:
        respx.post(endpoint()).mock(return_value=httpx.Response(200, json=body))
        [result] = price(adapter)
    assert not result.ok and "Product does not exist" in result.message


def test_token_is_redacted_from_errors_and_headers(build):
    adapter = one_shot(build)
    with respx.mock:
        respx.post(endpoint()).mock(return_value=httpx.Response(400, text=f"bad token {TOKEN}"))
        with pytest.raises(RequestRejected) as info:
            price(adapter)
    assert TOKEN not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"shop": "demo"}, "api_version"),
        ({"shop": "demo", "api_version": "2026-02"}, "api_version"),
        ({"shop": "demo", "api_version": "2024-07"}, "api_version"),
        ({"shop": "bad shop!", "api_version": "2026-01"}, "shop"),
        ({"shop": "demo", "api_version": "2026-01", "delist_status": "DELETED"}, "delist_status"),
        ({"shop": "demo", "api_version": "2026-01", "colour": "x"}, "colour"),
    ],
)
def test_options_are_validated(options, problem):
    with pytest.raises(ValidationError) as info:
        ShopifyOptions.model_validate(options)
    assert problem in str(info.value)


def test_any_well_formed_version_is_accepted_and_shop_domain_normalized():
    """P3: the version is configuration, not a built-in list; a version released later still works."""
    opts = ShopifyOptions.model_validate({"shop": "https://My-Store.myshopify.com/", "api_version": "2031-07"})
    assert opts.shop == "my-store"
    channel = make_channel(
        "shopify", credentials={"access_token": TOKEN}, options={"shop": "my-store", "api_version": "2031-07"}
    )
    adapter = ShopifyAdapter(channel)
    assert adapter.base_url() == "https://my-store.myshopify.com"
    assert adapter.endpoint == "/admin/api/2031-07/graphql.json"
    adapter.close()


def test_a_retired_version_is_warned_about(build, caplog):
    """P3: versions retire after about 12 months; the pinned version is checked, not a built-in list."""
    from datetime import UTC, datetime

    adapter = build("2025-01")
    with caplog.at_level("WARNING", logger="adapters.shopify"):
        assert adapter.warn_if_unsupported(datetime(2026, 3, 1, tzinfo=UTC))
        assert not adapter.warn_if_unsupported(datetime(2025, 6, 1, tzinfo=UTC))
    assert "2025-01" in caplog.text and "support window" in caplog.text
    assert not build("unstable").warn_if_unsupported(datetime(2030, 1, 1, tzinfo=UTC))
