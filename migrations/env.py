"""Alembic environment for the platform tables (``engine.storage.platform.metadata``).

Run programmatically by ``engine.storage.db.upgrade_database(url)`` (which passes an open
connection in ``config.attributes["connection"]``), or from the CLI:
``alembic -c migrations/alembic.ini upgrade head`` with ``DATABASE_URL`` set.
"""
from __future__ import annotations

import os

from alembic import context

from engine.storage.db import make_engine
from engine.storage.platform import metadata

config = context.config


def _include_object(obj, name, type_, reflected, compare_to):
    # Record tables (t<tenant>_<form>…) are generated from definitions, not managed here.
    if type_ == "table" and reflected and name not in metadata.tables:
        return False
    return True


def _configure(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      include_object=_include_object, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("Set DATABASE_URL (or sqlalchemy.url) to run the migrations.")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) mode is not supported; run against a database.")
run_migrations_online()
