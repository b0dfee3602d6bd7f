"""Taobao / Tmall adapter over the TOP gateway (``POST /router/rest``, signed form parameters).

Operations and the TOP methods behind them:

- publish: ``taobao.item.add`` (new) / ``taobao.item.update`` (draft has a ref), then
  ``taobao.item.skus.get`` to adopt the new SKU ids. Images are NOT uploaded (TOP wants them in the
  picture space first); category rules vary per leaf category and surface as ``isv.*`` item errors.
- stock: absolute (``type=1``). One SKU: ``taobao.item.quantity.update``; several SKUs of one item:
  ``taobao.skus.quantity.update`` (max 20, all-or-nothing; on an item error each SKU is retried alone
  so the bad one is isolated). With ``tmall = true``: ``tmall.item.quantity.update`` with
  ``sku_quantities`` by sku_id and ``options.type=1`` plus a fresh hex ``outer_biz_key`` per call (kept
  across retries, so a retried call is not applied twice). TOP has no compare-and-set: ``expected`` is
  ignored.
- price: ``taobao.item.sku.price.update`` by ``properties`` (not sku_id) with ``item_price`` equal to
  the new SKU price, which always keeps the item price inside the SKU price range; items without SKUs
  use ``taobao.item.price.update`` (reported by one source as retired, see README).
- delist / relist: ``taobao.item.update.delisting`` / ``.listing`` per item (``num`` > 0 is required; for
  items with SKUs TOP replaces it by the sum of SKU stock). One SKU alone can only be taken off sale
  on Tmall (``taobao.sku.update.listing.tmall``); on Taobao that request fails as ``unsupported``.
- orders: ``taobao.trades.sold.increment.get``, see :meth:`TaobaoAdapter.orders_since` for the paging.
- listings: ``taobao.items.onsale.get`` + ``taobao.items.inventory.get`` (banners off_shelf,
  for_shelved, sold_out) and ``taobao.item.skus.get`` (40 items per call).

Refs: ``ids`` holds ``num_iid`` and, for a SKU, ``sku_id``, ``properties`` and ``outer_id`` (= our
SKU, the merchant code). Refs seen in publish and listings() are cached; an update without a ref is
looked up by merchant code (``taobao.skus.custom.get``, then ``taobao.items.custom.get``).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal, TypeVar

import httpx
from listing_sync.adapters.base import (
    BatchItem,
    ChannelError,
    ContentRules,
    DelistRequest,
    ItemResult,
    ItemT,
    Limits,
    ListingDraft,
    ListingRef,
    Operation,
    OrderCursor,
    OrderPage,
    OutcomeUnknown,
    PermanentItemError,
    PriceUpdate,
    RemoteListing,
    RequestRejected,
    Shipment,
    StockUpdate,
    TransientError,
    publish_groups,
)
from listing_sync.adapters.excerpt import MAPPING_ERRORS, readable, unexpected
from listing_sync.adapters.http import HttpAdapter
from listing_sync.adapters.paging import Page, next_page_number
from pydantic import BaseModel, ConfigDict, Field

from . import mapping as m
from .auth import TopSignAuth, top_time

log = logging.getLogger("adapters.taobao")
T = TypeVar("T")


PATH = "/router/rest"
HOSTS = {
    "production": "https://gw.api.taobao.com",
    "overseas": "https://api.taobao.com",
    "sandbox": "http://gw.api.tbsandbox.com",
}
MAX_WINDOW = timedelta(days=1)  # end_modified - start_modified
REACH = timedelta(days=89)  # "only the last 3 months"; the shortest 3 months, to stay inside
SKU_BATCH = 20
SKUS_GET_BATCH = 40
ITEMS_PAGE = 100
INVENTORY_BANNERS = ("off_shelf", "for_shelved", "sold_out")


class TaobaoOptions(BaseModel):
    """The ``[channels.options]`` table of a ``taobao`` channel."""

    model_config = ConfigDict(extra="forbid")

    tmall: bool = False  # use the tmall.* variants where they differ (stock, SKU-level delist)
    endpoint: Literal["production", "overseas", "sandbox"] = "production"
    sign_method: Literal["md5", "hmac", "hmac-sha256"] = "hmac-sha256"
    order_window_minutes: int = Field(default=30, ge=1, le=1440)
    location_state: str | None = None  # item location, required by taobao.item.add (e.g. "浙江")
    location_city: str | None = None  # e.g. "杭州"


def bound_ref(sku: str, ref: ListingRef | None) -> ListingRef | None:
    """``sku``'s own ref out of what the syncer stored: the ref itself when it names this SKU (or a SKU
    id), else the SKU's ids bound on its item's ref by publish; None when the ids are not known."""
    if ref is None or not ref.get("num_iid"):
        return None
    if ref.sku == sku or ref.get("sku_id"):
        return ref
    sku_id = ref.get(f"sku_id/{sku}")
    if not sku_id:
        return None
    return m.sku_ref(sku, ref.get("num_iid"), sku_id, ref.get(f"properties/{sku}"), sku)


def _needs_sku_read(chunk: Sequence[BatchItem], tmall: bool) -> bool:
    """Whether delisting/relisting this one-item chunk reads the item's SKUs first (its refs name SKUs of
    an item but do not bind the item's whole SKU list)."""
    if tmall or not chunk:
        return False
    refs = [item.ref for item in chunk if item.ref is not None]
    if len(refs) != len(chunk) or all(r.sku == i.sku and not r.get("sku_id") for r, i in zip(refs, chunk, strict=True)):
        return False
    return not m.bound_skus(refs[0])


