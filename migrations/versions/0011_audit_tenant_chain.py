"""The audit trail chained per tenant: ``audit_log.seq`` (1, 2, 3 … per tenant), the chain's end
per tenant (``audit_heads``) and the log of verifications (``audit_checks``).

Existing entries (chained per record until now) are re-chained per tenant in id order: seq
1..n, prev_hash = the tenant's previous entry's hash, entry_hash recomputed with the new hash
body (which covers seq). Frozen history: no model imports, the hash is spelled out here.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""
from __future__ import annotations

import hashlib
import json
from datetime import timezone

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = sa.DateTime(timezone=True)
BATCH = 2000

_log = sa.table("audit_log", sa.column("id", ID), sa.column("tenant_id", ID), sa.column("form_key", sa.String),
                sa.column("record_id", sa.BigInteger), sa.column("action", sa.String),
                sa.column("actor_id", sa.BigInteger), sa.column("at", UTC), sa.column("reason", sa.Text),
                sa.column("def_version", sa.Integer), sa.column("changes", JSON),
                sa.column("prev_hash", sa.String), sa.column("entry_hash", sa.String),
                sa.column("seq", sa.BigInteger))
_heads = sa.table("audit_heads", sa.column("tenant_id", ID), sa.column("seq", sa.BigInteger),
                  sa.column("entry_hash", sa.String))
_HASHED = ("tenant_id", "seq", "form_key", "record_id", "action", "actor_id", "reason", "def_version", "changes",
           "prev_hash")


def _entry_hash(entry) -> str:
    at = entry["at"]
    at = (at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)).isoformat()
    body = {k: entry[k] for k in _HASHED} | {"at": at}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
    op.create_table(
        "audit_heads",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_audit_heads_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_audit_heads")))
    op.create_table(
        "audit_checks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("head_seq", sa.BigInteger(), nullable=True),
        sa.Column("head_hash", sa.String(length=64), nullable=True),
        sa.Column("broken", JSON, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_audit_checks_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checks")))
    with op.batch_alter_table("audit_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checks_tenant_id"), ["tenant_id"], unique=False)
    _rechain(op.get_bind())
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_log_tenant_id_seq"), ["tenant_id", "seq"])


def _rechain(conn) -> None:
    """Chain every tenant's existing entries in id order and record each tenant's head."""
    tenant_ids = conn.execute(sa.select(_log.c.tenant_id).distinct().order_by(_log.c.tenant_id)).scalars().all()
    update = (sa.update(_log).where(_log.c.id == sa.bindparam("entry_id"))
              .values(seq=sa.bindparam("new_seq"), prev_hash=sa.bindparam("new_prev"),
                      entry_hash=sa.bindparam("new_hash")))
    for tenant_id in tenant_ids:
        seq, prev, last_id = 0, None, 0
        while True:
            rows = conn.execute(sa.select(_log).where(_log.c.tenant_id == tenant_id, _log.c.id > last_id)
                                .order_by(_log.c.id).limit(BATCH)).mappings().all()
            if not rows:
                break
            changes = []
            for row in rows:
                seq += 1
                entry = dict(row) | {"seq": seq, "prev_hash": prev}
                prev = _entry_hash(entry)
                changes.append({"entry_id": row["id"], "new_seq": seq, "new_prev": entry["prev_hash"],
                                "new_hash": prev})
            conn.execute(update, changes)
            last_id = rows[-1]["id"]
        conn.execute(sa.insert(_heads).values(tenant_id=tenant_id, seq=seq, entry_hash=prev))


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_log_tenant_id_seq"), type_="unique")
        batch_op.drop_column("seq")
    op.drop_table("audit_checks")
    op.drop_table("audit_heads")
