"""PostgreSQL for the integration suite: the storage/record tests re-run against a real server.

``db_engine`` is overridden with an engine on a fresh schema (``qms_test_<random>``, made the
search_path of every connection, dropped at the end of the session). When PostgreSQL cannot
be reached the suite is skipped — unless ``CI=true`` or ``QMS_REQUIRE_SERVICES=1``, where that
is a failure. ``QMS_TEST_DATABASE_URL`` points elsewhere than the default server.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from engine.storage.db import make_engine, upgrade_database

PG_URL = os.environ.get("QMS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def services_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("QMS_REQUIRE_SERVICES") == "1"


def _reachable(engine) -> str | None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return str(exc.orig or exc).strip().splitlines()[0]
    return None


@pytest.fixture(scope="session")
def pg_engine():
    """An engine whose connections all use a fresh, migrated schema."""
    # pre-ping: test_load_faults restarts the server mid-session; pooled connections must not fail then
    admin = make_engine(PG_URL, connect_args={"connect_timeout": 3}, pool_pre_ping=True)
    problem = _reachable(admin)
    if problem is not None:
        admin.dispose()
        reason = f"PostgreSQL is not reachable at {PG_URL} ({problem})"
        if services_required():
            pytest.fail(reason + " — required because CI=true or QMS_REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip(reason + " — set it up or run in CI to include the PostgreSQL suite")
    schema = f"qms_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"}, pool_size=12, max_overflow=8,
                         pool_pre_ping=True)
    try:
        upgrade_database(engine)
        yield engine
    finally:
        engine.dispose()
        _drop_schema(admin, schema)
        admin.dispose()


def _drop_schema(admin, schema: str, batch: int = 40) -> None:
    """Drop the test schema a few tables per transaction: one DROP SCHEMA … CASCADE over the
    thousands of record tables the QMS app tests create takes more locks than the server allows
    in one transaction (max_locks_per_transaction)."""
    with admin.connect() as conn:
        names = [r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                                            {"s": schema})]
    for start in range(0, len(names), batch):
        with admin.begin() as conn:
            for name in names[start:start + batch]:
                conn.execute(text(f'DROP TABLE IF EXISTS "{schema}"."{name}" CASCADE'))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def db_engine(pg_engine):
    """Overrides the SQLite default: the same tests, on PostgreSQL."""
    assert pg_engine.dialect.name == "postgresql"
    return pg_engine
