"""What people do with flow tasks: approve, reject, transfer, add an approver, comment — plus the
submitter's withdraw and resubmit. One registered function per task action (``TASK_ACTIONS``).

Every action locks the instance (:func:`engine.services.flows.load_move`), re-reads the task
under the lock and changes it with ``… WHERE status = 'open'``: two approvers acting at the
same moment are serialised, and a task is never completed twice (the second gets Conflict).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from engine import access as access_control
from engine.errors import Conflict, FieldProblem, NotFound, PermissionDenied, QMSError, RecordValidationError
from engine.flows import runtime
from engine.flows.model import NodeDef
from engine.i18n import msg
from engine.registry import Registry
from engine.services import flows, signatures
from engine.services.flow_directory import SqlDirectory
from engine.services.flows import OPEN, Move
from engine.storage.flow_tables import flow_events, flow_tasks
from engine.types import Actor


@dataclass
class TaskAction:
    """The parameters of one action on a task."""

    comment: str | None = None
    data: Mapping[str, Any] | None = None          # field changes (approve), limited to the step's editable fields
    password: str | None = None                    # e-signature
    to_node: str | None = None                     # reject back to this earlier step (None: to the submitter)
    to_user: int | None = None                     # transfer / add approver
    attachments: list[int] = field(default_factory=list)


TASK_ACTIONS: Registry[Callable[[Move, dict, TaskAction], None]] = Registry("task action")


def act(session: Session, actor: Actor, task_id: int, action: str, params: TaskAction | None = None,
        *, now: datetime | None = None) -> dict:
    """Do ``action`` on the actor's open task; returns the task as it is afterwards."""
    handler = _handler(action)
    params = params or TaskAction()
    found = flows.load_move_for_task(session, actor, task_id, now)    # the task and its instance, locked
    if found is None or (found[1]["assignee_id"] != actor.user_id and not actor.is_admin):
        raise NotFound(msg("任务 {i} 不存在", "Task {i} does not exist", i=task_id))
    move, task = found
    if task["status"] != "open" or move.row["state"] != flows.RUNNING:
        raise Conflict(msg("任务 {i} 已经处理过了", "Task {i} has already been handled", i=task_id))
    handler(move, task, params)          # keeps ``task`` as it is stored now
    flows.flush_events(session)          # the move's queued writes and its timeline, together
    return task


def _handler(action: str):
    try:
        return TASK_ACTIONS.get(action)
    except KeyError:
        raise QMSError(msg("未知的操作“{a}”", "Unknown action '{a}'", a=str(action)[:40])) from None


ft = flow_tasks
_TASK = select(ft).where(and_(ft.c.tenant_id == bindparam("tenant_id"), ft.c.id == bindparam("task_id")))
_CLOSE_NO_TIMER = update(ft).where(and_(ft.c.id == bindparam("t_id"), ft.c.status == "open")).values(
    status=bindparam("new_status"), acted_at=bindparam("now"), comment=bindparam("t_comment"),
    signature_id=bindparam("sig"))
_CLOSE = _CLOSE_NO_TIMER.values(next_timer_at=None)      # with a timer: its index entry goes (a page less without)
_NODE_TASKS = select(ft).where(and_(ft.c.instance_id == bindparam("i_id"), ft.c.node_id == bindparam("n_id"),
                                    ft.c.entry == bindparam("entry"), ft.c.kind != "cc")) \
    .order_by(ft.c.slot, ft.c.seq, ft.c.id)
_REOPEN = update(ft).where(ft.c.id == bindparam("t_id")).values(status="open", due_at=bindparam("due"),
                                                                 next_timer_at=bindparam("timer"))
_RETIRE_SLOT = update(ft).where(and_(
    ft.c.instance_id == bindparam("i_id"), ft.c.node_id == bindparam("n_id"), ft.c.entry == bindparam("t_entry"),
    ft.c.slot == bindparam("t_slot"), ft.c.status == "open", ft.c.added_by.is_distinct_from(bindparam("t_id")))) \
    .values(status="cancelled", next_timer_at=None)


