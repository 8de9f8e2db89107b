"""The designer benchmark still runs end to end in real chromium (quick mode; no timing assertions):
the IQC designer's time to interactive with its baseline, and drag frames at two form sizes."""
import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import require_browser

SCRIPT = Path(__file__).with_name("bench_designer.py")


def test_designer_benchmark_runs_in_quick_mode(tmp_path):
    require_browser()
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "IQC designer time to interactive" in done.stdout and "load average" in done.stdout
    figures = json.loads(out.read_text())
    assert figures["tti_ms"] > 0 and figures["entry_page_ms"] > 0 and figures["ratio"] > 0
    assert [d["fields"] for d in figures["drag"]] == [50, 200]
    assert all(d["moved"] and d["frames"] > 10 for d in figures["drag"]), figures["drag"]


def test_bad_arguments_are_refused_with_a_message():
    done = subprocess.run([sys.executable, str(SCRIPT), "--rounds", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--rounds" in done.stderr
