"""`syncer demo` end to end: the whole loop on the six emulated channels, with a trace of every operation."""

from __future__ import annotations

import json
import logging
import re
import sqlite3

import pytest
from listing_sync.config.settings import get_settings
from listing_sync.syncer.cli.app import app
from typer.testing import CliRunner

# how each kind's trace shows each operation (method/path or TOP/IOP method name or GraphQL operation)
OPERATIONS = {
    "taobao": {
        "publish": r"method=taobao\.item\.add",
        "price": r"method=taobao\.item(\.sku)?\.price\.update",
        "stock": r"method=taobao\.(item|skus)\.quantity\.update",
        "delist": r"method=taobao\.item\.update\.delisting",
        "orders": r"method=taobao\.trades\.sold\.increment\.get",
        "ship": r"method=taobao\.logistics\.offline\.send",
    },
    "shopify": {
        "publish": r"mutation CreateProduct",
        "price": r"mutation SetPrices",
        "stock": r"mutation SetStock",
        "delist": r"mutation SetStatus",
        "orders": r"query Orders",
        "ship": r"mutation Fulfill\(",
    },
    "woocommerce": {
        "publish": r"POST /wp-json/wc/v3/products/batch .*\"create\"",
        "price": r"\"regular_price\"",
        "stock": r"\"stock_quantity\"",
        "delist": r"\"status\": ?\"(draft|private)\"",
        "orders": r"GET /wp-json/wc/v3/orders",
        "ship": r"POST /wp-json/wc/v3/orders/\d+/notes ",
    },
    "aliexpress": {
        "publish": r"method=aliexpress\.solution\.(product\.post|feed\.submit)",
        "price": r"method=aliexpress\.solution\.batch\.product\.price\.update",
        "stock": r"method=aliexpress\.solution\.batch\.product\.inventory\.update",
        "delist": r"method=aliexpress\.postproduct\.redefining\.offlineaeproduct",
        "orders": r"method=aliexpress\.solution\.order\.get",
        "ship": r"method=aliexpress\.solution\.order\.fulfill",
    },
    "ebay": {
        "publish": r"POST /sell/inventory/v1/bulk_publish_offer|publish_by_inventory_item_group",
        "price": r"POST /sell/inventory/v1/bulk_update_price_quantity .*\"price\"",
        "stock": r"POST /sell/inventory/v1/bulk_update_price_quantity .*\"quantity\"",
        "delist": r"/withdraw",
        "orders": r"GET /sell/fulfillment/v1/order\?filter=lastmodifieddate",
        "ship": r"POST /sell/fulfillment/v1/order/[^/ ]+/shipping_fulfillment ",
    },
    "amazon": {
        "publish": r"PUT /listings/2021-08-01/items/",
        "price": r"PATCH /listings/2021-08-01/items/.*purchasable_offer",
        "stock": r"PATCH /listings/2021-08-01/items/.*fulfillment_availability",
        "delist": r"PATCH /listings/2021-08-01/items/.*\"quantity\": ?0",
        "orders": r"GET /orders/2026-01-01/orders\?",
        "ship": r"POST /orders/v0/orders/[^/ ]+/shipmentConfirmation ",
    },
}


