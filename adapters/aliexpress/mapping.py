"""Pure wire mapping for AliExpress: our value types <-> IOP business parameters and response bodies.

Complex business parameters are JSON strings inside form fields. Times on the order APIs are US
Pacific wall-clock strings (``yyyy-MM-dd HH:mm:ss``), converted with ``America/Los_Angeles`` so both
sides of a daylight-saving change are right.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from listing_sync.adapters.base import (
    ListingDraft,
    ListingRef,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PriceUpdate,
    Recipient,
    Shipment,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.money import parse_decimal

PACIFIC = ZoneInfo("America/Los_Angeles")
PT_FORMAT = "%Y-%m-%d %H:%M:%S"

LOCALES = {
    "en": "en_US", "es": "es_ES", "fr": "fr_FR", "ru": "ru_RU", "pt": "pt_BR", "de": "de_DE", "it": "it_IT",
    "nl": "nl_NL", "tr": "tr_TR", "ja": "ja_JP", "ko": "ko_KR", "ar": "ar_MA", "th": "th_TH", "vi": "vi_VN",
    "iw": "iw_IL", "he": "iw_IL", "in": "in_ID", "id": "in_ID", "pl": "pl_PL",
}  # fmt: skip

#: order status -> normalized status; FINISH is decided per order (see :func:`order_status`)
ORDER_STATUS = {
    "PLACE_ORDER_SUCCESS": OrderStatus.PENDING,  # waiting for the buyer to pay
    "WAIT_SELLER_EXAMINE_MONEY": OrderStatus.PENDING,  # seller must confirm the amount before payment
    "RISK_CONTROL": OrderStatus.PAID,  # paid, in the 24 h risk check
    "WAIT_SELLER_SEND_GOODS": OrderStatus.PAID,
    "SELLER_PART_SEND_GOODS": OrderStatus.PAID,  # keep the reservation until all is shipped
    "IN_CANCEL": OrderStatus.PAID,  # buyer asked to cancel; not cancelled yet
    "IN_FROZEN": OrderStatus.PAID,
    "WAIT_BUYER_ACCEPT_GOODS": OrderStatus.SHIPPED,
    "IN_ISSUE": OrderStatus.SHIPPED,  # disputes are opened on shipped orders
    "FUND_PROCESSING": OrderStatus.DELIVERED,
}
SHIPPED_LOGISTICS = frozenset({"SELLER_SEND_GOODS", "SELLER_SEND_PART_GOODS", "BUYER_ACCEPT_GOODS"})


# ------------------------------------------------------------------------------------------- helpers
class Num:
    """A Decimal that :func:`dumps` writes as a JSON number (never through float)."""

    __slots__ = ("value",)

    def __init__(self, value: Decimal | str) -> None:
        self.value = str(value)


_NUM = re.compile(r'"@@num:(-?[0-9.]+)@@"')


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is (the signature covers the exact string), Num as numbers."""

    def default(obj: Any) -> Any:
        if isinstance(obj, Num):
            return f"@@num:{obj.value}@@"
        raise TypeError(f"cannot encode {type(obj).__name__}")

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)
    return _NUM.sub(r"\1", text)


