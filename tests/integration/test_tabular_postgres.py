"""The import/export service tests on PostgreSQL."""
import pytest

from tests.engine.services.test_exports import *  # noqa: F401,F403
from tests.engine.services.test_imports import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
