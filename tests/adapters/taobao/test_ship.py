"""taobao.logistics.offline.send (自己联系物流): the exact signed request, a split shipment, the emulator's
checks and the trade status the next pull reads."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
from listing_sync.adapters.base import PermanentItemError, RequestRejected, Shipment, ShipmentLine, UnmappedCarrier
from listing_sync.adapters.taobao.emulator import TaobaoEmulator

from .conftest import CREDS, GATEWAY, NOW, check_envelope

SHIPPED = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def ok(body: dict) -> httpx.Response:
    return httpx.Response(200, json={"logistics_offline_send_response": {**body, "request_id": "r"}})


@respx.mock
def test_whole_trade_is_tid_out_sid_company_code(make_adapter) -> None:
    route = respx.post(GATEWAY).mock(return_value=ok({"shipping": {"is_success": True}}))
    wire = Shipment("3000000000000001", "SF", "SF1234567890", (ShipmentLine("4100000000000001", "TEA", 2),), SHIPPED)
    assert make_adapter().ship(wire) == "SF1234567890"
    form = check_envelope(route.calls.last.request, "taobao.logistics.offline.send")
    assert form == {"tid": "3000000000000001", "out_sid": "SF1234567890", "company_code": "SF"}


@respx.mock
def test_a_retry_looks_the_waybill_up_before_sending(make_adapter) -> None:
    shippings = {"shippings": {"shipping": [{"tid": 3000000000000001, "out_sid": "SF1234567890"}]}}
    route = respx.post(GATEWAY).mock(
        return_value=httpx.Response(200, json={"logistics_orders_get_response": {**shippings, "request_id": "r"}})
    )
    wire = Shipment("3000000000000001", "SF", "SF1234567890", (ShipmentLine("41", "TEA", 2),), SHIPPED, look_first=True)
    assert make_adapter().ship(wire) == "SF1234567890"
    assert len(route.calls) == 1  # found: taobao.logistics.offline.send is not sent again
    form = check_envelope(route.calls.last.request, "taobao.logistics.orders.get")
    assert form == {"tid": "3000000000000001", "fields": "tid,out_sid,company_name,status,sub_tids"}


@respx.mock
def test_part_of_a_trade_is_a_split_by_sub_orders(make_adapter) -> None:
    route = respx.post(GATEWAY).mock(return_value=ok({"shipping": {"is_success": True}}))
    wire = Shipment(
        "3000000000000001",
        "CHINAPOST",
        "9876543210",
        (ShipmentLine("41", "A", 1), ShipmentLine("42", "B", 1)),
        SHIPPED,
        complete=False,
    )
    make_adapter().ship(wire)
    form = check_envelope(route.calls.last.request, "taobao.logistics.offline.send")
    assert form == {
        "tid": "3000000000000001",
        "out_sid": "9876543210",
        "company_code": "POSTB",
        "is_split": "1",
        "sub_tid": "41,42",
    }


@respx.mock
def test_no_success_flag_is_a_refusal(make_adapter) -> None:
    respx.post(GATEWAY).mock(return_value=ok({"shipping": {"is_success": False}}))
    with pytest.raises(RequestRejected, match="did not succeed"):
        make_adapter().ship(Shipment("1", "SF", "SF1", (ShipmentLine("2", "A", 1),), SHIPPED))


def test_international_carriers_without_a_taobao_code_are_named(make_adapter) -> None:
    with pytest.raises(UnmappedCarrier, match="carrier 'USPS' has no taobao code"):
        make_adapter().ship(Shipment("1", "USPS", "9400", (ShipmentLine("2", "A", 1),), SHIPPED))


def _trade(emulator: TaobaoEmulator, oids: list[int]) -> str:
    emulator.state["trades"]["3000000000000009"] = {
        "tid": 3000000000000009,
        "status": "WAIT_SELLER_SEND_GOODS",
        "created": "2026-11-27 09:00:00",
        "modified": "2026-11-27 09:00:00",
        "orders": [{"oid": oid, "num": 1, "status": "WAIT_SELLER_SEND_GOODS"} for oid in oids],
    }
    return "3000000000000009"


def test_emulator_splits_then_completes_the_trade(make_adapter, clock) -> None:
    emulator = TaobaoEmulator(credentials=CREDS, seed=7, clock=clock, now=lambda: NOW)
    adapter = make_adapter(transport=emulator.transport(), retry=None)
    tid = _trade(emulator, [41, 42])
    adapter.ship(Shipment(tid, "YTO", "YT100", (ShipmentLine("41", "A", 1),), SHIPPED, complete=False))
    assert emulator.state["trades"][tid]["status"] == "SELLER_CONSIGNED_PART"
    adapter.ship(Shipment(tid, "YTO", "YT101", (ShipmentLine("42", "B", 1),), SHIPPED))
    trade = emulator.state["trades"][tid]
    assert trade["status"] == "WAIT_BUYER_CONFIRM_GOODS" and trade["consign_time"]
    with pytest.raises(PermanentItemError, match="B04"):
        adapter.ship(Shipment(tid, "YTO", "YT102", (ShipmentLine("42", "B", 1),), SHIPPED))
