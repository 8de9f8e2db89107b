"""Benchmark: records created per second through the REST API vs a bare Flask + Core baseline, same run.

Run ``python tests/benchmarks/bench_api.py`` (``--quick`` for a smoke run, ``--db sqlite`` or
``--db postgres`` for one backend). For each backend it starts two real server processes with
the same gunicorn command (``-w 4``, gthread workers so HTTP keep-alive works) side by side:
the baseline in ``baseline_app.py`` and the QMS app (``app:create_app()``). Clients send one
record per request over a kept-alive connection (``http.client``), one client sequentially,
then 8 client threads at once; baseline and QMS take turns for several rounds and each figure
is the median, so load from elsewhere on a shared machine skews neither side alone. The QMS
side posts ``POST /api/v1/forms/<key>/records`` with a Bearer token, so it pays for auth,
validation, formulas, serials and the audit log; the baseline only inserts the same rows.

Workloads: (a) a 10-field inspection record — target ≥ 50 % of the baseline rate; (b) a
30-field report with a 10-row sub-table, formulas and validations — target ≥ 25 %.
PostgreSQL runs in a throwaway database created and dropped here (``BENCH_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test`` is only used to create it).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_api_workloads import INSPECTION_FORM, REPORT_FORM, record_a, record_b  # noqa: E402

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGETS = {"a": 0.50, "b": 0.25}
CLIENTS = 8


# ---------------------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn process and what a client needs to talk to it."""

    name: str
    port: int
    paths: dict[str, str]            # workload -> POST path
    headers: dict[str, str]
    process: subprocess.Popen
    log: Path


def gunicorn_command(target: str, port: int, workers: int) -> list[str]:
    # gthread: the default sync worker closes the connection after every response (no keep-alive)
    return [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads", "2",
            "--keep-alive", "30", "-b", f"127.0.0.1:{port}", "--log-level", "warning", target]


def wait_until_up(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} server exited:\n{server.log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} server did not start within {timeout} s")


