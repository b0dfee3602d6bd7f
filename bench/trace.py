"""What the emulators were asked: requests counted per channel and per wire operation.

Every emulator keeps the requests it answered (``Emulator.requests``); a :class:`Counter` snapshot before
and after a step gives that step's calls, labelled by the marketplace's own operation name (TOP/IOP
``method``, the GraphQL root field, or the HTTP method and path with ids folded) so a ratio above 1.00
can say where the extra calls went.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable

import httpx

TOKEN_LABELS = ("/oauth2/token", "/auth/o2/token", "/auth/token/")
_ID = re.compile(r"/(?:\d[\w.-]*|[A-Z0-9][A-Z0-9_-]{5,}|T\d{6}-[\w-]+|[0-9a-f-]{16,})(?=/|$)")
_GQL_ROOT = re.compile(r"^\s*(?:query|mutation)\b[^{]*\{\s*(\w+)", re.S)


def label(request: httpx.Request) -> str:
    """A short name for the marketplace operation a request calls."""
    method = request.url.params.get("method")
    if method:
        return method
    path = request.url.path
    if path.endswith("graphql.json"):
        try:
            query = json.loads(request.content or b"{}").get("query") or ""
        except ValueError:
            query = ""
        found = _GQL_ROOT.search(query)
        return f"graphql {found.group(1) if found else '?'}"
    if request.method == "POST" and request.content and b"method=" in request.content:
        form = dict(httpx.QueryParams(request.content.decode("utf-8", "replace")))
        if form.get("method"):
            return form["method"]
    return f"{request.method} {_ID.sub('/{id}', path)}"


def is_token(name: str) -> bool:
    return any(part in name for part in TOKEN_LABELS)


def count(requests: Iterable[httpx.Request]) -> Counter[str]:
    return Counter(label(r) for r in requests)
