"""order buyer: the buyer's contact for packing and shipping, personal data purged after the retention period

Revision ID: 0006
Revises: 20261201_leases
Create Date: 2026-12-01 21:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '20261201_leases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('buyer')
