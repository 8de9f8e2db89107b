"""Bulk edit and bulk delete on PostgreSQL: per-record savepoints, rules per record and per batch."""
import pytest

from tests.engine.services.test_bulk import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
