"""Profit, filters, periods and triangulated FX: a small multi-currency data set whose every expected
figure is worked out by hand below (March 2026 in Asia/Shanghai, reported in EUR, base currency CNY).

Rates stored: CNY->EUR 0.125, USD->CNY 7.2, GBP->EUR 1.15 (all from 2026-03-01).
  USD->EUR has no pair either way: triangulated through CNY, 7.2 x 0.125 = 0.9.
  GBP->EUR is direct (1.15), although GBP->CNY->EUR would also be possible: the direct pair wins.
Costs (cost history): TEA 40.00 CNY from 2026-01-01, 48.00 CNY from 2026-03-10; CUP 2.50 USD.
Fee rules: tb 5% (of items + shipping); shop 2.9% + 0.30 per order; ebay reports its own fees.

  #1 tb   CNY 03-05 paid      TEA 2x100.00, ship 10.00  fees 5% x 210 = 10.50   COGS 2x40 = 80 CNY
        EUR: revenue 25.00, shipping 1.25, fees 1.3125, COGS 10.00
  #2 shop USD 03-12 shipped   TEA 1x30 + CUP 2x8 = 46, ship 4.00  fees 2.9% x 50 + 0.30 = 1.75 USD
        COGS TEA 48 CNY (new cost) + CUP 2x2.50 = 5.00 USD
        EUR (x0.9): revenue 41.40, shipping 3.60, fees 1.575, COGS 48x0.125 + 5x0.9 = 6.00 + 4.50 = 10.50
  #3 ebay GBP 03-15 delivered CUP 3x6.00 = 18, ship 2.50, fees reported 2.69 GBP   COGS 7.50 USD
        EUR (x1.15): revenue 20.70, shipping 2.875, fees 3.0935, COGS 7.50 x 0.9 = 6.75
  #4 shop USD 03-20 refunded  TEA 1x30.00 -> refunded 27.00 EUR (no profit effect)
  #5 tb   CNY 03-21 cancelled TEA 1x100.00 -> cancelled 12.50 EUR
  #6 tb   CNY 2026-02-28 16:30 UTC = 03-01 00:30 in Shanghai: IN the window; CUP 1x20.00, no shipping
        fees 5% x 20 = 1.00 CNY; COGS 2.50 USD. EUR: revenue 2.50, fees 0.125, COGS 2.25
  #7 tb   CNY 2026-03-31 17:00 UTC = 04-01 01:00 in Shanghai: NOT in the window

Totals (EUR): net 25.00 + 41.40 + 20.70 + 2.50 = 89.60; shipping 1.25 + 3.60 + 2.875 = 7.725 -> 7.73;
fees 1.3125 + 1.575 + 3.0935 + 0.125 = 6.106 -> 6.11; COGS 10.00 + 10.50 + 6.75 + 2.25 = 29.50;
gross profit 89.60 + 7.725 - 6.106 - 29.50 = 61.719 -> 61.72; margin 61.719 / 97.325 = 63.4154% -> 63.42;
gross 89.60 + 27.00 + 12.50 = 129.10.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from listing_sync.syncer import reports
from listing_sync.syncer.fx import MissingRates, set_rate
from listing_sync.syncer.models import Channel, Product, Sku, SkuCost
from listing_sync.syncer.periods import PeriodError, period_days, utc_window
from listing_sync.syncer.sales import FeeRule, Filters

from tests.syncer.test_reports import add_order, by

D = Decimal
MAR1, MAR31 = date(2026, 3, 1), date(2026, 3, 31)
TZ = "Asia/Shanghai"
RULES = {"tb": FeeRule(D(5)), "shop": FeeRule(D("2.9"), D("0.30"))}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(params=["USD", "CNY"])
def cup_cost_currency(request) -> str:
    """CUP's cost in USD (costs in two currencies: summed per cost currency in a second pass) or the same
    cost in CNY, 2.50 x 7.2 = 18.00 (one cost currency: summed with the revenue). The figures are equal."""
    return request.param


def seed(session, cup_currency: str = "USD") -> None:
    ch = {}
    for name, kind, cur in [("tb", "taobao", "CNY"), ("shop", "shopify", "USD"), ("ebay", "ebay", "GBP")]:
        ch[name] = Channel(name=name, kind=kind, currency=cur)
        session.add(ch[name])
    tea_p, cup_p = Product(key="TEA", title="龙井", category="茶叶"), Product(key="CUP", title="杯", category="茶具")
    session.add_all([tea_p, cup_p])
    session.flush()
    tea = Sku(sku="TEA-1", product_id=tea_p.id, base_price=D(100), currency="CNY", cost=D(48))
    cup_cost = D("2.50") if cup_currency == "USD" else D("18.00")
    cup = Sku(sku="CUP-1", product_id=cup_p.id, base_price=D(8), currency=cup_currency, cost=cup_cost)
    session.add_all([tea, cup])
    session.flush()
    session.add_all(
        [
            SkuCost(sku_id=tea.id, valid_from=at("2026-01-01 00:00"), cost=D(40)),
            SkuCost(sku_id=tea.id, valid_from=at("2026-03-10 00:00"), cost=D(48)),
            SkuCost(sku_id=cup.id, valid_from=at("2026-01-01 00:00"), cost=cup_cost),
        ]
    )
    for base, quote, rate in [("CNY", "EUR", "0.125"), ("USD", "CNY", "7.2"), ("GBP", "EUR", "1.15")]:
        set_rate(session, base, quote, D(rate), MAR1)
    t, c = tea.id, cup.id
    add_order(session, ch["tb"], "1", "2026-03-05 10:00", "paid", "CNY", [("TEA-1", t, 2, "100.00")], "10.00", "CN")
    add_order(
        session,
        ch["shop"],
        "2",
        "2026-03-12 02:00",
        "shipped",
        "USD",
        [("TEA-1", t, 1, "30.00"), ("CUP-1", c, 2, "8.00")],
        "4.00",
        "US",
    )
    ebay = add_order(
        session, ch["ebay"], "3", "2026-03-15 09:00", "delivered", "GBP", [("CUP-1", c, 3, "6.00")], "2.50", "GB"
    )
    ebay.fees = D("2.69")  # eBay's totalMarketplaceFee
    add_order(session, ch["shop"], "4", "2026-03-20 09:00", "refunded", "USD", [("TEA-1", t, 1, "30.00")], "0", "US")
    add_order(session, ch["tb"], "5", "2026-03-21 09:00", "cancelled", "CNY", [("TEA-1", t, 1, "100.00")], None, "CN")
    add_order(session, ch["tb"], "6", "2026-02-28 16:30", "paid", "CNY", [("CUP-1", c, 1, "20.00")], None, "CN")
    add_order(session, ch["tb"], "7", "2026-03-31 17:00", "paid", "CNY", [("TEA-1", t, 1, "100.00")], None, "CN")
    session.flush()


def report(session, by=("channel",), **filters):
    return reports.sales_report(
        session, MAR1, MAR31, by, "EUR", filters=Filters(**filters), tz=TZ, via="CNY", fee_rules=RULES
    )


def test_profit_by_hand_to_the_cent(session, cup_cost_currency: str) -> None:
    seed(session, cup_cost_currency)
    result = report(session, ("channel", "sku", "month"))
    total = by(result.totals, "TOTAL")
    assert total["orders"] == 6  # #1-#6; #7 is April in Shanghai
    assert total["net_EUR"] == D("89.60")
    assert total["gross_EUR"] == D("129.10")
    assert total["refunded_EUR"] == D("27.00") and total["cancelled_EUR"] == D("12.50")
    assert total["shipping_EUR"] == D("7.73")  # 7.725
    assert total["fees_EUR"] == D("6.11")  # 6.106
    assert total["cogs_EUR"] == D("29.50")
    assert total["gross_profit_EUR"] == D("61.72")  # 61.719
    assert total["margin_pct"] == D("63.42")  # 63.4154

    channel = result.groupings["channel"]
    tb = by(channel, "tb", "CNY")
    # CNY: net 200 + 20 = 220.00, shipping 10.00, fees 10.50 + 1.00 = 11.50
    assert (tb["net"], tb["shipping"], tb["fees"]) == (D("220.00"), D("10.00"), D("11.50"))
    # EUR: 27.50 + 1.25 - 1.4375 - 12.25 = 15.0625 -> 15.06; margin 15.0625 / 28.75 = 52.39%
    assert (tb["fees_EUR"], tb["cogs_EUR"], tb["gross_profit_EUR"]) == (D("1.44"), D("12.25"), D("15.06"))
    assert tb["margin_pct"] == D("52.39")
    shop = by(channel, "shop", "USD")
    assert shop["fees"] == D("1.75") and shop["fees_EUR"] == D("1.58")  # 1.575, triangulated rate 0.9
    # 41.40 + 3.60 - 1.575 - 10.50 = 32.925 -> 32.93
    assert shop["gross_profit_EUR"] == D("32.93") and shop["refunded_EUR"] == D("27.00")
    ebay = by(channel, "ebay", "GBP")
    # reported fees 2.69 GBP x 1.15 = 3.0935; 20.70 + 2.875 - 3.0935 - 6.75 = 13.7315 -> 13.73
    assert (ebay["fees"], ebay["fees_EUR"], ebay["gross_profit_EUR"]) == (D("2.69"), D("3.09"), D("13.73"))

    sku = result.groupings["sku"]
    # cost at each order's time: TEA 2 x 40 CNY (03-05) + 1 x 48 CNY (03-12) = 10.00 + 6.00 EUR
    assert by(sku, "TEA-1")["cogs_EUR"] == D("16.00")
    assert by(sku, "CUP-1")["cogs_EUR"] == D("13.50")  # 4.50 + 6.75 + 2.25
    assert by(sku, "CUP-1")["net_EUR"] == D("37.60")  # 14.40 + 20.70 + 2.50
    assert [r["month"] for r in result.groupings["month"] if r["currency"] == "ALL"] == ["2026-03"]

    rates = {(u.currency, u.day): u for u in result.rates}
    usd = rates[("USD", date(2026, 3, 12))]
    assert usd.rate == D("0.9") and usd.method == "via CNY" and len(usd.legs) == 2
    assert rates[("GBP", date(2026, 3, 15))].method == "direct"
    assert ("CNY", date(2026, 3, 1)) in rates  # order #6 converted on its Shanghai day


def test_filters_and_shares(session, cup_cost_currency: str) -> None:
    seed(session, cup_cost_currency)
    shop = by(report(session, channels=("shop",)).totals, "TOTAL")
    assert (shop["net_EUR"], shop["refunded_EUR"], shop["orders"]) == (D("41.40"), D("27.00"), 2)
    gb = by(report(session, countries=("gb",)).totals, "TOTAL")
    assert gb["gross_profit_EUR"] == D("13.73")
    usd = by(report(session, currencies=("USD",)).totals, "TOTAL")
    assert usd["gross_EUR"] == D("68.40")  # 41.40 + 27.00
    cups = by(report(session, skus=("CUP*",)).totals, "TOTAL")
    # the CUP lines only; order #2's shipping 4.00 USD x 16/46 x 0.9 = 1.2522, #3's 2.875 whole
    assert (cups["net_EUR"], cups["cogs_EUR"], cups["shipping_EUR"]) == (D("37.60"), D("13.50"), D("4.13"))
    tea = by(report(session, categories=("茶叶",)).totals, "TOTAL")
    assert tea["cogs_EUR"] == D("16.00") and tea["orders"] == 4  # #1, #2, #4, #5
    with pytest.raises(reports.ReportError, match="nope"):
        report(session, channels=("nope",))


def test_without_triangulation_the_missing_pair_is_named(session) -> None:
    seed(session)
    with pytest.raises(MissingRates, match="USD"):
        reports.sales_report(session, MAR1, MAR31, ["channel"], "EUR", tz=TZ)


def test_periods_in_the_team_zone() -> None:
    wednesday = date(2026, 12, 2)
    assert period_days("today", wednesday) == (wednesday, wednesday)
    assert period_days("yesterday", wednesday) == (date(2026, 12, 1),) * 2
    assert period_days("last-7-days", wednesday) == (date(2026, 11, 26), wednesday)
    assert period_days("this-week", wednesday) == (date(2026, 11, 30), wednesday)
    assert period_days("last-week", wednesday) == (date(2026, 11, 23), date(2026, 11, 29))
    assert period_days("this-month", wednesday) == (date(2026, 12, 1), wednesday)
    assert period_days("last-month", wednesday) == (date(2026, 11, 1), date(2026, 11, 30))
    assert period_days("this-quarter", wednesday) == (date(2026, 10, 1), wednesday)
    assert period_days("last-quarter", wednesday) == (date(2026, 7, 1), date(2026, 9, 30))
    assert period_days("last-quarter", date(2026, 2, 1)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert period_days("this-year", wednesday) == (date(2026, 1, 1), wednesday)
    assert period_days("last-year", wednesday) == (date(2025, 1, 1), date(2025, 12, 31))
    with pytest.raises(PeriodError, match="last-week"):
        period_days("fortnight", wednesday)
    start, end = utc_window(date(2026, 3, 1), date(2026, 3, 31), TZ)
    assert (start, end) == (at("2026-02-28 16:00"), at("2026-03-31 16:00"))


def test_local_days_across_a_daylight_saving_change(session) -> None:
    """New York moves to UTC-4 on 2026-03-08: 03:30 UTC is still the 7th before, the 8th's 23:30 local after."""
    seed(session)
    ch = session.query(Channel).filter_by(name="tb").one()
    for ext, when in [("ny1", "2026-03-08 04:30"), ("ny2", "2026-03-09 03:30")]:
        add_order(session, ch, ext, when, "paid", "CNY", [("X", None, 1, "8.00")], None, "US")
    rows = reports.sales_report(
        session, date(2026, 3, 7), date(2026, 3, 8), ["country"], "EUR", tz="America/New_York", via="CNY"
    ).groupings["country"]
    # ny1 = 03-07 23:30 EST, ny2 = 03-08 23:30 EDT: both inside; #1 (03-05) and #2 (03-11 22:00 EDT) not
    assert by(rows, "US", "CNY")["orders"] == 2


