"""Fixtures for definition tests (builders live in defbuild.py)."""
from __future__ import annotations

import pytest

from tests.engine.definitions.defbuild import read_fixture


@pytest.fixture
def supplier_def() -> dict:
    return read_fixture("supplier.json")


@pytest.fixture
def iqc_def() -> dict:
    return read_fixture("all_field_types.json")
