"""Every request the adapter can send, validated against the official v3 docs (markdown, not OpenAPI).

From the docs this builds: the endpoint list (method + path from each ``api-endpoint`` block), JSON
Schemas of the writable product and variation properties (types, ``Options:`` enums, sub-tables for
images, attributes, ...), the batch envelope with its documented object limit, the documented list
parameters of each collection, and the authentication parameters. A scenario then drives the adapter
through every operation (https Basic, query-string keys and http OAuth) against the emulator, and each
recorded request must match.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from listing_sync.adapters.base import (
    DelistRequest,
    ListingDraft,
    ListingRef,
    Money,
    OrderCursor,
    PriceUpdate,
    StockUpdate,
    Variation,
)
from listing_sync.adapters.woocommerce.adapter import WooCommerceAdapter
from listing_sync.adapters.woocommerce.emulator import WooCommerceEmulator

from tests.conftest import FakeClock, make_channel

SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "specs" / "woocommerce"
pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"official WooCommerce docs not found at {SPECS}")
CREDS = {"consumer_key": "ck_4f2a9c1e7b", "consumer_secret": "cs_8d3b6e0f5a"}
TYPES = {"string": "string", "integer": "integer", "boolean": "boolean", "array": "array", "object": "object",
         "date-time": ["string", "null"], "number": "number"}  # fmt: skip


# ------------------------------------------------------------------------------------- doc parsing
def read(name: str) -> str:
    return (SPECS / name).read_text(encoding="utf-8")


def endpoints() -> list[tuple[str, re.Pattern[str], str]]:
    """(METHOD, path regex, documented path) from every ``api-endpoint`` block of the docs."""
    out = []
    for name in ("products.md", "product-variations.md", "orders.md"):
        for method, path in re.findall(r'label-\w+">(GET|POST|PUT|PATCH|DELETE)</i>\s*<h6>([^<]+)</h6>', read(name)):
            path = path.replace("&lt;", "<").replace("&gt;", ">").split("?")[0]
            pattern = re.escape(path).replace(r"\<", "<").replace(r"\>", ">")
            pattern = re.sub(r"<(\w+)>", r"(?P<\1>[0-9]+)", pattern)
            out.append((method, re.compile(f"^{pattern}$"), path))
    return out


def table(text: str, heading: str) -> list[tuple[str, str, str]]:
    """Rows (name, type, description) of the markdown table right under ``heading``."""
    start = text.index(heading)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            rows.append((cells[0].strip("`"), cells[1], cells[2]))
    return rows


def enum(description: str) -> list[str] | None:
    match = re.search(r"Options: (.*?)\.(?: Default|$)", description)
    return re.findall(r"`([^`]+)`", match.group(1)) if match else None


def schema_of(text: str, resource: str) -> dict[str, Any]:
    """Writable properties of ``resource`` ("Product", "Product variation") as a closed JSON Schema."""

    def build(heading: str) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for name, kind, description in table(text, heading):
            if "read-only" in description:
                continue
            prop: dict[str, Any] = {"type": TYPES[kind]}
            options = enum(description)
            if options and kind == "string":
                prop["enum"] = options
            sub = f"### {resource} - {name.replace('_', ' ').capitalize()} properties ###"
            if kind in ("array", "object") and sub in text:
                inner = build(sub)
                if kind == "array":
                    prop["items"] = inner
                else:
                    prop = {**inner, "type": ["object", "null"]}
            properties[name] = prop
        return {"type": "object", "properties": properties, "additionalProperties": False}

    return build(f"## {resource} properties ##")


def batch_schema(item: dict[str, Any]) -> dict[str, Any]:
    update = {**item, "properties": {**item["properties"], "id": {"type": "integer"}}, "required": ["id"]}
    return {
        "type": "object",
        "properties": {
            "create": {"type": "array", "items": item},
            "update": {"type": "array", "items": update},
            "delete": {"type": "array", "items": {"type": "integer"}},
        },
        "additionalProperties": False,
    }


def list_params(text: str, section: str) -> dict[str, tuple[str, list[str] | None]]:
    part = text[text.index(section) :]
    part = part[: part.index("\n## ", 10)] if "\n## " in part[10:] else part
    return {name: (kind, enum(desc)) for name, kind, desc in table(part, "#### Available parameters ####")}


def batch_limit() -> int:
    return int(re.search(r"limited to up to (\d+) objects", read("products.md")).group(1))


def auth_params() -> set[str]:
    text = read("authentication.md")
    oauth = set(re.findall(r"`(oauth_\w+)`", text.split("The required parameters are:")[1].split("\n")[0]))
    query = set(re.findall(r"[?&](consumer_\w+)=", text))
    return oauth | query


# ---------------------------------------------------------------------------------------- scenario
def scenario(options: dict[str, Any]) -> list:
    clock = FakeClock()
    emulator = WooCommerceEmulator(
        credentials=CREDS, clock=clock, now=lambda: datetime.now(UTC) - timedelta(minutes=5), enforce_rate=False
    )
    channel = make_channel("woocommerce", credentials=CREDS, options=options)
    usd = lambda amount: Money.of(amount, "USD")  # noqa: E731
    drafts = [
        ListingDraft("MUG", "Mug", "A mug", "9", usd("9.9"), 5, attributes={"Material": ("Ceramic",)},
                     images=("https://cdn.example.com/m.jpg",), bullet_points=("350 ml",), weight_grams=350),
        ListingDraft("TEE", "Tee", "Cotton", "", usd("12"), 0, variations=(
            Variation("TEE-R", usd("12"), 3, {"Color": "Red"}, images=("https://cdn.example.com/r.jpg",)),
            Variation("TEE-B", usd("13"), 4, {"Color": "Blue"}))),
    ]  # fmt: skip
    with WooCommerceAdapter(channel, transport=emulator.transport(), clock=clock, sleep=clock.sleep) as adapter:
        mug, tee = adapter.publish(drafts)
        adapter.publish(drafts)  # duplicate SKUs: adopted and updated
        parent_only = ListingRef("TEE", "x", {"product_id": tee.ref.ids["product_id"]})
        adapter.publish([ListingDraft(**{**{f: getattr(drafts[1], f) for f in drafts[1].__dataclass_fields__},
                                         "ref": parent_only})])  # fmt: skip
        adapter.push_prices([PriceUpdate("MUG", usd("11"), ref=mug.ref),
                             PriceUpdate("TEE-R", usd("15"), ref=tee.ref, list_price=usd("20"))])  # fmt: skip
        adapter.push_stock([StockUpdate("MUG", 7), StockUpdate("TEE-B", 2, ref=parent_only)])
        adapter.delist([DelistRequest("MUG", ref=mug.ref), DelistRequest("TEE-R", ref=tee.ref)])
        adapter.relist([DelistRequest("MUG", ref=mug.ref), DelistRequest("TEE-R", ref=tee.ref)])
        list(adapter.listings())
        emulator.generate_orders(3)
        page = adapter.orders_since(OrderCursor(datetime.now(UTC) - timedelta(hours=1)))
        assert page.orders and all(r.ok for r in (mug, tee))
    return emulator.requests


MODES = {
    "basic": {"site": "shop.example.com"},
    "query_string": {"site": "shop.example.com", "auth": "query_string"},
    "oauth1": {"site": "http://shop.example.com", "auth": "oauth1", "delist_status": "private"},
}


@pytest.mark.parametrize("mode", list(MODES))
def test_every_request_matches_the_documentation(mode):
    products, variations = read("products.md"), read("product-variations.md")
    bodies = {
        "/wp-json/wc/v3/products/batch": batch_schema(schema_of(products, "Product")),
        "/wp-json/wc/v3/products/<product_id>/variations/batch": batch_schema(
            schema_of(variations, "Product variation")
        ),
    }
    lists = {
        "/wp-json/wc/v3/products": list_params(products, "## List all products ##"),
        "/wp-json/wc/v3/products/<product_id>/variations": list_params(variations, "## List all product variations ##"),
        "/wp-json/wc/v3/orders": list_params(read("orders.md"), "## List all orders ##"),
    }
    documented = endpoints()
    allowed_auth = auth_params()
    used: set[tuple[str, str]] = set()
    requests = scenario(MODES[mode])
    assert requests
    for request in requests:
        where = f"{request.method} {request.url.path}"
        match = next(((m, p) for m, rx, p in documented if m == request.method and rx.match(request.url.path)), None)
        assert match is not None, f"{where} is not a documented endpoint"
        used.add(match)
        path = match[1]
        params = dict(request.url.params.multi_items())
        auth = {k for k in params if k in allowed_auth}
        if mode == "basic":
            assert request.headers["Authorization"].startswith("Basic ") and not auth
        elif mode == "query_string":
            assert auth == {"consumer_key", "consumer_secret"}
        else:
            required = {
                "oauth_consumer_key",
                "oauth_timestamp",
                "oauth_nonce",
                "oauth_signature",
                "oauth_signature_method",
            }
            assert required <= auth <= allowed_auth and "oauth_version" not in params
        for name, value in params.items():
            if name in allowed_auth:
                continue
            documented_params = lists.get(path)
            assert documented_params is not None and name in documented_params, f"{where}: ?{name} is not documented"
            kind, options = documented_params[name]
            if kind == "integer":
                assert value.isdigit(), f"{where}: {name}={value} is not an integer"
                if name == "per_page":
                    assert 1 <= int(value) <= 100
            elif kind == "boolean":
                assert value in ("true", "false"), f"{where}: {name}={value} is not a boolean"
            if options:
                assert value in options, f"{where}: {name}={value} not in {options}"
            if name in ("modified_after", "modified_before"):
                datetime.fromisoformat(value)  # ISO 8601
        if request.method in ("POST", "PUT"):
            assert request.headers["Content-Type"] == "application/json"
            body = json.loads(request.content)
            jsonschema.validate(body, bodies[path])
            assert sum(len(body.get(k, [])) for k in ("create", "update", "delete")) <= batch_limit()
        else:
            assert not request.content
    assert used == {
        ("POST", "/wp-json/wc/v3/products/batch"),
        ("POST", "/wp-json/wc/v3/products/<product_id>/variations/batch"),
        ("GET", "/wp-json/wc/v3/products"),
        ("GET", "/wp-json/wc/v3/products/<product_id>/variations"),
        ("GET", "/wp-json/wc/v3/orders"),
    }


def test_doc_parsing_found_what_the_adapter_relies_on():
    product = schema_of(read("products.md"), "Product")["properties"]
    variation = schema_of(read("product-variations.md"), "Product variation")["properties"]
    assert product["regular_price"] == {"type": "string"} and product["stock_quantity"] == {"type": "integer"}
    assert product["status"]["enum"] == ["draft", "pending", "private", "publish"]
    assert "price" not in product and "id" not in product  # read-only
    assert product["images"]["items"]["properties"]["src"] == {"type": "string"}
    assert variation["manage_stock"] == {"type": "boolean"} and "src" in variation["image"]["properties"]
    assert batch_limit() == 100
    assert {"oauth_signature", "consumer_key"} <= auth_params()
    orders = list_params(read("orders.md"), "## List all orders ##")
    assert orders["dates_are_gmt"][0] == "boolean" and "id" in orders["orderby"][1]


def test_a_numeric_price_would_fail_the_documented_schema():
    schema = batch_schema(schema_of(read("products.md"), "Product"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"update": [{"id": 1, "regular_price": 9.9}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"update": [{"id": 1, "stock_quantity": "5"}]}, schema)
