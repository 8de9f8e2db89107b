"""Background jobs: one row per job in ``jobs`` (kind, params, status, progress, result, error).

The same rows serve the in-process runner (``runtime/jobs.py``) and, later, rq workers: a job
function receives the job id, loads its params here and reports through these functions.
Writers (:func:`start_job`, :func:`set_progress`, :func:`finish_job`, :func:`fail_job`) are
called by the job itself in short transactions of their own; readers are tenant-scoped and show
a job only to the user who started it and to admins.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.i18n import msg
from engine.storage.platform import jobs
from engine.types import Actor

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_ERROR = 4000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def create_job(session: Session, actor: Actor, kind: str, params: Mapping[str, Any], total: int = 0) -> int:
    """A queued job of ``kind`` for the actor's tenant; returns its id."""
    return session.execute(insert(jobs).values(
        tenant_id=actor.tenant_id, kind=kind, status=QUEUED, params=dict(params), progress_done=0,
        progress_total=max(0, int(total)), created_by=actor.user_id, created_at=_now()).returning(jobs.c.id)).scalar_one()


def load_job(session: Session, job_id: int) -> dict:
    """The job row for its runner (no tenant check: the runner is the system); NotFound if absent."""
    row = session.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise NotFound(msg("任务 {i} 不存在", "Job {i} does not exist", i=job_id))
    return dict(row)


def start_job(session: Session, job_id: int) -> None:
    session.execute(update(jobs).where(jobs.c.id == job_id).values(status=RUNNING, started_at=_now(),
                                                                   error=None, result=None))


def set_progress(session: Session, job_id: int, done: int, total: int) -> None:
    session.execute(update(jobs).where(jobs.c.id == job_id).values(progress_done=max(0, int(done)),
                                                                   progress_total=max(0, int(total))))


def finish_job(session: Session, job_id: int, result: Mapping[str, Any] | None = None) -> None:
    values = {"status": DONE, "finished_at": _now(), "result": dict(result or {})}
    session.execute(update(jobs).where(jobs.c.id == job_id).values(**values))


def fail_job(session: Session, job_id: int, error: str, result: Mapping[str, Any] | None = None) -> None:
    session.execute(update(jobs).where(jobs.c.id == job_id).values(
        status=FAILED, finished_at=_now(), error=str(error)[:MAX_ERROR], result=dict(result) if result else None))


def get_job(session: Session, actor: Actor, job_id: int) -> dict:
    """The job as its owner (or an admin of the tenant) sees it; NotFound for anyone else."""
    where = and_(jobs.c.id == job_id, jobs.c.tenant_id == actor.tenant_id)
    if not actor.unrestricted:
        where = and_(where, jobs.c.created_by == actor.user_id)
    row = session.execute(select(jobs).where(where)).mappings().first()
    if row is None:
        raise NotFound(msg("任务 {i} 不存在", "Job {i} does not exist", i=job_id))
    return dict(row)


def job_json(job: Mapping[str, Any]) -> dict:
    """The public view of a job row (what ``GET /jobs/<id>`` answers)."""
    stamp = lambda v: v.isoformat() if isinstance(v, datetime) else None  # noqa: E731
    return {"id": job["id"], "kind": job["kind"], "status": job["status"], "done": job["progress_done"],
            "total": job["progress_total"], "result": job["result"], "error": job["error"],
            "created_at": stamp(job["created_at"]), "started_at": stamp(job["started_at"]),
            "finished_at": stamp(job["finished_at"])}
