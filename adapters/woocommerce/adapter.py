"""WooCommerce REST API v3 adapter (the team's own WordPress shop).

Every write goes through the documented batch endpoints: ``POST /products/batch`` for products and,
per parent, ``POST /products/{id}/variations/batch`` for variations (``/products/batch`` refuses
variation ids). A batch holds at most 100 objects counting create + update + delete together, always
answers HTTP 200 when it runs, and inlines per-item failures as ``{"id": .., "error": {..}}``: every
element is checked. :meth:`chunks` therefore groups price, stock, delist and relist items by parent so
one chunk is one call (items without a ref cost one look-up call each first).

Every operation of the interface is supported. Not sent, for want of a v3 field: barcode/GTIN, brand
and condition. WooCommerce has no compare-and-set for stock (pushes are absolute) and variations that
vanished from a draft are left on the shop. Delisting sets ``status`` to ``draft`` or ``private``
(option ``delist_status``); a variation is disabled with ``private``. Relisting sets ``publish``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Literal
from urllib.parse import quote

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
from listing_sync.adapters.excerpt import read_each, readable
from listing_sync.adapters.http import HttpAdapter, parse_retry_after
from listing_sync.adapters.paging import Page, next_page_number
from listing_sync.adapters.woocommerce import mapping
from listing_sync.adapters.woocommerce.auth import OAuth1Auth, QueryStringAuth
from listing_sync.config.channels import ChannelConfig
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("adapters.woocommerce")
Target = tuple[str, str | None]  # (product id, variation id or None)

EMULATOR_SITE = "https://woocommerce.emulator.invalid"  # never resolves; the emulator transport answers
#: the body of the ping WooCommerce sends a delivery URL when a webhook is created (WC_Webhook::deliver_ping)
PING = re.compile(rb"webhook_id=\d+")
PAGE_SIZE = 100  # per_page maximum (WordPress core rejects 101 with rest_invalid_param)


class WooCommerceOptions(BaseModel):
    """``[channels.options]`` for ``kind = "woocommerce"``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the shop: ``shop.example.com``, ``example.com/shop`` (https assumed) or a full URL; an ``http://``
    #: URL is signed with OAuth 1.0a. The channel's ``base_url`` may give it instead.
    site: str | None = None
    #: ``auto`` = Basic over https, OAuth 1.0a over http; ``query_string`` for hosts that strip the
    #: Authorization header ("Consumer key is missing").
    auth: Literal["auto", "basic", "query_string", "oauth1"] = "auto"
    signature_method: Literal["HMAC-SHA256", "HMAC-SHA1"] = "HMAC-SHA256"
    delist_status: Literal["draft", "private"] = "draft"
    #: objects per batch call; lower it for slow hosts whose PHP times out on 100 variations
    batch_size: int = Field(default=100, ge=1, le=100)
    #: the shop's weight unit (WooCommerce > Settings > Products)
    weight_unit: Literal["kg", "g", "lbs", "oz"] = "kg"
    #: our own politeness limit; WooCommerce documents none, hosts and WAFs throttle
    requests_per_second: float | None = Field(default=None, gt=0, le=50)


