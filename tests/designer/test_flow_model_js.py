"""Runs the flow designer's model tests in node (tests/designer/js/flow_model.test.mjs): every
template flow survives load → save unchanged, and the tree edits rewrite only what they change.
Skipped when node is not installed (CI has it)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TEST = Path(__file__).parent / "js" / "flow_model.test.mjs"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_flow_model_in_node():
    done = subprocess.run(["node", "--test", str(TEST)], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
