"""Bulk price and stock changes as change sets: planned (previewable), applied atomically, attributed.

A change is first planned into :class:`ChangeLine` rows (old -> new per SKU, channel and field) that a
preview can show; :func:`apply` then writes them in one transaction as one change set, marks the
affected listings dirty and returns the change set id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.money import quantum
from config.channels import ChannelConfig
from syncer import reconcile
from syncer import stock as ledger
from syncer.models import ChangeItem, ChangeSet, Channel, ChannelListing, Sku


@dataclass(frozen=True, slots=True)
class ChangeLine:
    sku_id: int
    sku: str
    field: str  # base_price | price_override | stock:WH
    old: str | None
    new: str | None
    channel: str | None = None


def plan_price(
    session: Session,
    sku_ids: Sequence[int],
    *,
    percent: Decimal | None = None,
    amount: Decimal | None = None,
    set_to: Decimal | None = None,
    channel: str | None = None,
) -> list[ChangeLine]:
    """Plan a base-price (or, with ``channel``, a per-channel override) change for the SKUs."""
    if sum(x is not None for x in (percent, amount, set_to)) != 1:
        raise ValueError("give exactly one of percent, amount or a new price")
    lines: list[ChangeLine] = []
    overrides: dict[int, Decimal | None] = {}
    channel_id = None
    if channel is not None:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == channel))
        if channel_id is None:
            raise ValueError(f"no channel {channel!r}")
        overrides = dict(
            session.execute(
                select(ChannelListing.sku_id, ChannelListing.price_override).where(
                    ChannelListing.channel_id == channel_id, ChannelListing.sku_id.in_(list(sku_ids))
                )
            ).all()
        )
    for chunk_start in range(0, len(sku_ids), 5000):
        chunk = list(sku_ids[chunk_start : chunk_start + 5000])
        for sku in session.scalars(select(Sku).where(Sku.id.in_(chunk)).order_by(Sku.sku)):
            if channel is not None and sku.id not in overrides:
                continue  # not listed on that channel
            current = overrides.get(sku.id) if channel is not None else sku.base_price
            start = current if current is not None else sku.base_price
            if set_to is not None:
                new = set_to
            elif percent is not None:
                new = start * (1 + percent / 100)
            else:
                new = start + amount
            new = new.quantize(quantum(sku.currency), rounding=ROUND_HALF_UP)
            if new < 0:
                raise ValueError(f"{sku.sku}: the new price {new} would be negative")
            if current is not None and new == current:
                continue
            lines.append(
                ChangeLine(
                    sku.id,
                    sku.sku,
                    "price_override" if channel else "base_price",
                    None if current is None else str(current),
                    str(new),
                    channel,
                )
            )
    return lines


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
    """Apply planned lines as ONE change set (in the caller's transaction). Returns its id."""
    if not lines:
        return None
    change_set = ChangeSet(user=user, reason=reason, command=command, undo_of=undo_of)
    session.add(change_set)
    session.flush()
    channel_ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    warehouses = ledger.warehouses_by_code(session)
    movements = []
    for line in lines:
        new = None if line.new is None else Decimal(line.new)
        if line.field == "base_price":
            session.get(Sku, line.sku_id).base_price = new
        elif line.field == "price_override":
            listing = session.scalar(
                select(ChannelListing).where(
                    ChannelListing.channel_id == channel_ids[line.channel], ChannelListing.sku_id == line.sku_id
                )
            )
            listing.price_override = new
        elif line.field.startswith("stock:"):
            code = line.field.split(":", 1)[1]
            delta = int(line.new or 0) - int(line.old or 0)
            movements.append(
                ledger.Movement(
                    sku_id=line.sku_id,
                    warehouse_id=warehouses[code],
                    kind="adjust",
                    on_hand_delta=delta,
                    reserved_delta=0,
                    reason=reason or command,
                    key=f"change:{change_set.id}:{line.sku_id}:{code}",
                    user=user,
                    change_set_id=change_set.id,
                )
            )
        else:
            raise ValueError(f"unknown field {line.field}")
        session.add(
            ChangeItem(
                change_set_id=change_set.id,
                sku_id=line.sku_id,
                channel_id=channel_ids.get(line.channel) if line.channel else None,
                field=line.field,
                old_value=line.old,
                new_value=line.new,
            )
        )
    ledger.record(session, movements)
    session.flush()
    reconcile.refresh(session, channels, {line.sku_id for line in lines})
    return change_set.id
