"""The platform's own tables (SQLAlchemy Core). Alembic in ``migrations/`` creates and evolves them.

Record tables (one per published form) are *not* here: they are generated from definitions by
:mod:`engine.storage.record_tables`. Any change to this module needs a new migration.
"""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer,
                        MetaData, String, Table, Text, UniqueConstraint, false, true)
from sqlalchemy.dialects.postgresql import JSONB

# Deterministic constraint names, so migrations and reflection agree on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
IdType = BigInteger().with_variant(Integer(), "sqlite")


def _tenant_fk() -> Column:
    return Column("tenant_id", IdType, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True)


def _utc(name: str, **kw) -> Column:
    return Column(name, DateTime(timezone=True), **kw)


tenants = Table(
    "tenants", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("key", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    _utc("created_at", nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("password_hash", String(255), nullable=True),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("lang", String(10), nullable=False, server_default="zh-CN"),
    _utc("created_at", nullable=False),
    # 0002: access control
    Column("department_id", IdType, ForeignKey("departments.id", ondelete="SET NULL"), nullable=True),
    Column("attributes", JSONType, nullable=True),     # {"supplier": 12} for a supplier's staff
    Column("is_external", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("tenant_id", "email"),
)

apps = Table(
    "apps", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("key", String(40), nullable=False),
    Column("version", String(40), nullable=False),
    Column("label", JSONType, nullable=False),
    Column("package", JSONType, nullable=False),
    _utc("installed_at", nullable=False),
    UniqueConstraint("tenant_id", "key"),
)

form_definitions = Table(
    "form_definitions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("key", String(40), nullable=False),
    Column("app_key", String(40), nullable=True),
    Column("draft", JSONType, nullable=True),
    Column("current_version", Integer, nullable=False, server_default="0"),
    _utc("updated_at", nullable=True),
    UniqueConstraint("tenant_id", "key"),
)

form_versions = Table(
    "form_versions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("form_key", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSONType, nullable=False),
    Column("table_name", String(63), nullable=False),
    # The physical layout of the record tables after this publish (see record_tables.TableSpec)
    Column("storage", JSONType, nullable=False),
    # Definitions of the forms this one references, as they were at publish time, so lookups
    # keep their target's type when the version is loaded again later ({form_key: definition})
    Column("targets", JSONType, nullable=True),
    _utc("published_at", nullable=False),
    Column("published_by", BigInteger, nullable=True),
    UniqueConstraint("tenant_id", "form_key", "version"),
)

serial_counters = Table(
    "serial_counters", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("scope", String(120), nullable=False),     # "form:ncr" or "field:ncr.lot_no"
    Column("period", String(20), nullable=False),     # "" or "2026", "202604", "20260417"
    Column("value", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "scope", "period"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("form_key", String(40), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("action", String(20), nullable=False),
    Column("actor_id", BigInteger, nullable=True),
    _utc("at", nullable=False),
    Column("reason", Text, nullable=True),
    Column("def_version", Integer, nullable=False),
    Column("changes", JSONType, nullable=False),
    # Hash chain per tenant: entry_hash = sha256(canonical entry incl. seq and prev_hash) (see audit.py)
    Column("prev_hash", String(64), nullable=True),
    Column("entry_hash", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),         # 0011: 1, 2, 3 … per tenant, no gaps
    Index("ix_audit_log_record", "tenant_id", "form_key", "record_id"),
    UniqueConstraint("tenant_id", "seq"),
)

# 0011: the end of each tenant's audit chain (last seq and hash); writers lock this row, so the
# entries of one tenant are chained one after another, and a deleted tail entry is detectable.
audit_heads = Table(
    "audit_heads", metadata,
    Column("tenant_id", IdType, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("entry_hash", String(64), nullable=False),
)

# 0011: each run of the chain verification (admin page or ``qms verify-audit``), newest last.
audit_checks = Table(
    "audit_checks", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    _utc("at", nullable=False),
    Column("actor_id", BigInteger, nullable=True),     # None: the console command
    Column("ok", Boolean, nullable=False),
    Column("checked", BigInteger, nullable=False),     # entries verified
    Column("head_seq", BigInteger, nullable=True),
    Column("head_hash", String(64), nullable=True),
    Column("broken", JSONType, nullable=True),         # the first broken link (kind, seq, entry …)
)


# ---------------------------------------------------------------------------- 0002: access control

departments = Table(
    "departments", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("parent_id", IdType, ForeignKey("departments.id", ondelete="SET NULL"), nullable=True),
    Column("key", String(40), nullable=False),
    Column("name", JSONType, nullable=False),          # {"zh-CN": ..., "en": ...}
    Column("head_user_id", IdType, ForeignKey("users.id", ondelete="SET NULL", use_alter=True), nullable=True),
    UniqueConstraint("tenant_id", "key"),
)

roles = Table(
    "roles", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("key", String(40), nullable=False),
    Column("label", JSONType, nullable=False),
    UniqueConstraint("tenant_id", "key"),
)

user_roles = Table(
    "user_roles", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role_id", IdType, ForeignKey("roles.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("user_id", "role_id"),
)

permissions = Table(
    "permissions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("role_id", IdType, ForeignKey("roles.id", ondelete="CASCADE"), nullable=False),
    Column("target", String(60), nullable=False),      # "app:<key>" or "form:<key>"
    Column("rules", JSONType, nullable=False),         # see engine/access/rules.py
    UniqueConstraint("role_id", "target"),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),   # public part, to find the row
    Column("token_hash", String(64), nullable=False),            # sha256 hex of the whole token
    _utc("created_at", nullable=False),
    _utc("expires_at", nullable=True),
    _utc("last_used_at", nullable=True),
    _utc("revoked_at", nullable=True),
)

# Sign-in attempts, shared by every process (rate limiting must not depend on one process's memory)
login_attempts = Table(
    "login_attempts", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("tenant_id", IdType, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("email", String(254), nullable=False),
    Column("ip", String(64), nullable=True),
    _utc("at", nullable=False),
    Column("success", Boolean, nullable=False),
    Index("ix_login_attempts_email_at", "email", "at"),
    Index("ix_login_attempts_ip_at", "ip", "at"),
)

# Uploaded files (attachments, photos, signatures). Bytes live in the data directory, outside the
# web root, under a random name; a file is served only to users who may read its record.
files = Table(
    "files", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("form_key", String(40), nullable=True),
    Column("record_id", BigInteger, nullable=True),        # set once the record that uses it is saved
    Column("field_key", String(200), nullable=True),       # dotted through sub-tables
    Column("name", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(100), nullable=False, unique=True),
    Column("created_by", BigInteger, nullable=True),
    _utc("created_at", nullable=False),
    Index("ix_files_record", "tenant_id", "form_key", "record_id"),
)

# Background jobs (imports, exports, later rules): state and progress, visible to the user who
# started them and to admins. The same row serves the in-process runner and rq workers.
jobs = Table(
    "jobs", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("kind", String(40), nullable=False),
    Column("status", String(20), nullable=False),          # queued, running, done, failed
    Column("params", JSONType, nullable=False),
    Column("progress_done", BigInteger, nullable=False, server_default="0"),
    Column("progress_total", BigInteger, nullable=False, server_default="0"),
    Column("result", JSONType, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_by", BigInteger, nullable=True),
    _utc("created_at", nullable=False),
    _utc("started_at", nullable=True),
    _utc("finished_at", nullable=True),
    Index("ix_jobs_tenant_status", "tenant_id", "status"),
)


# The flow and rule engines' tables live in their own modules on the same metadata.
from engine.storage import flow_tables  # noqa: E402,F401
from engine.storage import rule_tables  # noqa: E402,F401
from engine.storage import notify_tables  # noqa: E402,F401
from engine.storage import report_tables  # noqa: E402,F401
from engine.storage import design_tables  # noqa: E402,F401
