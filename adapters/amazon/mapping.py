"""Pure wire mapping for Amazon SP-API: our value types <-> Listings Items / JSON_LISTINGS_FEED / Orders v2026-01-01.

Money goes out as JSON *numbers* (``value_with_tax`` is a number in Amazon's own examples) written from
the Decimal's exact digits, never through float: see :func:`dumps`.
"""

from __future__ import annotations

import json
import re
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
from listing_sync.adapters.carriers import english_name

LISTINGS = "/listings/2021-08-01/items"
FEEDS = "/feeds/2021-06-30"
CONFIRM_SHIPMENT = "/orders/v0/orders/{order_id}/shipmentConfirmation"  # Orders v0 confirmShipment (not deprecated)
ORDERS = "/orders/2026-01-01/orders"  # Orders API v2026-01-01 searchOrders (v0 is removed 2027-03-27)
FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
CHANNEL_CODE = "DEFAULT"  # merchant-fulfilled; AMAZON_* (FBA) quantities cannot be set by sellers

# region -> production host (developer-docs: sp-api-endpoints)
HOSTS = {
    "NA": "sellingpartnerapi-na.amazon.com",
    "EU": "sellingpartnerapi-eu.amazon.com",
    "FE": "sellingpartnerapi-fe.amazon.com",
}
# country -> (marketplace id, region)
MARKETPLACES: dict[str, tuple[str, str]] = {
    "US": ("ATVPDKIKX0DER", "NA"),
    "CA": ("A2EUQ1WTGCTBG2", "NA"),
    "MX": ("A1AM78C64UM0Y8", "NA"),
    "BR": ("A2Q3Y263D00KWC", "NA"),
    "UK": ("A1F83G8C2ARO7P", "EU"),
    "DE": ("A1PA6795UKMFR9", "EU"),
    "FR": ("A13V1IB3VIYZZH", "EU"),
    "IT": ("APJ6JRA9NG5V4", "EU"),
    "ES": ("A1RKKUPIHCS9HS", "EU"),
    "NL": ("A1805IZSGTT6HS", "EU"),
    "SE": ("A2NODRKZP88ZB9", "EU"),
    "PL": ("A1C3SOZRARQ6R3", "EU"),
    "BE": ("AMEN7PMS3EDWL", "EU"),
    "IE": ("A28R8C7NBKEWEA", "EU"),
    "TR": ("A33AVAJ2PDY3EV", "EU"),
    "AE": ("A2VIGQ35RCS4UG", "EU"),
    "SA": ("A17E79C6D8DWNP", "EU"),
    "EG": ("ARBP9OOSHTCHU", "EU"),
    "IN": ("A21TJRUUN4KGV", "EU"),
    "ZA": ("AE08WJ6YKNBMC", "EU"),
    "JP": ("A1VC38T7YXB528", "FE"),
    "AU": ("A39IBJ37TRP1C6", "FE"),
    "SG": ("A19VAU5U5O7RUS", "FE"),
}
MARKETPLACE_REGION = {mid: region for mid, region in MARKETPLACES.values()}
MARKETPLACE_COUNTRY = {mid: country for country, (mid, _) in MARKETPLACES.items()}

#: Orders v2026-01-01 ``FulfillmentStatus`` -> ours (v0's InvoiceUnconfirmed has become SHIPPED)
ORDER_STATUS = {
    "PENDING_AVAILABILITY": OrderStatus.PENDING,
    "PENDING": OrderStatus.PENDING,
    "UNSHIPPED": OrderStatus.PAID,
    "PARTIALLY_SHIPPED": OrderStatus.PAID,  # some lines still to ship: keep the reservation
    "SHIPPED": OrderStatus.SHIPPED,
    "CANCELLED": OrderStatus.CANCELLED,
    "UNFULFILLABLE": OrderStatus.CANCELLED,
}


# --------------------------------------------------------------------------------------------- JSON
_DEC = re.compile(r'"\\u0000dec:(-?[0-9.]+)"')


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"\x00dec:{value}"
    if isinstance(value, Mapping):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mark(v) for v in value]
    return value


def dumps(body: Any) -> bytes:
    """JSON with Decimal values written as exact JSON numbers (``19.99``, ``1200``), no float involved."""
    text = json.dumps(_mark(body), separators=(",", ":"), ensure_ascii=False)
    return _DEC.sub(r"\1", text).encode("utf-8")


