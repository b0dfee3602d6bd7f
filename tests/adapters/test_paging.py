"""The one paging loop: each position style, the no-progress guard and the page cap."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import httpx
import pytest
from listing_sync.adapters.base import ChannelError, NoProgress, TooManyPages, TransientError
from listing_sync.adapters.paging import (
    Page,
    PageGuard,
    check_step,
    next_link,
    next_offset,
    next_page_number,
    next_token,
    next_url,
    paginate,
)


def pages_of(book: dict[Any, Page[int]]) -> tuple[Callable[[Any], Page[int]], list[Any]]:
    """A fetch function over a dict of pages by position, and the positions it was asked for."""
    asked: list[Any] = []

    def fetch(position: Any) -> Page[int]:
        asked.append(position)
        return book[position]

    return fetch, asked


def run(book: dict[Any, Page[int]], start: Hashable | None = None, max_pages: int = 100) -> tuple[list[int], list]:
    fetch, asked = pages_of(book)
    return list(paginate(fetch, channel="shop", what="list", start=start, max_pages=max_pages)), asked


# ------------------------------------------------------------------------------------------ styles
def test_token_style_reads_until_no_token():
    book = {None: Page([1, 2], "t1"), "t1": Page([3], "t2"), "t2": Page([4], next_token(""))}
    assert run(book) == ([1, 2, 3, 4], [None, "t1", "t2"])


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("abc", "abc"), (7, "7")])
def test_next_token(value, expected):
    assert next_token(value) == expected


def test_offset_style_steps_by_count_or_step_and_ends_at_total_or_empty():
    assert next_offset(0, 100, 250) == 100
    assert next_offset(200, 50, 250) is None
    assert next_offset(0, 100, 250, step=90) == 90  # re-read 10 rows of a live set
    assert next_offset(0, 5, 250, step=-3) == 1  # never stands still
    assert next_offset(100, 0, 250) is None  # an empty page is past the end of a shrunk set
    assert next_offset(0, 10, None) == 10

    def fetch(offset: int) -> Page[int]:
        rows = list(range(offset, min(offset + 3, 7)))
        return Page(rows, next_offset(offset, len(rows), 7))

    assert list(paginate(fetch, channel="c", what="w", start=0)) == list(range(7))


def test_page_number_style_by_last_page_or_by_total():
    assert next_page_number(1, 10, last=3) == 2
    assert next_page_number(3, 10, last=3) is None
    assert next_page_number(2, 100, total=250, size=100) == 3
    assert next_page_number(3, 50, total=250, size=100) is None
    assert next_page_number(1, 0, last=5) is None
    assert next_page_number(1, 10) == 2  # no total known: on until an empty page


def test_next_url_keeps_path_and_query_and_drops_the_base_path():
    link = "https://api.ebay.com/sell/inventory/v1/inventory_item?limit=100&offset=100"
    assert next_url(link) == "/sell/inventory/v1/inventory_item?limit=100&offset=100"
    assert next_url(link, "/sell/inventory/v1") == "/inventory_item?limit=100&offset=100"
    assert next_url("https://evil.example/x?a=%2F", "/sell") == "/x?a=%2F"  # host is never ours to take
    assert next_url(None) is None and next_url("") is None


def test_link_header_style():
    request = httpx.Request("GET", "https://shop.example/wp-json/wc/v3/products?page=1")
    response = httpx.Response(
        200,
        headers={
            "Link": '<https://shop.example/wp-json/wc/v3/products?page=2>; rel="next", '
            '<https://shop.example/wp-json/wc/v3/products?page=1>; rel="prev"'
        },
        request=request,
    )
    assert next_link(response, "/wp-json/wc/v3") == "/products?page=2"
    assert next_link(httpx.Response(200, request=request)) is None


# ------------------------------------------------------------------------------------------- guard
def test_a_token_answered_with_itself_stops_after_one_repeat():
    book = {None: Page([1], "t1"), "t1": Page([2], "t1")}
    fetch, asked = pages_of(book)
    got: list[int] = []
    with pytest.raises(NoProgress) as caught:
        got.extend(paginate(fetch, channel="amazon-us", what="searchOrders paginationToken"))
    assert asked == [None, "t1"] and got == [1, 2]  # what was read is kept
    error = caught.value
    assert error.channel == "amazon-us" and error.code == "no_progress" and error.position == "t1"
    assert str(error).startswith("[amazon-us] searchOrders paginationToken: the page at 't1' points to 't1' again")
    assert isinstance(error, TransientError) and isinstance(error, ChannelError)


def test_a_cycle_back_to_an_earlier_page_stops():
    book = {None: Page([1], "a"), "a": Page([2], "b"), "b": Page([3], "a")}
    with pytest.raises(NoProgress, match="'b' points to 'a' again"):
        run(book)


def test_the_first_position_counts_as_read():
    book = {0: Page([1], 1), 1: Page([2], 0)}
    with pytest.raises(NoProgress):
        run(book, start=0)


def test_an_empty_page_that_says_more_stops():
    book = {None: Page([1], "t1"), "t1": Page([], "t2")}
    with pytest.raises(NoProgress, match="is empty but says more follows"):
        run(book)


def test_an_empty_last_page_is_fine():
    assert run({None: Page([], None)}) == ([], [None])


def test_max_pages_stops_with_a_typed_error_naming_the_setting():
    book = {n: Page([n], n + 1) for n in range(10)}
    with pytest.raises(TooManyPages, match="stopped after 3 pages, this channel's max_pages") as caught:
        run(book, start=0, max_pages=3)
    assert caught.value.position == 3 and caught.value.code == "too_many_pages"
    assert run({0: Page([0], 1), 1: Page([1], None)}, start=0, max_pages=2)[0] == [0, 1]  # exactly at the cap


def test_long_tokens_are_cut_short_in_messages():
    token = "x" * 5000
    with pytest.raises(NoProgress) as caught:
        check_step("c", "w", token, token, items=1)
    assert len(caught.value.message) < 400


def test_check_step_is_the_guard_of_one_page():
    check_step("c", "w", None, "t1", items=5)
    check_step("c", "w", "t1", None, items=0)
    check_step("c", "w", 3, 2, items=None)  # a backwards pager's empty page may point on
    with pytest.raises(NoProgress):
        check_step("c", "w", "t1", "t1", items=5)


def test_a_run_that_goes_on_without_a_position_still_counts_pages():
    guard = PageGuard("c", "order pull", max_pages=2)
    guard.step(None, None, items=None, more=True)
    with pytest.raises(TooManyPages):
        guard.step(None, None, items=None, more=True)


def test_max_pages_must_be_positive():
    with pytest.raises(ValueError):
        PageGuard("c", "w", max_pages=0)
