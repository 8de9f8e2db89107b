"""Job helpers of the web app: long user-started jobs (imports) and their live progress.

``submit("package.module:function", *args)`` runs a plain importable function on this process's
job pool (:class:`engine.jobs.queue.InProcessBackend`); the function opens its own database
session and reports through :mod:`engine.services.jobs`.

SQLite allows one writer at a time: while a long import holds its transaction open, progress
rows cannot be written by another connection. Progress is therefore also kept in this
process's memory (:func:`report_live` / :func:`live_progress`) — on SQLite the app runs in one
process, so the page polling the job sees it; on PostgreSQL the row itself is current.
"""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from engine.jobs.queue import InProcessBackend, engine_for

__all__ = ["submit", "engine_for", "report_live", "live_progress", "forget_live"]

_pool = InProcessBackend()
_live: dict[int, tuple[int, int]] = {}


def submit(target: str, *args: Any) -> Future:
    """Run ``target(*args)`` on this process's pool (the upload it reads is on this machine);
    exceptions are logged, not lost."""
    return _pool.enqueue(target, args)


def report_live(job_id: int, done: int, total: int) -> None:
    _live[job_id] = (done, total)


def live_progress(job_id: int) -> tuple[int, int] | None:
    return _live.get(job_id)


def forget_live(job_id: int) -> None:
    _live.pop(job_id, None)
