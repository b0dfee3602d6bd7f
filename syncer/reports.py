"""Reports: consolidated sales across channels and currencies, inventory (sell-through, turnover, days of
cover) and reorder signals; written as tables, CSV or XLSX with a native chart.

Definitions (also in README):

* An order counts in a window when its ``placed_at`` (UTC) falls on a day from ``--from`` to ``--to``
  inclusive. ``pending`` orders are not sales yet and are left out of every figure.
* Revenue is the sum of ``quantity x unit_price`` over the order's lines (so it reconciles exactly with
  the order lines); the order's ``total`` is not used. Shipping is NOT revenue: it is shown in its own
  column (the shipping charged on kept orders), and only for groupings made of whole orders.
* ``gross`` = every counted order (paid, shipped, delivered, cancelled, refunded, returned);
  ``cancelled`` = cancelled orders; ``refunded`` = refunded and returned orders; ``net`` = gross minus
  both (paid, shipped, delivered). Average order value = net revenue / net orders, in the report currency.
* Each order is converted at the rate of its own UTC day (nearest earlier day, the inverse pair when only
  it exists). The exact products are summed and rounded once, to the report currency's minor units.

Everything is aggregated in SQL per (group, currency, day, status); only those few rows reach Python.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from listing_sync.adapters.money import minor_units, require_currency, round_money
from listing_sync.syncer.fx import RateBook
from listing_sync.syncer.models import Channel, Order, OrderLine, Product, Sku, StockLevel, StockMovement
from listing_sync.syncer.tabular import escape_formula, write_csv
from listing_sync.syncer.types import SCALE, Amount
from sqlalchemy import BigInteger, Numeric, case, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session

KEPT = ("paid", "shipped", "delivered")
CANCELLED = ("cancelled",)
REFUNDED = ("refunded", "returned")
COUNTED = KEPT + CANCELLED + REFUNDED
CLASS = {
    "net": "net",
    **dict.fromkeys(KEPT, "net"),
    **dict.fromkeys(CANCELLED, "cancelled"),
    **dict.fromkeys(REFUNDED, "refunded"),
}
GROUPINGS = ("channel", "sku", "category", "month", "country")
ORDER_LEVEL = ("channel", "month", "country")
NONE_KEY = "(none)"
ZERO = Decimal(0)


class ReportError(ValueError):
    """Bad report parameters (the CLI shows the message)."""


# ------------------------------------------------------------------------------------------ helpers
def window(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, end + 1 day 00:00 UTC): both days inclusive."""
    if end < start:
        raise ReportError(f"--to {end} is before --from {start}")
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def _day(session: Session, column):
    """The UTC day of a timestamp (SQLite keeps naive UTC text, so its first 10 characters)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.substr(column, literal_column("1"), literal_column("10"))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _amount(expr):
    return type_coerce(func.sum(expr), Amount())


def last_month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    end = first - timedelta(days=1)
    return end.replace(day=1), end


# -------------------------------------------------------------------------------------------- sales
@dataclass(slots=True)
class Bucket:
    """One (group key, order currency): counts, amounts in the order currency and exact report amounts."""

    orders: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by class
    units: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    amount: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    converted: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    shipping: Decimal | None = None
    shipping_converted: Decimal | None = None

    def add(self, klass: str, orders: int, units: int, amount: Decimal, rate: Decimal) -> None:
        self.orders[klass] += orders
        self.units[klass] += units
        self.amount[klass] += amount
        self.converted[klass] += amount * rate

    def add_shipping(self, amount: Decimal, rate: Decimal) -> None:
        self.shipping = (self.shipping or ZERO) + amount
        self.shipping_converted = (self.shipping_converted or ZERO) + amount * rate

    def merge(self, other: Bucket) -> None:
        for klass in ("net", "cancelled", "refunded"):
            self.orders[klass] += other.orders[klass]
            self.units[klass] += other.units[klass]
            self.amount[klass] += other.amount[klass]
            self.converted[klass] += other.converted[klass]
        if other.shipping_converted is not None:
            self.shipping = None  # mixed currencies: only the converted sum is meaningful
            self.shipping_converted = (self.shipping_converted or ZERO) + other.shipping_converted


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
        f"gross_{r}",
        f"cancelled_{r}",
        f"refunded_{r}",
        f"net_{r}",
        f"shipping_{r}",
        f"aov_{r}",
    ]


ORDER_CURRENCY_AMOUNTS = ("gross", "cancelled", "refunded", "net", "shipping")


def _row(key_name: str, key: str, currency: str, bucket: Bucket, r: str, order_level: bool) -> dict[str, Any]:
    o, u, a, c = bucket.orders, bucket.units, bucket.amount, bucket.converted
    gross_orders = o["net"] + o["cancelled"] + o["refunded"]
    mixed = currency == "ALL"
    net_r = round_money(c["net"], r)
    row: dict[str, Any] = {
        key_name: key,
        "currency": currency,
        "orders": gross_orders,
        "cancelled_orders": o["cancelled"],
        "refunded_orders": o["refunded"],
        "net_orders": o["net"],
        "units": u["net"] + u["cancelled"] + u["refunded"],
        "net_units": u["net"],
        "gross": None if mixed else a["net"] + a["cancelled"] + a["refunded"],
        "cancelled": None if mixed else a["cancelled"],
        "refunded": None if mixed else a["refunded"],
        "net": None if mixed else a["net"],
        "shipping": None if mixed or not order_level else (bucket.shipping or ZERO),
        f"gross_{r}": round_money(c["net"] + c["cancelled"] + c["refunded"], r),
        f"cancelled_{r}": round_money(c["cancelled"], r),
        f"refunded_{r}": round_money(c["refunded"], r),
        f"net_{r}": net_r,
        f"shipping_{r}": round_money(bucket.shipping_converted or ZERO, r) if order_level else None,
        f"aov_{r}": round_money(c["net"] / o["net"], r) if o["net"] else None,
    }
    return row


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

    def columns(self, key: str) -> list[str]:
        return sales_columns(key, self.currency)


def _raw(
    session: Session, grouping: str, start: datetime, end: datetime
) -> list[tuple[Any, str, date, str, int, int, Decimal, Decimal | None]]:
    """(key, currency, day, status, orders, units, revenue, shipping) aggregated in SQL.

    Groupings of whole orders (channel, country, month, total) all come from ONE query: lines summed per
    order (only the window's orders), then orders grouped by (channel, country, currency, day, status).
    SKU and category group the lines themselves (orders = distinct orders holding that key)."""
    day = _day(session, Order.placed_at).label("day")
    where = (Order.placed_at >= start, Order.placed_at < end, Order.status.in_(COUNTED))
    if grouping in ("sku", "category"):
        # one row per key, currency, day and status CLASS (not status): these groupings have many keys
        key_col = OrderLine.sku if grouping == "sku" else Product.category
        sqlite = session.get_bind().dialect.name == "sqlite"
        klass = case(
            (Order.status.in_(CANCELLED), literal_column("'cancelled'")),
            (Order.status.in_(REFUNDED), literal_column("'refunded'")),
            else_=literal_column("'net'"),
        )
        query = (
            select(
                key_col,
                Order.currency,
                day,
                klass,
                func.count(func.distinct(Order.id)),
                func.sum(OrderLine.quantity),
                type_coerce(  # raw (no per-row result processing): converted below, fast
                    func.sum(OrderLine.quantity * OrderLine.unit_price),
                    BigInteger() if sqlite else Numeric(asdecimal=True),
                ),
            )
            .select_from(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
        )
        if grouping == "category":
            query = query.outerjoin(Sku, Sku.id == OrderLine.sku_id).outerjoin(Product, Product.id == Sku.product_id)
        rows = session.execute(query.where(*where).group_by(key_col, Order.currency, day, klass)).all()
        dates = _DateCache()
        return [
            (k, cur, dates(d), st, n, int(u or 0), _scaled(rev) if sqlite else Decimal(rev or 0), None)
            for k, cur, d, st, n, u, rev in rows
        ]
    per_order = (
        select(
            OrderLine.order_id.label("order_id"),
            func.sum(OrderLine.quantity).label("units"),
            func.sum(OrderLine.quantity * OrderLine.unit_price).label("revenue"),
        )
        .where(OrderLine.order_id.in_(select(Order.id).where(*where)))
        .group_by(OrderLine.order_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Order.channel_id,
            Order.ship_country,
            Order.currency,
            day,
            Order.status,
            func.count(),
            func.sum(per_order.c.units),
            type_coerce(func.sum(per_order.c.revenue), Amount()),
            _amount(Order.shipping),
        )
        .select_from(Order)
        .outerjoin(per_order, per_order.c.order_id == Order.id)
        .where(*where)
        .group_by(Order.channel_id, Order.ship_country, Order.currency, day, Order.status)
    ).all()
    dates = _DateCache()
    return [
        ((channel, country), cur, dates(d), st, n, int(u or 0), rev or ZERO, ship or ZERO)
        for channel, country, cur, d, st, n, u, rev, ship in rows
    ]


def _scaled(value: int | None) -> Decimal:
    """A raw SQLite sum of Amount values (integers scaled by 10^6) as an exact Decimal."""
    return Decimal(value or 0).scaleb(-SCALE)


class _DateCache(dict):
    def __call__(self, value: Any) -> date:
        found = self.get(value)
        if found is None:
            found = self[value] = _as_date(value)
        return found


def sales_report(
    session: Session,
    start: date,
    end: date,
    by: Sequence[str] = ("channel",),
    currency: str = "CNY",
    chart: bool = False,
) -> SalesReport:
    """Build the sales report. Raises ``MissingRates`` (naming every missing currency and day) before
    anything is produced when a rate into ``currency`` is missing."""
    currency = require_currency(currency.upper())
    unknown = [g for g in by if g not in GROUPINGS]
    if unknown:
        raise ReportError(f"--by must be one of {', '.join(GROUPINGS)}, not {', '.join(map(repr, unknown))}")
    lo, hi = window(start, end)
    cube = _raw(session, "orders", lo, hi)  # key = (channel id, ship country)
    rates = RateBook(session, currency).resolve((cur, d) for _, cur, d, *_ in cube)
    names = {cid: name for cid, name in session.execute(select(Channel.id, Channel.name))}
    sales = _Sales(currency, rates, names)
    result: dict[str, list[dict[str, Any]]] = {}
    for grouping in dict.fromkeys(by):
        raw = cube if grouping in ORDER_LEVEL else _raw(session, grouping, lo, hi)
        result[grouping] = sales.rows(grouping, sales.buckets(grouping, raw))
    totals = sales.totals(cube)
    months, channels, grid = sales.chart(cube, start, end) if chart else ([], [], {})
    return SalesReport(start, end, currency, result, totals, months, channels, grid)


RawRow = tuple[Any, str, date, str, int, int, Decimal, Decimal | None]  # see _raw


class _Sales:
    """Aggregated rows grouped into buckets per (key, order currency), turned into report rows."""

    def __init__(self, currency: str, rates: dict[tuple[str, date], Decimal], names: dict[int, str]) -> None:
        self.currency, self.rates, self.names = currency, rates, names
        self.month_of: dict[date, str] = {}

    def key_of(self, grouping: str, key: Any, day: date) -> str:
        if grouping == "total":
            return "TOTAL"
        if grouping == "month":
            month = self.month_of.get(day)
            if month is None:
                month = self.month_of[day] = day.strftime("%Y-%m")
            return month
        if grouping == "channel":
            return self.names.get(key[0], str(key[0]))
        if grouping == "country":
            key = key[1]
        return NONE_KEY if key in (None, "") else str(key)

    def buckets(self, grouping: str, raw: Iterable[RawRow]) -> dict[tuple[str, str], Bucket]:
        out: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
        for key, cur, day, status, orders, units, revenue, shipping in raw:
            bucket = out[(self.key_of(grouping, key, day), cur)]
            rate = self.rates[(cur, day)]
            bucket.add(CLASS[status], orders, units, revenue, rate)
            if shipping is not None and CLASS[status] == "net":
                bucket.add_shipping(shipping, rate)
            elif shipping is not None and bucket.shipping is None:
                bucket.add_shipping(ZERO, rate)
        return out

    def rows(self, grouping: str, found: dict[tuple[str, str], Bucket]) -> list[dict[str, Any]]:
        """One row per key and currency, and an ``ALL`` row for a key sold in several currencies."""
        order_level = grouping in ORDER_LEVEL or grouping == "total"
        per_key: dict[str, list[str]] = defaultdict(list)
        for key, cur in sorted(found):
            per_key[key].append(cur)
        out = []
        for key, currencies in per_key.items():
            for cur in currencies:
                out.append(_row(grouping, key, cur, found[(key, cur)], self.currency, order_level))
            if len(currencies) > 1:
                combined = Bucket()
                for cur in currencies:
                    combined.merge(found[(key, cur)])
                out.append(_row(grouping, key, "ALL", combined, self.currency, order_level))
        return out

    def totals(self, cube: list[RawRow]) -> list[dict[str, Any]]:
        found = self.buckets("total", cube)
        totals = self.rows("total", found)
        if len({cur for _, cur in found}) == 1:  # one currency: still give the report-currency total line
            totals.append(_row("total", "TOTAL", "ALL", next(iter(found.values())), self.currency, True))
        elif not found:
            totals.append(_row("total", "TOTAL", "ALL", Bucket(), self.currency, True))
        return totals

    def chart(
        self, cube: list[RawRow], start: date, end: date
    ) -> tuple[list[str], list[str], dict[tuple[str, str], Decimal]]:
        """(months, channels, net revenue by (month, channel)) for the chart, every month of the window."""
        exact: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for key, cur, day, status, _orders, _units, revenue, _shipping in cube:
            if CLASS[status] == "net":
                exact[(self.key_of("month", key, day), self.key_of("channel", key, day))] += (
                    revenue * self.rates[(cur, day)]
                )
        months = []
        month = start.replace(day=1)
        while month <= end:
            months.append(month.strftime("%Y-%m"))
            month = (month + timedelta(days=32)).replace(day=1)
        channels = sorted({c for _, c in exact} | set(self.names.values()))
        return months, channels, {k: round_money(v, self.currency) for k, v in exact.items()}


# ------------------------------------------------------------------------------------ inventory
def _q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


INVENTORY_COLUMNS = [
    "sku",
    "title",
    "category",
    "on_hand",
    "reserved",
    "available",
    "sold",
    "velocity_per_day",
    "sell_through",
    "turnover",
    "days_of_cover",
]


@dataclass
class InventoryReport:
    start: date
    end: date
    days: int
    rows: list[dict[str, Any]]
    skus: int
    skus_sold: int

    @property
    def sku_sell_through(self) -> Decimal | None:
        return _q(Decimal(self.skus_sold) / self.skus, "0.0001") if self.skus else None


def inventory_report(session: Session, start: date, end: date) -> InventoryReport:
    """Per SKU: on hand, reserved, available (now); units sold in the window; sell-through, turnover and
    days of cover (see README for the formulas). Aggregated in SQL per SKU."""
    lo, hi = window(start, end)
    days = (end - start).days + 1
    levels = {
        sku_id: (int(on or 0), int(res or 0))
        for sku_id, on, res in session.execute(
            select(StockLevel.sku_id, func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved)).group_by(
                StockLevel.sku_id
            )
        )
    }
    sold = dict(
        session.execute(
            select(OrderLine.sku_id, func.sum(OrderLine.quantity))
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                Order.placed_at >= lo,
                Order.placed_at < hi,
                Order.status.in_(KEPT),
                OrderLine.sku_id.is_not(None),
            )
            .group_by(OrderLine.sku_id)
        ).all()
    )

    def moved_since(moment: datetime) -> dict[int, int]:
        return dict(
            session.execute(
                select(StockMovement.sku_id, func.sum(StockMovement.on_hand_delta))
                .where(StockMovement.created_at >= moment)
                .group_by(StockMovement.sku_id)
            ).all()
        )

    after_start, after_end = moved_since(lo), moved_since(hi)
    skus = session.execute(
        select(Sku.id, Sku.sku, Sku.active, Product.title, Product.category)
        .join(Product, Product.id == Sku.product_id)
        .order_by(Sku.sku)
    ).all()
    rows = []
    counted = sold_count = 0
    for sku_id, sku, active, title, category in skus:
        on_hand, reserved = levels.get(sku_id, (0, 0))
        units = int(sold.get(sku_id) or 0)
        if not active and not on_hand and not units:
            continue
        available = max(on_hand - reserved, 0)
        end_on_hand = on_hand - int(after_end.get(sku_id) or 0)
        start_on_hand = on_hand - int(after_start.get(sku_id) or 0)
        average = Decimal(start_on_hand + end_on_hand) / 2
        velocity = Decimal(units) / days
        counted += 1
        sold_count += units > 0
        rows.append(
            {
                "sku": sku,
                "title": title,
                "category": category,
                "on_hand": on_hand,
                "reserved": reserved,
                "available": available,
                "sold": units,
                "velocity_per_day": _q(velocity, "0.001"),
                "sell_through": _q(Decimal(units) / (units + end_on_hand), "0.0001")
                if units + end_on_hand > 0
                else None,
                "turnover": _q(units / average, "0.01") if average > 0 else None,
                "days_of_cover": _q(available / velocity, "0.1") if velocity else None,
                "_velocity": velocity,
            }
        )
    return InventoryReport(start, end, days, rows, counted, sold_count)


REORDER_COLUMNS = [
    "sku",
    "title",
    "available",
    "sold",
    "velocity_per_day",
    "days_of_cover",
    "reorder_point",
    "suggested_quantity",
]


def reorder_report(
    session: Session, start: date, end: date, lead_time: int, safety_days: int, cover_days: int = 30
) -> list[dict[str, Any]]:
    """SKUs that sold in the window and whose days of cover fall below lead time + safety days.

    velocity = units sold / days in the window; reorder point = ceil(velocity x (lead + safety));
    suggested quantity = ceil(velocity x (lead + safety + cover_days)) - available (at least 0)."""
    if lead_time < 0 or safety_days < 0 or cover_days < 0:
        raise ReportError("--lead-time, --safety-days and --cover-days must not be negative")
    threshold = lead_time + safety_days
    out = []
    for row in inventory_report(session, start, end).rows:
        velocity: Decimal = row["_velocity"]
        if not velocity or row["available"] / velocity >= threshold:
            continue
        target = math.ceil(velocity * (threshold + cover_days))
        out.append(
            {
                **{c: row[c] for c in ("sku", "title", "available", "sold", "velocity_per_day", "days_of_cover")},
                "reorder_point": math.ceil(velocity * threshold),
                "suggested_quantity": max(target - row["available"], 0),
            }
        )
    out.sort(key=lambda r: (r["days_of_cover"], r["sku"]))
    return out


# -------------------------------------------------------------------------------------- writing
def money_format(currency: str) -> str:
    places = minor_units(currency)
    return ("#,##0" + ("." + "0" * places if places else "")) + f' "{currency}"'


@dataclass
class Sheet:
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    #: column -> number format, or a function of the row giving it (per-row currency formats)
    formats: dict[str, Any] = field(default_factory=dict)


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal as a number
    return escape_formula(value)


def write_xlsx(path: Path, sheets: Sequence[Sheet], chart: SalesReport | None = None) -> None:
    """Sheets with bold frozen headers, numbers as numbers with formats, text cells escaped; with a
    report, a last sheet holding a native bar chart of net revenue by channel by month."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec in sheets:
        _write_sheet(workbook, spec)
    if chart is not None:
        _write_chart(workbook, chart)
    workbook.save(path)


def _write_sheet(workbook: Any, spec: Sheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(spec.title[:31])
    sheet.append([escape_formula(c) for c in spec.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in spec.rows:
        sheet.append([_cell(row.get(c)) for c in spec.columns])
        for index, column in enumerate(spec.columns, start=1):
            fmt = spec.formats.get(column)
            if callable(fmt):
                fmt = fmt(row)
            if fmt and row.get(column) is not None:
                sheet.cell(row=sheet.max_row, column=index).number_format = fmt
    for index, column in enumerate(spec.columns, start=1):
        width = max([len(str(column))] + [len(str(r.get(column) or "")) for r in spec.rows[:200]])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 50)


def _write_chart(workbook: Any, chart: SalesReport) -> None:
    """The net revenue by month (rows) and channel (columns), and a column chart of it."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    sheet = workbook.create_sheet("revenue chart")
    header = ["month"] + [escape_formula(c) for c in chart.channels]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    fmt = money_format(chart.currency)
    for month in chart.months:
        sheet.append([month] + [chart.chart.get((month, c), ZERO) for c in chart.channels])
        for col in range(2, len(header) + 1):
            sheet.cell(row=sheet.max_row, column=col).number_format = fmt
    bar = BarChart()
    bar.type = "col"
    bar.title = f"Net revenue ({chart.currency}) by channel by month"
    bar.y_axis.title = chart.currency
    bar.x_axis.title = "month"
    if chart.channels and chart.months:
        data = Reference(sheet, min_col=2, max_col=len(header), min_row=1, max_row=len(chart.months) + 1)
        bar.add_data(data, titles_from_data=True)
        bar.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(chart.months) + 1))
    bar.width, bar.height = 24, 12
    sheet.add_chart(bar, f"A{len(chart.months) + 4}")


def sales_sheets(report: SalesReport) -> list[Sheet]:
    r = report.currency
    report_fmt = money_format(r)

    def per_row(row: dict[str, Any]) -> str | None:
        cur = row.get("currency")
        return money_format(cur) if cur and cur != "ALL" else None

    def formats() -> dict[str, Any]:
        fmt: dict[str, Any] = dict.fromkeys(ORDER_CURRENCY_AMOUNTS, per_row)
        fmt.update({f"{a}_{r}": report_fmt for a in (*ORDER_CURRENCY_AMOUNTS, "aov")})
        fmt.update(
            dict.fromkeys(("orders", "cancelled_orders", "refunded_orders", "net_orders", "units", "net_units"), "0")
        )
        return fmt

    sheets = [Sheet("total", report.columns("total"), report.totals, formats())]
    for grouping, rows in report.groupings.items():
        sheets.append(Sheet(f"by {grouping}", report.columns(grouping), rows, formats()))
    return sheets


def write_sales(report: SalesReport, path: Path | None, fmt: str, bom: bool = False) -> str | None:
    """CSV (to ``path`` or returned) or XLSX (to ``path``)."""
    if fmt == "xlsx":
        assert path is not None
        write_xlsx(path, sales_sheets(report), chart=report)
        return None
    columns = ["grouping", "key", *report.columns("key")[1:]]
    out: list[list[Any]] = []
    for grouping, rows in [("total", report.totals), *report.groupings.items()]:
        for row in rows:
            out.append([grouping, row[grouping], *(row[c] for c in columns[2:])])
    return write_csv(path, columns, ([escape_formula(v) for v in row] for row in out), bom=bom)


def write_rows(path: Path | None, columns: list[str], rows: Iterable[dict[str, Any]], bom: bool = False) -> str:
    return write_csv(path, columns, ([escape_formula(r.get(c)) for c in columns] for r in rows), bom=bom)


def inventory_formats() -> dict[str, str]:
    return {
        "sell_through": "0.00%",
        "turnover": "0.00",
        "days_of_cover": "0.0",
        "velocity_per_day": "0.000",
        "on_hand": "0",
        "reserved": "0",
        "available": "0",
        "sold": "0",
        "reorder_point": "0",
        "suggested_quantity": "0",
    }


# -------------------------------------------------------------------------------------- schedule
def write_monthly_report(session: Session, folder: Path, currency: str, today: date | None = None) -> Path:
    """Write last month's sales report (by channel, country, category and SKU, with the chart) as
    ``sales-YYYY-MM.xlsx`` in ``folder``. Raises ``MissingRates`` when a rate is missing."""
    today = today or datetime.now(UTC).date()
    start, end = last_month(today)
    report = sales_report(session, start, end, ("channel", "country", "category", "sku"), currency, chart=True)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sales-{start.strftime('%Y-%m')}.xlsx"
    partial = path.with_suffix(".xlsx.part")
    write_xlsx(partial, sales_sheets(report), chart=report)
    partial.replace(path)
    return path
