"""Rate limiters and where they live: one budget per marketplace credential, however many processes.

A :class:`Limiter` is a token bucket: ``rate`` tokens per second, at most ``burst`` stored. The shared HTTP
layer (:mod:`listing_sync.adapters.http`) takes tokens before every request and slows the bucket with the
server's own hints (Retry-After pauses, Shopify's throttle status, Amazon's rate header).

Two stores hand out limiters by key (a digest of the marketplace, host and credentials, plus the
limiter's name, see :func:`limit_key`):

* :class:`LocalLimits`: :class:`TokenBucket` objects in this process (every adapter given the same store
  shares them; :func:`process_limits` is the one store of the process, what ``SYNCER_RATE_LIMITS=local``
  and ``auto`` without Redis use; an adapter given no store has its own).
* :class:`RedisLimits`: one Redis hash per key, taken and paused by one Lua script (GCRA: the bucket's
  "theoretical arrival time" on Redis's own clock), so N worker processes on several machines never send
  more than one budget, and a Retry-After one of them got holds them all off.

Priority: :meth:`Limiter.acquire` with ``urgent=True`` (the stock lane, see ``syncer.reconcile``) goes
ahead of every plain waiter of the same limiter object in this process: plain waiters step aside while an
urgent one waits, so a quantity push waits for one token, not for a backlog of price pushes. A plain
acquire may also ``keep`` tokens in the bucket (while a stock lane is open): the backlog then runs at the
same sustained rate but never empties the bucket, and an urgent request finds its tokens there.

Headroom: an adapter's limiter never spends the last :func:`headroom_tokens` tokens of the documented bucket, so
the marketplace's bucket always keeps that slack (see :func:`headroom_tokens` for why).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from listing_sync.adapters.base import TransientError

__all__ = [
    "HEADROOM_SECONDS",
    "HEADROOM_TOKENS",
    "Limiter",
    "LocalLimits",
    "RateStore",
    "RedisBucket",
    "RedisLimits",
    "TokenBucket",
    "headroom_tokens",
    "limit_key",
    "process_limits",
]

#: how long a plain waiter steps aside while an urgent one waits for the same limiter (seconds)
YIELD_SECONDS = 0.005
#: an adapter leaves the marketplace at least this many tokens of its bucket ...
HEADROOM_TOKENS = 1.0
#: ... and at least this many seconds of its refill (the lateness a request may have on its way)
HEADROOM_SECONDS = 0.1


def headroom_tokens(rate: float, burst: float) -> float:
    """Tokens of a documented bucket (``rate`` per second, ``burst`` at most) an adapter never spends.

    Why: the adapter's limiter and the marketplace run the same bucket on the same clock, so once both are
    drained they drain in lockstep. A request that reaches the marketplace a little later than its token
    was taken here, followed by one on time, then finds the marketplace's bucket a fraction of a token
    short and is refused (AliExpress: a ban of at least 1 s; ``bench wall --rate-scale 1``: 3 refusals,
    1.12 of the floor). Leaving ``max(HEADROOM_TOKENS, rate * HEADROOM_SECONDS)`` tokens absorbs that much
    lateness, at the cost of as much time once per drained burst; the sustained rate is unchanged. A bucket
    keeps at least one token to spend (a documented bucket of one has nothing to spare; none here has)."""
    return max(0.0, min(max(HEADROOM_TOKENS, rate * HEADROOM_SECONDS), burst - 1))


def limit_key(kind: str, base_url: str, credentials: dict[str, str]) -> str:
    """The key of one marketplace credential's budget: a digest (no secret can be read back from it)."""
    parts = [kind, base_url, *(f"{name}={value}" for name, value in sorted(credentials.items()))]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


