"""Rule definitions: check (JSON Schema, the trigger's and each action's option schema, then
semantic checks) and load into a frozen :class:`~engine.rules.model.RuleDef`.

``check_rule`` never raises for any input: every problem comes back with its JSON path, in the
same style as forms and flows.
"""
from __future__ import annotations

import copy
from typing import Any, Iterator, Mapping

from engine.definitions.loader import _too_deep
from engine.definitions.model import FormDef, label_from
from engine.definitions.paths import all_problems
from engine.definitions.schema import error_problems, fragment_validator, validator
from engine.errors import DefinitionError, Problem
from engine.i18n import Msg, msg
from engine.rules.actions import ACTIONS, ActionCheck, expression_problems
from engine.rules.model import EACH, ActionDef, RuleDef, TriggerDef
from engine.rules.triggers import TRIGGERS, CheckContext

__all__ = ["check_rule", "load_rule", "rule_scope"]


def _options_schema(kind) -> dict:
    return {"type": "object", "properties": {"type": {"type": "string"}, **kind.options_schema},
            "required": ["type", *kind.required_options], "additionalProperties": False}


def option_problems(data: Mapping, kind, path: str, what: Msg) -> list[Problem]:
    problems = []
    for error in fragment_validator(_options_schema(kind)).iter_errors(data):
        if error.validator == "additionalProperties" and not error.absolute_path:
            allowed = ", ".join(kind.options_schema) or "-"
            problems += [Problem(f"{path}.{name}", msg("{w}没有属性“{n}”；可用：{a}", "{we} has no property '{n}'; allowed: {a}",
                                                       w=what.zh, we=what.en, n=name, a=allowed))
                         for name in data if name != "type" and name not in kind.options_schema]
            continue
        for p in error_problems(error):
            problems.append(Problem(path + p.path[1:], p.message))
    return problems


def _unknown(kind_name: str, registry, path: str) -> Problem:
    known = ", ".join(registry.keys())
    return Problem(path, msg("未知的类型“{k}”；可用：{a}", "Unknown type '{k}'; known: {a}", k=kind_name, a=known))


def rule_scope(data: Mapping[str, Any], form: FormDef | None, forms: Mapping[str, FormDef] | None = None):
    """The names a rule's condition and actions see (None when the trigger is unknown)."""
    trig = data.get("trigger") if isinstance(data, Mapping) else None
    if not isinstance(trig, Mapping) or trig.get("type") not in TRIGGERS:
        return None
    kind = TRIGGERS.get(trig["type"])
    return kind.scope(TriggerDef(trig["type"], trig), form, forms)


def check_rule(data: Any, forms: Mapping[str, FormDef], flows: Mapping[str, Any] | None = None) -> list[Problem]:
    """Every problem of a rule definition, sorted by path. ``forms``: the tenant's published forms
    by key; ``flows``: its published flows (FlowDef) by key. Never raises."""
    return all_problems(lambda: _problems(data, forms, flows or {}), "规则", "rule")


def _problems(data: Any, forms: Mapping[str, FormDef], flows: Mapping[str, Any]) -> Iterator[Problem]:
    deep = _too_deep(data)
    if deep is not None:
        yield deep
        return
    schema = [p for e in validator("rule").iter_errors(data) for p in error_problems(e)]
    yield from schema
    if not isinstance(data, Mapping) or schema and not isinstance(data.get("trigger"), Mapping):
        return
    form = forms.get(data.get("form")) if isinstance(data.get("form"), str) else None
    if isinstance(data.get("form"), str) and form is None:
        yield Problem("$.form", msg("表单“{k}”不存在或未发布", "Form '{k}' does not exist or is not published", k=data["form"]))
    trig = data.get("trigger")
    scope = None
    if isinstance(trig, Mapping) and trig.get("type") in TRIGGERS:
        kind = TRIGGERS.get(trig["type"])
        what = Msg(f"触发方式 {trig['type']}", f"Trigger {trig['type']}")
        found = option_problems(trig, kind, "$.trigger", what)
        yield from found
        if kind.needs_form and "form" not in data:
            yield Problem("$.form", msg("此触发方式需要指定表单", "This trigger needs a form"))
        if not found:
            ctx = CheckContext(form, forms, flows, "$.trigger")
            yield from kind.check(TriggerDef(trig["type"], trig), ctx)
            if not (kind.needs_form and form is None):
                scope = kind.scope(TriggerDef(trig["type"], trig), form, forms)
    elif isinstance(trig, Mapping) and isinstance(trig.get("type"), str):
        yield _unknown(trig["type"], TRIGGERS, "$.trigger.type")
    if data.get("condition") and scope is not None:
        yield from _condition_problems(data["condition"], scope)
    yield from _action_problems(data.get("actions"), ActionCheck(form, forms, flows, "$.actions", scope))


def _condition_problems(source: str, scope) -> Iterator[Problem]:
    """The condition checks against the trigger's names and gives true/false (or blank)."""
    from engine.expressions import check
    from engine.expressions.typerules import type_name
    from engine.expressions.types import Kind
    problems = expression_problems(source, scope, "$.condition", what=Msg("条件", "Condition"))
    yield from problems
    result = check(source, scope).type if not problems else None
    if result is not None and result.kind not in (Kind.BOOLEAN, Kind.BLANK, Kind.ANY):
        name = type_name(result)
        yield Problem("$.condition", msg("条件的结果应为真/假，实际是{z}；请写一个比较，如 result = \"NG\"",
                                         "The condition must give true or false, it gives {e}; write a comparison "
                                         "such as result = \"NG\"", z=name.zh, e=name.en))


def _action_problems(actions: Any, base: ActionCheck) -> Iterator[Problem]:
    for i, item in enumerate(actions if isinstance(actions, list) else ()):
        path = f"$.actions[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            continue
        if item["type"] not in ACTIONS:
            yield _unknown(item["type"], ACTIONS, f"{path}.type")
            continue
        kind = ACTIONS.get(item["type"])
        found = option_problems(item, kind, path, Msg(f"动作 {item['type']}", f"Action {item['type']}"))
        yield from found
        if not found:
            ctx = ActionCheck(base.form, base.forms, base.flows, path, base.scope)
            yield from kind.check(ActionDef(item["type"], i, item), ctx)


def load_rule(data: Any, forms: Mapping[str, FormDef], flows: Mapping[str, Any] | None = None,
              version: int = 0) -> RuleDef:
    """A checked RuleDef; DefinitionError with every problem otherwise."""
    problems = check_rule(data, forms, flows)
    if problems:
        raise DefinitionError(problems)
    return build_rule(data, version)


def build_rule(data: Mapping[str, Any], version: int = 0) -> RuleDef:
    """A RuleDef from an already checked definition (a stored, published version)."""
    raw = copy.deepcopy(dict(data))
    trig = raw["trigger"]
    return RuleDef(
        key=raw["key"], label=label_from(raw["label"]), form=raw.get("form"),
        trigger=TriggerDef(trig["type"], {k: v for k, v in trig.items() if k != "type"}),
        actions=tuple(ActionDef(a["type"], i, {k: v for k, v in a.items() if k != "type"})
                      for i, a in enumerate(raw["actions"])),
        condition=(raw.get("condition") or "").strip() or None, batch=raw.get("batch") or EACH,
        enabled=raw.get("enabled", True), description=label_from(raw.get("description")), version=version, raw=raw)