@contextmanager
def serve(name: str, target: str, env: dict, workdir: Path, paths: dict, headers: dict,
          workers: int) -> Iterator[Server]:
    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(gunicorn_command(target, port, workers), cwd=ROOT, env={**os.environ, **env},
                                   stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, port, paths, headers, process, log)
    try:
        wait_until_up(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def prepare_qms(database_url: str, data_dir: Path) -> str:
    """Migrate, create the tenant and admin, publish both forms; returns an API token of the admin."""
    import app as app_module
    from engine.services import accounts
    from engine.services import forms as form_service
    from engine.settings import load_settings
    from engine.storage.db import session_scope

    settings = load_settings({"QMS_DATA_DIR": str(data_dir), "DATABASE_URL": database_url,
                              "QMS_ADMIN_PASSWORD": "bench-admin-pass", "SECRET_KEY": "bench"})
    flask_app = app_module.create_app({"QMS_DATA_DIR": str(data_dir), "DATABASE_URL": database_url,
                                       "SECRET_KEY": "bench"})
    db = flask_app.extensions["qms_db"]
    setup = app_module.prepare_first_start(db, settings)
    with session_scope(db) as session:
        actor = accounts.actor_for_user(session, accounts.user_id_by_email(session, setup.tenant_id,
                                                                           setup.admin_email))
        for form in (INSPECTION_FORM, REPORT_FORM):
            form_service.publish_form(session, actor, form)
        token = accounts.create_api_token(session, setup.tenant_id, actor.user_id, "benchmark")
    db.dispose()
    return token


def prepare_baseline(database_url: str) -> None:
    from tests.benchmarks.baseline_app import make_db, metadata

    engine = make_db(database_url)
    metadata.create_all(engine)
    engine.dispose()


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[tuple[str, str]]:
    """(QMS url, baseline url): two SQLite files, or one throwaway PostgreSQL database (dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir}/qms.sqlite3", f"sqlite:///{workdir}/baseline.sqlite3"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(PG_ADMIN_URL)
    name = f"qms_bench_{os.getpid()}_{secrets.token_hex(3)}"
    conninfo = dict(host=admin.host or "127.0.0.1", port=admin.port or 5432, user=admin.username or "postgres",
                    password=admin.password or None, dbname=admin.database or "postgres", autocommit=True)
    with psycopg.connect(**conninfo) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        yield url, url
    finally:
        with psycopg.connect(**conninfo) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------- clients

class Client:
    """One kept-alive HTTP/1.1 connection that posts JSON and checks for 201."""

    def __init__(self, server: Server):
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        self.headers = {"Content-Type": "application/json", "Connection": "keep-alive", **server.headers}

    def post(self, path: str, data: dict) -> None:
        self.conn.request("POST", path, json.dumps({"data": data}), self.headers)
        res = self.conn.getresponse()
        body = res.read()
        if res.status != 201:
            raise RuntimeError(f"{self.server.name} POST {path} -> {res.status}: {body[:600]!r}")

    def close(self) -> None:
        self.conn.close()


class Counter:
    def __init__(self, start: int):
        self._next, self._lock = start, threading.Lock()

    def take(self) -> int:
        with self._lock:
            self._next += 1
            return self._next


def run_clients(server: Server, workload: str, make: Callable[[int], dict], clients: int, per_client: int,
                counter: Counter) -> float:
    """Records per second with ``clients`` threads each posting ``per_client`` records."""
    path = server.paths[workload]
    bodies = [[make(counter.take()) for _ in range(per_client)] for _ in range(clients)]
    conns = [Client(server) for _ in range(clients)]
    barrier, errors = threading.Barrier(clients + 1), []

    def work(conn: Client, items: list[dict]) -> None:
        barrier.wait()
        try:
            for data in items:
                conn.post(path, data)
        except Exception as exc:  # noqa: BLE001  (reported below, the run stops)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c, b)) for c, b in zip(conns, bodies)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for c in conns:
        c.close()
    if errors:
        raise errors[0]
    return clients * per_client / elapsed


def measure(servers: dict[str, Server], workload: str, makers: dict[str, Callable[[int], dict]], sizes: dict,
            rounds: int) -> dict:
    """{mode: (baseline rate, qms rate, ratio)}: medians over ``rounds`` alternating rounds.

    Both servers run side by side and take turns (baseline, qms, baseline, qms …), so a burst of
    load from elsewhere on a shared machine hits both sides of a ratio instead of one.
    """
    counters = {name: Counter(0) for name in servers}
    for name, server in servers.items():     # every worker warm
        run_clients(server, workload, makers[name], CLIENTS, sizes["warmup"], counters[name])
    out = {}
    for mode, clients, per_client in (("sequential", 1, sizes["sequential"]), ("concurrent", CLIENTS, sizes["concurrent"])):
        base, qms, ratios = [], [], []
        for _ in range(rounds):
            b = run_clients(servers["baseline"], workload, makers["baseline"], clients, per_client, counters["baseline"])
            q = run_clients(servers["qms"], workload, makers["qms"], clients, per_client, counters["qms"])
            base.append(b), qms.append(q), ratios.append(q / b)
        out[mode] = (statistics.median(base), statistics.median(qms), statistics.median(ratios))
    return out


# ---------------------------------------------------------------------------- one backend

def bench_backend(backend: str, workloads: list[str], sizes: dict, workers: int, rounds: int) -> dict:
    """{workload: {mode: (baseline rate, qms rate, ratio)}} for one database backend."""
    makers = {"a": {"qms": record_a, "baseline": record_a},
              "b": {"qms": record_b, "baseline": lambda n: record_b(n, with_formulas=True)}}
    with tempfile.TemporaryDirectory(prefix=f"qms-bench-{backend}-") as tmp, database(backend, Path(tmp)) as urls:
        workdir = Path(tmp)
        qms_url, base_url = urls
        token = prepare_qms(qms_url, workdir / "data")
        prepare_baseline(base_url)
        env = {"DATABASE_URL": qms_url, "QMS_DATA_DIR": str(workdir / "data"), "SECRET_KEY": "bench",
               "QMS_DEMO": "0"}
        paths = {"a": f"/api/v1/forms/{INSPECTION_FORM['key']}/records",
                 "b": f"/api/v1/forms/{REPORT_FORM['key']}/records"}
        with serve("baseline", "tests.benchmarks.baseline_app:create_app()", {"BASELINE_DATABASE_URL": base_url},
                   workdir, {"a": "/a", "b": "/b"}, {}, workers) as baseline, \
                serve("qms", "app:create_app()", env, workdir, paths, {"Authorization": f"Bearer {token}"},
                      workers) as qms:
            servers = {"baseline": baseline, "qms": qms}
            return {w: measure(servers, w, makers[w], sizes, rounds) for w in workloads}


def report(all_results: dict) -> bool:
    """Print every rate and ratio; True when every ratio meets its target."""
    ok = True
    print(f"\n{'backend':<9} {'workload':<9} {'mode':<11} {'baseline/s':>11} {'qms/s':>9} {'ratio':>7}  target")
    for backend, results in all_results.items():
        for workload, modes in results.items():
            for mode, (base, qms, ratio) in modes.items():
                met = ratio >= TARGETS[workload]
                ok &= met
                print(f"{backend:<9} {workload:<9} {mode:<11} {base:>11.1f} {qms:>9.1f} {ratio:>6.0%}  "
                      f"≥{TARGETS[workload]:.0%} {'ok' if met else 'MISSED'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few requests only (smoke run, no targets)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--workload", choices=("a", "b", "both"), default="both")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per figure (median kept)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    sizes = ({"warmup": 2, "sequential": 10, "concurrent": 3} if args.quick
             else {"warmup": 25, "sequential": 300, "concurrent": 60})
    rounds = 1 if args.quick else args.rounds
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    workloads = ["a", "b"] if args.workload == "both" else [args.workload]
    print(f"gunicorn -w {args.workers} -k gthread, keep-alive; {CLIENTS} concurrent clients; "
          f"{sizes['sequential']} sequential / {CLIENTS}x{sizes['concurrent']} concurrent records per round, "
          f"median of {rounds} alternating rounds")
    load_before = os.getloadavg()[0]
    results = {backend: bench_backend(backend, workloads, sizes, args.workers, rounds) for backend in backends}
    met = report(results)
    # the clients share the machine with the servers; other load skews both sides of every ratio
    print(f"\nload average (1 min): {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps({b: {w: {m: {"baseline": r[0], "qms": r[1], "ratio": r[2]}
                                                 for m, r in modes.items()} for w, modes in res.items()}
                                         for b, res in results.items()}, indent=2))
    if args.quick:
        return 0
    print("\nall targets met" if met else "\nsome targets MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
