"""What the emulators were asked: requests counted per channel and per wire operation.

Every emulator keeps the requests it answered (``Emulator.requests``); the benches' emulators keep a
:class:`Tally` there instead, which labels each request as it arrives and keeps only the counts (a
100k-SKU run's full log held every request and its body: gigabytes). Counts before and after a step give
that step's calls, labelled by the marketplace's own operation name (TOP/IOP ``method``, the GraphQL root
field, or the HTTP method and path with ids folded) so a ratio above 1.00 can say where the extra calls
went.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable

import httpx

TOKEN_LABELS = ("/oauth2/token", "/auth/o2/token", "/auth/token/")
_ID = re.compile(r"/(?:\d[\w.-]*|[A-Z0-9][A-Z0-9_-]{5,}|T\d{6}-[\w-]+|[0-9a-f-]{16,}|amzn1\.[\w.-]+)(?=/|$)")
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


class Tally:
    """An emulator's request log that keeps only the count of each label (``append`` and ``len`` as a list)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._n = 0
        self.times: list[float] = []  # time.monotonic() of each request since the last :meth:`clock_on`
        self._timing = False

    def append(self, request: httpx.Request) -> None:
        self.counts[label(request)] += 1
        self._n += 1
        if self._timing:
            self.times.append(time.monotonic())

    def clock_on(self) -> None:
        """Note the time of every request from now on (``bench wall``'s first and last request of a push)."""
        self.times, self._timing = [], True

    def __len__(self) -> int:
        return self._n

    def mark(self) -> Counter[str]:
        """The counts so far, to subtract from later ones (:meth:`since`)."""
        return Counter(self.counts)

    def since(self, mark: Counter[str]) -> Counter[str]:
        """Calls by label since ``mark``."""
        return self.counts - mark
