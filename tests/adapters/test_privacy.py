"""Buyers' personal data is masked like a secret: in the HTTP trace (unless a debugging window is open),
in error messages built from responses, and in every log record."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from listing_sync.adapters import privacy
from listing_sync.adapters.base import RequestRejected
from listing_sync.adapters.http import TraceWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_http import BASE, make_http, read_trace  # noqa: E402

WOO_ORDER = {
    "id": 41,
    "status": "processing",
    "billing": {
        "first_name": "Alexandra",
        "last_name": "Quinterro",
        "address_1": "17 Orchard Lane",
        "city": "Springfield",
        "postcode": "12345",
        "country": "US",
        "email": "alexandra@example.com",
        "phone": "555-0199",
    },
    "line_items": [{"name": "Celadon Tea Cup", "sku": "CUP-1", "quantity": 1}],
}
BUYER_TEXTS = ("Alexandra", "Quinterro", "17 Orchard Lane", "Springfield", "alexandra@example.com", "555-0199")


@pytest.fixture(autouse=True)
def forget_learned_values():
    privacy.learned.clear()
    yield
    privacy.learned.clear()


def test_a_json_body_keeps_everything_but_the_buyer() -> None:
    masked = privacy.mask(json.dumps(WOO_ORDER))
    assert masked is not None and not [t for t in BUYER_TEXTS if t in masked]
    data = json.loads(masked)
    assert data["billing"]["country"] == "US" and data["billing"]["first_name"] == "***"
    assert data["line_items"][0]["name"] == "Celadon Tea Cup"  # a product name is not personal
    assert data["id"] == 41 and data["status"] == "processing"


@pytest.mark.parametrize(
    "shape",
    [
        {"buyer": {"buyerName": "Dana Whitlock", "buyerEmail": "dw@marketplace.amazon.com"}},  # Amazon v2026
        {"recipient": {"deliveryAddress": {"addressLine1": "9 Pier Road", "countryCode": "US"}}},
        {"fulfillmentStartInstructions": [{"shippingStep": {"shipTo": {"fullName": "Dana Whitlock"}}}]},  # eBay
        {"buyer_signer_fullname": "Dana Whitlock", "buyer_login_id": "dana-w-77"},  # AliExpress
        {  # AliExpress receiptinfo.get OrderAddressDTO
            "result": {
                "contact_person": "Dana Whitlock",
                "mobile_no": "666666666",
                "address": "Calle Mayor 1",
                "detail_address": "Agustin de foxa 30",
                "zip": "28108",
                "city": "Alcobendas",
                "country": "US",
            }
        },
        {"receiver_name": "张三丰", "receiver_mobile": "13800001234", "buyer_nick": "tb_dana"},  # Taobao
        {"shippingAddress": {"firstName": "Dana", "address1": "9 Pier Road", "phone": "+1 555 0100"}},  # Shopify
    ],
)
def test_every_marketplaces_buyer_fields_are_masked(shape: dict) -> None:
    text = json.dumps(shape, ensure_ascii=False)
    masked = privacy.mask(text) or ""
    values = [v for v in _leaves(shape) if v not in ("US",)]
    assert values and [v for v in values if v in masked] == []


def test_a_truncated_excerpt_a_repr_and_a_form_are_masked_too() -> None:
    excerpt = json.dumps(WOO_ORDER)[:150]  # an error message keeps the first characters of a body
    assert "Alexandra" not in (privacy.mask(excerpt) or "")
    privacy.learned.clear()
    assert "张三丰" not in (privacy.mask(str({"tid": 1, "receiver_name": "张三丰"})) or "")
    assert privacy.mask("a=1&email=dana%40example.com&b=2") == "a=1&email=***&b=2"
    assert privacy.mask("write to dana.w+shop@example.co.uk today") == "write to *** today"


def test_a_value_seen_once_is_masked_wherever_it_shows_up_later() -> None:
    privacy.mask(json.dumps(WOO_ORDER))
    assert privacy.mask("order 41 of Alexandra Quinterro could not be read") == "order 41 of *** *** could not be read"


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        logging.getLogger("adapters.taobao").warning("trade %s could not be read: %s", 7, {"receiver_name": "张三丰"})
    assert "张三丰" not in caplog.text and "'receiver_name': '***'" in caplog.text


@respx.mock
def test_the_trace_masks_buyers_unless_the_debugging_window_is_open(tmp_path: Path, clock) -> None:
    respx.get(f"{BASE}/orders").mock(return_value=httpx.Response(200, json=[WOO_ORDER]))
    closed, opened, past = tmp_path / "closed.jsonl", tmp_path / "open.jsonl", tmp_path / "past.jsonl"
    now = datetime.now(UTC)
    for path, until in ((closed, None), (opened, now + timedelta(hours=1)), (past, now - timedelta(seconds=1))):
        http, _ = make_http(clock, trace=TraceWriter(path, personal_data_until=until))
        http.get("/orders", params={"email": "alexandra@example.com"})
        privacy.learned.clear()
    for path in (closed, past):
        text = path.read_text(encoding="utf-8")
        assert [t for t in (*BUYER_TEXTS, "alexandra%40example.com") if t in text] == [], path.name
        assert "Celadon Tea Cup" in text
    kept = read_trace(opened)[0]
    assert "alexandra%40example.com" in kept["url"] and "17 Orchard Lane" in kept["response_body"]


@respx.mock
def test_error_messages_built_from_a_response_are_masked(clock) -> None:
    respx.post(f"{BASE}/orders/41").mock(
        return_value=httpx.Response(400, json={"message": "bad address", "shipping": WOO_ORDER["billing"]})
    )
    http, _ = make_http(clock)
    with pytest.raises(RequestRejected) as info:
        http.post("/orders/41", json={"status": "completed"})
    assert [t for t in BUYER_TEXTS if t in str(info.value)] == []
    assert "bad address" in str(info.value)


def _leaves(data: object) -> list[str]:
    if isinstance(data, dict):
        return [v for value in data.values() for v in _leaves(value)]
    if isinstance(data, list):
        return [v for item in data for v in _leaves(item)]
    return [str(data)]
