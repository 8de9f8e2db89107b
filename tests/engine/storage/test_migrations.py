"""Alembic: the migrations create exactly the tables engine/storage/platform.py declares."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.storage.db import upgrade_database
from engine.storage.platform import metadata


def _include(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and reflected and name not in metadata.tables)


def test_migrations_match_the_platform_tables(db_engine):
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include})
        assert compare_metadata(context, metadata) == []
        assert context.get_current_revision() is not None


def test_upgrade_is_idempotent(db_engine):
    upgrade_database(db_engine)        # already at head: nothing to do, no error
    assert set(metadata.tables) <= set(inspect(db_engine).get_table_names())
