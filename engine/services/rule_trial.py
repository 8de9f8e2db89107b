"""The rule designer's test run: what a (draft) rule would do with a chosen record — without doing it.

``trial`` loads the draft with the engine's rule loader (every problem comes back, nothing runs),
reads the record through the record service with the designer's own read permission (another
tenant's id or a record out of their scope is NotFound), builds the event a real run would get
(the record as just created, or as just updated with ``old`` = current values and ``changed`` =
the trigger's fields), evaluates the condition, and runs each action's own ``run`` against a
:class:`~engine.services.rule_trial_context.TrialContext` that notes writes instead of making
them. Everything happens inside a savepoint that is rolled back, so even a read that would
leave something behind (none should) is undone. The notes are then described per action type
(:mod:`engine.services.rule_trial_plans`).
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy.orm import Session

from engine.errors import DefinitionError, Problem
from engine.expressions import EvalContext, compile_expression
from engine.expressions.runtime import truth
from engine.i18n import msg
from engine.rules import ACTIONS, TRIGGERS, RuleDef, load_rule
from engine.services import records as record_service
from engine.services import rule_defs
from engine.services.facts import SqlFacts
from engine.services.rule_context import _plain
from engine.services.rule_trial_context import TrialContext, error_text
from engine.services.rule_trial_plans import describe
from engine.types import Actor

RECORDLESS = frozenset({"webhook"})


def _problem(path: str, zh: str, en: str, lang: str, **kw: Any) -> dict:
    return Problem(path, msg(zh, en, **kw)).to_dict(lang)


def record_json(record) -> dict:
    """A record as a run's event holds it: field values merged with the system values."""
    out = record.to_json()
    data = out.pop("data")
    return {**data, **out}


def trial_event(rule: RuleDef, values: Mapping[str, Any] | None, record_id: int | None, actor: Actor,
                now: datetime, payload: Any = None) -> dict:
    """The event a real run of ``rule`` would get for this record (created, or updated with old = new)."""
    kind = TRIGGERS.get(rule.trigger.type)
    event: dict[str, Any] = {"kind": sorted(kind.events)[0] if kind.events else "", "form": rule.form,
                             "record_id": record_id, "actor_id": actor.user_id, "lang": actor.lang,
                             "at": now.isoformat()}
    if values is not None:
        event["values"] = dict(values)
    if rule.trigger.type in ("record_updated", "field_changed"):
        event["old"] = copy.deepcopy(dict(values or {}))
        event["changed"] = list(rule.trigger.option("fields") or ())
    if rule.trigger.type.startswith("flow_node_"):
        outcome = rule.trigger.option("outcome")
        event["flow"] = {"flow": rule.trigger.option("flow"), "node": next(iter(rule.trigger.option("nodes") or ()), None),
                         "outcome": outcome if outcome in ("approved", "rejected") else "approved"}
    if rule.trigger.type == "spc_violation":
        event["violation"] = {"field": rule.trigger.option("field"), "rules": list(rule.trigger.option("rules") or [1])}
    if rule.trigger.type == "webhook":
        event["payload"] = payload if payload is not None else {}
    return event


def _needs_record(rule: RuleDef) -> bool:
    if rule.trigger.type in RECORDLESS or rule.form is None:
        return False
    return rule.trigger.type != "schedule" or rule.trigger.option("records") is not None


def _condition(session: Session, run_actor: Actor, rule: RuleDef, form, event: Mapping, now: datetime,
               lang: str) -> tuple[dict, list[dict]]:
    if not rule.condition:
        return {"source": "", "value": True, "passed": True}, []
    kind = TRIGGERS.get(rule.trigger.type)
    ctx = EvalContext(user_id=run_actor.user_id, now=now, lang=lang, facts=SqlFacts(session, run_actor.tenant_id))
    try:
        value = compile_expression(rule.condition, kind.scope(rule.trigger, form)).evaluate(
            kind.inputs(rule.trigger, event, form), ctx)
        return {"source": rule.condition, "value": _plain(value), "passed": truth(value)}, []
    except Exception as exc:  # noqa: BLE001 - a real run would record a failed run; the trial says why
        problem = {"path": "$.condition", "message": error_text(exc, lang)}
        return {"source": rule.condition, "value": None, "passed": None}, [problem]


def trial(session: Session, actor: Actor, definition: Any, form_key: str | None, record_id: int | None,
          lang: str | None = None, *, payload: Any = None, now: datetime | None = None) -> dict:
    """What ``definition`` would do for record ``record_id`` of its form; nothing is written.

    Returns ``{"condition": {source, value, passed}, "actions": [{type, label, summary, details,
    problems}], "problems": [...], "record": {id, serial_no, title} | None, "runs": bool}``.
    NotFound when the record does not exist for this actor (another tenant's id, outside the read scope).
    """
    lang = lang or actor.lang
    now = now or datetime.now(timezone.utc)
    out: dict[str, Any] = {"condition": None, "actions": [], "problems": [], "record": None, "runs": False}
    try:
        rule = load_rule(definition, rule_defs.published_forms(session, actor.tenant_id),
                         rule_defs.published_flows(session, actor.tenant_id))
    except DefinitionError as exc:
        out["problems"] = [p.to_dict(lang) for p in exc.problems]
        return out
    form_key = rule.form or form_key
    values = None
    if record_id is not None and form_key:
        record = record_service.get_record(session, actor, form_key, int(record_id))      # read permission
        values = record_json(record)
        out["record"] = {"id": record.id, "serial_no": record.serial_no, "title": record.title}
    elif _needs_record(rule):
        out["problems"] = [_problem("$.record_id", "请选择一条记录来试运行", "Choose a record to try the rule on", lang)]
        return out
    run_actor = Actor(tenant_id=actor.tenant_id, user_id=actor.user_id, lang=lang, name="system", is_system=True)
    savepoint = session.begin_nested()
    try:
        out.update(_run(session, run_actor, rule, trial_event(rule, values, record_id, run_actor, now, payload), now, lang))
    finally:
        savepoint.rollback()
    return out


def _run(session: Session, run_actor: Actor, rule: RuleDef, event: dict, now: datetime, lang: str) -> dict:
    from engine.services.rule_runs import rule_form
    form = rule_form(session, run_actor.tenant_id, rule)
    condition, problems = _condition(session, run_actor, rule, form, event, now, lang)
    row = {"id": 0, "event": event}
    created: list = []
    actions = []
    for action in rule.actions:
        ctx = TrialContext(session, run_actor, row, rule, form, {}, created=created)
        error = None
        try:
            ACTIONS.get(action.type).run(action, ctx)
        except Exception as exc:  # noqa: BLE001 - the action would fail: say why
            error = error_text(exc, lang)
        actions.append(describe(session, run_actor, rule, action, ctx, error, lang))
    return {"condition": condition, "actions": actions, "problems": problems, "runs": bool(condition["passed"])}
