"""Running rules: the job that carries out one outbox row, exactly once per action.

``run_outbox(database_url, outbox_id)`` is the job (rq worker or in-process, the same code):

1. *claim* — in a short transaction the row is locked and moved to ``running`` with a lease;
   a row that is done, failed, or leased by a live worker is left alone (a duplicate job is a no-op);
2. each action runs in its own transaction, which locks the outbox row again, skips the action
   if its ``rule_action_runs`` row exists (it ran before a crash or retry), does the action's
   writes and inserts that row — so an action's effect and the record of it commit together;
3. the row becomes ``done``; or, on an error, ``failed`` (a problem in the rule or the data:
   retrying would not help; an admin can fix and retry) or ``pending`` again with exponential
   backoff (anything else, e.g. the database went away), up to :data:`MAX_ATTEMPTS`.

A worker killed mid-action loses only that action's uncommitted transaction; its lease runs out
and the sweep (:func:`due_jobs`) enqueues the row again.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import and_, insert, or_, select, text, update
from sqlalchemy.orm import Session

from engine.definitions.model import FormDef
from engine.errors import NotFound, QMSError
from engine.expressions import EvalContext, compile_expression
from engine.i18n import msg
from engine.jobs import queue
from engine.rules import ACTIONS, TRIGGERS, RuleDef
from engine.services import rule_defs
from engine.services.rule_context import SqlRunContext
from engine.services.rule_events import DEPTH_KEY, ORIGIN_KEY, RUN_JOB
from engine.storage import form_store
from engine.storage.db import session_scope, stored_utc
from engine.storage.rule_tables import rule_action_runs, rule_outbox
from engine.types import Actor

MAX_ATTEMPTS = 5
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
BACKOFF_SECONDS = 10            # 10 s, 40 s, 160 s, 640 s …
QUEUED_GRACE = timedelta(seconds=60)     # a queued row not started by then: its job was lost (Redis restarted)


def lease_seconds() -> int:
    """How long a worker holds a running row before the sweep may hand it to another (``QMS_JOB_LEASE``)."""
    try:
        return max(1, int(os.environ.get("QMS_JOB_LEASE") or 300))
    except ValueError:
        return 300


def _now() -> datetime:
    return datetime.now(timezone.utc)


def rule_form(session: Session, tenant_id: int, rule: RuleDef) -> FormDef | None:
    """The form a rule refers to (newest published version), or None."""
    if rule.form is None:
        return None
    return form_store.load_published(session, tenant_id, rule.form).form


def _lock(session: Session, outbox_id: int):
    return session.execute(select(rule_outbox).where(rule_outbox.c.id == outbox_id).with_for_update()).mappings().first()


def _claimable(row: Mapping[str, Any] | None, now: datetime) -> bool:
    """Whether a job may start this row now (a duplicate job, a live lease or a backoff say no)."""
    if row is None or row["status"] in ("done", "failed"):
        return False
    if row["status"] == "running" and row["lease_until"] is not None and stored_utc(row["lease_until"]) > now:
        return False
    if row["status"] == "pending" and row["attempts"] and row["next_attempt_at"] is not None \
            and stored_utc(row["next_attempt_at"]) > now:
        return False                # backing off: a stray duplicate job must not retry early
    return True


class ActionFailed(Exception):
    """An action raised: which one, and the underlying error."""

    def __init__(self, index: int, action_type: str, error: BaseException):
        super().__init__(f"action {index + 1} ({action_type}): {error}")
        self.index, self.action_type, self.error = index, action_type, error


class _Run:
    """One job's pass over an outbox row: which attempt it is and what its actions did so far."""

    def __init__(self, outbox_id: int):
        self.id, self.attempts, self.row, self.done = outbox_id, None, None, None


def run_outbox(database_url: str, *outbox_ids: int) -> str:
    """Carry out outbox rows ``outbox_ids`` one after the other (the job: the runs one transaction
    wrote). Returns the last row's final status, or "skipped".

    Each action is one transaction that also claims the row (the first one) or checks the claim
    still holds (the others), and that marks the row done (the last one): a rule with one action
    costs one transaction."""
    engine = queue.engine_for(database_url)
    status = "skipped"
    for outbox_id in outbox_ids:
        status = _run_one(engine, outbox_id)
    return status


def _run_one(engine, outbox_id: int) -> str:
    run = _Run(outbox_id)
    try:
        while True:
            with session_scope(engine) as s:
                _relaxed_commit(s)
                status = _step(s, run, _now())
            if status != "running":
                return status
    except Exception as exc:  # noqa: BLE001 - recorded on the row; never lost
        return _failed(engine, run, exc)


