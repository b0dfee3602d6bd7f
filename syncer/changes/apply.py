"""Applying change lines as ONE change set, after checking they are still current."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import reconcile
from listing_sync.syncer import stock as ledger
from listing_sync.syncer.changes.model import (
    PRICE_FIELDS,
    UNDOABLE,
    WANTED,
    ChangeLine,
    ChangePlan,
    ChangeRefused,
    GuardRefused,
    StaleChange,
    _bulk,
    _chunks,
    _text,
    now_utc,
)
from listing_sync.syncer.changes.plans import _AMOUNT, _Amounts, _by_ids, _fetch_by_ids, _sku_rows
from listing_sync.syncer.changes.preview import CallCounter, _listing_rows, preview
from listing_sync.syncer.models import (
    ChangeSet,
    Channel,
    ChannelListing,
)
from listing_sync.syncer.types import UTCDateTime
from sqlalchemy import select, update
from sqlalchemy.orm import Session


class _Writer:
    """executemany straight on the driver: one statement, many parameter rows, values bound with the
    columns' own types (the SQLAlchemy per-row parameter handling costs more than the writes)."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
        self._time = UTCDateTime()
        self._amounts: dict[Decimal | None, Any] = {None: None}

    def amount(self, value: Decimal | None) -> Any:
        """The bound value of an amount, converted once per distinct value (prices repeat)."""
        try:
            return self._amounts[value]
        except KeyError:
            bound = self._amounts[value] = _AMOUNT.process_bind_param(value, self.dialect)
            return bound

    def time(self, value: datetime) -> Any:
        return self._time.process_bind_param(value, self.dialect)

    def run(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.connection.exec_driver_sql(sql.format(self.mark), rows)

    @property
    def postgres(self) -> bool:
        return self.dialect.name == "postgresql"

    def arrays(self, sql: str, types: Sequence[str], rows: list[tuple[Any, ...]], *params: Any) -> int:
        """PostgreSQL: ``sql`` once per 50,000 rows, its ``{values}`` the rows as arrays (``unnest(...) WITH
        ORDINALITY AS v(c0, c1, ..., n)``; ``types``: each column's SQL type), after ``params``. Each column
        goes as one array literal: the driver's adaptation element by element costs more than the
        statement. Returns the rows the statements changed."""
        arrays = ", ".join(f"%s::text::{kind}[]" for kind in types)
        names = ", ".join(f"c{n}" for n in range(len(types)))
        statement = sql.format(values=f"unnest({arrays}) WITH ORDINALITY AS v({names}, n)")
        changed = 0
        for chunk in _chunks(rows, 50_000):
            transposed = zip(*chunk, strict=True)
            columns = [_array(values, kind == "text") for kind, values in zip(types, transposed, strict=True)]
            changed += self.connection.exec_driver_sql(statement, (*params, *columns)).rowcount
        return changed


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
    _refuse_stale(stale)


def check_effects(session: Session, plan: ChangePlan) -> None:
    """Raise StaleChange if a listing's desired price or quantity is no longer what the plan saw (the
    plan overwrites them: an order pull, an FX or a catalog change since would otherwise be lost)."""
    watched = {
        (e.listing_id, e.field): e
        for e in plan.effects
        if e.listing_id is not None and e.field in ("price", "quantity")
    }
    if not watched:
        return
    amount = _Amounts(session)
    query = select(ChannelListing.id, amount.column(ChannelListing.desired_price), ChannelListing.desired_quantity)
    ids = sorted({listing_id for listing_id, _ in watched})
    now = {lid: (amount(price), qty) for lid, price, qty in _by_ids(session, query, ChannelListing.id, ids, 0)}
    stale = []
    for (listing_id, field_name), effect in watched.items():
        current = now.get(listing_id)
        have = None if current is None else current[0 if field_name == "price" else 1]
        if current is None or have != effect.old:
            stale.append(f"{effect.sku} {field_name}@{effect.channel}: was {effect.old}, is now {have}")
    _refuse_stale(stale)


def _refuse_stale(stale: list[str]) -> None:
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
    planned: ChangePlan | None = None,
) -> Applied:
    """Apply planned lines as ONE change set in the caller's transaction (raising leaves nothing applied:
    the caller's unit of work rolls back). Checks the old values are still current and, unless ``force``,
    the price guard.

    ``planned`` is the preview of exactly these lines (computed with the guard): it is used as it is, after
    checking that every value it read and overwrites is still current, instead of planning again."""
    if not lines:
        return Applied(None, ChangePlan([]))
    if planned is not None and lines is not planned.lines and list(lines) != planned.lines:
        raise ValueError("the plan given is not the plan of these lines")
    unknown = sorted(
        {line.field for line in lines if line.field not in UNDOABLE and not line.field.startswith("stock:")}
    )
    if unknown:
        raise ChangeRefused(f"cannot apply changes of {', '.join(unknown)}")
    _lock_rows(session, lines)
    check_current(session, lines)
    if planned is None:
        plan = preview(session, channels, lines, guard_percent=None if force else guard_percent, counter=counter)
    else:
        plan = planned
    if plan.violations and not (force and planned is not None):
        raise GuardRefused(plan.violations)
    change_set = ChangeSet(user=user, reason=reason[:500], command=command[:500], undo_of=undo_of)
    session.add(change_set)
    session.flush()
    channel_ids = dict(session.execute(select(Channel.name, Channel.id)).all())
    writer = _Writer(session)
    now = writer.time(now_utc())
    _write_desired(session, writer, plan, now)
    _write_items(writer, change_set.id, lines, channel_ids)
    _write_prices(writer, lines, channel_ids, now)
    _record_stock(session, lines, change_set.id, user, (reason or command or "stock change")[:500])
    session.expire_all()  # the bulk writes bypassed the identity map
    _apply_wanted(session, lines, channels)
    if undo_of is not None:
        session.execute(update(ChangeSet).where(ChangeSet.id == undo_of).values(status="undone"))
    session.flush()
    return Applied(change_set.id, plan, plan.affected())


