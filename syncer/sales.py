"""The sales and profit report: revenue, refunds, shipping, marketplace fees, cost of goods, gross profit
and margin per grouping, in one report currency, over a period of local days, with filters.

Definitions (also in README):

* An order counts when its ``placed_at`` falls on a local day (``tz``) from ``first`` to ``last``.
  ``pending`` orders are not sales yet and are left out of every figure.
* Revenue is the sum of ``quantity x unit_price`` over the order's lines (the order's ``total`` is not
  used). ``gross`` = every counted order; ``cancelled``; ``refunded`` = refunded and returned orders
  (the refunds); ``net`` = gross minus both (paid, shipped, delivered).
* Profit counts kept (net) orders only: ``gross profit = net revenue + shipping charged - fees - cost of
  goods``; ``margin % = gross profit / (net revenue + shipping) x 100``.
* Fees are the marketplace's own figure where the order carries one (eBay ``totalMarketplaceFee``,
  AliExpress ``escrow_fee``), else the channel's rule: ``fee_percent`` % of (items + shipping) +
  ``fee_fixed`` per order (channels file; 0 when not set).
* Cost of goods is each line's quantity x the SKU's cost at the order's time (cost history; an order
  older than the first recorded cost takes the earliest one), in the SKU's currency. Lines without a
  cost count as 0 and are reported as ``uncosted_units``.
* Groupings of lines (SKU, category) and line filters (``--sku``, ``--category``) take an order's
  shipping and fees in proportion to the lines' share of the order's revenue.
* Every amount is converted at the rate of its local order day (nearest earlier day; the inverse pair;
  else through the base currency), the exact products summed and rounded once to minor units.

Everything is aggregated in SQL per (group, currency, day, status); only those rows reach Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fnmatch import fnmatchcase
from typing import Any

from listing_sync.adapters.money import require_currency, round_money
from listing_sync.syncer.costs import cost_at, costed_skus
from listing_sync.syncer.fx import RateBook, RateUsed
from listing_sync.syncer.models import Channel, Order, OrderLine, Product, Sku
from listing_sync.syncer.periods import local_day, utc_window
from listing_sync.syncer.types import SCALE
from sqlalchemy import BigInteger, ColumnElement, Numeric, and_, case, func, literal, literal_column, or_, select
from sqlalchemy import type_coerce as coerce
from sqlalchemy.orm import Session

KEPT = ("paid", "shipped", "delivered")
CANCELLED = ("cancelled",)
REFUNDED = ("refunded", "returned")
COUNTED = KEPT + CANCELLED + REFUNDED
CLASS = {
    "net": "net",
    "cancelled": "cancelled",
    "refunded": "refunded",
    **dict.fromkeys(KEPT, "net"),
    **dict.fromkeys(REFUNDED, "refunded"),
}
GROUPINGS = ("channel", "sku", "category", "month", "country", "currency")
ORDER_LEVEL = ("channel", "month", "country", "currency")
NONE_KEY = "(none)"
ZERO = Decimal(0)
HUNDRED = Decimal(100)


class ReportError(ValueError):
    """Bad report parameters (the CLI shows the message)."""


@dataclass(frozen=True, slots=True)
class FeeRule:
    """A channel's fees when the marketplace does not report them: percent of (items + shipping) + fixed."""

    percent: Decimal = ZERO
    fixed: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Filters:
    """Which orders and lines a report counts; each list is "any of" (empty = all)."""

    channels: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()  # the order's currency
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()  # globs: TEA-*, *-250G

    @property
    def on_lines(self) -> bool:
        return bool(self.categories or self.skus)

    def describe(self) -> str:
        parts = [
            f"{name} {', '.join(values)}"
            for name, values in (
                ("channel", self.channels),
                ("country", self.countries),
                ("order currency", self.currencies),
                ("category", self.categories),
                ("SKU", self.skus),
            )
            if values
        ]
        return "; ".join(parts) or "none"


