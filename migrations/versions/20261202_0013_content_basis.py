"""content basis per listing: what its desired content hash was computed from

The full recompute resolves and hashes a listing's content only when the fingerprint of the SKU's stored
content or of the channel's content configuration differs from the one recorded with the hash. Existing
listings start without one: their next recompute computes the hash as before and records it.

Revision ID: 0013_content_basis
Revises: 0012_webhook_deliveries
Create Date: 2026-12-02 01:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_content_basis"
down_revision = "0012_webhook_deliveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN on both engines (no table rebuild: channel_listings may hold millions of rows)
    op.add_column("channel_listings", sa.Column("content_basis", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_listings") as batch:
        batch.drop_column("content_basis")
