"""In-memory Amazon SP-API: LWA token endpoint, Listings Items 2021-08-01, Feeds 2021-06-30 with
JSON_LISTINGS_FEED (presigned document storage included), Orders v0.

Written from the reference (overseas-apis.md section 2 and the official models), not from the adapter.
Faithful parts: 403 ``Unauthorized`` for a missing/expired ``x-amz-access-token``; per-operation token
buckets with the documented default rate/burst answering 429 ``QuotaExceeded`` with no Retry-After;
``ErrorList`` bodies; ``ACCEPTED`` listings submissions that apply only after ``apply_delay`` seconds
(default 0: by the next request); feeds that run ``IN_QUEUE`` -> ``IN_PROGRESS`` -> ``DONE`` over
``feed_seconds`` and leave a GZIP processing report whose ``issues[]`` name the ``messageId``; presigned
URLs that expire after 5 minutes and demand the exact Content-Type; getOrders' rule that
``LastUpdatedBefore`` is at least 2 minutes before now.

What it keeps of the feeds is what a later call can still ask for, so its memory does not grow with the
feeds sent (a 100,000-SKU publish is four 25,000-message documents, about 0.4 GB as Python strings):
feeds, with their processing reports, for 90 days ("Feeds are retained for a maximum of 90 days",
getFeeds in feeds_2021-06-30.json) and at most ``keep_feeds`` of them (default 1,000), the oldest finished
ones forgotten first (getFeed and getFeedDocument then answer 404 NotFound). A feed's input document is
dropped once the feed is processed (DONE or FATAL): Amazon keeps it for the same 90 days, but nothing reads
an input document back after that, so here getFeedDocument and its URL answer 404 for it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from listing_sync.adapters.amazon import emulated_orders as eo
from listing_sync.adapters.amazon.emulated_lwa import LwaService
from listing_sync.adapters.emulator import Emulator, route
from listing_sync.adapters.ratelimits import TokenBucket

LISTINGS = "/listings/2021-08-01/items"
FEEDS = "/feeds/2021-06-30"
ORDERS_2026 = "/orders/2026-01-01"
S3_PREFIX = "/tortuga-prod/NinetyDays"
MARKETPLACES = {
    "ATVPDKIKX0DER": "USD",
    "A2EUQ1WTGCTBG2": "CAD",
    "A1AM78C64UM0Y8": "MXN",
    "A2Q3Y263D00KWC": "BRL",
    "A1F83G8C2ARO7P": "GBP",
    "A1PA6795UKMFR9": "EUR",
    "A13V1IB3VIYZZH": "EUR",
    "APJ6JRA9NG5V4": "EUR",
    "A1RKKUPIHCS9HS": "EUR",
    "A1805IZSGTT6HS": "EUR",
    "A1VC38T7YXB528": "JPY",
    "A39IBJ37TRP1C6": "AUD",
    "A19VAU5U5O7RUS": "SGD",
}
# country code -> marketplace id (marketplace-ids doc), for options given as "DE" instead of an id
MARKETPLACE_IDS = {
    "US": "ATVPDKIKX0DER",
    "CA": "A2EUQ1WTGCTBG2",
    "MX": "A1AM78C64UM0Y8",
    "BR": "A2Q3Y263D00KWC",
    "UK": "A1F83G8C2ARO7P",
    "GB": "A1F83G8C2ARO7P",
    "DE": "A1PA6795UKMFR9",
    "FR": "A13V1IB3VIYZZH",
    "IT": "APJ6JRA9NG5V4",
    "ES": "A1RKKUPIHCS9HS",
    "NL": "A1805IZSGTT6HS",
    "JP": "A1VC38T7YXB528",
    "AU": "A39IBJ37TRP1C6",
    "SG": "A19VAU5U5O7RUS",
}
COUNTRY = {mid: ("GB" if code == "UK" else code) for code, mid in MARKETPLACE_IDS.items()}
# documented default (rate per second, burst) per operation, from the models' descriptions
QUOTAS: dict[str, tuple[float, float]] = {
    "getListingsItem": (5, 10),
    "putListingsItem": (5, 10),
    "patchListingsItem": (5, 5),
    "deleteListingsItem": (5, 5),
    "searchListingsItems": (5, 5),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2, 15),
    "getFeedDocument": (0.0222, 10),
    "getFeeds": (0.0222, 10),
    "cancelFeed": (2, 15),
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderV0": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "searchOrders": (0.0056, 20),
    "confirmShipment": (2, 10),
}
BUYABLE = "BUYABLE"
IDENTIFIER_TYPES = ("ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC")
_DATE_BOUNDS = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore")
FEED_RETENTION = timedelta(days=90)  # getFeeds: "Feeds are retained for a maximum of 90 days."
KEEP_FEEDS = 1000  # at most this many feeds (and their reports) kept, the oldest finished ones dropped first
FEED_TYPE_LIMIT = (5, 300.0)  # JSON_LISTINGS_FEED: 5 submissions per 5 minutes per region
OPERATION_TYPES = ("UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE")
PATCH_OPS = ("add", "replace", "merge", "delete")


def _errors(code: str, message: str, details: str = "") -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def _plain(value: Any) -> Any:
    """JSON numbers with a fraction become strings in state (money stays exact and serializable)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _loads(content: bytes) -> Any:
    try:
        return json.loads(content or b"null", parse_float=Decimal)
    except ValueError:
        return None


