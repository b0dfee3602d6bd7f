"""``syncer check``: verify the books. Stock levels equal the ledger per SKU and warehouse, every order is
recorded once, and the channel leases are sane (see :mod:`syncer.integrity`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from listing_sync.syncer import integrity
from listing_sync.syncer.context import Context
from listing_sync.syncer.integrity import Problem


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What was checked (counts) and every difference found; ``ok`` when there is none."""

    ok: bool
    levels: int
    movements: int
    orders: int
    order_lines: int
    leases: int
    running: int
    problems: list[Problem] = field(default_factory=list)


def check(context: Context) -> CheckReport:
    """Check stock levels against the ledger, orders recorded once, and the leases (read only)."""
    with context.session() as session:
        found = integrity.check_all(session, context.leases, context.settings.lease_seconds)
    return CheckReport(
        ok=not found.problems,
        levels=found.levels,
        movements=found.movements,
        orders=found.orders,
        order_lines=found.order_lines,
        leases=found.leases,
        running=found.running,
        problems=found.problems,
    )
