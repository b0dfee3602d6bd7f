"""Shared OAuth/LWA access tokens: one token per credential for every adapter instance and process.

A marketplace token lives for hours (eBay 7200 s, Amazon LWA 3600 s); asking for a new one per adapter
instance wastes calls and, on eBay, a daily refresh budget. :class:`RefreshingTokenAuth
<listing_sync.adapters.http.RefreshingTokenAuth>` asks a :class:`TokenCache` first and refreshes only
when the cached token is missing, near its end, or refused, under the cache's lock, so N workers that
all find it stale make ONE refresh call and the rest adopt its result.

Caches (each with a process-wide memory layer in front):

* :class:`MemoryTokenCache`: this process only (the default when nothing is configured).
* :class:`FileTokenCache`: one ``0600`` JSON file per credential in a ``0700`` directory (the data
  directory's ``tokens/``), locked with ``flock``: every process on one machine.
* :class:`RedisTokenCache`: a Redis key per credential with the token's time to live and a Redis lock:
  every process on every machine.

Keys are digests of the credential (kind, token endpoint, client id, refresh token, scopes), never the
secrets themselves. Tokens never go to the catalog database or the logs (the adapters' redactor learns
every token it adopts).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from listing_sync.adapters.base import TransientError

__all__ = ["FileTokenCache", "MemoryTokenCache", "RedisTokenCache", "TokenCache", "process_cache", "token_key"]


def token_key(*parts: str) -> str:
    """The cache key of one credential: a digest of what identifies it (no secret can be read back)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


class TokenCache(Protocol):
    """Where access tokens are shared. ``expires_at`` is POSIX time (seconds) when the token must no
    longer be used (the refresh margin already taken off)."""

    def get(self, key: str) -> tuple[str, float] | None: ...

    def put(self, key: str, token: str, expires_at: float) -> None: ...

    def lock(self, key: str) -> contextlib.AbstractContextManager[None]: ...


class MemoryTokenCache:
    """Tokens in this process's memory, shared by every adapter instance that is given this cache."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._tokens: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> tuple[str, float] | None:
        found = self._tokens.get(key)
        if found is None or found[1] <= self._wall():
            return None
        return found

    def put(self, key: str, token: str, expires_at: float) -> None:
        self._tokens[key] = (token, expires_at)

    def clear(self) -> None:
        """Forget every token (tests start each case from an empty process)."""
        self._tokens.clear()

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.RLock())
        with lock:
            yield


_PROCESS = MemoryTokenCache()


def process_cache() -> MemoryTokenCache:
    """The one memory cache of this process (what adapters use when they are given no cache)."""
    return _PROCESS


def _adopt(memory: MemoryTokenCache, key: str, raw: str | bytes, now: float) -> tuple[str, float] | None:
    """A shared cache entry (``{"token", "expires_at"}``) still valid at ``now``, kept in ``memory`` too;
    None when it is unreadable or expired."""
    try:
        data = json.loads(raw)
        token, expires_at = str(data["token"]), float(data["expires_at"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires_at <= now:
        return None
    memory.put(key, token, expires_at)
    return token, expires_at


class FileTokenCache:
    """Tokens in ``directory`` (created ``0700``), one ``0600`` file per credential, ``flock``-ed while a
    refresh runs; this process's memory in front."""

    def __init__(self, directory: Path, wall: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self._wall = wall
        self._memory = MemoryTokenCache(wall)

    def _path(self, key: str, suffix: str) -> Path:
        return self.directory / f"{key}{suffix}"

    def _ensure(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def get(self, key: str) -> tuple[str, float] | None:
        found = self._memory.get(key)
        if found is not None:
            return found
        try:
            raw = self._path(key, ".json").read_text(encoding="utf-8")
        except OSError:
            return None
        return _adopt(self._memory, key, raw, self._wall())

    def put(self, key: str, token: str, expires_at: float) -> None:
        self._memory.put(key, token, expires_at)
        self._ensure()
        tmp = self._path(key, f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"token": token, "expires_at": expires_at}, handle)
        os.replace(tmp, self._path(key, ".json"))

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._memory.lock(key):
            self._ensure()
            fd = os.open(self._path(key, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


class RedisTokenCache:
    """Tokens in Redis under ``prefix`` with the token's remaining life as TTL, refreshed under a Redis
    lock (held at most ``lock_seconds``); this process's memory in front."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "listing-sync:token:",
        lock_seconds: float = 60.0,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.lock_seconds = lock_seconds
        self._wall = wall
        self._memory = MemoryTokenCache(wall)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisTokenCache:
        import redis

        return cls(redis.Redis.from_url(url), **kwargs)

    def get(self, key: str) -> tuple[str, float] | None:
        found = self._memory.get(key)
        if found is not None:
            return found
        raw = self.client.get(self.prefix + key)
        if not raw:
            return None
        return _adopt(self._memory, key, raw, self._wall())

    def put(self, key: str, token: str, expires_at: float) -> None:
        self._memory.put(key, token, expires_at)
        ttl = max(1, int(expires_at - self._wall()))
        self.client.set(self.prefix + key, json.dumps({"token": token, "expires_at": expires_at}), ex=ttl)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._memory.lock(key):
            lock = self.client.lock(
                f"{self.prefix}{key}:lock", timeout=self.lock_seconds, blocking_timeout=self.lock_seconds
            )
            if not lock.acquire():
                raise TransientError(
                    f"another process has held the token refresh lock for over {self.lock_seconds:.0f} s; retry later"
                )
            try:
                yield
            finally:
                with contextlib.suppress(Exception):  # expired meanwhile: another refresh may have begun
                    lock.release()
