"""Reading flows: the task inbox (to do, done, CC'd, started by me) and a record's flow history.

Read-only; every query is tenant-scoped. A task's record title is shown to its assignee even
without a read permission on the form (the task is the permission); a record's history needs
the record to be readable, or a task of that record's flow.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import NotFound, PermissionDenied
from engine.i18n import msg
from engine.services import flow_defs, signatures
from engine.services.names import user_names
from engine.storage import form_store, records
from engine.storage.db import stored_utc
from engine.storage.flow_tables import flow_events, flow_instances, flow_tasks
from engine.types import Actor

BOXES = ("todo", "done", "cc", "mine")
DONE = ("approved", "rejected")


def _box_filter(actor: Actor, box: str):
    mine = and_(flow_tasks.c.tenant_id == actor.tenant_id, flow_tasks.c.assignee_id == actor.user_id)
    if box == "todo":
        return and_(mine, flow_tasks.c.status.in_(("open", "waiting")), flow_tasks.c.kind != "cc")
    if box == "done":
        return and_(mine, flow_tasks.c.status.in_(DONE))
    if box == "cc":
        return and_(mine, flow_tasks.c.kind == "cc")
    raise ValueError(box)


def counts(session: Session, actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """How many items each box holds, plus ``overdue`` (open tasks past their due time)."""
    now = now or datetime.now(timezone.utc)
    out = {box: session.execute(select(func.count()).select_from(flow_tasks).where(_box_filter(actor, box))).scalar()
           for box in ("todo", "done", "cc")}
    out["overdue"] = session.execute(select(func.count()).select_from(flow_tasks).where(and_(
        _box_filter(actor, "todo"), flow_tasks.c.status == "open", flow_tasks.c.due_at < now))).scalar()
    out["mine"] = session.execute(select(func.count()).select_from(flow_instances).where(and_(
        flow_instances.c.tenant_id == actor.tenant_id, flow_instances.c.submitter_id == actor.user_id))).scalar()
    return out


def inbox(session: Session, actor: Actor, box: str = "todo", page: int = 1, per_page: int = 50,
          form_key: str | None = None, overdue: bool = False, now: datetime | None = None) -> dict:
    """One page of a box: {"items", "total", "counts", "box"}; items newest first (to do: due first)."""
    if box not in BOXES:
        box = "todo"
    now = now or datetime.now(timezone.utc)
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), 200)
    if box == "mine":
        items, total = _mine(session, actor, page, per_page, form_key)
    else:
        items, total = _tasks(session, actor, box, page, per_page, form_key, overdue, now)
    _decorate(session, actor, items, now)
    return {"box": box, "items": items, "total": total, "page": page, "per_page": per_page,
            "counts": counts(session, actor, now)}


def _tasks(session, actor, box, page, per_page, form_key, overdue, now) -> tuple[list[dict], int]:
    where = _box_filter(actor, box)
    if form_key:
        where = and_(where, flow_instances.c.form_key == form_key)
    if overdue:
        where = and_(where, flow_tasks.c.status == "open", flow_tasks.c.due_at < now)
    base = select(flow_tasks, flow_instances.c.form_key, flow_instances.c.record_id, flow_instances.c.flow_key,
                  flow_instances.c.flow_version, flow_instances.c.state.label("instance_state"),
                  flow_instances.c.submitter_id).join(flow_instances, flow_instances.c.id == flow_tasks.c.instance_id)
    order = ([flow_tasks.c.due_at.is_(None), flow_tasks.c.due_at, flow_tasks.c.id.desc()] if box == "todo"
             else [flow_tasks.c.id.desc()])
    rows = session.execute(base.where(where).order_by(*order).limit(per_page).offset((page - 1) * per_page)).mappings()
    total = session.execute(select(func.count()).select_from(
        flow_tasks.join(flow_instances, flow_instances.c.id == flow_tasks.c.instance_id)).where(where)).scalar()
    return [dict(r) for r in rows], total


def _mine(session, actor, page, per_page, form_key) -> tuple[list[dict], int]:
    where = and_(flow_instances.c.tenant_id == actor.tenant_id, flow_instances.c.submitter_id == actor.user_id)
    if form_key:
        where = and_(where, flow_instances.c.form_key == form_key)
    rows = session.execute(select(flow_instances).where(where).order_by(flow_instances.c.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).mappings()
    items = [{**dict(r), "instance_id": r["id"], "instance_state": r["state"]} for r in rows]
    total = session.execute(select(func.count()).select_from(flow_instances).where(where)).scalar()
    return items, total


def _decorate(session: Session, actor: Actor, items: list[dict], now: datetime) -> None:
    """Add record titles, flow and step labels, submitter names and the overdue flag."""
    by_form: dict[str, set[int]] = {}
    for item in items:
        by_form.setdefault(item["form_key"], set()).add(item["record_id"])
    titles = {}
    for form_key, ids in by_form.items():
        titles.update({(form_key, i): t for i, t in _titles(session, actor.tenant_id, form_key, ids).items()})
    names = user_names(session, actor.tenant_id, {i.get("submitter_id") for i in items} | {i.get("assignee_id") for i in items})
    for item in items:
        flow = _flow(session, actor.tenant_id, item["flow_key"], item["flow_version"])
        item["record_title"] = titles.get((item["form_key"], item["record_id"])) or f"#{item['record_id']}"
        item["flow_label"] = _label(flow.label) if flow else {"zh-CN": item["flow_key"], "en": item["flow_key"]}
        node = _node(flow, item.get("node_id"))
        item["node_label"] = _label(node.label) if node is not None and node.label else (
            {"zh-CN": item.get("node_id"), "en": item.get("node_id")} if item.get("node_id") else None)
        item["submitter_name"] = names.get(item.get("submitter_id"))
        item["assignee_name"] = names.get(item.get("assignee_id"))
        due = item.get("due_at")
        item["overdue"] = bool(due is not None and item.get("status") == "open" and stored_utc(due) < now)
        item["signature_required"] = bool(node is not None and node.signature is not None)


def _label(label) -> dict:
    return {"zh-CN": label.zh, "en": label.en}


def _flow(session, tenant_id, key, version):
    try:
        return flow_defs.load_flow_version(session, tenant_id, key, version)
    except NotFound:
        return None


def _node(flow, node_id):
    if flow is None or not node_id:
        return None
    try:
        return flow.node(node_id)
    except KeyError:
        return None


def _titles(session: Session, tenant_id: int, form_key: str, ids: set[int]) -> dict[int, str]:
    try:
        table = records.top_table(form_store.load_published(session, tenant_id, form_key).spec)
    except NotFound:
        return {}
    rows = session.execute(select(table.c.id, table.c.title, table.c.serial_no).where(and_(
        table.c.tenant_id == tenant_id, table.c.id.in_(ids)))).all()
    return {r.id: r.title or r.serial_no or f"#{r.id}" for r in rows}


# ---------------------------------------------------------------------------- a record's flow

def history(session: Session, actor: Actor, form_key: str, record_id: int) -> dict | None:
    """The record's latest flow: instance, diagram (nodes with status), events and signatures;
    None when it never had one. NotFound when the actor may neither read the record nor holds a task."""
    from engine.services import flows
    instance = flows.latest_instance(session, actor.tenant_id, form_key, record_id)
    _may_see(session, actor, form_key, record_id, instance)
    if instance is None:
        return None
    flow = flows.flow_of(session, instance)
    flows.flush_events(session)
    rows = session.execute(select(flow_events).where(flow_events.c.instance_id == instance["id"])
                           .order_by(flow_events.c.id)).mappings().all()
    events = [dict(r) for r in rows]
    tasks = [dict(r) for r in session.execute(select(flow_tasks).where(
        flow_tasks.c.instance_id == instance["id"]).order_by(flow_tasks.c.id)).mappings()]
    names = user_names(session, actor.tenant_id, {e["actor_id"] for e in events} | {t["assignee_id"] for t in tasks}
                   | {instance["submitter_id"]})
    for e in events:
        e["actor_name"] = names.get(e["actor_id"])
    for t in tasks:
        t["assignee_name"] = names.get(t["assignee_id"])
    return {"instance": instance, "flow": flow, "events": events, "tasks": tasks,
            "submitter_name": names.get(instance["submitter_id"]),
            "diagram": diagram(flow, instance, events),
            "signatures": signatures.record_signatures(session, actor.tenant_id, form_key, record_id)}


def _may_see(session: Session, actor: Actor, form_key: str, record_id: int, instance: dict | None) -> None:
    from engine.services import records as record_service
    try:
        record_service.get_record(session, actor, form_key, record_id)
        return
    except (NotFound, PermissionDenied):
        pass
    if instance is not None and session.execute(select(flow_tasks.c.id).where(and_(
            flow_tasks.c.instance_id == instance["id"], or_(flow_tasks.c.assignee_id == actor.user_id)))).first():
        return
    raise NotFound(msg("记录 {i} 不存在", "Record {i} does not exist", i=record_id))


def diagram(flow, instance: dict, events: list[dict]) -> list[dict]:
    """Nodes in definition order with a status for drawing: done, current, rejected, skipped or pending."""
    run_start = max((e["id"] for e in events if e["kind"] in ("submitted", "resubmitted")), default=0)
    this_run = [e for e in events if e["id"] >= run_start]
    approved = {e["node_id"] for e in this_run if e["kind"] == "node_approved"}
    rejected = {e["node_id"] for e in this_run if e["kind"] == "node_rejected"}
    passed = {e["node_id"] for e in this_run if e["kind"] in ("branch", "cc", "automatic", "submitted", "resubmitted")}
    current = set(instance["tokens"] or [])
    branches = branch_of(flow)
    taken = {(e["node_id"], (e["data"] or {}).get("branch")) for e in this_run if e["kind"] == "branch"}
    out: list[dict[str, Any]] = []
    for node in flow.nodes:
        status = ("current" if node.id in current else "rejected" if node.id in rejected else
                  "done" if node.id in approved | passed else "pending")
        if node.type == "end" and instance["state"] == "approved":
            status = "done"
        where = branches.get(node.id)
        if status == "pending" and where and where["kind"] == "exclusive" and \
                any(split == where["split"] and index != where["index"] for split, index in taken):
            status = "skipped"                  # the condition chose another branch in this run
        out.append({"id": node.id, "type": node.type, "label": _label(node.label) if node.label else None,
                    "status": status, "targets": list(node.targets()), "branch": where})
    return out


def branch_of(flow) -> dict[str, dict]:
    """For each step that only one branch of an exclusive or parallel step leads to: that split, the
    branch's index and label (the innermost split wins)."""
    found: dict[str, dict] = {}
    for split in flow.nodes:
        if split.type not in ("exclusive", "parallel"):
            continue
        reach = [_reachable(flow, b.next, stop={split.id, split.join}) for b in split.branches]
        for index, (branch, nodes) in enumerate(zip(split.branches, reach)):
            others = set().union(*(r for i, r in enumerate(reach) if i != index)) if len(reach) > 1 else set()
            for node_id in nodes - others:
                found[node_id] = {"split": split.id, "kind": split.type, "index": index,
                                  "label": _label(branch.label) if branch.label else None}
    return found


