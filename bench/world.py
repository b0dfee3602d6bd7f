"""A synthetic world for the API-budget benchmarks: the six example channels on their emulators, a
generated catalog of ``products x 4`` SKUs (the example T-shirt's colour/size variants, mapped on every
channel), and virtual time.

Virtual time: adapters and emulators share one monotonic clock that ``sleep`` advances instead of
waiting, so rate limits are honoured exactly as in production (the emulators enforce their documented
buckets on the same clock) while the run costs only CPU. ``VirtualTime.slept`` is the wall time the
limits would have imposed. Wall-clock datetimes stay real (order windows, signatures).
"""

from __future__ import annotations

import csv
import io
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from listing_sync.adapters.base import ChannelAdapter, OrderCursor
from listing_sync.adapters.emulator import Emulator, EmulatorHub
from listing_sync.adapters.tokens import MemoryTokenCache, TokenCache
from listing_sync.config.channels import ChannelConfig
from listing_sync.config.settings import Settings
from listing_sync.syncer import db, fx, reconcile
from listing_sync.syncer.catalog import import_file
from listing_sync.syncer.context import Context, ensure_channel_rows
from listing_sync.syncer.mapping import import_demo_mappings
from listing_sync.syncer.models import Channel, OrderCursorRow, Sku
from sqlalchemy import select

from bench import trace

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CHANNELS_FILE = ROOT / "config" / "channels.example.toml"
VARIANTS = 4  # the example T-shirt: white/black x M/L
FX = {"USD": Decimal("0.1380"), "EUR": Decimal("0.1290"), "GBP": Decimal("0.1090"), "JPY": Decimal("20.55")}


class VirtualTime:
    """A monotonic clock that sleeping advances (thread-safe); ``slept`` is the time waited in all."""

    def __init__(self) -> None:
        self._base = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self._base + self._offset

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._offset += seconds

    @property
    def slept(self) -> float:
        return self._offset


class BenchTokens:
    """A memory token cache whose expiries run on the bench's clock: the emulators expire tokens on that
    clock while an adapter converts a token's life to and from POSIX time (``time.time``), which barely
    moves in a virtual run. Expiries are kept shifted by how far the bench's clock has run ahead of the
    real one, so a token the emulator holds expired is never handed out (no refused request, resent)."""

    def __init__(self, vt: VirtualTime) -> None:
        self._vt = vt
        self._memory = MemoryTokenCache()

    def _ahead(self) -> float:
        return self._vt.clock() - time.monotonic()

    def get(self, key: str) -> tuple[str, float] | None:
        ahead = self._ahead()
        found = self._memory.get(key)
        if found is None or found[1] - ahead <= time.time():
            return None
        return found[0], found[1] - ahead

    def put(self, key: str, token: str, expires_at: float) -> None:
        self._memory.put(key, token, expires_at + self._ahead())

    def lock(self, key: str) -> AbstractContextManager[None]:
        return self._memory.lock(key)


class VirtualHub(EmulatorHub):
    """Emulators on the virtual clock, kept in memory only (nothing saved)."""

    def __init__(self, vt: VirtualTime, *, enforce_rate: bool = False) -> None:
        super().__init__(None, seed=7)
        self.vt = vt
        self.enforce_rate = enforce_rate

    def get(self, channel: Any) -> Emulator:
        from listing_sync.adapters.registry import emulator_class

        with self._lock:
            emulator = self._emulators.get(channel.name)
            if emulator is None:
                emulator = emulator_class(channel.kind)(
                    credentials={k: v.get_secret_value() for k, v in channel.credentials.items()},
                    options=dict(channel.options),
                    seed=self.seed + sum(map(ord, channel.name)),
                    clock=self.vt.clock,
                    enforce_rate=self.enforce_rate,
                    currency=channel.currency,
                )
                emulator.requests = trace.Tally()  # type: ignore[assignment]  # counts, not every request
                self._emulators[channel.name] = emulator
            return emulator


@dataclass
class BenchContext(Context):
    """A :class:`Context` whose adapters and emulators run on virtual time."""

    vt: VirtualTime = field(default_factory=VirtualTime)
    enforce_rate: bool = False  # the calls bench counts calls; the wall bench turns the limits on
    virtual_hub: VirtualHub | None = None

    @property
    def hub(self) -> EmulatorHub:
        if self.virtual_hub is None:
            self.virtual_hub = VirtualHub(self.vt, enforce_rate=self.enforce_rate)
        return self.virtual_hub

    @cached_property
    def tokens(self) -> TokenCache:
        """Tokens on the bench's clock (a fresh world is a fresh marketplace: no tokens yet)."""
        return BenchTokens(self.vt)

    def adapter(self, channel: ChannelConfig, *, counting: bool = False) -> ChannelAdapter:
        from listing_sync.adapters.registry import build_adapter

        return build_adapter(
            channel,
            hub=self.hub,
            defer_emulator=counting,
            clock=self.vt.clock,
            sleep=self.vt.sleep,
            tokens=self.tokens,
            limits=self.hub.limits,
        )


