"""In-memory Shopify Admin GraphQL API, built from the reference (domestic-apis.md section 1) and Shopify's
own schema.

One endpoint, ``POST /admin/api/{version}/graphql.json``, with ``X-Shopify-Access-Token`` checked against
the app's token (no configured token: every request is refused, as a shop without the app would). Documents
are EXECUTED with graphql-core against the schema of the requested version (:mod:`.executor`: a subset of
Shopify's own Admin API introspection), so an answer holds exactly the fields that were asked for, and a
document or variable Shopify would refuse is refused with Shopify's error shapes. The cost-based leaky bucket
takes the requested cost before running (computed from the document by Shopify's published rules), refunds
down to the actual cost after it, and every answer carries ``extensions.cost``; a throttle is HTTP 200 with
``errors[].extensions.code = "THROTTLED"``. Also: the single-query cost cap (1000), the 250-item input array
cap, version-dependent inventory compare-and-set, ``@idempotent`` keys (mandatory from 2026-04), and
``userErrors`` in the payload types' own shapes.

Codes marked [U] in the reference (e.g. ``COMPARE_QUANTITY_STALE``) are used as the reference guesses them;
the schema lists the ones it defines.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from graphql import GraphQLError, execute_sync, get_directive_values
from listing_sync.adapters.emulator import Emulator, hmac_base64, route
from listing_sync.adapters.shopify import executor as gx

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
QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "safety_stock",
    "quality_control",
)


class TopLevelError(Exception):
    """A request-level GraphQL error (``errors`` with no ``data``)."""

    def __init__(self, message: str, code: str, **extra: Any) -> None:
        super().__init__(message)
        self.body = {"message": message, "extensions": {"code": code, **extra}}


def _cursor(index: int) -> str:
    return base64.b64encode(f"i:{index}".encode()).decode()


def _offset(cursor: str | None) -> int:
    """The index a cursor points at (-1 for none)."""
    if not cursor:
        return -1
    try:
        return int(base64.b64decode(cursor).decode().split(":", 1)[1])
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


def connection(rows: list[Any], args: dict[str, Any], view: Callable[[Any], Any]) -> dict[str, Any]:
    """A Relay connection over ``rows`` by ``first``/``after`` or ``last``/``before`` (one of first and last
    is required, at most 250), with ``nodes``, ``edges`` and ``pageInfo``."""
    first, last = args.get("first"), args.get("last")
    size = first if first is not None else last
    if (first is None) == (last is None) or not isinstance(size, int) or not 0 < size <= MAX_INPUT:
        raise TopLevelError("you must provide one of first or last, between 1 and 250", "BAD_REQUEST")
    if args.get("reverse"):
        rows = list(reversed(rows))
    start, end = 0, len(rows)
    if args.get("after"):
        start = _offset(args["after"]) + 1
    if args.get("before"):
        end = min(end, _offset(args["before"]))
    chosen = range(start, min(end, start + size)) if first is not None else range(max(start, end - size), end)
    nodes = [view(rows[i]) for i in chosen]
    return {
        "nodes": nodes,
        "edges": [{"cursor": _cursor(i), "node": node} for i, node in zip(chosen, nodes, strict=True)],
        "pageInfo": {
            "hasNextPage": chosen.stop < end if first is not None else False,
            "hasPreviousPage": chosen.start > start if last is not None else start > 0,
            "startCursor": _cursor(chosen.start) if nodes else None,
            "endCursor": _cursor(chosen.stop - 1) if nodes else None,
        },
    }


class _Root:
    """The root value graphql-core resolves against: ``root.<field>(info, **args)`` for every QueryRoot and
    Mutation field of the schema; each hands its arguments (already coerced by the schema) to the emulator."""

    def __init__(self, emulator: ShopifyEmulator, version: str) -> None:
        self._emulator = emulator
        self._version = version

    def __getattr__(self, name: str) -> Callable[..., Any]:
        for prefix in ("q_", "m_"):
            handler = getattr(self._emulator, prefix + name, None)
            if handler is not None:
                return self._bind(handler, prefix == "m_")
        raise AttributeError(name)

    def _bind(self, handler: Callable[..., Any], mutation: bool) -> Callable[..., Any]:
        def resolve(info: Any, **args: Any) -> Any:
            if not mutation:
                return handler(args, self._version)
            directives = {}
            definition = info.schema.get_directive("idempotent")
            if definition is not None:
                values = get_directive_values(definition, info.field_nodes[0], info.variable_values)
                if values is not None:
                    directives["idempotent"] = values
            return handler(args, directives, self._version)

        return resolve


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
            "webhooks": {},  # subscription id -> {id, topic (enum), uri, format, apiVersion, createdAt, updatedAt}
        }

    # -- envelope -------------------------------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        """The app's access token, exactly; an emulator given no token knows no app and refuses all."""
        token = request.headers.get("X-Shopify-Access-Token")
        expected = self.credentials.get("access_token")
        if not token or not expected or token != expected:
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

    def _analysis(self, request: httpx.Request) -> dict[str, Any]:
        """The request read once: body, version, validated document, operation, requested cost, or the
        refusal (kept on the request: the rate bucket and the route both need it)."""
        cached = request.extensions.get("shopify")
        if cached is not None:
            return cached
        found = re.search(r"/admin/api/([^/]+)/graphql\.json$", request.url.path)
        version = found.group(1) if found else "unstable"
        body = self.body_json(request)
        analysis: dict[str, Any] = {"version": version, "body": body, "requested": 1.0}
        if isinstance(body, dict) and isinstance(body.get("query"), str):
            variables = body.get("variables") or {}
            schema = gx.schema_for(gx.era(version))
            try:
                document = gx.prepared(gx.era(version), body["query"])
                op = gx.operation(document, body.get("operationName"))
                gx.check_variables(schema, op, variables if isinstance(variables, dict) else {})
                analysis.update(document=document, op=op, variables=variables, schema=schema)
                analysis["requested"] = float(gx.Coster(schema, document, variables).operation(op))
            except gx.Refusal as refusal:
                analysis["refusal"] = refusal.errors
        request.extensions["shopify"] = analysis
        return analysis

    def cost(self, request: httpx.Request) -> float:
        return float(self._analysis(request)["requested"])

    @route("POST", "/admin/api/{version}/graphql.json")
    def graphql(self, request: httpx.Request, version: str) -> httpx.Response:
        a = self._analysis(request)
        if not isinstance(a["body"], dict) or not isinstance(a["body"].get("query"), str):
            return self.json(400, {"errors": {"query": "Required parameter missing or invalid"}})
        if "refusal" in a:
            return self._errors(a["refusal"])
        requested = a["requested"]
        if requested > MAX_COST:
            message = f"Query cost is {int(requested)}, which exceeds the single query max cost limit ({MAX_COST})."
            extensions = {"code": "MAX_COST_EXCEEDED", "cost": int(requested), "maxCost": MAX_COST}
            return self._errors([{"message": message, "extensions": extensions}], requested)
        result = execute_sync(
            a["schema"],
            a["document"],
            root_value=_Root(self, version),
            variable_values=a["variables"],
            operation_name=a["body"].get("operationName"),
        )
        refused = [e.original_error.body for e in result.errors or () if isinstance(e.original_error, TopLevelError)]
        if refused:
            return self._errors(refused, requested)
        data = result.data or {}
        mutation = a["op"].operation.value == "mutation"
        spent = sum(gx.response_cost(v) + (gx.MUTATION_COST - 1 if mutation else 0) for v in data.values())
        actual = min(requested, float(max(1, spent)))
        self.bucket.observe(self._available() + (requested - actual))  # Shopify refunds requested - actual
        body: dict[str, Any] = {"data": data}
        if result.errors:
            body["errors"] = [_field_error(e) for e in result.errors]
        body["extensions"] = self._extensions(requested, actual)
        return self.json(200, body)

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

    def _by_sku(self) -> dict[str | None, list[str]]:
        """Variant ids by SKU, in the variants' order: kept up to date by :meth:`_new_variant` and
        :meth:`_delete_variant`, rebuilt when the number of variants changed another way (a load, a test's
        insert); no mutation edits a variant's SKU in place. A SKU search scanned every variant: quadratic
        in a 100k-SKU publish (100 searches of 50 SKUs among 40,000 variants: 1.29 s CPU, now 0.014 s)."""
        variants = self.state["variants"]
        key = (id(variants), len(variants))
        if getattr(self, "_sku_key", None) != key:
            index: dict[str | None, list[str]] = {}
            for vid, row in variants.items():
                index.setdefault(row["sku"], []).append(vid)
            self._sku_index, self._sku_key = index, key
        return self._sku_index

    def _vids_of(self, sku: str | None) -> list[str]:
        """The ids of the variants whose SKU is ``sku`` (checked: an index entry never stands for a changed
        SKU)."""
        variants = self.state["variants"]
        return [vid for vid in self._by_sku().get(sku, ()) if vid in variants and variants[vid]["sku"] == sku]

    def _variants_of(self, sku: str | None) -> list[dict[str, Any]]:
        return [self.state["variants"][vid] for vid in self._vids_of(sku)]

    def _new_variant(self, pid: str, sku: str | None, price: str, options: dict[str, str]) -> str:
        vid = self._gid("ProductVariant")
        iid = self._gid("InventoryItem")
        index = self._by_sku()
        self.state["inventory"][iid] = {"variantId": vid, "sku": sku, "tracked": False, "levels": {}}
        index.setdefault(sku, []).append(vid)
        self._sku_key = (id(self.state["variants"]), len(self.state["variants"]) + 1)
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
        index = self._by_sku()
        v = self.state["variants"].pop(vid)
        index[v["sku"]].remove(vid)
        self._sku_key = (id(self.state["variants"]), len(self.state["variants"]))
        self.state["inventory"].pop(v["inventoryItemId"], None)
        self.state["products"][v["productId"]]["variants"].remove(vid)

    # -- views: what a field resolves to (graphql-core keeps only the selected fields; callables take the
    #    field's arguments, so nested connections and arguments are answered as asked) --------------------
    def _variant_view(self, vid: str) -> dict[str, Any]:
        v = self.state["variants"][vid]
        item = self.state["inventory"][v["inventoryItemId"]]
        product = self.state["products"][v["productId"]]
        title = " / ".join(v["options"].values()) or "Default Title"
        return {
            "id": vid,
            "sku": v["sku"],
            "price": v["price"],
            "compareAtPrice": v["compareAtPrice"],
            "barcode": v["barcode"],
            "title": title,
            "displayName": f"{product['title']} - {title}",
            "createdAt": product["createdAt"],
            "updatedAt": product["updatedAt"],
            "inventoryQuantity": sum(item["levels"].values()),
            "selectedOptions": [{"name": k, "value": x} for k, x in v["options"].items()],
            "inventoryItem": lambda info: self._item_view(v["inventoryItemId"]),
            "product": lambda info: self._product_view(v["productId"]),
        }

    def _product_view(self, pid: str) -> dict[str, Any]:
        p = self.state["products"][pid]
        total = sum(
            sum(self.state["inventory"][self.state["variants"][v]["inventoryItemId"]]["levels"].values())
            for v in p["variants"]
        )

        def options(info: Any, first: int | None = None) -> list[dict[str, Any]]:
            chosen = p["options"][:first] if first is not None else p["options"]
            return [
                {
                    "id": f"gid://shopify/ProductOption/{pid.rsplit('/', 1)[1]}{n}",
                    "name": o["name"],
                    "position": n + 1,
                    "values": o["values"],
                    "optionValues": [
                        {
                            "id": f"gid://shopify/ProductOptionValue/{pid.rsplit('/', 1)[1]}{n}{k}",
                            "name": x,
                            "hasVariants": True,
                        }
                        for k, x in enumerate(o["values"])
                    ],
                }
                for n, o in enumerate(chosen)
            ]

        return {
            "id": pid,
            "title": p["title"],
            "status": p["status"],
            "productType": p["productType"] or "",
            "vendor": p["vendor"] or "",
            "descriptionHtml": p["descriptionHtml"] or "",
            "handle": re.sub(r"[^a-z0-9]+", "-", p["title"].lower()).strip("-") or pid.rsplit("/", 1)[1],
            "createdAt": p["createdAt"],
            "updatedAt": p["updatedAt"],
            "totalInventory": total,
            "options": options,
            "variants": lambda info, **args: connection(list(p["variants"]), args, self._variant_view),
        }

    def _item_view(self, iid: str) -> dict[str, Any]:
        item = self.state["inventory"][iid]

        def level(info: Any, locationId: str, includeInactive: bool | None = None) -> dict[str, Any] | None:
            return self._level_view(iid, locationId) if locationId in item["levels"] else None

        return {
            "id": iid,
            "sku": item["sku"],
            "tracked": item["tracked"],
            "variant": lambda info: self._variant_view(item["variantId"]),
            "inventoryLevel": level,
        }

    def _level_view(self, iid: str, loc: str) -> dict[str, Any]:
        amount = self.state["inventory"][iid]["levels"][loc]

        def quantities(info: Any, names: list[str]) -> list[dict[str, Any]]:
            values = {"available": amount, "on_hand": amount}
            return [
                {"id": f"{iid}?level={loc}&name={n}", "name": n, "quantity": values.get(n, 0), "updatedAt": None}
                for n in names
                if n in QUANTITY_NAMES
            ]

        return {
            "id": f"gid://shopify/InventoryLevel/{iid.rsplit('/', 1)[1]}?inventory_item_id={iid.rsplit('/', 1)[1]}",
            "location": lambda info: self._location_view(loc),
            "item": lambda info: self._item_view(iid),
            "quantities": quantities,
        }

    def _location_view(self, loc: str) -> dict[str, Any]:
        found = next(x for x in self.state["locations"] if x["id"] == loc)
        return {"id": found["id"], "name": found["name"], "isActive": True}

    def _group_view(self, group: dict[str, Any]) -> dict[str, Any]:
        """An InventoryAdjustmentGroup from its stored record; ``changes`` takes its filters."""

        def changes(info: Any, quantityNames: list[str] | None = None, **_: Any) -> list[dict[str, Any]]:
            return [c for c in group["changes"] if quantityNames is None or c["name"] in quantityNames]

        return {**{k: v for k, v in group.items() if k != "changes"}, "changes": changes}

    # -- queries ------------------------------------------------------------------------------------------
    def q_productVariants(self, args: dict[str, Any], version: str) -> dict[str, Any]:
        query = args.get("query")
        rows = list(self.state["variants"])
        if query:
            wanted = {s.replace("\\'", "'") for s in re.findall(r"sku:'((?:[^'\\]|\\.)*)'", query)}
            # in the variants' order: their gids are numbered as they were created
            rows = sorted({vid for sku in wanted for vid in self._vids_of(sku)}, key=_gid_number)
        return connection(rows, args, self._variant_view)

    def q_productVariant(self, args: dict[str, Any], version: str) -> dict[str, Any] | None:
        return self._variant_view(args["id"]) if args["id"] in self.state["variants"] else None

    def q_product(self, args: dict[str, Any], version: str) -> dict[str, Any] | None:
        return self._product_view(args["id"]) if args["id"] in self.state["products"] else None

    def q_inventoryItem(self, args: dict[str, Any], version: str) -> dict[str, Any] | None:
        return self._item_view(args["id"]) if args["id"] in self.state["inventory"] else None

    def q_locations(self, args: dict[str, Any], version: str) -> dict[str, Any]:
        return connection([loc["id"] for loc in self.state["locations"]], args, self._location_view)

    def _order_view(self, order: dict[str, Any]) -> dict[str, Any]:
        currency = order["currencyCode"]

        def money(field: str) -> dict[str, Any]:
            value = order[field]["shopMoney"]
            return {"shopMoney": value, "presentmentMoney": value}

        def line(item: dict[str, Any]) -> dict[str, Any]:
            price = item["originalUnitPriceSet"]["shopMoney"]
            sku = item["sku"]
            variant = next(iter(self._vids_of(sku)), None)
            return {
                **{k: v for k, v in item.items() if k != "originalUnitPriceSet"},
                "originalUnitPriceSet": {"shopMoney": price, "presentmentMoney": price},
                "variant": lambda info: self._variant_view(variant) if variant else None,
            }

        address = order.get("shippingAddress")
        return {
            **{k: v for k, v in order.items() if k not in ("lineItems", "shippingAddress")},
            "currencyCode": currency,
            "closed": False,
            "totalPriceSet": money("totalPriceSet"),
            "totalShippingPriceSet": money("totalShippingPriceSet"),
            "shippingAddress": None
            if address is None
            else {**address, "id": order["id"] + "/address", "country": None},
            "lineItems": lambda info, **args: connection(order["lineItems"], args, line),
            "fulfillmentOrders": lambda info, **args: connection(
                self._fulfillment_orders(order), args, self._fulfillment_order_view(order)
            ),
            "fulfillments": lambda info, **args: self._fulfillments_of(order["id"], args.get("first")),
        }

    def _fulfillments_of(self, order_id: str, first: int | None) -> list[dict[str, Any]]:
        """``Order.fulfillments(first:)``: the order's fulfillments, oldest first (a plain list in the schema)."""
        found = [f for f in self.state.get("fulfillments", {}).values() if order_id in f.get("orders", [])]
        return [
            {
                "id": f["id"],
                "status": f["status"],
                "trackingInfo": lambda info, f=f, **a: f["trackingInfo"][: a.get("first") or None],
            }
            for f in found[: first or None]
        ]

    def _fulfillment_orders(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """The order's fulfillment orders: one per order at its location, made when first asked for."""
        if "fulfillmentOrders" not in order:
            order["fulfillmentOrders"] = [
                {
                    "id": self._gid("FulfillmentOrder"),
                    "status": "CLOSED" if order.get("displayFulfillmentStatus") == "FULFILLED" else "OPEN",
                    "lineItems": [
                        {
                            "id": self._gid("FulfillmentOrderLineItem"),
                            "lineItemId": item["id"],
                            "sku": item["sku"],
                            "totalQuantity": item["quantity"],
                            "remainingQuantity": 0
                            if order.get("displayFulfillmentStatus") == "FULFILLED"
                            else item["quantity"],
                        }
                        for item in order["lineItems"]
                    ],
                }
            ]
        return order["fulfillmentOrders"]

    def _fulfillment_order_view(self, order: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def item_view(item: dict[str, Any]) -> dict[str, Any]:
            line = next(li for li in order["lineItems"] if li["id"] == item["lineItemId"])
            return {**item, "lineItem": {**line, "originalUnitPriceSet": None, "variant": None}}

        def view(fo: dict[str, Any]) -> dict[str, Any]:
            return {**fo, "lineItems": lambda info, **args: connection(fo["lineItems"], args, item_view)}

        return view

    def _visible(self, order: dict[str, Any]) -> bool:
        if self.options.get("read_all_orders"):
            return True
        created = datetime.fromisoformat(order["createdAt"].replace("Z", "+00:00"))
        return created >= self.now() - timedelta(days=VISIBLE_DAYS)

    def q_orders(self, args: dict[str, Any], version: str) -> dict[str, Any]:
        rows = [o for o in self.state["orders"].values() if self._visible(o)]
        for op, value in re.findall(r"updated_at:(>=|<=|>|<)'([^']+)'", args.get("query") or ""):
            bound = datetime.fromisoformat(value.replace("Z", "+00:00"))
            check = {">": bound.__lt__, ">=": bound.__le__, "<": bound.__gt__, "<=": bound.__ge__}[op]
            rows = [o for o in rows if check(datetime.fromisoformat(o["updatedAt"].replace("Z", "+00:00")))]
        key = args.get("sortKey") or "ID"
        field = {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt"}.get(key)
        rows.sort(key=lambda o: (o[field] if field else "", int(o["id"].rsplit("/", 1)[1])))
        return connection(rows, args, self._order_view)

    def q_order(self, args: dict[str, Any], version: str) -> dict[str, Any] | None:
        order = self.state["orders"].get(args["id"])
        return None if order is None or not self._visible(order) else self._order_view(order)

    # -- fulfillment -------------------------------------------------------------------------------------
    def m_fulfillmentCreate(self, args: dict[str, Any], directives: dict[str, Any], version: str) -> dict[str, Any]:
        """Fulfil fulfillment order line items (all remaining ones of a pair that lists none) with tracking;
        userErrors as Shopify words them for unknown or closed fulfillment orders and excess quantities."""
        data = args["fulfillment"]
        owners: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for order in self.state["orders"].values():
            for fo in self._fulfillment_orders(order):
                owners[fo["id"]] = (order, fo)
        plan: list[tuple[dict[str, Any], int]] = []
        touched: dict[str, dict[str, Any]] = {}
        for n, pair in enumerate(data["lineItemsByFulfillmentOrder"]):
            field = ["fulfillment", "lineItemsByFulfillmentOrder", str(n)]
            found = owners.get(pair["fulfillmentOrderId"])
            if found is None:
                return {"fulfillment": None, "userErrors": [_user_error(field, "Fulfillment order does not exist.")]}
            order, fo = found
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                return {
                    "fulfillment": None,
                    "userErrors": [_user_error(field, "Fulfillment order is not in an open state.")],
                }
            items = {item["id"]: item for item in fo["lineItems"]}
            asked = pair.get("fulfillmentOrderLineItems")
            if not asked:
                asked = [
                    {"id": i["id"], "quantity": i["remainingQuantity"]}
                    for i in fo["lineItems"]
                    if i["remainingQuantity"]
                ]
            for item in asked:
                held = items.get(item["id"])
                if held is None or not 0 < item["quantity"] <= held["remainingQuantity"]:
                    message = "Invalid fulfillment order line item quantity requested."
                    return {"fulfillment": None, "userErrors": [_user_error(field, message)]}
                plan.append((held, item["quantity"]))
            touched[order["id"]] = order
        for held, quantity in plan:
            held["remainingQuantity"] -= quantity
        for order in touched.values():
            for fo in self._fulfillment_orders(order):
                left = sum(i["remainingQuantity"] for i in fo["lineItems"])
                fo["status"] = (
                    "CLOSED"
                    if left == 0
                    else ("IN_PROGRESS" if left < sum(i["totalQuantity"] for i in fo["lineItems"]) else fo["status"])
                )
            done = all(fo["status"] == "CLOSED" for fo in self._fulfillment_orders(order))
            order["displayFulfillmentStatus"] = "FULFILLED" if done else "PARTIALLY_FULFILLED"
            order["updatedAt"] = self._stamp()
            self._order_event(order, "ORDERS_UPDATED")
        tracking = data.get("trackingInfo") or {}
        fulfillment = {
            "id": self._gid("Fulfillment"),
            "status": "SUCCESS",
            "trackingInfo": [{"company": tracking.get("company"), "number": tracking.get("number"), "url": None}],
        }
        self.state.setdefault("fulfillments", {})[fulfillment["id"]] = {**fulfillment, "orders": list(touched)}
        return {
            "fulfillment": {**fulfillment, "trackingInfo": lambda info, **a: fulfillment["trackingInfo"]},
            "userErrors": [],
        }

    def m_orderCancel(self, args: dict[str, Any], directives: dict[str, Any], version: str) -> dict[str, Any]:
        """Cancel an order: not found / already cancelled / fulfilled are orderCancelUserErrors; restock puts
        the units back at the location, a refund method marks it refunded. The job is done at once."""

        def refused(code: str, message: str) -> dict[str, Any]:
            error = {"code": code, "field": ["orderId"], "message": message}
            return {"job": None, "orderCancelUserErrors": [error], "userErrors": [_user_error(["orderId"], message)]}

        order = self.state["orders"].get(args["orderId"])
        if order is None:
            return refused("NOT_FOUND", "Order does not exist.")
        if order.get("cancelledAt"):
            return refused("INVALID", "Order has already been cancelled.")
        if order.get("displayFulfillmentStatus") not in (None, "UNFULFILLED"):
            return refused("INVALID", "Cannot cancel an order that has been fulfilled.")
        if args.get("staffNote") and len(args["staffNote"]) > 255:
            return refused("INVALID", "Staff note is too long (maximum is 255 characters).")
        if args["restock"]:
            loc = self.state["locations"][0]["id"]
            for item in order["lineItems"]:
                variant = next(iter(self._variants_of(item["sku"])), None)
                if variant is not None:
                    levels = self.state["inventory"][variant["inventoryItemId"]]["levels"]
                    levels[loc] = levels.get(loc, 0) + item["quantity"]
        order["cancelledAt"] = self._stamp()
        if (args.get("refundMethod") or {}).get("originalPaymentMethodsRefund") or args.get("refund"):
            order["displayFinancialStatus"] = "REFUNDED"
        order["updatedAt"] = self._stamp()
        self._order_event(order, "ORDERS_CANCELLED", "ORDERS_UPDATED")
        return {"job": {"id": self._gid("Job"), "done": True}, "orderCancelUserErrors": [], "userErrors": []}

    # -- product mutations ------------------------------------------------------------------------------
    def m_productCreate(self, args: dict[str, Any], directives: dict[str, Any], version: str) -> dict[str, Any]:
        data = args.get("product")
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
            "media": [m.get("originalSource") for m in args.get("media") or []],
            "variants": [],
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        first = {o["name"]: o["values"][0] for o in self.state["products"][pid]["options"] if o["values"]}
        self._new_variant(pid, None, "0.00", first)  # the standalone variant
        return {"product": self._product_view(pid), "userErrors": []}

    def m_productUpdate(self, args: dict[str, Any], directives: dict[str, Any], version: str) -> dict[str, Any]:
        data = args.get("product")
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

    def m_productVariantsBulkCreate(
        self, args: dict[str, Any], directives: dict[str, Any], version: str
    ) -> dict[str, Any]:
        product = self.state["products"].get(args.get("productId"))
        variants = self._cap(args.get("variants"), "$variants")
        if product is None:
            return {
                "productVariants": [],
                "userErrors": [
                    {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}
                ],
            }
        strategy = args.get("strategy") or "DEFAULT"
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
            if any(k not in names for k in opts) or len(opts) > len(names):
                errors.append(
                    {
                        "field": ["variants", str(n), "optionValues"],
                        "message": "Variant options are more than the product options.",
                        "code": "OPTION_VALUES_FOR_NUMBER_OF_UNKNOWN_OPTIONS",
                    }
                )
            elif len(opts) < len(names):
                errors.append(
                    {
                        "field": ["variants", str(n), "optionValues"],
                        "message": "Variant options are not enough.",
                        "code": "NEED_TO_ADD_OPTION_VALUES",
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

    def m_productVariantsBulkUpdate(
        self, args: dict[str, Any], directives: dict[str, Any], version: str
    ) -> dict[str, Any]:
        product = self.state["products"].get(args.get("productId"))
        variants = self._cap(args.get("variants"), "$variants")
        if product is None:
            return {
                "productVariants": None,
                "userErrors": [
                    {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}
                ],
            }
        partial = bool(args.get("allowPartialUpdates", False))
        errors, good = [], []
        for n, v in enumerate(variants):
            price = _money(v["price"]) if "price" in v else "keep"
            if "compareAtPrice" not in v:
                compare: Any = "keep"
            else:  # null removes the compare-at price
                compare = _money(v["compareAtPrice"]) if v["compareAtPrice"] is not None else "clear"
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
            if compare == "clear":
                variant["compareAtPrice"] = None
            elif compare != "keep":
                variant["compareAtPrice"] = compare
            if v.get("barcode"):
                variant["barcode"] = v["barcode"]
        if good:
            product["updatedAt"] = self._stamp()
        return {"productVariants": [self._variant_view(v["id"]) for v, _, _ in good], "userErrors": errors}

    # -- inventory ----------------------------------------------------------------------------------------
    def m_inventorySetQuantities(
        self, args: dict[str, Any], directives: dict[str, Any], version: str
    ) -> dict[str, Any]:
        data = args.get("input")
        if not isinstance(data, dict):
            raise TopLevelError(
                "Variable $input of type InventorySetQuantitiesInput! was provided invalid value", "INVALID_VARIABLE"
            )
        key = (directives.get("idempotent") or {}).get("key")
        _check_inventory_version(version, key)
        quantities = self._cap(data.get("quantities"), "$input.quantities")
        fingerprint = json.dumps(data, sort_keys=True, default=str)
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
        group = {
            "id": self._gid("InventoryAdjustmentGroup"),
            "createdAt": self._stamp(),
            "reason": data["reason"],
            "referenceDocumentUri": data.get("referenceDocumentUri"),
            "changes": [
                {"name": data["name"], "delta": qty - cur, "quantityAfterChange": qty} for _, _, qty, cur in changes
            ],
        }
        if key:
            self.state["idempotency"][key] = {"fingerprint": fingerprint, "group": group}
        return {"inventoryAdjustmentGroup": self._group_view(group), "userErrors": []}

    def _idempotent_replay(self, key: str, fingerprint: str) -> dict[str, Any]:
        """The first answer again for a repeated key with the same input; an error for other input."""
        seen = self.state["idempotency"][key]
        if seen["fingerprint"] != fingerprint:
            message = "The same idempotency key cannot be used with different operation parameters."
            return {
                "inventoryAdjustmentGroup": None,
                "userErrors": [{"field": None, "message": message, "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}],
            }
        return {"inventoryAdjustmentGroup": self._group_view(seen["group"]), "userErrors": []}

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

    # -- back office (for tests and the demo) ---------------------------------------------------------------
    def _variant_by_sku(self, sku: str) -> dict[str, Any]:
        for v in self._variants_of(sku):
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
        self._order_event(order, *(("ORDERS_CANCELLED",) if cancelled else ()), "ORDERS_UPDATED")

    def generate_orders(self, count: int) -> list[str]:
        loc = self.state["locations"][0]["id"]
        currency = self.state["currency"]
        ids = []
        # built once (a sale changes only its own variants' levels): the list a rebuild per order would give
        candidates = [
            v
            for v in self.state["variants"].values()
            if v["sku"]
            and self.state["products"][v["productId"]]["status"] == "ACTIVE"
            and self.state["inventory"][v["inventoryItemId"]]["levels"].get(loc, 0) > 0
        ]
        for _ in range(count):
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
                if levels[loc] <= 0:
                    candidates = [c for c in candidates if c is not v]
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
            self._order_event(self.state["orders"][oid], "ORDERS_CREATE")
        return ids

    # -- webhooks ---------------------------------------------------------------------------------------
    def q_webhookSubscriptions(self, args: dict[str, Any], version: str) -> dict[str, Any]:
        rows = list(self.state.setdefault("webhooks", {}).values())
        if args.get("topics"):
            rows = [w for w in rows if w["topic"] in args["topics"]]
        if args.get("uri"):
            rows = [w for w in rows if w["uri"] == args["uri"]]
        return connection(rows, args, lambda w: {**w, "callbackUrl": w["uri"]})

    def m_webhookSubscriptionCreate(
        self, args: dict[str, Any], directives: dict[str, Any], version: str
    ) -> dict[str, Any]:
        """Subscribe a URI to a topic: HTTPS only (loopback http too, so local runs can receive), one subscription
        per topic and address ("Address for this topic has already been taken")."""
        data = args["webhookSubscription"]
        uri = data.get("uri") or data.get("callbackUrl") or ""
        parsed = httpx.URL(uri) if re.match(r"^https?://", uri) else None
        loopback = parsed is not None and parsed.host in ("127.0.0.1", "localhost", "::1", "testserver")
        if parsed is None or (parsed.scheme != "https" and not loopback):
            error = _user_error(["webhookSubscription", "callbackUrl"], "Address protocol http:// is not supported")
            return {"webhookSubscription": None, "userErrors": [error]}
        webhooks = self.state.setdefault("webhooks", {})
        if any(w["topic"] == args["topic"] and w["uri"] == uri for w in webhooks.values()):
            error = _user_error(["webhookSubscription", "callbackUrl"], "Address for this topic has already been taken")
            return {"webhookSubscription": None, "userErrors": [error]}
        stamp = self._stamp()
        subscription = {
            "id": self._gid("WebhookSubscription"),
            "topic": args["topic"],
            "uri": uri,
            "format": data.get("format") or "JSON",
            "apiVersion": version,
            "createdAt": stamp,
            "updatedAt": stamp,
            "includeFields": data.get("includeFields") or [],
            "filter": data.get("filter"),
        }
        webhooks[subscription["id"]] = subscription
        return {"webhookSubscription": {**subscription, "callbackUrl": uri}, "userErrors": []}

    def _order_event(self, order: dict[str, Any], *topics: str) -> None:
        """Deliver the order's REST payload to every subscription of these topics, signed with the app's client
        secret (base64 HMAC-SHA256 of the raw body), from a background thread."""
        shop = str(self.options.get("shop") or "emulator").removesuffix(".myshopify.com")
        for subscription in list(self.state.get("webhooks", {}).values()):
            if subscription["topic"] not in topics:
                continue
            name = subscription["topic"].lower().replace("_", "/", 1)
            body = json.dumps(self._rest_order(order)).encode("utf-8")
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": name,
                "X-Shopify-Hmac-Sha256": hmac_base64(self.credentials.get("client_secret", ""), body),
                "X-Shopify-Shop-Domain": f"{shop}.myshopify.com",
                "X-Shopify-API-Version": subscription["apiVersion"],
                "X-Shopify-Webhook-Id": f"{self.rng.getrandbits(128):032x}",
                "X-Shopify-Event-Id": f"{self.rng.getrandbits(128):032x}",
                "X-Shopify-Triggered-At": self.now().astimezone(UTC).isoformat(),
            }
            self.deliver_webhook(subscription["uri"], name, headers, body)

    def _rest_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """An order as a webhook carries it: the REST Admin API resource (snake_case, numeric ids)."""
        fulfillment = order.get("displayFulfillmentStatus")
        return {
            "id": int(order["id"].rsplit("/", 1)[1]),
            "admin_graphql_api_id": order["id"],
            "name": order["name"],
            "created_at": order["createdAt"],
            "updated_at": order["updatedAt"],
            "cancelled_at": order.get("cancelledAt"),
            "financial_status": str(order.get("displayFinancialStatus") or "PENDING").lower(),
            "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(fulfillment or ""),
            "currency": order["currencyCode"],
            "total_price": order["totalPriceSet"]["shopMoney"]["amount"],
            "line_items": [
                {
                    "id": int(item["id"].rsplit("/", 1)[1]),
                    "admin_graphql_api_id": item["id"],
                    "sku": item["sku"],
                    "title": item["title"],
                    "quantity": item["quantity"],
                    "price": item["originalUnitPriceSet"]["shopMoney"]["amount"],
                }
                for item in order["lineItems"]
            ],
        }


def _user_error(field: list[str] | None, message: str, code: str | None = None) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


def _check_inventory_version(version: str, key: Any) -> None:
    """From 2026-04 the @idempotent directive with a key is required (earlier versions' schemas refuse
    the fields and directive they lack before this runs)."""
    if _at_least(version, "2026-04") and not key:
        raise TopLevelError("The @idempotent directive with a key is required for this mutation.", "BAD_REQUEST")


def _field_error(error: GraphQLError) -> dict[str, Any]:
    """An execution error of one field, as GraphQL servers report it beside partial data."""
    out: dict[str, Any] = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    return out


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
        # "Omitting changeFromQuantity returns an error": the schema's codes have none for it, so no code [U]
        return _user_error(
            [*path, "changeFromQuantity"], "changeFromQuantity is required; pass null to skip the check."
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


def _gid_number(gid: str) -> int:
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0
