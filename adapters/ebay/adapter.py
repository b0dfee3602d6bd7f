"""eBay adapter: Sell Inventory API v1 (listings, price, stock) and Sell Fulfillment API v1 (orders).

- publish: bulkCreateOrReplaceInventoryItem (25 per call) over what eBay holds now (read first with
  bulkGetInventoryItem, because a replace wipes omitted fields), createOrReplaceInventoryItemGroup for
  variations, offers looked up by SKU first (getOffers) and then updated (updateOffer) or created
  (bulkCreateOffer, 25 per call, one marketplace), then bulkPublishOffer (25 per call) or
  publishOfferByInventoryItemGroup.
- push_prices / push_stock: bulkUpdatePriceQuantity on PUBLISHED offers, ``price_quantity_batch`` SKUs per
  call (default 25; a call eBay refuses as a whole is re-sent one SKU per call). Writes to one SKU are
  never concurrent (a lock per SKU) and a SKU never appears twice in one call. Stock is set on both the
  inventory item and the offer. No compare-and-set exists, so ``StockUpdate.expected`` is not used.
- eBay allows 250 revisions per listing per day: :meth:`EbayAdapter.revision_budget` reports what is
  left (counted by this adapter), and pushes that would eat the last ``revision_reserve`` revisions
  are refused unless they set the quantity to zero.
- delist = withdrawOffer (withdrawOfferByInventoryItemGroup for variations); relist = publish again.
  ``DelistRequest.quantity`` is not used (the offer keeps its quantity).
- orders_since: getOrders with ``filter=lastmodifieddate:[since..until]`` alone, limit 200, offset
  paging that re-reads ``order_page_overlap`` rows per page; orders with a cancel state are re-read with
  getOrder (getOrders returns ``cancelRequests`` empty).
- Unsupported: ``PriceUpdate.list_price`` (strikethrough price) on live offers (bulkUpdatePriceQuantity
  has no field for it); auction listings.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import httpx
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
    PriceUpdate,
    PublishGroup,
    RateLimited,
    RemoteListing,
    Shipment,
    StockUpdate,
    TransientError,
    publish_groups,
    utc,
)
from listing_sync.adapters.ebay import mapping as m
from listing_sync.adapters.ebay.auth import DEFAULT_SCOPES, EbayTokenAuth, token_request
from listing_sync.adapters.ebay.revisions import DAILY_REVISIONS, RevisionBudget
from listing_sync.adapters.excerpt import read_each, readable, unexpected
from listing_sync.adapters.http import HttpAdapter, parse_retry_after
from listing_sync.adapters.paging import Page, next_offset, next_url
from listing_sync.adapters.tokens import token_key
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("adapters.ebay")
T = TypeVar("T")

PRODUCTION = "https://api.ebay.com"
SANDBOX = "https://api.sandbox.ebay.com"
#: errorId eBay uses for "Too many requests" (ACCESS domain); 429 is mapped whatever the body says
THROTTLE_ERROR = 2001
OK = frozenset({200, 201, 204})
#: getOrders' filter "returns data from only the last 90 days" (spec); error 30830 otherwise
ORDER_RETENTION = timedelta(days=90)


class EbayOptions(BaseModel):
    """The ``[channels.options]`` table of an ``ebay`` channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    marketplace_id: str = Field("EBAY_US", pattern=r"^EBAY_[A-Z_]+$")
    content_language: str = Field("en-US", pattern=r"^[a-z]{2}-[A-Z]{2}$")
    sandbox: bool = False
    merchant_location_key: str | None = None
    fulfillment_policy_id: str | None = None
    payment_policy_id: str | None = None
    return_policy_id: str | None = None
    include_catalog_product_details: bool = False
    price_quantity_batch: int = Field(25, ge=1, le=25)
    revision_reserve: int = Field(1, ge=0, le=50)
    order_page_overlap: int = Field(10, ge=0, le=100)
    scopes: tuple[str, ...] = DEFAULT_SCOPES


def _errors(response: httpx.Response) -> list[dict]:
    try:
        data = response.json()
    except ValueError:
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _revisions(draft: ListingDraft) -> int:
    """Revisions one publish of a LIVE listing costs at most: item(s), offer(s), and the group."""
    return 3 if draft.variations else 2


class _PublishRun:
    """The state of one publish call: which drafts are still going and what eBay holds."""

    def __init__(self, drafts: Sequence[ListingDraft]) -> None:
        self.drafts = drafts
        self.done: dict[int, ItemResult] = {}
        self.offers: dict[str, dict | None] = {}  # sku -> this marketplace's offer (None: none yet)
        self.items: dict[str, dict] = {}  # sku -> inventory item as eBay holds it
        self.listing_ids: dict[str, str] = {}

    @property
    def alive(self) -> list[int]:
        return [i for i in range(len(self.drafts)) if i not in self.done]

    def offer_id(self, sku: str) -> str:
        """The id of a SKU's offer once the offers are written (every SKU still going has one by then)."""
        offer = self.offers[sku]
        assert offer is not None, f"{sku}: no offer after the offers were written"
        return offer["offerId"]

    def fail(self, i: int, result: ItemResult) -> None:
        self.done[i] = result

    def live(self, sku: str) -> bool:
        return (self.offers.get(sku) or {}).get("status") == "PUBLISHED"


