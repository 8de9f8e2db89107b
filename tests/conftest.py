"""Shared fixtures. Storage fixtures (``db_engine``, ``make_tenant``, ``actor``) live in
``tests/engine/storage/support.py`` so the PostgreSQL suite can override ``db_engine``."""
from tests.engine.storage.support import actor, db_engine, make_tenant, member  # noqa: F401  (fixtures)
