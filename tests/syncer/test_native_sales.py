"""A promotion on marketplaces with a native sale price: WooCommerce and Amazon get the sale price with its
dates ahead and switch it by themselves (the emulators show it within the window only, whatever our worker
does); Shopify gets the regular price as compareAtPrice while it runs; the end leaves each marketplace at the
regular price without fighting its own end, and a cancellation takes the sale back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from listing_sync.syncer import reconcile
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.models import NativeSale
from listing_sync.syncer.services import changes, promotions
from listing_sync.syncer.services.sync import SyncMode
from scenario import Scenario, build
from sqlalchemy import select

T = datetime.now(UTC).replace(microsecond=0)
START, END = T + timedelta(hours=1), T + timedelta(hours=2)


@pytest.fixture
def shop(tmp_path, monkeypatch) -> Scenario:
    scenario = build(tmp_path, ["woocommerce", "amazon", "shopify", "taobao"])
    monkeypatch.setattr(reconcile, "now_utc", lambda: clock[0])
    return scenario


clock = [T]


def at(scenario: Scenario, moment: datetime) -> None:
    """Our planner's clock and every emulator's clock at ``moment``."""
    clock[0] = moment
    for name in ("woocommerce", "amazon-us", "shopify", "taobao"):
        scenario.emulator(name).now = lambda moment=moment: moment


def schedule(scenario: Scenario):
    preview = changes.preview_change(
        scenario.context, changes.PriceAdjust(Selection(patterns=["TEA-*"]), percent=Decimal("-20"))
    )
    prices = {e.channel: (Decimal(e.old), Decimal(e.new)) for e in preview.plan.effects if e.field == "price"}
    info = promotions.schedule_change(scenario.context, preview, starts_at=START, ends_at=END, user="promo", now=T)
    return info, prices


def woo(scenario: Scenario) -> dict:
    emulator = scenario.emulator("woocommerce")
    [product] = emulator.state["products"].values()
    return emulator._render_product(product)


def amazon_price(scenario: Scenario) -> str:
    return scenario.emulator("amazon-us").listing_state("TEA-LJ-250")["price"]


def shopify_variant(scenario: Scenario) -> dict:
    [variant] = scenario.emulator("shopify").state["variants"].values()
    return variant


def states(scenario: Scenario) -> dict[str, str]:
    with scenario.context.session() as s:
        return {sale.kind + str(sale.listing_id): sale.state for sale in s.scalars(select(NativeSale))}


def run(scenario: Scenario, moment: datetime):
    at(scenario, moment)
    return promotions.run_due(scenario.context, now=moment, sync=SyncMode.INLINE)


def test_dated_sales_switch_by_themselves_and_the_end_does_not_fight_them(shop: Scenario) -> None:
    at(shop, T)
    info, prices = schedule(shop)
    (woo_regular, woo_sale), (amz_regular, amz_sale) = prices["woocommerce"], prices["amazon-us"]
    assert sorted(states(shop).values()) == ["on", "pending", "pending"]  # Shopify waits for the start; Taobao none
    shop.sync_all()  # the dated sales go ahead
    product = woo(shop)
    assert product["regular_price"] == f"{woo_regular:.2f}" and product["sale_price"] == f"{woo_sale:.2f}"
    assert product["date_on_sale_from_gmt"] == START.replace(tzinfo=None).isoformat()
    assert product["date_on_sale_to_gmt"] == END.replace(tzinfo=None).isoformat()
    assert product["price"] == f"{woo_regular:.2f}" and Decimal(amazon_price(shop)) == amz_regular
    assert sorted(states(shop).values()) == ["on", "on", "on"]

    # our worker is down at the start: the marketplaces switch by themselves, Shopify does not
    at(shop, START + timedelta(seconds=1))
    assert woo(shop)["price"] == f"{woo_sale:.2f}" and Decimal(amazon_price(shop)) == amz_sale
    assert shopify_variant(shop)["compareAtPrice"] is None

    [started] = run(shop, START)
    assert started.action == "started"
    assert woo(shop)["regular_price"] == f"{woo_regular:.2f}"  # saved again, never the promotion as regular
    shopify_regular, shopify_sale = prices["shopify"]
    variant = shopify_variant(shop)
    assert Decimal(variant["price"]) == shopify_sale and Decimal(variant["compareAtPrice"]) == shopify_regular

    # the window ends on the marketplaces before our worker runs the end
    at(shop, END + timedelta(seconds=1))
    assert woo(shop)["price"] == f"{woo_regular:.2f}" and Decimal(amazon_price(shop)) == amz_regular
    shop.sync_all()  # a sync meanwhile pushes nothing that fights the native end
    assert woo(shop)["price"] == f"{woo_regular:.2f}" and Decimal(amazon_price(shop)) == amz_regular

    [ended] = run(shop, END + timedelta(seconds=1))
    assert ended.action == "ended"
    product = woo(shop)
    assert product["regular_price"] == f"{woo_regular:.2f}" and product["sale_price"] == ""
    assert Decimal(amazon_price(shop)) == amz_regular
    variant = shopify_variant(shop)
    assert Decimal(variant["price"]) == shopify_regular and variant["compareAtPrice"] is None
    assert sorted(states(shop).values()) == ["off", "off", "off"]
    assert info.id


def test_a_cancelled_promotion_takes_its_sale_prices_back(shop: Scenario) -> None:
    at(shop, T)
    info, prices = schedule(shop)
    shop.sync_all()
    assert woo(shop)["sale_price"] != ""
    promotions.cancel_scheduled(shop.context, info.id, user="ops")
    shop.sync_all()
    at(shop, START + timedelta(seconds=1))
    woo_regular, _ = prices["woocommerce"]
    assert woo(shop)["sale_price"] == "" and woo(shop)["price"] == f"{woo_regular:.2f}"
    assert Decimal(amazon_price(shop)) == prices["amazon-us"][0]
    assert set(states(shop).values()) == {"off"}
    assert run(shop, START + timedelta(seconds=1)) == []


def test_a_price_changed_by_hand_during_the_window_wins_over_the_native_sale(shop: Scenario) -> None:
    at(shop, T)
    schedule(shop)
    shop.sync_all()
    run(shop, START)
    at(shop, START + timedelta(minutes=5))
    manual = changes.preview_change(
        shop.context, changes.PriceSet(Selection(patterns=["TEA-*"]), Decimal("120"), channel="woocommerce")
    )
    changes.apply_change(shop.context, manual, user="ops", sync=SyncMode.NONE)
    shop.sync_all()
    product = woo(shop)
    assert product["regular_price"] == "120.00" and product["sale_price"] == "" and product["price"] == "120.00"
    run(shop, END)
    at(shop, END + timedelta(seconds=1))
    shop.sync_all()
    assert woo(shop)["price"] == "120.00"


def test_the_preview_says_how_each_marketplace_switches(shop: Scenario) -> None:
    notes = promotions.native_sale_notes(shop.context)
    text = "\n".join(notes)
    assert "woocommerce: sent ahead as a sale price with its dates" in text and "date_on_sale_from_gmt" in text
    assert "amazon-us: sent ahead" in text and "discounted_price" in text
    assert "shopify: no dated sale price there: our worker switches it" in text and "compareAtPrice" in text
    assert "taobao: no native dated sale price through its API: our worker switches it" in text


def test_the_end_run_early_by_the_clock_still_clears_the_dated_sales(shop: Scenario) -> None:
    """The demo runs the end without waiting for it: the sync's clock is still inside the window."""
    at(shop, T)
    _, prices = schedule(shop)
    shop.sync_all()
    run(shop, START)
    at(shop, END - timedelta(seconds=1))  # our planner's clock: one second before the end
    [ended] = promotions.run_due(shop.context, now=END, sync=SyncMode.INLINE)
    assert ended.action == "ended"
    assert woo(shop)["sale_price"] == "" and woo(shop)["regular_price"] == f"{prices['woocommerce'][0]:.2f}"
    assert set(states(shop).values()) == {"off"}
