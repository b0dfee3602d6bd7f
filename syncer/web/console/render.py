"""What every console page shares: the Jinja2 globals and filters (translation, amounts with their
currency, times in the team's time zone), the page context (user, role, CSRF token, language switch)
and the rendering of a page or an htmx fragment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import pass_context
from jinja2.runtime import Context as TemplateContext
from listing_sync.syncer.services.users import Role
from listing_sync.syncer.web import i18n
from listing_sync.syncer.web.deps import WebUser, csrf_token, get_context, templates

#: the navigation: (path, message id, active key)
NAV = (
    ("/", "Dashboard", "dashboard"),
    ("/listings", "Listings", "listings"),
    ("/changes/new", "Bulk change", "bulk"),
    ("/changes", "History", "history"),
    ("/orders", "Orders", "orders"),
    ("/reports", "Reports", "reports"),
    ("/fx", "FX rates", "fx"),
)


def translator(request: Request) -> i18n.Translator:
    """The request's translator (made once per request)."""
    made = getattr(request.state, "translator", None)
    if made is None:
        made = request.state.translator = i18n.gettext_for(request)
    return made


@pass_context
def _gettext(context: TemplateContext, message: str, **values: Any) -> str:
    request = context.get("request")
    if isinstance(request, Request):
        return translator(request)(message, **values)
    return i18n.Translator(i18n.DEFAULT_LANGUAGE)(message, **values)


def money(value: Any, currency: str | None = None) -> str:
    """``1234.50`` -> ``1,234.50 CNY``: exact digits (never a float), grouped, with the currency code."""
    if value is None or value == "":
        return "—"
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{amount:,}" + (f" {currency}" if currency else "")


def local_time(value: Any, tz: str = "UTC") -> str:
    """An ISO time (or datetime) as ``2026-12-02 17:05`` in ``tz``; ``—`` for none."""
    if not value:
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


@pass_context
def _when(context: TemplateContext, value: Any) -> str:
    return local_time(value, context.get("tz") or "UTC")


@pass_context
def _duration(context: TemplateContext, seconds: float | None) -> str:
    """Seconds as ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h`` (in the page's language; ``—`` for none)."""
    if seconds is None:
        return "—"
    request = context.get("request")
    _ = translator(request) if isinstance(request, Request) else i18n.Translator(i18n.DEFAULT_LANGUAGE)
    s = int(seconds)
    if s < 60:
        return _("%(s)s s", s=s)
    if s < 3600:
        return _("%(m)s min", m=s // 60)
    if s < 86400:
        return _("%(h)s h %(m)s min", h=s // 3600, m=s % 3600 // 60)
    return _("%(d)s d %(h)s h", d=s // 86400, h=s % 86400 // 3600)


def install_filters() -> None:
    """Add the console's globals and filters to the web face's one Jinja2 environment (idempotent)."""
    env = templates.env
    env.globals["_"] = _gettext
    env.globals["language_of"] = i18n.language_of
    env.filters["money"] = money
    env.filters["when"] = _when
    env.filters["duration"] = _duration


def with_query(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + (f"?{urlencode(params)}" if params else "")


def page(
    request: Request,
    user: WebUser,
    template: str,
    values: Mapping[str, Any] | None = None,
    *,
    active: str = "",
    status: int = 200,
) -> Response:
    """Render a page (or, for an htmx request, the same template: fragments check ``htmx``)."""
    context = get_context(request)
    data = {
        "user": user,
        "can_change": user.role.allows(Role.OPERATOR),
        "is_admin": user.role.allows(Role.ADMIN),
        "csrf": csrf_token(request),
        "lang": i18n.language_of(request),
        "languages": list(i18n.LANGUAGES),
        "nav": NAV,
        "active": active,
        "tz": context.settings.report_timezone,
        "htmx": request.headers.get("HX-Request") == "true",
        "with_query": lambda **changes: with_query(request, **changes),
        **(values or {}),
    }
    if data["htmx"] and status in (400, 409):
        status = 200  # htmx swaps only 2xx answers: the fragment carries the message instead
    response = templates.TemplateResponse(request, template, data, status_code=status)
    remember_language(request, response)
    return response


def remember_language(request: Request, response: Response) -> None:
    """Keep a ``?lang=`` choice in the ``lang`` cookie (a year; readable by pages, not sent cross-site)."""
    chosen = i18n.normalize(request.query_params.get("lang"))
    if chosen and chosen != i18n.normalize(request.cookies.get(i18n.COOKIE)):
        response.set_cookie(i18n.COOKIE, chosen, max_age=365 * 86400, samesite="lax", httponly=True)


def message_page(request: Request, user: WebUser, message: str, *, status: int = 400) -> Response:
    """A page saying what went wrong (bad input, something not found), never a stack trace."""
    return page(request, user, "message.html", {"message": message}, status=status)


__all__ = ["HTMLResponse", "install_filters", "message_page", "money", "page", "translator", "with_query"]


def scheduler_for(request: Request) -> Any:
    """The job queue a change's sync goes to: the app's (``app.state.scheduler``, tests set one), else the
    worker queue of the settings (huey)."""
    chosen = getattr(request.app.state, "scheduler", None)
    if chosen is not None:
        return chosen
    from listing_sync.jobs.scheduler import HueyScheduler

    return HueyScheduler()
