"""The designer's draft/publish/version services on PostgreSQL (compare-and-swap revisions,
checks that leave no DDL behind, publishing every kind)."""
import pytest

from tests.engine.services.test_designs import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