def _task(session: Session, actor: Actor, task_id: int) -> dict:
    """The actor's task (an administrator may see any task of the tenant); NotFound otherwise."""
    row = session.execute(_TASK, {"tenant_id": actor.tenant_id, "task_id": task_id}).mappings().first()
    if row is None or (row["assignee_id"] != actor.user_id and not actor.is_admin):
        raise NotFound(msg("任务 {i} 不存在", "Task {i} does not exist", i=task_id))
    return dict(row)


def _close(move: Move, task: dict, status: str, comment: str | None = None, signature_id: int | None = None) -> None:
    """Close the task (queued with the move's writes; the task row is locked and was open, and a
    miss still fails the whole move), and change ``task`` in place: it is also the node's task
    list entry read with the lock."""
    def handled() -> Conflict:
        return Conflict(msg("任务 {i} 已经处理过了", "Task {i} has already been handled", i=task["id"]))
    stmt = _CLOSE if task["next_timer_at"] is not None else _CLOSE_NO_TIMER
    flows.queue_task_write(move, stmt, {"t_id": task["id"], "new_status": status, "now": move.now,
                                        "t_comment": comment, "sig": signature_id}, handled, changed=task)
    task.update(status=status, acted_at=move.now, comment=comment, next_timer_at=None, signature_id=signature_id)


def _node_tasks(move: Move, task: dict) -> list[dict]:
    """The tasks of the task's node entry as they are now (cc tasks aside), ordered by slot."""
    if move.node_tasks is not None and move.node_tasks[0] == (task["node_id"], task["entry"]):
        return move.node_tasks[1]
    if move.stale:
        flows.flush_events(move.session)   # queued writes no task dict reflects go first
        move.stale = False
    rows = move.session.connection().execute(_NODE_TASKS, {"i_id": move.row["id"], "n_id": task["node_id"],
                                                           "entry": task["entry"]}).mappings()
    return [move.changed.get(r["id"]) or dict(r) for r in rows]


def _slot_outcomes(tasks: list[dict]) -> list[str]:
    slots: dict[int, list[str]] = {}
    for t in tasks:
        if t["status"] != "cancelled":
            slots.setdefault(t["slot"], []).append(t["status"])
    out = []
    for statuses in slots.values():
        out.append("rejected" if "rejected" in statuses else
                   "open" if any(s in OPEN for s in statuses) else "approved")
    return out


# ---------------------------------------------------------------------------- approve

@TASK_ACTIONS.decorator("approve")
def approve(move: Move, task: dict, params: TaskAction) -> None:
    node = move.flow.node(task["node_id"])
    if params.data:
        _apply_changes(move, node, params.data, params.comment)
    signature = _sign(move, node, task, params) if node.signature else None
    _close(move, task, "approved", params.comment, signature)
    flows.event(move, "approve", node.id, task_id=task["id"], comment=params.comment,
                data={"signature_id": signature} if signature else None)
    _after_approval(move, node, task)


def _after_approval(move: Move, node: NodeDef, task: dict) -> None:
    """Reopen the task an added approver was added before, or retire the slot's other open tasks;
    then open the next sequential slot or decide the node."""
    if node.mode == "any" and task["added_by"] is None:
        # Nobody added this approver and the tasks they added are closed (they could act again
        # only after those): the node is approved, whoever else still holds one of its tasks.
        known = move.node_tasks[1] if move.node_tasks is not None else None
        _move_on(move, node, "approved", close=known is None or any(t["status"] in OPEN for t in known))
        return
    tasks = _node_tasks(move, task)
    waiting = _waiting_for(tasks, task)
    if waiting is not None:
        due, timer = flows.deadline_of(move, node)
        flows.queue_task_write(move, _REOPEN, {"t_id": waiting["id"], "due": due, "timer": timer})
        return
    slot = [t for t in tasks if t["slot"] == task["slot"] and t["status"] == "open" and t["added_by"] != task["id"]]
    if slot:
        flows.queue_task_write(move, _RETIRE_SLOT, {"i_id": move.row["id"], "n_id": node.id, "t_entry": task["entry"],
                                                    "t_slot": task["slot"], "t_id": task["id"]})
        tasks = None
    decide(move, node, task, tasks=tasks)


