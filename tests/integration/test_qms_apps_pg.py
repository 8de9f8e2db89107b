"""The shipped QMS apps install, re-install and upgrade in place on PostgreSQL."""
import pytest

from tests.templates_qms.test_catalog import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
