"""Rules on the real services: PostgreSQL for the data, Redis with rq workers in subprocesses.

* A worker killed with SIGKILL in the middle of a job: after its lease runs out another worker
  finishes the run, and every action's effect exists exactly once.
* Redis stopped while records are written: the writes succeed, their rules' intent waits in the
  outbox, and once Redis is back the workers' sweep dispatches it; nothing is lost.

In CI (``CI=true`` / ``QMS_REQUIRE_SERVICES=1``) a missing PostgreSQL or Redis fails these tests.
"""
from __future__ import annotations

import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, text

from engine.jobs import queue
from engine.storage.db import make_engine, session_scope, upgrade_database
from engine.storage.rule_tables import rule_outbox
from tests.engine.rules.support import NG_OPENS_NCR, make_world
from tests.engine.storage.support import create_tenant
from tests.integration.conftest import PG_URL, services_required
from engine.types import Actor

pytestmark = pytest.mark.integration
REDIS_URL = os.environ.get("QMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
ROOT = Path(__file__).resolve().parents[2]
RULE = copy.deepcopy(NG_OPENS_NCR)
RULE["actions"] = [RULE["actions"][0]]          # NG inspection → one NCR
STEPS = 4
MULTI = copy.deepcopy(NG_OPENS_NCR)             # NG inspection → four NCRs, one per action ("step k")
MULTI["actions"] = [{"type": "create_record", "form": "ncr", "values": {"lot_no": "lot_no", "source": f'"step {k}"'}}
                    for k in range(STEPS)]


def _need(problem: str | None, what: str) -> None:
    if problem is None:
        return
    if services_required():
        pytest.fail(f"{what} is not reachable ({problem}) — required because CI=true or QMS_REQUIRE_SERVICES=1",
                    pytrace=False)
    pytest.skip(f"{what} is not reachable ({problem})")


@pytest.fixture
def redis_url():
    from redis import Redis
    from redis.exceptions import RedisError
    try:
        conn = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        conn.ping()
    except RedisError as exc:
        _need(str(exc), f"Redis at {REDIS_URL}")
    conn.flushdb()
    yield REDIS_URL
    conn.flushdb()


@pytest.fixture
def pg_url():
    """A fresh schema whose name is in the URL itself, so worker processes use it too."""
    admin = make_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        _need(str(exc).splitlines()[0], f"PostgreSQL at {PG_URL}")
    schema = f"qms_jobs_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options={quote(f'-csearch_path={schema}')}"
    engine = make_engine(url)
    upgrade_database(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _worker(database_url: str, redis_url: str, tmp_path: Path, name: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "QMS_DATA_DIR": str(tmp_path),
           "SECRET_KEY": "test-secret", "QMS_JOB_LEASE": "3", "PYTHONPATH": str(ROOT)}
    log = open(tmp_path / f"{name}.log", "wb")
    return subprocess.Popen([sys.executable, "-c", "from app import cli_main; cli_main()", "worker"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _counts(engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return dict(s.execute(select(rule_outbox.c.status, func.count()).group_by(rule_outbox.c.status)).all())


def _wait(condition, timeout: float, what: str, logs: list[Path] = ()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    tails = "\n".join(p.read_text(errors="replace")[-3000:] for p in logs if p.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def _world(database_url: str, backend, rule=RULE):
    engine = make_engine(database_url)
    tenant = create_tenant(engine)
    world = make_world(engine, Actor(tenant_id=tenant, user_id=1, lang="en", name="Admin", is_admin=True))
    world.publish(rule)
    queue.use(backend)
    return world


def _ncrs(world) -> list:
    from engine.services import records
    out, page = [], 1
    while True:
        with world.session() as s:
            found = records.query_records(s, world.admin, "ncr", page=page, per_page=500)
        out += found.items
        if not found.has_next:
            return out
        page += 1


def _ncr_lots(world) -> list[str]:
    return [r.data["lot_no"] for r in _ncrs(world)]


def _kill_mid_run(world, pg_url, redis_url, tmp_path) -> list[int]:
    """Start a worker, SIGKILL it while it holds a run; the ids of the runs it held (retried a few
    times: a kill can land between two jobs)."""
    for attempt in range(5):
        worker = _worker(pg_url, redis_url, tmp_path, f"killed{attempt}")
        seen: list[int] = []

        def running() -> bool:
            with world.session() as s:
                seen[:] = s.execute(select(rule_outbox.c.id).where(rule_outbox.c.status == "running")).scalars().all()
            return bool(seen)
        _wait(running, 60, "a worker to be in the middle of a run", [tmp_path / f"killed{attempt}.log"])
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        with world.session() as s:
            stuck = s.execute(select(rule_outbox.c.id).where(rule_outbox.c.status == "running")).scalars().all()
        if stuck:
            return stuck
    raise AssertionError("never caught a worker in the middle of a run")


def test_a_worker_killed_mid_job_loses_nothing_and_repeats_nothing(pg_url, redis_url, tmp_path):
    previous = queue.use(queue.DeferredBackend())
    try:
        world = _world(pg_url, queue.RqBackend(redis_url), MULTI)
        n = 60
        for i in range(n):
            world.create("iqc", lot_no=f"L{i}", qty=1, result="NG")
        stuck = _kill_mid_run(world, pg_url, redis_url, tmp_path)
        with world.session() as s:      # some of its actions may have committed before the kill
            from engine.storage.rule_tables import rule_action_runs
            partly = s.execute(select(func.count()).select_from(rule_action_runs)
                               .where(rule_action_runs.c.outbox_id.in_(stuck))).scalar_one()
        second = _worker(pg_url, redis_url, tmp_path, "second")
        try:
            _wait(lambda: _counts(world.engine).get("done", 0) == n, 90, "every run done",
                  [tmp_path / "second.log"])
        finally:
            second.terminate()
            second.wait(10)
        made = sorted((r.data["lot_no"], r.data["source"]) for r in _ncrs(world))
        assert made == sorted((f"L{i}", f"step {k}") for i in range(n) for k in range(STEPS))   # each exactly once
        with world.session() as s:
            attempts = s.execute(select(rule_outbox.c.attempts).where(rule_outbox.c.id.in_(stuck))).scalars().all()
        assert all(a >= 2 for a in attempts) and partly < STEPS * len(stuck)
        world.engine.dispose()
    finally:
        queue.use(previous)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_server(port: int, tmp_path: Path) -> subprocess.Popen:
    binary = shutil.which("redis-server")
    if binary is None:
        _need("redis-server is not installed", "a private Redis server")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from redis import Redis
    conn = Redis(port=port, socket_connect_timeout=1)
    _wait(lambda: _pings(conn), 10, "the private Redis to start")
    return proc


def _pings(conn) -> bool:
    try:
        return bool(conn.ping())
    except Exception:  # noqa: BLE001
        return False


def test_records_written_while_redis_is_down_are_dispatched_when_it_is_back(pg_url, redis_url, tmp_path):
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = _redis_server(port, tmp_path)
    previous = queue.use(queue.DeferredBackend())
    worker = None
    try:
        world = _world(pg_url, queue.RqBackend(url))
        worker = _worker(pg_url, url, tmp_path, "worker")
        for i in range(10):
            world.create("iqc", lot_no=f"A{i}", qty=1, result="NG")
        _wait(lambda: _counts(world.engine).get("done", 0) == 10, 60, "the first runs", [tmp_path / "worker.log"])
        server.terminate()
        server.wait(10)
        started = time.monotonic()
        for i in range(10):
            world.create("iqc", lot_no=f"B{i}", qty=1, result="NG")        # writes go on without Redis
        assert time.monotonic() - started < 20
        time.sleep(1)
        assert _counts(world.engine).get("done", 0) == 10 and len(world.runs()) == 20
        server = _redis_server(port, tmp_path)                                # an empty Redis: the jobs were lost
        _wait(lambda: _counts(world.engine).get("done", 0) == 20, 90, "dispatch after Redis came back",
              [tmp_path / "worker.log"])
        assert sorted(_ncr_lots(world)) == sorted([f"A{i}" for i in range(10)] + [f"B{i}" for i in range(10)])
        world.engine.dispose()
    finally:
        queue.use(previous)
        if worker is not None:
            worker.terminate()
            worker.wait(10)
        server.terminate()
        server.wait(10)
