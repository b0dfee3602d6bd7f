"""Pure wire mapping for TOP: our value types <-> TOP form parameters and JSON bodies.

TOP conventions used here (see domestic-apis.md section 3): money in yuan as decimal strings with two
places, dates as ``yyyy-MM-dd HH:mm:ss`` GMT+8, SKUs addressed by ``num_iid`` plus ``sku_id`` or by
the property string ``pid:vid;pid:vid``, list fields wrapped one level deep in default (non-simplified)
JSON (``{"trades": {"trade": [...]}}``), and errors in ``error_response`` with ``code``/``sub_code``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from listing_sync.adapters.base import (
    AuthError,
    ChannelError,
    ConfigurationError,
    ListingDraft,
    ListingRef,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PermanentItemError,
    RateLimited,
    Recipient,
    RemoteListing,
    RequestRejected,
    Shipment,
    TransientError,
    UnexpectedResponse,
)
from listing_sync.adapters.excerpt import read_each
from listing_sync.adapters.money import parse_decimal

from .auth import parse_top_time

log = logging.getLogger("adapters.taobao")

CURRENCY = "CNY"

#: Fields requested from taobao.trades.sold.increment.get: what stock and reports need, and the receiver
#: for the packing slip (TOP sends it desensitised, e.g. 张** / *******1234, unless the app has the
#: privacy-decryption permission; the syncer stores it apart and purges it after the retention).
TRADE_FIELDS = ",".join(
    [
        "tid",
        "status",
        "created",
        "modified",
        "consign_time",
        "payment",
        "post_fee",
        "receiver_country",
        "receiver_name",
        "receiver_mobile",
        "receiver_state",
        "receiver_city",
        "receiver_district",
        "receiver_address",
        "receiver_zip",
        "orders.oid",
        "orders.num_iid",
        "orders.sku_id",
        "orders.outer_iid",
        "orders.outer_sku_id",
        "orders.num",
        "orders.price",
        "orders.title",
    ]
)
ITEM_FIELDS = "num_iid,title,price,num,outer_id,approve_status"
SKU_FIELDS = "sku_id,num_iid,properties,quantity,price,outer_id"

#: Trade status -> our status. TRADE_CLOSED (closed after payment: full refund) is decided by
#: whether anything shipped, see :func:`order_status`.
STATUS: dict[str, OrderStatus] = {
    "TRADE_NO_CREATE_PAY": OrderStatus.PENDING,
    "WAIT_BUYER_PAY": OrderStatus.PENDING,
    "PAY_PENDING": OrderStatus.PENDING,
    "WAIT_PRE_AUTH_CONFIRM": OrderStatus.PENDING,
    "WAIT_SELLER_SEND_GOODS": OrderStatus.PAID,
    "PAID_FORBID_CONSIGN": OrderStatus.PAID,
    "SELLER_CONSIGNED_PART": OrderStatus.PAID,  # partly shipped: keep the reservation until all ship
    "WAIT_BUYER_CONFIRM_GOODS": OrderStatus.SHIPPED,
    "TRADE_BUYER_SIGNED": OrderStatus.DELIVERED,
    "TRADE_FINISHED": OrderStatus.DELIVERED,
    "TRADE_CLOSED_BY_TAOBAO": OrderStatus.CANCELLED,  # closed before payment
}

_BAN = re.compile(r"last for (\d+) more seconds")


# ------------------------------------------------------------------------------------------ basics
def response_key(method: str) -> str:
    """``taobao.item.quantity.update`` -> ``item_quantity_update_response`` (only ``taobao.`` is cut)."""
    name = method.removeprefix("taobao.")
    return name.replace(".", "_") + "_response"


def yuan(money: Money) -> str:
    """Money as TOP wants it: yuan, two decimals, as a string. Other currencies are refused."""
    if money.currency != CURRENCY:
        raise ValueError(f"Taobao prices are in CNY, got {money.currency}: convert in the channel's price rule")
    if money.rounded().amount <= 0:
        raise ValueError(f"Taobao prices must be greater than 0, got {money.wire()}")
    return money.wire()


def cny(text: Any) -> Money:
    return Money(parse_decimal(str(text)), CURRENCY)


def unwrap(container: Any, key: str) -> list[dict[str, Any]]:
    """TOP's default JSON wraps lists: ``{"trades": {"trade": [...]}}``; tolerate the simplified form."""
    if container is None:
        return []
    if isinstance(container, list):
        return container
    inner = container.get(key, [])
    return inner if isinstance(inner, list) else [inner]


