"""Base for emulators: stateful in-memory fakes of a marketplace's real API.

An emulator handles an ``httpx.Request`` and returns an ``httpx.Response``, so it plugs into httpx as
a transport in-process (the adapter keeps the marketplace's REAL URLs; the transport intercepts them,
so traces of emulated runs look like production traffic), and ``syncer emulator serve KIND`` serves it
on 127.0.0.1 for multi-process runs.

Subclasses declare routes with :func:`route`, keep ALL mutable marketplace state in ``self.state``
(JSON-serializable: dicts, lists, str, int, bool, None; money as strings) so it can be saved between
CLI runs, and answer with the marketplace's real error and throttle bodies. The base enforces the
documented rate limit (token bucket on an injectable clock) and injects seeded faults.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
from listing_sync.adapters.ratelimits import LocalLimits, TokenBucket

Handler = Callable[..., httpx.Response]
#: how an emulator sends one webhook: (url, headers, body) -> the receiver's HTTP status
WebhookSender = Callable[[str, Mapping[str, str], bytes], int]


def hmac_base64(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(body, secret)): how Shopify and WooCommerce sign a webhook's raw body."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def _post(url: str, headers: Mapping[str, str], body: bytes) -> int:
    return httpx.post(url, content=body, headers=dict(headers), timeout=10.0).status_code


def route(method: str, path: str) -> Callable[[Handler], Handler]:
    """Declare a handler for ``METHOD /path/{param}``; path params arrive as keyword arguments.

    The path is matched against the END of the request path, so a served emulator at ``/`` and a
    marketplace with a site prefix (``/shop/wp-json/wc/v3/...``) both match.
    """

    def decorate(fn: Handler) -> Handler:
        routes = list(getattr(fn, "_emulator_routes", []))
        routes.append((method.upper(), path))
        fn._emulator_routes = routes  # type: ignore[attr-defined]  # a handler carries its routes on itself
        return fn

    return decorate


def _specificity(path: str) -> tuple[int, int]:
    """Sort key: literal characters (more is more specific), then parameters (fewer is more specific)."""
    params = re.findall(r"\{\w+\}", path)
    return len(path) - sum(map(len, params)), -len(params)


def _compile(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"(?:^|.*?){pattern}$")


@dataclass(frozen=True, slots=True)
class Faults:
    """Seeded fault injection rates (0..1) applied to every request, and per item for batches."""

    throttle: float = 0.0  # answer with this marketplace's throttle response
    server_error: float = 0.0  # answer 5xx
    timeout: float = 0.0  # raise a read timeout
    drop: float = 0.0  # drop the connection
    lost_reply: float = 0.0  # do what was asked, then drop the connection before answering
    partial: float = 0.0  # fail single items inside an otherwise successful batch
    stuck_page: float = 0.0  # a paged answer gives back the very token it was asked with (no progress)

    @classmethod
    def parse(cls, text: str) -> Faults:
        """Parse ``throttle=0.1,server_error=0.05`` (CLI and settings form)."""
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, _, raw = part.partition("=")
            key = key.strip().replace("-", "_")
            if key not in cls.__dataclass_fields__:
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(cls.__dataclass_fields__)}")
            try:
                rate = float(raw)
            except ValueError:
                raise ValueError(f"fault {key}={raw.strip()!r}: the rate must be a number between 0 and 1") from None
            if not 0 <= rate <= 1:
                raise ValueError(f"fault rate {key}={raw} must be between 0 and 1")
            values[key] = rate
        return cls(**values)


class Emulator:
    """A stateful fake marketplace. See the module docstring for the contract with subclasses."""

    kind: ClassVar[str]
    #: the real hosts this marketplace answers on (documentation; the transport ignores the host)
    hosts: ClassVar[tuple[str, ...]] = ()
    #: documented sustained rate (requests/second) and bucket size
    rate: ClassVar[float] = 10.0
    burst: ClassVar[int] = 10

    def __init__(
        self,
        *,
        credentials: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
        seed: int = 0,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
        enforce_rate: bool = True,
        currency: str | None = None,
    ) -> None:
        self.currency = currency  # the shop's currency, where the marketplace has one per shop
        self.credentials = dict(credentials or {})
        self.options = dict(options or {})
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = faults or Faults()
        self.clock = clock
        self.now = now or (lambda: datetime.now(UTC))
        self.enforce_rate = enforce_rate
        self.bucket = TokenBucket(self.rate, self.burst, clock=clock)
        self.state: dict[str, Any] = self.initial_state()
        self.requests: list[httpx.Request] = []
        #: webhooks sent: url, topic, status (the receiver's HTTP status, or the error) in sending order
        self.webhook_log: list[dict[str, Any]] = []
        #: how webhooks are sent (None: an HTTP POST); tests hand a test client's post here
        self.webhook_sender: WebhookSender | None = None
        self._lock = threading.RLock()
        self._routes = self._collect_routes()

    # -- contract for subclasses ---------------------------------------------------------------------
    def initial_state(self) -> dict[str, Any]:
        return {}

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        """Return an error response when auth or signature is wrong; None to let the request in."""
        return None

    def throttled(self, request: httpx.Request, wait_seconds: float) -> httpx.Response:
        """This marketplace's own throttle answer."""
        return self.json(429, {"error": "rate limited"}, headers={"Retry-After": str(max(1, round(wait_seconds)))})

    def server_error(self, request: httpx.Request) -> httpx.Response:
        return self.json(503, {"error": "service unavailable"})

    def not_found(self, request: httpx.Request) -> httpx.Response:
        return self.json(404, {"error": f"no route for {request.method} {request.url.path}"})

    def cost(self, request: httpx.Request) -> float:
        """Tokens a request takes from the rate bucket."""
        return 1.0

    def generate_orders(self, count: int) -> list[str]:
        """Create ``count`` new orders for listed SKUs (seeded), decrementing stock; return their ids."""
        raise NotImplementedError(f"{type(self).__name__} cannot generate orders")

    # -- helpers for subclasses ----------------------------------------------------------------------
    @staticmethod
    def json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return httpx.Response(
            status,
            content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8", **dict(headers or {})},
        )

    @staticmethod
    def body_json(request: httpx.Request) -> Any:
        try:
            return json.loads(request.content or b"null")
        except ValueError:
            return None

    def item_fails(self) -> bool:
        """Whether to fail one item of a batch (the ``partial`` fault)."""
        return self.faults.partial > 0 and self.rng.random() < self.faults.partial

    def next_id(self, name: str, start: int = 1000) -> int:
        counters = self.state.setdefault("_counters", {})
        counters[name] = counters.get(name, start) + 1
        return counters[name]

    def deliver_webhook(self, url: str, topic: str, headers: Mapping[str, str], body: bytes) -> threading.Thread:
        """POST one webhook from a background thread, as a marketplace delivers after its own change is done:
        the call that caused it returns at once. The outcome goes to :attr:`webhook_log`."""

        def send() -> None:
            try:
                status: int | str = (self.webhook_sender or _post)(url, headers, body)
            except Exception as exc:  # the receiver is down or refused the connection: logged, not retried
                status = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.webhook_log.append({"url": url, "topic": topic, "status": status})

        thread = threading.Thread(target=send, name=f"{self.kind}-webhook", daemon=True)
        thread.start()
        return thread

    def forget_webhooks(self, prefix: str) -> int:
        """Back office: delete the webhook subscriptions whose address starts with ``prefix`` (emulators keep
        them in ``state["webhooks"]``, id -> record with the address as ``uri`` or ``delivery_url``)."""
        with self._lock:
            hooks = self.state.get("webhooks") or {}
            gone = [k for k, w in hooks.items() if str(w.get("uri") or w.get("delivery_url") or "").startswith(prefix)]
            for key in gone:
                del hooks[key]
            return len(gone)

    # -- request handling ----------------------------------------------------------------------------
    def _collect_routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        routes = []
        for name in dir(type(self)):
            fn = getattr(type(self), name, None)
            for method, path in getattr(fn, "_emulator_routes", []):
                routes.append((_specificity(path), method, _compile(path), getattr(self, name)))
        # most specific first: the longest literal text, then the fewest parameters
        routes.sort(key=lambda r: r[0], reverse=True)
        return [(method, pattern, handler) for _, method, pattern, handler in routes]

    def _fault(self, request: httpx.Request) -> httpx.Response | None:
        f = self.faults
        roll = self.rng.random
        if f.timeout and roll() < f.timeout:
            raise httpx.ReadTimeout("emulated timeout", request=request)
        if f.drop and roll() < f.drop:
            raise httpx.RemoteProtocolError("emulated dropped connection", request=request)
        if f.server_error and roll() < f.server_error:
            return self.server_error(request)
        if f.throttle and roll() < f.throttle:
            return self.throttled(request, 1.0)
        return None

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the httpx transport entry point)."""
        request.read()
        with self._lock:
            self.requests.append(request)
            faulted = self._fault(request)
            if faulted is not None:
                return faulted
            if self.enforce_rate and not self.bucket.try_acquire(self.cost(request)):
                return self.throttled(request, self.bucket.wait_time(self.cost(request)))
            for method, pattern, handler in self._routes:
                if method != request.method:
                    continue
                match = pattern.match(request.url.path)
                if match:
                    denied = self.authenticate(request)
                    if denied is not None:
                        return denied
                    response = handler(request, **match.groupdict())
                    if self.faults.lost_reply and self.rng.random() < self.faults.lost_reply:
                        raise httpx.RemoteProtocolError("emulated dropped connection after the change", request=request)
                    return response
            return self.not_found(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -- persistence ---------------------------------------------------------------------------------
    def dump(self) -> str:
        with self._lock:
            return json.dumps({"seed": self.seed, "state": self.state}, ensure_ascii=False)

    def load(self, text: str) -> None:
        data = json.loads(text)
        with self._lock:
            self.state = data["state"]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.state)

    # -- serving -------------------------------------------------------------------------------------
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        """Serve on loopback; returns the started server (``server_address`` has the port)."""
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = f"http://{self.headers.get('Host', f'{host}:{port}')}{self.path}"
                request = httpx.Request(self.command, url, headers=list(self.headers.items()), content=body)
                try:
                    response = emulator.handle(request)
                except (httpx.TimeoutException, httpx.TransportError):
                    self.close_connection = True
                    return
                content = response.content
                self.send_response(response.status_code)
                for name, value in response.headers.multi_items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((host, port), _Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class EmulatorHub:
    """One emulator per emulated channel in this process, saved under ``directory`` between runs."""

    def __init__(self, directory: Path | None = None, *, seed: int = 7, faults: Faults | None = None) -> None:
        self.directory = directory
        self.seed = seed
        self.faults = faults
        self._emulators: dict[str, Emulator] = {}
        self._lock = threading.Lock()
        # the adapters' side of these emulators' budgets: one bucket per credential for as long as the
        # emulators live (the marketplace they stand for), not one per process or per adapter
        self.limits = LocalLimits()

    def get(self, channel: Any) -> Emulator:
        from listing_sync.adapters.registry import emulator_class

        with self._lock:
            emulator = self._emulators.get(channel.name)
            if emulator is None:
                cls = emulator_class(channel.kind)
                emulator = cls(
                    credentials={k: v.get_secret_value() for k, v in channel.credentials.items()},
                    options=dict(channel.options),
                    seed=self.seed + sum(map(ord, channel.name)),
                    faults=self.faults,
                    currency=channel.currency,
                )
                saved = self._path(channel.name)
                if saved is not None and saved.exists():
                    emulator.load(saved.read_text(encoding="utf-8"))
                self._emulators[channel.name] = emulator
            return emulator

    def _path(self, name: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{name}.json"

    def save(self) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            for name, emulator in self._emulators.items():
                path = self._path(name)
                assert path is not None
                tmp = path.with_suffix(".tmp")
                tmp.write_text(emulator.dump(), encoding="utf-8")
                tmp.replace(path)

    def __iter__(self):
        return iter(self._emulators.items())
