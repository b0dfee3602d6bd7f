"""The one place that talks HTTP to marketplaces.

:class:`ChannelHTTP` owns, for one channel: the httpx client and its timeouts, the token-bucket rate
limiters (slowed by the server's own hints), tenacity retries with exponential backoff and jitter on
timeouts, dropped connections, 5xx and throttling (never on other 4xx), the mapping of HTTP failures to
the typed errors of :mod:`adapters.base`, the HTTP trace and the redaction of secrets. Adapters only
build requests and read responses; they never loop, sleep or retry.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import random
import re
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote, quote_plus, unquote_plus

import httpx
from listing_sync.adapters import privacy
from listing_sync.adapters.base import (
    AuthError,
    ChannelAdapter,
    ChannelError,
    ConfigurationError,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    RetryableError,
    TransientError,
    UnexpectedResponse,
)
from listing_sync.adapters.excerpt import body_excerpt
from listing_sync.adapters.paging import Page, check_step, paginate
from listing_sync.adapters.ratelimits import Limiter, LocalLimits, RateStore, headroom_tokens, limit_key
from listing_sync.adapters.ratelimits import TokenBucket as TokenBucket  # where it was first defined
from listing_sync.adapters.tokens import process_cache
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
)
from tenacity.stop import stop_base

if TYPE_CHECKING:
    from listing_sync.adapters.tokens import TokenCache
    from listing_sync.config.channels import ChannelConfig

log = logging.getLogger("adapters.http")
#: the share of a limiter's bucket a backlog leaves for the stock lane's urgent requests while it runs
LANE_RESERVE = 0.25
T = TypeVar("T")

#: Header names whose values are always secret, whatever the marketplace.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-amz-access-token",
        "x-shopify-access-token",
        "x-api-key",
        "x-amz-security-token",
    }
)
MASK = "***"
#: Field names whose values are always secret in JSON bodies, forms and query strings: a token endpoint's
#: answer is traced before the auth flow has read (and registered) the new token out of it.
SECRET_FIELDS = (
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "app_secret",
    "consumer_secret",
    "password",
)
_FIELDS = "|".join(SECRET_FIELDS)
_JSON_FIELD = re.compile(rf'("(?:{_FIELDS})"\s*:\s*")((?:[^"\\]|\\.)+)(")', re.IGNORECASE)
_FORM_FIELD = re.compile(rf"((?:^|(?<=[?&;\s]))(?:{_FIELDS})=)([^&;\s\"']+)", re.IGNORECASE)


# ---------------------------------------------------------------------------------------- redaction
class Redactor:
    """Replaces every known secret value (and its URL-encoded forms) with ``***``.

    Credentials are registered when a channel is built; tokens obtained at run time are added as they
    arrive, so nothing secret reaches logs, exceptions or the trace.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)
        _live_redactors.add(self)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 4:
            return
        forms = {
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            json.dumps(secret)[1:-1],  # inside a JSON body (escaped quotes, \uXXXX)
            json.dumps(secret, ensure_ascii=False)[1:-1],
        }
        with self._lock:
            self._secrets.update(form for form in forms if form)

    def __call__(self, text: str | None, *, personal: bool = True) -> str | None:
        """``text`` with every secret masked, and (unless ``personal`` is False: a trace inside its
        debugging window) every buyer's personal data (:mod:`.privacy`)."""
        if not text:
            return text
        for match in _JSON_FIELD.finditer(text):
            if match.group(2) != MASK:
                self.add(match.group(2))  # also mask it wherever else it shows up
        for match in _FORM_FIELD.finditer(text):
            if match.group(2) != MASK:
                self.add(match.group(2))
                self.add(unquote_plus(match.group(2)))
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _JSON_FIELD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
        text = _FORM_FIELD.sub(lambda m: f"{m.group(1)}{MASK}", text)
        return privacy.mask(text) if personal else text

    def headers(self, headers: httpx.Headers, *, personal: bool = True) -> dict[str, str]:
        return {
            name: MASK if name.lower() in SECRET_HEADERS else (self(value, personal=personal) or "")
            for name, value in headers.multi_items()
        }

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


#: Every Redactor alive in this process; httpx's own request log lines are passed through them all.
_live_redactors: weakref.WeakSet[Redactor] = weakref.WeakSet()


