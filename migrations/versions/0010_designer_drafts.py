"""The designer's drafts: one unpublished definition per (tenant, kind, key) with a revision
counter for concurrent-edit detection. Frozen history: no model imports.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "designer_drafts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("app_key", sa.String(length=40), nullable=True),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_designer_drafts_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designer_drafts")),
        sa.UniqueConstraint("tenant_id", "kind", "key", name=op.f("uq_designer_drafts_tenant_id_kind_key")))
    with op.batch_alter_table("designer_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_designer_drafts_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_table("designer_drafts")
