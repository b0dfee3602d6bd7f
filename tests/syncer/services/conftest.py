"""A service-level world: a context on emulated channels (Taobao and Shopify, CNY), three SKUs imported
through the catalog service and published (as if the first sync had pushed them), and a scheduler that
records what it is asked to queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from listing_sync.config.settings import Settings
from listing_sync.syncer import db
from listing_sync.syncer.changes import Selection
from listing_sync.syncer.context import Context
from listing_sync.syncer.models import Sku
from listing_sync.syncer.services import catalog, changes, system
from listing_sync.syncer.services.sync import SyncMode
from scenario import CHANNEL_TEMPLATES, mark_published
from sqlalchemy import select

CATALOG = (
    "sku,title,category,tags,base_price,cost,currency,stock[SH]\n"
    "TEA-1,Green tea,tea,gift;spring,100.00,40,CNY,10\n"
    "TEA-2,Black tea,tea,,200.00,80,CNY,10\n"
    "HONEY-1,Honey,honey,gift,50.00,20,CNY,10\n"
)


@dataclass
class RecordingScheduler:
    """A :class:`SyncScheduler` that records instead of queueing (``fail``: every call raises it)."""

    synced: list[tuple[str, list[int] | None, str]] = field(default_factory=list)
    pulled: list[tuple[str, str]] = field(default_factory=list)
    runs_at: list = field(default_factory=list)
    fail: Exception | None = None

    def queue_sync(self, channel: str, *, only_skus: Sequence[int] | None = None, user: str) -> None:
        if self.fail:
            raise self.fail
        self.synced.append((channel, None if only_skus is None else list(only_skus), user))

    def queue_order_pull(self, channel: str, *, user: str) -> None:
        if self.fail:
            raise self.fail
        self.pulled.append((channel, user))

    def queue_scheduled_run(self, at) -> None:
        self.runs_at.append(at)

    def drain(self) -> int:
        return 0


@dataclass
class World:
    context: Context
    scheduler: RecordingScheduler

    def base(self, sku: str) -> str:
        with self.context.session() as s:
            return str(s.scalar(select(Sku.base_price).where(Sku.sku == sku)))

    def ids(self, *skus: str) -> list[int]:
        with self.context.session() as s:
            return list(s.scalars(select(Sku.id).where(Sku.sku.in_(skus)).order_by(Sku.id)))


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> World:
    data = tmp_path / "data"
    data.mkdir()
    (data / "channels.toml").write_text(CHANNEL_TEMPLATES["taobao"] + CHANNEL_TEMPLATES["shopify"], encoding="utf-8")
    context = Context(settings=Settings(_env_file=None, data_dir=data, database_url=db_url))
    system.upgrade_database(context)
    path = tmp_path / "catalog.csv"
    path.write_text(CATALOG, encoding="utf-8")
    catalog.import_catalog(context, path, user="test")
    publish = changes.preview_change(
        context, changes.ListingsChange(changes.ListingAction.PUBLISH, Selection(patterns=["*"]))
    )
    changes.apply_change(context, publish, user="test", sync=SyncMode.NONE)
    with db.unit_of_work(context.db_url) as s:  # as if the first sync had published everything
        mark_published(s)
    return World(context, RecordingScheduler())
