"""Reports and dashboards (current definitions and every published version), and the AQL
switching state per supplier × part × defect class. Frozen history: no model imports.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = sa.DateTime(timezone=True)


def _tenant(table: str) -> list:
    return [sa.Column("id", ID, autoincrement=True, nullable=False),
            sa.Column("tenant_id", ID, nullable=False),
            sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"),
                                    ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))]


def upgrade() -> None:
    op.create_table(
        "report_definitions", *_tenant("report_definitions"),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("app_key", sa.String(length=40), nullable=True),
        sa.Column("form_key", sa.String(length=40), nullable=False),
        sa.Column("chart_type", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_report_definitions_tenant_id_key")))
    with op.batch_alter_table("report_definitions", schema=None) as batch_op:
        batch_op.create_index("ix_report_definitions_form", ["tenant_id", "form_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_definitions_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "dashboard_definitions", *_tenant("dashboard_definitions"),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("app_key", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_dashboard_definitions_tenant_id_key")))
    with op.batch_alter_table("dashboard_definitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_definitions_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "report_versions", *_tenant("report_versions"),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("published_at", UTC, nullable=False),
        sa.Column("published_by", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("tenant_id", "kind", "key", "version",
                            name=op.f("uq_report_versions_tenant_id_kind_key_version")))
    with op.batch_alter_table("report_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_versions_tenant_id"), ["tenant_id"], unique=False)


    op.create_table(
        "aql_switching_states", *_tenant("aql_switching_states"),
        sa.Column("supplier", sa.String(length=100), nullable=False),
        sa.Column("part", sa.String(length=100), nullable=False),
        sa.Column("defect_class", sa.String(length=20), server_default="", nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("lots", sa.Integer(), server_default="0", nullable=False),
        sa.Column("history", JSON, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.UniqueConstraint("tenant_id", "supplier", "part", "defect_class",
                            name=op.f("uq_aql_switching_states_tenant_id_supplier_part_defect_class")))
    with op.batch_alter_table("aql_switching_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aql_switching_states_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    for table in ("aql_switching_states", "report_versions", "dashboard_definitions", "report_definitions"):
        op.drop_table(table)