def catalog_csv(products: int) -> str:
    """``products`` copies of the example T-shirt (4 variants each), unique SKUs and barcodes."""
    with (EXAMPLES / "catalog.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["product"] == "TEE-HAN"]
    assert len(rows) == VARIANTS
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for p in range(products):
        for v, row in enumerate(rows):
            writer.writerow(
                {
                    **row,
                    "sku": f"T{p:06d}-{row['sku'][8:]}",
                    "product": f"T{p:06d}",
                    "barcode": ean13(f"69{p:07d}{v:03d}"),
                }
            )
    return out.getvalue()


def ean13(twelve: str) -> str:
    """A valid EAN-13 for 12 digits (check digit appended)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(twelve))
    return twelve + str((10 - total % 10) % 10)


class ScaledTime(VirtualTime):
    """The real clock run ``scale`` times faster for the rate machinery: ``clock`` advances ``scale``
    seconds per real second and ``sleep(s)`` really sleeps ``s / scale``. Every documented rate and
    burst refill, every Retry-After and an emulated feed's processing time are so multiplied by
    ``scale`` alike on both sides (adapters and emulators); ``scale`` 1 is the real clock."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self._real = self._at = self._base
        self.scale = 1.0
        self.set_scale(scale)

    def set_scale(self, scale: float) -> None:
        """Run ``scale`` times faster from now on (the clock goes on from where it is: never back)."""
        if scale <= 0:
            raise ValueError(f"rate scale must be positive, got {scale}")
        with self._lock:
            now = time.monotonic()
            self._at += (now - self._real) * self.scale
            self._real, self.scale = now, scale

    def clock(self) -> float:
        return self._at + (time.monotonic() - self._real) * self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._offset += seconds
            time.sleep(seconds / self.scale)


class RealTimeContext(BenchContext):
    """Adapters and emulators on the real clock (scaled by ``vt.scale``), the emulators enforcing their
    documented rate limits (the wall benchmark: real sleeping, real threads)."""

    @property
    def hub(self) -> EmulatorHub:
        if self.virtual_hub is None:
            self.virtual_hub = VirtualHub(self.vt, enforce_rate=True)
        return self.virtual_hub


@contextmanager
def world(
    skus: int, *, real_time: bool = False, enforce_rate: bool = False, rate_scale: float = 1.0
) -> Iterator[BenchContext]:
    """A fresh data directory with the six example channels and ``skus`` SKUs listed (not yet pushed);
    ``real_time``: on the real clock (run ``rate_scale`` times faster, :class:`ScaledTime`) with the
    emulators' rate limits enforced; ``enforce_rate``: on virtual time with the limits enforced."""
    products = max(1, skus // VARIANTS)
    scratch = "/dev/shm" if Path("/dev/shm").is_dir() else None  # no fsync per committed batch
    with tempfile.TemporaryDirectory(prefix="bench-", dir=scratch) as tmp:
        data = Path(tmp)
        (data / "channels.toml").write_text(CHANNELS_FILE.read_text(encoding="utf-8"), encoding="utf-8")
        (data / "catalog.csv").write_text(catalog_csv(products), encoding="utf-8")
        settings = Settings(_env_file=None, data_dir=data)
        db.upgrade(settings.resolved_database_url)
        if real_time:
            context: BenchContext = RealTimeContext(settings=settings, vt=ScaledTime(rate_scale))
        else:
            context = BenchContext(settings=settings, enforce_rate=enforce_rate)
        with context.session() as s:
            ensure_channel_rows(s, context.channels)
            import_file(s, data / "catalog.csv", user="bench")
            import_demo_mappings(s, context.channels, EXAMPLES)
            day = datetime.now(UTC).date().replace(month=1, day=1)
            for quote, rate in FX.items():
                fx.set_rate(s, "CNY", quote, rate, day)
            sku_ids = list(s.scalars(select(Sku.id)))
            for channel in context.channels:
                reconcile.ensure_listings(s, channel, sku_ids)
            start = OrderCursor(datetime.now(UTC) - timedelta(minutes=10)).to_json()
            for channel_id in s.scalars(select(Channel.id)):
                s.add(OrderCursorRow(channel_id=channel_id, cursor=start))
        yield context
