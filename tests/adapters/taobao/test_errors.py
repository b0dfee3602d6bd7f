"""TOP error_response (inside HTTP 200) -> typed errors, and the retry behaviour that follows."""

from __future__ import annotations

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    AuthError,
    ConfigurationError,
    DelistRequest,
    ListingRef,
    PermanentItemError,
    RateLimited,
    RequestRejected,
    StockUpdate,
    TransientError,
)
from listing_sync.adapters.taobao.mapping import ban_seconds, error_from_body

from .conftest import GATEWAY


def err(code, msg, sub_code=None, sub_msg=None):
    body = {"code": code, "msg": msg, "request_id": "r1"}
    if sub_code:
        body["sub_code"] = sub_code
    if sub_msg:
        body["sub_msg"] = sub_msg
    return body


TABLE = [
    # flow control: all three accesscontrol sub-codes, with the ban's N seconds as the wait hint
    (
        err(
            7,
            "App Call Limited",
            "accesscontrol.limited-by-app-access-count",
            "This ban will last for 31062 more seconds",
        ),
        RateLimited,
        31062.0,
    ),
    (
        err(
            7, "App Call Limited", "accesscontrol.limited-by-api-access-count", "This ban will last for 1 more seconds"
        ),
        RateLimited,
        1.0,
    ),
    (
        err(
            7,
            "App Call Limited",
            "accesscontrol.limited-by-app-api-access-count",
            "This ban will last for 59 more seconds",
        ),
        RateLimited,
        59.0,
    ),
    (err(7, "App Call Limited"), RateLimited, None),
    # session / app / permission
    (err(27, "Invalid session", "invalid-sessionkey", "SessionKey非法"), AuthError, None),
    (err(26, "Missing session"), AuthError, None),
    (err(29, "Invalid app Key", "isv.appkey-not-exists"), ConfigurationError, None),
    (
        err(11, "Insufficient isv permissions", "isv.permission-api-package-limit", "scope ids is 11655"),
        ConfigurationError,
        None,
    ),
    (err(31, "Invalid timestamp", "isv.invalid-timestamp"), ConfigurationError, None),
    # our bugs: never retried
    (err(25, "Invalid signature"), RequestRejected, None),
    (err(41, "Invalid arguments:num_iid"), RequestRejected, None),
    # server side: retried
    (err(15, "Remote service error", "isp.top-remote-connection-timeout"), TransientError, None),
    (err(10, "Service currently unavailable"), TransientError, None),
    # business: this item, for good
    (err(15, "Remote service error", "isv.item-not-exist", "商品id对应的商品不存在"), PermanentItemError, None),
    (err(50, "Remote service error", "isv.invalid-parameter", "非法参数"), PermanentItemError, None),
]


@pytest.mark.parametrize(("body", "kind", "wait"), TABLE)
def test_error_table(body, kind, wait):
    error = error_from_body(body)
    assert type(error) is kind
    assert error.retry_after == wait
    assert error.code == (body.get("sub_code") or str(body["code"]))
    assert str(body["code"]) in error.message


def test_ban_seconds_regex():
    assert ban_seconds("This ban will last for 31062 more seconds") == 31062
    assert ban_seconds("something else") is None
    assert ban_seconds(None) is None


REF = ListingRef("A", "1", {"num_iid": "1"})


@respx.mock
def test_transient_isp_error_is_retried_then_succeeds(make_adapter, clock):
    adapter = make_adapter()
    route = respx.post(GATEWAY).mock(
        side_effect=[
            httpx.Response(
                200, json={"error_response": err(15, "Remote service error", "isp.top-remote-unknown-error")}
            ),
            httpx.Response(200, json={"item_update_delisting_response": {"item": {"num_iid": 1}}}),
        ]
    )
    [result] = adapter.delist([DelistRequest("A", REF)])
    assert result.ok and route.call_count == 2


@respx.mock
def test_signature_error_is_not_retried_and_raised(make_adapter):
    adapter = make_adapter()
    route = respx.post(GATEWAY).mock(
        return_value=httpx.Response(200, json={"error_response": err(25, "Invalid signature")})
    )
    with pytest.raises(RequestRejected):
        adapter.delist([DelistRequest("A", REF)])
    assert route.call_count == 1


@respx.mock
def test_expired_session_raises_auth_error_once(make_adapter):
    adapter = make_adapter()
    body = {"error_response": err(27, "Invalid session", "invalid-sessionkey")}
    route = respx.post(GATEWAY).mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(AuthError, match="re-authorize"):
        adapter.delist([DelistRequest("A", REF)])
    assert route.call_count == 1


@respx.mock
def test_daily_quota_ban_stops_at_once_with_the_wait(make_adapter, clock):
    adapter = make_adapter()
    body = {
        "error_response": err(
            7,
            "App Call Limited",
            "accesscontrol.limited-by-app-access-count",
            "This ban will last for 31062 more seconds",
        )
    }
    route = respx.post(GATEWAY).mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(RateLimited) as info:
        adapter.push_stock([StockUpdate("A", 3, ref=REF)])
    assert info.value.retry_after == 31062
    assert route.call_count == 1  # the wait is beyond the retry budget: no hammering


@respx.mock
def test_item_error_is_a_per_item_failure_and_the_batch_goes_on(make_adapter):
    adapter = make_adapter()
    route = respx.post(GATEWAY).mock(
        side_effect=[
            httpx.Response(
                200, json={"error_response": err(15, "Remote service error", "isv.item-not-exist", "不存在")}
            ),
            httpx.Response(200, json={"item_update_delisting_response": {"item": {"num_iid": 2}}}),
        ]
    )
    ref2 = ListingRef("B", "2", {"num_iid": "2"})
    a, b = adapter.delist([DelistRequest("A", REF), DelistRequest("B", ref2)])
    assert (a.ok, a.code, a.retryable) == (False, "isv.item-not-exist", False)
    assert b.ok
    assert route.call_count == 2


@respx.mock
def test_channel_error_after_an_applied_item_keeps_that_result(make_adapter):
    adapter = make_adapter()
    respx.post(GATEWAY).mock(
        side_effect=[
            httpx.Response(200, json={"item_update_delisting_response": {"item": {"num_iid": 1}}}),
            httpx.Response(200, json={"error_response": err(27, "Invalid session", "invalid-sessionkey")}),
        ]
    )
    ref2 = ListingRef("B", "2", {"num_iid": "2"})
    a, b = adapter.delist([DelistRequest("A", REF), DelistRequest("B", ref2)])
    assert a.ok
    assert (b.ok, b.retryable, b.code) == (False, True, "invalid-sessionkey")


@respx.mock
def test_html_error_page_maps_to_transient(make_adapter):
    adapter = make_adapter()
    respx.post(GATEWAY).mock(return_value=httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(TransientError):
        adapter.delist([DelistRequest("A", REF)])
