"""The load benchmark still runs end to end (a few writes; PostgreSQL, Redis, gunicorn; no timing assertions)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_load_benchmark_runs_with_a_few_writes(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_load", "--clients", "4", "--ops", "10",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ratio qms/baseline" in done.stdout
    figures = json.loads(out.read_text())
    assert figures["qms"]["writes"] == 40 and figures["baseline"]["writes"] == 40
    assert figures["qms"]["writes_per_s"] > 0 and figures["ratio"]["writes_per_s"] > 0