# ------------------------------------------------------------------------------------------ buckets
@dataclass(slots=True)
class Bucket:
    """One (group key, order currency): counts, order-currency amounts and exact report-currency amounts."""

    orders: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by class
    units: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    amount: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    converted: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    shipping: Decimal | None = ZERO  # kept orders, order currency (None once currencies are mixed)
    shipping_converted: Decimal = ZERO
    fees: Decimal | None = ZERO
    fees_converted: Decimal = ZERO
    cogs_converted: Decimal = ZERO
    uncosted_units: int = 0

    def add(self, klass: str, orders: int, units: int, amount: Decimal, rate: Decimal) -> None:
        self.orders[klass] += orders
        self.units[klass] += units
        self.amount[klass] += amount
        self.converted[klass] += amount * rate

    def add_kept(self, shipping: Decimal, fees: Decimal, rate: Decimal) -> None:
        self.shipping = (self.shipping or ZERO) + shipping
        self.shipping_converted += shipping * rate
        self.fees = (self.fees or ZERO) + fees
        self.fees_converted += fees * rate

    def merge(self, other: Bucket) -> None:
        for klass in ("net", "cancelled", "refunded"):
            self.orders[klass] += other.orders[klass]
            self.units[klass] += other.units[klass]
            self.amount[klass] += other.amount[klass]
            self.converted[klass] += other.converted[klass]
        self.shipping = self.fees = None  # mixed currencies: only the converted sums are meaningful
        self.shipping_converted += other.shipping_converted
        self.fees_converted += other.fees_converted
        self.cogs_converted += other.cogs_converted
        self.uncosted_units += other.uncosted_units


def sales_columns(key: str, report_currency: str) -> list[str]:
    r = report_currency
    return [
        key,
        "currency",
        "orders",
        "cancelled_orders",
        "refunded_orders",
        "net_orders",
        "units",
        "net_units",
        "gross",
        "cancelled",
        "refunded",
        "net",
        "shipping",
        "fees",
        f"gross_{r}",
        f"cancelled_{r}",
        f"refunded_{r}",
        f"net_{r}",
        f"shipping_{r}",
        f"fees_{r}",
        f"cogs_{r}",
        f"gross_profit_{r}",
        "margin_pct",
        f"aov_{r}",
        "uncosted_units",
    ]


ORDER_CURRENCY_AMOUNTS = ("gross", "cancelled", "refunded", "net", "shipping", "fees")
REPORT_AMOUNTS = ("gross", "cancelled", "refunded", "net", "shipping", "fees", "cogs", "gross_profit", "aov")


def margin(profit: Decimal, sales: Decimal) -> Decimal | None:
    """Gross profit as a percentage of sales (net revenue + shipping), 2 places; None without sales."""
    if not sales:
        return None
    return (profit * HUNDRED / sales).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _row(key_name: str, key: str, currency: str, bucket: Bucket, r: str) -> dict[str, Any]:
    o, u, a, c = bucket.orders, bucket.units, bucket.amount, bucket.converted
    mixed = currency == "ALL"

    def own(value: Decimal | None) -> Decimal | None:  # in the order currency, with its minor units
        return None if mixed or value is None else round_money(value, currency)

    sales = c["net"] + bucket.shipping_converted
    profit = sales - bucket.fees_converted - bucket.cogs_converted
    profit_r, sales_r = round_money(profit, r), round_money(sales, r)
    return {
        key_name: key,
        "currency": currency,
        "orders": o["net"] + o["cancelled"] + o["refunded"],
        "cancelled_orders": o["cancelled"],
        "refunded_orders": o["refunded"],
        "net_orders": o["net"],
        "units": u["net"] + u["cancelled"] + u["refunded"],
        "net_units": u["net"],
        "gross": own(a["net"] + a["cancelled"] + a["refunded"]),
        "cancelled": own(a["cancelled"]),
        "refunded": own(a["refunded"]),
        "net": own(a["net"]),
        "shipping": own(bucket.shipping),
        "fees": own(bucket.fees),
        f"gross_{r}": round_money(c["net"] + c["cancelled"] + c["refunded"], r),
        f"cancelled_{r}": round_money(c["cancelled"], r),
        f"refunded_{r}": round_money(c["refunded"], r),
        f"net_{r}": round_money(c["net"], r),
        f"shipping_{r}": round_money(bucket.shipping_converted, r),
        f"fees_{r}": round_money(bucket.fees_converted, r),
        f"cogs_{r}": round_money(bucket.cogs_converted, r),
        f"gross_profit_{r}": profit_r,
        "margin_pct": margin(profit, sales) if sales_r else None,
        f"aov_{r}": round_money(c["net"] / o["net"], r) if o["net"] else None,
        "uncosted_units": bucket.uncosted_units,
    }


