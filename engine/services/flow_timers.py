"""Deadlines: reminders before the due time and what a node does when its task is overdue.

Every open task with a deadline carries ``next_timer_at`` (the next moment something must
happen); :func:`due_timers` finds them with one indexed range query, however many open tasks
there are. :func:`fire` handles one task in the caller's transaction, under the instance lock,
re-checking that it is still due — so a timer job that runs twice, or on two workers, acts once.
The database is the only source of truth: a lost job is simply found again on the next run.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from engine.flows import runtime
from engine.services import flows
from engine.services.flow_actions import decide
from engine.storage.db import stored_utc
from engine.storage.flow_tables import flow_tasks
from engine.types import Actor

BATCH = 500
log = logging.getLogger(__name__)


def due_timers(session: Session, now: datetime, limit: int = BATCH) -> list[tuple[int, int]]:
    """(tenant id, task id) of tasks whose timer is due, oldest first (index ``ix_flow_tasks_timer``)."""
    rows = session.execute(select(flow_tasks.c.tenant_id, flow_tasks.c.id).where(
        flow_tasks.c.next_timer_at <= now).order_by(flow_tasks.c.next_timer_at).limit(limit)).all()
    return [(r.tenant_id, r.id) for r in rows]


def fire(session: Session, tenant_id: int, task_id: int, now: datetime | None = None) -> str | None:
    """Do what is due for one task: "reminded", "overdue", "escalated", "approved", "returned" or None."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    task = _task(session, tenant_id, task_id)
    if task is None:
        return None
    move = flows.load_move(session, Actor.system(tenant_id), task["instance_id"], now)
    task = _task(session, tenant_id, task_id)           # again, under the lock
    if task is None or task["status"] != "open" or move.row["state"] != flows.RUNNING \
            or task["next_timer_at"] is None or stored_utc(task["next_timer_at"]) > now:
        return None
    node = move.flow.node(task["node_id"])
    rule = node.deadline
    if rule is None:
        _set_timer(move, task, None)
        return None
    if task["due_at"] is not None and now < stored_utc(task["due_at"]):
        _set_timer(move, task, stored_utc(task["due_at"]), remind=True)
        flows.event(move, "reminder", node.id, task_id=task_id, actor_id=None, data={"to": task["assignee_id"]})
        return "reminded"
    action = rule.on_overdue
    if action == "approve" and node.signature is not None:
        action = "remind"              # nobody can sign for the approver: keep reminding
    return {"remind": _remind, "escalate": _escalate, "approve": _approve, "return": _return}[action](move, task, node)


def _task(session: Session, tenant_id: int, task_id: int) -> dict | None:
    row = session.execute(select(flow_tasks).where(and_(flow_tasks.c.tenant_id == tenant_id,
                                                        flow_tasks.c.id == task_id))).mappings().first()
    return dict(row) if row else None


def _set_timer(move, task: dict, when: datetime | None, remind: bool = False) -> None:
    values = {"next_timer_at": when}
    if remind:
        values["reminders"] = task["reminders"] + 1
    move.session.execute(update(flow_tasks).where(flow_tasks.c.id == task["id"]).values(**values))


def _remind(move, task: dict, node) -> str:
    _set_timer(move, task, move.now + timedelta(hours=node.deadline.repeat_hours), remind=True)
    flows.event(move, "overdue", node.id, task_id=task["id"], actor_id=None, data={"to": task["assignee_id"]})
    return "overdue"


def _escalate(move, task: dict, node) -> str:
    """The escalation targets may act for the overdue assignee (same slot); the timer stops."""
    people = [p for p in flows.assignees_of(move, node.deadline.escalate_to) if p != task["assignee_id"]]
    _set_timer(move, task, None)
    for user_id in people:
        flows.insert_task(move, node.id, task["entry"], task["kind"], task["slot"], task["seq"] + 1, user_id, "open",
                          None, None, added_by=None)
    flows.event(move, "escalated", node.id, task_id=task["id"], actor_id=None,
                data={"from": task["assignee_id"], "to": people})
    return "escalated"


def _approve(move, task: dict, node) -> str:
    move.session.execute(update(flow_tasks).where(and_(flow_tasks.c.id == task["id"], flow_tasks.c.status == "open"))
                         .values(status="approved", acted_at=move.now, next_timer_at=None))
    flows.event(move, "auto_approved", node.id, task_id=task["id"], actor_id=None)
    decide(move, node, task)
    return "approved"


def _return(move, task: dict, node) -> str:
    state = move.state
    effects = runtime.send_back(move.flow, state, None)
    flows.event(move, "auto_returned", node.id, task_id=task["id"], actor_id=None)
    flows.persist(move, state, effects)
    return "returned"


def run_due(engine, now: datetime | None = None, limit: int = BATCH) -> int:
    """The timer job: every due task in its own transaction; returns how many acted."""
    from engine.storage.db import read_only, session_scope
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    with session_scope(read_only(engine)) as session:       # finding them takes no write lock (SQLite)
        due = due_timers(session, now, limit)
    acted = 0
    for tenant_id, task_id in due:
        try:
            with session_scope(engine) as session:
                acted += fire(session, tenant_id, task_id, now) is not None
        except Exception:  # noqa: BLE001 - one broken task must not stop the others; it stays due
            log.exception("flow timer of task %s (tenant %s) failed", task_id, tenant_id)
    return acted
