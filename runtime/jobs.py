"""The in-process job runner: a small thread pool, started lazily once per process.

``submit("package.module:function", *args)`` runs a plain importable function with primitive
arguments (ids, strings) on a worker thread; the function opens its own database session and
reports through :mod:`engine.services.jobs`, so the same function can run on an rq worker
unchanged. A process that forked after the pool started (gunicorn) gets a fresh pool.

SQLite allows one writer at a time: while a long import holds its transaction open, progress
rows cannot be written by another connection. Progress is therefore also kept in this
process's memory (:func:`report_live` / :func:`live_progress`) — on SQLite the app runs in one
process, so the page polling the job sees it; on PostgreSQL the row itself is current.
"""
from __future__ import annotations

import importlib
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine

from engine.storage.db import make_engine

MAX_WORKERS = 2
log = logging.getLogger(__name__)

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None
_engines: dict[str, Engine] = {}
_live: dict[int, tuple[int, int]] = {}


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="qms-job")
            _pool_pid = os.getpid()
        return _pool


def resolve(target: str):
    """``"module:function"`` → the function (only importable, named functions can be jobs)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def submit(target: str, *args: Any) -> Future:
    """Run ``target(*args)`` on the process's job pool; exceptions are logged, not lost."""
    func = resolve(target)

    def run() -> Any:
        try:
            return func(*args)
        except Exception:
            log.exception("job %s%r failed", target, args)
            raise
    return _executor().submit(run)


def engine_for(url: str) -> Engine:
    """One SQLAlchemy engine per database URL in this process (jobs reuse its pool)."""
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def report_live(job_id: int, done: int, total: int) -> None:
    _live[job_id] = (done, total)


def live_progress(job_id: int) -> tuple[int, int] | None:
    return _live.get(job_id)


def forget_live(job_id: int) -> None:
    _live.pop(job_id, None)


def start_timer_loop(engine: Engine, every: float = 60.0) -> threading.Thread:
    """Flow deadlines in the single-machine setup: a daemon thread that runs the timer job every
    ``every`` seconds (reminders, escalations). Safe next to other processes doing the same: each
    task is handled under its instance's lock and only while still due."""
    from engine.services import flow_timers

    def loop() -> None:
        while True:
            try:
                flow_timers.run_due(engine)
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.exception("flow timers failed")
            threading.Event().wait(every)
    thread = threading.Thread(target=loop, name="qms-timers", daemon=True)
    thread.start()
    return thread