def _write_desired(session: Session, writer: _Writer, plan: ChangePlan, now: Any) -> None:
    """The listings' new desired values (dirty, new version), each written only if its desired price and
    quantity are still what the plan read: one that moved since (an order pull, an FX or catalog change)
    refuses the whole change (:class:`StaleChange`) instead of a second read of every listing first."""
    if not plan.desired:
        return
    amount, read = writer.amount, plan.read
    rows = []
    for lid, (price, quantity) in sorted(plan.desired.items()):
        old_price, old_quantity = read.get(lid, (price, quantity))  # a plan without reads: as it writes
        rows.append((lid, amount(price), quantity, amount(old_price), old_quantity))
    written = 0
    if writer.postgres:
        written = writer.arrays(
            "UPDATE channel_listings AS c SET desired_price = c1, desired_quantity = c2, version = c.version + 1,"
            " status = 'dirty', last_error_code = NULL, last_error = NULL, attempts = 0, next_try_at = NULL,"
            " updated_at = %s FROM {values} WHERE c.id = c0 AND c.desired_price IS NOT DISTINCT FROM c3"
            " AND c.desired_quantity IS NOT DISTINCT FROM c4",
            ("bigint", "numeric", "int", "numeric", "int"),
            rows,
            now,
        )
    else:
        sql = (
            "UPDATE channel_listings SET desired_price = ?, desired_quantity = ?, version = version + 1,"
            " status = 'dirty', last_error_code = NULL, last_error = NULL, attempts = 0, next_try_at = NULL,"
            " updated_at = ? WHERE id = ? AND desired_price IS ? AND desired_quantity IS ?"
        )
        params = [
            (price, quantity, now, lid, old_price, old_quantity)
            for lid, price, quantity, old_price, old_quantity in rows
        ]
        written = writer.connection.exec_driver_sql(sql, params).rowcount
    if written != len(rows):
        _refuse_stale(_moved(session, plan) or [f"{len(rows) - written} listing(s) changed since the preview"])


def _array(values: Sequence[Any], text: bool = False) -> str:
    """A PostgreSQL array literal: numbers as they print, texts quoted (``"`` and ``\\`` escaped)."""
    if text:
        return "{" + ",".join("NULL" if v is None else _quoted(str(v)) for v in values) + "}"
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _moved(session: Session, plan: ChangePlan) -> list[str]:
    """The listings whose desired price or quantity is neither what the plan read nor what it wrote (the
    ones the guarded write above skipped), described."""
    amount = _Amounts(session)
    query = select(ChannelListing.id, amount.column(ChannelListing.desired_price), ChannelListing.desired_quantity)
    now = {
        lid: (amount(price), qty)
        for lid, price, qty in _by_ids(session, query, ChannelListing.id, list(plan.desired), 0)
    }
    names = {(e.listing_id): (e.sku, e.channel) for e in plan.effects if e.listing_id is not None}
    out = []
    for lid, wrote in plan.desired.items():
        have = now.get(lid)
        if have == wrote:
            continue
        sku, channel = names.get(lid, (str(lid), "?"))
        was = plan.read.get(lid, wrote)
        if have is None:
            out.append(f"{sku}@{channel}: the listing is gone")
            continue
        for n, name in enumerate(("price", "quantity")):
            if have[n] != was[n]:
                out.append(f"{sku} {name}@{channel}: was {was[n]}, is now {have[n]}")
    return out


