"""Running flows: start an instance on a record and persist every move in one transaction.

The pure state machine (:mod:`engine.flows.runtime`) decides where tokens go; this module
loads what it needs, locks the instance row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
write transaction is already exclusive), writes the instance, its tasks, timeline events and
the record's ``flow_state`` together, and never commits (the caller owns the transaction).
Task actions live in :mod:`engine.services.flow_actions`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache, partial
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import BigInteger, Column, MetaData, String, Table, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy import event as sa_event
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
from engine.services.flow_directory import SqlDirectory, delegate_of, delegates_for
from engine.services import flow_writes
from engine.services.flow_notices import NOTICE_KINDS
from engine.storage import form_store, naming
from engine.storage.flow_tables import flow_definitions, flow_events, flow_instances, flow_tasks, work_calendars
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
    known_values: dict | None       # the record's values, read on first use (most moves need none)
    now: datetime
    node_tasks: tuple | None = None  # ((node id, entry), its tasks) read with the lock, until a write changes them
    changed: dict = field(default_factory=dict)   # task id → task dict changed in place, its write queued
    stale: bool = False              # writes are queued that no dict here reflects: send them before reading tasks

    @property
    def tenant_id(self) -> int:
        return self.row["tenant_id"]

    @property
    def values(self) -> dict:
        if self.known_values is None:
            self.known_values = _record_values(self.session, self.actor, self.row["form_key"], self.row["record_id"],
                                               check_access=False)
        return self.known_values

    @values.setter
    def values(self, values: dict) -> None:
        self.known_values = values

    def lazy_values(self) -> "LazyValues":
        return LazyValues(self)

    @property
    def state(self) -> InstanceState:
        r = self.row
        return InstanceState(r["state"], r["run"], list(r["tokens"] or []), dict(r["joins"] or {}))


class LazyValues(Mapping):
    """The record's values of a move, read from the database only if an expression asks."""

    def __init__(self, move: Move):
        self.move = move

    def __getitem__(self, key: str) -> Any:
        return self.move.values[key]

    def __iter__(self):
        return iter(self.move.values)

    def __len__(self) -> int:
        return len(self.move.values)


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


# ---------------------------------------------------------------------------- starting

def start_flow(session: Session, actor: Actor, form_key: str, record_id: int, flow_key: str | None = None,
               *, now: datetime | None = None, check_access: bool = True, values: dict | None = None,
               new_record: bool = False, flow: FlowDef | None = None, only_if_current: bool = False) -> int | None:
    """Start ``flow_key`` (default: the form's auto-start flow) on a record; returns the instance id.

    The actor becomes the submitter: they must be able to read the record. A record runs at
    most one instance at a time (Conflict otherwise). ``values``/``new_record``: the record was
    just created in this transaction with these values (nothing to re-read, no instance yet).
    ``only_if_current``: start ``flow`` only if it is still the flow's current version (checked
    by the instance's INSERT itself), else change nothing and return None.
    """
    now = _now(now)
    flow = (flow if flow is not None and flow.key == (flow_key or flow.key)
            else flow_defs.load_flow_version(session, actor.tenant_id, flow_key) if flow_key
            else flow_defs.auto_flow_for(session, actor.tenant_id, form_key))
    if flow is None:
        raise NotFound(msg("表单“{f}”没有审批流程", "Form '{f}' has no approval flow", f=form_key))
    if flow.form != form_key:
        raise Conflict(msg("流程“{k}”不属于表单“{f}”", "Flow '{k}' is not a flow of form '{f}'", k=flow.key, f=form_key))
    if values is None:
        values = _record_values(session, actor, form_key, record_id, check_access)
    if check_access and not _may_submit(session, actor, form_key, record_id):
        raise PermissionDenied(msg("你没有修改记录 {i} 的权限，不能提交审批",
                                   "You may not change record {i}, so you cannot send it for approval", i=record_id))
    if not new_record and active_instance(session, actor.tenant_id, form_key, record_id, lock=True) is not None:
        raise Conflict(msg("记录 {i} 已有进行中的流程", "Record {i} already has a flow in progress", i=record_id))
    state, effects = runtime.start(flow, values, _condition(session, actor, flow))
    ended = state.state in ("approved", "rejected", "cancelled")
    row = session.connection().execute(     # written with the state after its first move
        _NEW_INSTANCE_IF_CURRENT if only_if_current else _NEW_INSTANCE, dict(
            tenant_id=actor.tenant_id, flow_key=flow.key, flow_version=flow.version, form_key=form_key,
            record_id=record_id, state=state.state, submitter_id=actor.user_id, run=1, tokens=state.tokens,
            joins=state.joins, returned_to=None, started_at=now, updated_at=now, ended_at=now if ended else None,
            lock_version=0)).mappings().first()
    if row is None:
        return None
    move = Move(session, actor, dict(row), flow, values, now)
    event(move, "submitted", flow.start.id)
    persist(move, state, effects, instance_written=True)
    return row["id"]


