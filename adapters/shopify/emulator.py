"""In-memory Shopify Admin GraphQL API, built from the reference (domestic-apis.md section 1).

One endpoint, ``POST /admin/api/{version}/graphql.json``, checked ``X-Shopify-Access-Token``, cost-based
leaky bucket (requested cost taken before running; every answer carries ``extensions.cost``; a throttle
is HTTP 200 with ``errors[].extensions.code = "THROTTLED"``), the single-query cost cap (1000), the
250-item input array cap, version-dependent inventory compare-and-set and ``@idempotent`` keys.

Answers carry a superset of the selected fields (a client reads only what it selected). Codes marked
[U] in the reference (e.g. ``COMPARE_QUANTITY_STALE``) are used as the reference guesses them.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from listing_sync.adapters.emulator import Emulator, route
from listing_sync.adapters.shopify.graphql import GraphQLSyntaxError, Operation, RootField, parse

MAX_COST = 1000
MAX_INPUT = 250
VISIBLE_DAYS = 60
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
STATUSES = ("ACTIVE", "DRAFT", "ARCHIVED")


class TopLevelError(Exception):
    """A request-level GraphQL error (``errors`` with no ``data``)."""

    def __init__(self, message: str, code: str, **extra: Any) -> None:
        super().__init__(message)
        self.body = {"message": message, "extensions": {"code": code, **extra}}


def _cursor(index: int) -> str:
    return base64.b64encode(f"i:{index}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor).decode().split(":", 1)[1]) + 1
    except (ValueError, IndexError):
        raise TopLevelError(f"Invalid cursor for current pagination sort: {cursor}", "BAD_REQUEST") from None


def _money(value: Any) -> str | None:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return str(amount.quantize(Decimal("0.01"))) if amount.is_finite() and amount >= 0 else None


def _at_least(version: str, floor: str) -> bool:
    return version == "unstable" or version >= floor


def selection_cost(text: str) -> int:
    """Requested cost of a selection: objects 1, connections 2 + first x node, scalars 0."""
    total = 0
    pos = 0
    pattern = re.compile(r"([_A-Za-z]\w*)\s*(\([^)]*\))?\s*(?:@\w+(?:\([^)]*\))?\s*)*\{")
    while True:
        match = pattern.search(text, pos)
        if not match:
            return total
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        inner = text[match.end() : i - 1]
        name, args = match.group(1), match.group(2) or ""
        first = re.search(r"\b(?:first|last)\s*:\s*(\d+)", args)
        if name == "pageInfo":
            pass
        elif name in ("nodes", "edges", "node"):
            total += selection_cost(inner)
        elif first:
            total += 2 + int(first.group(1)) * (1 + selection_cost(inner))
        else:
            total += 1 + selection_cost(inner)
        pos = i


def response_cost(value: Any) -> int:
    """Actual cost of what a query returned: objects 1, lists (connections) 2 plus their elements."""
    if isinstance(value, dict):
        return 1 + sum(response_cost(v) for v in value.values())
    if isinstance(value, list):
        return 2 + sum(response_cost(v) for v in value)
    return 0


class ShopifyEmulator(Emulator):
    kind = "shopify"
    hosts = ("{shop}.myshopify.com",)
    rate = 100.0  # restore rate, points per second (Standard plan)
    burst = 1000  # maximumAvailable

    def initial_state(self) -> dict[str, Any]:
        return {
            "currency": self.currency or "USD",
            "locations": [{"id": "gid://shopify/Location/1", "name": "Main warehouse"}],
            "products": {},
            "variants": {},
            "inventory": {},
            "orders": {},
            "idempotency": {},
        }

    # -- envelope -------------------------------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        token = request.headers.get("X-Shopify-Access-Token")
        expected = self.credentials.get("access_token")
        if not token or (expected is not None and token != expected):
            return self.json(
                401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
            )
        return None

    def _available(self) -> float:
        bucket = self.bucket
        return round(max(0.0, bucket.burst - bucket.wait_time(bucket.burst) * bucket.rate), 1)

    def _extensions(self, requested: float | None, actual: float | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": float(self.bucket.burst),
                    "currentlyAvailable": self._available(),
                    "restoreRate": float(self.bucket.rate),
                },
            }
        }

    def throttled(self, request: httpx.Request, wait_seconds: float) -> httpx.Response:
        body = {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
                }
            ],
            "extensions": self._extensions(self.cost(request), None),
        }
        return self.json(200, body)

    def server_error(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            503,
            content=b"<!DOCTYPE html><html><head><title>Service unavailable</title></head>"
            b"<body><h1>There was a problem loading this website</h1></body></html>",
            headers={"Content-Type": "text/html; charset=utf-8"},
        )

    def _operation(self, request: httpx.Request) -> Operation | None:
        body = self.body_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return None
        try:
            return parse(body["query"], body.get("variables") or {})
        except GraphQLSyntaxError:
            return None

    def cost(self, request: httpx.Request) -> float:
        op = self._operation(request)
        if op is None:
            return 1.0
        total = 0
        for f in op.fields:
            inner = selection_cost("x " + _args_text(f) + "{" + f.selection + "}")
            total += (10 + inner - 1) if op.kind == "mutation" else inner
        return float(max(1, total))

    @route("POST", "/admin/api/{version}/graphql.json")
    def graphql(self, request: httpx.Request, version: str) -> httpx.Response:
        body = self.body_json(request)
        requested = self.cost(request)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self.json(400, {"errors": {"query": "Required parameter missing or invalid"}})
        variables = body.get("variables") or {}
        try:
            op = parse(body["query"], variables)
        except GraphQLSyntaxError as exc:
            return self._errors([{"message": f"Parse error: {exc}", "extensions": {"code": "PARSE_ERROR"}}])
        used = set(re.findall(r"\$(\w+)", body["query"]))
        undeclared = sorted(used - set(op.variable_names))
        if undeclared:
            return self._errors(
                [
                    {
                        "message": f"Variable ${undeclared[0]} is used but not declared",
                        "extensions": {"code": "undeclaredVariable"},
                    }
                ]
            )
        if requested > MAX_COST:
            return self._errors(
                [
                    {
                        "message": f"Query cost is {int(requested)}, which exceeds the single query max cost limit "
                        f"({MAX_COST}).",
                        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": int(requested), "maxCost": MAX_COST},
                    }
                ],
                requested,
            )
        data: dict[str, Any] = {}
        try:
            for f in op.fields:
                handler = getattr(self, f"_{op.kind}_{f.name}", None)
                if handler is None:
                    root = "Mutation" if op.kind == "mutation" else "QueryRoot"
                    raise TopLevelError(f"Field '{f.name}' doesn't exist on type '{root}'", "undefinedField")
                data[f.alias] = handler(f, version)
        except TopLevelError as exc:
            return self._errors([exc.body], requested)
        actual = min(requested, float(max(1, response_cost(data) + (9 if op.kind == "mutation" else 0))))
        self.bucket.observe(self._available() + (requested - actual))  # Shopify refunds requested - actual
        return self.json(200, {"data": data, "extensions": self._extensions(requested, actual)})

    def _errors(self, errors: list[dict[str, Any]], requested: float | None = None) -> httpx.Response:
        return self.json(200, {"errors": errors, "extensions": self._extensions(requested, None)})

    # -- helpers --------------------------------------------------------------------------------------
    def _stamp(self) -> str:
        return self.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _gid(self, kind: str) -> str:
        return f"gid://shopify/{kind}/{self.next_id(kind)}"

    @staticmethod
    def _cap(items: Any, what: str) -> list[Any]:
        if not isinstance(items, list):
            raise TopLevelError(f"Variable {what} of type [Input!]! was provided invalid value", "INVALID_VARIABLE")
        if len(items) > MAX_INPUT:
            raise TopLevelError(
                f"The input array size of {len(items)} is greater than the maximum allowed of {MAX_INPUT}.",
                "MAX_INPUT_SIZE_EXCEEDED",
            )
        return items

    def _location_ids(self) -> set[str]:
        return {loc["id"] for loc in self.state["locations"]}

    def _variant_view(self, vid: str, with_product: bool = True) -> dict[str, Any]:
        v = self.state["variants"][vid]
        item = self.state["inventory"][v["inventoryItemId"]]
        view = {
            "id": vid,
            "sku": v["sku"],
            "price": v["price"],
            "compareAtPrice": v["compareAtPrice"],
            "barcode": v["barcode"],
            "inventoryQuantity": sum(item["levels"].values()),
            "inventoryItem": {"id": v["inventoryItemId"]},
            "selectedOptions": [{"name": k, "value": x} for k, x in v["options"].items()],
        }
        if with_product:
            p = self.state["products"][v["productId"]]
            view["product"] = {"id": p["id"], "title": p["title"], "status": p["status"]}
        return view

    def _product_view(self, pid: str) -> dict[str, Any]:
        p = self.state["products"][pid]
        nodes = [self._variant_view(vid, with_product=False) for vid in p["variants"]]
        return {
            "id": pid,
            "title": p["title"],
            "status": p["status"],
            "options": [{"name": o["name"], "values": o["values"]} for o in p["options"]],
            "variants": {"nodes": nodes},
        }

    def _new_variant(self, pid: str, sku: str | None, price: str, options: dict[str, str]) -> str:
        vid = self._gid("ProductVariant")
        iid = self._gid("InventoryItem")
        self.state["inventory"][iid] = {"variantId": vid, "sku": sku, "tracked": False, "levels": {}}
        self.state["variants"][vid] = {
            "id": vid,
            "productId": pid,
            "sku": sku,
            "price": price,
            "compareAtPrice": None,
            "barcode": None,
            "inventoryItemId": iid,
            "options": options,
        }
        self.state["products"][pid]["variants"].append(vid)
        return vid

    def _delete_variant(self, vid: str) -> None:
        v = self.state["variants"].pop(vid)
        self.state["inventory"].pop(v["inventoryItemId"], None)
        self.state["products"][v["productId"]]["variants"].remove(vid)

    # -- product mutations ------------------------------------------------------------------------------
    def _mutation_productCreate(self, f: RootField, version: str) -> dict[str, Any]:
        data = f.args.get("product")
        if not isinstance(data, dict):
            raise TopLevelError(
                "Variable $product of type ProductCreateInput! was provided invalid value", "INVALID_VARIABLE"
            )
        status = data.get("status", "ACTIVE")
        if status not in STATUSES:
            raise TopLevelError(f'Expected "{status}" to be one of: {", ".join(STATUSES)}', "INVALID_VARIABLE")
        if not str(data.get("title") or "").strip():
            return {"product": None, "userErrors": [{"field": ["title"], "message": "Title can't be blank"}]}
        options = data.get("productOptions") or [{"name": "Title", "values": [{"name": "Default Title"}]}]
        if len(options) > 3:
            return {
                "product": None,
                "userErrors": [{"field": ["productOptions"], "message": "Can only specify a maximum of 3 options"}],
            }
        pid = self._gid("Product")
        stamp = self._stamp()
        self.state["products"][pid] = {
            "id": pid,
            "title": data["title"],
            "descriptionHtml": data.get("descriptionHtml", ""),
            "vendor": data.get("vendor"),
            "productType": data.get("productType"),
            "status": status,
            "options": [{"name": o["name"], "values": [x["name"] for x in o.get("values") or []]} for o in options],
            "media": [m.get("originalSource") for m in f.args.get("media") or []],
            "variants": [],
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        first = {o["name"]: o["values"][0] for o in self.state["products"][pid]["options"] if o["values"]}
        self._new_variant(pid, None, "0.00", first)  # the standalone variant
        return {"product": self._product_view(pid), "userErrors": []}

    def _mutation_productUpdate(self, f: RootField, version: str) -> dict[str, Any]:
        data = f.args.get("product")
        if not isinstance(data, dict) or "id" not in data:
            raise TopLevelError(
                "Variable of type ProductUpdateInput! was provided invalid value for id", "INVALID_VARIABLE"
            )
        product = self.state["products"].get(data["id"])
        if product is None:
            return {"product": None, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]}
        if "status" in data and data["status"] not in STATUSES:
            raise TopLevelError(f'Expected "{data["status"]}" to be one of: {", ".join(STATUSES)}', "INVALID_VARIABLE")
        for key in ("title", "descriptionHtml", "vendor", "productType", "status"):
            if key in data:
                product[key] = data[key]
        product["updatedAt"] = self._stamp()
        return {"product": self._product_view(product["id"]), "userErrors": []}

    def _mutation_productVariantsBulkCreate(self, f: RootField, version: str) -> dict[str, Any]:
        product = self.state["products"].get(f.args.get("productId"))
        variants = self._cap(f.args.get("variants"), "$variants")
        if product is None:
            return {
                "productVariants": [],
                "userErrors": [
                    {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}
                ],
            }
        strategy = f.args.get("strategy") or "DEFAULT"
        names = [o["name"] for o in product["options"]]
        errors: list[dict[str, Any]] = []
        planned: list[tuple[dict[str, str], dict[str, Any]]] = []
        taken = {tuple(sorted(self.state["variants"][v]["options"].items())) for v in product["variants"]}
        standalone = product["variants"][0] if len(product["variants"]) == 1 else None
        removable = standalone is not None and (
            strategy == "REMOVE_STANDALONE_VARIANT"
            or (strategy == "DEFAULT" and self.state["variants"][standalone]["options"] == {"Title": "Default Title"})
        )
        if removable:
            taken = set()
        for n, v in enumerate(variants):
            opts = {x.get("optionName"): x.get("name") for x in v.get("optionValues") or []}
            price = _money(v.get("price", "0"))
            if any(k not in names for k in opts) or len(opts) != len(names):
                errors.append(
                    {
                        "field": ["variants", str(n), "optionValues"],
                        "message": "Option does not exist",
                        "code": "OPTION_DOES_NOT_EXIST",
                    }
                )
            elif price is None:
                errors.append(
                    {
                        "field": ["variants", str(n), "price"],
                        "message": "Price must be greater than or equal to 0",
                        "code": "GREATER_THAN_OR_EQUAL_TO",
                    }
                )
            elif tuple(sorted(opts.items())) in taken:
                errors.append(
                    {
                        "field": ["variants", str(n)],
                        "message": f"The variant '{' / '.join(opts.values())}' already exists.",
                        "code": "VARIANT_ALREADY_EXISTS",
                    }
                )
            elif any(q.get("locationId") not in self._location_ids() for q in v.get("inventoryQuantities") or []):
                errors.append(
                    {
                        "field": ["variants", str(n), "inventoryQuantities"],
                        "message": "Location does not exist",
                        "code": "INVALID_INPUT",
                    }
                )
            elif self.item_fails():
                errors.append(
                    {
                        "field": ["variants", str(n)],
                        "message": "Internal error creating the variant",
                        "code": "INVALID_INPUT",
                    }
                )
            else:
                taken.add(tuple(sorted(opts.items())))
                planned.append((opts, {**v, "price": price}))
        if errors:  # all or nothing
            return {"productVariants": [], "userErrors": errors}
        if removable and standalone is not None:
            self._delete_variant(standalone)
        created = []
        for opts, v in planned:
            for option in product["options"]:
                if opts[option["name"]] not in option["values"]:
                    option["values"].append(opts[option["name"]])
            item = v.get("inventoryItem") or {}
            vid = self._new_variant(product["id"], item.get("sku"), v["price"], opts)
            variant = self.state["variants"][vid]
            variant["barcode"] = v.get("barcode")
            variant["compareAtPrice"] = _money(v["compareAtPrice"]) if v.get("compareAtPrice") else None
            stock = self.state["inventory"][variant["inventoryItemId"]]
            stock["tracked"] = bool(item.get("tracked", True))
            for q in v.get("inventoryQuantities") or []:
                stock["levels"][q["locationId"]] = int(q["availableQuantity"])
            created.append(vid)
        product["updatedAt"] = self._stamp()
        return {"productVariants": [self._variant_view(v) for v in created], "userErrors": []}

    def _mutation_productVariantsBulkUpdate(self, f: RootField, version: str) -> dict[str, Any]:
        product = self.state["products"].get(f.args.get("productId"))
        variants = self._cap(f.args.get("variants"), "$variants")
        if product is None:
            return {
                "productVariants": None,
                "userErrors": [
                    {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}
                ],
            }
        partial = bool(f.args.get("allowPartialUpdates", False))
        errors, good = [], []
        for n, v in enumerate(variants):
            price = _money(v["price"]) if "price" in v else "keep"
            compare = _money(v["compareAtPrice"]) if v.get("compareAtPrice") is not None else "keep"
            if v.get("id") not in product["variants"]:
                errors.append(
                    {
                        "field": ["variants", str(n), "id"],
                        "message": "Product variant does not exist",
                        "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    }
                )
            elif price is None or compare is None:
                errors.append(
                    {
                        "field": ["variants", str(n), "price"],
                        "message": "Price must be greater than or equal to 0",
                        "code": "GREATER_THAN_OR_EQUAL_TO",
                    }
                )
            elif self.item_fails():
                errors.append(
                    {
                        "field": ["variants", str(n), "price"],
                        "message": "Variant could not be updated, try again",
                        "code": "INVALID_INPUT",
                    }
                )
            else:
                good.append((v, price, compare))
        if errors and not partial:
            return {"productVariants": None, "userErrors": errors}
        for v, price, compare in good:
            variant = self.state["variants"][v["id"]]
            if price != "keep":
                variant["price"] = price
            if compare != "keep":
                variant["compareAtPrice"] = compare
            if v.get("barcode"):
                variant["barcode"] = v["barcode"]
        if good:
            product["updatedAt"] = self._stamp()
        return {"productVariants": [self._variant_view(v["id"]) for v, _, _ in good], "userErrors": errors}

    # -- inventory ----------------------------------------------------------------------------------------
    def _mutation_inventorySetQuantities(self, f: RootField, version: str) -> dict[str, Any]:
        data = f.args.get("input")
        if not isinstance(data, dict):
            raise TopLevelError(
                "Variable $input of type InventorySetQuantitiesInput! was provided invalid value", "INVALID_VARIABLE"
            )
        key = (f.directives.get("idempotent") or {}).get("key")
        _check_inventory_version(version, data, key, "idempotent" in f.directives)
        quantities = self._cap(data.get("quantities"), "$input.quantities")
        fingerprint = json.dumps(data, sort_keys=True)
        if key and key in self.state["idempotency"]:
            return self._idempotent_replay(key, fingerprint)
        errors = _inventory_input_errors(data)
        ignore = bool(data.get("ignoreCompareQuantity", False))
        changes = []
        for n, q in enumerate(quantities):
            path = ["input", "quantities", str(n)]
            change = self._inventory_change(path, q, ignore, version, errors)
            if change is not None:
                changes.append(change)
        if errors:  # nothing is applied when any quantity is refused
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        for item, loc, quantity, _ in changes:
            item["levels"][loc] = quantity
        payload = {
            "inventoryAdjustmentGroup": {
                "id": self._gid("InventoryAdjustmentGroup"),
                "reason": data["reason"],
                "referenceDocumentUri": data.get("referenceDocumentUri"),
                "changes": [
                    {"name": data["name"], "delta": qty - cur, "quantityAfterChange": qty} for _, _, qty, cur in changes
                ],
            },
            "userErrors": [],
        }
        if key:
            self.state["idempotency"][key] = {"fingerprint": fingerprint, "payload": payload}
        return payload

    def _idempotent_replay(self, key: str, fingerprint: str) -> dict[str, Any]:
        """The first answer again for a repeated key with the same input; an error for other input."""
        seen = self.state["idempotency"][key]
        if seen["fingerprint"] != fingerprint:
            message = "The same idempotency key cannot be used with different operation parameters."
            return {
                "inventoryAdjustmentGroup": None,
                "userErrors": [{"field": None, "message": message, "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}],
            }
        return seen["payload"]

    def _inventory_change(
        self, path: list[str], q: dict[str, Any], ignore: bool, version: str, errors: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], Any, int, int] | None:
        """One quantity as (inventory item, location, new quantity, current quantity), or None with its
        first user error added to ``errors``."""
        item = self.state["inventory"].get(q.get("inventoryItemId"))
        loc = q.get("locationId")
        if item is None:
            message = "The specified inventory item could not be found."
            errors.append(_user_error([*path, "inventoryItemId"], message, "INVALID_INVENTORY_ITEM"))
            return None
        error = self._location_error(path, item, loc) or _quantity_error(path, q, item["levels"][loc], ignore, version)
        if error is None and self.item_fails():
            message = "The quantity can't be higher than 1,000,000,000."
            error = _user_error([*path, "quantity"], message, "INVALID_QUANTITY_TOO_HIGH")
        if error is not None:
            errors.append(error)
            return None
        return item, loc, q["quantity"], item["levels"][loc]

    def _location_error(self, path: list[str], item: dict[str, Any], loc: Any) -> dict[str, Any] | None:
        """The location must be the shop's, and the item stocked there."""
        if loc not in self._location_ids():
            return _user_error([*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
        if loc not in item["levels"]:
            return _user_error(
                [*path, "locationId"],
                "The specified inventory item is not stocked at the location.",
                "ITEM_NOT_STOCKED_AT_LOCATION",
            )
        return None

    def _query_inventoryItem(self, f: RootField, version: str) -> dict[str, Any] | None:
        iid = f.args.get("id")
        item = self.state["inventory"].get(iid)
        if item is None:
            return None
        view: dict[str, Any] = {"id": iid, "sku": item["sku"], "tracked": item["tracked"]}
        loc = f.nested_arg("inventoryLevel", "locationId")
        if loc is not None:
            level = item["levels"].get(loc)
            view["inventoryLevel"] = (
                None if level is None else {"quantities": [{"name": "available", "quantity": level}]}
            )
        return view

    # -- queries --------------------------------------------------------------------------------------
    def _page(self, f: RootField, rows: list[Any]) -> tuple[list[Any], dict[str, Any]]:
        first = f.args.get("first")
        if not isinstance(first, int) or not 0 < first <= MAX_INPUT:
            raise TopLevelError("first must be between 1 and 250", "BAD_REQUEST")
        start = _offset(f.args.get("after"))
        chunk = rows[start : start + first]
        end = start + len(chunk) - 1
        info = {"hasNextPage": start + first < len(rows), "endCursor": _cursor(end) if chunk else None}
        return chunk, info

    def _query_productVariants(self, f: RootField, version: str) -> dict[str, Any]:
        query = f.args.get("query")
        rows = list(self.state["variants"])
        if query:
            wanted = {s.replace("\\'", "'") for s in re.findall(r"sku:'((?:[^'\\]|\\.)*)'", query)}
            rows = [v for v in rows if self.state["variants"][v]["sku"] in wanted]
        chunk, info = self._page(f, rows)
        return {"nodes": [self._variant_view(v) for v in chunk], "pageInfo": info}

    def _query_locations(self, f: RootField, version: str) -> dict[str, Any]:
        chunk, info = self._page(f, self.state["locations"])
        return {"nodes": chunk, "pageInfo": info}

    def _order_lines(self, order: dict[str, Any], first: int, after: str | None) -> dict[str, Any]:
        if not 0 < first <= MAX_INPUT:
            raise TopLevelError("first must be between 1 and 250", "BAD_REQUEST")
        start = _offset(after)
        lines = order["lineItems"][start : start + first]
        return {
            "nodes": lines,
            "pageInfo": {
                "hasNextPage": start + first < len(order["lineItems"]),
                "endCursor": _cursor(start + len(lines) - 1) if lines else None,
            },
        }

    def _order_view(self, order: dict[str, Any], f: RootField) -> dict[str, Any]:
        view = {k: v for k, v in order.items() if k != "lineItems"}
        first = f.nested_arg("lineItems", "first") or 10
        view["lineItems"] = self._order_lines(order, int(first), f.nested_arg("lineItems", "after"))
        return view

    def _visible(self, order: dict[str, Any]) -> bool:
        if self.options.get("read_all_orders"):
            return True
        created = datetime.fromisoformat(order["createdAt"].replace("Z", "+00:00"))
        return created >= self.now() - timedelta(days=VISIBLE_DAYS)

    def _query_orders(self, f: RootField, version: str) -> dict[str, Any]:
        rows = [o for o in self.state["orders"].values() if self._visible(o)]
        for op, value in re.findall(r"updated_at:(>=|<=|>|<)'([^']+)'", f.args.get("query") or ""):
            bound = datetime.fromisoformat(value.replace("Z", "+00:00"))
            check = {">": bound.__lt__, ">=": bound.__le__, "<": bound.__gt__, "<=": bound.__ge__}[op]
            rows = [o for o in rows if check(datetime.fromisoformat(o["updatedAt"].replace("Z", "+00:00")))]
        key = f.args.get("sortKey") or "ID"
        field = {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt"}.get(key)
        rows.sort(key=lambda o: (o[field] if field else "", int(o["id"].rsplit("/", 1)[1])))
        chunk, info = self._page(f, rows)
        return {"nodes": [self._order_view(o, f) for o in chunk], "pageInfo": info}

    def _query_order(self, f: RootField, version: str) -> dict[str, Any] | None:
        order = self.state["orders"].get(f.args.get("id"))
        return None if order is None or not self._visible(order) else self._order_view(order, f)

    # -- back office (for tests and the demo) ---------------------------------------------------------------
    def _variant_by_sku(self, sku: str) -> dict[str, Any]:
        for v in self.state["variants"].values():
            if v["sku"] == sku:
                return v
        raise KeyError(f"no variant with SKU {sku}")

    def set_price(self, sku: str, price: str) -> None:
        self._variant_by_sku(sku)["price"] = _money(price)

    def set_quantity(self, sku: str, quantity: int, location_id: str | None = None) -> None:
        v = self._variant_by_sku(sku)
        loc = location_id or self.state["locations"][0]["id"]
        self.state["inventory"][v["inventoryItemId"]]["levels"][loc] = quantity

    def quantity(self, sku: str, location_id: str | None = None) -> int | None:
        v = self._variant_by_sku(sku)
        loc = location_id or self.state["locations"][0]["id"]
        return self.state["inventory"][v["inventoryItemId"]]["levels"].get(loc)

    def set_order_status(
        self, order_id: str, *, financial: str | None = None, fulfillment: str | None = None, cancelled: bool = False
    ) -> None:
        order = self.state["orders"][order_id]
        if financial:
            order["displayFinancialStatus"] = financial
        if fulfillment:
            order["displayFulfillmentStatus"] = fulfillment
        if cancelled:
            order["cancelledAt"] = self._stamp()
        order["updatedAt"] = self._stamp()

    def generate_orders(self, count: int) -> list[str]:
        loc = self.state["locations"][0]["id"]
        currency = self.state["currency"]
        ids = []
        for _ in range(count):
            candidates = [
                v
                for v in self.state["variants"].values()
                if v["sku"]
                and self.state["products"][v["productId"]]["status"] == "ACTIVE"
                and self.state["inventory"][v["inventoryItemId"]]["levels"].get(loc, 0) > 0
            ]
            if not candidates:
                break
            picked = self.rng.sample(candidates, k=min(len(candidates), self.rng.randint(1, 2)))
            oid = self._gid("Order")
            stamp = self._stamp()
            lines, total = [], Decimal("0")
            for v in picked:
                levels = self.state["inventory"][v["inventoryItemId"]]["levels"]
                qty = self.rng.randint(1, min(2, levels[loc]))
                levels[loc] -= qty
                total += Decimal(v["price"]) * qty
                lines.append(
                    {
                        "id": self._gid("LineItem"),
                        "sku": v["sku"],
                        "title": self.state["products"][v["productId"]]["title"],
                        "quantity": qty,
                        "originalUnitPriceSet": {"shopMoney": {"amount": v["price"], "currencyCode": currency}},
                    }
                )
            shipping = Decimal("4.99")
            self.state["orders"][oid] = {
                "id": oid,
                "name": f"#{1000 + len(self.state['orders']) + 1}",
                "createdAt": stamp,
                "updatedAt": stamp,
                "cancelledAt": None,
                "displayFinancialStatus": "PAID",
                "displayFulfillmentStatus": "UNFULFILLED",
                "currencyCode": currency,
                "totalPriceSet": {"shopMoney": {"amount": str(total + shipping), "currencyCode": currency}},
                "totalShippingPriceSet": {"shopMoney": {"amount": str(shipping), "currencyCode": currency}},
                "shippingAddress": {"countryCodeV2": self.rng.choice(["US", "CA", "GB", "DE", "AU"])},
                "lineItems": lines,
            }
            ids.append(oid)
        return ids


def _user_error(field: list[str] | None, message: str, code: str) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


def _check_inventory_version(version: str, data: dict[str, Any], key: Any, directive: bool) -> None:
    """What the API version refuses outright: the @idempotent directive before 2026-01; from 2026-04 a
    missing key or the compareQuantity fields; changeFromQuantity before 2026-01."""
    new = _at_least(version, "2026-01")
    if directive and not new:
        raise TopLevelError("Directive 'idempotent' is not defined", "undefinedDirective")
    if _at_least(version, "2026-04"):
        if not key:
            raise TopLevelError("The @idempotent directive with a key is required for this mutation.", "BAD_REQUEST")
        removed = [k for k in ("ignoreCompareQuantity",) if k in data] + [
            "compareQuantity" for q in data.get("quantities") or [] if "compareQuantity" in q
        ]
        if removed:
            raise TopLevelError(
                "Variable $input of type InventorySetQuantitiesInput! was provided invalid value "
                f"({removed[0]}: Field is not defined)",
                "INVALID_VARIABLE",
            )
    if not new and any("changeFromQuantity" in q for q in data.get("quantities") or []):
        raise TopLevelError(
            "Variable $input of type InventorySetQuantitiesInput! was provided invalid value "
            "(changeFromQuantity: Field is not defined on InventoryQuantityInput)",
            "INVALID_VARIABLE",
        )


def _inventory_input_errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    """User errors of the input as a whole: the quantity name and the reason."""
    errors = []
    if data.get("name") not in ("available", "on_hand"):
        errors.append(
            _user_error(["input", "name"], "The quantity name must be 'available' or 'on_hand'.", "INVALID_NAME")
        )
    if data.get("reason") not in REASONS:
        errors.append(_user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    return errors


def _quantity_error(
    path: list[str], q: dict[str, Any], current: int, ignore: bool, version: str
) -> dict[str, Any] | None:
    """A quantity must be a whole number >= 0 and, unless skipped, its compare-and-set value current:
    ``changeFromQuantity`` (required from 2026-04; null skips) or ``compareQuantity`` (before 2026-04;
    ``ignoreCompareQuantity`` skips)."""
    if not isinstance(q.get("quantity"), int) or q["quantity"] < 0:
        return _user_error([*path, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")
    if _at_least(version, "2026-04") and "changeFromQuantity" not in q:
        return _user_error(
            [*path, "changeFromQuantity"],
            "changeFromQuantity is required; pass null to skip the check.",
            "INVALID_CHANGE_FROM_QUANTITY",
        )
    if "changeFromQuantity" in q:
        if q["changeFromQuantity"] is not None and q["changeFromQuantity"] != current:
            return _user_error(
                [*path, "changeFromQuantity"],
                "The specified changeFromQuantity does not match the current quantity.",
                "CHANGE_FROM_QUANTITY_STALE",
            )
    elif not ignore:
        if "compareQuantity" not in q or q["compareQuantity"] is None:
            return _user_error(
                [*path, "compareQuantity"],
                "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.",
                "COMPARE_QUANTITY_REQUIRED",
            )
        if q["compareQuantity"] != current:
            return _user_error(
                [*path, "compareQuantity"],
                "The specified compare quantity does not match the current quantity.",
                "COMPARE_QUANTITY_STALE",
            )
    return None


def _args_text(f: RootField) -> str:
    """Literal ``first:`` of a root field, for the cost estimate."""
    first = f.args.get("first")
    return f"(first: {first})" if isinstance(first, int) else ""
