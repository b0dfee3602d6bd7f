"""A shipment on WooCommerce: update the order (tracking meta, ``completed`` once everything shipped) and
a customer order note with carrier and tracking; exact requests, the emulator's checks and the next pull."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import respx
from listing_sync.adapters.base import ListingDraft, Money, OrderStatus, Shipment, ShipmentLine

from .test_emulator import Shop
from .test_wire import BASIC, HOST, V3

SHIPPED = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def test_a_lost_note_answer_is_looked_up_in_the_customer_notes_not_sent_again(make_adapter) -> None:
    with respx.mock() as api:
        api.put(f"https://{HOST}{V3}/orders/1051").respond(200, json={"id": 1051, "status": "completed"})
        note = api.post(f"https://{HOST}{V3}/orders/1051/notes").mock(side_effect=httpx.ReadTimeout("lost"))
        listed = api.get(f"https://{HOST}{V3}/orders/1051/notes").respond(
            200, json=[{"id": 301, "note": "Shipped 2 item(s) with SF Express, tracking number SF1234567890."}]
        )
        wire = Shipment("1051", "SF", "SF1234567890", (ShipmentLine("7", "TEA", 2),), SHIPPED)
        assert make_adapter().ship(wire) == "301"
    assert note.call_count == 1
    assert listed.calls.last.request.url.params["type"] == "customer"


def test_complete_shipment_updates_the_order_then_adds_a_customer_note(make_adapter) -> None:
    with respx.mock() as api:
        update = api.put(f"https://{HOST}{V3}/orders/1051").respond(200, json={"id": 1051, "status": "completed"})
        note = api.post(f"https://{HOST}{V3}/orders/1051/notes").respond(201, json={"id": 301, "customer_note": True})
        wire = Shipment("1051", "SF", "SF1234567890", (ShipmentLine("7", "TEA", 2),), SHIPPED)
        assert make_adapter().ship(wire) == "301"
        assert [c.request.method for c in api.calls] == ["PUT", "POST"]
    sent = update.calls.last.request
    assert sent.headers["Authorization"] == BASIC
    assert json.loads(sent.content) == {
        "status": "completed",
        "meta_data": [
            {
                "key": "_listing_sync_tracking_1",
                "value": {
                    "carrier": "SF Express",
                    "tracking_number": "SF1234567890",
                    "date_shipped": "2026-11-27T09:30:00Z",
                    "items": {"TEA": 2},
                },
            }
        ],
    }
    assert json.loads(note.calls.last.request.content) == {
        "note": "Shipped 2 item(s) with SF Express, tracking number SF1234567890.",
        "customer_note": True,
    }


def test_partial_shipment_keeps_the_status(make_adapter) -> None:
    with respx.mock() as api:
        update = api.put(f"https://{HOST}{V3}/orders/1051").respond(200, json={"id": 1051})
        api.post(f"https://{HOST}{V3}/orders/1051/notes").respond(201, json={"id": 302})
        make_adapter().ship(
            Shipment("1051", "UPS", "1Z9", (ShipmentLine("7", "TEA", 1),), SHIPPED, complete=False, package=2)
        )
    body = json.loads(update.calls.last.request.content)
    assert "status" not in body and body["meta_data"][0]["key"] == "_listing_sync_tracking_2"


def test_emulator_completes_the_order_and_keeps_the_note() -> None:
    shop = Shop()
    shop.adapter.publish([ListingDraft("MUG", "Mug", "A mug", "9", Money.of("9.90", "USD"), 5)])
    [oid] = shop.emulator.generate_orders(1)
    line = shop.emulator.state["orders"][oid]["line_items"][0]
    shop.adapter.ship(Shipment(oid, "DHL", "JD01", (ShipmentLine(str(line["id"]), "MUG", line["quantity"]),), SHIPPED))
    order = shop.emulator.state["orders"][oid]
    assert order["status"] == "completed"
    assert order["meta_data"][0]["value"]["tracking_number"] == "JD01"
    assert shop.emulator.state["order_notes"][oid][0]["customer_note"] is True
    [pulled] = [o for o in shop.pull(datetime.now(UTC) - timedelta(hours=1)) if o.external_id == oid]
    assert pulled.status is OrderStatus.SHIPPED
    refused = shop.emulator.handle(
        httpx.Request("POST", f"https://shop.example.com{V3}/orders/{oid}/notes", json={"note": ""})
    )
    assert refused.status_code in (400, 401)
