"""Database engines, sessions and the programmatic Alembic upgrade.

SQLite is the embedded default, PostgreSQL (psycopg 3) the production database. Both are
made to behave alike where the engine relies on it:

* SQLite gets WAL (readers never block the writer), ``foreign_keys=ON`` (child rows cascade)
  and a busy timeout, set on every new DB-API connection.
* pysqlite's own transaction handling is switched off and SQLAlchemy emits ``BEGIN IMMEDIATE``
  itself, so DDL (publishing a form) is transactional like on PostgreSQL, and a write never
  fails half-way with "database is locked" because another connection wrote since our read
  snapshot: the write lock is taken up front and waits up to the busy timeout.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATION_LOCK_ID = 74_200_001       # pg_advisory lock key held while migrating
READ_ONLY_OPTION = "qms_read_only"   # execution option: this connection's transactions only read
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` (Heroku-style) → ``postgresql+psycopg://``."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    """A SQLAlchemy engine for ``url`` with the connection settings this engine relies on."""
    url = normalize_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No pre-ping (a round trip on every checkout, ~15 % of a simple write): after a database
    # restart the first statement on a dead connection fails, SQLAlchemy recognises the disconnect
    # and discards every pooled connection of that age, and the next request connects afresh.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Read-only work (a page view) asks for a deferred BEGIN: WAL readers then never wait
        # for a writer, and a long import does not freeze every page.
        deferred = conn.get_execution_options().get(READ_ONLY_OPTION)
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def stored_utc(value: datetime | None) -> datetime | None:
    """A timestamp as read back from a timezone column, in UTC: SQLite returns it naive (it is UTC),
    PostgreSQL aware in the connection's zone."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def read_only(engine: Engine) -> Engine:
    """The same engine for read-only sessions (deferred transactions on SQLite; same on PostgreSQL)."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None):
    """The Alembic config of ``migrations/`` (no alembic.ini needed, paths are absolute)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation would choke on '%' in passwords
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Run the platform migrations up to ``revision`` (the app start and tests call this)."""
    from alembic import command

    if isinstance(url_or_engine, Engine):
        cfg = alembic_config()
        with url_or_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # several gunicorn workers start at once: one migrates, the others wait and find
                # the schema at head (SQLite's BEGIN IMMEDIATE serialises them already)
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        return
    engine = make_engine(url_or_engine)
    try:
        upgrade_database(engine, revision)
    finally:
        engine.dispose()
