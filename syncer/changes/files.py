"""A CSV/XLSX file of per-SKU (optionally per-channel) edits, validated whole."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from listing_sync.syncer import limits
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.changes.model import ChangeLine, _bulk, _chunks, _text
from listing_sync.syncer.changes.plans import _check_places
from listing_sync.syncer.models import (
    Channel,
    ChannelListing,
    Sku,
)
from listing_sync.syncer.tabular import InputRejected, Problem, read_table
from sqlalchemy import select
from sqlalchemy.orm import Session

EDIT_COLUMNS = ("sku", "channel", "price", "currency")
STOCK_COLUMN = re.compile(r"^stock\[([^\]]+)\]$")

Record = tuple[int, dict[str, str]]  # (file row, column -> stripped cell text)


@_bulk
def plan_file(session: Session, path: Path, channels: Mapping[str, str] | None = None) -> list[ChangeLine]:
    """Plan a CSV/XLSX of edits, validated whole (every bad row and column listed; nothing applied).

    ``channels``: the configured channels, name -> currency. Columns: ``sku`` (required), ``channel``
    (empty = the catalog), ``price`` (on a catalog row the base price in the SKU's currency; on a channel
    row that channel's price override in the channel's currency, ``base`` to remove the override),
    ``currency`` (optional: the currency of ``price``; a mismatch is a problem), ``stock[WH]`` (on-hand in
    warehouse WH, catalog rows only). Empty cells change nothing."""
    header, rows = read_table(path)
    warehouses = ledger.warehouses_by_code(session)
    channel_ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    configured = dict(channels) if channels is not None else {}
    problems: list[Problem] = []
    stock_columns = _check_header(header, warehouses, problems)
    records = _records(header, rows, problems)
    current = _Current.load(session, records, channel_ids, bool(stock_columns))
    edits = _Edits(current, configured, stock_columns, warehouses, problems)
    for number, record in records:
        edits.row(number, record)
    if problems:
        raise InputRejected(str(path), problems)
    return edits.lines


def _check_header(header: list[str], warehouses: dict[str, int], problems: list[Problem]) -> dict[str, str]:
    """Problems of the header row; returns the stock columns (column -> warehouse code)."""
    stock_columns: dict[str, str] = {}
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Problem(1, name, "duplicate column"))
        seen.add(name)
        match = STOCK_COLUMN.match(name)
        if match:
            if match.group(1) not in warehouses:
                known = ", ".join(sorted(warehouses)) or "none"
                problems.append(Problem(1, name, f"unknown warehouse {match.group(1)!r} (known: {known})"))
            else:
                stock_columns[name] = match.group(1)
        elif name not in EDIT_COLUMNS:
            problems.append(
                Problem(1, name or "(empty)", "unknown column (use sku, channel, price, currency, stock[WH])")
            )
    if "sku" not in header:
        problems.append(Problem(1, "sku", "required column is missing"))
    if "price" not in header and not stock_columns and "sku" in header:
        problems.append(Problem(1, "", "no price or stock[WH] column: nothing to change"))
    return stock_columns


def _records(header: list[str], rows: Iterable[tuple[int, list[str]]], problems: list[Problem]) -> list[Record]:
    """Every row as column -> stripped text; cells beyond the header that hold text are a problem."""
    records = []
    for number, cells in rows:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            problems.append(Problem(number, "", f"has {len(cells)} cells but the header has {len(header)}"))
        records.append((number, {k: (v or "").strip() for k, v in zip(header, cells, strict=False)}))
    return records


@dataclass(slots=True)
class _Current:
    """What the file's rows are checked against: their SKUs, listings and stock as they are now."""

    skus: dict[str, Any]  # SKU -> row (id, sku, base_price, currency)
    listings: dict[tuple[str, int], Decimal | None]  # (channel, sku id) -> price override
    levels: dict[tuple[int, int], tuple[int, int]]  # (sku id, warehouse id) -> (on hand, reserved)

    @classmethod
    def load(cls, session: Session, records: list[Record], channel_ids: dict[str, int], with_stock: bool) -> _Current:
        names = sorted({r.get("sku", "") for _, r in records if r.get("sku")})
        skus: dict[str, Any] = {}
        for chunk in _chunks(names):
            for row in session.execute(
                select(Sku.id, Sku.sku, Sku.base_price, Sku.currency).where(Sku.sku.in_(list(chunk)))
            ):
                skus[row.sku] = row
        listings: dict[tuple[str, int], Decimal | None] = {}
        wanted_channels = {r["channel"] for _, r in records if r.get("channel")}
        for name in wanted_channels & set(channel_ids):
            ids = sorted(s.id for s in skus.values())
            for chunk in _chunks(ids):
                for sku_id, override in session.execute(
                    select(ChannelListing.sku_id, ChannelListing.price_override).where(
                        ChannelListing.channel_id == channel_ids[name], ChannelListing.sku_id.in_(chunk)
                    )
                ):
                    listings[(name, sku_id)] = override
        stock_skus = sorted(s.id for s in skus.values()) if with_stock else []
        levels = ledger.levels(session, stock_skus) if stock_skus else {}
        return cls(skus, listings, levels)