def _relaxed_commit(session: Session) -> None:
    """PostgreSQL: this transaction's COMMIT need not wait for the disk. Safe here, and only here:
    a crash can lose such a transaction only as a whole — the action's effect together with its
    action-run row and the outbox row's new state — so the run is found pending and done again,
    still exactly once. (The change that fired the rule is committed normally.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ASYNC_COMMIT)


def _step(s: Session, run: _Run, now: datetime) -> str:
    """Run the next action of ``run`` in session ``s``; the row's status after it."""
    row = _lock(s, run.id)
    if run.attempts is None:                      # the first transaction claims the row
        if not _claimable(row, now):
            return "skipped"
        run.attempts, run.row = row["attempts"] + 1, dict(row)
        run.done = {} if row["started_at"] is None else dict(s.execute(     # never started: nothing ran yet
            select(rule_action_runs.c.idx, rule_action_runs.c.outcome).where(rule_action_runs.c.outbox_id == run.id)).all())
        s.execute(update(rule_outbox).where(rule_outbox.c.id == run.id).values(
            status="running", attempts=run.attempts, started_at=now, lease_until=now + timedelta(seconds=lease_seconds())))
    elif row is None or row["status"] != "running" or row["attempts"] != run.attempts:
        raise RuntimeError("the run was taken over by another worker")
    rule = _rule_of(s, run.row)
    todo = [a for a in rule.actions if a.index not in run.done]
    if todo:
        _run_action(s, run, rule, todo[0])
    if len(todo) <= 1:
        s.execute(update(rule_outbox).where(rule_outbox.c.id == run.id).values(
            status="done", finished_at=_now(), lease_until=None, error=None, next_attempt_at=None))
        return "done"
    return "running"


def _rule_of(s: Session, row: Mapping[str, Any]) -> RuleDef:
    """The rule version a run stands for (``flow:<flow>.<node>``: an automatic flow step's actions)."""
    from engine.services import flow_automation
    if row["rule_key"].startswith(flow_automation.PREFIX):
        rule = flow_automation.node_rule(s, row["tenant_id"], row["rule_key"], row["rule_version"])
        if rule is None:
            raise NotFound(msg("流程自动节点 {k} 不存在", "Automatic flow step {k} does not exist", k=row["rule_key"]))
        return rule
    return rule_defs.load_rule_version(s, row["tenant_id"], row["rule_key"], row["rule_version"])


def _run_action(s: Session, run: _Run, rule: RuleDef, action) -> None:
    row = run.row
    s.info[DEPTH_KEY], s.info[ORIGIN_KEY] = row["depth"] + 1, row["id"]
    try:
        ctx = SqlRunContext(s, run_actor(row), row, rule, rule_form(s, row["tenant_id"], rule), run.done)
        outcome = _jsonable(ACTIONS.get(action.type).run(action, ctx))
    except Exception as exc:  # noqa: BLE001 - re-raised with the action named
        raise ActionFailed(action.index, action.type, exc) from exc
    s.execute(insert(rule_action_runs).values(outbox_id=row["id"], idx=action.index, action_type=action.type,
                                              outcome=outcome, at=_now()))
    run.done[action.index] = outcome


def run_actor(row: Mapping[str, Any]) -> Actor:
    """Who a rule's actions act as: the system, on behalf of the user whose change fired the rule
    (records it creates are theirs; audit entries name the rule as the reason), in their language."""
    event = row.get("event") or {}
    return Actor(tenant_id=row["tenant_id"], user_id=row.get("actor_id"), lang=event.get("lang") or "zh-CN",
                 name="system", is_system=True)


def _jsonable(value: Any) -> Any:
    import json
    return json.loads(json.dumps(value, default=str))


def _message(exc: BaseException, lang: str = "zh-CN") -> str:
    inner = exc.error if isinstance(exc, ActionFailed) else exc
    text = inner.message.get(lang) if isinstance(inner, QMSError) else f"{type(inner).__name__}: {inner}"
    if isinstance(inner, QMSError) and getattr(inner, "problems", None):
        text += "; " + "; ".join(f"{p.path} {p.message.get(lang)}" for p in inner.problems[:10])
    if isinstance(inner, QMSError) and getattr(inner, "errors", None):
        text += "; " + "; ".join(f"{e.field}: {e.message.get(lang)}" for e in list(inner.errors)[:10]
                                 if hasattr(e, "field"))
    where = f"#{exc.index + 1} {exc.action_type}: " if isinstance(exc, ActionFailed) else ""
    return (where + text)[:4000]


