"""AliExpress error bodies (mostly inside HTTP 200) -> typed errors."""

from __future__ import annotations

import httpx
import pytest
import respx
from listing_sync.adapters.base import (
    AuthError,
    ConfigurationError,
    ListingRef,
    RateLimited,
    RequestRejected,
    StockUpdate,
    TransientError,
)

SYNC = "https://api-sg.aliexpress.com/sync"


def iop(code: str, message: str, kind: str = "ISV") -> dict:
    return {"code": code, "type": kind, "message": message, "request_id": "0b86d3f015403"}


def top(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> dict:
    return {"error_response": {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg, "request_id": "r"}}


@pytest.mark.parametrize(
    ("status", "body", "error", "retry_after"),
    [
        (
            200,
            iop("ApiCallLimit", "Api access frequency exceeds the limit. this ban will last 1 seconds"),
            RateLimited,
            1.0,
        ),
        (
            200,
            iop("ApiCallLimit", "Api access frequency exceeds the limit. this ban will last 12 seconds"),
            RateLimited,
            12.0,
        ),
        (200, iop("ApiCallLimit", "Api access frequency exceeds the limit."), RateLimited, 1.0),
        (
            200,
            top(
                7,
                "App Call Limited",
                "accesscontrol.limited-by-api-access-count",
                "This ban will last for 3 more seconds",
            ),
            RateLimited,
            3.0,
        ),
        (200, iop("ServiceUnavailable", "temporary failure", "ISP"), TransientError, None),
        (200, iop("InternalError", "unknown error", "SYSTEM"), TransientError, None),
        (503, iop("ServiceUnavailable", "temporary failure", "ISP"), TransientError, None),
        (200, top(15, "Remote service error", "isp.remote-service-timeout"), TransientError, None),
        (200, iop("IllegalAccessToken", "The specified access token is invalid or expired"), AuthError, None),
        (200, top(27, "Invalid session"), AuthError, None),
        (200, iop("InvalidAppKey", "Specified app key is invalid."), AuthError, None),
        (
            200,
            iop("IncompleteSignature", "The request signature does not conform to platform standards"),
            RequestRejected,
            None,
        ),
        (200, top(11, "Insufficient isv permissions", "isv.permission-ip-whitelist-limit"), ConfigurationError, None),
        (
            200,
            iop("MissingParameter", 'The input parameter "param0" that is mandatory is not supplied.'),
            RequestRejected,
            None,
        ),
        (200, top(40, "Missing required arguments", "isv.missing-parameter"), RequestRejected, None),
        (200, top(15, "Remote service error", "isv.item-quantity-limit", "too many skus"), RequestRejected, None),
    ],
)
def test_error_table(make_adapter, status, body, error, retry_after):
    adapter = make_adapter()
    request = httpx.Request("POST", SYNC)
    found = adapter.classify(httpx.Response(status, json=body, request=request))
    assert type(found) is error
    assert found.retry_after == retry_after
    assert str(body.get("code") or body["error_response"]["code"]) == found.code


@pytest.mark.parametrize(
    "body",
    [
        {"aliexpress_solution_batch_product_inventory_update_response": {"update_success": False}},
        {"code": "0", "access_token": "x"},
        ["not", "an", "object"],
    ],
)
def test_success_shapes_are_not_errors(make_adapter, body):
    request = httpx.Request("POST", SYNC)
    assert make_adapter().classify(httpx.Response(200, json=body, request=request)) is None
    assert make_adapter().classify(httpx.Response(200, text="<html>", request=request)) is None


@respx.mock
def test_rejected_is_not_retried_and_transient_is(make_adapter):
    ref = ListingRef("A", "1", {"product_id": "1"})
    rejected = respx.post(SYNC).mock(return_value=httpx.Response(200, json=iop("MissingParameter", "no")))
    with pytest.raises(RequestRejected):
        make_adapter().push_stock([StockUpdate("A", 1, ref=ref)])
    assert rejected.call_count == 1
    ok = {"aliexpress_solution_batch_product_inventory_update_response": {"update_success": True}}
    flaky = respx.post(SYNC).mock(
        side_effect=[httpx.Response(200, json=iop("InternalError", "x", "SYSTEM")), httpx.Response(200, json=ok)]
    )
    assert make_adapter().push_stock([StockUpdate("A", 1, ref=ref)])[0].ok
    assert flaky.call_count == 1 + 2  # same route object: one rejected call, then a retried pair


def test_secrets_never_reach_error_messages(make_adapter):
    adapter = make_adapter()
    assert adapter.redactor("secret s3cr3t-app-secret token 50000600a12b34c56d78e90f") == "secret *** token ***"


def test_missing_credentials_are_a_configuration_error(make_adapter):
    with pytest.raises(ConfigurationError, match="access_token or refresh_token"):
        make_adapter(credentials={"app_key": "1", "app_secret": "2"})
    with pytest.raises(ConfigurationError, match="app_secret"):
        make_adapter(credentials={"app_key": "1", "access_token": "2"})


def test_options_are_strict(make_adapter):
    with pytest.raises(ValueError, match="extra"):
        make_adapter(options={"marketplace": "US"})
