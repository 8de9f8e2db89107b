"""Benchmark: three quality reports over 1,000,000 inspection records, each as a ratio to the best
hand-written SQL for the same numbers, run in the same process on the same connection pool.

Run ``python tests/benchmarks/bench_reports.py`` (``--quick`` for a smoke run of 20,000 records,
``--db postgres`` for a throwaway PostgreSQL database instead of a SQLite file, ``--records N``
for another size, ``--explain`` to print both sides' SQL and query plans).

Data: a tenant with the supplier and incoming-inspection forms of ``tests/engine/reports/support.py``
(published through the form service, so the tables are the app's), 50 suppliers created through the
record service, then N inspection records bulk-loaded with SQLAlchemy Core executemany in batches
straight into ``t<tenant>_iqc``, ``…_iqc__defects`` and ``…_iqc__chars``: system columns as the
record service writes them, the date buckets of ``inspect_date`` and ``created_at`` computed by
``engine.storage.buckets.bucket_values`` in the tenant's zone (and checked against the database's
own ``sql_bucket`` afterwards), 0–3 defect rows per record (1.5 on average, skewed codes for a
real Pareto), 2 measured characteristics per record (10.0 ± noise, a small offset per part;
LSL 9.9, USL 10.1), inspection dates spread over 24 months. The serial counter is not advanced
(nothing here creates IQC records through the service afterwards).

Reports, published with ``report_service.publish_report`` (which creates the indexes a report
groups by), then ANALYZE:

* ``defect_pareto``  — defects.code by SUM(defects.qty), chart ``pareto``;
* ``pass_rate``      — month of inspect_date × supplier, rate where ``result = "accept"``, chart ``line``;
* ``cpk_by_part``    — part, Cpk of chars.value against the chars.lsl / chars.usl fields, chart ``table``.

Each engine figure is ``report_service.run_report`` end to end (load the definition, check access,
compile, SQL, supplier names, shape, plotly figure) in its own read-only session. The hand-written
side is plain text SQL on a connection of the same engine, in up to two variants: ``plain`` — what
a DBA writes on a table without our bucket columns (``strftime`` / ``date_trunc`` for the month) —
and ``buckets``, grouping by the stored ``inspect_date__m``; reports without a date have one
variant. The ratio is engine time / the faster variant. Sides take turns for several rounds and
each figure is the median, so load from elsewhere on a shared machine skews no side alone.
Before timing, every variant's numbers are compared with the engine's: a mismatch is a failure
(exit code 1), not a figure. Target: every report within 1.5× of hand-written SQL (exit code 0
whether met or missed; the verdict is printed).

Dashboard part: three more reports (a KPI card of lots this month, the lot acceptance rate of the
ten best suppliers, a monthly PPM trend) and a dashboard of all six with a date-range and a
supplier filter; the app is served over real HTTP (werkzeug's threaded server in this process,
the app built by ``create_app``) and ``GET /api/v1/dashboards/<key>/data`` with a Bearer token is
timed: the whole HTTP response with the six charts' numbers and plotly figures, unfiltered and
with the date filter, median of the rounds. Target (SQLite): under 2 s.

For scale, from the issue (100,000 rows, same class of machine): a Pareto takes 11 ms by hand,
12 ms in Directus, 17 ms in NocoBase, 28 ms in NocoDB; a monthly pass rate per supplier 89 ms by
hand, 444 ms in Directus.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from engine.fields.base import StorageKind  # noqa: E402
from engine.fields.serial import format_serial  # noqa: E402
from engine.quality import constants  # noqa: E402
from engine.services import accounts  # noqa: E402
from engine.services import forms as form_service  # noqa: E402
from engine.services import records as record_service  # noqa: E402
from engine.services import reports as report_service  # noqa: E402
from engine.storage import buckets, form_store  # noqa: E402
from engine.storage.db import make_engine, read_only, session_scope, upgrade_database  # noqa: E402
from engine.storage.record_tables import sa_tables  # noqa: E402
from tests.benchmarks.bench_flows import database  # noqa: E402
from tests.engine.reports.support import CODES, IQC_FORM, SUPPLIER_FORM, report  # noqa: E402

TARGET = 1.5                         # engine / best hand-written SQL
SUPPLIERS = 50
PARTS = tuple(f"P-{100 + i}" for i in range(20))
FIRST_DAY, DAYS = date(2024, 12, 1), 730          # 24 months: 2024-12 … 2026-11
CODE_WEIGHTS = (40, 25, 15, 12, 8)                 # scratch dominates: a Pareto with a real head
BATCH = 10_000                                     # records per insert transaction
REL_TOL = 1e-9

REPORTS = {
    "defect_pareto": report("defect_pareto", {
        "form": "iqc", "dimensions": [{"field": "defects.code", "key": "code"}],
        "measures": [{"agg": "sum", "field": "defects.qty", "key": "qty"}]}, {"type": "pareto"}),
    "pass_rate": report("pass_rate", {
        "form": "iqc", "dimensions": [{"field": "inspect_date", "bucket": "month", "key": "month"},
                                      {"field": "supplier", "key": "supplier"}],
        "measures": [{"agg": "rate", "where": 'result = "accept"', "key": "rate"}]}, {"type": "line"}),
    "cpk_by_part": report("cpk_by_part", {
        "form": "iqc", "dimensions": [{"field": "part", "key": "part"}],
        "measures": [{"agg": "cpk", "field": "chars.value", "lsl": "chars.lsl", "usl": "chars.usl", "key": "cpk"}]},
        {"type": "table"}),
}


def _unreachable() -> tuple[type[Exception], ...]:
    """Errors that mean the database cannot be reached (psycopg's own when it is installed)."""
    try:
        import psycopg
    except ImportError:
        return (OperationalError,)
    return (OperationalError, psycopg.OperationalError)


class Mismatch(RuntimeError):
    """The engine's numbers differ from a hand-written query's: the benchmark is void."""


@dataclass
class Bench:
    """The loaded database: engine, tenant, admin actor and the IQC tables by path."""

    engine: Any
    tenant_id: int
    admin: Any
    tables: dict
    suppliers: list[int]
    form_version: int                                 # the published IQC version rows are written in
    timings: dict = field(default_factory=dict)     # setup phases: seconds


# ---------------------------------------------------------------------------- setup

def prepare(url: str, records: int, seed: int = 42) -> Bench:
    """Migrate, create the tenant and forms, bulk-load ``records`` inspections, publish the reports, ANALYZE."""
    engine = make_engine(url)
    upgrade_database(engine)
    with session_scope(engine) as s:
        tenant_id = accounts.create_tenant(s, f"bench{os.getpid()}", "Benchmark company")
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant_id, "admin@bench.cn", "Admin", "bench-pass-1",
                                                                is_admin=True, lang="en"))
        form_service.publish_form(s, admin, copy.deepcopy(SUPPLIER_FORM))
        form_service.publish_form(s, admin, copy.deepcopy(IQC_FORM))
        suppliers = [record_service.create_record(s, admin, "supplier", {
            "name": f"Supplier {i:02d}", "region": ("East", "South", "North")[i % 3]}).id for i in range(SUPPLIERS)]
        published = form_store.load_published(s, tenant_id, "iqc")
    bench = Bench(engine, tenant_id, admin, sa_tables(published.spec), suppliers, published.form.version)
    started = time.perf_counter()
    load_inspections(bench, records, random.Random(seed))
    bench.timings["load"] = time.perf_counter() - started
    started = time.perf_counter()
    with session_scope(engine) as s:
        for definition in REPORTS.values():
            report_service.publish_report(s, admin, copy.deepcopy(definition))
    bench.timings["publish"] = time.perf_counter() - started
    started = time.perf_counter()
    analyze(bench)
    bench.timings["analyze"] = time.perf_counter() - started
    check_buckets(bench)
    return bench


