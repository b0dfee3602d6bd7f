"""Price and stock rules: pure functions from catalog values and a channel's rule to what the channel shows.

Price: ``base x multiplier + fixed`` in the catalog currency, converted with the FX rate to the channel
currency; or a channel's price override, which is entered and stored in the channel's currency and so
bypasses the multiplier and the FX rate. Either is rounded to the channel currency's minor units, lifted
to the price ending (.99, .9, whole units) and never below the floor ``cost x (1 + min_margin)``
(converted with the FX rate).

Quantity: ``floor((sum over feeding warehouses of max(0, on_hand - reserved) - buffer) x share)``,
clamped to ``[0, max_quantity]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from listing_sync.adapters.money import minor_units, quantum
from listing_sync.config.channels import PriceRule, StockRule


def apply_ending(price: Decimal, currency: str, ending: Decimal | None) -> Decimal:
    """Lift ``price`` to the smallest value >= price that ends in ``ending`` (e.g. 12.30 -> 12.99).

    An ending the currency cannot show (0.99 in JPY) becomes whole units. Idempotent."""
    step = quantum(currency)
    price = price.quantize(step, rounding=ROUND_CEILING)
    if ending is None:
        return price
    if minor_units(currency) == 0 or ending.quantize(step, rounding=ROUND_FLOOR) != ending:
        ending = Decimal(0)
    whole = price.to_integral_value(rounding=ROUND_FLOOR)
    candidate = whole + ending
    if candidate < price:
        candidate += 1
    return candidate.quantize(step)


def price_floor(cost: Decimal | None, rule: PriceRule, fx_rate: Decimal, currency: str) -> Decimal | None:
    """The lowest price allowed in the channel currency, rounded up to its minor units."""
    if cost is None:
        return None
    return (cost * (1 + rule.min_margin) * fx_rate).quantize(quantum(currency), rounding=ROUND_CEILING)


def channel_price(
    base_price: Decimal,
    rule: PriceRule,
    *,
    currency: str,
    fx_rate: Decimal = Decimal(1),
    cost: Decimal | None = None,
    override: Decimal | None = None,
) -> Decimal:
    """The price a channel shows, in ``currency`` with its minor units. ``override`` is already in
    ``currency``: no multiplier, no FX; still rounded, lifted to the ending and floored."""
    if fx_rate <= 0:
        raise ValueError("FX rate must be positive")
    raw = override if override is not None else (base_price * rule.multiplier + rule.fixed) * fx_rate
    price = apply_ending(
        max(raw, Decimal(0)).quantize(quantum(currency), rounding=ROUND_HALF_UP), currency, rule.ending
    )
    floor = price_floor(cost, rule, fx_rate, currency)
    if floor is not None and price < floor:
        price = apply_ending(floor, currency, rule.ending)
    return price


def available(levels: Iterable[tuple[int, int]]) -> int:
    """Sellable units over warehouses: sum of max(0, on_hand - reserved)."""
    return sum(max(0, on_hand - reserved) for on_hand, reserved in levels)


def channel_quantity(levels: Iterable[tuple[int, int]], rule: StockRule) -> int:
    """The quantity a channel offers, from (on_hand, reserved) of each warehouse that feeds it."""
    pool = available(levels)
    quantity = (
        int(((pool - rule.buffer) * rule.share).to_integral_value(rounding=ROUND_FLOOR)) if pool > rule.buffer else 0
    )
    if rule.max_quantity is not None:
        quantity = min(quantity, rule.max_quantity)
    return max(0, min(quantity, pool))


def decimal_places(value: Decimal) -> int:
    """Digits after the decimal point of a finite decimal as written (12.50 -> 2, 12 -> 0, 1E+2 -> -2)."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"{value} is not a finite number")
    return -exponent
