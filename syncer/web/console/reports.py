"""The reports page: the sales report by channel over a period preset or dates, filtered by channel,
category and SKU, in a report currency; a revenue and margin chart (inline SVG) and CSV/XLSX downloads of
the same report (the service writes them, as for ``syncer report sales``)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from listing_sync.syncer.context import UserError
from listing_sync.syncer.periods import PERIODS
from listing_sync.syncer.sales import Filters
from listing_sync.syncer.services import catalog, reports
from listing_sync.syncer.services.common import FileFormat
from listing_sync.syncer.web.console.chart import Bar, revenue_chart
from listing_sync.syncer.web.console.render import message_page, page, translator
from listing_sync.syncer.web.deps import ContextDep, Viewer

router = APIRouter()

FIELDS = ("period", "from", "to", "channel", "category", "sku", "currency")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class ReportForm:
    """The report's parameters as sent; :meth:`arguments` checks them (every problem named)."""

    values: dict[str, str]

    @classmethod
    def of(cls, params: Any) -> ReportForm:
        values = {name: str(params.get(name) or "").strip() for name in FIELDS}
        if not values["period"] and not values["from"]:
            values["period"] = "this-month"
        return cls(values)

    @property
    def query(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})

    def arguments(self) -> dict[str, Any]:
        problems: list[str] = []
        first = _day(self.values["from"], "from", problems)
        last = _day(self.values["to"], "to", problems)
        if problems:
            raise UserError("; ".join(problems))
        v = self.values
        filters = Filters(
            channels=(v["channel"],) if v["channel"] else (),
            categories=(v["category"],) if v["category"] else (),
            skus=(v["sku"],) if v["sku"] else (),
        )
        period = None if first else (v["period"] or None)
        return {"first": first, "last": last, "period": period, "currency": v["currency"] or None, "filters": filters}


def _day(text: str, name: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name} {text!r}: give a date as YYYY-MM-DD")
        return None


def chart_bars(report: Any) -> list[Bar]:
    """One bar pair per channel: net revenue and gross profit in the report currency, and the margin."""
    r = report.currency
    return [
        Bar(
            str(row["channel"]),
            row[f"net_{r}"] or Decimal(0),
            row[f"gross_profit_{r}"] or Decimal(0),
            row["margin_pct"],
        )
        for row in report.groupings.get("channel", [])
    ]


@router.get("/reports")
def reports_page(request: Request, user: Viewer, context: ContextDep) -> Response:
    form = ReportForm.of(request.query_params)
    _ = translator(request)
    result, error, chart = None, None, None
    try:
        result = reports.sales_report(context, by=("channel",), **form.arguments())
    except UserError as exc:
        error = str(exc)
    if result is not None:
        title = _("Net revenue and gross profit by channel, %(currency)s", currency=result.report.currency)
        chart = revenue_chart(chart_bars(result.report), result.report.currency, title)
    values = {
        "form": form,
        "result": result,
        "chart": chart,
        "error": error,
        "periods": PERIODS,
        "channels": [c.name for c in context.channels],
        "categories": catalog.categories(context),
        "base": context.settings.base_currency,
    }
    return page(request, user, "reports.html", values, active="reports", status=400 if error else 200)


@router.get("/reports/sales.{fmt}")
def report_download(fmt: str, request: Request, user: Viewer, context: ContextDep) -> Response:
    """The same report as a CSV (UTF-8 with a BOM, for Excel) or XLSX file."""
    if fmt not in ("csv", "xlsx"):
        return message_page(request, user, f"format {fmt!r}: download csv or xlsx", status=404)
    form = ReportForm.of(request.query_params)
    lang = "zh-CN" if translator(request).language == "zh-CN" else "en"
    try:
        arguments = form.arguments()
        with tempfile.TemporaryDirectory(prefix="syncer-report-") as folder:
            out = Path(folder) / f"sales.{fmt}"
            result = reports.sales_report(
                context, by=("channel",), output=FileFormat(fmt), out=out, bom=True, lang=lang, **arguments
            )
            body = out.read_bytes()
    except UserError as exc:
        return message_page(request, user, str(exc), status=400)
    name = f"sales-{result.first.isoformat()}-{result.last.isoformat()}.{fmt}"
    media = XLSX_TYPE if fmt == "xlsx" else "text/csv; charset=utf-8"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