class _RedactingLogFilter(logging.Filter):
    """httpx logs every request URL (query string included) at INFO: mask known secrets in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        redactors = list(_live_redactors)
        if not redactors:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        clean = message
        for redactor in redactors:
            clean = redactor(clean) or ""
        if clean != message:
            record.msg, record.args = clean, None
        return True


_log_filter = _RedactingLogFilter()
for _name in ("httpx", "httpcore"):
    if not any(isinstance(f, _RedactingLogFilter) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_log_filter)


# -------------------------------------------------------------------------------------------- trace
class TraceWriter:
    """Appends one JSON line per HTTP attempt to a file (``SYNCER_HTTP_TRACE`` / ``--trace-http``).

    Buyers' personal data is masked in it, unless ``personal_data_until`` (an aware UTC time,
    ``SYNCER_TRACE_PERSONAL_DATA_UNTIL``) is still ahead: a debugging window that closes by itself."""

    def __init__(self, path: Path, personal_data_until: datetime | None = None) -> None:
        self.path = path
        self.personal_data_until = personal_data_until
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def keeps_personal_data(self) -> bool:
        """True while the debugging window is open."""
        return self.personal_data_until is not None and datetime.now(UTC) < self.personal_data_until

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


_trace_writers: dict[Path, TraceWriter] = {}


def trace_writer(path: Path | None, personal_data_until: datetime | None = None) -> TraceWriter | None:
    if path is None:
        return None
    path = Path(path).expanduser().resolve()
    if path not in _trace_writers:
        _trace_writers[path] = TraceWriter(path, personal_data_until)
    _trace_writers[path].personal_data_until = personal_data_until
    return _trace_writers[path]


def _text(content: bytes | None) -> str | None:
    if content is None:
        return None
    return content.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """In-call retry budget. The job layer has its own, so the two never multiply into hours."""

    max_attempts: int = 5
    max_seconds: float = 120.0
    base: float = 0.5
    cap: float = 30.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date).

    ``now`` is the current POSIX time for the HTTP-date form (default: the system clock).
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is no hint
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC) if now is None else datetime.fromtimestamp(now, UTC)
    return max(0.0, (when - current).total_seconds())


def _elapsed(state: RetryCallState, started: float) -> float:
    """Seconds this request has used: wall time, or the time slept when ``sleep`` is injected."""
    return max(time.monotonic() - started, state.idle_for)


def _hint(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    return getattr(exc, "retry_after", None) or 0.0


class _StopAfterBudget(stop_base):
    """Stop when the next wait (the server's hint at least) would run past the request's time budget."""

    def __init__(self, started: float, max_seconds: float) -> None:
        self.started = started
        self.max_seconds = max_seconds

    def __call__(self, state: RetryCallState) -> bool:
        elapsed = _elapsed(state, self.started)
        return elapsed >= self.max_seconds or elapsed + _hint(state) > self.max_seconds


Classifier = Callable[[httpx.Response], ChannelError | None]


class ChannelResponse(httpx.Response):
    """A response :meth:`ChannelHTTP.request` hands back: its :meth:`json` raises
    :class:`~adapters.base.UnexpectedResponse` naming the request, with an excerpt of the body and no
    personal data, where httpx raises a bare ``ValueError`` (truncated JSON, an HTML page, no body)."""

    channel: str | None = None
    redact: Callable[[str | None], str | None] | None = None

    @classmethod
    def adopt(
        cls, response: httpx.Response, channel: str, redact: Callable[[str | None], str | None]
    ) -> ChannelResponse:
        response.__class__ = cls  # same object and state: only json() is told differently
        assert isinstance(response, ChannelResponse)
        response.channel, response.redact = channel, redact
        return response

    def json(self, **kwargs: Any) -> Any:
        try:
            return super().json(**kwargs)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            redact = self.redact or (lambda text: text)
            excerpt = redact(body_excerpt(self.content, self.headers.get("content-type"))) or ""
            where = f"{self.request.method} {redact(str(self.request.url.copy_with(query=None)))}"
            why = f"{exc.msg} at character {exc.pos}" if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
            raise UnexpectedResponse(
                f"{where} answered HTTP {self.status_code} with a body that is not the JSON expected ({why}): "
                f"{excerpt}",
                channel=self.channel,
                status=self.status_code,
                code="unexpected_response",
                excerpt=excerpt,
            ) from None


def default_classify(response: httpx.Response, redact: Callable[[str | None], str | None]) -> ChannelError | None:
    """Map a plain HTTP status to a typed error (None = success)."""
    status = response.status_code
    if status < 400:
        return None
    body = (redact(_text(response.content)) or "")[:500]
    where = f"{response.request.method} {redact(str(response.request.url.copy_with(query=None)))}"
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        return RateLimited(f"throttled (HTTP 429) on {where}", status=status, retry_after=retry_after)
    if status >= 500 or status == 408:
        return TransientError(f"server error HTTP {status} on {where}: {body}", status=status, retry_after=retry_after)
    if status in (401, 403):
        return AuthError(
            f"credentials refused (HTTP {status}) on {where}: {body}. Check or re-authorize this channel.",
            status=status,
        )
    return RequestRejected(f"HTTP {status} on {where}: {body}", status=status)


class ChannelHTTP:
    """HTTP for one channel: client, limiters, retries, error mapping, trace, redaction.

    ``classify`` is the adapter's hook for marketplace-specific failure shapes (a throttle inside an
    HTTP 200, an ``error_response`` envelope); it runs on every attempt before the plain status
    mapping, and returns an error to raise or None to fall through.
    """

    def __init__(
        self,
        *,
        channel: str,
        kind: str,
        base_url: str,
        limiters: Mapping[str, Limiter],
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        classify: Classifier | None = None,
        redactor: Redactor | None = None,
        trace: TraceWriter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if "default" not in limiters:
            raise ValueError("limiters needs a 'default' bucket")
        self.channel = channel
        self.kind = kind
        self.limiters = dict(limiters)
        self.retry = retry
        self.classify = classify
        self.redact = redactor or Redactor()
        self.trace = trace
        self.sleep = sleep
        self.calls = 0  # HTTP attempts made, for summaries and quota dashboards
        self._calls_lock = threading.Lock()
        self._lane = threading.local()
        self.reserve = 0.0  # share of each bucket plain requests leave for urgent ones (see reserving)
        self.client = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers=dict(headers or {}),
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            event_hooks={"request": [self._on_request], "response": [self._on_response]},
        )

    def __repr__(self) -> str:
        return f"ChannelHTTP(channel={self.channel!r}, kind={self.kind!r})"

    def limiter(self, name: str = "default") -> Limiter:
        return self.limiters[name]

    @contextlib.contextmanager
    def urgent(self) -> Iterator[None]:
        """Requests this thread sends in the block go ahead of the others waiting for the same limiter
        (the stock lane's quantity pushes during a backlog of price pushes)."""
        before = getattr(self._lane, "urgent", False)
        self._lane.urgent = True
        try:
            yield
        finally:
            self._lane.urgent = before

    @contextlib.contextmanager
    def reserving(self, share: float) -> Iterator[None]:
        """While the block runs, every other request leaves ``share`` of its limiter's bucket for the urgent
        ones (a stock lane is open beside a backlog): same sustained rate, and a quantity push finds its
        tokens waiting."""
        self.reserve = share
        try:
            yield
        finally:
            self.reserve = 0.0

    # -- trace ---------------------------------------------------------------------------------------
    def _record(self, request: httpx.Request, response: httpx.Response | None, elapsed_ms: float | None) -> None:
        with self._calls_lock:
            self.calls += 1
        if self.trace is None:
            return
        personal = not self.trace.keeps_personal_data()

        def redact(text: str | None) -> str | None:
            return self.redact(text, personal=personal)

        self.trace.write(
            {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "channel": self.channel,
                "kind": self.kind,
                "method": request.method,
                "url": redact(str(request.url)),
                "request_headers": self.redact.headers(request.headers, personal=personal),
                "request_body": redact(_text(request.content)) if request.content else None,
                "status": response.status_code if response is not None else None,
                "response_headers": self.redact.headers(response.headers, personal=personal)
                if response is not None
                else {},
                "response_body": redact(_text(response.content)) if response is not None else None,
                "elapsed_ms": round(elapsed_ms, 1) if elapsed_ms is not None else None,
            }
        )

    @staticmethod
    def _on_request(request: httpx.Request) -> None:
        request.extensions["syncer_started"] = time.monotonic()

    def _on_response(self, response: httpx.Response) -> None:
        response.read()
        started = response.request.extensions.get("syncer_started", time.monotonic())
        self._record(response.request, response, (time.monotonic() - started) * 1000)

    # -- requests ------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        limiter: str = "default",
        cost: float = 1,
        ok_statuses: Iterable[int] = (),
        classify: Classifier | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send one logical request, retrying per policy. Raises a typed :class:`ChannelError`.

        ``idempotent=False`` marks a request that must not run twice (a create without an idempotency
        key): when it was sent and its answer was lost, :class:`OutcomeUnknown` is raised at once instead
        of sending it again."""
        accepted = frozenset(ok_statuses)
        bucket = self.limiters[limiter]
        started = time.monotonic()

        def attempt() -> httpx.Response:
            held = bucket.wait_time(cost)
            if held > self.retry.max_seconds - (time.monotonic() - started):
                # a server pause (e.g. a long Retry-After on an earlier call) outlasts this call's budget:
                # hand the wait back to the caller rather than blocking inside the limiter
                raise self._err(
                    RateLimited(f"rate limit: {method} {self.redact(url)} must wait {held:.1f}s", retry_after=held)
                )
            urgent = getattr(self._lane, "urgent", False)
            bucket.acquire(cost, urgent=urgent, keep=0.0 if urgent else bucket.burst * self.reserve)
            begun = time.monotonic()
            try:
                response = self.client.request(
                    method, url, params=params, json=json, data=data, content=content, headers=headers
                )
            except httpx.TimeoutException as exc:
                self._record(exc.request, None, (time.monotonic() - begun) * 1000)
                if not idempotent and _maybe_carried_out(exc):
                    raise self._err(
                        OutcomeUnknown(f"timed out after sending: {method} {self._safe(exc.request)}")
                    ) from None
                raise self._err(TransientError(f"timed out: {method} {self._safe(exc.request)}")) from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:  # retrying cannot help
                raise self._err(
                    ConfigurationError(f"cannot send {method} {self.redact(url)}: {self.redact(str(exc))}")
                ) from None
            except httpx.TransportError as exc:
                with contextlib.suppress(RuntimeError):  # RuntimeError: the error carries no request
                    self._record(exc.request, None, (time.monotonic() - begun) * 1000)
                if not idempotent and _maybe_carried_out(exc):
                    raise self._err(
                        OutcomeUnknown(
                            f"connection lost after sending ({type(exc).__name__}): {method} {self.redact(url)}"
                        )
                    ) from None
                raise self._err(
                    TransientError(f"connection failed ({type(exc).__name__}): {method} {self.redact(url)}")
                ) from None
            except ChannelError as exc:  # raised by an auth flow (refresh failed)
                raise self._err(exc) from None
            except httpx.HTTPError as exc:  # decoding, redirects, stream misuse: not a transport fault
                raise self._err(
                    RequestRejected(f"{type(exc).__name__} on {method} {self.redact(url)}: {self.redact(str(exc))}")
                ) from None
            error = None
            for hook in (classify, self.classify):
                if hook is not None and error is None:
                    error = hook(response)
            if error is None and response.status_code not in accepted:
                error = default_classify(response, self.redact)
            if error is not None:
                if isinstance(error, RetryableError) and error.retry_after:
                    bucket.pause(error.retry_after)  # the whole channel holds off, not just this call
                raise self._err(error)
            return ChannelResponse.adopt(response, self.channel, self.redact)

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.max_attempts) | self._out_of_time(started),
            wait=lambda state: self._wait(state, started),
            retry=retry_if_exception_type(RetryableError) & retry_if_not_exception_type(OutcomeUnknown),
            sleep=self.sleep,
            before_sleep=self._log_retry(method, url),
            reraise=True,
        )
        return retrying(attempt)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self.client.close()

    # -- retry helpers -------------------------------------------------------------------------------
    def _err(self, error: ChannelError) -> ChannelError:
        error.channel = error.channel or self.channel
        error.message = self.redact(error.message) or ""
        error.args = (error.message,)
        return error

    def _safe(self, request: httpx.Request) -> str:
        return self.redact(str(request.url.copy_with(query=None))) or ""

    def _wait(self, state: RetryCallState, started: float | None = None) -> float:
        """Exponential backoff with full jitter, but never shorter than the server's own hint.

        The jittered backoff is trimmed to what is left of the time budget (the hint never is: when
        the hint does not fit, the budget stop ends the retries instead).
        """
        attempt = state.attempt_number
        backoff = random.uniform(0, min(self.retry.cap, self.retry.base * 2 ** (attempt - 1)))
        if started is not None:
            backoff = min(backoff, max(0.0, self.retry.max_seconds - _elapsed(state, started)))
        return max(backoff, _hint(state))

    def _out_of_time(self, started: float) -> stop_base:
        return _StopAfterBudget(started, self.retry.max_seconds)

    def _log_retry(self, method: str, url: str):
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "[%s] %s %s failed (%s), attempt %d; retrying in %.2fs",
                self.channel,
                method,
                self.redact(url),
                exc,
                state.attempt_number,
                state.upcoming_sleep,
            )

        return before_sleep


# --------------------------------------------------------------------------------------------- auth
class RefreshingTokenAuth(httpx.Auth):
    """An access token obtained from a refresh grant, cached until shortly before it expires.

    The token request goes through the same client (so it is traced and redacted). On a response that
    ``is_expired`` recognizes (401, eBay errorId 1001, Amazon 403 expired token) the token is refreshed
    ONCE and the request resent; a second refusal surfaces as an auth error. A refusal of the refresh
    grant itself (``invalid_grant``) raises :class:`AuthError`: re-authorize the channel.

    With a ``cache`` (:mod:`listing_sync.adapters.tokens`) the token is shared under ``cache_key`` by
    every instance and process using that cache: a valid cached token is adopted without a call, and a
    refresh happens under the cache's lock after looking again (another process may just have done it).
    Without one the process-wide memory cache is used.
    """

    requires_response_body = True

    def __init__(
        self,
        *,
        token_request: Callable[[], httpx.Request],
        parse_token: Callable[[httpx.Response], tuple[str, float]],
        apply: Callable[[httpx.Request, str], None],
        is_expired: Callable[[httpx.Response], bool] = lambda r: r.status_code == 401,
        redactor: Redactor | None = None,
        clock: Callable[[], float] = time.monotonic,
        margin_seconds: float = 120.0,
        cache: TokenCache | None = None,
        cache_key: str | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._cache = cache if cache is not None else process_cache()
        self._cache_key = cache_key
        self._wall = wall
        self._token_request = token_request
        self._parse_token = parse_token
        self._apply = apply
        self._is_expired = is_expired
        self._redactor = redactor
        self._clock = clock
        self._margin = margin_seconds
        self._token: str | None = None
        self._expires_at = 0.0
        self.refreshes = 0
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(token={'set' if self._token else 'unset'})"

    def _valid(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at

    def _refresh(self):
        response = yield self._token_request()
        try:
            token, expires_in = self._parse_token(response)
        except ChannelError:
            raise
        except Exception as exc:  # the adapter could not read a token: say why from the status
            raise self._refused(response, exc) from None
        if self._redactor is not None:
            self._redactor.add(token)
        self._token = token
        # renew ``margin`` seconds early, but a short-lived token is still used for half its life
        self._expires_at = self._clock() + expires_in - min(self._margin, expires_in / 2)
        self.refreshes += 1

    def _refused(self, response: httpx.Response, exc: Exception) -> ChannelError:
        redact = self._redactor or (lambda text: text)
        body = (redact(_text(response.content)) or "")[:300]
        where = f"{response.request.method} {redact(str(response.request.url.copy_with(query=None)))}"
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RateLimited(f"token refresh throttled (HTTP 429) on {where}", status=status, retry_after=retry_after)
        if status >= 500:
            return TransientError(f"token endpoint failed (HTTP {status}) on {where}: {body}", status=status)
        if status >= 400:
            return AuthError(
                f"token refresh refused (HTTP {status}) on {where}: {body}. Re-authorize this channel.",
                status=status,
            )
        return AuthError(
            f"token response from {where} not understood ({type(exc).__name__}: {redact(str(exc))}): {body}",
            status=status,
        )

    def _obtain(self, stale: str | None = None):
        """A valid token: the shared one when the cache holds one other than ``stale`` (a token the
        marketplace just refused), else a refresh under the cache's lock, published to the cache."""
        if self._cache_key is None:
            yield from self._refresh()
            return
        if self._adopt(stale):
            return
        with self._cache.lock(self._cache_key):
            if self._adopt(stale):
                return
            yield from self._refresh()
            assert self._token is not None
            self._cache.put(self._cache_key, self._token, self._wall() + (self._expires_at - self._clock()))

    def _adopt(self, stale: str | None) -> bool:
        assert self._cache_key is not None
        found = self._cache.get(self._cache_key)
        if found is None or found[0] == stale:
            return False
        token, expires_at = found
        left = expires_at - self._wall()
        if left <= 0:
            return False
        if self._redactor is not None:
            self._redactor.add(token)
        self._token, self._expires_at = token, self._clock() + left
        return True

    def auth_flow(self, request: httpx.Request):
        with self._lock:
            if not self._valid():
                yield from self._obtain(stale=self._token)  # ours ran out: only a newer one will do
            token = self._token
        assert token is not None
        self._apply(request, token)
        response = yield request
        if self._is_expired(response):
            with self._lock:
                if self._token == token:  # nobody refreshed meanwhile
                    yield from self._obtain(stale=token)
                token = self._token
            assert token is not None
            self._apply(request, token)
            yield request


# ----------------------------------------------------------------------------------- adapter base
class HttpAdapter(ChannelAdapter):
    """Base for adapters that talk HTTP: builds the channel's :class:`ChannelHTTP` from declarations.

    Subclasses declare ``kind``, ``limits``, optionally ``options_model`` and ``extra_limiters``
    (name -> (rate per second, burst), e.g. Amazon's per-operation quotas), and override the narrow
    hooks: :meth:`production_url`, :meth:`build_auth`, :meth:`default_headers`, :meth:`classify`.
    """

    extra_limiters: ClassVar[Mapping[str, tuple[float, float]]] = {}

    def __init__(
        self,
        channel: ChannelConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        trace: TraceWriter | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
        tokens: TokenCache | None = None,
        limits: RateStore | None = None,
    ) -> None:
        super().__init__(channel)  # validates the options
        self.clock = clock
        self.tokens = tokens  # where OAuth/LWA tokens are shared (None: this process's memory)
        self.redactor = Redactor(secret.get_secret_value() for secret in channel.credentials.values())
        # one budget per credential: adapters (and, on Redis, processes) given the same store share it;
        # without a store this adapter has limiters of its own. Each leaves the marketplace's bucket its
        # headroom (ratelimits.headroom_tokens: slack for requests that arrive a little late)
        store = limits if limits is not None else LocalLimits()
        key = limit_key(self.kind, self.base_url(), {k: v.get_secret_value() for k, v in channel.credentials.items()})
        self.credential_key = key  # names this credential in shared stores (a digest: no secret in it)
        declared = {"default": (self.limits.rate, self.limits.burst), **self.extra_limiters}
        limiters = {
            name: store.bucket(
                f"{key}:{name}", rate, burst, headroom=headroom_tokens(rate, burst), clock=clock, sleep=sleep
            )
            for name, (rate, burst) in declared.items()
        }
        self.http = ChannelHTTP(
            channel=channel.name,
            kind=self.kind,
            base_url=self.base_url(),
            limiters=limiters,
            auth=self.build_auth(),
            headers=self.default_headers(),
            transport=transport,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            classify=self.classify,
            redactor=self.redactor,
            trace=trace,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channel={self.channel.name!r})"

    def base_url(self) -> str:
        """The configured base URL, or the marketplace's real host (also for ``emulator:`` channels)."""
        configured = self.channel.base_url
        if configured and configured != "emulator:":
            return configured.rstrip("/")
        return self.production_url().rstrip("/")

    def production_url(self) -> str:
        raise NotImplementedError

    def build_auth(self) -> httpx.Auth | None:
        return None

    def default_headers(self) -> Mapping[str, str]:
        return {"User-Agent": "listing-sync/0.1"}

    def classify(self, response: httpx.Response) -> ChannelError | None:
        """Marketplace-specific failure shapes; None falls through to the plain status mapping."""
        return None

    def pages(self, fetch: Callable[[Any], Page[T]], what: str, start: Hashable | None = None) -> Iterator[T]:
        """Every item of a paged list (:func:`adapters.paging.paginate`), guarded against pages that make
        no progress and stopped at this channel's ``max_pages``."""
        return paginate(fetch, channel=self.name, what=what, start=start, max_pages=self.channel.max_pages)

    def check_page(self, what: str, position: Hashable | None, nxt: Hashable | None, *, items: int | None) -> None:
        """Guard one page an order pull read at ``position`` (``items`` long, pointing to ``nxt``)."""
        check_step(self.name, what, position, nxt, items=items)

    @property
    def api_calls(self) -> int:
        """Every HTTP attempt :class:`ChannelHTTP` made for this channel (retries and token requests too)."""
        return self.http.calls

    def priority(self) -> contextlib.AbstractContextManager[None]:
        """This thread's requests go ahead of the others waiting for this channel's limiters."""
        return self.http.urgent()

    def lane_open(self) -> contextlib.AbstractContextManager[None]:
        """A stock lane runs beside this channel's push: its other requests leave a quarter of each
        bucket for the lane's."""
        return self.http.reserving(LANE_RESERVE)

    def close(self) -> None:
        self.http.close()


def _maybe_carried_out(exc: httpx.TransportError) -> bool:
    """Whether the server may have received the request: anything but a failure to connect."""
    return not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
