"""Report and dashboard definitions, and the AQL switching states (platform metadata; migration
0009 creates them).

The current definition of each report/dashboard sits in its row (what viewers read); every
published version is kept in ``report_versions`` (kind "report" | "dashboard"), so an earlier
one can be viewed or restored.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, UniqueConstraint, and_, insert, select, update

from engine.storage.platform import IdType, JSONType, _tenant_fk, _utc, metadata

report_definitions = Table(
    "report_definitions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("key", String(40), nullable=False),
    Column("app_key", String(40), nullable=True),
    Column("form_key", String(40), nullable=False),          # the dataset's form (read permission decides who sees it)
    Column("chart_type", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSONType, nullable=False),
    _utc("updated_at", nullable=False),
    Column("updated_by", BigInteger, nullable=True),
    UniqueConstraint("tenant_id", "key"),
    Index("ix_report_definitions_form", "tenant_id", "form_key"),
)

dashboard_definitions = Table(
    "dashboard_definitions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("key", String(40), nullable=False),
    Column("app_key", String(40), nullable=True),
    Column("version", Integer, nullable=False),
    Column("definition", JSONType, nullable=False),
    _utc("updated_at", nullable=False),
    Column("updated_by", BigInteger, nullable=True),
    UniqueConstraint("tenant_id", "key"),
)

report_versions = Table(
    "report_versions", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("kind", String(10), nullable=False),              # "report" | "dashboard"
    Column("key", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSONType, nullable=False),
    _utc("published_at", nullable=False),
    Column("published_by", BigInteger, nullable=True),
    UniqueConstraint("tenant_id", "kind", "key", "version"),
)

aql_switching_states = Table(     # ISO 2859-1 switching state per supplier × part × defect class
    "aql_switching_states", metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _tenant_fk(),
    Column("supplier", String(100), nullable=False),      # a supplier record id or code, as text
    Column("part", String(100), nullable=False),
    Column("defect_class", String(20), nullable=False, server_default=""),
    Column("state", JSONType, nullable=False),             # engine.quality.switching.SwitchingState.to_json()
    Column("lots", Integer, nullable=False, server_default="0"),
    Column("history", JSONType, nullable=False),           # the latest lots and switches, newest last (bounded)
    _utc("updated_at", nullable=False),
    UniqueConstraint("tenant_id", "supplier", "part", "defect_class"),
)


def definition_row(session, table: Table, tenant_id: int, key: str, lock: bool = False):
    """The row of one report or dashboard (``table``), locked for a new version when ``lock``
    (PostgreSQL; SQLite's write transaction already holds the database)."""
    stmt = select(table).where(and_(table.c.tenant_id == tenant_id, table.c.key == key))
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).first()


def store_version(session, table: Table, kind: str, tenant_id: int, key: str, definition: dict,
                  actor_id: int | None, app_key: str | None, **columns) -> int:
    """Make ``definition`` the current one of the report or dashboard ``key`` (its row locked) and
    keep it in ``report_versions``; the new version number. ``app_key`` None keeps the row's app."""
    row = definition_row(session, table, tenant_id, key, lock=True)
    version = (row.version if row else 0) + 1
    now = datetime.now(timezone.utc)
    values = {"app_key": app_key if app_key is not None else (row.app_key if row else None), "version": version,
              "definition": definition, "updated_at": now, "updated_by": actor_id, **columns}
    if row is None:
        session.execute(insert(table).values(tenant_id=tenant_id, key=key, **values))
    else:
        session.execute(update(table).where(table.c.id == row.id).values(**values))
    session.execute(insert(report_versions).values(tenant_id=tenant_id, kind=kind, key=key, version=version,
                                                   definition=definition, published_at=now, published_by=actor_id))
    return version
