"""A ship call whose answer is lost (a timeout after the marketplace carried it out) is never sent blindly
again: the adapter looks the package up and adopts it, and when even the look-up fails the shipment waits
and looks first on its next attempt. Each marketplace ends up with exactly one package."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from listing_sync.syncer import shipping as core
from listing_sync.syncer.models import Order, Shipment
from listing_sync.syncer.services import orders, shipping
from scenario import Scenario, build
from sqlalchemy import select, update

#: channel -> (is this request the ship call?, is it the look-up?, packages the emulator holds for an order)
KINDS: dict[str, tuple[Callable[[httpx.Request], bool], Callable[[httpx.Request], bool], Callable]] = {
    "woocommerce": (
        lambda r: r.method == "POST" and r.url.path.endswith("/notes"),
        lambda r: r.method == "GET" and r.url.path.endswith("/notes"),
        lambda e, order: [n for n in e.state.get("order_notes", {}).get(order, []) if "tracking number" in n["note"]],
    ),
    "shopify": (
        lambda r: b"fulfillmentCreate" in r.content,
        lambda r: b"query Fulfillments" in r.content,
        lambda e, order: [f for f in e.state.get("fulfillments", {}).values() if order in f["orders"]],
    ),
    "taobao": (
        lambda r: r.url.params.get("method") == "taobao.logistics.offline.send",
        lambda r: r.url.params.get("method") == "taobao.logistics.orders.get",
        lambda e, order: sorted({o["out_sid"] for o in e.state["trades"][order]["orders"] if o.get("out_sid")}),
    ),
    "amazon": (
        lambda r: r.url.path.endswith("/shipmentConfirmation"),
        lambda r: False,  # keyed by packageReferenceId: sent again, edits the same package
        lambda e, order: list(e.state["orders"][order].get("packages", {})),
    ),
}


def name(kind: str) -> str:
    return "amazon-us" if kind == "amazon" else kind


def carrier(channel: str) -> str:
    return "SF" if channel == "taobao" else "DHL"  # one each marketplace maps


def lose(scenario: Scenario, channel: str, which: Callable[[httpx.Request], bool], times: int = 1) -> list:
    """The emulator carries out the first ``times`` requests ``which`` picks, then the answer is lost."""
    emulator = scenario.emulator(channel)
    real, lost = emulator.handle, []

    def handle(request: httpx.Request) -> httpx.Response:
        response = real(request)
        if len(lost) < times and which(request):
            lost.append(request)
            raise httpx.ReadTimeout("answer lost after the marketplace carried it out", request=request)
        return response

    emulator.handle = handle
    return lost


def paid_order(scenario: Scenario, channel: str) -> str:
    [order] = scenario.sell(channel, 1)
    orders.pull_orders(scenario.context, [channel], user="ops", push=False)
    return order


def status(scenario: Scenario, order: str) -> tuple[str, int]:
    with scenario.context.session() as s:
        row = s.scalar(select(Shipment).join(Order).where(Order.external_id == order))
        return row.status, row.attempts


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_lost_ship_answer_makes_exactly_one_package(tmp_path, kind: str) -> None:
    scenario, channel = build(tmp_path, [kind], units=10), name(kind)
    order = paid_order(scenario, channel)
    is_ship, _, packages = KINDS[kind]
    lost = lose(scenario, channel, is_ship)
    done = shipping.ship(scenario.context, [shipping.ShipRequest(order, carrier(channel), "PKG7001")], user="packer")
    assert len(lost) == 1 and done.pushed == 1 and status(scenario, order) == ("pushed", 1)
    assert len(packages(scenario.emulator(channel), order)) == 1


@pytest.mark.parametrize("channel", ["woocommerce", "shopify", "taobao"])
def test_when_the_look_up_fails_too_the_next_attempt_looks_first_and_sends_nothing(tmp_path, channel: str) -> None:
    scenario = build(tmp_path, [channel], units=10)
    order = paid_order(scenario, channel)
    is_ship, is_look_up, packages = KINDS[channel]
    lose(scenario, channel, is_ship)
    failed_look_ups = lose(scenario, channel, is_look_up, times=99)
    done = shipping.ship(scenario.context, [shipping.ShipRequest(order, carrier(channel), "PKG7002")], user="packer")
    assert done.retry == 1 and status(scenario, order) == ("retry", 1) and failed_look_ups
    emulator = scenario.emulator(channel)
    del emulator.handle  # the network is back
    before = len(emulator.requests)
    with scenario.context.session() as s:  # its backoff is over
        s.execute(update(Shipment).values(next_attempt_at=None))
    core.push_channel(scenario.context, channel, scenario.context.adapter(scenario.context.channel(channel)))
    assert status(scenario, order) == ("pushed", 2)
    assert not any(is_ship(r) for r in emulator.requests[before:])
    assert any(is_look_up(r) for r in emulator.requests[before:])
    assert len(packages(emulator, order)) == 1
