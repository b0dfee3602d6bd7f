"""An in-memory TOP gateway for Taobao/Tmall, written from domestic-apis.md section 3.

One endpoint, ``/router/rest`` (GET or POST form), dispatching on the ``method`` parameter. Checks the
system parameters (app_key, v, sign_method, timestamp within +-10 minutes of now, as GMT+8 text or epoch
milliseconds, session) and the signature with its own implementation of the documented algorithm, answers success as
``{"<method>_response": {...}}`` and failures as ``{"error_response": {code, msg, sub_code, sub_msg}}``
with HTTP 200. Throttling is code 7 ``accesscontrol.limited-by-api-access-count`` with the "This ban
will last for N more seconds" text.

State (JSON-only): ``items`` by num_iid (str) with their ``skus``; ``trades`` by tid (str). Times are
kept as TOP strings (GMT+8).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import httpx
from listing_sync.adapters.emulator import Emulator, route

_CN = timezone(timedelta(hours=8))
_FMT = "%Y-%m-%d %H:%M:%S"


def _cn(value: datetime) -> str:
    return value.astimezone(_CN).strftime(_FMT)


def _parse_cn(text: str) -> datetime:
    return datetime.strptime(text, _FMT).replace(tzinfo=_CN)


def _parse_timestamp(text: str) -> datetime:
    """The ``timestamp`` system parameter: ``yyyy-MM-dd HH:mm:ss`` in GMT+8 (the protocol page), or epoch
    milliseconds, which the official Python SDK sends (``top/api/base.py``: ``str(int(time.time() * 1000))``)."""
    if text.isdigit() and len(text) == 13:
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    return _parse_cn(text)


def _expected_sign(params: dict[str, str], secret: str, method: str) -> str:
    joined = "".join(k + params[k] for k in sorted(params) if k != "sign" and params[k] != "")
    data, key = joined.encode("utf-8"), secret.encode("utf-8")
    if method == "md5":
        return hashlib.md5(key + data + key).hexdigest().upper()
    digest = hashlib.md5 if method == "hmac" else hashlib.sha256
    return hmac.new(key, data, digest).hexdigest().upper()


class TopFailure(Exception):
    def __init__(self, code: int, msg: str, sub_code: str | None = None, sub_msg: str | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg
        self.body: dict[str, object] = {"code": code, "msg": msg}
        if sub_code:
            self.body["sub_code"] = sub_code
        if sub_msg:
            self.body["sub_msg"] = sub_msg


#: company codes taobao.logistics.companies.get lists (the subset the emulator knows)
LOGISTICS_COMPANIES = frozenset(
    {
        "SF",
        "YTO",
        "ZTO",
        "STO",
        "YUNDA",
        "EMS",
        "POSTB",
        "POST",
        "EYB",
        "FEDEX",
        "JT",
        "HTKY",
        "ZJS",
        "TTKDEX",
        "DBKD",
        "OTHER",
    }
)


def _invalid(sub_msg: str) -> TopFailure:
    return TopFailure(15, "Remote service error", "isv.invalid-parameter", sub_msg)


def _missing(name: str) -> TopFailure:
    return TopFailure(40, f"Missing required arguments:{name}")


def _price(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _invalid(f"价格格式错误: {text}") from None
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        raise _invalid(f"价格必须大于0且最多两位小数: {text}")
    return str(value.quantize(Decimal("0.01")))


class TaobaoEmulator(Emulator):
    kind = "taobao"
    hosts = ("gw.api.taobao.com", "api.taobao.com", "gw.api.tbsandbox.com")
    rate = 5.0
    burst = 10

    def initial_state(self) -> dict[str, Any]:
        return {"items": {}, "trades": {}}

    # -- envelope ------------------------------------------------------------------------------------
    @staticmethod
    def params(request: httpx.Request) -> dict[str, str]:
        out = dict(request.url.params.multi_items())
        if request.content:
            out.update(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
        return out

    def error(self, code: int, msg: str, sub_code: str | None = None, sub_msg: str | None = None) -> httpx.Response:
        body = TopFailure(code, msg, sub_code, sub_msg).body
        body["request_id"] = f"emu{self.rng.randrange(10**9)}"
        return self.json(200, {"error_response": body})

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        p = self.params(request)
        for name in ("app_key", "sign", "timestamp", "method", "v", "sign_method"):
            if not p.get(name):
                return self.error(
                    {"app_key": 28, "sign": 24, "timestamp": 30, "method": 21}.get(name, 40), f"Missing {name}"
                )
        if p["app_key"] != self.credentials.get("app_key"):
            return self.error(29, "Invalid app Key", "isv.appkey-not-exists")
        if p["v"] != "2.0":
            return self.error(33, "Invalid version")
        if p["sign_method"] not in ("md5", "hmac", "hmac-sha256"):
            return self.error(41, "Invalid arguments:sign_method")
        try:
            stamp = _parse_timestamp(p["timestamp"])
        except ValueError:
            return self.error(31, "Invalid timestamp", "isv.invalid-timestamp", "时间戳格式错误")
        if abs((stamp - self.now()).total_seconds()) > 600:
            return self.error(31, "Invalid timestamp", "isv.invalid-timestamp", "时间戳超出允许范围(10分钟)")
        if p["sign"] != _expected_sign(p, self.credentials.get("app_secret", ""), p["sign_method"]):
            return self.error(25, "Invalid signature")
        if p.get("session") != self.credentials.get("session"):
            return self.error(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")
        return None

    def throttled(self, request: httpx.Request, wait_seconds: float) -> httpx.Response:
        return self.error(
            7,
            "App Call Limited",
            "accesscontrol.limited-by-api-access-count",
            f"This ban will last for {max(1, math.ceil(wait_seconds))} more seconds",
        )

    def server_error(self, request: httpx.Request) -> httpx.Response:
        return self.error(15, "Remote service error", "isp.top-remote-connection-timeout", "服务调用超时")

    @route("POST", "/router/rest")
    def post(self, request: httpx.Request) -> httpx.Response:
        return self.dispatch(request)

    @route("GET", "/router/rest")
    def get(self, request: httpx.Request) -> httpx.Response:
        return self.dispatch(request)

    def dispatch(self, request: httpx.Request) -> httpx.Response:
        p = self.params(request)
        method = p["method"]
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return self.error(22, "Invalid method")
        try:
            body = handler(p)
        except TopFailure as failure:
            return self.error(failure.code, failure.msg, failure.sub_code, failure.sub_msg)
        body["request_id"] = f"emu{self.rng.randrange(10**9)}"
        return self.json(200, {method.removeprefix("taobao.").replace(".", "_") + "_response": body})

    # -- helpers -------------------------------------------------------------------------------------
    @staticmethod
    def need(p: dict[str, str], *names: str) -> None:
        for name in names:
            if not p.get(name):
                raise _missing(name)

    def item(self, num_iid: str) -> dict[str, Any]:
        item = self.state["items"].get(str(num_iid))
        if item is None:
            raise TopFailure(15, "Remote service error", "isv.item-not-exist", f"商品id对应的商品不存在:{num_iid}")
        return item

    def sku(self, item: dict[str, Any], *, sku_id: str | None = None, properties: str | None = None):
        for s in item["skus"]:
            if (sku_id and str(s["sku_id"]) == str(sku_id)) or (properties and s["properties"] == properties):
                return s
        raise TopFailure(15, "Remote service error", "isv.item-sku-not-exist", "SKU不存在")

    def touch(self, item: dict[str, Any]) -> None:
        item["modified"] = _cn(self.now())
        if item["skus"]:
            item["num"] = sum(s["quantity"] for s in item["skus"])

    def partial(self) -> None:
        if self.item_fails():
            raise TopFailure(15, "Remote service error", "isv.item-is-locked", "商品被锁定,暂时不能编辑")

    @staticmethod
    def qty(text: str, name: str = "quantity") -> int:
        try:
            value = int(text)
        except ValueError:
            raise _invalid(f"{name} 必须是整数") from None
        if value < 0:
            raise _invalid(f"全量更新时{name}不能为负数")
        return value

    @staticmethod
    def fields(p: dict[str, str], row: dict[str, Any]) -> dict[str, Any]:
        wanted = [f.strip() for f in p["fields"].split(",")]
        return {k: row[k] for k in wanted if k in row}

    def item_view(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k not in ("skus", "banner", "desc")}

    # -- items ---------------------------------------------------------------------------------------
    def _apply_item(self, item: dict[str, Any], p: dict[str, str]) -> None:
        for key in ("title", "desc", "cid", "outer_id", "props", "stuff_status"):
            if p.get(key):
                item[key] = p[key]
        if p.get("sku_properties"):
            props = p["sku_properties"].split(",")
            qtys = p.get("sku_quantities", "").split(",")
            prices = p.get("sku_prices", "").split(",")
            outers = p.get("sku_outer_ids", "").split(",") if p.get("sku_outer_ids") else [""] * len(props)
            if not (len(props) == len(qtys) == len(prices) == len(outers)):
                raise _invalid("sku_properties, sku_quantities, sku_prices, sku_outer_ids 个数不一致")
            old = {s["properties"]: s["sku_id"] for s in item["skus"]}
            item["skus"] = [
                {
                    "sku_id": old.get(prop) or self.next_id("sku_id", 4000000000),
                    "num_iid": item["num_iid"],
                    "properties": prop,
                    "quantity": self.qty(q),
                    "price": _price(pr),
                    "outer_id": outer,
                }
                for prop, q, pr, outer in zip(props, qtys, prices, outers, strict=True)
            ]
        if p.get("price"):
            item["price"] = _price(p["price"])
        if p.get("num") and not item["skus"]:
            item["num"] = self.qty(p["num"], "num")
        self._check_range(item, item["price"])
        self.touch(item)

    @staticmethod
    def _check_range(item: dict[str, Any], price: str) -> None:
        if item["skus"]:
            prices = [Decimal(s["price"]) for s in item["skus"]]
            if not min(prices) <= Decimal(price) <= max(prices):
                raise TopFailure(
                    15, "Remote service error", "isv.item-price-not-in-sku-range", "商品价格必须在SKU价格区间内"
                )

    def m_taobao_item_add(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "num", "price", "type", "stuff_status", "title", "desc", "location.state", "location.city", "cid")
        self.partial()
        num_iid = self.next_id("num_iid", 600000000000)
        item = {
            "num_iid": num_iid,
            "title": "",
            "price": "0.01",
            "num": 0,
            "outer_id": "",
            "approve_status": p.get("approve_status") or "onsale",
            "banner": "",
            "skus": [],
        }
        self._apply_item(item, p)
        self.state["items"][str(num_iid)] = item
        return {"item": {"num_iid": num_iid, "created": item["modified"]}}

    def m_taobao_item_update(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "num_iid")
        item = self.item(p["num_iid"])
        self.partial()
        self._apply_item(item, p)
        return {"item": {"num_iid": item["num_iid"], "modified": item["modified"]}}

    def m_taobao_item_quantity_update(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "num_iid", "quantity")
        if p.get("type", "1") != "1":
            raise _invalid("模拟器只支持全量更新 type=1")
        item = self.item(p["num_iid"])
        self.partial()
        quantity = self.qty(p["quantity"])
        if p.get("sku_id") or p.get("outer_id"):
            target = self.sku(item, sku_id=p.get("sku_id")) if p.get("sku_id") else None
            targets = [target] if target else [s for s in item["skus"] if s["outer_id"] == p["outer_id"]]
            if not targets:
                raise TopFailure(15, "Remote service error", "isv.item-sku-not-exist", "SKU不存在")
            for s in targets:
                s["quantity"] = quantity
        elif item["skus"]:
            raise _invalid("有SKU的商品必须指定sku_id或outer_id")
        else:
            item["num"] = quantity
        self.touch(item)
        return {"item": {"num_iid": item["num_iid"], "num": item["num"], "modified": item["modified"]}}

    def m_taobao_skus_quantity_update(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "num_iid")
        pairs = p.get("skuid_quantities") or p.get("outerid_quantities")
        if not pairs:
            raise _missing("skuid_quantities")
        entries = [e.split(":") for e in pairs.split(";") if e]
        if len(entries) > 20:
            raise _invalid("最多支持20个SKU同时修改")
        item = self.item(p["num_iid"])
        self.partial()
        by_id = "skuid_quantities" in p and bool(p["skuid_quantities"])
        updates = []
        for key, value in entries:  # all-or-nothing: validate every SKU before changing any
            found = [s for s in item["skus"] if (str(s["sku_id"]) if by_id else s["outer_id"]) == key]
            if not found:
                raise TopFailure(15, "Remote service error", "isv.item-sku-not-exist", f"SKU不存在:{key}")
            updates += [(s, self.qty(value)) for s in found]
        for s, quantity in updates:
            s["quantity"] = quantity
        self.touch(item)
        skus = [{"sku_id": s["sku_id"], "quantity": s["quantity"]} for s in item["skus"]]
        return {"item": {"num_iid": item["num_iid"], "num": item["num"], "skus": {"sku": skus}}}

    def m_tmall_item_quantity_update(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "item_id")
        item = self.item(p["item_id"])
        options = json.loads(p.get("options") or "{}")
        key = options.get("outer_biz_key")
        if key is not None and (not key or any(c not in "0123456789abcdefABCDEF" for c in key)):
            raise _invalid("outer_biz_key只能包含十六进制字符")
        if options.get("type", 1) != 1:
            raise _invalid("模拟器只支持全量更新 type=1")
        self.partial()
        if p.get("sku_quantities"):
            rows = json.loads(p["sku_quantities"])
            if len(rows) > 20:
                raise _invalid("sku_quantities最多20个")
            targets = [(self.sku(item, sku_id=str(r["sku_id"])), self.qty(str(r["quantity"]))) for r in rows]
            for s, quantity in targets:
                s["quantity"] = quantity
        elif p.get("item_quantity"):
            if item["skus"]:
                raise _invalid("有SKU的商品请使用sku_quantities")
            item["num"] = self.qty(p["item_quantity"], "item_quantity")
        else:
            raise _missing("sku_quantities")
        self.touch(item)
        return {"quantity_update_result": str(item["num_iid"])}

    def m_taobao_item_sku_price_update(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "num_iid", "properties")
        item = self.item(p["num_iid"])
        s = self.sku(item, properties=p["properties"])
        self.partial()
        before = s["price"]
        if p.get("price"):
            s["price"] = _price(p["price"])
        item_price = _price(p["item_price"]) if p.get("item_price") else item["price"]
        try:
            self._check_range(item, item_price)
        except TopFailure:
            s["price"] = before
            raise
        item["price"] = item_price
        self.touch(item)
        return {"sku": {"sku_id": s["sku_id"], "price": s["price"], "modified": item["modified"]}}

    def m_taobao_item_price_update(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "num_iid", "price")
        item = self.item(p["num_iid"])
        self.partial()
        self._check_range(item, _price(p["price"]))
        item["price"] = _price(p["price"])
        self.touch(item)
        return {"item": {"num_iid": item["num_iid"], "modified": item["modified"]}}

    def m_taobao_item_update_delisting(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "num_iid")
        item = self.item(p["num_iid"])
        self.partial()
        item["approve_status"], item["banner"] = "instock", "off_shelf"
        self.touch(item)
        return {"item": {"num_iid": item["num_iid"], "modified": item["modified"]}}

    def m_taobao_item_update_listing(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "num_iid", "num")
        item = self.item(p["num_iid"])
        num = self.qty(p["num"], "num")
        if num <= 0:
            raise _invalid("num必须大于0")
        self.partial()
        if not item["skus"]:
            item["num"] = num
        item["approve_status"], item["banner"] = "onsale", ""
        self.touch(item)
        return {"item": {"num_iid": item["num_iid"], "modified": item["modified"]}}

    def m_taobao_sku_update_listing_tmall(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "item_id", "sku_map")
        item = self.item(p["item_id"])
        for sku_id, flag in json.loads(p["sku_map"]).items():
            if flag not in (1, -2):
                raise _invalid("sku_map的值只能是1(上架)或-2(下架)")
            self.sku(item, sku_id=sku_id)["status"] = "normal" if flag == 1 else "delete"
        self.touch(item)
        return {"result": True}

    # -- read-back -----------------------------------------------------------------------------------
    def _page(self, p: dict[str, str], rows: list[dict[str, Any]], max_size: int = 200) -> dict[str, Any]:
        self.need(p, "fields")
        page_no, page_size = int(p.get("page_no") or 1), int(p.get("page_size") or 40)
        if not 1 <= page_size <= max_size:
            raise _invalid(f"page_size取值范围1-{max_size}")
        chosen = rows[(page_no - 1) * page_size : page_no * page_size]
        return {"total_results": len(rows), "items": {"item": [self.fields(p, self.item_view(i)) for i in chosen]}}

    def _sorted_items(self) -> list[dict[str, Any]]:
        return sorted(self.state["items"].values(), key=lambda i: i["num_iid"])

    def m_taobao_items_onsale_get(self, p: dict[str, str]) -> dict[str, Any]:
        return self._page(p, [i for i in self._sorted_items() if i["approve_status"] == "onsale"])

    def m_taobao_items_inventory_get(self, p: dict[str, str]) -> dict[str, Any]:
        banner = p.get("banner") or "for_shelved"
        rows = [i for i in self._sorted_items() if i["approve_status"] == "instock"]
        if banner == "sold_out":
            rows = [i for i in rows if i["num"] == 0]
        elif banner == "off_shelf":
            rows = [i for i in rows if i["banner"] == "off_shelf"]
        elif banner == "for_shelved":
            rows = [i for i in rows if i["banner"] != "off_shelf"]
        else:
            raise _invalid(f"banner不支持: {banner}")
        return self._page(p, rows)

    def m_taobao_item_skus_get(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "fields", "num_iids")
        ids = [x for x in p["num_iids"].split(",") if x]
        if len(ids) > 40:
            raise _invalid("num_iid个数不能超过40个")
        skus = [s for i in ids if i in self.state["items"] for s in self.state["items"][i]["skus"]]
        return {"skus": {"sku": [self.fields(p, s) for s in skus]}}

    def m_taobao_skus_custom_get(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "fields", "outer_id")
        skus = [s for i in self._sorted_items() for s in i["skus"] if s["outer_id"] == p["outer_id"]]
        return {"skus": {"sku": [self.fields(p, s) for s in skus]}} if skus else {}

    def m_taobao_items_custom_get(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "fields", "outer_id")
        items = [self.fields(p, self.item_view(i)) for i in self._sorted_items() if i["outer_id"] == p["outer_id"]]
        return {"items": {"item": items}} if items else {}

    # -- orders --------------------------------------------------------------------------------------
    def m_taobao_logistics_offline_send(self, p: dict[str, str]) -> dict[str, Any]:
        """自己联系物流发货: the trade must wait for shipping; company_code a known code; a split ships only
        the sub-orders in sub_tid. The trade moves on (SELLER_CONSIGNED_PART or WAIT_BUYER_CONFIRM_GOODS)."""
        self.need(p, "tid", "out_sid", "company_code")
        trade = self.state["trades"].get(p["tid"])
        if trade is None:
            raise TopFailure(15, "Remote service error", "isv.logistics-offline-service-error:B01", "交易不存在")
        if trade["status"] not in ("WAIT_SELLER_SEND_GOODS", "SELLER_CONSIGNED_PART"):
            raise TopFailure(
                15,
                "Remote service error",
                "isv.logistics-offline-service-error:B04",
                f"交易状态{trade['status']}不允许发货",
            )
        if p["company_code"] not in LOGISTICS_COMPANIES:
            raise TopFailure(
                15,
                "Remote service error",
                "isv.logistics-offline-service-error:P38",
                f"物流公司{p['company_code']}不存在",
            )
        if not p["out_sid"].isalnum():
            raise _invalid("运单号格式不正确")
        orders = {str(o["oid"]): o for o in trade["orders"]}
        if p.get("is_split") == "1":
            wanted = [x.strip() for x in p.get("sub_tid", "").split(",") if x.strip()]
            if not wanted or any(x not in orders for x in wanted):
                raise _invalid("拆单发货时sub_tid必须是该交易的子订单")
        else:
            wanted = list(orders)
        for oid in wanted:
            orders[oid]["status"] = "WAIT_BUYER_CONFIRM_GOODS"
            orders[oid]["out_sid"], orders[oid]["logistics_company"] = p["out_sid"], p["company_code"]
        done = all(o["status"] == "WAIT_BUYER_CONFIRM_GOODS" for o in trade["orders"])
        trade["status"] = "WAIT_BUYER_CONFIRM_GOODS" if done else "SELLER_CONSIGNED_PART"
        trade["modified"] = _cn(self.now())
        if done:
            trade["consign_time"] = trade["modified"]
        return {"shipping": {"is_success": True}}

    def m_taobao_logistics_orders_get(self, p: dict[str, str]) -> dict[str, Any]:
        """批量查询物流订单 by ``tid``: one Shipping per waybill the trade was sent with (fields as asked)."""
        self.need(p, "fields")
        trade = self.state["trades"].get(p.get("tid", ""))
        shippings: dict[str, dict[str, Any]] = {}
        for order in trade["orders"] if trade else []:
            if order.get("out_sid"):
                row = shippings.setdefault(
                    order["out_sid"],
                    {
                        "tid": trade["tid"] if trade else None,
                        "out_sid": order["out_sid"],
                        "company_name": order.get("logistics_company"),
                        "status": "CREATED",
                        "sub_tids": [],
                    },
                )
                row["sub_tids"].append(order["oid"])
        wanted = {f.strip() for f in p["fields"].split(",")}
        rows = [{k: v for k, v in row.items() if k in wanted} for row in shippings.values()]
        return {"shippings": {"shipping": rows}, "total_results": len(rows)}

    def m_taobao_trades_sold_increment_get(self, p: dict[str, str]) -> dict[str, Any]:
        self.need(p, "fields", "start_modified", "end_modified")
        try:
            start, end = _parse_cn(p["start_modified"]), _parse_cn(p["end_modified"])
        except ValueError:
            raise _invalid("时间格式必须是yyyy-MM-dd HH:mm:ss") from None
        if end < start or end - start > timedelta(days=1):
            raise TopFailure(15, "Remote service error", "isv.invalid-parameter", "开始时间与结束时间间隔不能超过一天")
        if start < self.now() - timedelta(days=92):
            raise _invalid("只能查询三个月内的订单")
        page_no, page_size = int(p.get("page_no") or 1), int(p.get("page_size") or 40)
        if not 1 <= page_size <= 100:
            raise _invalid("page_size取值范围1-100")
        rows = [t for t in self.state["trades"].values() if start <= _parse_cn(t["modified"]) <= end]
        rows.sort(key=lambda t: (t["modified"], t["tid"]), reverse=True)
        chosen = rows[(page_no - 1) * page_size : page_no * page_size]
        wanted = {f.strip() for f in p["fields"].split(",")}
        out = []
        for t in chosen:
            row = {k: v for k, v in t.items() if k in wanted and k != "orders"}
            sub = {f.split(".", 1)[1] for f in wanted if f.startswith("orders.")}
            if sub or "orders" in wanted:
                row["orders"] = {
                    "order": [{k: v for k, v in o.items() if "orders" in wanted or k in sub} for o in t["orders"]]
                }
            out.append(row)
        body: dict[str, Any] = {"trades": {"trade": out}} if out else {}
        if p.get("use_has_next") == "true":
            body["has_next"] = page_no * page_size < len(rows)
        else:
            body["total_results"] = len(rows)
        return body

    # -- test / demo controls ------------------------------------------------------------------------
    def add_item(
        self,
        *,
        title: str,
        price: str,
        skus: list[dict[str, Any]] | None = None,
        num: int = 0,
        outer_id: str = "",
        onsale: bool = True,
    ) -> int:
        """Create an item directly (as if made in the seller back office); returns its num_iid."""
        p = {"title": title, "price": price, "num": str(num), "outer_id": outer_id}
        if skus:
            p["sku_properties"] = ",".join(s["properties"] for s in skus)
            p["sku_quantities"] = ",".join(str(s["quantity"]) for s in skus)
            p["sku_prices"] = ",".join(s["price"] for s in skus)
            p["sku_outer_ids"] = ",".join(s.get("outer_id", "") for s in skus)
        num_iid = self.next_id("num_iid", 600000000000)
        item = {
            "num_iid": num_iid,
            "title": "",
            "price": price,
            "num": num,
            "outer_id": "",
            "approve_status": "onsale" if onsale else "instock",
            "banner": "",
            "skus": [],
        }
        self._apply_item(item, p)
        self.state["items"][str(num_iid)] = item
        return num_iid

    def edit_listing(
        self,
        num_iid: int | str,
        *,
        sku_id: int | str | None = None,
        price: str | None = None,
        quantity: int | None = None,
    ) -> None:
        """Change a price or quantity "in the back office" (for drift tests); skips TOP's checks."""
        item = self.item(str(num_iid))
        target = self.sku(item, sku_id=str(sku_id)) if sku_id is not None else item
        if price is not None:
            target["price"] = price
        if quantity is not None:
            target["quantity" if sku_id is not None else "num"] = quantity
        self.touch(item)

    def generate_orders(self, count: int) -> list[str]:
        """Paid trades (WAIT_SELLER_SEND_GOODS) for on-sale SKUs with stock; stock is decremented."""
        tids = []
        # built once (a sale changes only its own SKU): the list a rebuild per trade would give, in order
        choices = [
            (item, s)
            for item in self._sorted_items()
            if item["approve_status"] == "onsale"
            for s in (item["skus"] or [None])
            if (s["quantity"] if s else item["num"]) > 0
        ]
        for _ in range(count):
            if not choices:
                break
            picked = self.rng.choice(choices)
            item, s = picked
            stock = s["quantity"] if s else item["num"]
            num = self.rng.randint(1, min(3, stock))
            price = Decimal(s["price"] if s else item["price"])
            if s:
                s["quantity"] -= num
            else:
                item["num"] -= num
            if num == stock:
                choices = [c for c in choices if c is not picked]
            self.touch(item)
            tid = self.next_id("tid", 3000000000000000)
            now = _cn(self.now())
            post_fee = Decimal("0.00") if self.rng.random() < 0.5 else Decimal("10.00")
            self.state["trades"][str(tid)] = {
                "tid": tid,
                "status": "WAIT_SELLER_SEND_GOODS",
                "created": now,
                "modified": now,
                "pay_time": now,
                "payment": str(price * num + post_fee),
                "total_fee": str(price * num),
                "post_fee": str(post_fee),
                "receiver_country": "",
                "receiver_name": "张**",  # desensitised, as TOP sends it
                "receiver_mobile": "*******1234",
                "orders": [
                    {
                        "oid": self.next_id("oid", 4100000000000000),
                        "num_iid": item["num_iid"],
                        "sku_id": s["sku_id"] if s else "",
                        "outer_iid": item["outer_id"],
                        "outer_sku_id": s["outer_id"] if s else "",
                        "num": num,
                        "price": str(price),
                        "payment": str(price * num),
                        "title": item["title"],
                        "status": "WAIT_SELLER_SEND_GOODS",
                    }
                ],
            }
            tids.append(str(tid))
        return tids

    def set_order_status(self, tid: str | int, status: str) -> None:
        """Move a trade to another TOP status (e.g. TRADE_CLOSED_BY_TAOBAO, WAIT_BUYER_CONFIRM_GOODS)."""
        trade = self.state["trades"][str(tid)]
        trade["status"] = status
        trade["modified"] = _cn(self.now())
        if status in ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED") and not trade.get("consign_time"):
            trade["consign_time"] = trade["modified"]
        for o in trade["orders"]:
            o["status"] = status

    def cancel_order(self, tid: str | int) -> None:
        self.set_order_status(tid, "TRADE_CLOSED_BY_TAOBAO")

    @staticmethod
    def utc(text: str) -> datetime:
        return _parse_cn(text).astimezone(UTC)
