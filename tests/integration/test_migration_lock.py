"""Several processes starting at once on a fresh PostgreSQL schema all end up migrated."""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import inspect, text

from engine.storage.db import make_engine, upgrade_database
from tests.integration.conftest import PG_URL

pytestmark = pytest.mark.integration


def test_concurrent_upgrades_on_a_fresh_schema(pg_engine):
    schema = f"qms_lock_{uuid.uuid4().hex[:8]}"
    with pg_engine.begin() as conn:        # pg_engine: the server is reachable (or the suite failed)
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engines = [make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"}) for _ in range(4)]
    errors: list[Exception] = []

    def run(eng):
        try:
            upgrade_database(eng)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
    try:
        threads = [threading.Thread(target=run, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert {"users", "form_versions", "jobs"} <= set(inspect(engines[0]).get_table_names())
    finally:
        for eng in engines:
            eng.dispose()
        with pg_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
