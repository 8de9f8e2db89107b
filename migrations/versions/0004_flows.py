"""Flow engine: definitions and versions, instances, tasks, timeline events, e-signatures,
delegations and the tenant work calendar. Frozen history: no model imports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('flow_definitions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('form_key', sa.String(length=40), nullable=False),
    sa.Column('app_key', sa.String(length=40), nullable=True),
    sa.Column('draft', JSON, nullable=True),
    sa.Column('current_version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_flow_definitions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_definitions')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_flow_definitions_tenant_id_key'))
    )
    op.create_index(op.f('ix_flow_definitions_tenant_id'), 'flow_definitions', ['tenant_id'], unique=False)
    op.create_index('ix_flow_definitions_form', 'flow_definitions', ['tenant_id', 'form_key'], unique=False)
    op.create_table('flow_delegations',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('delegate_id', sa.BigInteger(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('revoked_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_flow_delegations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_delegations'))
    )
    op.create_index(op.f('ix_flow_delegations_tenant_id'), 'flow_delegations', ['tenant_id'], unique=False)
    op.create_index('ix_flow_delegations_user', 'flow_delegations', ['tenant_id', 'user_id'], unique=False)
    op.create_table('flow_instances',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('flow_key', sa.String(length=40), nullable=False),
    sa.Column('flow_version', sa.Integer(), nullable=False),
    sa.Column('form_key', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('submitter_id', sa.BigInteger(), nullable=True),
    sa.Column('run', sa.Integer(), nullable=False),
    sa.Column('tokens', JSON, nullable=False),
    sa.Column('joins', JSON, nullable=False),
    sa.Column('returned_to', sa.String(length=40), nullable=True),
    sa.Column('started_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('ended_at', UTC, nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_flow_instances_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_instances'))
    )
    op.create_index('ix_flow_instances_record', 'flow_instances', ['tenant_id', 'form_key', 'record_id'], unique=False)
    op.create_index('ix_flow_instances_submitter', 'flow_instances', ['tenant_id', 'submitter_id', 'state'], unique=False)
    op.create_index(op.f('ix_flow_instances_tenant_id'), 'flow_instances', ['tenant_id'], unique=False)
    op.create_table('flow_versions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('flow_key', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('form_key', sa.String(length=40), nullable=False),
    sa.Column('definition', JSON, nullable=False),
    sa.Column('published_at', UTC, nullable=False),
    sa.Column('published_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_flow_versions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_versions')),
    sa.UniqueConstraint('tenant_id', 'flow_key', 'version', name=op.f('uq_flow_versions_tenant_id_flow_key_version'))
    )
    op.create_index('ix_flow_versions_form', 'flow_versions', ['tenant_id', 'form_key'], unique=False)
    op.create_index(op.f('ix_flow_versions_tenant_id'), 'flow_versions', ['tenant_id'], unique=False)
    op.create_table('work_calendars',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('data', JSON, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_work_calendars_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_calendars')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_work_calendars_tenant_id'))
    )
    op.create_index(op.f('ix_work_calendars_tenant_id'), 'work_calendars', ['tenant_id'], unique=False)
    op.create_table('flow_events',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('instance_id', ID, nullable=False),
    sa.Column('form_key', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('node_id', sa.String(length=40), nullable=True),
    sa.Column('task_id', sa.BigInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('data', JSON, nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instances.id'], name=op.f('fk_flow_events_instance_id_flow_instances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_flow_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_events'))
    )
    op.create_index('ix_flow_events_instance', 'flow_events', ['instance_id'], unique=False)
    op.create_index('ix_flow_events_record', 'flow_events', ['tenant_id', 'form_key', 'record_id'], unique=False)
    op.create_index(op.f('ix_flow_events_tenant_id'), 'flow_events', ['tenant_id'], unique=False)
    op.create_table('flow_signatures',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('instance_id', ID, nullable=False),
    sa.Column('task_id', sa.BigInteger(), nullable=False),
    sa.Column('form_key', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('record_version', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('printed_name', sa.String(length=200), nullable=False),
    sa.Column('meaning', sa.String(length=40), nullable=False),
    sa.Column('meaning_label', JSON, nullable=False),
    sa.Column('signed_at', UTC, nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('signature_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instances.id'], name=op.f('fk_flow_signatures_instance_id_flow_instances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_flow_signatures_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_signatures'))
    )
    op.create_index('ix_flow_signatures_record', 'flow_signatures', ['tenant_id', 'form_key', 'record_id'], unique=False)
    op.create_index(op.f('ix_flow_signatures_tenant_id'), 'flow_signatures', ['tenant_id'], unique=False)
    op.create_table('flow_tasks',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('tenant_id', ID, nullable=False),
    sa.Column('instance_id', ID, nullable=False),
    sa.Column('node_id', sa.String(length=40), nullable=False),
    sa.Column('entry', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.BigInteger(), nullable=False),
    sa.Column('delegated_from', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('due_at', UTC, nullable=True),
    sa.Column('next_timer_at', UTC, nullable=True),
    sa.Column('reminders', sa.Integer(), server_default='0', nullable=False),
    sa.Column('acted_at', UTC, nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('added_by', sa.BigInteger(), nullable=True),
    sa.Column('signature_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instances.id'], name=op.f('fk_flow_tasks_instance_id_flow_instances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_flow_tasks_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_tasks'))
    )
    op.create_index('ix_flow_tasks_inbox', 'flow_tasks', ['tenant_id', 'assignee_id', 'status'], unique=False)
    op.create_index('ix_flow_tasks_instance', 'flow_tasks', ['instance_id', 'node_id', 'entry'], unique=False)
    op.create_index(op.f('ix_flow_tasks_tenant_id'), 'flow_tasks', ['tenant_id'], unique=False)
    op.create_index('ix_flow_tasks_timer', 'flow_tasks', ['next_timer_at'], unique=False)


def downgrade() -> None:
    op.drop_table("flow_tasks")
    op.drop_table("flow_signatures")
    op.drop_table("flow_events")
    op.drop_table("work_calendars")
    op.drop_table("flow_versions")
    op.drop_table("flow_instances")
    op.drop_table("flow_delegations")
    op.drop_table("flow_definitions")
