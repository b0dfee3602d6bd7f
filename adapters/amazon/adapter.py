"""Amazon Selling Partner API adapter: Listings Items 2021-08-01, JSON_LISTINGS_FEED, Orders v2026-01-01, LWA.

Two write paths, chosen per call by a cost model (:meth:`AmazonAdapter.write_way`: calls, expected time
until applied, the day's request budget; ``options.feed_threshold`` fixes a size threshold instead):

* **patch path** (fewer items than the threshold): one ``patchListingsItem`` / ``putListingsItem`` /
  ``deleteListingsItem`` per SKU at the documented 5 requests/s. Amazon answers ``ACCEPTED`` and applies
  the change minutes later, so every accepted item is ``ItemResult(state="submitted")``; it is confirmed
  by read-back (:meth:`listings`), never reported as applied here.
* **feed path** (threshold or more): one ``JSON_LISTINGS_FEED`` (createFeedDocument, PUT to the presigned
  URL, createFeed), then the adapter POLLS ``getFeed`` with back-off (:func:`poll_times`: after
  ``feed_poll_seconds``, then twice as long each time up to four times it; the HTTP layer's injectable
  sleep waits), reads the processing report and maps ``issues[]`` back per ``messageId``: items without an
  ERROR issue are ``applied``, the others fail with Amazon's messages. If the feed is not done within
  ``feed_wait_seconds`` the items stay ``submitted`` (their ref carries ``feed_id`` and ``message_id``);
  :meth:`feed_results` reads the report later.

Cost model: patching n SKUs takes the listings limiter's wait plus n/5 s plus Amazon's few minutes of
asynchronous processing; a feed takes a few calls, the createFeed quota's wait and its processing time,
reported at ~30 minutes even for tiny feeds (selling-partner-api-models#5151). With idle limiters the
break-even is (1800 s - 300 s) x 5/s = 7,500 items (a tie goes to the feed: fewer calls). Below that the
patch path is applied first; from there on the feed is (and stops spending the shared 5/s listings
quota). When ``options.daily_request_budget`` is set and the per-SKU requests would not fit what is left
of it today, the feed is taken whatever the size.

Price before quantity (selling-partner-api-models#4901: a restock that lands before its new price sells
at the old price): a PATCH carrying both lists ``purchasable_offer`` before ``fulfillment_availability``;
``publish`` of an existing listing (draft with ``ref``) sends the price first: on the patch path a price
PATCH precedes the PUT, on the feed path a price-only feed must be DONE before the UPDATE feed is sent
(items whose price is not confirmed fail ``price_pending``, retryable). The syncer must do the same across
calls: ``push_prices`` first, and ``push_stock`` raising a quantity only once that price is ``applied``
or confirmed by read-back.

Quantity 0 (stock-outs, delists) always goes by PATCH, first, whatever the size: in a feed it can
queue behind slow listing work for 12 hours or more (selling-partner-api-models#4823).

Unsupported: compare-and-set (Amazon has none; ``StockUpdate.expected`` is ignored); FBA quantities
(``AMAZON_*`` channels are Amazon's); relist after ``delist_mode="delete"`` (publish again).
"""

from __future__ import annotations

import gzip
import json
import logging
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from listing_sync.adapters.amazon import mapping as m
from listing_sync.adapters.amazon.auth import LWA_TOKEN_URL, LwaAuth
from listing_sync.adapters.base import (
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
    WriteWay,
    cheapest_way,
    publish_groups,
)
from listing_sync.adapters.excerpt import read_each, readable, unexpected
from listing_sync.adapters.http import HttpAdapter
from listing_sync.adapters.paging import Page, next_token
from listing_sync.adapters.tokens import TokenCache, process_cache, token_key
from pydantic import BaseModel, ConfigDict, Field, field_validator

T = TypeVar("T")
log = logging.getLogger("adapters.amazon")
PATCH_RATE = 5.0
FEED_LATENCY_S = 1800.0  # reported fixed processing time of a JSON_LISTINGS_FEED (#5151)
PATCH_LATENCY_S = 300.0  # "minutes later" for an ACCEPTED patch
FEED_THRESHOLD = int((FEED_LATENCY_S - PATCH_LATENCY_S) * PATCH_RATE)  # 7500
FEED_MAX_MESSAGES = 25_000  # listings-feed-schema-v2 messages.maxItems
POLL_BACKOFF_CAP = 4  # getFeed waits double from feed_poll_seconds up to this many times it
FEED_SMOOTHING = 0.5  # weight of the newest observed feed time in the moving figure

#: seconds from createFeed to a final getFeed as observed, a moving figure kept with the credential's
#: ``feed_status`` limiter (shared as its budget is: per process, per emulator hub): how many polls
#: the next feed will take, for :meth:`AmazonAdapter.estimate_calls`. It is also kept in the adapter's
#: token store (memory, a 0600 file in the data directory, or Redis) for ``FEED_SECONDS_KEPT`` seconds, so
#: a new process (each ``syncer sync --dry-run``, each worker) starts from what was seen, not from 30 min
_FEED_SECONDS: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
FEED_SECONDS_KEPT = 7 * 86_400.0


def poll_times(first: float, wait: float) -> Iterator[float]:
    """Seconds after createFeed at which getFeed is called: ``first``, then waits doubling up to
    ``POLL_BACKOFF_CAP`` x ``first``, never past ``wait`` (the last poll is at ``wait``; ``wait`` 0: one
    poll at once). A feed done after T seconds takes ``polls(T)`` calls however T compares with ``first``."""
    at, step = 0.0, first
    while True:
        at = min(at + step, wait)
        yield at
        if at >= wait:
            return
        step = min(step * 2, first * POLL_BACKOFF_CAP)


