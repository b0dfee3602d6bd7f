"""The reports page's revenue and margin chart: inline SVG drawn here (no chart library, no script).
Per group a bar of net sales and one of gross profit, in the report currency, and the margin above."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 760, 300
TOP, BOTTOM, LEFT, RIGHT = 28, 46, 70, 12
SALES_COLOUR, PROFIT_COLOUR = "#1f5fbf", "#2e9d5b"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    sales: Decimal
    profit: Decimal
    margin_pct: Decimal | None


def _nice_top(value: Decimal) -> Decimal:
    """The axis maximum: 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (1, 2, 5, 10):
        top = Decimal(step).scaleb(exponent)
        if top >= value:
            return top
    return Decimal(10).scaleb(exponent)


def _short(value: Decimal) -> str:
    """An axis label: 12k, 1.5M, 800."""
    for size, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if abs(value) >= size:
            return f"{(value / size).normalize():f}{suffix}"
    return f"{value.normalize():f}"


def revenue_chart(bars: list[Bar], currency: str, title: str) -> Markup:
    """The SVG (accessible: a title, and each bar's value in its tooltip)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_top(max([b.sales for b in bars] + [b.profit for b in bars] + [Decimal(0)]))
    floor = min([b.profit for b in bars] + [Decimal(0)])
    span = top - floor if top > floor else Decimal(1)

    def y(value: Decimal) -> float:
        return TOP + float((top - value) / span) * plot_h

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        value = floor + span * Decimal(i) / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e3e7ee"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end" fill="#5d6778">'
            f"{escape(_short(value))}</text>"
        )
    parts.append(
        f'<text x="{LEFT}" y="{TOP - 12}" font-size="11" fill="#5d6778">{escape(currency)}</text>'
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(Decimal(0)):.1f}" y2="{y(Decimal(0)):.1f}" stroke="#8a94a6"/>'
    )
    slot = plot_w / max(1, len(bars))
    bar_w = min(36.0, slot / 3)
    for i, bar in enumerate(bars):
        x = LEFT + slot * i + slot / 2
        for offset, value, colour, name in (
            (-bar_w, bar.sales, SALES_COLOUR, "sales"),
            (0.0, bar.profit, PROFIT_COLOUR, "profit"),
        ):
            y0, y1 = sorted((y(Decimal(0)), y(value)))
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{y0:.1f}" width="{bar_w:.1f}" height="{max(0.5, y1 - y0):.1f}" '
                f'fill="{colour}"><title>{escape(bar.label)} {name}: {value:,} {escape(currency)}</title></rect>'
            )
        margin = "" if bar.margin_pct is None else f"{bar.margin_pct}%"
        parts.append(
            f'<text x="{x:.1f}" y="{y(max(bar.sales, bar.profit, Decimal(0))) - 5:.1f}" font-size="11" '
            f'text-anchor="middle" fill="#1d2430">{escape(margin)}</text>'
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="12" text-anchor="middle" fill="#1d2430">'
            f"{escape(bar.label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
