"""One paging loop for every marketplace list endpoint, and the guard that stops a loop making no progress.

A position says where a page starts and is opaque to the loop: a token or cursor (Amazon ``nextToken``,
Shopify ``endCursor``), an offset (eBay ``offset``), a page number (TOP ``page_no``, WooCommerce ``page``,
AliExpress ``current_page``), a next URL (eBay's ``next``) or a ``Link: <...>; rel="next"`` header. An
adapter's fetch function reads the page at a position and returns its items and the next position, worked
out with the ``next_*`` helpers below (None = that was the last page). :func:`paginate` loops;
:class:`PageGuard` referees every step:

* a next position already read in this run (the marketplace answered a token with itself, or went back
  to an earlier one) raises :class:`~adapters.base.NoProgress`, naming the channel and the position;
* so does an empty page that says more follows (token, cursor and link styles; for offsets and page
  numbers an empty page is the end, since a live result set may have shrunk under the pager);
* more than ``max_pages`` pages in one run (the channel's ``max_pages`` setting) raises
  :class:`~adapters.base.TooManyPages`.

Order pulls read one page per :meth:`~adapters.base.ChannelAdapter.orders_since` call, so the adapter
checks each step with :func:`check_step` and the syncer's pull loop keeps a :class:`PageGuard` over the
cursors of the whole pull.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
from listing_sync.adapters.base import ChannelError, NoProgress, TooManyPages, UnexpectedResponse
from listing_sync.config.channels import DEFAULT_MAX_PAGES

__all__ = [
    "DEFAULT_MAX_PAGES",
    "Page",
    "PageGuard",
    "check_step",
    "next_link",
    "next_offset",
    "next_page_number",
    "next_token",
    "next_url",
    "paginate",
    "show_position",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page read: its items and where the next page starts (None = this was the last)."""

    items: Sequence[T]
    next: Hashable | None = None


def show_position(position: Any, limit: int = 60) -> str:
    """A position as messages show it: quoted, and cut short (tokens can be kilobytes long)."""
    text = repr(position)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


class PageGuard:
    """Referees one paging run of ``what`` (an operation name, e.g. ``searchOrders``) on ``channel``."""

    def __init__(
        self, channel: str, what: str, *, max_pages: int = DEFAULT_MAX_PAGES, start: Hashable | None = None
    ) -> None:
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        self.channel = channel
        self.what = what
        self.max_pages = max_pages
        self.pages = 0
        self._seen: set[Hashable] = set() if start is None else {start}

    def step(
        self, position: Hashable | None, nxt: Hashable | None, *, items: int | None, more: bool | None = None
    ) -> None:
        """Record the page read at ``position`` (``items`` long, pointing to ``nxt``); raise when the run
        makes no progress or would read more than ``max_pages`` pages.

        ``items=None``: an empty page may point on (a pager walking a shrinking set backwards).
        ``more``: whether the run goes on (default: while there is a next position); a run that goes on
        from a position that is none (an order pull's next window) still counts against ``max_pages``."""
        self.pages += 1
        if position is not None:
            self._seen.add(position)
        if not (nxt is not None if more is None else more):
            return
        if nxt is not None:
            where = f"{self.what}: the page at {show_position(position)}"
            if nxt in self._seen:
                raise NoProgress(
                    f"{where} points to {show_position(nxt)} again, a page this run has already read: the "
                    "marketplace is not moving forward, so paging stops here (the next run starts over)",
                    channel=self.channel,
                    code="no_progress",
                    position=nxt,
                )
            if items == 0:
                raise NoProgress(
                    f"{where} is empty but says more follows (next {show_position(nxt)}): the marketplace is "
                    "not moving forward, so paging stops here (the next run starts over)",
                    channel=self.channel,
                    code="no_progress",
                    position=nxt,
                )
            self._seen.add(nxt)
        if self.pages >= self.max_pages:
            raise TooManyPages(
                f"{self.what}: stopped after {self.pages} pages, this channel's max_pages; if the account "
                "really holds that much, raise max_pages for this channel in the channels file",
                channel=self.channel,
                code="too_many_pages",
                position=nxt,
            )


def check_step(channel: str, what: str, position: Hashable | None, nxt: Hashable | None, *, items: int | None) -> None:
    """The guard for a call that reads one page and hands back the next position (an order pull)."""
    PageGuard(channel, what).step(position, nxt, items=items)


def paginate(
    fetch: Callable[[Any], Page[T]],
    *,
    channel: str,
    what: str,
    start: Hashable | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[T]:
    """Every item of every page, from ``start`` (None = the first page) until a page has no next.

    Items of a page are yielded before its next position is checked, so what was read is never lost."""
    guard = PageGuard(channel, what, max_pages=max_pages)
    position: Any = start
    while True:
        try:
            page = fetch(position)
        except ChannelError as exc:  # e.g. a next link that is no URL: say which channel
            exc.channel = exc.channel or channel
            raise
        yield from page.items
        guard.step(position, page.next, items=len(page.items))
        if page.next is None:
            return
        position = page.next


# ------------------------------------------------------------------------------ next-position styles
def next_token(value: Any) -> str | None:
    """Token and cursor styles: the token the page gave (absent, null or empty = last page)."""
    if value is None or value == "":
        return None
    return str(value)


def next_offset(offset: int, count: int, total: int | None, *, step: int | None = None) -> int | None:
    """Offset style: ``offset`` advanced by ``step`` (default: the ``count`` items read) while
    ``offset + count`` is short of ``total``; an empty page is the end."""
    if count <= 0 or (total is not None and offset + count >= total):
        return None
    return offset + max(1, count if step is None else step)


def next_page_number(
    page: int, count: int, *, last: int | None = None, total: int | None = None, size: int | None = None
) -> int | None:
    """Page-number style: ``page + 1`` while ``page`` is short of the ``last`` page (or of the pages
    ``total`` items make at ``size`` a page); an empty page is the end."""
    if count <= 0:
        return None
    if last is None and total is not None and size:
        last = -(-total // size)
    if last is not None and page >= last:
        return None
    return page + 1


def next_url(value: Any, base_path: str = "") -> str | None:
    """Next-URL style: the page's ``next`` link as a path with its query, to send through the channel's
    client (whose host and authentication stay ours, whatever host the link names). ``base_path`` is the
    path of the client's base URL, taken off the front so the client does not add it twice."""
    if not value:
        return None
    try:
        path = httpx.URL(str(value)).raw_path.decode("ascii")
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise UnexpectedResponse(
            f"the next-page link {show_position(value)} is not a URL ({exc})", code="unexpected_response"
        ) from None
    prefix = base_path.rstrip("/")
    if prefix and (path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "?")):
        path = path[len(prefix) :] or "/"
    return path


def next_link(response: httpx.Response, base_path: str = "") -> str | None:
    """Link-header style: the ``rel="next"`` target of the response's ``Link`` header, as :func:`next_url`."""
    link = response.links.get("next")
    return next_url(link.get("url"), base_path) if link else None