class WooCommerceAdapter(HttpAdapter):
    kind = "woocommerce"
    # 100 objects per batch call (WC_REST_Controller batch limit); no documented rate: 5/s is ours.
    limits = Limits(publish=100, price=100, stock=100, delist=100, orders_page=PAGE_SIZE, rate=5.0, burst=5)
    # WooCommerce product categories are numeric ids ("12" or "12,15"); no documented image cap.
    content_rules = ContentRules(category_required=True, category_pattern=r"^\d+(,\d+)*$")
    options_model = WooCommerceOptions
    options: WooCommerceOptions

    def __init__(self, channel: Any, *, timeout: float = 60.0, **kwargs: Any) -> None:
        options = WooCommerceOptions.model_validate(dict(channel.options))
        if options.requests_per_second:
            rate = options.requests_per_second
            self.limits = replace(type(self).limits, rate=rate, burst=max(1, int(rate)))
        # 60 s: batches run item by item inside PHP; weak hosts need long (woocommerce#21488)
        super().__init__(channel, timeout=timeout, **kwargs)

    # -- wiring -------------------------------------------------------------------------------------
    def base_url(self) -> str:
        configured = self.channel.base_url
        if configured and configured != "emulator:":
            return mapping.api_root(configured)
        return self.production_url()

    def production_url(self) -> str:
        if self.options.site:
            return mapping.api_root(self.options.site)
        if self.channel.emulated:
            return mapping.api_root(EMULATOR_SITE)
        raise ConfigurationError(
            'WooCommerce needs the shop\'s address: set options.site (e.g. "shop.example.com") or base_url',
            channel=self.channel.name,
        )

    def build_auth(self) -> httpx.Auth:
        try:
            key, secret = self.credential("consumer_key"), self.credential("consumer_secret")
        except KeyError as exc:
            raise ConfigurationError(str(exc.args[0]), channel=self.channel.name) from None
        https = httpx.URL(self.base_url()).scheme == "https"
        mode = self.options.auth
        if mode == "auto":
            mode = "basic" if https else "oauth1"
        if mode == "oauth1":
            return OAuth1Auth(key, secret, signature_method=self.options.signature_method)
        if not https:
            raise ConfigurationError(
                f"auth={mode!r} would send the consumer secret in clear over http: use https or auth=oauth1",
                channel=self.channel.name,
            )
        return QueryStringAuth(key, secret) if mode == "query_string" else httpx.BasicAuth(key, secret)

    def default_headers(self) -> Mapping[str, str]:
        return {"User-Agent": "listing-sync/0.1", "Accept": "application/json"}

    def classify(self, response: httpx.Response) -> ChannelError | None:
        return classify(response)

    def chunks(self, op: Operation, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        """Batches of at most ``batch_size``; price/stock/delist/relist items are grouped by parent
        product first, because variations can only be batched per parent. A delist or relist of every
        variation of a product is one parent in a ``products/batch`` call: up to ``batch_size`` such
        products (with all their variations) per chunk."""
        size = self.options.batch_size
        if op is Operation.PUBLISH:
            for start in range(0, len(items), size):
                yield list(items[start : start + size])
            return
        whole = mapping.whole_products(items) if op in (Operation.DELIST, Operation.RELIST) else {}
        products = list(whole.values())
        for start in range(0, len(products), size):
            yield [items[n] for members in products[start : start + size] for n in members]
        taken = {n for members in products for n in members}
        groups: dict[object, list[ItemT]] = {}
        for item in (item for n, item in enumerate(items) if n not in taken):
            target = mapping.target_of(item.sku, item.ref)
            key = ("variations", target[0]) if target and target[1] else ("products" if target else "lookup")
            groups.setdefault(key, []).append(item)
        for group in groups.values():
            for start in range(0, len(group), size):
                yield group[start : start + size]

    def estimate_calls(self, op: Operation, items: Sequence[BatchItem]) -> int:
        """Publish: one products/batch per ``batch_size`` products plus one variations/batch per
        ``batch_size`` variations of each variable product. Others: one call per chunk (grouped by parent),
        plus a look-up for each item without a ref."""
        if op is not Operation.PUBLISH:
            unknown = sum(1 for item in items if mapping.target_of(item.sku, item.ref) is None)
            # a whole relist also re-enables the variations a delist of their own had disabled
            disabled = mapping.whole_products(items) if op is Operation.RELIST else {}
            enabling = sum(any(mapping.is_disabled(items[n].ref) for n in members) for members in disabled.values())
            return self.count_calls(op, items) + unknown + enabling
        size = self.options.batch_size
        groups = publish_groups(items)
        return -(-len(groups) // size) + sum(-(-len(g.skus) // size) for g in groups if g.variations)

    # -- publish ------------------------------------------------------------------------------------
    def publish(self, drafts: Sequence[ListingDraft]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        creates: list[tuple[int, dict[str, Any]]] = []
        updates: list[tuple[int, dict[str, Any]]] = []
        for i, draft in enumerate(drafts):
            problem = self._currency_problem(draft.sku, [draft.price, *(v.price for v in draft.variations)])
            if problem:
                results[i] = problem
                continue
            product_id = draft.ref.get("product_id") if draft.ref else None
            try:
                body = mapping.product_body(draft, weight_unit=self.options.weight_unit, create=not product_id)
            except ValueError as exc:
                results[i] = ItemResult.failure(draft.sku, "invalid_listing", str(exc))
                continue
            if product_id:
                updates.append((i, {"id": int(product_id), **body}))
            else:
                creates.append((i, body))

        product_ids: dict[int, str] = {}
        adopt: list[tuple[int, dict[str, Any]]] = []  # second round: duplicate SKU -> update that product
        recreate: list[tuple[int, dict[str, Any]]] = []  # second round: the ref's product was deleted
        created, updated = self._batch(
            "/products/batch", creates=[b for _, b in creates], updates=[b for _, b in updates]
        )
        for (i, body), element in [*zip(creates, created, strict=True), *zip(updates, updated, strict=True)]:
            error = mapping.batch_error(element)
            if error and error[0] == "product_invalid_sku" and "id" not in body:
                try:
                    existing = self._adoptable(drafts[i].sku, element)
                except ChannelError as exc:
                    results[i] = ItemResult.from_error(drafts[i].sku, exc)
                    continue
                if existing:  # replayed create, or a product made by hand: update it instead
                    body = mapping.product_body(drafts[i], weight_unit=self.options.weight_unit, create=False)
                    adopt.append((i, {"id": int(existing), **body}))
                    continue
            if error and error[0] == "woocommerce_rest_product_invalid_id" and "id" in body:
                recreate.append((i, mapping.product_body(drafts[i], weight_unit=self.options.weight_unit, create=True)))
                continue
            if error:
                results[i] = self._item_failure(drafts[i].sku, error)
            else:
                product_ids[i] = str(element["id"])
        if adopt or recreate:
            try:
                recreated, adopted = self._batch(
                    "/products/batch", creates=[b for _, b in recreate], updates=[b for _, b in adopt]
                )
            except ChannelError as exc:  # products were created above: keep their results
                for i, _body in [*recreate, *adopt]:
                    results[i] = ItemResult.from_error(drafts[i].sku, exc)
                recreate, adopt, recreated, adopted = [], [], [], []
            pairs = [*zip(recreate, recreated, strict=True), *zip(adopt, adopted, strict=True)]
            for (i, _body), element in pairs:
                error = mapping.batch_error(element)
                if error:
                    results[i] = self._item_failure(drafts[i].sku, error)
                else:
                    product_ids[i] = str(element["id"])

        for i, product_id in product_ids.items():
            draft = drafts[i]
            if not draft.variations:
                results[i] = ItemResult.success(draft.sku, ref=mapping.ref_for_product(draft.sku, product_id))
                continue
            existed = any(i == j for j, _ in [*updates, *adopt]) and all(i != j for j, _ in recreate)
            results[i] = self._publish_variations(draft, product_id, existed)
        return [results[i] for i in range(len(drafts))]

    def _publish_variations(self, draft: ListingDraft, product_id: str, existed: bool) -> ItemResult:
        """Create or update a variable product's variations (per-parent batches)."""
        path = f"/products/{product_id}/variations/batch"
        known: dict[str, str] = {}
        for variation in draft.variations:
            target = mapping.target_of(variation.sku, variation.ref or draft.ref)
            if target and target[1] and target[0] == product_id:
                known[variation.sku] = target[1]
        try:
            if existed and len(known) < len(draft.variations):
                known.update({sku: vid for sku, vid in self._variation_ids(product_id).items() if sku not in known})
            failures: list[tuple[str, tuple[str, str, int]]] = []
            size = self.options.batch_size
            for start in range(0, len(draft.variations), size):
                part = draft.variations[start : start + size]
                creates = [v for v in part if v.sku not in known]
                updates = [v for v in part if v.sku in known]
                created, updated = self._batch(
                    path,
                    creates=[mapping.variation_body(v) for v in creates],
                    updates=[{"id": int(known[v.sku]), **mapping.variation_body(v)} for v in updates],
                )
                for variation, element in [*zip(creates, created, strict=True), *zip(updates, updated, strict=True)]:
                    error = mapping.batch_error(element)
                    if error:
                        failures.append((variation.sku, error))
                    else:
                        known[variation.sku] = str(element["id"])
        except ChannelError as exc:  # the parent exists: keep its ref so a retry updates, not duplicates
            failed = ItemResult.from_error(draft.sku, exc)
            return replace(failed, ref=mapping.ref_for_product(draft.sku, product_id, known))
        ref = mapping.ref_for_product(draft.sku, product_id, known)
        if not failures:
            return ItemResult.success(draft.sku, ref=ref)
        code = failures[0][1][0]
        message = "; ".join(f"variation {sku}: {msg} ({c})" for sku, (c, msg, _) in failures)
        retryable = all(status >= 500 for _, (_, _, status) in failures)
        return ItemResult.failure(draft.sku, code, message, retryable=retryable, ref=ref)

    def _adoptable(self, sku: str, element: Mapping[str, Any]) -> str | None:
        """The id of the product already holding ``sku`` (duplicate-SKU error on create)."""
        data = (element.get("error") or {}).get("data") or {}
        if data.get("resource_id"):
            return str(data["resource_id"])
        found = self._product_by_sku(sku)
        return str(found["id"]) if found else None

    # -- price, stock, delist, relist ---------------------------------------------------------------
    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ItemResult]:
        def fields(update: PriceUpdate, variation: bool) -> dict[str, Any] | ItemResult:
            prices = [update.price, *([update.list_price] if update.list_price else [])]
            if update.sale is not None:
                prices.append(update.sale.price)
            return self._currency_problem(update.sku, prices) or mapping.price_fields(
                update.price, update.list_price, update.sale
            )

        return self._set_fields(updates, fields)

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ItemResult]:
        return self._set_fields(updates, lambda update, variation: mapping.stock_fields(update.quantity))

    def delist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        """Every variation of a product asked: the parent's status (one ``products/batch`` element, a
        draft or private parent hides all its variations); otherwise each variation is disabled
        (``private``: variations only know publish and private) and its ref remembers it."""
        return self._set_status(requests, self.options.delist_status, "private")

    def relist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        """The parent back to ``publish`` (and, in the same product's variation batch, any variation a
        delist of its own had disabled); single variations back to ``publish``."""
        return self._set_status(requests, "publish", "publish")

    def _set_status(self, requests: Sequence[DelistRequest], parent: str, variation: str) -> list[ItemResult]:
        whole = mapping.whole_products(requests)
        results: dict[int, ItemResult] = {}
        if whole:
            parents = [DelistRequest(requests[members[0]].sku, requests[members[0]].ref) for members in whole.values()]
            heads = self._set_fields(parents, lambda r, _variation: {"status": parent}, whole=True)
            relisting = parent == "publish"
            for head, members in zip(heads, whole.values(), strict=True):
                flagged = [requests[n] for n in members if relisting and mapping.is_disabled(requests[n].ref)]
                enabled = self._set_fields(flagged, lambda r, _v: {"status": variation}) if head.ok and flagged else []
                failed = {r.sku: result for r, result in zip(flagged, enabled, strict=True) if not result.ok}
                for n in members:
                    sku, ref = requests[n].sku, requests[n].ref
                    outcome = failed.get(sku) or head
                    kept = mapping.with_disabled(ref, False) if relisting else ref
                    results[n] = ItemResult.success(sku, ref=kept) if outcome.ok else replace(outcome, sku=sku)
        rest = [n for n in range(len(requests)) if n not in results]
        singles = self._set_fields(
            [requests[n] for n in rest],
            lambda r, is_variation: {"status": variation if is_variation else parent},
            disabled=variation != "publish",
        )
        results.update(zip(rest, singles, strict=True))
        return [results[n] for n in range(len(requests))]

    def _set_fields(
        self,
        items: Sequence[Any],
        fields: Callable[[Any, bool], dict[str, Any] | ItemResult],
        *,
        whole: bool = False,
        disabled: bool | None = None,
    ) -> list[ItemResult]:
        """Update some fields of each item's product or variation, one batch call per parent (``whole``:
        of each item's parent product itself). A success keeps the item's ref when it names the target
        (a parent's ref lists every variation, which whole-product delists need), with the variation's
        ``disabled`` mark set or cleared when ``disabled`` says."""
        results: dict[int, ItemResult] = {}
        groups: dict[str, list[tuple[int, dict[str, Any], Target]]] = {}
        applied_any = False
        for i, item in enumerate(items):
            try:
                named = mapping.target_of(item.sku, item.ref)
                if whole and named is not None:
                    named = (named[0], None)
                target = named or self._find(item.sku, item.ref)
            except ChannelError as exc:
                if not isinstance(exc, PermanentItemError) and not applied_any and not results:
                    raise
                results[i] = ItemResult.from_error(item.sku, exc)
                continue
            if target is None:
                results[i] = ItemResult.failure(
                    item.sku,
                    "not_found",
                    f"no product or variation with SKU {item.sku} on this shop; publish the listing first "
                    "(variations are found through their parent's ref)",
                )
                continue
            body = fields(item, target[1] is not None)
            if isinstance(body, ItemResult):
                results[i] = body
                continue
            product_id, variation_id = target
            path = f"/products/{product_id}/variations/batch" if variation_id else "/products/batch"
            groups.setdefault(path, []).append((i, {"id": int(variation_id or product_id), **body}, target))

        size = self.options.batch_size
        for path, members in groups.items():
            for start in range(0, len(members), size):
                part = members[start : start + size]
                try:
                    _, updated = self._batch(path, updates=[body for _, body, _ in part])
                except ChannelError as exc:
                    if not isinstance(exc, PermanentItemError) and not applied_any:
                        raise
                    for i, _, _ in part:
                        results[i] = ItemResult.from_error(items[i].sku, exc)
                    continue
                applied_any = True
                for (i, _body, (product_id, variation_id)), element in zip(part, updated, strict=True):
                    sku, ref = items[i].sku, items[i].ref
                    error = mapping.batch_error(element)
                    if error:
                        results[i] = self._item_failure(sku, error)
                    elif mapping.target_of(sku, ref) is not None:
                        kept = ref if disabled is None or not variation_id else mapping.with_disabled(ref, disabled)
                        results[i] = ItemResult.success(sku, ref=kept)
                    elif variation_id:
                        results[i] = ItemResult.success(
                            sku, ref=mapping.ref_for_variation(sku, product_id, variation_id)
                        )
                    else:
                        results[i] = ItemResult.success(sku, ref=mapping.ref_for_product(sku, product_id))
        return [results[i] for i in range(len(items))]

    def _find(self, sku: str, ref: ListingRef | None) -> Target | None:
        """Look an item up when its ref does not name it: a variation inside the parent its ref names,
        else a product by SKU (one GET each)."""
        if ref is not None and ref.get("product_id"):
            for variation_sku, variation_id in self._variation_ids(ref.ids["product_id"], sku=sku).items():
                if variation_sku == sku:
                    return ref.ids["product_id"], variation_id
        found = self._product_by_sku(sku)
        return (str(found["id"]), None) if found else None

    # -- reads --------------------------------------------------------------------------------------
    def _product_by_sku(self, sku: str) -> Mapping[str, Any] | None:
        rows = self._json(self.http.get("/products", params={"sku": sku}))
        return next((row for row in rows if isinstance(row, Mapping) and row.get("sku") == sku), None)

    def _variation_ids(self, product_id: str, *, sku: str | None = None) -> dict[str, str]:
        params = {"sku": sku} if sku else {}
        return {
            str(v.get("sku")): str(v["id"])
            for v in self._pages(f"/products/{product_id}/variations", params)
            if v.get("sku")
        }

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Mapping[str, Any]]:
        """Every element of a list endpoint, page by page until ``X-WP-TotalPages``."""

        def fetch(page: int) -> Page[Mapping[str, Any]]:
            response = self.http.get(
                path, params={**(params or {}), "per_page": PAGE_SIZE, "page": page, "orderby": "id", "order": "asc"}
            )
            rows = self._json(response)
            nxt = next_page_number(page, len(rows), last=_total_pages(response))
            return Page([row for row in rows if isinstance(row, Mapping)], nxt)

        return self.pages(fetch, f"GET {path} page", start=1)

    def listings(self) -> Iterator[RemoteListing]:
        """Products with a SKU, and the variations with a SKU of variable products; one that does not
        read is left out of the read-back with a warning (its excerpt), the rest carry on."""
        currency = self.channel.currency

        def told(problem: ChannelError) -> None:
            log.warning("%s; left out of the read-back", problem)

        def variation(product: Mapping[str, Any], row: Mapping[str, Any]) -> RemoteListing | None:
            return mapping.remote_variation(product, row, currency) if row.get("sku") else None

        def of_product(product: Mapping[str, Any]) -> list[RemoteListing | None]:
            out = [mapping.remote_product(product, currency) if product.get("sku") else None]
            if product.get("type") == "variable":
                rows = self._pages(f"/products/{quote(str(product['id']), safe='')}/variations")
                out += readable(
                    rows, partial(variation, product), what="variation", key="id", channel=self.name, told=told
                )
            return out

        products = self._pages("/products")
        for found in readable(
            products, of_product, what="GET /products product", key="id", channel=self.name, told=told
        ):
            yield from (listing for listing in found if listing is not None)

    native_sale = "dated"
    native_sale_schedule = (
        "WooCommerce: sale_price with date_on_sale_from_gmt/date_on_sale_to_gmt on the product or variation; "
        "releases before WooCommerce PR #62115 (merged 2025-11) switch scheduled sales by a daily cron, up to a "
        "day late, so our worker also saves the product again at the start and the end"
    )
    carrier_codes = mapping.CARRIER_CODES

    def send_shipment(self, shipment: Shipment) -> str | None:
        """Update an order (``PUT /orders/{id}``: tracking meta, ``completed`` once all shipped; the meta key is
        the package's, so a repeat changes nothing), then create a customer order note (``POST
        /orders/{id}/notes``, e-mailed to the buyer: never re-sent after a lost answer) with the carrier and
        tracking number."""
        carrier = self.carrier_code(shipment.carrier)
        order = quote(shipment.order_id, safe="")
        self._json(self.http.put(f"/orders/{order}", json=mapping.shipment_update(shipment, carrier)))
        note = self._json(
            self.http.post(f"/orders/{order}/notes", json=mapping.shipment_note(shipment, carrier), idempotent=False)
        )
        return str(note.get("id")) if isinstance(note, dict) and note.get("id") is not None else None

    def find_shipment(self, shipment: Shipment) -> str | None:
        """The order's notes (``GET /orders/{id}/notes``): the customer note naming this tracking number."""
        order = quote(shipment.order_id, safe="")
        notes = self._json(self.http.get(f"/orders/{order}/notes", params={"type": "customer"}))
        for note in notes if isinstance(notes, list) else []:
            if isinstance(note, dict) and mapping.names_tracking(str(note.get("note") or ""), shipment.tracking):
                return str(note.get("id") or "")
        return None

    def cancel(self, order_id: str, reason: str) -> None:
        """Update the order to ``cancelled`` (WooCommerce restocks what the order had reduced), then a private
        order note with the reason."""
        order = quote(order_id, safe="")
        self._json(self.http.put(f"/orders/{order}", json={"status": "cancelled"}))
        self._json(self.http.post(f"/orders/{order}/notes", json=mapping.cancel_note(reason)))

    def orders_since(self, cursor: OrderCursor) -> OrderPage:
        """Orders modified in [since, until], ``orderby=id`` (the v3 docs offer no sort by modified).

        Pages are numbered, so an order modified again while we page leaves the window and shifts
        later ones up by one; ``cursor.page`` keeps ``page:total`` and, when X-WP-Total shrank, the
        next read steps back far enough to catch what moved onto an earlier page.
        """
        now = datetime.now(UTC)
        limits = self.limits
        until = cursor.until
        if until is None:
            until = now - limits.order_lag
            if limits.order_window is not None:
                until = min(until, cursor.since + limits.order_window)
        page, seen_total = _parse_page(cursor.page)
        response = self.http.get(
            "/orders",
            params={
                "modified_after": mapping.gmt(cursor.since),
                "modified_before": mapping.gmt(until),
                "dates_are_gmt": "true",
                "per_page": PAGE_SIZE,
                "page": page,
                "orderby": "id",
                "order": "asc",
            },
        )
        rows = [row for row in self._json(response) if isinstance(row, Mapping)]
        orders: dict[str, Order] = {}
        # one unreadable order must not stall the sync: it is left out and told, the cursor moves on
        read, problems = read_each(rows, mapping.parse_order, what="GET /orders order", key="id", channel=self.name)
        for order in read:  # dedupe on id, keeping the newest modification
            if order.external_id not in orders or orders[order.external_id].updated_at < order.updated_at:
                orders[order.external_id] = order
        total = _header_int(response, "X-WP-Total", len(rows))
        told = total if "X-WP-Total" in response.headers else None  # a progress total only when WordPress tells
        shrunk = seen_total - total if seen_total is not None and total < seen_total else 0
        if shrunk and page > 1:
            back = max(1, ((page - 1) * PAGE_SIZE - shrunk) // PAGE_SIZE + 1)
            nxt = OrderCursor(cursor.since, until, f"{back}:{total}")
            return OrderPage(tuple(orders.values()), nxt, False, tuple(problems), told)
        following = next_page_number(page, len(rows), last=_total_pages(response))
        self.check_page("GET /orders page", cursor.page, f"{following}:{total}" if following else None, items=None)
        if following is not None:
            nxt = OrderCursor(cursor.since, until, f"{following}:{total}")
            return OrderPage(tuple(orders.values()), nxt, False, tuple(problems), told)
        # caught up once the window reached within the overlap of now: the next pull re-reads that anyway
        done = until >= now - limits.order_lag - limits.order_overlap
        nxt = OrderCursor(until - limits.order_overlap)
        return OrderPage(tuple(orders.values()), nxt, done, tuple(problems), told)

    def order(self, order_id: str) -> Order | None:
        """``GET /orders/{id}`` (a webhook's order); an id the shop does not know is None."""
        try:
            data = self._json(self.http.get(f"/orders/{quote(order_id, safe='')}"))
        except PermanentItemError:
            return None
        return mapping.parse_order(data)

    # -- webhooks -----------------------------------------------------------------------------------
    webhook_topics = ("order.created", "order.updated")

    @classmethod
    def read_webhook(cls, channel: ChannelConfig, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """``X-WC-Webhook-Signature``: base64 HMAC-SHA256 of the raw body keyed by the webhook's secret
        (credential ``webhook_secret``). The ping WooCommerce sends when a webhook is created (form body
        ``webhook_id=N``, unsigned) is told as such. ``X-WC-Webhook-Delivery-ID`` is a hash of the webhook id
        and the current SECOND, so two deliveries of one webhook in one second share it: the dedupe key is
        that id plus a digest of the body (a replay repeats both)."""
        if PING.fullmatch(body.strip()) and not headers.get("x-wc-webhook-signature"):
            return WebhookEvent(f"ping:{body.strip().decode('ascii')}", "ping", ping=True)
        webhooks.verify(channel, headers, body, header="X-WC-Webhook-Signature", credential="webhook_secret")
        topic = headers.get("x-wc-webhook-topic", "")
        delivery = f"{headers.get('x-wc-webhook-delivery-id', '')}:{webhooks.body_digest(body)}"
        if topic not in cls.webhook_topics:
            return WebhookEvent(delivery, topic)
        data = webhooks.payload(channel, body)
        try:
            modified = mapping.parse_gmt(data.get("date_modified_gmt"))
        except (TypeError, ValueError):
            modified = None
        return WebhookEvent(delivery, topic, str(data["id"]) if data.get("id") else None, modified)

    def register_webhooks(self, url: str) -> list[WebhookSubscription]:
        """``POST /webhooks`` with ``name``, ``topic``, ``delivery_url``, ``secret`` and ``status: active`` for
        each order topic not yet delivered to ``url`` (WooCommerce pings the URL once it is created); one
        delivered there but ``paused`` or ``disabled`` (after more than 5 failed deliveries) is set ``active``
        again with ``PUT /webhooks/{id}``."""
        secret = self.credential("webhook_secret")
        subscribed = [w for w in self.webhooks() if w.url == url]
        for n, held in enumerate(subscribed):
            if held.topic in self.webhook_topics and held.status != "active":  # WooCommerce disables after failures
                body = {"status": "active", "secret": secret}
                subscribed[n] = _subscription(
                    self._json(self.http.put(f"/webhooks/{quote(held.id, safe='')}", json=body))
                )
        for topic in self.webhook_topics:
            if any(w.topic == topic for w in subscribed):
                continue
            body = {
                "name": f"listing-sync {topic}",
                "topic": topic,
                "delivery_url": url,
                "secret": secret,
                "status": "active",
            }
            subscribed.append(_subscription(self._json(self.http.post("/webhooks", json=body))))
        return subscribed

    def webhooks(self) -> list[WebhookSubscription]:
        return [_subscription(row) for row in self._pages("/webhooks")]

    # -- helpers ------------------------------------------------------------------------------------
    def _batch(
        self, path: str, *, creates: Sequence[Mapping[str, Any]] = (), updates: Sequence[Mapping[str, Any]] = ()
    ) -> tuple[list[Any], list[Any]]:
        """One batch call; returns the create and update result lists, padded when an element is
        missing so every item gets a result."""
        if not creates and not updates:
            return [], []
        if len(creates) + len(updates) > 100:
            raise RequestRejected(f"{len(creates) + len(updates)} objects for {path}: the batch limit is 100")
        body: dict[str, Any] = {}
        if creates:
            body["create"] = list(creates)
        if updates:
            body["update"] = list(updates)
        data = self._json(self.http.post(path, json=body))
        if not isinstance(data, Mapping):
            raise TransientError(f"POST {path}: batch answer is not an object")
        missing = {
            "error": {
                "code": "missing_result",
                "message": "no result for this item in the batch answer",
                "data": {"status": 502},
            }
        }
        created = list(data.get("create") or [])[: len(creates)]
        updated = list(data.get("update") or [])[: len(updates)]
        created += [missing] * (len(creates) - len(created))
        updated += [missing] * (len(updates) - len(updated))
        return created, updated

    def _json(self, response: httpx.Response) -> Any:
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise ConfigurationError(
                f"{response.request.method} {response.request.url.path}: the answer is not valid JSON "
                f"(starts {response.text[:80]!r}); PHP notices printed by a plugin (display_errors) break it",
                channel=self.channel.name,
                status=response.status_code,
            ) from None

    def _item_failure(self, sku: str, error: tuple[str, str, int]) -> ItemResult:
        code, message, status = error
        return ItemResult.failure(sku, code, message or code, retryable=status >= 500 or status == 429)

    def _currency_problem(self, sku: str, prices: Sequence[Any]) -> ItemResult | None:
        wrong = sorted({p.currency for p in prices if p.currency != self.channel.currency})
        if not wrong:
            return None
        return ItemResult.failure(
            sku,
            "currency_mismatch",
            f"price in {', '.join(wrong)} but this shop sells in {self.channel.currency} "
            "(a WooCommerce shop has one currency)",
        )


# ------------------------------------------------------------------------------------- module helpers
def _subscription(row: Mapping[str, Any]) -> WebhookSubscription:
    return WebhookSubscription(
        str(row["id"]), str(row["topic"]), str(row["delivery_url"]), str(row.get("status") or "")
    )


def _header_int(response: httpx.Response, name: str, default: int) -> int:
    try:
        return int(response.headers.get(name, default))
    except ValueError:
        return default


def _total_pages(response: httpx.Response) -> int:
    return _header_int(response, "X-WP-TotalPages", 1)


def _parse_page(token: str | None) -> tuple[int, int | None]:
    if not token:
        return 1, None
    page, _, total = token.partition(":")
    return max(1, int(page)), int(total) if total else None


def _snippet(response: httpx.Response) -> str:
    """A short, single-line description of a non-JSON body (an HTML page's title)."""
    text = response.text
    lower = text.lower()
    start, end = lower.find("<title>"), lower.find("</title>")
    if 0 <= start < end:
        text = text[start + 7 : end]
    return " ".join(text.split())[:120]


def classify(response: httpx.Response) -> ChannelError | None:
    """WooCommerce/WordPress ``{code, message, data.status}`` errors and the HTML pages hosts, WAFs and
    security plugins answer with (throttles included) as typed errors. Never raises on odd bodies."""
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path}"
    content_type = response.headers.get("Content-Type", "").lower()
    if 300 <= status < 400:
        location = response.headers.get("Location", "?")
        return ConfigurationError(
            f"{where} was redirected (HTTP {status}) to {location.split('?')[0]}: set the shop URL exactly as "
            "WordPress reports it (https, www) so nothing is redirected",
            status=status,
        )
    if status < 300:
        if "json" in content_type:
            return None
        return ConfigurationError(
            f"{where} answered {content_type or 'no content type'} ({_snippet(response)!r}) instead of JSON: "
            "check the shop URL and that permalinks are not 'Plain'",
            status=status,
        )
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    body: Any = None
    if "json" in content_type:
        try:
            body = response.json()
        except ValueError:
            body = None
    if not isinstance(body, Mapping) or "code" not in body:
        return _host_error(response, where, retry_after)
    code = str(body.get("code"))
    message = str(body.get("message") or "")
    data = raw if isinstance(raw := body.get("data"), Mapping) else {}
    detail = f"{code}: {message}"
    if data.get("params"):
        detail += f" {json.dumps(data['params'], ensure_ascii=False)}"
    if status == 413 or code == "woocommerce_rest_request_entity_too_large":
        return RequestRejected(
            f"{where}: {detail} (the adapter's batch chunking is wrong; not retried)", status=status, code=code
        )
    if code == "woocommerce_rest_cannot_batch":
        return AuthError(
            f"{where}: {detail}. The API key's WordPress user may not batch edit: give the key Read/Write "
            "access with a user that can manage products",
            status=status,
            code=code,
        )
    if status in (401, 403):
        return AuthError(
            f"{where}: {detail}. Check the consumer key/secret (and the server clock for OAuth)",
            status=status,
            code=code,
        )
    if status == 404 and code == "rest_no_route":
        return ConfigurationError(
            f"{where}: {detail}: no WooCommerce REST v3 here (WooCommerce 3.5+ active, permalinks not 'Plain'?)",
            status=status,
            code=code,
        )
    if status in (404, 410) and code.endswith("_invalid_id"):
        return PermanentItemError(f"{where}: {detail}", status=status, code=code)
    if status == 429:
        return RateLimited(f"{where}: throttled: {detail}", status=status, code=code, retry_after=retry_after)
    if status >= 500 or status == 408:
        return TransientError(f"{where}: HTTP {status} {detail}", status=status, code=code, retry_after=retry_after)
    return RequestRejected(f"{where}: HTTP {status} {detail}", status=status, code=code)


def _host_error(response: httpx.Response, where: str, retry_after: float | None) -> ChannelError:
    """A non-JSON error page: it comes from the web server, proxy, WAF or a security plugin."""
    status = response.status_code
    page = _snippet(response)
    if status == 429 or (status == 503 and retry_after is not None):
        return RateLimited(
            f"{where}: the host throttled us (HTTP {status}: {page!r})", status=status, retry_after=retry_after
        )
    if status >= 500 or status == 408:
        return TransientError(
            f"{where}: the host failed (HTTP {status}: {page!r})", status=status, retry_after=retry_after
        )
    if status == 401:
        return AuthError(f"{where}: the web server asked for its own login (HTTP 401: {page!r})", status=status)
    if status == 403:
        return ConfigurationError(
            f"{where}: blocked by the host's firewall or a security plugin (HTTP 403: {page!r}); "
            "allow this server to reach /wp-json/",
            status=status,
        )
    if status == 404:
        return ConfigurationError(
            f"{where}: no WooCommerce REST API at this URL (HTTP 404: {page!r}); check the shop URL and that "
            "permalinks are not 'Plain'",
            status=status,
        )
    return RequestRejected(f"{where}: HTTP {status} from the host: {page!r}", status=status)