def _waiting_for(tasks: list[dict], task: dict) -> dict | None:
    """The task that waits for this approval: who added it "before" themselves — also through
    approvers added "after" on the way (A adds B before, B adds C after: C's approval reopens A)."""
    by_id = {t["id"]: t for t in tasks}
    up = by_id.get(task["added_by"])
    while up is not None and up["status"] == "approved" and up["added_by"] is not None:
        up = by_id.get(up["added_by"])
    return up if up is not None and up["status"] == "waiting" else None


def decide(move: Move, node: NodeDef, task: dict, to_node: str | None = None, tasks: list[dict] | None = None) -> None:
    """Apply the node's multi-approver rule to the slots' outcomes and move on when decided
    (``tasks``: the node's tasks as they are now, when the caller has just read them)."""
    tasks = tasks if tasks is not None else _node_tasks(move, task)
    outcomes = _slot_outcomes(tasks)
    decision = runtime.node_decision(node.mode, node.ratio, outcomes)
    if decision is None and node.mode == "sequence":
        queued = [t for t in tasks if t["status"] == "queued"]
        if queued and "open" not in outcomes[:queued[0]["slot"]]:
            due, timer = flows.deadline_of(move, node)
            flows.queue_task_write(move, _REOPEN, {"t_id": queued[0]["id"], "due": due, "timer": timer})
        return
    if decision is not None:
        _move_on(move, node, decision, to_node, close=any(t["status"] in OPEN for t in tasks))


def _move_on(move: Move, node: NodeDef, decision: str, to_node: str | None = None, close: bool = True) -> None:
    """The node is decided: its tasks still open are closed (``close``) and the token moves on."""
    if close:
        flows.close_node_tasks(move, node.id, "cancelled")
    state = move.state
    if decision == "approved":
        flows.event(move, "node_approved", node.id, actor_id=None)
        effects = runtime.complete(move.flow, state, node.id, move.lazy_values(), flows.condition_for(move))
    else:
        flows.event(move, "node_rejected", node.id, actor_id=None, data={"to": to_node})
        effects = runtime.send_back(move.flow, state, to_node)
    flows.persist(move, state, effects)


def _apply_changes(move: Move, node: NodeDef, data: Mapping[str, Any], comment: str | None) -> None:
    """The approver's field changes, only where the step allows; every refused field is reported."""
    from engine.services import records as record_service
    from engine.storage import form_store
    form = form_store.load_published(move.session, move.tenant_id, move.row["form_key"]).form
    keys = [f.key for f in form.fields]
    refused = [k for k in data if k not in keys or node.permission(k) != "editable"]
    if refused:
        raise RecordValidationError([FieldProblem(k, msg("此步骤不能修改该字段", "This step may not change this field"))
                                     for k in refused])
    readonly = [k for k in keys if node.permission(k) == "readonly"]
    hidden = [k for k in keys if node.permission(k) == "hidden"]
    granted = access_control.step_access(move.actor, form.key, readonly, hidden)
    current = record_service.get_record(move.session, Actor.system(move.tenant_id), form.key, move.row["record_id"])
    record = record_service.update_record(move.session, move.actor, form.key, move.row["record_id"], current.version,
                                          dict(data), comment or f"flow step {node.id}", partial=True, granted=granted)
    move.values = dict(record.values)


def _sign(move: Move, node: NodeDef, task: dict, params: TaskAction) -> int:
    return signatures.sign(move, node, task, params.password)


# ---------------------------------------------------------------------------- reject

@TASK_ACTIONS.decorator("reject")
def reject(move: Move, task: dict, params: TaskAction) -> None:
    node = move.flow.node(task["node_id"])
    if not (params.comment or "").strip():
        raise RecordValidationError([FieldProblem("comment", msg("退回时请说明原因", "Say why you send it back"))])
    if params.to_node is not None and params.to_node not in return_targets(move, node):
        raise RecordValidationError([FieldProblem("to_node", msg("不能退回到步骤“{n}”", "Cannot send back to step '{n}'",
                                                                 n=str(params.to_node)[:40]))])
    _close(move, task, "rejected", params.comment)
    flows.event(move, "reject", node.id, task_id=task["id"], comment=params.comment, data={"to": params.to_node})
    decide(move, node, task, params.to_node)


