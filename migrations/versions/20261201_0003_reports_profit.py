"""reports: cost history, order fees, per-SKU lead time and supplier, FX rate source

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:00:00
"""
from alembic import op
import sqlalchemy as sa
import listing_sync.syncer.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sku_costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cost', listing_sync.syncer.types.Amount(precision=24, scale=6), nullable=True),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_sku_costs_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sku_costs'))
    )
    op.create_index('ix_sku_costs_sku_from', 'sku_costs', ['sku_id', 'valid_from'], unique=False)
    # the costs known today, valid from the SKU's creation
    op.execute("INSERT INTO sku_costs (sku_id, valid_from, cost) SELECT id, created_at, cost FROM skus")
    with op.batch_alter_table('skus') as batch:
        batch.add_column(sa.Column('lead_time_days', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('supplier', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('fees', listing_sync.syncer.types.Amount(precision=24, scale=6), nullable=True))
    with op.batch_alter_table('fx_rates') as batch:
        batch.add_column(sa.Column('source', sa.String(length=40), nullable=False, server_default='manual'))


def downgrade() -> None:
    with op.batch_alter_table('fx_rates') as batch:
        batch.drop_column('source')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('fees')
    with op.batch_alter_table('skus') as batch:
        batch.drop_column('supplier')
        batch.drop_column('lead_time_days')
    op.drop_index('ix_sku_costs_sku_from', table_name='sku_costs')
    op.drop_table('sku_costs')
