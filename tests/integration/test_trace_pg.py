"""The trace tests (both directions, scopes, hidden fields, cycles, bounds, hubs, indexes and the
statement count) on PostgreSQL: window functions, DISTINCT sub-selects and scope joins as
PostgreSQL plans them."""
import pytest

from tests.engine.services.test_trace import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