def properties_string(pairs: Iterable[tuple[str, str]]) -> str:
    """``[("1627207", "28320"), ("20509", "28314")]`` -> ``1627207:28320;20509:28314``."""
    return ";".join(f"{pid}:{vid}" for pid, vid in pairs)


def sku_ref(sku: str, num_iid: Any, sku_id: Any = None, properties: str | None = None, outer_id: str | None = None):
    ids = {"num_iid": str(num_iid)}
    if sku_id not in (None, ""):
        ids["sku_id"] = str(sku_id)
    if properties:
        ids["properties"] = properties
    if outer_id:
        ids["outer_id"] = outer_id
    return ListingRef(sku, str(num_iid), ids)


def bound_ids(sku: str, sku_id: Any, properties: str | None) -> dict[str, str]:
    """One SKU's ids as bound on its item's ref (``sku_id/<sku>``, ``properties/<sku>``)."""
    ids = {f"sku_id/{sku}": str(sku_id)}
    if properties:
        ids[f"properties/{sku}"] = properties
    return ids


def bound_skus(ref: ListingRef | None) -> set[str]:
    """The SKUs an item's ref binds (every SKU of the item as of its last publish); empty if none."""
    if ref is None:
        return set()
    return {key.partition("/")[2] for key in ref.ids if key.startswith("sku_id/")}


# ------------------------------------------------------------------------------------------ errors
def ban_seconds(sub_msg: str | None) -> float | None:
    """N from "This ban will last for N more seconds" (code 7 flow control), else None."""
    match = _BAN.search(sub_msg or "")
    return float(match.group(1)) if match else None


def error_from_body(error: Mapping[str, Any]) -> ChannelError:
    """Map one ``error_response`` object to our typed error.

    - code 7 / ``accesscontrol.*``: flow control; the ban's N seconds become ``retry_after``
      (daily-quota bans last hours: the retry budget then stops at once and the job layer waits).
    - 26/27 missing/invalid session (``invalid-sessionkey``): the seller must re-authorize the app.
    - 28/29 missing/invalid app key, 11/12/13 and ``isv.permission*``: the app itself is not set up.
    - 30/31 missing/invalid timestamp: the host clock is off (TOP allows +-10 minutes).
    - 25 invalid signature, 24/30-34/40-47 malformed call: our bug, never retried.
    - 10 service unavailable and ``isp.*``: transient, retry.
    - ``isv.*`` (usually under 15/50): this item's data was refused: park it.
    """
    try:
        code = int(error.get("code") or 0)
    except (TypeError, ValueError):
        code = 0
    sub_code = str(error.get("sub_code") or "")
    sub_msg = str(error.get("sub_msg") or "")
    text = f"TOP error {code} {error.get('msg') or ''}".strip()
    if sub_code or sub_msg:
        text += f": {sub_code} {sub_msg}".rstrip()
    key = sub_code or str(code)
    if code == 7 or sub_code.startswith("accesscontrol."):
        return RateLimited(f"flow control ({text})", code=key, retry_after=ban_seconds(sub_msg))
    if code in (26, 27) or "sessionkey" in sub_code or "session-expired" in sub_code:
        return AuthError(f"seller session missing, expired or revoked ({text}); re-authorize the app", code=key)
    if code in (11, 12, 13, 28, 29) or sub_code.startswith("isv.permission"):
        return ConfigurationError(f"app key or API permission refused ({text}); check the app's API packages", code=key)
    if code in (30, 31):
        return ConfigurationError(
            f"timestamp refused ({text}): this host's clock is off by more than 10 minutes", code=key
        )
    if code == 25:
        return RequestRejected(f"invalid signature ({text}): a signing bug or wrong app_secret", code="25")
    if code == 10 or sub_code.startswith("isp."):
        return TransientError(f"TOP service error ({text})", code=key)
    if sub_code.startswith("isv."):
        return PermanentItemError(text, code=key)
    if code < 100:
        return RequestRejected(f"request refused ({text})", code=key)
    return PermanentItemError(text, code=key)


