"""Gap-free serial numbers: one counter row per (tenant, scope, period).

The counter is incremented in the caller's transaction, so a rolled-back record also rolls
back its number (no gaps), and concurrent writers queue on the counter row's lock (no
duplicates). A missing row is inserted with ON CONFLICT DO NOTHING and the increment retried,
which is safe when two transactions create the same new period at once.
"""
from __future__ import annotations

from sqlalchemy import Connection, and_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.storage.platform import serial_counters as sc


def next_serial(session: Session | Connection, tenant_id: int, scope: str, period: str = "") -> int:
    """Reserve and return the next number (1, 2, 3 …) of ``scope`` in ``period``."""
    for _ in range(3):
        value = _increment(session, tenant_id, scope, period)
        if value is not None:
            return value
        if _insert_first(session, tenant_id, scope, period):
            return 1
    raise RuntimeError(f"could not allocate a serial number for {scope!r}/{period!r}")


def _increment(session, tenant_id: int, scope: str, period: str) -> int | None:
    stmt = (update(sc)
            .where(and_(sc.c.tenant_id == tenant_id, sc.c.scope == scope, sc.c.period == period))
            .values(value=sc.c.value + 1)
            .returning(sc.c.value))
    return session.execute(stmt).scalar_one_or_none()


def _insert_first(session, tenant_id: int, scope: str, period: str) -> bool:
    """Insert the counter at 1; False if another transaction created it first."""
    dialect = _dialect(session)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (insert(sc).values(tenant_id=tenant_id, scope=scope, period=period, value=1)
            .on_conflict_do_nothing(index_elements=["tenant_id", "scope", "period"])
            .returning(sc.c.value))
    return session.execute(stmt).scalar_one_or_none() is not None


def current_serial(session: Session | Connection, tenant_id: int, scope: str, period: str = "") -> int:
    """The last number handed out (0 if none)."""
    stmt = sc.select().with_only_columns(sc.c.value).where(
        and_(sc.c.tenant_id == tenant_id, sc.c.scope == scope, sc.c.period == period))
    return session.execute(stmt).scalar_one_or_none() or 0


def _dialect(session) -> str:
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.dialect.name
