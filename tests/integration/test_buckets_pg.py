"""Date buckets on PostgreSQL: sql_bucket (AT TIME ZONE, isoyear) equals bucket_of, the write path,
republishing, ensure_index, and migration 0008 on a fresh schema taken down to 0007."""
import uuid

import pytest
from sqlalchemy import text

from engine.storage.db import make_engine, upgrade_database
from engine.types import Actor
from tests.engine.storage.support import create_tenant
from tests.engine.storage.test_buckets import (  # noqa: F401  (the same tests, db_engine on PostgreSQL)
    check_migration_backfills, test_a_tenant_without_a_calendar_buckets_in_the_calendar_default_zone,
    test_create_and_update_fill_the_buckets_in_the_tenant_zone, test_ensure_index_is_idempotent_and_checks_its_input,
    test_republish_adds_buckets_for_a_new_date_field_and_refills_only_what_lacks_them, test_sql_bucket_equals_bucket_of,
    test_the_zone_costs_no_query_of_its_own)
from tests.integration.conftest import PG_URL

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_at_0007(pg_engine):
    """A schema of its own (the test takes it down to 0007 after writing records at head)."""
    schema = f"qms_b8_{uuid.uuid4().hex[:12]}"
    with pg_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade_database(engine)
        yield engine
    finally:
        engine.dispose()
        with pg_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_migration_0008_backfills_on_postgresql(pg_at_0007):
    def make_actor():
        return Actor(tenant_id=create_tenant(pg_at_0007), user_id=1, lang="en", name="T", is_admin=True)
    check_migration_backfills(pg_at_0007, make_actor)
