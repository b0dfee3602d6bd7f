"""What every command and job needs: settings, the database, the channels, the acting user."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

# Imported where used: `syncer --help` and every command start by importing this module, and pydantic and
# SQLAlchemy are most of a cold start (see docs/PERFORMANCE.md).
if TYPE_CHECKING:
    from listing_sync.adapters.base import ChannelAdapter
    from listing_sync.adapters.emulator import EmulatorHub
    from listing_sync.adapters.ratelimits import RateStore
    from listing_sync.adapters.tokens import TokenCache
    from listing_sync.config.channels import ChannelConfig
    from listing_sync.config.settings import Settings
    from listing_sync.syncer.leases import LeaseStore
    from sqlalchemy.orm import Session

_HUBS: dict[Path, EmulatorHub] = {}


class UserError(Exception):
    """A problem the user can fix; the CLI prints it as one clear message."""


class DatabaseUnavailable(UserError):
    """The database cannot be reached or created, or its URL is not one we can use."""


@contextmanager
def database_errors(url: str, *, opening: bool = True) -> Iterator[None]:
    """Turn the failures of reaching the database at ``url`` into :class:`DatabaseUnavailable` (the URL
    shown without its password). Errors of the work itself pass through: around a unit of work
    (``opening=False``) only a lost or refused connection is the database's fault."""
    from listing_sync.syncer import db
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

    try:
        make_url(url)
        yield
    except (ArgumentError, ImportError, ValueError) as exc:
        if not opening or (isinstance(exc, ValueError) and _parses(url)):
            raise
        raise DatabaseUnavailable(
            f"SYNCER_DATABASE_URL is not a database URL we can use ({db.display_url(url)}: {_first_line(exc)}); "
            "expected e.g. postgresql://user@host:5432/name or sqlite:////path/to/syncer.db"
        ) from None
    except (OperationalError, InterfaceError) as exc:
        if not (isinstance(exc, DBAPIError) and exc.connection_invalidated) and not _is_connection_error(exc):
            raise
        raise DatabaseUnavailable(
            f"cannot reach the database at {db.display_url(url)}: {_first_line(exc.orig or exc)} "
            "(is it running, and are SYNCER_DATABASE_URL's host, port and credentials right?)"
        ) from None
    except OSError as exc:
        if not opening:
            raise
        raise DatabaseUnavailable(f"cannot open the database at {db.display_url(url)}: {exc.strerror or exc}") from None


def _parses(url: str) -> bool:
    """False when ``url`` itself does not parse (so a ValueError came from it, not from the work)."""
    from sqlalchemy.engine import make_url

    try:
        make_url(url)
    except (ValueError, TypeError):
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


#: what the drivers say when the connection (not a statement) failed: psycopg, sqlite3
_CONNECTION_FAILURES = (
    "connection failed",
    "connection refused",
    "connection is bad",
    "could not connect",
    "could not translate host",
    "failed to resolve host",
    "name or service not known",
    "network is unreachable",
    "server closed the connection",
    "password authentication failed",
    "no password supplied",
    "timeout expired",
    "unable to open database file",
    "ssl",
)