class AmazonEmulator(Emulator):
    """Options: ``seller_id``, ``marketplace`` (id or country code), ``apply_delay``, ``feed_seconds``,
    ``gzip_reports``, ``keep_feeds``."""

    kind: ClassVar[str] = "amazon"
    hosts = ("sellingpartnerapi-na.amazon.com", "sellingpartnerapi-eu.amazon.com", "sellingpartnerapi-fe.amazon.com")
    rate = 5.0  # patchListingsItem; every operation has its own bucket below (the base one is unused)
    burst = 5

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seller_id = str(self.options.get("seller_id", "A3SELLER0TEST"))
        mp = str(self.options.get("marketplace", "ATVPDKIKX0DER"))
        mp = MARKETPLACE_IDS.get(mp.upper(), mp)
        if mp not in MARKETPLACES:
            raise ValueError(f"the Amazon emulator does not know marketplace {mp!r}")
        self.marketplace_id = mp
        self.currency = MARKETPLACES[self.marketplace_id]
        self.apply_delay = float(self.options.get("apply_delay", 0))
        self.feed_seconds = float(self.options.get("feed_seconds", 60))
        self.gzip_reports = bool(self.options.get("gzip_reports", True))
        self.keep_feeds = int(self.options.get("keep_feeds", KEEP_FEEDS))
        self.quotas = {op: TokenBucket(r, b, clock=self.clock) for op, (r, b) in QUOTAS.items()}
        self.feed_type_bucket = TokenBucket(
            FEED_TYPE_LIMIT[0] / FEED_TYPE_LIMIT[1], FEED_TYPE_LIMIT[0], clock=self.clock
        )

    def initial_state(self) -> dict[str, Any]:
        return {
            "tokens": {},
            "grantless": {},
            "listings": {},
            "pending": [],
            "documents": {},
            "feeds": {},
            "orders": {},
        }

    def cost(self, request: httpx.Request) -> float:
        return 0.0  # per-operation buckets in _quota()

    # -- helpers -----------------------------------------------------------------------------------
    def _err(self, status: int, code: str, message: str, details: str = "", **headers: str) -> httpx.Response:
        return self.json(status, _errors(code, message, details), headers={"x-amzn-RequestId": self._rid(), **headers})

    def _rid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _ok(self, status: int, body: Any, operation: str) -> httpx.Response:
        rate = QUOTAS[operation][0]
        return self.json(status, body, headers={"x-amzn-RequestId": self._rid(), "x-amzn-RateLimit-Limit": str(rate)})

    def _quota(self, operation: str) -> httpx.Response | None:
        if self.enforce_rate and not self.quotas[operation].try_acquire():
            return self._quota_exceeded()
        return None

    def throttled(self, request: httpx.Request, wait_seconds: float) -> httpx.Response:
        return self._quota_exceeded()

    def _quota_exceeded(self) -> httpx.Response:
        return self._err(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")

    def server_error(self, request: httpx.Request) -> httpx.Response:
        return self._err(503, "ServiceUnavailable", "Service is temporarily unavailable. Please try again.")

    def not_found(self, request: httpx.Request) -> httpx.Response:
        return self._err(404, "NotFound", f"Resource {request.url.path} is not found.")

    def _iso(self, seconds: float = 0) -> str:
        return (self.now() + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _marketplaces(self, request: httpx.Request, name: str = "marketplaceIds") -> httpx.Response | None:
        raw = request.url.params.get(name)
        if not raw:
            return self._err(400, "InvalidInput", f"Missing required parameter '{name}'.")
        unknown = [m for m in raw.split(",") if m not in MARKETPLACES]
        if unknown:
            return self._err(400, "InvalidInput", f"Invalid marketplace identifier(s): {', '.join(unknown)}.")
        return None

    # -- auth --------------------------------------------------------------------------------------
    def _lwa(self) -> LwaService:
        tokens, grantless = self.state["tokens"], self.state.setdefault("grantless", {})
        return LwaService(self.credentials, tokens, grantless, self.clock, self.rng)

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if path.endswith("/auth/o2/token") or S3_PREFIX in path:
            return None
        why = self._lwa().refusal(request.headers.get("x-amz-access-token"))
        if why is None:
            return None
        return self._err(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            why,
            **{"x-amzn-ErrorType": "AccessDeniedException"},
        )

    def expire_tokens(self) -> None:
        """Make every issued access token expire now (the mid-job 403 of #646)."""
        for token in self.state["tokens"]:
            self.state["tokens"][token] = self.clock() - 1

    @route("POST", "/auth/o2/token")
    def token(self, request: httpx.Request) -> httpx.Response:
        """Login with Amazon's token endpoint (rules in :mod:`adapters.amazon.emulated_lwa`)."""
        return self._lwa().answer(request)

    # -- listings ----------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self._settle()
        return super().handle(request)

    def _settle(self) -> None:
        """Apply ACCEPTED submissions whose processing time has passed."""
        due = [p for p in self.state["pending"] if p["at"] <= self.clock()]
        self.state["pending"] = [p for p in self.state["pending"] if p["at"] > self.clock()]
        for p in due:
            self._apply(p["sku"], p["kind"], p["body"])

    def _accept(self, sku: str, kind: str, body: Any) -> dict[str, Any]:
        sid = f"{self.rng.getrandbits(64):016x}"
        self.state["pending"].append(
            {"sku": sku, "kind": kind, "body": _plain(body), "at": self.clock() + self.apply_delay}
        )
        return {"sku": sku, "status": "ACCEPTED", "submissionId": sid, "issues": []}

    def _apply(self, sku: str, kind: str, body: Any) -> None:
        listings = self.state["listings"]
        if kind == "delete":
            listings.pop(sku, None)
            return
        if kind == "put":
            old = listings.get(sku)
            listings[sku] = {
                "productType": body["productType"],
                "attributes": body["attributes"],
                "asin": (old or {}).get("asin") or f"B0{self.next_id('asin', 10000000):08d}",
                "created": old["created"] if old else self._iso(),
                "updated": self._iso(),
            }
            return
        item = listings.get(sku)
        if item is None:  # an offer without item details: stored, never discoverable or buyable
            stamp = self._iso()
            item = listings[sku] = {
                "productType": body.get("productType") or "PRODUCT",
                "attributes": {},
                "asin": None,
                "created": stamp,
                "updated": stamp,
            }
        for patch in body["patches"]:
            name = patch["path"].split("/")[2]
            if patch["op"] == "delete":
                item["attributes"].pop(name, None)
            elif patch["op"] == "merge" and name in item["attributes"]:
                merged = []
                for old in item["attributes"][name]:
                    new = next(
                        (v for v in patch["value"] if all(old.get(k) == v.get(k) for k in _selectors(name))), None
                    )
                    merged.append({**old, **new} if new else old)
                for v in patch["value"]:
                    if not any(all(o.get(k) == v.get(k) for k in _selectors(name)) for o in merged):
                        merged.append(v)
                item["attributes"][name] = merged
            else:
                item["attributes"][name] = patch["value"]
        item["updated"] = self._iso()

    def _item_issues(self, body: Any, kind: str) -> list[dict[str, Any]]:
        """Schema-level checks of a put/patch body (ListingsItemPutRequest / ListingsItemPatchRequest)."""
        if not isinstance(body, dict) or not isinstance(body.get("productType"), str) or not body["productType"]:
            return [_issue("4000001", "'productType' is required.")]
        if kind == "put":
            if not isinstance(body.get("attributes"), dict):
                return [_issue("4000001", "'attributes' is required.")]
            if body.get("requirements", "LISTING") not in ("LISTING", "LISTING_PRODUCT_ONLY", "LISTING_OFFER_ONLY"):
                return [_issue("4000001", "'requirements' is not a valid value.")]
            return _attribute_issues(body["attributes"])
        patches = body.get("patches")
        if not isinstance(patches, list) or not patches:
            return [_issue("4000001", "'patches' must contain at least 1 operation.")]
        issues = []
        for p in patches:
            if (
                not isinstance(p, dict)
                or p.get("op") not in PATCH_OPS
                or not str(p.get("path", "")).startswith("/attributes/")
            ):
                issues.append(_issue("4000001", f"Invalid patch operation {p!r}."))
            elif str(p["path"]).count("/") != 2:
                issues.append(_issue("4000001", "Only top-level attributes can be patched."))
            elif p["op"] != "delete" and not (
                isinstance(p.get("value"), list) and all(isinstance(v, dict) for v in p["value"])
            ):
                issues.append(_issue("4000001", f"'value' of {p['path']} must be an array of objects."))
            elif p["op"] == "merge" and not all(
                v.get(k) for v in p["value"] for k in _selectors(p["path"].split("/")[2])
            ):
                issues.append(_issue("4000001", f"merge on {p['path']} needs its selectors."))
            else:
                issues.extend(_attribute_issues({p["path"].split("/")[2]: p.get("value") or []}))
        return issues

    def _submit(self, request: httpx.Request, seller_id: str, sku: str, kind: str, operation: str) -> httpx.Response:
        if (limited := self._quota(operation)) is not None:
            return limited
        if (bad := self._marketplaces(request)) is not None:
            return bad
        if seller_id != self.seller_id:
            return self._err(403, "Unauthorized", "Access to requested resource is denied.", "seller id does not match")
        body = _loads(request.content) if kind != "delete" else None
        if kind != "delete" and body is None:
            return self._err(400, "InvalidInput", "Request body is not valid JSON.")
        # no 404 for an unknown SKU (the model declares none for PUT/PATCH/DELETE): a patch is accepted and
        # creates an offer-only listing (selling-partner-api-docs#3748, Amazon: "expected behavior")
        issues = self._item_issues(body, kind) if kind != "delete" else []
        if not issues and self.item_fails():
            issues = [
                _issue(
                    "90220",
                    "'[batteries_required]' is required but not supplied.",
                    "batteries_required",
                    "MISSING_ATTRIBUTE",
                )
            ]
        if issues:
            sid = f"{self.rng.getrandbits(64):016x}"
            return self._ok(200, {"sku": sku, "status": "INVALID", "submissionId": sid, "issues": issues}, operation)
        if request.url.params.get("mode") == "VALIDATION_PREVIEW":
            return self._ok(200, {"sku": sku, "status": "VALID", "submissionId": "preview", "issues": []}, operation)
        return self._ok(200, self._accept(sku, kind, body), operation)

    @route("PUT", LISTINGS + "/{seller_id}/{sku}")
    def put_item(self, request: httpx.Request, seller_id: str, sku: str) -> httpx.Response:
        return self._submit(request, seller_id, _unquote(sku), "put", "putListingsItem")

    @route("PATCH", LISTINGS + "/{seller_id}/{sku}")
    def patch_item(self, request: httpx.Request, seller_id: str, sku: str) -> httpx.Response:
        return self._submit(request, seller_id, _unquote(sku), "patch", "patchListingsItem")

    @route("DELETE", LISTINGS + "/{seller_id}/{sku}")
    def delete_item(self, request: httpx.Request, seller_id: str, sku: str) -> httpx.Response:
        return self._submit(request, seller_id, _unquote(sku), "delete", "deleteListingsItem")

    @route("GET", LISTINGS + "/{seller_id}/{sku}")
    def get_item(self, request: httpx.Request, seller_id: str, sku: str) -> httpx.Response:
        if (limited := self._quota("getListingsItem")) is not None:
            return limited
        if (bad := self._marketplaces(request)) is not None:
            return bad
        sku = _unquote(sku)
        if seller_id != self.seller_id or sku not in self.state["listings"]:
            return self._err(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {self.marketplace_id}")
        included = (request.url.params.get("includedData") or "summaries").split(",")
        return self._ok(200, self._item(sku, included), "getListingsItem")

    @route("GET", LISTINGS + "/{seller_id}")
    def search_items(self, request: httpx.Request, seller_id: str) -> httpx.Response:
        if (limited := self._quota("searchListingsItems")) is not None:
            return limited
        if (bad := self._marketplaces(request)) is not None:
            return bad
        p = request.url.params
        size = p.get("pageSize", "10")
        if not size.isdigit() or not 1 <= int(size) <= 20:
            return self._err(400, "InvalidInput", "pageSize must be between 1 and 20.")
        sort_by, order = p.get("sortBy", "lastUpdatedDate"), p.get("sortOrder", "DESC")
        if sort_by not in ("sku", "createdDate", "lastUpdatedDate") or order not in ("ASC", "DESC"):
            return self._err(400, "InvalidInput", "sortBy or sortOrder is not a valid value.")
        try:
            keep = self._search_filter(p)
        except eo.InvalidInput as exc:
            return self._err(400, "InvalidInput", "Invalid Input", exc.details)
        field = {"sku": None, "createdDate": "created", "lastUpdatedDate": "updated"}[sort_by]
        listings = self.state["listings"] if seller_id == self.seller_id else {}
        matching = [s for s in listings if keep(s, listings[s])]
        matching.sort(key=lambda s: ((listings[s][field] if field else s), s), reverse=order == "DESC")
        skus = matching[:1000]  # "the maximum number of items that can be returned and paged through is 1000"
        token = p.get("pageToken") or "0"
        start = int(token) if token.isdigit() else 0
        included = eo.csv_values(p, "includedData") or ["summaries"]
        page = skus[start : start + int(size)]
        body: dict[str, Any] = {"numberOfResults": len(matching), "items": [self._item(s, included) for s in page]}
        if start + int(size) < len(skus):
            body["pagination"] = {"nextToken": str(start + int(size))}
        return self._ok(200, body, "searchListingsItems")

    def _search_filter(self, p: Any) -> Any:
        """searchListingsItems filters as one predicate over (sku, stored listing): identifiers of one
        identifiersType (at most 20), created/lastUpdated bounds and withStatus/withoutStatus."""
        identifiers = eo.csv_values(p, "identifiers")
        kind = p.get("identifiersType")
        if bool(identifiers) != bool(kind):
            raise eo.InvalidInput("identifiers and identifiersType must be given together.")
        if len(identifiers) > 20 or (kind and kind not in IDENTIFIER_TYPES):
            raise eo.InvalidInput("identifiers takes at most 20 values of one valid identifiersType.")
        if identifiers and (p.get("variationParentSku") or p.get("packageHierarchySku")):
            raise eo.InvalidInput("identifiers cannot be combined with variationParentSku or packageHierarchySku.")
        bounds = [(k, eo.stamp(eo.parse_time(p[k], k))) for k in _DATE_BOUNDS if p.get(k)]
        wanted, unwanted = set(eo.csv_values(p, "withStatus")), set(eo.csv_values(p, "withoutStatus"))
        wanted_ids = set(identifiers)

        def keep(sku: str, item: dict[str, Any]) -> bool:
            if wanted_ids and not wanted_ids & set(_identifiers(sku, item, kind or "")):
                return False
            for name, bound in bounds:
                value = item["created" if name.startswith("created") else "updated"]
                if (value < bound) if name.endswith("After") else (value > bound):
                    return False
            status = set(self._statuses(item))
            return wanted <= status and not unwanted & status

        return keep

    def _statuses(self, item: dict[str, Any]) -> list[str]:
        """DISCOVERABLE once Amazon knows the item (it has an ASIN); BUYABLE with a price and stock too."""
        attrs = item["attributes"]
        if item.get("asin") is None:
            return []  # an offer without item details
        price = _price(attrs, self.marketplace_id, self.now())
        return ["DISCOVERABLE"] + (["BUYABLE"] if price is not None and (_quantity(attrs) or 0) > 0 else [])

    def _item(self, sku: str, included: list[str]) -> dict[str, Any]:
        item = self.state["listings"][sku]
        attrs = item["attributes"]
        out: dict[str, Any] = {"sku": sku}
        quantity = _quantity(attrs)
        price = _price(attrs, self.marketplace_id, self.now())
        if "summaries" in included:
            status = self._statuses(item)
            name = (attrs.get("item_name") or [{}])[0].get("value")
            summary = {
                "marketplaceId": self.marketplace_id,
                "asin": item["asin"],
                "productType": item["productType"],
                "conditionType": (attrs.get("condition_type") or [{"value": "new_new"}])[0]["value"],
                "status": status,
                "itemName": name,
                "createdDate": item["created"],
                "lastUpdatedDate": item["updated"],
            }
            out["summaries"] = [{k: v for k, v in summary.items() if v is not None}]
        if "attributes" in included:
            out["attributes"] = attrs
        if "issues" in included:
            out["issues"] = []
        if "offers" in included:
            out["offers"] = (
                [
                    {
                        "marketplaceId": self.marketplace_id,
                        "offerType": "B2C",
                        "price": {"currencyCode": self.currency, "amount": price},
                        "audience": {"value": "ALL", "displayName": "Sell on Amazon"},
                    }
                ]
                if price is not None
                else []
            )
        if "fulfillmentAvailability" in included:
            out["fulfillmentAvailability"] = (
                [{"fulfillmentChannelCode": "DEFAULT", "quantity": quantity}] if quantity is not None else []
            )
        return out

    # -- feeds -------------------------------------------------------------------------------------
    def _s3_url(self, request: httpx.Request, doc_id: str) -> str:
        host = request.url.host
        base = (
            "https://tortuga-prod-na.s3-external-1.amazonaws.com"
            if host.endswith("amazon.com")
            else (f"{request.url.scheme}://{request.url.netloc.decode()}")
        )
        expires = int(self.clock() + 300)
        query = f"X-Amz-Expires=300&X-Amz-Signature={self._sign(doc_id, expires)}&t={expires}"
        return f"{base}{S3_PREFIX}/{doc_id}?{query}"

    def _sign(self, doc_id: str, expires: float) -> str:
        return hashlib.sha256(f"{doc_id}:{int(expires)}:{self.seed}".encode()).hexdigest()

    @route("POST", FEEDS + "/documents")
    def create_document(self, request: httpx.Request) -> httpx.Response:
        if (limited := self._quota("createFeedDocument")) is not None:
            return limited
        body = _loads(request.content)
        if not isinstance(body, dict) or not isinstance(body.get("contentType"), str):
            return self._err(400, "InvalidInput", "contentType is required.")
        doc_id = f"amzn1.tortuga.4.na.{self.rng.getrandbits(96):024x}"
        self.state["documents"][doc_id] = {"contentType": body["contentType"], "content": None, "gzip": False}
        return self._ok(201, {"feedDocumentId": doc_id, "url": self._s3_url(request, doc_id)}, "createFeedDocument")

    def _s3_check(self, request: httpx.Request, doc_id: str) -> httpx.Response | None:
        doc = self.state["documents"].get(doc_id)
        t = request.url.params.get("t", "0")
        if doc is None or request.url.params.get("X-Amz-Signature") != self._sign(doc_id, float(t)):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
        if self.clock() > float(t):
            return _s3_error(403, "AccessDenied", "Request has expired")
        return None

    @route("PUT", S3_PREFIX + "/{doc_id}")
    def s3_put(self, request: httpx.Request, doc_id: str) -> httpx.Response:
        if (bad := self._s3_check(request, doc_id)) is not None:
            return bad
        doc = self.state["documents"][doc_id]
        if request.headers.get("Content-Type") != doc["contentType"]:
            return _s3_error(403, "SignatureDoesNotMatch", "Content-Type does not match the signed request.")
        doc["content"] = request.content.decode("utf-8")
        return httpx.Response(200)

    @route("GET", S3_PREFIX + "/{doc_id}")
    def s3_get(self, request: httpx.Request, doc_id: str) -> httpx.Response:
        if (bad := self._s3_check(request, doc_id)) is not None:
            return bad
        doc = self.state["documents"][doc_id]
        if doc.get("processedBy"):
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        data = (doc["content"] or "").encode()
        return httpx.Response(200, content=gzip.compress(data, mtime=0) if doc["gzip"] else data)

    @route("POST", FEEDS + "/feeds")
    def create_feed(self, request: httpx.Request) -> httpx.Response:
        if (limited := self._quota("createFeed")) is not None:
            return limited
        body = _loads(request.content)
        if not isinstance(body, dict) or not all(
            k in body for k in ("feedType", "marketplaceIds", "inputFeedDocumentId")
        ):
            return self._err(400, "InvalidInput", "feedType, marketplaceIds and inputFeedDocumentId are required.")
        mps = body["marketplaceIds"]
        if not isinstance(mps, list) or not 1 <= len(mps) <= 25 or any(m not in MARKETPLACES for m in mps):
            return self._err(400, "InvalidInput", "marketplaceIds must hold 1 to 25 valid marketplace ids.")
        doc = self.state["documents"].get(body["inputFeedDocumentId"])
        if doc is None or doc["content"] is None:
            return self._err(400, "InvalidInput", "Invalid input feed document id or the document was not uploaded.")
        if body["feedType"] == "JSON_LISTINGS_FEED" and self.enforce_rate and not self.feed_type_bucket.try_acquire():
            return self.throttled(request, 0)
        feed_id = str(self.next_id("feed", 50000000000))
        self.state["feeds"][feed_id] = {
            "feedId": feed_id,
            "feedType": body["feedType"],
            "marketplaceIds": mps,
            "createdTime": self._iso(),
            "processingStatus": "IN_QUEUE",
            "document": body["inputFeedDocumentId"],
            "started": self.clock(),
        }
        self._forget_feeds()
        return self._ok(202, {"feedId": feed_id}, "createFeed")

    def _forget_feeds(self) -> None:
        """Forget the feeds Amazon no longer answers for, with their documents: created more than 90 days
        ago, and beyond the newest ``keep_feeds`` the oldest finished ones (a feed still IN_QUEUE or
        IN_PROGRESS is kept: its poll is still to come)."""
        feeds, documents = self.state["feeds"], self.state["documents"]
        cutoff = self.now() - FEED_RETENTION
        excess = len(feeds) - self.keep_feeds
        for feed_id, feed in list(feeds.items()):  # in creation order
            expired = eo.parse_time(feed["createdTime"], "createdTime") < cutoff
            if not expired and excess <= 0:
                break
            if expired or feed["processingStatus"] not in ("IN_QUEUE", "IN_PROGRESS"):
                del feeds[feed_id]
                excess -= 1
                documents.pop(feed["document"], None)
                documents.pop(feed.get("resultFeedDocumentId", ""), None)

    @route("GET", FEEDS + "/feeds/{feed_id}")
    def get_feed(self, request: httpx.Request, feed_id: str) -> httpx.Response:
        if (limited := self._quota("getFeed")) is not None:
            return limited
        feed = self.state["feeds"].get(feed_id)
        if feed is None:
            return self._err(404, "NotFound", f"Feed {feed_id} not found.")
        self._advance(feed)
        return self._ok(200, _feed_view(feed), "getFeed")

    def _advance(self, feed: dict[str, Any]) -> None:
        """Move a feed along IN_QUEUE -> IN_PROGRESS -> DONE/FATAL by the time since it was created."""
        elapsed = self.clock() - feed["started"]
        if feed["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS"):
            if elapsed >= self.feed_seconds:
                self._process(feed)
            elif elapsed >= self.feed_seconds / 2:
                feed["processingStatus"] = "IN_PROGRESS"
                feed["processingStartTime"] = feed.get("processingStartTime") or self._iso()

    @route("DELETE", FEEDS + "/feeds/{feed_id}")
    def cancel_feed(self, request: httpx.Request, feed_id: str) -> httpx.Response:
        """cancelFeed: only a feed still IN_QUEUE can be cancelled; 200 with no body."""
        if (limited := self._quota("cancelFeed")) is not None:
            return limited
        feed = self.state["feeds"].get(feed_id)
        if feed is None:
            return self._err(404, "NotFound", f"Feed {feed_id} not found.")
        self._advance(feed)
        if feed["processingStatus"] != "IN_QUEUE":
            details = f"feed {feed_id} is {feed['processingStatus']}; only IN_QUEUE feeds can be cancelled."
            return self._err(400, "InvalidInput", "Invalid Input", details)
        feed["processingStatus"] = "CANCELLED"
        feed["processingEndTime"] = self._iso()
        return httpx.Response(200, headers={"x-amzn-RequestId": self._rid(), "x-amzn-RateLimit-Limit": "2.0"})

    @route("GET", FEEDS + "/feeds")
    def get_feeds(self, request: httpx.Request) -> httpx.Response:
        """getFeeds: by feedTypes (1-10), marketplaceIds, processingStatuses and creation time, newest first;
        a nextToken that must be sent alone and carries the filters of the first call."""
        if (limited := self._quota("getFeeds")) is not None:
            return limited
        try:
            p, start = _feeds_query(request.url.params)
            rows = self._feed_rows(p)
        except eo.InvalidInput as exc:
            return self._err(400, "InvalidInput", "Invalid Input", exc.details)
        size = int(p.get("pageSize", "10"))
        body: dict[str, Any] = {"feeds": [_feed_view(f) for f in rows[start : start + size]]}
        if start + size < len(rows):
            body["nextToken"] = _feeds_token(p, start + size)
        return self._ok(200, body, "getFeeds")

    def _feed_rows(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        types = set(p["feedTypes"].split(","))
        markets = set(p["marketplaceIds"].split(",")) if p.get("marketplaceIds") else set()
        statuses = set(p["processingStatuses"].split(",")) if p.get("processingStatuses") else set()
        size = p.get("pageSize", "10")
        if not size.isdigit() or not 1 <= int(size) <= 100 or len(types) > 10 or len(markets) > 10:
            raise eo.InvalidInput("pageSize must be 1-100; feedTypes and marketplaceIds take at most 10 values.")
        if statuses - {"CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"}:
            raise eo.InvalidInput("processingStatuses has an invalid value.")
        now = self.now()
        since = eo.parse_time(p["createdSince"], "createdSince") if p.get("createdSince") else now - timedelta(days=90)
        until = eo.parse_time(p["createdUntil"], "createdUntil") if p.get("createdUntil") else now
        rows = []
        for feed in self.state["feeds"].values():
            self._advance(feed)
            created = eo.parse_time(feed["createdTime"], "createdTime")
            if (
                feed["feedType"] in types
                and (not markets or markets & set(feed["marketplaceIds"]))
                and (not statuses or feed["processingStatus"] in statuses)
                and since <= created <= until
            ):
                rows.append(feed)
        return sorted(rows, key=lambda f: (f["createdTime"], int(f["feedId"])), reverse=True)

    def _process(self, feed: dict[str, Any]) -> None:
        stored = self.state["documents"][feed["document"]]
        document = _loads(stored["content"].encode())
        # processed: the input document is not kept (see the module's docstring), only its report
        stored["content"], stored["processedBy"] = None, feed["feedId"]
        issues: list[dict[str, Any]] = []
        accepted = invalid = processed = 0
        problem = _feed_problem(document, self.seller_id) if feed["feedType"] == "JSON_LISTINGS_FEED" else "feed type"
        if problem:
            feed["processingStatus"] = "FATAL"
            issues.append({"code": "100001", "severity": "ERROR", "message": problem})
        else:
            for msg in document["messages"]:
                processed += 1
                found = self._message_issues(msg)
                if not found and self.item_fails():
                    found = [
                        _issue(
                            "90220",
                            "'[batteries_required]' is required but not supplied.",
                            category="MISSING_ATTRIBUTE",
                        )
                    ]
                if found:
                    invalid += 1
                    issues.extend({"messageId": msg["messageId"], "sku": msg["sku"], **i} for i in found)
                    continue
                accepted += 1
                op = msg["operationType"]
                if op == "DELETE":
                    self._apply(msg["sku"], "delete", None)
                elif op == "UPDATE":
                    self._apply(msg["sku"], "put", _plain(msg))
                elif op == "PATCH":
                    self._apply(msg["sku"], "patch", _plain(msg))
                else:
                    patches = [
                        {"op": "replace", "path": f"/attributes/{k}", "value": v} for k, v in msg["attributes"].items()
                    ]
                    self._apply(
                        msg["sku"], "patch", _plain({"productType": msg.get("productType"), "patches": patches})
                    )
            feed["processingStatus"] = "DONE"
        report = {
            "header": {"sellerId": self.seller_id, "version": "2.0", "feedId": feed["feedId"]},
            "issues": [_report_issue(i) for i in issues],
            "summary": {
                "errors": len(issues),
                "warnings": 0,
                "messagesProcessed": processed,
                "messagesAccepted": accepted,
                "messagesInvalid": invalid,
            },
        }
        doc_id = f"amzn1.tortuga.4.na.{self.rng.getrandbits(96):024x}"
        self.state["documents"][doc_id] = {
            "contentType": "application/json",
            "content": json.dumps(report, separators=(",", ":")),
            "gzip": self.gzip_reports,
        }
        feed["resultFeedDocumentId"] = doc_id
        feed["processingEndTime"] = self._iso()

    def _message_issues(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        op = msg["operationType"]  # PATCH/DELETE of an unknown SKU pass, as in the API (models#4402)
        if op == "UPDATE":
            return self._item_issues(msg, "put")
        if op == "PATCH":
            return self._item_issues(msg, "patch")
        if op == "PARTIAL_UPDATE":
            return _attribute_issues(msg.get("attributes") or {})
        return []

    @route("GET", FEEDS + "/documents/{doc_id}")
    def get_document(self, request: httpx.Request, doc_id: str) -> httpx.Response:
        if (limited := self._quota("getFeedDocument")) is not None:
            return limited
        doc = self.state["documents"].get(doc_id)
        if doc is None:
            return self._err(404, "NotFound", f"Document {doc_id} not found.")
        if doc.get("processedBy"):
            details = f"the emulator keeps no input document once its feed ({doc['processedBy']}) is processed"
            return self._err(404, "NotFound", f"Document {doc_id} not found.", details)
        body = {"feedDocumentId": doc_id, "url": self._s3_url(request, doc_id)}
        if doc["gzip"]:
            body["compressionAlgorithm"] = "GZIP"
        return self._ok(200, body, "getFeedDocument")

    # -- orders ------------------------------------------------------------------------------------
    def _removed(self, operation: str) -> httpx.Response | None:
        """Orders v0 operations fail from their removal date on, as removed SP-API versions do."""
        if self.now() < eo.V0_REMOVAL:
            return None
        return self._err(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            f"{operation} (Orders API v0) was removed on {eo.V0_REMOVAL:%Y-%m-%d}; use Orders API v2026-01-01.",
            **{"x-amzn-ErrorType": "AccessDeniedException"},
        )

    def _v0_keep(self, request: httpx.Request) -> Any:
        """The v0 getOrders filters besides the time window, as one predicate over records."""
        p = request.url.params
        statuses = set(eo.csv_values(p, "OrderStatuses"))
        unknown = statuses - set(eo.V2026_STATUS)
        if unknown:
            raise eo.InvalidInput(f"OrderStatuses has invalid values: {', '.join(sorted(unknown))}.")
        channels = set(eo.csv_values(p, "FulfillmentChannels"))
        if channels - {"AFN", "MFN"}:
            raise eo.InvalidInput("FulfillmentChannels values must be AFN or MFN.")
        ids = set(eo.csv_values(p, "AmazonOrderIds"))
        if len(ids) > 50:
            raise eo.InvalidInput("AmazonOrderIds accepts at most 50 values.")
        markets = set(eo.csv_values(p, "MarketplaceIds"))

        def keep(r: Any) -> bool:
            status = r.get("v0_status") or eo.V0_STATUS[r["status"]]
            return (
                r["marketplace"] in markets
                and (not statuses or status in statuses)
                and (not channels or eo.FULFILLED_BY[r["fulfilledBy"]] in channels)
                and (not ids or r["id"] in ids)
            )

        return keep

    @route("GET", "/orders/v0/orders")
    def get_orders(self, request: httpx.Request) -> httpx.Response:
        if (gone := self._removed("getOrders")) is not None:
            return gone
        if (limited := self._quota("getOrders")) is not None:
            return limited
        if (bad := self._marketplaces(request, "MarketplaceIds")) is not None:
            return bad
        p = request.url.params
        names = {"ca": "CreatedAfter", "cb": "CreatedBefore", "ua": "LastUpdatedAfter", "ub": "LastUpdatedBefore"}
        try:
            when = eo.window(p, self.now(), names)
            size = eo.page_size(p, "MaxResultsPerPage")
            rows = eo.search(self.state["orders"].values(), when, self._v0_keep(request))
        except eo.InvalidInput as exc:
            return self._err(400, "InvalidInput", "Invalid Input", exc.details)
        start = int(p.get("NextToken") or 0) if (p.get("NextToken") or "0").isdigit() else 0
        payload: dict[str, Any] = {"Orders": [eo.v0_order(r) for r in rows[start : start + size]]}
        payload["CreatedBefore" if when.field == "created" else "LastUpdatedBefore"] = eo.stamp(when.before)
        if start + size < len(rows):
            payload["NextToken"] = str(start + size)
        return self._ok(200, {"payload": payload}, "getOrders")

    @route("POST", "/orders/v0/orders/{order_id}/shipmentConfirmation")
    def confirm_shipment(self, request: httpx.Request, order_id: str) -> httpx.Response:
        """confirmShipment (Orders v0, not deprecated, so not removed with the v0 reads): checks the
        ConfirmShipmentRequest as the model says, ships the package's items, 204. The same
        packageReferenceId again edits that package instead of adding one."""
        if (limited := self._quota("confirmShipment")) is not None:
            return limited
        record = self.state["orders"].get(_unquote(order_id))
        if record is None:
            return self._err(404, "NotFound", f"Order {order_id} not found.")
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            return self._err(400, "InvalidInput", "The request body is not JSON.")
        problem = eo.shipment_problem(body, record)
        if problem:
            return self._err(400, "InvalidInput", "Invalid Input", problem)
        eo.confirm_shipment(record, body["packageDetail"], self.now())
        return httpx.Response(204, headers={"x-amzn-RequestId": self._rid(), "x-amzn-RateLimit-Limit": "2.0"})

    @route("GET", "/orders/v0/orders/{order_id}")
    def get_order_v0(self, request: httpx.Request, order_id: str) -> httpx.Response:
        if (gone := self._removed("getOrder")) is not None:
            return gone
        if (limited := self._quota("getOrderV0")) is not None:
            return limited
        record = self.state["orders"].get(_unquote(order_id))
        if record is None:
            return self._err(404, "NotFound", f"Order {order_id} not found.")
        return self._ok(200, {"payload": eo.v0_order(record)}, "getOrderV0")

    @route("GET", "/orders/v0/orders/{order_id}/orderItems")
    def get_order_items(self, request: httpx.Request, order_id: str) -> httpx.Response:
        if (gone := self._removed("getOrderItems")) is not None:
            return gone
        if (limited := self._quota("getOrderItems")) is not None:
            return limited
        record = self.state["orders"].get(_unquote(order_id))
        if record is None:
            return self._err(404, "NotFound", f"Order {order_id} not found.")
        return self._ok(
            200, {"payload": {"AmazonOrderId": record["id"], "OrderItems": eo.v0_items(record)}}, "getOrderItems"
        )

    def _included(self, request: httpx.Request) -> list[str]:
        included = eo.csv_values(request.url.params, "includedData")
        unknown = sorted(set(included) - set(eo.INCLUDED_DATA))
        if unknown:
            raise eo.InvalidInput(f"includedData has invalid values: {', '.join(unknown)}.")
        return included

    def _v2026_keep(self, request: httpx.Request) -> Any:
        """The searchOrders filters besides the time window, as one predicate over records."""
        p = request.url.params
        statuses = set(eo.csv_values(p, "fulfillmentStatuses"))
        if statuses - set(eo.V0_STATUS):
            raise eo.InvalidInput(f"fulfillmentStatuses must be among {', '.join(eo.V0_STATUS)}.")
        by = set(eo.csv_values(p, "fulfilledBy"))
        if by - set(eo.FULFILLED_BY):
            raise eo.InvalidInput("fulfilledBy values must be MERCHANT or AMAZON.")
        markets = set(eo.csv_values(p, "marketplaceIds"))
        if len(markets) > 50 or markets - set(MARKETPLACES):
            raise eo.InvalidInput("marketplaceIds must hold at most 50 valid marketplace ids.")

        def keep(r: Any) -> bool:
            return (
                (not markets or r["marketplace"] in markets)
                and (not statuses or r["status"] in statuses)
                and (not by or r["fulfilledBy"] in by)
            )

        return keep

    @route("GET", ORDERS_2026 + "/orders")
    def search_orders(self, request: httpx.Request) -> httpx.Response:
        if (limited := self._quota("searchOrders")) is not None:
            return limited
        p = request.url.params
        names = {"ca": "createdAfter", "cb": "createdBefore", "ua": "lastUpdatedAfter", "ub": "lastUpdatedBefore"}
        try:
            when = eo.window(p, self.now(), names)
            size = eo.page_size(p, "maxResultsPerPage")
            included = self._included(request)
            rows = eo.search(self.state["orders"].values(), when, self._v2026_keep(request))
            token = p.get("paginationToken")
            start = eo.read_token(token, p, self.now()) if token else 0
        except eo.InvalidInput as exc:
            return self._err(400, "InvalidInput", "Invalid Input", exc.details)
        body: dict[str, Any] = {"orders": [eo.v2026_order(r, included) for r in rows[start : start + size]]}
        if start + size < len(rows):
            body["pagination"] = {"nextToken": eo.issue_token(start + size, p, self.now())}
        if token and self.faults.stuck_page and self.rng.random() < self.faults.stuck_page:
            body["pagination"] = {"nextToken": token}  # the injected fault: a page that makes no progress
        body["createdBefore" if when.field == "created" else "lastUpdatedBefore"] = eo.stamp(when.before)
        return self._ok(200, body, "searchOrders")

    @route("GET", ORDERS_2026 + "/orders/{order_id}")
    def get_order(self, request: httpx.Request, order_id: str) -> httpx.Response:
        if (limited := self._quota("getOrder")) is not None:
            return limited
        try:
            included = self._included(request)
        except eo.InvalidInput as exc:
            return self._err(400, "InvalidInput", "Invalid Input", exc.details)
        record = self.state["orders"].get(_unquote(order_id))
        if record is None:
            return self._err(404, "NotFound", f"Order {order_id} not found.")
        return self._ok(200, {"order": eo.v2026_order(record, included)}, "getOrder")

    def generate_orders(self, count: int) -> list[str]:
        """``count`` new UNSHIPPED orders of listed SKUs with stock (stock decremented); their ids."""
        with self._lock:
            self._settle()
            ids = []
            # built once: a sale changes only its own listing (dropped here once no longer buyable)
            sellable = [s for s, it in sorted(self.state["listings"].items()) if BUYABLE in self._statuses(it)]
            for _ in range(count):
                if not sellable:
                    break
                sku = self.rng.choice(sellable)
                attrs = self.state["listings"][sku]["attributes"]
                qty = min(_quantity(attrs) or 0, self.rng.randint(1, 2))
                _set_quantity(attrs, (_quantity(attrs) or 0) - qty)
                if BUYABLE not in self._statuses(self.state["listings"][sku]):
                    sellable.remove(sku)
                n = self.next_id("order", 1000000)
                order_id = f"{100 + n % 900:03d}-{n:07d}-{self.rng.randint(0, 9999999):07d}"
                line = {
                    "id": f"{self.rng.getrandbits(40):014d}",
                    "asin": self.state["listings"][sku]["asin"],
                    "sku": sku,
                    "title": (attrs.get("item_name") or [{}])[0].get("value") or sku,
                    "quantity": qty,
                    "unit": str(Decimal(_price(attrs, self.marketplace_id, self.now()) or "0")),
                    "shipped": 0,
                }
                shipping = "4.99" if self.currency != "JPY" else "500"
                country = COUNTRY.get(self.marketplace_id, "US")
                record = eo.new_record(
                    order_id,
                    self.now(),
                    self.marketplace_id,
                    MARKETPLACES[self.marketplace_id],
                    country,
                    [line],
                    shipping,
                    f"b{n}",
                )
                self.state["orders"][order_id] = record
                ids.append(order_id)
            return ids

    def set_order_status(self, order_id: str, status: str) -> None:
        """Move an order to a status, in v0 (``Shipped``, ``Canceled``) or v2026 (``SHIPPED``) spelling,
        bumping its last update time."""
        with self._lock:
            eo.set_status(self.state["orders"][order_id], status, self.now())

    def edit_listing(self, sku: str, *, price: str | None = None, quantity: int | None = None) -> None:
        """A back-office edit in Seller Central (for drift tests)."""
        with self._lock:
            self._settle()
            attrs = self.state["listings"][sku]["attributes"]
            if quantity is not None:
                _set_quantity(attrs, quantity)
            if price is not None:
                attrs["purchasable_offer"] = [
                    {
                        "marketplace_id": self.marketplace_id,
                        "currency": self.currency,
                        "audience": "ALL",
                        "our_price": [{"schedule": [{"value_with_tax": price}]}],
                    }
                ]

    def listing_state(self, sku: str) -> dict[str, Any] | None:
        """Price (string), quantity and product type as the marketplace holds them now (after settling)."""
        with self._lock:
            self._settle()
            item = self.state["listings"].get(sku)
            if item is None:
                return None
            attrs = item["attributes"]
            return {
                "price": _price(attrs, self.marketplace_id, self.now()),
                "quantity": _quantity(attrs),
                "productType": item["productType"],
            }


# ------------------------------------------------------------------------------------------ helpers
def _feed_view(feed: dict[str, Any]) -> dict[str, Any]:
    """A Feed as getFeed/getFeeds answer it (without the emulator's bookkeeping)."""
    return {k: v for k, v in feed.items() if k not in ("document", "started")}


def _feeds_query(params: Any) -> tuple[dict[str, Any], int]:
    """getFeeds parameters and the start offset: either filters (feedTypes required) or a nextToken alone."""
    token = params.get("nextToken")
    if token is None:
        if not params.get("feedTypes"):
            raise eo.InvalidInput("Either feedTypes or nextToken is required.")
        return {k: ",".join(eo.csv_values(params, k)) for k in params}, 0
    if len(params) > 1:
        raise eo.InvalidInput("nextToken must be the only parameter.")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return dict(data["q"]), int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise eo.InvalidInput("Invalid nextToken.") from None


def _feeds_token(query: dict[str, Any], offset: int) -> str:
    raw = json.dumps({"q": query, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def _issue(
    code: str, message: str, attribute: str | None = None, category: str = "INVALID_ATTRIBUTE"
) -> dict[str, Any]:
    """A listings Issue: ``code``, ``message``, ``severity`` and ``categories`` are required by the model."""
    issue: dict[str, Any] = {"code": code, "message": message, "severity": "ERROR", "categories": [category]}
    if attribute:
        issue["attributeNames"] = [attribute]
    return issue


def _report_issue(issue: dict[str, Any]) -> dict[str, Any]:
    """A listings Issue as the feed processing report writes it (one ``attributeName``, no categories)."""
    out = {k: v for k, v in issue.items() if k not in ("attributeNames", "categories")}
    if issue.get("attributeNames"):
        out["attributeName"] = issue["attributeNames"][0]
    return out


def _s3_error(status: int, code: str, message: str) -> httpx.Response:
    xml = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return httpx.Response(status, content=xml.encode(), headers={"Content-Type": "application/xml"})


def _selectors(attribute: str) -> tuple[str, ...]:
    return {
        "fulfillment_availability": ("fulfillment_channel_code",),
        "purchasable_offer": ("marketplace_id", "currency", "audience"),
    }.get(attribute, ("marketplace_id",))


def _attribute_issues(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    issues = []
    for name, values in attributes.items():
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            issues.append(_issue("4000001", f"'{name}' must be an array of objects.", name))
            continue
        if name == "fulfillment_availability":
            for v in values:
                q = v.get("quantity")
                if q is not None and (not isinstance(q, int) or isinstance(q, bool) or q < 0):
                    issues.append(_issue("4000001", "'quantity' must be a non-negative integer.", name))
        if name == "purchasable_offer":
            for v in values:
                for price in v.get("discounted_price") or []:
                    for entry in price.get("schedule") or []:
                        try:
                            start = datetime.fromisoformat(str(entry["start_at"]).replace("Z", "+00:00"))
                            end = datetime.fromisoformat(str(entry["end_at"]).replace("Z", "+00:00"))
                            ordered = start < end
                        except (KeyError, ValueError, TypeError):
                            ordered = False
                        if not ordered:
                            issues.append(_issue("4000001", "'discounted_price' needs start_at before end_at.", name))
                for price in [*(v.get("our_price") or []), *(v.get("discounted_price") or [])]:
                    for entry in price.get("schedule") or []:
                        amount = entry.get("value_with_tax")
                        if not isinstance(amount, int | Decimal) or isinstance(amount, bool) or amount < 0:
                            issues.append(
                                _issue(
                                    "99022", "'value_with_tax' must be a non-negative number.", name, "INVALID_PRICE"
                                )
                            )
    return issues


def _feed_problem(document: Any, seller_id: str) -> str | None:
    """Whole-document problems that make a JSON_LISTINGS_FEED FATAL (listings-feed-schema-v2)."""
    if not isinstance(document, dict) or not isinstance(document.get("header"), dict):
        return "The feed document is not valid JSON with a header."
    header = document["header"]
    if header.get("version") != "2.0" or header.get("sellerId") != seller_id:
        return "header.version must be 2.0 and header.sellerId the submitting seller."
    messages = document.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= 25000:
        return "messages must hold 1 to 25000 entries."
    seen = set()
    for msg in messages:
        if not isinstance(msg, dict) or not isinstance(msg.get("messageId"), int) or msg["messageId"] < 1:
            return "every message needs an integer messageId >= 1."
        if msg["messageId"] in seen:
            return f"messageId {msg['messageId']} is not unique."
        seen.add(msg["messageId"])
        if not msg.get("sku") or msg.get("operationType") not in OPERATION_TYPES:
            return f"message {msg['messageId']}: sku and a valid operationType are required."
    return None


def _identifiers(sku: str, item: dict[str, Any], kind: str) -> list[str]:
    """The values a listing answers to for one identifiersType (SKU, ASIN, or its product identifiers)."""
    if kind == "SKU":
        return [sku]
    if kind == "ASIN":
        return [item["asin"]]
    codes = item["attributes"].get("externally_assigned_product_identifier") or []
    return [str(c.get("value")) for c in codes if str(c.get("type", "")).upper() == kind]


def _quantity(attrs: dict[str, Any]) -> int | None:
    for v in attrs.get("fulfillment_availability") or []:
        if v.get("fulfillment_channel_code") == "DEFAULT":
            return v.get("quantity")
    return None


def _set_quantity(attrs: dict[str, Any], quantity: int) -> None:
    entries = attrs.setdefault("fulfillment_availability", [])
    for v in entries:
        if v.get("fulfillment_channel_code") == "DEFAULT":
            v["quantity"] = quantity
            return
    entries.append({"fulfillment_channel_code": "DEFAULT", "quantity": quantity})


def _price(attrs: dict[str, Any], marketplace_id: str, now: datetime | None = None) -> str | None:
    """The price a buyer pays: a ``discounted_price`` schedule entry whose ``start_at``..``end_at`` holds
    ``now``, else ``our_price``."""
    for offer in attrs.get("purchasable_offer") or []:
        if offer.get("marketplace_id") == marketplace_id and offer.get("audience", "ALL") == "ALL":
            for price in offer.get("discounted_price") or [] if now is not None else []:
                for entry in price.get("schedule") or []:
                    if entry.get("value_with_tax") is not None and _within(entry, now):
                        return str(entry["value_with_tax"])
            for price in offer.get("our_price") or []:
                for entry in price.get("schedule") or []:
                    if entry.get("value_with_tax") is not None:
                        return str(entry["value_with_tax"])
    return None


def _within(entry: Mapping[str, Any], now: datetime | None) -> bool:
    def when(name: str) -> datetime | None:
        text = entry.get(name)
        if not text:
            return None
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    start, end = when("start_at"), when("end_at")
    return now is not None and (start is None or start <= now) and (end is None or now < end)
