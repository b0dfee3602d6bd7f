"""Pure wire mapping for eBay's Sell Inventory v1 and Fulfillment v1 APIs (our value types <-> JSON).

Money on the wire is an ``Amount``: ``{"value": "12.50", "currency": "USD"}`` (value is a STRING in the
currency's minor units). Quantities are integers. Timestamps are ISO 8601 UTC with milliseconds
(``2024-05-15T08:25:43.511Z``).
"""

from __future__ import annotations

import copy
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
    Shipment,
    Variation,
)
from listing_sync.adapters.money import parse_decimal, round_money

INVENTORY = "/sell/inventory/v1"
FULFILLMENT = "/sell/fulfillment/v1"

#: our condition words -> eBay ConditionEnum; anything else in UPPER_CASE is passed through as eBay's own
CONDITIONS = {
    "new": "NEW",
    "new_other": "NEW_OTHER",
    "like_new": "LIKE_NEW",
    "new_with_defects": "NEW_WITH_DEFECTS",
    "refurbished": "SELLER_REFURBISHED",
    "certified_refurbished": "CERTIFIED_REFURBISHED",
    "used": "USED_EXCELLENT",
    "used_good": "USED_GOOD",
    "used_acceptable": "USED_ACCEPTABLE",
    "for_parts": "FOR_PARTS_OR_NOT_WORKING",
}
#: fields eBay returns on reads but that are not part of a create-or-replace request
READ_ONLY_ITEM_FIELDS = ("groupIds", "inventoryItemGroupKeys", "sku", "locale")
READ_ONLY_OFFER_FIELDS = ("offerId", "sku", "marketplaceId", "format", "status", "listing")


# ----------------------------------------------------------------------------------------- scalars
def iso_ms(value: datetime) -> str:
    """``2024-05-15T08:25:43.511Z``: UTC with milliseconds, as eBay's date filters want."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """An eBay timestamp (always UTC, ``Z``) as an aware datetime."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def amount(money: Money) -> dict[str, str]:
    return {"value": money.wire(), "currency": money.currency}


def money(data: Mapping[str, Any] | None, default_currency: str | None = None) -> Money | None:
    """``Amount`` -> Money in its own ``currency`` (never ``convertedFrom*``, the buyer's currency)."""
    if not data or data.get("value") in (None, ""):
        return None
    return Money(parse_decimal(str(data["value"])), str(data.get("currency") or default_currency))


def locale(content_language: str) -> str:
    """``en-US`` (the Content-Language header) -> ``en_US`` (the LocaleEnum of bulk requests)."""
    return content_language.replace("-", "_")


def condition(value: str) -> str:
    if value in CONDITIONS:
        return CONDITIONS[value]
    if value.isupper():
        return value
    raise ValueError(f"condition {value!r} has no eBay equivalent; use one of {', '.join(CONDITIONS)}")


def description_html(description: str, bullets: Sequence[str]) -> str:
    """eBay has no bullet-point field: bullets become a list under the description."""
    if not bullets:
        return description
    items = "".join(f"<li>{html.escape(b)}</li>" for b in bullets)
    return f"{description}<ul>{items}</ul>"


def barcode_fields(barcode: str | None) -> dict[str, list[str]]:
    """A 12-digit barcode is a UPC, 8 or 13 digits an EAN; anything else is not sent."""
    if not barcode or not barcode.isdigit():
        return {}
    if len(barcode) == 12:
        return {"upc": [barcode]}
    if len(barcode) in (8, 13):
        return {"ean": [barcode]}
    return {}


# ------------------------------------------------------------------------------------------- errors
@dataclass(frozen=True, slots=True)
class Problem:
    """The first error of an eBay ``errors`` array, readable."""

    code: str
    message: str
    error_ids: tuple[int, ...] = ()


def problem(errors: Iterable[Mapping[str, Any]] | None, fallback: str = "eBay refused the item") -> Problem:
    errors = [e for e in (errors or []) if isinstance(e, Mapping)]
    if not errors:
        return Problem("ebay_error", fallback)
    ids = tuple(int(e["errorId"]) for e in errors if isinstance(e.get("errorId"), int))
    texts = []
    for e in errors:
        text = e.get("longMessage") or e.get("message") or "no message"
        params = ", ".join(
            f"{p.get('name')}={p.get('value')}" for p in e.get("parameters") or [] if isinstance(p, Mapping)
        )
        texts.append(f"{e.get('errorId', '?')}: {text}" + (f" ({params})" if params else ""))
    return Problem(str(ids[0]) if ids else "ebay_error", "; ".join(texts)[:1000], ids)


