"""Pure wire mapping between our value types and WooCommerce REST v3 JSON (no I/O here).

Wire rules from the v3 property tables: prices are STRINGS (``"9.90"``), ``stock_quantity`` is an
INTEGER and only counts when ``manage_stock`` is true, ``*_gmt`` dates are naive ISO 8601 in UTC while
the plain ones are in the site's time zone.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from listing_sync.adapters.base import (
    ListingDraft,
    ListingRef,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Recipient,
    RemoteListing,
    SaleWindow,
    Shipment,
    Variation,
)
from listing_sync.adapters.carriers import CARRIERS, english_name
from listing_sync.adapters.money import parse_decimal, round_money

API_PATH = "/wp-json/wc/v3"
VARIATION_KEY = "variation_id:"  # ids key prefix of a variation's id inside its parent's ref

# WooCommerce order statuses (v3 docs) -> ours. WooCommerce itself reduces stock when an order goes to
# on-hold or processing, so on-hold (awaiting a bank transfer) reserves like a paid order.
ORDER_STATUS = {
    "pending": OrderStatus.PENDING,
    "checkout-draft": OrderStatus.PENDING,
    "on-hold": OrderStatus.PAID,
    "processing": OrderStatus.PAID,
    "completed": OrderStatus.SHIPPED,
    "cancelled": OrderStatus.CANCELLED,
    "failed": OrderStatus.CANCELLED,
    "trash": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED,
}

GRAMS_PER_UNIT = {"g": Decimal(1), "kg": Decimal(1000), "lbs": Decimal("453.59237"), "oz": Decimal("28.349523125")}


# ------------------------------------------------------------------------------------------ helpers
def api_root(site: str) -> str:
    """``https://{site}/wp-json/wc/v3`` from a host, host/path or full URL (scheme kept if given)."""
    site = site.strip().rstrip("/")
    if "://" not in site:
        site = f"https://{site}"
    return site if site.endswith(API_PATH) else f"{site}{API_PATH}"


def gmt(value: datetime) -> str:
    """An aware datetime as the naive UTC ISO 8601 string WooCommerce wants with dates_are_gmt=true."""
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def parse_gmt(value: str | None) -> datetime | None:
    """A ``*_gmt`` field (naive ISO 8601 in UTC) as an aware datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def money(value: Any, currency: str) -> Money | None:
    """A WooCommerce amount (string; sometimes a JSON number, parsed as Decimal) as Money."""
    if value is None or value == "":
        return None
    return Money(parse_decimal(value if not isinstance(value, float) else str(value)), currency)


def ref_for_product(sku: str, product_id: int | str, variations: Mapping[str, int | str] | None = None) -> ListingRef:
    ids = {"product_id": str(product_id)}
    ids.update({f"{VARIATION_KEY}{vsku}": str(vid) for vsku, vid in (variations or {}).items()})
    return ListingRef(sku, str(product_id), ids)


def ref_for_variation(sku: str, product_id: int | str, variation_id: int | str) -> ListingRef:
    return ListingRef(sku, str(variation_id), {"product_id": str(product_id), "variation_id": str(variation_id)})


def target_of(sku: str, ref: ListingRef | None) -> tuple[str, str | None] | None:
    """(product_id, variation_id or None) named by ``ref`` for ``sku``; None when it does not say.

    A variation may carry its own ref (``variation_id``) or its parent's ref, which lists every
    variation as ``variation_id:<sku>``.
    """
    if ref is None or not ref.get("product_id"):
        return None
    product_id = ref.ids["product_id"]
    if ref.get("variation_id"):
        return product_id, ref.ids["variation_id"]
    if ref.get(f"{VARIATION_KEY}{sku}"):
        return product_id, ref.ids[f"{VARIATION_KEY}{sku}"]
    if ref.sku == sku:
        return product_id, None
    return None


DISABLED = "disabled"  # ref mark: this variation was disabled (``private``) by a delist of its own


def is_disabled(ref: ListingRef | None) -> bool:
    return ref is not None and ref.get(DISABLED) == "1"


def with_disabled(ref: ListingRef | None, disabled: bool) -> ListingRef | None:
    """``ref`` with the variation's disabled mark set or cleared."""
    if ref is None or is_disabled(ref) == disabled:
        return ref
    ids = {k: v for k, v in ref.ids.items() if k != DISABLED}
    return ListingRef(ref.sku, ref.external_id, {**ids, DISABLED: "1"} if disabled else ids)