def test_a_sku_without_cost_history_uses_its_cost_now(session, cup_cost_currency: str) -> None:
    """A SKU written by another path than the catalog import has no history: its current cost counts."""
    seed(session, cup_cost_currency)
    product = session.query(Product).filter_by(key="TEA").one()
    new = Sku(sku="NEW-1", product_id=product.id, base_price=D(50), currency="CNY", cost=D("10.00"))
    bare = Sku(sku="BARE-1", product_id=product.id, base_price=D(50), currency="CNY")
    session.add_all([new, bare])
    session.flush()
    tb = session.query(Channel).filter_by(name="tb").one()
    lines = [("NEW-1", new.id, 2, "30.00"), ("BARE-1", bare.id, 3, "5.00")]
    add_order(session, tb, "n1", "2026-03-20 10:00", "paid", "CNY", lines, None, "CN")
    rows = report(session, ("sku",)).groupings["sku"]
    assert by(rows, "NEW-1", "CNY")["cogs_EUR"] == D("2.50")  # 2 x 10.00 CNY x 0.125
    assert by(rows, "NEW-1", "CNY")["uncosted_units"] == 0
    assert by(rows, "BARE-1", "CNY")["uncosted_units"] == 3 and by(rows, "BARE-1", "CNY")["cogs_EUR"] == D("0.00")