#: 25025: concurrent access of the same inventory item; 25001: system error
RETRYABLE_ERROR_IDS = frozenset({25025, 25001})


def is_revision_cap(p: Problem) -> bool:
    """eBay's wording for the 250 revisions a day cap (its errorId is not documented)."""
    text = p.message.lower()
    return "revis" in text and ("250" in text or "maximum" in text or "limit" in text)


# -------------------------------------------------------------------------------- inventory items
def _merge(existing: Mapping[str, Any] | None, drop: Sequence[str]) -> dict[str, Any]:
    base = copy.deepcopy(dict(existing or {}))
    for key in drop:
        base.pop(key, None)
    return base


def inventory_item(
    *,
    sku: str,
    locale_code: str,
    title: str,
    description: str,
    aspects: Mapping[str, Sequence[str]],
    images: Sequence[str],
    quantity: int,
    condition_code: str,
    brand: str | None = None,
    barcode: str | None = None,
    weight_grams: int | None = None,
    existing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``InventoryItemWithSkuLocale`` for bulkCreateOrReplaceInventoryItem.

    createOrReplace is a FULL replace: fields omitted are wiped. So the request starts from what eBay
    holds now (``existing``, from bulkGetInventoryItem) and only the fields we manage are overwritten;
    empty values in our draft (no images, no brand) keep eBay's.
    """
    item = _merge(existing, READ_ONLY_ITEM_FIELDS)
    product = dict(item.get("product") or {})
    product["title"] = title
    product["description"] = description
    if aspects:
        product["aspects"] = {name: list(values) for name, values in aspects.items()}
    if images:
        product["imageUrls"] = list(images)
    if brand:
        product["brand"] = brand
    product.update(barcode_fields(barcode))
    availability = dict(item.get("availability") or {})
    ship = dict(availability.get("shipToLocationAvailability") or {})
    ship.pop("allocationByFormat", None)  # read-only
    ship["quantity"] = quantity
    availability["shipToLocationAvailability"] = ship
    body: dict[str, Any] = {"sku": sku, "locale": locale_code, **item}
    body.update(product=product, condition=condition_code, availability=availability)
    if weight_grams is not None:
        package = dict(item.get("packageWeightAndSize") or {})
        package["weight"] = {"value": weight_grams, "unit": "GRAM"}
        body["packageWeightAndSize"] = package
    return body


def draft_items(draft: ListingDraft, locale_code: str, existing: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """The inventory items of a draft: itself, or one per variation (shared aspects + its own)."""
    cond = condition(draft.condition)
    description = description_html(draft.description, draft.bullet_points)
    if not draft.variations:
        return [
            inventory_item(
                sku=draft.sku,
                locale_code=locale_code,
                title=draft.title,
                description=description,
                aspects=draft.attributes,
                images=draft.images,
                quantity=draft.quantity,
                condition_code=cond,
                brand=draft.brand,
                barcode=draft.barcode,
                weight_grams=draft.weight_grams,
                existing=existing.get(draft.sku),
            )
        ]
    return [
        inventory_item(
            sku=v.sku,
            locale_code=locale_code,
            title=draft.title,
            description=description,
            aspects={**draft.attributes, **{k: (val,) for k, val in v.attributes.items()}},
            images=v.images or draft.images,
            quantity=v.quantity,
            condition_code=cond,
            brand=draft.brand,
            barcode=v.barcode,
            weight_grams=draft.weight_grams,
            existing=existing.get(v.sku),
        )
        for v in draft.variations
    ]


def group_body(draft: ListingDraft) -> dict[str, Any]:
    """``InventoryItemGroup`` for createOrReplaceInventoryItemGroup (a multi-variation listing)."""
    names: dict[str, list[str]] = {}
    for v in draft.variations:
        for name, value in v.attributes.items():
            values = names.setdefault(name, [])
            if value not in values:
                values.append(value)
    body: dict[str, Any] = {
        "title": draft.title,
        "description": description_html(draft.description, draft.bullet_points),
        "aspects": {name: list(values) for name, values in draft.attributes.items()},
        "imageUrls": list(draft.images),
        "variantSKUs": [v.sku for v in draft.variations],
        "variesBy": {"specifications": [{"name": n, "values": vals} for n, vals in names.items()]},
    }
    if any(v.images for v in draft.variations) and names:
        body["variesBy"]["aspectsImageVariesBy"] = [next(iter(names))]
    return body


# ------------------------------------------------------------------------------------------- offers
@dataclass(frozen=True, slots=True)
class OfferSettings:
    """Channel-wide offer fields (from the channel's options)."""

    marketplace_id: str
    merchant_location_key: str | None = None
    fulfillment_policy_id: str | None = None
    payment_policy_id: str | None = None
    return_policy_id: str | None = None
    include_catalog_product_details: bool = False


def offer_fields(
    settings: OfferSettings,
    *,
    price: Money,
    quantity: int,
    category_id: str,
    description: str | None,
    existing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The offer fields we manage, over what eBay holds (updateOffer is a full replace too)."""
    body = _merge(existing, READ_ONLY_OFFER_FIELDS)
    pricing = dict(body.get("pricingSummary") or {})
    pricing["price"] = amount(price)
    body.update(
        availableQuantity=quantity,
        categoryId=category_id,
        pricingSummary=pricing,
        listingDuration="GTC",
        includeCatalogProductDetails=settings.include_catalog_product_details,
    )
    if description is not None:
        body["listingDescription"] = description
    policies = dict(body.get("listingPolicies") or {})
    for key, value in (
        ("fulfillmentPolicyId", settings.fulfillment_policy_id),
        ("paymentPolicyId", settings.payment_policy_id),
        ("returnPolicyId", settings.return_policy_id),
    ):
        if value:
            policies[key] = value
    if policies:
        body["listingPolicies"] = policies
    if settings.merchant_location_key:
        body["merchantLocationKey"] = settings.merchant_location_key
    return body


def new_offer(settings: OfferSettings, sku: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``EbayOfferDetailsWithKeys`` for bulkCreateOffer: sku, marketplaceId and format are required."""
    return {"sku": sku, "marketplaceId": settings.marketplace_id, "format": "FIXED_PRICE", **fields}


def draft_offers(
    draft: ListingDraft, settings: OfferSettings, existing: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """sku -> managed offer fields for every SKU of the draft."""
    if not draft.variations:
        return {
            draft.sku: offer_fields(
                settings,
                price=draft.price,
                quantity=draft.quantity,
                category_id=draft.category_id,
                description=description_html(draft.description, draft.bullet_points),
                existing=existing.get(draft.sku),
            )
        }
    out = {}
    for v in draft.variations:
        out[v.sku] = offer_fields(
            settings,
            price=v.price,
            quantity=v.quantity,
            category_id=draft.category_id,
            description=None,  # a multi-variation listing takes the group's description
            existing=existing.get(v.sku),
        )
    return out


def pick_offer(offers: Iterable[Mapping[str, Any]], marketplace_id: str) -> dict[str, Any] | None:
    """This channel's offer among a SKU's offers (one per marketplace and format)."""
    for offer in offers:
        if offer.get("marketplaceId") == marketplace_id and offer.get("format", "FIXED_PRICE") == "FIXED_PRICE":
            return dict(offer)
    return None


# ------------------------------------------------------------------------------- price and quantity
def price_request(offer_id: str, price: Money) -> dict[str, Any]:
    """A ``PriceQuantity`` that sets the price of one published offer."""
    return {"offers": [{"offerId": offer_id, "price": amount(price)}]}


def stock_request(sku: str, offer_id: str, quantity: int) -> dict[str, Any]:
    """A ``PriceQuantity`` that sets the quantity at BOTH levels (item and offer); eBay shows the lower."""
    return {
        "sku": sku,
        "shipToLocationAvailability": {"quantity": quantity},
        "offers": [{"offerId": offer_id, "availableQuantity": quantity}],
    }


# ------------------------------------------------------------------------------------------- orders
def orders_query(since: datetime, until: datetime, limit: int, offset: int) -> str:
    """The getOrders query, built by hand so it is exactly as documented.

    ``filter=lastmodifieddate:[a..b]`` ALONE (with creationdate too, eBay would use only creationdate),
    brackets percent-encoded (``%5B`` / ``%5D``), timestamps UTC with milliseconds.
    """
    window = f"lastmodifieddate:%5B{iso_ms(since)}..{iso_ms(until)}%5D"
    return f"{FULFILLMENT}/order?filter={window}&limit={limit}&offset={offset}"


CANCEL_DONE = frozenset({"CANCELED", "CANCELLED"})


def order_status(data: Mapping[str, Any]) -> tuple[OrderStatus, str]:
    """(normalized status, raw "fulfillment/payment/cancel" status) of an eBay order."""
    fulfillment = str(data.get("orderFulfillmentStatus") or "")
    payment = str(data.get("orderPaymentStatus") or "")
    cancel = data.get("cancelStatus") or {}
    cancel_state = str(cancel.get("cancelState") or "NONE_REQUESTED")
    raw = f"{fulfillment}/{payment}/{cancel_state}"
    completed = any(r.get("cancelRequestState") == "COMPLETED" for r in cancel.get("cancelRequests") or [])
    if cancel_state in CANCEL_DONE or completed:
        return OrderStatus.CANCELLED, raw
    if payment == "FULLY_REFUNDED":
        return OrderStatus.REFUNDED, raw
    if payment in ("PENDING", "FAILED"):
        return OrderStatus.PENDING, raw
    if fulfillment == "FULFILLED":
        return OrderStatus.SHIPPED, raw
    return OrderStatus.PAID, raw


def _ship_country(data: Mapping[str, Any]) -> str | None:
    for instruction in data.get("fulfillmentStartInstructions") or []:
        address = ((instruction.get("shippingStep") or {}).get("shipTo") or {}).get("contactAddress") or {}
        if address.get("countryCode"):
            return str(address["countryCode"])
        final = instruction.get("finalDestinationAddress") or {}
        if final.get("countryCode"):
            return str(final["countryCode"])
    return None


def order(data: Mapping[str, Any]) -> Order:
    """An eBay ``Order`` normalized. Keeps only the ship-to country of the buyer."""
    pricing = data.get("pricingSummary") or {}
    total = money(pricing.get("total"))
    if total is None:
        raise ValueError(f"order {data.get('orderId')} has no pricingSummary.total")
    currency = total.currency
    lines = []
    for line in data.get("lineItems") or []:
        quantity = int(line.get("quantity") or 1)
        cost = money(line.get("lineItemCost"), currency) or money(line.get("total"), currency)
        unit = (
            Money(round_money(cost.amount / quantity, cost.currency), cost.currency)
            if cost
            else Money(Decimal(0), currency)
        )
        sku = line.get("sku") or f"ebay-item:{line.get('legacyItemId')}"
        lines.append(OrderLine(str(line.get("lineItemId")), str(sku), quantity, unit, line.get("title")))
    status, raw = order_status(data)
    return Order(
        external_id=str(data["orderId"]),
        status=status,
        raw_status=raw,
        placed_at=parse_time(str(data["creationDate"])),
        updated_at=parse_time(str(data.get("lastModifiedDate") or data["creationDate"])),
        currency=currency,
        lines=tuple(lines),
        total=total,
        shipping=money(pricing.get("deliveryCost"), currency),
        ship_country=_ship_country(data),
        fees=money(data.get("totalMarketplaceFee"), currency),
        recipient=_recipient(data),
    )


def _recipient(data: Mapping[str, Any]) -> Recipient | None:
    """``fulfillmentStartInstructions[].shippingStep.shipTo``: fullName, contactAddress, primaryPhone."""
    for instruction in data.get("fulfillmentStartInstructions") or []:
        ship_to = (instruction.get("shippingStep") or {}).get("shipTo") or {}
        if not ship_to:
            continue
        address = ship_to.get("contactAddress") or {}
        return Recipient(
            name=str(ship_to.get("fullName") or ""),
            phone=str((ship_to.get("primaryPhone") or {}).get("phoneNumber") or ""),
            address1=str(address.get("addressLine1") or ""),
            address2=str(address.get("addressLine2") or ""),
            city=str(address.get("city") or ""),
            state=str(address.get("stateOrProvince") or ""),
            postal_code=str(address.get("postalCode") or ""),
            country=str(address.get("countryCode") or ""),
        )
    return None


def needs_cancel_detail(data: Mapping[str, Any]) -> bool:
    """getOrders returns cancelRequests EMPTY: any order with a cancel state is re-read with getOrder."""
    state = (data.get("cancelStatus") or {}).get("cancelState")
    return bool(state) and state != "NONE_REQUESTED"


# ---------------------------------------------------------------------------------------- shipping
#: our carrier -> eBay ``shippingCarrierCode``: values of the Trading API's ShippingCarrierCodeType, which
#: the Fulfillment API points to ("use GeteBayDetails ... ShippingCarrierDetails"). Checked (2026-12-02):
#: UPS, USPS, FedEx, DHL, ChinaPost ("China Post, available in US, UK, DE") on developer.ebay.com's
#: GeteBayDetails ShippingCarrierDetails values (Trading API 1423); FourPX (4PX; also FourPXCHINA,
#: FourPXExpress, FourPXLTD) and YANWEN (upper case) in the ShippingCarrierCodeType enum of eBay's .NET
#: Trading SDK 3.1131. That enum has no SF Express and no Cainiao (its SFC/SFCExpress is SFC Service, not SF
#: Express): both stay unmapped, so shipping with them names the channel and the carrier. EMS is China Post's.
CARRIER_CODES: Mapping[str, str] = {
    "UPS": "UPS",
    "USPS": "USPS",
    "FEDEX": "FedEx",
    "DHL": "DHL",
    "CHINAPOST": "ChinaPost",
    "EMS": "ChinaPost",
    "4PX": "FourPX",
    "YANWEN": "YANWEN",
}


def fulfillment_body(shipment: Shipment, carrier_code: str) -> dict[str, Any]:
    """createShippingFulfillment's ``ShippingFulfillmentDetails``: the package's line items, the carrier and
    tracking number, and when it shipped (UTC with milliseconds)."""
    return {
        "lineItems": [{"lineItemId": line.line_id, "quantity": line.quantity} for line in shipment.lines],
        "shippedDate": iso_ms(shipment.shipped_at),
        "shippingCarrierCode": carrier_code,
        "trackingNumber": shipment.tracking,
    }


def fulfillment_id(location: str | None) -> str | None:
    """The new fulfillment's id: the last segment of the ``Location`` header eBay answers 201 with."""
    return location.rstrip("/").rsplit("/", 1)[-1] if location else None


# ----------------------------------------------------------------------------------------- listings
def remote_listing(item: Mapping[str, Any], offer: Mapping[str, Any] | None) -> RemoteListing:
    """One inventory item (and this marketplace's offer for it) as a :class:`RemoteListing`."""
    sku = str(item["sku"])
    ship = ((item.get("availability") or {}).get("shipToLocationAvailability")) or {}
    quantity = ship.get("quantity")
    ids: dict[str, str] = {}
    groups = item.get("inventoryItemGroupKeys") or item.get("groupIds") or []
    if groups:
        ids["group_key"] = str(groups[0])
    title = (item.get("product") or {}).get("title")
    if offer is None:
        return RemoteListing(sku, ListingRef(sku, None, ids), None, quantity, "unlisted", title)
    ids["offer_id"] = str(offer["offerId"])
    listing = offer.get("listing") or {}
    if listing.get("listingId"):
        ids["listing_id"] = str(listing["listingId"])
    if offer.get("availableQuantity") is not None:
        quantity = offer["availableQuantity"] if quantity is None else min(quantity, offer["availableQuantity"])
    published = offer.get("status") == "PUBLISHED" and listing.get("listingStatus", "ACTIVE") == "ACTIVE"
    return RemoteListing(
        sku,
        ListingRef(sku, ids.get("listing_id"), ids),
        money((offer.get("pricingSummary") or {}).get("price")),
        quantity,
        "active" if published else "inactive",
        title,
    )


def variation_skus(drafts: Sequence[ListingDraft]) -> dict[str, Variation]:
    return {v.sku: v for d in drafts for v in d.variations}
