"""Short views of marketplace answers for error messages and ``syncer status``: enough to see what was
wrong (the structure, ids, codes, amounts, the offending value), never a buyer's name, address, email
or phone, and never a secret.

* :func:`value_excerpt` shows a decoded JSON value: keys, numbers, booleans and nulls as they are;
  strings only under keys that name ids, codes, states, currencies, amounts or times, else ``"…"``.
* :func:`body_excerpt` shows a body that did not decode: an HTML page by its ``<title>``, JSON-looking
  text by its keys with every string value masked, other text cut short.
* :func:`unexpected` builds the :class:`~adapters.base.UnexpectedResponse` for one item or one answer;
  :func:`read_each` reads the items of a page, each that does not read becoming one of those.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from listing_sync.adapters.base import UnexpectedResponse

__all__ = [
    "MAPPING_ERRORS",
    "SAFE_KEY",
    "body_excerpt",
    "read_each",
    "readable",
    "unexpected",
    "value_excerpt",
]

T = TypeVar("T")

LIMIT = 240
#: keys whose string values say nothing about a person: ids, codes, states, money, quantities, times
SAFE_KEY = re.compile(
    r"(?i)(^|_)(id|ids|sku|skus|code|status|state|type|currency|amount|value|price|total|quantity|qty|"
    r"count|date|time|at|created|updated|modified|cursor|token|page|number|unit|kind)$|"
    r"(Id|Ids|Sku|Code|Status|State|Type|Currency|Amount|Value|Price|Total|Quantity|Date|Time|At|Number)$"
)
#: keys about a person, masked whatever else they say (``postalCode`` ends like a code but is not one)
PERSONAL_KEY = re.compile(r"(?i)postal|zip|phone|mail|name|address|street|city|district|tax|vat|buyer_?nick|login")
_MASK = "…"
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*(?:"(\s*:)?|$)')
_SPACE = re.compile(r"\s+")


def _cut(text: str, limit: int = LIMIT) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _safe(key: str) -> bool:
    return bool(SAFE_KEY.search(key)) and not PERSONAL_KEY.search(key)


def _masked(value: Any, safe: bool, depth: int = 0) -> Any:
    if depth > 6:
        return _MASK
    if isinstance(value, dict):
        return {str(k): _masked(v, _safe(str(k)), depth + 1) for k, v in list(value.items())[:20]}
    if isinstance(value, list):
        shown = [_masked(v, safe, depth + 1) for v in value[:3]]
        return shown + ([f"+{len(value) - 3} more"] if len(value) > 3 else [])
    if isinstance(value, str):
        return value[:40] if safe else _MASK
    if value is None or isinstance(value, bool | int | float):
        return value
    return type(value).__name__


def value_excerpt(value: Any, limit: int = LIMIT) -> str:
    """A decoded JSON value, personal strings masked, at most ``limit`` characters."""
    return _cut(json.dumps(_masked(value, False), ensure_ascii=False, default=str), limit)


def body_excerpt(content: bytes | str | None, content_type: str | None = None, limit: int = 120) -> str:
    """A body that did not decode as expected, told without its personal data."""
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else (content or "")
    kind = (content_type or "").split(";")[0].strip() or "no content type"
    if not text.strip():
        return f"empty body ({kind})"
    title = _TITLE.search(text)
    if title or text.lstrip().startswith("<"):
        shown = html.unescape(title.group(1)) if title else "no title"
        return f"HTML page ({kind}) titled {_cut(shown, 80)!r}, {len(text)} characters"
    if text.lstrip()[:1] in "{[":

        def mask(match: re.Match[str]) -> str:
            return match.group(0) if match.group(1) else f'"{_MASK}"'

        return f"JSON ({kind}), {len(text)} characters: {_cut(_JSON_STRING.sub(mask, text), limit)}"
    return f"{kind}, {len(text)} characters: {_cut(text, limit)!r}"


def unexpected(
    what: str,
    problem: Exception | str,
    *,
    value: Any = None,
    channel: str | None = None,
    redact: Callable[[str | None], str | None] | None = None,
) -> UnexpectedResponse:
    """The typed error for an answer (or one item of it) that does not read as documented. ``what``
    names it (``getOrders order 12-345``), ``problem`` is what failed, ``value`` the item."""
    detail = f"{type(problem).__name__}: {_cut(str(problem), 160)}" if isinstance(problem, Exception) else problem
    excerpt = value_excerpt(value) if value is not None else ""
    if redact is not None:
        detail, excerpt = redact(detail) or "", redact(excerpt) or ""
    message = f"{what} cannot be read ({detail})" + (f"; it reads {excerpt}" if excerpt else "")
    return UnexpectedResponse(message, channel=channel, code="unexpected_response", excerpt=excerpt)


#: what reading one marketplace item can raise when the item is not as documented
MAPPING_ERRORS: tuple[type[Exception], ...] = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    UnexpectedResponse,
)


def read_each(
    rows: Iterable[Any], parse: Callable[[Any], T], *, what: str, key: str, channel: str | None = None
) -> tuple[list[T], list[UnexpectedResponse]]:
    """``parse`` every row; a row that does not read becomes an :class:`UnexpectedResponse` named by
    ``what`` and the row's ``key`` field (its id), and the other rows carry on."""
    out: list[T] = []
    problems: list[UnexpectedResponse] = []
    for row in rows:
        try:
            out.append(parse(row))
        except MAPPING_ERRORS as exc:
            ident = row.get(key) if isinstance(row, Mapping) else None
            name = f"{what} {ident}" if isinstance(ident, str | int) else f"{what} (no {key})"
            problems.append(unexpected(name, exc, value=row, channel=channel))
    return out, problems


def readable(
    rows: Iterable[Any],
    parse: Callable[[Any], T],
    *,
    what: str,
    key: str,
    channel: str | None,
    told: Callable[[UnexpectedResponse], None],
) -> Iterator[T]:
    """:func:`read_each` as a stream (listing read-back): a row that does not read is handed to ``told``
    (a log line, with the excerpt) and left out; the stream goes on."""
    for row in rows:
        got, problems = read_each([row], parse, what=what, key=key, channel=channel)
        for problem in problems:
            told(problem)
        yield from got
