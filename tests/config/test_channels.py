"""The channels file: loading, validation with every problem listed, credentials from the environment.

Config knows no channel kinds: the kind and options checks come in as ``check`` (the registry's, tested in
tests/adapters/test_registry.py); here a recording stand-in shows how its problems join the file's."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from listing_sync.config.channels import ChannelConfig, ChannelsFileError, MissingCredential, load_channels

GOOD = """
[[channels]]
name = "toy-live"
kind = "toy"
currency = "USD"
warehouses = ["SH", "HZ"]
[channels.credentials]
refresh_token = "TOY_REFRESH_TOKEN"
[channels.price]
multiplier = "1.30"
ending = "0.99"
[channels.stock]
buffer = 2
share = "0.5"

[[channels]]
name = "toy-demo"
kind = "toy"
currency = "JPY"
warehouses = ["SH"]
language = "ja"
base_url = "emulator:"
[channels.credentials]
refresh_token = "TOY_DEMO_TOKEN_NOT_SET"
"""

BAD = """
[[channels]]
name = "etsy-1"
kind = "etsy"
currency = "USD"
warehouses = ["SH"]

[[channels]]
name = "toy-eur"
kind = "toy"
currency = "EURO"
warehouses = ["SH"]

[[channels]]
name = "toy-nocred"
kind = "toy"
currency = "USD"
warehouses = ["SH"]
[channels.credentials]
refresh_token = "TOY_MISSING_VARIABLE"

[[channels]]
name = "toy-price"
kind = "toy"
currency = "USD"
warehouses = ["SH"]
[channels.price]
multiplier = "0"

[[channels]]
name = "toy-price"
kind = "toy"
currency = "CNY"
warehouses = ["SH"]

[[channels]]
name = "toy-opts"
kind = "toy"
currency = "USD"
warehouses = ["SH"]
[channels.options]
colour = "red"
"""

#: the second table is invalid (currency, warehouses) and repeats the first one's name
INVALID_TWICE = """
[[channels]]
name = "a"
kind = "toy"
currency = "USD"
warehouses = ["SH"]

[[channels]]
name = "a"
kind = "etsy"
currency = "usd"
warehouses = []
"""


class RecordingCheck:
    """A stand-in for the registry's check: knows kind "toy", which takes no options; records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def __call__(self, kind: str, channel: ChannelConfig | None) -> list[tuple[str, str]]:
        self.calls.append((kind, channel.name if channel is not None else None))
        if kind != "toy":
            return [("kind", f"no kind {kind!r} here")]
        return [(f"options.{key}", "no options here") for key in (channel.options if channel else {})]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "channels.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, env: dict[str, str] | None = None, check=None) -> list[tuple[str, str, str]]:
    with pytest.raises(ChannelsFileError) as info:
        load_channels(path, env=env or {}, check=check)
    assert info.value.path == path
    return info.value.problems


def test_a_good_file_loads(tmp_path: Path) -> None:
    live, demo = load_channels(write(tmp_path, GOOD), env={"TOY_REFRESH_TOKEN": "rt-live-secret"})

    assert (live.name, live.kind, live.currency, live.warehouses) == ("toy-live", "toy", "USD", ("SH", "HZ"))
    assert live.credential("refresh_token") == "rt-live-secret"
    assert "rt-live-secret" not in repr(live)
    assert (live.price.multiplier, live.price.ending) == (Decimal("1.30"), Decimal("0.99"))
    assert (live.stock.buffer, live.stock.share) == (2, Decimal("0.5"))
    assert not live.emulated
    assert (demo.currency, demo.language, demo.emulated) == ("JPY", "ja", True)


def test_emulated_channels_get_stand_in_credentials(tmp_path: Path) -> None:
    demo = load_channels(write(tmp_path, GOOD), env={"TOY_REFRESH_TOKEN": "x" * 8})[1]
    assert demo.credential("refresh_token") == "emulator-refresh_token"

    real = load_channels(write(tmp_path, GOOD), env={"TOY_REFRESH_TOKEN": "x" * 8, "TOY_DEMO_TOKEN_NOT_SET": "rt-2"})
    assert real[1].credential("refresh_token") == "rt-2"  # a set variable still wins


