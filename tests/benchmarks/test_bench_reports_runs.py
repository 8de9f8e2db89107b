"""The report benchmark still runs end to end (quick mode, SQLite; no timing assertions): it loads
the inspections, checks the engine's numbers against every hand-written query and prints the table."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("bench_reports.py")
REPORTS = {"defect_pareto", "pass_rate", "cpk_by_part"}


def test_report_benchmark_runs_in_quick_mode(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--records", "5000", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "run_report vs best hand-written SQL" in done.stdout and "load average" in done.stdout
    figures = json.loads(out.read_text())
    assert figures["records"] == 5000 and figures["backend"] == "sqlite"
    assert set(figures["reports"]) == REPORTS
    for key, f in figures["reports"].items():
        assert f["engine_ms"] > 0 and f["ratio"] > 0, key
        assert f["groups"] > 0, key
        assert all(ms > 0 for ms in f["hand_ms"].values()), key
    assert set(figures["reports"]["pass_rate"]["hand_ms"]) == {"plain", "buckets"}


def test_bad_arguments_are_refused_with_a_message():
    done = subprocess.run([sys.executable, str(SCRIPT), "--records", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--records" in done.stderr


def test_a_different_number_or_group_is_a_mismatch_not_a_figure():
    import pytest
    from tests.benchmarks.bench_reports import Mismatch, compare
    compare("pass_rate", "plain", {("2026-03", 7): 0.5}, {("2026-03", 7): 0.5 + 1e-13})
    with pytest.raises(Mismatch, match="engine 0.5, hand 0.51"):
        compare("pass_rate", "plain", {("2026-03", 7): 0.5}, {("2026-03", 7): 0.51})
    with pytest.raises(Mismatch, match="groups differ"):
        compare("defect_pareto", "plain", {"burr": 3.0}, {"burr": 3.0, "dent": 1.0})
    with pytest.raises(Mismatch, match="hand None"):
        compare("cpk_by_part", "plain", {"P-100": 1.2}, {"P-100": None})
