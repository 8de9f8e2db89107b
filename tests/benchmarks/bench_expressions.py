"""Benchmark: compiled expressions vs the same logic as native Python lambdas, same run.

Run ``python tests/benchmarks/bench_expressions.py`` (``--quick`` for a fast smoke run).
Prints evaluations per second, the slowdown ratio per expression and its geometric mean,
and the parse+check+compile time per expression with the caches bypassed.
Targets: geometric mean ≤ 2.5×, no expression worse than 4×, compile median < 500 µs.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import timeit
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.expressions import EvalContext, clear_caches, compile_expression  # noqa: E402
from engine.expressions.compiler import compile_uncached  # noqa: E402
from engine.expressions.types import DATE, DATETIME, NUMBER, TEXT, Scope  # noqa: E402

TZ = timezone(timedelta(hours=8))
NOW = datetime(2024, 6, 15, 9, 30, tzinfo=TZ)
CTX = EvalContext(user_id=7, now=NOW, tz=TZ)

ITEMS = Scope.of({"defect_qty": NUMBER, "result": TEXT, "measured": NUMBER})
SCOPE = Scope.of({
    "measured": NUMBER, "usl": NUMBER, "lsl": NUMBER, "sample_size": NUMBER, "lot_size": NUMBER,
    "defect_qty": NUMBER, "rework_qty": NUMBER, "scrap_qty": NUMBER, "remark": TEXT,
    "supplier": TEXT, "part_no": TEXT, "lot_no": TEXT, "created_at": DATETIME,
    "inspect_date": DATE, "due_date": DATE, "items": ITEMS,
})
DATA = {
    "measured": 10.07, "usl": 10.05, "lsl": 9.95, "sample_size": 125, "lot_size": 800,
    "defect_qty": 1, "rework_qty": None, "scrap_qty": 2, "remark": None,
    "supplier": "SUP-017", "part_no": "PN-88213", "lot_no": "L240611-03",
    "created_at": datetime(2024, 6, 10, 16, 45, tzinfo=timezone.utc),
    "inspect_date": date(2024, 6, 12), "due_date": date(2024, 6, 14),
    "items": [{"defect_qty": i % 3, "result": "NG" if i % 7 == 0 else "OK", "measured": 10 + i / 100}
              for i in range(20)],
}


def _today(now: datetime) -> date:
    return now.astimezone(TZ).date()


CASES = [
    ('IF(OR(measured > usl, measured < lsl), "NG", "OK")',
     lambda d: "NG" if d["measured"] > d["usl"] or d["measured"] < d["lsl"] else "OK"),
    ("SUM(items.defect_qty) / sample_size * 1000000",
     lambda d: sum(r["defect_qty"] for r in d["items"]) / d["sample_size"] * 1000000),
    ('DATEDIF(created_at, TODAY(), "d") > 3',
     lambda d: (_today(NOW) - d["created_at"].astimezone(TZ).date()).days > 3),
    ('COUNTIF(items.result, "NG") = 0',
     lambda d: sum(1 for r in d["items"] if r["result"] == "NG") == 0),
    ("ROUND(AVERAGE(items.measured), 3)",
     lambda d: round(statistics.fmean(r["measured"] for r in d["items"]), 3)),
    ('supplier & "-" & part_no & " / " & lot_no',
     lambda d: d["supplier"] + "-" + d["part_no"] + " / " + d["lot_no"]),
    ('IF(defect_qty = 0, "A", IF(defect_qty <= 2, "B", IF(defect_qty <= 5, "C", "D")))',
     lambda d: "A" if d["defect_qty"] == 0 else "B" if d["defect_qty"] <= 2 else "C" if d["defect_qty"] <= 5 else "D"),
    ("AND(NOT(ISBLANK(remark)), OR(rework_qty > 0, scrap_qty > 0))",
     lambda d: d.get("remark") not in (None, "") and ((d.get("rework_qty") or 0) > 0 or (d.get("scrap_qty") or 0) > 0)),
    ("inspect_date <= due_date",
     lambda d: d["inspect_date"] <= d["due_date"]),
    ("lot_size >= 500 AND defect_qty <= 2",
     lambda d: d["lot_size"] >= 500 and d["defect_qty"] <= 2),
]


def best_times(ours, native, number: int, repeat: int) -> tuple[float, float]:
    """Seconds per call of each, best of ``repeat`` interleaved runs (noise hits both alike)."""
    t_ours, t_native = [], []
    for _ in range(repeat):
        t_ours.append(timeit.timeit(ours, number=number) / number)
        t_native.append(timeit.timeit(native, number=number) / number)
    return min(t_ours), min(t_native)


def compile_median_us(source: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        clear_caches()
        start = timeit.default_timer()
        compile_uncached(source, SCOPE)
        times.append(timeit.default_timer() - start)
    return statistics.median(times) * 1e6


def run(quick: bool = False) -> dict:
    number, repeat, runs = (200, 2, 5) if quick else (20_000, 7, 200)
    rows, ratios, compile_times = [], [], []
    for source, native in CASES:
        compiled = compile_expression(source, SCOPE)
        ours, theirs = compiled.evaluate(DATA, CTX), native(DATA)
        if ours != theirs and not (isinstance(ours, float) and math.isclose(ours, theirs)):
            raise AssertionError(f"{source}: {ours!r} != native {theirs!r}")
        evaluate = compiled.evaluate
        t_ours, t_native = best_times(lambda: evaluate(DATA, CTX), lambda: native(DATA), number, repeat)
        c_us = compile_median_us(source, runs)
        ratio = t_ours / t_native
        rows.append((source, 1 / t_ours, 1 / t_native, ratio, c_us))
        ratios.append(ratio)
        compile_times.append(c_us)
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"{'expression':62} {'evals/s':>11} {'native/s':>11} {'ratio':>6} {'compile µs':>10}")
    for source, ours, theirs, ratio, c_us in rows:
        print(f"{source[:62]:62} {ours:11,.0f} {theirs:11,.0f} {ratio:5.2f}× {c_us:10.0f}")
    median_compile = statistics.median(compile_times)
    print(f"\ngeometric-mean slowdown: {geo:.2f}×   worst: {max(ratios):.2f}×   "
          f"compile median: {median_compile:.0f} µs")
    ok = geo <= 2.5 and max(ratios) <= 4 and median_compile < 500
    print("targets (≤2.5× geo-mean, ≤4× worst, <500 µs compile):", "met" if ok else "NOT met")
    return {"geo_mean": geo, "worst": max(ratios), "compile_median_us": median_compile, "rows": rows}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few iterations: checks that it runs")
    run(quick=parser.parse_args().quick)
