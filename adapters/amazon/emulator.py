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
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx
from listing_sync.adapters.emulator import Emulator, route
from listing_sync.adapters.http import TokenBucket

LISTINGS = "/listings/2021-08-01/items"
FEEDS = "/feeds/2021-06-30"
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
    "getOrders": (0.0167, 20),
    "getOrderItems": (0.5, 30),
}
FEED_TYPE_LIMIT = (5, 300.0)  # JSON_LISTINGS_FEED: 5 submissions per 5 minutes per region
OPERATION_TYPES = ("UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE")
PATCH_OPS = ("add", "replace", "merge", "delete")
ORDER_STATUSES = (
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Canceled",
    "Unfulfillable",
    "InvoiceUnconfirmed",
)


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
    ``gzip_reports``."""

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
        self.quotas = {op: TokenBucket(r, b, clock=self.clock) for op, (r, b) in QUOTAS.items()}
        self.feed_type_bucket = TokenBucket(
            FEED_TYPE_LIMIT[0] / FEED_TYPE_LIMIT[1], FEED_TYPE_LIMIT[0], clock=self.clock
        )

    def initial_state(self) -> dict[str, Any]:
        return {"tokens": {}, "listings": {}, "pending": [], "documents": {}, "feeds": {}, "orders": {}}

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
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if path.endswith("/auth/o2/token") or S3_PREFIX in path:
            return None
        token = request.headers.get("x-amz-access-token")
        expiry = self.state["tokens"].get(token or "")
        if expiry is None or self.clock() >= expiry:
            details = (
                "The access token you provided has expired."
                if expiry is not None
                else ("The access token you provided is revoked, malformed or invalid.")
            )
            return self._err(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                details,
                **{"x-amzn-ErrorType": "AccessDeniedException"},
            )
        return None

    def expire_tokens(self) -> None:
        """Make every issued access token expire now (the mid-job 403 of #646)."""
        for token in self.state["tokens"]:
            self.state["tokens"][token] = self.clock() - 1

    @route("POST", "/auth/o2/token")
    def token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return self.json(400, {"error": "unsupported_grant_type", "error_description": "grant_type"})
        if (form.get("client_id"), form.get("client_secret")) != (
            self.credentials.get("client_id"),
            self.credentials.get("client_secret"),
        ):
            return self.json(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("refresh_token") != self.credentials.get("refresh_token"):
            return self.json(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "The request has an invalid grant parameter : refresh_token",
                },
            )
        token = f"Atza|{self.rng.getrandbits(160):040x}"
        self.state["tokens"][token] = self.clock() + 3600
        return self.json(
            200,
            {"access_token": token, "refresh_token": form["refresh_token"], "token_type": "bearer", "expires_in": 3600},
        )

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
                "asin": old["asin"] if old else f"B0{self.next_id('asin', 10000000):08d}",
                "created": old["created"] if old else self._iso(),
                "updated": self._iso(),
            }
            return
        item = listings.get(sku)
        if item is None:
            return
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
        if kind != "put" and sku not in self.state["listings"]:
            return self._err(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {self.marketplace_id}")
        issues = self._item_issues(body, kind) if kind != "delete" else []
        if not issues and self.item_fails():
            issues = [_issue("90220", "'[batteries_required]' is required but not supplied.", "batteries_required")]
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
        size = int(request.url.params.get("pageSize", "10"))
        if not 1 <= size <= 20:
            return self._err(400, "InvalidInput", "pageSize must be between 1 and 20.")
        p = request.url.params
        sort_by = p.get("sortBy", "lastUpdatedDate")
        if sort_by not in ("sku", "createdDate", "lastUpdatedDate") or p.get("sortOrder", "DESC") not in (
            "ASC",
            "DESC",
        ):
            return self._err(400, "InvalidInput", "sortBy or sortOrder is not a valid value.")
        field = {"sku": None, "createdDate": "created", "lastUpdatedDate": "updated"}[sort_by]
        try:
            after = _norm(p["createdAfter"]) if p.get("createdAfter") else None
        except ValueError:
            return self._err(400, "InvalidInput", "createdAfter is not an ISO 8601 date-time.")
        listings = self.state["listings"]
        matching = [s for s in listings if after is None or listings[s]["created"] >= after]
        matching.sort(
            key=lambda s: ((listings[s][field] if field else s), s), reverse=p.get("sortOrder", "DESC") == "DESC"
        )
        skus = matching[:1000]  # "the maximum number of items that can be returned and paged through is 1000"
        start = int(request.url.params.get("pageToken") or 0) if seller_id == self.seller_id else 0
        included = (request.url.params.get("includedData") or "summaries").split(",")
        page = skus[start : start + size] if seller_id == self.seller_id else []
        body: dict[str, Any] = {
            "numberOfResults": len(matching),
            "items": [self._item(s, included) for s in page],
        }
        if start + size < len(skus):
            body["pagination"] = {"nextToken": str(start + size)}
        return self._ok(200, body, "searchListingsItems")

    def _item(self, sku: str, included: list[str]) -> dict[str, Any]:
        item = self.state["listings"][sku]
        attrs = item["attributes"]
        out: dict[str, Any] = {"sku": sku}
        quantity = _quantity(attrs)
        price = _price(attrs, self.marketplace_id)
        if "summaries" in included:
            status = ["DISCOVERABLE"] + (["BUYABLE"] if price is not None and (quantity or 0) > 0 else [])
            name = (attrs.get("item_name") or [{}])[0].get("value")
            out["summaries"] = [
                {
                    "marketplaceId": self.marketplace_id,
                    "asin": item["asin"],
                    "productType": item["productType"],
                    "conditionType": (attrs.get("condition_type") or [{"value": "new_new"}])[0]["value"],
                    "status": status,
                    "itemName": name,
                    "createdDate": item["created"],
                    "lastUpdatedDate": item["updated"],
                }
            ]
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
        return self._ok(202, {"feedId": feed_id}, "createFeed")

    @route("GET", FEEDS + "/feeds/{feed_id}")
    def get_feed(self, request: httpx.Request, feed_id: str) -> httpx.Response:
        if (limited := self._quota("getFeed")) is not None:
            return limited
        feed = self.state["feeds"].get(feed_id)
        if feed is None:
            return self._err(404, "NotFound", f"Feed {feed_id} not found.")
        elapsed = self.clock() - feed["started"]
        if feed["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS"):
            if elapsed >= self.feed_seconds:
                self._process(feed)
            elif elapsed >= self.feed_seconds / 2:
                feed["processingStatus"] = "IN_PROGRESS"
                feed["processingStartTime"] = feed.get("processingStartTime") or self._iso()
        out = {k: v for k, v in feed.items() if k not in ("document", "started")}
        return self._ok(200, out, "getFeed")

    def _process(self, feed: dict[str, Any]) -> None:
        document = _loads(self.state["documents"][feed["document"]]["content"].encode())
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
                    found = [_issue("90220", "'[batteries_required]' is required but not supplied.")]
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
                    self._apply(msg["sku"], "patch", _plain({"patches": patches}))
            feed["processingStatus"] = "DONE"
        report = {
            "header": {"sellerId": self.seller_id, "version": "2.0", "feedId": feed["feedId"]},
            "issues": [{k: v for k, v in i.items() if k != "attributeNames"} for i in issues],
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
            "content": json.dumps(report),
            "gzip": self.gzip_reports,
        }
        feed["resultFeedDocumentId"] = doc_id
        feed["processingEndTime"] = self._iso()

    def _message_issues(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        op = msg["operationType"]
        if op in ("PATCH", "PARTIAL_UPDATE", "DELETE") and msg["sku"] not in self.state["listings"]:
            return [_issue("4000002", f"SKU '{msg['sku']}' does not exist; use UPDATE to create it.")]
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
        body = {"feedDocumentId": doc_id, "url": self._s3_url(request, doc_id)}
        if doc["gzip"]:
            body["compressionAlgorithm"] = "GZIP"
        return self._ok(200, body, "getFeedDocument")

    # -- orders ------------------------------------------------------------------------------------
    @route("GET", "/orders/v0/orders")
    def get_orders(self, request: httpx.Request) -> httpx.Response:
        if (limited := self._quota("getOrders")) is not None:
            return limited
        if (bad := self._marketplaces(request, "MarketplaceIds")) is not None:
            return bad
        p = request.url.params
        after, before = p.get("LastUpdatedAfter"), p.get("LastUpdatedBefore")
        created = p.get("CreatedAfter")
        if bool(after) == bool(created):
            return self._err(400, "InvalidInput", "Exactly one of CreatedAfter and LastUpdatedAfter is required.")
        if created:
            return self._err(400, "InvalidInput", "This emulator supports LastUpdatedAfter queries only.")
        limit = self._iso(-120)
        try:
            after, before = _norm(after), _norm(before) if before else None
        except ValueError:
            return self._err(400, "InvalidInput", "Invalid Input", "Invalid Date-Time field(s).")
        if before and (before > limit or before < after):
            return self._err(
                400,
                "InvalidInput",
                "Invalid Input",
                "LastUpdatedBefore must be after LastUpdatedAfter and at least 2 minutes before the current time.",
            )
        size = int(p.get("MaxResultsPerPage", "100"))
        if not 1 <= size <= 100:
            return self._err(400, "InvalidInput", "MaxResultsPerPage must be between 1 and 100.")
        end = before or limit
        rows = sorted(
            (o for o in self.state["orders"].values() if after <= o["order"]["LastUpdateDate"] <= end),
            key=lambda o: (o["order"]["LastUpdateDate"], o["order"]["AmazonOrderId"]),
        )
        start = int(p.get("NextToken") or 0)
        payload: dict[str, Any] = {"Orders": [o["order"] for o in rows[start : start + size]], "LastUpdatedBefore": end}
        if start + size < len(rows):
            payload["NextToken"] = str(start + size)
        return self._ok(200, {"payload": payload}, "getOrders")

    @route("GET", "/orders/v0/orders/{order_id}/orderItems")
    def get_order_items(self, request: httpx.Request, order_id: str) -> httpx.Response:
        if (limited := self._quota("getOrderItems")) is not None:
            return limited
        row = self.state["orders"].get(order_id)
        if row is None:
            return self._err(404, "NotFound", f"Order {order_id} not found.")
        return self._ok(200, {"payload": {"AmazonOrderId": order_id, "OrderItems": row["items"]}}, "getOrderItems")

    def generate_orders(self, count: int) -> list[str]:
        """``count`` new Unshipped orders of listed SKUs with stock (stock decremented); their ids."""
        with self._lock:
            self._settle()
            ids = []
            for _ in range(count):
                sellable = [
                    s
                    for s, it in sorted(self.state["listings"].items())
                    if (_quantity(it["attributes"]) or 0) > 0 and _price(it["attributes"], self.marketplace_id)
                ]
                if not sellable:
                    break
                sku = self.rng.choice(sellable)
                attrs = self.state["listings"][sku]["attributes"]
                qty = min(_quantity(attrs) or 0, self.rng.randint(1, 2))
                _set_quantity(attrs, (_quantity(attrs) or 0) - qty)
                unit = Decimal(_price(attrs, self.marketplace_id) or "0")
                n = self.next_id("order", 1000000)
                order_id = f"{100 + n % 900:03d}-{n:07d}-{self.rng.randint(0, 9999999):07d}"
                stamp = self._iso()
                total = str(unit * qty)
                shipping = "4.99" if self.currency != "JPY" else "500"
                self.state["orders"][order_id] = {
                    "order": {
                        "AmazonOrderId": order_id,
                        "PurchaseDate": stamp,
                        "LastUpdateDate": stamp,
                        "OrderStatus": "Unshipped",
                        "FulfillmentChannel": "MFN",
                        "MarketplaceId": self.marketplace_id,
                        "OrderTotal": {
                            "CurrencyCode": self.currency,
                            "Amount": str(Decimal(total) + Decimal(shipping)),
                        },
                        "NumberOfItemsShipped": 0,
                        "NumberOfItemsUnshipped": qty,
                        "ShippingAddress": {
                            "CountryCode": COUNTRY.get(self.marketplace_id, "US"),
                            "PostalCode": "98101",
                        },
                    },
                    "items": [
                        {
                            "ASIN": self.state["listings"][sku]["asin"],
                            "SellerSKU": sku,
                            "OrderItemId": f"{self.rng.getrandbits(40):014d}",
                            "Title": (attrs.get("item_name") or [{}])[0].get("value"),
                            "QuantityOrdered": qty,
                            "QuantityShipped": 0,
                            "ItemPrice": {"CurrencyCode": self.currency, "Amount": total},
                            "ShippingPrice": {"CurrencyCode": self.currency, "Amount": shipping},
                        }
                    ],
                }
                ids.append(order_id)
            return ids

    def set_order_status(self, order_id: str, status: str) -> None:
        """Move an order to an Orders v0 status (``Shipped``, ``Canceled``, ...), bumping LastUpdateDate."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"{status!r} is not an Orders v0 OrderStatus")
        with self._lock:
            order = self.state["orders"][order_id]["order"]
            order["OrderStatus"] = status
            order["LastUpdateDate"] = self._iso()

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
                "price": _price(attrs, self.marketplace_id),
                "quantity": _quantity(attrs),
                "productType": item["productType"],
            }


# ------------------------------------------------------------------------------------------ helpers
def _norm(text: str) -> str:
    """An ISO 8601 time as the emulator's own sortable ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    from datetime import UTC, datetime

    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(text)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def _issue(code: str, message: str, attribute: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"code": code, "message": message, "severity": "ERROR"}
    if attribute:
        issue["attributeNames"] = [attribute]
    return issue


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
                for price in v.get("our_price") or []:
                    for entry in price.get("schedule") or []:
                        amount = entry.get("value_with_tax")
                        if not isinstance(amount, int | Decimal) or isinstance(amount, bool) or amount < 0:
                            issues.append(_issue("99022", "'value_with_tax' must be a non-negative number.", name))
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


def _price(attrs: dict[str, Any], marketplace_id: str) -> str | None:
    for offer in attrs.get("purchasable_offer") or []:
        if offer.get("marketplace_id") == marketplace_id and offer.get("audience", "ALL") == "ALL":
            for price in offer.get("our_price") or []:
                for entry in price.get("schedule") or []:
                    if entry.get("value_with_tax") is not None:
                        return str(entry["value_with_tax"])
    return None
