"""The flow benchmark still runs end to end (quick mode, SQLite; no timing assertions).

SpiffWorkflow is an optional extra (``.[bench]``): without it the quick run covers our side only
(``--no-spiff``), and the script itself refuses a run that needs it with exit code 2.
"""
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("bench_flows.py")


def _importable(name: str) -> bool:
    try:
        return importlib.import_module(name) is not None
    except ImportError:
        return False


HAS_SPIFF = _importable("SpiffWorkflow")


def test_flow_benchmark_runs_in_quick_mode(tmp_path):
    out = tmp_path / "figures.json"
    command = [sys.executable, str(SCRIPT), "--quick", "--json", str(out)] + ([] if HAS_SPIFF else ["--no-spiff"])
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "instances/s" in done.stdout and "QMS" in done.stdout and "due_timers" in done.stdout
    figures = json.loads(out.read_text())
    assert figures["part_a"]["qms"] > 0
    assert figures["part_b"]["tasks"] == 20_000 and figures["part_b"]["found"] > 0
    assert figures["part_b"]["best_ms"] > 0
    if HAS_SPIFF:
        assert "ratio" in done.stdout
        assert set(figures["part_a"]["spiff"]) == {"memory", "+json save", "+json load/save", "+json in db"}
        assert all(r > 0 for r in figures["part_a"]["ratios"].values())
    else:
        assert figures["part_a"]["spiff"] == {}


def test_without_spiffworkflow_it_says_how_to_install_it(tmp_path):
    """A stand-in package that fails to import hides an installed SpiffWorkflow."""
    fake = tmp_path / "SpiffWorkflow"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 2, done.stdout + done.stderr
    assert 'pip install "SpiffWorkflow>=3,<4"' in done.stderr
