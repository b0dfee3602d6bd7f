"""Shared OAuth tokens: one token call per credential for every adapter instance and process."""

from __future__ import annotations

import os
import stat
import threading
import uuid

import httpx
import pytest
import respx
from listing_sync.adapters.base import DelistRequest, ListingRef
from listing_sync.adapters.ebay.adapter import EbayAdapter
from listing_sync.adapters.tokens import FileTokenCache, MemoryTokenCache, RedisTokenCache, token_key

from .ebay.conftest import ACCESS_TOKEN, API, CREDS, OPTIONS, Clock

WITHDRAW = f"{API}/sell/inventory/v1/offer/5000001/withdraw"
INVALID_TOKEN = {"errors": [{"errorId": 1001, "domain": "OAuth", "message": "Invalid access token"}]}


def delist(adapter) -> bool:
    return adapter.delist([DelistRequest("A1", ListingRef("A1", None, {"offer_id": "5000001"}))])[0].ok


@pytest.fixture
def make_ebay(channel_factory):
    """eBay adapters of one channel, each on its own fake clock (as separate processes would be)."""

    def build(**kw):
        clock = Clock()
        channel = channel_factory("ebay", credentials=CREDS, options=OPTIONS)
        return EbayAdapter(channel, clock=clock, sleep=clock.sleep, now=clock.now, **kw)

    return build


@pytest.fixture
def tokens() -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as router:
        issued = iter(f"{ACCESS_TOKEN}-{n}" for n in range(100))
        router.post(f"{API}/identity/v1/oauth2/token", name="token").mock(
            side_effect=lambda request: httpx.Response(200, json={"access_token": next(issued), "expires_in": 7200})
        )
        router.post(WITHDRAW).respond(200, json={})
        yield router


def test_instances_sharing_a_cache_make_one_token_call(make_ebay, tokens):
    cache = MemoryTokenCache()
    assert all(delist(make_ebay(tokens=cache)) for _ in range(5))
    assert tokens["token"].call_count == 1
    used = {c.request.headers.get("Authorization") for c in tokens.calls if c.request.url.path.endswith("withdraw")}
    assert used == {f"Bearer {ACCESS_TOKEN}-0"}


def test_without_a_cache_instances_share_the_process_memory(make_ebay, tokens):
    assert delist(make_ebay()) and delist(make_ebay())
    assert tokens["token"].call_count == 1


def test_a_refused_shared_token_is_refreshed_once_and_published(make_ebay, tokens):
    cache = MemoryTokenCache()
    first, second = make_ebay(tokens=cache), make_ebay(tokens=cache)
    assert delist(first)
    tokens.post(WITHDRAW).mock(side_effect=[httpx.Response(401, json=INVALID_TOKEN), httpx.Response(200, json={})])
    assert delist(second)  # refused token -> one refresh
    assert tokens["token"].call_count == 2
    assert cache.get(next(iter(cache._tokens)))[0] == f"{ACCESS_TOKEN}-1"


def test_file_cache_is_private_and_shared_by_processes(make_ebay, tokens, tmp_path):
    directory = tmp_path / "tokens"
    assert delist(make_ebay(tokens=FileTokenCache(directory)))
    assert delist(make_ebay(tokens=FileTokenCache(directory)))  # a new cache = another process
    assert tokens["token"].call_count == 1
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    [token_file] = directory.glob("*.json")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert "refresh" not in token_file.name and "AppId" not in token_file.name  # the key is a digest


def test_concurrent_first_use_refreshes_once(make_ebay, tokens, tmp_path):
    directory = tmp_path / "tokens"
    adapters = [make_ebay(tokens=FileTokenCache(directory)) for _ in range(8)]
    results: list[bool] = []
    threads = [threading.Thread(target=lambda a=a: results.append(delist(a))) for a in adapters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 8
    assert tokens["token"].call_count == 1


def test_token_key_names_no_secret():
    key = token_key("ebay", "https://api.ebay.com", "AppId", "v^1.1#refresh", "scope")
    assert (
        len(key) == 40
        and "refresh" not in key
        and key == token_key("ebay", "https://api.ebay.com", "AppId", "v^1.1#refresh", "scope")
    )
    assert key != token_key("ebay", "https://api.ebay.com", "AppId", "v^1.1#other", "scope")


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("SYNCER_TEST_REDIS_URL"), reason="SYNCER_TEST_REDIS_URL not set")
def test_redis_cache_is_shared_by_processes(make_ebay, tokens):
    prefix = f"test-tokens-{uuid.uuid4().hex}:"
    url = os.environ["SYNCER_TEST_REDIS_URL"]
    first = RedisTokenCache.from_url(url, prefix=prefix)
    try:
        assert delist(make_ebay(tokens=first))
        assert delist(make_ebay(tokens=RedisTokenCache.from_url(url, prefix=prefix)))
        assert tokens["token"].call_count == 1
        ttl = first.client.ttl(next(iter(first.client.scan_iter(f"{prefix}*"))))
        assert 0 < ttl <= 7200
    finally:
        for key in first.client.scan_iter(f"{prefix}*"):
            first.client.delete(key)
