"""Leases: one writer per channel across every process (workers on several machines and inline CLI runs).

A lease has a name (``channel:NAME``), an owner (the process holding it: host, pid and a random part),
a token (new for every acquisition) and an expiry. Its holder renews it from a background thread every
third of its time to live (the heartbeat); a holder that dies stops renewing, and the next acquirer takes
the lease once it has expired. Renewal and release check the token, so a holder that lost its lease (paused
past the expiry) can never extend or drop its successor's.

Two stores, chosen by where every writer meets:

* :class:`RedisLeases` when the job queue is Redis: ``SET key value NX PX ttl``; renew and release are
  Lua scripts that act only while the stored token is the holder's.
* :class:`DatabaseLeases` otherwise: one row per lease in ``leases``, taken by a conditional
  ``UPDATE ... WHERE expires_at <= now`` (one statement: atomic on SQLite and PostgreSQL alike; on
  PostgreSQL a second acquirer waits for the first one's row lock, then finds the row unexpired).

Contention raises :class:`LeaseBusy`, one readable line naming the holder and when to try again; the
worker retries the task then, the CLI exits with :data:`BUSY_EXIT`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from listing_sync.syncer import db
from listing_sync.syncer.context import UserError
from listing_sync.syncer.models import Channel, LeaseRow, SyncRun, table_of
from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

log = logging.getLogger("syncer.leases")

#: the exit status of a command that found its channel busy (EX_TEMPFAIL: try again later)
BUSY_EXIT = 75
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """Who holds (or last held) a lease, and until when."""

    name: str
    owner: str
    expires_at: datetime
    acquired_at: datetime | None = None
    heartbeat_at: datetime | None = None

    def live(self, at: datetime | None = None) -> bool:
        return bool(self.owner) and self.expires_at > (at or now_utc())


class LeaseBusy(UserError):
    """Another process holds the lease; ``retry_after`` seconds is when it expires at the latest."""

    def __init__(self, name: str, holder: LeaseInfo | None, retry_after: float) -> None:
        self.name, self.holder, self.retry_after = name, holder, retry_after
        self.exit_code = BUSY_EXIT
        who = f"held by {holder.owner} until {holder.expires_at.isoformat(timespec='seconds')}" if holder else "held"
        super().__init__(f"{name} is busy: {who}; try again in {round(retry_after)} s")


class LeaseLost(UserError):
    """The lease expired or was taken over while its holder was still working (it stopped renewing in time)."""


class LeaseStore(Protocol):
    """Where leases live. Every method is atomic on its own."""

    def try_acquire(self, name: str, owner: str, token: str, ttl: float) -> bool: ...

    def renew(self, name: str, token: str, ttl: float) -> bool: ...

    def release(self, name: str, token: str) -> None: ...

    def holder(self, name: str) -> LeaseInfo | None: ...

    def all(self) -> list[LeaseInfo]: ...


# ---------------------------------------------------------------------------------------- database
class DatabaseLeases:
    """Leases as rows of the ``leases`` table, each statement in its own short transaction."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def engine(self) -> Engine:
        return db.engine_for(self.url)

    def try_acquire(self, name: str, owner: str, token: str, ttl: float) -> bool:
        table = table_of(LeaseRow)
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        now = now_utc()
        with self.engine.begin() as conn:
            conn.execute(
                dialect.insert(table)
                .values(name=name, owner="", token="", expires_at=_NEVER)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(table)
                .where(table.c.name == name, table.c.expires_at <= now)
                .values(
                    owner=owner,
                    token=token,
                    acquired_at=now,
                    heartbeat_at=now,
                    expires_at=now + timedelta(seconds=ttl),
                )
            )
            return taken.rowcount == 1

    def renew(self, name: str, token: str, ttl: float) -> bool:
        table = table_of(LeaseRow)
        now = now_utc()
        with self.engine.begin() as conn:
            renewed = conn.execute(
                update(table)
                .where(table.c.name == name, table.c.token == token, table.c.expires_at > now)
                .values(heartbeat_at=now, expires_at=now + timedelta(seconds=ttl))
            )
            return renewed.rowcount == 1

    def release(self, name: str, token: str) -> None:
        table = table_of(LeaseRow)
        with self.engine.begin() as conn:
            conn.execute(
                update(table).where(table.c.name == name, table.c.token == token).values(token="", expires_at=_NEVER)
            )

    def holder(self, name: str) -> LeaseInfo | None:
        return next((info for info in self._select(name) if info.owner), None)

    def all(self) -> list[LeaseInfo]:
        return self._select(None)

    def _select(self, name: str | None) -> list[LeaseInfo]:
        table = table_of(LeaseRow)
        query = select(LeaseRow).order_by(LeaseRow.name)
        if name is not None:
            query = query.where(table.c.name == name)
        with db.unit_of_work(self.url) as session:
            return [
                LeaseInfo(row.name, row.owner if row.token else "", row.expires_at, row.acquired_at, row.heartbeat_at)
                for row in session.scalars(query)
            ]