# ------------------------------------------------------------------------------------------ publish
def publish_params(draft: ListingDraft, *, location_state: str | None, location_city: str | None) -> dict[str, str]:
    """taobao.item.add / taobao.item.update form parameters for one draft.

    Variation ``attributes`` are Taobao sale properties ``{pid: vid}``; draft ``attributes`` are the
    item's key properties ``{pid: (vid, ...)}``. The item price must lie inside the SKU price range, so
    for a multi-SKU draft it is the lowest SKU price.
    """
    for sku in draft.all_skus():
        if any(ch in sku for ch in ",;:"):
            raise ValueError(f"SKU {sku!r} contains , ; or : which TOP uses as separators in sku_outer_ids")
    params: dict[str, str] = {
        "title": draft.title,
        "desc": draft.description,
        "cid": draft.category_id,
        "outer_id": draft.sku,
        "type": "fixed",
        "stuff_status": "new" if draft.condition == "new" else "second",
    }
    props = properties_string((pid, vid) for pid, vids in draft.attributes.items() for vid in vids)
    if props:
        params["props"] = props
    if location_state:
        params["location.state"] = location_state
    if location_city:
        params["location.city"] = location_city
    if draft.variations:
        prices = [yuan(v.price) for v in draft.variations]
        params["price"] = min(prices, key=Decimal)
        params["num"] = str(sum(v.quantity for v in draft.variations))
        params["sku_properties"] = ",".join(properties_string(v.attributes.items()) for v in draft.variations)
        params["sku_quantities"] = ",".join(str(v.quantity) for v in draft.variations)
        params["sku_prices"] = ",".join(prices)
        params["sku_outer_ids"] = ",".join(v.sku for v in draft.variations)
    else:
        params["price"] = yuan(draft.price)
        params["num"] = str(draft.quantity)
    return params


# ------------------------------------------------------------------------------------------ orders
def order_status(trade: Mapping[str, Any]) -> OrderStatus:
    raw = str(trade.get("status") or "")
    if raw == "TRADE_CLOSED":
        # closed after payment = refunded in full; before anything shipped that releases the stock
        return OrderStatus.REFUNDED if trade.get("consign_time") else OrderStatus.CANCELLED
    if raw not in STATUS:
        # a status TOP added later must not stall the order sync: no stock effect, raw_status kept
        log.warning("unknown Taobao trade status %r on trade %s: treated as pending", raw, trade.get("tid"))
        return OrderStatus.PENDING
    return STATUS[raw]


def line_sku(line: Mapping[str, Any]) -> str:
    """Our SKU for a sub-order: the SKU merchant code, else the item's, else a visible placeholder."""
    for key in ("outer_sku_id", "outer_iid"):
        if line.get(key):
            return str(line[key])
    return f"taobao:{line.get('num_iid')}:{line.get('sku_id') or ''}"


def parse_trades(
    trades: Iterable[Mapping[str, Any]], channel: str | None = None
) -> tuple[tuple[Order, ...], tuple[UnexpectedResponse, ...]]:
    """Parse a page of trades; a malformed trade is left out and told (a typed error whose excerpt
    holds no buyer data) instead of stalling the sync."""
    orders, problems = read_each(trades, parse_trade, what="trade", key="tid", channel=channel)
    for problem in problems:
        log.error("[%s] %s; skipped", channel, problem.message)
    return tuple(orders), tuple(problems)