_NEW_INSTANCE = insert(flow_instances).returning(*flow_instances.c)
_INSTANCE_VALUES = [c for c in flow_instances.c if c.name != "id"]
_NEW_INSTANCE_IF_CURRENT = insert(flow_instances).from_select(
    _INSTANCE_VALUES, select(*[bindparam(c.name, type_=c.type) for c in _INSTANCE_VALUES]).where(exists().where(and_(
        flow_definitions.c.tenant_id == bindparam("tenant_id"), flow_definitions.c.key == bindparam("flow_key"),
        flow_definitions.c.current_version == bindparam("flow_version"))))).returning(*flow_instances.c)


def _may_submit(session: Session, actor: Actor, form_key: str, record_id: int) -> bool:
    """Sending a record for approval freezes it: only someone who may change it may do that."""
    from engine.services import records as record_service
    return actor.unrestricted or record_service.may_update(session, actor, form_key, record_id)


def start_if_configured(session: Session, actor: Actor, form_key: str, record_id: int,
                        *, now: datetime | None = None, values: dict | None = None) -> int | None:
    """Start the form's auto-start flow on a new record, if it has one (every write path calls this)."""
    if actor.user_id is None or not form_store.has_flows(session, actor.tenant_id, form_key):
        return None                                  # (has_flows: no extra query for most forms)
    start = partial(start_flow, session, actor, form_key, record_id, now=now, check_access=False, values=values,
                    new_record=values is not None)
    flow = flow_defs.remembered_auto_flow(session, actor.tenant_id, form_key)
    if flow is not None:               # confirmed by the instance's INSERT, else read again
        started = start(flow.key, flow=flow, only_if_current=True)
        if started is not None:
            return started
        flow_defs.forget_auto_flow(session, actor.tenant_id, form_key)
    flow = flow_defs.auto_flow_for(session, actor.tenant_id, form_key)
    return start(flow.key, flow=flow) if flow is not None else None


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


fi, ft = flow_instances, flow_tasks


def _flow_rule_count():
    """Enabled rules with flow triggers on the instance's form, read with the lock (no extra round
    trip): a form without them makes the rule check of every move free (see rule_events.flow_events)."""
    from engine.services.rule_events import FLOW_TRIGGERS
    from engine.storage.rule_tables import rule_definitions as rd
    return (select(func.count()).select_from(rd).where(and_(
        rd.c.tenant_id == fi.c.tenant_id, rd.c.form_key == fi.c.form_key, rd.c.enabled, rd.c.current_version > 0,
        rd.c.trigger_type.in_(sorted(FLOW_TRIGGERS)))).scalar_subquery())


def _remember_flow_rules(session: Session, row: Mapping[str, Any]) -> None:
    if "flow_rules" in row:
        session.info.setdefault(FLOW_RULES_KEY, {})[(row["tenant_id"], row["form_key"])] = bool(row["flow_rules"])


FLOW_RULES_KEY = "qms.flow_rules"      # session.info: (tenant, form) → whether flow-trigger rules exist
_INSTANCE = select(fi, _flow_rule_count().label("flow_rules")).where(
    and_(fi.c.tenant_id == bindparam("tenant_id"), fi.c.id == bindparam("instance_id")))
