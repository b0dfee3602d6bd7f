"""Cancelling on WooCommerce: status ``cancelled`` then a private note; the emulator restocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import respx
from listing_sync.adapters.base import ListingDraft, Money, OrderStatus

from .test_emulator import Shop
from .test_wire import HOST, V3


def test_cancel_requests(make_adapter) -> None:
    with respx.mock() as api:
        update = api.put(f"https://{HOST}{V3}/orders/1051").respond(200, json={"id": 1051, "status": "cancelled"})
        note = api.post(f"https://{HOST}{V3}/orders/1051/notes").respond(201, json={"id": 9})
        make_adapter().cancel("1051", "duplicate order")
        assert [c.request.method for c in api.calls] == ["PUT", "POST"]
    assert json.loads(update.calls.last.request.content) == {"status": "cancelled"}
    assert json.loads(note.calls.last.request.content) == {
        "note": "Cancelled by the seller: duplicate order",
        "customer_note": False,
    }


def test_emulator_restocks_and_the_pull_reads_cancelled() -> None:
    shop = Shop()
    shop.adapter.publish([ListingDraft("MUG", "Mug", "A mug", "9", Money.of("9.90", "USD"), 5)])
    [oid] = shop.emulator.generate_orders(1)
    shop.adapter.cancel(oid, "duplicate order")
    [pulled] = [o for o in shop.pull(datetime.now(UTC) - timedelta(hours=1)) if o.external_id == oid]
    assert pulled.status is OrderStatus.CANCELLED
    assert [r for r in shop.adapter.listings() if r.sku == "MUG"][0].quantity == 5