def test_a_bad_file_lists_every_problem_with_channel_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    problems = problems_of(path)
    where = {(channel, field) for channel, field, _ in problems}

    assert ("toy-eur", "currency") in where
    assert ("toy-nocred", "credentials.refresh_token") in where
    assert ("toy-price", "price.multiplier") in where
    assert ("toy-price", "name") in where
    assert len(problems) == 4  # kind and options are not config's to judge (no check given)
    why = {(channel, field): text for channel, field, text in problems}
    assert "TOY_MISSING_VARIABLE" in why[("toy-nocred", "credentials.refresh_token")]
    assert "duplicate" in why[("toy-price", "name")]
    # trap 6: pydantic's "Value error, " prefix is not ours to show
    assert why[("toy-price", "price.multiplier")] == "must be greater than 0"

    with pytest.raises(ChannelsFileError) as info:
        load_channels(path, env={})
    message = str(info.value)
    assert message.startswith("4 problem(s) in the channels file:")
    assert f"{path}: channel toy-eur: currency: " in message


def test_the_checks_problems_are_listed_with_the_files_in_file_order(tmp_path: Path) -> None:
    check = RecordingCheck()
    problems = problems_of(write(tmp_path, BAD), check=check)

    assert problems == [
        ("etsy-1", "kind", "no kind 'etsy' here"),
        ("toy-eur", "currency", problems[1][2]),
        ("toy-nocred", "credentials.refresh_token", problems[2][2]),
        ("toy-price", "price.multiplier", problems[3][2]),
        ("toy-price", "name", "duplicate channel name"),
        ("toy-opts", "options.colour", "no options here"),
    ]
    # valid tables are checked whole; an invalid one by its kind alone (None: no channel to look at)
    assert check.calls == [
        ("etsy", "etsy-1"),
        ("toy", None),
        ("toy", "toy-nocred"),
        ("toy", None),
        ("toy", "toy-price"),
        ("toy", "toy-opts"),
    ]


def test_an_invalid_channel_still_has_its_kind_and_name_checked(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, INVALID_TWICE), check=RecordingCheck())
    where = {(channel, field) for channel, field, _ in problems}
    assert where == {("a", "currency"), ("a", "warehouses"), ("a", "kind"), ("a", "name")}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[[channels]\nname = ", "not valid TOML"),
        ('channels = "ebay"\nextra = 1', "must be an array of tables"),
        ('[[channels]]\nname = "Bad Name!"\nkind = "toy"\ncurrency = "USD"\nwarehouses = ["SH"]', "pattern"),
        ('[[channels]]\nname = "t"\nkind = "toy"\ncurrency = "USD"\nwarehouses = ["SH"]\nsurprise = 1', "Extra"),
        ('[[channels]]\nname = "t"\nkind = "toy"\ncurrency = "USD"\nwarehouses = ["SH"]\ncredentials = 5', "table"),
    ],
)
def test_malformed_files_are_reported_not_raised(tmp_path: Path, text: str, complaint: str) -> None:
    problems = problems_of(write(tmp_path, text))
    assert any(complaint in why for _, _, why in problems), problems


def test_unknown_top_level_keys_are_reported_together(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, 'channels = "ebay"\nextra = 1'))
    assert {field for _, field, _ in problems} == {"extra", "channels"}


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    [(_, _, why)] = problems_of(tmp_path / "nope.toml")
    assert "syncer init" in why


def test_missing_credential_is_a_key_error_that_says_where_to_add_it(tmp_path: Path) -> None:
    live = load_channels(write(tmp_path, GOOD), env={"TOY_REFRESH_TOKEN": "rt-live-secret"})[0]
    with pytest.raises(MissingCredential) as info:
        live.credential("client_secret")
    assert isinstance(info.value, KeyError) and info.value.channel == "toy-live"
    assert str(info.value) == (
        "[toy-live] channel 'toy-live' has no credential 'client_secret' in the channels file: "
        "add it under [channels.credentials]"
    )