_INSTANCE_LOCKED = _INSTANCE.with_for_update()


def instance_row(session: Session, tenant_id: int, instance_id: int, lock: bool = True) -> dict:
    row = session.execute(_INSTANCE_LOCKED if lock else _INSTANCE,
                          {"tenant_id": tenant_id, "instance_id": instance_id}).mappings().first()
    if row is None:
        raise NotFound(msg("流程实例 {i} 不存在", "Flow instance {i} does not exist", i=instance_id))
    _remember_flow_rules(session, row)
    return {k: v for k, v in row.items() if k != "flow_rules"}


_OF_RECORD = and_(fi.c.tenant_id == bindparam("tenant_id"), fi.c.form_key == bindparam("form_key"),
                  fi.c.record_id == bindparam("record_id"))
_LATEST = select(fi).where(_OF_RECORD).order_by(fi.c.id.desc()).limit(1)
_ACTIVE = select(fi).where(and_(_OF_RECORD, fi.c.state.in_((RUNNING, "returned", "withdrawn")))) \
    .order_by(fi.c.id.desc()).limit(1)
_ACTIVE_LOCKED = _ACTIVE.with_for_update()


def active_instance(session: Session, tenant_id: int, form_key: str, record_id: int, lock: bool = False) -> dict | None:
    """The record's instance that is running, returned or withdrawn (not finished), if any."""
    row = session.execute(_ACTIVE_LOCKED if lock else _ACTIVE,
                          {"tenant_id": tenant_id, "form_key": form_key, "record_id": record_id}).mappings().first()
    return dict(row) if row else None


def latest_instance(session: Session, tenant_id: int, form_key: str, record_id: int) -> dict | None:
    row = session.execute(_LATEST, {"tenant_id": tenant_id, "form_key": form_key, "record_id": record_id}) \
        .mappings().first()
    return dict(row) if row else None


def flow_of(session: Session, row: Mapping[str, Any]) -> FlowDef:
    """The flow version an instance runs on."""
    return flow_defs.load_flow_version(session, row["tenant_id"], row["flow_key"], row["flow_version"])


# a task and its instance, both locked (PostgreSQL re-reads locked rows that changed while it waited)
_I_COLS = [c.label(f"i_{c.name}") for c in fi.c] + [_flow_rule_count().label("i_flow_rules")]
_T_COLS = [c.label(f"t_{c.name}") for c in ft.c]
_TASK_WITH_INSTANCE = (select(*_I_COLS, *_T_COLS).select_from(ft.join(fi, fi.c.id == ft.c.instance_id))
                       .where(and_(ft.c.id == bindparam("task_id"), ft.c.tenant_id == bindparam("tenant_id"),
                                   fi.c.tenant_id == bindparam("tenant_id"))).with_for_update())
# … and with the other tasks of its node entry (one row each, the task itself included); see load_move_for_task
_me = ft.alias("me")
_TASK_WITH_NODE_TASKS = (
    select(*_I_COLS, *_T_COLS)
    .select_from(_me.join(fi, fi.c.id == _me.c.instance_id).join(ft, and_(
        ft.c.instance_id == _me.c.instance_id, ft.c.node_id == _me.c.node_id, ft.c.entry == _me.c.entry,
        or_(ft.c.kind != "cc", ft.c.id == _me.c.id))))
    .where(and_(_me.c.id == bindparam("task_id"), _me.c.tenant_id == bindparam("tenant_id"),
                fi.c.tenant_id == bindparam("tenant_id"))).order_by(ft.c.slot, ft.c.seq, ft.c.id))


