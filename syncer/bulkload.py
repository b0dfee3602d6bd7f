"""Bulk writes that PostgreSQL takes faster in one go: rows loaded with COPY (psycopg 3 ``cursor.copy``)
and per-row values applied from arrays (``UPDATE ... FROM unnest(...)``). On SQLite the same calls are
plain executemany statements.

Rows go in as they are: no SQLAlchemy type processing, so only plain values (text, numbers, Decimal,
booleans, None, aware datetimes; JSON columns as Python values, serialized here). Python-side column
defaults (``created_at``) are filled in, as an ORM or Core INSERT would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, ColumnElement, String, Table, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection


def is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def among(connection: Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` as one parameter, where an IN list of thousands costs more to build and
    convert than the query takes: ``column = ANY(array)`` on PostgreSQL, ``column IN (SELECT value FROM
    json_each(:json))`` on SQLite. ``values`` are integers or strings (ids, keys, SKU codes)."""
    values = list(values)
    if is_postgresql(connection):
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, json.dumps(values), type_=String())).table_valued("value")
    return column.in_(select(listed.c.value))


def copy_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table``: COPY on PostgreSQL."""
    if not rows:
        return
    names = list(rows[0])
    defaults = {
        column.name: column.default.arg(None) if column.default.is_callable else column.default.arg  # type: ignore[attr-defined]
        for column in table.c
        if column.name not in names and column.default is not None and not column.primary_key
    }
    columns = [*names, *defaults]
    if not is_postgresql(connection):
        _insert_sqlite(connection, table, names, defaults, rows)
        return
    json_columns = {c.name for c in table.c if isinstance(c.type, JSON)}
    quote = connection.dialect.identifier_preparer.quote
    extra = list(defaults.values())
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            if json_columns & set(names):
                encoded = [name in json_columns for name in names]
                for row in rows:
                    values = [json.dumps(v) if j else v for v, j in zip(row.values(), encoded, strict=True)]
                    copy.write_row([*values, *extra])
            else:
                for row in rows:
                    copy.write_row([*row.values(), *extra])


def _insert_sqlite(
    connection: Connection, table: Table, names: list[str], defaults: dict[str, Any], rows: Sequence[dict[str, Any]]
) -> None:
    """One executemany of plain tuples: each value through its column type's bind processor, without
    SQLAlchemy's per-row statement parameter handling."""
    processors = [table.c[name].type.bind_processor(connection.dialect) for name in names]
    extra = tuple(
        processor(value) if (processor := table.c[name].type.bind_processor(connection.dialect)) else value
        for name, value in defaults.items()
    )
    quote = connection.dialect.identifier_preparer.quote
    columns = [*names, *defaults]
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]
    params = []
    for row in rows:
        values = list(row.values())
        for i, processor in converted:
            values[i] = processor(values[i])
        params.append((*values, *extra))
    connection.exec_driver_sql(statement, params)


def set_by_id(connection: Connection, table: Table, column: str, values: Sequence[tuple[int, Any]]) -> None:
    """Set ``column`` per row id: one ``UPDATE ... FROM unnest(ids, values)`` on PostgreSQL."""
    if not values:
        return
    if is_postgresql(connection):
        quote = connection.dialect.identifier_preparer.quote
        kind = table.c[column].type.compile(connection.dialect)
        connection.exec_driver_sql(
            f"UPDATE {quote(table.name)} SET {quote(column)} = v.value "
            f"FROM unnest(%(ids)s::bigint[], %(values)s::{kind}[]) AS v(id, value) WHERE {quote(table.name)}.id = v.id",
            {"ids": [i for i, _ in values], "values": [v for _, v in values]},
        )
        return
    quote = connection.dialect.identifier_preparer.quote
    processor = table.c[column].type.bind_processor(connection.dialect)
    connection.exec_driver_sql(
        f"UPDATE {quote(table.name)} SET {quote(column)} = ? WHERE id = ?",
        [(processor(v) if processor else v, i) for i, v in values],
    )
