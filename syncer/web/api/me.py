"""``/api/me``: who the request acts as (and, for a console session, its CSRF token); for admins the users
and the audit of logins and tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from listing_sync.syncer.services import users
from listing_sync.syncer.services.users import AuditEvent, Role, UserInfo
from listing_sync.syncer.web.deps import Admin, ContextDep, Viewer, csrf_token
from pydantic import BaseModel

router = APIRouter(tags=["me"])


class Me(BaseModel):
    name: str
    role: Role
    via: str
    #: a session's CSRF token, for scripts of the console page (null for a bearer token: it needs none)
    csrf_token: str | None = None


@router.get("/me", response_model=Me)
def me(request: Request, user: Viewer) -> Me:
    """The user of this session or token, and their role."""
    return Me(
        name=user.name, role=user.role, via=user.via, csrf_token=csrf_token(request) if user.via == "session" else None
    )


@router.get("/users", response_model=list[UserInfo], tags=["admin"])
def list_users(context: ContextDep, user: Admin) -> list[UserInfo]:
    """Every user, their role and whether they are disabled (admins; `syncer users` manages them)."""
    return users.list_users(context)


@router.get("/audit", response_model=list[AuditEvent], tags=["admin"])
def audit(
    context: ContextDep,
    user: Admin,
    name: Annotated[str | None, Query(max_length=64, description="Only this user's events.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEvent]:
    """The latest logins (with the address; failures too), logouts, tokens created and revoked, users added
    and disabled, newest first (admins). A token's last use is on `syncer tokens list`."""
    return users.audit_log(context, user=name, limit=limit)
