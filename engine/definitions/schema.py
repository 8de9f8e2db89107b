"""Layer 1 of checking: the shipped JSON Schemas, every error turned into a bilingual Problem.

Messages are chosen by the failing keyword (required, type, enum, pattern, …); a schema may
carry an ``x-message`` ``{"zh-CN", "en"}`` to say what a pattern or an anyOf really means.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from engine.definitions.paths import join, json_path
from engine.errors import Problem
from engine.fields.base import shown
from engine.i18n import Msg, msg

SCHEMA_FILES = ("common.schema.json", "field.schema.json", "form.schema.json", "app_package.schema.json", "flow.schema.json",
                "rule.schema.json", "report.schema.json", "dashboard.schema.json")
_ROOTS = {"form": "form.schema.json", "app": "app_package.schema.json", "field": "field.schema.json", "flow": "flow.schema.json",
          "rule": "rule.schema.json", "report": "report.schema.json",
          "dashboard": "dashboard.schema.json"}
_TYPE_NAMES = {
    "object": Msg("对象", "an object"), "array": Msg("列表", "a list"), "string": Msg("文本", "text"),
    "integer": Msg("整数", "a whole number"), "number": Msg("数字", "a number"),
    "boolean": Msg("true/false", "true/false"), "null": Msg("null", "null"),
}


def load_schema(name: str) -> dict:
    """One shipped schema file as a dict."""
    text = resources.files("engine.definitions.schemas").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def _registry() -> Registry:
    return Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in map(load_schema, SCHEMA_FILES))


@lru_cache(maxsize=None)
def validator(kind: str) -> Draft202012Validator:
    """A validator for ``kind`` ("form", "app", "field", "flow" or "rule") with all shipped schemas resolvable."""
    return Draft202012Validator(load_schema(_ROOTS[kind]), registry=_registry())


def fragment_validator(schema: dict) -> Draft202012Validator:
    """A validator for a schema fragment that may ``$ref`` the shipped schemas (e.g. a rule action's options)."""
    # an $id beside the shipped ones, so "common.schema.json#/..." refs resolve as in the files
    return Draft202012Validator({"$id": "https://qms.example.com/schemas/fragment.json", **schema},
                                registry=_registry())


def schema_problems(data: Any, kind: str) -> list[Problem]:
    """Every schema error of ``data`` as Problems (unsorted, possibly with duplicates)."""
    problems: list[Problem] = []
    for error in validator(kind).iter_errors(data):
        problems.extend(error_problems(error))
    return problems


def error_problems(error: ValidationError) -> list[Problem]:
    """One jsonschema error → Problems with a JSON path and a message by keyword."""
    path = json_path(error.absolute_path)
    special = _SPECIAL.get(str(error.validator))
    if special is not None:
        return special(error, path)
    custom = _custom(error)
    return [Problem(path, _with_value(custom, error.instance) if custom else _message(error))]


def _with_value(text: Msg, value: Any) -> Msg:
    return Msg(f"{text.zh}（实际是 {_show(value)}）", f"{text.en} (got {_show(value)})")


def _custom(error: ValidationError) -> Msg | None:
    text = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if isinstance(text, dict) and isinstance(text.get("zh-CN"), str) and isinstance(text.get("en"), str):
        return Msg(text["zh-CN"], text["en"])
    return None


def _required(error: ValidationError, path: str) -> list[Problem]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    missing = [name for name in error.validator_value if name not in instance]
    return [Problem(join(path, name), msg("缺少必填项“{n}”", "'{n}' is required", n=name)) for name in missing]


def _extra(error: ValidationError, path: str) -> list[Problem]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    allowed = list((error.schema.get("properties") or {}).keys()) if isinstance(error.schema, dict) else []
    kind = instance.get("type") if isinstance(instance.get("type"), str) else None
    problems = []
    for name in instance:
        if name in allowed:
            continue
        if kind and "type" in allowed:
            text = msg("“{t}”类型的字段没有属性“{n}”；可用：{a}", "A field of type '{t}' has no property '{n}'; allowed: {a}",
                       t=kind, n=shown(name), a=", ".join(allowed))
        else:
            text = msg("未知属性“{n}”；可用：{a}", "Unknown property '{n}'; allowed: {a}", n=shown(name), a=", ".join(allowed))
        problems.append(Problem(join(path, name), text))
    return problems


def _any_of(error: ValidationError, path: str) -> list[Problem]:
    custom = _custom(error)
    if custom is not None:
        return [Problem(path, _with_value(custom, error.instance))]
    best = best_match(error.context) if error.context else None
    return error_problems(best) if best is not None else [Problem(path, _message(error))]


def _type_message(error: ValidationError) -> Msg:
    wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    names = [_TYPE_NAMES.get(w, Msg(str(w), str(w))) for w in wanted]
    got = _TYPE_NAMES.get(_json_type(error.instance), Msg("?", "?"))
    return Msg(f"应为{'或'.join(n.zh for n in names)}，实际是{got.zh}",
               f"Expected {' or '.join(n.en for n in names)}, got {got.en}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "object")


def _show(value: Any) -> str:
    try:
        return shown(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return shown(value)


def _message(error: ValidationError) -> Msg:
    keyword, value, inst = str(error.validator), error.validator_value, error.instance
    builder = _MESSAGES.get(keyword)
    if builder is not None:
        return builder(value, inst, error)
    return msg("不符合定义格式：{e}", "Does not match the definition format: {e}", e=shown(error.message, 160))


_MESSAGES: dict[str, Callable[[Any, Any, ValidationError], Msg]] = {
    "type": lambda v, i, e: _type_message(e),
    "enum": lambda v, i, e: msg("{x} 不是允许的值；可选：{a}", "{x} is not an allowed value; choose one of: {a}",
                                x=_show(i), a=", ".join(str(a) for a in v[:30])),
    "const": lambda v, i, e: msg("应为 {c}", "Expected {c}", c=_show(v)),
    "pattern": lambda v, i, e: msg("{x} 不符合格式 {p}", "{x} does not match the format {p}", x=_show(i), p=v),
    "minimum": lambda v, i, e: msg("{x} 不能小于 {n}", "{x} must be at least {n}", x=_show(i), n=v),
    "maximum": lambda v, i, e: msg("{x} 不能大于 {n}", "{x} must be at most {n}", x=_show(i), n=v),
    "exclusiveMinimum": lambda v, i, e: msg("{x} 必须大于 {n}", "{x} must be greater than {n}", x=_show(i), n=v),
    "exclusiveMaximum": lambda v, i, e: msg("{x} 必须小于 {n}", "{x} must be less than {n}", x=_show(i), n=v),
    "minLength": lambda v, i, e: (msg("不能为空", "Must not be empty") if i == "" else
                                  msg("至少 {n} 个字符", "At least {n} characters", n=v)),
    "maxLength": lambda v, i, e: msg("最多 {n} 个字符（实际 {m} 个）", "At most {n} characters (got {m})", n=v, m=len(i)),
    "minItems": lambda v, i, e: (msg("不能为空列表", "Must not be an empty list") if i == [] else
                                 msg("至少需要 {n} 项", "Needs at least {n} item(s)", n=v)),
    "maxItems": lambda v, i, e: msg("最多 {n} 项（实际 {m} 项）", "At most {n} items (got {m})", n=v, m=len(i)),
    "uniqueItems": lambda v, i, e: msg("列表中有重复项", "The list has duplicate items"),
    "minProperties": lambda v, i, e: msg("至少需要 {n} 个属性", "Needs at least {n} properties", n=v),
    "maxProperties": lambda v, i, e: msg("最多 {n} 个属性", "At most {n} properties", n=v),
    "not": lambda v, i, e: msg("{x} 不允许在此使用", "{x} is not allowed here", x=_show(i)),
    "oneOf": lambda v, i, e: msg("{x} 的形式不对", "{x} does not have an accepted shape", x=_show(i)),
    "anyOf": lambda v, i, e: msg("{x} 的形式不对", "{x} does not have an accepted shape", x=_show(i)),
    "False": lambda v, i, e: msg("此处不允许有值", "No value is allowed here"),
}
_SPECIAL: dict[str, Callable[[ValidationError, str], list[Problem]]] = {
    "required": _required,
    "additionalProperties": _extra,
    "unevaluatedProperties": _extra,
    "anyOf": _any_of,
    "oneOf": _any_of,
}
