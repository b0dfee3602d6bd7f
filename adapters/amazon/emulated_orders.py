"""The Amazon emulator's orders: one neutral record per order, answered as Orders API v0 (until its
removal) and as Orders API v2026-01-01.

Written from the official models (``ordersV0.json``, ``orders_2026-01-01.json``) and the migration guide,
not from the adapter. A record keeps the v2026 vocabulary (``fulfillmentStatus``, ``fulfilledBy``) and
money as strings; the renderers below build each version's shapes from it:

* v0 ``getOrders``/``getOrder``/``getOrderItems``: ``{"payload": ...}``, ``ItemPrice`` is the line total,
  ``OrderTotal`` is absent while an order is Pending, statuses in v0 spelling (``Canceled``).
* v2026 ``searchOrders``/``getOrder``: items always embedded; ``buyer``, ``recipient``, ``proceeds`` and
  ``fulfillment`` only when ``includedData`` asks for them; ``unitPrice`` per unit; ``Money.amount`` a
  decimal string; a ``paginationToken`` that expires after 24 hours and binds the other filters.

Deprecation: v0 ``getOrders``, ``getOrder`` and ``getOrderItems`` are removed on :data:`V0_REMOVAL`. From
then on the service refuses them as it refused the removed Feeds API v2020-09-04 (HTTP 403, code
``Unauthorized``, "Access to requested resource is denied."), judged by the emulator's own clock.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

V0_REMOVAL = datetime(2027, 3, 27, tzinfo=UTC)
TOKEN_LIFETIME = timedelta(hours=24)
MIN_LAG = timedelta(minutes=2)  # "...Before" must be at least two minutes before the time of the request

#: v2026 FulfillmentStatus -> v0 OrderStatus
V0_STATUS = {
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}
#: v0 OrderStatus -> v2026 FulfillmentStatus (InvoiceUnconfirmed has no v2026 value: all items shipped)
V2026_STATUS = {**{v0: new for new, v0 in V0_STATUS.items()}, "InvoiceUnconfirmed": "SHIPPED"}
FULFILLED_BY = {"MERCHANT": "MFN", "AMAZON": "AFN"}  # v2026 fulfilledBy -> v0 FulfillmentChannel
INCLUDED_DATA = (
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
)
MARKETPLACE_NAMES = {
    "ATVPDKIKX0DER": "Amazon.com",
    "A2EUQ1WTGCTBG2": "Amazon.ca",
    "A1AM78C64UM0Y8": "Amazon.com.mx",
    "A2Q3Y263D00KWC": "Amazon.com.br",
    "A1F83G8C2ARO7P": "Amazon.co.uk",
    "A1PA6795UKMFR9": "Amazon.de",
    "A13V1IB3VIYZZH": "Amazon.fr",
    "APJ6JRA9NG5V4": "Amazon.it",
    "A1RKKUPIHCS9HS": "Amazon.es",
    "A1805IZSGTT6HS": "Amazon.nl",
    "A1VC38T7YXB528": "Amazon.co.jp",
    "A39IBJ37TRP1C6": "Amazon.com.au",
    "A19VAU5U5O7RUS": "Amazon.sg",
}


class InvalidInput(ValueError):
    """A request the service answers with 400 ``InvalidInput``; ``details`` says what was wrong."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, name: str) -> datetime:
    """An ISO 8601 date-time with a zone (as the models require), else InvalidInput naming the parameter."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} is not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo is None:
        raise InvalidInput(f"{name} must carry a time zone (e.g. a trailing Z): {text!r}")
    return value.astimezone(UTC)


def csv_values(params: Any, name: str) -> list[str]:
    """An array query parameter: comma-separated (the models' default collection format) or repeated."""
    return [v for raw in params.get_list(name) for v in raw.split(",") if v]


def _quantum(currency: str) -> Decimal:
    return Decimal(1) if currency == "JPY" else Decimal("0.01")


def _money(amount: Decimal | str, currency: str) -> dict[str, str]:
    return {
        "amount": str(Decimal(amount).quantize(_quantum(currency), rounding=ROUND_HALF_UP)),
        "currencyCode": currency,
    }


def _v0_money(amount: Decimal | str, currency: str) -> dict[str, str]:
    value = Decimal(amount).quantize(_quantum(currency), rounding=ROUND_HALF_UP)
    return {"CurrencyCode": currency, "Amount": str(value)}


# ------------------------------------------------------------------------------------------ records
def new_record(
    order_id: str,
    at: datetime,
    marketplace_id: str,
    currency: str,
    country: str,
    lines: list[dict[str, Any]],
    shipping: str,
    buyer_tag: str,
) -> dict[str, Any]:
    """A freshly placed merchant-fulfilled order, ready to ship (UNSHIPPED)."""
    return {
        "id": order_id,
        "created": stamp(at),
        "updated": stamp(at),
        "status": "UNSHIPPED",
        "v0_status": None,
        "fulfilledBy": "MERCHANT",
        "marketplace": marketplace_id,
        "currency": currency,
        "shipping": shipping,
        "address": {"countryCode": country, "postalCode": "98101", "stateOrRegion": "WA", "city": "Seattle"},
        "buyer": {"buyerName": f"Emulated Buyer {buyer_tag}", "buyerEmail": f"{buyer_tag}@marketplace.amazon.com"},
        "lines": lines,
    }


def set_status(record: dict[str, Any], status: str, at: datetime) -> None:
    """Move an order to a v2026 FulfillmentStatus or a v0 OrderStatus (kept for v0's own spelling)."""
    if status in V0_STATUS:
        record["status"], record["v0_status"] = status, None
    elif status in V2026_STATUS:
        record["status"], record["v0_status"] = V2026_STATUS[status], status
    else:
        known = ", ".join([*V0_STATUS, *V2026_STATUS])
        raise ValueError(f"{status!r} is not an order status; known: {known}")
    shipped = record["status"] == "SHIPPED"
    for line in record["lines"]:
        line["shipped"] = line["quantity"] if shipped else line.get("shipped", 0)
    record["updated"] = stamp(at)


def _pending(record: Mapping[str, Any]) -> bool:
    return record["status"] in ("PENDING", "PENDING_AVAILABILITY")


def _items_total(record: Mapping[str, Any]) -> Decimal:
    return sum((Decimal(line["unit"]) * line["quantity"] for line in record["lines"]), Decimal(0))


# ------------------------------------------------------------------------------------------ v0 shapes
def v0_order(record: Mapping[str, Any]) -> dict[str, Any]:
    currency = record["currency"]
    shipped = sum(line.get("shipped", 0) for line in record["lines"])
    ordered = sum(line["quantity"] for line in record["lines"])
    order: dict[str, Any] = {
        "AmazonOrderId": record["id"],
        "PurchaseDate": record["created"],
        "LastUpdateDate": record["updated"],
        "OrderStatus": record.get("v0_status") or V0_STATUS[record["status"]],
        "FulfillmentChannel": FULFILLED_BY[record["fulfilledBy"]],
        "MarketplaceId": record["marketplace"],
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": ordered - shipped,
        "ShippingAddress": {
            "CountryCode": record["address"]["countryCode"],
            "PostalCode": record["address"]["postalCode"],
        },
    }
    if not _pending(record):  # Pending orders carry no totals yet
        order["OrderTotal"] = _v0_money(_items_total(record) + Decimal(record["shipping"]), currency)
    return order


def v0_items(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    currency = record["currency"]
    items = []
    for n, line in enumerate(record["lines"]):
        item: dict[str, Any] = {
            "ASIN": line["asin"],
            "SellerSKU": line["sku"],
            "OrderItemId": line["id"],
            "Title": line["title"],
            "QuantityOrdered": line["quantity"],
            "QuantityShipped": line.get("shipped", 0),
            "ItemPrice": _v0_money(Decimal(line["unit"]) * line["quantity"], currency),  # the line total
        }
        if n == 0:  # the order's shipping charge rides on its first item
            item["ShippingPrice"] = _v0_money(record["shipping"], currency)
        items.append(item)
    return items


# ------------------------------------------------------------------------------------- v2026 shapes
def v2026_order(record: Mapping[str, Any], included: Iterable[str]) -> dict[str, Any]:
    """An Order of v2026-01-01: the base fields and items, plus each requested ``includedData`` set."""
    wanted = set(included)
    currency = record["currency"]
    order: dict[str, Any] = {
        "orderId": record["id"],
        "createdTime": record["created"],
        "lastUpdatedTime": record["updated"],
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": record["marketplace"],
            "marketplaceName": MARKETPLACE_NAMES.get(record["marketplace"], "Amazon"),
        },
        "orderItems": [_v2026_item(record, n, line, wanted) for n, line in enumerate(record["lines"])],
    }
    if "BUYER" in wanted:
        order["buyer"] = dict(record["buyer"])
    if "RECIPIENT" in wanted:
        order["recipient"] = {"deliveryAddress": {**record["address"], "addressType": "RESIDENTIAL"}}
    if "PROCEEDS" in wanted and not _pending(record):
        items = _items_total(record)
        order["proceeds"] = {
            "grandTotal": _money(items + Decimal(record["shipping"]), currency),
            "breakdowns": [
                {"type": "ITEM", "subtotal": _money(items, currency)},
                {"type": "SHIPPING", "subtotal": _money(record["shipping"], currency)},
            ],
        }
    if "FULFILLMENT" in wanted:
        order["fulfillment"] = {
            "fulfillmentStatus": record["status"],
            "fulfilledBy": record["fulfilledBy"],
            "fulfillmentServiceLevel": "STANDARD",
        }
    return order


def _v2026_item(record: Mapping[str, Any], n: int, line: Mapping[str, Any], wanted: set[str]) -> dict[str, Any]:
    currency = record["currency"]
    item: dict[str, Any] = {
        "orderItemId": line["id"],
        "quantityOrdered": line["quantity"],
        "product": {
            "asin": line["asin"],
            "title": line["title"],
            "sellerSku": line["sku"],
            "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
            "price": {"unitPrice": _money(line["unit"], currency)},
        },
    }
    if "PROCEEDS" in wanted and not _pending(record):
        subtotal = Decimal(line["unit"]) * line["quantity"]
        breakdowns = [{"type": "ITEM", "subtotal": _money(subtotal, currency)}]
        total = subtotal
        if n == 0:
            breakdowns.append({"type": "SHIPPING", "subtotal": _money(record["shipping"], currency)})
            total += Decimal(record["shipping"])
        item["proceeds"] = {"proceedsTotal": _money(total, currency), "breakdowns": breakdowns}
    if "FULFILLMENT" in wanted:
        shipped = line.get("shipped", 0)
        item["fulfillment"] = {"quantityFulfilled": shipped, "quantityUnfulfilled": line["quantity"] - shipped}
    return item


# ------------------------------------------------------------------------------------------ queries
class Window:
    """The time filter of a search: which date (created or last updated) between which bounds."""

    def __init__(self, field: str, after: datetime, before: datetime) -> None:
        self.field = field  # "created" | "updated"
        self.after = after
        self.before = before

    def holds(self, record: Mapping[str, Any]) -> bool:
        return self.after <= parse_time(record[self.field], self.field) <= self.before


def window(params: Any, now: datetime, names: Mapping[str, str]) -> Window:
    """The created/updated window of a search, by the rules both versions state: exactly one of the two
    "after" parameters; no mixing of created and updated bounds; "before" at or after "after" and at least
    two minutes before the time of the request (the default end)."""
    ca, cb, ua, ub = (params.get(names[k]) for k in ("ca", "cb", "ua", "ub"))
    if bool(ca) == bool(ua):
        raise InvalidInput(f"Exactly one of {names['ca']} and {names['ua']} must be provided.")
    if ca and ub or ua and cb:
        raise InvalidInput(f"{names['ca']}/{names['cb']} cannot be combined with {names['ua']}/{names['ub']}.")
    field, after_name, before_name = ("created", "ca", "cb") if ca else ("updated", "ua", "ub")
    after = parse_time(params[names[after_name]], names[after_name])
    latest = now - MIN_LAG
    raw_before = params.get(names[before_name])
    before = parse_time(raw_before, names[before_name]) if raw_before else latest
    if before < after or before > latest:
        raise InvalidInput(
            f"{names[before_name]} must be equal to or after {names[after_name]} and at least two minutes before "
            "the time of the request."
        )
    return Window(field, after, before)


def page_size(params: Any, name: str) -> int:
    raw = params.get(name, "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise InvalidInput(f"{name} must be between 1 and 100.")
    return int(raw)


def search(
    records: Iterable[Mapping[str, Any]], when: Window, keep: Callable[[Mapping[str, Any]], bool]
) -> list[Mapping[str, Any]]:
    """The matching records in the order both versions page them: by the window's date, then id."""
    rows = [r for r in records if when.holds(r) and keep(r)]
    return sorted(rows, key=lambda r: (r[when.field], r["id"]))


# --------------------------------------------------------------------------------- pagination token
_TOKEN_FREE = frozenset({"paginationToken", "maxResultsPerPage", "includedData"})


def fingerprint(params: Any) -> str:
    """What a paginationToken binds: every parameter except the token, the page size and includedData."""
    pairs = sorted((k, v) for k, v in params.multi_items() if k not in _TOKEN_FREE)
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:16]


def issue_token(offset: int, params: Any, now: datetime) -> str:
    raw = json.dumps({"o": offset, "t": stamp(now), "f": fingerprint(params)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def read_token(token: str, params: Any, now: datetime) -> int:
    """The offset a paginationToken stands for; InvalidInput when it is malformed, older than 24 hours, or
    sent with other filters than the request that produced it."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, issued, bound = int(data["o"]), parse_time(data["t"], "paginationToken"), str(data["f"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("Invalid paginationToken.") from None
    if now - issued > TOKEN_LIFETIME:
        raise InvalidInput("The paginationToken has expired (tokens are valid for 24 hours).")
    if bound != fingerprint(params):
        raise InvalidInput("Parameters must have the same values as the request that returned the paginationToken.")
    return offset


# ----------------------------------------------------------------------------------------- shipping
_PACKAGE_REQUIRED = ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems")


def shipment_problem(body: Any, record: Mapping[str, Any]) -> str | None:
    """What is wrong with a ConfirmShipmentRequest for this order (None: acceptable)."""
    if not isinstance(body, dict) or not isinstance(body.get("packageDetail"), dict):
        return "packageDetail is required."
    if body.get("marketplaceId") != record["marketplace"]:
        return f"marketplaceId {body.get('marketplaceId')!r} is not the order's marketplace."
    package = body["packageDetail"]
    missing = [name for name in _PACKAGE_REQUIRED if package.get(name) in (None, "", [])]
    if missing:
        return f"packageDetail is missing {', '.join(missing)}."
    if not str(package["packageReferenceId"]).isdigit() or int(package["packageReferenceId"]) <= 0:
        return "packageReferenceId must be a positive number."
    if package["carrierCode"] == "Other" and not package.get("carrierName"):
        return "carrierName is required when carrierCode is Other."
    try:
        parse_time(str(package["shipDate"]), "shipDate")
    except InvalidInput as exc:
        return exc.details
    if record["status"] not in ("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"):
        return f"order {record['id']} is {record['status']} and cannot be confirmed as shipped."
    lines = {line["id"]: line for line in record["lines"]}
    for item in package["orderItems"]:
        if not isinstance(item, dict) or item.get("orderItemId") not in lines:
            return f"orderItemId {item.get('orderItemId') if isinstance(item, dict) else item!r} is not in the order."
        if (
            not isinstance(item.get("quantity"), int)
            or not 0 < item["quantity"] <= lines[item["orderItemId"]]["quantity"]
        ):
            return f"quantity of {item['orderItemId']} must be between 1 and the quantity ordered."
    return None


def confirm_shipment(record: dict[str, Any], package: Mapping[str, Any], at: datetime) -> None:
    """Record (or edit, by packageReferenceId) a package and recount what shipped per line."""
    packages = record.setdefault("packages", {})
    packages[str(package["packageReferenceId"])] = {
        "carrierCode": package["carrierCode"],
        "carrierName": package.get("carrierName"),
        "trackingNumber": package["trackingNumber"],
        "shipDate": package["shipDate"],
        "orderItems": [dict(i) for i in package["orderItems"]],
    }
    shipped: dict[str, int] = {}
    for kept in packages.values():
        for item in kept["orderItems"]:
            shipped[item["orderItemId"]] = shipped.get(item["orderItemId"], 0) + int(item["quantity"])
    for line in record["lines"]:
        line["shipped"] = min(line["quantity"], shipped.get(line["id"], 0))
    done = all(line["shipped"] >= line["quantity"] for line in record["lines"])
    record["status"] = "SHIPPED" if done else "PARTIALLY_SHIPPED"
    record["v0_status"] = None
    record["updated"] = stamp(at)
