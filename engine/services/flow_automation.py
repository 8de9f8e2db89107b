"""What follows a flow's steps outside the flow itself, in the transaction of the step:

* rules with flow triggers (node entered / completed / overdue) — :func:`rule_events.flow_events`;
* notices to the people concerned, sent after the commit — :mod:`engine.services.flow_notices`;
* the actions of *automatic* nodes: an automatic node's ``actions`` are rule actions, run through
  the rule outbox like a rule's (same guarantees: written with the step, each action once,
  retried, visible in the run log as ``flow:<flow>.<node>``).

``flows.flush_events`` calls :func:`follow_up` with the timeline entries it is about to write.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.model import FormDef
from engine.errors import Problem
from engine.i18n import Msg
from engine.rules import RuleDef, build_rule
from engine.rules.actions import ACTIONS, ActionCheck
from engine.definitions.builder import thaw
from engine.rules.definition import option_problems
from engine.rules.triggers import TRIGGERS
from engine.storage.flow_tables import flow_instances
from engine.types import Actor

PREFIX = "flow:"


def follow_up(session: Session, entries: list[Mapping[str, Any]]) -> None:
    """Rules, notices and automatic actions for the timeline ``entries`` being written."""
    if not entries:
        return
    from engine.services import flow_notices, rule_events
    rule_events.flow_events(session, entries)
    automatic_runs(session, entries)
    flow_notices.schedule(session, entries)


def rule_key(flow_key: str, node_id: str) -> str:
    return f"{PREFIX}{flow_key}.{node_id}"


def automatic_runs(session: Session, entries: Iterable[Mapping[str, Any]]) -> None:
    """An outbox row for each automatic node passed (its actions run as a background job)."""
    wanted = [e for e in entries if e.get("kind") == "automatic" and e.get("node_id")]
    if not wanted:
        return
    from engine.services import rule_events
    rows = session.execute(select(flow_instances.c.id, flow_instances.c.flow_key, flow_instances.c.flow_version)
                           .where(flow_instances.c.id.in_(sorted({e["instance_id"] for e in wanted})))).all()
    flows = {i: (k, v) for i, k, v in rows}
    for entry in wanted:
        flow_key, version = flows.get(entry["instance_id"], (None, None))
        if flow_key is None:
            continue
        rule = node_rule(session, entry["tenant_id"], rule_key(flow_key, entry["node_id"]), version)
        if rule is None or not rule.actions:
            continue
        record = rule_events._record_json(session, Actor.system(entry["tenant_id"]), entry["form_key"], entry["record_id"])
        event = {"kind": "flow.automatic", "form": entry["form_key"], "record_id": entry["record_id"],
                 "values": record or {}, "actor_id": entry.get("actor_id"),
                 "flow": {"flow": flow_key, "node": entry["node_id"], "instance_id": entry["instance_id"]}}
        actor = Actor(tenant_id=entry["tenant_id"], user_id=entry.get("actor_id"), is_system=True)
        rule_events.fire(session, actor, [rule], event, entry.get("at"), matched=True)


def node_rule(session: Session, tenant_id: int, key: str, version: int) -> RuleDef | None:
    """The actions of automatic node ``flow:<flow>.<node>`` (flow ``version``) as a rule that always fires."""
    from engine.services import flow_defs
    flow_key, _, node_id = key[len(PREFIX):].partition(".")
    flow = flow_defs.load_flow_version(session, tenant_id, flow_key, version)
    node = next((n for n in flow.nodes if n.id == node_id and n.type == "automatic"), None)
    if node is None:
        return None
    rule = build_rule({"key": "automatic", "label": {"zh-CN": "自动节点", "en": "Automatic step"}, "form": flow.form,
                       "trigger": {"type": "record_created"}, "actions": [thaw(a) for a in node.actions]}, version)
    return replace(rule, key=key, label=node.label or rule.label)


def action_problems(actions: Any, form: FormDef | None, forms: Mapping[str, FormDef], flows: Mapping[str, Any],
                    path: str) -> list[Problem]:
    """Problems of an automatic node's ``actions`` (checked like a rule's, against the flow's form)."""
    scope = TRIGGERS.get("record_created").scope(None, form, forms) if form is not None else None
    problems: list[Problem] = []
    for i, item in enumerate(actions if isinstance(actions, list) else ()):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping) or item.get("type") not in ACTIONS:
            problems.append(Problem(f"{where}.type", Msg(
                f"未知的动作类型；可用：{', '.join(ACTIONS.keys())}", f"Unknown action type; known: {', '.join(ACTIONS.keys())}")))
            continue
        kind = ACTIONS.get(item["type"])
        found = option_problems(item, kind, where, Msg(f"动作 {item['type']}", f"Action {item['type']}"))
        if not found:
            from engine.rules.model import ActionDef
            found = list(kind.check(ActionDef(item["type"], i, item), ActionCheck(form, forms, flows, where, scope)))
        problems += found
    return problems