def kept(sku: str, given: ListingRef | None, resolved: ListingRef) -> ListingRef:
    """The ref a result carries back to be stored: the item's ref the syncer gave when it binds ``sku``
    among all the item's SKUs (narrowing it would lose the others), else what was resolved (learned)."""
    return given if given is not None and given.get(f"sku_id/{sku}") else resolved


class TaobaoAdapter(HttpAdapter):
    """Taobao/Tmall over TOP. See the module docstring for the method behind each operation."""

    kind = "taobao"
    # TOP documents no per-second rate for an app: its quota is calls per day per app (tiered) and a
    # platform-wide per-API QPS. 5/s with a burst of 10 stays far inside both; bans still come back
    # as code 7 with their wait and pause the limiter.
    limits = Limits(
        publish=SKUS_GET_BATCH,  # drafts per call: their new SKU ids come back in one item.skus.get
        price=1,
        stock=SKU_BATCH,
        delist=1,
        orders_page=100,
        rate=5.0,
        burst=10,
        order_window=timedelta(minutes=30),
        order_overlap=timedelta(minutes=5),
        order_lag=timedelta(minutes=1),
    )
    # taobao.item.add: at most 5 main images; props/sku_properties are pid:vid pairs.
    content_rules = ContentRules(
        max_images=5,
        category_required=True,
        numeric_attributes=True,
        category_pattern=r"^\d+$",
        category_hint="leaf category id (cid)",
        whole_item_delist=True,  # taobao.item.update.delisting; SKU-level only on Tmall
        sku_listing_option="tmall",
    )
    options_model: ClassVar[type[BaseModel]] = TaobaoOptions
    options: TaobaoOptions

    def __init__(self, channel, *, now: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._refs: dict[str, ListingRef] = {}
        super().__init__(channel, **kwargs)
        window = timedelta(minutes=self.options.order_window_minutes)
        if window != self.limits.order_window:
            self.limits = replace(type(self).limits, order_window=window)

    # -- HttpAdapter hooks ---------------------------------------------------------------------------
    def production_url(self) -> str:
        return HOSTS[self.options.endpoint]

    def build_auth(self) -> httpx.Auth:
        return TopSignAuth(
            app_key=self.credential("app_key"),
            secret=self.credential("app_secret"),
            session=self.credential("session"),
            sign_method=self.options.sign_method,
            now=self._now,
        )

    def classify(self, response: httpx.Response) -> ChannelError | None:
        """TOP answers HTTP 200 for failures too: the body's ``error_response`` decides."""
        if response.status_code >= 400:
            return None
        try:
            body = response.json()
        except ValueError:
            return TransientError(f"TOP answered HTTP {response.status_code} with a body that is not JSON")
        if isinstance(body, dict) and "error_response" in body:
            return m.error_from_body(body["error_response"])
        return None

    # -- plumbing ------------------------------------------------------------------------------------
    def call(self, method: str, params: Mapping[str, Any], *, idempotent: bool = True) -> dict[str, Any]:
        """One TOP call; returns the ``<method>_response`` object. Empty values are not sent.
        ``idempotent=False``: a call that creates (TOP has no idempotency key) is not sent again when its
        answer is lost; :class:`OutcomeUnknown` is raised instead."""
        data = {k: str(v) for k, v in params.items() if v is not None and v != ""}
        response = self.http.post(PATH, params={"method": method}, data=data, idempotent=idempotent)
        body = response.json()
        key = m.response_key(method)
        if key not in body:
            raise RequestRejected(f"{method}: response has no {key}: {str(body)[:200]}", channel=self.name)
        return body[key]

    def _each(self, items: Sequence[T], sku: Callable[[T], str], fn: Callable[[T], ItemResult]) -> list[ItemResult]:
        """Run ``fn`` per item. Item errors become failed results; a channel-wide error (auth, ban,
        outage) is raised while nothing was applied yet, else the rest are failed as retryable so the
        applied items' results (and publish refs) are not lost."""
        results: list[ItemResult] = []
        for index, item in enumerate(items):
            try:
                results.append(fn(item))
            except (PermanentItemError, ValueError) as exc:
                results.append(self._item_failure(sku(item), exc))
            except RequestRejected as exc:
                if exc.code == "25":
                    raise
                results.append(ItemResult.from_error(sku(item), exc))
            except ChannelError as exc:
                if not any(r.ok for r in results):
                    raise
                results += [
                    ItemResult.failure(
                        sku(rest),
                        exc.code or type(exc).__name__,
                        f"not attempted after a channel error: {exc.message}",
                        retryable=True,
                        retry_after=exc.retry_after,
                    )
                    for rest in items[index:]
                ]
                break
        return results

    @staticmethod
    def _item_failure(sku: str, exc: Exception) -> ItemResult:
        if isinstance(exc, ChannelError):
            return ItemResult.from_error(sku, exc)
        return ItemResult.failure(sku, "invalid", str(exc))

    def _resolve(self, sku: str, ref: ListingRef | None, *, need_properties: bool = False) -> ListingRef:
        """A ref with ``num_iid`` (and ``sku_id``/``properties`` for SKUs) for ``sku``: the bound one the
        syncer stored, else this instance's cache, else looked up by merchant code."""
        ref = bound_ref(sku, ref) or self._refs.get(sku)
        if ref is None:
            ref = self._lookup(sku)
        if need_properties and ref.get("sku_id") and not ref.get("properties"):
            ref = self._complete(ref)
        self._refs[sku] = ref
        return ref

    def _lookup(self, sku: str) -> ListingRef:
        body = self.call("taobao.skus.custom.get", {"outer_id": sku, "fields": m.SKU_FIELDS})
        skus = m.unwrap(body.get("skus"), "sku")
        if len(skus) > 1:
            raise PermanentItemError(
                f"merchant code {sku!r} matches {len(skus)} Taobao SKUs; make outer_ids unique", code="ambiguous"
            )
        if skus:
            s = skus[0]
            return m.sku_ref(sku, s["num_iid"], s["sku_id"], s.get("properties"), sku)
        items = m.unwrap(
            self.call("taobao.items.custom.get", {"outer_id": sku, "fields": m.ITEM_FIELDS}).get("items"), "item"
        )
        if len(items) == 1:
            return m.sku_ref(sku, items[0]["num_iid"], outer_id=sku)
        raise PermanentItemError(
            f"SKU {sku!r} not found on Taobao by merchant code ({len(items)} items match): publish it or adopt it "
            "through listings()",
            code="not_found",
        )

    def _complete(self, ref: ListingRef) -> ListingRef:
        for s in self._skus_of([str(ref.get("num_iid"))]):
            if str(s["sku_id"]) == ref.get("sku_id"):
                return m.sku_ref(ref.sku, s["num_iid"], s["sku_id"], s.get("properties"), ref.get("outer_id"))
        raise PermanentItemError(
            f"SKU {ref.sku!r}: sku_id {ref.get('sku_id')} is no longer on item {ref.get('num_iid')}", code="not_found"
        )

    def _skus_of(self, num_iids: Sequence[str]) -> list[dict[str, Any]]:
        body = self.call("taobao.item.skus.get", {"num_iids": ",".join(num_iids), "fields": m.SKU_FIELDS})
        return self._listed(body, "skus", "sku")[0]

    # -- publish -------------------------------------------------------------------------------------
    def publish(self, drafts: Sequence[ListingDraft]) -> list[ItemResult]:
        results = self._each(drafts, lambda d: d.sku, self._publish_one)
        return self._bind_skus(drafts, results)

    def _publish_one(self, draft: ListingDraft) -> ItemResult:
        params = m.publish_params(
            draft, location_state=self.options.location_state, location_city=self.options.location_city
        )
        num_iid = draft.ref.get("num_iid") if draft.ref else None
        if num_iid:
            item = self.call("taobao.item.update", {"num_iid": num_iid, **params}).get("item", {})
        else:
            if not (self.options.location_state and self.options.location_city):
                raise PermanentItemError(
                    "taobao.item.add needs the item location: set options location_state and location_city",
                    code="configuration",
                )
            item = self._add_item(draft.sku, params)
        num_iid = str(item.get("num_iid") or num_iid)
        ids = {"num_iid": num_iid, "outer_id": draft.sku}
        ref = ListingRef(draft.sku, num_iid, ids)
        self._refs[draft.sku] = ref
        return ItemResult.success(draft.sku, ref=ref)

    def _add_item(self, sku: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``taobao.item.add``, never sent twice: when its answer is lost the item may exist already, so
        it is looked up by its merchant code (``taobao.items.custom.get``) and adopted if there; if not,
        the failure stays retryable and the next sync creates it."""
        try:
            return dict(self.call("taobao.item.add", params, idempotent=False).get("item", {}))
        except OutcomeUnknown:
            body = self.call("taobao.items.custom.get", {"outer_id": sku, "fields": m.ITEM_FIELDS})
            items = m.unwrap(body.get("items"), "item")
            if len(items) == 1:
                log.info(
                    "[%s] %s: taobao.item.add lost its answer; adopted item %s", self.name, sku, items[0]["num_iid"]
                )
                return dict(items[0])
            if len(items) > 1:
                raise PermanentItemError(
                    f"merchant code {sku!r} matches {len(items)} Taobao items after a lost answer; delete the "
                    "extra one in the seller centre",
                    code="ambiguous",
                ) from None
            raise

    def _bind_skus(self, drafts: Sequence[ListingDraft], results: list[ItemResult]) -> list[ItemResult]:
        """Adopt the SKU ids TOP assigned to the published items with variations (``item.add`` answers
        only the item's ``num_iid``): one ``taobao.item.skus.get`` per 40 items. Each item's ref then
        binds every SKU (``sku_id/<sku>``, ``properties/<sku>``), so later pushes need no look-up. A
        failure here does not undo the publish (the ids are looked up when first needed)."""
        items = {
            str(r.ref.get("num_iid")): n
            for n, (d, r) in enumerate(zip(drafts, results, strict=True))
            if r.ok and r.ref is not None and d.variations
        }
        keys = list(items)
        for start in range(0, len(keys), SKUS_GET_BATCH):
            try:
                skus = self._skus_of(keys[start : start + SKUS_GET_BATCH])
            except ChannelError as exc:
                log.warning("[%s] published items but could not read their SKUs: %s", self.name, exc)
                continue
            bound: dict[str, dict[str, str]] = {}
            for s in skus:
                outer = str(s.get("outer_id") or "")
                if not outer:
                    continue
                num_iid = str(s["num_iid"])
                self._refs[outer] = m.sku_ref(outer, num_iid, s["sku_id"], s.get("properties"), outer)
                bound.setdefault(num_iid, {}).update(m.bound_ids(outer, s["sku_id"], s.get("properties")))
            for num_iid, extra in bound.items():
                n = items[num_iid]
                ref = results[n].ref
                assert ref is not None
                results[n] = replace(results[n], ref=ListingRef(ref.sku, ref.external_id, {**ref.ids, **extra}))
        return results

    def known_ref(self, sku: str) -> ListingRef | None:
        """The cached ref for one of our SKUs (from publish or listings())."""
        return self._refs.get(sku)

    # -- price ---------------------------------------------------------------------------------------
    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ItemResult]:
        return self._each(updates, lambda u: u.sku, self._price_one)

    def _price_one(self, update: PriceUpdate) -> ItemResult:
        price = m.yuan(update.price)
        ref = self._resolve(update.sku, update.ref, need_properties=True)
        if ref.get("properties"):
            params = {"num_iid": ref.get("num_iid"), "properties": ref.get("properties"), "price": price}
            params["item_price"] = price  # keeps the item price inside the SKU price range
            self.call("taobao.item.sku.price.update", params)
        else:
            self.call("taobao.item.price.update", {"num_iid": ref.get("num_iid"), "price": price})
        return ItemResult.success(update.sku, ref=kept(update.sku, update.ref, ref))

    # -- estimate ------------------------------------------------------------------------------------
    def estimate_calls(self, op: Operation, items: Sequence[BatchItem]) -> int:
        """Publish: one add/update per item and one ``item.skus.get`` per 40 items with SKUs; price: one
        call per SKU; stock: one per chunk; delist/relist: one per item (plus a SKU read where the ref does
        not bind the item's SKUs). Every SKU without a bound id costs a merchant-code look-up first."""
        if op is Operation.PUBLISH:
            groups = publish_groups(items)
            return len(groups) + -(-sum(1 for g in groups if g.variations) // SKUS_GET_BATCH)
        lookups = sum(1 for item in items if bound_ref(item.sku, item.ref) is None and item.sku not in self._refs)
        if op is Operation.PRICE:
            return len(items) + lookups
        chunks = list(self.chunks(op, items))
        if op is Operation.STOCK:
            return len(chunks) + lookups
        reads = sum(1 for chunk in chunks if _needs_sku_read(chunk, self.options.tmall))
        return len(chunks) + reads + lookups

    # -- stock ---------------------------------------------------------------------------------------
    def chunks(self, op: Operation, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        """Stock batches are per item (num_iid), at most 20 SKUs; delist/relist batches hold the SKUs of ONE
        item (one call takes the whole item down or up); other operations are flat."""
        if op in (Operation.DELIST, Operation.RELIST):
            by_item: dict[str, list[ItemT]] = {}
            for item in items:
                by_item.setdefault(self._item_key(item), []).append(item)
            yield from by_item.values()
            return
        if op is not Operation.STOCK:
            yield from super().chunks(op, items)
            return
        groups: dict[str, list[ItemT]] = {}
        for item in items:
            groups.setdefault(self._item_key(item), []).append(item)
        for group in groups.values():
            for start in range(0, len(group), SKU_BATCH):
                yield group[start : start + SKU_BATCH]

    def _item_key(self, item: BatchItem) -> str:
        """The item (num_iid) a SKU belongs to, as far as known; an unknown one is a group of its own."""
        ref = item.ref or self._refs.get(item.sku)
        return (ref.get("num_iid") if ref is not None else None) or f"?{item.sku}"

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ItemResult]:
        resolved: dict[str, ListingRef] = {}
        results: dict[int, ItemResult] = {}
        for index, update in enumerate(updates):
            try:
                resolved[update.sku] = self._resolve(update.sku, update.ref)
            except PermanentItemError as exc:
                results[index] = ItemResult.from_error(update.sku, exc)
        groups: dict[str, list[int]] = {}
        for index, update in enumerate(updates):
            if index not in results:
                groups.setdefault(str(resolved[update.sku].get("num_iid")), []).append(index)
        pending = list(groups.values())
        for position, indexes in enumerate(pending):
            batch = [updates[i] for i in indexes]
            try:
                outcome = self._stock_group(batch, [resolved[u.sku] for u in batch])
            except ChannelError as exc:  # channel-wide (see _each); keep what earlier groups applied
                if not any(r.ok for r in results.values()):
                    raise
                for i in (i for rest in pending[position:] for i in rest):
                    results[i] = ItemResult.failure(
                        updates[i].sku,
                        exc.code or type(exc).__name__,
                        f"not attempted after a channel error: {exc.message}",
                        retryable=True,
                        retry_after=exc.retry_after,
                    )
                break
            results.update(zip(indexes, outcome, strict=True))
        return [results[i] for i in range(len(updates))]

    def _stock_group(self, batch: list[StockUpdate], refs: list[ListingRef]) -> list[ItemResult]:
        with_sku = all(r.get("sku_id") for r in refs)
        if len(batch) > 1 and with_sku:
            try:
                self._stock_call(batch, refs)
                return [ItemResult.success(u.sku, ref=kept(u.sku, u.ref, r)) for u, r in zip(batch, refs, strict=True)]
            except PermanentItemError as exc:
                # all-or-nothing batch: find the bad SKU(s) by retrying each alone
                log.info(
                    "[%s] SKU batch on %s refused (%s); retrying one by one", self.name, refs[0].get("num_iid"), exc
                )
        pairs = list(zip(batch, refs, strict=True))

        def one(pair: tuple[StockUpdate, ListingRef]) -> ItemResult:
            self._stock_call([pair[0]], [pair[1]])
            return ItemResult.success(pair[0].sku, ref=kept(pair[0].sku, pair[0].ref, pair[1]))

        return self._each(pairs, lambda p: p[0].sku, one)

    def _stock_call(self, batch: list[StockUpdate], refs: list[ListingRef]) -> None:
        num_iid = refs[0].get("num_iid")
        if self.options.tmall:
            params: dict[str, Any] = {"item_id": num_iid}
            if refs[0].get("sku_id"):
                params["sku_quantities"] = m.json_compact(
                    [{"sku_id": int(r.ids["sku_id"]), "quantity": u.quantity} for u, r in zip(batch, refs, strict=True)]
                )
            else:
                params["item_quantity"] = batch[0].quantity
            params["options"] = m.json_compact({"type": 1, "outer_biz_key": uuid.uuid4().hex})
            self.call("tmall.item.quantity.update", params)
        elif len(batch) > 1:
            pairs = ";".join(f"{r.get('sku_id')}:{u.quantity}" for u, r in zip(batch, refs, strict=True))
            self.call("taobao.skus.quantity.update", {"num_iid": num_iid, "skuid_quantities": pairs, "type": 1})
        else:
            params = {"num_iid": num_iid, "sku_id": refs[0].get("sku_id"), "quantity": batch[0].quantity, "type": 1}
            self.call("taobao.item.quantity.update", params)

    # -- delist / relist -----------------------------------------------------------------------------
    def delist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        return self._whole_item(requests, listed=False) or self._each(
            requests, lambda r: r.sku, lambda r: self._listing(r, listed=False)
        )

    def relist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        return self._whole_item(requests, listed=True) or self._each(
            requests, lambda r: r.sku, lambda r: self._listing(r, listed=True)
        )

    def _whole_item(self, requests: Sequence[DelistRequest], *, listed: bool) -> list[ItemResult] | None:
        """When the batch names EVERY SKU of one item, take the whole item down (or up) in one call.

        Plain Taobao cannot delist a single SKU; the syncer delists a product by delisting all its SKUs,
        which is exactly a whole item. Returns None when the batch is not such a set."""
        if self.options.tmall or not requests:
            return None
        refs = [ref for r in requests if (ref := r.ref or self._refs.get(r.sku)) is not None]
        num_iids = {ref.get("num_iid") for ref in refs}
        if len(refs) != len(requests) or len(num_iids) != 1 or None in num_iids:
            return None
        if all(ref.sku == r.sku and not ref.get("sku_id") for ref, r in zip(refs, requests, strict=True)):
            return None  # plain items (no SKUs): the per-item path handles them without a look-up
        num_iid = str(num_iids.pop())
        requested = {r.sku for r in requests}
        item_skus = m.bound_skus(refs[0]) or {
            str(s.get("outer_id")) for s in self._skus_of([num_iid]) if s.get("outer_id")
        }
        if not item_skus or not item_skus <= requested:
            return None
        whole = DelistRequest(
            sku=requests[0].sku,
            ref=ListingRef(requests[0].sku, num_iid, {"num_iid": num_iid}),
            quantity=sum(r.quantity or 0 for r in requests) if listed else None,
        )
        result = self._each([whole], lambda r: r.sku, lambda r: self._listing(r, listed=listed))[0]
        return [replace(result, sku=r.sku, ref=r.ref or result.ref) for r in requests]

    def _listing(self, request: DelistRequest, *, listed: bool) -> ItemResult:
        ref = self._resolve(request.sku, request.ref)
        num_iid = ref.get("num_iid")
        if ref.get("sku_id"):
            if not self.options.tmall:
                return ItemResult.failure(
                    request.sku,
                    "unsupported",
                    "Taobao lists and delists whole items only; to stop selling one SKU set its stock to 0",
                )
            sku_map = m.sku_map_json(str(ref.get("sku_id")), listed)
            self.call("taobao.sku.update.listing.tmall", {"item_id": num_iid, "sku_map": sku_map})
        elif listed:
            if request.quantity is None or request.quantity <= 0:
                return ItemResult.failure(
                    request.sku,
                    "invalid",
                    "taobao.item.update.listing needs a quantity > 0 (items with SKUs take the sum of SKU stock)",
                )
            self.call("taobao.item.update.listing", {"num_iid": num_iid, "num": request.quantity})
        else:
            self.call("taobao.item.update.delisting", {"num_iid": num_iid})
        return ItemResult.success(request.sku, ref=kept(request.sku, request.ref, ref))

    # -- orders --------------------------------------------------------------------------------------
    cancel_unsupported = (
        "TOP closes only unpaid trades (taobao.trade.close); a paid trade is cancelled through the "
        "buyer's refund request (退款)"
    )
    carrier_codes = m.CARRIER_CODES

    def find_shipment(self, shipment: Shipment) -> str | None:
        """taobao.logistics.orders.get by ``tid``: the trade's logistics orders; the one with this waybill
        number (``out_sid``)."""
        body = self.call("taobao.logistics.orders.get", m.logistics_orders_params(shipment.order_id))
        for shipping in (body.get("shippings") or {}).get("shipping") or []:
            if isinstance(shipping, dict) and str(shipping.get("out_sid")) == shipment.tracking:
                return shipment.tracking
        return None

    def send_shipment(self, shipment: Shipment) -> str | None:
        """taobao.logistics.offline.send; answers ``shipping.is_success``. TOP has no idempotency key: never
        re-sent after a lost answer."""
        body = self.call(
            "taobao.logistics.offline.send",
            m.offline_send_params(shipment, self.carrier_code(shipment.carrier)),
            idempotent=False,
        )
        if not (body.get("shipping") or {}).get("is_success"):
            raise RequestRejected(
                f"taobao.logistics.offline.send for trade {shipment.order_id} did not succeed: {str(body)[:200]}",
                channel=self.name,
            )
        return shipment.tracking

    def orders_since(self, cursor: OrderCursor) -> OrderPage:
        """Incremental orders by modified time, paged BACKWARDS inside a fixed past window.

        The window ``[since, until]`` ends at least ``order_lag`` in the past and is at most
        ``order_window`` long (30 min default, TOP allows 1 day). Inside a past window the result set can
        only SHRINK while we page: a trade modified meanwhile gets a modified time after ``until`` and
        leaves the window (the next window picks it up). TOP sorts by modified time descending, so a
        removal shifts later rows forward: paging forwards would skip a row, paging from the last page
        to the first never does (at worst a row is read twice; orders are upserted by id).

        Backward paging needs ``total_results``, which ``use_has_next=true`` removes, so we send
        ``use_has_next=false``: the first call reads page 1 with the total; if there is more than one
        page we then read pages N, N-1, ... 1 (page 1 again, since rows can shift onto it).
        ``cursor.page`` holds the next page number to read.
        """
        now = self._now()
        lag = self.limits.order_lag
        window = self.limits.order_window or MAX_WINDOW
        if cursor.until is None:
            since = cursor.since.replace(microsecond=0)
            if since < now - REACH:
                log.warning("[%s] order cursor %s is older than TOP's 3 months: clamped", self.name, since)
                since = (now - REACH).replace(microsecond=0)
            until = min(now - lag, since + window).replace(microsecond=0)
            if until <= since:
                return OrderPage((), OrderCursor(cursor.since), done=True)
            page: int | None = None
        else:
            since, until = cursor.since, cursor.until
            page = int(cursor.page) if cursor.page else None
        if until - since > MAX_WINDOW:
            raise RequestRejected(
                f"order window {since} .. {until} is longer than TOP's 1 day limit", channel=self.name, code="window"
            )
        body = self.call(
            "taobao.trades.sold.increment.get",
            {
                "fields": m.TRADE_FIELDS,
                "start_modified": top_time(since),
                "end_modified": top_time(until),
                "page_no": page or 1,
                "page_size": self.limits.orders_page,
                "use_has_next": "false",
            },
        )
        trades, total = self._listed(body, "trades", "trade")
        orders, problems = m.parse_trades(trades, self.name)
        last = max(1, math.ceil(total / self.limits.orders_page))
        following = (last if last > 1 else None) if page is None else (page - 1 if page > 1 else None)
        # pages N, N-1, ... 1 after the first read: a page emptied by rows leaving the window may point on
        self.check_page("taobao.trades.sold.increment.get page_no", page, following, items=None)
        if following is not None:
            return OrderPage(orders, OrderCursor(since, until, str(following)), False, problems, total)
        done = until - since < window  # the window was cut short by "now - lag": caught up
        return OrderPage(orders, OrderCursor(until - self.limits.order_overlap), done, problems, total)

    def _listed(self, body: Mapping[str, Any], field: str, key: str) -> tuple[list[Any], int]:
        """The list and ``total_results`` of a TOP list answer; one shaped otherwise is a typed error."""
        try:
            return m.unwrap(body.get(field), key), int(body.get("total_results") or 0)
        except MAPPING_ERRORS as exc:
            raise unexpected(f"the {field} list", exc, value=body, channel=self.name) from None

    # -- listings ------------------------------------------------------------------------------------
    def listings(self) -> Iterator[RemoteListing]:
        seen: set[str] = set()
        batch: list[dict[str, Any]] = []
        for item in self._all_items():
            key = str(item.get("num_iid") or "") if isinstance(item, Mapping) else ""
            if not key:
                log.warning("[%s] an item without num_iid is left out of the read-back", self.name)
                continue
            if key in seen:
                continue
            seen.add(key)
            batch.append(item)
            if len(batch) == SKUS_GET_BATCH:
                yield from self._with_skus(batch)
                batch = []
        if batch:
            yield from self._with_skus(batch)

    def _all_items(self) -> Iterator[dict[str, Any]]:
        queries: list[tuple[str, dict[str, Any]]] = [("taobao.items.onsale.get", {})] + [
            ("taobao.items.inventory.get", {"banner": banner}) for banner in INVENTORY_BANNERS
        ]
        for method, extra in queries:

            def fetch(page: int, method: str = method, extra: dict[str, Any] = extra) -> Page[dict[str, Any]]:
                body = self.call(method, {"fields": m.ITEM_FIELDS, "page_no": page, "page_size": ITEMS_PAGE, **extra})
                items, total = self._listed(body, "items", "item")
                return Page(items, next_page_number(page, len(items), total=total, size=ITEMS_PAGE))

            yield from self.pages(fetch, f"{method} page_no", start=1)

    def _with_skus(self, items: list[dict[str, Any]]) -> Iterator[RemoteListing]:
        skus: dict[str, list[dict[str, Any]]] = {}
        for s in self._skus_of([str(i["num_iid"]) for i in items]):
            if isinstance(s, Mapping):
                skus.setdefault(str(s.get("num_iid")), []).append(s)

        def of_item(item: dict[str, Any]) -> list[RemoteListing]:
            return list(m.remote_listings(item, skus.get(str(item["num_iid"]), [])))

        def told(problem: ChannelError) -> None:
            log.warning("%s; left out of the read-back", problem)

        for listings in readable(items, of_item, what="item", key="num_iid", channel=self.name, told=told):
            for listing in listings:
                self._refs[listing.sku] = listing.ref
                yield listing
