"""Column types that behave the same on SQLite and PostgreSQL: exact decimals and aware UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 6


class Amount(TypeDecorator[Decimal]):
    """An exact decimal with 6 places.

    PostgreSQL stores ``NUMERIC(24, 6)``. SQLite has no exact decimal type (it would store a float), so
    there the value is kept as a scaled 64-bit integer; ``SUM`` stays exact and results come back as
    ``Decimal`` on both engines.
    """

    impl = Numeric(24, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("amounts are Decimal, never float")
        value = Decimal(value)
        if dialect.name == "sqlite":
            scaled = value.scaleb(SCALE)
            if scaled != scaled.to_integral_value():
                raise ValueError(f"{value} has more than {SCALE} decimal places")
            return int(scaled)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        scaled = int(value) if dialect.name == "sqlite" else int(Decimal(value).scaleb(SCALE))
        return Decimal(scaled).scaleb(-SCALE).quantize(Decimal(1).scaleb(-_places(scaled)))


def _places(scaled: int) -> int:
    """Decimal places needed to show a scaled integer exactly (at least 2, so 39 reads 39.00)."""
    places = SCALE
    while places > 2 and scaled % 10 == 0:
        scaled //= 10
        places -= 1
    return places


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite stores naive UTC underneath)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
