"""Change lines, plans, refusals and small helpers shared by the change modules."""

from __future__ import annotations

import functools
import gc
import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import wraps
from typing import Any, TypeVar

from listing_sync.adapters.base import Operation
from listing_sync.syncer.context import UserError

CHUNK = 5000
PRICE_FIELDS = ("base_price", "price_override")
WANTED = "wanted"
UNDOABLE = ("base_price", "price_override", WANTED)


F = TypeVar("F", bound=Callable[..., Any])


def _bulk(fn: F) -> F:
    """No cyclic garbage collection while building large plans (it would rescan every live object
    many times over; nothing built here is cyclic)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper  # type: ignore[return-value]


class ChangeRefused(UserError):
    """The change cannot be applied as asked (nothing was applied)."""


class GuardRefused(ChangeRefused):
    """The price guard refused the change (``--force`` overrides)."""

    def __init__(self, violations: Sequence[Violation]):
        self.violations = list(violations)
        skus = sorted({v.sku for v in self.violations})
        shown = "\n".join(f"  {v}" for v in self.violations[:50])
        more = f"\n  ... and {len(self.violations) - 50} more" if len(self.violations) > 50 else ""
        super().__init__(
            f"refused by the price guard (or the channel's rules) for {len(skus)} SKU(s): {', '.join(skus[:20])}"
            f"{' ...' if len(skus) > 20 else ''}; nothing was applied (--force applies it anyway):\n{shown}{more}"
        )


class StaleChange(ChangeRefused):
    """A value changed between the preview and the apply."""


@dataclass(frozen=True, slots=True)
class ChangeLine:
    sku_id: int
    sku: str
    field: str  # base_price | price_override | stock:WH | wanted
    old: str | None
    new: str | None
    channel: str | None = None

    @property
    def key(self) -> tuple[int, str, str | None]:
        return (self.sku_id, self.field, self.channel)

    @property
    def set_to(self) -> str:
        """The new value of a line that always sets one (a base price, a stock count, a listing state;
        only a removed price override is None)."""
        if self.new is None:
            raise ValueError(f"{self.sku} {self.field}: the change line has no new value")
        return self.new

    @property
    def channel_name(self) -> str:
        """The channel of a per-channel line (a price override, a listing state)."""
        if self.channel is None:
            raise ValueError(f"{self.sku} {self.field}: the change line names no channel")
        return self.channel


@dataclass(slots=True)
class Effect:
    """What one listing will show after the change (price or quantity in the channel's terms, or state)."""

    listing_id: int | None
    channel: str
    sku_id: int
    sku: str
    field: str  # price | quantity | listing
    old: Any
    new: Any
    op: Operation | None  # the API operation the next sync makes for it (None: none, or already pending)


@dataclass(frozen=True, slots=True)
class Violation:
    sku: str
    channel: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.sku}" + (f" on {self.channel}" if self.channel else "") + f": {self.message}"