def load_move_for_task(session: Session, actor: Actor, task_id: int,
                       now: datetime | None = None) -> tuple[Move, dict] | None:
    """(the locked instance's move, the task) in one statement; None when the tenant has no such task.

    On SQLite the transaction holds the database's write lock since its ``BEGIN IMMEDIATE``, so
    everything it reads is current: the other tasks of the node come in the same statement. On
    PostgreSQL a statement that waited for the lock sees only the locked rows as they are now
    (a task added meanwhile would be missing), so they are read after the lock, when needed.
    """
    with_node = session.get_bind().dialect.name == "sqlite"
    rows = session.connection().execute(_TASK_WITH_NODE_TASKS if with_node else _TASK_WITH_INSTANCE,
                                        {"tenant_id": actor.tenant_id, "task_id": task_id}).mappings().all()
    if not rows:
        return None
    instance = {k[2:]: v for k, v in rows[0].items() if k.startswith("i_")}
    _remember_flow_rules(session, instance)
    del instance["flow_rules"]
    tasks = [{k[2:]: v for k, v in r.items() if k.startswith("t_")} for r in rows]
    task = next(t for t in tasks if t["id"] == task_id)
    move = Move(session, actor, instance, flow_of(session, instance), None, _now(now))
    if with_node:
        move.node_tasks = ((task["node_id"], task["entry"]), [t for t in tasks if t["kind"] != "cc"])
    return move, task


def load_move(session: Session, actor: Actor, instance_id: int, now: datetime | None = None) -> Move:
    """The instance locked for a transition, with its flow version (the record's values are read
    when an expression or a step needs them)."""
    row = instance_row(session, actor.tenant_id, instance_id, lock=True)
    flow = flow_defs.load_flow_version(session, actor.tenant_id, row["flow_key"], row["flow_version"])
    return Move(session, actor, row, flow, None, _now(now))


def _evaluator(session: Session, actor: Actor, form_key: str):
    """evaluate(expression, values) against the form's scope (the form is loaded on first use)."""
    ctx, scope = EvalContext(user_id=actor.user_id, lang=actor.lang), []

    def evaluate(source: str, values: Mapping[str, Any]) -> Any:
        if not scope:
            scope.append(form_scope(form_store.load_published(session, actor.tenant_id, form_key).form))
        data = values if isinstance(values, dict) else dict(values)
        return compile_expression(source, scope[0]).evaluate(data, ctx)
    return evaluate


def _condition(session: Session, actor: Actor, flow: FlowDef):
    evaluate = _evaluator(session, actor, flow.form)
    return lambda source, values: evaluate(source, values) is True


def condition_for(move: Move):
    return _condition(move.session, move.actor, move.flow)


# ---------------------------------------------------------------------------- persisting a move

def persist(move: Move, state: InstanceState, effects: Effects, instance_written: bool = False) -> None:
    """Write the effects of one transition and the new instance state (same transaction).

    Everything is read first (who gets the new tasks), then the writes go out together
    (:mod:`engine.services.flow_writes`): close the tasks of the nodes left, insert the new tasks
    (one statement), update the instance and the record's ``flow_state``, and write the timeline.
    ``instance_written``: the instance row was just inserted with this state (a start): the
    tasks count as entered at lock version 0 and the row is not written again."""
    for node_id in effects.left:
        close_node_tasks(move, node_id, "cancelled")
    for node_id, index in effects.choices:
        branch = move.flow.node(node_id).branches[index]
        event(move, "branch", node_id, data={"branch": index, "next": branch.next,
                                             "label": _label(branch.label)})
    tasks: list[dict] = []
    for node_id in effects.cc:
        tasks += _task_rows(move, move.flow.node(node_id), kind="cc")
    for node_id in effects.automatic:
        event(move, "automatic", node_id)
    version = move.row["lock_version"] + (0 if instance_written else 1)
    for node_id in effects.entered:
        tasks += _task_rows(move, move.flow.node(node_id), entry=version)
    if tasks:
        queue_task_write(move, _NEW_TASKS, tasks)
    if effects.finished:
        event(move, "approved", None)
    ended = state.state in ("approved", "rejected", "cancelled")
    values = {"state": state.state, "run": state.run, "tokens": state.tokens, "joins": state.joins,
              "updated_at": move.now, "lock_version": version, "ended_at": move.now if ended else None}
    if not instance_written:       # a miss is only possible if the row was not locked: never a lost update
        flow_writes.queue(move.session, _MOVE_INSTANCE, {**values, "i_id": move.row["id"],
                                                         "i_lock": move.row["lock_version"]}, _moved_meanwhile)
    flow_writes.queue(move.session, *_record_flow_state(move, state))
    flush_events(move.session)
    move.row.update(values)


