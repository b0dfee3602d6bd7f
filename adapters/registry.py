"""Channel kind -> adapter (and its emulator). Adding a marketplace = one folder + one line here."""

from __future__ import annotations

import functools
import importlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from listing_sync.adapters.base import ChannelAdapter, ConfigurationError, ContentRules, Operation
from pydantic import ValidationError

if TYPE_CHECKING:
    from listing_sync.adapters.emulator import Emulator, EmulatorHub
    from listing_sync.config.channels import ChannelConfig

#: kind -> (adapter class path, emulator class path); a leading "." is relative to this package
KINDS: dict[str, tuple[str, str]] = {
    "taobao": (
        ".taobao.adapter:TaobaoAdapter",
        ".taobao.emulator:TaobaoEmulator",
    ),
    "shopify": (
        ".shopify.adapter:ShopifyAdapter",
        ".shopify.emulator:ShopifyEmulator",
    ),
    "woocommerce": (
        ".woocommerce.adapter:WooCommerceAdapter",
        ".woocommerce.emulator:WooCommerceEmulator",
    ),
    "aliexpress": (
        ".aliexpress.adapter:AliExpressAdapter",
        ".aliexpress.emulator:AliExpressEmulator",
    ),
    "ebay": (".ebay.adapter:EbayAdapter", ".ebay.emulator:EbayEmulator"),
    "amazon": (
        ".amazon.adapter:AmazonAdapter",
        ".amazon.emulator:AmazonEmulator",
    ),
}


def register(kind: str, adapter: str, emulator: str) -> None:
    """Add a kind at run time (tests use this for toy marketplaces)."""
    KINDS[kind] = (adapter, emulator)


def known_kinds() -> list[str]:
    return list(KINDS)


@functools.cache  # a class path names one class; content checks look kinds up once per SKU
def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module, package=__package__), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"{path} is not available in this installation: {exc}") from None


def adapter_class(kind: str) -> type[ChannelAdapter]:
    if kind not in KINDS:
        raise ConfigurationError(f"unknown channel kind {kind!r}; known: {', '.join(KINDS)}")
    return _load(KINDS[kind][0])


def emulator_class(kind: str) -> type[Emulator]:
    if kind not in KINDS:
        raise ConfigurationError(f"unknown channel kind {kind!r}; known: {', '.join(KINDS)}")
    return _load(KINDS[kind][1])


def content_rules(kind: str) -> ContentRules:
    """What a listing must satisfy on this kind of channel, as its adapter declares it; a kind that is
    unknown or not installed has no rules (the channels file reports it)."""
    try:
        return adapter_class(kind).content_rules
    except ConfigurationError:
        return ContentRules()


def delists_single_skus(config: ChannelConfig) -> bool:
    """Whether the channel's marketplace can take one SKU of a multi-SKU item off sale by itself (not on
    Taobao, which delists whole items only, unless its ``tmall`` option)."""
    rules = content_rules(config.kind)
    option = rules.sku_listing_option
    return not rules.whole_item_delist or bool(option and config.options.get(option))


def delist_sku_as(config: ChannelConfig) -> str:
    """How the channel takes some SKUs of an item off sale while the others stay: ``delist`` or
    ``zero_stock`` (quantity 0, the SKU stays listed). The channels file's ``delist_sku_as``, else
    ``zero_stock`` where the marketplace delists whole items only."""
    if config.delist_sku_as is not None:
        return config.delist_sku_as
    return "delist" if delists_single_skus(config) else "zero_stock"


#: items per call assumed for a kind that is not installed (its channel cannot sync anyway)
UNKNOWN_KIND_BATCH = 50


def estimate_calls(kind: str, op: Operation, count: int) -> int:
    """Calls ``count`` items of ``op`` take on this kind of channel by its declared batch maximum (when
    no adapter is built; a built one counts by its own chunking: ``ChannelAdapter.count_calls``)."""
    try:
        return adapter_class(kind).limits.calls(op, count)
    except ConfigurationError:
        return -(-count // UNKNOWN_KIND_BATCH)


def option_problems(channel: ChannelConfig) -> list[tuple[str, str]]:
    """Problems with a channel's ``options`` table as (field, why), checked against the adapter's model."""
    try:
        cls = adapter_class(channel.kind)
    except ConfigurationError as exc:
        return [("", exc.message)]
    model = getattr(cls, "options_model", None)
    if model is None:
        return [(key, "this kind takes no options") for key in channel.options]
    try:
        model.model_validate(dict(channel.options))
    except ValidationError as exc:
        return [(".".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors()]
    return []


def channel_problems(kind: str, channel: ChannelConfig | None) -> list[tuple[str, str]]:
    """What the channels file cannot judge about one channel table: is its ``kind`` known and, when the
    rest of the table is valid (``channel`` given), do its options fit that kind's adapter. Returns
    (field, why) pairs; ``load_channels(path, check=channel_problems)`` lists them with the file's own."""
    if kind not in KINDS:
        return [("kind", f"unknown kind {kind!r}; known: {', '.join(known_kinds())}")]
    if channel is None:
        return []
    return [(f"options.{field}" if field else "kind", why) for field, why in option_problems(channel)]


def build_adapter(
    channel: ChannelConfig,
    *,
    trace_path: Path | None = None,
    hub: EmulatorHub | None = None,
    trace_personal_data_until: datetime | None = None,
    defer_emulator: bool = False,
    **kwargs: Any,
) -> ChannelAdapter:
    """Build the adapter for a configured channel. ``emulator:`` channels get the in-process emulator
    from ``hub`` as their transport (``defer_emulator``: built at the first request, for adapters that
    may only count calls); everything else talks to the real (or overridden) host."""
    from listing_sync.adapters.http import trace_writer

    cls = adapter_class(channel.kind)
    if channel.emulated and "transport" not in kwargs:
        if hub is None:
            raise ConfigurationError(f"channel {channel.name!r} uses the emulator but no emulator hub was given")
        kwargs["transport"] = _DeferredTransport(hub, channel) if defer_emulator else hub.get(channel).transport()
    return cls(channel, trace=trace_writer(trace_path, trace_personal_data_until), **kwargs)


class _DeferredTransport(httpx.BaseTransport):
    """The channel's emulator transport, its emulator (and the emulator's module) loaded at the first
    request: a change preview builds adapters only to count calls with them."""

    def __init__(self, hub: EmulatorHub, channel: ChannelConfig) -> None:
        self._hub, self._channel = hub, channel
        self._transport: httpx.BaseTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            self._transport = self._hub.get(self._channel).transport()
        return self._transport.handle_request(request)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