def _publish_call_estimate(chunk: Sequence[PublishGroup]) -> int:
    """Calls of one publish call (see :meth:`EbayAdapter.estimate_calls`)."""
    if not chunk:
        return 0
    known = [g for g in chunk if g.ref is not None]
    new = [g for g in chunk if g.ref is None]
    calls = 2  # bulkGetInventoryItem + bulkCreateOrReplaceInventoryItem
    calls += 2 * sum(1 for g in chunk if g.variations)  # group PUT + publish by group
    calls += 2 * sum(len(g.skus) for g in known)  # getOffers + updateOffer
    calls += 1 if new else 0  # bulkCreateOffer
    calls += 1 if any(not g.variations for g in new) else 0  # bulkPublishOffer
    return calls


def _whole_groups(requests: Sequence[DelistRequest]) -> dict[str, list[int]]:
    """Inventory item groups whose every variation SKU (as the group's bound ref names them, one
    ``offer_id:<sku>`` each) is in ``requests``: group key -> the requests' positions."""
    members: dict[str, list[int]] = {}
    bound: dict[str, set[str]] = {}
    for n, r in enumerate(requests):
        key = r.ref.get("group_key") if r.ref is not None else None
        if r.ref is None or not key or key == r.sku:
            continue
        members.setdefault(key, []).append(n)
        bound.setdefault(key, {k.partition(":")[2] for k in r.ref.ids if k.startswith("offer_id:")})
    return {key: ns for key, ns in members.items() if bound[key] and bound[key] <= {requests[n].sku for n in ns}}


