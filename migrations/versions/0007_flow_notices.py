"""Flow timeline entries remember whether the people concerned were told (new task, reminder,
escalation, outcome): the notices go out after the step commits, and none is lost.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flow_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice", sa.SmallInteger(), nullable=True))
        batch_op.create_index("ix_flow_events_notice", ["notice"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flow_events", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_events_notice")
        batch_op.drop_column("notice")
