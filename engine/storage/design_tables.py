"""The designer's drafts (platform metadata; migration 0010 creates the table).

One row per definition being edited in the designer: the unpublished definition JSON (work in
progress, not validated), which app it belongs to, and a ``revision`` counter. Saving compares
and swaps the revision in SQL (``UPDATE … WHERE revision = :expected``), so of two designers
saving the same draft at once exactly one wins; the other is told who saved in between.
Publishing a draft deletes its row (the published version lives in the kind's own tables).
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, UniqueConstraint

from engine.storage.platform import IdType, JSONType, _tenant_fk, _utc, metadata

KINDS = ("form", "flow", "rule", "report", "dashboard")

designer_drafts = Table(
    "designer_drafts", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("kind", String(12), nullable=False),              # form flow rule report dashboard
    Column("key", String(40), nullable=False),
    Column("app_key", String(40), nullable=True),
    Column("definition", JSONType, nullable=False),
    Column("revision", Integer, nullable=False),
    _utc("updated_at", nullable=False),
    Column("updated_by", BigInteger, nullable=True),
    UniqueConstraint("tenant_id", "kind", "key"),
)
