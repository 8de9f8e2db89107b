"""The rule run log: what each run got as input and what each of its actions did, for admins and
for the designers of the rule's form. Read-only and tenant-scoped."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.i18n import msg
from engine.services.rule_defs import _may_see
from engine.storage.db import stored_utc
from engine.storage.rule_tables import rule_action_runs, rule_definitions, rule_outbox
from engine.types import Actor

STATUSES = ("pending", "queued", "running", "done", "failed")
MAX_PER_PAGE = 200


def _visible_rules(session: Session, actor: Actor) -> set[str] | None:
    """Rule keys whose runs the actor may read (None: all of the tenant's)."""
    if actor.unrestricted:
        return None
    rows = session.execute(select(rule_definitions.c.key, rule_definitions.c.form_key)
                           .where(rule_definitions.c.tenant_id == actor.tenant_id)).all()
    return {key for key, form in rows if form is not None and _may_see(session, actor, form)}


def _summary(row) -> dict[str, Any]:
    return {"id": row["id"], "rule_key": row["rule_key"], "rule_version": row["rule_version"],
            "trigger": row["trigger"], "form": row["form_key"], "record_id": row["record_id"], "status": row["status"],
            "attempts": row["attempts"], "depth": row["depth"], "error": row["error"],
            "created_at": stored_utc(row["created_at"]), "finished_at": stored_utc(row["finished_at"]),
            "next_attempt_at": stored_utc(row["next_attempt_at"])}


def list_runs(session: Session, actor: Actor, *, rule_key: str | None = None, status: str | None = None,
              page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """Runs newest first (optionally of one rule and/or one status), one page, with the total."""
    where = rule_outbox.c.tenant_id == actor.tenant_id
    visible = _visible_rules(session, actor)
    if visible is not None:
        where = and_(where, rule_outbox.c.rule_key.in_(sorted(visible) or [""]))
    if rule_key:
        where = and_(where, rule_outbox.c.rule_key == rule_key)
    if status in STATUSES:
        where = and_(where, rule_outbox.c.status == status)
    page, per_page = max(1, int(page or 1)), min(max(1, int(per_page or 50)), MAX_PER_PAGE)
    rows = session.execute(select(rule_outbox).where(where).order_by(rule_outbox.c.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).mappings().all()
    total = session.execute(select(func.count()).select_from(rule_outbox).where(where)).scalar_one()
    return {"items": [_summary(r) for r in rows], "total": total, "page": page, "per_page": per_page}


def get_run(session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    """One run with its inputs (the event) and each action's outcome; NotFound outside the actor's view."""
    row = session.execute(select(rule_outbox).where(and_(rule_outbox.c.id == run_id,
                                                         rule_outbox.c.tenant_id == actor.tenant_id))).mappings().first()
    visible = _visible_rules(session, actor)
    if row is None or (visible is not None and row["rule_key"] not in visible):
        raise NotFound(msg("运行记录 {i} 不存在", "Run {i} does not exist", i=run_id))
    actions = session.execute(select(rule_action_runs).where(rule_action_runs.c.outbox_id == run_id)
                              .order_by(rule_action_runs.c.idx)).mappings().all()
    return {**_summary(row), "event": row["event"], "origin_id": row["origin_id"], "actor_id": row["actor_id"],
            "started_at": stored_utc(row["started_at"]),
            "actions": [{"index": a["idx"], "type": a["action_type"], "outcome": a["outcome"], "at": stored_utc(a["at"])}
                        for a in actions]}


def status_counts(session: Session, actor: Actor) -> dict[str, int]:
    """How many runs are in each status (the admin page's header: failed ones need attention)."""
    where = rule_outbox.c.tenant_id == actor.tenant_id
    visible = _visible_rules(session, actor)
    if visible is not None:
        where = and_(where, rule_outbox.c.rule_key.in_(sorted(visible) or [""]))
    rows = session.execute(select(rule_outbox.c.status, func.count()).where(where).group_by(rule_outbox.c.status)).all()
    return {status: count for status, count in rows}
