"""Set-up and operation: init, database migrations, warehouses, the channels file, serving an emulator,
getting a worker ready, and the demo."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from listing_sync.syncer import db
from listing_sync.syncer.context import Context, database_errors, ensure_channel_rows
from listing_sync.syncer.services.common import InvalidRequest
from listing_sync.syncer.services.scheduler import SyncScheduler

if TYPE_CHECKING:  # the demo module loads only when the demo runs
    from listing_sync.syncer.demo import DemoResult, WebhookEndpoint

#: the channels file `syncer init` starts from (shipped with the config package)
EXAMPLE_CHANNELS = Path(__file__).resolve().parents[2] / "config" / "channels.example.toml"


class AlreadyExists(InvalidRequest):
    """The thing to add exists already."""


@dataclass(frozen=True, slots=True)
class Initialized:
    data_dir: Path
    db_url: str
    channels_file: Path
    #: the example channels file was written (there was none, or ``force``)
    wrote_channels_file: bool


def initialize(context: Context, *, force: bool = False) -> Initialized:
    """Create the data directory, the database and (unless there is one, or with ``force``) an example
    channels file."""
    context.data_dir.mkdir(parents=True, exist_ok=True)
    channels_file = context.settings.resolved_channels_file
    wrote = force or not channels_file.exists()
    if wrote:
        channels_file.parent.mkdir(parents=True, exist_ok=True)
        channels_file.write_text(EXAMPLE_CHANNELS.read_text(encoding="utf-8"), encoding="utf-8")
    with database_errors(context.db_url):
        db.upgrade(context.db_url)
    with context.session() as session:
        ensure_channel_rows(session, context.channels)
    return Initialized(context.data_dir, context.db_url, channels_file, wrote)


def upgrade_database(context: Context, revision: str = "head") -> str | None:
    """Apply database migrations up to ``revision`` (safe to run again); returns the revision now."""
    context.data_dir.mkdir(parents=True, exist_ok=True)
    with database_errors(context.db_url):
        db.upgrade(context.db_url, revision)
        return db.current_revision(context.db_url)


def database_revision(context: Context) -> str | None:
    """The database's migration revision (None: an empty database)."""
    with database_errors(context.db_url):
        return db.current_revision(context.db_url)


# -------------------------------------------------------------------------------------- warehouses
@dataclass(frozen=True, slots=True)
class WarehouseInfo:
    code: str
    name: str


def add_warehouse(context: Context, code: str, name: str = "") -> WarehouseInfo:
    """Add a warehouse (codes are used in catalog files as stock[CODE])."""
    from listing_sync.syncer.models import Warehouse
    from sqlalchemy import select

    with context.session() as session:
        if session.scalar(select(Warehouse).where(Warehouse.code == code)):
            raise AlreadyExists(f"warehouse {code} already exists")
        session.add(Warehouse(code=code, name=name or code))
    return WarehouseInfo(code, name or code)


def list_warehouses(context: Context) -> list[WarehouseInfo]:
    from listing_sync.syncer.models import Warehouse
    from sqlalchemy import select

    with context.session() as session:
        return [WarehouseInfo(w.code, w.name) for w in session.scalars(select(Warehouse).order_by(Warehouse.code))]