class EbayAdapter(HttpAdapter):
    """One eBay seller account on one marketplace (``marketplace_id``). See the module docstring."""

    kind = "ebay"
    limits = Limits(
        publish=25,  # SKUs (items / offers) per bulk call; see chunks()
        price=25,
        stock=25,
        delist=25,
        orders_page=200,
        rate=2_000_000 / 86_400,  # Inventory API: 2,000,000 calls a day
        burst=25,
        daily_revisions=DAILY_REVISIONS,
        order_window=timedelta(days=90),  # error 30830: start within 90 days of the end
        order_overlap=timedelta(minutes=5),
        order_lag=timedelta(minutes=1),
    )
    # eBay Inventory API: imageUrls must be HTTPS, at least one image to publish, up to 24 pictures;
    # product.title is 80 characters at most.
    content_rules = ContentRules(
        max_images=24,
        min_images=1,
        https_images=True,
        max_title=80,
        category_required=True,
        category_pattern=r"^\d+$",
        category_hint="leaf categoryId",
    )
    options_model = EbayOptions
    extra_limiters: ClassVar[Mapping[str, tuple[float, float]]] = {
        "orders": (100_000 / 86_400, 10),  # Fulfillment API: 100,000 calls a day
    }
    options: EbayOptions

    def __init__(self, channel: Any, *, now: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        super().__init__(channel, **kwargs)
        self.now = now or (lambda: datetime.now(UTC))
        batch = self.options.price_quantity_batch
        if batch != type(self).limits.price:
            self.limits = replace(type(self).limits, price=batch, stock=batch)
        self.settings = m.OfferSettings(
            marketplace_id=self.options.marketplace_id,
            merchant_location_key=self.options.merchant_location_key,
            fulfillment_policy_id=self.options.fulfillment_policy_id,
            payment_policy_id=self.options.payment_policy_id,
            return_policy_id=self.options.return_policy_id,
            include_catalog_product_details=self.options.include_catalog_product_details,
        )
        self.budget = RevisionBudget(self.now)
        self._sku_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._offer_ids: dict[str, str] = {}  # sku -> offerId on this marketplace
        self._listing_key: dict[str, str] = {}  # variant sku -> group key (one listing)
        self._groups: set[str] = set()

    # -- declarations --------------------------------------------------------------------------------
    def production_url(self) -> str:
        return SANDBOX if self.options.sandbox else PRODUCTION

    def build_auth(self) -> httpx.Auth:
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if k not in self.channel.credentials]
        if missing:
            raise ConfigurationError(
                f"eBay channel {self.channel.name!r} needs credentials {', '.join(missing)} "
                "(client id/secret from developer.ebay.com > Application Keys; refresh token from the consent flow)"
            )
        cred = self.credential
        base = self.base_url()
        return EbayTokenAuth(
            token_request=lambda: token_request(
                base, cred("client_id"), cred("client_secret"), cred("refresh_token"), self.options.scopes
            ),
            redactor=self.redactor,
            clock=self.clock,
            cache=self.tokens,
            cache_key=token_key(
                self.kind, base, cred("client_id"), cred("refresh_token"), " ".join(self.options.scopes)
            ),
        )

    def default_headers(self) -> Mapping[str, str]:
        return {"User-Agent": "listing-sync/0.1", "Accept": "application/json"}

    def classify(self, response: httpx.Response) -> ChannelError | None:
        status = response.status_code
        if status < 400:
            return None
        errors = _errors(response)
        p = m.problem(errors, f"HTTP {status}")
        where = f"{response.request.method} {response.request.url.path}"
        if status == 429 or THROTTLE_ERROR in p.error_ids:
            return RateLimited(
                f"eBay throttled {where}: {p.message}",
                status=status,
                code=p.code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if m.RETRYABLE_ERROR_IDS & set(p.error_ids) or status >= 500:
            return TransientError(f"eBay failed on {where}: {p.message}", status=status, code=p.code)
        if status == 401:
            return AuthError(
                f"eBay refused the access token on {where} ({p.message}): re-authorize this channel",
                status=status,
                code=p.code,
            )
        if status == 403:
            return AuthError(
                f"eBay denied {where} ({p.message}): the token lacks a scope or the account lacks access; "
                "re-authorize this channel with the sell.inventory and sell.fulfillment scopes",
                status=status,
                code=p.code,
            )
        return None

    def content_headers(self) -> dict[str, str]:
        return {"Content-Language": self.options.content_language}

    def chunks(self, op: Operation, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        """Publish chunks hold at most 25 SKUs in all (a draft with variations counts each variant);
        delist chunks keep the SKUs of one inventory item group together (one withdraw takes them all)."""
        if op is Operation.DELIST:
            yield from self._group_chunks(items)
            return
        if op is not Operation.PUBLISH:
            yield from super().chunks(op, items)
            return
        chunk: list[ItemT] = []
        size = 0
        for item in items:
            n = len(item.all_skus()) if isinstance(item, ListingDraft) else 1
            if chunk and size + n > self.limits.publish:
                yield chunk
                chunk, size = [], 0
            chunk.append(item)
            size += n
        if chunk:
            yield chunk

    def estimate_calls(self, op: Operation, items: Sequence[BatchItem]) -> int:
        """Publish, per call of at most 25 SKUs: one inventory read and one bulk replace; a group PUT and a
        publishOfferByInventoryItemGroup per listing with variations; for a listing published before, an
        offer look-up and an updateOffer per SKU, else one bulkCreateOffer; one bulkPublishOffer for the
        new single listings. Delist: one group withdraw per whole group, else one per SKU. Others: one call
        per chunk of 25."""
        if op is Operation.DELIST:
            whole = _whole_groups([DelistRequest(i.sku, i.ref) for i in items])
            covered = sum(len(ns) for ns in whole.values())
            return len(whole) + len(items) - covered
        if op is not Operation.PUBLISH:
            return self.count_calls(op, items)
        calls = 0
        chunk: list[PublishGroup] = []
        for group in [*publish_groups(items), None]:
            if group is None or (chunk and sum(len(g.skus) for g in chunk) + len(group.skus) > self.limits.publish):
                calls += _publish_call_estimate(chunk)
                chunk = []
            if group is not None:
                chunk.append(group)
        return calls

    def _group_chunks(self, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        groups: dict[str, list[ItemT]] = {}
        for item in items:
            key = (item.ref.get("group_key") if item.ref is not None else None) or f"?{item.sku}"
            groups.setdefault(key, []).append(item)
        chunk: list[ItemT] = []
        for members in groups.values():
            if chunk and len(chunk) + len(members) > self.limits.delist:
                yield chunk
                chunk = []
            for start in range(0, len(members), self.limits.delist):
                part = members[start : start + self.limits.delist]
                if len(part) == self.limits.delist:
                    yield part
                else:
                    chunk += part
        if chunk:
            yield chunk

    # -- revision budget -----------------------------------------------------------------------------
    def _key(self, sku: str) -> str:
        return self._listing_key.get(sku, sku)

    def revision_budget(self, sku: str) -> int | None:
        """Revisions left today for the listing of ``sku`` (eBay: 250 per listing per day)."""
        return self.budget.remaining(self._key(sku))

    revision_timezone = "America/Los_Angeles"  # eBay's calendar day (see revisions.py)

    def seed_revisions(self, used: Mapping[str, int]) -> None:
        """Start from the revisions the syncer recorded today (persisted across instances and workers)."""
        for sku, count in used.items():
            self.budget.at_least(self._key(sku), count)

    def _over_budget(self, sku: str, *, to_zero: bool = False, cost: int = 1) -> ItemResult | None:
        left = self.budget.remaining(self._key(sku))
        floor = 0 if to_zero else self.options.revision_reserve
        if left - cost >= floor:
            return None
        return ItemResult.failure(
            sku,
            "revision_cap",
            f"eBay allows {DAILY_REVISIONS} revisions per listing per day; {left} left today, "
            f"{self.options.revision_reserve} kept for a quantity-to-zero: retry after the day resets",
            retryable=True,
            retry_after=self.budget.seconds_to_reset(),
        )

    # -- helpers -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, skus: Sequence[str]) -> Iterator[None]:
        """Hold the lock of every SKU (in sorted order, so two calls never deadlock)."""
        with self._locks_guard:
            locks = [self._sku_locks.setdefault(s, threading.Lock()) for s in sorted(set(skus))]
        for lock in locks:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()

    def _find_offer(self, sku: str) -> dict[str, Any] | None:
        """This marketplace's offer for ``sku`` (getOffers needs the sku), or None."""
        response = self.http.get(
            f"{m.INVENTORY}/offer",
            params={"sku": sku, "marketplace_id": self.options.marketplace_id},
            ok_statuses=(404,),
        )
        if response.status_code == 404:
            return None
        offer = m.pick_offer(response.json().get("offers") or [], self.options.marketplace_id)
        if offer is not None:
            self._offer_ids[sku] = str(offer["offerId"])
        return offer

    def _offer_id(self, sku: str, ref: ListingRef | None) -> tuple[str | None, dict | None]:
        """(offerId, the offer when it had to be looked up) for an update of ``sku``."""
        if ref is not None:
            if ref.get("group_key") and ref.get("group_key") != sku:
                self._listing_key[sku] = str(ref.get("group_key"))
            found = ref.get(f"offer_id:{sku}") or (ref.get("offer_id") if ref.sku == sku else None)
            if found:
                return found, None
        if sku in self._offer_ids:
            return self._offer_ids[sku], None
        offer = self._find_offer(sku)
        return (str(offer["offerId"]), offer) if offer else (None, None)

    @staticmethod
    def _failure(sku: str, p: m.Problem, status: int | None = None) -> ItemResult:
        retryable = bool(m.RETRYABLE_ERROR_IDS & set(p.error_ids)) or (status or 0) >= 500
        return ItemResult.failure(sku, p.code, p.message, retryable=retryable)

    # -- publish -------------------------------------------------------------------------------------
    def publish(self, drafts: Sequence[ListingDraft]) -> list[ItemResult]:
        run = _PublishRun(drafts)
        taken: set[str] = set()
        for i, draft in enumerate(drafts):
            problem = self._check_draft(draft) or (
                "a SKU of this draft is already in this batch" if taken & set(draft.all_skus()) else None
            )
            if problem:
                run.fail(i, ItemResult.failure(draft.sku, "invalid_draft", problem))
                continue
            taken |= set(draft.all_skus())
            for v in draft.variations:
                self._listing_key[v.sku] = draft.sku
            if draft.variations:
                self._groups.add(draft.sku)
        self._read_current(run)
        self._write_items(run)
        self._write_offers(run)
        self._go_live(run)
        for i in run.alive:
            draft = drafts[i]
            if any(run.live(s) for s in draft.all_skus()):
                self.budget.spend(self._key(draft.sku), _revisions(draft))
            run.done[i] = ItemResult.success(draft.sku, ref=self._ref(draft, run.offers, run.listing_ids))
        return [run.done[i] for i in range(len(drafts))]

    def _read_current(self, run: _PublishRun) -> None:
        """What eBay holds now: the inventory items (to replace them whole) and, for drafts published
        before (a ref), their offers (to update them, never duplicate them). The offers of a draft never
        published (no ref) are created at once; only one eBay says exists already (createOffer 25002: a
        publish whose result was lost, a listing made elsewhere) is looked up (:meth:`_adopt_offers`)."""
        for i in run.alive:
            known = self._published_before(run.drafts[i])
            try:
                for sku in run.drafts[i].all_skus():
                    run.offers[sku] = self._find_offer(sku) if known else None
            except ChannelError as exc:
                run.fail(i, self._call_failed(run.drafts[i].sku, exc))
        for i in run.alive:
            draft = run.drafts[i]
            if any(run.live(s) for s in draft.all_skus()):
                over = self._over_budget(draft.sku, cost=_revisions(draft))
                if over:
                    run.fail(i, over)
        # read even for new drafts: 25 per call, and a replace would wipe what eBay holds that we do not manage
        run.items = self._bulk_get_items([s for i in run.alive for s in run.drafts[i].all_skus()])

    def _published_before(self, draft: ListingDraft) -> bool:
        """The draft has a ref, or this instance created an offer for one of its SKUs (a replay)."""
        return draft.ref is not None or any(s in self._offer_ids for s in draft.all_skus())

    def _write_items(self, run: _PublishRun) -> None:
        locale_code = m.locale(self.options.content_language)
        bodies = {i: m.draft_items(run.drafts[i], locale_code, run.items) for i in run.alive}
        problems = self._bulk_put_items([b for i in run.alive for b in bodies[i]])
        for i in run.alive:
            bad = [problem for b in bodies[i] if (problem := problems.get(b["sku"])) is not None]
            if bad:
                run.fail(i, replace(bad[0], sku=run.drafts[i].sku))
        for i in run.alive:
            draft = run.drafts[i]
            if draft.variations:
                try:
                    with self._locked(draft.all_skus()):
                        self.http.put(
                            f"{m.INVENTORY}/inventory_item_group/{quote(draft.sku, safe='')}",
                            json=m.group_body(draft),
                            headers=self.content_headers(),
                        )
                except ChannelError as exc:
                    run.fail(i, self._call_failed(draft.sku, exc))

    def _write_offers(self, run: _PublishRun) -> None:
        """Update the offers that exist (so a retry never creates a duplicate), create the rest in bulk."""
        current = {s: o for s, o in run.offers.items() if o}
        create: list[dict] = []
        problems: dict[str, ItemResult] = {}
        for i in run.alive:
            for sku, fields in m.draft_offers(run.drafts[i], self.settings, current).items():
                offer = run.offers.get(sku)
                if offer is None:
                    create.append(m.new_offer(self.settings, sku, fields))
                    continue
                try:
                    with self._locked([sku]):
                        self.http.put(
                            f"{m.INVENTORY}/offer/{offer['offerId']}", json=fields, headers=self.content_headers()
                        )
                except ChannelError as exc:
                    problems[sku] = self._call_failed(sku, exc)
        created = self._bulk_create_offers(create)
        problems.update(self._adopt_offers(run, created))
        for sku, result in created.items():
            if isinstance(result, ItemResult):
                problems.setdefault(sku, result)
            else:
                run.offers[sku] = {"offerId": result, "status": "UNPUBLISHED"}
                self._offer_ids[sku] = result
        for i in run.alive:
            bad = [problems[s] for s in run.drafts[i].all_skus() if s in problems]
            if bad:
                run.fail(i, replace(bad[0], sku=run.drafts[i].sku))

    def _adopt_offers(self, run: _PublishRun, created: dict[str, str | ItemResult]) -> dict[str, ItemResult]:
        """Offers createOffer refused with 25002 because one exists already for the SKU: look it up and
        update it instead (their ``created`` entries are removed). Returns the problems of those SKUs."""
        problems: dict[str, ItemResult] = {}
        drafts = {sku: run.drafts[i] for i in run.alive for sku in run.drafts[i].all_skus()}
        for sku in [s for s, r in created.items() if isinstance(r, ItemResult) and r.code == "25002"]:
            try:
                offer = self._find_offer(sku)
                if offer is None:
                    continue  # a real user error: the create's failure stands
                fields = m.draft_offers(drafts[sku], self.settings, {sku: offer})[sku]
                with self._locked([sku]):
                    self.http.put(
                        f"{m.INVENTORY}/offer/{offer['offerId']}", json=fields, headers=self.content_headers()
                    )
            except ChannelError as exc:
                problems[sku] = self._call_failed(sku, exc)
                del created[sku]
                continue
            run.offers[sku] = offer
            del created[sku]
        return problems

    def _go_live(self, run: _PublishRun) -> None:
        """Publish what is not live yet (a live listing was already revised by the updates)."""
        singles = [i for i in run.alive if not run.drafts[i].variations and not run.live(run.drafts[i].sku)]
        published = self._bulk_publish([run.offer_id(run.drafts[i].sku) for i in singles])
        for i in singles:
            outcome = published.get(run.offer_id(run.drafts[i].sku))
            if isinstance(outcome, ItemResult):
                run.fail(i, replace(outcome, sku=run.drafts[i].sku))
            elif outcome:
                run.listing_ids[run.drafts[i].sku] = outcome
        for i in run.alive:
            draft = run.drafts[i]
            if draft.variations and not all(run.live(s) for s in draft.all_skus()):
                try:
                    run.listing_ids[draft.sku] = self._publish_group(draft.sku)
                except ChannelError as exc:
                    run.fail(i, self._call_failed(draft.sku, exc))

    def _check_draft(self, draft: ListingDraft) -> str | None:
        prices = [draft.price, *(v.price for v in draft.variations)]
        wrong = {p.currency for p in prices} - {self.channel.currency}
        if wrong:
            return f"prices in {', '.join(sorted(wrong))} but this eBay channel sells in {self.channel.currency}"
        try:
            m.condition(draft.condition)
        except ValueError as exc:
            return str(exc)
        skus = draft.all_skus()
        if len(set(skus)) != len(skus):
            return "variation SKUs must be unique"
        if draft.variations and draft.sku in skus:
            return "a multi-variation draft's sku is the group key and must differ from its variation SKUs"
        return None

    def _call_failed(self, sku: str, exc: ChannelError) -> ItemResult:
        """A one-item call failed: an auth/config problem stops everything, anything else is this item's."""
        if isinstance(exc, (AuthError, ConfigurationError)) or exc.retryable:
            raise exc
        return ItemResult.from_error(sku, exc)

    def _ref(self, draft: ListingDraft, offers: Mapping[str, Any], listing_ids: Mapping[str, str]) -> ListingRef:
        ids = {"marketplace_id": self.options.marketplace_id}
        listing_id = listing_ids.get(draft.sku)
        if not draft.variations:
            offer = offers[draft.sku]
            ids["offer_id"] = str(offer["offerId"])
            listing_id = listing_id or (offer.get("listing") or {}).get("listingId")
        else:
            ids["group_key"] = draft.sku
            for v in draft.variations:
                ids[f"offer_id:{v.sku}"] = str(offers[v.sku]["offerId"])
                listing_id = listing_id or (offers[v.sku].get("listing") or {}).get("listingId")
        if listing_id:
            ids["listing_id"] = str(listing_id)
        return ListingRef(draft.sku, str(listing_id) if listing_id else None, ids)

    def _bulk_get_items(self, skus: Sequence[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for chunk in _chunks(skus, 25):
            response = self.http.post(
                f"{m.INVENTORY}/bulk_get_inventory_item",
                json={"requests": [{"sku": s} for s in chunk]},
                ok_statuses=(207,),
            )
            for entry in response.json().get("responses") or []:
                if entry.get("statusCode") == 200 and entry.get("inventoryItem"):
                    found[str(entry["sku"])] = entry["inventoryItem"]
        return found

    def _bulk_put_items(self, bodies: Sequence[dict]) -> dict[str, ItemResult | None]:
        outcome: dict[str, ItemResult | None] = {}
        for chunk in _chunks(bodies, 25):
            skus = [b["sku"] for b in chunk]
            with self._locked(skus):
                try:
                    response = self.http.post(
                        f"{m.INVENTORY}/bulk_create_or_replace_inventory_item",
                        json={"requests": chunk},
                        headers=self.content_headers(),
                        ok_statuses=(207,),
                    )
                except ChannelError as exc:
                    for sku in skus:
                        outcome[sku] = self._call_failed(sku, exc)
                    continue
            entries = {str(e.get("sku")): e for e in response.json().get("responses") or []}
            for sku in skus:
                entry = entries.get(sku)
                if entry is None:
                    outcome[sku] = ItemResult.failure(sku, "no_result", "eBay returned no result for this item")
                elif entry.get("statusCode") in OK:
                    outcome[sku] = None
                else:
                    outcome[sku] = self._failure(sku, m.problem(entry.get("errors")), entry.get("statusCode"))
        return outcome

    def _bulk_create_offers(self, bodies: Sequence[dict]) -> dict[str, str | ItemResult]:
        """sku -> new offerId, or the failure. One marketplace per call (this channel's)."""
        outcome: dict[str, str | ItemResult] = {}
        for chunk in _chunks(bodies, 25):
            skus = [b["sku"] for b in chunk]
            try:
                response = self.http.post(
                    f"{m.INVENTORY}/bulk_create_offer",
                    json={"requests": chunk},
                    headers=self.content_headers(),
                    ok_statuses=(207,),
                )
            except ChannelError as exc:
                for sku in skus:
                    outcome[sku] = self._call_failed(sku, exc)
                continue
            entries = {str(e.get("sku")): e for e in response.json().get("responses") or []}
            for sku in skus:
                entry = entries.get(sku) or {}
                if entry.get("statusCode") in OK and entry.get("offerId"):
                    outcome[sku] = str(entry["offerId"])
                else:
                    outcome[sku] = self._failure(sku, m.problem(entry.get("errors")), entry.get("statusCode"))
        return outcome

    def _bulk_publish(self, offer_ids: Sequence[str]) -> dict[str, str | ItemResult | None]:
        """offerId -> listingId (None if eBay sent none), or the failure."""
        outcome: dict[str, str | ItemResult | None] = {}
        for chunk in _chunks(offer_ids, 25):
            try:
                response = self.http.post(
                    f"{m.INVENTORY}/bulk_publish_offer",
                    json={"requests": [{"offerId": o} for o in chunk]},
                    ok_statuses=(207,),
                )
            except ChannelError as exc:
                for offer_id in chunk:
                    outcome[offer_id] = self._call_failed(offer_id, exc)
                continue
            entries = {str(e.get("offerId")): e for e in response.json().get("responses") or []}
            for offer_id in chunk:
                entry = entries.get(offer_id) or {}
                if entry.get("statusCode") in OK:
                    outcome[offer_id] = entry.get("listingId")
                else:
                    outcome[offer_id] = self._failure(offer_id, m.problem(entry.get("errors")), entry.get("statusCode"))
        return outcome

    def _publish_group(self, group_key: str) -> str:
        response = self.http.post(
            f"{m.INVENTORY}/offer/publish_by_inventory_item_group/",
            json={"inventoryItemGroupKey": group_key, "marketplaceId": self.options.marketplace_id},
        )
        return str(response.json().get("listingId") or "")

    # -- price and stock -----------------------------------------------------------------------------
    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ItemResult]:
        def build(u: PriceUpdate, offer_id: str) -> dict | ItemResult:
            if u.price.currency != self.channel.currency:
                return ItemResult.failure(
                    u.sku,
                    "currency_mismatch",
                    f"price in {u.price.currency}; this channel sells in {self.channel.currency}",
                )
            return m.price_request(offer_id, u.price)

        return self._push(updates, build, lambda u: False)

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ItemResult]:
        return self._push(
            updates, lambda u, offer_id: m.stock_request(u.sku, offer_id, u.quantity), lambda u: u.quantity == 0
        )

    def _push(
        self,
        updates: Sequence[PriceUpdate | StockUpdate],
        build: Callable[[Any, str], dict | ItemResult],
        to_zero: Callable[[Any], bool],
    ) -> list[ItemResult]:
        results: list[ItemResult | None] = [None] * len(updates)
        rounds: list[list[tuple[int, str, dict]]] = []
        seen: dict[str, int] = {}
        pending: dict[str, int] = {}  # revisions this call will spend per listing
        for i, u in enumerate(updates):
            try:
                offer_id, offer = self._offer_id(u.sku, u.ref)
            except ChannelError as exc:
                results[i] = self._call_failed(u.sku, exc)
                continue
            key = self._key(u.sku)
            over = self._over_budget(u.sku, to_zero=to_zero(u), cost=1 + pending.get(key, 0))
            if over:
                results[i] = over
                continue
            if offer_id is None:
                results[i] = ItemResult.failure(
                    u.sku,
                    "not_listed",
                    f"no eBay offer for this SKU on {self.options.marketplace_id}: publish it first",
                )
                continue
            if offer is not None and offer.get("status") != "PUBLISHED":
                results[i] = ItemResult.failure(
                    u.sku,
                    "not_published",
                    "the offer is withdrawn (delisted); bulkUpdatePriceQuantity only revises published offers: "
                    "publish or relist to apply new values",
                )
                continue
            request = build(u, offer_id)
            if isinstance(request, ItemResult):
                results[i] = request
                continue
            # absolute values, applied in order: a repeated SKU goes to a later call, never the same one
            pending[key] = pending.get(key, 0) + 1
            n = seen.get(u.sku, 0)
            seen[u.sku] = n + 1
            while len(rounds) <= n:
                rounds.append([])
            rounds[n].append((i, offer_id, request))
        for round_ in rounds:
            for chunk in _chunks(round_, self.limits.price):
                self._send_price_quantity(updates, chunk, results)
        return [
            r if r is not None else ItemResult.failure(u.sku, "no_result", "not sent")
            for r, u in zip(results, updates, strict=True)
        ]

    def _send_price_quantity(
        self, updates: Sequence[Any], chunk: list[tuple[int, str, dict]], results: list[ItemResult | None]
    ) -> None:
        skus = [updates[i].sku for i, _, _ in chunk]
        with self._locked(skus):
            response = self.http.post(
                f"{m.INVENTORY}/bulk_update_price_quantity",
                json={"requests": [request for _, _, request in chunk]},
                ok_statuses=(207, 400),
            )
        if response.status_code == 400:
            if len(chunk) > 1:
                # The method page says one SKU per call, the type pages 25: eBay refused the whole call,
                # so fall back to one SKU per call (each item then gets its own verdict).
                log.warning(
                    "[%s] bulkUpdatePriceQuantity refused %d SKUs in one call; resending one by one",
                    self.name,
                    len(chunk),
                )
                for entry in chunk:
                    self._send_price_quantity(updates, [entry], results)
                return
            i = chunk[0][0]
            results[i] = self._item_failure(updates[i].sku, m.problem(_errors(response)), 400)
            return
        entries = response.json().get("responses") or []
        for i, offer_id, _ in chunk:
            sku = updates[i].sku
            mine = [
                e for e in entries if e.get("offerId") == offer_id or (e.get("sku") == sku and not e.get("offerId"))
            ]
            bad = [e for e in mine if e.get("statusCode") not in OK]
            if bad:
                errors = [err for e in bad for err in e.get("errors") or []]
                results[i] = self._item_failure(sku, m.problem(errors), max(e.get("statusCode") or 0 for e in bad))
            elif not mine and response.status_code != 200:
                results[i] = ItemResult.failure(sku, "no_result", "eBay returned no result for this SKU")
            else:
                self.budget.spend(self._key(sku))
                results[i] = ItemResult.success(sku)

    def _item_failure(self, sku: str, p: m.Problem, status: int | None) -> ItemResult:
        if m.is_revision_cap(p):
            self.budget.exhaust(self._key(sku))
            return ItemResult.failure(
                sku, "revision_cap", p.message, retryable=True, retry_after=self.budget.seconds_to_reset()
            )
        return self._failure(sku, p, status)

    # -- delist / relist -----------------------------------------------------------------------------
    def _target(self, sku: str, ref: ListingRef | None) -> tuple[str, str] | None:
        """("group", key) for a multi-variation listing, ("offer", offerId) otherwise, None if unknown."""
        if (ref is not None and ref.get("group_key") == sku) or sku in self._groups:
            return "group", sku
        offer_id, _ = self._offer_id(sku, ref)
        if offer_id:
            return "offer", offer_id
        response = self.http.get(f"{m.INVENTORY}/inventory_item_group/{quote(sku, safe='')}", ok_statuses=(404,))
        if response.status_code == 200:
            self._groups.add(sku)
            return "group", sku
        return None

    def delist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        out: dict[int, ItemResult] = {}
        for key, members in _whole_groups(requests).items():
            try:
                self._withdraw_group(key)
                out.update((n, ItemResult.success(requests[n].sku, ref=requests[n].ref)) for n in members)
            except ChannelError as exc:
                out.update((n, self._call_failed(requests[n].sku, exc)) for n in members)
        for n, r in enumerate(requests):
            if n in out:
                continue
            try:
                target = self._target(r.sku, r.ref)
                if target is None:
                    out[n] = ItemResult.failure(r.sku, "not_listed", "no eBay offer or group for this SKU")
                elif target[0] == "group":
                    self._withdraw_group(target[1])
                    out[n] = ItemResult.success(r.sku, ref=r.ref)
                else:
                    out[n] = self._withdraw(r, target[1])
            except ChannelError as exc:
                out[n] = self._call_failed(r.sku, exc)
        return [out[n] for n in range(len(requests))]

    def _withdraw_group(self, key: str) -> None:
        self.http.post(
            f"{m.INVENTORY}/offer/withdraw_by_inventory_item_group",
            json={"inventoryItemGroupKey": key, "marketplaceId": self.options.marketplace_id},
        )

    def _withdraw(self, r: DelistRequest, offer_id: str) -> ItemResult:
        response = self.http.post(f"{m.INVENTORY}/offer/{offer_id}/withdraw", ok_statuses=(400, 404))
        if response.status_code == 200:
            return ItemResult.success(r.sku, ref=r.ref)
        p = m.problem(_errors(response), f"HTTP {response.status_code}")
        # 25713 "This Offer is not available": already withdrawn is success (delist is replayable)
        if 25713 in p.error_ids:
            current = self.http.get(f"{m.INVENTORY}/offer/{offer_id}", ok_statuses=(404,))
            if current.status_code == 200 and current.json().get("status") == "UNPUBLISHED":
                return ItemResult.success(r.sku, ref=r.ref)
        return ItemResult.failure(r.sku, p.code, p.message)

    def relist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        out: dict[int, ItemResult] = {}
        singles: list[tuple[int, str]] = []
        for n, r in enumerate(requests):
            try:
                target = self._target(r.sku, r.ref)
                if target is None:
                    out[n] = ItemResult.failure(r.sku, "not_listed", "no eBay offer or group for this SKU: publish it")
                elif target[0] == "group":
                    self._publish_group(target[1])
                    out[n] = ItemResult.success(r.sku, ref=r.ref)
                else:
                    singles.append((n, target[1]))
            except ChannelError as exc:
                out[n] = self._call_failed(r.sku, exc)
        published = self._bulk_publish([offer_id for _, offer_id in singles])
        for n, offer_id in singles:
            outcome = published.get(offer_id)
            if isinstance(outcome, ItemResult):
                out[n] = replace(outcome, sku=requests[n].sku)
            else:
                ref = requests[n].ref
                ids = {**(ref.ids if ref else {}), "offer_id": offer_id}
                if outcome:
                    ids["listing_id"] = outcome
                out[n] = ItemResult.success(requests[n].sku, ref=ListingRef(requests[n].sku, outcome or None, ids))
        return [out[n] for n in range(len(requests))]

    # -- orders --------------------------------------------------------------------------------------
    def orders_since(self, cursor: OrderCursor) -> OrderPage:
        now = utc(self.now())
        newest = now - self.limits.order_lag
        since = cursor.since
        if cursor.until is None:
            oldest = now - ORDER_RETENTION + timedelta(minutes=5)
            if since < oldest:
                # the filter only reaches 90 days back (30830 otherwise): older changes cannot be read any more
                log.warning(
                    "[%s] order high-water mark %s is older than eBay's 90 days; reading from %s",
                    self.name,
                    since,
                    oldest,
                )
                since = oldest
            until = newest
            if self.limits.order_window is not None:
                until = min(until, since + self.limits.order_window)
            offset = 0
        else:
            until = cursor.until
            offset = int(cursor.page or 0)
        if until <= since:
            return OrderPage((), OrderCursor(since), True)
        limit = self.limits.orders_page
        data = self.http.get(m.orders_query(since, until, limit, offset), limiter="orders").json()
        raw = data.get("orders") or []
        if not isinstance(raw, list):
            raise unexpected("getOrders answer", "orders is not a list", value=data, channel=self.name)
        orders: dict[str, Order] = {}
        read, problems = read_each(raw, self._order, what="getOrders order", key="orderId", channel=self.name)
        for parsed in read:
            previous = orders.get(parsed.external_id)
            if previous is None or parsed.updated_at >= previous.updated_at:
                orders[parsed.external_id] = parsed
        # the set is live (orders modified meanwhile leave the window and shift the rest down):
        # re-read a few rows; the syncer's upsert makes the repeats harmless
        step = len(raw) - self.options.order_page_overlap
        total = int(data.get("total") or 0)
        following = next_offset(offset, len(raw), total, step=step)
        self.check_page("getOrders offset", offset, following, items=len(raw))
        found = tuple(orders.values())
        if following is not None:
            return OrderPage(found, OrderCursor(since, until, str(following)), False, tuple(problems), total)
        cut = self.limits.order_window is not None and until >= since + self.limits.order_window
        done = not cut or until >= newest
        return OrderPage(found, OrderCursor(until - self.limits.order_overlap), done, tuple(problems), total)

    def _order(self, item: Any) -> Order:
        """One getOrders row, with getOrder's detail where its cancel state needs it."""
        if m.needs_cancel_detail(item):
            item = self.http.get(
                f"{m.FULFILLMENT}/order/{quote(str(item['orderId']), safe='')}", limiter="orders"
            ).json()
        return m.order(item)

    # -- shipping ------------------------------------------------------------------------------------
    cancel_unsupported = (
        "the Sell Fulfillment API has no cancel call; eBay's Post-Order API (cancellation) is not "
        "integrated: cancel in Seller Hub"
    )
    carrier_codes = m.CARRIER_CODES

    def send_shipment(self, shipment: Shipment) -> str | None:
        """createShippingFulfillment: ``POST /order/{orderId}/shipping_fulfillment``; 201 with the new
        fulfillment's URI in ``Location``. Not idempotent (no key): never re-sent after a lost answer."""
        body = m.fulfillment_body(shipment, self.carrier_code(shipment.carrier))
        response = self.http.post(
            self._fulfillments_path(shipment.order_id),
            json=body,
            headers=self.content_headers(),
            limiter="orders",
            idempotent=False,
        )
        return m.fulfillment_id(response.headers.get("Location"))

    def find_shipment(self, shipment: Shipment) -> str | None:
        """getShippingFulfillments: the order's fulfillment with this tracking number, by its id."""
        data = self.http.get(self._fulfillments_path(shipment.order_id), limiter="orders").json()
        for fulfillment in data.get("fulfillments") or []:
            if isinstance(fulfillment, dict) and fulfillment.get("shipmentTrackingNumber") == shipment.tracking:
                return str(fulfillment.get("fulfillmentId") or "")
        return None

    @staticmethod
    def _fulfillments_path(order_id: str) -> str:
        return f"{m.FULFILLMENT}/order/{quote(order_id, safe='')}/shipping_fulfillment"

    # -- read-back -----------------------------------------------------------------------------------
    def listings(self) -> Iterator[RemoteListing]:
        """Every inventory item with this marketplace's offer (one getOffers call per SKU)."""

        def fetch(url: str) -> Page[dict[str, Any]]:
            data = self.http.get(url).json()
            items = list(data.get("inventoryItems") or [])
            return Page(items, next_url(data.get("next")) if items else None)

        first = f"{m.INVENTORY}/inventory_item?limit=100&offset=0"
        yield from readable(
            self.pages(fetch, "getInventoryItems next", start=first),
            lambda item: m.remote_listing(item, self._find_offer(str(item["sku"]))),
            what="getInventoryItems item",
            key="sku",
            channel=self.name,
            told=lambda problem: log.warning("%s; left out of the read-back", problem),
        )
