"""Running flows: start an instance on a record and persist every move in one transaction.

The pure state machine (:mod:`engine.flows.runtime`) decides where tokens go; this module
loads what it needs, locks the instance row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
write transaction is already exclusive), writes the instance, its tasks, timeline events and
the record's ``flow_state`` together, and never commits (the caller owns the transaction).
Task actions live in :mod:`engine.services.flow_actions`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from engine.definitions import form_scope
from engine.errors import Conflict, NotFound, PermissionDenied
from engine.expressions import EvalContext, compile_expression
from engine.flows import runtime
from engine.flows.assignees import AssigneeContext, resolve
from engine.flows.calendar import WorkCalendar, add_hours, add_working_hours
from engine.flows.model import FlowDef, NodeDef
from engine.flows.runtime import Effects, InstanceState
from engine.i18n import msg
from engine.services import flow_defs
from engine.services.flow_directory import SqlDirectory, delegate_of
from engine.storage import form_store, records
from engine.storage.flow_tables import flow_events, flow_instances, flow_tasks, work_calendars
from engine.types import Actor

OPEN = ("open", "waiting", "queued")          # task states that still expect someone
RUNNING = "running"


@dataclass
class Move:
    """Everything one transition needs: the instance row, its flow version and the record."""

    session: Session
    actor: Actor
    row: dict
    flow: FlowDef
    values: dict
    now: datetime

    @property
    def tenant_id(self) -> int:
        return self.row["tenant_id"]

    @property
    def state(self) -> InstanceState:
        r = self.row
        return InstanceState(r["state"], r["run"], list(r["tokens"] or []), dict(r["joins"] or {}))


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


# ---------------------------------------------------------------------------- starting

def start_flow(session: Session, actor: Actor, form_key: str, record_id: int, flow_key: str | None = None,
               *, now: datetime | None = None, check_access: bool = True) -> int:
    """Start ``flow_key`` (default: the form's auto-start flow) on a record; returns the instance id.

    The actor becomes the submitter: they must be able to read the record. A record runs at
    most one instance at a time (Conflict otherwise).
    """
    now = _now(now)
    flow = (flow_defs.load_flow_version(session, actor.tenant_id, flow_key) if flow_key
            else flow_defs.auto_flow_for(session, actor.tenant_id, form_key))
    if flow is None:
        raise NotFound(msg("表单“{f}”没有审批流程", "Form '{f}' has no approval flow", f=form_key))
    if flow.form != form_key:
        raise Conflict(msg("流程“{k}”不属于表单“{f}”", "Flow '{k}' is not a flow of form '{f}'", k=flow.key, f=form_key))
    values = _record_values(session, actor, form_key, record_id, check_access)
    if active_instance(session, actor.tenant_id, form_key, record_id, lock=True) is not None:
        raise Conflict(msg("记录 {i} 已有进行中的流程", "Record {i} already has a flow in progress", i=record_id))
    state, effects = runtime.start(flow, values, _condition(session, actor, flow))
    instance_id = session.execute(insert(flow_instances).values(
        tenant_id=actor.tenant_id, flow_key=flow.key, flow_version=flow.version, form_key=form_key,
        record_id=record_id, state=state.state, submitter_id=actor.user_id, run=1, tokens=[], joins={},
        started_at=now, updated_at=now, lock_version=0).returning(flow_instances.c.id)).scalar_one()
    move = Move(session, actor, _instance_row(session, actor.tenant_id, instance_id, lock=False), flow, values, now)
    event(move, "submitted", flow.start.id)
    persist(move, state, effects)
    return instance_id


def start_if_configured(session: Session, actor: Actor, form_key: str, record_id: int,
                        *, now: datetime | None = None) -> int | None:
    """Start the form's auto-start flow on a new record, if it has one (every write path calls this)."""
    if not form_store.has_flows(session, actor.tenant_id, form_key):     # no extra query for most forms
        return None
    flow = flow_defs.auto_flow_for(session, actor.tenant_id, form_key)
    if flow is None or actor.user_id is None:
        return None
    return start_flow(session, actor, form_key, record_id, flow.key, now=now, check_access=False)


def before_record_delete(session: Session, actor: Actor, form_key: str, record_id: int, reason: str | None,
                         *, now: datetime | None = None) -> None:
    """A record in approval cannot be deleted; an approved one only with a reason; a returned or
    withdrawn one ends its instance (cancelled) with it."""
    instance = latest_instance(session, actor.tenant_id, form_key, record_id)
    if instance is None or instance["state"] in ("rejected", "cancelled"):
        return
    if instance["state"] == RUNNING:
        raise PermissionDenied(msg("记录 {i} 正在审批中，不能删除", "Record {i} is in approval and cannot be deleted",
                                   i=record_id))
    if instance["state"] == "approved":
        if not (reason or "").strip():
            raise PermissionDenied(msg("记录 {i} 已审批通过，删除时必须填写原因",
                                       "Record {i} is approved: give a reason to delete it", i=record_id))
        return
    move = load_move(session, actor, instance["id"], now)
    state = move.state
    state.state = "cancelled"
    event(move, "cancelled", None, comment=reason)
    persist(move, state, runtime.Effects(left=list(state.tokens)))


# ---------------------------------------------------------------------------- loading

def _record_values(session: Session, actor: Actor, form_key: str, record_id: int, check_access: bool = True) -> dict:
    from engine.services import records as record_service
    reader = actor if check_access else Actor.system(actor.tenant_id)
    return dict(record_service.get_record(session, reader, form_key, record_id).values)


def _instance_row(session: Session, tenant_id: int, instance_id: int, lock: bool = True) -> dict:
    stmt = select(flow_instances).where(and_(flow_instances.c.tenant_id == tenant_id, flow_instances.c.id == instance_id))
    row = session.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        raise NotFound(msg("流程实例 {i} 不存在", "Flow instance {i} does not exist", i=instance_id))
    return dict(row)


def active_instance(session: Session, tenant_id: int, form_key: str, record_id: int, lock: bool = False) -> dict | None:
    """The record's instance that is running, returned or withdrawn (not finished), if any."""
    stmt = select(flow_instances).where(and_(
        flow_instances.c.tenant_id == tenant_id, flow_instances.c.form_key == form_key,
        flow_instances.c.record_id == record_id,
        flow_instances.c.state.in_((RUNNING, "returned", "withdrawn")))).order_by(flow_instances.c.id.desc())
    row = session.execute((stmt.with_for_update() if lock else stmt).limit(1)).mappings().first()
    return dict(row) if row else None


def latest_instance(session: Session, tenant_id: int, form_key: str, record_id: int) -> dict | None:
    row = session.execute(select(flow_instances).where(and_(
        flow_instances.c.tenant_id == tenant_id, flow_instances.c.form_key == form_key,
        flow_instances.c.record_id == record_id)).order_by(flow_instances.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def flow_of(session: Session, row: Mapping[str, Any]) -> FlowDef:
    """The flow version an instance runs on."""
    return flow_defs.load_flow_version(session, row["tenant_id"], row["flow_key"], row["flow_version"])


def load_move(session: Session, actor: Actor, instance_id: int, now: datetime | None = None) -> Move:
    """The instance locked for a transition, with its flow version and the record's values."""
    row = _instance_row(session, actor.tenant_id, instance_id, lock=True)
    flow = flow_defs.load_flow_version(session, actor.tenant_id, row["flow_key"], row["flow_version"])
    values = _record_values(session, actor, row["form_key"], row["record_id"], check_access=False)
    return Move(session, actor, row, flow, values, _now(now))


def _condition(session: Session, actor: Actor, flow: FlowDef):
    form = form_store.load_published(session, actor.tenant_id, flow.form).form
    scope, ctx = form_scope(form), EvalContext(user_id=actor.user_id, lang=actor.lang)

    def holds(source: str, values: Mapping[str, Any]) -> bool:
        return compile_expression(source, scope).evaluate(values, ctx) is True
    return holds


def condition_for(move: Move):
    return _condition(move.session, move.actor, move.flow)


# ---------------------------------------------------------------------------- persisting a move

def persist(move: Move, state: InstanceState, effects: Effects) -> None:
    """Write the effects of one transition and the new instance state (same transaction)."""
    for node_id in effects.left:
        close_node_tasks(move, node_id, "cancelled")
    for node_id, index in effects.choices:
        branch = move.flow.node(node_id).branches[index]
        event(move, "branch", node_id, data={"branch": index, "next": branch.next,
                                             "label": _label(branch.label)})
    for node_id in effects.cc:
        _create_tasks(move, move.flow.node(node_id), kind="cc")
    for node_id in effects.automatic:
        event(move, "automatic", node_id)
    version = move.row["lock_version"] + 1
    for node_id in effects.entered:
        _create_tasks(move, move.flow.node(node_id), entry=version)
    ended = state.state in ("approved", "rejected", "cancelled")
    if effects.finished:
        event(move, "approved", None)
    values = {"state": state.state, "run": state.run, "tokens": state.tokens, "joins": state.joins,
              "updated_at": move.now, "lock_version": version, "ended_at": move.now if ended else None}
    done = move.session.execute(update(flow_instances).where(and_(
        flow_instances.c.id == move.row["id"], flow_instances.c.lock_version == move.row["lock_version"]))
        .values(**values))
    if done.rowcount != 1:      # only possible if the row was not locked: never write a lost update
        raise Conflict(msg("流程刚被他人处理，请刷新后重试", "Someone else just moved this flow; refresh and retry"))
    move.row.update(values)
    _set_record_flow_state(move, state)


def _label(label) -> dict | None:
    return {"zh-CN": label.zh, "en": label.en} if label is not None else None


def _set_record_flow_state(move: Move, state: InstanceState) -> None:
    pub = form_store.load_published(move.session, move.tenant_id, move.row["form_key"])
    table = records.top_table(pub.spec)
    shown = state.state if state.state != RUNNING else "running:" + ",".join(state.tokens)
    move.session.execute(update(table).where(and_(table.c.tenant_id == move.tenant_id,
                                                  table.c.id == move.row["record_id"])).values(flow_state=shown[:255]))


def event(move: Move, kind: str, node_id: str | None, *, task_id: int | None = None, comment: str | None = None,
          data: dict | None = None, actor_id: int | None = -1) -> None:
    """One timeline entry of the instance (``actor_id`` default: the acting user)."""
    move.session.execute(insert(flow_events).values(
        tenant_id=move.tenant_id, instance_id=move.row["id"], form_key=move.row["form_key"],
        record_id=move.row["record_id"], at=move.now, actor_id=move.actor.user_id if actor_id == -1 else actor_id,
        kind=kind, node_id=node_id, task_id=task_id, comment=comment, data=data))


def close_node_tasks(move: Move, node_id: str, status: str) -> None:
    """Every task of the node still expecting someone is closed (status cancelled, no timer)."""
    move.session.execute(update(flow_tasks).where(and_(
        flow_tasks.c.instance_id == move.row["id"], flow_tasks.c.node_id == node_id,
        flow_tasks.c.status.in_(OPEN))).values(status=status, next_timer_at=None))


# ---------------------------------------------------------------------------- tasks

def assignees_of(move: Move, specs) -> list[int]:
    directory = SqlDirectory(move.session, move.tenant_id)
    scope_form = form_store.load_published(move.session, move.tenant_id, move.flow.form).form
    ctx = EvalContext(user_id=move.actor.user_id, lang=move.actor.lang)
    evaluate = lambda src, values: compile_expression(src, form_scope(scope_form)).evaluate(values, ctx)  # noqa: E731
    return resolve(specs, AssigneeContext(move.row["submitter_id"], move.values, directory, evaluate))


def _create_tasks(move: Move, node: NodeDef, kind: str | None = None, entry: int | None = None) -> None:
    people = assignees_of(move, node.assignees)
    if not people:
        people = SqlDirectory(move.session, move.tenant_id).admins()
        event(move, "no_assignee", node.id, actor_id=None)
    kind = kind or node.type
    entry = entry if entry is not None else move.row["lock_version"] + 1
    due, timer = deadline_of(move, node)
    for slot, user_id in enumerate(people):
        status = "done" if kind == "cc" else ("queued" if node.mode == "sequence" and slot > 0 else "open")
        insert_task(move, node.id, entry, kind, slot, 0, user_id, status,
                    due if status == "open" else None, timer if status == "open" else None)
    event(move, "cc" if kind == "cc" else "entered", node.id, data={"assignees": people}, actor_id=None)


def insert_task(move: Move, node_id: str, entry: int, kind: str, slot: int, seq: int, user_id: int, status: str,
                due: datetime | None, timer: datetime | None, added_by: int | None = None) -> int:
    """A task row; the assignee's standing delegation (if any today) takes it instead."""
    delegate = delegate_of(move.session, move.tenant_id, user_id, move.now.date())
    return move.session.execute(insert(flow_tasks).values(
        tenant_id=move.tenant_id, instance_id=move.row["id"], node_id=node_id, entry=entry, kind=kind, slot=slot,
        seq=seq, assignee_id=delegate or user_id, delegated_from=user_id if delegate else None, status=status,
        created_at=move.now, due_at=due, next_timer_at=timer, added_by=added_by).returning(flow_tasks.c.id)).scalar_one()


def deadline_of(move: Move, node: NodeDef, start: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """(due time, first timer) of a task entering ``node`` now (None, None without a deadline)."""
    rule = node.deadline
    if rule is None:
        return None, None
    start = start or move.now
    if rule.working_hours:
        cal = calendar_of(move.session, move.tenant_id)
        due = add_working_hours(cal, start, rule.hours)
        remind = add_working_hours(cal, start, max(rule.hours - rule.remind_before_hours, 0)) \
            if rule.remind_before_hours else None
    else:
        due = add_hours(start, rule.hours)
        remind = add_hours(start, max(rule.hours - rule.remind_before_hours, 0)) if rule.remind_before_hours else None
    return due, (remind if remind is not None and remind < due else due)


def calendar_of(session: Session, tenant_id: int) -> WorkCalendar:
    data = session.execute(select(work_calendars.c.data).where(work_calendars.c.tenant_id == tenant_id)).scalar()
    return WorkCalendar.from_json(data)


def require_submitter(move: Move) -> None:
    if move.actor.user_id != move.row["submitter_id"] and not move.actor.unrestricted:
        raise PermissionDenied(msg("只有提交人可以这样做", "Only the submitter can do this"))