def items(value: Any, key: str | None = None) -> list[Any]:
    """A TOP list, whether sent bare (``[...]``) or wrapped (``{"order_dto": [...]}``)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if key is not None and key in value:
            return items(value[key])
        if len(value) == 1:
            return items(next(iter(value.values())))
    return [value]


def envelope(body: Any, method: str) -> dict[str, Any]:
    """The ``<method_with_underscores>_response`` object of a method-style answer."""
    if not isinstance(body, dict):
        return {}
    inner = body.get(method.replace(".", "_") + "_response")
    return inner if isinstance(inner, dict) else body


def locale(language: str) -> str:
    return LOCALES.get(language.lower().split("_")[0].split("-")[0], "en_US")


def to_pacific(moment: datetime) -> str:
    """An aware instant as a US Pacific wall-clock string (PST or PDT as in force then)."""
    return moment.astimezone(PACIFIC).strftime(PT_FORMAT)


def query_start(moment: datetime) -> str:
    """Pacific string for a query START that is never later than ``moment``.

    In the repeated hour after DST ends, a wall time names two instants; the server may read the
    later one, which would skip up to an hour of updates. Start an hour earlier there (dedupe is cheap).
    """
    local = moment.astimezone(PACIFIC)
    naive = local.replace(tzinfo=None)
    ambiguous = naive.replace(tzinfo=PACIFIC, fold=0).utcoffset() != naive.replace(tzinfo=PACIFIC, fold=1).utcoffset()
    if ambiguous:
        local = (moment - timedelta(hours=1)).astimezone(PACIFIC)
    return local.strftime(PT_FORMAT)


def from_pacific(text: str) -> datetime:
    """A Pacific wall-clock string as aware UTC (the earlier instant when the hour repeats)."""
    return datetime.strptime(text.strip(), PT_FORMAT).replace(tzinfo=PACIFIC, fold=0).astimezone(UTC)


def money(value: Any, fallback_currency: str) -> Money | None:
    """A TOP money object: ``{"amount": "12.30", "currency_code": "USD"}`` or ``{"cent": 1230, "cent_factor": 100}``."""
    if not isinstance(value, dict):
        return None
    currency = value.get("currency_code") or (value.get("currency") or {}).get("currency_code") or fallback_currency
    if value.get("cent") is not None and value.get("cent_factor"):
        amount = parse_decimal(str(value["cent"])) / parse_decimal(str(value["cent_factor"]))
    elif value.get("amount") is not None:
        amount = parse_decimal(str(value["amount"]))
    else:
        return None
    return Money(amount, currency).rounded()


# ------------------------------------------------------------------------------------ price / stock
def sell_prices(price: Money, list_price: Money | None) -> tuple[str, str]:
    """(``price``, ``discount_price``): AliExpress ``price`` is the regular (struck) price and
    ``discount_price`` what the buyer pays. ``discount_price`` is ALWAYS sent: omitting it erases it."""
    regular = list_price if list_price is not None and list_price.amount > price.amount else price
    return regular.wire(), price.wire()


def price_list(groups: Mapping[str, Sequence[PriceUpdate]]) -> str:
    """``mutiple_product_update_list`` (sic) for the batch price method."""
    out = []
    for product_id, updates in groups.items():
        skus = []
        for u in updates:
            regular, discount = sell_prices(u.price, u.list_price)
            skus.append({"sku_code": u.sku, "price": regular, "discount_price": discount})
        out.append({"product_id": int(product_id), "multiple_sku_update_list": skus})
    return dumps(out)


def stock_list(groups: Mapping[str, Sequence[StockUpdate]]) -> str:
    """``mutiple_product_update_list`` (sic) for the batch inventory method."""
    return dumps(
        [
            {
                "product_id": int(product_id),
                "multiple_sku_update_list": [{"sku_code": u.sku, "inventory": u.quantity} for u in updates],
            }
            for product_id, updates in groups.items()
        ]
    )


def batch_outcome(result: Mapping[str, Any]) -> tuple[bool, dict[str, tuple[str, str]], set[str]]:
    """(update_success, failed product id -> (code, message), succeeded product ids)."""
    failed = {
        str(f.get("product_id")): (str(f.get("error_code") or "item_failed"), str(f.get("error_message") or ""))
        for f in items(result.get("update_failed_list"), "synchronize_product_response_dto")
        if isinstance(f, dict)
    }
    ok = {
        str(s.get("product_id"))
        for s in items(result.get("update_successful_list"), "synchronize_product_response_dto")
        if isinstance(s, dict)
    }
    return bool(result.get("update_success")), failed, ok


# ------------------------------------------------------------------------------------------ listings
def _variations(draft: ListingDraft) -> tuple[Variation, ...]:
    if draft.variations:
        return draft.variations
    return (Variation(draft.sku, draft.price, draft.quantity, images=draft.images, barcode=draft.barcode),)


def post_product(draft: ListingDraft, options: Any, product_id: str | None = None) -> str:
    """``post_product_request`` / ``edit_product_request`` JSON for product.post / product.edit."""
    lang = draft.language.replace("-", "_").split("_")[0].lower()  # "en-US", "en_US" and "en" all send "en"
    web_detail = dumps({"version": "2.0.0", "moduleList": [{"type": "html", "html": {"content": draft.description}}]})
    body: dict[str, Any] = {
        "aliexpress_category_id": int(draft.category_id),
        "language": lang,
        "multi_language_subject_list": [{"language": lang, "subject": draft.title}],
        "multi_language_description_list": [{"language": lang, "web_detail": web_detail}],
        "main_image_urls_list": list(draft.images[:6]),
        "attribute_list": [
            {"attribute_name": name, "attribute_value": value}
            for name, values in draft.attributes.items()
            for value in values
        ],
        "sku_info_list": [_post_sku(v, bool(draft.variations)) for v in _variations(draft)],
        "product_unit": options.product_unit,
        "inventory_deduction_strategy": options.inventory_deduction_strategy,
    }
    if product_id is not None:
        body = {"product_id": int(product_id), **body}
    if draft.brand:
        body["brand_name"] = draft.brand
    if draft.weight_grams:
        body["weight"] = str((Decimal(draft.weight_grams) / 1000).quantize(Decimal("0.001")))
    if options.freight_template_id:
        body["freight_template_id"] = int(options.freight_template_id)
    if options.service_policy_id:
        body["service_policy_id"] = int(options.service_policy_id)
    if options.shipping_lead_time:
        body["shipping_lead_time"] = options.shipping_lead_time
    return dumps(body)


def _post_sku(v: Variation, multi: bool) -> dict[str, Any]:
    regular, discount = sell_prices(v.price, None)
    sku: dict[str, Any] = {"sku_code": v.sku, "price": regular, "discount_price": discount, "inventory": v.quantity}
    if multi:
        attrs = [{"sku_attribute_name": k, "sku_attribute_value": val} for k, val in v.attributes.items()]
        if v.images and attrs:
            attrs[0]["sku_image"] = v.images[0]
        sku["sku_attributes_list"] = attrs
    if v.barcode:
        sku["ean_code"] = v.barcode
    return sku


def schema_item(draft: ListingDraft, options: Any, product_id: str | None = None) -> str:
    """``item_content`` of a PRODUCT_CREATE / PRODUCT_FULL_UPDATE feed item (the product schema)."""
    loc = locale(draft.language)
    body: dict[str, Any] = {
        "category_id": int(draft.category_id),
        "title_multi_language_list": [{"locale": loc, "title": draft.title}],
        "description_multi_language_list": [
            {"locale": loc, "module_list": [{"type": "html", "html": {"content": draft.description}}]}
        ],
        "locale": loc,
        "product_units_type": str(options.product_unit),
        "image_url_list": list(draft.images[:6]),
        "category_attributes": {
            name: {"value": list(values) if len(values) > 1 else values[0]}
            for name, values in draft.attributes.items()
            if values
        },
        "sku_info_list": [_schema_sku(v, bool(draft.variations)) for v in _variations(draft)],
        "inventory_deduction_strategy": options.inventory_deduction_strategy,
        "shipping_preparation_time": options.shipping_lead_time or 3,
    }
    if draft.brand:
        body["category_attributes"].setdefault("Brand Name", {"value": draft.brand})
    if draft.weight_grams:
        body["package_weight"] = Num((Decimal(draft.weight_grams) / 1000).quantize(Decimal("0.001")))
    if options.freight_template_id:
        body["shipping_template_id"] = str(options.freight_template_id)
    if options.service_policy_id:
        body["service_template_id"] = str(options.service_policy_id)
    if product_id is not None:
        body["aliexpress_product_id"] = int(product_id)
    return dumps(body)


def _schema_sku(v: Variation, multi: bool) -> dict[str, Any]:
    regular, discount = sell_prices(v.price, None)
    sku: dict[str, Any] = {
        "sku_code": v.sku,
        "inventory": v.quantity,
        "price": Num(regular),
        "discount_price": Num(discount),
    }
    if multi:
        sku["sku_attributes"] = {k: {"value": val} for k, val in v.attributes.items()}
    return sku


def feed_item_list(entries: Iterable[tuple[str, str]]) -> str:
    """``item_list`` of feed.submit: ``item_content_id`` is our SKU, ``item_content`` the JSON string."""
    return dumps([{"item_content_id": cid, "item_content": content} for cid, content in entries])


def feed_results(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """item_content_id -> parsed ``item_execution_result`` (``{"productId":..,"success":true}``)."""
    out: dict[str, dict[str, Any]] = {}
    for row in items(result.get("result_list"), "single_item_response_dto"):
        if not isinstance(row, dict) or not row.get("item_content_id"):
            continue
        raw = row.get("item_execution_result")
        try:
            parsed = json.loads(raw) if isinstance(raw, str) else (raw or {})
        except ValueError:
            parsed = {"success": False, "errorMessage": str(raw)}
        out[str(row["item_content_id"])] = parsed if isinstance(parsed, dict) else {"success": False}
    return out


def feed_error(parsed: Mapping[str, Any]) -> tuple[str, str]:
    code = parsed.get("errorCode") or parsed.get("error_code") or "feed_item_failed"
    message = parsed.get("errorMessage") or parsed.get("error_message") or json.dumps(parsed, ensure_ascii=False)
    return str(code), str(message)


def product_ref(sku: str, product_id: str, **extra: str) -> ListingRef:
    return ListingRef(sku, product_id, {"product_id": str(product_id), **extra})


# -------------------------------------------------------------------------------------------- orders
def order_status(dto: Mapping[str, Any]) -> OrderStatus:
    raw = str(dto.get("order_status") or "")
    if raw == "FINISH":  # ended: completed if goods went out, else closed before shipping
        shipped = dto.get("gmt_send_goods_time") or dto.get("logistics_status") in SHIPPED_LOGISTICS
        return OrderStatus.DELIVERED if shipped else OrderStatus.CANCELLED
    return ORDER_STATUS.get(raw, OrderStatus.PENDING)


def order(dto: Mapping[str, Any], fallback_currency: str) -> Order:
    """An ``order_dto`` of aliexpress.solution.order.get as a normalized :class:`Order` (no buyer data)."""
    total = money(dto.get("pay_amount"), fallback_currency)
    currency = total.currency if total is not None else fallback_currency
    lines: list[OrderLine] = []
    for p in items(dto.get("product_list"), "order_product_dto"):
        unit = money(p.get("product_unit_price"), currency) or Money.of("0", currency)
        lines.append(
            OrderLine(
                line_id=str(p.get("child_id") or p.get("order_id") or len(lines) + 1),
                sku=str(p.get("sku_code") or p.get("product_id") or ""),
                quantity=int(p.get("product_count") or 0),
                unit_price=unit,
                title=p.get("product_name"),
            )
        )
    created = from_pacific(dto["gmt_create"])
    updated = from_pacific(dto["gmt_update"]) if dto.get("gmt_update") else created
    return Order(
        external_id=str(dto["order_id"]),
        status=order_status(dto),
        raw_status=str(dto.get("order_status") or ""),
        placed_at=created,
        updated_at=updated,
        currency=currency,
        lines=tuple(lines),
        total=total if total is not None else Money.of("0", currency),
        fees=money(dto.get("escrow_fee"), currency),  # the commission AliExpress keeps from the payout
    )


def receipt_recipient(result: Any) -> Recipient | None:
    """The recipient of aliexpress.solution.order.receiptinfo.get's ``OrderAddressDTO``: ``contact_person``,
    ``mobile_no`` (else ``phone_country`` ``phone_area`` ``phone_number``), ``detail_address`` (else
    ``address``), ``address2``, ``city``, ``province``, ``zip``, ``country``. None when it names nobody."""
    if not isinstance(result, Mapping):
        return None

    def text(name: str) -> str:
        value = result.get(name)
        return str(value).strip() if value not in (None, "-") else ""

    phone = text("mobile_no") or " ".join(
        p for p in (text("phone_country"), text("phone_area"), text("phone_number")) if p
    )
    recipient = Recipient(
        name=text("contact_person"),
        phone=phone,
        address1=text("detail_address") or text("address"),
        address2=text("address2"),
        city=text("city"),
        state=text("province"),
        postal_code=text("zip"),
        country=receipt_country(result) or "",
    )
    return recipient or None


def receipt_country(result: Any) -> str | None:
    """The ISO country code of aliexpress.solution.order.receiptinfo.get's ``OrderAddressDTO``."""
    if not isinstance(result, Mapping):
        return None
    code = str(result.get("country") or "").strip().upper()
    return code if len(code) == 2 and code.isalpha() else None


