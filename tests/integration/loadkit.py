"""A real multi-process QMS site for load and fault tests: PostgreSQL, Redis, gunicorn, rq workers.

* :func:`fresh_database` — a throwaway PostgreSQL DATABASE (``qms_load_<random>``), dropped WITH (FORCE).
* :func:`own_redis` — a Redis database number of its own, flushed before and after.
* :func:`prepare_site` — the first-start path of ``app.py`` (migrations, tenant, admin; QMS_DEMO=0),
  a form numbered ``LD-{000000}``, a ``record_created`` rule that calls the :class:`Receiver`, and an
  API token.
* :class:`Stack` — ``gunicorn -w N -k gthread 'app:create_app()'`` plus ``qms worker`` processes, with
  the faults: SIGKILL the web workers (not the master), SIGKILL the rq workers, restart PostgreSQL.
* :func:`run_load` — N client threads × M writes (creates carrying a unique marker, PATCHes with the
  version last seen, some on shared records to provoke 409s) into a :class:`Ledger` of outcomes.
"""
from __future__ import annotations

import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import requests

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER_URL = os.environ.get("QMS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("QMS_LOAD_REDIS_URL", "redis://127.0.0.1:6379/12")
FORM_KEY = "load_lot"
SECRET = "load-secret"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@load.example", "load-admin-pass-1"
WORKER_ENV = {"QMS_JOB_LEASE": "5", "QMS_SEND_LEASE": "31"}     # killed workers' rows come back soon


def _label(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


FORM = {"format": 1, "key": FORM_KEY, "label": _label("负载批次", "Load lot"), "numbering": "LD-{000000}",
        "fields": [{"key": "marker", "type": "text", "label": _label("标记", "Marker"), "required": True},
                   {"key": "note", "type": "text", "label": _label("备注", "Note")},
                   {"key": "qty", "type": "number", "label": _label("数量", "Quantity"), "precision": 0},
                   {"key": "result", "type": "select", "label": _label("判定", "Result"),
                    "choices": [{"code": c, "label": _label(c, c)} for c in ("OK", "NG")]}]}


def rule_for(receiver_url: str) -> dict:
    return {"format": 1, "key": "load_created_hook", "label": _label("新建即通知", "Tell on create"),
            "form": FORM_KEY, "trigger": {"type": "record_created"},
            "actions": [{"type": "call_webhook", "url": receiver_url, "secret": SECRET, "timeout": 5,
                         "payload": {"marker": "{{ record.marker }}"}}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------- services

@contextmanager
def fresh_database(server_url: str = PG_SERVER_URL) -> Iterator[str]:
    """The URL of a new, empty database on ``server_url``'s server; dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    from engine.storage.db import normalize_url
    admin = make_url(normalize_url(server_url))
    name = f"qms_load_{secrets.token_hex(5)}"
    info = dict(host=admin.host or "127.0.0.1", port=admin.port or 5432, user=admin.username or "postgres",
                password=admin.password or None, dbname=admin.database or "postgres", autocommit=True, connect_timeout=3)
    with psycopg.connect(**info) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        wait_for_postgres()
        with psycopg.connect(**info) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def own_redis(url: str = REDIS_URL) -> Iterator[str]:
    """``url`` (a Redis db number used by nothing else), flushed before and after."""
    from redis import Redis
    conn = Redis.from_url(url, socket_connect_timeout=2)
    conn.flushdb()
    try:
        yield url
    finally:
        conn.flushdb()
        conn.close()


def pg_cluster() -> str:
    return sorted(os.listdir("/etc/postgresql"))[0]


def wait_for_postgres(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not come back")
        time.sleep(0.2)


def restart_postgres() -> float:
    """Restart the machine's PostgreSQL (every connection is cut); seconds until it accepts again."""
    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", pg_cluster(), "main", "restart"],
                   check=True, capture_output=True, timeout=120)
    wait_for_postgres()
    return time.monotonic() - started


class _Server(ThreadingHTTPServer):
    request_queue_size = 256     # the default backlog (5) refuses connections under load: needless retries
    daemon_threads = True


class Receiver:
    """A local HTTP endpoint that records every webhook delivery (headers and JSON body)."""

    def __init__(self):
        self.seen: list[dict] = []
        lock, seen = threading.Lock(), self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    seen.append({"delivery": self.headers.get("X-QMS-Delivery"), "headers": dict(self.headers),
                                 "body": json.loads(body or b"null")})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, name="load-receiver", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Site:
    database_url: str
    tenant_id: int
    token: str


def prepare_site(database_url: str, data_dir: Path, receiver_url: str) -> Site:
    """First start as ``python app.py`` does it (QMS_DEMO=0), then the form, the rule and a token."""
    from app import prepare_first_start
    from engine.services import accounts, forms, logins, rule_defs
    from engine.settings import load_settings
    from engine.storage.db import make_engine, session_scope, upgrade_database

    settings = load_settings({"DATABASE_URL": database_url, "QMS_DATA_DIR": str(data_dir), "QMS_DEMO": "0",
                              "QMS_ADMIN_EMAIL": ADMIN_EMAIL, "QMS_ADMIN_PASSWORD": ADMIN_PASSWORD,
                              "SECRET_KEY": SECRET})
    engine = make_engine(database_url)
    try:
        upgrade_database(engine)
        setup = prepare_first_start(engine, settings)
        with session_scope(engine) as session:
            actor = accounts.actor_for_user(session, accounts.user_id_by_email(session, setup.tenant_id, ADMIN_EMAIL))
            forms.publish_form(session, actor, FORM)
            rule_defs.publish_rule(session, actor, rule_for(receiver_url))
            token = logins.create_api_token(session, setup.tenant_id, actor.user_id, "load test")
    finally:
        engine.dispose()
    return Site(database_url, setup.tenant_id, token)


# ---------------------------------------------------------------------------- processes

class Stack:
    """gunicorn (``web_workers`` gthread workers) and ``qms worker`` processes on one site."""

    def __init__(self, database_url: str, redis_url: str, data_dir: Path, web_workers: int = 4, threads: int = 4):
        self.data_dir, self.web_workers, self.threads = data_dir, web_workers, threads
        self.env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "QMS_DATA_DIR": str(data_dir),
                    "SECRET_KEY": SECRET, "QMS_DEMO": "0", "PYTHONPATH": str(ROOT), **WORKER_ENV}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self._serial = 0

    def _log(self, name: str):
        return open(self.data_dir / f"{name}.log", "ab")

    def start_web(self) -> None:
        cmd = [sys.executable, "-m", "gunicorn", "-w", str(self.web_workers), "-k", "gthread", "--threads",
               str(self.threads), "--keep-alive", "30", "--timeout", "60", "--graceful-timeout", "5",
               "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "app:create_app()"]
        self.web = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._log("gunicorn"), stderr=subprocess.STDOUT)
        self.wait_web_ready()

    def wait_web_ready(self, timeout: float = 90) -> None:
        """Until every worker is booted and /api/v1/health answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.tail("gunicorn"))
            try:
                if len(self.web_worker_pids()) == self.web_workers and \
                        requests.get(self.base + "/api/v1/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not become ready:\n" + self.tail("gunicorn"))

    def web_worker_pids(self) -> list[int]:
        """The master's child processes (the web workers)."""
        pid = self.web.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def kill_web_workers(self) -> int:
        """SIGKILL every web worker (the master stays and forks new ones); how many were killed."""
        pids = self.web_worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return len(pids)

    def start(self, workers: int = 2) -> None:
        """gunicorn, then ``workers`` rq workers (two: one can be killed while the other goes on)."""
        self.start_web()
        for _ in range(workers):
            self.start_worker()

    def start_worker(self) -> subprocess.Popen:
        self._serial += 1
        name = f"rq{self._serial}"
        proc = subprocess.Popen([sys.executable, "-c", "from app import cli_main; cli_main()", "worker", "--name",
                                 f"load-{name}-{secrets.token_hex(3)}"], cwd=ROOT, env=self.env,
                                stdout=self._log(name), stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def kill_workers(self) -> int:
        """SIGKILL every running ``qms worker``; how many were killed."""
        alive = [w for w in self.workers if w.poll() is None]
        for proc in alive:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        return len(alive)

    def tail(self, name: str, size: int = 3000) -> str:
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def stop(self) -> None:
        for proc in [*self.workers, *([self.web] if self.web else [])]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, *([self.web] if self.web else [])]:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---------------------------------------------------------------------------- clients

@dataclass
class Ledger:
    """Every write the clients sent and what they know of its outcome (thread-safe appends)."""

    creates: dict[str, dict] = field(default_factory=dict)          # marker -> {"id", "version", "serial"}
    unknown_creates: set[str] = field(default_factory=set)
    updates: list[dict] = field(default_factory=list)                # {"id", "marker", "base", "version"}
    unknown_updates: list[dict] = field(default_factory=list)        # {"id", "marker", "base"}
    conflicts: list[dict] = field(default_factory=list)              # {"id", "base"}: 409 answers
    unexpected: list[str] = field(default_factory=list)              # 4xx other than 409: a bug
    errors: dict[str, int] = field(default_factory=dict)             # "500", "ConnectionError" … -> count
    latencies: list[float] = field(default_factory=list)             # seconds per write request (answered)
    acked_at: list[float] = field(default_factory=list)              # monotonic time of each 2xx write
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1


class Client:
    """One thread's session: creates records and updates its own and the shared ones."""

    def __init__(self, base: str, token: str, n: int, ledger: Ledger, shared: dict[int, int], update_share: float,
                 shared_share: float):
        self.base, self.n, self.ledger = f"{base}/api/v1/forms/{FORM_KEY}/records", n, ledger
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", "Accept-Language": "en"})
        self.rng = random.Random(n)
        self.own: dict[int, int | None] = {}            # record id -> version last seen (None: unknown)
        self.shared = dict(shared)                       # shared record id -> version last seen
        self.update_share, self.shared_share = update_share, shared_share

    def _send(self, method: str, url: str, body: dict) -> requests.Response | None:
        started = time.monotonic()
        try:
            res = self.http.request(method, url, json=body, timeout=30)
        except requests.RequestException as exc:
            self.ledger.error(type(exc).__name__)
            return None
        with self.ledger.lock:
            self.ledger.latencies.append(time.monotonic() - started)
        if res.status_code >= 500:
            self.ledger.error(str(res.status_code))
            return None
        return res

    def _unexpected(self, res: requests.Response, what: str) -> None:
        with self.ledger.lock:
            self.ledger.unexpected.append(f"{what} -> {res.status_code}: {res.text[:300]}")

    def create(self, i: int) -> None:
        marker = f"c{self.n}-{i}"
        res = self._send("POST", self.base, {"data": {"marker": marker, "qty": i, "result": "OK"}})
        if res is None:
            with self.ledger.lock:
                self.ledger.unknown_creates.add(marker)
        elif res.status_code == 201:
            rec = res.json()
            with self.ledger.lock:
                self.ledger.creates[marker] = {"id": rec["id"], "version": rec["version"],
                                               "serial": rec["meta"]["serial_no"]}
                self.ledger.acked_at.append(time.monotonic())
            self.own[rec["id"]] = rec["version"]
        else:
            self._unexpected(res, f"create {marker}")

    def _refresh(self, record_id: int) -> int | None:
        try:
            res = self.http.get(f"{self.base}/{record_id}", timeout=30)
        except requests.RequestException:
            return None
        return res.json()["version"] if res.status_code == 200 else None

    def update(self, i: int, record_id: int, versions: dict) -> None:
        base = versions.get(record_id)
        if base is None:                                 # the last write's outcome is unknown: look first
            base = versions[record_id] = self._refresh(record_id)
            if base is None:
                return self.ledger.error("refresh failed")
        marker = f"u{self.n}-{i}"
        res = self._send("PATCH", f"{self.base}/{record_id}", {"version": base, "data": {"note": marker, "qty": i}})
        if res is None:
            with self.ledger.lock:
                self.ledger.unknown_updates.append({"id": record_id, "marker": marker, "base": base})
            versions[record_id] = None
        elif res.status_code == 200:
            version = res.json()["version"]
            with self.ledger.lock:
                self.ledger.updates.append({"id": record_id, "marker": marker, "base": base, "version": version})
                self.ledger.acked_at.append(time.monotonic())
            versions[record_id] = version
        elif res.status_code == 409:
            with self.ledger.lock:
                self.ledger.conflicts.append({"id": record_id, "base": base})
            versions[record_id] = None
        else:
            self._unexpected(res, f"update {record_id}")

    def run(self, ops: int) -> None:
        for i in range(ops):
            roll = self.rng.random()
            if roll < self.shared_share and self.shared:
                self.update(i, self.rng.choice(sorted(self.shared)), self.shared)
            elif roll < self.shared_share + self.update_share and self.own:
                self.update(i, self.rng.choice(sorted(self.own)), self.own)
            else:
                self.create(i)
            with self.ledger.lock:
                self.ledger.done += 1
        self.http.close()


def seed_shared(base: str, token: str, count: int) -> dict[int, int]:
    """Records every client updates (stale versions meet there): id -> version."""
    out = {}
    for k in range(count):
        res = requests.post(f"{base}/api/v1/forms/{FORM_KEY}/records", json={"data": {"marker": f"shared-{k}"}},
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)
        res.raise_for_status()
        out[res.json()["id"]] = res.json()["version"]
    return out


def run_load(base: str, token: str, *, clients: int = 16, ops: int = 500, shared: dict[int, int] | None = None,
             update_share: float = 0.3, shared_share: float = 0.1,
             faults: list[tuple[float, Callable[[], object]]] = ()) -> tuple[Ledger, float, list]:
    """``clients`` threads × ``ops`` writes; ``faults``: (fraction of all writes done, action) fired by a
    watcher thread as the load passes that point. Returns (ledger, seconds, [(fraction, action result)])."""
    ledger, total = Ledger(), clients * ops
    workers = [Client(base, token, n, ledger, shared or {}, update_share, shared_share) for n in range(clients)]
    threads = [threading.Thread(target=w.run, args=(ops,), name=f"load-client-{w.n}") for w in workers]
    fired: list = []
    stop = threading.Event()

    def watch() -> None:
        for at, action in sorted(faults, key=lambda f: f[0]):
            while ledger.done < at * total and not stop.is_set():
                time.sleep(0.02)
            if stop.is_set():
                return
            fired.append((at, action()))

    watcher = threading.Thread(target=watch, name="load-faults", daemon=True)
    started = time.monotonic()
    for t in threads:
        t.start()
    watcher.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    stop.set()
    watcher.join(120)
    return ledger, seconds, fired


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
