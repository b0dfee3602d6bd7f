"""A toy marketplace (adapter + emulator) used to test the adapter core without a real marketplace."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx
from listing_sync.adapters.base import (
    DelistRequest,
    ItemResult,
    Limits,
    ListingDraft,
    ListingRef,
    Money,
    Order,
    OrderCursor,
    OrderLine,
    OrderPage,
    OrderStatus,
    PriceUpdate,
    RemoteListing,
    StockUpdate,
)
from listing_sync.adapters.emulator import Emulator, route
from listing_sync.adapters.http import HttpAdapter, RefreshingTokenAuth


class ToyEmulator(Emulator):
    kind = "toy"
    rate = 5.0
    burst = 5

    def initial_state(self):
        return {"items": {}, "orders": [], "token": "tok-1"}

    def authenticate(self, request):
        if request.url.path == "/oauth/token":
            return None
        if request.headers.get("Authorization") != f"Bearer {self.state['token']}":
            return self.json(401, {"error": "invalid_token"})
        return None

    @route("POST", "/oauth/token")
    def token(self, request):
        form = dict(httpx.QueryParams(request.content.decode()))
        if form.get("refresh_token") != self.credentials.get("refresh_token"):
            return self.json(400, {"error": "invalid_grant"})
        return self.json(200, {"access_token": self.state["token"], "expires_in": 3600})

    @route("PUT", "/items/{sku}")
    def put_item(self, request, sku):
        body = self.body_json(request)
        self.state["items"][sku] = {"price": body["price"], "qty": body["qty"], "currency": body["currency"]}
        return self.json(200, {"sku": sku, "id": f"T{sku}"})

    @route("POST", "/stock")
    def stock(self, request):
        body = self.body_json(request)
        if len(body["items"]) > 3:
            return self.json(400, {"error": "too many items"})
        out = []
        for item in body["items"]:
            if item["sku"] not in self.state["items"] or self.item_fails():
                out.append({"sku": item["sku"], "ok": False, "error": "unknown sku"})
            else:
                self.state["items"][item["sku"]]["qty"] = item["qty"]
                out.append({"sku": item["sku"], "ok": True})
        return self.json(207, {"results": out})

    @route("GET", "/orders")
    def orders(self, request):
        page = int(request.url.params.get("page", "1"))
        rows = self.state["orders"][(page - 1) * 2 : page * 2]
        return self.json(200, {"orders": rows, "pages": max(1, (len(self.state["orders"]) + 1) // 2)})


class ToyAdapter(HttpAdapter):
    kind = "toy"
    limits = Limits(publish=10, price=10, stock=3, delist=10, orders_page=2, rate=5, burst=5)

    def production_url(self):
        return "https://api.toy.example"

    def build_auth(self):
        return RefreshingTokenAuth(
            token_request=lambda: httpx.Request(
                "POST",
                f"{self.base_url()}/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": self.credential("refresh_token")},
            ),
            parse_token=lambda r: (r.json()["access_token"], r.json()["expires_in"]),
            apply=lambda req, tok: req.headers.__setitem__("Authorization", f"Bearer {tok}"),
            redactor=self.redactor,
        )

    def publish(self, drafts: Sequence[ListingDraft]) -> list[ItemResult]:
        out = []
        for d in drafts:
            r = self.http.put(
                f"/items/{d.sku}", json={"price": d.price.wire(), "qty": d.quantity, "currency": d.currency}
            )
            out.append(ItemResult.success(d.sku, ref=ListingRef(d.sku, r.json()["id"])))
        return out

    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ItemResult]:
        return [ItemResult.failure(u.sku, "unsupported", "toy has no price API") for u in updates]

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ItemResult]:
        r = self.http.post("/stock", json={"items": [{"sku": u.sku, "qty": u.quantity} for u in updates]})
        return [
            ItemResult.success(x["sku"]) if x["ok"] else ItemResult.failure(x["sku"], "item", x["error"])
            for x in r.json()["results"]
        ]

    def delist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        return [ItemResult.failure(r.sku, "unsupported", "no delist") for r in requests]

    def relist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        return [ItemResult.failure(r.sku, "unsupported", "no relist") for r in requests]

    def orders_since(self, cursor: OrderCursor) -> OrderPage:
        page = int(cursor.page or "1")
        data = self.http.get("/orders", params={"page": page}).json()
        orders = tuple(
            Order(
                external_id=o["id"],
                status=OrderStatus.PAID,
                raw_status="paid",
                placed_at=datetime(2026, 1, 1, tzinfo=UTC),
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                currency="USD",
                lines=(OrderLine("1", o["sku"], 1, Money.of("1", "USD")),),
                total=Money.of("1", "USD"),
            )
            for o in data["orders"]
        )
        done = page >= data["pages"]
        until = cursor.until or datetime.now(UTC)
        nxt = OrderCursor(until - timedelta(minutes=5)) if done else OrderCursor(cursor.since, until, str(page + 1))
        return OrderPage(orders, nxt, done)

    def listings(self) -> Iterator[RemoteListing]:
        return iter(())
