"""The REST API benchmark still runs end to end (quick mode, SQLite, gunicorn; no timing assertions)."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("bench_api.py")


def test_api_benchmark_runs_in_quick_mode(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--db", "sqlite", "--json", str(out)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "baseline/s" in done.stdout and "ratio" in done.stdout
    figures = json.loads(out.read_text())
    for workload in ("a", "b"):
        for mode in ("sequential", "concurrent"):
            assert figures["sqlite"][workload][mode]["qms"] > 0 and figures["sqlite"][workload][mode]["baseline"] > 0