class _Edits:
    """The rows of an edit file turned into change lines, or problems by row and column."""

    def __init__(
        self,
        current: _Current,
        configured: dict[str, str],
        stock_columns: dict[str, str],
        warehouses: dict[str, int],
        problems: list[Problem],
    ) -> None:
        self.current, self.configured, self.problems = current, configured, problems
        self.stock_columns, self.warehouses = stock_columns, warehouses
        self.lines: list[ChangeLine] = []
        self.first: dict[tuple[str, str], int] = {}  # (SKU, channel) -> the row that has it

    def row(self, number: int, record: dict[str, str]) -> None:
        sku_name, channel = record.get("sku", ""), record.get("channel", "")
        if not sku_name:
            self.problems.append(Problem(number, "sku", "is empty"))
            return
        sku = self.current.skus.get(sku_name)
        if sku is None:  # reported; the row's other cells are still checked
            self.problems.append(Problem(number, "sku", f"unknown SKU {sku_name!r}"))
        if not self.usable(number, sku_name, channel, sku):
            return
        sku = self.price(number, record, sku, channel)
        self.stock(number, record, sku, channel)

    def usable(self, number: int, sku_name: str, channel: str, sku: Any) -> bool:
        """False (with the problem) for a SKU and channel already on an earlier row, an unknown channel,
        or a SKU not listed on the row's channel."""
        key = (sku_name, channel)
        if key in self.first:
            on = " on " + channel if channel else ""
            self.problems.append(Problem(number, "sku", f"{sku_name!r}{on} is also on row {self.first[key]}"))
            return False
        self.first[key] = number
        if channel and channel not in self.configured:
            known = ", ".join(sorted(self.configured))
            self.problems.append(Problem(number, "channel", f"unknown channel {channel!r} (known: {known})"))
            return False
        if channel and sku is not None and (channel, sku.id) not in self.current.listings:
            self.problems.append(Problem(number, "channel", f"{sku_name} is not listed on {channel}"))
            return False
        return True

    def currency(self, number: int, record: dict[str, str], sku: Any, channel: str) -> str | None:
        """The currency of the row's price: the channel's (channel row) or the SKU's; a ``currency`` cell
        naming another is a problem (None then, or when the SKU is unknown)."""
        currency = self.configured.get(channel) if channel else (sku.currency if sku is not None else None)
        given = record.get("currency", "").upper()
        if given and currency is not None and given != currency:
            whose = f"{channel} sells in" if channel else f"{sku.sku} is priced in"
            where = "the channel's" if channel else "the SKU's"
            self.problems.append(
                Problem(number, "currency", f"{given}: {whose} {currency}; the price is in {where} currency")
            )
            return None
        return currency

    def price(self, number: int, record: dict[str, str], sku: Any, channel: str) -> Any:
        """A base price (catalog row, in the SKU's currency) or price override (channel row, in the
        channel's currency; ``base`` removes it). Returns the SKU, or None when the price has more decimal
        places than its currency allows."""
        text = record.get("price", "")
        if not text:
            return sku
        currency = self.currency(number, record, sku, channel)
        if currency is None and sku is not None:
            return None
        new_price: Decimal | None = None
        if not (channel and text.lower() == "base"):
            new_price = _parse_price(text, number, self.problems, currency)
            if new_price is not None and currency is not None:
                problem = _check_places(new_price, currency, "price")
                if problem:
                    self.problems.append(Problem(number, "price", problem))
                    return None
        if sku is None:
            return sku
        if channel:
            old = self.current.listings[(channel, sku.id)]
            if old != new_price:
                self.lines.append(ChangeLine(sku.id, sku.sku, "price_override", _text(old), _text(new_price), channel))
        elif new_price is not None and new_price != sku.base_price:
            self.lines.append(ChangeLine(sku.id, sku.sku, "base_price", _text(sku.base_price), str(new_price)))
        return sku

    def stock(self, number: int, record: dict[str, str], sku: Any, channel: str) -> None:
        """On-hand counts per warehouse (catalog rows only): whole, not negative."""
        for column, code in self.stock_columns.items():
            value = record.get(column, "")
            if not value:
                continue
            if channel:
                self.problems.append(
                    Problem(number, column, "stock is per warehouse: put it on the row without a channel")
                )
                continue
            quantity, problem = limits.parse_quantity(value)
            if quantity is None:
                self.problems.append(Problem(number, column, problem or "not a whole number"))
                continue
            if sku is not None:
                on_hand = self.current.levels.get((sku.id, self.warehouses[code]), (0, 0))[0]
                if on_hand != quantity:
                    self.lines.append(ChangeLine(sku.id, sku.sku, f"stock:{code}", str(on_hand), str(quantity)))


def _parse_price(text: str, number: int, problems: list[Problem], currency: str | None) -> Decimal | None:
    """A price in bounds (:mod:`..limits`) in ``currency`` (None: the SKU is unknown), or None with the problem."""
    from listing_sync.adapters.money import parse_decimal

    try:
        value = parse_decimal(text)
    except ValueError:
        shown = text if len(text) <= 40 else text[:37] + "..."
        problems.append(Problem(number, "price", f"{shown!r} is not a decimal number (use e.g. 12.50)"))
        return None
    problem = limits.amount_problem(value, currency)
    if problem:
        problems.append(Problem(number, "price", problem))
        return None
    return value
