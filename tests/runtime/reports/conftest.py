"""The report site (tests/runtime/reports/support.py), built once per test."""
from __future__ import annotations

import pytest

from tests.runtime.reports.support import build_site


@pytest.fixture()
def site(tmp_path):
    return build_site(tmp_path)
