"""native sales: a promotion's sale price per listing on marketplaces with a native (dated) sale price

Revision ID: 0011_native_sales
Revises: 0010_web_users
Create Date: 2026-12-02 01:40:00
"""
from alembic import op
import sqlalchemy as sa
import listing_sync.syncer.types


revision = '0011_native_sales'
down_revision = '0010_web_users'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('native_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheduled_change_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('regular_price', listing_sync.syncer.types.Amount(precision=24, scale=6), nullable=False),
    sa.Column('sale_price', listing_sync.syncer.types.Amount(precision=24, scale=6), nullable=False),
    sa.Column('starts_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('updated_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scheduled_change_id'], ['scheduled_changes.id'], name=op.f('fk_native_sales_scheduled_change_id_scheduled_changes')),
    sa.ForeignKeyConstraint(['listing_id'], ['channel_listings.id'], name=op.f('fk_native_sales_listing_id_channel_listings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_native_sales'))
    )
    with op.batch_alter_table('native_sales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_native_sales_scheduled_change_id'), ['scheduled_change_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_native_sales_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_native_sales_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('native_sales', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_native_sales_state'))
        batch_op.drop_index(batch_op.f('ix_native_sales_listing_id'))
        batch_op.drop_index(batch_op.f('ix_native_sales_scheduled_change_id'))
    op.drop_table('native_sales')