def whole_products(items: Sequence[Any]) -> dict[str, list[int]]:
    """Variable products every bound variation of which is in ``items`` (by the parent refs the items
    carry, which list each variation as ``variation_id:<sku>``): product id -> the items' positions.
    Items with a variation's own ref (no list of siblings) never make a product whole."""
    members: dict[str, list[int]] = {}
    bound: dict[str, set[str]] = {}
    for n, item in enumerate(items):
        ref = item.ref
        if ref is None or not ref.get("product_id") or ref.get("variation_id"):
            continue
        siblings = {k[len(VARIATION_KEY) :] for k in ref.ids if k.startswith(VARIATION_KEY)}
        if item.sku not in siblings:
            continue
        product = ref.ids["product_id"]
        members.setdefault(product, []).append(n)
        bound.setdefault(product, set()).update(siblings)
    asked = {product: {items[n].sku for n in ns} for product, ns in members.items()}
    return {product: ns for product, ns in members.items() if bound[product] <= asked[product]}


def batch_error(element: Any) -> tuple[str, str, int] | None:
    """(code, message, HTTP status) when a batch element is an inlined failure, else None."""
    if not isinstance(element, Mapping):
        return "invalid_response", f"unexpected batch element {element!r}", 500
    error = element.get("error")
    if not error:
        return None
    if not isinstance(error, Mapping):
        return "woocommerce_error", str(error), 400
    data = raw if isinstance(raw := error.get("data"), Mapping) else {}
    status = data.get("status", 400)
    return str(error.get("code") or "woocommerce_error"), str(error.get("message") or ""), int(status or 400)


# --------------------------------------------------------------------------------------- to the wire
def price_fields(price: Money, list_price: Money | None = None, sale: SaleWindow | None = None) -> dict[str, str]:
    """``regular_price`` is the struck-through list price and ``sale_price`` the selling price; an
    empty ``sale_price`` clears a stale sale so the pushed price is the price customers pay (a product is
    on sale only with a sale price, whatever dates remain). With ``sale`` (a promotion), ``price`` is the
    regular price and the sale price carries ``date_on_sale_from_gmt``/``date_on_sale_to_gmt``: WooCommerce
    shows it between them by itself."""
    if sale is not None:
        return {
            "regular_price": price.wire(),
            "sale_price": sale.price.wire(),
            "date_on_sale_from_gmt": gmt(sale.starts_at),
            "date_on_sale_to_gmt": gmt(sale.ends_at),
        }
    if list_price is not None and list_price.amount > price.amount:
        return {"regular_price": list_price.wire(), "sale_price": price.wire()}
    return {"regular_price": price.wire(), "sale_price": ""}


def stock_fields(quantity: int) -> dict[str, Any]:
    return {"manage_stock": True, "stock_quantity": int(quantity)}


def weight(grams: int, unit: str) -> str:
    value = (Decimal(grams) / GRAMS_PER_UNIT[unit]).quantize(Decimal("0.001")).normalize()
    return format(value, "f")


def categories(category_id: str) -> list[dict[str, int]]:
    """``"12"`` or ``"12,15"`` (WooCommerce product category ids) as ``[{"id": 12}, ...]``."""
    out = []
    for part in filter(None, (p.strip() for p in category_id.split(","))):
        if not part.isdigit():
            raise ValueError(f"category_id {category_id!r}: WooCommerce wants numeric product category ids")
        out.append({"id": int(part)})
    return out


def _short_description(points: Iterable[str]) -> str:
    items = "".join(f"<li>{html.escape(p)}</li>" for p in points)
    return f"<ul>{items}</ul>" if items else ""


