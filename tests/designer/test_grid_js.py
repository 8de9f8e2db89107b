"""Runs the dashboard grid's packing tests (tests/designer/js/grid.test.mjs) with node; skipped
only when node is not installed."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TEST = Path(__file__).parent / "js" / "grid.test.mjs"


def test_grid_packing_in_node():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run([node, "--test", str(TEST)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