def _is_connection_error(exc: Exception) -> bool:
    """An error of reaching the database (refused, unknown host, wrong password, no such database), not
    of a statement (a lock, a deadlock, a missing table)."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    missing_database = text.startswith(("database", "connection to server")) and "does not exist" in text
    return missing_database or any(words in text for words in _CONNECTION_FAILURES)


def current_user(explicit: str | None = None) -> str:
    """Who is acting: ``--user`` if given, else the OS user (for change sets and sync runs)."""
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def _settings() -> Settings:
    from listing_sync.config.settings import get_settings

    return get_settings()


@dataclass
class Context:
    settings: Settings = field(default_factory=_settings)
    trace_path: Path | None = None
    _database_ready: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def db_url(self) -> str:
        return self.settings.resolved_database_url

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def http_trace(self) -> Path | None:
        return self.trace_path or self.settings.http_trace

    @contextmanager
    def session(self) -> Iterator[Session]:
        from listing_sync.syncer import db

        if not self._database_ready:  # once there, it stays: no schema query per unit of work
            self.require_database()
            self._database_ready = True
        with database_errors(self.db_url, opening=False), db.unit_of_work(self.db_url) as session:
            yield session

    def require_database(self) -> None:
        from listing_sync.syncer import db

        with database_errors(self.db_url):
            initialized = db.is_initialized(self.db_url)
        if not initialized:
            raise UserError(
                f"no catalog database at {db.display_url(self.db_url)} yet: "
                "run `syncer init` (or `syncer db upgrade`) first"
            )

    @cached_property
    def leases(self) -> LeaseStore:
        """Where the channel leases live: Redis when the job queue is Redis (every worker and CLI run meets
        there), the database otherwise."""
        from listing_sync.syncer import leases

        if self.settings.huey_backend == "redis":
            return leases.RedisLeases(self.settings.redis_url.get_secret_value(), f"{self.settings.queue_name}:lease:")
        return leases.DatabaseLeases(self.db_url)

    @cached_property
    def channels(self) -> list[ChannelConfig]:
        """The channels file, each channel's kind and options checked against the adapters' registry."""
        from listing_sync.adapters.registry import channel_problems
        from listing_sync.config.channels import load_channels

        return load_channels(self.settings.resolved_channels_file, check=channel_problems)

    def channel(self, name: str) -> ChannelConfig:
        for channel in self.channels:
            if channel.name == name:
                return channel
        known = ", ".join(c.name for c in self.channels) or "none"
        raise UserError(f"no channel named {name!r} in {self.settings.resolved_channels_file} (known: {known})")

    def selected_channels(self, names: list[str] | None) -> list[ChannelConfig]:
        if names:
            return [self.channel(n) for n in names]
        return [c for c in self.channels if c.enabled]

    @property
    def hub(self) -> EmulatorHub:
        """The in-process emulators of this data directory (one set per process, saved between runs)."""
        from listing_sync.adapters.emulator import EmulatorHub, Faults

        directory = self.data_dir / "emulators"
        if directory not in _HUBS:
            try:
                faults = Faults.parse(self.settings.emulator_faults)
            except ValueError as exc:
                raise UserError(f"SYNCER_EMULATOR_FAULTS: {exc}") from None
            _HUBS[directory] = EmulatorHub(directory, seed=self.settings.emulator_seed, faults=faults)
        return _HUBS[directory]

    @cached_property
    def tokens(self) -> TokenCache:
        """Where the channels' OAuth/LWA tokens are shared (``SYNCER_TOKEN_CACHE``): one token per credential
        for every adapter and process until shortly before it expires. Never the database or the logs."""
        from listing_sync.adapters.tokens import FileTokenCache, RedisTokenCache, process_cache

        mode = self.settings.token_cache
        if mode == "auto":
            mode = "redis" if self.settings.huey_backend == "redis" else "file"
        if mode == "redis":
            return RedisTokenCache.from_url(self.settings.redis_url.get_secret_value())
        if mode == "file":
            return FileTokenCache(self.data_dir / "tokens")
        return process_cache()

    @cached_property
    def limits(self) -> RateStore:
        """Where each marketplace credential's rate budget is kept (``SYNCER_RATE_LIMITS``): Redis, shared
        by every process of the deployment, or this process's one local store (``auto`` without Redis)."""
        from listing_sync.adapters.ratelimits import RedisLimits, process_limits

        mode: str = self.settings.rate_limits
        if mode == "auto":
            mode = "redis" if self.settings.huey_backend == "redis" else "local"
        if mode == "redis":
            url = self.settings.redis_url.get_secret_value()
            return RedisLimits.from_url(url, prefix=f"{self.settings.queue_name}:rate:")
        return process_limits()

    def limits_for(self, channel: ChannelConfig) -> RateStore:
        """The store of ``channel``'s budget: :attr:`limits`, except that an emulated channel's local budget
        is its emulator hub's (a fresh data directory is a fresh marketplace, with a full bucket)."""
        from listing_sync.adapters.ratelimits import LocalLimits

        if channel.emulated and isinstance(self.limits, LocalLimits):
            return self.hub.limits
        return self.limits

    def adapter(self, channel: ChannelConfig, *, counting: bool = False) -> ChannelAdapter:
        """The channel's adapter; ``counting``: one built to count calls (an emulated channel's emulator
        is then loaded only if it is called)."""
        from listing_sync.adapters.registry import build_adapter

        return build_adapter(
            channel,
            trace_path=self.http_trace,
            hub=self.hub,
            defer_emulator=counting,
            trace_personal_data_until=self.settings.trace_personal_data_until,
            timeout=self.settings.http_timeout_seconds,
            tokens=self.tokens,
            limits=self.limits_for(channel),
        )


def ensure_channel_rows(session: Session, channels: list[ChannelConfig]) -> dict[str, int]:
    """Make sure every configured channel and the warehouses it names exist in the database."""
    from listing_sync.syncer.models import Channel, Warehouse
    from sqlalchemy import select

    existing = {c.name: c for c in session.scalars(select(Channel))}
    for config in channels:
        row = existing.get(config.name)
        if row is None:
            row = Channel(name=config.name, kind=config.kind, currency=config.currency, enabled=config.enabled)
            session.add(row)
            existing[config.name] = row
        else:
            row.kind, row.currency, row.enabled = config.kind, config.currency, config.enabled
    codes = {code for (code,) in session.execute(select(Warehouse.code))}
    for code in sorted({w for c in channels for w in c.warehouses} - codes):
        session.add(Warehouse(code=code, name=code))
    session.flush()
    return {name: row.id for name, row in existing.items()}
