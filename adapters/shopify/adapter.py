"""Shopify Admin GraphQL API adapter (the team's own web shop).

Every call is ``POST /admin/api/{api_version}/graphql.json`` with ``X-Shopify-Access-Token``. The
version is an option (never a built-in list); documents adapt to the differences that matter here:
before 2026-01 stock compare-and-set uses ``compareQuantity``/``ignoreCompareQuantity``; from 2026-01
``changeFromQuantity`` and the ``@idempotent`` directive (both mandatory from 2026-04).

Throttling is cost based: the default limiter is a bucket of cost POINTS (not requests) that adopts
``extensions.cost.throttleStatus`` from every response, and each request acquires its estimated cost
before it is sent. ``THROTTLED`` (HTTP 200 or 429) becomes :class:`RateLimited` with the wait the
deficit needs at the restore rate.

Unsupported or surprising: delist/relist act on the whole product (all its variants); publish of an
existing product updates content, prices and adds new variants, but never deletes variants and never
touches the stock of existing variants (stock goes through :meth:`push_stock`, with compare-and-set);
only the last 60 days of orders are visible without the ``read_all_orders`` scope.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from listing_sync.adapters import webhooks
from listing_sync.adapters.base import (
    AuthError,
    BatchItem,
    ChannelError,
    ConfigurationError,
    ContentRules,
    DelistRequest,
    ItemResult,
    ItemT,
    Limits,
    ListingDraft,
    ListingRef,
    Money,
    Operation,
    Order,
    OrderCursor,
    OrderPage,
    PermanentItemError,
    PriceUpdate,
    RateLimited,
    RemoteListing,
    RequestRejected,
    Shipment,
    StockUpdate,
    TransientError,
    WebhookEvent,
    WebhookSubscription,
    publish_groups,
)
from listing_sync.adapters.excerpt import MAPPING_ERRORS, read_each, readable, unexpected
from listing_sync.adapters.http import HttpAdapter, parse_retry_after
from listing_sync.adapters.money import parse_decimal
from listing_sync.adapters.paging import Page, next_token
from listing_sync.adapters.shopify import mapping as m
from listing_sync.config.channels import ChannelConfig
from pydantic import BaseModel, ConfigDict, Field, field_validator

log = logging.getLogger("adapters.shopify")
ORDER_VISIBILITY = timedelta(days=60)


class ShopifyOptions(BaseModel):
    """``[channels.options]`` for ``kind = "shopify"``."""

    model_config = ConfigDict(extra="forbid")

    shop: str  # "my-store" or "my-store.myshopify.com"
    api_version: str  # "YYYY-MM" (a stable quarterly version) or "unstable"
    location_id: str | None = None  # gid://shopify/Location/...; looked up when the shop has one location
    delist_status: Literal["DRAFT", "ARCHIVED"] = "DRAFT"
    order_line_page: int = Field(5, ge=1, le=50)  # line items fetched inline per order
    inventory_reason: str = "correction"
    read_all_orders: bool = False  # the app was granted read_all_orders (older than 60 days)

    @field_validator("shop")
    @classmethod
    def _shop(cls, value: str) -> str:
        name = value.strip().lower().removeprefix("https://").removesuffix("/").removesuffix(".myshopify.com")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise ValueError("must be the shop's myshopify name, e.g. 'my-store' or 'my-store.myshopify.com'")
        return name

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value != "unstable" and not re.fullmatch(r"20\d\d-(01|04|07|10)", value):
            raise ValueError("must be a Shopify API version such as '2026-01' (YYYY-01/04/07/10) or 'unstable'")
        if not m.at_least(value, "2024-10"):
            raise ValueError("versions before 2024-10 lack productCreate(product:); use 2024-10 or newer")
        return value


class ShopifyAdapter(HttpAdapter):
    """Shopify via the Admin GraphQL API. See the module docstring for what is unsupported."""

    kind = "shopify"
    # rate/burst are cost points (Standard plan restore rate 100/s); the bucket adopts the shop's
    # real throttleStatus from the first response. publish is one product per call.
    limits = Limits(
        publish=12,  # drafts per call, at most 50 SKUs in all: one productVariants search adopts them
        price=250,
        stock=250,
        delist=25,
        orders_page=250,
        rate=100.0,
        burst=1000,
        order_overlap=timedelta(minutes=5),
        order_lag=timedelta(minutes=1),
    )
    # productType/collection is optional on Shopify's wire, but we want every product classified; a
    # product has at most 250 media (productCreate media, Shopify product limits); title <= 255.
    content_rules = ContentRules(max_images=250, max_title=255, category_required=True, category_hint="product type")
    options_model = ShopifyOptions
    options: ShopifyOptions

    def __init__(self, channel: Any, **kwargs: Any) -> None:
        super().__init__(channel, **kwargs)
        self.opts = self.options
        self.endpoint = f"/admin/api/{self.opts.api_version}/graphql.json"
        self._location_estimated = False
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.new_key: Callable[[], str] = lambda: str(uuid.uuid4())
        self._location_id: str | None = m.gid("Location", self.opts.location_id) if self.opts.location_id else None
        self._seen_cost: dict[str, float] = {}
        self.warn_if_unsupported(datetime.now(UTC))

    def warn_if_unsupported(self, now: datetime) -> bool:
        """Stable versions are supported about 12 months (P3): warn when the pinned one is older."""
        version = self.opts.api_version
        if version == "unstable":
            return False
        released = datetime(int(version[:4]), int(version[5:]), 1, tzinfo=UTC)
        if now - released <= timedelta(days=365):
            return False
        log.warning(
            "[%s] Shopify API version %s is past its ~12-month support window; Shopify answers retired versions "
            "with the oldest supported one. Move options.api_version to a current stable version.",
            self.name,
            version,
        )
        return True

    # -- hooks ----------------------------------------------------------------------------------------
    def production_url(self) -> str:
        return f"https://{self.options.shop}.myshopify.com"

    def default_headers(self) -> Mapping[str, str]:
        return {
            "User-Agent": "listing-sync/0.1",
            "X-Shopify-Access-Token": self.credential("access_token"),
        }

    def classify(self, response: httpx.Response) -> ChannelError | None:
        try:
            body = response.json()
        except ValueError:
            body = None
        cost = ((body or {}).get("extensions") or {}).get("cost") or {} if isinstance(body, dict) else {}
        status = cost.get("throttleStatus") or {}
        if status.get("restoreRate"):
            self.http.limiter().observe(
                float(status["currentlyAvailable"]), float(status["restoreRate"]), float(status["maximumAvailable"])
            )
        errors = body.get("errors") if isinstance(body, dict) else None
        codes = [((e or {}).get("extensions") or {}).get("code") for e in errors] if isinstance(errors, list) else []
        if response.status_code == 429 or "THROTTLED" in codes:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is None and status.get("restoreRate"):
                requested = float(cost.get("requestedQueryCost") or 0)
                wait = max(0.0, requested - float(status["currentlyAvailable"])) / float(status["restoreRate"])
            return RateLimited(
                f"Shopify throttled the request (HTTP {response.status_code})",
                status=response.status_code,
                code="THROTTLED",
                retry_after=wait if wait is not None else 1.0,
            )
        if response.status_code == 404:
            return ConfigurationError(
                f"HTTP 404 from {response.request.url.host}{self.endpoint}: check options.shop and options.api_version",
                status=404,
            )
        if response.status_code != 200 or not codes and not errors:
            return None
        if isinstance(body, dict) and body.get("data"):
            return None  # partial data: the operation maps the failed fields per item
        message = "; ".join(str((e or {}).get("message")) for e in errors)[:500] if isinstance(errors, list) else ""
        code = next((c for c in codes if c), None)
        if code == "ACCESS_DENIED":
            return AuthError(f"access denied: {message}. Grant the app the needed scopes.", status=200, code=code)
        if code in ("INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"):
            return TransientError(f"Shopify internal error: {message}", status=200, code=code)
        return RequestRejected(f"GraphQL request rejected: {message}", status=200, code=code or "GRAPHQL_ERROR")

    # -- transport ------------------------------------------------------------------------------------
    def _gql(
        self, document: str, variables: Mapping[str, Any] | None, cost: int, *, idempotent: bool = True
    ) -> dict[str, Any]:
        """One GraphQL call; waits for ``cost`` points (the server's last requested cost if known).
        ``idempotent=False``: a mutation without an idempotency key, never re-sent after a lost answer."""
        estimate = self._seen_cost.get(document, cost)
        response = self.http.post(
            self.endpoint,
            json={"query": document, "variables": dict(variables or {})},
            cost=estimate,
            idempotent=idempotent,
        )
        body = response.json()
        requested = ((body.get("extensions") or {}).get("cost") or {}).get("requestedQueryCost")
        if requested:
            self._seen_cost[document] = float(requested)
        return body

    @staticmethod
    def _messages(body: Mapping[str, Any], errors: Sequence[Mapping[str, Any]] | None = None) -> str:
        rows = list(errors or []) or list(body.get("errors") or [])
        return "; ".join(str(e.get("message")) for e in rows) or "no result returned"

    def _location(self) -> str:
        if self._location_id is None:
            nodes = self._gql(m.LOCATIONS_DOCUMENT, None, m.LOCATIONS_COST)["data"]["locations"]["nodes"]
            if len(nodes) != 1:
                raise ConfigurationError(
                    "the shop has several locations: set options.location_id to one of "
                    + ", ".join(n["id"] for n in nodes),
                    channel=self.name,
                )
            self._location_id = nodes[0]["id"]
        return self._location_id

    # -- ids ------------------------------------------------------------------------------------------
    def _ids_from_ref(self, sku: str, ref: ListingRef | None) -> dict[str, str] | None:
        if ref is None:
            return None
        variant = ref.get(f"variant_id/{sku}") or (ref.get("variant_id") if ref.sku == sku else None)
        item = ref.get(f"inventory_item_id/{sku}") or (ref.get("inventory_item_id") if ref.sku == sku else None)
        product = ref.get("product_id") or ref.external_id
        if not (variant and item and product):
            return None
        return {
            "product_id": product,
            "variant_id": variant,
            "inventory_item_id": item,
            "location_id": ref.get("location_id") or "",
        }

    def _lookup(self, skus: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Variants by SKU (Shopify does not force SKUs to be unique, so a list per SKU)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(skus), m.SKU_LOOKUP_CHUNK):
            chunk = skus[start : start + m.SKU_LOOKUP_CHUNK]

            def fetch(after: str | None, chunk: Sequence[str] = chunk) -> Page[dict[str, Any]]:
                data = self._gql(m.LOOKUP_DOCUMENT, {"query": m.sku_query(chunk), "after": after}, m.LOOKUP_COST)
                return _connection(data, "productVariants", channel=self.name)

            for node in self.pages(fetch, "productVariants cursor"):
                if node.get("sku") in chunk:
                    found.setdefault(node["sku"], []).append(node)
        return found

    def _resolve(self, items: Sequence[Any]) -> dict[str, dict[str, str] | str]:
        """sku -> ids (product, variant, inventory item, location), or an error message."""
        out: dict[str, dict[str, str] | str] = {}
        missing = []
        for item in items:
            ids = self._ids_from_ref(item.sku, item.ref)
            if ids is None:
                missing.append(item.sku)
            else:
                out[item.sku] = ids
        if missing:
            found = self._lookup(list(dict.fromkeys(missing)))
            for sku in missing:
                nodes = found.get(sku, [])
                if len(nodes) == 1:
                    node = nodes[0]
                    out[sku] = {
                        "product_id": node["product"]["id"],
                        "variant_id": node["id"],
                        "inventory_item_id": node["inventoryItem"]["id"],
                        "location_id": "",
                    }
                elif nodes:
                    out[sku] = f"SKU {sku} matches {len(nodes)} Shopify variants; make SKUs unique in the shop"
                else:
                    out[sku] = f"SKU {sku} is not mapped to a Shopify variant (publish it or add the SKU in Shopify)"
        return out

    def _ref(self, sku: str, ids: Mapping[str, str]) -> ListingRef:
        return ListingRef(sku, ids["product_id"], {k: v for k, v in ids.items() if v})

    # -- chunking -------------------------------------------------------------------------------------
    def chunks(self, op: Operation, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        """Prices go one product per call: group by the ref's product id (unknown ones together). Publish
        batches hold at most one SKU search's worth of SKUs (the adoption check of their new drafts).
        Delist/relist change a whole product's status: a call holds every SKU of up to 25 products."""
        if op is Operation.PUBLISH:
            yield from self._publish_chunks(items)
            return
        if op in (Operation.DELIST, Operation.RELIST):
            yield from self._status_chunks(items)
            return
        if op is not Operation.PRICE:
            yield from super().chunks(op, items)
            return
        groups: dict[str | None, list[ItemT]] = {}
        for item in items:
            ref = getattr(item, "ref", None)
            key = (ref.get("product_id") or ref.external_id) if ref is not None else None
            groups.setdefault(key, []).append(item)
        size = self.limits.batch(op)
        for group in groups.values():
            for start in range(0, len(group), size):
                yield group[start : start + size]

    def _status_chunks(self, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        """Whole products, at most ``limits.delist`` of them per chunk (one aliased ``productUpdate`` each);
        a SKU without a product id counts as a product of its own (it may be one once looked up)."""
        groups: dict[object, list[ItemT]] = {}
        for n, item in enumerate(items):
            ref = getattr(item, "ref", None)
            key = (ref.get("product_id") or ref.external_id) if ref is not None else None
            groups.setdefault(key if key else ("unbound", n), []).append(item)
        chunk: list[ItemT] = []
        products = 0
        for group in groups.values():
            if products == self.limits.delist:
                yield chunk
                chunk, products = [], 0
            chunk.extend(group)
            products += 1
        if chunk:
            yield chunk

    # -- stock ----------------------------------------------------------------------------------------
    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        resolved = self._resolve(updates)
        rows: list[tuple[int, StockUpdate, dict[str, str]]] = []
        for n, update in enumerate(updates):
            ids = resolved[update.sku]
            if isinstance(ids, str):
                results[n] = ItemResult.failure(update.sku, "unmapped", ids)
            else:
                rows.append((n, update, {**ids, "location_id": ids["location_id"] or self._location()}))
        if m.uses_change_from(self.opts.api_version):
            groups = [(rows, False)]
        else:  # before 2026-01 the compare check is switched off for a whole input, so split
            groups = [([r for r in rows if r[1].expected is not None], False)]
            groups.append(([r for r in rows if r[1].expected is None], True))
        for group, ignore in groups:
            for start in range(0, len(group), m.MAX_INPUT):
                results.update(self._set_stock(group[start : start + m.MAX_INPUT], ignore))
        return [results[n] for n in range(len(updates))]

    def _stock_call(self, rows: Sequence[tuple[int, StockUpdate, dict[str, str], int | None]], ignore: bool) -> dict:
        key = self.new_key()
        version = self.opts.api_version
        data = m.stock_input(
            version,
            [(ids["inventory_item_id"], ids["location_id"], u.quantity, expected) for _, u, ids, expected in rows],
            reason=self.opts.inventory_reason,
            reference=f"gid://listing-sync/SyncBatch/{key}",
            ignore_compare=ignore,
        )
        variables: dict[str, Any] = {"input": data}
        if m.uses_change_from(version):
            variables["idempotencyKey"] = key
        body = self._gql(m.stock_document(version), variables, m.STOCK_COST)
        payload = (body.get("data") or {}).get("inventorySetQuantities")
        if payload is None:
            raise RequestRejected(f"inventorySetQuantities failed: {self._messages(body)}", channel=self.name)
        return payload

    def _set_stock(
        self, group: Sequence[tuple[int, StockUpdate, dict[str, str]]], ignore: bool
    ) -> dict[int, ItemResult]:
        if not group:
            return {}
        rows = [(n, u, ids, u.expected) for n, u, ids in group]
        payload = self._stock_call(rows, ignore)
        out: dict[int, ItemResult] = {}
        errors = payload.get("userErrors") or []
        if not errors:
            return {n: ItemResult.success(u.sku, ref=self._ref(u.sku, ids)) for n, u, ids, _ in rows}
        by_row: dict[int, dict[str, Any]] = {}
        general: list[dict[str, Any]] = []
        for error in errors:
            pos = m.error_index(error.get("field"), "quantities")
            (general.append(error) if pos is None or pos >= len(rows) else by_row.setdefault(pos, error))
        if general:  # an error we cannot pin to one item: the batch was refused as a whole
            text = self._messages({}, general)
            code = general[0].get("code") or "rejected"
            again = code in m.RETRY_CODES
            return {n: ItemResult.failure(u.sku, code, text, retryable=again) for n, u, _, _ in rows}
        applied = payload.get("inventoryAdjustmentGroup") is not None
        stale = [pos for pos, e in by_row.items() if e.get("code") in m.STALE_CODES]
        for pos, error in by_row.items():
            if pos not in stale:
                n, u, _, _ = rows[pos]
                out[n] = ItemResult.failure(u.sku, error.get("code") or "rejected", str(error.get("message")))
        clean = [pos for pos in range(len(rows)) if pos not in by_row]
        if applied:
            for pos in clean:
                n, u, ids, _ = rows[pos]
                out[n] = ItemResult.success(u.sku, ref=self._ref(u.sku, ids))
            clean = []
        # one bounded re-send: stale items with the quantity Shopify holds now, plus any item that was
        # not applied only because another item of the batch failed
        fresh = self._read_levels([rows[pos] for pos in stale])
        retry = []
        for pos in stale:
            n, u, ids, _ = rows[pos]
            if fresh.get(n) is None:
                out[n] = ItemResult.failure(u.sku, "not_stocked", f"inventory item not stocked at {ids['location_id']}")
            else:
                retry.append((n, u, ids, fresh[n]))
        retry.extend(rows[pos] for pos in clean)
        if retry:
            out.update(self._retry_stock(retry, ignore))
        return out

    def _read_levels(
        self, rows: Sequence[tuple[int, StockUpdate, dict[str, str], int | None]]
    ) -> dict[int, int | None]:
        if not rows:
            return {}
        variables: dict[str, str] = {}
        for k, (_, _, ids, _) in enumerate(rows):
            variables[f"i{k}"] = ids["inventory_item_id"]
            variables[f"l{k}"] = ids["location_id"]
        body = self._gql(m.levels_document(len(rows)), variables, m.levels_cost(len(rows)))
        data = body.get("data") or {}
        return {n: m.level_available(data.get(f"q{k}")) for k, (n, _, _, _) in enumerate(rows)}

    def _retry_stock(self, rows: Sequence[tuple[int, StockUpdate, dict[str, str], int | None]], ignore: bool):
        payload = self._stock_call(rows, ignore)
        errors = payload.get("userErrors") or []
        applied = payload.get("inventoryAdjustmentGroup") is not None
        failed = {m.error_index(e.get("field"), "quantities"): e for e in errors}
        out: dict[int, ItemResult] = {}
        for pos, (n, u, ids, _) in enumerate(rows):
            error = failed.get(pos) or (failed.get(None) if None in failed else None)
            if error is not None:
                again = error.get("code") in m.STALE_CODES | m.RETRY_CODES
                out[n] = ItemResult.failure(
                    u.sku, error.get("code") or "rejected", str(error.get("message")), retryable=again
                )
            elif errors and not applied:
                out[n] = ItemResult.failure(
                    u.sku, "batch_rejected", "not applied: another item of the batch was refused", retryable=True
                )
            else:
                out[n] = ItemResult.success(u.sku, ref=self._ref(u.sku, ids))
        return out

    def estimate_calls(self, op: Operation, items: Sequence[BatchItem]) -> int:
        """Publish: per call one SKU search when a draft has no product id, the location once per adapter,
        and per product a productCreate/productUpdate plus one bulk variant call per 250 variants (updates
        and creations of one product each count one). Others: one call per chunk (prices: per product)."""
        if op is not Operation.PUBLISH:
            return self.count_calls(op, items)
        groups = publish_groups(items)
        calls = 0 if self._location_id is not None or self._location_estimated else 1
        self._location_estimated = True  # the location is read once per adapter: count it once too
        size = 0
        searched = False
        for group in groups:
            if size and size + len(group.skus) > m.SKU_LOOKUP_CHUNK:
                size, searched = 0, False
            size += len(group.skus)
            if group.ref is None and not searched:
                calls, searched = calls + 1, True
            calls += 1 + -(-len(group.skus) // m.MAX_INPUT)
        return calls

    def _publish_chunks(self, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        chunk: list[ItemT] = []
        size = 0
        for item in items:
            n = len(item.all_skus()) if isinstance(item, ListingDraft) else 1
            if chunk and (size + n > m.SKU_LOOKUP_CHUNK or len(chunk) >= self.limits.publish):
                yield chunk
                chunk, size = [], 0
            chunk.append(item)
            size += n
        if chunk:
            yield chunk

    # -- prices ---------------------------------------------------------------------------------------
    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        resolved = self._resolve(updates)
        by_product: dict[str, list[tuple[int, PriceUpdate, dict[str, str]]]] = {}
        for n, update in enumerate(updates):
            ids = resolved[update.sku]
            wrong = [x.currency for x in (update.price, update.list_price) if x and x.currency != self.channel.currency]
            if isinstance(ids, str):
                results[n] = ItemResult.failure(update.sku, "unmapped", ids)
            elif wrong:
                results[n] = ItemResult.failure(
                    update.sku, "currency", f"price in {wrong[0]} but the shop sells in {self.channel.currency}"
                )
            else:
                by_product.setdefault(ids["product_id"], []).append((n, update, ids))
        for product_id, rows in by_product.items():
            for start in range(0, len(rows), m.MAX_INPUT):
                results.update(self._price_call(product_id, rows[start : start + m.MAX_INPUT]))
        return [results[n] for n in range(len(updates))]

    def _price_call(self, product_id: str, rows: Sequence[tuple[int, PriceUpdate, dict[str, str]]]):
        variants = [m.price_variant(ids["variant_id"], u.price, u.list_price, u.clear_sale) for _, u, ids in rows]
        body = self._gql(m.PRICE_DOCUMENT, {"productId": product_id, "variants": variants}, m.PRICE_COST)
        payload = (body.get("data") or {}).get("productVariantsBulkUpdate")
        if payload is None:
            text = self._messages(body)
            return {n: ItemResult.failure(u.sku, "rejected", text) for n, u, _ in rows}
        errors = payload.get("userErrors") or []
        by_row = {m.error_index(e.get("field"), "variants"): e for e in errors}
        updated = {v["id"] for v in payload.get("productVariants") or [] if v}
        out = {}
        for pos, (n, u, ids) in enumerate(rows):
            error = by_row.get(pos)
            if error is None and ids["variant_id"] not in updated:
                error = by_row.get(None) or {"code": "not_updated", "message": "Shopify did not return the variant"}
            if error is not None:
                out[n] = ItemResult.failure(u.sku, error.get("code") or "rejected", str(error.get("message")))
            else:
                out[n] = ItemResult.success(u.sku, ref=self._ref(u.sku, ids))
        return out

    # -- publish --------------------------------------------------------------------------------------
    def publish(self, drafts: Sequence[ListingDraft]) -> list[ItemResult]:
        """Drafts without a product id are first searched for by SKU, all of the batch's in one query
        (Shopify does not keep SKUs unique: a product that already sells them is adopted, not duplicated)."""
        new = [sku for d in drafts if self._product_id(d) is None for sku in d.all_skus()]
        try:
            found = self._lookup(list(dict.fromkeys(new))) if new else {}
        except (AuthError, ConfigurationError):
            raise
        except ChannelError as exc:
            return [ItemResult.from_error(d.sku, exc) for d in drafts]
        out = []
        for draft in drafts:
            try:
                out.append(self._publish_one(draft, found))
            except (AuthError, ConfigurationError):
                raise
            except ChannelError as exc:
                out.append(ItemResult.from_error(draft.sku, exc))
        return out

    def _specs(self, draft: ListingDraft) -> list[tuple[str, Money, dict[str, str], str | None, int]] | str:
        if not draft.variations:
            name, value = m.DEFAULT_OPTION
            return [(draft.sku, draft.price, {name: value}, draft.barcode, draft.quantity)]
        names = m.option_names(draft.variations)
        if len(names) > 3:
            return f"Shopify allows at most 3 options per product; got {', '.join(names)}"
        specs = []
        for v in draft.variations:
            lacking = [x for x in names if x not in v.attributes]
            if lacking:
                return f"variation {v.sku} has no value for option {lacking[0]}"
            specs.append((v.sku, v.price, {x: v.attributes[x] for x in names}, v.barcode, v.quantity))
        return specs

    def _publish_one(self, draft: ListingDraft, found: Mapping[str, list[dict[str, Any]]]) -> ItemResult:
        specs = self._checked_specs(draft)
        if isinstance(specs, ItemResult):
            return specs
        location = self._location()
        adopted = self._adopt(draft, found)
        if isinstance(adopted, ItemResult):
            return adopted
        draft, product_id = adopted
        body, payload = self._save_product(draft, product_id)
        if payload is None or payload.get("userErrors") or not payload.get("product"):
            text = self._messages(body, (payload or {}).get("userErrors"))
            return ItemResult.failure(draft.sku, "rejected", text, ref=draft.ref)
        product_id = payload["product"]["id"]
        existing = {
            v["sku"]: (v["id"], v["inventoryItem"]["id"])
            for v in payload["product"]["variants"]["nodes"]
            if v.get("sku") and draft.ref is not None
        }
        variant_ids = dict(existing)
        problems = self._update_variants(product_id, [s for s in specs if s[0] in existing], existing)
        to_create = [s for s in specs if s[0] not in existing]
        problems += self._create_variants(product_id, to_create, location, draft.ref is None, variant_ids)
        missing = [s[0] for s in specs if s[0] not in variant_ids]
        if missing and not problems:
            problems.append(f"Shopify returned no variant for {', '.join(missing[:5])}")
        return self._published(draft, product_id, location, variant_ids, problems)

    def _checked_specs(
        self, draft: ListingDraft
    ) -> list[tuple[str, Money, dict[str, str], str | None, int]] | ItemResult:
        """The draft's variant specs, or the failure: options Shopify cannot take, or prices not in the
        channel's currency."""
        specs = self._specs(draft)
        if isinstance(specs, str):
            return ItemResult.failure(draft.sku, "invalid", specs)
        currencies = {s[1].currency for s in specs} | {draft.currency}
        if currencies != {self.channel.currency}:
            return ItemResult.failure(draft.sku, "currency", f"prices must be in {self.channel.currency}")
        return specs

    @staticmethod
    def _product_id(draft: ListingDraft) -> str | None:
        return (draft.ref.get("product_id") or draft.ref.external_id) if draft.ref else None

    def _adopt(
        self, draft: ListingDraft, found: Mapping[str, list[dict[str, Any]]]
    ) -> tuple[ListingDraft, str | None] | ItemResult:
        """The draft and its product id: from its ref, else a product that already sells its SKUs (adopted
        instead of duplicated, P6; ``found`` holds the batch's search), else None (a new product). SKUs on
        several products are refused."""
        product_id = self._product_id(draft)
        if product_id is not None:
            return draft, product_id
        products = {node["product"]["id"] for sku in draft.all_skus() for node in found.get(sku, [])}
        if len(products) > 1:
            return ItemResult.failure(
                draft.sku, "ambiguous", f"the SKUs of {draft.sku} already sit on {len(products)} Shopify products"
            )
        if products:
            product_id = products.pop()
            draft = replace(draft, ref=ListingRef(draft.sku, product_id, {"product_id": product_id}))
        return draft, product_id

    def _save_product(self, draft: ListingDraft, product_id: str | None) -> tuple[dict[str, Any], Any]:
        """Create the product (with its options and media) or update its content: (body, mutation payload)."""
        if product_id is None:
            product = dict(m.product_fields(draft, "ACTIVE"), productOptions=m.product_options(draft))
            body = self._gql(m.CREATE_DOCUMENT, {"product": product, "media": m.media(draft)}, m.PRODUCT_COST)
            return body, (body.get("data") or {}).get("productCreate")
        product = {"id": product_id, **m.product_fields(draft, None)}
        body = self._gql(m.UPDATE_DOCUMENT, {"product": product}, m.PRODUCT_COST)
        return body, (body.get("data") or {}).get("productUpdate")

    def _update_variants(
        self,
        product_id: str,
        specs: Sequence[tuple[str, Money, dict[str, str], str | None, int]],
        existing: Mapping[str, tuple[str, str]],
    ) -> list[str]:
        """Prices and barcodes of the product's existing variants; returns the problems."""
        problems: list[str] = []
        for start in range(0, len(specs), m.MAX_INPUT):
            variants = [m.variant_update(existing[s[0]][0], s[1], s[3]) for s in specs[start : start + m.MAX_INPUT]]
            body = self._gql(
                m.VARIANTS_UPDATE_DOCUMENT, {"productId": product_id, "variants": variants}, m.VARIANTS_CREATE_COST
            )
            result = (body.get("data") or {}).get("productVariantsBulkUpdate")
            problems += [self._messages(body)] if result is None else [e["message"] for e in result["userErrors"]]
        return problems

    def _create_variants(
        self,
        product_id: str,
        specs: Sequence[tuple[str, Money, dict[str, str], str | None, int]],
        location: str,
        new_product: bool,
        variant_ids: dict[str, tuple[str, str]],
    ) -> list[str]:
        """The variants the product lacks (their ids are added to ``variant_ids``); returns the problems."""
        problems: list[str] = []
        for start in range(0, len(specs), m.MAX_INPUT):
            variants = [m.variant_create(*s, location) for s in specs[start : start + m.MAX_INPUT]]
            # only the first call of a new product replaces the standalone variant productCreate made
            strategy = "REMOVE_STANDALONE_VARIANT" if new_product and start == 0 else "DEFAULT"
            body = self._gql(
                m.VARIANTS_CREATE_DOCUMENT,
                {"productId": product_id, "variants": variants, "strategy": strategy},
                m.VARIANTS_CREATE_COST,
            )
            result = (body.get("data") or {}).get("productVariantsBulkCreate")
            if result is None:
                problems.append(self._messages(body))
            else:
                problems += [e["message"] for e in result["userErrors"]]
                for v in result.get("productVariants") or []:
                    variant_ids[v["sku"]] = (v["id"], v["inventoryItem"]["id"])
        return problems

    def _published(
        self,
        draft: ListingDraft,
        product_id: str,
        location: str,
        variant_ids: Mapping[str, tuple[str, str]],
        problems: list[str],
    ) -> ItemResult:
        """The result, with a ref holding the product, location, and each SKU's variant and inventory
        item ids (a single-variant listing's also unprefixed): a failure if any variant had a problem."""
        ids = {"product_id": product_id, "location_id": location}
        for sku, (variant_id, item_id) in variant_ids.items():
            ids[f"variant_id/{sku}"] = variant_id
            ids[f"inventory_item_id/{sku}"] = item_id
        if not draft.variations and draft.sku in variant_ids:
            ids["variant_id"], ids["inventory_item_id"] = variant_ids[draft.sku]
        ref = ListingRef(draft.sku, product_id, ids)
        if problems:
            return ItemResult.failure(draft.sku, "variants", "; ".join(problems), ref=ref)
        return ItemResult.success(draft.sku, ref=ref)

    # -- delist / relist ------------------------------------------------------------------------------
    def delist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        return self._set_status(requests, self.opts.delist_status)

    def relist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        return self._set_status(requests, "ACTIVE")

    def _product_of(self, request: DelistRequest) -> str | None:
        ref = request.ref
        return (ref.get("product_id") or ref.external_id) if ref is not None else None

    def _set_status(self, requests: Sequence[DelistRequest], status: str) -> list[ItemResult]:
        products: dict[int, str | None] = {n: self._product_of(r) for n, r in enumerate(requests)}
        unknown = [r for n, r in enumerate(requests) if products[n] is None]
        resolved = self._resolve(unknown) if unknown else {}
        results: dict[int, ItemResult] = {}
        for n, r in enumerate(requests):
            if products[n] is None:
                ids = resolved[r.sku]
                if isinstance(ids, str):
                    results[n] = ItemResult.failure(r.sku, "unmapped", ids)
                else:
                    products[n] = ids["product_id"]
        order = list(dict.fromkeys(p for n, p in products.items() if p and n not in results))
        outcome: dict[str, str | None] = {}
        for start in range(0, len(order), self.limits.delist):
            chunk = order[start : start + self.limits.delist]
            variables = {f"p{k}": {"id": pid, "status": status} for k, pid in enumerate(chunk)}
            body = self._gql(m.status_document(len(chunk)), variables, m.status_cost(len(chunk)))
            data = body.get("data") or {}
            for k, pid in enumerate(chunk):
                payload = data.get(f"p{k}")
                if payload is None:
                    outcome[pid] = self._messages(body)
                elif payload.get("userErrors"):
                    outcome[pid] = self._messages(body, payload["userErrors"])
                else:
                    outcome[pid] = None
        for n, r in enumerate(requests):
            if n in results:
                continue
            product_id = products[n]
            assert product_id is not None
            error = outcome.get(product_id)
            ref = r.ref or ListingRef(r.sku, product_id, {"product_id": product_id})
            results[n] = ItemResult.failure(r.sku, "rejected", error) if error else ItemResult.success(r.sku, ref=ref)
        return [results[n] for n in range(len(requests))]

    # -- orders ---------------------------------------------------------------------------------------
    # -- shipping ------------------------------------------------------------------------------------
    native_sale = "compare_at"
    native_sale_schedule = (
        "Shopify: no sale price with dates in the Admin API; while the promotion runs the regular price goes "
        "to compareAtPrice, so the storefront shows it struck through, and the end sets compareAtPrice to null"
    )
    carrier_codes = m.CARRIER_CODES

    def find_shipment(self, shipment: Shipment) -> str | None:
        """The order's fulfillments (``Order.fulfillments``): the one whose tracking number is this one."""
        body = self._gql(m.FULFILLMENTS_DOCUMENT, {"id": shipment.order_id}, m.FULFILLMENTS_COST)
        order = (body.get("data") or {}).get("order") or {}
        for fulfillment in order.get("fulfillments") or []:
            numbers = [t.get("number") for t in fulfillment.get("trackingInfo") or [] if isinstance(t, dict)]
            if shipment.tracking in numbers:
                return str(fulfillment.get("id") or "")
        return None

    def send_shipment(self, shipment: Shipment) -> str | None:
        """Read the order's fulfillment orders, then ``fulfillmentCreate`` on the open ones holding the
        package's lines, with the tracking company and number (the customer is notified). fulfillmentCreate
        documents no ``@idempotent`` support: it is never re-sent after a lost answer."""
        company = self.carrier_code(shipment.carrier)
        body = self._gql(m.FULFILLMENT_ORDERS_DOCUMENT, {"id": shipment.order_id}, m.FULFILLMENT_ORDERS_COST)
        order = (body.get("data") or {}).get("order")
        if order is None:
            raise PermanentItemError(
                f"order {shipment.order_id} is not in the shop", channel=self.name, code="NotFound"
            )
        try:
            fulfillment = m.fulfillment_input(shipment, company, order["fulfillmentOrders"]["nodes"])
        except ValueError as exc:
            raise PermanentItemError(str(exc), channel=self.name, code="NOT_FULFILLABLE") from None
        body = self._gql(
            m.FULFILLMENT_CREATE_DOCUMENT, {"fulfillment": fulfillment}, m.FULFILLMENT_CREATE_COST, idempotent=False
        )
        payload = (body.get("data") or {}).get("fulfillmentCreate") or {}
        if payload.get("userErrors") or not payload.get("fulfillment"):
            why = self._messages(body, payload.get("userErrors"))
            raise PermanentItemError(
                f"fulfillmentCreate refused order {shipment.order_id}: {why}",
                channel=self.name,
                code="USER_ERROR",
            )
        return str(payload["fulfillment"]["id"])

    def cancel(self, order_id: str, reason: str) -> None:
        """``orderCancel`` (refund to the original payment methods, restock, notify); its userErrors refuse."""
        body = self._gql(m.ORDER_CANCEL_DOCUMENT, m.order_cancel_variables(order_id, reason), m.ORDER_CANCEL_COST)
        payload = (body.get("data") or {}).get("orderCancel") or {}
        errors = payload.get("orderCancelUserErrors")
        if errors or not payload.get("job"):
            why = self._messages(body, errors)
            raise PermanentItemError(
                f"orderCancel refused order {order_id}: {why}", channel=self.name, code="USER_ERROR"
            )

    def orders_since(self, cursor: OrderCursor) -> OrderPage:
        now = self.now()
        newest = now - self.limits.order_lag
        until = cursor.until or newest
        if not self.opts.read_all_orders and cursor.since < now - ORDER_VISIBILITY:
            log.warning(
                "[%s] orders updated before %s are not visible without the read_all_orders scope",
                self.name,
                (now - ORDER_VISIBILITY).isoformat(),
            )
        if cursor.since >= until:
            return OrderPage((), OrderCursor(cursor.since), True)
        line_page = self.opts.order_line_page
        page_size = m.orders_page_size(line_page)
        body = self._gql(
            m.orders_document(page_size, line_page),
            {"query": m.orders_search(cursor.since, until), "after": cursor.page},
            m.orders_cost(page_size, line_page),
        )
        connection = _connection(body, "orders", channel=self.name)
        self.check_page("orders cursor", cursor.page, connection.next, items=len(connection.items))
        # one order that does not read is left out and told, the rest of the page carries on
        orders, problems = read_each(connection.items, self._order, what="orders node", key="id", channel=self.name)
        if connection.next is not None:
            nxt = OrderCursor(cursor.since, until, str(connection.next))
            return OrderPage(tuple(orders), nxt, False, tuple(problems))
        nxt = OrderCursor(until - self.limits.order_overlap)
        # caught up once the window reached within the overlap of now: the next pull re-reads that anyway
        # (a window of several pages ends seconds before `newest`; asking again would re-read it all)
        return OrderPage(tuple(orders), nxt, until >= newest - self.limits.order_overlap, tuple(problems))

    def _order(self, node: Mapping[str, Any]) -> Order:
        """One order node, with the line items beyond the ones fetched inline."""
        lines = list(node["lineItems"]["nodes"])
        info = node["lineItems"]["pageInfo"]
        if info.get("hasNextPage"):
            lines += self._more_lines(node["id"], info["endCursor"])
        return m.order(node, lines)

    def _more_lines(self, order_id: str, after: str) -> list[dict[str, Any]]:

        def fetch(cursor: str) -> Page[dict[str, Any]]:
            body = self._gql(m.MORE_LINES_DOCUMENT, {"id": order_id, "after": cursor}, m.MORE_LINES_COST)
            return _connection(body, "order", "lineItems", channel=self.name)

        return list(self.pages(fetch, f"lineItems cursor of order {order_id}", start=after))

    def order(self, order_id: str) -> Order | None:
        """``order(id:)`` with the fields a page of orders reads (a webhook's order, past the search lag)."""
        line_page = self.opts.order_line_page
        variables = {"id": m.gid("Order", order_id)}
        body = self._gql(m.order_document(line_page), variables, 1 + m.order_node_cost(line_page))
        node = (body.get("data") or {}).get("order")
        return None if node is None else self._order(node)

    # -- webhooks -------------------------------------------------------------------------------------
    webhook_topics = tuple(m.WEBHOOK_TOPICS)

    @classmethod
    def read_webhook(cls, channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the raw body keyed by the app's client secret
        (credential ``client_secret``); ``X-Shopify-Webhook-Id`` identifies the delivery (a retry repeats it);
        ``X-Shopify-Topic`` names the event. The order is ``admin_graphql_api_id`` (its numeric ``id`` as a
        gid otherwise) and its ``updated_at`` tells a late delivery."""
        webhooks.verify(channel, headers, body, header="X-Shopify-Hmac-Sha256", credential="client_secret")
        topic = headers.get("x-shopify-topic", "")
        delivery = headers.get("x-shopify-webhook-id") or webhooks.body_digest(body)
        if topic not in m.WEBHOOK_TOPICS:
            return WebhookEvent(delivery, topic)
        data = webhooks.payload(channel, body)
        order_id = data.get("admin_graphql_api_id") or (m.gid("Order", data["id"]) if data.get("id") else None)
        return WebhookEvent(delivery, topic, order_id and str(order_id), _time_or_none(data.get("updated_at")))

    def register_webhooks(self, url: str) -> list[WebhookSubscription]:
        """``webhookSubscriptionCreate(topic:, webhookSubscription: {uri, format: JSON})`` for each order topic
        not yet delivered to ``url``."""
        subscribed = [w for w in self.webhooks() if w.url == url]
        for topic, enum in m.WEBHOOK_TOPICS.items():
            if any(w.topic == topic for w in subscribed):
                continue
            variables = {"topic": enum, "webhookSubscription": m.webhook_input(url)}
            body = self._gql(m.WEBHOOK_CREATE_DOCUMENT, variables, m.WEBHOOK_CREATE_COST)
            payload = (body.get("data") or {}).get("webhookSubscriptionCreate") or {}
            created = payload.get("webhookSubscription")
            if payload.get("userErrors") or not created:
                why = self._messages(body, payload.get("userErrors"))
                raise RequestRejected(
                    f"webhookSubscriptionCreate refused {enum} for {url}: {why}", channel=self.name, code="USER_ERROR"
                )
            subscribed.append(_subscription(created))
        return subscribed

    def webhooks(self) -> list[WebhookSubscription]:
        def fetch(after: str | None) -> Page[dict[str, Any]]:
            body = self._gql(m.WEBHOOKS_DOCUMENT, {"after": after}, m.WEBHOOKS_COST)
            return _connection(body, "webhookSubscriptions", channel=self.name)

        return [_subscription(node) for node in self.pages(fetch, "webhookSubscriptions cursor")]

    # -- read-back ------------------------------------------------------------------------------------
    def listings(self) -> Iterator[RemoteListing]:
        location = self._location()

        def fetch(after: str | None) -> Page[dict[str, Any]]:
            body = self._gql(m.VARIANTS_DOCUMENT, {"query": None, "after": after}, m.VARIANTS_COST)
            return _connection(body, "productVariants", channel=self.name)

        currency = self.channel.currency

        def remote(node: Mapping[str, Any]) -> RemoteListing | None:
            if not node.get("sku"):
                return None  # not ours to sync: a variant without SKU cannot be matched
            product = node["product"]
            ids = {
                "product_id": product["id"],
                "variant_id": node["id"],
                "inventory_item_id": node["inventoryItem"]["id"],
                "location_id": location,
            }
            price = node.get("price")
            return RemoteListing(
                sku=str(node["sku"]),
                ref=ListingRef(str(node["sku"]), product["id"], ids),
                price=Money(parse_decimal(str(price)), currency) if price is not None else None,
                quantity=node.get("inventoryQuantity"),
                status=m.listing_status(product.get("status")),
                title=product.get("title"),
            )

        for listing in readable(
            self.pages(fetch, "productVariants cursor"),
            remote,
            what="productVariants node",
            key="id",
            channel=self.name,
            told=lambda problem: log.warning("%s; left out of the read-back", problem),
        ):
            if listing is not None:
                yield listing


def _subscription(node: Mapping[str, Any]) -> WebhookSubscription:
    return WebhookSubscription(str(node["id"]), m.webhook_topic(str(node["topic"])), str(node["uri"]))


def _time_or_none(value: Any) -> datetime | None:
    try:
        return m.parse_time(str(value)) if value else None
    except ValueError:
        return None


def _connection(body: Any, *path: str, channel: str) -> Page[Any]:
    """The connection at ``data.<path>`` of a GraphQL answer: its nodes and, while ``hasNextPage``, its
    ``endCursor`` as the next position. One that is not shaped as the schema says is a typed error."""
    connection = body
    try:
        for key in ("data", *path):
            connection = connection[key]
        info = connection["pageInfo"]
        nxt = next_token(info.get("endCursor")) if info["hasNextPage"] else None
        return Page(list(connection["nodes"]), nxt)
    except MAPPING_ERRORS as exc:
        raise unexpected(f"the {'.'.join(path)} connection", exc, value=connection, channel=channel) from None
