"""Revision 0009: overrides stored in the SKU's currency become the price their channel was given."""

from decimal import Decimal
from pathlib import Path

from listing_sync.syncer import db
from listing_sync.syncer.models import Channel, ChannelListing, Product, Sku
from sqlalchemy import select

BEFORE = "20261201_qty_pushed_at"


def _listing(session, channel: Channel, sku: Sku, *, override: str | None, desired: str | None) -> None:
    session.add(
        ChannelListing(
            channel_id=channel.id,
            sku_id=sku.id,
            price_override=None if override is None else Decimal(override),
            desired_price=None if desired is None else Decimal(desired),
        )
    )


def test_an_old_override_keeps_the_price_its_channel_shows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, BEFORE)
    with db.unit_of_work(url) as session:
        amazon = Channel(name="amazon-us", kind="amazon", currency="USD")
        shop = Channel(name="shop", kind="shopify", currency="CNY")
        product = Product(key="TEA", title="Tea")
        session.add_all([amazon, shop, product])
        session.flush()
        tea, cup, pot = (
            Sku(sku=code, product_id=product.id, base_price=Decimal("99.00"), currency="CNY")
            for code in ("TEA-1", "CUP-1", "POT-1")
        )
        session.add_all([tea, cup, pot])
        session.flush()
        # 79.99 CNY, multiplied and converted by the old rule into the 11.99 USD Amazon was given
        _listing(session, amazon, tea, override="79.99", desired="11.99")
        _listing(session, shop, tea, override="79.99", desired="87.99")  # same currency, multiplier 1.1
        _listing(session, amazon, cup, override=None, desired="14.99")  # no override: untouched
        _listing(session, amazon, pot, override="50.00", desired=None)  # never priced: cannot carry over

    db.upgrade(url)

    with db.unit_of_work(url) as session:
        rows = session.execute(
            select(Channel.name, Sku.sku, ChannelListing.price_override, ChannelListing.desired_price)
            .join(Channel, Channel.id == ChannelListing.channel_id)
            .join(Sku, Sku.id == ChannelListing.sku_id)
            .order_by(Sku.sku, Channel.name)
        ).all()
    assert [(c, s, o) for c, s, o, _ in rows] == [
        ("amazon-us", "CUP-1", None),
        ("amazon-us", "POT-1", None),
        ("amazon-us", "TEA-1", Decimal("11.99")),
        ("shop", "TEA-1", Decimal("87.99")),
    ]
    assert [d for *_, d in rows] == [Decimal("14.99"), None, Decimal("11.99"), Decimal("87.99")]
