"""The web console: server-rendered pages (Jinja2 templates in ``../templates``, htmx for the grid's
filters and the bulk-change preview) over the same service functions as the CLI. ``router`` is included
by :func:`~listing_sync.syncer.web.app.create_app`."""

from __future__ import annotations

from fastapi import APIRouter
from listing_sync.syncer.web.console import changes, listings, orders, reports
from listing_sync.syncer.web.console.render import install_filters

install_filters()
router = APIRouter(include_in_schema=False)
for _module in (listings, changes, orders, reports):
    router.include_router(_module.router)
