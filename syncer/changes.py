"""Bulk price, stock and listing changes as change sets: selected, planned, previewed, guarded, applied
atomically, attributed and reversible.

1. :func:`select_skus` turns selectors (globs, category, tags, a file of SKUs) into SKU ids.
2. ``plan_*`` turn an operation into :class:`ChangeLine` rows: one catalog value old -> new (base price,
   a channel's price override, on-hand stock in a warehouse, or a listing's wanted state).
3. :func:`preview` computes what every affected CHANNEL will show (old -> new price or quantity, with
   the same :mod:`syncer.rules` functions :func:`syncer.reconcile.compute_desired` uses), how many
   listings change and how many API calls the next sync will make, and what the price guard refuses.
4. :func:`apply_change` checks that the old values are still current, re-checks the guard, then writes
   everything in the caller's transaction as ONE change set: the values, one :class:`ChangeItem` per
   value, stock as ledger movements, and the affected listings' new desired values (dirty, new version).
   A price or stock edit leaves content untouched, so the listings are updated in bulk here instead of
   through the general :func:`reconcile.refresh` (same values, ~10x faster on 50,000 SKUs; a test keeps
   the two in step).
5. :func:`plan_undo` restores a change set's old values as a new change set, refusing where a later
   change set touched the same values.
"""

from __future__ import annotations

import fnmatch
import gc
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Text, cast, func, select, type_coerce, update
from sqlalchemy.orm import Session

from adapters.base import ChannelAdapter, ListingRef, Operation
from adapters.money import MINOR_UNITS, quantum
from config.channels import ChannelConfig
from syncer import fx, reconcile, rules
from syncer import stock as ledger
from syncer.context import UserError
from syncer.models import (
    ChangeItem,
    ChangeSet,
    Channel,
    ChannelListing,
    Product,
    Sku,
    StockLevel,
    SyncResult,
    SyncRun,
)
from syncer.tabular import InputRejected, Problem, read_rows
from syncer.types import Amount, UTCDateTime

CHUNK = 5000
PRICE_FIELDS = ("base_price", "price_override")
WANTED = "wanted"
UNDOABLE = ("base_price", "price_override", WANTED)


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
            f"refused by the price guard for {len(skus)} SKU(s): {', '.join(skus[:20])}"
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

    @property
    def skus(self) -> int:
        return len({line.sku_id for line in self.lines})

    @property
    def listings(self) -> int:
        return len({(e.channel, e.sku_id) for e in self.effects})

    @property
    def api_calls(self) -> int:
        return sum(sum(ops.values()) for ops in self.calls.values())

    def affected(self) -> dict[str, list[int]]:
        """channel -> SKU ids whose listing there changes (what the triggered sync pushes)."""
        out: dict[str, set[int]] = defaultdict(set)
        for effect in self.effects:
            out[effect.channel].add(effect.sku_id)
        return {name: sorted(ids) for name, ids in sorted(out.items())}

    def rows(self) -> list[dict[str, Any]]:
        """The preview: catalog values, then what each channel will show, per SKU."""
        rows: list[tuple[str, int, dict[str, Any]]] = []
        for line in self.lines:
            label = line.channel if line.field in ("price_override", WANTED) else ""
            rows.append((line.sku, 0, _row(line.sku, label or "(catalog)", line.field, line.old, line.new, line.field)))
        for effect in self.effects:
            if effect.field == "listing":
                continue  # shown by its wanted line
            rows.append(
                (effect.sku, 1, _row(effect.sku, effect.channel, effect.field, effect.old, effect.new, effect.field))
            )
        rows.sort(key=lambda r: (r[0], r[1], r[2]["channel"], r[2]["field"]))
        return [r[2] for r in rows]

    def summary(self) -> dict[str, Any]:
        return {
            "skus": self.skus,
            "values": len(self.lines),
            "listings": self.listings,
            "api_calls": self.api_calls,
            "api_calls_by_channel": {name: dict(sorted(ops.items())) for name, ops in sorted(self.calls.items())},
        }


