"""Rule engine: rule definitions and versions, the outbox (also the run log) and the
per-action run rows that make actions idempotent. Frozen history: no model imports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('rule_definitions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('app_key', sa.String(length=40), nullable=True),
    sa.Column('form_key', sa.String(length=40), nullable=True),
    sa.Column('trigger_type', sa.String(length=30), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('current_version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_run_at', UTC, nullable=True),
    sa.Column('hook_token_hash', sa.String(length=64), nullable=True),
    sa.Column('hook_secret', sa.String(length=128), nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('updated_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_rule_definitions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_definitions')),
    sa.UniqueConstraint('hook_token_hash', name=op.f('uq_rule_definitions_hook_token_hash')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_rule_definitions_tenant_id_key'))
    )
    with op.batch_alter_table('rule_definitions', schema=None) as batch_op:
        batch_op.create_index('ix_rule_definitions_form', ['tenant_id', 'form_key', 'enabled'], unique=False)
        batch_op.create_index('ix_rule_definitions_next_run', ['next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_definitions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('rule_outbox',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('rule_key', sa.String(length=100), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=30), nullable=False),
    sa.Column('form_key', sa.String(length=40), nullable=True),
    sa.Column('record_id', sa.BigInteger(), nullable=True),
    sa.Column('event', JSON, nullable=False),
    sa.Column('depth', sa.Integer(), server_default='0', nullable=False),
    sa.Column('origin_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', UTC, nullable=True),
    sa.Column('lease_until', UTC, nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('started_at', UTC, nullable=True),
    sa.Column('finished_at', UTC, nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_rule_outbox_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_outbox'))
    )
    with op.batch_alter_table('rule_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_rule_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_rule_outbox_rule', ['tenant_id', 'rule_key', 'id'], unique=False)
        batch_op.create_index('ix_rule_outbox_status', ['tenant_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_outbox_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('rule_versions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('rule_key', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', JSON, nullable=False),
    sa.Column('published_at', UTC, nullable=False),
    sa.Column('published_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_rule_versions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_versions')),
    sa.UniqueConstraint('tenant_id', 'rule_key', 'version', name=op.f('uq_rule_versions_tenant_id_rule_key_version'))
    )
    with op.batch_alter_table('rule_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_versions_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('rule_action_runs',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('outbox_id', ID, nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('action_type', sa.String(length=30), nullable=False),
    sa.Column('outcome', JSON, nullable=True),
    sa.Column('at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['rule_outbox.id'], name=op.f('fk_rule_action_runs_outbox_id_rule_outbox'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_action_runs')),
    sa.UniqueConstraint('outbox_id', 'idx', name=op.f('uq_rule_action_runs_outbox_id_idx'))
    )


def downgrade() -> None:
    op.drop_table('rule_action_runs')
    with op.batch_alter_table('rule_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_versions_tenant_id'))

    op.drop_table('rule_versions')
    with op.batch_alter_table('rule_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_outbox_tenant_id'))
        batch_op.drop_index('ix_rule_outbox_status')
        batch_op.drop_index('ix_rule_outbox_rule')
        batch_op.drop_index('ix_rule_outbox_due')

    op.drop_table('rule_outbox')
    with op.batch_alter_table('rule_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_definitions_tenant_id'))
        batch_op.drop_index('ix_rule_definitions_next_run')
        batch_op.drop_index('ix_rule_definitions_form')

    op.drop_table('rule_definitions')
