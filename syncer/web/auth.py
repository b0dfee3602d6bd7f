"""Logins of the console: the signed session cookie, ``GET/POST /login`` and ``POST /logout``.

The session is Starlette's signed cookie (itsdangerous): ``syncer_session``, HttpOnly, SameSite=Lax,
Secure with ``SYNCER_WEB_SECURE_COOKIES=1``, valid ``SYNCER_WEB_SESSION_HOURS`` since the last request. It
holds only the user's name and the CSRF token; every request looks the user up again, so disabling a user
ends their sessions at once. The password check, its rate limit and the audit are the service's
(:func:`listing_sync.syncer.services.users.login`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from listing_sync.syncer.context import Context
from listing_sync.syncer.web.deps import check_csrf, client_ip, csrf_token, get_context, templates
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

SESSION_COOKIE = "syncer_session"
KEY_FILE = "web-secret-key"

router = APIRouter(include_in_schema=False)


def secret_key(context: Context) -> str:
    """``SYNCER_WEB_SECRET_KEY``, or a random key made once and kept (mode 0600) in the data directory,
    so sessions survive a restart. Several processes behind one proxy need the same key: set it."""
    configured = context.settings.web_secret_key
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    path: Path = context.data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def install(app: FastAPI, context: Context) -> None:
    """Add the session middleware (signed cookie) to ``app``."""
    settings = context.settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(context),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.web_session_hours * 3600),
        same_site="lax",
        https_only=settings.web_secure_cookies,
    )


def safe_next(target: str | None) -> str:
    """Where to go after the login: a path on this site only (never another host: an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def _login_page(request: Request, *, next_url: str, error: str = "", status: int = 200, name: str = "") -> Response:
    return templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": csrf_token(request), "next": safe_next(next_url), "error": error, "username": name},
        status_code=status,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, next_url=next)


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    from listing_sync.syncer.services import users

    await check_csrf(request)
    context = get_context(request)
    try:
        user = await run_in_threadpool(users.login, context, username, password, ip=client_ip(request))
    except users.TooManyAttempts as exc:
        response = _login_page(request, next_url=next, error=str(exc), status=429, name=username)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except users.LoginRefused as exc:
        return _login_page(request, next_url=next, error=str(exc), status=401, name=username)
    request.session.clear()  # a new session on login: nothing from before it (fixation) carries over
    request.session["user"] = user.name
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    from listing_sync.syncer.services import users

    name = request.session.get("user")
    if isinstance(name, str):
        await check_csrf(request)
        await run_in_threadpool(users.record_logout, get_context(request), name, ip=client_ip(request))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
