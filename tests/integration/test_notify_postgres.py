"""Notifications, the mail outbox and outbound deliveries on PostgreSQL (claims, leases, JSONB).

Job functions open their own engine from the database URL; here that must be the test schema's
engine (its search_path lives in connect_args, which a URL does not carry), so ``engine_for`` is
pointed at it.
"""
import pytest

from engine.jobs import queue as job_queue
from tests.engine.services.test_deliveries import *  # noqa: F401,F403
from tests.engine.services.test_mail import *  # noqa: F401,F403
from tests.engine.services.test_notifications import *  # noqa: F401,F403

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("job_env")]   # the modules' own marks are replaced here


@pytest.fixture(autouse=True)
def _jobs_use_the_test_schema(monkeypatch, db_engine):
    monkeypatch.setattr(job_queue, "engine_for", lambda url: db_engine)
