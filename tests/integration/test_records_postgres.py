"""The record-service tests (publish, records, audit, queries) on PostgreSQL."""
import pytest

from tests.engine.services.test_publish import *  # noqa: F401,F403
from tests.engine.services.test_query import *  # noqa: F401,F403
from tests.engine.services.test_record_writes import *  # noqa: F401,F403
from tests.engine.services.test_records import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