# ------------------------------------------------------------------------------------------- redis
_RENEW = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLeases:
    """Leases as Redis keys ``PREFIX + name`` holding ``token json``; Redis expires them itself."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
        self.prefix = prefix
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def try_acquire(self, name: str, owner: str, token: str, ttl: float) -> bool:
        value = f"{token} " + json.dumps({"owner": owner, "acquired_at": now_utc().isoformat()})
        return bool(self.client.set(self.prefix + name, value, nx=True, px=max(1, int(ttl * 1000))))

    def renew(self, name: str, token: str, ttl: float) -> bool:
        return bool(self._renew(keys=[self.prefix + name], args=[f"{token} ", max(1, int(ttl * 1000))]))

    def release(self, name: str, token: str) -> None:
        self._release(keys=[self.prefix + name], args=[f"{token} "])

    def holder(self, name: str) -> LeaseInfo | None:
        return self._info(self.prefix + name)

    def all(self) -> list[LeaseInfo]:
        found = (self._info(key) for key in sorted(self.client.scan_iter(match=self.prefix + "*", count=500)))
        return [info for info in found if info is not None]

    def _info(self, key: str | bytes) -> LeaseInfo | None:
        with self.client.pipeline() as pipe:
            value, pttl = pipe.get(key).pttl(key).execute()
        if value is None:
            return None
        text = key.decode() if isinstance(key, bytes) else key
        _, _, body = value.decode().partition(" ")
        data = json.loads(body or "{}")
        acquired = datetime.fromisoformat(data["acquired_at"]) if data.get("acquired_at") else None
        expires = now_utc() + timedelta(milliseconds=max(0, pttl))
        return LeaseInfo(text.removeprefix(self.prefix), str(data.get("owner", "")), expires, acquired)


# ---------------------------------------------------------------------------------------- holding
_owner: tuple[int, str] | None = None
_held = threading.local()


def process_owner() -> str:
    """This process's owner id (host:pid:random), new after a fork."""
    global _owner
    if _owner is None or _owner[0] != os.getpid():
        _owner = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    return _owner[1]


