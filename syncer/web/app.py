"""The web application: :func:`create_app` wires the session cookie, the login, the JSON API under
``/api`` (schema at ``/api/openapi.json``, docs at ``/api/docs``), the console's pages and the order
webhooks (each when its module is there), the static files, and how errors are answered.

Errors: a service's typed error is a 4xx JSON ``{"detail": message, "error": type}`` (never a 500 for bad
input); an anonymous request is a 401 under ``/api`` and a redirect to the login page elsewhere.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from listing_sync.syncer.context import Context
from listing_sync.syncer.services.scheduler import SyncScheduler
from listing_sync.syncer.web import auth
from listing_sync.syncer.web.deps import STATIC, NotLoggedIn

log = logging.getLogger(__name__)

#: the optional routers of the other parts of the web face, included when their module defines ``router``
OPTIONAL_ROUTERS = (("listing_sync.syncer.web.console", False), ("listing_sync.syncer.web.webhooks", True))


def create_app(context: Context | None = None, *, scheduler: SyncScheduler | None = None) -> FastAPI:
    """The application over ``context`` (default: one from the settings), queueing syncs and order pulls
    on ``scheduler`` (default: the huey queue the workers consume)."""
    from listing_sync.syncer.web import api

    context = context or Context()
    if scheduler is None:
        from listing_sync.jobs.scheduler import HueyScheduler

        scheduler = HueyScheduler()
    app = FastAPI(
        title="listing-sync",
        version="1",
        summary="Catalog, listings, bulk changes, sync, orders, reports and FX of listing-sync.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.context = context
    app.state.scheduler = scheduler
    auth.install(app, context)
    app.include_router(auth.router)
    app.include_router(api.router, prefix="/api")
    for name, in_schema in OPTIONAL_ROUTERS:
        if importlib.util.find_spec(name) is not None:
            router = getattr(importlib.import_module(name), "router", None)
            if router is not None:
                app.include_router(router, include_in_schema=in_schema)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    _error_handlers(app)
    return app


def status_of(exc: Exception) -> int:
    """The HTTP status of a typed error of the services, the change engine, the adapters or an input file."""
    from listing_sync.adapters.base import ChannelError
    from listing_sync.syncer.changes.model import GuardRefused, StaleChange
    from listing_sync.syncer.context import DatabaseUnavailable
    from listing_sync.syncer.leases import LeaseBusy
    from listing_sync.syncer.services.changes import NotConfirmed, PreviewMismatch
    from listing_sync.syncer.services.common import Conflict, NotFound
    from listing_sync.syncer.services.scheduler import QueueUnavailable
    from listing_sync.syncer.services.users import LoginRefused, TooManyAttempts

    table: list[tuple[type[Exception] | tuple[type[Exception], ...], int]] = [
        (NotFound, 404),
        (LoginRefused, 401),
        (TooManyAttempts, 429),
        ((GuardRefused, StaleChange, PreviewMismatch, NotConfirmed, LeaseBusy, Conflict), 409),
        ((DatabaseUnavailable, QueueUnavailable), 503),
        (ChannelError, 502),
    ]
    for kinds, status in table:
        if isinstance(exc, kinds):
            return status
    return 400


def _error_handlers(app: FastAPI) -> None:
    from listing_sync.adapters.base import ChannelError
    from listing_sync.syncer.context import UserError
    from listing_sync.syncer.tabular import InputRejected

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": exc.message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    async def typed_error(request: Request, exc: Exception) -> Response:
        status = status_of(exc)
        body: dict[str, object] = {"detail": str(exc), "error": type(exc).__name__}
        if isinstance(exc, InputRejected):
            body["problems"] = [str(p) for p in exc.problems]
        headers = {"Retry-After": str(exc.retry_after)} if hasattr(exc, "retry_after") else None
        if status >= 500:
            log.warning("%s %s: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse(body, status_code=status, headers=headers)

    for kind in (UserError, InputRejected, ChannelError):
        app.add_exception_handler(kind, typed_error)