def load_inspections(bench: Bench, n: int, rng: random.Random) -> None:
    """Insert ``n`` IQC records with their defect and characteristic rows, BATCH records a transaction."""
    top, defects, chars = bench.tables[()], bench.tables[("defects",)], bench.tables[("chars",)]
    with bench.engine.connect() as conn:
        zone = buckets.zone_of(conn, bench.tenant_id)
        first = conn.execute(select(func.coalesce(func.max(top.c.id), 0))).scalar_one() + 1
    maker = RecordMaker(bench, zone, rng)
    for offset in range(0, n, BATCH):
        rows: tuple[list, list, list] = ([], [], [])
        for i in range(offset, min(offset + BATCH, n)):
            maker.add(first + i, i + 1, rows)
        with bench.engine.begin() as conn:
            conn.execute(insert(top), rows[0])
            if rows[1]:
                conn.execute(insert(defects), rows[1])
            conn.execute(insert(chars), rows[2])
    if bench.engine.dialect.name == "postgresql":      # explicit ids: move the sequence past them
        with bench.engine.begin() as conn:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{top.name}', 'id'), "
                              f"(SELECT MAX(id) FROM {top.name}))"))


class RecordMaker:
    """One inspection's rows, as the record service would store them (system columns, buckets)."""

    def __init__(self, bench: Bench, zone, rng: random.Random):
        self.tenant_id, self.user, self.version = bench.tenant_id, bench.admin.user_id, bench.form_version
        self.suppliers, self.zone, self.rng = bench.suppliers, zone, rng
        self.day_buckets: dict[date, dict] = {}     # bucket_values of a DATE do not depend on the zone
        self.drift = {p: rng.uniform(-0.02, 0.02) for p in PARTS}     # each part centred a little off 10.0

    def add(self, record_id: int, serial: int, rows: tuple[list, list, list]) -> None:
        rng, t = self.rng, self.tenant_id
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        created = datetime(day.year, day.month, day.day, 1, tzinfo=timezone.utc) + timedelta(
            seconds=rng.randrange(50_000))             # entered on the inspection day
        found = [{"tenant_id": t, "record_id": record_id, "parent_id": record_id, "row_order": k,
                  "code": rng.choices(CODES, CODE_WEIGHTS)[0], "class": rng.choice(("CR", "MA", "MI")),
                  "qty": rng.randrange(1, 6)} for k in range(rng.randrange(4))]
        part = rng.choice(PARTS)
        defective = sum(d["qty"] for d in found)
        serial_no = format_serial("IQC-{0000}", created, serial)
        row = {"id": record_id, "tenant_id": t, "serial_no": serial_no, "title": serial_no,
               "created_by": self.user, "created_at": created, "updated_by": self.user, "updated_at": created,
               "version": 1, "status": record_service.DEFAULT_STATUS, "def_version": self.version,
               "supplier": rng.choice(self.suppliers), "part": part, "inspect_date": day,
               "lot_size": rng.randrange(100, 2000), "sample_size": rng.choice((20, 32, 50)), "defective": defective,
               "cost": round(rng.uniform(0, 500), 2), "result": "reject" if defective > 6 else "accept"}
        row |= self._day(day)
        row |= buckets.bucket_values("created_at", StorageKind.DATETIME, created, self.zone)
        rows[0].append(row)
        rows[1].extend(found)
        centre = 10.0 + self.drift[part]
        rows[2].extend({"tenant_id": t, "record_id": record_id, "parent_id": record_id, "row_order": k,
                        "name": name, "lsl": 9.9, "usl": 10.1, "value": round(rng.gauss(centre, 0.02), 4)}
                       for k, name in enumerate(("diameter", "length")))

    def _day(self, day: date) -> dict:
        hit = self.day_buckets.get(day)
        if hit is None:
            hit = self.day_buckets[day] = buckets.bucket_values("inspect_date", StorageKind.DATE, day, self.zone)
        return hit


def analyze(bench: Bench) -> None:
    """Planner statistics after the load and the report indexes (as a DBA would after a bulk load)."""
    with bench.engine.begin() as conn:
        if bench.engine.dialect.name == "postgresql":
            for table in bench.tables.values():
                conn.execute(text(f"ANALYZE {table.name}"))
        else:
            conn.execute(text("ANALYZE"))


def check_buckets(bench: Bench) -> None:
    """The loaded bucket columns equal what the database computes from the dates (the loader is right)."""
    top = bench.tables[()]
    with bench.engine.connect() as conn:
        zone = buckets.zone_of(conn, bench.tenant_id)
        dialect = bench.engine.dialect.name
        month_of = lambda col, kind: buckets.sql_bucket(col, kind, "month", dialect, zone.key)  # noqa: E731
        wrong = conn.execute(select(func.count()).select_from(top).where(
            (top.c.inspect_date__m != month_of(top.c.inspect_date, StorageKind.DATE))
            | (top.c.created_at__m != month_of(top.c.created_at, StorageKind.DATETIME)))).scalar_one()
    if wrong:
        raise Mismatch(f"{wrong} loaded rows have bucket columns that differ from their dates")


# ---------------------------------------------------------------------------- hand-written SQL

def hand_sql(bench: Bench) -> dict[str, dict[str, str]]:
    """{report: {variant: SQL}}: what a DBA would write for the same numbers (``:t`` = tenant id)."""
    top, defects, chars = (bench.tables[p].name for p in ((), ("defects",), ("chars",)))
    pg = bench.engine.dialect.name == "postgresql"
    month = "date_trunc('month', inspect_date)" if pg else "strftime('%Y-%m', inspect_date)"
    rate = ("SELECT {m} AS month, supplier, "
            "SUM(CASE WHEN result = 'accept' THEN 1 ELSE 0 END) * 1.0 / COUNT(*) AS rate "
            f"FROM {top} WHERE tenant_id = :t GROUP BY 1, 2 ORDER BY 1, 2")
    d2 = " ".join(f"WHEN {n} THEN {constants.d2(n)!r}" for n in range(2, 26))
    cpk = (f"SELECT i.part, SUM(c.s) / SUM(c.n) AS mean, MIN(c.lsl) AS lsl, MAX(c.usl) AS usl, "
           f"AVG(c.r / CASE c.n {d2} END) AS sigma "
           f"FROM (SELECT record_id, COUNT(value) AS n, SUM(value) AS s, MAX(value) - MIN(value) AS r, "
           f"MIN(lsl) AS lsl, MAX(usl) AS usl FROM {chars} WHERE tenant_id = :t GROUP BY record_id) c "
           f"JOIN {top} i ON i.id = c.record_id WHERE i.tenant_id = :t GROUP BY i.part ORDER BY i.part")
    return {
        "defect_pareto": {"plain": f"SELECT code, SUM(qty) AS qty FROM {defects} WHERE tenant_id = :t "
                                   "GROUP BY code ORDER BY qty DESC"},
        "pass_rate": {"plain": rate.format(m=month), "buckets": rate.format(m="inspect_date__m")},
        "cpk_by_part": {"plain": cpk},
    }


def _month(value) -> str:
    """A month as YYYY-MM from a bucket key (202603), a strftime text or a date_trunc timestamp."""
    if isinstance(value, (date, datetime)):
        return value.strftime("%Y-%m")
    if isinstance(value, int):
        return buckets.bucket_label("month", value)
    return str(value)[:7]


def _cpk(mean, lsl, usl, sigma) -> float | None:
    """Cpk from the hand query's parts (both limits are fields here; either may be blank)."""
    if mean is None or not sigma:
        return None
    mean, sigma = float(mean), float(sigma)
    sides = [(float(usl) - mean) / (3 * sigma) if usl is not None else None,
             (mean - float(lsl)) / (3 * sigma) if lsl is not None else None]
    sides = [v for v in sides if v is not None]
    return min(sides) if sides else None


NORMALISE_HAND: dict[str, Callable[[list], dict]] = {
    "defect_pareto": lambda rows: {r[0]: float(r[1]) for r in rows},
    "pass_rate": lambda rows: {(_month(r[0]), r[1]): float(r[2]) for r in rows},
    "cpk_by_part": lambda rows: {r[0]: _cpk(*r[1:]) for r in rows},
}


def engine_numbers(key: str, result) -> dict:
    """The engine's numbers in the same shape as NORMALISE_HAND gives."""
    main = result.data["main"]
    if main.truncated:
        raise Mismatch(f"{key}: the engine cut the result at {len(main.rows)} rows")
    if key == "pass_rate":
        return {(_month(r[0]), r[1]): float(r[2]) for r in main.rows}
    if key == "defect_pareto":
        qty = [r[1] for r in main.rows]
        if qty != sorted(qty, reverse=True):
            raise Mismatch("defect_pareto: the bars are not in descending order")
    return {r[0]: (float(r[1]) if r[1] is not None else None) for r in main.rows}


def compare(key: str, variant: str, engine: dict, hand: dict) -> None:
    """Same groups, and every number equal within REL_TOL; Mismatch naming the first difference."""
    if set(engine) != set(hand):
        only_e, only_h = sorted(map(str, set(engine) - set(hand)))[:3], sorted(map(str, set(hand) - set(engine)))[:3]
        raise Mismatch(f"{key} vs hand {variant}: groups differ (engine only {only_e}, hand only {only_h})")
    for group, value in engine.items():
        other = hand[group]
        if (value is None) != (other is None) or (value is not None and not math.isclose(value, other, rel_tol=REL_TOL,
                                                                                          abs_tol=1e-12)):
            raise Mismatch(f"{key} vs hand {variant}: {group}: engine {value!r}, hand {other!r}")


# ---------------------------------------------------------------------------- timing

def run_engine(bench: Bench, key: str):
    """One report request's engine work: its own read-only session, run_report end to end."""
    with session_scope(read_only(bench.engine)) as s:
        return report_service.run_report(s, bench.admin, key)


def run_hand(bench: Bench, sql: str) -> list:
    with read_only(bench.engine).connect() as conn:
        return conn.execute(text(sql), {"t": bench.tenant_id}).all()


def per_call(work: Callable[[], Any], calls: int) -> float:
    """Milliseconds per call over ``calls`` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        work()
    return (time.perf_counter() - started) * 1000 / calls


def calls_for(work: Callable[[], Any], budget_s: float = 0.2) -> int:
    """How many calls make one sample about ``budget_s`` long (1 for slow queries; fast ones are
    repeated so a sample is not timer noise). The call made here also warms caches."""
    started = time.perf_counter()
    work()
    once = time.perf_counter() - started
    return max(1, min(50, round(budget_s / max(once, 1e-6))))


def bench_reports(bench: Bench, rounds: int) -> dict:
    """Per report: engine ms, hand ms per variant, ratio to the faster — medians of alternating rounds.

    Every variant's numbers are checked against the engine's first (Mismatch otherwise)."""
    sqls = hand_sql(bench)
    out = {}
    for key, variants in sqls.items():
        result = run_engine(bench, key)
        numbers = engine_numbers(key, result)
        for variant, sql in variants.items():
            compare(key, variant, numbers, NORMALISE_HAND[key](run_hand(bench, sql)))
        sql_ms: list[float] = []        # the main query's own time inside each engine run
        sides = {"engine": lambda k=key: sql_ms.append(run_engine(bench, k).data["main"].ms)}
        sides |= {variant: (lambda q=sql: run_hand(bench, q)) for variant, sql in variants.items()}
        calls = {name: calls_for(work) for name, work in sides.items()}
        sql_ms.clear()                  # the calibration call warmed caches: not a sample
        samples: dict[str, list[float]] = {name: [] for name in sides}
        ratios = []
        for _ in range(rounds):
            for name, work in sides.items():
                samples[name].append(per_call(work, calls[name]))
            ratios.append(samples["engine"][-1] / min(samples[v][-1] for v in variants))
        medians = {name: statistics.median(v) for name, v in samples.items()}
        out[key] = {"engine_ms": medians["engine"], "engine_sql_ms": statistics.median(sql_ms),
                    "hand_ms": {v: medians[v] for v in variants}, "ratio": statistics.median(ratios),
                    "groups": len(numbers), "calls": calls}
    return out


# ---------------------------------------------------------------------------- diagnostics

def explain(bench: Bench) -> None:
    """Print the SQL each report really runs on the record tables (caught at the cursor, so a chart's
    own sort or extra queries show) with its plan, then the hand variants' plans."""
    from sqlalchemy import event
    pg = bench.engine.dialect.name == "postgresql"
    prefix = "EXPLAIN ANALYZE " if pg else "EXPLAIN QUERY PLAN "
    marker = bench.tables[()].name
    for key, variants in hand_sql(bench).items():
        caught: list[tuple[str, Any]] = []

        def catch(_conn, _cursor, statement, parameters, _context, _many):
            if marker in statement:
                caught.append((statement, parameters))
        event.listen(bench.engine, "before_cursor_execute", catch)
        try:
            run_engine(bench, key)
        finally:
            event.remove(bench.engine, "before_cursor_execute", catch)
        with read_only(bench.engine).connect() as conn:
            for statement, parameters in caught:
                print(f"\n--- {key}: engine SQL  {parameters}\n{statement}")
                print("plan: " + _plan(conn.exec_driver_sql(prefix + statement, parameters).all()))
            for variant, hand in variants.items():
                plan = _plan(conn.execute(text(prefix + hand), {"t": bench.tenant_id}).all())
                print(f"--- {key}: hand {variant}\n{hand}\nplan: {plan}")


def _plan(rows) -> str:
    return "\n      ".join(" ".join(str(r[-1]).split()) for r in rows)


# ---------------------------------------------------------------------------- output

def print_setup(bench: Bench, records: int) -> None:
    with bench.engine.connect() as conn:
        counts = {path: conn.execute(select(func.count()).select_from(t)).scalar_one()
                  for path, t in bench.tables.items()}
    print(f"loaded {counts[()]:,} records, {counts[('defects',)]:,} defect rows, {counts[('chars',)]:,} "
          f"characteristic rows in {bench.timings['load']:.1f} s "
          f"({(sum(counts.values())) / bench.timings['load']:,.0f} rows/s); "
          f"reports published (indexes) in {bench.timings['publish']:.1f} s; ANALYZE {bench.timings['analyze']:.1f} s")
    if counts[()] != records:
        raise Mismatch(f"expected {records} records, the table holds {counts[()]}")


def print_reports(figures: dict, backend: str, records: int, quick: bool) -> list[str]:
    """Print the table; the keys of reports that missed the target (never checked in --quick)."""
    print(f"\nReports over {records:,} inspection records ({backend}): run_report vs best hand-written SQL, "
          "ms per run (median)")
    print(f"{'report':<15} {'groups':>6} {'engine':>9} {'(SQL)':>9} {'hand plain':>11} {'hand buckets':>13} "
          f"{'ratio':>7}  target")
    missed = []
    for key, f in figures.items():
        hand = f["hand_ms"]
        buckets_ms = f"{hand['buckets']:>13.2f}" if "buckets" in hand else f"{'-':>13}"
        met = f["ratio"] <= TARGET
        if quick:
            verdict = f"≤{TARGET}× (not checked in --quick)"
        else:
            verdict = f"≤{TARGET}× " + ("target met" if met else "MISSED")
            if not met:
                missed.append(key)
        print(f"{key:<15} {f['groups']:>6} {f['engine_ms']:>9.2f} {f['engine_sql_ms']:>9.2f} {hand['plain']:>11.2f} "
              f"{buckets_ms} {f['ratio']:>6.2f}×  {verdict}")
    print("engine = report_service.run_report end to end; (SQL) = its main query alone; "
          "ratio = engine / the faster hand variant; numbers checked equal before timing")
    return missed


def run_parts(args: argparse.Namespace, records: int, rounds: int) -> dict[str, Any]:
    """Load one database, then run each part on it; the figures by part (a part is one more line)."""
    from engine.jobs import queue
    held = queue.use(queue.DeferredBackend())     # rule/notification jobs of the supplier records: not measured
    figures: dict[str, Any] = {"backend": args.db, "records": records}
    try:
        with tempfile.TemporaryDirectory(prefix="qms-bench-reports-") as tmp, \
                database(args.db, Path(tmp), "reports") as url:
            bench = prepare(url, records)
            try:
                print_setup(bench, records)
                figures["setup_s"] = bench.timings
                if args.explain:
                    explain(bench)
                figures["reports"] = bench_reports(bench, rounds)
                figures["dashboard"] = bench_dashboard(bench, url, rounds)
            finally:
                bench.engine.dispose()
    finally:
        queue.use(held)
    return figures


# ---------------------------------------------------------------------------- dashboard over HTTP

