"""Price and stock rules: examples and properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from listing_sync.adapters.money import minor_units
from listing_sync.config.channels import PriceRule, StockRule
from listing_sync.syncer.rules import apply_ending, channel_price, channel_quantity, decimal_places

D = Decimal
prices = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
rates = st.decimals(min_value=D("0.001"), max_value=D("200"), places=4)
currencies = st.sampled_from(["CNY", "USD", "JPY", "EUR", "KWD"])
endings = st.sampled_from([None, D("0.99"), D("0.9"), D("0"), D("0.5")])
margins = st.decimals(min_value=D("0"), max_value=D("2"), places=2)
levels = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), max_size=4)
stock_rules = st.builds(
    StockRule,
    buffer=st.integers(0, 50),
    share=st.decimals(min_value=D("0.01"), max_value=D("1"), places=2),
    max_quantity=st.one_of(st.none(), st.integers(0, 5000)),
)


def test_examples_by_hand() -> None:
    rule = PriceRule(multiplier=D("1.40"), ending=D("0.99"), min_margin=D("0.20"))
    # 168 CNY x 1.4 = 235.20 CNY x 0.14 = 32.928 USD -> 32.93 -> ending .99 -> 32.99
    assert channel_price(D("168"), rule, currency="USD", fx_rate=D("0.14"), cost=D("68")) == D("32.99")
    # floor: cost 100 x 1.2 = 120 CNY -> 16.80 USD; base 50 x 1.4 x 0.14 = 9.80 -> lifted to 16.99
    assert channel_price(D("50"), rule, currency="USD", fx_rate=D("0.14"), cost=D("100")) == D("16.99")
    # JPY has no minor units: ending .99 becomes whole yen, rounding up
    assert channel_price(D("10"), rule, currency="JPY", fx_rate=D("20.55")) == D("288")
    # an override is in the channel currency: no multiplier, no fixed, no FX; ending and floor still apply
    fixed = PriceRule(fixed=D("10"))
    assert channel_price(D("100"), fixed, currency="CNY", override=D("80")) == D("80.00")
    assert channel_price(D("168"), rule, currency="USD", fx_rate=D("0.14"), override=D("79.99")) == D("79.99")
    assert channel_price(D("168"), rule, currency="USD", fx_rate=D("0.14"), override=D("79.5")) == D("79.99")
    assert channel_price(D("1"), rule, currency="USD", fx_rate=D("0.14"), cost=D("100"), override=D("5")) == D("16.99")
    assert apply_ending(D("12.30"), "CNY", D("0.9")) == D("12.90")
    assert apply_ending(D("12.95"), "CNY", D("0.9")) == D("13.90")


def test_quantity_by_hand() -> None:
    rule = StockRule(buffer=2, share=D("0.5"), max_quantity=30)
    assert channel_quantity([(10, 3), (8, 0)], rule) == 6  # (7 + 8 - 2) x 0.5 = 6.5 -> 6
    assert channel_quantity([(100, 0)], rule) == 30
    assert channel_quantity([(2, 5), (1, 0)], rule) == 0  # over-reserved warehouse counts as 0


@given(prices, rates, currencies, endings, margins, st.one_of(st.none(), prices))
def test_price_properties(base, rate, currency, ending, margin, cost) -> None:
    rule = PriceRule(multiplier=D("1.3"), ending=ending, min_margin=margin)
    price = channel_price(base, rule, currency=currency, fx_rate=rate, cost=cost)
    assert price >= 0
    assert -price.as_tuple().exponent == minor_units(currency)  # minor units respected
    if cost is not None:
        assert price >= cost * (1 + margin) * rate  # floor respected
    assert apply_ending(price, currency, ending) == price  # rounding idempotent
    if ending is not None and minor_units(currency) > 0 and ending.as_tuple().exponent >= -minor_units(currency):
        assert price - price.to_integral_value(rounding="ROUND_FLOOR") == ending


@given(prices, prices, rates, currencies, endings)
def test_price_is_monotone_in_base(a, b, rate, currency, ending) -> None:
    rule = PriceRule(multiplier=D("1.1"), ending=ending)
    low, high = sorted([a, b])
    assert channel_price(low, rule, currency=currency, fx_rate=rate) <= channel_price(
        high, rule, currency=currency, fx_rate=rate
    )


@given(levels, stock_rules)
def test_quantity_never_negative_nor_above_pool(stock, rule) -> None:
    quantity = channel_quantity(stock, rule)
    pool = sum(max(0, on - res) for on, res in stock)
    assert 0 <= quantity <= pool
    if rule.max_quantity is not None:
        assert quantity <= rule.max_quantity


@given(levels, stock_rules, st.integers(0, 100), st.integers(0, 3))
def test_quantity_is_monotone_in_stock(stock, rule, extra, index) -> None:
    if not stock:
        stock = [(0, 0)]
    more = list(stock)
    i = index % len(more)
    more[i] = (more[i][0] + extra, more[i][1])
    assert channel_quantity(more, rule) >= channel_quantity(stock, rule)


def test_decimal_places_as_written() -> None:
    assert [decimal_places(D(t)) for t in ("12.50", "12", "0.001", "1E+2")] == [2, 0, 3, -2]
    with pytest.raises(ValueError, match="not a finite number"):
        decimal_places(D("NaN"))
