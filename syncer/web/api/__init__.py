"""The JSON API (``/api``): one thin route per service function, grouped by area, each with a Pydantic
response model so ``/api/openapi.json`` says exactly what comes back."""

from __future__ import annotations

from fastapi import APIRouter
from listing_sync.syncer.web.api import me

router = APIRouter()
for module in (me,):
    router.include_router(module.router)
