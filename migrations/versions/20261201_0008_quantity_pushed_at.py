"""channel_listings.quantity_pushed_at: when a push last set the marketplace's quantity

Revision ID: 20261201_qty_pushed_at
Revises: 0007
Create Date: 2026-12-01 22:30:00
"""
from alembic import op
import sqlalchemy as sa
import listing_sync.syncer.types


revision = '20261201_qty_pushed_at'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channel_listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quantity_pushed_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('channel_listings', schema=None) as batch_op:
        batch_op.drop_column('quantity_pushed_at')
