"""The registry: channel kind -> adapter and emulator, and building an adapter from a channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from listing_sync.adapters import registry
from listing_sync.adapters.base import ConfigurationError, ContentRules, ListingDraft, Money, Operation, OrderCursor
from listing_sync.adapters.emulator import EmulatorHub
from listing_sync.config.channels import ChannelsFileError, load_channels
from pydantic import BaseModel, ConfigDict

from tests.adapters.toy import ToyAdapter, ToyEmulator
from tests.config.test_channels import BAD, INVALID_TWICE, write
from tests.conftest import make_channel

MARKETPLACES = {"taobao", "shopify", "woocommerce", "aliexpress", "ebay", "amazon"}
ORIGINAL_KINDS = registry.KINDS
EXAMPLE_CHANNELS = load_channels(Path(__file__).resolve().parents[2] / "config" / "channels.example.toml", env={})


class ToyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop: str
    page_size: int = 50


class OptionedToy(ToyAdapter):
    options_model = ToyOptions


@pytest.fixture(autouse=True)
def toy_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register toy kinds on a copy of the registry, restored after each test."""
    monkeypatch.setattr(registry, "KINDS", dict(registry.KINDS))
    registry.register("toy", "tests.adapters.toy:ToyAdapter", "tests.adapters.toy:ToyEmulator")
    registry.register("opttoy", f"{__name__}:OptionedToy", "tests.adapters.toy:ToyEmulator")


def test_every_marketplace_has_one_registry_line() -> None:
    assert set(registry.known_kinds()) >= MARKETPLACES
    for kind in MARKETPLACES:
        adapter, emulator = registry.KINDS[kind]
        assert adapter.startswith(f".{kind}.") and emulator.startswith(f".{kind}.")


@pytest.mark.parametrize("kind", sorted(MARKETPLACES))
def test_every_marketplace_declares_its_content_rules(kind: str) -> None:
    declared = registry.adapter_class(kind).content_rules
    assert isinstance(declared, ContentRules) and declared != ContentRules()  # not the accept-anything default
    assert declared.category_required  # every marketplace wants its own category ids
    assert registry.content_rules(kind) is declared


def test_a_kind_without_an_adapter_has_no_content_rules() -> None:
    assert registry.content_rules("etsy") == ContentRules()
    assert registry.content_rules("toy") == ContentRules()  # a kind that declares none inherits the default


def test_register_adds_a_kind() -> None:
    assert registry.adapter_class("toy") is ToyAdapter
    assert registry.emulator_class("toy") is ToyEmulator
    assert "toy" in registry.known_kinds()


def test_registrations_do_not_leak_between_tests() -> None:
    # the fixture registers on a copy: the original table never sees the toy kinds
    assert "opttoy" in registry.KINDS
    assert "toy" not in ORIGINAL_KINDS and "opttoy" not in ORIGINAL_KINDS


@pytest.mark.parametrize("lookup", [registry.adapter_class, registry.emulator_class])
def test_unknown_kind_is_a_configuration_error(lookup) -> None:
    with pytest.raises(ConfigurationError) as info:
        lookup("etsy")
    assert "unknown channel kind 'etsy'" in str(info.value)
    assert "taobao" in str(info.value)  # it lists what is known


def test_unimportable_kind_is_a_configuration_error() -> None:
    registry.register(
        "ghost",
        ".ghost.adapter:GhostAdapter",
        ".ghost.emulator:GhostEmulator",
    )
    registry.register("typo", "tests.adapters.toy:ToyAdaptr", "tests.adapters.toy:ToyEmulator")

    with pytest.raises(ConfigurationError, match="not available in this installation"):
        registry.adapter_class("ghost")
    with pytest.raises(ConfigurationError, match="ToyAdaptr"):
        registry.adapter_class("typo")


def test_option_problems() -> None:
    assert registry.option_problems(make_channel("toy")) == []
    assert registry.option_problems(make_channel("toy", options={"colour": "red"})) == [
        ("colour", "this kind takes no options")
    ]
    assert registry.option_problems(make_channel("opttoy", options={"shop": "s1"})) == []
    problems = dict(registry.option_problems(make_channel("opttoy", options={"page_size": "many", "x": 1})))
    assert set(problems) == {"shop", "page_size", "x"}
    assert "required" in problems["shop"].lower()
    kind_problem = registry.option_problems(make_channel("etsy"))
    assert kind_problem[0][0] == "" and "unknown channel kind" in kind_problem[0][1]


def test_channel_problems_judge_the_kind_and_the_options() -> None:
    check = registry.channel_problems
    assert check("toy", make_channel("toy")) == []
    assert check("toy", None) == []  # a table that did not validate: its kind is all there is to check
    assert check("etsy", None) == [("kind", f"unknown kind 'etsy'; known: {', '.join(registry.known_kinds())}")]
    assert check("toy", make_channel("toy", options={"colour": "red"})) == [
        ("options.colour", "this kind takes no options")
    ]
    assert {field for field, _ in check("opttoy", make_channel("opttoy", options={"x": 1}))} == {
        "options.shop",
        "options.x",
    }
    registry.register("ghost", ".ghost.adapter:GhostAdapter", ".ghost.emulator:GhostEmulator")
    [(field, why)] = check("ghost", make_channel("ghost"))
    assert field == "kind" and "not available in this installation" in why


