"""The app import/export and OpenAPI tests on PostgreSQL."""
import pytest

from tests.engine.services.test_apps import *  # noqa: F401,F403
from tests.engine.services.test_openapi import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
