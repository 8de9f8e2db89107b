"""Trying expressions out: type-check against a form (or a draft of one) and evaluate with sample values.

Shared by the API's ``/api/v1/expressions/*`` and the designer's expression editor. A draft
may be invalid elsewhere (work in progress): :func:`lenient_form` loads what it can, so an
expression is still checked against every field that is usable. Sample values are read like
record input (each field's type converts them: ``"2024-05-01"`` becomes a date for a date
field); at form level, formula fields are computed from them first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from engine.definitions import form_scope, load_form, row_scope
from engine.definitions.builder import build_form
from engine.definitions.model import FieldDef, FormDef
from engine.definitions.upgrades import upgrade
from engine.errors import DefinitionError, ExpressionError, FieldProblem, Problem, RecordValidationError
from engine.expressions import EvalContext, check, compile_expression, scope_from_data
from engine.expressions.types import ExprType, Kind, Scope
from engine.fields import field_type
from engine.forms import compute_formulas
from engine.i18n import Msg, msg

EXPECTABLE = ("boolean", "number", "text", "date", "datetime")
TYPE_NAMES = {"boolean": ("是/否（布尔值）", "yes/no (boolean)"), "number": ("数字", "number"),
              "text": ("文本", "text"), "date": ("日期", "date"), "datetime": ("日期时间", "date and time"),
              "list": ("列表", "list"), "rows": ("子表", "sub-table"), "id": ("编号", "id"),
              "file": ("文件", "file"), "record": ("记录", "record"), "blank": ("空值", "blank")}
_TOKEN = re.compile(r"[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff.]*|\d+(?:\.\d+)?|\"(?:[^\"\\]|\\.)*\"?|'(?:[^'\\]|\\.)*'?")


class TrialInputError(Exception):
    """The request names something that does not exist (a sub-table) or is of the wrong kind."""

    def __init__(self, message: Msg, field: str):
        super().__init__(message.en)
        self.message, self.field = message, field


@dataclass(frozen=True)
class Target:
    """What an expression is tried against: the form (None: no form), its scope and the row path."""

    form: FormDef | None
    scope: Scope
    path: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()      # why the definition did not load in full (lenient loads)


def lenient_form(definition: Any, known_forms: Mapping[str, FormDef] | None = None) -> tuple[FormDef, list[Problem]]:
    """The checked form, or — when it has problems — a form built from every usable field, and the problems."""
    try:
        return load_form(definition, known_forms=known_forms), []
    except DefinitionError as exc:
        problems = list(exc.problems)
    upgraded, _ = upgrade(definition, "form") if isinstance(definition, dict) else (None, [])
    data = upgraded if isinstance(upgraded, dict) else {}
    return build_form(data, strict=False), problems


def target(form: FormDef | None, table: str | None, forms: Mapping[str, FormDef] | None = None,
           problems: tuple[Problem, ...] = ()) -> Target:
    """The scope of ``form`` (or of a row of its sub-table ``table``, e.g. ``"items.readings"``)."""
    if form is None:
        if table:
            raise TrialInputError(msg("指定“table”时必须同时指定表单", "'table' needs a form as well"), "table")
        return Target(None, Scope())
    if not table:
        return Target(form, _safe(lambda: form_scope(form, forms)), (), problems)
    path = tuple(table.split("."))
    try:
        _fields_at(form, path)
    except StopIteration:
        raise TrialInputError(msg("表单“{f}”没有子表“{t}”", "The form '{f}' has no sub-table '{t}'",
                                  f=form.key or "?", t=table[:80]), "table") from None
    return Target(form, _safe(lambda: row_scope(form, path, forms)), path, problems)


def rule_names(trigger: Mapping[str, Any], form: FormDef | None, forms: Mapping[str, FormDef] | None = None) -> Scope | None:
    """The scope a rule with ``trigger`` gives its condition and mappings (None: an unknown trigger)."""
    from engine.rules.definition import rule_scope
    try:
        return rule_scope({"trigger": dict(trigger)}, form, forms)
    except Exception:  # noqa: BLE001 - a half-written trigger: check with the form's names instead
        return None


def _safe(build) -> Scope:
    """A scope for a half-built draft; a field type that chokes on odd options must not stop the check."""
    try:
        return build()
    except Exception:  # noqa: BLE001 - a broken draft still gets a check (knowing no names)
        return Scope()


def _fields_at(form: FormDef, path: tuple[str, ...]) -> tuple[FieldDef, ...]:
    fields = form.fields
    for key in path:
        fields = next(f for f in fields if f.key == key and field_type(f.type).is_subtable).fields
    return fields


# ---------------------------------------------------------------------------- check

def check_source(source: str, where: Target, expect: str | None = None, lang: str | None = None) -> dict:
    """``{ok, type, errors:[{line, column, end_column, message}]}``; ``expect`` is the type the result must have."""
    result = check(source, where.scope)
    errors = [_error_dict(source, e, lang) for e in result.errors]
    if not errors and expect and result.type is not None and not _fits(result.type, expect):
        errors.append(_expect_error(source, result.type, expect, lang))
    return {"ok": not errors, "type": str(result.type) if result.type is not None else None, "errors": errors}


def _fits(found: ExprType, expect: str) -> bool:
    if found.kind in (Kind.ANY, Kind.BLANK):
        return True           # known only at run time: not an error now
    return found.kind.value == expect or (expect == "datetime" and found.kind is Kind.DATE)


def _expect_error(source: str, found: ExprType, expect: str, lang: str | None) -> dict:
    want = Msg(*TYPE_NAMES.get(expect, (expect, expect)))
    got = Msg(*TYPE_NAMES.get(found.kind.value, (str(found), str(found))))
    message = Msg(f"这里需要结果为{want.zh}的表达式，但它的结果是{got.zh}",
                  f"This needs an expression whose result is {want.en}, but it gives {got.en}")
    first = source.split("\n", 1)[0]
    return {"line": 1, "column": 1, "end_column": max(len(first), 1) + 1, "message": message.get(lang),
            "expected": expect}


def _error_dict(source: str, error: ExpressionError, lang: str | None) -> dict:
    out = error.to_dict(lang)
    end = token_end(source, error.line, error.column)
    if end is not None:
        out["end_column"] = end
    return out


def token_end(source: str, line: int, column: int) -> int | None:
    """The 1-based column just after the token starting at (line, column), or None when nothing is there."""
    lines = source.split("\n")
    if not (1 <= line <= len(lines)) or column < 1:
        return None
    text = lines[line - 1]
    if column > len(text):
        return None
    match = _TOKEN.match(text, column - 1)
    return (match.end() if match else column) + 1


# ---------------------------------------------------------------------------- evaluate

def evaluate_source(source: str, where: Target, data: Mapping, ctx: EvalContext) -> tuple[Any, str]:
    """(value, type name) of ``source`` on sample ``data``; ExpressionError or RecordValidationError otherwise."""
    if where.form is None:
        compiled = compile_expression(source, scope_from_data(data))
        values = dict(data)
    else:
        compiled = compile_expression(source, where.scope)
        values = sample_values(where.form, where.path, data, ctx)
    value = compiled.evaluate(values, ctx)
    return value, type_name(compiled.type, value)


def type_name(static: ExprType, value: Any) -> str:
    """The checked type; for names typed from the sample (``any``), the type of the value itself."""
    if static.kind is not Kind.ANY:
        return str(static)
    if value is None:
        return "blank"
    for kind, name in ((bool, "boolean"), ((int, float), "number"), (str, "text"), (datetime, "datetime"),
                       (date, "date"), (list, "list")):
        if isinstance(value, kind):
            return name
    return "any"


def sample_values(form: FormDef, path: tuple[str, ...], data: Mapping, ctx: EvalContext) -> dict:
    """Sample JSON → the Python values expressions see; every value that does not fit is reported."""
    problems: list[FieldProblem] = []
    values = _values(_fields_at(form, path), data, "", problems)
    if problems:
        raise RecordValidationError(problems)
    return compute_formulas(form, values, ctx) if not path else values


def _values(fields: tuple[FieldDef, ...], data: Mapping, prefix: str, problems: list[FieldProblem]) -> dict:
    by_key = {f.key: f for f in fields}
    out: dict[str, Any] = {}
    for key, value in data.items():
        f = by_key.get(key)
        where = f"{prefix}{key}"
        if f is None:
            problems.append(FieldProblem(where, msg("没有字段“{k}”", "There is no field '{k}'", k=str(key)[:60])))
        elif field_type(f.type).is_subtable:
            out[key] = _rows(f, value, where, problems)
        elif value is not None:
            out[key] = _coerced(f, value, where, problems)
    return out


def _rows(f: FieldDef, value: Any, where: str, problems: list[FieldProblem]) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
        problems.append(FieldProblem(where, msg("子表的值必须是对象列表", "A sub-table's value must be a list of objects")))
        return []
    return [_values(f.fields, row, f"{where}[{i}].", problems) for i, row in enumerate(value)]


def _coerced(f: FieldDef, value: Any, where: str, problems: list[FieldProblem]) -> Any:
    try:
        return field_type(f.type).coerce(f, value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        reason = exc.args[0] if exc.args and isinstance(exc.args[0], Msg) else \
            msg("值的类型或格式不符合该字段", "the value does not fit this field's type")
        label = f.label or Msg(f.key, f.key)
        problems.append(FieldProblem(where, Msg(f"{label.zh}：{reason.zh}", f"{label.en}: {reason.en}")))
        return None