def test_a_channels_file_checked_by_the_registry_lists_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    with pytest.raises(ChannelsFileError) as info:
        load_channels(path, env={}, check=registry.channel_problems)
    problems = info.value.problems
    where = {(channel, field) for channel, field, _ in problems}

    assert ("etsy-1", "kind") in where
    assert ("toy-eur", "currency") in where
    assert ("toy-nocred", "credentials.refresh_token") in where
    assert ("toy-price", "price.multiplier") in where
    assert ("toy-price", "name") in where
    assert ("toy-opts", "options.colour") in where
    assert len(problems) == 6
    why = {(channel, field): text for channel, field, text in problems}
    assert "TOY_MISSING_VARIABLE" in why[("toy-nocred", "credentials.refresh_token")]
    assert "duplicate" in why[("toy-price", "name")]
    assert "'etsy'" in why[("etsy-1", "kind")]

    message = str(info.value)
    assert message.startswith("6 problem(s) in the channels file:")
    assert f"{path}: channel toy-opts: options.colour: this kind takes no options" in message


def test_an_invalid_channel_still_has_its_kind_checked_by_the_registry(tmp_path: Path) -> None:
    with pytest.raises(ChannelsFileError) as info:
        load_channels(write(tmp_path, INVALID_TWICE), env={}, check=registry.channel_problems)
    where = {(channel, field) for channel, field, _ in info.value.problems}
    assert where == {("a", "currency"), ("a", "warehouses"), ("a", "kind"), ("a", "name")}


def test_build_adapter_validates_options() -> None:
    adapter = registry.build_adapter(make_channel("opttoy", options={"shop": "s1"}))
    assert isinstance(adapter, OptionedToy)
    assert adapter.options == ToyOptions(shop="s1", page_size=50)


def test_build_emulated_adapter_uses_the_hubs_emulator(tmp_path: Path) -> None:
    channel = make_channel("toy", base_url="emulator:", credentials={"refresh_token": "emulator-refresh_token"})
    hub = EmulatorHub()
    trace = tmp_path / "trace.jsonl"

    adapter = registry.build_adapter(channel, hub=hub, trace_path=trace)
    adapter.publish([ListingDraft("A", "Mug", "A mug", "1", Money.of("5", "USD"), 2)])

    emulator = hub.get(channel)
    assert emulator.state["items"]["A"]["qty"] == 2
    urls = [json.loads(line)["url"] for line in trace.read_text().splitlines()]
    assert urls[-1] == "https://api.toy.example/items/A"  # real URLs, intercepted in-process


def test_a_counting_adapter_loads_its_emulator_at_the_first_request(tmp_path: Path) -> None:
    channel = make_channel("toy", base_url="emulator:", credentials={"refresh_token": "emulator-refresh_token"})
    hub = EmulatorHub()

    adapter = registry.build_adapter(channel, hub=hub, defer_emulator=True)
    assert adapter.estimate_calls(Operation.PRICE, []) == 0
    assert list(hub) == []  # counting builds no emulator

    adapter.publish([ListingDraft("A", "Mug", "A mug", "1", Money.of("5", "USD"), 2)])
    assert [name for name, _ in hub] == [channel.name]
    assert hub.get(channel).state["items"]["A"]["qty"] == 2


def test_emulated_channel_needs_a_hub() -> None:
    with pytest.raises(ConfigurationError, match="no emulator hub"):
        registry.build_adapter(make_channel("toy", base_url="emulator:"))


def test_real_channel_never_touches_the_hub() -> None:
    hub = EmulatorHub()
    adapter = registry.build_adapter(make_channel("toy", base_url="https://toy.example/api"), hub=hub)
    assert adapter.base_url() == "https://toy.example/api"
    assert list(hub) == []


@pytest.mark.parametrize("channel", EXAMPLE_CHANNELS, ids=lambda c: c.kind)
def test_a_marketplace_without_its_credentials_is_a_configuration_error(channel) -> None:
    # a real host and no credentials: each adapter refuses to build, naming the channel (the CLI prints one line)
    bare = channel.model_copy(update={"credentials": {}, "base_url": "https://market.example"})
    with pytest.raises(ConfigurationError) as info:
        registry.build_adapter(bare)
    assert channel.name in str(info.value) and "credential" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("channel", EXAMPLE_CHANNELS, ids=lambda c: c.kind)
def test_every_marketplace_counts_its_api_calls_in_the_shared_http_layer(channel) -> None:
    hub = EmulatorHub()
    with registry.build_adapter(channel, hub=hub, sleep=lambda s: None) as adapter:
        assert adapter.api_calls == 0
        list(adapter.listings())
        adapter.orders_since(OrderCursor(datetime.now(UTC) - timedelta(hours=1)))
        # every request the marketplace saw, token requests included, and nothing else
        assert adapter.api_calls == len(hub.get(channel).requests) > 0


def test_estimate_calls_uses_the_kinds_declared_batch_maximum() -> None:
    # the toy kind takes 3 stock updates and 10 prices per call
    assert registry.estimate_calls("toy", Operation.STOCK, 7) == 3
    assert registry.estimate_calls("toy", Operation.PRICE, 10) == 1
    assert registry.estimate_calls("toy", Operation.PRICE, 0) == 0
    ebay = registry.adapter_class("ebay").limits
    assert registry.estimate_calls("ebay", Operation.PUBLISH, ebay.publish + 1) == 2
    # a kind that is not installed counts 50 per call
    assert registry.estimate_calls("etsy", Operation.PRICE, 101) == 3
