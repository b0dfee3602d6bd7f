"""An in-memory WooCommerce shop answering the REST API v3 as documented (``/wp-json/wc/v3``).

Written from the v3 docs and the reference notes, not from the adapter: Basic auth or query-string
keys over https, one-legged OAuth 1.0a over http (signature recomputed the way WooCommerce's own
verifier does, 15-minute timestamp window, nonces single use); property types checked like
WordPress's schema validation (``rest_invalid_param``); batches of at most 100 objects counting
create + update + delete (413 ``woocommerce_rest_request_entity_too_large``) answering HTTP 200 with
failures inlined per element; variations only through their parent; globally unique SKUs; list
endpoints with ``X-WP-Total``/``X-WP-TotalPages``/``Link``; and the HTML throttle and error pages
that real hosts send. Dates: ``*_gmt`` in UTC, the plain ones in the site's time zone (UTC+8 here).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from listing_sync.adapters.emulator import Emulator, hmac_base64, route
from listing_sync.adapters.woocommerce import verifier

V3 = "/wp-json/wc/v3"
BATCH_LIMIT = 100
NONCE_WINDOW = 15 * 60

PRODUCT_FIELDS: dict[str, str] = {
    **dict.fromkeys(
        [
            "name",
            "slug",
            "description",
            "short_description",
            "sku",
            "regular_price",
            "sale_price",
            "tax_class",
            "weight",
            "shipping_class",
            "purchase_note",
            "external_url",
            "button_text",
            "date_on_sale_from",
            "date_on_sale_from_gmt",
            "date_on_sale_to",
            "date_on_sale_to_gmt",
        ],
        "string",
    ),
    **dict.fromkeys(
        ["featured", "virtual", "downloadable", "manage_stock", "sold_individually", "reviews_allowed"], "boolean"
    ),
    **dict.fromkeys(["stock_quantity", "parent_id", "menu_order", "download_limit", "download_expiry"], "integer"),
    **dict.fromkeys(
        [
            "downloads",
            "categories",
            "tags",
            "images",
            "attributes",
            "default_attributes",
            "upsell_ids",
            "cross_sell_ids",
            "grouped_products",
            "meta_data",
        ],
        "array",
    ),
    "dimensions": "object",
    "type": "string",
    "status": "string",
    "catalog_visibility": "string",
    "tax_status": "string",
    "stock_status": "string",
    "backorders": "string",
}
VARIATION_FIELDS: dict[str, str] = {
    **dict.fromkeys(
        [
            "description",
            "sku",
            "regular_price",
            "sale_price",
            "tax_class",
            "weight",
            "shipping_class",
            "status",
            "tax_status",
            "stock_status",
            "backorders",
            "date_on_sale_from",
            "date_on_sale_from_gmt",
            "date_on_sale_to",
            "date_on_sale_to_gmt",
        ],
        "string",
    ),
    **dict.fromkeys(["virtual", "downloadable", "manage_stock"], "boolean"),
    **dict.fromkeys(["stock_quantity", "download_limit", "download_expiry", "menu_order"], "integer"),
    **dict.fromkeys(["downloads", "attributes", "meta_data"], "array"),
    "dimensions": "object",
    "image": "object",
}
ENUMS = {
    "type": ("simple", "grouped", "external", "variable"),
    "status": ("draft", "pending", "private", "publish"),
    "catalog_visibility": ("visible", "catalog", "search", "hidden"),
    "tax_status": ("taxable", "shipping", "none"),
    "stock_status": ("instock", "outofstock", "onbackorder"),
    "backorders": ("no", "notify", "yes"),
}
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash")
STOCK_REDUCED = ("processing", "on-hold", "completed")
OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
#: a route's permission check when nobody is logged in (WordPress answers 401 then)
UNAUTHENTICATED = {
    "GET": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "POST": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "PUT": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "DELETE": ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
}
WEBHOOK_RESOURCES = ("coupon", "customer", "order", "product")
WEBHOOK_EVENTS = ("created", "updated", "deleted", "restored")
COUNTRIES = ("US", "CN", "DE", "GB", "JP", "FR", "AU", "CA")

THROTTLE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head><body>"
    "<h1>Too Many Requests</h1><p>You have sent too many requests in a given amount of time. "
    "Please slow down.</p><hr><address>Apache Server</address></body></html>"
)
UNAVAILABLE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body>"
    "<h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to "
    "maintenance downtime or capacity problems.</p></body></html>"
)


def _error(code: str, message: str, status: int, **data: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status, **data}}


def _flag(value: str | None) -> bool:
    """A WordPress boolean query parameter (``force=true``, ``1``)."""
    return (value or "").lower() in ("true", "1", "yes")


def _dec(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _is_integer(value: Any) -> bool:
    """WordPress ``rest_is_integer``: numeric and whole (``5``, ``5.0`` and ``"5"`` pass)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number == round(number)


def _is_boolean(value: Any) -> bool:
    return isinstance(value, bool) or value in (0, 1, "0", "1", "true", "false")