def polls(first: float, wait: float, seconds: float) -> int:
    """getFeed calls for a feed final after ``seconds`` (the poll at or after it, or the last at ``wait``)."""
    until = min(seconds, wait)
    return next(n for n, at in enumerate(poll_times(first, wait), 1) if at >= until)


#: limiter name -> documented (rate per second, burst) of the operation(s) it guards
QUOTAS: dict[str, tuple[float, float]] = {
    "default": (5.0, 5),  # patchListingsItem
    "put": (5.0, 10),  # putListingsItem
    "delete": (5.0, 5),  # deleteListingsItem
    "get_item": (5.0, 10),  # getListingsItem
    "search": (5.0, 5),  # searchListingsItems
    "feed_document": (0.5, 15),  # createFeedDocument
    # createFeed is 0.0083/s burst 15; JSON_LISTINGS_FEED also allows only 5 per 5 minutes per region
    "create_feed": (0.0083, 5),
    "feed_status": (2.0, 15),  # getFeed (the adapter polls slower: options.feed_poll_seconds)
    "feed_result": (0.0222, 10),  # getFeedDocument
    "ship": (2.0, 10),  # confirmShipment (Orders v0): 2 per second, burst 10
    "orders": (0.0056, 20),  # searchOrders (v2026-01-01): about one call in three minutes, burst 20
    "s3": (10.0, 10),  # presigned S3 document URLs (not an SP-API quota)
}


class AmazonOptions(BaseModel):
    """``[channels.options]`` of an ``amazon`` channel."""

    model_config = ConfigDict(extra="forbid")

    seller_id: str = Field(min_length=1, description="merchant token (Seller Central > Account info)")
    marketplace: str = Field("US", description="country code (US, DE, JP, ...) or marketplace id")
    region: Literal["NA", "EU", "FE"] | None = None  # default: the marketplace's region
    sandbox: bool = False
    delist_mode: Literal["zero_quantity", "delete"] = "zero_quantity"
    product_type: str = "PRODUCT"  # productType for patches when the ref does not carry one
    #: a fixed size from which feeds are used, instead of the cost model (tests; a cautious start)
    feed_threshold: int | None = Field(None, ge=1, le=FEED_MAX_MESSAGES)
    #: listings requests this channel may spend per day (UTC) when the app's quota is shared; None: no cap
    daily_request_budget: int | None = Field(None, ge=0)
    feed_poll_seconds: float = Field(30.0, ge=0.5)
    feed_wait_seconds: float = Field(3600.0, ge=0)
    issue_locale: str | None = None
    token_url: str | None = None

    @field_validator("marketplace")
    @classmethod
    def _known(cls, value: str) -> str:
        if value.upper() not in (*m.MARKETPLACES, "GB") and value not in m.MARKETPLACE_REGION:
            raise ValueError(
                f"unknown Amazon marketplace {value!r}: use a country code ({', '.join(m.MARKETPLACES)}) or an id"
            )
        return value

    @property
    def marketplace_id(self) -> str:
        code = self.marketplace.upper()
        if code == "GB":
            code = "UK"
        if code in m.MARKETPLACES:
            return m.MARKETPLACES[code][0]
        if self.marketplace in m.MARKETPLACE_REGION:
            return self.marketplace
        raise ConfigurationError(f"unknown Amazon marketplace {self.marketplace!r}: use e.g. US, DE, JP or an id")

    @property
    def api_region(self) -> str:
        return self.region or m.MARKETPLACE_REGION[self.marketplace_id]


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _limiter_for(method: str, path: str) -> str | None:
    """Which limiter guards this SP-API operation (for 429 backoff and x-amzn-RateLimit-Limit)."""
    if path.startswith("/orders/v0/") and path.endswith("/shipmentConfirmation"):
        return "ship"
    for root in (m.LISTINGS, m.FEEDS, m.ORDERS):
        at = path.find(root)
        if at >= 0:
            rest = path[at + len(root) :].strip("/").split("/")
            break
    else:
        return None
    if root == m.LISTINGS:
        if len(rest) < 2:
            return "search"
        return {"GET": "get_item", "PUT": "put", "PATCH": "default", "DELETE": "delete"}.get(method)
    if root == m.FEEDS:
        kind = rest[0] if rest else ""
        if kind == "documents":
            return "feed_document" if method == "POST" else "feed_result"
        if kind == "feeds":
            return "create_feed" if method == "POST" else "feed_status"
        return None
    return "orders"


def _errors(response: httpx.Response) -> tuple[str | None, str]:
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return None, response.text[:300]
    if not errors:
        return None, response.text[:300]
    first = errors[0]
    text = "; ".join(f"{e.get('message')}" + (f" ({e['details']})" if e.get("details") else "") for e in errors)
    return first.get("code"), text