def _attributes(draft: ListingDraft) -> list[dict[str, Any]]:
    """Product attributes; those the variations use are flagged ``variation: true``."""
    options: dict[str, list[str]] = {}
    varying: set[str] = set()
    for name, values in draft.attributes.items():
        options.setdefault(name, []).extend(v for v in values if v not in options.get(name, []))
    for variation in draft.variations:
        for name, value in variation.attributes.items():
            varying.add(name)
            if value not in options.setdefault(name, []):
                options[name].append(value)
    return [
        {"name": name, "position": i, "visible": True, "variation": name in varying, "options": values}
        for i, (name, values) in enumerate(options.items())
    ]


def product_body(draft: ListingDraft, *, weight_unit: str, create: bool) -> dict[str, Any]:
    """A product create/update object. Variable products carry no price or stock of their own."""
    body: dict[str, Any] = {
        "name": draft.title,
        "type": "variable" if draft.variations else "simple",
        "sku": draft.sku,
        "description": draft.description,
    }
    if create:
        body["status"] = "publish"  # updates leave the status alone: a delisted listing stays delisted
    if draft.bullet_points:
        body["short_description"] = _short_description(draft.bullet_points)
    if draft.category_id:
        body["categories"] = categories(draft.category_id)
    if draft.images:
        body["images"] = [{"src": src} for src in draft.images]
    attributes = _attributes(draft)
    if attributes:
        body["attributes"] = attributes
    if draft.weight_grams is not None:
        body["weight"] = weight(draft.weight_grams, weight_unit)
    if draft.variations:
        body["manage_stock"] = False
    else:
        body.update(price_fields(draft.price))
        body.update(stock_fields(draft.quantity))
    return body


def variation_body(variation: Variation) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": variation.sku,
        **price_fields(variation.price),
        **stock_fields(variation.quantity),
        "attributes": [{"name": name, "option": value} for name, value in variation.attributes.items()],
    }
    if variation.images:
        body["image"] = {"src": variation.images[0]}
    return body


# ------------------------------------------------------------------------------------- from the wire
def order_status(raw: Mapping[str, Any]) -> OrderStatus:
    status = str(raw.get("status") or "")
    if status in ORDER_STATUS:
        return ORDER_STATUS[status]
    # A plugin's custom status ("shipped", "awaiting-shipment"): paid ones keep their reservation.
    return OrderStatus.PAID if raw.get("date_paid_gmt") or raw.get("date_paid") else OrderStatus.PENDING


def line_sku(line: Mapping[str, Any]) -> str:
    """The line's SKU; lines of deleted or SKU-less products get a stable placeholder the syncer can
    report as unknown instead of stalling the order sync."""
    sku = str(line.get("sku") or "").strip()
    if sku:
        return sku
    return f"woocommerce:product/{line.get('product_id') or 0}/variation/{line.get('variation_id') or 0}"


def unit_price(line: Mapping[str, Any], currency: str) -> Money:
    quantity = int(line.get("quantity") or 0)
    subtotal = line.get("subtotal")
    if subtotal not in (None, "") and quantity > 0:
        amount = round_money(parse_decimal(str(subtotal)) / quantity, currency)
        return Money(amount, currency)
    return money(line.get("price") or "0", currency) or Money(Decimal(0), currency)


def parse_order(raw: Mapping[str, Any]) -> Order:
    """A v3 order as our Order: times from the ``*_gmt`` fields, money in the order's currency, and no
    buyer data beyond the ship-to country."""
    currency = str(raw.get("currency") or "")
    created = parse_gmt(raw.get("date_created_gmt"))
    modified = parse_gmt(raw.get("date_modified_gmt")) or created
    if created is None or modified is None:
        raise ValueError(f"order {raw.get('id')}: no date_created_gmt")
    lines = tuple(
        OrderLine(
            line_id=str(line.get("id")),
            sku=line_sku(line),
            quantity=int(line.get("quantity") or 0),
            unit_price=unit_price(line, currency),
            title=line.get("name"),
        )
        for line in raw.get("line_items") or ()
    )
    shipping_to = raw.get("shipping") or {}
    billing = raw.get("billing") or {}
    country = shipping_to.get("country") or billing.get("country") or None
    return Order(
        external_id=str(raw["id"]),
        status=order_status(raw),
        raw_status=str(raw.get("status") or ""),
        placed_at=created,
        updated_at=modified,
        currency=currency,
        lines=lines,
        total=money(raw.get("total") or "0", currency) or Money(Decimal(0), currency),
        shipping=money(raw.get("shipping_total"), currency),
        ship_country=country,
        recipient=recipient(shipping_to or billing, billing),
    )


