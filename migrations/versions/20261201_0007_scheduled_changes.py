"""scheduled changes: promotion prices applied by the worker at their start and reverted at their end

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00
"""
from alembic import op
import sqlalchemy as sa
import listing_sync.syncer.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduled_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('command', sa.String(length=500), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('starts_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('force', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('start_change_set_id', sa.Integer(), nullable=True),
    sa.Column('end_change_set_id', sa.Integer(), nullable=True),
    sa.Column('started_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['start_change_set_id'], ['change_sets.id'], name=op.f('fk_scheduled_changes_start_change_set_id_change_sets')),
    sa.ForeignKeyConstraint(['end_change_set_id'], ['change_sets.id'], name=op.f('fk_scheduled_changes_end_change_set_id_change_sets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_changes'))
    )
    with op.batch_alter_table('scheduled_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_changes_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_changes_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_changes_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scheduled_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_changes_status'))
        batch_op.drop_index(batch_op.f('ix_scheduled_changes_ends_at'))
        batch_op.drop_index(batch_op.f('ix_scheduled_changes_starts_at'))
    op.drop_table('scheduled_changes')