def _row(sku: str, channel: str, field_name: str, old: Any, new: Any, kind: str) -> dict[str, Any]:
    return {
        "sku": sku,
        "channel": channel,
        "field": field_name,
        "old": _show(old, kind),
        "new": _show(new, kind),
        "change_pct": _pct(old, new),
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


# ---------------------------------------------------------------------------------------- selection
@dataclass(slots=True)
class Selection:
    """Which SKUs a command acts on: those matching EVERY given selector (values of one selector OR)."""

    patterns: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    skus_file: Path | None = None

    @property
    def empty(self) -> bool:
        return not (self.patterns or self.categories or self.tags or self.skus_file)

    def describe(self) -> str:
        parts = [f"--sku {p}" for p in self.patterns] + [f"--category {c}" for c in self.categories]
        parts += [f"--tag {t}" for t in self.tags] + ([f"--skus-file {self.skus_file}"] if self.skus_file else [])
        return " ".join(parts)


def read_skus_file(path: Path) -> list[tuple[int, str]]:
    """(line or row, SKU) from a text file (one SKU per line, ``#`` comments) or a CSV/XLSX file with a
    ``sku`` column."""
    if not path.exists():
        raise InputRejected(str(path), [Problem(0, "", "no such file")])
    if path.suffix.lower() in (".csv", ".xlsx"):
        try:
            header, rows = read_rows(path)
            if "sku" not in header:
                raise InputRejected(str(path), [Problem(1, "sku", "required column is missing")])
            index = header.index("sku")
            return [(n, cells[index].strip()) for n, cells in rows if len(cells) > index and cells[index].strip()]
        except InputRejected:
            raise
        except Exception as exc:
            raise InputRejected(str(path), [Problem(0, "", f"cannot read the file: {exc}")]) from None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file: {exc}")]) from None
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if value:
            out.append((number, value))
    return out


@_bulk
def select_skus(session: Session, selection: Selection) -> list[int]:
    """SKU ids (ordered by SKU) matching the selection. A SKUs file naming unknown SKUs is refused whole."""
    if selection.empty:
        raise ChangeRefused(
            "select SKUs with --sku PATTERN (repeatable; '*' = all), --category NAME, --tag TAG or --skus-file FILE"
        )
    query = select(Sku.id, Sku.sku, Product.category, Product.tags if selection.tags else Product.id).join(
        Product, Product.id == Sku.product_id
    )
    if selection.categories:
        query = query.where(Product.category.in_(selection.categories))
    rows = session.execute(query.order_by(Sku.sku)).all()
    listed: set[str] | None = None
    if selection.skus_file is not None:
        entries = read_skus_file(selection.skus_file)
        known = {sku for (sku,) in session.execute(select(Sku.sku))}
        problems = [Problem(n, "sku", f"unknown SKU {sku!r}") for n, sku in entries if sku not in known]
        if problems:
            raise InputRejected(str(selection.skus_file), problems)
        listed = {sku for _, sku in entries}
    patterns = [p for p in selection.patterns if p != "*"]
    match_all = not selection.patterns or len(patterns) < len(selection.patterns)
    regexes = [re.compile(fnmatch.translate(p)) for p in patterns]
    wanted_tags = set(selection.tags)
    out = []
    for sku_id, sku, _category, extra in rows:
        if listed is not None and sku not in listed:
            continue
        if not match_all and not any(r.match(sku) for r in regexes):
            continue
        if wanted_tags and not wanted_tags.intersection(extra or []):
            continue
        out.append(sku_id)
    return out


# --------------------------------------------------------------------------------------------- plans
#: above this many ids a lookup reads the whole table (filtered here) instead of chunked IN lists
WHOLE_TABLE = 20_000


class _Amounts:
    """Reads Amount columns raw and converts each distinct raw value once (prices repeat a lot; the
    column type's own conversion is the cost of a bulk preview otherwise)."""

    def __init__(self, session: Session) -> None:
        self.dialect = session.get_bind().dialect
        self.impl = _AMOUNT.load_dialect_impl(self.dialect)
        self.cache: dict[Any, Decimal | None] = {None: None}

    def column(self, column: Any) -> Any:
        return type_coerce(column, self.impl).label(column.key)

    def __call__(self, raw: Any) -> Decimal | None:
        try:
            return self.cache[raw]
        except KeyError:
            value = self.cache[raw] = _AMOUNT.process_result_value(raw, self.dialect)
            return value


_AMOUNT = Amount()


def _by_ids(session: Session, query: Any, column: Any, ids: Sequence[int], index: int) -> Iterable[tuple[Any, ...]]:
    """Rows (plain tuples) of ``query`` whose ``column`` (at position ``index``) is in ``ids``: chunked IN
    lists, or for many ids one scan filtered here."""
    connection = session.connection()
    if len(ids) > WHOLE_TABLE:
        wanted = set(ids)
        return [row for row in connection.execute(query) if row[index] in wanted]
    out: list[tuple[Any, ...]] = []
    for chunk in _chunks(list(ids)):
        out.extend(connection.execute(query.where(column.in_(chunk))))
    return out


@dataclass(slots=True)
class _SkuRow:
    id: int
    sku: str
    base_price: Decimal
    cost: Decimal | None
    currency: str
    active: bool


def _sku_rows(session: Session, sku_ids: Sequence[int]) -> dict[int, _SkuRow]:
    amount = _Amounts(session)
    query = select(Sku.id, Sku.sku, amount.column(Sku.base_price), amount.column(Sku.cost), Sku.currency, Sku.active)
    return {
        sid: _SkuRow(sid, sku, amount(price), amount(cost), currency, bool(active))
        for sid, sku, price, cost, currency, active in _by_ids(session, query, Sku.id, sorted(set(sku_ids)), 0)
    }


def _channel_id(session: Session, name: str) -> int:
    channel_id = session.scalar(select(Channel.id).where(Channel.name == name))
    if channel_id is None:
        raise ChangeRefused(f"no channel {name!r} in the database")
    return channel_id


def _check_places(value: Decimal, currency: str, what: str) -> str | None:
    if -value.as_tuple().exponent > MINOR_UNITS.get(currency, 2):
        return f"{what} {value} has more decimal places than {currency} allows"
    return None


@_bulk
def plan_price(
    session: Session,
    sku_ids: Sequence[int],
    *,
    percent: Decimal | None = None,
    amount: Decimal | None = None,
    set_to: Decimal | None = None,
    channel: str | None = None,
) -> list[ChangeLine]:
    """Plan a base-price (or, with ``channel``, a per-channel override) change for the SKUs.

    ``set_to`` and ``amount`` are in each SKU's own currency; results are rounded half-up to its minor
    units. With ``channel`` the override starts from the current override, or the base price where the
    listing has none; SKUs not listed on that channel are skipped."""
    if sum(x is not None for x in (percent, amount, set_to)) != 1:
        raise ValueError("give exactly one of percent, amount or a new price")
    overrides: dict[int, Decimal | None] = {}
    if channel is not None:
        channel_id = _channel_id(session, channel)
        for chunk in _chunks(sorted(set(sku_ids))):
            overrides.update(
                session.execute(
                    select(ChannelListing.sku_id, ChannelListing.price_override).where(
                        ChannelListing.channel_id == channel_id, ChannelListing.sku_id.in_(chunk)
                    )
                ).all()
            )
    skus = _sku_rows(session, sku_ids)
    lines: list[ChangeLine] = []
    problems: list[str] = []
    factor = None if percent is None else 1 + percent / 100
    for sku in sorted(skus.values(), key=lambda s: s.sku):
        if channel is not None and sku.id not in overrides:
            continue  # not listed on that channel
        current = overrides.get(sku.id) if channel is not None else sku.base_price
        start = current if current is not None else sku.base_price
        if set_to is not None:
            problem = _check_places(set_to, sku.currency, "price")
            if problem:
                problems.append(f"{sku.sku}: {problem}")
                continue
            new = set_to
        elif factor is not None:
            new = start * factor
        else:
            new = start + amount
        new = new.quantize(quantum(sku.currency), rounding=ROUND_HALF_UP)
        if new < 0:
            problems.append(f"{sku.sku}: the new price {new} would be negative")
            continue
        if current is not None and new == current:
            continue
        lines.append(
            ChangeLine(
                sku.id,
                sku.sku,
                "price_override" if channel else "base_price",
                _text(current),
                str(new),
                channel,
            )
        )
    if problems:
        raise ChangeRefused(_problem_text(problems))
    return lines


def _problem_text(problems: Sequence[str]) -> str:
    shown = "\n".join(f"  {p}" for p in problems[:50])
    more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
    return f"{len(problems)} problem(s); nothing was applied:\n{shown}{more}"


def _warehouse_id(session: Session, code: str) -> int:
    warehouses = ledger.warehouses_by_code(session)
    if code not in warehouses:
        known = ", ".join(sorted(warehouses)) or "none"
        raise ChangeRefused(f"no warehouse {code!r} (known: {known})")
    return warehouses[code]


@_bulk
def plan_stock(
    session: Session, sku_ids: Sequence[int], warehouse: str, *, set_to: int | None = None, by: int | None = None
) -> list[ChangeLine]:
    """Plan on-hand stock in one warehouse: set to ``set_to`` or change by ``by`` (signed)."""
    if (set_to is None) == (by is None):
        raise ValueError("give exactly one of set_to or by")
    wh_id = _warehouse_id(session, warehouse)
    skus = _sku_rows(session, sku_ids)
    levels = ledger.levels(session, list(skus))
    lines, problems = [], []
    for sku in sorted(skus.values(), key=lambda s: s.sku):
        on_hand, reserved = levels.get((sku.id, wh_id), (0, 0))
        new = set_to if set_to is not None else on_hand + (by or 0)
        if new < 0:
            problems.append(f"{sku.sku}: on-hand in {warehouse} would be {new} (now {on_hand})")
            continue
        if new != on_hand:
            lines.append(ChangeLine(sku.id, sku.sku, f"stock:{warehouse}", str(on_hand), str(new)))
    if problems:
        raise ChangeRefused(_problem_text(problems))
    return lines


def plan_wanted(
    session: Session, sku_ids: Sequence[int], channels: Sequence[str], wanted: str, *, create: bool = True
) -> list[ChangeLine]:
    """Plan listing states: ``active`` (publish; relist with ``create=False``) or ``delisted`` on each
    channel. Delisting, or relisting, a SKU that has no listing on a channel does nothing there."""
    skus = _sku_rows(session, sku_ids)
    lines = []
    for name in channels:
        channel_id = _channel_id(session, name)
        current: dict[int, str] = {}
        for chunk in _chunks(sorted(skus)):
            current.update(
                session.execute(
                    select(ChannelListing.sku_id, ChannelListing.wanted).where(
                        ChannelListing.channel_id == channel_id, ChannelListing.sku_id.in_(chunk)
                    )
                ).all()
            )
        for sku in sorted(skus.values(), key=lambda s: s.sku):
            old = current.get(sku.id)
            if old == wanted or (old is None and (wanted == "delisted" or not create)):
                continue
            lines.append(ChangeLine(sku.id, sku.sku, WANTED, old, wanted, name))
    return lines


# ------------------------------------------------------------------------------------------- preview
CallCounter = Callable[[ChannelConfig, Operation, list[Any]], int]


class _CallItem:
    """What an adapter's ``chunks`` looks at: the SKU and where it lives (parsed only if looked at)."""

    __slots__ = ("sku", "_raw", "_ref")

    def __init__(self, sku: str, raw: str | None) -> None:
        self.sku, self._raw, self._ref = sku, raw, None

    @property
    def ref(self) -> ListingRef | None:
        if self._ref is None and self._raw:
            self._ref = _listing_ref(json.loads(self._raw), self.sku)
        return self._ref


def limits_counter(adapters: dict[str, ChannelAdapter] | None = None) -> CallCounter:
    """Count calls with the channel's adapter's own chunking where given, else its declared batch maximum."""

    def count(channel: ChannelConfig, op: Operation, items: list[Any]) -> int:
        if not items:
            return 0
        adapter = (adapters or {}).get(channel.name)
        if adapter is not None:
            try:
                return sum(1 for _ in adapter.chunks(op, items))
            except Exception:  # an adapter whose chunking needs more than sku/ref: fall back to its limits
                pass
        size = 50
        try:
            from adapters.registry import adapter_class

            limits = adapter.limits if adapter is not None else adapter_class(channel.kind).limits
            size = limits.batch(op)
        except Exception:
            pass
        return math.ceil(len(items) / max(1, size))

    return count


def _listing_ref(ref: dict[str, Any] | None, sku: str) -> ListingRef | None:
    if not ref:
        return None
    return ListingRef(ref.get("sku") or sku, ref.get("external_id"), ref.get("ids") or {})


@_bulk
def preview(
    session: Session,
    channels: Sequence[ChannelConfig],
    lines: Sequence[ChangeLine],
    *,
    guard_percent: float | Decimal | None = None,
    counter: CallCounter | None = None,
    today: datetime | None = None,
) -> ChangePlan:
    """What the lines will do to every listing (channel prices and quantities, listing states), the
    API calls that causes, and what the price guard refuses (``guard_percent`` None = no guard)."""
    plan = ChangePlan(list(lines))
    counter = counter or limits_counter()
    day = (today or now_utc()).date()
    sku_ids = sorted({line.sku_id for line in lines})
    if not sku_ids:
        return plan
    skus = _sku_rows(session, sku_ids)
    warehouses = ledger.warehouses_by_code(session)
    new_base: dict[int, Decimal] = {}
    new_override: dict[tuple[str, int], Decimal | None] = {}
    new_on_hand: dict[tuple[int, int], int] = {}
    new_wanted: dict[tuple[str, int], str] = {}
    stock_codes: set[str] = set()
    for line in lines:
        if line.field == "base_price":
            new_base[line.sku_id] = Decimal(line.new)
        elif line.field == "price_override":
            new_override[(line.channel, line.sku_id)] = None if line.new is None else Decimal(line.new)
        elif line.field.startswith("stock:"):
            code = line.field.split(":", 1)[1]
            stock_codes.add(code)
            new_on_hand[(line.sku_id, warehouses[code])] = int(line.new)
        elif line.field == WANTED:
            new_wanted[(line.channel, line.sku_id)] = line.new
    stock_skus = sorted({sku_id for sku_id, _ in new_on_hand})
    levels = ledger.levels(session, stock_skus) if stock_skus else {}
    channel_ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    guard = None if guard_percent is None else Decimal(str(guard_percent))
    by_channel: dict[str, dict[Operation, list[_CallItem]]] = defaultdict(lambda: defaultdict(list))
    for config in channels:
        if config.name not in channel_ids:
            continue
        wanted_here = {sid for (name, sid) in new_wanted if name == config.name}
        override_here = {sid for (name, sid) in new_override if name == config.name}
        feeds = {warehouses[c] for c in config.warehouses if c in warehouses}
        stock_here = stock_codes & set(config.warehouses)
        relevant = set(new_base) | override_here | wanted_here | (set(stock_skus) if stock_here else set())
        if not relevant:
            continue
        rows = _listing_rows(session, channel_ids[config.name], sorted(relevant))
        rates: dict[str, Any] = {}
        price_cache: dict[tuple[Any, ...], tuple[Decimal, Decimal, Decimal | None]] = {}
        calls = by_channel[config.name]
        for sku_id in sorted(wanted_here):
            row = rows.get(sku_id)
            sku = skus[sku_id]
            want = new_wanted[(config.name, sku_id)]
            op = _wanted_op(row, want)
            plan.effects.append(
                Effect(
                    row.id if row else None,
                    config.name,
                    sku_id,
                    sku.sku,
                    "listing",
                    row.wanted if row else None,
                    want,
                    op,
                )
            )
            if op is not None:
                calls[op].append(_CallItem(sku.sku, row.ref if row is not None else None))
        prices_here = set(new_base) | override_here
        stock_skus_here = set(stock_skus) if stock_here else set()
        for sku_id in sorted(relevant - wanted_here):
            row = rows.get(sku_id)
            if row is None:
                continue
            sku = skus[sku_id]
            pushable = row.wanted == "active" and _has_ref(row.ref)
            old_price, old_qty = row.desired_price, row.desired_quantity
            new_price, new_qty = old_price, old_qty
            if sku_id in prices_here and old_price is not None:
                rate = rates.get(sku.currency, False)
                if rate is False:
                    try:
                        rate = fx.rate(session, sku.currency, config.currency, day)
                    except fx.MissingRate as exc:
                        rate = None
                        plan.notes.append(f"{config.name}: {exc}; its listings keep waiting for the rate")
                    rates[sku.currency] = rate
                if rate is not None:
                    base = new_base.get(sku_id, sku.base_price)
                    override = new_override.get((config.name, sku_id), row.price_override)
                    key = (base, override, sku.cost, rate)
                    cached = price_cache.get(key)
                    if cached is None:
                        cached = price_cache[key] = _channel_prices(base, override, sku.cost, config, rate)
                    new_price, unfloored, floor = cached
                    if guard is not None and floor is not None and unfloored < floor:
                        plan.violations.append(
                            Violation(
                                sku.sku,
                                config.name,
                                f"price {unfloored} {config.currency} is below the cost floor {floor}"
                                f" (the channel would show {new_price})",
                            )
                        )
                    if new_price != old_price:
                        op = Operation.PRICE if pushable else None
                        plan.effects.append(
                            Effect(row.id, config.name, sku_id, sku.sku, "price", old_price, new_price, op)
                        )
                        if op is not None:
                            calls[op].append(_CallItem(sku.sku, row.ref))
                        if guard is not None and old_price > 0:
                            moved = (new_price - old_price) / old_price * 100
                            if abs(moved) > guard:
                                plan.violations.append(
                                    Violation(
                                        sku.sku,
                                        config.name,
                                        f"price {old_price} -> {new_price} {config.currency} is {moved:+.1f}%"
                                        f" (limit {guard}%)",
                                    )
                                )
            if sku_id in stock_skus_here and sku.active:
                pool = []
                for wid in feeds:
                    on_hand, reserved = levels.get((sku_id, wid), (0, 0))
                    pool.append((new_on_hand.get((sku_id, wid), on_hand), reserved))
                new_qty = rules.channel_quantity(pool, config.stock)
                if new_qty != old_qty:
                    op = Operation.STOCK if pushable else None
                    plan.effects.append(Effect(row.id, config.name, sku_id, sku.sku, "quantity", old_qty, new_qty, op))
                    if op is not None:
                        calls[op].append(_CallItem(sku.sku, row.ref))
            if new_price != old_price or new_qty != old_qty:
                plan.desired[row.id] = (new_price, new_qty)
    if guard is not None:
        # a SKU listed nowhere still must not be priced below its cost
        listed = {e.sku_id for e in plan.effects if e.field == "price"}
        for line in lines:
            if line.field == "base_price" and line.sku_id not in listed:
                cost = skus[line.sku_id].cost
                if cost is not None and Decimal(line.new) < cost:
                    plan.violations.append(Violation(line.sku, None, f"new base price {line.new} is below cost {cost}"))
    for config in channels:
        ops = by_channel.get(config.name)
        if ops:
            plan.calls[config.name] = {op.value: counter(config, op, items) for op, items in ops.items() if items}
    return plan


@dataclass(slots=True)
class _ListingRow:
    id: int
    sku_id: int
    price_override: Decimal | None
    desired_price: Decimal | None
    desired_quantity: int | None
    wanted: str
    ref: str | None
    pushed_state: str | None


def _listing_rows(session: Session, channel_id: int, sku_ids: Sequence[int]) -> dict[int, _ListingRow]:
    amount = _Amounts(session)
    query = select(
        ChannelListing.id,
        ChannelListing.sku_id,
        amount.column(ChannelListing.price_override),
        amount.column(ChannelListing.desired_price),
        ChannelListing.desired_quantity,
        ChannelListing.wanted,
        cast(ChannelListing.ref, Text).label("ref"),
        ChannelListing.pushed_state,
    ).where(ChannelListing.channel_id == channel_id)
    return {
        sku_id: _ListingRow(lid, sku_id, amount(override), amount(desired), qty, wanted, ref, pushed)
        for lid, sku_id, override, desired, qty, wanted, ref, pushed in _by_ids(
            session, query, ChannelListing.sku_id, sku_ids, 1
        )
    }


def _has_ref(raw: str | None) -> bool:
    return bool(raw) and raw.replace(" ", "") not in ("{}", "null")


def _wanted_op(row: Any, want: str) -> Operation | None:
    if want == "active":
        if row is None or not _has_ref(row.ref):
            return Operation.PUBLISH
        return Operation.RELIST if row.pushed_state == "delisted" else None
    if row is not None and _has_ref(row.ref) and row.pushed_state != "delisted":
        return Operation.DELIST
    return None


def _channel_prices(
    base: Decimal, override: Decimal | None, cost: Decimal | None, config: ChannelConfig, rate: Decimal
) -> tuple[Decimal, Decimal, Decimal | None]:
    """(the price the channel will show, the price before the cost floor lifts it, the floor): exactly
    as :func:`syncer.reconcile.compute_desired` computes it (``rules.channel_price`` only ever lifts a
    price that is below the floor, so the floored price is computed only then)."""
    unfloored = rules.channel_price(base, config.price, currency=config.currency, fx_rate=rate, override=override)
    floor = rules.price_floor(cost, config.price, rate, config.currency)
    if floor is None or unfloored >= floor:
        return unfloored, unfloored, floor
    price = rules.channel_price(
        base, config.price, currency=config.currency, fx_rate=rate, cost=cost, override=override
    )
    return price, unfloored, floor


# --------------------------------------------------------------------------------------------- apply
class _Writer:
    """executemany straight on the driver: one statement, many parameter rows, values bound with the
    columns' own types (the SQLAlchemy per-row parameter handling costs more than the writes)."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
        self._time = UTCDateTime()

    def amount(self, value: Decimal | None) -> Any:
        return _AMOUNT.process_bind_param(value, self.dialect)

    def time(self, value: datetime) -> Any:
        return self._time.process_bind_param(value, self.dialect)

    def run(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.connection.exec_driver_sql(sql.format(self.mark), rows)


@dataclass(slots=True)
class Applied:
    change_set_id: int | None
    plan: ChangePlan
    affected: dict[str, list[int]] = field(default_factory=dict)


def current_values(session: Session, lines: Sequence[ChangeLine]) -> dict[tuple[int, str, str | None], str | None]:
    """The values the lines' keys hold now (as text)."""
    out: dict[tuple[int, str, str | None], str | None] = {}
    sku_ids = sorted({line.sku_id for line in lines})
    fields = {line.field for line in lines}
    if "base_price" in fields:
        for sku_id, row in _sku_rows(session, sku_ids).items():
            out[(sku_id, "base_price", None)] = _text(row.base_price)
    names = {line.channel for line in lines if line.field in ("price_override", WANTED)}
    channel_ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    for name in sorted(n for n in names if n in channel_ids):
        for sku_id, listing in _listing_rows(session, channel_ids[name], sku_ids).items():
            out[(sku_id, "price_override", name)] = _text(listing.price_override)
            out[(sku_id, WANTED, name)] = listing.wanted
    codes = {line.field.split(":", 1)[1] for line in lines if line.field.startswith("stock:")}
    if codes:
        warehouses = ledger.warehouses_by_code(session)
        by_id = {warehouses[c]: c for c in codes if c in warehouses}
        levels = ledger.levels(session, sku_ids)
        for line in lines:
            if line.field.startswith("stock:"):
                code = line.field.split(":", 1)[1]
                wid = warehouses.get(code)
                out[line.key] = str(levels.get((line.sku_id, wid), (0, 0))[0]) if wid in by_id else None
    return out


def check_current(session: Session, lines: Sequence[ChangeLine]) -> None:
    """Raise StaleChange if any value is no longer what the plan saw."""
    now = current_values(session, lines)
    stale = []
    for line in lines:
        have = now.get(line.key)
        if line.field == "price_override" and line.key not in now:
            stale.append(f"{line.sku}: no listing on {line.channel} any more")
        elif _same(have, line.old, line.field) is False:
            stale.append(
                f"{line.sku} {line.field}{'@' + line.channel if line.channel else ''}: was {line.old}, is now {have}"
            )
    if stale:
        raise StaleChange(
            f"{len(stale)} value(s) changed since they were read; nothing was applied, run the command again:\n"
            + "\n".join(f"  {s}" for s in stale[:20])
        )


def _same(a: str | None, b: str | None, field_name: str) -> bool:
    if a is None or b is None:
        return a is b
    if a == b:
        return True
    if field_name in PRICE_FIELDS or field_name.startswith("stock:"):
        return Decimal(a) == Decimal(b)
    return a == b


@_bulk
def apply_change(
    session: Session,
    lines: Sequence[ChangeLine],
    channels: Sequence[ChannelConfig],
    *,
    user: str,
    reason: str = "",
    command: str = "",
    undo_of: int | None = None,
    guard_percent: float | Decimal | None = None,
    force: bool = False,
    counter: CallCounter | None = None,
) -> Applied:
    """Apply planned lines as ONE change set in the caller's transaction (raising leaves nothing applied:
    the caller's unit of work rolls back). Checks the old values are still current and, unless ``force``,
    the price guard."""
    if not lines:
        return Applied(None, ChangePlan([]))
    unknown = sorted(
        {line.field for line in lines if line.field not in UNDOABLE and not line.field.startswith("stock:")}
    )
    if unknown:
        raise ChangeRefused(f"cannot apply changes of {', '.join(unknown)}")
    check_current(session, lines)
    plan = preview(session, channels, lines, guard_percent=None if force else guard_percent, counter=counter)
    if plan.violations:
        raise GuardRefused(plan.violations)
    change_set = ChangeSet(user=user, reason=reason[:500], command=command[:500], undo_of=undo_of)
    session.add(change_set)
    session.flush()
    channel_ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    writer = _Writer(session)
    writer.run(
        "INSERT INTO change_items (change_set_id, sku_id, channel_id, field, old_value, new_value)"
        " VALUES ({0}, {0}, {0}, {0}, {0}, {0})",
        [
            (
                change_set.id,
                line.sku_id,
                channel_ids.get(line.channel) if line.channel else None,
                line.field,
                line.old,
                line.new,
            )
            for line in lines
        ],
    )
    now = writer.time(now_utc())
    writer.run(
        "UPDATE skus SET base_price = {0}, updated_at = {0} WHERE id = {0}",
        [(writer.amount(Decimal(line.new)), now, line.sku_id) for line in lines if line.field == "base_price"],
    )
    writer.run(
        "UPDATE channel_listings SET price_override = {0} WHERE channel_id = {0} AND sku_id = {0}",
        [
            (writer.amount(None if line.new is None else Decimal(line.new)), channel_ids[line.channel], line.sku_id)
            for line in lines
            if line.field == "price_override"
        ],
    )
    warehouses = ledger.warehouses_by_code(session)
    movements = []
    for line in lines:
        if line.field.startswith("stock:"):
            code = line.field.split(":", 1)[1]
            delta = int(line.new or 0) - int(line.old or 0)
            movements.append(
                ledger.Movement(
                    sku_id=line.sku_id,
                    warehouse_id=warehouses[code],
                    kind="adjust",
                    on_hand_delta=delta,
                    reserved_delta=0,
                    reason=(reason or command or "stock change")[:500],
                    key=f"change:{change_set.id}:{line.sku_id}:{code}",
                    user=user,
                    change_set_id=change_set.id,
                )
            )
    try:
        ledger.record(session, movements)
    except ledger.NegativeStock as exc:
        raise ChangeRefused(f"{exc}; nothing was applied") from None
    writer.run(
        "UPDATE channel_listings SET desired_price = {0}, desired_quantity = {0}, version = version + 1,"
        " status = 'dirty', last_error_code = NULL, last_error = NULL, attempts = 0, next_try_at = NULL,"
        " updated_at = {0} WHERE id = {0}",
        [(writer.amount(p), q, now, lid) for lid, (p, q) in plan.desired.items()],
    )
    session.expire_all()  # the bulk writes bypassed the identity map
    wanted_groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for line in lines:
        if line.field == WANTED:
            wanted_groups[(line.channel, line.new or "delisted")].append(line.sku_id)
    configs = {c.name: c for c in channels}
    for (name, wanted), ids in sorted(wanted_groups.items()):
        if name not in configs:
            raise ChangeRefused(f"no channel {name!r} in the channels file")
        reconcile.ensure_listings(session, configs[name], ids, wanted=wanted)
    if undo_of is not None:
        session.execute(update(ChangeSet).where(ChangeSet.id == undo_of).values(status="undone"))
    session.flush()
    return Applied(change_set.id, plan, plan.affected())


def apply(
    session: Session,
    lines: Sequence[ChangeLine],
    channels: Sequence[ChannelConfig],
    *,
    user: str,
    reason: str = "",
    command: str = "",
    undo_of: int | None = None,
) -> int | None:
    """Apply planned lines as ONE change set (in the caller's transaction, no guard). Returns its id."""
    return apply_change(
        session, lines, channels, user=user, reason=reason, command=command, undo_of=undo_of
    ).change_set_id


# ---------------------------------------------------------------------------------------- edit files
@_bulk
def plan_file(session: Session, path: Path, channels: Sequence[str] | None = None) -> list[ChangeLine]:
    """Plan a CSV/XLSX of edits, validated whole (every bad row and column listed; nothing applied).

    Columns: ``sku`` (required), ``channel`` (empty = the catalog), ``price`` (on a catalog row the
    base price; on a channel row that channel's price override, ``base`` to remove the override),
    ``stock[WH]`` (on-hand in warehouse WH, catalog rows only). Empty cells change nothing."""
    try:
        header, rows = read_rows(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file: {exc}")]) from None
    except Exception as exc:  # openpyxl raises many types for a corrupt workbook
        raise InputRejected(str(path), [Problem(0, "", f"cannot read the file as a workbook: {exc}")]) from None
    if not header:
        raise InputRejected(str(path), [Problem(0, "", "the file is empty (no header row)")])
    warehouses = ledger.warehouses_by_code(session)
    channel_ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    configured = set(channels) if channels is not None else set(channel_ids)
    problems: list[Problem] = []
    stock_columns: dict[str, str] = {}
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Problem(1, name, "duplicate column"))
        seen.add(name)
        match = re.match(r"^stock\[([^\]]+)\]$", name)
        if match:
            if match.group(1) not in warehouses:
                known = ", ".join(sorted(warehouses)) or "none"
                problems.append(Problem(1, name, f"unknown warehouse {match.group(1)!r} (known: {known})"))
            else:
                stock_columns[name] = match.group(1)
        elif name not in ("sku", "channel", "price"):
            problems.append(Problem(1, name or "(empty)", "unknown column (use sku, channel, price, stock[WH])"))
    if "sku" not in header:
        problems.append(Problem(1, "sku", "required column is missing"))
    if "price" not in header and not stock_columns and "sku" in header:
        problems.append(Problem(1, "", "no price or stock[WH] column: nothing to change"))
    records = []
    for number, cells in rows:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            problems.append(Problem(number, "", f"has {len(cells)} cells but the header has {len(header)}"))
        records.append((number, {k: (v or "").strip() for k, v in zip(header, cells, strict=False)}))
    names = sorted({r.get("sku", "") for _, r in records if r.get("sku")})
    skus: dict[str, Any] = {}
    for chunk in _chunks(names):
        for row in session.execute(
            select(Sku.id, Sku.sku, Sku.base_price, Sku.currency).where(Sku.sku.in_(list(chunk)))
        ):
            skus[row.sku] = row
    listings: dict[tuple[str, int], Decimal | None] = {}
    wanted_channels = {r.get("channel") for _, r in records if r.get("channel")}
    for name in wanted_channels & set(channel_ids):
        ids = sorted(s.id for s in skus.values())
        for chunk in _chunks(ids):
            for sku_id, override in session.execute(
                select(ChannelListing.sku_id, ChannelListing.price_override).where(
                    ChannelListing.channel_id == channel_ids[name], ChannelListing.sku_id.in_(chunk)
                )
            ):
                listings[(name, sku_id)] = override
    stock_skus = sorted(s.id for s in skus.values()) if stock_columns else []
    levels = ledger.levels(session, stock_skus) if stock_skus else {}
    lines: list[ChangeLine] = []
    first: dict[tuple[str, str], int] = {}
    for number, record in records:
        sku_name, channel = record.get("sku", ""), record.get("channel", "")
        if not sku_name:
            problems.append(Problem(number, "sku", "is empty"))
            continue
        sku = skus.get(sku_name)
        if sku is None:
            problems.append(Problem(number, "sku", f"unknown SKU {sku_name!r}"))
        key = (sku_name, channel)
        if key in first:
            problems.append(
                Problem(number, "sku", f"{sku_name!r}{' on ' + channel if channel else ''} is also on row {first[key]}")
            )
            continue
        first[key] = number
        if channel and channel not in configured:
            problems.append(
                Problem(number, "channel", f"unknown channel {channel!r} (known: {', '.join(sorted(configured))})")
            )
            continue
        if channel and sku is not None and (channel, sku.id) not in listings:
            problems.append(Problem(number, "channel", f"{sku_name} is not listed on {channel}"))
            continue
        price_text = record.get("price", "")
        if price_text:
            if channel and price_text.lower() == "base":
                new_price: Decimal | None = None
            else:
                new_price = _parse_price(price_text, number, problems)
                if new_price is not None and sku is not None:
                    problem = _check_places(new_price, sku.currency, "price")
                    if problem:
                        problems.append(Problem(number, "price", problem))
                        new_price = None
                        sku = None
            if sku is not None:
                if channel:
                    old = listings[(channel, sku.id)]
                    if old != new_price:
                        lines.append(
                            ChangeLine(sku.id, sku.sku, "price_override", _text(old), _text(new_price), channel)
                        )
                elif new_price is not None and new_price != sku.base_price:
                    lines.append(ChangeLine(sku.id, sku.sku, "base_price", _text(sku.base_price), str(new_price)))
        for column, code in stock_columns.items():
            value = record.get(column, "")
            if not value:
                continue
            if channel:
                problems.append(Problem(number, column, "stock is per warehouse: put it on the row without a channel"))
                continue
            try:
                quantity = int(value)
            except ValueError:
                problems.append(Problem(number, column, f"{value!r} is not a whole number"))
                continue
            if quantity < 0:
                problems.append(Problem(number, column, f"{quantity} must not be negative"))
                continue
            if sku is not None:
                on_hand = levels.get((sku.id, warehouses[code]), (0, 0))[0]
                if on_hand != quantity:
                    lines.append(ChangeLine(sku.id, sku.sku, f"stock:{code}", str(on_hand), str(quantity)))
    if problems:
        raise InputRejected(str(path), problems)
    return lines


def _parse_price(text: str, number: int, problems: list[Problem]) -> Decimal | None:
    from adapters.money import parse_decimal

    try:
        value = parse_decimal(text)
    except ValueError:
        problems.append(Problem(number, "price", f"{text!r} is not a decimal number (use e.g. 12.50)"))
        return None
    if value < 0:
        problems.append(Problem(number, "price", f"{text} must not be negative"))
        return None
    return value


# ---------------------------------------------------------------------------------------------- undo
@dataclass(slots=True)
class UndoPlan:
    change_set_id: int
    lines: list[ChangeLine]
    conflicts: list[str]


@_bulk
def plan_undo(session: Session, change_set_id: int) -> UndoPlan:
    """The lines that restore a change set's old values, and every conflict: a later change set that
    touched the same value, or a value that is no longer what the change set left.

    Prices and listing states go back to their old values; stock is reversed by the opposite movement
    (so sales since then are kept)."""
    change_set = session.get(ChangeSet, change_set_id)
    if change_set is None:
        raise ChangeRefused(f"no change set {change_set_id}")
    items = session.execute(
        select(ChangeItem, Sku.sku, Channel.name)
        .join(Sku, Sku.id == ChangeItem.sku_id)
        .outerjoin(Channel, Channel.id == ChangeItem.channel_id)
        .where(ChangeItem.change_set_id == change_set_id)
        .order_by(Sku.sku, ChangeItem.id)
    ).all()
    conflicts: list[str] = []
    if change_set.status == "undone":
        later_undo = session.scalar(select(ChangeSet.id).where(ChangeSet.undo_of == change_set_id).limit(1))
        conflicts.append(f"change set {change_set_id} was already undone (by change set {later_undo})")
    sku_ids = sorted({item.sku_id for item, _, _ in items})
    later: dict[tuple[int, str, int | None], tuple[int, str, datetime]] = {}
    for chunk in _chunks(sku_ids):
        for sku_id, field_name, channel_id, set_id, user, when in session.execute(
            select(
                ChangeItem.sku_id,
                ChangeItem.field,
                ChangeItem.channel_id,
                ChangeSet.id,
                ChangeSet.user,
                ChangeSet.created_at,
            )
            .join(ChangeSet, ChangeSet.id == ChangeItem.change_set_id)
            .where(ChangeItem.sku_id.in_(chunk), ChangeItem.change_set_id > change_set_id)
            .order_by(ChangeSet.id)
        ):
            later.setdefault((sku_id, field_name, channel_id), (set_id, user, when))
    lines: list[ChangeLine] = []
    touched: set[tuple[int, str, str | None]] = set()
    for item, sku, channel in items:
        hit = later.get((item.sku_id, item.field, item.channel_id))
        where = f"{sku} {item.field}" + (f" on {channel}" if channel else "")
        if hit is not None:
            touched.add((item.sku_id, item.field, channel))
            set_id, user, when = hit
            conflicts.append(f"{where}: changed again by change set {set_id} ({user}, {when:%Y-%m-%d %H:%M} UTC)")
        if item.field not in UNDOABLE and not item.field.startswith("stock:"):
            conflicts.append(f"{where}: {item.field} changes cannot be undone here (re-import the old value)")
            continue
        if item.field.startswith("stock:"):
            delta = int(item.new_value or 0) - int(item.old_value or 0)
            lines.append(ChangeLine(item.sku_id, sku, item.field, None, str(-delta)))  # resolved below
        else:
            restored = item.old_value
            if item.field == WANTED and restored is None:
                restored = "delisted"  # a listing created by the change set is taken down, not deleted
            lines.append(ChangeLine(item.sku_id, sku, item.field, item.new_value, restored, channel))
    now = current_values(session, [line for line in lines if not line.field.startswith("stock:")])
    resolved: list[ChangeLine] = []
    stock_lines = [line for line in lines if line.field.startswith("stock:")]
    levels = ledger.levels(session, sorted({line.sku_id for line in stock_lines})) if stock_lines else {}
    warehouses = ledger.warehouses_by_code(session)
    for line in lines:
        if line.field.startswith("stock:"):
            code = line.field.split(":", 1)[1]
            on_hand = levels.get((line.sku_id, warehouses.get(code)), (0, 0))[0]
            target = on_hand + int(line.new)
            if target < 0:
                conflicts.append(
                    f"{line.sku} {line.field}: on-hand is {on_hand}, reversing {line.new} would go below 0"
                )
                continue
            if target != on_hand:
                resolved.append(ChangeLine(line.sku_id, line.sku, line.field, str(on_hand), str(target)))
            continue
        have = now.get(line.key)
        if line.key not in touched and not _same(have, line.old, line.field):
            conflicts.append(
                f"{line.sku} {line.field}"
                + (f" on {line.channel}" if line.channel else "")
                + f": is {have} now, not {line.old} as change set {change_set_id} left it"
            )
        if not _same(have, line.new, line.field):
            resolved.append(ChangeLine(line.sku_id, line.sku, line.field, have, line.new, line.channel))
    return UndoPlan(change_set_id, resolved, list(dict.fromkeys(conflicts)))


# ----------------------------------------------------------------------------------- list, show, history
def list_change_sets(session: Session, *, limit: int = 50, user: str | None = None) -> list[dict[str, Any]]:
    counts = select(ChangeItem.change_set_id, func.count().label("n")).group_by(ChangeItem.change_set_id).subquery()
    query = (
        select(ChangeSet, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.change_set_id == ChangeSet.id)
        .order_by(ChangeSet.id.desc())
        .limit(limit)
    )
    if user:
        query = query.where(ChangeSet.user == user)
    return [_set_json(cs, n) for cs, n in session.execute(query)]


def _set_json(change_set: ChangeSet, items: int) -> dict[str, Any]:
    return {
        "id": change_set.id,
        "created_at": change_set.created_at.isoformat(timespec="seconds"),
        "user": change_set.user,
        "reason": change_set.reason,
        "command": change_set.command,
        "status": change_set.status,
        "undo_of": change_set.undo_of,
        "items": items,
    }


def show_change_set(session: Session, change_set_id: int) -> dict[str, Any]:
    change_set = session.get(ChangeSet, change_set_id)
    if change_set is None:
        raise ChangeRefused(f"no change set {change_set_id}")
    rows = session.execute(
        select(ChangeItem, Sku.sku, Channel.name)
        .join(Sku, Sku.id == ChangeItem.sku_id)
        .outerjoin(Channel, Channel.id == ChangeItem.channel_id)
        .where(ChangeItem.change_set_id == change_set_id)
        .order_by(Sku.sku, ChangeItem.id)
    ).all()
    undone_by = session.scalar(select(ChangeSet.id).where(ChangeSet.undo_of == change_set_id).limit(1))
    out = _set_json(change_set, len(rows))
    out["undone_by"] = undone_by
    out["changes"] = [
        {
            "sku": sku,
            "channel": channel,
            "field": item.field,
            "old": item.old_value,
            "new": item.new_value,
            "change_pct": _pct(item.old_value, item.new_value) if item.field != WANTED else None,
        }
        for item, sku, channel in rows
    ]
    return out


def history(session: Session, sku: str) -> list[dict[str, Any]]:
    """Every change set item and sync result of one SKU, oldest first."""
    sku_id = session.scalar(select(Sku.id).where(Sku.sku == sku))
    if sku_id is None:
        raise ChangeRefused(f"no SKU {sku!r} in the catalog")
    rows: list[dict[str, Any]] = []
    for item, change_set, channel in session.execute(
        select(ChangeItem, ChangeSet, Channel.name)
        .join(ChangeSet, ChangeSet.id == ChangeItem.change_set_id)
        .outerjoin(Channel, Channel.id == ChangeItem.channel_id)
        .where(ChangeItem.sku_id == sku_id)
    ):
        rows.append(
            {
                "time": change_set.created_at,
                "kind": "change",
                "id": change_set.id,
                "channel": channel,
                "what": item.field,
                "old": item.old_value,
                "new": item.new_value,
                "ok": None,
                "user": change_set.user,
                "note": change_set.reason or change_set.command,
            }
        )
    for result, run, channel in session.execute(
        select(SyncResult, SyncRun, Channel.name)
        .join(ChannelListing, ChannelListing.id == SyncResult.listing_id)
        .join(SyncRun, SyncRun.id == SyncResult.run_id)
        .join(Channel, Channel.id == ChannelListing.channel_id)
        .where(ChannelListing.sku_id == sku_id)
    ):
        rows.append(
            {
                "time": result.created_at,
                "kind": "sync",
                "id": run.id,
                "channel": channel,
                "what": result.operation,
                "old": None,
                "new": result.value,
                "ok": result.ok,
                "user": run.user,
                "note": result.state if result.ok else f"{result.code}: {result.message}",
            }
        )
    rows.sort(key=lambda r: (r["time"], r["kind"], r["id"]))
    for row in rows:
        row["time"] = row["time"].isoformat(timespec="seconds")
    return rows


def stock_level(session: Session, sku_id: int, code: str) -> int:
    wid = _warehouse_id(session, code)
    return (
        session.scalar(select(StockLevel.on_hand).where(StockLevel.sku_id == sku_id, StockLevel.warehouse_id == wid))
        or 0
    )
