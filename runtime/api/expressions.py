"""The designer's expression endpoints: type-check against a form, evaluate with sample values.

``form`` (optional) is a published form of the caller's tenant; ``table`` (optional, e.g.
``"items"`` or ``"items.readings"``) checks the expression inside a row of that sub-table.
Without a form, ``check`` knows no field names and ``evaluate`` types names from the sample.
Sample values are read like record input (each field's type converts them: ``"2024-05-01"``
becomes a date for a date field); with a form, formula fields are computed from them first.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Mapping

from flask import jsonify

from engine.definitions import form_scope, row_scope
from engine.definitions.model import FieldDef, FormDef
from engine.errors import FieldProblem, RecordValidationError
from engine.expressions import EvalContext, check, compile_expression, scope_from_data
from engine.expressions.types import ExprType, Kind, Scope
from engine.fields import field_type
from engine.forms import compute_formulas
from engine.i18n import Msg, msg
from engine.services import forms as form_service
from runtime.api.blueprint import bp
from runtime.api.forms import usable_form
from runtime.api.replies import BadInput, json_object, json_ready, member
from runtime.i18n import current_lang
from runtime.auth import current_actor
from runtime.db import db


def _form_and_scope(body: Mapping) -> tuple[FormDef | None, Scope | None, tuple[str, ...]]:
    """The requested form (404 if not usable), the scope to check in, and the sub-table path."""
    key = member(body, "form", str, required=False)
    table = member(body, "table", str, required=False)
    if not key:
        if table:
            raise BadInput(msg("指定“table”时必须同时指定“form”", "'table' needs 'form' as well"), "table")
        return None, None, ()
    form, _allowed = usable_form(key)
    forms = form_service.published_forms(db(), current_actor().tenant_id)
    if not table:
        return form, form_scope(form, forms), ()
    try:
        return form, row_scope(form, table, forms), tuple(table.split("."))
    except KeyError:
        raise BadInput(msg("表单“{f}”没有子表“{t}”", "The form '{f}' has no sub-table '{t}'", f=key, t=table[:80]),
                       "table") from None


@bp.post("/expressions/check")
def check_expression():
    body = json_object()
    source = member(body, "expression", str)
    _form, scope, _path = _form_and_scope(body)
    result = check(source, scope if scope is not None else Scope())
    lang = current_lang()
    return jsonify({"ok": result.ok, "type": str(result.type) if result.type is not None else None,
                    "errors": [e.to_dict(lang) for e in result.errors]})


@bp.post("/expressions/evaluate")
def evaluate_expression():
    body = json_object()
    source = member(body, "expression", str)
    data = member(body, "data", dict, required=False, default={})
    form, scope, path = _form_and_scope(body)
    actor = current_actor()
    ctx = EvalContext(user_id=actor.user_id, now=datetime.now(timezone.utc), lang=current_lang())
    if form is None:
        compiled = compile_expression(source, scope_from_data(data))
    else:
        compiled = compile_expression(source, scope)
        data = _sample(form, path, data, ctx)
    value = compiled.evaluate(data, ctx)
    return jsonify({"value": json_ready(value), "type": _type_name(compiled.type, value)})


def _type_name(static: ExprType, value: Any) -> str:
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


# ---------------------------------------------------------------------------- sample values

def _sample(form: FormDef, path: tuple[str, ...], data: Mapping, ctx: EvalContext) -> dict:
    """Sample JSON → the Python values expressions see; every value that does not fit is reported."""
    fields = form.fields
    for key in path:
        fields = next(f for f in fields if f.key == key).fields
    problems: list[FieldProblem] = []
    values = _values(fields, data, "", problems)
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