_MOVE_INSTANCE = update(fi).where(and_(fi.c.id == bindparam("i_id"), fi.c.lock_version == bindparam("i_lock"))) \
    .values({k: bindparam(k) for k in ("state", "run", "tokens", "joins", "updated_at", "lock_version", "ended_at")})


def _moved_meanwhile() -> Conflict:
    return Conflict(msg("流程刚被他人处理，请刷新后重试", "Someone else just moved this flow; refresh and retry"))


def _label(label) -> dict | None:
    return {"zh-CN": label.zh, "en": label.en} if label is not None else None


def _record_flow_state(move: Move, state: InstanceState) -> tuple:
    """The write of the record's ``flow_state`` (what lists and the record page show)."""
    shown = state.state if state.state != RUNNING else "running:" + ",".join(state.tokens)
    return (_flow_state_stmt(naming.record_table_name(move.tenant_id, move.row["form_key"])),
            {"t_id": move.tenant_id, "r_id": move.row["record_id"], "flow_state": shown[:255]})


@lru_cache(maxsize=1024)
def _flow_state_stmt(table_name: str):
    """UPDATE of the record's flow_state (a system column of every record table: the name and these
    three columns are all it needs, so no definition has to be loaded)."""
    table = Table(naming.safe_sql_name(table_name), MetaData(), Column("id", BigInteger),
                  Column("tenant_id", BigInteger), Column("flow_state", String(255)))
    return update(table).where(and_(table.c.tenant_id == bindparam("t_id"), table.c.id == bindparam("r_id"))) \
        .values(flow_state=bindparam("flow_state"))


_EVENT = insert(flow_events).inline()      # inline: no RETURNING (see flow_writes)
_PENDING = "qms.flow_events"      # session.info: timeline entries written at the latest before commit


@sa_event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    flush_events(session)


@sa_event.listens_for(Session, "after_rollback")
def drop_events(session: Session) -> None:
    """Forget collected timeline entries and queued writes (their transaction or savepoint was rolled back)."""
    session.info.pop(_PENDING, None)
    flow_writes.drop(session)


def flush_events(session: Session) -> None:
    """Write the timeline entries collected in this transaction (one statement for all of them),
    after the queued writes of the move they describe (:mod:`engine.services.flow_writes`: one
    round trip for all on PostgreSQL); every move ends with it, readers of ``flow_events`` call
    it first, and every commit does."""
    writes = flow_writes.take(session)
    pending = session.info.pop(_PENDING, None)
    if pending:
        writes.append((_EVENT, pending, None))
    flow_writes.execute_together(session, writes)
    if pending:     # rules with flow triggers, automatic steps' actions; notices go out after the commit
        from engine.services import flow_automation
        flow_automation.follow_up(session, pending)


def event(move: Move, kind: str, node_id: str | None, *, task_id: int | None = None, comment: str | None = None,
          data: dict | None = None, actor_id: int | None = -1) -> None:
    """One timeline entry of the instance (``actor_id`` default: the acting user), written with the
    transaction: an entry exists exactly when the change it describes does."""
    move.session.info.setdefault(_PENDING, []).append(dict(
        tenant_id=move.tenant_id, instance_id=move.row["id"], form_key=move.row["form_key"],
        record_id=move.row["record_id"], at=move.now, actor_id=move.actor.user_id if actor_id == -1 else actor_id,
        kind=kind, node_id=node_id, task_id=task_id, comment=comment, data=data,
        notice=1 if kind in NOTICE_KINDS else None))


def close_node_tasks(move: Move, node_id: str, status: str) -> None:
    """Every task of the node still expecting someone is closed (status cancelled, no timer)."""
    queue_task_write(move, _CLOSE_NODE, {"i_id": move.row["id"], "n_id": node_id, "new_status": status})


