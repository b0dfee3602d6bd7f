"""Exchange rates: list, set one, import a file (CSV, XLSX or the ECB's XML)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from listing_sync.syncer.services import fx
from listing_sync.syncer.services.fx import Rate, RateSet, RatesImported
from listing_sync.syncer.web.api.common import CHANGE_ERRORS, READ_ERRORS, uploaded
from listing_sync.syncer.web.deps import ContextDep, Operator, Viewer
from pydantic import BaseModel, Field

router = APIRouter(tags=["fx"])

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]


@router.get("/fx", response_model=list[Rate], responses=READ_ERRORS)
def list_rates(
    context: ContextDep,
    user: Viewer,
    base: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
    quote: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
) -> list[Rate]:
    """The stored rates (1 BASE = RATE QUOTE from DAY), by pair and day."""
    return fx.list_rates(context, base=base, quote=quote)


class RateIn(BaseModel):
    base: CurrencyCode
    quote: CurrencyCode
    #: 1 BASE = RATE QUOTE, e.g. "0.1380"
    rate: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=10)]
    #: the day it applies from (default today, UTC)
    day: date | None = None


@router.put("/fx", response_model=RateSet, responses=CHANGE_ERRORS)
def set_rate(context: ContextDep, user: Operator, body: RateIn) -> RateSet:
    """Set a rate, used from its day until a newer one; the listings it reprices become dirty."""
    return fx.set_rate(context, body.base, body.quote, body.rate, body.day)


@router.post("/fx/import", response_model=RatesImported, responses=CHANGE_ERRORS)
def import_rates(
    context: ContextDep,
    user: Operator,
    file: Annotated[UploadFile, File(description="CSV or XLSX (date, base, quote, rate), or the ECB's XML.")],
) -> RatesImported:
    """Import rates from a file: validated whole (every bad row and column listed), nothing applied on error."""
    with uploaded(file, (".csv", ".xlsx", ".xml")) as path:
        return fx.import_rates(context, path)
