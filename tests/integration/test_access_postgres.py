"""Access control and accounts on PostgreSQL, and migration 0002 over existing data."""
import uuid

import pytest
from sqlalchemy import text

from engine.storage.db import make_engine
from tests.engine.access.test_migration_0002 import upgrade_keeps_data
from tests.engine.access.test_records_access import *  # noqa: F401,F403
from tests.engine.access.test_rules import *  # noqa: F401,F403
from tests.engine.services.test_accounts import *  # noqa: F401,F403
from tests.integration.conftest import PG_URL

pytestmark = pytest.mark.integration


def test_upgrade_from_0001_keeps_data_on_postgresql(pg_engine):
    schema = f"qms_mig_{uuid.uuid4().hex[:12]}"
    with pg_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade_keeps_data(engine)
    finally:
        engine.dispose()
        with pg_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
