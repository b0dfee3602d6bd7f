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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from listing_sync.adapters.base import ChannelAdapter, OrderCursor
from listing_sync.adapters.emulator import Emulator, EmulatorHub
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

    def adapter(self, channel: ChannelConfig) -> ChannelAdapter:
        from listing_sync.adapters.registry import build_adapter

        return build_adapter(
            channel, hub=self.hub, clock=self.vt.clock, sleep=self.vt.sleep, tokens=self.tokens, limits=self.hub.limits
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


class RealTimeContext(BenchContext):
    """Adapters and emulators on the real clock, the emulators enforcing their documented rate limits
    (the wall benchmark: real sleeping, real threads)."""

    @property
    def hub(self) -> EmulatorHub:
        if self.virtual_hub is None:
            self.virtual_hub = RealTimeHub()
        return self.virtual_hub

    def adapter(self, channel: ChannelConfig) -> ChannelAdapter:
        from listing_sync.adapters.registry import build_adapter

        return build_adapter(channel, hub=self.hub, tokens=self.tokens, limits=self.hub.limits)


class RealTimeHub(VirtualHub):
    """In-memory emulators on the real clock with their rate limits enforced."""

    def __init__(self) -> None:
        vt = VirtualTime()
        vt.clock = time.monotonic  # type: ignore[method-assign]
        super().__init__(vt, enforce_rate=True)


@contextmanager
def world(skus: int, *, real_time: bool = False, enforce_rate: bool = False) -> Iterator[BenchContext]:
    """A fresh data directory with the six example channels and ``skus`` SKUs listed (not yet pushed);
    ``real_time``: on the real clock with the emulators' rate limits enforced; ``enforce_rate``: on
    virtual time with the limits enforced."""
    products = max(1, skus // VARIANTS)
    scratch = "/dev/shm" if Path("/dev/shm").is_dir() else None  # no fsync per committed batch
    with tempfile.TemporaryDirectory(prefix="bench-", dir=scratch) as tmp:
        data = Path(tmp)
        (data / "channels.toml").write_text(CHANNELS_FILE.read_text(encoding="utf-8"), encoding="utf-8")
        (data / "catalog.csv").write_text(catalog_csv(products), encoding="utf-8")
        settings = Settings(_env_file=None, data_dir=data)
        db.upgrade(settings.resolved_database_url)
        if real_time:
            context: BenchContext = RealTimeContext(settings=settings)
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
