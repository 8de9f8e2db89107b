"""The writes of a flow move, queued and sent together: one round trip on PostgreSQL.

A transition ends with several statements nobody reads a result of (close tasks, insert the new
ones, update the instance and the record's ``flow_state``, insert the timeline entries). They
are queued on the session (:func:`queue`) in the order they must run and sent by
:func:`engine.services.flows.flush_events` — at the end of every move, before anything of the
move is read back, and at the latest before commit; a rollback forgets them (:func:`drop`).

On PostgreSQL every statement is a network round trip, so the queue goes out in a psycopg 3
*pipeline*: sent together, executed by the server in order within the caller's transaction,
synchronised once at the end. SQLite (in-process) runs them one by one. Only the queued
statements run inside the pipeline (never arbitrary code: a SELECT there would return no rows),
so none may need a result while queued: an INSERT is issued ``inline()`` (no implicit
RETURNING), and an UPDATE that must hit exactly one row says what to raise otherwise
(``on_miss``), checked with the row count once the pipeline is synchronised. An error of a
queued statement surfaces there as the usual SQLAlchemy exception, and the owner of the
transaction rolls it back as after any failed statement.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

# (statement, parameters: a dict, or a list of dicts for executemany, what to raise unless one row matched)
Write = tuple[Executable, Any, "Callable[[], Exception] | None"]
_QUEUED = "qms.flow_writes"          # session.info: writes queued in this transaction


def queue(session: Session, stmt: Executable, params: Any, on_miss: Callable[[], Exception] | None = None) -> None:
    """Queue a write of the current move (sent by ``flows.flush_events``)."""
    session.info.setdefault(_QUEUED, []).append((stmt, params, on_miss))


def take(session: Session) -> list[Write]:
    """The queued writes, in order; the queue is empty afterwards."""
    return session.info.pop(_QUEUED, None) or []


def drop(session: Session) -> None:
    """Forget queued writes (their transaction or savepoint was rolled back)."""
    session.info.pop(_QUEUED, None)


def execute_together(session: Session, writes: Sequence[Write]) -> None:
    """Execute ``writes`` in order in the session's transaction, then check each ``on_miss``."""
    if not writes:
        return
    conn = session.connection()
    raw = conn.connection.driver_connection
    if len(writes) < 2 or conn.dialect.driver != "psycopg" or not hasattr(raw, "pipeline"):
        results = [conn.execute(stmt, params) for stmt, params, _ in writes]
    else:
        import psycopg
        try:
            with raw.pipeline():
                results = [conn.execute(stmt, params) for stmt, params, _ in writes]
        except psycopg.Error as exc:        # raised by the sync, outside SQLAlchemy's own wrapping
            raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
    for (_, _, on_miss), result in zip(writes, results):
        if on_miss is not None and rowcount(result) != 1:
            raise on_miss()


def rowcount(result: CursorResult) -> int:
    """Rows an UPDATE matched, also when it ran in a pipeline (SQLAlchemy saw -1 while it was
    queued; the DB-API cursor has the real count once the pipeline is synchronised)."""
    count = result.rowcount
    if count == -1 and result.context.cursor is not None:
        count = result.context.cursor.rowcount
    return count
