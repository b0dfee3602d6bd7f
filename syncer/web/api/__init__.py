"""The JSON API (``/api``): one thin route per service function, grouped by area, each with a Pydantic
response model so ``/api/openapi.json`` says exactly what comes back."""

from __future__ import annotations

from fastapi import APIRouter
from listing_sync.syncer.web.api import catalog, changes, fx, mappings, me, orders, reports, sync

router = APIRouter()
for module in (me, catalog, changes, sync, orders, reports, fx, mappings):
    router.include_router(module.router)