def order_query(since: datetime, until: datetime, page: int, page_size: int, finished: bool) -> str:
    """``param0`` of aliexpress.solution.order.get (Pacific times; FINISH queried on its own)."""
    query: dict[str, Any] = {
        "modified_date_start": query_start(since),
        "modified_date_end": to_pacific(until),
        "page_size": page_size,
        "current_page": page,
    }
    if finished:
        query["order_status"] = "FINISH"
    return dumps(query)


def now_utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# ---------------------------------------------------------------------------------------- shipping
#: our carrier -> AliExpress logistics ``service_name`` (the keys aliexpress.logistics.redefining.
#: listlogisticsservice returns; an account may offer fewer). Domestic Chinese express carriers do not
#: serve AliExpress's cross-border orders and stay unmapped.
CARRIER_CODES: Mapping[str, str] = {
    "EMS": "EMS",
    "CHINAPOST": "CPAM",
    "DHL": "DHL",
    "UPS": "UPS",
    "FEDEX": "FEDEX_IE",
    "SF": "SF",
    "CAINIAO": "CAINIAO_STANDARD",
    "YANWEN": "YANWEN_JYT",
}


def logistics_numbers(result: Any) -> set[str]:
    """The ``logistics_no`` of aliexpress.solution.order.info.get's ``data.logistic_info_list``
    (``global_aeop_tp_logistic_info_dto`` entries): the tracking numbers the order was shipped with."""
    data = result.get("data") if isinstance(result, dict) else None
    listed = (data or {}).get("logistic_info_list") if isinstance(data, dict) else None
    entries = (listed or {}).get("global_aeop_tp_logistic_info_dto") if isinstance(listed, dict) else None
    return {str(e["logistics_no"]) for e in entries or [] if isinstance(e, dict) and e.get("logistics_no")}


def fulfill_params(shipment: Shipment, service_name: str) -> dict[str, str]:
    """aliexpress.solution.order.fulfill: ``out_ref`` the order id, ``logistics_no`` the tracking number,
    ``send_type`` all (the order is fully shipped with this package) or part."""
    return {
        "service_name": service_name,
        "out_ref": shipment.order_id,
        "send_type": "all" if shipment.complete else "part",
        "logistics_no": shipment.tracking,
    }
