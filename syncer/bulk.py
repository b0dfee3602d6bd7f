"""Bulk UPDATE by primary key with values already in the driver's form.

SQLAlchemy's executemany processes each row's parameters in Python (a dict per row, a bind processor
per value): at millions of rows that is most of a write-back. Here the caller converts each *distinct*
value once (:class:`DriverValues`) and the rows go to the driver as plain tuples: one ``executemany``
on SQLite; on PostgreSQL ``UPDATE ... FROM unnest(arrays)``, one array per column, :data:`ARRAY_ROWS`
rows a statement (the set-based ``UPDATE ... FROM (VALUES ...)``, with a parameter per column instead of
one per value).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table

#: rows per ``UPDATE ... FROM unnest(...)`` statement on PostgreSQL
ARRAY_ROWS = 5000


class DriverValues:
    """A column type's conversion to what the driver takes (Decimal -> scaled int on SQLite, aware ->
    naive UTC text, ...), exactly as SQLAlchemy binds it, remembered per distinct value."""

    def __init__(self, connection: Connection, column: Column[Any]) -> None:
        dialect = connection.dialect
        self.convert: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(dialect)
        self.seen: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        if value is None or self.convert is None:
            return value
        found = self.seen.get(value)
        if found is None:
            if len(self.seen) > 100_000:
                self.seen.clear()
            found = self.seen[value] = self.convert(value)
        return found


def update_by_id(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]], constants: str = ""
) -> None:
    """``UPDATE table SET columns[i] = row[i+1] ... WHERE id = row[0]`` for every row (driver values).
    ``constants`` is SQL appended to the SET list (``attempts = 0, next_try_at = NULL``), the same for
    every row."""
    if not rows:
        return
    name = connection.dialect.identifier_preparer.format_table(table)
    quote = connection.dialect.identifier_preparer.quote
    extra = f", {constants}" if constants else ""
    if connection.dialect.name != "postgresql":
        assignments = ", ".join(f"{quote(column)} = ?" for column in columns)
        sql = f"UPDATE {name} SET {assignments}{extra} WHERE id = ?"
        connection.exec_driver_sql(sql, [(*row[1:], row[0]) for row in rows])
        return
    # one array per column, unnested into rows: a statement with a few parameters, whatever the row count
    # (a VALUES list of thousands of placeholders costs the driver more to parse than the update itself)
    dialect = connection.dialect
    types = [table.c[column].type.dialect_impl(dialect).compile(dialect) for column in ("id", *columns)]
    arrays = ", ".join(f"CAST(%s AS {kind}[])" for kind in types)
    assignments = ", ".join(f"{quote(column)} = v.c{i}" for i, column in enumerate(columns))
    names = ", ".join(["id", *(f"c{i}" for i in range(len(columns)))])
    sql = f"UPDATE {name} AS t SET {assignments}{extra} FROM unnest({arrays}) AS v({names}) WHERE t.id = v.id"
    for start in range(0, len(rows), ARRAY_ROWS):
        batch = rows[start : start + ARRAY_ROWS]
        connection.exec_driver_sql(sql, tuple(list(values) for values in zip(*batch, strict=True)))