# -------------------------------------------------------------------------------------------- report
@dataclass
class SalesReport:
    start: date
    end: date
    currency: str
    groupings: dict[str, list[dict[str, Any]]]
    totals: list[dict[str, Any]]
    months: list[str]
    channels: list[str]
    chart: dict[tuple[str, str], Decimal]  # (month, channel) -> net revenue in the report currency
    #: month -> (sales = net revenue + shipping, gross profit, margin %) in the report currency
    profit_chart: dict[str, tuple[Decimal, Decimal, Decimal | None]] = field(default_factory=dict)
    filters: Filters = field(default_factory=Filters)
    timezone: str = "UTC"
    period: str = ""  # the preset's name, if one was used
    rates: list[RateUsed] = field(default_factory=list)

    def columns(self, key: str) -> list[str]:
        return sales_columns(key, self.currency)

    @property
    def period_label(self) -> str:
        named = f"{self.period}, " if self.period else ""
        return f"{self.start.isoformat()} .. {self.end.isoformat()} ({named}{self.timezone})"


#: (key, order currency, day, status class or status, channel id, figures): see _Query
RawRow = tuple[Any, str, date, str, int, "Figures"]


@dataclass(slots=True)
class Figures:
    """One aggregated row's numbers, in its order currency (cost of goods: in the SKUs' cost currency)."""

    orders: int = 0
    units: int = 0
    revenue: Decimal = ZERO
    shipping: Decimal = ZERO
    fees: Decimal = ZERO  # reported by the marketplace, else the channel's rule
    cogs: Decimal = ZERO  # kept orders only; in ``_Query.cost_currency`` (0 when costs are kept apart)
    uncosted: int = 0  # kept units without a cost


