"""SKU globs, categories and tags as SQL conditions an index can serve.

A glob's literal prefix becomes a key range on the unique index of ``skus.sku`` (``TEA-*``:
``sku >= 'TEA-' AND sku < 'TEA.'``), compared in code point order: SQLite's BINARY collation is, and on
PostgreSQL the range is taken under ``COLLATE "C"`` unless the database's collation already is C (then
the unique index serves it; under a language collation ``-`` and ``.`` sort by other rules and a plain
range would miss SKUs). What the prefix leaves open is checked in SQL too (SQLite ``GLOB``, PostgreSQL
``~``) when the pattern has only literals, ``*``, ``?`` and plain sets (``[0-9]``, ``[!ab]``); any other
pattern is checked in Python with :mod:`fnmatch` (``residual``), the reference for what a glob matches.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from listing_sync.syncer.models import Product, Sku
from sqlalchemy import and_, exists, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB, array
from sqlalchemy.orm import Session
from sqlalchemy.sql import cast

if TYPE_CHECKING:
    from listing_sync.syncer.changes.selection import Selection

#: a set whose members are plain letters, digits or ``_`` and ranges of them: the same in fnmatch,
#: SQLite GLOB and a PostgreSQL regular expression
_PLAIN_SET = re.compile(r"\[(!?)((?:[A-Za-z0-9_](?:-[A-Za-z0-9_])?)+)\]")
_C_COLLATIONS = {"c", "posix", "c.utf-8", "c.utf8"}
_MAX_CHAR = 0x10FFFF

Token = tuple[str, str]  # ("lit", char) | ("any", "") | ("one", "") | ("set", "!a-c" body with its "!")


def tokens(pattern: str) -> list[Token] | None:
    """The glob as literals, ``*``, ``?`` and plain sets; None when it holds a set that is not plain (an
    unclosed ``[``, a set of punctuation, an empty range...), which only fnmatch interprets."""
    out: list[Token] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if not out or out[-1][0] != "any":
                out.append(("any", ""))
        elif c == "?":
            out.append(("one", ""))
        elif c == "[":
            found = _PLAIN_SET.match(pattern, i)
            if found is None or any(a > b for a, b in re.findall(r"(\w)-(\w)", found[2])):
                return None
            out.append(("set", found[1] + found[2]))
            i = found.end()
            continue
        else:
            out.append(("lit", c))
        i += 1
    return out


def literal_prefix(pattern: str) -> str:
    """The characters every match starts with: the pattern up to its first ``*``, ``?`` or ``[``."""
    end = len(pattern)
    for mark in "*?[":
        at = pattern.find(mark)
        if at >= 0:
            end = min(end, at)
    return pattern[:end]


def prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (code point order); None when
    there is none (a prefix of nothing but the highest code point)."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1])
        if code < _MAX_CHAR:
            code += 1
            if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters of a stored string
                code = 0xE000
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def sqlite_glob(parts: Sequence[Token]) -> str:
    """The pattern for SQLite's (case-sensitive) ``GLOB``."""
    out = []
    for kind, value in parts:
        if kind == "lit":
            out.append(f"[{value}]" if value in "*?[" else value)
        elif kind == "any":
            out.append("*")
        elif kind == "one":
            out.append("?")
        else:
            out.append("[^" + value[1:] + "]" if value.startswith("!") else f"[{value}]")
    return "".join(out)


def postgres_regex(parts: Sequence[Token]) -> str:
    """An anchored PostgreSQL regular expression (``~``, case-sensitive; ``.`` matches a newline too)."""
    out = ["^"]
    for kind, value in parts:
        if kind == "lit":
            out.append(value if value.isalnum() or value == "_" else "\\" + value)
        elif kind == "any":
            out.append(".*")
        elif kind == "one":
            out.append(".")
        else:
            out.append("[^" + value[1:] + "]" if value.startswith("!") else f"[{value}]")
    out.append("$")
    return "".join(out)


@dataclass(slots=True)
class SkuFilter:
    """SQL conditions (on ``Sku``, and on ``Product`` joined to it when categories or tags are given) and,
    when SQL could not say it exactly, the check of a SKU code that is left (``residual``)."""

    conditions: list[Any] = field(default_factory=list)
    residual: Callable[[str], bool] | None = None

    @classmethod
    def of(cls, session: Session, selection: Selection) -> SkuFilter:
        dialect = session.get_bind().dialect.name
        out = cls()
        patterns = [p for p in selection.patterns if p != "*"]
        if patterns and len(patterns) == len(selection.patterns):
            column: Any = Sku.sku
            if dialect == "postgresql" and not _c_collation(session):
                column = Sku.sku.collate("C")
            wheres: list[Any] = []
            exact = True
            for pattern in dict.fromkeys(patterns):
                where, done = _glob_condition(column, pattern, dialect)
                exact = exact and done
                if where is None:  # nothing to narrow by: every SKU is a candidate
                    wheres = []
                    break
                wheres.append(where)
            if wheres:
                out.conditions.append(or_(*wheres) if len(wheres) > 1 else wheres[0])
            if not exact:
                regexes = [re.compile(fnmatch.translate(p)) for p in patterns]
                out.residual = lambda sku: any(r.match(sku) for r in regexes)
        if selection.categories:
            out.conditions.append(Product.category.in_(selection.categories))
        if selection.tags:
            out.conditions.append(_tag_condition(dialect, selection.tags))
        return out


def _glob_condition(column: Any, pattern: str, dialect: str) -> tuple[Any, bool]:
    """(the SQL narrowing to ``pattern``'s matches or None, whether it is exact)."""
    parts = tokens(pattern)
    if parts is not None and all(kind == "lit" for kind, _ in parts):
        return column == pattern, True
    prefix = literal_prefix(pattern)
    end = prefix_end(prefix) if prefix else None
    where = []
    if prefix:
        where.append(column >= prefix)
    if end is not None:
        where.append(column < end)
    exact = parts is not None and parts[-1][0] == "any" and all(kind == "lit" for kind, _ in parts[:-1])
    if parts is not None and not exact and dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            where.append(Sku.sku.op("GLOB")(sqlite_glob(parts)))
        else:
            where.append(Sku.sku.op("~")(postgres_regex(parts)))
        exact = True
    if not where:
        return None, exact
    return (and_(*where) if len(where) > 1 else where[0]), exact


def _tag_condition(dialect: str, tags: Sequence[str]) -> Any:
    """The product carries one of ``tags`` (a JSON array of strings)."""
    wanted = sorted(set(tags))
    if dialect == "postgresql":
        return cast(Product.tags, JSONB).has_any(array(wanted))
    each = func.json_each(Product.tags).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value.in_(wanted)))


def _c_collation(session: Session) -> bool:
    """Whether the PostgreSQL database compares text in code point order (C, POSIX, C.UTF-8)."""
    found = session.scalar(text("SELECT datcollate FROM pg_database WHERE datname = current_database()"))
    return str(found or "").lower() in _C_COLLATIONS
