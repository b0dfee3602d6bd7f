"""aliexpress.solution.order.fulfill: the exact signed request (all or part), the emulator's checks and the
order status the next pull reads."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
from listing_sync.adapters.aliexpress.emulator import AliExpressEmulator
from listing_sync.adapters.base import PermanentItemError, RequestRejected, Shipment, ShipmentLine, UnmappedCarrier

from .test_emulator import CREDS
from .test_wire import SYNC, check_system, form, reply

FULFILL = "aliexpress.solution.order.fulfill"
SHIPPED = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


@respx.mock
@pytest.mark.parametrize(("complete", "send_type"), [(True, "all"), (False, "part")])
def test_fulfill_request(make_adapter, complete, send_type) -> None:
    route = respx.post(SYNC).mock(return_value=reply(FULFILL, {"result": {"result_success": True}}))
    wire = Shipment(
        "8100000000000001", "CHINAPOST", "LA88887777CN", (ShipmentLine("82", "A", 1),), SHIPPED, complete=complete
    )
    assert make_adapter().ship(wire) == "LA88887777CN"
    request = route.calls.last.request
    check_system(request, FULFILL)
    assert form(request) == {
        "service_name": "CPAM",
        "out_ref": "8100000000000001",
        "send_type": send_type,
        "logistics_no": "LA88887777CN",
    }


@respx.mock
def test_a_lost_fulfill_answer_is_looked_up_in_the_order_info_not_sent_again(make_adapter) -> None:
    info = {
        "result": {
            "data": {
                "id": 8100000000000001,
                "logistic_info_list": {"global_aeop_tp_logistic_info_dto": [{"logistics_no": "LA88887777CN"}]},
            }
        }
    }
    route = respx.post(SYNC).mock(
        side_effect=[httpx.ReadTimeout("answer lost"), reply("aliexpress.solution.order.info.get", info)]
    )
    wire = Shipment("8100000000000001", "CHINAPOST", "LA88887777CN", (ShipmentLine("82", "A", 1),), SHIPPED)
    assert make_adapter().ship(wire) == "LA88887777CN"
    fulfill, look_up = (call.request for call in route.calls)
    check_system(fulfill, FULFILL)
    check_system(look_up, "aliexpress.solution.order.info.get")
    assert form(look_up) == {"param1": '{"order_id":8100000000000001}'}
    assert len(route.calls) == 2  # the fulfill was sent once


@respx.mock
def test_result_success_false_is_a_refusal(make_adapter) -> None:
    respx.post(SYNC).mock(return_value=reply(FULFILL, {"result": {"result_success": False, "result_error_desc": "x"}}))
    with pytest.raises(RequestRejected, match="did not succeed"):
        make_adapter().ship(Shipment("1", "EMS", "EA1", (ShipmentLine("2", "A", 1),), SHIPPED))


def test_domestic_express_is_unmapped(make_adapter) -> None:
    with pytest.raises(UnmappedCarrier, match="carrier 'ZTO' has no aliexpress code"):
        make_adapter().ship(Shipment("1", "ZTO", "7", (ShipmentLine("2", "A", 1),), SHIPPED))


def test_emulator_part_then_all(make_adapter, clock) -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    emulator = AliExpressEmulator(credentials={**CREDS, "refresh_token": "rt"}, clock=clock, now=lambda: now, seed=3)
    adapter = make_adapter(transport=emulator.transport(), now=lambda: now.timestamp())
    emulator.state["orders"]["8100000000000009"] = {
        "status": "WAIT_SELLER_SEND_GOODS",
        "created": now.isoformat(),
        "updated": now.isoformat(),
        "currency": "USD",
        "total": "3.00",
        "lines": [{"child_id": "1", "product_id": "9", "sku": "A", "quantity": 2, "price": "1.50", "title": "A"}],
    }
    adapter.ship(Shipment("8100000000000009", "DHL", "JD1", (ShipmentLine("1", "A", 1),), now, complete=False))
    assert emulator.state["orders"]["8100000000000009"]["status"] == "SELLER_PART_SEND_GOODS"
    adapter.ship(Shipment("8100000000000009", "DHL", "JD2", (ShipmentLine("1", "A", 1),), now))
    assert emulator.state["orders"]["8100000000000009"]["status"] == "WAIT_BUYER_ACCEPT_GOODS"
    with pytest.raises((RequestRejected, PermanentItemError), match="ORDER_STATUS_ERROR"):
        adapter.ship(Shipment("8100000000000009", "DHL", "JD3", (ShipmentLine("1", "A", 1),), now))
    retry = Shipment("8100000000000009", "DHL", "JD2", (ShipmentLine("1", "A", 1),), now, look_first=True)
    assert adapter.ship(retry) == "JD2"  # found in the order info: not declared a second time
    assert [s["logistics_no"] for s in emulator.state["orders"]["8100000000000009"]["shipments"]] == ["JD1", "JD2"]
