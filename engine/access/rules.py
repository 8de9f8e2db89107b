"""Permission rules of one role for one app or form: the JSON, its checking, and scopes.

```
{"create": bool, "read": SCOPE, "update": SCOPE, "delete": SCOPE, "export": bool, "design": bool,
 "fields": {field_key: "hidden" | "readonly"}}
SCOPE = "none" | "all" | "own" | "department" | {"field": field_key, "attribute": name}
```
Missing keys grant nothing. ``department`` = records created by users of my department or its
sub-departments; the field form = the record's field equals the user's attribute (a supplier's
staff see their supplier's records).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from jsonschema import Draft202012Validator

from engine.errors import DefinitionError, Problem
from engine.i18n import Msg, msg

KEY = "^[a-z][a-z0-9_]{0,39}$"
TARGET = re.compile(r"^(app|form):[a-z][a-z0-9_]{0,39}$")
FIELD_MODES = ("hidden", "readonly")

_SCOPE = {"oneOf": [
    {"enum": ["none", "all", "own", "department"]},
    {"type": "object", "required": ["field", "attribute"], "additionalProperties": False,
     "properties": {"field": {"type": "string", "pattern": KEY}, "attribute": {"type": "string", "pattern": KEY}}},
]}
SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "create": {"type": "boolean"}, "export": {"type": "boolean"}, "design": {"type": "boolean"},
        "read": _SCOPE, "update": _SCOPE, "delete": _SCOPE,
        "fields": {"type": "object", "propertyNames": {"pattern": KEY},
                   "additionalProperties": {"enum": list(FIELD_MODES)}},
    },
}
_validator = Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class Scope:
    """Which records a grant covers: a union of terms ("all", "own", "department", (field, attribute))."""

    terms: frozenset = frozenset()

    @classmethod
    def parse(cls, value: Any) -> "Scope":
        if isinstance(value, Mapping):
            return cls(frozenset({(value["field"], value["attribute"])}))
        return cls() if value in (None, "none") else cls(frozenset({value}))

    @property
    def is_all(self) -> bool:
        return "all" in self.terms

    @property
    def allows_any(self) -> bool:
        return bool(self.terms)

    def __or__(self, other: "Scope") -> "Scope":
        """Union: most permissive wins ("all" absorbs everything else)."""
        terms = self.terms | other.terms
        return Scope(frozenset({"all"}) if "all" in terms else terms)


NONE = Scope()
ALL = Scope(frozenset({"all"}))


@dataclass(frozen=True)
class Rules:
    """Parsed rules of one role for one target."""

    create: bool = False
    read: Scope = NONE
    update: Scope = NONE
    delete: Scope = NONE
    export: bool = False
    design: bool = False
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def fields_in(self, mode: str) -> frozenset[str]:
        return frozenset(k for k, v in self.fields.items() if v == mode)


def check_rules(data: Any) -> list[Problem]:
    """Every problem in a rules document (bilingual, with JSON paths); [] when valid."""
    return [Problem(_path(e.absolute_path), _message(e)) for e in
            sorted(_validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]


def parse_rules(data: Any) -> Rules:
    """Rules from JSON; DefinitionError lists every problem."""
    problems = check_rules(data)
    if problems:
        raise DefinitionError(problems, msg("权限规则有 {n} 处错误", "The permission rules have {n} problem(s)",
                                            n=len(problems)))
    return Rules(create=data.get("create", False), export=data.get("export", False),
                 design=data.get("design", False), read=Scope.parse(data.get("read")),
                 update=Scope.parse(data.get("update")), delete=Scope.parse(data.get("delete")),
                 fields=MappingProxyType(dict(data.get("fields") or {})))


def check_target(target: Any) -> list[Problem]:
    """A permission target is "app:<key>" or "form:<key>"."""
    if isinstance(target, str) and TARGET.match(target):
        return []
    return [Problem("$target", msg("权限对象“{t}”无效，应为 app:<应用标识> 或 form:<表单标识>",
                                   "Invalid permission target '{t}': use app:<app key> or form:<form key>",
                                   t=str(target)[:60]))]


def _path(parts: Iterable) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _message(error) -> Msg:
    where = ".".join(map(str, error.absolute_path)) or "rules"
    if error.validator == "additionalProperties" and error.validator_value is False:
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return msg("“{w}”中有未知的项：{x}", "Unknown key(s) in '{w}': {x}", w=where, x=", ".join(extra))
    if error.validator == "type" and error.validator_value == "boolean":
        return msg("“{w}”应为 true 或 false", "'{w}' must be true or false", w=where)
    if error.validator == "oneOf":
        return msg("“{w}”应为 none、all、own、department 或 {{\"field\": 字段, \"attribute\": 用户属性}}",
                   "'{w}' must be none, all, own, department or {{\"field\": key, \"attribute\": name}}", w=where)
    if error.validator == "enum":
        return msg("“{w}”的值只能是：{v}", "'{w}' must be one of: {v}", w=where,
                   v=", ".join(map(str, error.validator_value)))
    if error.validator == "pattern" or error.validator == "propertyNames":
        return msg("“{w}”中的标识无效（小写字母开头，仅含小写字母、数字、下划线）",
                   "Invalid key in '{w}' (lower-case letter first, then letters, digits, underscores)", w=where)
    if error.validator == "type":
        return msg("“{w}”的类型不对，应为 {t}", "'{w}' has the wrong type; expected {t}", w=where,
                   t=error.validator_value)
    return msg("“{w}”无效", "'{w}' is invalid", w=where)
