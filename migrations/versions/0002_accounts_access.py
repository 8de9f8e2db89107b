"""Accounts and access: departments, roles, user roles, permissions, API tokens, sign-in attempts.

Users gain ``department_id``, ``attributes`` and ``is_external``. On SQLite the users table is
rebuilt by Alembic's batch mode (SQLite cannot add a foreign key to an existing table); rows
are copied, so existing users keep their ids and data. Frozen history: no model imports.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", ID, autoincrement=True, nullable=False)


def _tenant(table: str) -> list:
    return [sa.Column("tenant_id", ID, nullable=False),
            sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants",
                                    ondelete="CASCADE")]


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}",
                                   ondelete=ondelete)


TENANT_TABLES = ("departments", "roles", "user_roles", "permissions", "api_tokens")


def upgrade() -> None:
    op.create_table(
        "departments", _id(), *_tenant("departments"),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("name", JSON, nullable=False),
        sa.Column("head_user_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_departments"),
        _fk("departments", "parent_id", "departments", "SET NULL"),
        _fk("departments", "head_user_id", "users", "SET NULL"),
        sa.UniqueConstraint("tenant_id", "key", name="uq_departments_tenant_id_key"),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("department_id", ID, nullable=True))
        batch.add_column(sa.Column("attributes", JSON, nullable=True))
        batch.add_column(sa.Column("is_external", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.create_foreign_key("fk_users_department_id_departments", "departments", ["department_id"], ["id"],
                                 ondelete="SET NULL")
    op.create_table(
        "roles", _id(), *_tenant("roles"),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("label", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roles"),
        sa.UniqueConstraint("tenant_id", "key", name="uq_roles_tenant_id_key"),
    )
    op.create_table(
        "user_roles", _id(), *_tenant("user_roles"),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_user_roles"),
        _fk("user_roles", "user_id", "users", "CASCADE"),
        _fk("user_roles", "role_id", "roles", "CASCADE"),
        sa.UniqueConstraint("user_id", "role_id", name="uq_user_roles_user_id_role_id"),
    )
    op.create_table(
        "permissions", _id(), *_tenant("permissions"),
        sa.Column("role_id", ID, nullable=False),
        sa.Column("target", sa.String(60), nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_permissions"),
        _fk("permissions", "role_id", "roles", "CASCADE"),
        sa.UniqueConstraint("role_id", "target", name="uq_permissions_role_id_target"),
    )
    op.create_table(
        "api_tokens", _id(), *_tenant("api_tokens"),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("last_used_at", UTC, nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        _fk("api_tokens", "user_id", "users", "CASCADE"),
        sa.UniqueConstraint("prefix", name="uq_api_tokens_prefix"),
    )
    op.create_table(
        "login_attempts", _id(),
        sa.Column("tenant_id", ID, nullable=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
        _fk("login_attempts", "tenant_id", "tenants", "CASCADE"),
    )
    op.create_index("ix_login_attempts_email_at", "login_attempts", ["email", "at"])
    op.create_index("ix_login_attempts_ip_at", "login_attempts", ["ip", "at"])
    op.create_index("ix_login_attempts_tenant_id", "login_attempts", ["tenant_id"])
    for table in TENANT_TABLES:
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])


def downgrade() -> None:
    op.drop_table("login_attempts")
    for table in ("api_tokens", "permissions", "user_roles", "roles"):
        op.drop_table(table)
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_department_id_departments", type_="foreignkey")
        batch.drop_column("is_external")
        batch.drop_column("attributes")
        batch.drop_column("department_id")
    op.drop_table("departments")
