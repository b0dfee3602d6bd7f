"""leases: one writer per channel across processes; sync_runs.owner (which process ran it)

Revision ID: 20261201_leases
Revises: 0004
Create Date: 2026-12-01 20:55:00
"""
from alembic import op
import sqlalchemy as sa
import listing_sync.syncer.types


revision = '20261201_leases'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('leases',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('acquired_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leases'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('owner')
    op.drop_table('leases')
