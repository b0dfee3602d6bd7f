"""In-memory AliExpress Open Platform (IOP gateway), written from the reference, not from the adapter.

``POST /sync`` dispatches on ``method``; ``POST /rest/auth/token/refresh`` (and ``/create``) issue seller
tokens. Every request must carry ``app_key``, an epoch-millisecond ``timestamp`` within 15 minutes,
``sign_method=sha256`` and a valid uppercase HMAC-SHA256 ``sign``; method calls need ``session``.
Errors and the throttle arrive as HTTP 200 IOP bodies (``code``/``type``/``message``), like the real one.
Order times are served in US Pacific time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx
from listing_sync.adapters.emulator import Emulator, route

PACIFIC = ZoneInfo("America/Los_Angeles")
FMT = "%Y-%m-%d %H:%M:%S"
MAX_PRODUCTS, MAX_SKUS, FEED_MAX = 20, 200, 2000
OPEN_STATUSES = ("WAIT_SELLER_SEND_GOODS", "PLACE_ORDER_SUCCESS", "RISK_CONTROL")


def _params(request: httpx.Request) -> dict[str, str]:
    params = dict(request.url.params.multi_items())
    if request.content and "form-urlencoded" in request.headers.get("Content-Type", ""):
        params.update(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
    return params


def _expected_sign(params: dict[str, str], secret: str, path: str | None) -> str:
    text = (path or "") + "".join(k + params[k] for k in sorted(params) if k != "sign")
    return hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def _api_path(path: str, params: dict[str, str]) -> str | None:
    """The path-style API a request calls (``/auth/token/create``), signed as a prefix; None for ``/sync``.

    Either in the URL (``/rest/auth/token/create``) or, as the official IOP SDK sends it, ``POST /rest`` with
    ``method=/auth/token/create`` (iop-sdk-python-20220609 posts to the server URL with ``method`` set).
    """
    if "/rest/" in path:
        return path[path.find("/rest/") + 5 :]
    method = params.get("method", "")
    return method if path.endswith("/rest") and method.startswith("/") else None


def _pt(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(PACIFIC).strftime(FMT)


def _from_pt(text: str) -> datetime:
    return datetime.strptime(text, FMT).replace(tzinfo=PACIFIC).astimezone(UTC)


#: logistics service keys aliexpress.logistics.redefining.listlogisticsservice lists (a subset)
LOGISTICS_SERVICES = frozenset(
    {"EMS", "CPAM", "DHL", "UPS", "UPSE", "FEDEX_IE", "FEDEX", "SF", "CAINIAO_STANDARD", "YANWEN_JYT", "OTHER"}
)

#: ship-to countries of emulated orders' receipt addresses (picked by order id: no random draw)
RECEIPT_COUNTRIES = ("US", "FR", "ES", "PL", "BR", "KR")


class AliExpressEmulator(Emulator):
    kind = "aliexpress"
    hosts = ("api-sg.aliexpress.com",)
    rate = 10.0
    burst = 10

    #: seconds before a submitted feed job shows results (0 = processed at once)
    feed_delay: float = 0.0

    def initial_state(self) -> dict[str, Any]:
        return {
            "access_token": self.credentials.get("access_token") or "",
            "products": {},
            "feeds": {},
            "orders": {},
            "feed_count": {},
        }

    # -- envelopes ------------------------------------------------------------------------------------
    def error(self, code: str, message: str, kind: str = "ISV", status: int = 200) -> httpx.Response:
        return self.json(status, {"code": code, "type": kind, "message": message, "request_id": self._rid()})

    def ok(self, method: str, body: dict[str, Any]) -> httpx.Response:
        return self.json(200, {method.replace(".", "_") + "_response": {**body, "request_id": self._rid()}})

    def _rid(self) -> str:
        return f"{self.rng.getrandbits(48):012x}"

    def throttled(self, request: httpx.Request, wait_seconds: float) -> httpx.Response:
        seconds = max(1, round(wait_seconds))
        return self.error(
            "ApiCallLimit", f"Api access frequency exceeds the limit. this ban will last {seconds} seconds"
        )

    def server_error(self, request: httpx.Request) -> httpx.Response:
        if self.rng.random() < 0.5:
            return self.error("ServiceUnavailable", "The request has failed due to a temporary failure.", "ISP", 503)
        return self.error("InternalError", "The request processing has failed due to some unknown error.", "SYSTEM")

    # -- auth -----------------------------------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        params = _params(request)
        if params.get("app_key") != self.credentials.get("app_key"):
            return self.error("InvalidAppKey", "Specified app key is invalid.")
        stamp = params.get("timestamp", "")
        if not (stamp.isdigit() and len(stamp) == 13):
            return self.error("InvalidTimestamp", "timestamp must be epoch milliseconds.")
        if abs(int(stamp) / 1000 - self.now().timestamp()) > 900:
            return self.error("InvalidTimestamp", "The specified timestamp is out of the allowed range.")
        if params.get("sign_method") != "sha256":
            return self.error("InvalidSignMethod", "sign_method must be sha256.")
        api = _api_path(request.url.path, params)
        expected = _expected_sign(params, self.credentials.get("app_secret", ""), api)
        if params.get("sign") != expected:
            return self.error("IncompleteSignature", "The request signature does not conform to platform standards")
        token = params.get("session") or params.get("access_token")
        if api is None and (not token or token != self.state["access_token"]):
            return self.error("IllegalAccessToken", "The specified access token is invalid or expired")
        return None

    @route("POST", "/rest")
    def rest(self, request: httpx.Request) -> httpx.Response:
        """A path-style API named by ``method`` (the official SDK's form)."""
        api = _params(request).get("method", "")
        handlers = {"/auth/token/create": self.token_create, "/auth/token/refresh": self.token_refresh}
        if api not in handlers:
            return self.error("InvalidApiPath", f"The specified API {api!r} does not exist")
        return handlers[api](request)

    @route("POST", "/rest/auth/token/refresh")
    def token_refresh(self, request: httpx.Request) -> httpx.Response:
        if _params(request).get("refresh_token") != self.credentials.get("refresh_token"):
            return self.error("InvalidRefreshToken", "refresh token is invalid or expired")
        return self._new_token()

    @route("POST", "/rest/auth/token/create")
    def token_create(self, request: httpx.Request) -> httpx.Response:
        if not _params(request).get("code"):
            return self.error("MissingParameter", 'The input parameter "code" is not supplied.')
        return self._new_token()

    def _new_token(self) -> httpx.Response:
        token = f"emu-at-{self.next_id('token')}"
        self.state["access_token"] = token
        return self.json(
            200,
            {
                "code": "0",
                "access_token": token,
                "refresh_token": self.credentials.get("refresh_token", "emu-rt"),
                "expires_in": 2592000,
                "refresh_expires_in": 5184000,
                "request_id": self._rid(),
            },
        )

    def expire_token(self) -> None:
        """Invalidate the current access token (as AliExpress does when it lapses)."""
        self.state["access_token"] = "expired"

    # -- dispatch -------------------------------------------------------------------------------------
    @route("POST", "/sync")
    def sync(self, request: httpx.Request) -> httpx.Response:
        params = _params(request)
        method = params.get("method", "")
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return self.error("InvalidApiPath", f"The specified API {method!r} does not exist")
        try:
            return handler(method, params)
        except (KeyError, ValueError, TypeError) as exc:
            return self.error("InvalidParameter", f"The specified parameter is not valid: {exc}")

    def _json_param(self, params: dict[str, str], name: str) -> Any:
        if name not in params:
            raise KeyError(name)
        return json.loads(params[name])

    def _missing(self, name: str) -> httpx.Response:
        return self.error(
            "MissingParameter",
            f'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
        )

    # -- products -------------------------------------------------------------------------------------
    def _store(self, pid: str, body: dict[str, Any], schema: bool) -> None:
        old = self.state["products"].get(pid, {})
        skus = {}
        for s in body.get("sku_info_list") or []:
            skus[str(s["sku_code"])] = {
                "price": str(s["price"]),
                "discount_price": str(s["discount_price"]) if s.get("discount_price") is not None else None,
                "inventory": int(s.get("inventory", 0)),
            }
        if schema:
            title = (body.get("title_multi_language_list") or [{}])[0].get("title", "")
            category = body.get("category_id")
        else:
            title = (body.get("multi_language_subject_list") or [{}])[0].get("subject", body.get("subject", ""))
            category = body.get("aliexpress_category_id")
        self.state["products"][pid] = {
            "subject": title,
            "category_id": str(category),
            "status": old.get("status", "onSelling"),
            "currency": "USD",
            "skus": skus or old.get("skus", {}),
        }

    def _validate_product(self, body: Any, schema: bool) -> str | None:
        if not isinstance(body, dict):
            return "request must be a JSON object"
        need = ("category_id", "title_multi_language_list") if schema else ("aliexpress_category_id", "language")
        for key in (*need, "sku_info_list"):
            if not body.get(key):
                return f"{key} is required"
        if len(body["sku_info_list"]) > 1 and any(
            not (s.get("sku_attributes") if schema else s.get("sku_attributes_list")) for s in body["sku_info_list"]
        ):
            return "sku attributes are required when there is more than one sku"
        return None

    def m_aliexpress_solution_product_post(self, method: str, params: dict[str, str]) -> httpx.Response:
        if "post_product_request" not in params:
            return self._missing("post_product_request")
        body = json.loads(params["post_product_request"])
        problem = self._validate_product(body, schema=False)
        if problem:
            return self.error("isv.param-invalid", problem)
        pid = str(self.next_id("product", 1005000000000000))
        self._store(pid, body, schema=False)
        return self.ok(method, {"result": {"product_id": int(pid)}})

    def m_aliexpress_solution_product_edit(self, method: str, params: dict[str, str]) -> httpx.Response:
        if "edit_product_request" not in params:
            return self._missing("edit_product_request")
        body = json.loads(params["edit_product_request"])
        pid = str(body.get("product_id", ""))
        if pid not in self.state["products"]:
            return self.error("isv.product-not-exist", f"product {pid} does not exist")
        self._store(pid, body, schema=False)
        return self.ok(method, {"result": {"product_id": int(pid)}})

    def m_aliexpress_solution_feed_submit(self, method: str, params: dict[str, str]) -> httpx.Response:
        op = params.get("operation_type")
        if op not in ("PRODUCT_CREATE", "PRODUCT_FULL_UPDATE", "PRODUCT_STOCKS_UPDATE", "PRODUCT_PRICES_UPDATE"):
            return self.error("isv.param-invalid", f"operation_type {op!r} is not supported")
        item_list = self._json_param(params, "item_list")
        if not item_list or len(item_list) > FEED_MAX:
            return self.error("isv.param-invalid", f"item_list size must be 1..{FEED_MAX}")
        job = str(self.next_id("job", 200000000060000000))
        results = []
        for item in item_list:
            content = item["item_content"]
            body = json.loads(content) if isinstance(content, str) else content
            results.append(
                {"item_content_id": item["item_content_id"], "item_execution_result": self._feed_item(op, body)}
            )
        count = self.state["feed_count"]
        count[op] = count.get(op, 0) + 1
        self.state["feeds"][job] = {"submitted": self.now().isoformat(), "results": results}
        return self.ok(method, {"job_id": int(job)})

    def _feed_item(self, op: str, body: dict[str, Any]) -> str:
        if op == "PRODUCT_FULL_UPDATE":
            pid = str(body.get("aliexpress_product_id", ""))
            if pid not in self.state["products"]:
                return json.dumps(
                    {"success": False, "errorCode": "F_PRODUCT_NOT_EXIST", "errorMessage": "no such product"}
                )
        else:
            pid = ""
        problem = self._validate_product(body, schema=True) or ("injected failure" if self.item_fails() else None)
        if problem:
            return json.dumps({"success": False, "errorCode": "F_VALIDATION", "errorMessage": problem})
        pid = pid or str(self.next_id("product", 1005000000000000))
        self._store(pid, body, schema=True)
        return json.dumps({"productId": int(pid), "success": True})

    def m_aliexpress_solution_feed_query(self, method: str, params: dict[str, str]) -> httpx.Response:
        job = self.state["feeds"].get(params.get("job_id", ""))
        if job is None:
            return self.error("isv.job-not-exist", f"job {params.get('job_id')} does not exist")
        ready = self.now() >= datetime.fromisoformat(job["submitted"]) + timedelta(seconds=self.feed_delay)
        rows = job["results"] if ready else []
        succeeded = sum(1 for r in rows if json.loads(r["item_execution_result"]).get("success"))
        return self.ok(
            method,
            {
                "job_id": int(params["job_id"]),
                "success_item_count": succeeded,
                "total_item_count": len(job["results"]),
                "result_list": {"single_item_response_dto": rows},
            },
        )

    def _batch(self, method: str, params: dict[str, str], field: str) -> httpx.Response:
        if "mutiple_product_update_list" not in params:
            return self._missing("mutiple_product_update_list")
        products = json.loads(params["mutiple_product_update_list"])
        if len(products) > MAX_PRODUCTS:
            return self.error("isv.param-invalid", f"mutiple_product_update_list size must not exceed {MAX_PRODUCTS}")
        failed, succeeded = [], []
        for entry in products:
            pid = str(entry.get("product_id"))
            skus = entry.get("multiple_sku_update_list") or []
            if len(skus) > MAX_SKUS:
                return self.error("isv.param-invalid", f"multiple_sku_update_list size must not exceed {MAX_SKUS}")
            problem = self._apply(pid, skus, field)
            if problem is None and self.item_fails():
                problem = ("F_SYSTEM_BUSY", "system busy, please try again")
            if problem:
                failed.append({"product_id": int(pid), "error_code": problem[0], "error_message": problem[1]})
            else:
                succeeded.append({"product_id": int(pid)})
        return self.ok(
            method,
            {
                "update_success": not failed,
                "update_failed_list": {"synchronize_product_response_dto": failed},
                "update_successful_list": {"synchronize_product_response_dto": succeeded},
            },
        )

    def _apply(self, pid: str, skus: list[dict[str, Any]], field: str) -> tuple[str, str] | None:
        product = self.state["products"].get(pid)
        if product is None:
            return ("F_PRODUCT_NOT_EXIST", f"product {pid} does not exist")
        for s in skus:
            if str(s.get("sku_code")) not in product["skus"]:
                return ("F_SKU_NOT_EXIST", f"sku_code {s.get('sku_code')} does not exist in product {pid}")
            if field == "price":
                price, discount = s.get("price"), s.get("discount_price")
                try:
                    regular = Decimal(str(price))
                    cheaper = Decimal(str(discount)) if discount is not None else None
                except InvalidOperation:
                    return ("F_PRICE_INVALID", "price is not a number")
                if regular <= 0:
                    return ("F_PRICE_INVALID", "price must be between 0.01 and 999999")
                if cheaper is not None and cheaper > regular:
                    return ("F_PRICE_INVALID", "discount_price should be cheaper than price")
            elif int(s.get("inventory", -1)) < 0 or int(s["inventory"]) > 999999:
                return ("F_INVENTORY_INVALID", "inventory must be between 0 and 999999")
        for s in skus:
            sku = product["skus"][str(s["sku_code"])]
            if field == "price":
                sku["price"] = str(s["price"])
                sku["discount_price"] = str(s["discount_price"]) if s.get("discount_price") is not None else None
            else:
                sku["inventory"] = int(s["inventory"])
        return None

    def m_aliexpress_solution_batch_product_price_update(self, method: str, params: dict[str, str]) -> httpx.Response:
        return self._batch(method, params, "price")

    def m_aliexpress_solution_batch_product_inventory_update(
        self, method: str, params: dict[str, str]
    ) -> httpx.Response:
        return self._batch(method, params, "inventory")

    def _set_status(self, method: str, params: dict[str, str], status: str) -> httpx.Response:
        ids = [i for i in params.get("product_ids", "").split(";") if i]
        if not ids:
            return self._missing("product_ids")
        unknown = [i for i in ids if i not in self.state["products"]]
        if unknown:
            return self.ok(
                method,
                {"result": {"success": False, "error_code": "F_PRODUCT_NOT_EXIST", "error_message": f"{unknown}"}},
            )
        for i in ids:
            self.state["products"][i]["status"] = status
        return self.ok(method, {"result": {"success": True, "modify_count": len(ids)}})

    def m_aliexpress_postproduct_redefining_offlineaeproduct(
        self, method: str, params: dict[str, str]
    ) -> httpx.Response:
        return self._set_status(method, params, "offline")

    def m_aliexpress_postproduct_redefining_onlineaeproduct(
        self, method: str, params: dict[str, str]
    ) -> httpx.Response:
        return self._set_status(method, params, "onSelling")

    def m_aliexpress_solution_product_list_get(self, method: str, params: dict[str, str]) -> httpx.Response:
        query = self._json_param(params, "aeop_a_e_product_list_query")
        status = query["product_status_type"]
        size = min(int(query.get("page_size") or 20), 99)
        page = int(query.get("current_page") or 1)
        ids = sorted(pid for pid, p in self.state["products"].items() if p["status"] == status)
        rows = [{"product_id": int(pid), "subject": self.state["products"][pid]["subject"]} for pid in ids]
        total_page = (len(rows) + size - 1) // size
        return self.ok(
            method,
            {
                "result": {
                    "success": True,
                    "current_page": page,
                    "total_page": total_page,
                    "product_count": len(rows),
                    "aeop_a_e_product_display_d_t_o_list": {"item_display_dto": rows[(page - 1) * size : page * size]},
                }
            },
        )

    def m_aliexpress_solution_product_info_get(self, method: str, params: dict[str, str]) -> httpx.Response:
        product = self.state["products"].get(params.get("product_id", ""))
        if product is None:
            return self.error("isv.product-not-exist", f"product {params.get('product_id')} does not exist")
        skus = [
            {
                "id": f"14:{n}",
                "sku_code": code,
                "sku_price": s["price"],
                "sku_discount_price": s["discount_price"],
                "ipm_sku_stock": s["inventory"],
            }
            for n, (code, s) in enumerate(product["skus"].items(), start=1)
        ]
        return self.ok(
            method,
            {
                "result": {
                    "product_id": int(params["product_id"]),
                    "subject": product["subject"],
                    "currency_code": product["currency"],
                    "product_status_type": product["status"],
                    "aeop_ae_product_s_k_us": {"global_aeop_ae_product_sku": skus},
                }
            },
        )

    # -- orders ---------------------------------------------------------------------------------------
    def m_aliexpress_solution_order_get(self, method: str, params: dict[str, str]) -> httpx.Response:
        if "param0" not in params:
            return self._missing("param0")
        q = json.loads(params["param0"])
        size, page = int(q["page_size"]), int(q["current_page"])
        start = _from_pt(q["modified_date_start"]) if q.get("modified_date_start") else None
        end = _from_pt(q["modified_date_end"]) if q.get("modified_date_end") else None
        wanted = set(q.get("order_status_list") or ([q["order_status"]] if q.get("order_status") else []))
        rows = []
        for oid in sorted(self.state["orders"]):
            o = self.state["orders"][oid]
            updated = datetime.fromisoformat(o["updated"])
            if (start and updated < start) or (end and updated > end):
                continue
            if wanted and o["status"] not in wanted:
                continue
            if not wanted and o["status"] == "FINISH":  # FINISH only when asked for by status
                continue
            rows.append(self._order_dto(oid, o))
        total_page = (len(rows) + size - 1) // size
        return self.ok(
            method,
            {
                "result": {
                    "success": True,
                    "total_count": len(rows),
                    "total_page": total_page,
                    "current_page": page,
                    "page_size": size,
                    "target_list": {"order_dto": rows[(page - 1) * size : page * size]},
                }
            },
        )

    def m_aliexpress_solution_order_receiptinfo_get(self, method: str, params: dict[str, str]) -> httpx.Response:
        """An order's receipt address (``param1`` = {"order_id": N}): here only a country (from the order id)
        and placeholders, never a real person's data."""
        try:
            order_id = str(json.loads(params.get("param1") or "{}")["order_id"])
        except (ValueError, KeyError, TypeError):
            return self._missing("param1.order_id")
        if order_id not in self.state["orders"]:
            return self.error("isv.ORDER_NOT_EXIST", f"order {order_id} does not exist")
        country = RECEIPT_COUNTRIES[int(order_id) % len(RECEIPT_COUNTRIES)]
        result = {
            "country": country,
            "contact_person": "Emulated Buyer",
            "mobile_no": "5550100",
            "detail_address": "1 Emulated Street",
            "address2": "",
            "city": "-",
            "province": "-",
            "zip": "-",
        }
        return self.ok(method, {"result": result})

    def m_aliexpress_solution_order_info_get(self, method: str, params: dict[str, str]) -> httpx.Response:
        """One order's detail (``param1`` = {"order_id": N}): here its status and ``logistic_info_list`` (the
        shipments declared), in ``result.data``."""
        try:
            order_id = str(json.loads(params.get("param1") or "{}")["order_id"])
        except (ValueError, KeyError, TypeError):
            return self._missing("param1.order_id")
        o = self.state["orders"].get(order_id)
        if o is None:
            return self.error("isv.ORDER_NOT_EXIST", f"order {order_id} does not exist")
        shipped = [
            {"logistics_no": s["logistics_no"], "logistics_service_name": s["service_name"]}
            for s in o.get("shipments", [])
        ]
        data = {
            "id": int(order_id),
            "order_status": o["status"],
            "logistics_status": o.get("logistics_status", "WAIT_SELLER_SEND_GOODS"),
            "logistic_info_list": {"global_aeop_tp_logistic_info_dto": shipped},
        }
        return self.ok(method, {"result": {"data": data}})

    def m_aliexpress_solution_order_fulfill(self, method: str, params: dict[str, str]) -> httpx.Response:
        """Declare a shipment: service_name a logistics service key, send_type all or part, the order waiting
        for (more) shipping. ``all`` moves it to WAIT_BUYER_ACCEPT_GOODS, ``part`` to SELLER_PART_SEND_GOODS."""
        for name in ("service_name", "out_ref", "send_type", "logistics_no"):
            if not params.get(name):
                return self._missing(name)
        o = self.state["orders"].get(params["out_ref"])
        if o is None:
            return self.error("isv.ORDER_NOT_EXIST", f"order {params['out_ref']} does not exist")
        if o["status"] not in ("WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS"):
            return self.error(
                "isv.ORDER_STATUS_ERROR", f"order {params['out_ref']} is {o['status']}: it cannot be shipped"
            )
        if params["send_type"] not in ("all", "part"):
            return self.error("isv.INVALID_PARAMETER", "send_type must be all or part")
        if params["service_name"] not in LOGISTICS_SERVICES:
            return self.error(
                "isv.LOGISTICS_SERVICE_NOT_EXIST", f"logistics service {params['service_name']} is not supported"
            )
        if params["service_name"] == "OTHER" and not params.get("tracking_website"):
            return self.error("isv.INVALID_PARAMETER", "tracking_website is required when service_name is other")
        now = self.now().astimezone(UTC).isoformat()
        o.setdefault("shipments", []).append(
            {"service_name": params["service_name"], "logistics_no": params["logistics_no"]}
        )
        o["updated"] = now
        if params["send_type"] == "all":
            o["status"], o["sent"], o["logistics_status"] = (
                "WAIT_BUYER_ACCEPT_GOODS",
                o.get("sent") or now,
                "SELLER_SEND_GOODS",
            )
        else:
            o["status"] = "SELLER_PART_SEND_GOODS"
        return self.ok(method, {"result": {"result_success": True}})

    def _order_dto(self, oid: str, o: dict[str, Any]) -> dict[str, Any]:
        dto = {
            "order_id": int(oid),
            "order_status": o["status"],
            "gmt_create": _pt(o["created"]),
            "gmt_update": _pt(o["updated"]),
            "logistics_status": o.get("logistics_status", "WAIT_SELLER_SEND_GOODS"),
            "end_reason": o.get("end_reason"),
            "pay_amount": {"amount": o["total"], "currency_code": o["currency"]},
            # AliExpress's commission on the order (the "escrow fee"); here 8% of the amount paid
            "escrow_fee": {
                "amount": str((Decimal(o["total"]) * Decimal("0.08")).quantize(Decimal("0.01"))),
                "currency_code": o["currency"],
            },
            "buyer_login_id": "emu-buyer",
            "buyer_signer_fullname": "Emulated Buyer",
            "product_list": {
                "order_product_dto": [
                    {
                        "child_id": int(line["child_id"]),
                        "order_id": int(oid),
                        "product_id": int(line["product_id"]),
                        "sku_code": line["sku"],
                        "product_count": line["quantity"],
                        "product_name": line["title"],
                        "product_unit_price": {"amount": line["price"], "currency_code": o["currency"]},
                    }
                    for line in o["lines"]
                ]
            },
        }
        if o.get("sent"):
            dto["gmt_send_goods_time"] = _pt(o["sent"])
        return dto

    def generate_orders(self, count: int) -> list[str]:
        """Create ``count`` seeded orders for on-sale SKUs with stock, decrementing stock."""
        made: list[str] = []
        # built once (a sale changes only its own SKU): the list a rebuild per order would give, in order
        choices = [
            (pid, code, sku)
            for pid, p in sorted(self.state["products"].items())
            if p["status"] == "onSelling"
            for code, sku in sorted(p["skus"].items())
            if sku["inventory"] > 0
        ]
        for _ in range(count):
            if not choices:
                break
            picked = self.rng.choice(choices)
            pid, code, sku = picked
            qty = self.rng.randint(1, min(3, sku["inventory"]))
            sku["inventory"] -= qty
            if sku["inventory"] <= 0:
                choices = [c for c in choices if c is not picked]
            unit = sku["discount_price"] or sku["price"]
            total = str((Decimal(unit) * qty).quantize(Decimal("0.01")))
            oid = str(self.next_id("order", 8100000000000000))
            now = self.now().astimezone(UTC).isoformat()
            self.state["orders"][oid] = {
                "status": "WAIT_SELLER_SEND_GOODS",
                "created": now,
                "updated": now,
                "currency": self.state["products"][pid]["currency"],
                "total": total,
                "lines": [
                    {
                        "child_id": str(self.next_id("child", 8200000000000000)),
                        "product_id": pid,
                        "sku": code,
                        "quantity": qty,
                        "price": unit,
                        "title": self.state["products"][pid]["subject"],
                    }
                ],
            }
            made.append(oid)
        return made

    # -- back office (for syncer tests) ---------------------------------------------------------------
    def set_order_status(self, order_id: str, status: str, *, shipped: bool | None = None) -> None:
        """Move an order to an AliExpress status (``FINISH`` with ``shipped=False`` = closed unshipped)."""
        o = self.state["orders"][order_id]
        o["status"] = status
        now = self.now().astimezone(UTC).isoformat()
        o["updated"] = now
        if status in ("WAIT_BUYER_ACCEPT_GOODS", "FUND_PROCESSING") or shipped:
            o["sent"] = o.get("sent") or now
            o["logistics_status"] = "SELLER_SEND_GOODS"
        if status == "FINISH" and shipped is False:
            o["end_reason"] = "buyer_cancel_order"
            o["logistics_status"] = "NO_LOGISTICS"

    def cancel_order(self, order_id: str) -> None:
        self.set_order_status(order_id, "FINISH", shipped=False)

    def edit_sku(self, sku_code: str, *, price: str | None = None, inventory: int | None = None) -> None:
        """Change a SKU in the seller back office (drift)."""
        for p in self.state["products"].values():
            if sku_code in p["skus"]:
                if price is not None:
                    p["skus"][sku_code]["price"] = price
                    p["skus"][sku_code]["discount_price"] = price
                if inventory is not None:
                    p["skus"][sku_code]["inventory"] = inventory
                return
        raise KeyError(sku_code)

    def product_of(self, sku_code: str) -> dict[str, Any]:
        for p in self.state["products"].values():
            if sku_code in p["skus"]:
                return p
        raise KeyError(sku_code)