def _permanent(exc: BaseException) -> bool:
    """Errors in the rule or the data: retrying cannot help (an admin fixes and retries)."""
    inner = exc.error if isinstance(exc, ActionFailed) else exc
    from engine.rules.templates import TemplateProblem
    return isinstance(inner, (QMSError, TemplateProblem, KeyError, ValueError, TypeError))


def _failed(engine, run: _Run, exc: BaseException) -> str:
    """Record the failure on the row: failed for good, or pending again after a backoff. The claim
    may have been rolled back with the failing action, so the attempt is written here too."""
    if run.attempts is None:
        raise exc
    now = _now()
    final = _permanent(exc) or run.attempts >= MAX_ATTEMPTS
    values: dict[str, Any] = {"error": _message(exc, (run.row["event"] or {}).get("lang") or "zh-CN"),
                              "lease_until": None, "attempts": run.attempts}
    if final:
        values.update(status="failed", finished_at=now, next_attempt_at=None)
    else:
        values.update(status="pending", next_attempt_at=now + timedelta(seconds=BACKOFF_SECONDS * 4 ** (run.attempts - 1)))
    with session_scope(engine) as s:
        row = _lock(s, run.id)
        if row is not None and row["status"] not in ("done", "failed") and row["attempts"] <= run.attempts:
            s.execute(update(rule_outbox).where(rule_outbox.c.id == run.id).values(**values))
    return values["status"]


# ---- the sweep and admin retry ----------------------------------------------------------------------

def due_jobs(session: Session, now: datetime, limit: int = 500) -> list[tuple[str, tuple]]:
    """Job calls for outbox rows that should run now: pending and due, queued too long ago (the job
    was lost), or running with an expired lease (the worker died). Marks them queued."""
    url = queue.database_url(session)
    due = or_(and_(rule_outbox.c.status == "pending", rule_outbox.c.next_attempt_at <= now),
              and_(rule_outbox.c.status == "queued", rule_outbox.c.next_attempt_at <= now - QUEUED_GRACE),
              and_(rule_outbox.c.status == "running", rule_outbox.c.lease_until < now))
    ids = list(session.execute(select(rule_outbox.c.id).where(due).order_by(rule_outbox.c.id).limit(limit)
                               .with_for_update(skip_locked=True)).scalars())
    if ids:
        session.execute(update(rule_outbox).where(and_(rule_outbox.c.id.in_(ids), rule_outbox.c.status != "running"))
                        .values(status="queued", next_attempt_at=now))
    return [(RUN_JOB, (url, i)) for i in ids]


def unqueue(session: Session, ids: list[int]) -> None:
    """Rows the sweep marked queued but could not hand over: pending again, due now."""
    if ids:
        session.execute(update(rule_outbox).where(and_(rule_outbox.c.id.in_(ids), rule_outbox.c.status == "queued"))
                        .values(status="pending"))


def retry(session: Session, actor: Actor, outbox_id: int) -> None:
    """Admin: run a failed rule run again (actions that already ran are not repeated)."""
    from engine.errors import PermissionDenied
    if not actor.unrestricted:
        raise PermissionDenied(msg("只有管理员可以重试", "Only an administrator can retry"))
    row = session.execute(select(rule_outbox.c.id, rule_outbox.c.status).where(and_(
        rule_outbox.c.id == outbox_id, rule_outbox.c.tenant_id == actor.tenant_id))).first()
    if row is None:
        raise NotFound(msg("运行记录 {i} 不存在", "Run {i} does not exist", i=outbox_id))
    if row.status != "failed":
        return
    session.execute(update(rule_outbox).where(rule_outbox.c.id == outbox_id).values(
        status="pending", attempts=0, next_attempt_at=_now(), finished_at=None, error=None))
    queue.after_commit_job(session, RUN_JOB, outbox_id)


def test_condition(session: Session, actor: Actor, rule: RuleDef, event: Mapping[str, Any]) -> Any:
    """The rule's condition on an event (for the designer's test run; nothing is written)."""
    form = rule_form(session, actor.tenant_id, rule)
    kind = TRIGGERS.get(rule.trigger.type)
    if not rule.condition:
        return True
    compiled = compile_expression(rule.condition, kind.scope(rule.trigger, form))
    return compiled.evaluate(kind.inputs(rule.trigger, event, form), EvalContext(user_id=actor.user_id, lang=actor.lang))
