"""An in-memory eBay: OAuth refresh grant, Sell Inventory v1 and Sell Fulfillment v1 (getOrders/getOrder).

Written from the reference (overseas-apis.md section 1 and the official OAS3 files), not from the
adapter. What it enforces:

- OAuth: ``POST /identity/v1/oauth2/token`` with Basic client credentials and the refresh-token grant
  (``invalid_client``, ``invalid_grant``, ``invalid_scope``); access tokens live 7200 s and an expired or
  unknown token answers 401 errorId 1001.
- ``Content-Language`` on the calls that require it; batch maxima of 25 on every bulk call; one
  marketplace per bulkCreateOffer; a second offer for the same SKU/marketplace/format refused; publish
  prerequisites (category, price, quantity, location, three policies, title and image); price/quantity
  updates only on PUBLISHED offers; 250 revisions per listing per Pacific day.
- getOrders: percent-encoded brackets, ``creationdate`` overriding ``lastmodifieddate``, limit <= 200
  (31100), offset paging, 90-day window (30830), ``cancelRequests`` always empty (getOrder fills it).
- Throttle: HTTP 429 with errorId 2001 (body shape unconfirmed); 5xx with errorId 25001 / 30500.

Options (emulator only): ``one_sku_per_call`` makes bulkUpdatePriceQuantity refuse calls touching more
than one SKU (the method page's reading of the docs).
"""

from __future__ import annotations

import base64
import copy
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, unquote
from zoneinfo import ZoneInfo

import httpx
from listing_sync.adapters.emulator import Emulator, route

INV = "/sell/inventory/v1"
FUL = "/sell/fulfillment/v1"
PACIFIC = ZoneInfo("America/Los_Angeles")
TOKEN_LIFETIME = 7200
BATCH = 25
REVISION_CAP = 250
ORDERS_MAX_LIMIT = 200
GRANTED_SCOPES = frozenset(
    {
        "https://api.ebay.com/oauth/api_scope",
        "https://api.ebay.com/oauth/api_scope/sell.inventory",
        "https://api.ebay.com/oauth/api_scope/sell.inventory.readonly",
        "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
        "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",
        "https://api.ebay.com/oauth/api_scope/sell.account",
    }
)
CURRENCY = {
    "EBAY_US": "USD",
    "EBAY_MOTORS_US": "USD",
    "EBAY_GB": "GBP",
    "EBAY_DE": "EUR",
    "EBAY_FR": "EUR",
    "EBAY_IT": "EUR",
    "EBAY_ES": "EUR",
    "EBAY_AT": "EUR",
    "EBAY_AU": "AUD",
    "EBAY_CA": "CAD",
}
CONDITIONS = frozenset(
    {
        "NEW",
        "LIKE_NEW",
        "NEW_OTHER",
        "NEW_WITH_DEFECTS",
        "CERTIFIED_REFURBISHED",
        "EXCELLENT_REFURBISHED",
        "VERY_GOOD_REFURBISHED",
        "GOOD_REFURBISHED",
        "SELLER_REFURBISHED",
        "USED_EXCELLENT",
        "USED_VERY_GOOD",
        "USED_GOOD",
        "USED_ACCEPTABLE",
        "FOR_PARTS_OR_NOT_WORKING",
    }
)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
RANGE_RE = re.compile(r"^\[(.*?)\.\.(.*)\]$")


