"""The channels file (TOML): which sales channels exist and how each one is fed and priced.

Example::

    [[channels]]
    name = "ebay-us"
    kind = "ebay"
    currency = "USD"
    warehouses = ["SH", "HZ"]
    language = "en"
    base_url = "emulator:"          # optional; "emulator:" = the built-in in-process emulator
    [channels.credentials]          # values are NAMES of environment variables
    client_id = "EBAY_CLIENT_ID"
    [channels.price]
    multiplier = "1.30"
    [channels.stock]
    buffer = 2

Loading never raises a traceback at the user: every problem (file, channel, field, why) is collected
into one :class:`ChannelsFileError`. Which kinds exist and what options each takes is the adapters'
knowledge, not config's: the caller passes it in as ``check`` (the service layer passes
``adapters.registry.channel_problems``), and its problems are listed with the rest, in file order.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from listing_sync.config.currencies import MINOR_UNITS
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

EMULATOR_URL = "emulator:"


class MissingCredential(KeyError):
    """A credential the adapter needs is not in the channel's configuration (a ``KeyError``: an absent key).

    Adapters read credentials through ``ChannelAdapter.credential``, which raises this as their own
    ``ConfigurationError`` (a channel error the syncer parks and the CLI prints as one line)."""

    def __init__(self, message: str, *, channel: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.channel = channel

    def __str__(self) -> str:  # a KeyError would show the repr of its message
        return f"[{self.channel}] {self.message}" if self.channel else self.message


class PriceRule(BaseModel):
    """Channel price = (base or override) x multiplier + fixed, in channel currency, with ending and floor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    multiplier: Decimal = Decimal("1")
    fixed: Decimal = Decimal("0")
    ending: Decimal | None = None  # e.g. 0.99, 0.9, 0 (whole units)
    min_margin: Decimal = Decimal("0")  # floor = cost x (1 + min_margin)

    @field_validator("multiplier")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value

    @field_validator("ending")
    @classmethod
    def _fraction(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not (0 <= value < 1):
            raise ValueError("must be a fraction between 0 and 1 such as 0.99, 0.9 or 0")
        return value

    @field_validator("min_margin")
    @classmethod
    def _margin(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must not be negative")
        return value


class StockRule(BaseModel):
    """Channel quantity = floor((pool - buffer) x share), clamped to [0, max_quantity]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    buffer: int = Field(default=0, ge=0)
    share: Decimal = Field(default=Decimal("1"), gt=0, le=1)
    max_quantity: int | None = Field(default=None, ge=0)


#: pages one paging run (an order pull, a listing read-back) may read unless a channel says otherwise
DEFAULT_MAX_PAGES = 10_000


class ChannelConfig(BaseModel):
    """One sales channel as declared in the channels file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: str
    currency: str
    warehouses: tuple[str, ...] = Field(min_length=1)
    language: str = "en"
    base_url: str | None = None
    enabled: bool = True
    #: most pages one paging run of this channel reads before it stops with an error (a safety stop)
    max_pages: int = Field(default=DEFAULT_MAX_PAGES, ge=1)
    price: PriceRule = PriceRule()
    stock: StockRule = StockRule()
    #: marketplace fees for profit reports when the marketplace does not report them on the order:
    #: fee_percent % of (items + shipping) plus fee_fixed (in the order's currency) per order
    fee_percent: Decimal = Field(default=Decimal(0), ge=0, lt=100)
    fee_fixed: Decimal = Field(default=Decimal(0), ge=0)
    credentials: Mapping[str, SecretStr] = Field(default_factory=dict)
    options: Mapping[str, Any] = Field(default_factory=dict)
    #: how delisting some SKUs of an item while its others stay on sale is done: "delist" (the
    #: marketplace's own SKU delist) or "zero_stock" (the SKU stays listed with quantity 0); unset: the
    #: kind's default, "zero_stock" where the marketplace delists whole items only (Taobao)
    delist_sku_as: Literal["delist", "zero_stock"] | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in MINOR_UNITS:
            raise ValueError(f"{value!r} is not an ISO 4217 currency code we know (e.g. CNY, USD, EUR)")
        return value

    @property
    def emulated(self) -> bool:
        return self.base_url == EMULATOR_URL

    def credential(self, key: str) -> str:
        """The plain value of one credential (only adapters' auth code calls this)."""
        if key not in self.credentials:
            raise MissingCredential(
                f"channel {self.name!r} has no credential {key!r} in the channels file: add it under "
                "[channels.credentials]",
                channel=self.name,
            )
        return self.credentials[key].get_secret_value()


class ChannelsFileError(Exception):
    """A channels file with problems; ``problems`` lists each as (file, channel, field, why)."""

    def __init__(self, path: Path, problems: list[tuple[str, str, str]]):
        self.path = path
        self.problems = problems
        lines = [f"{path}: {_where(ch, field)}{why}" for ch, field, why in problems]
        super().__init__(f"{len(problems)} problem(s) in the channels file:\n" + "\n".join(lines))


def _where(channel: str, field: str) -> str:
    parts = ([f"channel {channel}"] if channel else []) + ([field] if field else [])
    return "".join(f"{part}: " for part in parts)


def _toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's message with its position first: 'line 3, column 8: not valid TOML: Invalid value'."""
    match = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", str(exc))
    if match is None:
        return f"not valid TOML: {exc}"
    return f"line {match[2]}, column {match[3]}: not valid TOML: {match[1]}"


def _resolve_credentials(
    raw: Any, channel: str, emulated: bool, env: Mapping[str, str], problems: list
) -> dict[str, SecretStr]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append((channel, "credentials", 'must be a table of NAME = "ENV_VARIABLE"'))
        return {}
    resolved: dict[str, SecretStr] = {}
    for key, env_name in raw.items():
        if not isinstance(env_name, str) or not env_name:
            problems.append((channel, f"credentials.{key}", "must name an environment variable"))
            continue
        value = env.get(env_name)
        if value:
            resolved[key] = SecretStr(value)
        elif emulated:
            # The built-in emulators accept any credentials: a stable stand-in keeps demos credential-free.
            resolved[key] = SecretStr(f"emulator-{key}")
        else:
            problems.append((channel, f"credentials.{key}", f"environment variable {env_name} is not set (export it)"))
    return resolved


#: Checks what config cannot judge about one channel table: called with the ``kind`` it names and the
#: validated channel (None when the rest of the table did not validate); returns (field, why) pairs.
ChannelCheck = Callable[[str, ChannelConfig | None], list[tuple[str, str]]]


def load_channels(
    path: Path, env: Mapping[str, str] | None = None, *, check: ChannelCheck | None = None
) -> list[ChannelConfig]:
    """Parse and validate a channels file, each table also by ``check`` (its kind and options) when given.
    Raise ``ChannelsFileError`` listing every problem."""
    env = os.environ if env is None else env
    if not path.exists():
        raise ChannelsFileError(path, [("", "", "file not found (run `syncer init` to create an example)")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ChannelsFileError(path, [("", "", _toml_problem(exc))]) from None
    except UnicodeDecodeError as exc:
        raise ChannelsFileError(path, [("", "", f"not UTF-8 text (byte {exc.start}): save it as UTF-8")]) from None
    except OSError as exc:
        raise ChannelsFileError(path, [("", "", f"cannot read the file: {exc.strerror or exc}")]) from None

    problems: list[tuple[str, str, str]] = []
    raw_channels = data.get("channels", [])
    unknown_top = sorted(set(data) - {"channels"})
    for key in unknown_top:
        problems.append(("", key, "unknown top-level key (expected only [[channels]] tables)"))
    if not isinstance(raw_channels, list):
        raise ChannelsFileError(path, [*problems, ("", "channels", "must be an array of tables: [[channels]]")])

    channels: list[ChannelConfig] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_channels, start=1):
        label = str(raw.get("name") or f"#{index}") if isinstance(raw, dict) else f"#{index}"
        if not isinstance(raw, dict):
            problems.append((label, "", "must be a table"))
            continue
        raw = dict(raw)
        emulated = raw.get("base_url") == EMULATOR_URL
        raw["credentials"] = _resolve_credentials(raw.get("credentials"), label, emulated, env, problems)
        try:
            channel = ChannelConfig.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"])
                problems.append((label, field, err["msg"].removeprefix("Value error, ")))  # pydantic's wording
            # still report what can be checked without a valid channel: its kind and its name
            kind, name = raw.get("kind"), raw.get("name")
            if isinstance(kind, str) and check is not None:
                problems.extend((label, field, why) for field, why in check(kind, None))
            if isinstance(name, str) and name in seen:
                problems.append((label, "name", "duplicate channel name"))
            if isinstance(name, str):
                seen.add(name)
            continue
        if check is not None:
            problems.extend((label, field, why) for field, why in check(channel.kind, channel))
        if channel.name in seen:
            problems.append((label, "name", "duplicate channel name"))
        seen.add(channel.name)
        channels.append(channel)
    if problems:
        raise ChannelsFileError(path, problems)
    return channels
