"""Shared fixtures. Storage fixtures (``db_engine``, ``make_tenant``, ``actor``) live in
``tests/engine/storage/support.py`` so the PostgreSQL suite can override ``db_engine``."""
from tests.engine.storage.support import actor, db_engine, make_tenant, member  # noqa: F401  (fixtures)

import pytest  # noqa: E402

from engine.jobs import queue  # noqa: E402


@pytest.fixture(autouse=True)
def deferred_jobs():
    """Background jobs wait in a list (``deferred_jobs.run_all()`` runs them) instead of starting
    threads under a test's feet; tests that start real workers or servers set their own backend."""
    backend = queue.DeferredBackend()
    previous = queue.use(backend)
    yield backend
    queue.use(previous)