def parse_trade(trade: Mapping[str, Any]) -> Order:
    lines = tuple(
        OrderLine(
            line_id=str(o["oid"]),
            sku=line_sku(o),
            quantity=int(o.get("num") or 0),
            unit_price=cny(o.get("price") or "0"),
            title=o.get("title"),
        )
        for o in unwrap(trade.get("orders"), "order")
    )
    return Order(
        external_id=str(trade["tid"]),
        status=order_status(trade),
        raw_status=str(trade.get("status")),
        placed_at=parse_top_time(trade["created"]),
        updated_at=parse_top_time(trade.get("modified") or trade["created"]),
        currency=CURRENCY,
        lines=lines,
        total=cny(trade.get("payment") or "0"),
        shipping=cny(trade["post_fee"]) if trade.get("post_fee") not in (None, "") else None,
        ship_country=(str(trade.get("receiver_country") or "").strip().upper() or "CN")[:2],
        recipient=Recipient(
            name=str(trade.get("receiver_name") or ""),
            phone=str(trade.get("receiver_mobile") or ""),
            address1=str(trade.get("receiver_address") or ""),
            address2=str(trade.get("receiver_district") or ""),
            city=str(trade.get("receiver_city") or ""),
            state=str(trade.get("receiver_state") or ""),
            postal_code=str(trade.get("receiver_zip") or ""),
            country=(str(trade.get("receiver_country") or "").strip().upper() or "CN")[:2],
        ),
    )


# ------------------------------------------------------------------------------------------ listings
def remote_listings(item: Mapping[str, Any], skus: Sequence[Mapping[str, Any]]) -> list[RemoteListing]:
    """One RemoteListing per SKU of ``item`` (or one for the item when it has no SKUs)."""
    status = "active" if item.get("approve_status") == "onsale" else "inactive"
    num_iid = item["num_iid"]
    if not skus:
        sku = str(item.get("outer_id") or f"taobao:{num_iid}")
        return [
            RemoteListing(
                sku=sku,
                ref=sku_ref(sku, num_iid, outer_id=item.get("outer_id") or None),
                price=cny(item["price"]) if item.get("price") not in (None, "") else None,
                quantity=int(item["num"]) if item.get("num") is not None else None,
                status=status,
                title=item.get("title"),
            )
        ]
    out = []
    for s in skus:
        sku = str(s.get("outer_id") or f"taobao:{num_iid}:{s['sku_id']}")
        out.append(
            RemoteListing(
                sku=sku,
                ref=sku_ref(sku, num_iid, s["sku_id"], s.get("properties"), s.get("outer_id") or None),
                price=cny(s["price"]) if s.get("price") not in (None, "") else None,
                quantity=int(s["quantity"]) if s.get("quantity") is not None else None,
                status=status,
                title=item.get("title"),
            )
        )
    return out


def sku_map_json(sku_id: str, listed: bool) -> str:
    """``sku_map`` for taobao.sku.update.listing.tmall: 1 = list, -2 = delist."""
    return json.dumps({sku_id: 1 if listed else -2}, separators=(",", ":"))


def json_compact(value: Any) -> str:
    """JSON for a structured TOP parameter (``sku_quantities``, ``options``)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------- shipping
#: our carrier -> TOP logistics ``company_code`` (the codes taobao.logistics.companies.get lists; China
#: Post parcels are POSTB). International carriers without a Taobao code stay unmapped on purpose.
CARRIER_CODES: Mapping[str, str] = {
    "SF": "SF",
    "YTO": "YTO",
    "ZTO": "ZTO",
    "STO": "STO",
    "YUNDA": "YUNDA",
    "EMS": "EMS",
    "CHINAPOST": "POSTB",
    "FEDEX": "FEDEX",
}


def logistics_orders_params(tid: str) -> dict[str, str]:
    """taobao.logistics.orders.get for one trade (``tid``: every other filter is then ignored; a split
    trade answers one logistics order per package)."""
    return {"tid": tid, "fields": "tid,out_sid,company_name,status,sub_tids"}


def offline_send_params(shipment: Shipment, company_code: str) -> dict[str, str]:
    """taobao.logistics.offline.send (自己联系物流): the trade, waybill number and company; a package that
    leaves lines behind ships only its sub-orders (``is_split=1``, ``sub_tid`` the oids)."""
    params = {"tid": shipment.order_id, "out_sid": shipment.tracking, "company_code": company_code}
    if not shipment.complete:
        params["is_split"] = "1"
        params["sub_tid"] = ",".join(line.line_id for line in shipment.lines)
    return params
