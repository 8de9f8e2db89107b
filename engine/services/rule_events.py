"""The one event path: every change that may fire a rule comes through here, inside the
transaction that makes the change, and leaves its rules' intent in ``rule_outbox``.

Callers: :mod:`engine.services.records` (create, update — sub-table rows included — and delete,
whoever calls them: pages, API, Excel import, bulk edits, rule actions), the flow service
(node entered / completed / overdue, via :func:`flow_events`), inbound webhooks
(:func:`webhook_event`) and the schedule sweep (:func:`schedule_event`).

For each enabled rule of the form whose trigger matches, the condition is evaluated on the
values being written (old ones too); a match becomes an outbox row written in the same
transaction — so the change and the intent commit or roll back together — and a job for it is
enqueued after the commit. A form without enabled rules costs nothing here: the form lookup the
write already makes says so.

Chains are bounded: an event caused by a rule's action carries the action's depth + 1; beyond
:func:`max_depth` the outbox row is written as *failed* with the reason, instead of running.

Bulk operations (:func:`batch`) fire per record by default; rules with ``"batch": "once"`` are
collected and fire once per batch, with the records' ids.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.expressions import EvalContext
from engine.i18n import msg
from engine.jobs import queue
from engine.rules import ONCE, TRIGGERS, RuleDef
from engine.storage.rule_tables import rule_outbox
from engine.types import Actor

RUN_JOB = "engine.services.rule_runs:run_outbox"
DEPTH_KEY = "qms.rule_depth"          # session.info: depth of the rule run whose action is writing
ORIGIN_KEY = "qms.rule_origin"        # session.info: that run's outbox id
BATCH_KEY = "qms.rule_batch"
DEFAULT_MAX_DEPTH = 5
SWEEP_GRACE = timedelta(seconds=10)   # the sweep leaves a new row to its own job this long
_INSERT = insert(rule_outbox).returning(rule_outbox.c.id)


def max_depth() -> int:
    """How many rules may fire one another in a chain (``QMS_RULE_MAX_DEPTH``, default 5)."""
    try:
        return max(1, int(os.environ.get("QMS_RULE_MAX_DEPTH") or DEFAULT_MAX_DEPTH))
    except ValueError:
        return DEFAULT_MAX_DEPTH


@dataclass
class Batch:
    """A bulk operation in progress: rules that fire once per batch collect their records here."""

    source: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    members: dict[tuple[str, int], list[tuple[int, dict]]] = field(default_factory=dict)   # (rule, version) → records
    log: list[tuple[tuple[str, int], int]] = field(default_factory=list)

    def mark(self) -> int:
        """A point to return to when the row being written is rolled back (its savepoint)."""
        return len(self.log)

    def reset(self, mark: int) -> None:
        """Forget what was collected since ``mark`` (that row's savepoint was rolled back)."""
        for rule, _ in self.log[mark:]:
            self.members[rule].pop()
        del self.log[mark:]

    def add(self, rule: RuleDef, record_id: int, event: dict) -> None:
        key = (rule.key, rule.version)
        self.members.setdefault(key, []).append((record_id, event))
        self.log.append((key, record_id))


@contextmanager
def batch(session: Session, actor: Actor, source: str) -> Iterator[Batch]:
    """Run a bulk operation (import, bulk edit): once-per-batch rules fire when it completes."""
    outer = session.info.get(BATCH_KEY)
    if outer is not None:           # nested bulk work belongs to the outer batch
        yield outer
        return
    current = session.info[BATCH_KEY] = Batch(source)
    try:
        yield current
        _write_batch(session, actor, current)
    finally:
        session.info.pop(BATCH_KEY, None)


def _write_batch(session: Session, actor: Actor, current: Batch) -> None:
    from engine.services.rule_defs import load_rule_version
    rows = []
    for (key, version), members in current.members.items():
        if not members:
            continue
        rule = load_rule_version(session, actor.tenant_id, key, version)
        first = dict(members[0][1])
        first["batch"] = {"id": current.id, "source": current.source, "count": len(members),
                          "records": [record_id for record_id, _ in members][:10_000]}
        rows.append(_row(session, actor, rule, first, None))
    _insert(session, rows)


# ---- record events --------------------------------------------------------------------------------

def record_event(session: Session, actor: Actor, kind: str, form_key: str, record, old=None,
                 changed: set[str] | None = None, now: datetime | None = None) -> None:
    """A record was created (``record.created``), changed (``record.updated``, with ``old`` and the
    ``changed`` keys) or deleted (``record.deleted``: ``record`` is the last state)."""
    from engine.services.rule_defs import rules_of_form
    rules = rules_of_form(session, actor.tenant_id, form_key)
    if not rules:
        return
    event: dict[str, Any] = {"kind": kind, "form": form_key, "record_id": record.id, "values": _json(record),
                             "actor_id": actor.user_id, "lang": actor.lang,
                             "at": (now or datetime.now(timezone.utc)).isoformat()}
    if old is not None:
        event["old"] = _json(old)
        event["changed"] = sorted(changed or ())
    fire(session, actor, rules, event, now)
    if kind != "record.deleted" and any(r.trigger.type == "spc_violation" for r in rules):
        _spc_events(session, actor, rules, event, now)


def _spc_events(session: Session, actor: Actor, rules: list[RuleDef], event: dict, now: datetime | None) -> None:
    """SPC-violation rules: when their chart flags the saved record they fire like any event; a
    rule whose chart cannot be set up (its ``report`` option) leaves a failed run saying why."""
    from engine.services import spc_monitor
    for found in spc_monitor.findings(session, actor, rules, event, now):
        if found.error is None:
            fire(session, actor, [found.rule], found.event, now)
        else:
            _insert(session, [_row(session, actor, found.rule, found.event, found.error)])


def _json(record) -> dict:
    out = record.to_json()
    data = out.pop("data")
    return {**data, **out}


def fire(session: Session, actor: Actor, rules: list[RuleDef], event: dict, now: datetime | None = None,
         *, matched: bool = False) -> list[int]:
    """Outbox rows for the ``rules`` whose trigger matches ``event`` (``matched``: the caller knows
    it does, e.g. an automatic flow step) and whose condition holds."""
    current = session.info.get(BATCH_KEY)
    rows = []
    for rule in rules:
        kind = TRIGGERS.get(rule.trigger.type)
        if not matched and not kind.matches(rule.trigger, event):
            continue
        verdict, error = _condition(session, actor, rule, event, now)
        if not verdict:
            continue
        if current is not None and rule.batch == ONCE and event.get("record_id") is not None and error is None:
            current.add(rule, event["record_id"], event)
            continue
        rows.append(_row(session, actor, rule, event, error))
    return _insert(session, rows)


def _condition(session: Session, actor: Actor, rule: RuleDef, event: Mapping, now: datetime | None
               ) -> tuple[bool, str | None]:
    """(fires, error): a condition that cannot be evaluated fires a *failed* run that shows why."""
    if not rule.condition:
        return True, None
    from engine.expressions import compile_expression
    from engine.expressions.runtime import truth
    from engine.services.rule_runs import rule_form
    from engine.services.facts import SqlFacts
    try:
        form = rule_form(session, actor.tenant_id, rule)
        kind = TRIGGERS.get(rule.trigger.type)
        compiled = compile_expression(rule.condition, kind.scope(rule.trigger, form))
        values = kind.inputs(rule.trigger, event, form)
        ctx = EvalContext(user_id=actor.user_id, now=now or datetime.now(timezone.utc), lang=actor.lang,
                          facts=SqlFacts(session, actor.tenant_id))
        return truth(compiled.evaluate(values, ctx)), None
    except Exception as exc:  # noqa: BLE001 - shown to admins in the run log, never breaks the user's write
        message = getattr(exc, "message", None)
        text = message.get(actor.lang) if hasattr(message, "get") else f"{type(exc).__name__}: {exc}"
        return True, msg("条件无法计算：{e}", "The condition could not be evaluated: {e}", e=text).get(actor.lang)


def _row(session: Session, actor: Actor, rule: RuleDef, event: Mapping, error: str | None) -> dict:
    now = datetime.now(timezone.utc)      # the outbox keeps wall-clock time (a write's own "now" may be set)
    depth = int(session.info.get(DEPTH_KEY) or 0)
    if error is None and depth >= max_depth():
        error = msg("规则链过深（超过 {n} 层），已停止：请检查规则是否互相触发",
                    "Rule chain too deep (more than {n} levels), stopped: check for rules that fire each other",
                    n=max_depth()).get(actor.lang)
    return dict(tenant_id=actor.tenant_id, rule_key=rule.key, rule_version=rule.version, trigger=rule.trigger.type,
                form_key=event.get("form"), record_id=event.get("record_id"), event=dict(event), depth=depth,
                origin_id=session.info.get(ORIGIN_KEY), actor_id=actor.user_id,
                status="failed" if error else "pending", attempts=0,
                next_attempt_at=None if error else now + SWEEP_GRACE,      # the job enqueued after commit runs it first
                created_at=now, finished_at=now if error else None, error=error)


def _insert(session: Session, rows: list[dict]) -> list[int]:
    """Write outbox rows (one statement) and enqueue the runnable ones after the commit."""
    if not rows:
        return []
    ids = list(session.execute(_INSERT, rows).scalars()) if len(rows) > 1 else [session.execute(_INSERT, rows[0]).scalar_one()]
    runnable = tuple(row_id for row_id, row in zip(ids, rows) if row["status"] == "pending")
    if runnable:        # one job for the transaction's runs
        queue.after_commit_job(session, RUN_JOB, *runnable, merge=True)
    return ids


# ---- other events ---------------------------------------------------------------------------------

FLOW_KINDS = {"entered": ("flow.entered", None), "node_approved": ("flow.completed", "approved"),
              "node_rejected": ("flow.completed", "rejected"), "overdue": ("flow.overdue", None)}
FLOW_TRIGGERS = frozenset({"flow_node_entered", "flow_node_completed", "flow_node_overdue"})


def flow_events(session: Session, entries: list[dict]) -> None:
    """Timeline entries of flow instances being written → flow rule events (node entered, completed,
    overdue). Costs nothing for forms without flow rules."""
    from engine.services.flows import FLOW_RULES_KEY
    from engine.services.rule_defs import rules_of_form
    wanted = [e for e in entries if e.get("kind") in FLOW_KINDS]
    known = session.info.get(FLOW_RULES_KEY) or {}
    by_form: dict[tuple[int, str], list[RuleDef]] = {}
    for entry in wanted:
        key = (entry["tenant_id"], entry["form_key"])
        if key not in by_form:
            by_form[key] = [] if known.get(key) is False else [
                r for r in rules_of_form(session, *key) if r.trigger.type in FLOW_TRIGGERS]
    wanted = [e for e in wanted if by_form.get((e["tenant_id"], e["form_key"]))]
    if not wanted:
        return
    flow_keys = _flow_keys(session, {e["instance_id"] for e in wanted})
    for entry in wanted:
        kind, outcome = FLOW_KINDS[entry["kind"]]
        actor = _entry_actor(session, entry)
        record = _record_json(session, actor, entry["form_key"], entry["record_id"])
        if record is None:
            continue
        event = {"kind": kind, "form": entry["form_key"], "record_id": entry["record_id"], "values": record,
                 "actor_id": entry.get("actor_id"),
                 "flow": {"flow": flow_keys.get(entry["instance_id"]), "node": entry.get("node_id"), "outcome": outcome,
                          "instance_id": entry["instance_id"], "task_id": entry.get("task_id")}}
        if isinstance(entry.get("at"), datetime):
            event["at"] = entry["at"].isoformat()
        fire(session, actor, by_form[(entry["tenant_id"], entry["form_key"])], event, entry.get("at"))


def _flow_keys(session: Session, instance_ids: set[int]) -> dict[int, str]:
    from engine.storage.flow_tables import flow_instances as fi
    rows = session.execute(select(fi.c.id, fi.c.flow_key).where(fi.c.id.in_(sorted(instance_ids)))).all()
    return {i: k for i, k in rows}


def _entry_actor(session: Session, entry: Mapping) -> Actor:
    if entry.get("actor_id"):
        from engine.services.accounts import actor_for_user
        try:
            actor = actor_for_user(session, entry["actor_id"])
            if actor.tenant_id == entry["tenant_id"]:
                return actor
        except Exception:  # noqa: BLE001 - a deleted user: the system acts
            pass
    return Actor.system(entry["tenant_id"])


def _record_json(session: Session, actor: Actor, form_key: str, record_id: int) -> dict | None:
    from engine.errors import NotFound
    from engine.services import records
    try:
        return _json(records.get_record(session, Actor.system(actor.tenant_id), form_key, record_id))
    except NotFound:
        return None


def webhook_event(session: Session, tenant_id: int, rule: RuleDef, payload: Any, now: datetime | None = None) -> int:
    """An inbound webhook call for ``rule``: its intent, committed with the caller's transaction."""
    actor = Actor.system(tenant_id)
    event = {"kind": "webhook", "form": rule.form, "payload": payload}
    ids = fire(session, actor, [rule], event, now)
    return ids[0] if ids else 0


def schedule_event(session: Session, tenant_id: int, rule: RuleDef, at: datetime) -> list[int]:
    """A schedule rule's time has come (``at``: the cron time it stands for); with the trigger's
    ``records`` option, one event per record of the rule's form matching its filter."""
    actor = Actor.system(tenant_id)
    event = {"kind": "schedule", "form": rule.form, "at": at.isoformat()}
    records_option = rule.trigger.option("records")
    if records_option is None or not rule.form:
        return fire(session, actor, [rule], event, at)
    from engine.rules.triggers import Schedule
    from engine.services import records
    ids: list[int] = []
    page = records.query_records(session, actor, rule.form, records_option.get("filter") or None, "id",
                                 per_page=500, now=at)
    found, number = list(page.items), 1
    while page.has_next and len(found) < Schedule.MAX_RECORDS:
        number += 1
        page = records.query_records(session, actor, rule.form, records_option.get("filter") or None, "id",
                                     page=number, per_page=500, now=at)
        found.extend(page.items)
    for record in found[:Schedule.MAX_RECORDS]:
        ids += fire(session, actor, [rule], {**event, "record_id": record.id, "values": _json(record)}, at)
    return ids