class _Query:
    """The SQL of one report: window, filters, local day, fee rules; each aggregate returns plain tuples.

    When every SKU has the same cost currency (the usual case), cost of goods is summed in the same pass
    as revenue; otherwise :meth:`costs` sums it per cost currency in a second pass."""

    def __init__(
        self,
        session: Session,
        lo: datetime,
        hi: datetime,
        tz: str,
        filters: Filters,
        channel_ids: list[int],
        rules: Mapping[int, FeeRule],
    ):
        self.session, self.filters, self.rules = session, filters, rules
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.day = local_day(session, Order.placed_at, tz, lo, hi).label("day")
        self.where: list[ColumnElement[bool]] = [Order.placed_at >= lo, Order.placed_at < hi]
        if filters.channels:
            self.where.append(Order.channel_id.in_(channel_ids))
        if filters.countries:
            self.where.append(Order.ship_country.in_([c.upper() for c in filters.countries]))
        if filters.currencies:
            self.where.append(Order.currency.in_([c.upper() for c in filters.currencies]))
        self.line_match = self._line_match()
        self.dates: dict[Any, date] = {}
        currencies = list(session.scalars(select(Sku.currency).distinct()))
        self.cost_currency: str | None = currencies[0] if len(currencies) == 1 else None

    def _line_match(self) -> ColumnElement[bool] | None:
        f = self.filters
        clauses: list[ColumnElement[bool]] = []
        if f.skus:
            known = self.session.scalars(select(OrderLine.sku).distinct())
            matching = sorted(s for s in known if any(fnmatchcase(s, g) for g in f.skus))
            clauses.append(OrderLine.sku.in_(matching))
        if f.categories:
            ids = select(Sku.id).join(Product, Product.id == Sku.product_id).where(Product.category.in_(f.categories))
            clauses.append(OrderLine.sku_id.in_(ids))
        return and_(*clauses) if clauses else None

    # -- value handling: SQLite sums of Amount are scaled integers, PostgreSQL's are numerics
    def raw(self, expr: Any) -> Any:
        return coerce(expr, BigInteger() if self.sqlite else Numeric(asdecimal=True))

    def number(self, value: Any) -> Decimal:
        if value is None:
            return ZERO
        if self.sqlite:
            return Decimal(int(value)).scaleb(-SCALE)
        return Decimal(value)

    def date_of(self, value: Any) -> date:
        found = self.dates.get(value)
        if found is None:
            found = self.dates[value] = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return found

    def share(self, amount: Any, part: Any, whole: Any) -> Any:
        """amount x part / whole (an order's amount for some of its lines); NULL when whole is 0."""
        return amount * part / func.nullif(whole, 0)

    def order_fee(self, items: Any) -> Any:
        """SQL: an order's fees: the marketplace's figure, else its channel's rule on ``items`` + shipping."""
        base = items + func.coalesce(Order.shipping, 0)
        whens = []
        for channel_id, rule in self.rules.items():
            if not rule.percent and not rule.fixed:
                continue
            if self.sqlite:  # scaled integers: x * numerator / (denominator * 100), then the fixed part
                numerator, denominator = rule.percent.as_integer_ratio()
                fixed = int(rule.fixed.scaleb(SCALE))
                expr = base * literal(numerator) / literal(denominator * 100) + literal(fixed)
            else:
                expr = base * literal(rule.percent) / literal(HUNDRED) + literal(rule.fixed)
            whens.append((Order.channel_id == channel_id, expr))
        rule_fee = case(*whens, else_=literal(0)) if whens else literal(0)
        return func.coalesce(Order.fees, rule_fee)

    def kept(self, expr: Any) -> Any:
        return case((Order.status.in_(KEPT), expr), else_=literal(0))

    def with_costs(self, query: Any) -> tuple[Any, Any, Any]:
        """``query`` (over order lines joined to their orders) and the SQL of a kept line's (cost of goods
        at its order's time, units of a SKU without any recorded cost); 0 when costs are summed apart
        (several cost currencies). The cost is looked up once per line (index on sku_id, valid_from)."""
        if self.cost_currency is None:
            return query, literal(0), literal(0)
        cost = cost_at(OrderLine.sku_id, Order.placed_at)
        costed = costed_skus()
        cogs = self.kept(OrderLine.quantity * func.coalesce(cost, 0))
        no_cost = or_(OrderLine.sku_id.is_(None), OrderLine.sku_id.not_in(costed))
        return query, cogs, self.kept(case((no_cost, OrderLine.quantity), else_=0))

    def per_order(self):
        """One row per order of the window: its lines' units, revenue, cost of goods and units without
        cost (the lines matching the line filters), all its lines' revenue (``whole``) and its fees."""
        line = OrderLine.quantity * OrderLine.unit_price
        match = self.line_match
        base, cogs, uncosted = self.with_costs(
            select(OrderLine.order_id).select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
        )

        def matching(expr: Any) -> Any:
            return expr if match is None else case((match, expr), else_=0)

        return (
            base.add_columns(
                func.sum(matching(OrderLine.quantity)).label("units"),
                func.sum(matching(line)).label("revenue"),
                func.sum(line).label("whole"),
                func.sum(matching(cogs)).label("cogs"),
                func.sum(matching(uncosted)).label("uncosted"),
                func.sum(matching(literal(1))).label("matched"),
            )
            .where(*self.where, Order.status.in_(COUNTED))
            .group_by(OrderLine.order_id)
            .subquery()
        )

    # -- order-level cube: (channel, country), currency, day, status
    def orders(self) -> list[RawRow]:
        po = self.per_order()
        match = self.line_match
        shipping = func.coalesce(Order.shipping, 0)
        fee = self.order_fee(func.coalesce(po.c.whole, 0))
        if match is not None:  # the matching lines' share of the order's shipping and fees
            shipping, fee = self.share(shipping, po.c.revenue, po.c.whole), self.share(fee, po.c.revenue, po.c.whole)
        query = (
            select(
                Order.channel_id,
                Order.ship_country,
                Order.currency,
                self.day,
                Order.status,
                func.count(),
                func.sum(po.c.units),
                self.raw(func.sum(po.c.revenue)),
                self.raw(func.sum(shipping)),
                self.raw(func.sum(fee)),
                self.raw(func.sum(po.c.cogs)),
                func.sum(po.c.uncosted),
            )
            .select_from(Order)
            .join(po, po.c.order_id == Order.id, isouter=match is None)
            .where(*self.where, Order.status.in_(COUNTED))
            .group_by(Order.channel_id, Order.ship_country, Order.currency, self.day, Order.status)
        )
        if match is not None:
            query = query.where(po.c.matched > 0)
        n = self.number
        return [
            (
                (channel, country),
                cur,
                self.date_of(d),
                status,
                channel,
                Figures(count, int(units or 0), n(rev), n(ship), n(fees), n(cogs), int(uncosted or 0)),
            )
            for channel, country, cur, d, status, count, units, rev, ship, fees, cogs, uncosted in self.session.execute(
                query
            )
        ]

    # -- line-level cube: SKU or category, currency, day, status class
    def lines(self, grouping: str) -> list[RawRow]:
        key = OrderLine.sku if grouping == "sku" else Product.category
        klass = case(
            (Order.status.in_(CANCELLED), literal_column("'cancelled'")),
            (Order.status.in_(REFUNDED), literal_column("'refunded'")),
            else_=literal_column("'net'"),
        )
        line = OrderLine.quantity * OrderLine.unit_price
        whole_revenue = func.sum(line)
        # SQLite takes an order's own columns beside its aggregate; PostgreSQL wants them grouped
        same = [] if self.sqlite else [Order.id, Order.fees, Order.shipping, Order.channel_id]
        orders = (
            select(
                OrderLine.order_id.label("order_id"),
                whole_revenue.label("whole"),
                self.order_fee(whole_revenue).label("fee"),
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(*self.where, Order.status.in_(COUNTED))
            .group_by(OrderLine.order_id, *same)
            .subquery()
        )
        query = (
            select(
                key,
                Order.currency,
                self.day,
                klass,
                func.count(func.distinct(Order.id)),
                func.sum(OrderLine.quantity),
                self.raw(func.sum(line)),
                self.raw(func.sum(self.share(func.coalesce(Order.shipping, 0), line, orders.c.whole))),
                self.raw(func.sum(self.share(orders.c.fee, line, orders.c.whole))),
            )
            .select_from(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .join(orders, orders.c.order_id == Order.id)
        )
        query, cogs, uncosted = self.with_costs(query)
        query = query.add_columns(self.raw(func.sum(cogs)), func.sum(uncosted))
        if grouping == "category" or self.filters.categories:
            query = query.outerjoin(Sku, Sku.id == OrderLine.sku_id).outerjoin(Product, Product.id == Sku.product_id)
        where = [*self.where, Order.status.in_(COUNTED)]
        if self.line_match is not None:
            where.append(self.line_match)
        query = query.where(*where).group_by(key, Order.currency, self.day, klass)
        n = self.number
        return [
            (k, cur, self.date_of(d), st, 0, Figures(count, int(u or 0), n(rev), n(ship), n(fee), n(cg), int(un or 0)))
            for k, cur, d, st, count, u, rev, ship, fee, cg, un in self.session.execute(query)
        ]

    # -- cost of goods per cost currency (only when the SKUs have several cost currencies)
    def costs(self, grouping: str) -> list[tuple[Any, str, str | None, date, Decimal, int]]:
        """(key, order currency, cost currency, day, cost of goods, units without a cost) of kept lines."""
        if self.cost_currency is not None:
            return []  # summed with the revenue (Figures.cogs)
        if grouping in ("sku", "category"):
            key: Any = OrderLine.sku if grouping == "sku" else Product.category
        else:
            key = None
        cost = cost_at(OrderLine.sku_id, Order.placed_at)
        columns = [
            Order.channel_id.label("channel"),
            Order.ship_country.label("country"),
            Order.currency.label("currency"),
            Sku.currency.label("cost_currency"),
            self.day,
            OrderLine.quantity.label("quantity"),
            cost.label("cost"),
        ]
        if key is not None:
            columns.append(key.label("key"))
        lines = (
            select(*columns)
            .select_from(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .outerjoin(Sku, Sku.id == OrderLine.sku_id)
        )
        if grouping == "category" or self.filters.categories:
            lines = lines.outerjoin(Product, Product.id == Sku.product_id)
        where = [*self.where, Order.status.in_(KEPT)]
        if self.line_match is not None:
            where.append(self.line_match)
        sub = lines.where(*where).subquery()
        keys = [sub.c.key] if key is not None else [sub.c.channel, sub.c.country]
        query = select(
            *keys,
            sub.c.currency,
            sub.c.cost_currency,
            sub.c.day,
            self.raw(func.sum(sub.c.quantity * sub.c.cost)),
            func.sum(case((sub.c.cost.is_(None), sub.c.quantity), else_=0)),
        ).group_by(*keys, sub.c.currency, sub.c.cost_currency, sub.c.day)
        out = []
        for row in self.session.execute(query):
            *found, cur, cost_cur, d, total, uncosted = row
            k = found[0] if key is not None else (found[0], found[1])
            out.append((k, cur, cost_cur, self.date_of(d), self.number(total), int(uncosted or 0)))
        return out


def _months(start: date, end: date) -> list[str]:
    months = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month.strftime("%Y-%m"))
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def sales_report(
    session: Session,
    start: date,
    end: date,
    by: Sequence[str] = ("channel",),
    currency: str = "CNY",
    chart: bool = False,
    *,
    filters: Filters | None = None,
    tz: str = "UTC",
    via: str | None = None,
    fee_rules: Mapping[str, FeeRule] | None = None,
    period: str = "",
) -> SalesReport:
    """Build the sales and profit report of the local days ``start`` .. ``end`` (in ``tz``).

    ``via`` is the currency to triangulate through (the base currency); ``fee_rules`` the channels' fee
    rules by channel name. Raises ``MissingRates`` (naming every missing currency and day) before
    anything is produced when a rate into ``currency`` is missing."""
    currency = require_currency(currency.upper())
    filters = filters or Filters()
    unknown = [g for g in by if g not in GROUPINGS]
    if unknown:
        raise ReportError(f"--by must be one of {', '.join(GROUPINGS)}, not {', '.join(map(repr, unknown))}")
    if end < start:
        raise ReportError(f"--to {end} is before --from {start}")
    names = {cid: name for cid, name in session.execute(select(Channel.id, Channel.name))}
    ids = {name: cid for cid, name in names.items()}
    missing = [c for c in filters.channels if c not in ids]
    if missing:
        known = ", ".join(sorted(ids)) or "none yet"
        raise ReportError(f"unknown channel(s) {', '.join(missing)} in --channel (known: {known})")
    lo, hi = utc_window(start, end, tz)
    rules = {cid: (fee_rules or {}).get(name, FeeRule()) for cid, name in names.items()}
    query = _Query(session, lo, hi, tz, filters, [ids[c] for c in filters.channels], rules)
    cube = query.orders()
    cube_costs = query.costs("orders")
    per_grouping: dict[str, tuple[list[RawRow], list]] = {}
    for grouping in dict.fromkeys(by):
        if grouping in ORDER_LEVEL:
            per_grouping[grouping] = (cube, cube_costs)
        else:
            per_grouping[grouping] = (query.lines(grouping), query.costs(grouping))
    book = RateBook(session, currency, via)
    pairs: set[tuple[str, date]] = {(cur, d) for _, cur, d, *_ in cube}
    for raw, costs in per_grouping.values():
        pairs.update((cur, d) for _, cur, d, *_ in raw)
        pairs.update((cost_cur, d) for _, _, cost_cur, d, total, _ in costs if cost_cur and total)
    pairs.update((cost_cur, d) for _, _, cost_cur, d, total, _ in cube_costs if cost_cur and total)
    if query.cost_currency is not None:  # costs summed with revenue: the cost currency on those days
        for raw, _ in [*per_grouping.values(), (cube, [])]:
            pairs.update((query.cost_currency, d) for _, _, d, _, _, figures in raw if figures.cogs)
    rates = book.resolve(pairs)
    sales = _Sales(currency, rates, names, query.cost_currency)
    result = {g: sales.rows(g, sales.buckets(g, raw, costs)) for g, (raw, costs) in per_grouping.items()}
    totals = sales.totals(cube, cube_costs)
    months, channels, grid = sales.chart(cube, start, end) if chart else ([], [], {})
    profit = sales.profit_chart(cube, cube_costs, start, end) if chart else {}
    used = [book.used[p] for p in sorted(book.used)]
    return SalesReport(start, end, currency, result, totals, months, channels, grid, profit, filters, tz, period, used)


class _Sales:
    """Aggregated rows grouped into buckets per (key, order currency), turned into report rows."""

    def __init__(
        self,
        currency: str,
        rates: dict[tuple[str, date], Decimal],
        names: dict[int, str],
        cost_currency: str | None,
    ) -> None:
        self.currency, self.rates, self.names, self.cost_currency = currency, rates, names, cost_currency
        self.month_of: dict[date, str] = {}

    def key_of(self, grouping: str, key: Any, day: date, cur: str = "") -> str:
        if grouping == "total":
            return "TOTAL"
        if grouping == "month":
            month = self.month_of.get(day)
            if month is None:
                month = self.month_of[day] = day.strftime("%Y-%m")
            return month
        if grouping == "currency":
            return cur
        if grouping == "channel":
            return self.names.get(key[0], str(key[0]))
        if grouping == "country":
            key = key[1]
        return NONE_KEY if key in (None, "") else str(key)

    def buckets(self, grouping: str, raw: Iterable[RawRow], costs: Iterable[tuple]) -> dict[tuple[str, str], Bucket]:
        out: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
        for key, cur, day, status, _channel, figures in raw:
            bucket = out[(self.key_of(grouping, key, day, cur), cur)]
            rate = self.rates[(cur, day)]
            klass = CLASS[status]
            bucket.add(klass, figures.orders, figures.units, figures.revenue, rate)
            if klass == "net":
                bucket.add_kept(figures.shipping, figures.fees, rate)
            if figures.cogs and self.cost_currency is not None:
                bucket.cogs_converted += figures.cogs * self.rates[(self.cost_currency, day)]
            bucket.uncosted_units += figures.uncosted
        for key, cur, cost_cur, day, total, uncosted in costs:
            bucket = out[(self.key_of(grouping, key, day, cur), cur)]
            if total:
                bucket.cogs_converted += total * self.rates[(cost_cur, day)]
            bucket.uncosted_units += uncosted
        return out

    def rows(self, grouping: str, found: dict[tuple[str, str], Bucket]) -> list[dict[str, Any]]:
        """One row per key and currency, and an ``ALL`` row for a key sold in several currencies."""
        per_key: dict[str, list[str]] = defaultdict(list)
        for key, cur in sorted(found):
            per_key[key].append(cur)
        out = []
        for key, currencies in per_key.items():
            for cur in currencies:
                out.append(_row(grouping, key, cur, found[(key, cur)], self.currency))
            if len(currencies) > 1:
                combined = Bucket()
                for cur in currencies:
                    combined.merge(found[(key, cur)])
                out.append(_row(grouping, key, "ALL", combined, self.currency))
        return out

    def totals(self, cube: list[RawRow], costs: list) -> list[dict[str, Any]]:
        found = self.buckets("total", cube, costs)
        totals = self.rows("total", found)
        if len({cur for _, cur in found}) == 1:  # one currency: still give the report-currency total line
            combined = Bucket()
            combined.merge(next(iter(found.values())))
            totals.append(_row("total", "TOTAL", "ALL", combined, self.currency))
        elif not found:
            totals.append(_row("total", "TOTAL", "ALL", Bucket(), self.currency))
        return totals

    def chart(
        self, cube: list[RawRow], start: date, end: date
    ) -> tuple[list[str], list[str], dict[tuple[str, str], Decimal]]:
        """(months, channels, net revenue by (month, channel)) for the chart, every month of the window."""
        exact: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for key, cur, day, status, _channel, figures in cube:
            if CLASS[status] == "net":
                month, channel = self.key_of("month", key, day), self.key_of("channel", key, day)
                exact[(month, channel)] += figures.revenue * self.rates[(cur, day)]
        channels = sorted({c for _, c in exact} | set(self.names.values()))
        return _months(start, end), channels, {k: round_money(v, self.currency) for k, v in exact.items()}

    def profit_chart(
        self, cube: list[RawRow], costs: list, start: date, end: date
    ) -> dict[str, tuple[Decimal, Decimal, Decimal | None]]:
        """Per month of the window: sales (net revenue + shipping), gross profit and margin %."""
        per_month: dict[str, Bucket] = defaultdict(Bucket)
        for (month, _cur), bucket in self.buckets("month", cube, costs).items():
            per_month[month].merge(bucket)
        out = {}
        r = self.currency
        for month in _months(start, end):
            b = per_month.get(month) or Bucket()
            sales = b.converted["net"] + b.shipping_converted
            profit = sales - b.fees_converted - b.cogs_converted
            out[month] = (round_money(sales, r), round_money(profit, r), margin(profit, sales))
        return out