def amount(money: Money) -> Decimal:
    """The amount rounded to the currency's minor units, as the Decimal that goes on the wire."""
    return Decimal(money.wire())


def iso(value: datetime) -> str:
    """ISO 8601 UTC with a Z, as the SP-API date parameters want."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------ attributes
def price_attribute(price: Money, marketplace_id: str, sale: SaleWindow | None = None) -> list[dict[str, Any]]:
    """``purchasable_offer`` for one marketplace, audience ALL, our_price schedule (doc: manage purchasable
    offer); with ``sale`` also a ``discounted_price`` schedule with ``start_at`` and ``end_at``: Amazon sells
    at it between them by itself. Replacing the attribute without one removes an earlier discount."""
    offer: dict[str, Any] = {
        "marketplace_id": marketplace_id,
        "currency": price.currency,
        "audience": "ALL",
        "our_price": [{"schedule": [{"value_with_tax": amount(price)}]}],
    }
    if sale is not None:
        offer["discounted_price"] = [
            {
                "schedule": [
                    {
                        "start_at": iso(sale.starts_at),
                        "end_at": iso(sale.ends_at),
                        "value_with_tax": amount(sale.price),
                    }
                ]
            }
        ]
    return [offer]


def quantity_attribute(quantity: int) -> list[dict[str, Any]]:
    return [{"fulfillment_channel_code": CHANNEL_CODE, "quantity": quantity}]


def price_patch(price: Money, marketplace_id: str, sale: SaleWindow | None = None) -> dict[str, Any]:
    return {
        "op": "replace",
        "path": "/attributes/purchasable_offer",
        "value": price_attribute(price, marketplace_id, sale),
    }


def quantity_patch(quantity: int) -> dict[str, Any]:
    # merge only touches quantity: lead time and restock date set in Seller Central survive
    return {"op": "merge", "path": "/attributes/fulfillment_availability", "value": quantity_attribute(quantity)}


def patch_body(product_type: str, patches: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"productType": product_type, "patches": list(patches)}


def _text(value: str, marketplace_id: str, language_tag: str) -> dict[str, Any]:
    return {"value": value, "language_tag": language_tag, "marketplace_id": marketplace_id}


def language_tag(language: str, marketplace_id: str) -> str:
    """``en`` on the UK marketplace -> ``en_GB``; an explicit ``de_DE`` is kept."""
    if "_" in language or "-" in language:
        return language.replace("-", "_")
    country = MARKETPLACE_COUNTRY.get(marketplace_id, "US")
    return f"{language}_{'GB' if country == 'UK' else country}"


def listing_attributes(
    draft: ListingDraft,
    marketplace_id: str,
    *,
    sku: str | None = None,
    price: Money | None = None,
    quantity: int | None = None,
    variation: Variation | None = None,
    parent: bool = False,
) -> dict[str, Any]:
    """Attributes of a putListingsItem / feed UPDATE for a draft (or one of its variations, or its parent).

    ``draft.attributes`` are the product type's own attributes (already mapped by the syncer) and
    become ``[{"value": v, "marketplace_id": ...}]`` entries; our fixed fields map to the common ones.
    """
    tag = language_tag(draft.language, marketplace_id)
    mp = {"marketplace_id": marketplace_id}
    attrs: dict[str, Any] = {
        "item_name": [_text(draft.title, marketplace_id, tag)],
        "condition_type": [{"value": condition_type(draft.condition), **mp}],
    }
    if draft.description:
        attrs["product_description"] = [_text(draft.description, marketplace_id, tag)]
    if draft.bullet_points:
        attrs["bullet_point"] = [_text(b, marketplace_id, tag) for b in draft.bullet_points]
    if draft.brand:
        attrs["brand"] = [_text(draft.brand, marketplace_id, tag)]
    images = variation.images if variation and variation.images else draft.images
    if images:
        attrs["main_product_image_locator"] = [{"media_location": images[0], **mp}]
        for n, url in enumerate(images[1:9], start=1):
            attrs[f"other_product_image_locator_{n}"] = [{"media_location": url, **mp}]
    barcode = variation.barcode if variation else draft.barcode
    if barcode and not parent:
        attrs["externally_assigned_product_identifier"] = [{"type": _barcode_type(barcode), "value": barcode, **mp}]
    if draft.weight_grams:
        attrs["item_package_weight"] = [{"value": draft.weight_grams, "unit": "grams", **mp}]
    for name, values in draft.attributes.items():
        if name == "variation_theme":
            continue
        attrs[name] = [{"value": v, **mp} for v in values]
    if parent:
        given = draft.attributes.get("variation_theme")
        theme = given[0] if given else "/".join(sorted({k.upper() for v in draft.variations for k in v.attributes}))
        attrs["parentage_level"] = [{"value": "parent", **mp}]
        attrs["variation_theme"] = [{"name": theme or "SIZE"}]
        return attrs
    if variation is not None:
        attrs["parentage_level"] = [{"value": "child", **mp}]
        attrs["child_parent_sku_relationship"] = [
            {"child_relationship_type": "variation", "parent_sku": draft.sku, **mp}
        ]
        for name, value in variation.attributes.items():
            attrs[name.lower()] = [{"value": value, **mp}]
    if price is not None:
        attrs["purchasable_offer"] = price_attribute(price, marketplace_id)
    if quantity is not None:
        attrs["fulfillment_availability"] = quantity_attribute(quantity)
    return attrs


CONDITIONS = {
    "new": "new_new",
    "used": "used_good",
    "like_new": "used_like_new",
    "refurbished": "refurbished_refurbished",
    "collectible": "collectible_good",
}


def condition_type(condition: str) -> str:
    """Our condition word as Amazon's ``condition_type`` (``new`` -> ``new_new``); Amazon values pass as is."""
    return condition if "_" in condition else CONDITIONS.get(condition, condition)


