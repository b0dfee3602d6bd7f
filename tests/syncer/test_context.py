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
    [("sqlite", "auto", None), ("redis", "auto", "RedisLimits"), ("redis", "local", "LocalLimits")],
)
def test_rate_limits_are_shared_through_redis_when_the_queue_is_there(tmp_path: Path, backend, mode, store):
    settings = Settings(_env_file=None, data_dir=tmp_path, huey_backend=backend, rate_limits=mode, queue_name="q1")
    limits = Context(settings=settings).limits  # building it connects to nothing yet
    assert (type(limits).__name__ if limits is not None else None) == store
    if store == "RedisLimits":
        assert limits.prefix == "q1:rate:"  # one budget per deployment (queue) and credential