def return_targets(move: Move, node: NodeDef) -> list[str]:
    """Earlier steps of this run a rejection may send the flow back to (outside parallel branches)."""
    if len(move.row["tokens"] or []) != 1:
        return []
    flows.flush_events(move.session)
    since = _run_start(move)
    done = move.session.execute(select(flow_events.c.node_id).where(and_(
        flow_events.c.instance_id == move.row["id"], flow_events.c.kind == "node_approved",
        flow_events.c.id > since)).order_by(flow_events.c.id)).scalars()
    return [n for n in dict.fromkeys(done) if n != node.id]


def _run_start(move: Move) -> int:
    """Id of the event that began the current run (submitted / resubmitted)."""
    flows.flush_events(move.session)
    return move.session.execute(select(flow_events.c.id).where(and_(
        flow_events.c.instance_id == move.row["id"], flow_events.c.kind.in_(("submitted", "resubmitted"))))
        .order_by(flow_events.c.id.desc()).limit(1)).scalar() or 0


# ---------------------------------------------------------------------------- people

def _other_user(move: Move, params: TaskAction, task: dict) -> int:
    user = params.to_user
    if not isinstance(user, int) or isinstance(user, bool) or user == task["assignee_id"] or \
            not SqlDirectory(move.session, move.tenant_id).active_users([user]):
        raise RecordValidationError([FieldProblem("to_user", msg("请选择另一位在职用户", "Choose another active user"))])
    return user


@TASK_ACTIONS.decorator("transfer")
def transfer(move: Move, task: dict, params: TaskAction) -> None:
    user = _other_user(move, params, task)
    move.session.execute(update(flow_tasks).where(and_(flow_tasks.c.id == task["id"], flow_tasks.c.status == "open"))
                         .values(assignee_id=user, delegated_from=None))
    task.update(assignee_id=user, delegated_from=None)
    flows.event(move, "transfer", task["node_id"], task_id=task["id"], comment=params.comment,
                data={"from": task["assignee_id"], "to": user})


@TASK_ACTIONS.decorator("add_before")
def add_before(move: Move, task: dict, params: TaskAction) -> None:
    """``to_user`` approves first; this task waits and opens again once they have approved."""
    user = _other_user(move, params, task)
    move.session.execute(update(flow_tasks).where(flow_tasks.c.id == task["id"]).values(
        status="waiting", next_timer_at=None))
    task.update(status="waiting", next_timer_at=None)
    node = move.flow.node(task["node_id"])
    due, timer = flows.deadline_of(move, node)
    flows.insert_task(move, node.id, task["entry"], task["kind"], task["slot"], task["seq"] + 1, user, "open",
                      due, timer, added_by=task["id"])
    flows.event(move, "add_approver", node.id, task_id=task["id"], comment=params.comment,
                data={"user": user, "position": "before"})


@TASK_ACTIONS.decorator("add_after")
def add_after(move: Move, task: dict, params: TaskAction) -> None:
    """This task is approved and ``to_user`` must approve too before the step counts it."""
    user = _other_user(move, params, task)
    node = move.flow.node(task["node_id"])
    if params.data:
        _apply_changes(move, node, params.data, params.comment)
    signature = _sign(move, node, task, params) if node.signature else None
    _close(move, task, "approved", params.comment, signature)
    due, timer = flows.deadline_of(move, node)
    flows.insert_task(move, node.id, task["entry"], task["kind"], task["slot"], task["seq"] + 1, user, "open",
                      due, timer, added_by=task["id"])
    flows.event(move, "approve", node.id, task_id=task["id"], comment=params.comment,
                data={"signature_id": signature} if signature else None)
    flows.event(move, "add_approver", node.id, task_id=task["id"], data={"user": user, "position": "after"})


@TASK_ACTIONS.decorator("comment")
def comment(move: Move, task: dict, params: TaskAction) -> None:
    add_comment(move, params, task)


def add_comment(move: Move, params: TaskAction, task: dict | None = None) -> None:
    if not (params.comment or "").strip() and not params.attachments:
        raise RecordValidationError([FieldProblem("comment", msg("评论不能为空", "The comment is empty"))])
    files = _own_files(move, params.attachments)
    flows.event(move, "comment", task["node_id"] if task else None, task_id=task["id"] if task else None,
                comment=params.comment, data={"files": files} if files else None)


