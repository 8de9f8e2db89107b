"""Flow definitions: check (JSON Schema, then the checklist of
:mod:`engine.flows.definition_checks`) and load into a frozen :class:`~engine.flows.model.FlowDef`.

``check_flow`` never raises for any input: a broken check becomes a problem naming it.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from jsonschema.exceptions import ValidationError

from engine.definitions.builder import freeze
from engine.definitions.loader import _too_deep, freeze_raw
from engine.definitions.model import FormDef, label_from
from engine.definitions.paths import join, json_path, sort_key
from engine.definitions.schema import error_problems, validator
from engine.errors import DefinitionError, Problem
from engine.flows.definition_checks import CHECKLIST, NODE_NAMES, build_flow
from engine.flows.model import MEANINGS, NODE_TYPES, Assignee, Branch, Deadline, FlowDef, NodeDef, SignatureRule
from engine.i18n import Msg, msg

__all__ = ["check_flow", "load_flow"]
ASSIGNEE_VALUE = {"user": "user", "role": "role", "department_head": "level", "field": "field",
                  "expression": "expression"}


# ---- layer 1: JSON Schema ------------------------------------------------------------------------

def _schema_problems(data: Any) -> list[Problem]:
    """Every schema error as Problems; an unknown key of a node names the node type."""
    problems: list[Problem] = []
    for error in validator("flow").iter_errors(data):
        node_type = _node_type_of(error)
        problems.extend(_node_extra(error, node_type) if node_type else error_problems(error))
    return problems


def _node_type_of(error: ValidationError) -> str | None:
    parts = tuple(error.absolute_path)
    inst = error.instance
    if error.validator == "additionalProperties" and len(parts) == 2 and parts[0] == "nodes" and isinstance(inst, dict):
        return inst.get("type") if inst.get("type") in NODE_TYPES else None
    return None


def _node_extra(error: ValidationError, kind: str) -> list[Problem]:
    path, allowed = json_path(error.absolute_path), list(error.schema.get("properties") or ())
    return [Problem(join(path, str(name)), msg("“{z}”（{k}）节点没有属性“{n}”；可用：{a}",
                                               "A {k} node has no property '{n}'; allowed: {a}",
                                               z=NODE_NAMES[kind], k=kind, n=name, a=", ".join(allowed)))
            for name in error.instance if name not in allowed]


# ---- public API ----------------------------------------------------------------------------------

def check_flow(data: Any, form: FormDef | None, forms: Mapping[str, FormDef] | None = None) -> list[Problem]:
    """Every problem of a flow definition (schema layer, then the checklist), sorted by path.

    ``form``: the FormDef named by ``data["form"]`` (None: it does not exist or is not
    published); ``forms``: other forms by key, for lookups in expressions. Never raises."""
    try:
        return _problems(data, form, forms)
    except Exception as exc:  # noqa: BLE001 - never a traceback for a user's definition
        name = type(exc).__name__
        return [Problem("$", Msg(f"无法检查此流程定义（{name}）", f"Cannot check this flow definition ({name})"))]


def _problems(data: Any, form: FormDef | None, forms: Mapping[str, FormDef] | None) -> list[Problem]:
    deep = _too_deep(data)
    if deep is not None:
        return [deep]
    problems = _schema_problems(data)
    flow = build_flow(data, form, forms)
    for check in CHECKLIST:
        try:
            problems.extend(check(flow))
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the other results
            problems.append(Problem("$", msg("内部检查 {n} 出错（{e}），请联系管理员", "Internal check {n} failed ({e}); "
                                             "please report this", n=check.__name__, e=type(exc).__name__)))
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (sort_key(p.path), p.path, p.message.en))


def load_flow(data: Any, form: FormDef) -> FlowDef:
    """A checked FlowDef (version 0, ``raw`` = the JSON); raises DefinitionError listing every problem."""
    problems = check_flow(data, form)
    if problems:
        raise DefinitionError(problems)
    return FlowDef(key=data["key"], label=label_from(data["label"]), form=data["form"],
                   nodes=tuple(_node(n) for n in data["nodes"]), auto_start=data.get("auto_start", True),
                   description=label_from(data.get("description")), version=0, raw=freeze_raw(data))


# ---- building ------------------------------------------------------------------------------------

def _node(data: dict) -> NodeDef:
    return NodeDef(id=data["id"], type=data["type"], label=label_from(data.get("label")), next=data.get("next"),
                   branches=tuple(_branch(b) for b in data.get("branches", ())), join=data.get("join"),
                   assignees=_assignees(data.get("assignees")), mode=data.get("mode", "any"), ratio=data.get("ratio"),
                   fields=MappingProxyType(dict(data.get("fields", {}))), deadline=_deadline(data.get("deadline")),
                   signature=_signature(data.get("signature")),
                   actions=tuple(freeze(a) for a in data.get("actions", ())))


def _branch(data: dict) -> Branch:
    return Branch(next=data["next"], condition=data.get("condition"), default=data.get("default", False),
                  label=label_from(data.get("label")))


def _assignees(specs: list | None) -> tuple[Assignee, ...]:
    out = []
    for spec in specs or ():
        value = spec.get(ASSIGNEE_VALUE.get(spec["kind"], ""))
        out.append(Assignee(spec["kind"], 1 if spec["kind"] == "department_head" and value is None else value))
    return tuple(out)


def _deadline(data: dict | None) -> Deadline | None:
    if data is None:
        return None
    working = data.get("working_hours", False)
    hours = data["hours"] if "hours" in data else data["days"] * (8 if working else 24)   # a working day: 8 h
    remind = data.get("remind_before_hours")
    return Deadline(hours=float(hours), working_hours=working,
                    remind_before_hours=None if remind is None else float(remind),
                    on_overdue=data.get("on_overdue", "remind"), repeat_hours=float(data.get("repeat_hours", 24)),
                    escalate_to=_assignees(data.get("escalate_to")))


def _signature(data: dict | None) -> SignatureRule | None:
    if data is None:
        return None
    meaning = data["meaning"]
    if isinstance(meaning, str):
        return SignatureRule(meaning, MEANINGS[meaning])
    return SignatureRule("custom", label_from(meaning))
