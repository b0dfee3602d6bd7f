"""The service layer's context: loading the channels file for use checks kinds and options too."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_sync.config.channels import ChannelsFileError
from listing_sync.config.settings import Settings
from listing_sync.syncer.context import Context

CHANNELS = """
[[channels]]
name = "etsy-1"
kind = "etsy"
currency = "USD"
warehouses = ["SH"]

[[channels]]
name = "shop"
kind = "shopify"
currency = "EURO"
warehouses = ["SH"]
base_url = "emulator:"
[channels.options]
shop = "demo"
colour = "red"

[[channels]]
name = "ebay-us"
kind = "ebay"
currency = "USD"
warehouses = ["SH"]
base_url = "emulator:"
[channels.options]
price_quantity_batch = 99
"""


def context_for(tmp_path: Path, text: str) -> Context:
    path = tmp_path / "channels.toml"
    path.write_text(text, encoding="utf-8")
    return Context(settings=Settings(_env_file=None, data_dir=tmp_path, channels_file=path))


def test_channels_for_use_are_checked_by_the_registry_in_one_error(tmp_path: Path) -> None:
    with pytest.raises(ChannelsFileError) as info:
        _ = context_for(tmp_path, CHANNELS).channels
    problems = info.value.problems

    assert [(channel, field) for channel, field, _ in problems] == [
        ("etsy-1", "kind"),  # the registry's: no such kind
        ("shop", "currency"),  # the file's own (an invalid table's options are not looked at)
        ("ebay-us", "options.price_quantity_batch"),  # the registry's: the adapter's options model refuses it
    ]
    assert problems[0][2].startswith("unknown kind 'etsy'; known: taobao, shopify")
    assert str(info.value).startswith("3 problem(s) in the channels file:")


def test_the_example_channels_file_loads_for_use(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "config" / "channels.example.toml"
    channels = context_for(tmp_path, example.read_text(encoding="utf-8")).channels
    assert [c.kind for c in channels] == ["taobao", "shopify", "woocommerce", "aliexpress", "ebay", "amazon"]


@pytest.mark.parametrize(
    ("backend", "mode", "store"),
    [("sqlite", "auto", "LocalLimits"), ("redis", "auto", "RedisLimits"), ("redis", "local", "LocalLimits")],
)
def test_rate_limits_are_shared_through_redis_when_the_queue_is_there(tmp_path: Path, backend, mode, store):
    settings = Settings(_env_file=None, data_dir=tmp_path, huey_backend=backend, rate_limits=mode, queue_name="q1")
    limits = Context(settings=settings).limits  # building it connects to nothing yet
    assert type(limits).__name__ == store
    if store == "RedisLimits":
        assert limits.prefix == "q1:rate:"  # one budget per deployment (queue) and credential


SHOP = """
[[channels]]
name = "shop"
kind = "shopify"
currency = "USD"
warehouses = ["SH"]
base_url = "{base}"
[channels.credentials]
access_token = "{token}"
[channels.options]
shop = "demo"
api_version = "2026-10"
"""


def _default_bucket(context: Context, name: str = "shop"):
    return context.adapter(context.channel(name)).http.limiters["default"]


def test_without_redis_every_adapter_of_a_credential_takes_from_one_bucket_per_process(
    tmp_path: Path, monkeypatch
) -> None:
    """The default (``auto``, no Redis): a second adapter of a credential, in this context or another, does
    not start with a full bucket the marketplace has already spent; another credential has its own."""
    monkeypatch.setenv("SHOP_TOKEN_1", "shpat-one")
    monkeypatch.setenv("SHOP_TOKEN_2", "shpat-two")
    real = SHOP.format(base="https://demo.myshopify.com", token="SHOP_TOKEN_1")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = context_for(tmp_path / "a", real)
    bucket = _default_bucket(first)
    assert _default_bucket(first) is bucket
    assert _default_bucket(context_for(tmp_path / "b", real)) is bucket  # the same process, the same shop
    other = context_for(tmp_path / "b", SHOP.format(base="https://demo.myshopify.com", token="SHOP_TOKEN_2"))
    assert _default_bucket(other) is not bucket
    assert bucket.try_acquire(bucket.burst)  # this adapter spends the whole burst ...
    assert _default_bucket(first).wait_time(bucket.burst) > 0  # ... and a new one does not start full


def test_an_emulated_channel_s_budget_is_its_emulator_hub_s(tmp_path: Path, monkeypatch) -> None:
    """Emulators live per data directory: its adapters share one bucket, a fresh directory starts full."""
    monkeypatch.setenv("SHOP_TOKEN_1", "shpat-one")
    emulated = SHOP.format(base="emulator:", token="SHOP_TOKEN_1")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = context_for(tmp_path / "a", emulated), context_for(tmp_path / "b", emulated)
    bucket = _default_bucket(first)
    assert _default_bucket(first) is bucket
    assert _default_bucket(second) is not bucket
    assert first.limits is second.limits  # the process's store, used for real hosts