def _barcode_type(code: str) -> str:
    digits = code.isdigit()
    if digits and len(code) == 12:
        return "upc"
    if digits and len(code) == 13:
        return "ean"
    if digits and len(code) == 14:
        return "gtin"
    return "ean"


def put_bodies(draft: ListingDraft, marketplace_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(sku, putListingsItem body) for a draft: the parent first, then each variation child."""

    def body(attributes: dict[str, Any]) -> dict[str, Any]:
        return {"productType": draft.category_id, "requirements": "LISTING", "attributes": attributes}

    if not draft.variations:
        return [
            (draft.sku, body(listing_attributes(draft, marketplace_id, price=draft.price, quantity=draft.quantity)))
        ]
    out = [(draft.sku, body(listing_attributes(draft, marketplace_id, parent=True)))]
    for v in draft.variations:
        attrs = listing_attributes(draft, marketplace_id, sku=v.sku, price=v.price, quantity=v.quantity, variation=v)
        out.append((v.sku, body(attrs)))
    return out


# ------------------------------------------------------------------------------------------- feeds
def feed_document(seller_id: str, messages: Sequence[Mapping[str, Any]], issue_locale: str | None = None) -> dict:
    header: dict[str, Any] = {"sellerId": seller_id, "version": "2.0"}
    if issue_locale:
        header["issueLocale"] = issue_locale
    return {"header": header, "messages": list(messages)}


def patch_message(message_id: int, sku: str, product_type: str, patches: Sequence[Mapping[str, Any]]) -> dict:
    return {
        "messageId": message_id,
        "sku": sku,
        "operationType": "PATCH",
        "productType": product_type,
        "patches": list(patches),
    }


def update_message(message_id: int, sku: str, put_body: Mapping[str, Any]) -> dict:
    return {
        "messageId": message_id,
        "sku": sku,
        "operationType": "UPDATE",
        "productType": put_body["productType"],
        "requirements": put_body.get("requirements", "LISTING"),
        "attributes": put_body["attributes"],
    }


def delete_message(message_id: int, sku: str) -> dict:
    return {"messageId": message_id, "sku": sku, "operationType": "DELETE"}


def report_errors(report: Mapping[str, Any]) -> tuple[dict[int, list[dict]], list[dict]]:
    """ERROR issues of a processing report by messageId, plus those tied to no message (whole feed)."""
    by_message: dict[int, list[dict]] = {}
    general: list[dict] = []
    for issue in report.get("issues") or []:
        if issue.get("severity") != "ERROR":
            continue
        if issue.get("messageId") is None:
            general.append(issue)
        else:
            by_message.setdefault(int(issue["messageId"]), []).append(issue)
    return by_message, general


def issue_text(issues: Iterable[Mapping[str, Any]]) -> str:
    parts = []
    for issue in issues:
        code = issue.get("code")
        where = issue.get("attributeName") or ",".join(issue.get("attributeNames") or [])
        parts.append(f"{issue.get('message')}" + (f" [{where}]" if where else "") + (f" ({code})" if code else ""))
    return "; ".join(parts)


def error_issues(issues: Iterable[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    return [i for i in issues or [] if i.get("severity") == "ERROR"]


# ---------------------------------------------------------------------------------------- read-back
def remote_listing(item: Mapping[str, Any], marketplace_id: str) -> RemoteListing:
    """A searchListingsItems / getListingsItem item (summaries, offers, fulfillmentAvailability)."""
    sku = item["sku"]
    summary = next((s for s in item.get("summaries") or [] if s.get("marketplaceId") == marketplace_id), None)
    offer = next(
        (
            o
            for o in item.get("offers") or []
            if o.get("marketplaceId") == marketplace_id and (o.get("audience") or {}).get("value", "ALL") == "ALL"
        ),
        None,
    )
    price = None
    if offer and offer.get("price"):
        price = Money.of(offer["price"]["amount"], offer["price"]["currencyCode"])
    quantity = next(
        (
            f.get("quantity")
            for f in item.get("fulfillmentAvailability") or []
            if f.get("fulfillmentChannelCode") == CHANNEL_CODE
        ),
        None,
    )
    ids = {}
    if summary and summary.get("asin"):
        ids["asin"] = summary["asin"]
    if summary and summary.get("productType"):
        ids["product_type"] = summary["productType"]
    statuses = set(summary.get("status") or []) if summary else set()
    status = "active" if "BUYABLE" in statuses else "inactive"
    return RemoteListing(
        sku=sku,
        ref=ListingRef(sku, ids.get("asin"), ids),
        price=price,
        quantity=quantity,
        status=status,
        title=summary.get("itemName") if summary else None,
    )


# -------------------------------------------------------------------------------------------- orders
#: includedData of a searchOrders page: status (FULFILLMENT), money (PROCEEDS), ship-to country
#: (RECIPIENT). Items come with every order. BUYER is never asked for: no buyer data is kept.
ORDER_DATA = ("FULFILLMENT", "PROCEEDS", "RECIPIENT")


def order_params(
    marketplace_id: str, since: datetime, until: datetime, page_size: int, token: str | None
) -> dict[str, Any]:
    """searchOrders query. With a paginationToken every other filter is repeated unchanged (the token is
    bound to them); the window therefore stays fixed while paging."""
    params: dict[str, Any] = {
        "marketplaceIds": marketplace_id,
        "lastUpdatedAfter": iso(since),
        "lastUpdatedBefore": iso(until),
        "maxResultsPerPage": page_size,
        "includedData": ",".join(ORDER_DATA),
    }
    if token:
        params["paginationToken"] = token
    return params


def _money(value: Mapping[str, Any] | None) -> Money | None:
    """A v2026 ``Money`` (``amount`` is a decimal string, ``currencyCode`` ISO 4217)."""
    if not value or value.get("amount") in (None, ""):
        return None
    return Money.of(str(value["amount"]), str(value["currencyCode"]))


def order_line(item: Mapping[str, Any], currency: str) -> OrderLine:
    """One ``orderItems`` entry: ``product.price.unitPrice`` is already the price of one unit."""
    product = item.get("product") or {}
    unit = _money((product.get("price") or {}).get("unitPrice")) or Money(Decimal(0), currency)
    return OrderLine(
        line_id=str(item["orderItemId"]),
        sku=product.get("sellerSku") or product.get("asin") or "",
        quantity=int(item["quantityOrdered"]),
        unit_price=unit,
        title=product.get("title"),
    )


def _proceeds(data: Mapping[str, Any], kind: str) -> Money | None:
    """The sum of the order-level proceeds breakdowns of one type (``SHIPPING``, ``ITEM``, ...)."""
    amounts = [
        money
        for b in (data.get("proceeds") or {}).get("breakdowns") or []
        if b.get("type") == kind and (money := _money(b.get("subtotal"))) is not None
    ]
    return sum(amounts[1:], amounts[0]) if amounts else None


def order(data: Mapping[str, Any], default_currency: str) -> Order:
    """A v2026-01-01 Order (with FULFILLMENT, PROCEEDS, RECIPIENT), normalized. Only the ship-to country is
    kept of the recipient. ``proceeds.grandTotal`` is absent while an order is pending: the total is then
    the sum of its lines."""
    total = _money((data.get("proceeds") or {}).get("grandTotal"))
    items = data.get("orderItems") or []
    first_unit: Mapping[str, Any] = next(
        (i["product"]["price"].get("unitPrice") or {} for i in items if (i.get("product") or {}).get("price")), {}
    )
    currency = total.currency if total else first_unit.get("currencyCode") or default_currency
    lines = tuple(order_line(i, currency) for i in items)
    if total is None:
        total = Money(sum((ln.unit_price.amount * ln.quantity for ln in lines), Decimal(0)), currency)
    raw = (data.get("fulfillment") or {}).get("fulfillmentStatus") or "PENDING"
    return Order(
        external_id=str(data["orderId"]),
        status=ORDER_STATUS.get(raw, OrderStatus.PENDING),
        raw_status=raw,
        placed_at=parse_time(data["createdTime"]),
        updated_at=parse_time(data["lastUpdatedTime"]),
        currency=currency,
        lines=lines,
        total=total,
        shipping=_proceeds(data, "SHIPPING"),
        ship_country=((data.get("recipient") or {}).get("deliveryAddress") or {}).get("countryCode"),
        recipient=recipient(data.get("recipient") or {}),
    )


# ---------------------------------------------------------------------------------------- shipping
#: our carrier -> ``carrierCode``. Carriers outside Amazon's own list go as ``Other`` with ``carrierName``
#: (PackageDetail: "carrierName ... Required when carrierCode is Other").
OTHER = "Other"
CARRIER_CODES: Mapping[str, str] = {
    "UPS": "UPS",
    "USPS": "USPS",
    "FEDEX": "FedEx",
    "DHL": "DHL",
    **{code: OTHER for code in ("SF", "YTO", "ZTO", "STO", "YUNDA", "EMS", "CHINAPOST", "4PX", "YANWEN", "CAINIAO")},
}
CARRIER_NAMES: Mapping[str, str] = {
    code: english_name(code) for code, amazon in CARRIER_CODES.items() if amazon == OTHER
}


def confirm_shipment_body(shipment: Shipment, carrier_code: str, marketplace_id: str) -> dict[str, Any]:
    """confirmShipment's ``ConfirmShipmentRequest``: one package (``packageReferenceId`` a positive number
    per order; the same id again edits that package), its carrier, tracking number, ship date and items."""
    package: dict[str, Any] = {
        "packageReferenceId": str(shipment.package),
        "carrierCode": carrier_code,
        "trackingNumber": shipment.tracking,
        "shipDate": shipment.shipped_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orderItems": [{"orderItemId": line.line_id, "quantity": line.quantity} for line in shipment.lines],
    }
    if carrier_code == OTHER:
        package["carrierName"] = CARRIER_NAMES.get(shipment.carrier, shipment.carrier)
    return {"marketplaceId": marketplace_id, "packageDetail": package}


def recipient(data: Mapping[str, Any]) -> Recipient | None:
    """searchOrders' RECIPIENT: ``deliveryAddress`` (name, addressLine1/2, city, stateOrRegion, postalCode,
    countryCode, phone). Amazon gives names and street lines only to apps with the restricted PII role."""
    address = data.get("deliveryAddress") or {}
    if not address:
        return None
    return Recipient(
        name=str(address.get("name") or ""),
        phone=str(address.get("phone") or ""),
        address1=str(address.get("addressLine1") or ""),
        address2=str(address.get("addressLine2") or ""),
        city=str(address.get("city") or ""),
        state=str(address.get("stateOrRegion") or ""),
        postal_code=str(address.get("postalCode") or ""),
        country=str(address.get("countryCode") or ""),
    )