def queue_task_write(move: Move, stmt, params, on_miss=None, changed: dict | None = None) -> None:
    """Queue a write of the move's tasks (sent with the move's other writes, in order).

    ``changed``: the task dict the caller changed in place exactly as the write does (reads of
    the node's tasks use it); otherwise the tasks read so far are stale."""
    flow_writes.queue(move.session, stmt, params, on_miss)
    if changed is not None:
        move.changed[changed["id"]] = changed
    else:
        move.node_tasks, move.stale = None, True


_CLOSE_NODE = update(ft).where(and_(ft.c.instance_id == bindparam("i_id"), ft.c.node_id == bindparam("n_id"),
                                    ft.c.status.in_(OPEN))).values(status=bindparam("new_status"), next_timer_at=None)


# ---------------------------------------------------------------------------- tasks

def assignees_of(move: Move, specs, directory: SqlDirectory | None = None) -> list[int]:
    directory = directory or SqlDirectory(move.session, move.tenant_id, move.now.date())
    evaluate = _evaluator(move.session, move.actor, move.flow.form)
    return resolve(specs, AssigneeContext(move.row["submitter_id"], move.lazy_values(), directory, evaluate))


def _task_rows(move: Move, node: NodeDef, kind: str | None = None, entry: int | None = None) -> list[dict]:
    """The task rows of ``node`` entered now, one per assignee (the administrators when nobody
    resolves), each given to the assignee's delegate when they are away today."""
    directory = SqlDirectory(move.session, move.tenant_id, move.now.date())
    people = assignees_of(move, node.assignees, directory)
    if not people:
        people = directory.admins()
        event(move, "no_assignee", node.id, actor_id=None)
    kind = kind or node.type
    entry = entry if entry is not None else move.row["lock_version"] + 1
    due, timer = deadline_of(move, node)
    unknown = [p for p in people if p not in directory.delegates_known]
    away = {**directory.delegates, **delegates_for(move.session, move.tenant_id, unknown, move.now.date())}
    rows = []
    for slot, user_id in enumerate(people):
        status = "done" if kind == "cc" else ("queued" if node.mode == "sequence" and slot > 0 else "open")
        rows.append(_task_row(move, node.id, entry, kind, slot, 0, user_id, status, due if status == "open" else None,
                              timer if status == "open" else None, None, away.get(user_id)))
    event(move, "cc" if kind == "cc" else "entered", node.id, data={"assignees": people}, actor_id=None)
    return rows


def _task_row(move: Move, node_id: str, entry: int, kind: str, slot: int, seq: int, user_id: int, status: str,
              due: datetime | None, timer: datetime | None, added_by: int | None, delegate: int | None) -> dict:
    return dict(tenant_id=move.tenant_id, instance_id=move.row["id"], node_id=node_id, entry=entry, kind=kind,
                slot=slot, seq=seq, assignee_id=delegate or user_id, delegated_from=user_id if delegate else None,
                status=status, created_at=move.now, due_at=due, next_timer_at=timer, added_by=added_by, reminders=0)


def insert_task(move: Move, node_id: str, entry: int, kind: str, slot: int, seq: int, user_id: int, status: str,
                due: datetime | None, timer: datetime | None, added_by: int | None = None,
                delegate: int | None = None) -> int:
    """A task row; the assignee's standing delegation (if any today) takes it instead
    (``delegate``: already looked up — 0 for none; None: look it up here)."""
    if delegate is None:
        delegate = delegate_of(move.session, move.tenant_id, user_id, move.now.date())
    move.node_tasks = None
    return move.session.execute(_NEW_TASK, _task_row(move, node_id, entry, kind, slot, seq, user_id, status, due,
                                                     timer, added_by, delegate)).scalar_one()


_NEW_TASK = insert(ft).returning(ft.c.id)
_NEW_TASKS = insert(ft).inline()          # several rows, no RETURNING (see flow_writes)


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
