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


def reserve_serials(session: Session | Connection, tenant_id: int, scope: str, period: str, count: int) -> int:
    """Reserve ``count`` consecutive numbers of ``scope`` in ``period`` at once; the first of them.

    For bulk writers numbering many records in one transaction: the block is taken with one
    counter update, gap-free and exclusive like :func:`next_serial` (same row lock, rolled back
    with the caller's transaction), and the caller numbers its records first, first + 1, …
    """
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, not {count!r}")
    for _ in range(3):
        value = _increment(session, tenant_id, scope, period, count)
        if value is not None:
            return value - count + 1
        if _insert_first(session, tenant_id, scope, period, count):
            return 1
    raise RuntimeError(f"could not allocate serial numbers for {scope!r}/{period!r}")


def _increment(session, tenant_id: int, scope: str, period: str, by: int = 1) -> int | None:
    stmt = (update(sc)
            .where(and_(sc.c.tenant_id == tenant_id, sc.c.scope == scope, sc.c.period == period))
            .values(value=sc.c.value + by)
            .returning(sc.c.value))
    return session.execute(stmt).scalar_one_or_none()


def _insert_first(session, tenant_id: int, scope: str, period: str, value: int = 1) -> bool:
    """Insert the counter at ``value`` (1 for one number); False if another transaction created it first."""
    dialect = _dialect(session)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (insert(sc).values(tenant_id=tenant_id, scope=scope, period=period, value=value)
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
