"""Order webhooks: register them on a marketplace, receive a delivery (verify its signature, record it
once), then fetch the orders it names and push their SKUs' new availability to every other channel.

:func:`receive` is all a web request does (a signature check and one insert), so the marketplace gets its
answer at once (marketplaces give up after a few seconds). What follows runs in a :class:`WebhookRunner`: queued for the
workers, or in background threads of the receiving process. A replayed delivery (same delivery id) and a
late one (an older state of an order than one already received) set nothing off; orders are upserted and
every stock effect has a unique ledger key, so a fetch that happens twice counts nothing twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from listing_sync.adapters.base import ChannelError, Unsupported, WebhookEvent, WebhookRefused, WebhookSubscription
from listing_sync.adapters.registry import adapter_class
from listing_sync.config.channels import ChannelConfig
from listing_sync.syncer import leases
from listing_sync.syncer.context import Context, UserError, ensure_channel_rows
from listing_sync.syncer.models import Channel, WebhookDelivery
from listing_sync.syncer.orders import PullReport, ingest_orders
from listing_sync.syncer.services.common import InvalidRequest, NotFound, ServiceError, prepare
from listing_sync.syncer.services.scheduler import SyncScheduler
from listing_sync.syncer.services.sync import channel_lease, other_channels, sync_channel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

log = logging.getLogger("syncer.webhooks")

#: the user webhook-triggered runs are recorded under
USER = "webhook"
#: how long a webhook-triggered step waits for a channel another process is working on
LEASE_PATIENCE_SECONDS = 60.0

Outcome = Literal["accepted", "duplicate", "stale", "ignored", "ping"]


class WebhookRejected(ServiceError):
    """A delivery that cannot be trusted (signature missing or wrong, no secret to check it): nothing was done."""


# ---------------------------------------------------------------------------------------- receive
@dataclass(frozen=True, slots=True)
class Received:
    """What one delivery was: ``accepted`` (its order is to be fetched), ``duplicate`` (a replay), ``stale``
    (an older state of the order than one received), ``ignored`` (not about an order) or a ``ping``."""

    channel: str
    topic: str
    outcome: Outcome
    order_id: str | None = None


def receive(context: Context, channel: str, headers: Mapping[str, str], body: bytes) -> Received:
    """Verify one delivery to ``channel`` (``body``: the raw bytes as received) and record it once.
    :class:`WebhookRejected` when it cannot be trusted, :class:`NotFound` for a channel that is not configured
    or whose marketplace sends no webhooks we read."""
    config = _webhook_channel(context, channel)
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        event = adapter_class(config.kind).read_webhook(config, lowered, body)
    except WebhookRefused as exc:
        raise WebhookRejected(str(exc)) from None
    except Unsupported as exc:
        raise NotFound(exc.message) from None
    if event.ping:
        return Received(channel, event.topic, "ping")
    return Received(channel, event.topic, _record(context, config, event), event.order_id)


def _webhook_channel(context: Context, name: str) -> ChannelConfig:
    try:
        return context.channel(name)
    except UserError:  # the channels file does not name it: answer as for any unknown address
        raise NotFound(f"no channel named {name!r} takes webhooks here") from None


def _record(context: Context, config: ChannelConfig, event: WebhookEvent) -> Outcome:
    """Insert the delivery (its id is unique per channel) and say what it is."""
    try:
        with context.session() as session:
            channel_id = session.scalar(select(Channel.id).where(Channel.name == config.name))
            if channel_id is None:
                channel_id = ensure_channel_rows(session, context.channels)[config.name]
            seen = select(WebhookDelivery.id).where(
                WebhookDelivery.channel_id == channel_id, WebhookDelivery.delivery_id == event.delivery_id
            )
            if session.scalar(seen) is not None:
                return "duplicate"
            outcome: Outcome = "ignored" if event.order_id is None else "accepted"
            if event.order_id is not None and event.updated_at is not None:
                newest = session.scalar(
                    select(func.max(WebhookDelivery.order_updated_at)).where(
                        WebhookDelivery.channel_id == channel_id, WebhookDelivery.order_id == event.order_id
                    )
                )
                if newest is not None and newest > event.updated_at:
                    outcome = "stale"
            session.add(
                WebhookDelivery(
                    channel_id=channel_id,
                    delivery_id=event.delivery_id[:200],
                    topic=event.topic[:100],
                    order_id=event.order_id,
                    order_updated_at=event.updated_at,
                    outcome=outcome,
                )
            )
            return outcome
    except IntegrityError:  # the same delivery recorded by a concurrent request a moment ago
        return "duplicate"


# ------------------------------------------------------------------------------------------- act
def fetch_orders(context: Context, channel: str, order_ids: Iterable[str], *, user: str = USER) -> PullReport:
    """Fetch these orders of ``channel`` by id and record them as a pull does (under the channel's lease);
    the report's ``affected_sku_ids`` are the SKUs whose availability the other channels must be told."""
    config = context.channel(channel)
    with channel_lease(context, channel):
        adapter = context.adapter(config)
        try:
            return ingest_orders(context, config, adapter, order_ids, user=user)
        finally:
            adapter.close()
            context.hub.save()


def push_availability(context: Context, channel: str, sku_ids: Collection[int], *, user: str = USER) -> None:
    """Push these SKUs' listings on ``channel`` (its own new orders pulled first, once per cycle)."""
    report = sync_channel(context, context.channel(channel), user=user, only_skus=sorted(sku_ids))
    if report.aborted:
        log.warning("[%s] webhook push stopped: %s", channel, report.aborted)


T = TypeVar("T")


def _patiently(step: Callable[[], T], what: str) -> T | None:
    """Run ``step``; while another process holds the channel (its lease), wait and try again, up to
    :data:`LEASE_PATIENCE_SECONDS`. Any other failure is logged in one line: the scheduled pull and sync
    are the safety net."""
    deadline = time.monotonic() + LEASE_PATIENCE_SECONDS
    while True:
        try:
            return step()
        except leases.LeaseBusy as exc:
            if time.monotonic() >= deadline:
                log.warning("%s gave up: %s (the scheduled run will do it)", what, exc)
                return None
            time.sleep(max(0.05, min(exc.retry_after, 1.0)))
        except (ChannelError, UserError) as exc:
            log.error("%s failed: %s (the scheduled run will retry)", what, exc)
            return None
        except Exception:
            log.exception("%s failed (the scheduled run will retry)", what)
            return None


class _Coalescer:
    """Runs ``work(key, items)`` in one background thread per key. Items submitted while a run for their key
    is going are gathered for the next run: a burst of webhooks becomes a few runs, not one each."""

    def __init__(self, work: Callable[[str, set], None], name: str) -> None:
        self._work = work
        self._name = name
        self._pending: dict[str, set] = {}
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def submit(self, key: str, items: Iterable) -> None:
        with self._lock:
            self._pending.setdefault(key, set()).update(items)
            if key in self._running:
                return
            self._running.add(key)
        threading.Thread(target=self._drain, args=(key,), name=f"{self._name}-{key}", daemon=True).start()

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                items = self._pending.pop(key, set())
                if not items:
                    self._running.discard(key)
                    self._idle.notify_all()
                    return
            self._work(key, items)

    def wait(self, timeout: float) -> bool:
        """Wait until nothing is pending or running; False when ``timeout`` seconds passed first."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._running, timeout)


class WebhookRunner:
    """Sets off what accepted deliveries ask for: fetch the named orders of their channel, then push the
    affected SKUs to every other channel.

    ``mode`` ``queue`` hands each order to the workers (``scheduler.queue_webhook_orders``); ``inline`` runs
    the steps in background threads here, one per channel, coalescing what arrives meanwhile. ``auto`` (the
    ``SYNCER_WEBHOOK_MODE`` default) queues when the job queue is on Redis (workers are deployed), else inline.
    A queue that cannot be reached falls back to inline."""

    def __init__(self, context: Context, *, scheduler: SyncScheduler | None = None, mode: str | None = None) -> None:
        self.context = context
        self.scheduler = scheduler
        wanted = mode or context.settings.webhook_mode
        if wanted == "auto":
            wanted = "queue" if context.settings.huey_backend == "redis" and scheduler is not None else "inline"
        if wanted == "queue" and scheduler is None:
            raise InvalidRequest("webhook mode 'queue' needs the job queue (a scheduler)")
        self.mode = wanted
        self._fetches = _Coalescer(self._fetch, "webhook-orders")
        self._pushes = _Coalescer(self._push, "webhook-push")
        context.channels, context.hub, context.tokens  # noqa: B018 - built once here, not raced for by threads

    def submit(self, received: Received) -> str | None:
        """Set off an accepted delivery's work; returns how (``queued``, ``inline``) or None (nothing to do)."""
        if received.outcome != "accepted" or received.order_id is None:
            return None
        if self.mode == "queue" and self.scheduler is not None:
            try:
                self.scheduler.queue_webhook_orders(received.channel, [received.order_id], user=USER)
                return "queued"
            except ServiceError as exc:
                log.error("[%s] could not queue the webhook's order (%s); fetching it here", received.channel, exc)
        self._fetches.submit(received.channel, {received.order_id})
        return "inline"

    def _fetch(self, channel: str, order_ids: set[str]) -> None:
        step = lambda: fetch_orders(self.context, channel, sorted(order_ids))  # noqa: E731
        report = _patiently(step, f"[{channel}] webhook order fetch")
        if report is None or not report.affected_sku_ids:
            return
        for other in other_channels(self.context, channel):
            self._pushes.submit(other.name, report.affected_sku_ids)

    def _push(self, channel: str, sku_ids: set[int]) -> None:
        _patiently(lambda: push_availability(self.context, channel, sku_ids), f"[{channel}] webhook stock push")

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait until the inline work set off so far is done (tests, the demo); False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if not self._fetches.wait(max(0.0, deadline - time.monotonic())):
                return False
            if not self._pushes.wait(max(0.0, deadline - time.monotonic())):
                return False
            if self._fetches.wait(0):  # no fetch started while the pushes ran
                return True


# ----------------------------------------------------------------------------------- registration
@dataclass(frozen=True, slots=True)
class ChannelWebhooks:
    """The webhook subscriptions a channel's marketplace holds (``problem`` when they could not be read)."""

    channel: str
    url: str | None
    subscriptions: tuple[WebhookSubscription, ...]
    problem: str | None = None


def delivery_url(url: str, channel: str) -> str:
    """Where a channel's webhooks go: ``url`` (the public address of `syncer serve`) with
    ``/webhooks/CHANNEL`` appended, unless it already ends with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest(
            f"--url {url!r}: give the public http(s) address of `syncer serve`, e.g. https://sync.example.com"
        )
    if parts.query or parts.fragment:
        raise InvalidRequest(f"--url {url!r}: no query or fragment, only the address")
    base = url.strip().rstrip("/")
    suffix = f"/webhooks/{channel}"
    return base if base.endswith(suffix) else base + suffix


def register(context: Context, channel: str, url: str) -> ChannelWebhooks:
    """Subscribe ``channel``'s order topics to ``url`` (see :func:`delivery_url`) on its marketplace; topics
    already delivered there are kept, not doubled."""
    prepare(context)
    config = context.channel(channel)
    target = delivery_url(url, channel)
    try:
        with context.adapter(config) as adapter:
            subscriptions = adapter.register_webhooks(target)
    except Unsupported as exc:
        raise InvalidRequest(exc.message) from None
    except ChannelError as exc:
        raise ServiceError(f"webhooks of {channel} not registered: {exc}") from None
    finally:
        context.hub.save()
    return ChannelWebhooks(channel, target, tuple(subscriptions))


def list_webhooks(context: Context, channels: Sequence[str] | None = None) -> list[ChannelWebhooks]:
    """The webhook subscriptions each channel's marketplace holds (channels whose marketplace has none say so)."""
    out = []
    for config in context.selected_channels(list(channels or [])):
        try:
            with context.adapter(config) as adapter:
                out.append(ChannelWebhooks(config.name, None, tuple(adapter.webhooks())))
        except ChannelError as exc:
            out.append(ChannelWebhooks(config.name, None, (), exc.message))
    context.hub.save()
    return out
