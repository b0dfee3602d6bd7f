"""A CSV/XLSX file of per-SKU (optionally per-channel) edits, validated whole."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from listing_sync.syncer import stock as ledger
from listing_sync.syncer.changes.model import ChangeLine, _bulk, _chunks, _text
from listing_sync.syncer.changes.plans import _check_places
from listing_sync.syncer.models import (
    Channel,
    ChannelListing,
    Sku,
)
from listing_sync.syncer.tabular import InputRejected, Problem, read_rows
from sqlalchemy import select
from sqlalchemy.orm import Session


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
    from listing_sync.adapters.money import parse_decimal

    try:
        value = parse_decimal(text)
    except ValueError:
        problems.append(Problem(number, "price", f"{text!r} is not a decimal number (use e.g. 12.50)"))
        return None
    if value < 0:
        problems.append(Problem(number, "price", f"{text} must not be negative"))
        return None
    return value
