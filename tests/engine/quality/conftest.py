"""Fixtures for the quality tests: the shared reference folder is the source of truth.

Comparisons against ``/work/shared/qms-reference`` (or ``$QMS_REFERENCE_DIR``) are skipped only
when that folder does not exist (e.g. on a fresh clone outside the workspace).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_CANDIDATES = [os.environ.get("QMS_REFERENCE_DIR"),
               str(Path(__file__).resolve().parents[4] / "shared" / "qms-reference"),
               "/work/shared/qms-reference"]


def _reference_dir() -> Path | None:
    for candidate in _CANDIDATES:
        if candidate and Path(candidate, "aql_code_letters.json").is_file():
            return Path(candidate)
    return None


REFERENCE_DIR = _reference_dir()


@pytest.fixture(scope="session")
def reference():
    """``reference("aql_single_normal.json")`` → parsed JSON from the shared folder (or skip)."""
    if REFERENCE_DIR is None:
        pytest.skip("shared/qms-reference is not available")

    def load(name: str):
        return json.loads((REFERENCE_DIR / name).read_text(encoding="utf-8"))
    return load


@pytest.fixture(scope="session")
def dataset():
    """``dataset("pistonrings.txt")`` → list of row dicts (trial rows only), or skip."""
    if REFERENCE_DIR is None:
        pytest.skip("shared/qms-reference is not available")

    def load(name: str) -> list[dict]:
        lines = (REFERENCE_DIR / "datasets" / name).read_text().split("\n")
        header = lines[0].split()
        rows = [dict(zip(header, line.split())) for line in lines[1:] if line.strip()]
        return [r for r in rows if r.get("trial", "TRUE") == "TRUE"]
    return load
