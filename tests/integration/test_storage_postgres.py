"""The storage tests (record tables, serial numbers, migrations) on PostgreSQL."""
import pytest

from tests.engine.storage.test_migrations import *  # noqa: F401,F403
from tests.engine.storage.test_record_tables import *  # noqa: F401,F403
from tests.engine.storage.test_serials import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
