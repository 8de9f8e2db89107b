"""Telling people about approval steps: new tasks, CCs, reminders, overdue tasks, escalations and
the end of a flow, in-app and (for what carries a deadline or an outcome) by e-mail.

The step's timeline entry is written with ``notice = 1`` in the step's own transaction (no extra
statement); after the commit a job (:func:`sweep`) sends the notices and clears the mark. The
periodic job sweeps too, so a notice whose job was lost (a crash, Redis down) still goes out —
and the step itself never waits for mail or notification rows. Each person gets it in their own
language; inactive users and users of other tenants get nothing.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from engine.i18n import Msg
from engine.storage.flow_tables import flow_events, flow_instances, flow_tasks
from engine.storage.platform import users

SWEEP_JOB = "engine.services.flow_notices:sweep"
BATCH = 500
# kind → (subject, whether it is also e-mailed)
NOTICES: dict[str, tuple[Msg, bool]] = {
    "entered": (Msg("待你审批：{title}", "Waiting for you: {title}"), True),
    "cc": (Msg("抄送给你：{title}", "For your information: {title}"), False),
    "reminder": (Msg("提醒：{title} 即将到期", "Reminder: {title} is due soon"), True),
    "overdue": (Msg("已超期：{title}", "Overdue: {title}"), True),
    "escalated": (Msg("已升级给你：{title}（原处理人超期）", "Escalated to you: {title} (overdue)"), True),
    "transfer": (Msg("转交给你：{title}", "Handed to you: {title}"), True),
    "add_approver": (Msg("请你加签审批：{title}", "Your approval was added: {title}"), True),
    "approved": (Msg("已审批通过：{title}", "Approved: {title}"), True),
    "node_rejected": (Msg("已退回：{title}", "Sent back: {title}"), True),
}
NOTICE_KINDS = frozenset(NOTICES)


def schedule(session: Session, entries: Iterable[Mapping]) -> None:
    """After this transaction commits, send the notices its timeline ``entries`` call for."""
    if any(e.get("notice") for e in entries):
        from engine.jobs import queue
        if not any(t == SWEEP_JOB for t, _ in session.info.get("qms.jobs_after_commit", ())):
            queue.after_commit_job(session, SWEEP_JOB)


def sweep(database_url: str, limit: int = BATCH) -> int:
    """The job: send the notices of timeline entries still marked, oldest first; returns how many entries."""
    from engine.jobs import queue
    from engine.storage.db import session_scope
    with session_scope(queue.engine_for(database_url)) as session:
        rows = session.execute(select(flow_events).where(flow_events.c.notice == 1).order_by(flow_events.c.id)
                               .limit(limit).with_for_update(skip_locked=True)).mappings().all()
        if not rows:
            return 0
        notify(session, [dict(r) for r in rows])
        session.execute(update(flow_events).where(flow_events.c.id.in_([r["id"] for r in rows])).values(notice=None))
        return len(rows)


def notify(session: Session, entries: Iterable[Mapping]) -> None:
    """In-app notices (and mails) for the timeline ``entries`` being written."""
    wanted = [e for e in entries if e.get("kind") in NOTICES]
    if not wanted:
        return
    instances = _instances(session, {e["instance_id"] for e in wanted})
    for entry in wanted:
        info = instances.get(entry["instance_id"])
        if info is None:
            continue
        people = _recipients(session, entry, info)
        if people:
            _send(session, entry, info, people)


def _instances(session: Session, ids: set[int]) -> dict[int, dict]:
    rows = session.execute(select(flow_instances.c.id, flow_instances.c.submitter_id, flow_instances.c.form_key,
                                  flow_instances.c.record_id, flow_instances.c.tenant_id)
                           .where(flow_instances.c.id.in_(sorted(ids)))).mappings().all()
    return {r["id"]: dict(r) for r in rows}


def _recipients(session: Session, entry: Mapping, info: Mapping) -> list[int]:
    kind, data = entry["kind"], entry.get("data") or {}
    if kind in ("entered", "cc"):
        return _node_people(session, entry, "done" if kind == "cc" else "open")
    if kind in ("reminder", "overdue", "transfer"):
        return [data["to"]] if isinstance(data.get("to"), int) else []
    if kind == "escalated":
        return [u for u in data.get("to") or () if isinstance(u, int)]
    if kind == "add_approver":
        return [data["user"]] if isinstance(data.get("user"), int) else []
    return [info["submitter_id"]] if info.get("submitter_id") else []


def _node_people(session: Session, entry: Mapping, status: str) -> list[int]:
    """Who holds the node's newest tasks now (delegates included; a sequence: only the first)."""
    t = flow_tasks
    newest = (select(func.max(t.c.entry)).where(and_(t.c.instance_id == entry["instance_id"],
                                                     t.c.node_id == entry["node_id"])).scalar_subquery())
    rows = session.execute(select(t.c.assignee_id).where(and_(
        t.c.instance_id == entry["instance_id"], t.c.node_id == entry["node_id"], t.c.entry == newest,
        t.c.status == status)).order_by(t.c.slot)).scalars().all()
    return list(dict.fromkeys(rows))


def _send(session: Session, entry: Mapping, info: Mapping, people: list[int]) -> None:
    from engine.services import mail, notifications
    subject, by_mail = NOTICES[entry["kind"]]
    title = _title(session, info)
    from engine.services.rule_context import record_link
    link = record_link(info["form_key"], info["record_id"])
    rows = session.execute(select(users.c.id, users.c.email, users.c.lang).where(and_(
        users.c.tenant_id == info["tenant_id"], users.c.id.in_(people), users.c.is_active.is_(True)))).all()
    source = f"flow:{entry['instance_id']}"
    for lang in {r.lang for r in rows}:
        text = subject.get(lang).format(title=title)
        group = [r for r in rows if r.lang == lang]
        body = entry.get("comment") or ""
        notifications.notify_users(session, info["tenant_id"], [r.id for r in group], text, body, link=link,
                                   source=source)
        emails = [r.email for r in group if r.email]
        if by_mail and emails:
            mail.queue_mail(session, info["tenant_id"], emails, text, "\n\n".join(p for p in (body, link) if p),
                            source=source)


def _title(session: Session, info: Mapping) -> str:
    """The record's title (or number) for the message; the record id when it has neither."""
    from engine.storage import form_store, records
    try:
        pub = form_store.load_published(session, info["tenant_id"], info["form_key"])
        row = records.top_row(session, pub.spec, info["tenant_id"], info["record_id"])
    except Exception:  # noqa: BLE001 - a notice never fails the step it announces
        row = None
    if row is not None and (row.get("title") or row.get("serial_no")):
        return str(row.get("title") or row.get("serial_no"))
    return f"#{info['record_id']}"