def _own_files(move: Move, ids: list[int]) -> list[dict]:
    from engine.storage.platform import files
    wanted = [i for i in ids or [] if isinstance(i, int) and not isinstance(i, bool)]
    if not wanted:
        return []
    rows = move.session.execute(select(files.c.id, files.c.name).where(and_(
        files.c.tenant_id == move.tenant_id, files.c.id.in_(wanted)))).all()
    if len(rows) != len(set(wanted)):
        raise RecordValidationError([FieldProblem("attachments", msg("附件不存在", "An attachment does not exist"))])
    return [{"id": r.id, "name": r.name} for r in rows]


# ---------------------------------------------------------------------------- the submitter

def withdraw(session: Session, actor: Actor, instance_id: int, reason: str | None = None,
             *, now: datetime | None = None) -> None:
    """The submitter takes the record back while nobody has acted on it in this run."""
    move = flows.load_move(session, actor, instance_id, now)
    flows.require_submitter(move)
    acted = session.execute(select(flow_events.c.id).where(and_(
        flow_events.c.instance_id == instance_id, flow_events.c.id > _run_start(move),
        flow_events.c.kind.in_(("approve", "reject", "transfer", "add_approver"))))).first()
    if acted is not None:
        raise Conflict(msg("已有人处理过，不能撤回", "Someone has already acted on it; it can no longer be withdrawn"))
    state = move.state
    effects = runtime.withdraw(state)
    flows.event(move, "withdrawn", None, comment=reason)
    flows.persist(move, state, effects)


def resubmit(session: Session, actor: Actor, instance_id: int, *, now: datetime | None = None) -> None:
    """Send a returned or withdrawn record through the flow again (a new run)."""
    move = flows.load_move(session, actor, instance_id, now)
    flows.require_submitter(move)
    state = move.state
    effects = runtime.resubmit(move.flow, state, move.lazy_values(), flows.condition_for(move))
    flows.event(move, "resubmitted", move.flow.start.id)
    flows.persist(move, state, effects)


def comment_on_instance(session: Session, actor: Actor, instance_id: int, params: TaskAction,
                        *, now: datetime | None = None) -> None:
    """A comment on the flow by anyone who may read the record (or holds one of its tasks)."""
    move = flows.load_move(session, actor, instance_id, now)
    if not _involved(move):
        raise NotFound(msg("流程实例 {i} 不存在", "Flow instance {i} does not exist", i=instance_id))
    add_comment(move, params)


def _involved(move: Move) -> bool:
    if move.actor.unrestricted or move.actor.user_id == move.row["submitter_id"]:
        return True
    mine = move.session.execute(select(flow_tasks.c.id).where(and_(
        flow_tasks.c.instance_id == move.row["id"], flow_tasks.c.assignee_id == move.actor.user_id))).first()
    if mine is not None:
        return True
    from engine.services import records as record_service
    try:
        record_service.get_record(move.session, move.actor, move.row["form_key"], move.row["record_id"])
        return True
    except (NotFound, PermissionDenied):
        return False


def batch_approve(session: Session, actor: Actor, task_ids: list[int], comment: str | None = None,
                  password: str | None = None, *, now: datetime | None = None) -> dict[int, str | None]:
    """Approve several tasks; each in its own savepoint. {task id: None when done, else the reason}."""
    results: dict[int, str | None] = {}
    flows.flush_events(session)
    for task_id in task_ids[:200]:
        try:
            with session.begin_nested():
                act(session, actor, task_id, "approve", TaskAction(comment=comment, password=password), now=now)
                flows.flush_events(session)          # inside the savepoint: kept or undone with it
            results[task_id] = None
        except QMSError as exc:
            flows.drop_events(session)
            if isinstance(exc, signatures.SignatureRejected):      # undone with the savepoint: count it here
                signatures.record_rejection(session, exc)
            results[task_id] = exc.message.get(actor.lang)
    return results


def act_counting_failures(session: Session, actor: Actor, task_id: int, action: str, params: TaskAction | None = None,
                          *, commit: Callable[[], None], now: datetime | None = None) -> dict:
    """:func:`act` for callers that own the transaction: a wrong signing password rolls the action
    back and is then recorded (and committed) as a failed attempt before the error goes on."""
    try:
        return act(session, actor, task_id, action, params, now=now)
    except signatures.SignatureRejected as exc:
        session.rollback()
        signatures.record_rejection(session, exc)
        commit()
        raise