class WooCommerceEmulator(Emulator):
    kind = "woocommerce"
    hosts = ("{site}",)
    # WooCommerce documents no rate limit; hosts and WAFs do throttle. This one allows 10/s, burst 20.
    rate = 10.0
    burst = 20

    def __init__(self, *, currency: str | None = "USD", utc_offset_minutes: int = 480, **kwargs: Any) -> None:
        self._currency = currency or "USD"
        self._offset = utc_offset_minutes
        self._sku_index: dict[str, tuple[str | None, str]] = {}
        self._indexed: object = None  # the state dict the index was built from (load() replaces it)
        super().__init__(**kwargs)

    def initial_state(self) -> dict[str, Any]:
        return {
            "settings": {
                "currency": self._currency,
                "utc_offset_minutes": self._offset,
                "key_permissions": "read_write",
            },
            "products": {},  # id -> product (simple and variable parents)
            "variations": {},  # parent id -> {variation id -> variation}
            "orders": {},  # id -> order
            "webhooks": {},  # id -> webhook (topic, delivery_url, secret, status, ...)
            "nonces": {},  # timestamp -> nonce used in the last 15 minutes (one per second, as WooCommerce keeps them)
        }

    # -- responses ------------------------------------------------------------------------------------
    def throttled(self, request: httpx.Request, wait_seconds: float) -> httpx.Response:
        return httpx.Response(
            429,
            content=THROTTLE_PAGE.encode(),
            headers={
                "Content-Type": "text/html; charset=iso-8859-1",
                "Retry-After": str(max(1, math.ceil(wait_seconds))),
            },
        )

    def server_error(self, request: httpx.Request) -> httpx.Response:
        if self.rng.random() < 0.5:
            return httpx.Response(503, content=UNAVAILABLE_PAGE.encode(), headers={"Content-Type": "text/html"})
        body = _error(
            "internal_server_error",
            "<p>There has been a critical error on this website.</p>",
            500,
        )
        return self.json(500, {**body, "additional_errors": []})

    def not_found(self, request: httpx.Request) -> httpx.Response:
        return self.json(404, _error("rest_no_route", "No route was found matching the URL and request method.", 404))

    # -- auth -----------------------------------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        params = dict(request.url.params.multi_items())
        if request.url.scheme == "https" and "oauth_signature" not in params:
            key, secret = self._basic(request)
            if key is None:
                key, secret = params.get("consumer_key"), params.get("consumer_secret")
            if key is None:
                return self._unauthenticated(request)
            if key != self.credentials.get("consumer_key"):
                return self._auth_error("Consumer key is invalid.")
            if secret != self.credentials.get("consumer_secret"):
                return self._auth_error("Consumer secret is invalid.")
        else:
            denied = self._oauth(request)
            if denied is not None:
                return denied
        return self._permissions(request)

    @staticmethod
    def _basic(request: httpx.Request) -> tuple[str | None, str | None]:
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None, None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None, None
        return user, password

    def _auth_error(self, message: str) -> httpx.Response:
        return self.json(401, _error("woocommerce_rest_authentication_error", message, 401))

    def _oauth(self, request: httpx.Request) -> httpx.Response | None:
        """``perform_oauth_authentication``: parameters, key, signature, then timestamp and nonce."""
        params = verifier.oauth_parameters(request)
        missing = [name for name in OAUTH_REQUIRED if not params.get(name)]
        if len(missing) == len(OAUTH_REQUIRED):
            return self._unauthenticated(request)  # not even trying OAuth: the route's permission check
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            message = f"Missing OAuth {noun} {', '.join(missing)}"
            return self.json(401, _error("woocommerce_rest_authentication_missing_parameter", message, 401))
        if params["oauth_consumer_key"] != self.credentials.get("consumer_key"):
            return self._auth_error("Consumer key is invalid.")
        if params["oauth_signature_method"] not in verifier.DIGESTS:
            return self._auth_error("Invalid signature - signature method is invalid.")
        if not verifier.signature_matches(request, params, self.credentials.get("consumer_secret", "")):
            return self._auth_error("Invalid signature - provided signature does not match.")
        return self._fresh(str(params["oauth_timestamp"]), str(params["oauth_nonce"]))

    def _fresh(self, stamp: str, nonce: str) -> httpx.Response | None:
        """``check_oauth_timestamp_and_nonce``: 15 minutes either way; a nonce once per key (kept by timestamp)."""
        now = int(self.now().timestamp())
        if not stamp.isdigit() or abs(int(stamp) - now) > NONCE_WINDOW:
            return self._auth_error("Invalid timestamp.")
        used = self.state["nonces"] if isinstance(self.state["nonces"], dict) else {}
        if nonce in used.values():
            return self._auth_error("Invalid nonce - nonce has already been used.")
        used[str(int(stamp))] = nonce
        self.state["nonces"] = {t: n for t, n in used.items() if int(t) >= now - NONCE_WINDOW}
        return None

    def _unauthenticated(self, request: httpx.Request) -> httpx.Response:
        """What a route's permission check answers a request nobody is logged in for."""
        code, message = UNAUTHENTICATED.get(request.method, UNAUTHENTICATED["GET"])
        return self.json(401, _error(code, message, 401))

    def _permissions(self, request: httpx.Request) -> httpx.Response | None:
        scope = self.state["settings"]["key_permissions"]
        if request.method in ("GET", "HEAD") and scope not in ("read", "read_write"):
            return self._auth_error("The API key provided does not have read permissions.")
        if request.method not in ("GET", "HEAD") and scope not in ("write", "read_write"):
            return self._auth_error("The API key provided does not have write permissions.")
        return None

    # -- validation -----------------------------------------------------------------------------------
    @staticmethod
    def _invalid(body: Any, fields: Mapping[str, str]) -> dict[str, Any] | None:
        """WordPress schema validation of the documented writable properties (unknown ones ignored)."""
        if not isinstance(body, Mapping):
            return _error("rest_invalid_json", "Invalid JSON body passed.", 400)
        problems: dict[str, str] = {}
        for name, kind in fields.items():
            if name not in body or (body[name] is None and name == "stock_quantity"):
                continue
            value = body[name]
            ok = {
                "string": isinstance(value, str),
                "integer": _is_integer(value),
                "boolean": _is_boolean(value),
                "array": isinstance(value, list),
                "object": isinstance(value, Mapping),
            }[kind]
            if not ok:
                problems[name] = f"{name} is not of type {kind}."
            elif name in ENUMS and value not in ENUMS[name]:
                problems[name] = f"{name} is not one of {', '.join(ENUMS[name])}."
        for name in ("categories", "tags", "images", "attributes"):
            for item in body.get(name) or [] if isinstance(body.get(name), list) else []:
                if not isinstance(item, Mapping):
                    problems[name] = f"{name}[0] is not of type object."
        if not problems:
            return None
        return _error("rest_invalid_param", f"Invalid parameter(s): {', '.join(problems)}", 400, params=problems)

    def _list_params(self, request: httpx.Request) -> tuple[int, int] | httpx.Response:
        params = request.url.params
        problems = {}
        try:
            per_page = int(params.get("per_page", "10"))
            if not 1 <= per_page <= 100:
                problems["per_page"] = "per_page must be between 1 (inclusive) and 100 (inclusive)"
        except ValueError:
            per_page, problems["per_page"] = 10, "per_page is not of type integer."
        try:
            page = int(params.get("page", "1"))
            if page < 1:
                problems["page"] = "page must be greater than or equal to 1"
        except ValueError:
            page, problems["page"] = 1, "page is not of type integer."
        if params.get("order", "desc") not in ("asc", "desc"):
            problems["order"] = "order is not one of asc, desc."
        if problems:
            return self.json(
                400, _error("rest_invalid_param", f"Invalid parameter(s): {', '.join(problems)}", 400, params=problems)
            )
        return page, per_page

    def _paged(
        self, request: httpx.Request, rows: list[dict[str, Any]], render, default: tuple[str, str] = ("date", "desc")
    ) -> httpx.Response:
        parsed = self._list_params(request)
        if isinstance(parsed, httpx.Response):
            return parsed
        page, per_page = parsed
        params = request.url.params
        orderby = params.get("orderby", default[0])
        keys = {
            "id": lambda r: r["id"],
            "title": lambda r: r.get("name", ""),
            "name": lambda r: (r.get("name", ""), r["id"]),
            "slug": lambda r: r.get("slug", ""),
        }
        key = keys.get(orderby, lambda r: (r.get("date_created_gmt", ""), r["id"]))
        rows = sorted(rows, key=key, reverse=params.get("order", default[1]) == "desc")
        total = len(rows)
        pages = max(1, math.ceil(total / per_page)) if total else 0
        offset = int(params.get("offset", (page - 1) * per_page))
        chunk = rows[offset : offset + per_page]
        links = []
        base = request.url.copy_remove_param("page")
        if page < pages:
            links.append(f'<{base.copy_add_param("page", page + 1)}>; rel="next"')
        if page > 1:
            links.append(f'<{base.copy_add_param("page", page - 1)}>; rel="prev"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        return self.json(200, [render(r) for r in chunk], headers=headers)

    # -- time -----------------------------------------------------------------------------------------
    def _stamp(self, record: dict[str, Any], *names: str) -> None:
        now = self.now().astimezone(UTC).replace(microsecond=0)
        local = now.astimezone(timezone(timedelta(minutes=self.state["settings"]["utc_offset_minutes"])))
        for name in names:
            record[name] = local.replace(tzinfo=None).isoformat()
            record[f"{name}_gmt"] = now.replace(tzinfo=None).isoformat()

    # -- products -------------------------------------------------------------------------------------
    def _skus(self) -> dict[str, tuple[str | None, str]]:
        """SKU -> (parent id or None, id) of the product or variation holding it: built once per state and
        kept up by every write that sets a SKU (a scan per create made a 10k-SKU publish quadratic)."""
        if self._indexed is not self.state:
            index: dict[str, tuple[str | None, str]] = {}
            for pid, product in self.state["products"].items():
                if product.get("sku"):
                    index[product["sku"]] = (None, pid)
            for parent, variations in self.state["variations"].items():
                for vid, variation in variations.items():
                    if variation.get("sku"):
                        index[variation["sku"]] = (parent, vid)
            self._sku_index, self._indexed = index, self.state
        return self._sku_index

    def _index_sku(self, record: Mapping[str, Any], parent: Any = None) -> None:
        if record.get("sku"):
            self._skus()[record["sku"]] = (None if parent is None else str(parent), str(record["id"]))

    def _sku_owner(self, sku: str) -> int | None:
        if not sku:
            return None
        place = self._skus().get(sku)
        if place is None:
            return None
        parent, rid = place
        holder = self.state["variations"].get(parent, {}) if parent else self.state["products"]
        record = holder.get(rid)
        # renamed or deleted since it was indexed: nobody else holds it (a new holder re-indexes the SKU)
        return record["id"] if record is not None and record.get("sku") == sku else None

    def _sku_error(self, sku: str, owner: int) -> dict[str, Any]:
        return _error(
            "product_invalid_sku", "Invalid or duplicated SKU.", 400, resource_id=owner, unique_sku=f"{sku}-1"
        )

    def _derive(self, record: dict[str, Any]) -> None:
        """``price`` and ``on_sale`` as WooCommerce's ``is_on_sale``: a sale price below the regular one, and
        now within ``date_on_sale_from_gmt``..``date_on_sale_to_gmt`` where they are set (checked at every
        read: the sale starts and ends at its times, as the per-product scheduled actions of current releases
        switch it)."""
        sale, regular = record.get("sale_price") or "", record.get("regular_price") or ""
        on_sale = bool(sale) and (not regular or Decimal(sale) < Decimal(regular)) and self._in_window(record)
        record["price"] = sale if on_sale else regular
        record["on_sale"] = on_sale
        record["purchasable"] = bool(record["price"]) or record.get("type") == "variable"
        if record.get("manage_stock") is True:
            record["stock_status"] = "instock" if (record.get("stock_quantity") or 0) > 0 else "outofstock"

    def _in_window(self, record: Mapping[str, Any]) -> bool:
        now = self.now().astimezone(UTC).replace(tzinfo=None)
        start, end = record.get("date_on_sale_from_gmt"), record.get("date_on_sale_to_gmt")
        return (not start or datetime.fromisoformat(start) <= now) and (not end or now < datetime.fromisoformat(end))

    def _sale_dates(self, record: dict[str, Any], body: Mapping[str, Any]) -> None:
        """The site-time twins of the ``*_gmt`` sale dates (and an empty sale price takes the dates away)."""
        offset = timezone(timedelta(minutes=self.state["settings"]["utc_offset_minutes"]))
        for name in ("date_on_sale_from", "date_on_sale_to"):
            if f"{name}_gmt" in body:
                value = body[f"{name}_gmt"]
                record[f"{name}_gmt"] = value or None
                record[name] = (
                    datetime.fromisoformat(value)
                    .replace(tzinfo=UTC)
                    .astimezone(offset)
                    .replace(tzinfo=None)
                    .isoformat()
                    if value
                    else None
                )

    def _apply(self, record: dict[str, Any], body: Mapping[str, Any], fields: Mapping[str, str]) -> None:
        for name, kind in fields.items():
            if name not in body:
                continue
            value = body[name]
            if kind == "integer" and value is not None:
                value = int(float(value))
            elif kind == "boolean":
                value = value in (True, 1, "1", "true")
            record[name] = value
        if "categories" in body:
            known = self._categories()
            record["categories"] = [
                {
                    "id": int(c.get("id", 0)),
                    "name": known.get(str(c.get("id")), {}).get("name", f"Category {c.get('id')}"),
                    "slug": known.get(str(c.get("id")), {}).get("slug", f"category-{c.get('id')}"),
                }
                for c in body["categories"]
            ]
        if "images" in body:
            record["images"] = [
                {"id": self.next_id("post"), "src": img.get("src", ""), "name": "", "alt": img.get("alt", "")}
                for img in body["images"]
            ]
        if "image" in body and isinstance(body["image"], Mapping):
            record["image"] = {"id": self.next_id("post"), "src": body["image"].get("src", ""), "name": "", "alt": ""}
        self._sale_dates(record, body)
        self._stamp(record, "date_modified")
        self._derive(record)

    def _new_product(self, body: Mapping[str, Any]) -> dict[str, Any]:
        pid = self.next_id("post")
        product: dict[str, Any] = {
            "id": pid, "name": "", "slug": "", "permalink": f"https://example.com/?p={pid}", "type": "simple",
            "status": "publish", "featured": False, "catalog_visibility": "visible", "description": "",
            "short_description": "", "sku": "", "regular_price": "", "sale_price": "", "total_sales": 0,
            "virtual": False, "downloadable": False, "manage_stock": False, "stock_quantity": None,
            "stock_status": "instock", "backorders": "no", "weight": "",
            "dimensions": {"length": "", "width": "", "height": ""}, "categories": [], "tags": [], "images": [],
            "attributes": [], "default_attributes": [], "variations": [], "parent_id": 0, "menu_order": 0,
            "meta_data": [],
        }  # fmt: skip
        self._stamp(product, "date_created")
        self._apply(product, body, PRODUCT_FIELDS)
        product["slug"] = product["slug"] or "-".join(product["name"].lower().split()) or str(pid)
        return product

    def _create_product(self, body: Any) -> tuple[int, dict[str, Any]]:
        invalid = self._invalid(body, PRODUCT_FIELDS)
        if invalid:
            return 400, invalid
        owner = self._sku_owner(body.get("sku", ""))
        if owner is not None:
            return 400, self._sku_error(body["sku"], owner)
        product = self._new_product(body)
        self.state["products"][str(product["id"])] = product
        self._index_sku(product)
        if product["type"] == "variable":
            self.state["variations"].setdefault(str(product["id"]), {})
        return 201, self._render_product(product)

    def _update_product(self, pid: Any, body: Any) -> tuple[int, dict[str, Any]]:
        product = self.state["products"].get(str(pid))
        if product is None:
            if any(str(pid) in v for v in self.state["variations"].values()):
                return 404, _error(
                    "woocommerce_rest_invalid_product_id",
                    "To manipulate product variations you should use the "
                    "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
                    404,
                )
            return 400, _error("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
        invalid = self._invalid(body, PRODUCT_FIELDS)
        if invalid:
            return 400, invalid
        owner = self._sku_owner(body.get("sku", ""))
        if owner is not None and owner != product["id"]:
            return 400, self._sku_error(body["sku"], owner)
        self._apply(product, body, PRODUCT_FIELDS)
        self._index_sku(product)
        if product["type"] == "variable":
            self.state["variations"].setdefault(str(product["id"]), {})
        return 200, self._render_product(product)

    def _render_product(self, product: dict[str, Any]) -> dict[str, Any]:
        self._derive(product)
        out = dict(product)
        if product["type"] == "variable":
            variations = self.state["variations"].get(str(product["id"]), {})
            for variation in variations.values():
                self._derive(variation)
            out["variations"] = [int(v) for v in variations]
            prices = [Decimal(v["price"]) for v in variations.values() if v.get("price")]
            out["price"] = str(min(prices)) if prices else ""
        links = {"self": [{"href": f"https://example.com{V3}/products/{product['id']}"}]}
        return {**out, "_links": links}

    # -- variations -----------------------------------------------------------------------------------
    def _parent(self, product_id: str) -> dict[str, Any] | None:
        product = self.state["products"].get(str(product_id))
        return product if product is not None and product.get("type") == "variable" else None

    def _create_variation(self, parent: dict[str, Any], body: Any) -> tuple[int, dict[str, Any]]:
        invalid = self._invalid(body, VARIATION_FIELDS)
        if invalid:
            return 400, invalid
        owner = self._sku_owner(body.get("sku", ""))
        if owner is not None:
            return 400, self._sku_error(body["sku"], owner)
        vid = self.next_id("post")
        variation: dict[str, Any] = {
            "id": vid, "description": "", "permalink": f"https://example.com/?p={vid}", "sku": "",
            "regular_price": "", "sale_price": "", "status": "publish", "virtual": False, "downloadable": False,
            "manage_stock": False, "stock_quantity": None, "stock_status": "instock", "backorders": "no",
            "weight": "", "dimensions": {"length": "", "width": "", "height": ""}, "image": None,
            "attributes": [], "menu_order": 0, "meta_data": [],
        }  # fmt: skip
        self._stamp(variation, "date_created")
        self._apply(variation, body, VARIATION_FIELDS)
        self.state["variations"].setdefault(str(parent["id"]), {})[str(vid)] = variation
        self._index_sku(variation, parent["id"])
        self._stamp(parent, "date_modified")
        return 201, variation

    def _update_variation(self, parent: dict[str, Any], vid: Any, body: Any) -> tuple[int, dict[str, Any]]:
        variation = self.state["variations"].get(str(parent["id"]), {}).get(str(vid))
        if variation is None:
            return 400, _error("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 400)
        invalid = self._invalid(body, VARIATION_FIELDS)
        if invalid:
            return 400, invalid
        owner = self._sku_owner(body.get("sku", ""))
        if owner is not None and owner != variation["id"]:
            return 400, self._sku_error(body["sku"], owner)
        self._apply(variation, body, VARIATION_FIELDS)
        self._index_sku(variation, parent["id"])
        return 200, variation

    # -- batch ----------------------------------------------------------------------------------------
    def _batch(self, request: httpx.Request, create, update, delete) -> httpx.Response:
        body = self.body_json(request)
        if not isinstance(body, Mapping):
            return self.json(400, _error("rest_invalid_json", "Invalid JSON body passed.", 400))
        total = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
        if total > BATCH_LIMIT:
            return self.json(
                413,
                _error(
                    "woocommerce_rest_request_entity_too_large",
                    f"Unable to accept more than {BATCH_LIMIT} items for this request.",
                    413,
                ),
            )
        out: dict[str, list[Any]] = {}
        for name, handler in (("create", create), ("update", update)):
            if name not in body:
                continue
            results = out.setdefault(name, [])
            for item in body.get(name) or []:
                item_id = item.get("id", 0) if isinstance(item, Mapping) else 0
                if self.item_fails():
                    failure = _error("db_update_error", "Could not update the product in the database.", 500)
                    results.append({"id": item_id, "error": failure})
                    continue
                status, result = handler(item)
                results.append(result if status < 400 else {"id": item_id, "error": result})
        if body.get("delete"):
            # WooCommerce deletes batch items with force=true
            out["delete"] = []
            for item_id in body["delete"]:
                status, result = delete(item_id)
                out["delete"].append(result if status < 400 else {"id": item_id, "error": result})
        return self.json(200, out)

    @route("POST", f"{V3}/products/batch")
    def products_batch(self, request: httpx.Request) -> httpx.Response:
        def update(item: Any) -> tuple[int, dict[str, Any]]:
            if not isinstance(item, Mapping) or "id" not in item:
                return 400, _error("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
            return self._update_product(item["id"], item)

        return self._batch(request, self._create_product, update, lambda pid: self._delete_product(pid, True))

    @route("POST", f"{V3}/products/{{product_id}}/variations/batch")
    def variations_batch(self, request: httpx.Request, product_id: str) -> httpx.Response:
        parent = self._parent(product_id)
        if parent is None:
            return self.json(404, _error("woocommerce_rest_product_invalid_id", "Invalid product ID.", 404))

        def update(item: Any) -> tuple[int, dict[str, Any]]:
            if not isinstance(item, Mapping) or "id" not in item:
                return 400, _error("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 400)
            return self._update_variation(parent, item["id"], item)

        create = lambda item: self._create_variation(parent, item)  # noqa: E731
        return self._batch(request, create, update, lambda vid: self._delete_variation(parent, vid, True))

    # -- single-object endpoints ----------------------------------------------------------------------
    @route("POST", f"{V3}/products")
    def create_product(self, request: httpx.Request) -> httpx.Response:
        status, body = self._create_product(self.body_json(request))
        return self.json(status, body)

    @route("GET", f"{V3}/products/{{product_id}}")
    def get_product(self, request: httpx.Request, product_id: str) -> httpx.Response:
        product = self.state["products"].get(product_id)
        if product is None:
            return self.json(404, _error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404))
        return self.json(200, self._render_product(product))

    @route("PUT", f"{V3}/products/{{product_id}}")
    def put_product(self, request: httpx.Request, product_id: str) -> httpx.Response:
        status, body = self._update_product(product_id, self.body_json(request))
        return self.json(status, body)

    @route("PUT", f"{V3}/products/{{product_id}}/variations/{{variation_id}}")
    def put_variation(self, request: httpx.Request, product_id: str, variation_id: str) -> httpx.Response:
        parent = self._parent(product_id)
        if parent is None:
            return self.json(404, _error("woocommerce_rest_product_invalid_id", "Invalid product ID.", 404))
        status, body = self._update_variation(parent, variation_id, self.body_json(request))
        return self.json(status, body)

    @route("DELETE", f"{V3}/products/{{product_id}}")
    def delete_product(self, request: httpx.Request, product_id: str) -> httpx.Response:
        status, body = self._delete_product(product_id, _flag(request.url.params.get("force")))
        return self.json(status, body)

    @route("POST", f"{V3}/products/{{product_id}}/variations")
    def create_variation(self, request: httpx.Request, product_id: str) -> httpx.Response:
        parent = self._parent(product_id)
        if parent is None:
            return self.json(404, _error("woocommerce_rest_product_invalid_id", "Invalid product ID.", 404))
        status, body = self._create_variation(parent, self.body_json(request))
        return self.json(status, body)

    @route("GET", f"{V3}/products/{{product_id}}/variations/{{variation_id}}")
    def get_variation(self, request: httpx.Request, product_id: str, variation_id: str) -> httpx.Response:
        variation = self.state["variations"].get(product_id, {}).get(variation_id)
        if self._parent(product_id) is None or variation is None:
            return self.json(404, _error("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404))
        return self.json(200, self._render_variation(variation))

    @route("DELETE", f"{V3}/products/{{product_id}}/variations/{{variation_id}}")
    def delete_variation(self, request: httpx.Request, product_id: str, variation_id: str) -> httpx.Response:
        parent = self._parent(product_id)
        if parent is None:
            return self.json(404, _error("woocommerce_rest_product_invalid_id", "Invalid product ID.", 404))
        status, body = self._delete_variation(parent, variation_id, _flag(request.url.params.get("force")))
        return self.json(status, body)

    def _delete_product(self, product_id: Any, force: bool) -> tuple[int, dict[str, Any]]:
        """``force`` deletes for good (with a variable product's variations); otherwise to the trash."""
        product = self.state["products"].get(str(product_id))
        if product is None:
            return 404, _error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        rendered = self._render_product(product)
        if force:
            del self.state["products"][str(product_id)]
            self.state["variations"].pop(str(product_id), None)
            return 200, rendered
        if product.get("status") == "trash":
            return 410, _error("woocommerce_rest_already_trashed", "The product has already been deleted.", 410)
        product["status"] = "trash"
        self._stamp(product, "date_modified")
        return 200, self._render_product(product)

    def _delete_variation(self, parent: dict[str, Any], vid: Any, force: bool) -> tuple[int, dict[str, Any]]:
        variations = self.state["variations"].get(str(parent["id"]), {})
        if str(vid) not in variations:
            return 404, _error("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
        if not force:
            return 501, _error("woocommerce_rest_trash_not_supported", "Variations do not support trashing.", 501)
        self._stamp(parent, "date_modified")
        return 200, variations.pop(str(vid))

    # -- categories -----------------------------------------------------------------------------------
    @route("GET", f"{V3}/products/categories")
    def list_categories(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        rows = list(self._categories().values())
        if params.get("search"):
            rows = [c for c in rows if params["search"].lower() in c["name"].lower()]
        if params.get("slug"):
            rows = [c for c in rows if c["slug"] == params["slug"]]
        if params.get("parent"):
            rows = [c for c in rows if str(c["parent"]) == params["parent"]]
        return self._paged(request, rows, self._render_category, default=("name", "asc"))

    @route("GET", f"{V3}/products/categories/{{category_id}}")
    def get_category(self, request: httpx.Request, category_id: str) -> httpx.Response:
        category = self._categories().get(category_id)
        if category is None:
            return self.json(404, _error("woocommerce_rest_term_invalid", "Resource does not exist.", 404))
        return self.json(200, self._render_category(category))

    @route("POST", f"{V3}/products/categories")
    def create_category(self, request: httpx.Request) -> httpx.Response:
        body = self.body_json(request)
        if not isinstance(body, Mapping) or not isinstance(body.get("name"), str) or not body["name"].strip():
            return self.json(
                400, _error("rest_missing_callback_param", "Missing parameter(s): name", 400, params=["name"])
            )
        parent = int(body.get("parent") or 0)
        for existing in self._categories().values():
            if existing["name"] == body["name"] and existing["parent"] == parent:
                message = "A term with the name provided already exists with this parent."
                return self.json(400, _error("term_exists", message, 400, resource_id=existing["id"]))
        cid = self.next_id("term", 15)
        category = {
            "id": cid, "name": body["name"], "slug": body.get("slug") or "-".join(body["name"].lower().split()),
            "parent": parent, "description": body.get("description", ""), "display": body.get("display", "default"),
            "image": body.get("image"), "menu_order": int(body.get("menu_order") or 0),
        }  # fmt: skip
        self._categories()[str(cid)] = category
        return self.json(201, self._render_category(category))

    def _categories(self) -> dict[str, dict[str, Any]]:
        """Product categories by id; a new shop has WooCommerce's default ``Uncategorized``."""
        default = {"id": 15, "name": "Uncategorized", "slug": "uncategorized", "parent": 0, "description": "",
                   "display": "default", "image": None, "menu_order": 0}  # fmt: skip
        return self.state.setdefault("categories", {"15": default})

    def _render_category(self, category: Mapping[str, Any]) -> dict[str, Any]:
        count = sum(
            1
            for p in self.state["products"].values()
            if p.get("status") != "trash" and any(c["id"] == category["id"] for c in p.get("categories", []))
        )
        links = {"self": [{"href": f"https://example.com{V3}/products/categories/{category['id']}"}]}
        return {**category, "count": count, "_links": links}

    # -- lists ----------------------------------------------------------------------------------------
    @route("GET", f"{V3}/products")
    def list_products(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        rows = list(self.state["products"].values())
        if params.get("sku"):
            wanted = set(params["sku"].split(","))
            rows = [p for p in rows if p.get("sku") in wanted]
        status = params.get("status", "any")
        rows = [p for p in rows if (p.get("status") != "trash" if status == "any" else p.get("status") == status)]
        if params.get("type"):
            rows = [p for p in rows if p.get("type") == params["type"]]
        return self._paged(request, rows, self._render_product)

    @route("GET", f"{V3}/products/{{product_id}}/variations")
    def list_variations(self, request: httpx.Request, product_id: str) -> httpx.Response:
        if self._parent(product_id) is None:
            return self.json(404, _error("woocommerce_rest_product_invalid_id", "Invalid product ID.", 404))
        rows = list(self.state["variations"].get(product_id, {}).values())
        if request.url.params.get("sku"):
            rows = [v for v in rows if v.get("sku") == request.url.params["sku"]]
        return self._paged(request, rows, self._render_variation)

    def _render_variation(self, variation: dict[str, Any]) -> dict[str, Any]:
        self._derive(variation)
        return dict(variation)

    @route("GET", f"{V3}/orders")
    def list_orders(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        gmt = params.get("dates_are_gmt") in ("true", "1")
        column = "date_modified_gmt" if gmt else "date_modified"
        rows = list(self.state["orders"].values())
        for name, keep in (("modified_after", lambda v, b: v > b), ("modified_before", lambda v, b: v < b)):
            if params.get(name):
                try:
                    bound = datetime.fromisoformat(params[name]).replace(tzinfo=None)
                except ValueError:
                    message = f"Invalid parameter(s): {name}"
                    invalid = {name: "Invalid date."}
                    return self.json(400, _error("rest_invalid_param", message, 400, params=invalid))
                rows = [o for o in rows if keep(datetime.fromisoformat(o[column]), bound)]
        status = params.get("status", "any")
        if status != "any":
            wanted = set(status.split(","))
            rows = [o for o in rows if o["status"] in wanted]
        return self._paged(request, rows, self._render_order)

    @route("GET", f"{V3}/orders/{{order_id}}")
    def get_order(self, request: httpx.Request, order_id: str) -> httpx.Response:
        order = self.state["orders"].get(order_id)
        if order is None:
            return self.json(404, _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404))
        return self.json(200, self._render_order(order))

    @route("PUT", f"{V3}/orders/{{order_id}}")
    def put_order(self, request: httpx.Request, order_id: str) -> httpx.Response:
        body = self.body_json(request) or {}
        if order_id not in self.state["orders"]:
            return self.json(400, _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400))
        if "status" in body:
            if body["status"] not in ORDER_STATUSES:
                problems = {"status": f"status is not one of {', '.join(ORDER_STATUSES)}."}
                return self.json(
                    400, _error("rest_invalid_param", "Invalid parameter(s): status", 400, params=problems)
                )
            self.set_order_status(order_id, body["status"])
        if "meta_data" in body:
            problem = self._set_meta(self.state["orders"][order_id], body["meta_data"])
            if problem:
                return self.json(
                    400,
                    _error("rest_invalid_param", "Invalid parameter(s): meta_data", 400, params={"meta_data": problem}),
                )
        return self.json(200, self._render_order(self.state["orders"][order_id]))

    def _set_meta(self, order: dict[str, Any], entries: Any) -> str | None:
        """Update-an-order's meta_data: each ``{key, value}`` replaces the entry with that key or is added."""
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("key"), str) for e in entries
        ):
            return "meta_data[] must be objects with a key."
        with self._lock:
            for entry in entries:
                kept = next((m for m in order["meta_data"] if m["key"] == entry["key"]), None)
                if kept is None:
                    order["meta_data"].append(
                        {"id": self.next_id("meta", 100), "key": entry["key"], "value": entry.get("value")}
                    )
                else:
                    kept["value"] = entry.get("value")
            self._stamp(order, "date_modified")
        return None

    @route("GET", f"{V3}/orders/{{order_id}}/notes")
    def list_order_notes(self, request: httpx.Request, order_id: str) -> httpx.Response:
        """List all order notes, newest first; ``type`` any (default), customer or internal."""
        if order_id not in self.state["orders"]:
            return self.json(404, _error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404))
        kind = request.url.params.get("type", "any")
        notes = self.state.get("order_notes", {}).get(order_id, [])
        if kind != "any":
            notes = [n for n in notes if bool(n.get("customer_note")) == (kind == "customer")]
        return self.json(200, list(reversed(notes)))

    @route("POST", f"{V3}/orders/{{order_id}}/notes")
    def create_order_note(self, request: httpx.Request, order_id: str) -> httpx.Response:
        """Create an order note: ``note`` required, ``customer_note`` a boolean (default false); 201."""
        if order_id not in self.state["orders"]:
            return self.json(404, _error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404))
        body = self.body_json(request) or {}
        if not isinstance(body.get("note"), str) or not body["note"].strip():
            return self.json(
                400, _error("rest_missing_callback_param", "Missing parameter(s): note", 400, params=["note"])
            )
        if not isinstance(body.get("customer_note", False), bool):
            return self.json(
                400,
                _error(
                    "rest_invalid_param",
                    "Invalid parameter(s): customer_note",
                    400,
                    params={"customer_note": "customer_note is not of type boolean."},
                ),
            )
        note = {
            "id": self.next_id("order_note", 300),
            "author": "listing-sync",
            "date_created": self.now().strftime("%Y-%m-%dT%H:%M:%S"),
            "note": body["note"],
            "customer_note": body.get("customer_note", False),
        }
        self.state.setdefault("order_notes", {}).setdefault(order_id, []).append(note)
        return self.json(201, note)

    # -- webhooks -------------------------------------------------------------------------------------
    @route("POST", f"{V3}/webhooks")
    def create_webhook(self, request: httpx.Request) -> httpx.Response:
        """Create a webhook (``topic`` and ``delivery_url`` required; ``secret`` write-only, defaulting to a hash
        of the user as WooCommerce does); 201. An active one is pinged at once (form body ``webhook_id=N``,
        unsigned), and the answer does not wait for the ping."""
        body = self.body_json(request) or {}
        topic = body.get("topic")
        resource, _, event = str(topic or "").partition(".")
        if not (resource in WEBHOOK_RESOURCES and event in WEBHOOK_EVENTS or resource == "action" and event):
            message = "Webhook topic is required and must be valid."
            return self.json(400, _error("woocommerce_rest_webhook_invalid_topic", message, 400))
        url = body.get("delivery_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            message = "Webhook delivery URL must be a valid URL starting with http:// or https://."
            return self.json(400, _error("woocommerce_rest_webhook_invalid_delivery_url", message, 400))
        status = body.get("status", "active")
        if status not in ("active", "paused", "disabled"):
            problems = {"status": "status is not one of active, paused, and disabled."}
            return self.json(400, _error("rest_invalid_param", "Invalid parameter(s): status", 400, params=problems))
        with self._lock:
            wid = self.next_id("post")
            webhook: dict[str, Any] = {
                "id": wid,
                "name": str(body.get("name") or f"Webhook created on {self.now():%b %d, %Y @ %I:%M %p}"),
                "status": status,
                "topic": topic,
                "resource": resource,
                "event": event,
                "hooks": [],
                "delivery_url": url,
                "secret": str(body.get("secret") or hashlib.md5(b"1|admin").hexdigest()),  # noqa: S324 - WooCommerce's own default
            }
            self._stamp(webhook, "date_created", "date_modified")
            self.state.setdefault("webhooks", {})[str(wid)] = webhook
        if status == "active":
            ping = f"webhook_id={wid}".encode("ascii")
            headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "WooCommerce Hookshot"}
            self.deliver_webhook(url, "ping", headers, ping)
        return self.json(201, self._render_webhook(webhook))

    @route("PUT", f"{V3}/webhooks/{{webhook_id}}")
    def update_webhook(self, request: httpx.Request, webhook_id: str) -> httpx.Response:
        """Update a webhook's name, status, secret or delivery URL (its failure count starts again)."""
        webhook = self.state.setdefault("webhooks", {}).get(webhook_id)
        if webhook is None:
            return self.json(404, _error("woocommerce_rest_webhook_invalid_id", "Invalid webhook ID.", 404))
        body = self.body_json(request) or {}
        if "status" in body and body["status"] not in ("active", "paused", "disabled"):
            problems = {"status": "status is not one of active, paused, and disabled."}
            return self.json(400, _error("rest_invalid_param", "Invalid parameter(s): status", 400, params=problems))
        with self._lock:
            for key in ("name", "status", "secret", "delivery_url"):
                if body.get(key):
                    webhook[key] = body[key]
            webhook["failure_count"] = 0
            self._stamp(webhook, "date_modified")
        return self.json(200, self._render_webhook(webhook))

    @route("GET", f"{V3}/webhooks")
    def list_webhooks(self, request: httpx.Request) -> httpx.Response:
        rows = list(self.state.setdefault("webhooks", {}).values())
        status = request.url.params.get("status", "all")
        if status != "all":
            rows = [w for w in rows if w["status"] == status]
        return self._paged(request, rows, self._render_webhook)

    @staticmethod
    def _render_webhook(webhook: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in webhook.items() if k != "secret"}  # the secret is write-only

    def _order_event(self, order: Mapping[str, Any], topic: str) -> None:
        """Deliver the order, as ``GET /orders/{id}`` shows it, to the active webhooks of ``topic``, with the
        headers WC_Webhook::deliver sends; the delivery id hashes the webhook id and the current second."""
        for webhook in list(self.state.get("webhooks", {}).values()):
            if webhook["topic"] != topic or webhook["status"] != "active":
                continue
            body = json.dumps(self._render_order(order)).encode("utf-8")
            second = int(self.now().timestamp())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "WooCommerce Hookshot",
                "X-WC-Webhook-Source": f"{self.options.get('site') or 'https://woocommerce.emulator.invalid'}/",
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": webhook["resource"],
                "X-WC-Webhook-Event": webhook["event"],
                "X-WC-Webhook-Signature": hmac_base64(webhook["secret"], body),
                "X-WC-Webhook-ID": str(webhook["id"]),
                "X-WC-Webhook-Delivery-ID": hashlib.md5(f"{webhook['id']}{second}".encode()).hexdigest(),  # noqa: S324 - wp_hash's stand-in
            }
            self.deliver_webhook(webhook["delivery_url"], topic, headers, body)

    # -- orders ---------------------------------------------------------------------------------------
    def _render_order(self, order: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(order)
        # the docs' example sends a line's price as a JSON number, unlike every other amount
        out["line_items"] = [{**line, "price": float(line["price"])} for line in order["line_items"]]
        return out

    def _sellable(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(product, stock holder) pairs that can be bought now: published, with SKU and stock."""
        out = []
        for product in self.state["products"].values():
            if product.get("status") != "publish":
                continue
            if product.get("type") == "variable":
                for variation in self.state["variations"].get(str(product["id"]), {}).values():
                    if variation.get("status") == "publish" and variation.get("sku") and self._in_stock(variation):
                        out.append((product, variation))
            elif product.get("sku") and self._in_stock(product):
                out.append((product, product))
        return out

    @staticmethod
    def _in_stock(record: Mapping[str, Any]) -> bool:
        return (
            record.get("manage_stock") is True and (record.get("stock_quantity") or 0) > 0 and bool(record.get("price"))
        )

    def generate_orders(self, count: int) -> list[str]:
        ids = []
        with self._lock:
            candidates = self._sellable()  # once: a sale changes only its own holder's stock
            for _ in range(count):
                if not candidates:
                    break
                picks = self.rng.sample(candidates, k=min(len(candidates), self.rng.choice((1, 1, 2))))
                lines, subtotal = [], Decimal(0)
                for pick in picks:
                    product, holder = pick
                    quantity = self.rng.randint(1, min(2, holder["stock_quantity"]))
                    holder["stock_quantity"] -= quantity
                    self._stamp(holder, "date_modified")
                    self._derive(holder)
                    if not self._in_stock(holder):
                        candidates = [c for c in candidates if c is not pick]
                    price = Decimal(holder["price"])
                    line_total = price * quantity
                    subtotal += line_total
                    lines.append(
                        {
                            "id": self.next_id("order_item", 0),
                            "name": product["name"],
                            "product_id": product["id"],
                            "variation_id": holder["id"] if holder is not product else 0,
                            "quantity": quantity,
                            "tax_class": "",
                            "subtotal": _money(line_total),
                            "subtotal_tax": "0.00",
                            "total": _money(line_total),
                            "total_tax": "0.00",
                            "taxes": [],
                            "meta_data": [],
                            "sku": holder["sku"],
                            "price": str(price),
                        }
                    )
                shipping = self.rng.choice((Decimal(0), Decimal(5)))
                country = self.rng.choice(COUNTRIES)
                oid = self.next_id("post")
                order: dict[str, Any] = {
                    "id": oid, "parent_id": 0, "number": str(oid),
                    "order_key": f"wc_order_{self.rng.getrandbits(48):x}",
                    "created_via": "checkout", "version": "8.9.0", "status": "processing",
                    "currency": self.state["settings"]["currency"], "discount_total": "0.00", "discount_tax": "0.00",
                    "shipping_total": _money(shipping), "shipping_tax": "0.00", "cart_tax": "0.00",
                    "total": _money(subtotal + shipping), "total_tax": "0.00", "prices_include_tax": False,
                    "customer_id": 0, "customer_ip_address": "", "customer_user_agent": "", "customer_note": "",
                    "billing": {"first_name": "Alex", "last_name": "Buyer", "company": "", "address_1": "1 Main St",
                                "address_2": "", "city": "Springfield", "state": "", "postcode": "12345",
                                "country": country, "email": "buyer@example.com", "phone": "555-0100"},
                    "shipping": {"first_name": "Alex", "last_name": "Buyer", "company": "", "address_1": "1 Main St",
                                 "address_2": "", "city": "Springfield", "state": "", "postcode": "12345",
                                 "country": country},
                    "payment_method": "stripe", "payment_method_title": "Credit card", "transaction_id": "",
                    "date_completed": None, "date_completed_gmt": None, "cart_hash": "", "meta_data": [],
                    "line_items": lines, "tax_lines": [], "fee_lines": [], "coupon_lines": [], "refunds": [],
                    "shipping_lines": [{"id": self.next_id("order_item", 0), "method_title": "Flat rate",
                                        "method_id": "flat_rate", "total": _money(shipping), "total_tax": "0.00",
                                        "taxes": [], "meta_data": []}],
                }  # fmt: skip
                self._stamp(order, "date_created", "date_modified", "date_paid")
                self.state["orders"][str(oid)] = order
                ids.append(str(oid))
                self._order_event(order, "order.created")
        return ids

    def set_order_status(self, order_id: str | int, status: str) -> dict[str, Any]:
        """Change an order's status as the back office would; cancelling a stock-reducing order restocks."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status!r}; known: {', '.join(ORDER_STATUSES)}")
        with self._lock:
            order = self.state["orders"][str(order_id)]
            if order["status"] in STOCK_REDUCED and status in ("cancelled", "refunded", "failed"):
                for line in order["line_items"]:
                    holder = self._holder(line["product_id"], line["variation_id"])
                    if holder is not None and holder.get("manage_stock") is True:
                        holder["stock_quantity"] = (holder.get("stock_quantity") or 0) + line["quantity"]
                        self._derive(holder)
            order["status"] = status
            if status == "completed":
                self._stamp(order, "date_completed")
            self._stamp(order, "date_modified")
            self._order_event(order, "order.updated")
            return order

    def cancel_order(self, order_id: str | int) -> dict[str, Any]:
        return self.set_order_status(order_id, "cancelled")

    def _holder(self, product_id: int, variation_id: int) -> dict[str, Any] | None:
        if variation_id:
            return self.state["variations"].get(str(product_id), {}).get(str(variation_id))
        return self.state["products"].get(str(product_id))

    def find_sku(self, sku: str) -> dict[str, Any] | None:
        """The product or variation holding ``sku`` (for tests and back-office edits)."""
        for product in self.state["products"].values():
            if product.get("sku") == sku:
                return product
        for variations in self.state["variations"].values():
            for variation in variations.values():
                if variation.get("sku") == sku:
                    return variation
        return None

    def edit_listing(self, sku: str, *, price: str | None = None, quantity: int | None = None) -> dict[str, Any]:
        """Change a listing "in the back office" (drift): regular price and/or managed stock."""
        with self._lock:
            record = self.find_sku(sku)
            if record is None:
                raise KeyError(sku)
            if price is not None:
                record["regular_price"], record["sale_price"] = price, ""
            if quantity is not None:
                record["manage_stock"], record["stock_quantity"] = True, quantity
            self._stamp(record, "date_modified")
            self._derive(record)
            return record