class Lease:
    """A held lease: renews itself in the background until released; :meth:`check` raises once it is lost."""

    def __init__(self, store: LeaseStore, name: str, owner: str, token: str, ttl: float) -> None:
        self.store, self.name, self.owner, self.token, self.ttl = store, name, owner, token, ttl
        self.expires_at = now_utc() + timedelta(seconds=ttl)
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease {name}", daemon=True)

    def check(self) -> None:
        """Raise :class:`LeaseLost` if the lease is no longer ours (stop writing for this channel)."""
        if self.lost is None and now_utc() >= self.expires_at:
            self.lost = "its heartbeat could not renew it before it expired"
        if self.lost is not None:
            raise LeaseLost(f"{self.name}: lease lost ({self.lost}); the work stopped and will be retried")

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if self.store.renew(self.name, self.token, self.ttl):
                    self.expires_at = now_utc() + timedelta(seconds=self.ttl)
                    continue
                self.lost = "another process took it over after it expired"
                log.error("%s: lease lost: %s", self.name, self.lost)
                return
            except Exception as exc:  # the store is unreachable: keep trying until the lease expires
                log.warning("%s: lease heartbeat failed (%s); retrying", self.name, exc)
                if now_utc() >= self.expires_at:
                    self.lost = f"the lease store was unreachable until it expired ({exc})"
                    return

    def _start(self) -> None:
        self._thread.start()

    def _end(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.store.release(self.name, self.token)
        except Exception as exc:  # it expires on its own
            log.warning("%s: lease not released (%s); it expires in %s s", self.name, exc, self.ttl)


def _holding() -> dict[str, Lease]:
    if not hasattr(_held, "leases"):
        _held.leases = {}
    return _held.leases


@contextmanager
def hold(store: LeaseStore, name: str, *, ttl: float, owner: str | None = None) -> Iterator[Lease]:
    """Hold the lease ``name`` for the block (renewed every ``ttl``/3 s), or raise :class:`LeaseBusy`.

    Re-entrant within one thread: an inner ``hold`` of a lease this thread holds yields the same lease."""
    held = _holding()
    if name in held:
        yield held[name]
        return
    owner = owner or process_owner()
    token = uuid.uuid4().hex
    if not store.try_acquire(name, owner, token, ttl):
        holder = store.holder(name)
        wait = (holder.expires_at - now_utc()).total_seconds() if holder and holder.live() else 1.0
        raise LeaseBusy(name, holder if holder and holder.live() else None, max(1.0, wait))
    lease = Lease(store, name, owner, token, ttl)
    lease._start()
    held[name] = lease
    try:
        yield lease
    finally:
        del held[name]
        lease._end()


def held_leases() -> dict[str, Lease]:
    """The leases this thread holds (for a helper thread to share, see :func:`sharing`)."""
    return dict(_holding())


@contextmanager
def sharing(held: dict[str, Lease]) -> Iterator[None]:
    """In a helper thread of the holder (a push's stock lane): count ``held`` as this thread's leases for
    the block (:func:`check_held`, :func:`current_owner`). The holder's thread still renews and releases them."""
    mine = _holding()
    added = [name for name in held if name not in mine]
    mine.update({name: held[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            mine.pop(name, None)


def check_held() -> None:
    """Raise :class:`LeaseLost` if any lease this thread holds was lost (called between batches and pages)."""
    for lease in list(_holding().values()):
        lease.check()


def current_owner() -> str | None:
    """The owner id of the lease(s) this thread holds (None outside any lease)."""
    return next((lease.owner for lease in _holding().values()), None)


def holds(name: str) -> bool:
    """Whether this thread holds the lease ``name`` already."""
    return name in _holding()


# ------------------------------------------------------------------------------------ dead owners' runs
def channel_lease_name(channel: str) -> str:
    return f"channel:{channel}"


def interrupt_runs(session: Session, channel_ids: Iterable[int], *, before: datetime, why: str) -> int:
    """Mark the ``running`` runs of these channels started before ``before`` as ``interrupted`` (their owner
    died: the channel's lease is free or someone else's). Returns how many."""
    ids = list(channel_ids)
    if not ids:
        return 0
    table = table_of(SyncRun)
    done = session.connection().execute(
        update(table)
        .where(table.c.channel_id.in_(ids), table.c.status == "running", table.c.started_at < before)
        .values(status="interrupted", finished_at=now_utc(), message=why)
    )
    return int(done.rowcount or 0)


def interrupt_dead_runs(session: Session, store: LeaseStore) -> int:
    """On a worker's start: every ``running`` run of a channel whose lease nobody holds now was left by a
    killed process; mark it ``interrupted``. Returns how many."""
    checked = now_utc()
    free = [
        channel_id
        for channel_id, name in session.execute(select(Channel.id, Channel.name))
        if not ((holder := store.holder(channel_lease_name(name))) and holder.live(checked))
    ]
    return interrupt_runs(session, free, before=checked, why="interrupted: its process stopped before finishing")