@dataclass(slots=True)
class ChangePlan:
    lines: list[ChangeLine]
    effects: list[Effect] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    calls: dict[str, dict[str, int]] = field(default_factory=dict)  # channel -> operation -> calls
    notes: list[str] = field(default_factory=list)
    #: listing id -> (desired price, desired quantity) after the change
    desired: dict[int, tuple[Decimal | None, int | None]] = field(default_factory=dict)
    #: listing id -> (desired price, desired quantity) as the plan read them (the apply writes only if
    #: they still are)
    read: dict[int, tuple[Decimal | None, int | None]] = field(default_factory=dict)
    sku_currency: dict[int, str] = field(default_factory=dict)  # sku id -> its (base price) currency
    channel_currency: dict[str, str] = field(default_factory=dict)  # channel -> its currency

    def currency(self, sku_id: int, channel: str | None, field_name: str) -> str | None:
        """The currency of a row's amounts: a base price's is the SKU's, a channel price's the channel's."""
        if field_name == "base_price":
            return self.sku_currency.get(sku_id)
        if field_name in ("price_override", "price"):
            return self.channel_currency.get(channel or "")
        return None

    @property
    def skus(self) -> int:
        return len({line.sku_id for line in self.lines})

    @property
    def listings(self) -> int:
        return sum(len(ids) for ids in self._by_channel().values())

    @property
    def api_calls(self) -> int:
        return sum(sum(ops.values()) for ops in self.calls.values())

    def affected(self) -> dict[str, list[int]]:
        """channel -> SKU ids whose listing there changes (what the triggered sync pushes)."""
        return {name: sorted(ids) for name, ids in sorted(self._by_channel().items())}

    def _by_channel(self) -> dict[str, set[int]]:
        out: dict[str, set[int]] = defaultdict(set)
        for effect in self.effects:
            out[effect.channel].add(effect.sku_id)
        return out

    def row_count(self) -> int:
        """How many rows :meth:`rows` gives (without rendering them)."""
        return len(self.lines) + sum(1 for effect in self.effects if effect.field != "listing")

    @_bulk
    def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The preview: catalog values, then what each channel will show, per SKU (the first ``limit``
        rows only when given: only those are rendered)."""
        return list(self.iter_rows(limit))

    def iter_rows(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """:meth:`rows` one at a time, each rendered when it is reached (a writer streaming them holds
        none but the current one)."""
        # every effect is of a SKU some line changes: the first rows are of the first SKUs of the lines
        first = None if limit is None else set(heapq.nsmallest(limit, {line.sku for line in self.lines}))
        keyed: list[tuple[str, int, str, str, int]] = []
        for n, line in enumerate(self.lines):
            if first is None or line.sku in first:
                label = line.channel if line.field in ("price_override", WANTED) else ""
                keyed.append((line.sku, 0, label or "(catalog)", line.field, n))
        for n, effect in enumerate(self.effects):
            # a listing state is shown by its wanted line
            if effect.field != "listing" and (first is None or effect.sku in first):
                keyed.append((effect.sku, 1, effect.channel, effect.field, n))
        keyed.sort()
        percent = functools.lru_cache(maxsize=65536)(_pct)  # the same old -> new recurs across SKUs
        for sku, kind, channel, field_name, n in keyed[:limit]:
            item: ChangeLine | Effect = self.lines[n] if kind == 0 else self.effects[n]
            row = _row(sku, channel, field_name, item.old, item.new, field_name, percent)
            row["currency"] = self.currency(item.sku_id, item.channel, field_name)
            yield row

    def summary(self) -> dict[str, Any]:
        return {
            "skus": self.skus,
            "values": len(self.lines),
            "listings": self.listings,
            "api_calls": self.api_calls,
            "api_calls_by_channel": {name: dict(sorted(ops.items())) for name, ops in sorted(self.calls.items())},
        }


def _row(
    sku: str, channel: str, field_name: str, old: Any, new: Any, kind: str, percent: Callable[[Any, Any], Any]
) -> dict[str, Any]:
    return {
        "sku": sku,
        "channel": channel,
        "field": field_name,
        "old": _show(old, kind),
        "new": _show(new, kind),
        "change_pct": percent(old, new),
    }


def _show(value: Any, kind: str) -> str | None:
    if value is None:
        if kind == "price_override":
            return "(base)"
        if kind in (WANTED, "listing"):
            return "(not listed)"
        return None
    return str(value)


_TENTH = Decimal("0.1")


def _pct(old: Any, new: Any) -> str | None:
    if old is None or new is None:
        return None
    try:
        before = old if isinstance(old, Decimal | int) else Decimal(old)
        after = new if isinstance(new, Decimal | int) else Decimal(new)
        if before == 0:
            return None
        return f"{(Decimal(after - before) * 100 / before).quantize(_TENTH, rounding=ROUND_HALF_UP):+}"
    except (ArithmeticError, ValueError, TypeError):
        return None


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def now_utc() -> datetime:
    return datetime.now(UTC)
