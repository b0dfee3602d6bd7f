"""Packing documents: what the warehouse prints per order. The recipient (personal data) is read here and
only here, for the exports and slips the user asked for; it is never logged.

A packing slip is printable HTML, one page per order (CSS page breaks), with CJK and Latin text in the
fonts a browser or print-to-PDF has for them.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from listing_sync.adapters.base import Recipient
from listing_sync.syncer.models import Channel, Order, OrderLine, Product, Shipment, Sku, Warehouse
from sqlalchemy import select
from sqlalchemy.orm import Session

RECIPIENT_COLUMNS = ["recipient", "phone", "address", "postal_code", "carrier", "tracking", "shipped"]


@dataclass(slots=True)
class Slip:
    """One order as the packing documents show it."""

    channel: str
    order: str
    status: str
    placed_at: datetime
    country: str
    recipient: Recipient | None
    #: (sku, title, quantity, shipped here, warehouse code)
    lines: list[tuple[str, str, int, int, str]] = field(default_factory=list)
    #: (carrier, tracking) of the shipments recorded here
    shipments: list[tuple[str, str]] = field(default_factory=list)

    def address(self) -> str:
        r = self.recipient
        if r is None:
            return ""
        place = " ".join(p for p in (r.city, r.state) if p)
        return ", ".join(p for p in (r.address1, r.address2, place, r.country) if p)

    def recipient_cells(self, line_shipped: int) -> list[str | int]:
        r = self.recipient
        return [
            r.name if r else "",
            r.phone if r else "",
            self.address(),
            r.postal_code if r else "",
            " ".join(sorted({c for c, _ in self.shipments})),
            " ".join(t for _, t in self.shipments),
            line_shipped,
        ]


def slips(session: Session, *, statuses: Sequence[str], channels: Sequence[str] | None = None,
          orders: Sequence[str] | None = None) -> list[Slip]:  # fmt: skip
    """The orders in these statuses (or these order ids, any status), oldest first, with their lines,
    recipients and the shipments recorded here."""
    query = select(Order, Channel.name).join(Channel, Channel.id == Order.channel_id)
    query = query.order_by(Order.placed_at, Order.id)
    if orders:
        query = query.where(Order.external_id.in_(list(orders)))
    else:
        query = query.where(Order.status.in_(list(statuses)))
    if channels:
        query = query.where(Channel.name.in_(list(channels)))
    found = list(session.execute(query))
    ids = [order.id for order, _ in found]
    shipped: dict[int, int] = defaultdict(int)
    shipments: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in session.scalars(select(Shipment).where(Shipment.order_id.in_(ids)).order_by(Shipment.id)):
        shipments[row.order_id].append((row.carrier, row.tracking))
        for item in row.lines or []:
            shipped[int(item["line"])] += int(item["quantity"])
    lines: dict[int, list[tuple[str, str, int, int, str]]] = defaultdict(list)
    line_query = (
        select(OrderLine, Product.title, Warehouse.code)
        .outerjoin(Sku, Sku.id == OrderLine.sku_id)
        .outerjoin(Product, Product.id == Sku.product_id)
        .outerjoin(Warehouse, Warehouse.id == OrderLine.warehouse_id)
        .where(OrderLine.order_id.in_(ids))
        .order_by(OrderLine.order_id, OrderLine.line_id)
    )
    for line, title, code in session.execute(line_query):
        lines[line.order_id].append((line.sku, title or line.title or "", line.quantity, shipped[line.id], code or ""))
    return [
        Slip(
            name,
            order.external_id,
            order.status,
            order.placed_at,
            order.ship_country or "",
            _recipient(order.buyer),
            lines[order.id],
            shipments[order.id],
        )
        for order, name in found
    ]


def _recipient(buyer: dict | None) -> Recipient | None:
    """``orders.buyer`` (None once purged) as a :class:`Recipient`."""
    if not buyer:
        return None
    return Recipient(**{k: str(v) for k, v in buyer.items() if k in Recipient.__dataclass_fields__})


# -------------------------------------------------------------------------------------------- HTML
STYLE = """
@page { size: A4; margin: 14mm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB",
       "Microsoft YaHei", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif; font-size: 11pt; color: #000; }
.slip { break-after: page; page-break-after: always; }
.slip:last-child { break-after: auto; page-break-after: auto; }
h1 { font-size: 16pt; margin: 0 0 4mm; }
.meta, .to { margin-bottom: 5mm; }
.to { border: 1px solid #000; padding: 3mm; width: 60%; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
td.n { text-align: right; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def slip_html(slip: Slip) -> str:
    r = slip.recipient
    to = (
        "<br>".join(_e(x) for x in (r.name, *r.lines(), r.phone) if x)
        if r
        else "(no recipient stored, or purged after the retention: see the marketplace)"
    )
    rows = "".join(
        f"<tr><td>{_e(sku)}</td><td>{_e(title)}</td><td class='n'>{qty}</td><td class='n'>{shipped}</td>"
        f"<td>{_e(code)}</td></tr>"
        for sku, title, qty, shipped, code in slip.lines
    )
    tracking = "".join(f"<li>{_e(carrier)} {_e(number)}</li>" for carrier, number in slip.shipments)
    return (
        f"<section class='slip'><h1>Packing slip 装箱单 · {_e(slip.order)}</h1>"
        f"<div class='meta'>{_e(slip.channel)} · {_e(slip.placed_at.strftime('%Y-%m-%d %H:%M UTC'))} · "
        f"{_e(slip.status)}</div>"
        f"<div class='to'><strong>Ship to 收件人</strong><br>{to}</div>"
        "<table><thead><tr><th>SKU</th><th>Item 商品</th><th>Qty 数量</th><th>Shipped 已发</th>"
        f"<th>Warehouse 仓库</th></tr></thead><tbody>{rows}</tbody></table>"
        + (f"<p><strong>Tracking 运单</strong></p><ul>{tracking}</ul>" if tracking else "")
        + "</section>"
    )


def slips_html(found: Sequence[Slip]) -> str:
    """A printable document: one page per order."""
    body = "\n".join(slip_html(s) for s in found)
    return (
        "<!DOCTYPE html>\n<html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>Packing slips 装箱单</title><style>{STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )
