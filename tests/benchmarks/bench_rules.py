"""Benchmark: what rules cost a write, how fast their actions follow, and how actions scale with workers.

Run ``python tests/benchmarks/bench_rules.py`` (``--quick`` for a smoke run; ``--db sqlite`` to use a
SQLite file instead of PostgreSQL). Needs Redis (``BENCH_REDIS_URL``, default
``redis://127.0.0.1:6379/14``, flushed here) and PostgreSQL (a throwaway database, as in bench_api).

Setup: one QMS server (gunicorn ``-w 4`` gthread, ``REDIS_URL`` set) and two ``qms worker``
processes (rq). Two identical 10-field inspection forms: ``inspection`` has two rules — one
creates a record in a third form (field mapping of expressions), one notifies a role of three
users in-app and by e-mail (no SMTP here: mails are kept in the outbox) — and ``plain`` has none.

1. Records/s through ``POST /api/v1/forms/<key>/records`` with 8 kept-alive clients, rules on
   (``inspection``) vs. rules off (``plain``), alternating rounds, medians. Target: on ≥ 70 % of off.
2. While (1) runs, every rule run's delay from the write's commit (outbox row created) to its last
   action committed (row finished): p50 / p95 / max. Target: actions complete within 2 s (p95).
3. Rule throughput: 1,000 runs (``--quick``: 200) waiting in the queue with no worker running,
   then 1 worker, then 2 workers started: actions executed per second until the queue is empty.
4. Writes at a steady rate the two workers can follow (half their action rate from 3): the delay
   from write to last action at that rate.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_api import CLIENTS, Counter, database, run_clients, serve  # noqa: E402
from tests.benchmarks.bench_api_workloads import INSPECTION_FORM, record_a  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TARGET_RATIO, TARGET_DELAY = 0.70, 2.0
L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731


def _form(key: str, zh: str, en: str) -> dict:
    form = {**INSPECTION_FORM, "key": key, "label": L(zh, en)}
    form.pop("numbering", None)
    return form


RULES = [
    {"format": 1, "key": "make_followup", "label": L("生成跟进记录", "Create a follow-up"), "form": "inspection",
     "trigger": {"type": "record_created"},
     "actions": [{"type": "create_record", "form": "followup",
                  "values": {k: k for k in ("lot_no", "part_no", "supplier", "sample_size", "defect_qty", "result")}}]},
    {"format": 1, "key": "tell_quality", "label": L("通知质量部", "Tell quality"), "form": "inspection",
     "trigger": {"type": "record_created"},
     "actions": [{"type": "notify", "to": {"roles": ["quality"]}, "channels": ["in_app", "email"],
                  "subject": "来料 {{ record.lot_no }} 已检验 / lot {{ record.lot_no }} inspected",
                  "body": "样本 {{ record.sample_size }}，不良 {{ record.defect_qty }}。{{ link }}"}]},
]


def prepare(database_url: str, data_dir: Path) -> str:
    """Migrate, admin, the three forms, the quality role with three users, the rules; an API token."""
    import app as app_module
    from engine.services import accounts, rule_defs
    from engine.services import forms as form_service
    from engine.settings import load_settings
    from engine.storage.db import session_scope

    config = {"QMS_DATA_DIR": str(data_dir), "DATABASE_URL": database_url, "SECRET_KEY": "bench"}
    settings = load_settings({**config, "QMS_ADMIN_PASSWORD": "bench-admin-pass"})
    flask_app = app_module.create_app(config)
    db = flask_app.extensions["qms_db"]
    setup = app_module.prepare_first_start(db, settings)
    with session_scope(db) as s:
        actor = accounts.actor_for_user(s, accounts.user_id_by_email(s, setup.tenant_id, setup.admin_email))
        for form in (_form("inspection", "来料检验", "Inspection"), _form("plain", "来料检验（无规则）", "Inspection, no rules"),
                     _form("followup", "跟进", "Follow-up")):
            form_service.publish_form(s, actor, form)
        accounts.create_role(s, setup.tenant_id, "quality", L("质量", "Quality"))
        for i in range(3):
            accounts.create_user(s, setup.tenant_id, f"q{i}@bench.example.com", f"Quality {i}", "bench-pass-123",
                                 roles=["quality"])
        for rule in RULES:
            rule_defs.publish_rule(s, actor, rule)
        token = accounts.create_api_token(s, setup.tenant_id, actor.user_id, "benchmark")
    db.dispose()
    return token


@contextmanager
def workers(count: int, env: dict, workdir: Path) -> Iterator[list[subprocess.Popen]]:
    procs = []
    for i in range(count):
        log = open(workdir / f"worker{len(list(workdir.glob('worker*.log')))}.log", "wb")
        procs.append(subprocess.Popen([sys.executable, "-c", "from app import cli_main; cli_main()", "worker"],
                                      cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT))
    try:
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def outbox_stats(engine, since_id: int) -> tuple[int, int, list[float]]:
    """(rows, done rows, delays in seconds) of the outbox rows after ``since_id``."""
    from sqlalchemy import select
    from engine.storage.db import stored_utc
    from engine.storage.rule_tables import rule_outbox as o
    with engine.connect() as conn:
        rows = conn.execute(select(o.c.status, o.c.created_at, o.c.finished_at).where(o.c.id > since_id)).all()
    delays = [(stored_utc(f) - stored_utc(c)).total_seconds() for s, c, f in rows if s == "done" and f is not None]
    return len(rows), sum(1 for r in rows if r.status == "done"), delays


def last_id(engine) -> int:
    from sqlalchemy import func, select
    from engine.storage.rule_tables import rule_outbox as o
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(o.c.id), 0))).scalar_one()


def wait_done(engine, since_id: int, expected: int, timeout: float = 300) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        total, done, _ = outbox_stats(engine, since_id)
        if total >= expected and done >= expected:
            return time.perf_counter() - start
        failed = _failed(engine, since_id)
        if failed:
            raise RuntimeError(f"rule runs failed: {failed}")
        time.sleep(0.05)
    raise RuntimeError(f"runs not done within {timeout} s: {outbox_stats(engine, since_id)[:2]} of {expected}")


def _failed(engine, since_id: int) -> list:
    from sqlalchemy import select
    from engine.storage.rule_tables import rule_outbox as o
    with engine.connect() as conn:
        return conn.execute(select(o.c.id, o.c.error).where(o.c.id > since_id, o.c.status == "failed").limit(3)).all()


def flush_redis() -> None:
    from redis import Redis
    Redis.from_url(REDIS_URL).flushdb()


def bench(backend: str, sizes: dict, rounds: int) -> dict:
    from engine.storage.db import make_engine
    with tempfile.TemporaryDirectory(prefix="qms-bench-rules-") as tmp, database(backend, Path(tmp)) as (url, _):
        workdir = Path(tmp)
        flush_redis()
        token = prepare(url, workdir / "data")
        env = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "QMS_DATA_DIR": str(workdir / "data"), "SECRET_KEY": "bench"}
        engine = make_engine(url)
        paths = {"on": "/api/v1/forms/inspection/records", "off": "/api/v1/forms/plain/records"}
        result: dict = {}
        with serve("qms", "app:create_app()", env, workdir, paths, {"Authorization": f"Bearer {token}"}, 4) as server, \
                workers(2, env, workdir):
            counter = Counter(0)
            for mode in ("off", "on"):
                run_clients(server, mode, record_a, CLIENTS, sizes["warmup"], counter)
            start_id = last_id(engine)
            on, off, ratios = [], [], []
            for _ in range(rounds):
                b = run_clients(server, "off", record_a, CLIENTS, sizes["per_client"], counter)
                q = run_clients(server, "on", record_a, CLIENTS, sizes["per_client"], counter)
                off.append(b), on.append(q), ratios.append(q / b)
            expected = rounds * CLIENTS * sizes["per_client"] * len(RULES)
            wait_done(engine, start_id, expected)
            _, _, delays = outbox_stats(engine, start_id)
            delays.sort()
            result["write"] = (statistics.median(off), statistics.median(on), statistics.median(ratios))
            result["delay"] = (delays[len(delays) // 2], delays[int(len(delays) * 0.95)], delays[-1], len(delays))
        result["throughput"] = {}
        with serve("qms", "app:create_app()", env, workdir, paths, {"Authorization": f"Bearer {token}"}, 4) as server:
            for count in (1, 2):
                start_id = last_id(engine)
                records = sizes["backlog"] // len(RULES)
                run_clients(server, "on", record_a, CLIENTS, max(1, records // CLIENTS), counter)   # no worker yet
                expected = CLIENTS * max(1, records // CLIENTS) * len(RULES)
                with workers(count, env, workdir):
                    elapsed = wait_done(engine, start_id, expected)
                result["throughput"][count] = expected / elapsed
            result["paced"] = paced(server, engine, env, workdir, counter, result["throughput"][2], sizes["paced_s"])
        engine.dispose()
        return result


def paced(server, engine, env: dict, workdir: Path, counter: Counter, actions_per_s: float, seconds: float) -> tuple:
    """Writes at a steady rate the two workers can follow (half their measured action rate): the
    delay from write to last action then, p50 / p95 / max, and the rate used."""
    from tests.benchmarks.bench_api import Client
    rate = max(1.0, 0.5 * actions_per_s / len(RULES))
    start_id = last_id(engine)
    client, sent = Client(server), 0
    with workers(2, env, workdir):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            client.post(server.paths["on"], record_a(counter.take()))
            sent += 1
            time.sleep(max(0.0, t0 + sent / rate - time.perf_counter()))
        client.close()
        wait_done(engine, start_id, sent * len(RULES))
    _, _, delays = outbox_stats(engine, start_id)
    delays.sort()
    return rate, delays[len(delays) // 2], delays[int(len(delays) * 0.95)], delays[-1]


def report(backend: str, r: dict) -> bool:
    off, on, ratio = r["write"]
    p50, p95, worst, n = r["delay"]
    ok = ratio >= TARGET_RATIO and p95 <= TARGET_DELAY
    print(f"\n== rules, {backend} (gunicorn -w 4, 2 rq workers, {CLIENTS} clients) ==")
    print(f"  records/s  rules off {off:7.1f}   rules on {on:7.1f}   ratio {ratio:5.2f}  (target >= {TARGET_RATIO:.2f})")
    print(f"  action delay over {n} runs: p50 {p50:.2f} s  p95 {p95:.2f} s  max {worst:.2f} s  (target p95 <= {TARGET_DELAY:.0f} s)")
    for count, rate in r["throughput"].items():
        print(f"  throughput  {count} worker(s): {rate:7.1f} actions/s")
    rate, p50, p95, worst = r["paced"]
    print(f"  at a steady {rate:.0f} records/s ({rate * len(RULES):.0f} actions/s): delay p50 {p50:.2f} s  p95 {p95:.2f} s"
          f"  max {worst:.2f} s")
    print(f"  -> {'OK' if ok else 'BELOW TARGET'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with small numbers")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    sizes = ({"warmup": 5, "per_client": 10, "backlog": 200, "paced_s": 3} if args.quick
             else {"warmup": 20, "per_client": 60, "backlog": 1000, "paced_s": 20})
    rounds = args.rounds or (1 if args.quick else 3)
    ok = report(args.db, bench(args.db, sizes, rounds))
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
