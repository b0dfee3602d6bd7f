"""TOP signing: the official worked example, the three sign methods, CJK values, fresh timestamps."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from listing_sync.adapters.taobao.auth import TopSignAuth, parse_top_time, sign, string_to_sign, top_time

from .conftest import CREDS, GATEWAY, decode, doc_sign

OFFICIAL = {
    "app_key": "test",
    "fields": "nick",
    "format": "xml",
    "method": "taobao.user.seller.get",
    "session": "test",
    "sign_method": "md5",
    "timestamp": "2013-05-06 13:52:03",
    "v": "2.0",
}


def test_official_worked_example_string_and_sign():
    assert string_to_sign(OFFICIAL) == (
        "app_keytestfieldsnickformatxmlmethodtaobao.user.seller.getsessiontestsign_methodmd5"
        "timestamp2013-05-06 13:52:03v2.0"
    )
    assert sign(OFFICIAL, "test", "md5") == "72CB4D809B375A54502C09360D879C64"


def test_hmac_methods_do_not_wrap_the_secret():
    concat = string_to_sign(OFFICIAL).encode()
    assert sign(OFFICIAL, "test", "hmac") == hmac.new(b"test", concat, hashlib.md5).hexdigest().upper()
    assert sign(OFFICIAL, "test", "hmac-sha256") == hmac.new(b"test", concat, hashlib.sha256).hexdigest().upper()
    assert sign(OFFICIAL, "test", "hmac") != sign(OFFICIAL, "test", "md5")


def test_sign_is_upper_hex_and_ignores_sign_and_empty_values():
    with_extras = {**OFFICIAL, "sign": "WHATEVER", "empty": "", "none": None}
    assert sign(with_extras, "test", "md5") == "72CB4D809B375A54502C09360D879C64"
    assert sign(OFFICIAL, "test", "hmac-sha256").isupper()


def test_cjk_values_are_hashed_as_raw_utf8_not_url_encoded():
    params = {**OFFICIAL, "title": "男士纯棉T恤 白色", "sign_method": "md5"}
    raw = "test" + "".join(k + v for k, v in sorted(params.items())) + "test"
    assert sign(params, "test", "md5") == hashlib.md5(raw.encode("utf-8")).hexdigest().upper()
    encoded = {**params, "title": "%E7%94%B7%E5%A3%AB"}
    assert sign(encoded, "test", "md5") != sign(params, "test", "md5")


def test_unknown_sign_method_is_refused():
    with pytest.raises(ValueError):
        sign(OFFICIAL, "test", "sha1")  # type: ignore[arg-type]


def test_timestamps_are_gmt8():
    assert top_time(datetime(2013, 5, 6, 5, 52, 3, tzinfo=UTC)) == "2013-05-06 13:52:03"
    assert parse_top_time("2013-05-06 13:52:03") == datetime(2013, 5, 6, 5, 52, 3, tzinfo=UTC)
    with pytest.raises(ValueError):
        top_time(datetime(2013, 5, 6, 5, 52, 3))


def test_auth_moves_system_params_to_query_and_drops_empty_body_values():
    auth = TopSignAuth(
        app_key="k", secret="sec", session="sess", sign_method="md5", now=lambda: datetime(2026, 1, 1, tzinfo=UTC)
    )
    request = httpx.Request("POST", GATEWAY + "?method=taobao.x", data={"title": "白色 T恤", "outer_id": ""})
    signed = auth.signed(request)
    query, form = decode(signed)
    assert form == {"title": "白色 T恤"}
    assert query["timestamp"] == "2026-01-01 08:00:00"
    assert query["sign"] == doc_sign({**query, **form}, "sec", "md5")
    assert dict(parse_qsl(signed.content.decode())) == form
    assert int(signed.headers["content-length"]) == len(signed.content)


@respx.mock
def test_each_retry_attempt_is_re_signed_with_a_fresh_timestamp(make_adapter):
    times = iter([datetime(2026, 11, 27, 2, 0, 0, tzinfo=UTC) + timedelta(seconds=s) for s in (0, 61, 122)])
    adapter = make_adapter(now=lambda: next(times))
    ban = {
        "error_response": {
            "code": 7,
            "msg": "App Call Limited",
            "sub_code": "accesscontrol.limited-by-api-access-count",
            "sub_msg": "This ban will last for 60 more seconds",
        }
    }
    ok = {"item_update_delisting_response": {"item": {"num_iid": 1}}}
    route = respx.post(GATEWAY).mock(side_effect=[httpx.Response(200, json=ban), httpx.Response(200, json=ok)])
    from listing_sync.adapters.base import DelistRequest, ListingRef

    [result] = adapter.delist([DelistRequest("A", ListingRef("A", "1", {"num_iid": "1"}))])
    assert result.ok
    first, second = (decode(c.request)[0] for c in route.calls)
    assert (first["timestamp"], second["timestamp"]) == ("2026-11-27 10:00:00", "2026-11-27 10:01:01")
    assert first["sign"] != second["sign"]
    assert second["sign"] == doc_sign({**second, "num_iid": "1"}, CREDS["app_secret"], "hmac-sha256")