def _iso(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _error(error_id: int, message: str, *, domain: str = "API_INVENTORY", category: str = "REQUEST", **extra: Any):
    return {"errorId": error_id, "domain": domain, "category": category, "message": message, **extra}


def _valid_amount(value: Any, currency: str) -> bool:
    if not isinstance(value, dict) or value.get("currency") != currency or not isinstance(value.get("value"), str):
        return False
    try:
        return Decimal(value["value"]) > 0
    except InvalidOperation:
        return False


class EbayEmulator(Emulator):
    kind = "ebay"
    hosts = ("api.ebay.com", "api.sandbox.ebay.com", "apiz.ebay.com")
    rate = 2_000_000 / 86_400
    burst = 25

    # -- state ---------------------------------------------------------------------------------------
    def initial_state(self) -> dict[str, Any]:
        return {
            "tokens": {},  # access token -> expiry (ISO)
            "refresh_revoked": False,
            "items": {},  # sku -> InventoryItem (no sku/locale)
            "groups": {},  # group key -> InventoryItemGroup
            "offers": {},  # offerId -> offer
            "revisions": {},  # listingId -> {"day": "YYYY-MM-DD", "count": n}
            "orders": {},  # orderId -> Order
        }

    @property
    def marketplace(self) -> str:
        return str(self.options.get("marketplace_id", "EBAY_US"))

    def currency_of(self, marketplace_id: str) -> str:
        return CURRENCY.get(marketplace_id, "USD")

    # -- envelope ------------------------------------------------------------------------------------
    def errors(self, status: int, *errors: dict) -> httpx.Response:
        return self.json(status, {"errors": list(errors)})

    def throttled(self, request: httpx.Request, wait_seconds: float) -> httpx.Response:
        return self.errors(
            429,
            _error(
                2001,
                "Too many requests. The request limit has been reached for the resource.",
                domain="ACCESS",
            ),
        )

    def server_error(self, request: httpx.Request) -> httpx.Response:
        if FUL in request.url.path:
            return self.errors(500, _error(30500, "System error", domain="API_FULFILLMENT", category="APPLICATION"))
        return self.errors(500, _error(25001, "A system error has occurred.", category="APPLICATION"))

    def not_found(self, request: httpx.Request) -> httpx.Response:
        return self.errors(
            404, _error(2002, f"Resource not found: {request.method} {request.url.path}", domain="ACCESS")
        )

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/identity/v1/oauth2/token"):
            return None
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        expiry = self.state["tokens"].get(token)
        if not expiry or datetime.fromisoformat(expiry) <= self.now():
            return self.errors(
                401,
                _error(
                    1001,
                    "Invalid access token",
                    domain="OAuth",
                    longMessage="Invalid access token. Check the value of the Authorization HTTP request header.",
                ),
            )
        return None

    def _needs_language(self, request: httpx.Request) -> httpx.Response | None:
        if not re.fullmatch(r"[a-z]{2}-[A-Z]{2}", request.headers.get("Content-Language", "")):
            return self.errors(400, _error(25709, "Invalid value for header Content-Language."))
        return None

    # -- OAuth ---------------------------------------------------------------------------------------
    @route("POST", "/identity/v1/oauth2/token")
    def token(self, request: httpx.Request) -> httpx.Response:
        expected = f"{self.credentials.get('client_id', '')}:{self.credentials.get('client_secret', '')}"
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Basic ") or base64.b64decode(auth[6:]).decode() != expected:
            return self.json(401, {"error": "invalid_client", "error_description": "client authentication failed"})
        if not request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return self.json(400, {"error": "invalid_request", "error_description": "request is missing a form body"})
        form = dict(parse_qsl(request.content.decode()))
        if form.get("grant_type") != "refresh_token":
            return self.json(
                400, {"error": "unsupported_grant_type", "error_description": "grant type in request is not supported"}
            )
        if self.state["refresh_revoked"] or form.get("refresh_token") != self.credentials.get("refresh_token"):
            return self.json(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": (
                        "the provided authorization refresh token is invalid or was issued to another client"
                    ),
                },
            )
        scopes = set(form.get("scope", "").split())
        if not scopes or not scopes <= GRANTED_SCOPES:
            return self.json(400, {"error": "invalid_scope", "error_description": "the requested scope is invalid"})
        token = f"v^1.1#i^1#emulated-{self.next_id('token')}"
        self.state["tokens"][token] = (self.now() + timedelta(seconds=TOKEN_LIFETIME)).isoformat()
        return self.json(200, {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "User Access Token"})

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired (next call gets 401 errorId 1001)."""
        self.state["tokens"] = {}

    def revoke_refresh_token(self) -> None:
        """The user revoked consent: the refresh grant now answers invalid_grant."""
        self.state["refresh_revoked"] = True
        self.state["tokens"] = {}

    # -- revisions -----------------------------------------------------------------------------------
    def _revise(self, listing_id: str | None) -> bool:
        """Count one revision of a live listing; False when the 250-a-day cap is reached."""
        if not listing_id:
            return True
        day = self.now().astimezone(PACIFIC).date().isoformat()
        entry = self.state["revisions"].setdefault(listing_id, {"day": day, "count": 0})
        if entry["day"] != day:
            entry.update(day=day, count=0)
        if entry["count"] >= REVISION_CAP:
            return False
        entry["count"] += 1
        return True

    @staticmethod
    def _cap_error() -> dict:
        return _error(
            25002,
            "Any User error. This listing has reached the maximum of 250 revisions allowed per calendar day.",
        )

    _indexed: object = None  # the offers dict the SKU index was built from (load() replaces the state)
    _offer_index: dict[str, list[str]]

    def _offers_of(self, sku: str) -> list[dict]:
        """The offers of ``sku`` in creation order, through a SKU -> offer ids index built once per state and
        kept up by createOffer (an offer's SKU never changes; deleted ids drop out here): a scan of every
        offer per call made a 10k-SKU publish quadratic."""
        offers = self.state["offers"]
        if self._indexed is not offers:
            self._offer_index = {}
            for offer_id, offer in offers.items():
                self._offer_index.setdefault(offer["sku"], []).append(offer_id)
            self._indexed = offers
        return [offers[i] for i in self._offer_index.get(sku, ()) if i in offers]

    def _live_listing_of_sku(self, sku: str) -> str | None:
        for offer in self._offers_of(sku):
            if offer["status"] == "PUBLISHED":
                return offer["listing"]["listingId"]
        return None

    # -- inventory items -----------------------------------------------------------------------------
    def _item_problem(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "the request body must be an InventoryItem object"
        cond = body.get("condition")
        if cond is not None and cond not in CONDITIONS:
            return f"Invalid value for condition: {cond}"
        quantity = ((body.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity")
        if quantity is not None and (not isinstance(quantity, int) or quantity < 0):
            return "Invalid value for shipToLocationAvailability.quantity"
        title = (body.get("product") or {}).get("title")
        if title is not None and len(title) > 80:
            return "Invalid value for product.title: 80 characters at most"
        return None

    def _store_item(self, sku: str, body: dict) -> bool:
        """Replace the item WHOLE (omitted fields are gone). False when the listing is out of revisions."""
        if not self._revise(self._live_listing_of_sku(sku)):
            return False
        item = {k: v for k, v in body.items() if k not in ("sku", "locale", "groupIds", "inventoryItemGroupKeys")}
        self.state["items"][sku] = copy.deepcopy(item)
        return True

    def _item_view(self, sku: str) -> dict:
        item = copy.deepcopy(self.state["items"][sku])
        groups = [k for k, g in self.state["groups"].items() if sku in g.get("variantSKUs", [])]
        view = {"sku": sku, "locale": "en_US", **item}
        if groups:
            view["inventoryItemGroupKeys"] = groups
            view["groupIds"] = groups
        return view

    @route("PUT", f"{INV}/inventory_item/{{sku}}")
    def put_item(self, request: httpx.Request, sku: str) -> httpx.Response:
        denied = self._needs_language(request)
        if denied:
            return denied
        body = self.body_json(request)
        problem = self._item_problem(body)
        if problem:
            return self.errors(400, _error(25709, problem))
        if not self._store_item(sku, body):
            return self.errors(400, self._cap_error())
        return httpx.Response(204)  # create or replace; a BaseResponse body comes only with warnings

    @route("GET", f"{INV}/inventory_item/{{sku}}")
    def get_item(self, request: httpx.Request, sku: str) -> httpx.Response:
        if sku not in self.state["items"]:
            return self.errors(404, _error(25710, "We didn't find the resource/entity you are requesting."))
        return self.json(200, self._item_view(sku))

    @route("DELETE", f"{INV}/inventory_item/{{sku}}")
    def delete_item(self, request: httpx.Request, sku: str) -> httpx.Response:
        """deleteInventoryItem: the item, every offer of the SKU (live listings end) and its group membership."""
        if sku not in self.state["items"]:
            return self.errors(404, _error(25702, f"SKU {sku} is not available in the system"))
        del self.state["items"][sku]
        for offer_id in [o["offerId"] for o in self._offers_of(sku)]:
            offer = self.state["offers"].pop(offer_id)
            if offer.get("listing"):
                offer["listing"]["listingStatus"] = "ENDED"
        for group in self.state["groups"].values():
            if sku in group.get("variantSKUs", []):
                group["variantSKUs"] = [s for s in group["variantSKUs"] if s != sku]
        return httpx.Response(204)

    @route("GET", f"{INV}/inventory_item")
    def list_items(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        try:
            limit = int(params.get("limit", "100"))
            page = int(params.get("offset", "0"))  # the spec: "offset ... sets the page number to retrieve"
        except ValueError:
            return self.errors(400, _error(25706, "You have provided invalid pagination values."))
        if not 1 <= limit <= 100 or page < 0:
            return self.errors(400, _error(25706, "You have provided invalid pagination values."))
        skus = sorted(self.state["items"])
        rows = skus[page * limit : (page + 1) * limit]
        base = f"https://api.ebay.com{INV}/inventory_item"
        body: dict[str, Any] = {
            "href": f"{base}?limit={limit}&offset={page}",
            "limit": limit,
            "size": len(rows),
            "total": len(skus),
            "inventoryItems": [self._item_view(s) for s in rows],
        }
        if (page + 1) * limit < len(skus):
            body["next"] = f"{base}?limit={limit}&offset={page + 1}"
        if page > 0:
            body["prev"] = f"{base}?limit={limit}&offset={page - 1}"
        return self.json(200, body)

    @route("POST", f"{INV}/bulk_create_or_replace_inventory_item")
    def bulk_items(self, request: httpx.Request) -> httpx.Response:
        denied = self._needs_language(request)
        if denied:
            return denied
        body = self.body_json(request)
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            return self.errors(400, _error(25709, "Invalid request. Invalid value for field requests"))
        if len(requests) > BATCH:
            return self.errors(
                400, _error(25727, f"The number of InventoryItems in the request cannot exceed {BATCH}.")
            )
        skus = [r.get("sku") if isinstance(r, dict) else None for r in requests]
        if len(set(skus)) != len(skus):
            return self.errors(400, _error(25734, "SKU should be unique in the request."))
        out = []
        for entry in requests:
            sku = entry.get("sku")
            problem = self._item_problem(entry) if sku else "Invalid SKU."
            if problem:
                out.append(
                    {"sku": sku, "locale": entry.get("locale"), "statusCode": 400, "errors": [_error(25709, problem)]}
                )
            elif self.item_fails():
                out.append(
                    {
                        "sku": sku,
                        "statusCode": 500,
                        "errors": [
                            _error(
                                25025,
                                "Concurrent access of the same Inventory or Inventory Item Group object is not allowed",
                                category="APPLICATION",
                            )
                        ],
                    }
                )
            else:
                created = sku not in self.state["items"]
                if self._store_item(sku, entry):
                    out.append({"sku": sku, "locale": entry.get("locale"), "statusCode": 201 if created else 200})
                else:
                    out.append({"sku": sku, "statusCode": 400, "errors": [self._cap_error()]})
        status = 200 if all(o["statusCode"] in (200, 201) for o in out) else 207
        return self.json(status, {"responses": out})

    @route("POST", f"{INV}/bulk_get_inventory_item")
    def bulk_get_items(self, request: httpx.Request) -> httpx.Response:
        body = self.body_json(request)
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            return self.errors(400, _error(25709, "Invalid request. Invalid value for field requests"))
        if len(requests) > BATCH:
            return self.errors(
                400, _error(25727, f"The number of InventoryItems in the request cannot exceed {BATCH}.")
            )
        skus = [r.get("sku") for r in requests]
        if len(set(skus)) != len(skus):
            return self.errors(400, _error(25734, "SKU should be unique in the request."))
        out = []
        for sku in skus:
            if sku in self.state["items"]:
                out.append({"sku": sku, "statusCode": 200, "inventoryItem": self._item_view(sku)})
            else:
                out.append(
                    {
                        "sku": sku,
                        "statusCode": 404,
                        "errors": [_error(25702, f"SKU {sku} is not available in the system")],
                    }
                )
        status = 200 if all(o["statusCode"] == 200 for o in out) else 207
        return self.json(status, {"responses": out})

    # -- groups --------------------------------------------------------------------------------------
    @route("PUT", f"{INV}/inventory_item_group/{{key}}")
    def put_group(self, request: httpx.Request, key: str) -> httpx.Response:
        denied = self._needs_language(request)
        if denied:
            return denied
        body = self.body_json(request)
        if not isinstance(body, dict) or not body.get("variantSKUs"):
            return self.errors(400, _error(25709, "Invalid value for variantSKUs."))
        missing = [s for s in body["variantSKUs"] if s not in self.state["items"]]
        if missing:
            return self.errors(400, _error(25702, f"SKU {missing[0]} is not available in the system"))
        if not (body.get("variesBy") or {}).get("specifications"):
            return self.errors(400, _error(25709, "Invalid value for variesBy.specifications."))
        live = {
            o["listing"]["listingId"]
            for sku in body["variantSKUs"]
            for o in self._offers_of(sku)
            if o["status"] == "PUBLISHED"
        }
        if live and not self._revise(next(iter(live))):
            return self.errors(400, self._cap_error())
        self.state["groups"][key] = {**copy.deepcopy(body), "inventoryItemGroupKey": key}
        return httpx.Response(204)  # create or replace; a BaseResponse body comes only with warnings

    @route("GET", f"{INV}/inventory_item_group/{{key}}")
    def get_group(self, request: httpx.Request, key: str) -> httpx.Response:
        if key not in self.state["groups"]:
            return self.errors(404, _error(25710, "We didn't find the resource/entity you are requesting."))
        return self.json(200, self.state["groups"][key])

    # -- offers --------------------------------------------------------------------------------------
    def _offer_problem(self, body: dict, currency: str) -> str | None:
        price = (body.get("pricingSummary") or {}).get("price")
        if price is not None and not _valid_amount(price, currency):
            return f"Invalid value for pricingSummary.price: a positive string value in {currency}"
        quantity = body.get("availableQuantity")
        if quantity is not None and (not isinstance(quantity, int) or quantity < 0):
            return "Invalid value for availableQuantity"
        return None

    @route("GET", f"{INV}/offer")
    def get_offers(self, request: httpx.Request) -> httpx.Response:
        """getOffers: every query parameter optional (sku, marketplace_id, format, limit, offset = page)."""
        params = request.url.params
        try:
            limit, page = int(params.get("limit", "100")), int(params.get("offset", "0"))
        except ValueError:
            return self.errors(400, _error(25706, "You have provided invalid pagination values."))
        if not 1 <= limit <= 100 or page < 0:
            return self.errors(400, _error(25706, "You have provided invalid pagination values."))
        sku, marketplace, fmt = params.get("sku"), params.get("marketplace_id"), params.get("format")
        offers = [
            copy.deepcopy(o)
            for _, o in sorted(self.state["offers"].items(), key=lambda kv: int(kv[0]))
            if (sku is None or o["sku"] == sku)
            and (marketplace is None or o["marketplaceId"] == marketplace)
            and (fmt is None or o["format"] == fmt)
        ]
        if sku is not None and not offers:
            return self.errors(404, _error(25713, "This Offer is not available."))
        rows = offers[page * limit : (page + 1) * limit]
        body: dict[str, Any] = {"href": str(request.url), "limit": limit, "offers": rows, "size": len(rows)}
        body["total"] = len(offers)
        if (page + 1) * limit < len(offers):
            body["next"] = str(request.url.copy_set_param("offset", str(page + 1)))
        if page > 0:
            body["prev"] = str(request.url.copy_set_param("offset", str(page - 1)))
        return self.json(200, body)

    @route("GET", f"{INV}/offer/{{offer_id}}")
    def get_offer(self, request: httpx.Request, offer_id: str) -> httpx.Response:
        if offer_id not in self.state["offers"]:
            return self.errors(404, _error(25713, "This Offer is not available."))
        return self.json(200, self.state["offers"][offer_id])

    @route("POST", f"{INV}/bulk_create_offer")
    def bulk_create_offer(self, request: httpx.Request) -> httpx.Response:
        denied = self._needs_language(request)
        if denied:
            return denied
        body = self.body_json(request)
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            return self.errors(400, _error(25709, "Invalid request. Invalid value for field requests"))
        if len(requests) > BATCH:
            return self.errors(400, _error(25730, f"The number of offers in the request cannot exceed {BATCH}"))
        if len({r.get("marketplaceId") for r in requests}) != 1:
            return self.errors(
                400, _error(25709, "Invalid request. All offers in one call must be for one marketplaceId")
            )
        keys = [(r.get("sku"), r.get("marketplaceId"), r.get("format")) for r in requests]
        if len(set(keys)) != len(keys):
            return self.errors(400, _error(25729, "The combination of SKU, marketplaceId and format should be unique."))
        out = [self._create_offer(entry) for entry in requests]
        status = 200 if all(o["statusCode"] == 200 for o in out) else 207
        return self.json(status, {"responses": out})

    @route("POST", f"{INV}/offer")
    def create_offer(self, request: httpx.Request) -> httpx.Response:
        """createOffer: one unpublished offer; 201 with an OfferResponse."""
        denied = self._needs_language(request)
        if denied:
            return denied
        body = self.body_json(request)
        if not isinstance(body, dict):
            return self.errors(400, _error(25709, "Invalid request. The request body must be an EbayOfferDetails."))
        result = self._create_offer(body)
        if result["statusCode"] != 200:
            return self.errors(result["statusCode"], *result["errors"])
        return self.json(201, {"offerId": result["offerId"]})

    def _create_offer(self, entry: dict) -> dict:
        """One offer of a create call: the bulk response entry (statusCode 200 with offerId, or errors)."""
        sku, marketplace, fmt = entry.get("sku"), entry.get("marketplaceId"), entry.get("format")
        base = {"sku": sku, "marketplaceId": marketplace, "format": fmt}
        if not sku or not marketplace or fmt not in ("FIXED_PRICE", "AUCTION"):
            return {**base, "statusCode": 400, "errors": [_error(25735, "Invalid SKU, marketplaceId or format.")]}
        if sku not in self.state["items"]:
            return {**base, "statusCode": 400, "errors": [_error(25702, f"SKU {sku} is not available in the system")]}
        if any(o["marketplaceId"] == marketplace and o["format"] == fmt for o in self._offers_of(sku)):
            exists = _error(25002, "Any User error. Offer entity already exists.")
            return {**base, "statusCode": 400, "errors": [exists]}
        problem = self._offer_problem(entry, self.currency_of(marketplace))
        if problem:
            return {**base, "statusCode": 400, "errors": [_error(25709, problem)]}
        if self.item_fails():
            errors = [_error(25001, "A system error has occurred.", category="APPLICATION")]
            return {**base, "statusCode": 500, "errors": errors}
        offer_id = str(self.next_id("offer", 5_000_000))
        self._offers_of(sku)  # the index is current before the new offer joins it
        self.state["offers"][offer_id] = {**copy.deepcopy(entry), "offerId": offer_id, "status": "UNPUBLISHED"}
        self._offer_index.setdefault(sku, []).append(offer_id)
        return {**base, "offerId": offer_id, "statusCode": 200}

    @route("PUT", f"{INV}/offer/{{offer_id}}")
    def update_offer(self, request: httpx.Request, offer_id: str) -> httpx.Response:
        denied = self._needs_language(request)
        if denied:
            return denied
        offer = self.state["offers"].get(offer_id)
        if offer is None:
            return self.errors(404, _error(25713, "This Offer is not available."))
        body = self.body_json(request)
        if not isinstance(body, dict) or not (body.get("pricingSummary") or {}).get("price"):
            return self.errors(400, _error(25002, "Any User error. pricingSummary.price is required."))
        problem = self._offer_problem(body, self.currency_of(offer["marketplaceId"]))
        if problem:
            return self.errors(400, _error(25709, problem))
        if offer["status"] == "PUBLISHED" and not self._revise(offer["listing"]["listingId"]):
            return self.errors(400, self._cap_error())
        keep = {k: offer[k] for k in ("offerId", "sku", "marketplaceId", "format", "status", "listing") if k in offer}
        self.state["offers"][offer_id] = {**copy.deepcopy(body), **keep}  # full replace
        return httpx.Response(204)  # an OfferResponse body comes only with warnings

    def _publish_problem(self, offer: dict) -> str | None:
        item = self.state["items"].get(offer["sku"]) or {}
        product = item.get("product") or {}
        policies = offer.get("listingPolicies") or {}
        needs = [
            ("categoryId", offer.get("categoryId")),
            ("pricingSummary.price", (offer.get("pricingSummary") or {}).get("price")),
            ("availableQuantity", offer.get("availableQuantity") is not None or None),
            ("merchantLocationKey", offer.get("merchantLocationKey")),
            ("listingPolicies.fulfillmentPolicyId", policies.get("fulfillmentPolicyId")),
            ("listingPolicies.paymentPolicyId", policies.get("paymentPolicyId")),
            ("listingPolicies.returnPolicyId", policies.get("returnPolicyId")),
            ("product.title", product.get("title")),
            ("product.imageUrls", product.get("imageUrls")),
            ("condition", item.get("condition")),
        ]
        missing = [name for name, value in needs if not value]
        return f"Any User error. Missing field(s) to publish: {', '.join(missing)}" if missing else None

    def _publish(self, offer: dict, listing_id: str | None = None) -> tuple[int, dict]:
        problem = self._publish_problem(offer)
        if problem:
            return 400, {"errors": [_error(25002, problem)]}
        if offer["status"] == "PUBLISHED":
            if not self._revise(offer["listing"]["listingId"]):
                return 400, {"errors": [self._cap_error()]}
            return 200, {"listingId": offer["listing"]["listingId"]}
        previous = (offer.get("listing") or {}).get("listingId")
        listing_id = listing_id or previous or str(self.next_id("listing", 110_000_000_000))
        offer["status"] = "PUBLISHED"
        offer["listing"] = {"listingId": listing_id, "listingStatus": "ACTIVE", "soldQuantity": 0}
        return 200, {"listingId": listing_id}

    @route("POST", f"{INV}/offer/{{offer_id}}/publish/")
    def publish_offer(self, request: httpx.Request, offer_id: str) -> httpx.Response:
        offer = self.state["offers"].get(offer_id)
        if offer is None:
            return self.errors(404, _error(25713, "This Offer is not available."))
        status, body = self._publish(offer)
        return self.json(status, {**body, "warnings": []} if status == 200 else body)

    @route("POST", f"{INV}/bulk_publish_offer")
    def bulk_publish(self, request: httpx.Request) -> httpx.Response:
        body = self.body_json(request)
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            return self.errors(400, _error(25709, "Invalid request. Invalid value for field requests"))
        if len(requests) > BATCH:
            return self.errors(400, _error(25730, f"The number of offers in the request cannot exceed {BATCH}"))
        out = []
        for entry in requests:
            offer_id = entry.get("offerId")
            offer = self.state["offers"].get(offer_id)
            if offer is None:
                out.append(
                    {"offerId": offer_id, "statusCode": 400, "errors": [_error(25713, "This Offer is not available.")]}
                )
            elif self.item_fails():
                out.append(
                    {
                        "offerId": offer_id,
                        "statusCode": 500,
                        "errors": [_error(25001, "A system error has occurred.", category="APPLICATION")],
                    }
                )
            else:
                status, result = self._publish(offer)
                out.append({"offerId": offer_id, "statusCode": status, **result})
        status = 200 if all(o["statusCode"] == 200 for o in out) else 207
        return self.json(status, {"responses": out})

    def _group_offers(self, key: str | None, marketplace: str | None) -> list[dict] | None:
        group = self.state["groups"].get(key)
        if group is None:
            return None
        offers = [o for sku in group["variantSKUs"] for o in self._offers_of(sku) if o["marketplaceId"] == marketplace]
        return sorted(offers, key=lambda o: int(o["offerId"]))

    @route("POST", f"{INV}/offer/publish_by_inventory_item_group/")
    def publish_group(self, request: httpx.Request) -> httpx.Response:
        body = self.body_json(request) or {}
        key, marketplace = body.get("inventoryItemGroupKey"), body.get("marketplaceId")
        offers = self._group_offers(key, marketplace)
        if not offers:
            return self.errors(
                400, _error(25002, f"Any User error. No offers for inventory item group {key} on {marketplace}.")
            )
        group = self.state["groups"][key]
        if len(offers) != len(group["variantSKUs"]):
            return self.errors(400, _error(25002, "Any User error. Every variant SKU of the group needs an offer."))
        problems = [p for p in (self._publish_problem(o) for o in offers) if p]
        if problems:
            return self.errors(400, _error(25002, problems[0]))
        listing_id = next((o["listing"]["listingId"] for o in offers if o.get("listing")), None)
        listing_id = listing_id or str(self.next_id("listing", 110_000_000_000))
        if any(o["status"] == "PUBLISHED" for o in offers) and not self._revise(listing_id):
            return self.errors(400, self._cap_error())
        for offer in offers:
            offer["status"] = "PUBLISHED"
            offer["listing"] = {"listingId": listing_id, "listingStatus": "ACTIVE", "soldQuantity": 0}
        return self.json(200, {"listingId": listing_id, "warnings": []})

    @route("POST", f"{INV}/offer/{{offer_id}}/withdraw")
    def withdraw(self, request: httpx.Request, offer_id: str) -> httpx.Response:
        offer = self.state["offers"].get(offer_id)
        if offer is None:
            return self.errors(404, _error(25713, "This Offer is not available."))
        if offer["status"] != "PUBLISHED":
            return self.errors(400, _error(25713, "This Offer is not available : the offer is not published."))
        offer["status"] = "UNPUBLISHED"
        offer["listing"]["listingStatus"] = "ENDED"
        return self.json(200, {"listingId": offer["listing"]["listingId"], "warnings": []})

    @route("POST", f"{INV}/offer/withdraw_by_inventory_item_group")
    def withdraw_group(self, request: httpx.Request) -> httpx.Response:
        body = self.body_json(request) or {}
        offers = self._group_offers(body.get("inventoryItemGroupKey"), body.get("marketplaceId"))
        if offers is None:
            return self.errors(400, _error(25002, "Any User error. Inventory item group not found."))
        for offer in offers:
            if offer["status"] == "PUBLISHED":
                offer["status"] = "UNPUBLISHED"
                offer["listing"]["listingStatus"] = "ENDED"
        return httpx.Response(204)

    # -- price and quantity --------------------------------------------------------------------------
    @route("POST", f"{INV}/bulk_update_price_quantity")
    def bulk_price_quantity(self, request: httpx.Request) -> httpx.Response:
        body = self.body_json(request)
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            return self.errors(400, _error(25709, "Invalid value for requests."))
        offer_ids = [o.get("offerId") for r in requests for o in r.get("offers") or []]
        if len(offer_ids) > BATCH or len(requests) > BATCH:
            return self.errors(400, _error(25002, f"Any User error. At most {BATCH} offers can be updated per call."))
        if len(set(offer_ids)) != len(offer_ids):
            return self.errors(400, _error(25002, "Any User error. Duplicate offerId values in the request."))
        skus = {
            r.get("sku") or (self.state["offers"].get((r.get("offers") or [{}])[0].get("offerId")) or {}).get("sku")
            for r in requests
        }
        if self.options.get("one_sku_per_call") and len(skus) > 1:
            return self.errors(400, _error(25002, "Any User error. Only one SKU can be updated per call."))
        out: list[dict] = []
        for entry in requests:
            out.extend(self._price_quantity(entry))
        status = 200 if all(o["statusCode"] == 200 for o in out) else 207
        return self.json(status, {"responses": out})

    def _price_quantity(self, entry: dict) -> list[dict]:
        sku = entry.get("sku")
        ship = entry.get("shipToLocationAvailability")
        offers = entry.get("offers") or []
        if ship is not None and not sku:
            return [{"statusCode": 400, "errors": [_error(25709, "Invalid value for sku.")]}]
        if self.item_fails():
            error = _error(
                25025,
                "Concurrent access of the same Inventory or Inventory Item Group object is not allowed",
                category="APPLICATION",
            )
            return [
                {"sku": sku, "offerId": o.get("offerId"), "statusCode": 500, "errors": [error]} for o in offers
            ] or [{"sku": sku, "statusCode": 500, "errors": [error]}]
        # validate everything first, then apply: one request revises its listing once
        problems: list[dict] = []
        targets: list[tuple[dict, dict]] = []
        for change in offers:
            offer = self.state["offers"].get(change.get("offerId"))
            ref = {"sku": sku, "offerId": change.get("offerId")}
            if offer is None or (sku and offer["sku"] != sku):
                problems.append({**ref, "statusCode": 400, "errors": [_error(25713, "This Offer is not available.")]})
            elif offer["status"] != "PUBLISHED":
                problems.append(
                    {
                        **ref,
                        "statusCode": 400,
                        "errors": [_error(25002, "Any User error. The offer is not published; use updateOffer.")],
                    }
                )
            elif "price" in change and not _valid_amount(change["price"], self.currency_of(offer["marketplaceId"])):
                problems.append(
                    {**ref, "statusCode": 400, "errors": [_error(25003, "The price of the listing is invalid.")]}
                )
            elif "availableQuantity" in change and (
                not isinstance(change["availableQuantity"], int) or change["availableQuantity"] < 0
            ):
                problems.append(
                    {**ref, "statusCode": 400, "errors": [_error(25004, "The quantity of the listing is invalid.")]}
                )
            else:
                targets.append((offer, change))
        if ship is not None:
            quantity = ship.get("quantity")
            if sku not in self.state["items"]:
                problems.append(
                    {
                        "sku": sku,
                        "statusCode": 404,
                        "errors": [_error(25702, f"SKU {sku} is not available in the system")],
                    }
                )
            elif not isinstance(quantity, int) or quantity < 0:
                problems.append(
                    {
                        "sku": sku,
                        "statusCode": 400,
                        "errors": [_error(25004, "The quantity of the listing is invalid.")],
                    }
                )
        if problems:
            return problems
        listing = next((o["listing"]["listingId"] for o, _ in targets), None) or (
            self._live_listing_of_sku(sku) if sku else None
        )
        if not self._revise(listing):
            return [
                {"sku": sku, "offerId": c.get("offerId"), "statusCode": 400, "errors": [self._cap_error()]}
                for _, c in targets
            ] or [{"sku": sku, "statusCode": 400, "errors": [self._cap_error()]}]
        out = []
        if ship is not None:
            item = self.state["items"][sku]
            item.setdefault("availability", {}).setdefault("shipToLocationAvailability", {})["quantity"] = ship[
                "quantity"
            ]
            out.append({"sku": sku, "statusCode": 200})
        for offer, change in targets:
            if "price" in change:
                offer.setdefault("pricingSummary", {})["price"] = dict(change["price"])
            if "availableQuantity" in change:
                offer["availableQuantity"] = change["availableQuantity"]
            out.append({"sku": offer["sku"], "offerId": offer["offerId"], "statusCode": 200})
        return out

    # -- orders --------------------------------------------------------------------------------------
    def _order_error(self, status: int, error_id: int, message: str) -> httpx.Response:
        return self.errors(status, _error(error_id, message, domain="API_FULFILLMENT"))

    @staticmethod
    def _date(text: str) -> datetime | None:
        if not DATE_RE.match(text):
            return None
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    @route("GET", f"{FUL}/order")
    def get_orders(self, request: httpx.Request) -> httpx.Response:
        raw_query = request.url.query.decode("ascii")
        raw = {key: value for key, _, value in (pair.partition("=") for pair in raw_query.split("&") if pair)}
        params = {k: unquote(v) for k, v in raw.items()}
        try:
            limit = int(params.get("limit", "50"))
        except ValueError:
            return self._order_error(400, 31100, f"Invalid limit: {params.get('limit')}")
        if not 1 <= limit <= ORDERS_MAX_LIMIT:
            return self._order_error(400, 31100, f"Invalid limit: {limit}")
        try:
            offset = int(params.get("offset", "0"))
        except ValueError:
            offset = -1
        if offset < 0:
            return self._order_error(400, 31000, f"Invalid offset: {params.get('offset')}")
        orders = sorted(self.state["orders"].values(), key=lambda o: (o["creationDate"], o["orderId"]))
        if params.get("orderIds"):
            ids = params["orderIds"].split(",")
            if len(ids) > 50:
                return self._order_error(400, 30900, "Exceeded maximum number of order IDs (the current limit is 50)")
            orders = [o for o in orders if o["orderId"] in ids]
        elif "filter" in params:
            if any(c in raw["filter"] for c in "[]{}|"):
                return self._order_error(
                    400, 30800, "Invalid filter value: brackets and braces must be percent-encoded"
                )
            criteria: dict[str, str] = {}
            for part in re.split(r",(?![^{]*\})", params["filter"]):
                name, _, value = part.partition(":")
                if name not in ("creationdate", "lastmodifieddate", "orderfulfillmentstatus"):
                    return self._order_error(400, 30700, f"Invalid filter name: {name}")
                criteria[name] = value
            # documented trap: with both dates, only creationdate is applied
            field, key = (
                ("creationDate", "creationdate")
                if "creationdate" in criteria
                else ("lastModifiedDate", "lastmodifieddate")
            )
            if key in criteria:
                match = RANGE_RE.match(criteria[key])
                if not match:
                    return self._order_error(400, 30800, f"Invalid filter value {criteria[key]} for filter {key}")
                start_text, end_text = match.groups()
                if not start_text:
                    return self._order_error(400, 30820, "Start date is missing")
                start = self._date(start_text)
                end = self._date(end_text) if end_text else self.now()
                if start is None or end is None:
                    return self._order_error(400, 30810, "Invalid date format")
                now = self.now()
                if start > now or end > now + timedelta(seconds=1):
                    return self._order_error(400, 30850, "Start and end dates can't be in the future")
                if start > end:
                    return self._order_error(400, 30840, "Start date should be before end date")
                if end - start > timedelta(days=90) or now - start > timedelta(days=90):
                    return self._order_error(
                        400, 30830, "Start date must be within 90 days of end date and current date."
                    )
                orders = [o for o in orders if (at := self._date(o[field])) is not None and start <= at <= end]
            if "orderfulfillmentstatus" in criteria:
                wanted = set(criteria["orderfulfillmentstatus"].strip("{}").split("|"))
                orders = [o for o in orders if o["orderFulfillmentStatus"] in wanted]
        page = [self._summary(o) for o in orders[offset : offset + limit]]
        base = f"https://api.ebay.com{FUL}/order?{raw_query}"
        body: dict[str, Any] = {
            "href": base,
            "limit": limit,
            "offset": offset,
            "total": len(orders),
            "orders": page,
            "warnings": [],
        }
        if offset + limit < len(orders):
            body["next"] = (
                re.sub(r"offset=\d+", f"offset={offset + limit}", base)
                if "offset=" in base
                else f"{base}&offset={offset + limit}"
            )
        return self.json(200, body)

    @staticmethod
    def _summary(order: dict) -> dict:
        """getOrders' view: cancelStatus.cancelRequests is returned but always empty."""
        view = copy.deepcopy(order)
        view["cancelStatus"]["cancelRequests"] = []
        return view

    @route("GET", f"{FUL}/order/{{order_id}}")
    def get_order(self, request: httpx.Request, order_id: str) -> httpx.Response:
        order = self.state["orders"].get(order_id)
        if order is None:
            return self._order_error(404, 32100, f"Invalid order ID: {order_id}")
        return self.json(200, order)

    @route("GET", f"{FUL}/order/{{order_id}}/shipping_fulfillment")
    def get_shipping_fulfillments(self, request: httpx.Request, order_id: str) -> httpx.Response:
        """getShippingFulfillments: the order's fulfillments (ShippingFulfillmentPagedCollection)."""
        if order_id not in self.state["orders"]:
            return self._order_error(404, 32100, f"Invalid order Id: {order_id}")
        found = [f for key, f in self.state.get("fulfillments", {}).items() if key.split("/", 1)[0] == order_id]
        return self.json(200, {"fulfillments": found, "total": len(found), "warnings": []})

    @route("POST", f"{FUL}/order/{{order_id}}/shipping_fulfillment")
    def create_shipping_fulfillment(self, request: httpx.Request, order_id: str) -> httpx.Response:
        """createShippingFulfillment: checks the order, line items, carrier, tracking number and date as
        the spec's error ids say (32100, 32200, 32300, 32500, 32600); ships the lines; 201 + Location."""
        order = self.state["orders"].get(order_id)
        if order is None:
            return self._order_error(400, 32100, f"Invalid order Id: {order_id}")
        body = self.body_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("lineItems"), list) or not body["lineItems"]:
            return self._order_error(400, 32600, "Invalid input data: lineItems is required")
        if order.get("orderPaymentStatus") != "PAID" or order["cancelStatus"].get("cancelState") == "CANCELED":
            return self._order_error(400, 32100, f"Invalid order Id: order {order_id} cannot be fulfilled")
        lines = {line["lineItemId"]: line for line in order["lineItems"]}
        for item in body["lineItems"]:
            if not isinstance(item, dict) or item.get("lineItemId") not in lines:
                return self._order_error(400, 32200, f"Invalid line item id: {item}")
        carrier, tracking = body.get("shippingCarrierCode"), body.get("trackingNumber")
        if not isinstance(carrier, str) or not carrier or not isinstance(tracking, str) or not tracking.isalnum():
            return self._order_error(400, 32300, "Invalid shipment tracking number or carrier")
        if "shippedDate" in body and (
            not isinstance(body["shippedDate"], str) or self._date(body["shippedDate"]) is None
        ):
            return self._order_error(400, 32500, f"Invalid shipped date: {body.get('shippedDate')}")
        for item in body["lineItems"]:
            lines[item["lineItemId"]]["lineItemFulfillmentStatus"] = "FULFILLED"
        done = all(line["lineItemFulfillmentStatus"] == "FULFILLED" for line in order["lineItems"])
        order["orderFulfillmentStatus"] = "FULFILLED" if done else "IN_PROGRESS"
        order["lastModifiedDate"] = _iso(self.now())
        fulfillment_id = tracking
        order.setdefault("fulfillmentHrefs", []).append(
            f"https://api.ebay.com{FUL}/order/{order_id}/shipping_fulfillment/{fulfillment_id}"
        )
        self.state.setdefault("fulfillments", {})[f"{order_id}/{fulfillment_id}"] = {
            "fulfillmentId": fulfillment_id,
            "lineItems": [{"lineItemId": i["lineItemId"]} for i in body["lineItems"]],
            "shipmentTrackingNumber": tracking,
            "shippingCarrierCode": carrier,
            "shippedDate": body.get("shippedDate") or _iso(self.now()),
        }
        location = f"https://api.ebay.com{FUL}/order/{order_id}/shipping_fulfillment/{fulfillment_id}"
        return self.json(201, {}, headers={"Location": location})

    # -- back office (tests, demo) -------------------------------------------------------------------
    def generate_orders(self, count: int) -> list[str]:
        ids = []
        # built once: a sale changes only the stock of its SKU's offers (dropped here when sold out)
        offers = sorted(
            (
                o
                for o in self.state["offers"].values()
                if o["status"] == "PUBLISHED" and (o.get("availableQuantity") or 0) > 0
            ),
            key=lambda o: o["offerId"],
        )
        offers = [o for o in offers if self._stock(o["sku"]) > 0]
        for _ in range(count):
            if not offers:
                break
            offer = self.rng.choice(offers)
            quantity = min(self.rng.randint(1, 2), offer["availableQuantity"], self._stock(offer["sku"]))
            self._add_stock(offer, -quantity)
            if not offer["availableQuantity"] or self._stock(offer["sku"]) <= 0:
                sku = offer["sku"]
                offers = [o for o in offers if o["sku"] != sku or (o["availableQuantity"] > 0 and self._stock(sku) > 0)]
            price = Decimal(offer["pricingSummary"]["price"]["value"])
            currency = offer["pricingSummary"]["price"]["currency"]
            cost = f"{price * quantity:.2f}"
            order_id = f"{self.rng.randint(10, 99)}-{self.rng.randint(10000, 99999)}-{self.next_id('order', 10000):05d}"
            stamp = _iso(self.now())
            item = self.state["items"].get(offer["sku"]) or {}
            self.state["orders"][order_id] = {
                "orderId": order_id,
                "legacyOrderId": f"{offer['listing']['listingId']}-{self.next_id('txn', 2_000_000_000)}",
                "creationDate": stamp,
                "lastModifiedDate": stamp,
                "orderFulfillmentStatus": "NOT_STARTED",
                "orderPaymentStatus": "PAID",
                "sellerId": "emulated_seller",
                "buyer": {"username": f"buyer{self.rng.randint(100, 999)}"},
                "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
                "pricingSummary": {
                    "priceSubtotal": {"value": cost, "currency": currency},
                    "deliveryCost": {"value": "0.00", "currency": currency},
                    "total": {"value": cost, "currency": currency},
                },
                # a final value fee like eBay's most common one: 13.25% of the total + 0.30 per order
                "totalMarketplaceFee": {
                    "value": f"{(price * quantity * Decimal('0.1325') + Decimal('0.30')).quantize(Decimal('0.01'))}",
                    "currency": currency,
                },
                "fulfillmentStartInstructions": [
                    {
                        "fulfillmentInstructionsType": "SHIP_TO",
                        "shippingStep": {
                            "shipTo": {
                                "fullName": "Emulated Buyer",
                                "contactAddress": {"countryCode": self.rng.choice(["US", "GB", "DE", "CA"])},
                            }
                        },
                    }
                ],
                "lineItems": [
                    {
                        "lineItemId": str(self.next_id("line", 10_000_000_000)),
                        "legacyItemId": offer["listing"]["listingId"],
                        "sku": offer["sku"],
                        "title": (item.get("product") or {}).get("title"),
                        "quantity": quantity,
                        "lineItemCost": {"value": cost, "currency": currency},
                        "total": {"value": cost, "currency": currency},
                        "lineItemFulfillmentStatus": "NOT_STARTED",
                        "listingMarketplaceId": offer["marketplaceId"],
                    }
                ],
            }
            ids.append(order_id)
        return ids

    def _stock(self, sku: str) -> int:
        item = self.state["items"].get(sku) or {}
        return int(((item.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity") or 0)

    def _add_stock(self, offer: dict, delta: int) -> None:
        offer["availableQuantity"] = max(0, offer["availableQuantity"] + delta)
        item = self.state["items"].get(offer["sku"])
        if item is not None:
            ship = item.setdefault("availability", {}).setdefault("shipToLocationAvailability", {})
            ship["quantity"] = max(0, int(ship.get("quantity") or 0) + delta)

    def set_order_status(self, order_id: str, status: str) -> None:
        """Set an order's fulfillment (NOT_STARTED, IN_PROGRESS, FULFILLED) or payment (PAID, PENDING,
        FAILED, FULLY_REFUNDED, PARTIALLY_REFUNDED) status, or CANCELED; bumps lastModifiedDate."""
        order = self.state["orders"][order_id]
        if status in ("CANCELED", "CANCELLED"):
            self.cancel_order(order_id)
            return
        if status in ("NOT_STARTED", "IN_PROGRESS", "FULFILLED"):
            order["orderFulfillmentStatus"] = status
            for line in order["lineItems"]:
                line["lineItemFulfillmentStatus"] = status
        elif status in ("PAID", "PENDING", "FAILED", "FULLY_REFUNDED", "PARTIALLY_REFUNDED"):
            order["orderPaymentStatus"] = status
        else:
            raise ValueError(f"unknown eBay order status {status!r}")
        order["lastModifiedDate"] = _iso(self.now())

    def request_cancel(self, order_id: str) -> None:
        """The buyer asked to cancel (not yet accepted)."""
        order = self.state["orders"][order_id]
        stamp = _iso(self.now())
        order["cancelStatus"] = {
            "cancelState": "CANCEL_REQUESTED",
            "cancelRequests": [
                {
                    "cancelRequestId": str(self.next_id("cancel", 5_000_000_000)),
                    "cancelInitiator": "BUYER",
                    "cancelReason": "BUYER_CHANGED_MIND",
                    "cancelRequestState": "REQUESTED",
                    "cancelRequestedDate": stamp,
                }
            ],
        }
        order["lastModifiedDate"] = stamp

    def cancel_order(self, order_id: str) -> None:
        """The seller cancelled the order: stock goes back to the offer and the item."""
        order = self.state["orders"][order_id]
        stamp = _iso(self.now())
        order["cancelStatus"] = {
            "cancelState": "CANCELED",
            "cancelledDate": stamp,
            "cancelRequests": [
                {
                    "cancelRequestId": str(self.next_id("cancel", 5_000_000_000)),
                    "cancelInitiator": "SELLER",
                    "cancelReason": "OUT_OF_STOCK_OR_CANNOT_FULFILL",
                    "cancelRequestState": "COMPLETED",
                    "cancelRequestedDate": stamp,
                    "cancelCompletedDate": stamp,
                }
            ],
        }
        order["lastModifiedDate"] = stamp
        for line in order["lineItems"]:
            for offer in self.state["offers"].values():
                if offer["sku"] == line["sku"]:
                    self._add_stock(offer, line["quantity"])
                    break

    def set_listing(self, sku: str, *, price: str | None = None, quantity: int | None = None) -> None:
        """Edit a SKU's live price/quantity "in Seller Hub" (drift for the syncer to find)."""
        for offer in self.state["offers"].values():
            if offer["sku"] == sku:
                if price is not None:
                    offer["pricingSummary"]["price"]["value"] = price
                if quantity is not None:
                    offer["availableQuantity"] = quantity
        if quantity is not None and sku in self.state["items"]:
            self.state["items"][sku].setdefault("availability", {}).setdefault("shipToLocationAvailability", {})[
                "quantity"
            ] = quantity

    def revisions_today(self, listing_id: str) -> int:
        entry = self.state["revisions"].get(listing_id) or {}
        return (
            int(entry.get("count", 0)) if entry.get("day") == self.now().astimezone(PACIFIC).date().isoformat() else 0
        )