class AmazonAdapter(HttpAdapter):
    """One Amazon seller account in one marketplace (see the module docstring for paths and limits)."""

    kind: ClassVar[str] = "amazon"
    options_model = AmazonOptions
    limits = Limits(
        publish=FEED_MAX_MESSAGES,  # messages; a draft with variations takes 1 + len(variations)
        price=FEED_MAX_MESSAGES,
        stock=FEED_MAX_MESSAGES,
        delist=FEED_MAX_MESSAGES,
        orders_page=100,
        rate=QUOTAS["default"][0],
        burst=int(QUOTAS["default"][1]),
        order_lag=timedelta(minutes=3),  # LastUpdatedBefore must be >= 2 minutes before now
        order_overlap=timedelta(minutes=5),
    )
    # Amazon listings: main_product_image_locator + other_product_image_locator_1..8 = 9 images.
    content_rules = ContentRules(
        max_images=9, category_required=True, category_pattern=r"^[A-Z][A-Z0-9_]*$", category_hint="productType"
    )
    extra_limiters: ClassVar[Mapping[str, tuple[float, float]]] = {k: v for k, v in QUOTAS.items() if k != "default"}

    options: AmazonOptions

    def __init__(self, channel: Any, *, now: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        self.now = now or (lambda: datetime.now(UTC))
        super().__init__(channel, **kwargs)
        self._used_today = 0  # pushes recorded today before this instance (seed_revisions)
        self._calls_at_seed = 0

    # -- declarations ------------------------------------------------------------------------------
    @property
    def marketplace_id(self) -> str:
        return self.options.marketplace_id

    def production_url(self) -> str:
        host = m.HOSTS[self.options.api_region]
        return f"https://{'sandbox.' if self.options.sandbox else ''}{host}"

    def _overridden(self) -> bool:
        return bool(self.channel.base_url) and self.channel.base_url != "emulator:"

    def build_auth(self) -> httpx.Auth:
        token_url = self.options.token_url or (
            f"{self.base_url()}/auth/o2/token" if self._overridden() else LWA_TOKEN_URL
        )
        try:
            client_id, secret, refresh = (self.credential(k) for k in ("client_id", "client_secret", "refresh_token"))
        except KeyError as exc:
            raise ConfigurationError(f"{exc.args[0]} (amazon needs client_id, client_secret, refresh_token)") from None
        return LwaAuth(
            api_host=urlsplit(self.base_url()).hostname or "",
            token_url=token_url,
            client_id=client_id,
            client_secret=secret,
            refresh_token=refresh,
            redactor=self.redactor,
            clock=self.clock,
            now=self.now,
            cache=self.tokens,
        )

    def default_headers(self) -> Mapping[str, str]:
        return {"User-Agent": "listing-sync/0.1 (Language=Python)", "Accept": "application/json"}

    def classify(self, response: httpx.Response) -> ChannelError | None:
        request = response.request
        status = response.status_code
        name = _limiter_for(request.method, request.url.path)
        if name is None and not request.url.path.endswith("/auth/o2/token"):
            return self._classify_s3(response)  # a presigned feed-document URL, not the SP-API
        limit = response.headers.get("x-amzn-RateLimit-Limit")
        if limit and name and name not in ("feed_status", "create_feed"):
            try:
                rate = float(limit)
            except ValueError:
                rate = 0.0
            if rate > 0:
                self.http.limiter(name).set_rate(rate)
        if status < 400:
            return None
        code, text = _errors(response)
        where = f"{request.method} {request.url.path}"
        if status == 429:
            # no Retry-After on SP-API throttles: wait one token of the operation's (adopted) rate
            rate = self.http.limiter(name).rate if name else QUOTAS["default"][0]
            if name == "feed_status":
                rate = QUOTAS["feed_status"][0]
            return RateLimited(
                f"QuotaExceeded on {where}: {text}", status=429, code=code or "QuotaExceeded", retry_after=1.0 / rate
            )
        if status >= 500:
            return TransientError(f"Amazon server error {status} on {where}: {text}", status=status, code=code)
        if status in (401, 403):
            return None  # plain mapping: AuthError (the expired-token 403 was already refreshed once)
        if status == 404:
            return PermanentItemError(f"not found on {where}: {text}", status=status, code=code or "NotFound")
        return RequestRejected(f"Amazon refused {where} (HTTP {status}): {text}", status=status, code=code)

    @staticmethod
    def _classify_s3(response: httpx.Response) -> ChannelError | None:
        status = response.status_code
        if status < 400:
            return None
        body = response.text[:300]
        if status in (403, 400) or status >= 500:
            # expired (5 min) or refused presigned URL: a new document fixes it, so the batch may retry
            return TransientError(f"feed document storage refused the transfer (HTTP {status}): {body}", status=status)
        return RequestRejected(f"feed document transfer failed (HTTP {status}): {body}", status=status)

    # -- chunking ----------------------------------------------------------------------------------
    def chunks(self, op: Operation, items: Sequence[ItemT]) -> Iterator[list[ItemT]]:
        """Publish batches count feed messages (a draft with variations is 1 + len(variations))."""
        if op != Operation.PUBLISH:
            yield from super().chunks(op, items)
            return
        batch: list[ItemT] = []
        size = 0
        for item in items:
            n = 1 + len(getattr(item, "variations", ()) or ())
            if batch and size + n > FEED_MAX_MESSAGES:
                yield batch
                batch, size = [], 0
            batch.append(item)
            size += n
        if batch:
            yield batch

    def estimate_calls(self, op: Operation, items: Sequence[BatchItem]) -> int:
        """On the per-SKU path (:meth:`write_way`) one request per SKU (publish: the parent and each child, a
        price PATCH first for a listing published before); on the feed path one JSON_LISTINGS_FEED: create the
        document, upload, createFeed, the getFeed polls of :func:`poll_times` until the feed's expected
        processing time (:meth:`expected_feed_seconds`), the report document and its download. Quantity 0
        always goes by PATCH."""
        if op is Operation.PUBLISH:
            groups = publish_groups(items)
            messages = sum(len(g.skus) + (1 if g.variations else 0) for g in groups)
            if self._use_feed(messages):
                return self._feed_calls(messages) + (self._feed_calls(len(groups)) if any(g.ref for g in groups) else 0)
            return messages + sum(1 for g in groups if g.ref is not None)
        if op is Operation.DELIST and self.options.delist_mode == "delete":
            return self._feed_calls(len(items)) if self._use_feed(len(items)) else len(items)
        urgent = sum(1 for i in items if op is Operation.DELIST or getattr(i, "quantity", None) == 0)
        rest = len(items) - urgent
        return urgent + (self._feed_calls(rest) if self._use_feed(rest) else rest)

    def write_path(self, op: Operation, items: Sequence[BatchItem]) -> str | None:
        """Feed or per-SKU requests for this batch, and why (the plan shows it): see :meth:`write_way`."""
        if op is Operation.PUBLISH:
            groups = publish_groups(items)
            messages = sum(len(g.skus) + (1 if g.variations else 0) for g in groups)
        else:
            zero = op is Operation.DELIST and self.options.delist_mode != "delete"
            messages = 0 if zero else sum(1 for i in items if getattr(i, "quantity", None) != 0)
        if not messages:
            return None
        return f"{op.value}: {self.write_way(messages)[1]}"

    def write_way(self, messages: int) -> tuple[WriteWay, str]:
        """The way ``messages`` go out and why. Requests: the listings limiter's wait + messages / 5 s +
        ~5 min until applied, one call each, counted against what is left of ``daily_request_budget``.
        Feed: the createFeed quota's wait + ~30 min processing, :meth:`_feed_calls` calls. The way that
        fits the budget and is applied first wins (:func:`cheapest_way`); ``feed_threshold`` overrides."""
        requests_s = self.http.limiter().wait_time(1) + messages / PATCH_RATE
        budget = self.options.daily_request_budget
        left = None if budget is None else max(0, budget - self._used_today - (self.api_calls - self._calls_at_seed))
        requests = WriteWay("requests", messages, requests_s + PATCH_LATENCY_S, left)
        feeds = -(-messages // FEED_MAX_MESSAGES)
        quota = self.http.limiter("create_feed")
        queued = quota.wait_time(min(feeds, quota.burst)) + max(0.0, feeds - quota.burst) / quota.rate
        feed = WriteWay("feed", self._feed_calls(messages), queued + FEED_LATENCY_S)
        fixed = self.options.feed_threshold
        chosen = (feed if messages >= fixed else requests) if fixed else cheapest_way([requests, feed])
        sending, applied = _span(requests_s), _span(requests.seconds)
        as_requests = f"{messages} per-SKU requests (~{sending} at {PATCH_RATE:g}/s, applied in ~{applied})"
        as_feed = (
            f"{'one JSON_LISTINGS_FEED' if feeds == 1 else f'{feeds} JSON_LISTINGS_FEEDs'} for {messages} messages"
            f" ({feed.calls} calls, applied in ~{_span(feed.seconds)}"
            + (f", {_span(queued)} of it waiting for the createFeed quota)" if queued >= 1 else ")")
        )
        spent = "" if left is None else f"; {left} of the day's {budget} requests left"
        if fixed:
            why = f"feed_threshold = {fixed} messages"
        elif chosen is feed and not requests.fits:
            why = "the requests do not fit the day's budget"
        elif chosen is feed:
            why = "applied sooner" if feed.seconds < requests.seconds else "applied as soon, in fewer calls"
        else:
            why = "applied sooner" + ("" if feed.fits else "; the feed does not fit the budget either")
        if chosen is feed:
            return chosen, f"{as_feed} instead of {as_requests}: {why}{spent}"
        return chosen, f"{as_requests} instead of {as_feed}: {why}{spent}"

    def seed_revisions(self, used: Mapping[str, int]) -> None:
        """The day's pushes recorded so far on this channel (one request each on the per-SKU path; a feed's
        items count too, which errs toward the feed) count against ``daily_request_budget``."""
        self._used_today = sum(used.values())
        self._calls_at_seed = self.api_calls

    @property
    def daily_call_budget(self) -> int | None:
        return self.options.daily_request_budget

    def _feed_calls(self, messages: int) -> int:
        count = polls(self.options.feed_poll_seconds, self.options.feed_wait_seconds, self.expected_feed_seconds())
        return -(-messages // FEED_MAX_MESSAGES) * (3 + count + 2)

    def expected_feed_seconds(self) -> float:
        """How long the next feed is expected to run: the moving figure of the feeds this credential saw
        finish (in this process, else as another process stored it), else Amazon's reported ~30 minutes
        (``FEED_LATENCY_S``)."""
        limiter = self.http.limiter("feed_status")
        found = _FEED_SECONDS.get(limiter)
        if found is None:
            found = self._stored_feed_seconds()
            if found is None:
                return FEED_LATENCY_S
            _FEED_SECONDS[limiter] = found
        return found

    def _observe_feed(self, seconds: float) -> None:
        limiter = self.http.limiter("feed_status")
        before = _FEED_SECONDS.get(limiter)
        if before is None:
            before = self._stored_feed_seconds()
        figure = seconds if before is None else before + FEED_SMOOTHING * (seconds - before)
        _FEED_SECONDS[limiter] = figure
        self._feed_store().put(self._feed_key(), f"{figure:.3f}", time.time() + FEED_SECONDS_KEPT)

    def _feed_store(self) -> TokenCache:
        return self.tokens if self.tokens is not None else process_cache()

    def _feed_key(self) -> str:
        return token_key("amazon-feed-seconds", self.credential_key)

    def _stored_feed_seconds(self) -> float | None:
        stored = self._feed_store().get(self._feed_key())
        try:
            seconds = float(stored[0]) if stored else None
        except ValueError:  # not written by this code: ignore it
            return None
        return seconds if seconds is not None and 0 <= seconds < 1e7 else None

    def _use_feed(self, messages: int) -> bool:
        return messages > 0 and self.write_way(messages)[0].name == "feed"

    # -- helpers -----------------------------------------------------------------------------------
    def _item_path(self, sku: str) -> str:
        return f"{m.LISTINGS}/{quote(self.options.seller_id, safe='')}/{quote(sku, safe='')}"

    def _product_type(self, ref: ListingRef | None) -> str:
        return (ref.get("product_type") if ref else None) or self.options.product_type

    def _json(self, body: Any) -> dict[str, Any]:
        return {"content": m.dumps(body), "headers": {"Content-Type": "application/json"}}

    def _params(self) -> dict[str, str]:
        params = {"marketplaceIds": self.marketplace_id}
        if self.options.issue_locale:
            params["issueLocale"] = self.options.issue_locale
        return params

    @staticmethod
    def _ref(sku: str, ref: ListingRef | None, **ids: str) -> ListingRef:
        merged = {**(dict(ref.ids) if ref else {}), **{k: v for k, v in ids.items() if v}}
        return ListingRef(sku, ref.external_id if ref else None, merged)

    def _submission(self, sku: str, response: httpx.Response, ref: ListingRef | None) -> ItemResult:
        body = response.json()
        status = body.get("status")
        if status == "ACCEPTED":
            return ItemResult.success(
                sku, ref=self._ref(sku, ref, submission_id=body.get("submissionId")), state="submitted"
            )
        issues = m.error_issues(body.get("issues")) or body.get("issues") or []
        code = issues[0].get("code") if issues else None
        return ItemResult.failure(sku, code or status or "INVALID", m.issue_text(issues) or f"submission {status}")

    def _each(self, items: Sequence[T], sku: Callable[[T], str], send: Callable[[T], ItemResult]) -> list[ItemResult]:
        """One call per item. Item refusals stay per item; a channel-wide failure (throttled after the
        retries, auth, outage) fails the remaining items with it instead of hammering on."""
        results: list[ItemResult] = []
        stop: ChannelError | None = None
        for item in items:
            if stop is not None:
                results.append(ItemResult.from_error(sku(item), stop))
                continue
            try:
                results.append(send(item))
            except (RequestRejected, PermanentItemError) as exc:
                results.append(ItemResult.from_error(sku(item), exc))
            except ChannelError as exc:
                stop = exc
                results.append(ItemResult.from_error(sku(item), exc))
        return results

    def _patch(self, sku: str, ref: ListingRef | None, patches: list[dict[str, Any]]) -> ItemResult:
        body = m.patch_body(self._product_type(ref), patches)
        response = self.http.patch(self._item_path(sku), params=self._params(), **self._json(body))
        return self._submission(sku, response, ref)

    def _currency_problem(self, sku: str, price: Any) -> ItemResult | None:
        if price.currency != self.channel.currency:
            return ItemResult.failure(
                sku,
                "currency_mismatch",
                f"price in {price.currency} but this Amazon channel sells in {self.channel.currency}",
            )
        return None

    # -- operations --------------------------------------------------------------------------------
    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ItemResult]:
        """Set ``purchasable_offer`` (our_price, audience ALL; a promotion's ``discounted_price`` schedule with
        its dates) for this marketplace."""

        def patches(u: PriceUpdate) -> list[dict[str, Any]]:
            return [m.price_patch(u.price, self.marketplace_id, u.sale)]

        def check(u: PriceUpdate) -> ItemResult | None:
            return self._currency_problem(u.sku, u.price) or (
                self._currency_problem(u.sku, u.sale.price) if u.sale else None
            )

        return self._write(updates, patches, check)

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ItemResult]:
        """Set the DEFAULT (merchant-fulfilled) quantity with a ``merge`` patch. No compare-and-set exists."""
        return self._write(updates, lambda u: [m.quantity_patch(u.quantity)], urgent=lambda u: u.quantity == 0)

    def delist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        """``zero_quantity`` (default): quantity 0, the offer stays. ``delete``: deleteListingsItem."""
        if self.options.delist_mode == "delete":
            return self._delete(requests)
        return self._write(requests, lambda r: [m.quantity_patch(0)], urgent=lambda r: True)

    def relist(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        """Put the quantity back (``DelistRequest.quantity``); a deleted listing must be published again."""
        if self.options.delist_mode == "delete":
            return [
                ItemResult.failure(r.sku, "unsupported", "listing was deleted (delist_mode=delete): publish it again")
                for r in requests
            ]

        def check(r: DelistRequest) -> ItemResult | None:
            if r.quantity is None:
                return ItemResult.failure(
                    r.sku, "relist_needs_quantity", "Amazon relists by quantity: give the quantity"
                )
            return None

        return self._write(requests, lambda r: [m.quantity_patch(r.quantity or 0)], check)

    def _write(
        self,
        items: Sequence[Any],
        patches: Callable[[Any], list[dict[str, Any]]],
        check: Callable[[Any], ItemResult | None] = lambda _: None,
        urgent: Callable[[Any], bool] = lambda _: False,
    ) -> list[ItemResult]:
        """Per-SKU PATCHes or one JSON_LISTINGS_FEED of PATCH messages, as :meth:`write_way` chooses.

        ``urgent`` items (quantity 0) always PATCH: in a feed they can queue behind slow listing work for
        12 hours or more (selling-partner-api-models#4823) while the last units oversell.
        """
        results = {i: r for i, item in enumerate(items) if (r := check(item)) is not None}
        todo = [(i, item) for i, item in enumerate(items) if i not in results]
        fast = [(i, item) for i, item in todo if urgent(item)]
        rest = [(i, item) for i, item in todo if not urgent(item)]
        feed = self._use_feed(len(rest))
        if not feed:
            fast, rest = fast + rest, []
        sent = self._each(
            [item for _, item in fast], lambda it: it.sku, lambda it: self._patch(it.sku, it.ref, patches(it))
        )
        results.update({i: r for (i, _), r in zip(fast, sent, strict=True)})
        if feed:
            groups = [
                (item.sku, [m.patch_message(0, item.sku, self._product_type(item.ref), patches(item))])
                for _, item in rest
            ]
            fed = self._feed(groups, [item.ref for _, item in rest])
            results.update({i: r for (i, _), r in zip(rest, fed, strict=True)})
        return [results[i] for i in range(len(items))]

    def _delete(self, requests: Sequence[DelistRequest]) -> list[ItemResult]:
        if self._use_feed(len(requests)):
            return self._feed([(r.sku, [m.delete_message(0, r.sku)]) for r in requests], [r.ref for r in requests])

        def send(r: DelistRequest) -> ItemResult:
            response = self.http.delete(self._item_path(r.sku), params=self._params(), limiter="delete")
            return self._submission(r.sku, response, r.ref)

        return self._each(requests, lambda r: r.sku, send)

    def publish(self, drafts: Sequence[ListingDraft]) -> list[ItemResult]:
        """putListingsItem per SKU (parent first, then variation children) or feed UPDATE messages.

        ``draft.category_id`` is the Amazon product type, ``draft.attributes`` its attributes. A draft
        with ``ref`` is an update of a live listing: its price goes first (see the module docstring).
        """
        early = {i: r for i, d in enumerate(drafts) if (r := self._draft_problem(d)) is not None}
        todo = [(i, d) for i, d in enumerate(drafts) if i not in early]
        messages = sum(1 + len(d.variations) for _, d in todo)
        results = dict(early)
        if self._use_feed(messages):
            sent = self._publish_feed([d for _, d in todo])
        else:
            sent = self._each([d for _, d in todo], lambda d: d.sku, self._publish_one)
        results.update({i: r for (i, _), r in zip(todo, sent, strict=True)})
        return [results[i] for i in range(len(drafts))]

    def _draft_problem(self, draft: ListingDraft) -> ItemResult | None:
        prices = [draft.price] + [v.price for v in draft.variations]
        for price in prices:
            if (problem := self._currency_problem(draft.sku, price)) is not None:
                return problem
        if not draft.category_id:
            return ItemResult.failure(draft.sku, "missing_product_type", "category_id must be the Amazon productType")
        return None

    def _price_patches(self, draft: ListingDraft) -> list[tuple[str, dict[str, Any]]]:
        if draft.variations:
            return [(v.sku, m.price_patch(v.price, self.marketplace_id)) for v in draft.variations]
        return [(draft.sku, m.price_patch(draft.price, self.marketplace_id))]

    def _publish_one(self, draft: ListingDraft) -> ItemResult:
        if draft.ref is not None:  # live listing: its new price is submitted before the quantity
            for sku, patch in self._price_patches(draft):
                first = self._patch(sku, draft.ref, [patch])
                if not first.ok:
                    return ItemResult.failure(draft.sku, first.code or "INVALID", f"price of {sku}: {first.message}")
        submission = None
        for sku, body in m.put_bodies(draft, self.marketplace_id):
            response = self.http.put(self._item_path(sku), params=self._params(), limiter="put", **self._json(body))
            result = self._submission(sku, response, None)
            if not result.ok:
                return ItemResult.failure(draft.sku, result.code or "INVALID", f"{sku}: {result.message}")
            if sku == draft.sku:
                submission = result.ref.get("submission_id") if result.ref else None
        return ItemResult.success(
            draft.sku, ref=self._published_ref(draft, submission_id=submission), state="submitted"
        )

    def _published_ref(self, draft: ListingDraft, **ids: str | None) -> ListingRef:
        extra = {"product_type": draft.category_id, "marketplace_id": self.marketplace_id}
        if draft.variations:
            extra["variation_skus"] = ",".join(v.sku for v in draft.variations)
        return self._ref(draft.sku, draft.ref, **extra, **{k: v for k, v in ids.items() if v})

    def _publish_feed(self, drafts: list[ListingDraft]) -> list[ItemResult]:
        pending: dict[int, ItemResult] = {}
        live = [(i, d) for i, d in enumerate(drafts) if d.ref is not None]
        if live:  # phase 1: the new prices of live listings, confirmed before any quantity is sent
            groups = [
                (d.sku, [m.patch_message(0, sku, self._product_type(d.ref), [p]) for sku, p in self._price_patches(d)])
                for _, d in live
            ]
            for (i, d), r in zip(live, self._feed(groups, [d.ref for _, d in live]), strict=True):
                if not r.ok:
                    pending[i] = ItemResult.failure(
                        d.sku, r.code or "INVALID", f"price: {r.message}", retryable=r.retryable
                    )
                elif r.state != "applied":
                    pending[i] = ItemResult.failure(
                        d.sku,
                        "price_pending",
                        f"the new price is still processing (feed {r.ref.get('feed_id') if r.ref else '?'}); the "
                        "listing update is held back so its quantity cannot land before the price",
                        retryable=True,
                    )
        rest = [(i, d) for i, d in enumerate(drafts) if i not in pending]
        groups = [
            (d.sku, [m.update_message(0, sku, body) for sku, body in m.put_bodies(d, self.marketplace_id)])
            for _, d in rest
        ]
        refs = [self._published_ref(d) for _, d in rest]
        for (i, _), r in zip(rest, self._feed(groups, refs), strict=True):
            pending[i] = r
        return [pending[i] for i in range(len(drafts))]

    # -- feeds -------------------------------------------------------------------------------------
    def _feed(
        self, groups: list[tuple[str, list[dict[str, Any]]]], refs: Sequence[ListingRef | None]
    ) -> list[ItemResult]:
        """Submit ``groups`` = (result sku, its messages) as JSON_LISTINGS_FEEDs of at most
        ``FEED_MAX_MESSAGES`` messages each (a group is never split; one feed of more comes back FATAL).
        One result per group."""
        results: list[ItemResult] = []
        start = size = 0
        for end, (_, group) in enumerate(groups):
            if end > start and size + len(group) > FEED_MAX_MESSAGES:
                results += self._one_feed(groups[start:end], refs[start:end])
                start, size = end, 0
            size += len(group)
        return results + self._one_feed(groups[start:], refs[start:])

    def _one_feed(
        self, groups: list[tuple[str, list[dict[str, Any]]]], refs: Sequence[ListingRef | None]
    ) -> list[ItemResult]:
        """Submit one JSON_LISTINGS_FEED; ``groups`` = (result sku, its messages). One result per group."""
        if not groups:
            return []
        messages: list[dict[str, Any]] = []
        owner: dict[int, int] = {}  # messageId -> group
        first_id: dict[int, int] = {}  # group -> its first messageId
        for g, (_, group) in enumerate(groups):
            first_id[g] = len(messages) + 1
            for message in group:
                message_id = len(messages) + 1
                messages.append({**message, "messageId": message_id})
                owner[message_id] = g
        try:
            feed_id = self._submit_feed(messages)
        except ChannelError as exc:
            return [ItemResult.from_error(sku, exc) for sku, _ in groups]

        def submitted() -> list[ItemResult]:
            return [
                ItemResult.success(
                    sku, ref=self._ref(sku, refs[g], feed_id=feed_id, message_id=str(first_id[g])), state="submitted"
                )
                for g, (sku, _) in enumerate(groups)
            ]

        try:
            feed = self._await_feed(feed_id)
        except ChannelError:
            return submitted()
        if feed is None:
            return submitted()
        return self._feed_outcome(feed, groups, refs, owner)

    def _submit_feed(self, messages: list[dict[str, Any]]) -> str:
        document = self.http.post(
            f"{m.FEEDS}/documents",
            json={"contentType": m.FEED_CONTENT_TYPE},
            limiter="feed_document",
            ok_statuses=(201,),
        ).json()
        content = m.dumps(m.feed_document(self.options.seller_id, messages, self.options.issue_locale))
        self.http.put(document["url"], content=content, headers={"Content-Type": m.FEED_CONTENT_TYPE}, limiter="s3")
        spec = {
            "feedType": m.FEED_TYPE,
            "marketplaceIds": [self.marketplace_id],
            "inputFeedDocumentId": document["feedDocumentId"],
        }
        return self.http.post(f"{m.FEEDS}/feeds", json=spec, limiter="create_feed", ok_statuses=(202,)).json()["feedId"]

    def _await_feed(self, feed_id: str) -> dict[str, Any] | None:
        """Poll getFeed at :func:`poll_times` until a final status (its time goes into the moving figure),
        or None once ``feed_wait_seconds`` have passed. Back-off bounds the polls of a long feed (Amazon
        reports ~30 min: 17 polls where one every 30 s made 60) and keeps a short one to a few."""
        start = self.clock()
        for at in poll_times(self.options.feed_poll_seconds, self.options.feed_wait_seconds):
            pause = start + at - self.clock()
            if pause > 0:
                self.http.sleep(pause)
            feed = self.http.get(f"{m.FEEDS}/feeds/{quote(feed_id, safe='')}", limiter="feed_status").json()
            if feed.get("processingStatus") in ("DONE", "FATAL", "CANCELLED"):
                self._observe_feed(self.clock() - start)
                return feed
        return None

    def _report(self, document_id: str) -> dict[str, Any]:
        doc = self.http.get(f"{m.FEEDS}/documents/{quote(document_id, safe='')}", limiter="feed_result").json()
        raw = self.http.get(doc["url"], limiter="s3").content
        if doc.get("compressionAlgorithm") == "GZIP":
            raw = gzip.decompress(raw)
        return json.loads(raw)

    def feed_results(self, feed_id: str, skus_by_message: Mapping[int, str]) -> dict[str, ItemResult] | None:
        """Confirm a feed left ``submitted``: per-SKU results once it is final, None while it runs."""
        feed = self.http.get(f"{m.FEEDS}/feeds/{quote(feed_id, safe='')}", limiter="feed_status").json()
        if feed.get("processingStatus") not in ("DONE", "FATAL", "CANCELLED"):
            return None
        groups: list[tuple[str, list[Any]]] = [(sku, [{}]) for sku in skus_by_message.values()]
        owner = {mid: g for g, mid in enumerate(skus_by_message)}
        results = self._feed_outcome(feed, groups, [None] * len(groups), owner)
        return {r.sku: r for r in results}

    def _feed_outcome(
        self,
        feed: Mapping[str, Any],
        groups: Sequence[tuple[str, list[Any]]],
        refs: Sequence[ListingRef | None],
        owner: Mapping[int, int],
    ) -> list[ItemResult]:
        status = feed.get("processingStatus")
        feed_id = str(feed.get("feedId"))
        report: dict[str, Any] = {}
        if feed.get("resultFeedDocumentId"):
            try:
                report = self._report(feed["resultFeedDocumentId"])
            except (ChannelError, ValueError, OSError):
                if status == "DONE":
                    return [
                        ItemResult.success(sku, ref=self._ref(sku, refs[g], feed_id=feed_id), state="submitted")
                        for g, (sku, _) in enumerate(groups)
                    ]
        by_message, general = m.report_errors(report)
        if status != "DONE" or general:
            why = m.issue_text(general) or f"feed {feed_id} ended {status}: some, none or all changes may apply"
            return [
                ItemResult.failure(sku, f"feed_{str(status).lower()}", why, retryable=status != "DONE")
                for sku, _ in groups
            ]
        errors: dict[int, list[dict]] = {}
        for message_id, issues in by_message.items():
            if message_id in owner:
                errors.setdefault(owner[message_id], []).extend(issues)
        out = []
        for g, (sku, _) in enumerate(groups):
            if g in errors:
                out.append(ItemResult.failure(sku, errors[g][0].get("code") or "INVALID", m.issue_text(errors[g])))
            else:
                out.append(ItemResult.success(sku, ref=self._ref(sku, refs[g], feed_id=feed_id), state="applied"))
        return out

    # -- shipping ----------------------------------------------------------------------------------
    cancel_unsupported = (
        "the Orders API has no cancel operation (sellers cancel in Seller Central or by an order "
        "acknowledgement feed, not integrated)"
    )
    native_sale = "dated"
    native_sale_schedule = "Amazon: purchasable_offer discounted_price schedule with start_at and end_at"
    carrier_codes = m.CARRIER_CODES

    def find_shipment(self, shipment: Shipment) -> str | None:
        """Nothing to look up: the Orders API returns no tracking numbers to read back, and confirmShipment
        is keyed by the order and ``packageReferenceId`` (the same package sent again edits it, never a
        second package), so sending it again is the safe way to make sure it arrived."""
        return None

    def send_shipment(self, shipment: Shipment) -> str | None:
        """confirmShipment: ``POST /orders/v0/orders/{orderId}/shipmentConfirmation``, 204 No Content. Keyed
        by ``packageReferenceId`` (the package's number in its order): safe to send again."""
        body = m.confirm_shipment_body(shipment, self.carrier_code(shipment.carrier), self.marketplace_id)
        path = m.CONFIRM_SHIPMENT.format(order_id=quote(shipment.order_id, safe=""))
        self.http.post(path, json=body, limiter="ship")
        return str(shipment.package)

    # -- orders ------------------------------------------------------------------------------------
    def orders_since(self, cursor: OrderCursor) -> OrderPage:
        """searchOrders (Orders API v2026-01-01) by lastUpdatedAfter/Before, the window fixed while paging
        by paginationToken. Items, status, money and ship-to country come on the page itself
        (``includedData``): one call per 100 orders. A token that is refused (tokens expire after 24 hours)
        restarts the window from its start; a token answered with itself stops the pull."""
        lims = self.limits
        until = cursor.until or (self.now() - lims.order_lag)
        if until < cursor.since:  # caught up closer than the 2-minute floor: nothing to ask yet
            return OrderPage((), OrderCursor(cursor.since), True)
        params = m.order_params(self.marketplace_id, cursor.since, until, lims.orders_page, cursor.page)
        try:
            body = self.http.get(m.ORDERS, params=params, limiter="orders").json()
        except RequestRejected as exc:
            if not cursor.page:
                raise
            log.warning(
                "[%s] searchOrders refused the stored paginationToken (%s); re-reading the window", self.name, exc
            )
            return OrderPage((), OrderCursor(cursor.since), False)
        orders, problems = self._order_page(body)
        token = next_token((body.get("pagination") or {}).get("nextToken"))
        self.check_page("searchOrders paginationToken", cursor.page, token, items=len(body["orders"]))
        if token:
            return OrderPage(orders, OrderCursor(cursor.since, until, token), False, problems)
        return OrderPage(orders, OrderCursor(until - lims.order_overlap), True, problems)

    def _order_page(self, body: Any) -> tuple[tuple[Order, ...], tuple[ChannelError, ...]]:
        """The normalized orders of one searchOrders answer, and the orders that do not read as the model
        says (each a typed error with an excerpt that shows no recipient data; the rest carry on). An
        answer without an orders list is a typed error on the page (the cursor stays)."""
        if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
            raise unexpected("searchOrders answer", "no orders list", value=body, channel=self.name)
        currency = self.channel.currency
        orders, problems = read_each(
            body["orders"],
            lambda data: m.order(data, currency),
            what="searchOrders order",
            key="orderId",
            channel=self.name,
        )
        return tuple(orders), tuple(problems)

    # -- read-back ---------------------------------------------------------------------------------
    def listings(self) -> Iterator[RemoteListing]:
        """searchListingsItems by createdDate ascending, 20 per page. Amazon pages through at most 1,000
        SKUs per query: when ``numberOfResults`` says a query held more, the next query starts at the last
        createdDate read (``createdAfter`` is inclusive; SKUs already yielded are skipped)."""
        path = f"{m.LISTINGS}/{quote(self.options.seller_id, safe='')}"
        seen: set[str] = set()
        created_after: str | None = None
        while True:
            query = _ListingQuery()

            def fetch(
                token: str | None, query: _ListingQuery = query, created_after: str | None = created_after
            ) -> Page[dict[str, Any]]:
                params: dict[str, Any] = {
                    **self._params(),
                    "includedData": "summaries,offers,fulfillmentAvailability",
                    "sortBy": "createdDate",
                    "sortOrder": "ASC",
                    "pageSize": 20,
                }
                if created_after:
                    params["createdAfter"] = created_after
                if token:
                    params["pageToken"] = token
                body = self.http.get(path, params=params, limiter="search").json()
                query.total = int(body.get("numberOfResults") or 0)
                items = list(body.get("items") or [])
                return Page(items, next_token((body.get("pagination") or {}).get("nextToken")))

            for item in self.pages(fetch, "searchListingsItems pageToken"):
                query.read += 1
                summaries = item.get("summaries") if isinstance(item, dict) else None
                created = next((s.get("createdDate") for s in summaries or [] if isinstance(s, dict)), None)
                query.last_created = created if isinstance(created, str) else query.last_created
                sku = item.get("sku") if isinstance(item, dict) else None
                if not isinstance(sku, str) or sku in seen:
                    continue
                seen.add(sku)
                query.fresh += 1
                yield from readable(
                    [item],
                    partial(m.remote_listing, marketplace_id=self.marketplace_id),
                    what="searchListingsItems item",
                    key="sku",
                    channel=self.name,
                    told=lambda problem: log.warning("%s; left out of the read-back", problem),
                )
            if query.read >= query.total or query.fresh == 0 or query.last_created is None:
                return
            created_after = query.last_created

    def listing(self, sku: str) -> RemoteListing | None:
        """getListingsItem for one SKU (read-back confirmation of a submitted change); None if absent."""
        params = {**self._params(), "includedData": "summaries,offers,fulfillmentAvailability"}
        try:
            body = self.http.get(self._item_path(sku), params=params, limiter="get_item").json()
        except PermanentItemError:
            return None
        return m.remote_listing(body, self.marketplace_id)


@dataclass(slots=True)
class _ListingQuery:
    """What one searchListingsItems query (up to 1,000 SKUs) has read so far."""

    read: int = 0
    total: int = 0
    fresh: int = 0
    last_created: str | None = None
