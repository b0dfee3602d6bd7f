"""web users, API tokens and the web audit: who may use the console and the HTTP API

Revision ID: 0010_web_users
Revises: 0009
Create Date: 2026-12-02 01:00:00
"""
from alembic import op
import sqlalchemy as sa
import listing_sync.syncer.types


revision = '0010_web_users'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_users')),
    sa.UniqueConstraint('name', name=op.f('uq_web_users_name'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_ip', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['web_users.id'], name=op.f('fk_api_tokens_user_id_web_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_tokens_prefix'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_table('web_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', listing_sync.syncer.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('user', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_audit'))
    )
    op.create_index(op.f('ix_web_audit_at'), 'web_audit', ['at'], unique=False)
    op.create_index('ix_web_audit_event_user_ip_at', 'web_audit', ['event', 'user', 'ip', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_web_audit_event_user_ip_at', table_name='web_audit')
    op.drop_index(op.f('ix_web_audit_at'), table_name='web_audit')
    op.drop_table('web_audit')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('web_users')
