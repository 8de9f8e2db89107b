"""Engines and sessions (SQLite-specific settings; PostgreSQL URLs are only rewritten)."""
import pytest
from sqlalchemy import insert, select, text

from engine.storage.db import make_engine, normalize_url, session_scope, upgrade_database
from engine.storage.platform import metadata, tenants


@pytest.mark.parametrize("url, expected", [
    ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_postgres_urls_use_psycopg3(url, expected):
    assert normalize_url(url) == expected
    if url.startswith("postgres"):
        assert make_engine(url).dialect.driver == "psycopg"


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_session_scope_commits_or_rolls_back_including_ddl(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    upgrade_database(f"sqlite:///{tmp_path / 'b.db'}")     # by URL as app start does
    with pytest.raises(ZeroDivisionError):
        with session_scope(engine) as s:
            s.execute(text("CREATE TABLE scratch (x INTEGER)"))
            s.execute(insert(tenants).values(key="a", name="A", created_at=text("CURRENT_TIMESTAMP")))
            1 / 0
    with session_scope(engine) as s:
        assert s.execute(select(tenants)).first() is None
        assert s.execute(text("SELECT name FROM sqlite_master WHERE name='scratch'")).first() is None  # DDL too
        s.execute(insert(tenants).values(key="b", name="B", created_at=text("CURRENT_TIMESTAMP")))
    with session_scope(engine) as s:
        assert s.execute(select(tenants.c.key)).scalars().all() == ["b"]


def test_downgrade_to_base_and_up_again(tmp_path):
    from alembic import command
    from engine.storage.db import alembic_config
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade_database(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert not set(metadata.tables) & set(conn.dialect.get_table_names(conn))
    upgrade_database(engine)
    with engine.connect() as conn:
        assert set(metadata.tables) <= set(conn.dialect.get_table_names(conn))


def test_read_only_sessions_do_not_wait_for_a_writer_on_sqlite(tmp_path):
    """A page view must not queue behind a long import holding SQLite's write lock."""
    import time
    from sqlalchemy import text
    from sqlalchemy.orm import Session
    from engine.storage.db import make_engine, read_only

    eng = make_engine(f"sqlite:///{tmp_path}/ro.db")
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    writer = Session(eng)
    writer.execute(text("INSERT INTO t VALUES (1)"))          # BEGIN IMMEDIATE: holds the lock
    started = time.monotonic()
    reader = Session(read_only(eng))
    assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
    assert time.monotonic() - started < 1.0
    reader.close()
    writer.commit()
    writer.close()
    eng.dispose()
