"""Users of the web console and HTTP API: add, list, disable; password logins (argon2 hashes, a rate
limit per user and address, an audit row each); API tokens (shown once, only a hash and a short prefix
kept; their last use recorded).

The faces never see a hash: they get :class:`UserInfo`, and a new token's secret only in
:class:`CreatedToken`, once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from listing_sync.syncer.context import Context
from listing_sync.syncer.services.common import InvalidRequest, NotFound, ServiceError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 takes anything; a bound keeps a hostile login from costing much
TOKEN_PREFIX = "lsk_"  # listing-sync key: recognisable in a leak scan
#: a token's last use is written at most this often (a token used every second would write every second)
LAST_USED_EVERY = timedelta(seconds=60)


class Role(StrEnum):
    """What a user may do: viewers read, operators change (but cannot force past the price guard),
    admins also force and manage."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class LoginRefused(ServiceError):
    """Wrong name or password, or a disabled user (the message does not say which)."""


class TooManyAttempts(ServiceError):
    """Too many failed logins of this user from this address lately; ``retry_after`` seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    user: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    last_used_ip: str
    revoked: bool


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """A new token: ``secret`` is the bearer token itself, shown this once and never stored."""

    info: TokenInfo
    secret: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: datetime
    event: str
    user: str
    ip: str
    detail: str


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_hex(16))


def _role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidRequest(f"unknown role {value!r}: use viewer, operator or admin") from None


def _check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InvalidRequest(
            f"user name {name!r}: 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidRequest(f"the password is too long: at most {MAX_PASSWORD} characters")


def _info(row) -> UserInfo:
    return UserInfo(row.id, row.name, Role(row.role), row.disabled, row.created_at)


def _audit(session, event: str, user: str = "", ip: str = "", detail: str = "") -> None:
    from listing_sync.syncer.models import WebAudit

    session.add(WebAudit(event=event, user=user[:64], ip=ip[:64], detail=detail[:500]))


def _user_row(session, name: str):
    from listing_sync.syncer.models import WebUser
    from sqlalchemy import select

    row = session.scalar(select(WebUser).where(WebUser.name == name))
    if row is None:
        raise NotFound(f"no user named {name!r} (see `syncer users list`)")
    return row


# ------------------------------------------------------------------------------------------ users
def add_user(context: Context, name: str, role: str | Role, password: str, *, actor: str = "") -> UserInfo:
    """Add a user with a password (hashed with argon2) and a role."""
    from listing_sync.syncer.models import WebUser
    from sqlalchemy import select

    _check_name(name)
    chosen = _role(str(role))
    _check_password(password)
    digest = _hasher().hash(password)
    with context.session() as session:
        if session.scalar(select(WebUser.id).where(WebUser.name == name)) is not None:
            raise InvalidRequest(f"a user named {name!r} exists already")
        row = WebUser(name=name, role=chosen.value, password_hash=digest, disabled=False)
        session.add(row)
        _audit(session, "user_added", name, detail=f"role {chosen.value}" + (f" by {actor}" if actor else ""))
        session.flush()
        return _info(row)


def list_users(context: Context) -> list[UserInfo]:
    """Every user, by name."""
    from listing_sync.syncer.models import WebUser
    from sqlalchemy import select

    with context.session() as session:
        return [_info(r) for r in session.scalars(select(WebUser).order_by(WebUser.name))]


def set_disabled(context: Context, name: str, disabled: bool = True, *, actor: str = "") -> UserInfo:
    """Disable a user (no login; sessions and tokens stop working at once) or enable them again."""
    with context.session() as session:
        row = _user_row(session, name)
        row.disabled = disabled
        _audit(session, "user_disabled" if disabled else "user_enabled", name, detail=f"by {actor}" if actor else "")
        session.flush()
        return _info(row)


def active_user(context: Context, name: str) -> UserInfo | None:
    """The user ``name`` if they exist and are not disabled (a session is only as good as its user)."""
    from listing_sync.syncer.models import WebUser
    from sqlalchemy import select

    with context.session() as session:
        row = session.scalar(select(WebUser).where(WebUser.name == name))
        return None if row is None or row.disabled else _info(row)


# ----------------------------------------------------------------------------------------- logins
def login(context: Context, name: str, password: str, *, ip: str) -> UserInfo:
    """Check a password login; every attempt is audited with the client's address. Refused with
    :class:`TooManyAttempts` after ``SYNCER_WEB_LOGIN_ATTEMPTS`` failures of this name from this address
    within ``SYNCER_WEB_LOGIN_WINDOW_MINUTES`` (the password is then not even checked)."""
    from listing_sync.syncer.models import WebAudit, WebUser
    from sqlalchemy import func, select

    settings = context.settings
    name, ip = name.strip()[:64], ip[:64]
    window = timedelta(minutes=settings.web_login_window_minutes)
    since = datetime.now(UTC) - window
    refused: ServiceError | None = None
    with context.session() as session:  # the audit row of a refusal is committed before the refusal is raised
        failures, first = session.execute(
            select(func.count(), func.min(WebAudit.at)).where(
                WebAudit.event == "login_failed", WebAudit.user == name, WebAudit.ip == ip, WebAudit.at >= since
            )
        ).one()
        row = session.scalar(select(WebUser).where(WebUser.name == name))
        if failures >= settings.web_login_attempts:
            retry = max(1, int((first + window - datetime.now(UTC)).total_seconds()) + 1)
            _audit(session, "login_throttled", name, ip)
            refused = TooManyAttempts(
                f"too many failed logins for {name!r} from {ip}: try again in {(retry + 59) // 60} minute(s)", retry
            )
        elif not _password_ok(row, password):
            _audit(session, "login_failed", name, ip)
            refused = LoginRefused("wrong user name or password, or the user is disabled")
        elif row is None or row.disabled:
            _audit(session, "login_failed", name, ip, "disabled")
            refused = LoginRefused("wrong user name or password, or the user is disabled")
        else:
            hasher = _hasher()
            if hasher.check_needs_rehash(row.password_hash):
                row.password_hash = hasher.hash(password)
            _audit(session, "login", name, ip)
            user = _info(row)
    if refused is not None:
        raise refused
    return user


def _password_ok(row, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    # an unknown name costs a verification too, so the time taken does not tell which names exist
    digest = row.password_hash if row is not None else _dummy_hash()
    try:
        ok = _hasher().verify(digest, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False
    return ok and row is not None and len(password) <= MAX_PASSWORD


def record_logout(context: Context, name: str, *, ip: str) -> None:
    with context.session() as session:
        _audit(session, "logout", name, ip)


def audit_log(context: Context, *, user: str | None = None, limit: int = 100) -> list[AuditEvent]:
    """The latest web audit events (logins, failures, tokens, users), newest first."""
    from listing_sync.syncer.models import WebAudit
    from sqlalchemy import select

    query = select(WebAudit).order_by(WebAudit.at.desc(), WebAudit.id.desc()).limit(max(1, min(limit, 1000)))
    if user:
        query = query.where(WebAudit.user == user)
    with context.session() as session:
        return [AuditEvent(r.at, r.event, r.user, r.ip, r.detail) for r in session.scalars(query)]


# ----------------------------------------------------------------------------------------- tokens
def _digest(secret: str) -> str:
    # A token is 256 random bits, so a fast hash is as safe as a slow one and lets each request check it
    # in microseconds (a password, guessable, gets argon2).
    return hashlib.sha256(secret.encode()).hexdigest()


def _token_info(row, user: str) -> TokenInfo:
    return TokenInfo(
        row.id,
        user,
        row.name,
        row.prefix,
        row.created_at,
        row.last_used_at,
        row.last_used_ip,
        row.revoked_at is not None,
    )


def create_token(context: Context, user: str, name: str = "", *, actor: str = "") -> CreatedToken:
    """A new API token for ``user``: the secret is returned this once; only its hash is kept."""
    from listing_sync.syncer.models import ApiToken

    if len(name) > 120:
        raise InvalidRequest("the token's name is too long: at most 120 characters")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with context.session() as session:
        owner = _user_row(session, user)
        if owner.disabled:
            raise InvalidRequest(f"user {user!r} is disabled: enable them before giving them a token")
        row = ApiToken(user_id=owner.id, name=name, prefix=prefix, token_hash=_digest(secret), last_used_ip="")
        session.add(row)
        _audit(session, "token_created", user, detail=f"{prefix} {name}".strip() + (f" by {actor}" if actor else ""))
        session.flush()
        return CreatedToken(_token_info(row, owner.name), secret)


def list_tokens(context: Context, user: str | None = None) -> list[TokenInfo]:
    """Tokens (never their secrets), by user and creation."""
    from listing_sync.syncer.models import ApiToken, WebUser
    from sqlalchemy import select

    query = select(ApiToken, WebUser.name).join(WebUser, WebUser.id == ApiToken.user_id)
    if user:
        query = query.where(WebUser.name == user)
    with context.session() as session:
        rows = session.execute(query.order_by(WebUser.name, ApiToken.id)).all()
        return [_token_info(token, owner) for token, owner in rows]


def revoke_token(context: Context, prefix: str, *, actor: str = "") -> TokenInfo:
    """Revoke a token by its prefix (``syncer tokens list`` shows it); it stops working at once."""
    from listing_sync.syncer.models import ApiToken, WebUser
    from sqlalchemy import select

    prefix = prefix.removeprefix(TOKEN_PREFIX).split("_")[0]
    with context.session() as session:
        found = session.execute(
            select(ApiToken, WebUser.name)
            .join(WebUser, WebUser.id == ApiToken.user_id)
            .where(ApiToken.prefix == prefix)
        ).first()
        if found is None:
            raise NotFound(f"no token with prefix {prefix!r} (see `syncer tokens list`)")
        token, owner = found
        if token.revoked_at is None:
            token.revoked_at = datetime.now(UTC)
            _audit(session, "token_revoked", owner, detail=prefix + (f" by {actor}" if actor else ""))
        session.flush()
        return _token_info(token, owner)


def token_user(context: Context, secret: str, *, ip: str) -> UserInfo | None:
    """The user a bearer token acts for, or None (unknown, revoked, or its user disabled). Records the
    token's last use (at most once a minute)."""
    from listing_sync.syncer.models import ApiToken, WebUser
    from sqlalchemy import select

    match = re.fullmatch(rf"{TOKEN_PREFIX}([0-9a-f]{{8}})_[A-Za-z0-9_-]{{20,100}}", secret)
    if match is None:
        return None
    with context.session() as session:
        found = session.execute(
            select(ApiToken, WebUser).join(WebUser, WebUser.id == ApiToken.user_id).where(ApiToken.prefix == match[1])
        ).first()
        if found is None:
            return None
        token, user = found
        if not hmac.compare_digest(token.token_hash, _digest(secret)) or token.revoked_at is not None or user.disabled:
            return None
        now = datetime.now(UTC)
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY or token.last_used_ip != ip[:64]:
            token.last_used_at, token.last_used_ip = now, ip[:64]
        return _info(user)