def _lock_rows(session: Session, lines: Sequence[ChangeLine]) -> None:
    """Lock what the change reads and overwrites before checking it is current, in the global order (stock
    levels, then listings by id): a concurrent order pull then either committed before (and the check sees
    it) or waits for this change; nothing it writes in between is overwritten, and no deadlock."""
    warehouses = ledger.warehouses_by_code(session)
    ledger.lock_levels(
        session,
        [
            (line.sku_id, warehouses[code])
            for line in lines
            if line.field.startswith("stock:") and (code := line.field.split(":", 1)[1]) in warehouses
        ],
    )
    sku_ids = sorted({line.sku_id for line in lines})
    if session.get_bind().dialect.name == "postgresql":  # what reconcile.lock_listings_of does, in one statement
        _fetch_by_ids(session, "SELECT id FROM channel_listings WHERE sku_id {ids} ORDER BY id FOR UPDATE", sku_ids)
    else:
        reconcile.lock_listings_of(session, sku_ids)


def _write_items(writer: _Writer, change_set_id: int, lines: Sequence[ChangeLine], channel_ids: dict[str, int]) -> None:
    """One change item per line: the audit trail, and what an undo restores."""
    rows = [
        (
            change_set_id,
            line.sku_id,
            channel_ids.get(line.channel) if line.channel else None,
            line.field,
            line.old,
            line.new,
        )
        for line in lines
    ]
    if writer.postgres:
        writer.arrays(
            "INSERT INTO change_items (change_set_id, sku_id, channel_id, field, old_value, new_value)"
            " SELECT c0, c1, c2, c3, c4, c5 FROM {values} ORDER BY n",
            ("bigint", "bigint", "bigint", "text", "text", "text"),
            rows,
        )
        return
    writer.run(
        "INSERT INTO change_items (change_set_id, sku_id, channel_id, field, old_value, new_value)"
        " VALUES ({0}, {0}, {0}, {0}, {0}, {0})",
        rows,
    )


def _write_prices(writer: _Writer, lines: Sequence[ChangeLine], channel_ids: dict[str, int], now: Any) -> None:
    """New base prices and channel price overrides (None removes an override)."""
    amount = writer.amount
    bases = [(line.sku_id, amount(Decimal(line.set_to))) for line in lines if line.field == "base_price"]
    overrides = [
        (channel_ids[line.channel_name], line.sku_id, amount(None if line.new is None else Decimal(line.new)))
        for line in lines
        if line.field == "price_override"
    ]
    if writer.postgres:
        writer.arrays(
            "UPDATE skus SET base_price = c1, updated_at = %s FROM {values} WHERE skus.id = c0",
            ("bigint", "numeric"),
            bases,
            now,
        )
        writer.arrays(
            "UPDATE channel_listings SET price_override = c2 FROM {values}"
            " WHERE channel_listings.channel_id = c0 AND channel_listings.sku_id = c1",
            ("bigint", "bigint", "numeric"),
            overrides,
        )
        return
    writer.run("UPDATE skus SET base_price = {0}, updated_at = {0} WHERE id = {0}", [(p, now, i) for i, p in bases])
    writer.run(
        "UPDATE channel_listings SET price_override = {0} WHERE channel_id = {0} AND sku_id = {0}",
        [(p, c, i) for c, i, p in overrides],
    )


def _record_stock(session: Session, lines: Sequence[ChangeLine], change_set_id: int, user: str, reason: str) -> None:
    """New on-hand counts as ledger adjustments; one that would go below zero refuses the change."""
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
                    reason=reason,
                    key=f"change:{change_set_id}:{line.sku_id}:{code}",
                    user=user,
                    change_set_id=change_set_id,
                )
            )
    try:
        ledger.record(session, movements)
    except ledger.NegativeStock as exc:
        raise ChangeRefused(f"{exc}; nothing was applied") from None


def _apply_wanted(session: Session, lines: Sequence[ChangeLine], channels: Sequence[ChannelConfig]) -> None:
    """Listing states: create or re-want the listings, per channel and state."""
    wanted_groups: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    for line in lines:
        if line.field == WANTED:
            wanted_groups[(line.channel, line.new or "delisted")].append(line.sku_id)
    configs = {c.name: c for c in channels}
    for (name, wanted), ids in sorted(wanted_groups.items()):
        if name is None or name not in configs:
            raise ChangeRefused(f"no channel {name!r} in the channels file")
        reconcile.ensure_listings(session, configs[name], ids, wanted=wanted)


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
