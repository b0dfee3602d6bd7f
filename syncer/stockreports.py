"""Inventory and buying: stock value at cost, sell-through %, turnover, days of cover per SKU; per-warehouse
reorder points with each SKU's lead time and supplier and a safety stock from demand variability; the
purchase suggestions grouped by supplier.

Formulas (also in README), over a window of ``days`` days:

* ``velocity`` v = units sold (kept orders) / days; ``demand_sd`` s = the standard deviation of the daily
  units sold (days without sales count as 0).
* ``safety_stock`` = ceil(z x s x sqrt(L) + v x safety_days), z from the service level (95% -> 1.645),
  L = the SKU's ``lead_time_days`` (catalog) or the default lead time.
* ``reorder_point`` = ceil(v x L + z x s x sqrt(L) + v x safety_days); a SKU/warehouse is listed when its
  available stock is at or below it (and it sold).
* ``suggested_quantity`` = max(ceil(reorder point + v x cover_days) - available, 0);
  ``suggested_value`` = quantity x the SKU's cost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from statistics import NormalDist
from typing import Any

from listing_sync.adapters.money import round_money
from listing_sync.syncer.models import Order, OrderLine, Product, Sku, StockLevel, StockMovement, Warehouse
from listing_sync.syncer.periods import local_day, utc_window
from listing_sync.syncer.sales import KEPT, ReportError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

HUNDRED = Decimal(100)


def _q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


INVENTORY_COLUMNS = [
    "sku",
    "title",
    "category",
    "supplier",
    "on_hand",
    "reserved",
    "available",
    "sold",
    "velocity_per_day",
    "sell_through_pct",
    "turnover",
    "days_of_cover",
    "unit_cost",
    "cost_currency",
    "stock_value",
]


@dataclass
class InventoryReport:
    start: date
    end: date
    days: int
    rows: list[dict[str, Any]]
    skus: int
    skus_sold: int
    #: stock value at cost per cost currency (on hand x the SKU's cost now)
    stock_value: dict[str, Decimal]

    @property
    def sku_sell_through(self) -> Decimal | None:
        """The share of listed SKUs that sold at least one unit, in %."""
        return _q(Decimal(self.skus_sold) * HUNDRED / self.skus, "0.01") if self.skus else None


def inventory_report(session: Session, start: date, end: date, tz: str = "UTC") -> InventoryReport:
    """Per SKU: on hand, reserved, available (now); units sold in the window; sell-through %, turnover,
    days of cover and stock value at cost (see README for the formulas). Aggregated in SQL per SKU."""
    lo, hi = utc_window(start, end, tz)
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
            .where(Order.placed_at >= lo, Order.placed_at < hi, Order.status.in_(KEPT), OrderLine.sku_id.is_not(None))
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
        select(Sku.id, Sku.sku, Sku.active, Product.title, Product.category, Sku.supplier, Sku.cost, Sku.currency)
        .join(Product, Product.id == Sku.product_id)
        .order_by(Sku.sku)
    ).all()
    rows = []
    counted = sold_count = 0
    value: dict[str, Decimal] = defaultdict(Decimal)
    for sku_id, sku, active, title, category, supplier, cost, currency in skus:
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
        stock_value = round_money(on_hand * cost, currency) if cost is not None else None
        if stock_value is not None:
            value[currency] += stock_value
        rows.append(
            {
                "sku": sku,
                "title": title,
                "category": category,
                "supplier": supplier,
                "on_hand": on_hand,
                "reserved": reserved,
                "available": available,
                "sold": units,
                "velocity_per_day": _q(velocity, "0.001"),
                "sell_through_pct": _q(Decimal(units) * HUNDRED / (units + end_on_hand), "0.01")
                if units + end_on_hand > 0
                else None,
                "turnover": _q(units / average, "0.01") if average > 0 else None,
                "days_of_cover": _q(available / velocity, "0.1") if velocity else None,
                "unit_cost": cost,
                "cost_currency": currency,
                "stock_value": stock_value,
                "_velocity": velocity,
            }
        )
    return InventoryReport(start, end, days, rows, counted, sold_count, dict(sorted(value.items())))


REORDER_COLUMNS = [
    "sku",
    "title",
    "warehouse",
    "supplier",
    "lead_time_days",
    "available",
    "sold",
    "velocity_per_day",
    "demand_sd",
    "days_of_cover",
    "safety_stock",
    "reorder_point",
    "suggested_quantity",
    "unit_cost",
    "cost_currency",
    "suggested_value",
]


def z_score(service_level: Decimal) -> Decimal:
    """The standard normal quantile of a service level in % (95 -> 1.6449), 4 places."""
    if not Decimal(50) <= service_level < HUNDRED:
        raise ReportError(f"--service-level must be at least 50 and below 100 (%), not {service_level}")
    return Decimal(str(round(NormalDist().inv_cdf(float(service_level / HUNDRED)), 4)))


def _daily_demand(session: Session, lo: datetime, hi: datetime, tz: str) -> dict[tuple[int, int], list[int]]:
    """(SKU id, warehouse id) -> units sold per local day (only days with sales), kept orders."""
    day = local_day(session, Order.placed_at, tz, lo, hi)
    rows = session.execute(
        select(OrderLine.sku_id, OrderLine.warehouse_id, day, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.placed_at >= lo,
            Order.placed_at < hi,
            Order.status.in_(KEPT),
            OrderLine.sku_id.is_not(None),
            OrderLine.warehouse_id.is_not(None),
        )
        .group_by(OrderLine.sku_id, OrderLine.warehouse_id, day)
    )
    out: dict[tuple[int, int], list[int]] = defaultdict(list)
    for sku_id, warehouse_id, _day, units in rows:
        out[(sku_id, warehouse_id)].append(int(units or 0))
    return out


def _spread(per_day: list[int], days: int) -> tuple[Decimal, Decimal]:
    """(mean, population standard deviation) of daily demand over ``days`` days (missing days are 0)."""
    total = Decimal(sum(per_day))
    mean = total / days
    squares = sum((Decimal(u) - mean) ** 2 for u in per_day) + (days - len(per_day)) * mean**2
    return mean, (squares / days).sqrt()


@dataclass(frozen=True, slots=True)
class ReorderPolicy:
    """Defaults for SKUs without a lead time, the service level (safety stock), extra safety days, and
    the days of sales an order should cover once it arrives."""

    lead_time: int = 14
    service_level: Decimal = Decimal(95)
    safety_days: int = 0
    cover_days: int = 30

    def check(self) -> None:
        if self.lead_time < 0 or self.safety_days < 0 or self.cover_days < 0:
            raise ReportError("--lead-time, --safety-days and --cover-days must not be negative")


def reorder_report(
    session: Session, start: date, end: date, policy: ReorderPolicy | None = None, tz: str = "UTC"
) -> list[dict[str, Any]]:
    """Per SKU and warehouse that sold in the window: the reorder point from the SKU's lead time and the
    variability of its daily demand; the ones at or below it, least cover first, with a suggested quantity."""
    policy = policy or ReorderPolicy()
    policy.check()
    z = z_score(policy.service_level)
    lo, hi = utc_window(start, end, tz)
    days = (end - start).days + 1
    demand = _daily_demand(session, lo, hi, tz)
    if not demand:
        return []
    levels = {
        (s, w): max(on - res, 0)
        for s, w, on, res in session.execute(
            select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
        )
    }
    warehouses = dict(session.execute(select(Warehouse.id, Warehouse.code)).all())
    skus = {
        row[0]: row[1:]
        for row in session.execute(
            select(Sku.id, Sku.sku, Product.title, Sku.supplier, Sku.lead_time_days, Sku.cost, Sku.currency).join(
                Product, Product.id == Sku.product_id
            )
        )
    }
    out = []
    for (sku_id, warehouse_id), per_day in demand.items():
        sku, title, supplier, lead, cost, currency = skus[sku_id]
        lead_time = policy.lead_time if lead is None else lead
        mean, sd = _spread(per_day, days)
        available = levels.get((sku_id, warehouse_id), 0)
        safety = z * sd * Decimal(lead_time).sqrt() + mean * policy.safety_days
        point = mean * lead_time + safety
        if not mean or available > point:
            continue
        reorder_point = _ceil(point)
        quantity = max(_ceil(reorder_point + mean * policy.cover_days) - available, 0)
        out.append(
            {
                "sku": sku,
                "title": title,
                "warehouse": warehouses.get(warehouse_id, str(warehouse_id)),
                "supplier": supplier,
                "lead_time_days": lead_time,
                "available": available,
                "sold": sum(per_day),
                "velocity_per_day": _q(mean, "0.001"),
                "demand_sd": _q(sd, "0.001"),
                "days_of_cover": _q(available / mean, "0.1"),
                "safety_stock": _ceil(safety),
                "reorder_point": reorder_point,
                "suggested_quantity": quantity,
                "unit_cost": cost,
                "cost_currency": currency,
                "suggested_value": round_money(quantity * cost, currency) if cost is not None else None,
            }
        )
    out.sort(key=lambda r: (r["days_of_cover"], r["sku"], r["warehouse"]))
    return out


def purchase_suggestions(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The reorder rows with something to order, grouped by supplier (``(no supplier)`` for SKUs without
    one), suppliers and SKUs in order."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["supplier"] or "", r["sku"], r["warehouse"])):
        if row["suggested_quantity"] > 0:
            out[row["supplier"] or "(no supplier)"].append(row)
    return dict(out)


def supplier_totals(rows: list[dict[str, Any]]) -> dict[str, Decimal]:
    """The suggested value of a supplier's rows per cost currency."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["suggested_value"] is not None:
            totals[row["cost_currency"]] += row["suggested_value"]
    return dict(sorted(totals.items()))
