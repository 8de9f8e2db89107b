"""Where background jobs go: rq queues when ``REDIS_URL`` is set, else a thread pool in this process.

A job is a plain importable function named ``"package.module:function"`` whose arguments are
primitives (the database URL first, then ids), so exactly the same function runs on an rq
worker (``qms worker``) and in-process. Jobs never carry state the database does not also
hold: the outbox, mail and webhook tables are the source of truth, and a job that is lost
(Redis restarted, a worker killed) is enqueued again by the sweep (:mod:`engine.jobs.tasks`).

:func:`after_commit` is how services hand work over: the job is enqueued only once the
transaction that wrote its rows has committed (a rolled-back transaction enqueues nothing),
and a failure to enqueue is logged, never raised into the request (the sweep catches up).
"""
from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from sqlalchemy import Engine, event as sa_event
from sqlalchemy.orm import Session

from engine.storage.db import make_engine

log = logging.getLogger(__name__)

QUEUE_NAME = "qms"
IN_PROCESS_WORKERS = 2
JOB_TIMEOUT = 300            # seconds an rq job may run
RETRY_AFTER = 5.0            # seconds without enqueue attempts after the backend failed
_AFTER_COMMIT = "qms.jobs_after_commit"

_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def resolve(target: str) -> Callable[..., Any]:
    """``"module:function"`` → the function (only importable, named functions can be jobs)."""
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"job target must look like 'package.module:function', got {target!r}")
    return getattr(importlib.import_module(module), name)


def engine_for(url: str) -> Engine:
    """One SQLAlchemy engine per database URL in this process (jobs reuse its pool)."""
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


class InProcessBackend:
    """A small thread pool, created lazily once per process (a forked gunicorn worker gets its own)."""

    name = "in-process"

    def __init__(self, workers: int = IN_PROCESS_WORKERS):
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pid: int | None = None

    def _executor(self) -> ThreadPoolExecutor:
        with _lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="qms-job")
                self._pid = os.getpid()
            return self._pool

    def enqueue(self, target: str, args: tuple) -> Future:
        func = resolve(target)

        def run() -> Any:
            try:
                return func(*args)
            except Exception:
                log.exception("job %s%r failed", target, args)
                raise
        return self._executor().submit(run)


class RqBackend:
    """rq queue ``qms`` on ``redis_url``; jobs are enqueued by dotted name (workers import them)."""

    name = "rq"

    def __init__(self, redis_url: str):
        from redis import Redis
        self.redis_url = redis_url
        # short timeouts: a request must not hang on a dead Redis (the sweep enqueues later)
        self.connection = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self._queue = None

    @property
    def queue(self):
        if self._queue is None:
            from rq import Queue
            self._queue = Queue(QUEUE_NAME, connection=self.connection, default_timeout=JOB_TIMEOUT)
        return self._queue

    def enqueue(self, target: str, args: tuple):
        module, _, name = target.partition(":")
        return self.queue.enqueue(f"{module}.{name}", *args, result_ttl=0, failure_ttl=7 * 86400)

    def enqueue_many(self, calls: list[tuple[str, tuple]]) -> None:
        from rq import Queue
        jobs = [Queue.prepare_data(f"{t.partition(':')[0]}.{t.partition(':')[2]}", args=a, result_ttl=0,
                                   failure_ttl=7 * 86400) for t, a in calls]
        self.queue.enqueue_many(jobs)


class DeferredBackend:
    """Keeps the calls until :meth:`run_all` runs them here, in order (tests, and ``--burst`` runs)."""

    name = "deferred"

    def __init__(self):
        self.calls: list[tuple[str, tuple]] = []

    def enqueue(self, target: str, args: tuple) -> None:
        self.calls.append((target, args))

    def run_all(self, limit: int = 10_000) -> int:
        """Run queued calls (and those they queue) until none is left; returns how many ran."""
        ran = 0
        while self.calls and ran < limit:
            target, args = self.calls.pop(0)
            resolve(target)(*args)
            ran += 1
        return ran


_backend: InProcessBackend | RqBackend | DeferredBackend = InProcessBackend()


def use(backend) -> InProcessBackend | RqBackend | DeferredBackend:
    """Put ``backend`` in place (returns the previous one, to restore)."""
    global _backend
    previous, _backend = _backend, backend
    return previous


def configure(redis_url: str | None) -> InProcessBackend | RqBackend:
    """Choose the backend for this process: rq with ``redis_url``, else the in-process pool."""
    global _backend
    if redis_url:
        if not (isinstance(_backend, RqBackend) and _backend.redis_url == redis_url):
            _backend = RqBackend(redis_url)
    elif not isinstance(_backend, InProcessBackend):
        _backend = InProcessBackend()
    return _backend


def backend() -> InProcessBackend | RqBackend:
    return _backend


def uses_rq() -> bool:
    return isinstance(_backend, RqBackend)


_down_until = 0.0      # after a failure, don't make every request wait for a dead Redis


def enqueue(target: str, *args: Any) -> bool:
    """Hand ``target(*args)`` to the configured backend now; False (logged) when it cannot take it."""
    return enqueue_many([(target, args)])


def available() -> bool:
    """False for a while after the backend refused work (see :func:`enqueue_many`)."""
    return time.monotonic() >= _down_until


def enqueue_many(calls: list[tuple[str, tuple]]) -> bool:
    """Several jobs at once (one round trip to Redis). False when the backend refused them, or
    failed less than :data:`RETRY_AFTER` seconds ago: the rows stay pending and the sweep enqueues
    them once it is back."""
    global _down_until
    if not calls:
        return True
    if time.monotonic() < _down_until:
        return False
    try:
        if isinstance(_backend, RqBackend):
            _backend.enqueue_many(calls)
        else:
            for target, args in calls:
                _backend.enqueue(target, args)
        return True
    except Exception:   # noqa: BLE001 - Redis down: logged, and the sweep catches up
        _down_until = time.monotonic() + RETRY_AFTER
        log.warning("could not enqueue %d job(s) on %s; retrying in %s s", len(calls), _backend.name, RETRY_AFTER,
                    exc_info=True)
        return False


def after_commit(session: Session, target: str, *args: Any) -> None:
    """Enqueue ``target(*args)`` once ``session``'s transaction has committed (never on rollback)."""
    session.info.setdefault(_AFTER_COMMIT, []).append((target, args))


def database_url(session: Session) -> str:
    """The URL of the database ``session`` writes to (job functions take it as first argument)."""
    return session.get_bind().url.render_as_string(hide_password=False)


def after_commit_job(session: Session, target: str, *args: Any, merge: bool = False) -> None:
    """:func:`after_commit` of ``target(database_url, *args)`` for the session's own database.
    ``merge``: one job per transaction — the args join those of an already scheduled call of ``target``."""
    calls = session.info.setdefault(_AFTER_COMMIT, [])
    if merge:
        for i, (known, known_args) in enumerate(calls):
            if known == target:
                calls[i] = (known, known_args + args)
                return
    calls.append((target, (database_url(session), *args)))


@sa_event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    calls = session.info.pop(_AFTER_COMMIT, None)
    if calls:
        enqueue_many(calls)


@sa_event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
