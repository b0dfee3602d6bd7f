"""An in-memory channel adapter for syncer tests: records every call, holds listings in a dict."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from listing_sync.adapters.base import (
    ChannelAdapter,
    DelistRequest,
    ItemResult,
    Limits,
    ListingDraft,
    ListingRef,
    Money,
    Operation,
    Order,
    OrderCursor,
    OrderPage,
    PriceUpdate,
    RemoteListing,
    StockUpdate,
)


class FakeAdapter(ChannelAdapter):
    kind = "fake"
    limits = Limits(publish=10, price=50, stock=50, delist=50, orders_page=2, rate=1000, burst=1000)

    def __init__(self, channel: Any, **wiring: Any) -> None:
        super().__init__(channel, **wiring)  # the shared constructor; an in-memory fake needs no wiring
        self.calls: list[tuple[Operation, list[str]]] = []
        self.items: dict[str, dict[str, Any]] = {}
        self.orders: list[Order] = []
        self.fail: dict[str, ItemResult] = {}  # sku -> result to return instead of success
        self.on_call: Callable[[Operation, list[str]], None] | None = None
        self.raise_error: Exception | None = None

    @property
    def api_calls(self) -> int:
        return len(self.calls)

    def _record(self, op: Operation, skus: list[str]) -> None:
        self.calls.append((op, skus))
        if self.on_call:
            self.on_call(op, skus)
        if self.raise_error is not None:
            raise self.raise_error

    def _result(self, sku: str, **kwargs: Any) -> ItemResult:
        return self.fail.get(sku) or ItemResult.success(sku, **kwargs)

    def publish(self, drafts: Sequence[ListingDraft]) -> list[ItemResult]:
        self._record(Operation.PUBLISH, [d.sku for d in drafts])
        out = []
        for draft in drafts:
            for variation in draft.variations or ():
                self.items[variation.sku] = {
                    "price": variation.price.amount,
                    "qty": variation.quantity,
                    "active": True,
                    "title": draft.title,
                }
            if not draft.variations:
                self.items[draft.sku] = {
                    "price": draft.price.amount,
                    "qty": draft.quantity,
                    "active": True,
                    "title": draft.title,
                }
            out.append(self._result(draft.sku, ref=ListingRef(draft.sku, f"X-{draft.sku}")))
        return out

    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ItemResult]:
        self._record(Operation.PRICE, [u.sku for u in updates])
        for u in updates:
            if u.sku not in self.fail:
                self.items.setdefault(u.sku, {})["price"] = u.price.amount
        return [self._result(u.sku) for u in updates]

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ItemResult]:
        self._record(Operation.STOCK, [u.sku for u in updates])
        for u in updates:
            if u.sku not in self.fail:
                self.items.setdefault(u.sku, {})["qty"] = u.quantity
        return [self._result(u.sku) for u in updates]

    def delist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        self._record(Operation.DELIST, [r.sku for r in requests])
        for r in requests:
            self.items.setdefault(r.sku, {})["active"] = False
        return [self._result(r.sku) for r in requests]

    def relist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        self._record(Operation.RELIST, [r.sku for r in requests])
        for r in requests:
            self.items.setdefault(r.sku, {})["active"] = True
        return [self._result(r.sku) for r in requests]

    def orders_since(self, cursor: OrderCursor) -> OrderPage:
        start = int(cursor.page or 0)
        page = [o for o in self.orders if o.updated_at >= cursor.since][start : start + self.limits.orders_page]
        rest = [o for o in self.orders if o.updated_at >= cursor.since][start + self.limits.orders_page :]
        until = cursor.until or datetime.now(UTC)
        if rest:
            return OrderPage(tuple(page), OrderCursor(cursor.since, until, str(start + len(page))), False)
        return OrderPage(tuple(page), OrderCursor(until - timedelta(minutes=5)), True)

    def listings(self) -> Iterator[RemoteListing]:
        for sku, item in self.items.items():
            yield RemoteListing(
                sku=sku,
                ref=ListingRef(sku, f"X-{sku}"),
                price=Money(item["price"], self.channel.currency) if "price" in item else None,
                quantity=item.get("qty"),
                status="active" if item.get("active", True) else "inactive",
            )