DASHBOARD_TARGET_S = 2.0
MORE_REPORTS = {
    "lots_kpi": report("lots_kpi", {"form": "iqc", "measures": [{"agg": "count", "key": "lots"}]},
                       {"type": "kpi", "period": "month", "period_field": "inspect_date"}),
    "rate_by_supplier": report("rate_by_supplier", {
        "form": "iqc", "dimensions": [{"field": "supplier", "key": "supplier"}],
        "measures": [{"agg": "rate", "where": 'result = "accept"', "key": "lar"}],
        "sort": [{"by": "lar", "desc": True}], "limit": 10}, {"type": "bar", "horizontal": True}),
    "ppm_trend": report("ppm_trend", {
        "form": "iqc", "dimensions": [{"field": "inspect_date", "bucket": "month", "key": "month"}],
        "measures": [{"agg": "ppm", "field": "defective", "per": "sample_size", "key": "ppm"}]}, {"type": "line"}),
}
DASHBOARD = {"format": 1, "key": "bench_board", "label": {"zh-CN": "来料质量", "en": "Incoming quality"},
             "filters": [{"key": "period", "label": {"zh-CN": "期间", "en": "Period"}, "type": "date_range",
                          "field": "inspect_date"},
                         {"key": "supplier", "label": {"zh-CN": "供应商", "en": "Supplier"}, "type": "field",
                          "field": "supplier"}],
             "items": [{"report": k, "x": (i % 2) * 6, "y": (i // 2) * 4, "w": 6, "h": 4}
                       for i, k in enumerate(["defect_pareto", "pass_rate", "cpk_by_part", "lots_kpi",
                                              "rate_by_supplier", "ppm_trend"])]}


def bench_dashboard(bench: Bench, url: str, rounds: int) -> dict:
    """Seconds for the dashboard's data over HTTP (all six charts with figures), unfiltered and
    with a one-quarter date range; medians of ``rounds``."""
    import requests
    from werkzeug.serving import make_server

    from app import create_app
    from engine.services import dashboards
    with session_scope(bench.engine) as s:
        for definition in MORE_REPORTS.values():
            report_service.publish_report(s, bench.admin, copy.deepcopy(definition))
        dashboards.publish_dashboard(s, bench.admin, copy.deepcopy(DASHBOARD))
        token = accounts.create_api_token(s, bench.tenant_id, bench.admin.user_id, "bench")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-reports", "AUTO_MIGRATE": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    import threading
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/api/v1/dashboards/{DASHBOARD['key']}/data"
    headers = {"Authorization": f"Bearer {token}"}
    quarter = json.dumps({"period": {"from": "2026-04-01", "to": "2026-06-30"}})
    out: dict[str, list[float]] = {"all": [], "quarter": []}
    try:
        with requests.Session() as http:
            for name, params in (("all", {}), ("quarter", {"values": quarter})):
                response = http.get(base, params=params, headers=headers, timeout=120)     # warm-up, checked
                body = response.json()
                if response.status_code != 200 or any(c.get("error") or not c.get("result") for c in body["items"]):
                    raise Mismatch(f"dashboard {name}: HTTP {response.status_code} {str(body)[:300]}")
                if len(body["items"]) != 6 or not all(c["result"]["figure"]["data"] for c in body["items"]):
                    raise Mismatch(f"dashboard {name}: expected six charts with figures")
            for _ in range(rounds):
                for name, params in (("all", {}), ("quarter", {"values": quarter})):
                    started = time.perf_counter()
                    response = http.get(base, params=params, headers=headers, timeout=120)
                    response.json()
                    out[name].append(time.perf_counter() - started)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["qms_db"].dispose()
    return {name: statistics.median(values) for name, values in out.items()} | {
        "bytes": len(response.content)}


def print_dashboard(figures: dict, backend: str, quick: bool) -> bool:
    """Print the dashboard figures; True when the target is met (SQLite) or not applicable."""
    print(f"\nDashboard of 6 charts over HTTP ({backend}): GET /api/v1/dashboards/<key>/data, seconds (median)")
    met = True
    for name, label in (("all", "no filter"), ("quarter", "one quarter")):
        seconds = figures[name]
        verdict = ""
        if backend == "sqlite":
            ok = seconds < DASHBOARD_TARGET_S
            met = met and ok
            verdict = f"<{DASHBOARD_TARGET_S:g} s " + ("(not checked in --quick)" if quick else
                                                        "target met" if ok else "MISSED")
        print(f"{label:<12} {seconds:>8.3f} s  {verdict}")
    print(f"response size {figures['bytes'] / 1024:.0f} KiB")
    return met or quick


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 records, 1 round (smoke run, no targets)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--records", type=int, help="inspection records (default 1,000,000; 20,000 with --quick)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per figure (median kept)")
    parser.add_argument("--explain", action="store_true", help="print the engine's and the hand-written SQL and plans")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    records = args.records if args.records is not None else (20_000 if args.quick else 1_000_000)
    rounds = 1 if args.quick else args.rounds
    if records < 1 or rounds < 1:
        parser.error("--records and --rounds must be at least 1")
    load_before = os.getloadavg()[0]
    print(f"{args.db}; {records:,} inspection records; median of {rounds} alternating rounds")
    try:
        figures = run_parts(args, records, rounds)
    except Mismatch as exc:
        print(f"\nNUMBERS DIFFER: {exc}", file=sys.stderr)
        return 1
    except _unreachable() as exc:
        print(f"cannot reach the {args.db} database (BENCH_PG_URL for PostgreSQL): {exc}", file=sys.stderr)
        return 2
    missed = print_reports(figures["reports"], args.db, records, args.quick)
    if not print_dashboard(figures["dashboard"], args.db, args.quick):
        missed.append("dashboard")
    print(f"\nload average (1 min): {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    if not args.quick:
        print("\nall targets met" if not missed else f"\ntarget MISSED by: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
