"""The report query tests on PostgreSQL: the same numbers as hand-written SQL there too."""
import pytest

from tests.engine.reports.test_report_queries import *  # noqa: F401,F403

pytestmark = pytest.mark.integration
from tests.engine.reports.test_spc_charts import *  # noqa: F401,F403,E402
from tests.engine.reports.test_dashboards import *  # noqa: F401,F403,E402
