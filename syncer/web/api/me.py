"""``/api/me``: who the request acts as (and, for a console session, its CSRF token)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from listing_sync.syncer.services.users import Role
from listing_sync.syncer.web.deps import Viewer, csrf_token
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
