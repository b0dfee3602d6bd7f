"""webhook_deliveries: marketplace webhook deliveries, recorded once (replays and late ones change nothing)

Revision ID: 0012_webhook_deliveries
Revises: 0011_native_sales
Create Date: 2026-12-02 01:30:00
"""
from alembic import op
import sqlalchemy as sa
import listing_sync.syncer.types


revision = '0012_webhook_deliveries'
down_revision = '0011_native_sales'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('order_id', sa.String(length=200), nullable=True),
    sa.Column('order_updated_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_webhook_deliveries_channel_id_channels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('channel_id', 'delivery_id', name=op.f('uq_webhook_deliveries_channel_id_delivery_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_channel_order', ['channel_id', 'order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_channel_order')
    op.drop_table('webhook_deliveries')
