"""price overrides in the channel's currency: keep what each channel shows across the upgrade

Until this revision a channel's price override was read in the SKU's currency and then multiplied and
converted like the base price. It is now entered and stored in the channel's currency and bypasses the
multiplier and FX. An override stored the old way would silently reprice its listing (79.99 CNY read as
79.99 USD), so each one becomes the price its channel was being given: the listing's desired price,
which the old rule computed from it. An override whose listing has no desired price (no FX rate at the
time) cannot be carried over and is dropped; the listing then follows the channel's rule.

Revision ID: 0009
Revises: 20261201_qty_pushed_at
Create Date: 2026-12-01 22:45:00
"""
from alembic import op


revision = '0009'
down_revision = '20261201_qty_pushed_at'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # desired_price and price_override share one column type (Amount), so the copy is exact on both engines.
    op.execute(
        "UPDATE channel_listings SET price_override = desired_price "
        "WHERE price_override IS NOT NULL AND desired_price IS NOT NULL"
    )
    op.execute(
        "UPDATE channel_listings SET price_override = NULL "
        "WHERE price_override IS NOT NULL AND desired_price IS NULL"
    )


def downgrade() -> None:
    # The old meaning cannot be restored from a channel-currency price without the rule and rate.
    pass
