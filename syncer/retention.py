"""Personal data kept only as long as it is needed: every column that holds buyers' personal data is
listed here with the time it counts from, and :func:`purge` empties those older than the retention
period (``SYNCER_PERSONAL_DATA_RETENTION_DAYS``; ``syncer orders purge-personal-data`` and a daily job).

A feature that stores personal data adds its column to :data:`PERSONAL_DATA`; nothing else may hold it
(the demo test greps the database for the emulators' buyers after a purge)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from listing_sync.syncer.models import Order
from sqlalchemy import null, or_, update
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class PersonalColumns:
    """Columns of one table holding personal data, and the time column their age is counted from."""

    model: Any
    columns: tuple[str, ...]
    since: Any


PERSONAL_DATA: tuple[PersonalColumns, ...] = (PersonalColumns(Order, ("buyer",), Order.placed_at),)


def purge(session: Session, before: datetime) -> int:
    """Empty every personal-data column of rows older than ``before``; returns the rows emptied."""
    emptied = 0
    for spec in PERSONAL_DATA:
        filled = [getattr(spec.model, c).is_not(None) for c in spec.columns]
        result = session.execute(
            update(spec.model)
            .where(spec.since < before, or_(*filled))
            .values({c: null() for c in spec.columns})  # SQL NULL (a JSON column would store 'null' for None)
            .execution_options(synchronize_session=False)
        )
        emptied += int(getattr(result, "rowcount", 0) or 0)
    return emptied