def _reachable(flow, first: str | None, stop: set) -> set[str]:
    seen: set[str] = set()
    pending = [first]
    while pending:
        node_id = pending.pop()
        if node_id is None or node_id in seen or node_id in stop:
            continue
        seen.add(node_id)
        try:
            pending.extend(flow.node(node_id).targets())
        except KeyError:
            continue
    return seen


# ---------------------------------------------------------------------------- one task

def task_view(session: Session, actor: Actor, task_id: int, now: datetime | None = None) -> dict:
    """What the assignee of a task may see and do: the task, its instance, flow and step, the record
    (read through the task: the step's hidden fields are for the caller to leave out), whether it
    can be acted on, and the earlier steps a rejection may go back to. NotFound for anyone else's task."""
    from engine.services import flow_actions, flows
    from engine.services import records as record_service
    task = flow_actions._task(session, actor, task_id)
    instance = flows.instance_row(session, actor.tenant_id, task["instance_id"], lock=False)
    flow = flows.flow_of(session, instance)
    node = flow.node(task["node_id"])
    record = record_service.get_record(session, Actor.system(actor.tenant_id), instance["form_key"],
                                       instance["record_id"])
    can_act = task["status"] == "open" and instance["state"] == flows.RUNNING and task["kind"] != "cc"
    targets: list[str] = []
    if can_act:
        move = flows.Move(session, actor, instance, flow, None, now or datetime.now(timezone.utc))
        targets = flow_actions.return_targets(move, node)
    due = task["due_at"]
    overdue = bool(due is not None and task["status"] == "open" and stored_utc(due) < (now or datetime.now(timezone.utc)))
    return {"task": task, "instance": instance, "flow": flow, "node": node, "record": record, "can_act": can_act,
            "return_targets": targets, "overdue": overdue,
            "fields": {k: node.permission(k) for k in record.data}}