def recipient(to: Mapping[str, Any], billing: Mapping[str, Any]) -> Recipient:
    """The shipping address (billing when the order has none); the phone from shipping, else billing."""
    name = " ".join(str(to.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    company = str(to.get("company") or "").strip()
    return Recipient(
        name=f"{name} ({company})" if company and name else (name or company),
        phone=str(to.get("phone") or billing.get("phone") or ""),
        address1=str(to.get("address_1") or ""),
        address2=str(to.get("address_2") or ""),
        city=str(to.get("city") or ""),
        state=str(to.get("state") or ""),
        postal_code=str(to.get("postcode") or ""),
        country=str(to.get("country") or ""),
    )


def listing_status(raw: Mapping[str, Any]) -> str:
    return "active" if raw.get("status", "publish") == "publish" else "inactive"


def remote_product(raw: Mapping[str, Any], currency: str) -> RemoteListing:
    """A simple product, or a variable product's parent (price and quantity live on its variations)."""
    variable = raw.get("type") == "variable"
    return RemoteListing(
        sku=str(raw.get("sku") or ""),
        ref=ref_for_product(str(raw.get("sku") or ""), raw["id"]),
        price=None if variable else money(raw.get("price"), currency),
        quantity=None if variable or not raw.get("manage_stock") else raw.get("stock_quantity"),
        status=listing_status(raw),
        title=raw.get("name"),
    )


def remote_variation(parent: Mapping[str, Any], raw: Mapping[str, Any], currency: str) -> RemoteListing:
    return RemoteListing(
        sku=str(raw.get("sku") or ""),
        ref=ref_for_variation(str(raw.get("sku") or ""), parent["id"], raw["id"]),
        price=money(raw.get("price"), currency),
        quantity=raw.get("stock_quantity") if raw.get("manage_stock") is True else None,
        status="active" if listing_status(parent) == "active" and listing_status(raw) == "active" else "inactive",
        title=parent.get("name"),
    )


# ---------------------------------------------------------------------------------------- shipping
#: our carrier -> the name a WooCommerce order note and meta show (WooCommerce core has no carrier list)
CARRIER_CODES: Mapping[str, str] = {code: english_name(code) for code in CARRIERS}
TRACKING_META = "_listing_sync_tracking_{package}"


def shipment_update(shipment: Shipment, carrier_name: str) -> dict[str, Any]:
    """Update-an-order body: the package's tracking as order meta; status ``completed`` once all shipped."""
    body: dict[str, Any] = {
        "meta_data": [
            {
                "key": TRACKING_META.format(package=shipment.package),
                "value": {
                    "carrier": carrier_name,
                    "tracking_number": shipment.tracking,
                    "date_shipped": shipment.shipped_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "items": {line.sku: line.quantity for line in shipment.lines},
                },
            }
        ]
    }
    if shipment.complete:
        body["status"] = "completed"
    return body


def names_tracking(note: str, tracking: str) -> bool:
    """Whether an order note is the one :func:`shipment_note` wrote for this tracking number."""
    return f"tracking number {tracking}." in note


def shipment_note(shipment: Shipment, carrier_name: str) -> dict[str, Any]:
    """Create-an-order-note body: a note the customer sees (and is e-mailed) with carrier and tracking."""
    units = sum(line.quantity for line in shipment.lines)
    part = "" if shipment.complete else " (part of your order)"
    return {
        "note": f"Shipped {units} item(s){part} with {carrier_name}, tracking number {shipment.tracking}.",
        "customer_note": True,
    }


def cancel_note(reason: str) -> dict[str, Any]:
    """A private order note (not e-mailed) saying why the order was cancelled."""
    return {"note": f"Cancelled by the seller: {reason}", "customer_note": False}
