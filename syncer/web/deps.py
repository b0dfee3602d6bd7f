"""What every web route depends on: the context, the acting user (session cookie or bearer token), the
role it needs, and the CSRF token of a console form.

``current_user`` refuses an anonymous request with :class:`NotLoggedIn` (the app answers 401 JSON under
``/api`` and a redirect to ``/login?next=`` elsewhere); ``require(Role.OPERATOR)`` refuses a lesser role
with 403. A request authenticated by the session cookie that changes something (any method but GET, HEAD,
OPTIONS) must carry the session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``); a
bearer-token request needs none (a browser never adds that header by itself).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from listing_sync.syncer.context import Context
from listing_sync.syncer.services.users import Role
from starlette.concurrency import run_in_threadpool

__all__ = [
    "Admin",
    "ContextDep",
    "CurrentUser",
    "NotLoggedIn",
    "Operator",
    "Role",
    "Viewer",
    "WebUser",
    "client_ip",
    "csrf_token",
    "current_user",
    "get_context",
    "require",
    "templates",
]

WEB = Path(__file__).resolve().parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
#: the one Jinja2 environment of the web face (the console adds its globals, e.g. gettext, to it)
templates = Jinja2Templates(directory=str(TEMPLATES))

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class WebUser:
    """Who is acting: every change a web request makes records ``name`` as its user."""

    name: str
    role: Role
    via: str = "session"  # or "token"


class NotLoggedIn(Exception):
    """No valid session or token (the app turns it into 401 JSON or a redirect to the login page)."""

    def __init__(self, message: str = "not logged in: log in, or send Authorization: Bearer <token>") -> None:
        super().__init__(message)
        self.message = message


def get_context(request: Request) -> Context:
    """The app's context (one per app: :func:`~listing_sync.syncer.web.app.create_app` sets it)."""
    return request.app.state.context


ContextDep = Annotated[Context, Depends(get_context)]


def client_ip(request: Request) -> str:
    """The client's address (behind a reverse proxy, uvicorn's ``--forwarded-allow-ips`` makes it the real one)."""
    return request.client.host if request.client else ""


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use): render it in forms and htmx ``hx-headers``."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse (403) a request whose CSRF token is missing or not the session's."""
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not (isinstance(expected, str) and sent and hmac.compare_digest(expected.encode(), sent.encode())):
        raise HTTPException(
            403,
            f"CSRF token missing or wrong: send the {CSRF_HEADER} header or the {CSRF_FIELD} form field "
            "(reload the page and try again)",
        )


async def current_user(request: Request) -> WebUser:
    """The user of a bearer token (``Authorization: Bearer ...``) or of the session cookie; the CSRF
    token is checked for cookie-authenticated changes."""
    from listing_sync.syncer.services import users

    context = get_context(request)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotLoggedIn("Authorization must be 'Bearer <token>' (create one with `syncer tokens create`)")
        info = await run_in_threadpool(users.token_user, context, secret.strip(), ip=client_ip(request))
        if info is None:
            raise NotLoggedIn("the API token is unknown, revoked, or its user is disabled")
        return WebUser(info.name, info.role, "token")
    name = request.session.get("user")
    if not isinstance(name, str):
        raise NotLoggedIn()
    info = await run_in_threadpool(users.active_user, context, name)
    if info is None:
        request.session.clear()
        raise NotLoggedIn("the session's user is disabled or gone: log in again")
    if request.method not in SAFE_METHODS:
        await check_csrf(request)
    return WebUser(info.name, info.role, "session")


CurrentUser = Annotated[WebUser, Depends(current_user)]


def require(role: Role) -> Callable[..., Awaitable[WebUser]]:
    """A dependency: the current user, refused with 403 unless their role is at least ``role``."""

    async def dependency(user: CurrentUser) -> WebUser:
        if not user.role.allows(role):
            raise HTTPException(403, f"this needs the {role.value} role; {user.name} is {user.role.value}")
        return user

    dependency.__name__ = f"require_{role.value}"
    return dependency


Viewer = Annotated[WebUser, Depends(require(Role.VIEWER))]
Operator = Annotated[WebUser, Depends(require(Role.OPERATOR))]
Admin = Annotated[WebUser, Depends(require(Role.ADMIN))]
