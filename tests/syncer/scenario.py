"""A small real setup for scenario tests and benchmarks: a data directory, a channels file of emulated
channels, the example catalog with its mappings, and helpers to publish, sell and pull."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from listing_sync.adapters.base import OrderCursor
from listing_sync.config.settings import Settings
from listing_sync.syncer import db, reconcile
from listing_sync.syncer.catalog import import_file
from listing_sync.syncer.context import Context, ensure_channel_rows
from listing_sync.syncer.models import Channel, ChannelListing, OrderCursorRow, Sku, StockLevel
from listing_sync.syncer.services import orders, sync
from sqlalchemy import select, update
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples"

CHANNEL_TEMPLATES = {
    "shopify": """
[[channels]]
name = "shopify"
kind = "shopify"
currency = "CNY"
warehouses = ["SH"]
base_url = "emulator:"
[channels.credentials]
access_token = "SHOPIFY_ACCESS_TOKEN"
[channels.options]
shop = "demo-tea-house"
api_version = "2026-10"
""",
    "woocommerce": """
[[channels]]
name = "woocommerce"
kind = "woocommerce"
currency = "CNY"
warehouses = ["SH"]
base_url = "emulator:"
[channels.credentials]
consumer_key = "WOO_CONSUMER_KEY"
consumer_secret = "WOO_CONSUMER_SECRET"
[channels.options]
site = "https://shop.example.com"
""",
    "amazon": """
[[channels]]
name = "amazon-us"
kind = "amazon"
currency = "CNY"
warehouses = ["SH"]
base_url = "emulator:"
[channels.credentials]
client_id = "AMAZON_LWA_CLIENT_ID"
client_secret = "AMAZON_LWA_CLIENT_SECRET"
refresh_token = "AMAZON_REFRESH_TOKEN"
[channels.options]
seller_id = "A2DEMOSELLER01"
marketplace = "US"
""",
    "taobao": """
[[channels]]
name = "taobao"
kind = "taobao"
currency = "CNY"
warehouses = ["SH"]
language = "zh-CN"
base_url = "emulator:"
[channels.credentials]
app_key = "TAOBAO_APP_KEY"
app_secret = "TAOBAO_APP_SECRET"
session = "TAOBAO_SESSION"
[channels.options]
location_state = "浙江"
location_city = "杭州"
""",
}


@dataclass
class Scenario:
    context: Context
    sku_id: int
    timings: dict[str, float] = field(default_factory=dict)

    def level(self) -> tuple[int, int]:
        with self.context.session() as s:
            rows = s.execute(select(StockLevel.on_hand, StockLevel.reserved).where(StockLevel.sku_id == self.sku_id))
            on_hand = reserved = 0
            for a, b in rows:
                on_hand, reserved = on_hand + a, reserved + b
            return on_hand, reserved

    def emulator(self, name: str):
        return self.context.hub.get(self.context.channel(name))

    def sell(self, name: str, count: int = 1) -> list[str]:
        """The marketplace takes orders (placed a few minutes ago, past every indexing lag)."""
        emulator = self.emulator(name)
        placed = datetime.now(UTC) - timedelta(minutes=4)  # past indexing lags, inside the pull overlap
        real_now, emulator.now = emulator.now, lambda: placed
        try:
            return emulator.generate_orders(count)
        finally:
            emulator.now = real_now

    def sync_all(self) -> None:
        for channel in self.context.channels:
            sync.sync_channel(self.context, channel, user="test")

    def pull_and_propagate(self, name: str) -> set[int]:
        """What the order job does: pull one channel, push the new availability to every other channel."""
        report = orders.pull_channel_orders(self.context, self.context.channel(name), user="test")
        for other in sync.other_channels(self.context, name):
            sync.sync_channel(self.context, other, only_skus=report.affected_sku_ids, pull_orders_first=False)
        return report.affected_sku_ids


def build(tmp_path: Path, kinds: list[str], *, sku: str = "TEA-LJ-250", units: int = 3) -> Scenario:
    """Channels of ``kinds`` on emulators, one SKU with ``units`` in stock, published everywhere."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "channels.toml").write_text("".join(CHANNEL_TEMPLATES[k] for k in kinds), encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=data)
    db.upgrade(settings.resolved_database_url)
    context = Context(settings=settings)
    with context.session() as s:
        ensure_channel_rows(s, context.channels)
        catalog = tmp_path / "catalog.csv"
        catalog.write_text(
            "sku,product,title,description,category,brand,cost,base_price,currency,stock[SH]\n"
            f"{sku},{sku},西湖龙井 Longjing Tea,<p>明前</p>,tea,西湖,68.00,168.00,CNY,{units}\n",
            encoding="utf-8",
        )
        import_file(s, catalog, user="test")
        from listing_sync.syncer import mapping

        mapping.import_demo_mappings(s, context.channels, EXAMPLE)
        sku_id = s.scalar(select(Sku.id).where(Sku.sku == sku))
        for channel in context.channels:
            reconcile.ensure_listings(s, channel, [sku_id])
        start = OrderCursor(datetime.now(UTC) - timedelta(hours=1)).to_json()
        for channel_id in s.scalars(select(Channel.id)):
            s.add(OrderCursorRow(channel_id=channel_id, cursor=start))
    scenario = Scenario(context, sku_id)
    began = time.monotonic()
    scenario.sync_all()
    scenario.timings["publish"] = time.monotonic() - began
    return scenario


def mark_published(session: Session) -> None:
    """Every listing as if the first sync had published it (clean, pushed values = desired, a ref)."""
    session.execute(
        update(ChannelListing).values(
            pushed_price=ChannelListing.desired_price,
            pushed_quantity=ChannelListing.desired_quantity,
            pushed_content_hash=ChannelListing.desired_content_hash,
            pushed_state="active",
            status="clean",
            ref={"sku": "x", "external_id": "1", "ids": {"num_iid": "1", "product_id": "1"}},
            pushed_version=ChannelListing.version,
        )
    )