class Limiter(Protocol):
    """What the HTTP layer needs of a rate limiter."""

    rate: float
    burst: float  # the marketplace's bucket (documented, or what the server told)
    headroom: float  # tokens of it this limiter leaves the marketplace (see :func:`headroom_tokens`)

    def wait_time(self, cost: float = 1, keep: float = 0) -> float: ...

    def try_acquire(self, cost: float = 1, keep: float = 0) -> bool: ...

    def acquire(self, cost: float = 1, *, urgent: bool = False, keep: float = 0) -> float: ...

    def pause(self, seconds: float) -> None: ...

    def observe(self, available: float, rate: float | None = None, burst: float | None = None) -> None: ...

    def set_rate(self, rate: float) -> None: ...


class RateStore(Protocol):
    """Hands out the limiter of ``key`` (created with ``rate``, ``burst`` and ``headroom`` the first time)."""

    def bucket(
        self,
        key: str,
        rate: float,
        burst: float,
        *,
        headroom: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Limiter: ...


class _Acquiring:
    """``acquire`` over ``try_acquire``/``wait_time``, with urgent waiters first (see the module doc)."""

    _sleep: Callable[[float], None]

    def __init__(self) -> None:
        self._urgent = 0
        self._urgent_lock = threading.Lock()

    def wait_time(self, cost: float = 1, keep: float = 0) -> float:
        raise NotImplementedError

    def try_acquire(self, cost: float = 1, keep: float = 0) -> bool:
        raise NotImplementedError

    def acquire(self, cost: float = 1, *, urgent: bool = False, keep: float = 0) -> float:
        """Take ``cost`` tokens, sleeping as needed (after every urgent waiter, unless ``urgent``), leaving
        ``keep`` tokens in the bucket. Returns the seconds waited."""
        if urgent:
            with self._urgent_lock:
                self._urgent += 1
        try:
            waited = 0.0
            while True:
                if urgent or not self._urgent:
                    if self.try_acquire(cost, keep):
                        return waited
                    delay = max(self.wait_time(cost, keep), 0.001)
                else:
                    delay = YIELD_SECONDS
                self._sleep(delay)
                waited += delay
        finally:
            if urgent:
                with self._urgent_lock:
                    self._urgent -= 1


class TokenBucket(_Acquiring):
    """A token bucket in this process: ``rate`` tokens per second, at most ``burst`` stored.

    ``acquire(cost)`` blocks (through the injectable ``sleep``) until the tokens are there. Server hints
    slow it: :meth:`pause` stops all requests until a time, :meth:`observe` adopts the server's own
    view of what is available (Shopify's throttleStatus) and :meth:`set_rate` a new rate (Amazon's
    ``x-amzn-RateLimit-Limit``). With ``headroom`` it never spends the last that many tokens of ``burst``
    (an adapter's limiter; the marketplace's own bucket, as the emulators run it, has none).
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1,
        *,
        headroom: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        if headroom < 0:
            raise ValueError("headroom must not be negative")
        super().__init__()
        self.rate = float(rate)
        self.burst = float(burst)
        self.headroom = float(headroom)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self._spendable
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    @property
    def _spendable(self) -> float:
        return _spendable(self.burst, self.headroom)

    def _refill(self, now: float) -> None:
        self._tokens = min(self._spendable, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self, cost: float = 1, keep: float = 0) -> float:
        """Seconds until ``cost`` tokens (and ``keep`` more) are available (0 = now)."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            pause = max(0.0, self._paused_until - now)
            short = max(0.0, min(cost + keep, self._spendable) - self._tokens)
            return max(pause, short / self.rate)

    def try_acquire(self, cost: float = 1, keep: float = 0) -> bool:
        with self._lock:
            now = self._clock()
            self._refill(now)
            # the tolerance absorbs float rounding, which would otherwise add a spurious wait per call
            if now < self._paused_until or self._tokens < min(cost + keep, self._spendable) - 1e-9:
                return False
            self._tokens -= cost
            return True

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a Retry-After or ban hint)."""
        with self._lock:
            now = self._clock()
            self._refill(now)  # tokens count again from now, not from before the pause
            self._paused_until = max(self._paused_until, now + max(0.0, seconds))
            self._tokens = 0.0

    def observe(self, available: float, rate: float | None = None, burst: float | None = None) -> None:
        """Adopt the server's count of available tokens (and its restore rate / bucket size), less the
        headroom: the server keeps its slack (recomputed for a new rate or size, see :func:`_retuned`)."""
        with self._lock:
            self._refill(self._clock())
            if burst:
                self.burst = float(burst)
            if rate:
                self.rate = float(rate)
            self.headroom = _retuned(self.headroom, self.rate, self.burst)
            self._tokens = min(self._spendable, float(available) - self.headroom)

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self._refill(self._clock())
            self.rate = float(rate)
            self.headroom = _retuned(self.headroom, self.rate, self.burst)
            self._tokens = min(self._tokens, self._spendable)


def _retuned(headroom: float, rate: float, burst: float) -> float:
    """The headroom for a rate or bucket size the server reported (Shopify's restoreRate and
    maximumAvailable, Amazon's ``x-amzn-RateLimit-Limit``): :func:`headroom_tokens` of the new figures,
    so a larger plan keeps its 0.1 s of slack. A limiter built without headroom (0) keeps none."""
    return headroom_tokens(rate, burst) if headroom > 0 else 0.0


def _spendable(burst: float, headroom: float) -> float:
    """What a limiter may hold of a ``burst`` bucket leaving ``headroom``: at least one token (or the bucket)."""
    return max(burst - headroom, min(burst, 1.0))


class _Stores:
    """A store's :meth:`bucket`: one limiter object per key in this process (its urgent waiters go first
    for every adapter holding it), made by :meth:`_new` the first time."""

    def __init__(self) -> None:
        self._buckets: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _new(
        self,
        key: str,
        rate: float,
        burst: float,
        headroom: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ):
        raise NotImplementedError

    def bucket(
        self,
        key: str,
        rate: float,
        burst: float,
        *,
        headroom: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Limiter:
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = self._buckets[key] = self._new(key, rate, burst, headroom, clock, sleep)
            return found


class LocalLimits(_Stores):
    """Limiters in this process, one per key: every adapter given this store shares a credential's."""

    def _new(
        self,
        key: str,
        rate: float,
        burst: float,
        headroom: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> TokenBucket:
        return TokenBucket(rate, burst, headroom=headroom, clock=clock, sleep=sleep)


_PROCESS = LocalLimits()


def process_limits() -> LocalLimits:
    """The one local store of this process: every adapter of a credential, whichever command or job built
    it, takes from the same bucket (a second adapter does not start with a full one the marketplace has
    already spent)."""
    return _PROCESS


# GCRA on Redis's clock. KEYS[1]: the hash (tat = when the bucket is full again minus nothing owed,
# until = paused until, rate/burst = server-told overrides). ARGV: op, rate, burst, x, [rate2, burst2].
# For take and peek ARGV[5] is what must stay in the bucket (``keep``).
# Answers a string (Lua numbers would be truncated to integers): the seconds to wait, "0" = taken.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local key, op = KEYS[1], ARGV[1]
local rate = tonumber(redis.call('HGET', key, 'rate') or ARGV[2])
local burst = tonumber(redis.call('HGET', key, 'burst') or ARGV[3])
local x = tonumber(ARGV[4])
local tat = tonumber(redis.call('HGET', key, 'tat') or '0')
local paused = tonumber(redis.call('HGET', key, 'until') or '0')
if tat < now then tat = now end
local keep = function(at)
  redis.call('PEXPIRE', key, math.ceil((math.max(at, paused) - now + 600) * 1000))
end
if op == 'take' or op == 'peek' then
  local need = tat + math.min(x + tonumber(ARGV[5]), burst) / rate - burst / rate
  local wait = math.max(need - now, paused - now, 0)
  if op == 'peek' or wait > 1e-9 then return tostring(wait) end
  local new = tat + x / rate
  redis.call('HSET', key, 'tat', tostring(new))
  keep(new)
  return '0'
elseif op == 'pause' then
  paused = math.max(paused, now + x)
  local full = math.max(tat, now + burst / rate)
  redis.call('HSET', key, 'until', tostring(paused), 'tat', tostring(full))
  keep(full)
elseif op == 'observe' then
  if tonumber(ARGV[5]) > 0 then rate = tonumber(ARGV[5]); redis.call('HSET', key, 'rate', ARGV[5]) end
  if tonumber(ARGV[6]) > 0 then burst = tonumber(ARGV[6]); redis.call('HSET', key, 'burst', ARGV[6]) end
  local new = now + (burst - math.min(x, burst)) / rate
  redis.call('HSET', key, 'tat', tostring(new))
  keep(new)
elseif op == 'rate' then
  local new = now + (tat - now) * rate / x  -- the same tokens owed, paid back at the new rate
  redis.call('HSET', key, 'rate', tostring(x), 'tat', tostring(new))
  keep(new)
end
return '0'
"""


class RedisBucket(_Acquiring):
    """One credential's limiter on Redis, shared by every process that uses the same key and Redis.

    ``rate`` and ``burst`` are the documented defaults; a rate or bucket size the server told one process
    (:meth:`observe`, :meth:`set_rate`) is stored and used by all. Time is Redis's own (``TIME``), so
    the processes' clocks need not agree; waiting uses the injectable ``sleep``. Redis holds the bucket this
    limiter spends: ``burst`` less ``headroom`` (every process computes the same headroom)."""

    def __init__(
        self,
        store: RedisLimits,
        key: str,
        rate: float,
        burst: float,
        sleep: Callable[[float], None],
        *,
        headroom: float = 0.0,
    ) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        if headroom < 0:
            raise ValueError("headroom must not be negative")
        super().__init__()
        self.store, self.key = store, key
        self.rate, self.burst, self.headroom = float(rate), float(burst), float(headroom)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"RedisBucket(rate={self.rate:g}, burst={self.burst:g}, headroom={self.headroom:g})"

    def _run(self, op: str, x: float, rate: float = 0.0, burst: float = 0.0) -> float:
        spendable = _spendable(self.burst, self.headroom)
        return self.store.run(self.key, op, self.rate, spendable, x, rate, burst)

    def wait_time(self, cost: float = 1, keep: float = 0) -> float:
        return self._run("peek", cost, keep)

    def try_acquire(self, cost: float = 1, keep: float = 0) -> bool:
        return self._run("take", cost, keep) == 0.0

    def pause(self, seconds: float) -> None:
        self._run("pause", max(0.0, seconds))

    def observe(self, available: float, rate: float | None = None, burst: float | None = None) -> None:
        if burst:
            self.burst = float(burst)
        if rate:
            self.rate = float(rate)
        self.headroom = _retuned(self.headroom, self.rate, self.burst)
        spendable = _spendable(self.burst, self.headroom) if burst else 0.0
        self._run("observe", float(available) - self.headroom, float(rate or 0), spendable)

    def set_rate(self, rate: float) -> None:
        self.rate = float(rate)
        self.headroom = _retuned(self.headroom, self.rate, self.burst)
        self._run("rate", float(rate))


class RedisLimits(_Stores):
    """Limiters as Redis hashes under ``prefix`` (see :class:`RedisBucket`); one object per key in this
    process, so its urgent waiters go first here too."""

    def __init__(self, client: Any, *, prefix: str = "listing-sync:rate:") -> None:
        super().__init__()
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(_SCRIPT)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisLimits:
        import redis

        return cls(redis.Redis.from_url(url), **kwargs)

    def _new(
        self,
        key: str,
        rate: float,
        burst: float,
        headroom: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> RedisBucket:
        return RedisBucket(self, key, rate, burst, sleep, headroom=headroom)  # Redis's clock, not the caller's

    def run(self, key: str, op: str, rate: float, burst: float, x: float, rate2: float, burst2: float) -> float:
        import redis

        try:
            answer = self._script(keys=[self.prefix + key], args=[op, repr(rate), repr(burst), repr(x), rate2, burst2])
        except redis.RedisError as exc:
            raise TransientError(
                f"the shared rate limiter on Redis could not be reached ({type(exc).__name__}); "
                "no request is sent without it: check SYNCER_REDIS_URL and that Redis is running"
            ) from None
        return float(answer)