# ---------------------------------------------------------------------------------------- channels
@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A configured channel without its credentials."""

    name: str
    kind: str
    currency: str
    warehouses: tuple[str, ...]
    language: str
    base_url: str | None
    enabled: bool


def list_channels(context: Context) -> list[ChannelInfo]:
    """The channels of the channels file."""
    return [
        ChannelInfo(c.name, c.kind, c.currency, tuple(c.warehouses), c.language, c.base_url, c.enabled)
        for c in context.channels
    ]


@dataclass(frozen=True, slots=True)
class ChannelsChecked:
    path: Path
    channels: int


def check_channels(context: Context) -> ChannelsChecked:
    """Validate the channels file (a problem raises, listing every problem)."""
    return ChannelsChecked(context.settings.resolved_channels_file, len(context.channels))


# ---------------------------------------------------------------------------------------- emulator
@dataclass(frozen=True, slots=True)
class ServingEmulator:
    kind: str
    host: str
    port: int
    faults: str
    #: the channel whose credentials and options it took (None: flags only)
    channel: str | None = None
    #: names (never values) of the credentials it checks; empty = every authenticating client is refused
    credentials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EmulatorSetup:
    """What a served emulator is built with: the marketplace, the credentials it accepts, its options."""

    kind: str
    credentials: dict[str, str]
    options: dict[str, object]
    currency: str | None = None
    channel: str | None = None


def emulator_setup(
    kind: str | None,
    *,
    context: Context | None = None,
    channel: str | None = None,
    credentials: Mapping[str, str] | None = None,
) -> EmulatorSetup:
    """The kind, credentials and options to serve: a channel's from the channels file (so the project's own
    adapter and official clients configured like it are let in), then ``credentials`` given one by one."""
    if channel is not None:
        if context is None:
            raise InvalidRequest("--channel needs the channels file: no context was given")
        config = context.channel(channel)
        if kind is not None and kind != config.kind:
            raise InvalidRequest(f"channel {channel!r} is a {config.kind} channel, not {kind}: drop KIND or fix it")
        secrets = {key: value.get_secret_value() for key, value in config.credentials.items()}
        setup = EmulatorSetup(config.kind, secrets, dict(config.options), config.currency, channel)
    elif kind is None:
        raise InvalidRequest("say which emulator to serve: a KIND or --channel NAME")
    else:
        setup = EmulatorSetup(kind, {}, {})
    setup.credentials.update(credentials or {})
    return setup


def serve_emulator(
    kind: str | None,
    *,
    context: Context | None = None,
    channel: str | None = None,
    credentials: Mapping[str, str] | None = None,
    port: int = 8800,
    seed: int = 7,
    faults: str = "",
    orders_every: float = 0.0,
    state: Path | None = None,
    ready: Callable[[ServingEmulator], None] | None = None,
) -> None:
    """Serve a marketplace emulator on 127.0.0.1 until interrupted (Ctrl-C), placing one order every
    ``orders_every`` seconds (0 = never). It accepts the credentials of ``channel`` (from the channels file)
    and ``credentials``; without any, every client that authenticates is refused. ``ready`` is called once
    it listens."""
    from listing_sync.adapters.emulator import Faults
    from listing_sync.adapters.registry import emulator_class

    try:
        fault_rates = Faults.parse(faults)
    except ValueError as exc:
        raise InvalidRequest(f"--faults: {exc}") from None
    setup = emulator_setup(kind, context=context, channel=channel, credentials=credentials)
    emulator = emulator_class(setup.kind)(
        seed=seed, faults=fault_rates, credentials=setup.credentials, options=setup.options, currency=setup.currency
    )
    if state is not None:
        _write_through(emulator, state)
    _stop_on_signals()
    server = emulator.serve("127.0.0.1", port)
    host, bound = server.server_address[:2]
    try:
        if ready is not None:
            names = tuple(sorted(setup.credentials))
            ready(ServingEmulator(setup.kind, str(host), int(bound), faults, setup.channel, names))
        while True:
            time.sleep(orders_every or 3600)
            if orders_every:
                with emulator._lock:  # re-entrant: the order and its state file are one step
                    with contextlib.suppress(NotImplementedError, ValueError, IndexError):
                        emulator.generate_orders(1)
                    if state is not None:
                        _save_state(emulator, state)
    except KeyboardInterrupt:
        server.shutdown()
        if state is not None:
            _save_state(emulator, state)


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """Stop (saving the state) on SIGTERM as on Ctrl-C, and on SIGINT even where the process was started
    with SIGINT ignored (a background job of a non-interactive shell, which Python leaves ignored)."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _stop)


def _write_through(emulator: Any, state: Path) -> None:
    """Start from ``state`` when it exists, and write the state there after every request that may change
    it, before answering: whatever a client was told survives the emulator's process (a crash test kills
    the others, then restarts this one)."""
    if state.exists():
        emulator.load(state.read_text(encoding="utf-8"))
    handle = emulator.handle

    def handle_and_save(request: Any) -> Any:
        response = handle(request)
        if request.method != "GET":
            _save_state(emulator, state)
        return response

    emulator.handle = handle_and_save


_SAVING = threading.Lock()


def _save_state(emulator: Any, state: Path) -> None:
    with _SAVING:
        state.parent.mkdir(parents=True, exist_ok=True)
        partial = state.with_name(state.name + ".partial")
        partial.write_text(emulator.dump(), encoding="utf-8")
        os.replace(partial, state)


# ------------------------------------------------------------------------------------ worker, demo
@dataclass(frozen=True, slots=True)
class WorkerSetup:
    backend: str
    #: this worker's id: the owner of the leases it takes (host:pid:random)
    owner: str = ""
    #: runs left ``running`` by dead owners, now marked ``interrupted``
    interrupted: int = 0


def prepare_worker(context: Context) -> WorkerSetup:
    """Check a worker can run here (the database exists), take its id, and mark the runs that killed
    processes left ``running`` as ``interrupted`` (those of channels whose lease nobody holds)."""
    from listing_sync.syncer import leases

    context.require_database()
    with context.session() as session:
        interrupted = leases.interrupt_dead_runs(session, context.leases)
    return WorkerSetup(context.settings.huey_backend, leases.process_owner(), interrupted)


def run_demo(
    context: Context,
    *,
    reset: bool = False,
    scheduler: SyncScheduler,
    say: Callable[[str], None],
    webhooks: Callable[[Context], WebhookEndpoint] | None = None,
) -> DemoResult:
    """Run the whole loop against the six emulated marketplaces in the context's data directory (see
    :mod:`syncer.demo`); jobs go through ``scheduler`` and run in this process; ``webhooks`` serves the web
    app for the order webhook step."""
    from listing_sync.syncer import demo

    return demo.run(
        context.data_dir, reset=reset, trace=context.trace_path, say=say, scheduler=scheduler, webhooks=webhooks
    )
