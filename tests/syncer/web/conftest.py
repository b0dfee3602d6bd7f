"""The web face's test world: a context on a temp SQLite with the demo's six emulated channels (CNY
and USD), the example catalog and its mappings, FX rates, every SKU published; three users
(``viewer``, ``operator``, ``admin``, password :data:`PASSWORD`) with one API token each.

The world is built once per test session and copied for each test (a fresh database and emulator state
per test, without paying for the import and the argon2 hashes every time).

- ``web_context``: that Context; ``web_app``: ``create_app(web_context)``
- ``client_as(role)``: a TestClient logged in through ``/login`` (session cookie); its default headers
  carry the session's CSRF token (``X-CSRF-Token``); delete it to test a refusal
- ``api_as(role)``: a TestClient sending ``Authorization: Bearer <token>`` of that role's user
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from listing_sync.config.settings import Settings
from listing_sync.syncer import db
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.context import Context
from listing_sync.syncer.demo import DEMO_FX
from listing_sync.syncer.services import catalog, changes, fx, system, users
from listing_sync.syncer.services.sync import SyncMode
from scenario import EXAMPLE, ROOT, mark_published

PASSWORD = "correct horse battery staple"
ROLES = ("viewer", "operator", "admin")
#: the demo's channels (six emulated marketplaces, CNY and USD) and catalog
CHANNELS = ROOT / "config" / "channels.example.toml"


@dataclass(frozen=True)
class Template:
    data: Path
    tokens: dict[str, str]


def settings_for(data: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data, web_secret_key="test-secret-key-" + "x" * 32)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """argon2 at its lowest cost in these tests (a login costs ~1 ms instead of ~100; production keeps the
    library's defaults). Patched before the template's users are made, so their hashes are cheap too."""
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        users._dummy_hash.cache_clear()
        yield
    users._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    data = tmp_path_factory.mktemp("web-template") / "data"
    data.mkdir()
    shutil.copy(CHANNELS, data / "channels.toml")
    context = Context(settings=settings_for(data))
    system.upgrade_database(context)
    catalog.import_catalog(context, EXAMPLE / "catalog.csv", user="test")
    for quote, rate in DEMO_FX.items():
        fx.set_rate(context, "CNY", quote, rate, date(2026, 1, 1))
    from listing_sync.syncer import mapping

    with context.session() as session:
        mapping.import_demo_mappings(session, context.channels, EXAMPLE)
    publish = changes.preview_change(
        context, changes.ListingsChange(changes.ListingAction.PUBLISH, Selection(patterns=["*"]))
    )
    changes.apply_change(context, publish, user="test", sync=SyncMode.NONE)
    with db.unit_of_work(context.db_url) as session:
        mark_published(session)
    _place_orders(context)
    tokens = {}
    for role in ROLES:
        users.add_user(context, role, role, PASSWORD)
        tokens[role] = users.create_token(context, role, f"{role} tests").secret
    db.engine_for(context.db_url).dispose()
    return Template(data, tokens)


def _place_orders(context: Context) -> None:
    """Two paid Shopify orders of yesterday, as a pull would record them (one with a recipient)."""
    from listing_sync.adapters.base import Order, OrderLine, OrderStatus, Recipient
    from listing_sync.adapters.money import Money
    from listing_sync.syncer.models import Channel
    from listing_sync.syncer.orders import PullReport, upsert_orders
    from sqlalchemy import select

    placed = datetime.now(UTC) - timedelta(days=1)
    usd = lambda amount: Money(Decimal(amount), "USD")  # noqa: E731
    orders = [
        Order(
            "SO-1001",
            OrderStatus.PAID,
            "paid",
            placed,
            placed,
            "USD",
            (OrderLine("1", "TEA-LJ-250", 2, usd("24.00")),),
            usd("48.00"),
            ship_country="US",
            recipient=Recipient("Ann Buyer", "555-0100", "1 Main St", "", "Springfield", "IL", "62701", "US"),
        ),
        Order(
            "SO-1002",
            OrderStatus.PAID,
            "paid",
            placed,
            placed,
            "USD",
            (OrderLine("1", "CUP-CEL-WH", 1, usd("9.50")),),
            usd("9.50"),
            ship_country="CA",
        ),
    ]
    config = context.channel("shopify")
    with context.session() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.name == "shopify"))
        upsert_orders(session, config, channel_id, orders, PullReport("shopify"))


@pytest.fixture
def web_context(web_template: Template, tmp_path: Path) -> Iterator[Context]:
    data = tmp_path / "data"
    shutil.copytree(web_template.data, data)
    context = Context(settings=settings_for(data))
    yield context
    db.engine_for(context.db_url).dispose()


@dataclass
class RecordingScheduler:
    """A SyncScheduler that records what it is asked to queue (``web_app.state.scheduler``)."""

    synced: list[tuple[str, list[int] | None, str]] = field(default_factory=list)
    pulled: list[tuple[str, str]] = field(default_factory=list)

    def queue_sync(self, channel: str, *, only_skus: Sequence[int] | None = None, user: str) -> None:
        self.synced.append((channel, None if only_skus is None else list(only_skus), user))

    def queue_order_pull(self, channel: str, *, user: str) -> None:
        self.pulled.append((channel, user))

    def queue_scheduled_run(self, at: datetime) -> None:
        pass

    def drain(self) -> int:
        return 0


@pytest.fixture
def web_app(web_context: Context) -> FastAPI:
    """The app over ``web_context``; its scheduler records (``web_app.state.scheduler.synced``)."""
    from listing_sync.syncer.web.app import create_app

    return create_app(web_context, scheduler=RecordingScheduler())


def login(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    """Log ``client`` in through the form; its default headers then carry the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    done = client.post(
        "/login", data={"username": name, "password": password, "csrf_token": token[1]}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    client.headers["X-CSRF-Token"] = client.get("/api/me").json()["csrf_token"]
    return client


@pytest.fixture
def client_as(web_app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    made: list[TestClient] = []

    def make(role: str) -> TestClient:
        client = TestClient(web_app)
        made.append(client)
        return login(client, role)

    yield make
    for client in made:
        client.close()


@pytest.fixture
def api_as(web_app: FastAPI, web_template: Template) -> Iterator[Callable[[str], TestClient]]:
    made: list[TestClient] = []

    def make(role: str) -> TestClient:
        client = TestClient(web_app, headers={"Authorization": f"Bearer {web_template.tokens[role]}"})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