def line_text(record: dict) -> str:
    url = re.sub(r"^https?://[^/]+", "", record["url"])
    return f"{record['method']} {url} {record['request_body'] or ''}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("SYNCER_DATA_DIR", str(data))
    mp.delenv("SYNCER_CHANNELS_FILE", raising=False)
    mp.delenv("SYNCER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    log_path = tmp_path_factory.mktemp("demo-log") / "demo.log"
    log = logging.FileHandler(log_path, encoding="utf-8")  # every log record of the run (--reset empties data/)
    root = logging.getLogger()
    level = root.level
    root.addHandler(log)
    root.setLevel(logging.DEBUG)
    try:
        result = CliRunner().invoke(app, ["demo", "--reset"], catch_exceptions=False)
    finally:
        root.removeHandler(log)
        root.setLevel(level)
        log.close()
    (data / "demo.log").write_text(log_path.read_text(encoding="utf-8"), encoding="utf-8")
    yield data, result
    mp.undo()
    get_settings.cache_clear()


def test_demo_runs_clean_and_fast(demo) -> None:
    _data, result = demo
    assert result.exit_code == 0, result.output
    seconds = float(re.search(r"finished in ([\d.]+)s", result.output).group(1))
    assert seconds < 60
    webhook = re.search(r"order webhook.*?\n(.*?later)", result.output, re.S)
    assert webhook, result.output
    assert "3 topics registered on shopify" in webhook.group(1) and "webhook answered 200" in webhook.group(1)
    summary = result.output[result.output.index("demo summary") :].splitlines()
    rows = [line.split() for line in summary if len(line.split()) == 8 and line.split()[-1].isdigit()]
    assert len(rows) == 6
    for cells in rows:
        assert cells[-1] == "0", cells  # no parked or retrying listing on any channel
        assert int(cells[-2]) > 0, cells  # orders were pulled from every channel


def test_trace_shows_every_operation_on_every_kind(demo) -> None:
    data, _ = demo
    lines = [json.loads(line) for line in (data / "demo-trace.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines and set(lines[0]) == {
        "ts",
        "channel",
        "kind",
        "method",
        "url",
        "request_headers",
        "request_body",
        "status",
        "response_headers",
        "response_body",
        "elapsed_ms",
    }
    by_kind: dict[str, list[str]] = {}
    for record in lines:
        by_kind.setdefault(record["kind"], []).append(line_text(record))
    missing = [
        (kind, op)
        for kind, ops in OPERATIONS.items()
        for op, pattern in ops.items()
        if not any(re.search(pattern, text) for text in by_kind.get(kind, []))
    ]
    assert missing == []


def test_no_secret_in_the_trace(demo) -> None:
    data, _ = demo
    text = (data / "demo-trace.jsonl").read_text(encoding="utf-8")
    assert "emulator-refresh_token" not in text and "emulator-app_secret" not in text
    assert "emulator-access_token" not in text and "emulator-consumer_secret" not in text


def test_other_commands_work_on_the_demo_data(demo) -> None:
    runner = CliRunner()
    status = runner.invoke(app, ["status", "--format", "json"], catch_exceptions=False)
    assert status.exit_code == 0
    assert {row["channel"] for row in json.loads(status.output)} == {
        "taobao",
        "shopify",
        "woocommerce",
        "aliexpress",
        "ebay-us",
        "amazon-us",
    }
    orders = runner.invoke(app, ["orders", "list", "--format", "json"], catch_exceptions=False)
    # three per channel, and the one placed on Shopify for the order webhook step
    assert orders.exit_code == 0 and len(json.loads(orders.output)) == 18 + 1
    lines = json.loads(orders.output)[0]["lines"]  # a list of objects, not "SKU x2" text
    assert isinstance(lines, list) and set(lines[0]) == {"sku", "quantity", "unit_price", "unmatched"}


def test_one_ship_call_per_kind_each_passing_the_official_specs(demo) -> None:
    """The demo ships one order per channel: one ship call per kind in the trace; eBay's, Amazon's and
    Shopify's are checked against the official OpenAPI files, models and GraphQL schema."""
    import httpx

    from tests.adapters.amazon.test_spec import check_request
    from tests.adapters.ebay.test_spec import check
    from tests.adapters.shopify.test_schema import full_schema, problems

    data, _ = demo
    lines = [json.loads(line) for line in (data / "demo-trace.jsonl").read_text(encoding="utf-8").splitlines()]
    calls = {
        kind: [r for r in lines if r["kind"] == kind and re.search(ops["ship"], line_text(r))]
        for kind, ops in OPERATIONS.items()
    }
    assert {kind: len(found) for kind, found in calls.items()} == dict.fromkeys(OPERATIONS, 1)
    assert all(r["status"] in (200, 201, 204) for found in calls.values() for r in found)

    def rebuilt(record: dict, **headers: str) -> httpx.Request:
        body = (record["request_body"] or "").encode("utf-8")
        return httpx.Request(
            record["method"], record["url"], headers={"Content-Type": "application/json", **headers}, content=body
        )

    [ebay] = calls["ebay"]
    assert check(rebuilt(ebay, Authorization="Bearer (redacted in the trace)")) == (
        "POST",
        "/order/{orderId}/shipping_fulfillment",
    )
    [amazon] = calls["amazon"]
    assert check_request(rebuilt(amazon, **{"x-amz-access-token": "(redacted)"})) == "confirmShipment"
    [shopify] = calls["shopify"]
    sent = json.loads(shopify["request_body"])
    assert problems(full_schema(), sent["query"], sent["variables"]) == []


#: what the emulators' buyers are made of (WooCommerce billing/shipping, AliExpress, eBay, Amazon, Taobao)
BUYERS = (
    "Alex",
    "1 Main St",
    "Springfield",
    "buyer@example.com",
    "555-0100",
    "Emulated Buyer",
    "emu-buyer",
    "@marketplace.amazon.com",
    "Seattle",
    "98101",
    "张**",
    "*******1234",
)
EBAY_BUYER = re.compile(r"\bbuyer\d{3}\b")


def _mentions(text: str, value: str) -> bool:
    """``value`` in ``text``; a number only where no digit adjoins it (a postcode 98101 is not the
    microseconds of a timestamp such as 03:13:43.598101, which failed this test once)."""
    if not value.isdigit():
        return value in text
    return re.search(rf"(?<!\d){value}(?!\d)", text) is not None


def test_no_buyer_personal_data_in_anything_the_demo_writes(demo) -> None:
    """The trace, the logs, the database and every export: the emulators' buyers appear nowhere (#25.6)."""
    data, result = demo
    runner = CliRunner()
    # the packing documents are where the recipient belongs (#21.3): the export carries it until the purge
    packing = runner.invoke(
        app, ["orders", "export", "--status", "paid", "--status", "shipped"], catch_exceptions=False
    )
    assert packing.exit_code == 0 and "recipient,phone,address,postal_code,carrier,tracking" in packing.output
    assert "Alex Buyer" in packing.output  # WooCommerce's emulated buyer, as the marketplace gave it
    # the columns registered in syncer.retention may hold buyers' contacts for packing until the purge;
    # after it (here: everything, as an erasure request would) nothing personal may remain anywhere
    purge = runner.invoke(app, ["orders", "purge-personal-data", "--days", "0"], catch_exceptions=False)
    assert purge.exit_code == 0, purge.output
    exports = {}
    for name, args in {
        "orders export": ["orders", "export"],
        "report sales": ["report", "sales", "--format", "csv", "--period", "this-year"],
        "catalog export": ["catalog", "export"],
        "status": ["status", "--format", "json"],
        "orders list": ["orders", "list", "--format", "json"],
    }.items():
        done = runner.invoke(app, args, catch_exceptions=False)
        assert done.exit_code == 0, done.output
        exports[name] = done.output
    with sqlite3.connect(data / "syncer.db") as connection:
        dump = "\n".join(connection.iterdump())
    written = {
        "trace": (data / "demo-trace.jsonl").read_text(encoding="utf-8"),
        "log": (data / "demo.log").read_text(encoding="utf-8"),
        "output": result.output,
        "database": dump,
        **{p.name: p.read_text(encoding="utf-8") for p in (data / "logs").glob("*")},
        **exports,
    }
    found = {
        where: sorted({b for b in BUYERS if _mentions(text, b)} | set(EBAY_BUYER.findall(text)))
        for where, text in written.items()
    }
    assert {where: hits for where, hits in found.items() if hits} == {}
    assert "GET /wp-json/wc/v3/orders" in " ".join(line_text(json.loads(x)) for x in written["trace"].splitlines())


def test_the_demo_runs_a_short_promotion_start_and_end(demo) -> None:
    _data, result = demo
    assert re.search(r"scheduled change \d+ started \(change set \d+\)", result.output)
    assert re.search(r"scheduled change \d+ ended \(change set \d+\)", result.output)
    shown = CliRunner().invoke(app, ["changes", "list", "--scheduled", "--all", "--format", "json"])
    [promotion] = json.loads(shown.output)
    assert promotion["status"] == "done" and promotion["start_change_set"] and promotion["end_change_set"]
