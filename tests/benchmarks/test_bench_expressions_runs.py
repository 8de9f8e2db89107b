"""The expression benchmark still runs (quick mode; no timing assertions)."""
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("bench_expressions.py")


def test_benchmark_runs_in_quick_mode():
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "geometric-mean slowdown" in done.stdout and "compile median" in done.stdout
