"""AliExpress seller adapter on the IOP gateway (``https://api-sg.aliexpress.com``).

Operations and the methods behind them:

- ``publish``: small batches (below ``feed_threshold`` drafts) go one by one through
  ``aliexpress.solution.product.post`` (new) / ``aliexpress.solution.product.edit`` (has a product id);
  larger ones through one ``aliexpress.solution.feed.submit`` per operation type (PRODUCT_CREATE /
  PRODUCT_FULL_UPDATE, <= 2,000 items) followed by one ``aliexpress.solution.feed.query``. Items the feed
  has not finished come back ``state="submitted"`` with ``feed_job_id`` in the ref; later calls resolve
  them. The documented feed budget (< 150 feeds per operation type per 24 h per seller) is a token
  bucket; when it is spent, the batch falls back to single post/edit.
- ``push_prices`` / ``push_stock``: ``aliexpress.solution.batch.product.price.update`` / ``...inventory.update``
  with the documented (misspelt) ``mutiple_product_update_list``; <= 20 products x <= 200 SKUs per call
  (see :meth:`chunks`); ``discount_price`` always sent; ``update_success=false`` + ``update_failed_list``
  inside HTTP 200 mapped back per SKU.
- ``delist`` / ``relist``: ``aliexpress.postproduct.redefining.offlineaeproduct`` / ``onlineaeproduct``.
  They act on whole products: delisting one variation's SKU takes the whole product off sale.
- ``orders_since``: ``aliexpress.solution.order.get`` with ``modified_date_start/end`` in US Pacific time,
  paged by ``current_page`` to ``total_page``; ``FINISH`` orders are not in the default answer and are
  queried in a second pass of the same window.
- ``listings``: ``aliexpress.solution.product.list.get`` (per status) + ``aliexpress.solution.product.info.get``.

Unsupported: updates without a product id in their ref (AliExpress has no cheap SKU -> product lookup;
adopt listings with :meth:`listings` first); compare-and-set on stock (the API has none).
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any, ClassVar, Literal

import httpx
from listing_sync.adapters.aliexpress import mapping
from listing_sync.adapters.aliexpress.auth import SYNC_PATH, TOKEN_ERRORS, IopAuth
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
    PriceUpdate,
    RateLimited,
    RemoteListing,
    RequestRejected,
    Shipment,
    StockUpdate,
    TransientError,
    publish_groups,
)
from listing_sync.adapters.excerpt import MAPPING_ERRORS, read_each, readable, unexpected
from listing_sync.adapters.http import HttpAdapter
from listing_sync.adapters.paging import Page, next_page_number
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("adapters.aliexpress")

MAX_PRODUCTS = 20  # products per batch price/inventory call
MAX_SKUS = 200  # SKUs per product in one call
FEED_MAX = 2000  # items per feed.submit
FEED_BUDGET = 150  # recommended feeds per operation_type per 24 h per seller
BAN = re.compile(r"ban will last (?:for )?(\d+(?:\.\d+)?)(?: more)? seconds?", re.IGNORECASE)
THROTTLE_CODES = frozenset({"ApiCallLimit", "AppCallLimit", "7"})
SIGNATURE_CODES = frozenset({"IncompleteSignature", "InvalidSignature", "25"})
APP_CODES = frozenset({"InvalidAppKey", "AppKeyNotExist", "28", "29"})
#: rejections of the call itself (our bug or setup), never one product's fault
CALL_LEVEL_CODES = SIGNATURE_CODES | {"MissingParameter", "InvalidApiPath", "InvalidTimestamp", "InvalidSignMethod"}
TRANSIENT_CODES = frozenset({"ServiceUnavailable", "InternalError", "ServiceTimeout", "SystemError", "15", "10"})


class AliExpressOptions(BaseModel):
    """``[channels.options]`` for kind ``aliexpress``."""

    model_config = ConfigDict(extra="forbid")

    feed_threshold: int = Field(default=20, ge=2, description="publish batches this big or bigger go via feed")
    product_unit: int = 100000015  # piece/pieces
    inventory_deduction_strategy: Literal["place_order_withhold", "payment_success_deduct"] = "payment_success_deduct"
    freight_template_id: str | None = None
    service_policy_id: str | None = None
    shipping_lead_time: int | None = Field(default=None, ge=1, le=60)
    token_param: Literal["session", "access_token"] = "session"  # name of the seller-token parameter
    listing_statuses: tuple[str, ...] = ("onSelling", "offline", "auditing", "editingRequired")
    #: the order list carries no ship-to country; true = one aliexpress.solution.order.receiptinfo.get per
    #: order pulled to read it (reports by country), false = orders without a country (no extra calls)
    order_country: bool = False
    #: the order list carries no recipient either; true = the same call per order pulled also gives the
    #: recipient (name, phone, address) for packing slips and exports (personal data, purged as any)
    order_recipient: bool = False


class AliExpressAdapter(HttpAdapter):
    """AliExpress seller account (IOP). See the module docstring for operations and limits."""

    kind = "aliexpress"
    # price/stock: 20 products x 200 SKUs = 4,000 SKUs at most, in the shape :meth:`chunks` makes.
    # delist: max ids per call is undocumented; 3rd-party code caps at 10-100, 50 is our choice.
    # rate: no numbers are published (console only); 10/s is a conservative default.
    limits = Limits(
        publish=FEED_MAX,
        price=MAX_PRODUCTS * MAX_SKUS,
        stock=MAX_PRODUCTS * MAX_SKUS,
        delist=50,
        orders_page=50,
        rate=10,
        burst=10,
        order_overlap=timedelta(minutes=5),
        order_lag=timedelta(minutes=1),
    )
    # AliExpress product.post / schema: the adapter sends at most 6 main images.
    content_rules = ContentRules(max_images=6, category_required=True, category_pattern=r"^\d+$")
    options_model = AliExpressOptions
    extra_limiters: ClassVar = {
        "feed:PRODUCT_CREATE": (FEED_BUDGET / 86400, FEED_BUDGET),
        "feed:PRODUCT_FULL_UPDATE": (FEED_BUDGET / 86400, FEED_BUDGET),
    }
    options: AliExpressOptions

    def __init__(self, channel: Any, *, wall_clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        self.wall_clock = wall_clock  # epoch seconds: signing timestamps and order windows
        super().__init__(channel, **kwargs)

    # -- declarations --------------------------------------------------------------------------------
    def production_url(self) -> str:
        return "https://api-sg.aliexpress.com"

    def build_auth(self) -> httpx.Auth:
        creds = self.channel.credentials
        for name in ("app_key", "app_secret"):
            if name not in creds:
                raise ConfigurationError(f"channel {self.channel.name!r}: credential {name!r} is required")
        if "access_token" not in creds and "refresh_token" not in creds:
            raise ConfigurationError(
                f"channel {self.channel.name!r}: give access_token or refresh_token (seller authorization)"
            )
        return IopAuth(
            app_key=self.credential("app_key"),
            app_secret=self.credential("app_secret"),
            access_token=self.credential("access_token") if "access_token" in creds else None,
            refresh_token=self.credential("refresh_token") if "refresh_token" in creds else None,
            base_url=self.base_url(),
            now_ms=lambda: int(self.wall_clock() * 1000),
            clock=self.clock,
            redactor=self.redactor,
            token_param=self.options.token_param,
        )

    def default_headers(self) -> dict[str, str]:
        return {"User-Agent": "listing-sync/0.1", "Accept": "application/json"}

    def classify(self, response: httpx.Response) -> ChannelError | None:
        """IOP/TOP error bodies, which arrive with HTTP 200 (throttle included)."""
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        err = body["error_response"] if isinstance(body.get("error_response"), dict) else body
        code = str(err.get("code", "0"))
        if code in ("0", "") or ("code" not in err and "error_response" not in body):
            return None
        sub = str(err.get("sub_code") or "")
        message = " ".join(str(err.get(k)) for k in ("message", "msg", "sub_msg") if err.get(k)) or code
        text = f"AliExpress error {code}{f'/{sub}' if sub else ''}: {message}"
        if code in THROTTLE_CODES or sub.startswith("accesscontrol."):
            wait = BAN.search(message)
            return RateLimited(text, code=code, retry_after=float(wait.group(1)) if wait else 1.0)
        if code in TOKEN_ERRORS:
            return AuthError(f"{text}. Re-authorize the seller (new access/refresh token).", code=code)
        if code in APP_CODES:
            return AuthError(f"{text}. Check app_key/app_secret.", code=code)
        if "ip-whitelist" in sub or code == "11":
            return ConfigurationError(f"{text}. Add this machine's IP to the app's whitelist.", code=code)
        if code in SIGNATURE_CODES:
            return RequestRejected(f"{text}. Check app_secret; otherwise a signing bug.", code=code)
        if sub.startswith("isv."):  # TOP: the business layer refused our input, whatever the top code
            return RequestRejected(text, code=code)
        if code in TRANSIENT_CODES or str(err.get("type")) in ("ISP", "SYSTEM") or sub.startswith("isp."):
            return TransientError(text, code=code)
        return RequestRejected(text, code=code)

    # -- plumbing ------------------------------------------------------------------------------------
    def call(self, method: str, limiter: str = "default", *, idempotent: bool = True, **params: Any) -> dict[str, Any]:
        """POST one method-style API (business params in the form body); return its ``*_response``.
        ``idempotent=False``: a call that creates, never re-sent after a lost answer."""
        data = {k: str(v) for k, v in params.items() if v is not None}
        response = self.http.post(
            SYNC_PATH, params={"method": method}, data=data, limiter=limiter, idempotent=idempotent
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientError(f"{method}: answer is not JSON ({response.text[:200]!r})") from exc
        return mapping.envelope(body, method)

    def chunks(self, op: Operation, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        """Price/stock: at most 20 distinct products, at most 200 SKUs of one product, per call. Delist/relist
        act on whole products: at most 50 distinct products per call, however many of their SKUs."""
        if op in (Operation.DELIST, Operation.RELIST):
            yield from self._product_chunks(items)
            return
        if op not in (Operation.PRICE, Operation.STOCK):
            yield from super().chunks(op, items)
            return
        batch: list[ItemT] = []
        per_product: dict[str, int] = {}
        for item in items:
            key = _product_key(item)
            full = per_product.get(key, 0) >= MAX_SKUS
            if batch and (full or (key not in per_product and len(per_product) >= MAX_PRODUCTS)):
                yield batch
                batch, per_product = [], {}
            batch.append(item)
            per_product[key] = per_product.get(key, 0) + 1
        if batch:
            yield batch

    def _product_chunks(self, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        batch: list[ItemT] = []
        products: set[str] = set()
        for item in items:
            key = _product_key(item)
            if batch and key not in products and len(products) >= self.limits.delist:
                yield batch
                batch, products = [], set()
            batch.append(item)
            products.add(key)
        if batch:
            yield batch

    def _product_ids(self, refs: Sequence[tuple[str, ListingRef | None]]) -> dict[str, str | ItemResult]:
        """sku -> product id, resolving refs that only carry a feed job; else a failed ItemResult."""
        out: dict[str, str | ItemResult] = {}
        jobs: dict[str, dict[str, dict[str, Any]]] = {}
        for sku, ref in refs:
            pid = ref.get("product_id") if ref else None
            if pid:
                out[sku] = pid
                continue
            job = ref.get("feed_job_id") if ref else None
            if not job:
                out[sku] = ItemResult.failure(
                    sku, "missing_ref", "no AliExpress product_id for this SKU: publish it or adopt it via listings()"
                )
                continue
            if job not in jobs:
                jobs[job] = mapping.feed_results(self.call("aliexpress.solution.feed.query", job_id=job))
            assert ref is not None
            parsed = jobs[job].get(ref.get("item_content_id") or ref.sku)
            if parsed is None:
                out[sku] = ItemResult.failure(
                    sku, "feed_pending", f"feed job {job} has not finished this listing yet", retryable=True
                )
            elif parsed.get("success") and parsed.get("productId"):
                out[sku] = str(parsed["productId"])
            else:
                code, message = mapping.feed_error(parsed)
                out[sku] = ItemResult.failure(sku, code, f"listing was never created (feed job {job}): {message}")
        return out

    # -- price / stock -------------------------------------------------------------------------------
    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ItemResult]:
        return self._batch(Operation.PRICE, updates, "aliexpress.solution.batch.product.price.update")

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ItemResult]:
        return self._batch(Operation.STOCK, updates, "aliexpress.solution.batch.product.inventory.update")

    def _batch(self, op: Operation, updates: Sequence[Any], method: str) -> list[ItemResult]:
        resolved = self._product_ids([(u.sku, u.ref) for u in updates])
        results: dict[int, ItemResult] = {}
        ready: list[tuple[int, Any, str]] = []
        for index, u in enumerate(updates):
            pid = resolved[u.sku]
            if isinstance(pid, ItemResult):
                results[index] = pid
            else:
                ready.append((index, u, pid))
        for chunk in self.chunks(op, [_Keyed(i, u, pid) for i, u, pid in ready]):
            groups: OrderedDict[str, list[Any]] = OrderedDict()
            for k in chunk:
                groups.setdefault(k.pid, []).append(k.item)
            payload = mapping.price_list(groups) if op is Operation.PRICE else mapping.stock_list(groups)
            result = self.call(method, mutiple_product_update_list=payload)
            success, failed, succeeded = mapping.batch_outcome(result)
            for k in chunk:
                if k.pid in failed:
                    code, message = failed[k.pid]
                    results[k.index] = ItemResult.failure(
                        k.item.sku, code, f"product {k.pid}: {message}", retryable=_retryable(code, message)
                    )
                elif success or k.pid in succeeded:
                    results[k.index] = ItemResult.success(k.item.sku, ref=mapping.product_ref(k.item.sku, k.pid))
                else:
                    message = result.get("update_error_message") or "product in neither the failed nor the success list"
                    results[k.index] = ItemResult.failure(
                        k.item.sku, str(result.get("update_error_code") or "unconfirmed"), message, retryable=True
                    )
        return [results[i] for i in range(len(updates))]

    # -- publish -------------------------------------------------------------------------------------
    def estimate_calls(self, op: Operation, items: Sequence[BatchItem]) -> int:
        """Publish: from ``feed_threshold`` drafts on, one feed.submit and one feed.query per operation type
        (create, full update), else one post/edit per draft. Others: one call per chunk."""
        if op is not Operation.PUBLISH:
            return self.count_calls(op, items)
        groups = publish_groups(items)
        if len(groups) < self.options.feed_threshold:
            return len(groups)
        kinds = {g.ref is not None for g in groups}
        return sum(2 * -(-len(groups) // FEED_MAX) for _ in kinds)

    def publish(self, drafts: Sequence[ListingDraft]) -> list[ItemResult]:
        resolved = self._product_ids([(d.sku, d.ref) for d in drafts if d.ref is not None])
        plan: list[tuple[ListingDraft, str | None] | ItemResult] = []
        for d in drafts:
            pid = resolved.get(d.sku)
            if isinstance(pid, ItemResult) and pid.code == "feed_pending":
                plan.append(ItemResult.success(d.sku, ref=d.ref, state="submitted"))  # never create twice
            else:
                plan.append((d, pid if isinstance(pid, str) else None))
        todo = [p for p in plan if not isinstance(p, ItemResult)]
        if len(todo) >= self.options.feed_threshold:
            done = self._publish_feed(todo)
        else:
            done = {d.sku: self._publish_one(d, pid) for d, pid in todo}
        return [p if isinstance(p, ItemResult) else done[p[0].sku] for p in plan]

    def _publish_one(self, draft: ListingDraft, product_id: str | None) -> ItemResult:
        try:
            if product_id is None:
                result = self.call(
                    "aliexpress.solution.product.post", post_product_request=mapping.post_product(draft, self.options)
                )
                product_id = str(((result.get("result") or {}).get("product_id")) or "")
                if not product_id:
                    return ItemResult.failure(draft.sku, "no_product_id", f"product.post returned no id: {result}")
            else:
                self.call(
                    "aliexpress.solution.product.edit",
                    edit_product_request=mapping.post_product(draft, self.options, product_id),
                )
        except RequestRejected as exc:  # a refused product is this item's problem, not the batch's
            if exc.code in CALL_LEVEL_CODES:
                raise
            return ItemResult.from_error(draft.sku, exc)
        return ItemResult.success(draft.sku, ref=mapping.product_ref(draft.sku, product_id))

    def _publish_feed(self, todo: list[tuple[ListingDraft, str | None]]) -> dict[str, ItemResult]:
        out: dict[str, ItemResult] = {}
        for op_type in ("PRODUCT_CREATE", "PRODUCT_FULL_UPDATE"):
            group = [(d, pid) for d, pid in todo if (pid is None) == (op_type == "PRODUCT_CREATE")]
            if not group:
                continue
            if not self.http.limiter(f"feed:{op_type}").try_acquire():
                out.update({d.sku: self._publish_one(d, pid) for d, pid in group})  # daily feed budget spent
                continue
            item_list = mapping.feed_item_list((d.sku, mapping.schema_item(d, self.options, pid)) for d, pid in group)
            job = str(
                self.call("aliexpress.solution.feed.submit", operation_type=op_type, item_list=item_list)["job_id"]
            )
            parsed = mapping.feed_results(self.call("aliexpress.solution.feed.query", job_id=job))
            for d, pid in group:
                row = parsed.get(d.sku)
                if row is None:
                    ids = {"feed_job_id": job, "item_content_id": d.sku, **({"product_id": pid} if pid else {})}
                    out[d.sku] = ItemResult.success(d.sku, ref=ListingRef(d.sku, pid, ids), state="submitted")
                elif row.get("success"):
                    out[d.sku] = ItemResult.success(
                        d.sku, ref=mapping.product_ref(d.sku, str(row.get("productId") or pid))
                    )
                else:
                    code, message = mapping.feed_error(row)
                    out[d.sku] = ItemResult.failure(d.sku, code, message)
        return out

    # -- delist / relist -----------------------------------------------------------------------------
    def delist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        return self._on_off(requests, "aliexpress.postproduct.redefining.offlineaeproduct")

    def relist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        return self._on_off(requests, "aliexpress.postproduct.redefining.onlineaeproduct")

    def _on_off(self, requests: Sequence[DelistRequest], method: str) -> list[ItemResult]:
        resolved = self._product_ids([(r.sku, r.ref) for r in requests])
        ids = list(dict.fromkeys(p for p in resolved.values() if isinstance(p, str)))
        outcome: ItemResult | None = None
        if ids:
            result = self.call(method, product_ids=";".join(ids)).get("result") or {}
            if not result.get("success", False):
                code = str(result.get("error_code") or "failed")
                outcome = ItemResult.failure(
                    "", code, str(result.get("error_message") or result), retryable=_retryable(code, str(result))
                )
        out = []
        for r in requests:
            pid = resolved[r.sku]
            if isinstance(pid, ItemResult):
                out.append(pid)
            elif outcome is not None:
                out.append(
                    ItemResult.failure(
                        r.sku, outcome.code or "failed", outcome.message or "", retryable=outcome.retryable
                    )
                )
            else:
                out.append(ItemResult.success(r.sku, ref=r.ref))
        return out

    # -- orders --------------------------------------------------------------------------------------
    cancel_unsupported = (
        "the Open Platform has no seller-side cancel call; the buyer cancels (IN_CANCEL) and the seller "
        "accepts in the seller center"
    )
    carrier_codes = mapping.CARRIER_CODES

    def find_shipment(self, shipment: Shipment) -> str | None:
        """aliexpress.solution.order.info.get: the order's ``logistic_info_list``; the entry with this
        ``logistics_no``."""
        param1 = mapping.dumps({"order_id": int(shipment.order_id)})
        answer = self.call("aliexpress.solution.order.info.get", param1=param1)
        return shipment.tracking if shipment.tracking in mapping.logistics_numbers(answer.get("result")) else None

    def send_shipment(self, shipment: Shipment) -> str | None:
        """aliexpress.solution.order.fulfill; answers ``result.result_success``. No idempotency key: never
        re-sent after a lost answer."""
        params = mapping.fulfill_params(shipment, self.carrier_code(shipment.carrier))
        result = self.call("aliexpress.solution.order.fulfill", idempotent=False, **params).get("result") or {}
        if not result.get("result_success"):
            raise RequestRejected(
                f"aliexpress.solution.order.fulfill for order {shipment.order_id} did not succeed: {str(result)[:200]}",
                channel=self.name,
            )
        return shipment.tracking

    def orders_since(self, cursor: OrderCursor) -> OrderPage:
        now = mapping.now_utc(self.wall_clock())
        newest = now - self.limits.order_lag
        until = cursor.until or newest
        if cursor.until is None and self.limits.order_window is not None:
            until = min(until, cursor.since + self.limits.order_window)
        phase, _, number = (cursor.page or "open:1").partition(":")
        page = int(number or 1)
        param0 = mapping.order_query(cursor.since, until, page, self.limits.orders_page, phase == "finish")
        result = self.call("aliexpress.solution.order.get", param0=param0).get("result")
        if not isinstance(result, dict):
            raise unexpected(
                "aliexpress.solution.order.get answer", "no result object", value=result, channel=self.name
            )
        if result.get("success") is False or result.get("error_code"):
            raise TransientError(
                f"aliexpress.solution.order.get failed: {result.get('error_code')} {result.get('error_message')}",
                code=str(result.get("error_code") or "order_get_failed"),
            )
        rows = mapping.items(result.get("target_list"), "order_dto")
        currency = self.channel.currency
        read, problems = read_each(  # the receipt country (option order_country) is read per order too
            rows,
            lambda o: self._with_receipt(mapping.order(o, currency)),
            what="order_dto",
            key="order_id",
            channel=self.name,
        )
        orders = tuple(read)
        following = next_page_number(page, len(rows), last=self._total_page(result, "order.get"))
        position = f"{phase}:{following}" if following else None
        self.check_page("aliexpress.solution.order.get current_page", cursor.page, position, items=None)
        if position is not None:
            return OrderPage(orders, OrderCursor(cursor.since, until, position), False, tuple(problems))
        if phase != "finish":
            return OrderPage(orders, OrderCursor(cursor.since, until, "finish:1"), False, tuple(problems))
        # caught up when what is left is shorter than the overlap the next pull re-reads anyway
        # (time moves while paging, so "until == now - lag" is never exactly true on the last page)
        caught_up = until >= newest - self.limits.order_overlap
        return OrderPage(orders, OrderCursor(until - self.limits.order_overlap), caught_up, tuple(problems))

    def _with_receipt(self, order: Order) -> Order:
        """The order with its ship-to country (option ``order_country``) and recipient (``order_recipient``)
        from aliexpress.solution.order.receiptinfo.get's receipt address: one call per order pulled."""
        wanted_country = self.options.order_country and not order.ship_country
        if not (wanted_country or self.options.order_recipient):
            return order
        param1 = mapping.dumps({"order_id": int(order.external_id)})
        result = self.call("aliexpress.solution.order.receiptinfo.get", param1=param1).get("result")
        country = mapping.receipt_country(result) or order.ship_country
        recipient = mapping.receipt_recipient(result) if self.options.order_recipient else order.recipient
        return replace(order, ship_country=country, recipient=recipient)

    def _total_page(self, result: Any, what: str) -> int:
        """``total_page`` of a list answer; one that is no number is a typed error on the page."""
        try:
            return int(result.get("total_page") or 0)
        except MAPPING_ERRORS as exc:
            raise unexpected(f"aliexpress.solution.{what} result", exc, value=result, channel=self.name) from None

    # -- listings ------------------------------------------------------------------------------------
    def listings(self) -> Iterator[RemoteListing]:
        for status in self.options.listing_statuses:

            def fetch(page: int, status: str = status) -> Page[dict[str, Any]]:
                query = mapping.dumps({"product_status_type": status, "current_page": page, "page_size": 99})
                result = self.call("aliexpress.solution.product.list.get", aeop_a_e_product_list_query=query)
                result = result.get("result") or {}
                rows = mapping.items(result.get("aeop_a_e_product_display_d_t_o_list"), "item_display_dto")
                return Page(rows, next_page_number(page, len(rows), last=self._total_page(result, "product.list.get")))

            rows = self.pages(fetch, f"aliexpress.solution.product.list.get {status} current_page", start=1)
            for found in readable(
                rows,
                partial(self._listings_of, status=status),
                what="item_display_dto",
                key="product_id",
                channel=self.name,
                told=lambda problem: log.warning("%s; left out of the read-back", problem),
            ):
                yield from found

    def _listings_of(self, row: Any, *, status: str) -> list[RemoteListing]:
        return list(self._product_listings(str(row["product_id"]), status))

    def _product_listings(self, product_id: str, status: str) -> Iterator[RemoteListing]:
        """The SKUs of one product (product.info.get); one that does not read is a typed error on it."""
        info = self.call("aliexpress.solution.product.info.get", product_id=product_id).get("result") or {}
        currency = info.get("currency_code") or self.channel.currency
        title = info.get("subject")
        for sku in mapping.items(info.get("aeop_ae_product_s_k_us"), "global_aeop_ae_product_sku"):
            price = sku.get("sku_discount_price") or sku.get("sku_price")
            quantity = sku.get("ipm_sku_stock", sku.get("sku_stock"))
            code = str(sku.get("sku_code") or "")
            yield RemoteListing(
                sku=code,
                ref=mapping.product_ref(code, product_id, sku_id=str(sku.get("id") or "")),
                price=Money.of(str(price), currency) if price not in (None, "") else None,
                quantity=int(quantity) if isinstance(quantity, int | str) and str(quantity).isdigit() else None,
                status={"onSelling": "active", "offline": "inactive", "auditing": "submitted"}.get(status, status),
                title=title,
            )


class _Keyed:
    """One update with its input position and product id (for chunking and mapping back)."""

    __slots__ = ("index", "item", "pid")

    def __init__(self, index: int, item: PriceUpdate | StockUpdate, pid: str) -> None:
        self.index, self.item, self.pid = index, item, pid

    @property
    def sku(self) -> str:
        return self.item.sku

    @property
    def ref(self) -> ListingRef | None:
        return self.item.ref


def _product_key(item: Any) -> str:
    if isinstance(item, _Keyed):
        return item.pid
    ref = getattr(item, "ref", None)
    return (ref.get("product_id") or ref.get("feed_job_id") or item.sku) if ref else item.sku


def _retryable(code: str, message: str) -> bool:
    text = f"{code} {message}".lower()
    return any(word in text for word in ("system", "timeout", "busy", "isp.", "try again"))
